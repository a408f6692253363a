"""What a run will cost before it starts: estimated compute seconds and peak memory, and their limits.

The CLI and the app check the same estimates (the app with its own, lower cost limit), so a run
that would take hours or exhaust memory is refused up front with what to reduce, instead of
failing with a ``MemoryError`` after minutes of work. ``tokensim run --force`` runs it anyway.

- **Compute**: ``Model.cost(point)`` seconds per sample per timestep x timesteps x samples, plus
  ``Model.setup_cost(point)`` once per parameter point (the learning controller's training),
  summed over the points. Limit: :data:`COST_LIMIT` (``TOKENSIM_COST_LIMIT`` overrides).
- **Memory**: the runner holds one chunk per worker at a time. A chunk of ``r`` rows holds ``r``
  samples' state (from the model's declared state shapes, or :data:`BYTES_PER_AGENT` per agent
  counted by its structural integer parameters, which are its agent counts) and cadCAD's records
  of its metrics for every substep. Limit: half the memory available when the run starts
  (``TOKENSIM_MEMORY_LIMIT`` in bytes overrides).
"""
from __future__ import annotations

import math
import os
from typing import Any, Mapping, Sequence

from mechanisms.core import Model, TokensimError, get_model

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


def estimate_cost(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None) -> float:
    """Estimated seconds of ``spec``: per point, cost x timesteps x samples plus its setup cost.

    ``points`` are ``spec.points()``, for a caller that has them already.
    """
    model = get_model(spec.model)
    total = 0.0
    for point in spec.points() if points is None else points:
        total += float(model.cost(point)) * spec.timesteps * spec.samples + float(model.setup_cost(point))
    return total


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


def sample_bytes(model: Model, point: Mapping[str, Any]) -> float:
    """Bytes one sample's state takes during a timestep (see the module docstring)."""
    if model.state:
        total = 0.0
        for var in model.state:
            size = 1
            for dim in var.shape:
                value = point.get(dim, dim)
                size *= int(value) if isinstance(value, int) or str(value).isdigit() else 1
            total += 8.0 * size
        return TEMPORARIES * total + BASE_BYTES_PER_SAMPLE
    agents = sum(point[p.name] for p in model.schema if p.kind == "int" and p.structural)
    return BYTES_PER_AGENT * float(agents) + BASE_BYTES_PER_SAMPLE


def estimate_memory(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None, workers: int = 1) -> float:
    """Estimated peak bytes: the largest chunk's state and records, times the chunks held at once.

    Chunks hold rows that share structural parameters (see :func:`experiments.runner.plan_chunks`),
    so each group of points is sized by its own largest sample and its own number of rows.
    """
    return _largest_chunk(spec, spec.points() if points is None else points)[0] * max(1, workers)


def _largest_chunk(spec: Spec, points: Sequence[Mapping[str, Any]]) -> tuple[float, int]:
    """(bytes, rows) of the chunk estimated to need the most memory."""
    model = get_model(spec.model)
    records = RECORD_BYTES * len(model.metrics) * max(len(model.blocks), 1) * (spec.timesteps + 1)
    groups: dict[tuple, list[float]] = {}
    for point in points:
        groups.setdefault(tuple(repr(point[n]) for n in model.schema.structural), []).append(sample_bytes(model, point))
    best = (0.0, 1)
    for sizes in groups.values():
        rows = min(spec.chunk_size, len(sizes) * spec.samples)
        best = max(best, (rows * (max(sizes) + records), rows))
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
