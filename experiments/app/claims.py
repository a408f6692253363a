"""The claims of ``seeds/claims.toml`` with the experiment that tests each, and its results.

A claim's experiment is a spec file; its results live in the spec's ``output`` folder (or
``results/<spec name>`` when the spec names none), written by ``tokensim run`` or by the app's
Run button. The conditions ``supports_if`` and ``refutes_if`` are written in words and mix
several metrics, ranges and scenarios, so this module does not turn them into a verdict: it
gives the numbers (per parameter point, the mean of each claim metric with its 95% confidence
interval) and leaves the reading to the researcher, saying so.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import streamlit as st

from mechanisms.core import get_model
from mechanisms.core.errors import TokensimError

from ..figures import figure
from ..runner import run_spec
from ..spec import Spec, load_spec
from ..storage import read_results
from ..summary import outcomes, summary_table
from .runs import estimate_cost
from .widgets import chart_with_export, progress_panel

REPO_ROOT = Path(__file__).resolve().parents[2]
CLAIMS_PATH = REPO_ROOT / "seeds" / "claims.toml"
VERDICT_NOTE = (
    "Verdict: needs the reader's judgement. The conditions above are written in words and combine "
    "several metrics, parameter ranges and scenarios; the app does not turn them into a verdict "
    "mechanically. Compare the table (mean per parameter point with its 95% CI) with the conditions."
)
COMPARED = ("model", "seed", "samples", "timesteps", "common_random_numbers", "fixed", "sweep", "design")


@dataclass(frozen=True)
class Experiment:
    """A claim's experiment: its spec file, the parsed spec (or why it cannot be used), results."""

    path: Path
    spec: Spec | None
    error: str
    results: Path

    @property
    def results_file(self) -> Path:
        return self.results / "results.parquet"

    @property
    def has_results(self) -> bool:
        return self.results_file.is_file()


def load_claims(path: Path | None = None) -> list[dict[str, Any]]:
    """The ``[[claim]]`` tables of ``path`` (default: the repository's seeds/claims.toml), in order."""
    with (path or CLAIMS_PATH).open("rb") as fh:
        return list(tomllib.load(fh).get("claim", []))


def experiment_of(claim: Mapping[str, Any], root: Path | None = None) -> Experiment:
    """Locate and parse the spec of ``claim`` (paths relative to ``root``, default the repository);
    a missing or invalid spec gives an ``error``."""
    root = root or REPO_ROOT
    path = root / claim["experiment"]
    default_results = root / "results" / path.stem
    if not path.is_file():
        return Experiment(path, None, f"{claim['experiment']} is not written yet", default_results)
    try:
        spec = load_spec(path)
    except TokensimError as exc:
        return Experiment(path, None, str(exc), default_results)
    results = spec.output.resolve() if spec.output is not None else default_results
    return Experiment(path, spec, "", results)


def stale_keys(provenance: Mapping[str, Any], spec: Spec) -> list[str]:
    """Spec keys whose stored results were produced with different values than the spec file now has."""
    stored, current = provenance.get("spec", {}), spec.to_dict()
    return [k for k in COMPARED if _plain(stored.get(k)) != _plain(current.get(k))]


def _plain(value: Any) -> Any:
    """Normalise empty containers and tuples so a JSON round trip compares equal."""
    if value in (None, {}, []):
        return None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def claim_table(frame: pd.DataFrame, provenance: Mapping[str, Any], metrics: list[str]) -> pd.DataFrame:
    """Per parameter point: each claim metric's mean per run with its 95% CI, as one wide table."""
    swept = list(provenance["swept"])
    table = summary_table(outcomes(frame, provenance), swept, get_model(provenance["model"]))
    table = table[table["metric"].isin(metrics)]
    table = table.assign(value=[f"{m:.4g} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in
                                zip(table["mean"], table["ci95_low"], table["ci95_high"])])
    wide = table.pivot_table(index=["point_id", *swept], columns="metric", values="value", aggfunc="first", sort=False)
    wide.columns.name = None
    return wide.reset_index().drop(columns="point_id")


