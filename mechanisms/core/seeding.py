"""Per-sample random streams that do not depend on batching, workers or backend.

Every Monte Carlo sample gets its own :class:`numpy.random.Generator`, derived with
:class:`numpy.random.SeedSequence` from (experiment seed, parameter point, sample index). The
parameter point enters as a stable hash of its values, so the stream of a sample does not change
when the grid is reordered or extended, and a resumed sweep draws exactly what the first run drew.

With *common random numbers* every parameter point shares the streams of sample ``i``: scenarios
are then compared under the same exogenous luck, which reduces the variance of differences.

:class:`BatchRNG` holds the generators of one batch and draws ``(B, ...)`` arrays, each row from
its own sample's generator, so the numbers of a sample are the same whether it runs alone or in a
batch of thousands. A draw costs one generator call per row, which dominates when a model draws a
few numbers per sample per step; :meth:`BatchRNG.stream` serves such draws from per-sample blocks
drawn ahead (one call per row per block), with the same batching independence. A step that needs
many numbers of several kinds draws them with :meth:`BatchRNG.step_draws`: a few large calls per
row, in a fixed order, named blocks out.
"""
from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np


def point_key(point: Mapping[str, Any]) -> tuple[int, ...]:
    """Stable 128-bit key (four uint32 words) of a parameter point, independent of dict order."""
    canonical = json.dumps({k: _plain(v) for k, v in sorted(point.items())}, sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()[:16]
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def point_keys(points: Sequence[Mapping[str, Any]]) -> list[tuple[int, ...]]:
    """:func:`point_key` of each of ``points``, computed once per distinct object: the rows of one
    point share its dict, and a key costs a JSON dump and a hash (tens of microseconds)."""
    keys: dict[int, tuple[int, ...]] = {}
    for point in points:
        if id(point) not in keys:
            keys[id(point)] = point_key(point)
    return [keys[id(point)] for point in points]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def sample_generator(seed: int, point: Mapping[str, Any] | None, sample: int) -> np.random.Generator:
    """The generator of one sample. ``point=None`` means common random numbers across points."""
    return keyed_generator(seed, () if point is None else point_key(point), sample)


def keyed_generator(seed: int, key: tuple[int, ...], sample: int) -> np.random.Generator:
    """The generator of one sample of the point whose :func:`point_key` is ``key`` (``()``: common
    random numbers), for callers that reuse one point's key over its many samples."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(*key, sample))))


class BatchRNG:
    """The generators of a batch, one per row; draws return arrays shaped ``(B, *size)``.

    Keyword arguments given as numpy arrays are taken per sample (their first axis has length
    ``B``); scalars apply to every sample. For anything else use :meth:`map`.
    """

    #: Draws per row fetched at once by :meth:`stream` (more when one call asks for more).
    STREAM_BLOCK = 1024
    #: :meth:`step_draws` gives integers sharing one range their own ``integers`` call per row when
    #: there are at least this many of them; smaller groups (and ranges that differ per sample or per
    #: element) go into one call with an array of ranges, which costs more per number but one call.
    GROUP_MIN = 512

    def __init__(self, generators: Sequence[np.random.Generator]) -> None:
        self.generators = list(generators)
        self._streams: dict[tuple, tuple[np.ndarray, int]] = {}  # (method, kwargs) -> (buffer, next column)

    def __len__(self) -> int:
        return len(self.generators)

    def map(self, fn: Callable[[np.random.Generator, int], Any]) -> np.ndarray:
        """Stack ``fn(generator, row)`` over the rows of the batch."""
        return np.stack([np.asarray(fn(g, i)) for i, g in enumerate(self.generators)])

    def stream(self, method: str, n: int, **kwargs: Any) -> np.ndarray:
        """The next ``n`` draws ``(B, n)`` of each row's buffered ``method`` stream.

        ``method`` is a :class:`numpy.random.Generator` method whose draws are independent of how
        they are grouped into calls (``random``, ``standard_normal``, ``integers``, ...); ``kwargs``
        are scalars shared by every row and name the stream with ``method``. A stream is refilled
        with ``max(STREAM_BLOCK, n)`` draws per row, one generator call per row, when it runs short.
        A row's numbers depend only on its generator and on the sequence of calls the model makes,
        never on the batch, the worker or the backend. If a model draws nothing else from the
        generators, a stream gives exactly the numbers of one call per step (blocks of a
        ``standard_normal`` stream are the normals that ``normal(size=k)`` calls would give).
        """
        key = (method, tuple(sorted(kwargs.items())))
        buffer, pos = self._streams.get(key, (None, 0))
        if buffer is None or pos + n > buffer.shape[1]:
            block = max(self.STREAM_BLOCK, n)
            fresh = np.stack([getattr(g, method)(size=block, **kwargs) for g in self.generators])
            buffer = fresh if buffer is None else np.concatenate([buffer[:, pos:], fresh], axis=1)
            pos = 0
        self._streams[key] = (buffer, pos + n)
        return self._rows(buffer[:, pos : pos + n])

    def step_draws(
        self,
        normal: Mapping[str, tuple[int, ...]] | None = None,
        uniform: Mapping[str, tuple[int, ...]] | None = None,
        integer: Mapping[str, tuple[tuple[int, ...], int, Any]] | None = None,
        beta: Mapping[str, tuple[tuple[int, ...], np.ndarray, np.ndarray]] | None = None,
    ) -> dict[str, np.ndarray]:
        """The random numbers of one policy step, drawn per row in a few large calls: ``{name: (B, *shape)}``.

        ``normal`` and ``uniform`` map names to shapes (standard normals; uniforms in [0, 1));
        ``integer`` maps names to ``(shape, low, high)``, uniform integers in [low, high) with
        ``low`` an int and ``high`` an int or an array broadcastable to ``(B, *shape)``; ``beta``
        maps names to ``(shape, a, b)`` with per-sample ``a``, ``b`` of shape (B,). Each row's
        generator makes, in this order: one ``standard_normal`` call for every normal, one
        ``random`` call for every uniform (each kind's blocks laid end to end in the order given),
        one ``integers`` call per shared range with at least :attr:`GROUP_MIN` numbers, one
        ``integers`` call with an array of ranges for the rest, and one ``beta`` call per beta
        block; a kind with nothing to draw makes no call. A model pins its streams by what it asks
        for, so adding, removing or reordering a block changes its numbers (and its version).

        Many numbers per call is what makes this cheap: a generator call costs 0.3 to 3 microseconds
        before its first number (by method), which dominates one call per array. Every number comes from the row's own generator and the sizes depend
        only on the model's dimensions, so a sample draws the same numbers alone or in any batch,
        on any worker or backend. Numpy's ``integers`` with an array of ranges draws each number
        exactly uniformly (the same bounded method as with one range), so nothing is approximated.
        """
        batch, rows = len(self), len(self.generators)  # rows: one per generator (see _rows)
        # every block is laid out as [(name, shape, low, size)], its names end to end
        normal = [(name, shape, 0, math.prod(shape)) for name, shape in (normal or {}).items()]
        uniform = [(name, shape, 0, math.prod(shape)) for name, shape in (uniform or {}).items()]
        groups: dict[int, list] = {}  # shared range -> its layout
        mixed, mixed_ranges = [], []
        for name, (shape, low, high) in (integer or {}).items():
            size = math.prod(shape)
            if np.ndim(high) == 0:
                groups.setdefault(int(high) - low, []).append((name, shape, low, size))
            else:
                mixed.append((name, shape, low, size))
                mixed_ranges.append(np.broadcast_to(np.asarray(high) - low, (batch, *shape)).reshape(batch, size))
        for span, specs in list(groups.items()):
            if _size(specs) < self.GROUP_MIN:
                del groups[span]
                mixed.extend(specs)
                mixed_ranges.extend(np.full((batch, spec[3]), span, dtype=np.int64) for spec in specs)
        normals, uniforms = np.empty((rows, _size(normal))), np.empty((rows, _size(uniform)))
        grouped = [(span, specs, np.empty((rows, _size(specs)), dtype=np.int64)) for span, specs in groups.items()]
        ranges = np.concatenate(mixed_ranges, axis=1) if mixed_ranges else np.empty((batch, 0), dtype=np.int64)
        picks = np.empty((rows, ranges.shape[1]), dtype=np.int64)
        betas = [(name, shape, a, b, np.empty((rows, *shape))) for name, (shape, a, b) in (beta or {}).items()]
        n_normal, n_uniform, n_mixed = normals.shape[1], uniforms.shape[1], ranges.shape[1]
        for i, g in enumerate(self.generators):
            if n_normal:
                g.standard_normal(out=normals[i])
            if n_uniform:
                g.random(out=uniforms[i])
            for span, _, out in grouped:
                out[i] = g.integers(span, size=out.shape[1])
            if n_mixed:
                picks[i] = g.integers(ranges[i])
            for _, shape, a, b, out in betas:
                out[i] = g.beta(a[i], b[i], size=shape)
        values = {name: self._rows(out) for name, _, _, _, out in betas}
        for specs, block in [(normal, normals), (uniform, uniforms), *((sp, out) for _, sp, out in grouped),
                             (mixed, picks)]:
            block, start = self._rows(block), 0
            for name, shape, low, size in specs:
                # a view: the column for a scalar per row, the slice for a vector, else reshaped
                part = block[:, start] if not shape else block[:, start : start + size]
                if len(shape) > 1:
                    part = part.reshape(len(block), *shape)
                values[name] = part + low if low else part
                start += size
        return values

    def _rows(self, draws: np.ndarray) -> np.ndarray:
        """Per-generator draws as the batch's rows (one row per generator here)."""
        return draws

    def _draw(self, method: str, size: int | tuple[int, ...], kwargs: dict[str, Any]) -> np.ndarray:
        per_sample = {k: v for k, v in kwargs.items() if isinstance(v, np.ndarray)}
        shared = {k: v for k, v in kwargs.items() if k not in per_sample}
        for k, v in per_sample.items():
            if v.shape[:1] != (len(self),):
                raise ValueError(f"per-sample argument '{k}' has shape {v.shape}, batch size is {len(self)}")
        return self.map(
            lambda g, i: getattr(g, method)(size=size, **shared, **{k: v[i] for k, v in per_sample.items()})
        )

    def random(self, size=()) -> np.ndarray:
        return self._draw("random", size, {})

    def uniform(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("uniform", size, kwargs)

    def normal(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("normal", size, kwargs)

    def lognormal(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("lognormal", size, kwargs)

    def pareto(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("pareto", size, kwargs)

    def exponential(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("exponential", size, kwargs)

    def poisson(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("poisson", size, kwargs)

    def binomial(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("binomial", size, kwargs)

    def integers(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("integers", size, kwargs)

    def beta(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("beta", size, kwargs)

    def gamma(self, size=(), **kwargs) -> np.ndarray:
        return self._draw("gamma", size, kwargs)


def _size(layout: list[tuple]) -> int:
    """The numbers per row of a :meth:`BatchRNG.step_draws` block laid out as ``[(name, shape, low, size)]``."""
    return sum(spec[3] for spec in layout)
