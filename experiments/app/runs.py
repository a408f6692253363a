"""Running specs from the app: estimated cost and its limit, progress, and a result cache.

The cost of a spec is ``model.cost(point) x timesteps x samples`` summed over its parameter
points: estimated seconds of compute on the reference machine (``Model.cost`` is calibrated per
model in seconds per sample per timestep). The app refuses a run above :data:`COST_LIMIT` seconds
(environment variable ``TOKENSIM_APP_COST_LIMIT`` overrides it) and says how far samples or
timesteps must come down.

Finished results are kept with ``st.cache_data`` under a key made of everything that determines
their numbers (model and version, seed, samples, timesteps, seeding mode, fixed and swept values,
design, metrics), so running the same inputs again is instant. The run itself happens outside the
cached function, because a progress bar updated inside it could not be replayed from the cache;
see :func:`cached_result`.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from mechanisms.core import get_model
from mechanisms.core.errors import TokensimError

from ..runner import run_spec
from ..spec import Spec

COST_LIMIT = float(os.environ.get("TOKENSIM_APP_COST_LIMIT", "180"))  # seconds of estimated compute
PROGRESS_STEPS = 20  # a run is cut into about this many chunks, so progress and cancel are responsive
CACHE_ENTRIES = 64


class CostLimitError(TokensimError):
    """A run is estimated to cost more than the app allows; the message says what to reduce."""


@dataclass(frozen=True)
class AppResult:
    """One spec's results as the app keeps them."""

    frame: pd.DataFrame
    provenance: dict[str, Any]
    from_cache: bool
    seconds: float


def estimate_cost(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None) -> float:
    """Estimated seconds of ``spec``: model cost per sample-timestep x timesteps x samples, plus the
    model's one-off setup cost (e.g. tuning), over points.

    ``points`` are ``spec.points()``, for a caller that has them already (a large sweep or
    design takes a noticeable time to expand, and the app redraws on every input change).
    """
    model = get_model(spec.model)
    points = spec.points() if points is None else points
    per_step = sum(float(model.cost(point)) for point in points)
    return per_step * spec.timesteps * spec.samples + sum(float(model.setup_cost(point)) for point in points)


def check_cost(specs: Sequence[Spec], limit: float = COST_LIMIT) -> float:
    """Total estimated cost of ``specs``; raise :class:`CostLimitError` above ``limit``."""
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
        "s per sample per timestep now)",
    ]
    raise CostLimitError(
        f"This run is estimated at {total:.3g} s of compute (model cost x timesteps x samples x points), "
        f"above the app's limit of {limit:.3g} s. Reduce " + ", or ".join(a for a in advice if a) + ". "
        "Larger runs belong on the command line: copy the spec and use `tokensim run`."
    )


def cache_key(spec: Spec) -> str:
    """Everything that determines a spec's numbers, as canonical JSON."""
    data = spec.to_dict()
    for cosmetic in ("title", "description", "claims", "chunk_size", "layout", "output"):
        data.pop(cosmetic, None)
    data["model_version"] = get_model(spec.model).version
    return json.dumps(data, sort_keys=True, default=str)


class _NotCached(Exception):
    """Raised inside the cached function so that a lookup miss stores nothing."""


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def cached_result(key: str, _result: tuple[pd.DataFrame, dict] | None = None) -> tuple[pd.DataFrame, dict]:
    """The cache of finished results, keyed on :func:`cache_key` only.

    Called with ``_result=None`` it is a lookup: a hit returns the stored copy, a miss raises
    :class:`_NotCached` (``st.cache_data`` stores no exceptions). Called with a result it stores
    it. The leading underscore keeps ``_result`` out of the key.
    """
    if _result is None:
        raise _NotCached(key)
    return _result


def run_cached(spec: Spec, progress: Callable[[int, int], None] | None = None) -> AppResult:
    """Results of ``spec`` from the cache, or from a fresh in-memory run reported to ``progress``."""
    key = cache_key(spec)
    start = time.perf_counter()
    try:
        frame, prov = cached_result(key)
        return AppResult(frame, prov, True, time.perf_counter() - start)
    except _NotCached:
        pass
    rows = len(spec.points()) * spec.samples
    chunked = replace(spec, chunk_size=max(1, math.ceil(rows / PROGRESS_STEPS)), output=None)
    result = run_spec(chunked, progress=progress, output=None)
    cached_result(key, (result.frame, result.provenance))
    return AppResult(result.frame, result.provenance, False, time.perf_counter() - start)


def run_all(specs: Sequence[Spec], progress: Callable[[float, str], None] | None = None) -> list[AppResult]:
    """Run (or fetch) each spec in turn, reporting the overall fraction done and a status line."""
    results = []
    for i, spec in enumerate(specs):
        label = spec.title or spec.model

        def report(done: int, total: int, i: int = i, label: str = label) -> None:
            if progress:
                progress((i + done / max(total, 1)) / len(specs), f"{label}: {done} of {total} samples")

        results.append(run_cached(spec, report))
    if progress:
        progress(1.0, "done")
    return results

