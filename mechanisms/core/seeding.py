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
drawn ahead (one call per row per block), with the same batching independence.
"""
from __future__ import annotations

import hashlib
import json
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
