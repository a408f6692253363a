"""The app's Claims tab: computed verdicts from the claims engine, and each claim's experiment.

:func:`page` renders the whole tab from the records ``tokensim claims check`` stores
(:mod:`tokensim.experiments.claims`): every claim's verdict with the numbers and 95% intervals that decided
it, its robustness, its figures with exports, and a button that checks the claim (running only
what is missing). :func:`load_claims` and :func:`experiment_of` give the start page each claim's
experiment spec, for its ready comparisons.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tokensim.mechanisms.core.errors import TokensimError

from ..paths import PACKAGE_ROOT, output_root, outside_package
from ..spec import Spec, load_spec

CLAIMS_PATH = PACKAGE_ROOT / "seeds" / "claims.toml"


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
    root = root or PACKAGE_ROOT
    path = root / claim["experiment"]
    default_results = output_root(root) / "results" / path.stem
    if not path.is_file():
        return Experiment(path, None, f"{claim['experiment']} is not written yet", default_results)
    try:
        spec = load_spec(path)
    except TokensimError as exc:
        return Experiment(path, None, str(exc), default_results)
    results = outside_package(spec.output, path.stem).resolve() if spec.output is not None else default_results
    return Experiment(path, spec, "", results)


VERDICT_COLOR = {"supported": "green", "refuted": "red", "inconclusive": "orange"}


def computed_rows(root: Path | None = None, results: Path | None = None):
    """Every claim of the claims file with its stored record and whether that record is current."""
    from ..claims.criteria import load_claims as load_structured
    from ..claims.engine import Settings, is_current, read_record

    root = root or PACKAGE_ROOT
    results = results or output_root(root) / "results" / "claims"
    rows = []
    for claim in load_structured(root / "seeds" / "claims.toml"):
        record = read_record(results, claim.id)
        try:
            state = "missing" if record is None else "current" if is_current(claim, root, results, Settings()) else "stale"
        except TokensimError as exc:
            state = f"error: {exc}"
        rows.append((claim, record, state))
    return rows


def page(root: Path | None = None) -> None:
    """The whole Claims tab: every claim's computed verdict, deciding numbers, robustness and figures,
    from the records ``tokensim claims check`` stores, with a button that (re)checks a claim."""
    import streamlit as st

    from ..claims.report import summary_rows

    root = root or PACKAGE_ROOT
    results = output_root(root) / "results" / "claims"
    st.caption("Verdicts computed by the claims engine from each claim's structured criteria (95% t intervals; more "
               "samples while undecided; robustness over the models' assumed parameters). The same records give "
               "docs/claims.md; from a shell: `tokensim claims check --all && tokensim claims report`. "
               "Independent of the sidebar.")
    try:
        rows = computed_rows(root, results)
    except TokensimError as exc:
        st.error(str(exc))
        return
    table = pd.DataFrame(summary_rows(rows))[["claim", "verdict", "state", "deciding", "robustness", "flips"]]
    st.dataframe(table, hide_index=True)
    for claim, record, state in rows:
        label = record["decision"]["verdict"] if record else "not checked"
        with st.expander(f"{claim.id}: {label}" + ("" if state in ("current", "missing") else f" ({state})")):
            _claim_panel(st, claim, record, state, root, results)


def _claim_panel(st, claim, record, state: str, root: Path, results: Path) -> None:
    from ..claims.report import (
        _condition_rows,
        deciding_text,
        flips_text,
        robustness_text,
    )

    st.markdown(claim.text)
    st.markdown(f"**Supports if:** {claim.supports_if}\n\n**Refutes if:** {claim.refutes_if}")
    st.markdown(f"**Experiment:** `{claim.experiment}`")
    if record is None:
        st.info("Not checked yet.")
    else:
        if state != "current":
            st.warning("The spec, model version, criteria or schema changed since this verdict was computed; "
                       "check again to update it.")
        verdict = record["decision"]["verdict"]
        st.markdown(f"**Verdict: :{VERDICT_COLOR[verdict]}[{verdict}].** {deciding_text(record)}.")
        st.dataframe(pd.DataFrame(_condition_rows(record), columns=["criterion", "condition", "state", "deciding numbers (95% CI)"]),
                     hide_index=True)
        st.markdown(f"**Robustness:** {robustness_text(record)}. **What flips it:** {flips_text(record)}.")
        if st.toggle("Show the figures", key=f"claims:{claim.id}:figs"):
            _figures(st, claim, record, results)
    robust = st.checkbox("with robustness ensemble", value=True, key=f"claims:{claim.id}:robust")
    if st.button("Check this claim", key=f"claims:{claim.id}:check"):
        from ..claims.engine import Progress, Settings, check_claim
        from .widgets import progress_panel

        with progress_panel(f"claims:{claim.id}", "Check cancelled; finished chunks are kept and reused.") as report:
            class Bar(Progress):
                total, done, text = 0, 0, ""

                def expect(self, rows: int) -> None:
                    self.total += rows

                def update(self, rows: int) -> None:
                    self.done += rows
                    report(self.done / max(self.total, 1), f"{self.text}: {self.done} of {self.total} runs")

                def stage(self, text: str) -> None:
                    self.text = text

            try:
                check_claim(claim, root, results, Settings(robustness=robust), progress=Bar())
            except TokensimError as exc:
                st.error(str(exc))
                return
        st.rerun()


def _figures(st, claim, record, results: Path) -> None:
    from ..claims.figures import WHAT, bibtex, caption, figures_for

    outcomes = pd.read_parquet(results / claim.id / "outcomes.parquet")
    for kind, chart in figures_for(record, outcomes).items():
        st.altair_chart(chart.properties(autosize="pad"), key=f"claims:{claim.id}:{kind}", theme=None, width="content")
        with st.expander(f"Export: {claim.id}_{kind}"):
            st.caption(caption(record, kind, WHAT[kind]))
            st.download_button("PNG", data=lambda c=chart: _png(c), file_name=f"{claim.id}_{kind}.png", mime="image/png",
                               key=f"claims:{claim.id}:{kind}:png")
            st.download_button("BibTeX", data=bibtex(record, kind, WHAT[kind]), file_name=f"{claim.id}_{kind}.bib",
                               key=f"claims:{claim.id}:{kind}:bib")


def _png(chart) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=1.5)
