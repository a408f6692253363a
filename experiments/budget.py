"""What a run will cost before it starts: estimated compute seconds and peak memory, and their limits.

The CLI and the app check the same estimates (the app with its own, lower cost limit), so a run
that would take hours or exhaust memory is refused up front with what to reduce, instead of
failing with a ``MemoryError`` after minutes of work. ``tokensim run --force`` runs it anyway.

- **Compute**: per chunk, ``a + timesteps x (b + k x sum over its rows of Model.cost)`` seconds,
  plus ``Model.setup_cost(point)`` once per parameter point (the learning controller's training).
  ``a`` is a chunk's fixed cost (initial state, cadCAD set-up, storage), ``b`` cadCAD's overhead per
  chunk-timestep and ``k`` scales the model's own per-sample-timestep cost; they are fitted per model
  from the runner's own chunk timings by ``benchmarks/app_estimates.py`` and stored in
  ``cost_calibration.json`` next to this file (a model without an entry gets ``a = b = 0, k = 1``).
  Limit: :data:`COST_LIMIT` (``TOKENSIM_COST_LIMIT`` overrides).
- **Memory**: the runner holds one chunk per worker at a time. A chunk of ``r`` rows holds ``r``
  samples' state (from the model's declared state shapes, or :data:`BYTES_PER_AGENT` per agent
  counted by its structural integer parameters, which are its agent counts) and cadCAD's records
  of its metrics for every substep. Limit: half the memory available when the run starts
  (``TOKENSIM_MEMORY_LIMIT`` in bytes overrides).
"""
from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from tokensim.mechanisms.core import Model, TokensimError, get_model

from .spec import Spec

COST_LIMIT = float(os.environ.get("TOKENSIM_COST_LIMIT", str(8 * 3600)))  # seconds of estimated compute
# Measured: the governance model holds 163 bytes per holder per sample (n_community = 200,000, 4 samples);
# 256 leaves room for the policies' temporaries.
BYTES_PER_AGENT = 256
TEMPORARIES = 3  # declared state x this: the arrays a timestep's policies build before the updates
# One metric value of one sample in cadCAD's per-substep history: measured 12.4 bytes (inflation,
# 200 samples x 730 days, 18 metrics, 3 blocks).
RECORD_BYTES = 16
BASE_BYTES_PER_SAMPLE = 64 * 1024


class CostLimitError(TokensimError):
    """A run is estimated to cost more than the limit allows; the message says what to reduce."""


CALIBRATION = Path(__file__).with_name("cost_calibration.json")


@lru_cache(maxsize=1)
def calibration() -> dict[str, dict[str, float]]:
    """Per model: ``a`` (s per chunk), ``b`` (s per chunk-timestep), ``k`` (scale of ``Model.cost``)."""
    if not CALIBRATION.is_file():
        return {}
    return json.loads(CALIBRATION.read_text())["models"]


def estimate_cost(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None) -> float:
    """Estimated seconds of ``spec`` (see the module docstring), chunked as the runner cuts it.

    ``points`` are ``spec.points()``, for a caller that has them already (a large sweep or design
    takes a noticeable time to expand, and the app redraws on every input change).
    """
    from .runner import chunk_size_for  # the runner imports the spec module too; keep this one-way

    model = get_model(spec.model)
    points = spec.points() if points is None else points
    c = {"a": 0.0, "b": 0.0, "k": 1.0, **calibration().get(model.name, {})}
    groups: dict[str, list[Mapping[str, Any]]] = {}  # chunks never mix structural groups
    for point in points:
        groups.setdefault(json.dumps([point[n] for n in model.schema.structural], default=str), []).append(point)
    chunks = 0
    for members in groups.values():
        size = spec.chunk_size or chunk_size_for(model, dict(members[0]))
        chunks += math.ceil(len(members) * spec.samples / size)
    work = sum(float(model.cost(point)) for point in points) * spec.samples
    setup = sum(float(model.setup_cost(point)) for point in points)
    return chunks * (c["a"] + spec.timesteps * c["b"]) + spec.timesteps * c["k"] * work + setup


def check_cost(specs: Sequence[Spec], limit: float | None = None, hint: str = "") -> float:
    """Total estimated cost of ``specs``; raise :class:`CostLimitError` above ``limit`` (default
    :data:`COST_LIMIT`)."""
    limit = COST_LIMIT if limit is None else limit
    expanded = [s.points() for s in specs]
    total = sum(estimate_cost(s, p) for s, p in zip(specs, expanded))
    if total <= limit:
        return total
    first = specs[0]
    ratio = limit / total
    points = sum(map(len, expanded))
    advice = [
        f"samples from {first.samples} to at most {math.floor(first.samples * ratio)}" if first.samples * ratio >= 1 else "",
        f"timesteps from {first.timesteps} to at most {math.floor(first.timesteps * ratio)}" if first.timesteps * ratio >= 1 else "",
        f"the number of scenarios or sweep points ({points})" if points > 1 else "",
        f"the model's size (agents and similar parameters; about {total / (points * first.samples * first.timesteps):.3g} "
        "s per sample per timestep now, training included)",
    ]
    raise CostLimitError(
        f"This run is estimated at {total:.3g} s of compute (model cost x timesteps x samples x points), "
        f"above the limit of {limit:.3g} s. Reduce " + ", or ".join(a for a in advice if a) + "." + (f" {hint}" if hint else "")
    )


