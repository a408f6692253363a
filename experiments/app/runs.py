"""Running specs from the app: estimated cost and its limit, progress, partial runs and a cache.

Estimated cost: the runner's own timings (``benchmarks/app_estimates.py`` times the app's runs of
the shipped specs, chunk by chunk) fitted per model as ``a + timesteps x (b + k x sum of
model.cost)`` seconds per chunk, summed over the chunks the app cuts a run into: ``a`` is the
fixed cost of a chunk (initial state, cadCAD set-up, storage), ``b`` cadCAD's per-timestep
overhead, ``k`` scales the model's own per-sample-timestep cost (``Model.cost``). The constants are
in ``calibration.json`` next to this file; a model without an entry gets ``a = b = 0, k = 1``.
The app refuses a run above :data:`COST_LIMIT` seconds (environment variable
``TOKENSIM_APP_COST_LIMIT`` overrides it) and says how far samples or timesteps must come down.

Runs write their chunks to a folder per session and run (:func:`run_folder`), as ``tokensim run``
does, so a run cancelled or interrupted by an edit keeps its finished chunks: they can be shown
as partial results (:func:`partial_result`) and the run resumed where it stopped. Finished results
are kept with ``st.cache_data`` under a key made of everything that determines their numbers, so
running the same inputs again is instant; see :func:`cached_result`.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from mechanisms.core import get_model
from mechanisms.core.errors import TokensimError

from ..provenance import provenance
from ..runner import _chunk_path, _with_swept_columns, plan_chunks, run_spec
from ..spec import Spec
from ..storage import read_chunk

COST_LIMIT = float(os.environ.get("TOKENSIM_APP_COST_LIMIT", "180"))  # seconds of estimated compute
PROGRESS_STEPS = 20  # a run is cut into about this many chunks, so progress and cancel are responsive
CACHE_ENTRIES = 64
CALIBRATION = Path(__file__).with_name("calibration.json")
RUNS_ROOT = Path(tempfile.gettempdir()) / "tokensim-app-runs"


class CostLimitError(TokensimError):
    """A run is estimated to cost more than the app allows; the message says what to reduce."""


@dataclass(frozen=True)
class AppResult:
    """One spec's results as the app keeps them."""

    frame: pd.DataFrame
    provenance: dict[str, Any]
    from_cache: bool
    seconds: float
    done: int = 0  # samples finished (all of them unless the result is partial)
    total: int = 0

    @property
    def partial(self) -> bool:
        return self.done < self.total


@lru_cache(maxsize=1)
def calibration() -> dict[str, dict[str, float]]:
    """Per model: ``a`` (s per chunk), ``b`` (s per chunk-timestep), ``k`` (scale of ``Model.cost``)."""
    if not CALIBRATION.is_file():
        return {}
    return json.loads(CALIBRATION.read_text())["models"]


def app_chunked(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None) -> Spec:
    """``spec`` cut into about :data:`PROGRESS_STEPS` chunks (progress and cancel stay responsive)."""
    rows = len(spec.points() if points is None else points) * spec.samples
    return replace(spec, chunk_size=max(1, math.ceil(rows / PROGRESS_STEPS)), output=None)


def estimate_cost(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None) -> float:
    """Estimated seconds of ``spec`` run by the app: per chunk of :func:`app_chunked`,
    ``a + timesteps x (b + k x sum over its rows of Model.cost)`` (see the module docstring).

    ``points`` are ``spec.points()``, for a caller that has them already (a large sweep or
    design takes a noticeable time to expand, and the app redraws on every input change).
    """
    model = get_model(spec.model)
    points = spec.points() if points is None else points
    c = {"a": 0.0, "b": 0.0, "k": 1.0, **calibration().get(model.name, {})}
    per_point = [float(model.cost(point)) for point in points]
    chunk = app_chunked(spec, points).chunk_size
    rows_total = len(points) * spec.samples
    # chunks never mix structural groups, so count them per group as plan_chunks cuts them
    groups: dict[str, int] = {}
    for point in points:
        key = json.dumps([point[n] for n in model.schema.structural], default=str)
        groups[key] = groups.get(key, 0) + spec.samples
    chunks = sum(math.ceil(n / chunk) for n in groups.values()) if rows_total else 0
    work = sum(per_point) * spec.samples
    return chunks * (c["a"] + spec.timesteps * c["b"]) + spec.timesteps * c["k"] * work


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


def run_cached(spec: Spec, progress: Callable[[int, int], None] | None = None, folder: Path | None = None) -> AppResult:
    """Results of ``spec`` from the cache, or from a run reported to ``progress``; with a
    ``folder``, finished chunks are written there (and reused from there) as the run goes."""
    key = cache_key(spec)
    start = time.perf_counter()
    total = len(spec.points()) * spec.samples
    try:
        frame, prov = cached_result(key)
        return AppResult(frame, prov, True, time.perf_counter() - start, total, total)
    except _NotCached:
        pass
    result = run_spec(app_chunked(spec), progress=progress, output=folder, keep_frame=True)
    cached_result(key, (result.frame, result.provenance))
    return AppResult(result.frame, result.provenance, False, time.perf_counter() - start, total, total)


def run_all(specs: Sequence[Spec], progress: Callable[[float, str], None] | None = None,
            folder: Path | None = None) -> list[AppResult]:
    """Run (or fetch) each spec in turn (spec ``i``'s chunks in ``folder/i``), reporting the
    overall fraction done and a status line."""
    results = []
    for i, spec in enumerate(specs):
        label = spec.title or spec.model

        def report(done: int, total: int, i: int = i, label: str = label) -> None:
            if progress:
                progress((i + done / max(total, 1)) / len(specs), f"{label}: {done} of {total} samples")

        results.append(run_cached(spec, report, None if folder is None else folder / str(i)))
    if progress:
        progress(1.0, "done")
    return results


def run_folder(session: str, key: str) -> Path:
    """The folder where this session's run ``key`` keeps its chunks (under the system's temp dir)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{session}_{key}")
    return RUNS_ROOT / safe


def discard(folder: str | Path) -> None:
    """Delete a run folder (only ever one made by :func:`run_folder`)."""
    folder = Path(folder)
    if folder.parent == RUNS_ROOT:
        shutil.rmtree(folder, ignore_errors=True)


def partial_result(spec: Spec, folder: Path) -> AppResult | None:
    """What the chunks already in ``folder`` hold of ``spec``'s run (None when no chunk finished):
    its frame and provenance, marked ``partial`` ("N of M samples") when chunks are missing."""
    chunked = app_chunked(spec)
    points = chunked.points()
    chunks = plan_chunks(chunked, points)
    finished = [c for c in chunks if _chunk_path(folder, c).exists()]
    if not finished:
        return None
    swept = chunked.swept_names()
    frame = pd.concat([_with_swept_columns(read_chunk(_chunk_path(folder, c)), swept, points) for c in finished],
                      ignore_index=True).sort_values(["point_id", "sample", "timestep"], kind="stable", ignore_index=True)
    done, total = sum(len(c.rows) for c in finished), len(points) * spec.samples
    prov = provenance(chunked, points)
    if done < total:
        prov["partial"] = f"{done} of {total} samples finished"
    return AppResult(frame, prov, False, 0.0, done, total)

