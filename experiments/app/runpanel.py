"""The run panel every page shares: estimate, Run button, progress with Cancel, and what happens
to a run that is cancelled or interrupted.

A run writes its finished chunks to a folder (:func:`.runs.run_folder`) and is recorded as
*pending* while it goes. Streamlit stops a running page when an input changes or Cancel is
clicked; the next page run finds the pending record and

- after Cancel: shows the finished part as partial results (marked partial in every caption and
  export) and offers to resume (finished chunks are reused) or discard it;
- after an edit: asks whether to resume the interrupted run (with the inputs it started with) or
  discard it, and shows its finished part meanwhile.

After a run the measured time is shown next to the estimate: elapsed seconds and the seconds of
compute (CPU time of the thread that ran it, which is what the estimate predicts; on a busy
machine the elapsed time is longer).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from tokensim.mechanisms.core import Model
from tokensim.mechanisms.core.errors import TokensimError

from ..spec import Spec, parse_spec
from . import state
from .widgets import progress_panel
from .runs import COST_LIMIT, check_cost, discard, estimate_cost, partial_result, run_all, run_folder


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "nosession"


def execute(key: str, specs: list[Spec], record: dict[str, Any]) -> dict[str, Any]:
    """Run ``specs`` as run ``key`` (``record``: what the page keeps with the results) under a
    progress panel, recorded as pending until it finishes; returns the finished run."""
    total = sum(len(s.points()) * s.samples for s in specs)
    entry = state.pending().setdefault(key, {**record, "folder": str(run_folder(_session_id(), key)), "total": total})
    entry["cancelled"] = False
    folder = Path(entry["folder"])  # a resumed run reuses the chunks its folder holds
    entry.setdefault("started", time.time())

    with progress_panel(key) as report:
        def progress(fraction: float, text: str) -> None:
            entry["done"] = round(fraction * total) if fraction < 1 else total
            report(fraction, text)

        start, cpu = time.perf_counter(), time.thread_time()
        results = run_all(specs, progress=progress, folder=folder)
        seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
    state.pending().pop(key, None)
    discard(folder)
    run = {**record, "results": results, "seconds": seconds, "cpu_seconds": cpu}
    state.runs()[key] = run
    return run


def _partial(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The finished part of a pending run, as a run record marked ``partial``."""
    specs = [parse_spec(d, "interrupted run") for d in entry["specs"]]
    found = [partial_result(s, Path(entry["folder"]) / str(i)) for i, s in enumerate(specs)]
    if not any(found):
        return None
    keep = [i for i, r in enumerate(found) if r is not None]
    run = {**entry, "results": [found[i] for i in keep], "partial": True, "kept": keep}
    if "names" in entry:
        run["names"] = [entry["names"][i] for i in keep]
    return run


def pending_panel(key: str, noun: str) -> dict[str, Any] | None:
    """Ask what to do with an interrupted or cancelled run ``key``; returns its partial results."""
    entry = state.pending().get(key)
    if entry is None:
        return None
    done, total = entry.get("done", 0), entry["total"]
    partial = _partial(entry)
    shown = ("the partial results are below, marked partial" if partial is not None
             else "no chunk had finished yet, so there is nothing to show")
    if entry.get("cancelled"):
        st.warning(f"Run cancelled after {done:,} of {total:,} samples. The finished chunks are kept: {shown}. "
                   "Resume the run to finish it, or discard it.")
    else:
        st.warning(f"A run was interrupted by a change of the inputs after {done:,} of {total:,} samples; {shown}. "
                   "Resume it (with the inputs it started with; finished chunks are reused) or discard it?")
    left, right = st.columns(2)
    if left.button("Resume the run", key=f"resume:{key}", type="primary"):
        specs = [parse_spec(d, "interrupted run") for d in entry["specs"]]
        record = {k: v for k, v in entry.items() if k not in ("folder", "total", "cancelled", "done", "started")}
        try:
            run = execute(key, specs, record)
        except TokensimError as exc:
            st.error(str(exc))
            return None
        _ran(run, noun)
        return None
    if right.button("Discard it", key=f"discard:{key}"):
        state.pending().pop(key, None)
        discard(entry["folder"])
        st.rerun()
    return partial


def _ran(run: dict[str, Any], noun: str) -> None:
    results = run["results"]
    cached = sum(r.from_cache for r in results)
    points = run.get("points", len(results))
    st.success(f"Ran {points} {noun} x {run['samples']} samples in {run['seconds']:.1f} s "
               f"({run.get('cpu_seconds', run['seconds']):.1f} s of compute; estimated {run['estimate']:.3g} s)"
               + (f"; {cached} of {len(results)} runs from the cache" if cached else ""))


def run_button(model: Model, specs: list[Spec] | None, data: list[dict], label: str, key: str, noun: str,
               **extra) -> dict[str, Any] | None:
    """The estimate of ``specs``, a Run button that runs them with progress, and the run this
    session keeps under ``key`` for this model (with a notice when the inputs changed since, or
    the partial results of an interrupted run). The run keeps the specs as plain ``data`` (for
    "copy as spec"), the estimate, the measured time and ``extra``."""
    run_key = f"{model.name}:{key}"
    estimate, points = 0.0, 0
    if specs:
        expanded = [s.points() for s in specs]  # once per page draw: a large design takes a while
        points = sum(map(len, expanded))
        try:  # a model's cost may read a data file named by a parameter
            estimate = sum(estimate_cost(s, p) for s, p in zip(specs, expanded))
        except TokensimError as exc:
            st.error(str(exc))
            specs = None
    kept = state.runs().get(run_key)
    if specs:
        measured = (f"; the last run took {kept['seconds']:.1f} s, {kept.get('cpu_seconds', kept['seconds']):.1f} s of "
                    f"compute (estimated {kept['estimate']:.3g} s)"
                    if kept and "seconds" in kept and not kept.get("partial") else "")
        st.caption(f"{points} {noun} x {specs[0].samples} samples; estimated {estimate:.3g} s of compute "
                   f"(limit {COST_LIMIT:.3g} s){measured}.")
    partial = pending_panel(run_key, noun)
    kept = state.runs().get(run_key)  # a resumed run has just finished
    blocked = run_key in state.pending()
    clicked = st.button(label, type="primary", key=key, disabled=not specs or blocked,
                        help="Resume or discard the interrupted run first" if blocked else None)
    if clicked and not _refused(specs):
        record = {"model": model.name, "data": data, "specs": [s.to_dict() for s in specs], "estimate": estimate,
                  "points": points, "samples": specs[0].samples, **extra}
        try:
            kept = execute(run_key, specs, record)
        except TokensimError as exc:  # for example a data file the model cannot read
            st.error(str(exc))
            return None
        _ran(kept, noun)
    if partial is not None:
        return partial
    if not kept:
        return None
    if specs and [s.to_dict() for s in specs] != kept["specs"]:
        st.info("The inputs changed since these results were computed; run again to update them.")
    return kept


def _refused(specs: list[Spec]) -> bool:
    """Show why ``specs`` cannot run (cost above the limit); True when refused."""
    try:
        check_cost(specs)
    except TokensimError as exc:
        st.error(str(exc))
        return True
    return False