def declared_state_bytes(model: Model, point: Mapping[str, Any], updated_only: bool = False) -> float:
    """Bytes of one sample's declared state at 8 bytes per value (each axis by :func:`axis_length`);
    with ``updated_only``, of the variables a timestep updates (those not declared constant)."""
    total = 0.0
    for var in model.state:
        if updated_only and var.constant:
            continue
        size = 1
        for dim in var.shape:
            size *= axis_length(dim, point)
        total += 8.0 * size
    return total


def axis_length(dim: str | int, point: Mapping[str, Any]) -> int:
    """The length of a declared state axis at ``point``: a number, an integer parameter, or a sum or
    difference of them, terms and operators separated by spaces as the models declare them
    (``"n_community + n_whales"``, ``"commit_reveal_delay + 1"``). Anything else, such as a name that is no
    integer parameter (an axis whose length the contract learns from the arrays), counts as 1."""
    terms = str(dim).split()
    total, sign = 0, 1
    for i, term in enumerate(terms):
        if i % 2:  # an operator between two terms
            if term not in "+-":
                return 1
            sign = 1 if term == "+" else -1
            continue
        value = point.get(term, term)
        if isinstance(value, bool) or not (isinstance(value, int) or str(value).isdigit()):
            return 1
        total += sign * int(value)
    return max(total, 0)


def sample_bytes(model: Model, point: Mapping[str, Any]) -> float:
    """Bytes one sample's state takes during a timestep (see the module docstring)."""
    if model.state:
        return TEMPORARIES * declared_state_bytes(model, point) + BASE_BYTES_PER_SAMPLE
    agents = sum(point[p.name] for p in model.schema if p.kind == "int" and p.structural)
    return BYTES_PER_AGENT * float(agents) + BASE_BYTES_PER_SAMPLE


def estimate_memory(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None, workers: int = 1) -> float:
    """Estimated peak bytes: the largest chunk's state and records, times the chunks held at once.

    Chunks hold rows that share structural parameters (see :func:`tokensim.experiments.runner.plan_chunks`),
    so each group of points is sized by its own largest sample and its own number of rows.
    """
    return _largest_chunk(spec, spec.points() if points is None else points)[0] * max(1, workers)


def _largest_chunk(spec: Spec, points: Sequence[Mapping[str, Any]]) -> tuple[float, int]:
    """(bytes, rows) of the chunk estimated to need the most memory."""
    from .runner import chunk_size_for

    model = get_model(spec.model)
    records = RECORD_BYTES * len(model.metrics) * max(len(model.blocks), 1) * (spec.timesteps + 1)
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for point in points:
        groups.setdefault(tuple(repr(point[n]) for n in model.schema.structural), []).append(point)
    best = (0.0, 1)
    for members in groups.values():
        size = spec.chunk_size or chunk_size_for(model, dict(members[0]))
        rows = min(size, len(members) * spec.samples)
        best = max(best, (rows * (max(sample_bytes(model, p) for p in members) + records), rows))
    return best


def memory_limit() -> float:
    """Half the memory available now (``TOKENSIM_MEMORY_LIMIT`` bytes overrides)."""
    if os.environ.get("TOKENSIM_MEMORY_LIMIT"):
        return float(os.environ["TOKENSIM_MEMORY_LIMIT"])
    try:
        with open("/proc/meminfo") as handle:
            info = dict(line.split(":", 1) for line in handle)
        available = float(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        available = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return available / 2


def check_memory(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None, workers: int = 1,
                 limit: float | None = None) -> float:
    """Estimated peak bytes of ``spec``; raise :class:`CostLimitError` above ``limit``."""
    points = spec.points() if points is None else points
    chunk, rows = _largest_chunk(spec, points)
    need = chunk * max(1, workers)
    limit = memory_limit() if limit is None else limit
    if need <= limit:
        return need
    fit = math.floor(rows * limit / need)
    advice = [f"chunk_size from {spec.chunk_size} to at most {fit}" if fit >= 1 else "",
              f"--workers from {workers}" if workers > 1 else "",
              "the model's size (agents and similar parameters)", f"timesteps ({spec.timesteps})"]
    raise CostLimitError(
        f"This run is estimated to need {need / 2**30:.3g} GiB of memory at once ({rows} rows per chunk x "
        f"{max(1, workers)} workers), above the limit of {limit / 2**30:.3g} GiB. Reduce "
        + ", or ".join(a for a in advice if a) + "."
    )
