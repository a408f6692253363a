"""Running specs from the app: estimated cost and its limit, progress, partial runs and a cache.

The cost of a spec is estimated by :func:`tokensim.experiments.budget.estimate_cost`, the CLI's estimate
(fitted to the runner's own chunk timings, training included), applied to the chunks the app cuts a
run into (:func:`app_chunked`). The app refuses a run above :data:`COST_LIMIT` seconds (environment
variable ``TOKENSIM_APP_COST_LIMIT`` overrides it) and says how far samples or timesteps must come down.

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
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from tokensim.mechanisms.core import get_model

from .. import budget
from ..budget import CostLimitError  # noqa: F401  (the app raises and catches it)
from ..provenance import provenance
from ..runner import _chunk_path, _with_swept_columns, plan_chunks, run_spec
from ..spec import RESULT_KEYS, Spec
from ..storage import read_chunk

COST_LIMIT = float(os.environ.get("TOKENSIM_APP_COST_LIMIT", "180"))  # seconds of estimated compute
PROGRESS_STEPS = 20  # a run is cut into about this many chunks, so progress and cancel are responsive
CACHE_ENTRIES = 64
RUNS_ROOT = Path(tempfile.gettempdir()) / "tokensim-app-runs"


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


def app_chunked(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None) -> Spec:
    """``spec`` cut into about :data:`PROGRESS_STEPS` chunks (progress and cancel stay responsive)."""
    rows = len(spec.points() if points is None else points) * spec.samples
    return replace(spec, chunk_size=max(1, math.ceil(rows / PROGRESS_STEPS)), output=None)


def estimate_cost(spec: Spec, points: Sequence[Mapping[str, Any]] | None = None) -> float:
    """Estimated seconds of ``spec`` as the app runs it (cut by :func:`app_chunked`).

    ``points`` are ``spec.points()``, for a caller that has them already (a large sweep or
    design takes a noticeable time to expand, and the app redraws on every input change).
    """
    points = spec.points() if points is None else points
    return budget.estimate_cost(app_chunked(spec, points), points)
def check_cost(specs: Sequence[Spec], limit: float = COST_LIMIT) -> float:
    """Total estimated cost of ``specs`` as the app runs them (:func:`tokensim.experiments.budget.check_cost`
    at the app's limit)."""
    return budget.check_cost([app_chunked(s) for s in specs], limit, "Larger runs belong on the command line: copy the spec and use `tokensim run`.")


def cache_key(spec: Spec) -> str:
    """Everything that determines a spec's numbers, as canonical JSON."""
    data = {k: v for k, v in spec.to_dict().items() if k in RESULT_KEYS}
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