def claim_metrics(claim: Mapping[str, Any], frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The claim's metrics present in the results, and those missing from them."""
    wanted = claim["metric"] if isinstance(claim["metric"], list) else [claim["metric"]]
    return [m for m in wanted if m in frame.columns], [m for m in wanted if m not in frame.columns]


# The Claims page (app_pages/claims.py calls page()).

@st.cache_data(show_spinner=False, max_entries=32)
def stored_results(path: str, mtime: float) -> tuple[pd.DataFrame, dict]:
    """A results folder's contents, re-read when its file changes (``mtime`` is part of the key)."""
    return read_results(path)


def page() -> None:
    st.caption("Claims from seeds/claims.toml, each with the experiment that tests it. Independent of the sidebar.")
    for claim in load_claims():
        with st.expander(f"{claim['id']} ({claim['family']})"):
            claim_view(claim)


def claim_view(claim: dict) -> None:
    st.markdown(claim["claim"])
    source = claim["source"]
    st.caption(f"Source: {source['title']}, {source['author']}, {source['outlet']}, {source['date']}.")
    st.markdown(f"**Supports if:** {claim['supports_if']}\n\n**Refutes if:** {claim['refutes_if']}")
    if claim.get("notes"):
        st.caption(f"Notes: {claim['notes']}")
    st.markdown(f"**Experiment:** `{claim['experiment']}`")
    if not st.toggle("Show the experiment and its results", key=f"claim:{claim['id']}:open"):
        return  # loading results and drawing figures only on request keeps every other rerun quick
    exp = experiment_of(claim)
    if exp.spec is None:
        st.warning(exp.error)
        return
    with st.expander("Spec file"):
        st.code(exp.path.read_text(encoding="utf-8"), language="toml")
    if not exp.has_results:
        claim_run(claim, exp)
        return
    frame, prov = stored_results(str(exp.results_file), exp.results_file.stat().st_mtime)
    stale = stale_keys(prov, exp.spec)
    if stale:
        st.warning(f"These results were produced with different {', '.join(stale)} than the spec file has now; "
                   "run it again to update them.")
        claim_run(claim, exp)
    present, missing = claim_metrics(claim, frame)
    if missing:
        st.warning(f"The results lack the claim's metrics {', '.join(missing)}.")
    st.caption(f"Results: {exp.results} ({prov['samples']} samples x {prov['timesteps']} timesteps per point, "
               f"seed {prov['seed']}, created {prov['created']}).")
    if present:
        metric = st.selectbox("Figure of", present, key=f"claim:{claim['id']}:metric")
        data = frame[["point_id", *prov["swept"], "sample", "timestep", metric]]
        chart_with_export(figure(data, prov, metric), data, prov, metric, f"{claim['id']}_{metric}", f"claim:{claim['id']}")
        st.dataframe(claim_table(frame, prov, present), hide_index=True)
    st.info(VERDICT_NOTE)


def claim_run(claim: dict, exp: Experiment) -> None:
    st.caption(f"Estimated {estimate_cost(exp.spec):.3g} s of compute. This is one of the project's own "
               "experiments, sized to finish in about two minutes, so the app's cost limit for custom runs does "
               f"not apply; the same run from a shell: `tokensim run {claim['experiment']}`.")
    if st.button("Run this experiment", key=f"claim:{claim['id']}:run"):
        try:
            run_claim_spec(exp, claim["id"])
        except TokensimError as exc:
            st.error(str(exc))
            return
        st.rerun()


def run_claim_spec(exp: Experiment, key: str) -> None:
    """Run a claim's spec into its results folder, as ``tokensim run`` would."""
    message = f"Run cancelled; finished chunks are kept in {exp.results / 'chunks'} and reused next time."
    with progress_panel(f"claim:{key}", message) as report:
        run_spec(exp.spec, progress=lambda done, total: report(done / max(total, 1), f"{done} of {total} samples"),
                 output=exp.results)
