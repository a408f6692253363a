"""Pieces the sweep and sensitivity pages share: the base scenario, a one-spec run, headings."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd
import streamlit as st

from tokensim.mechanisms.core import Model, Param
from tokensim.mechanisms.core.errors import TokensimError
from tokensim.mechanisms.core.params import GROUPS, group_of

from ..spec import parse_spec
from .runpanel import run_button
from .scenarios import Scenario


def base_scenario(model: Model, scenarios: list[Scenario], key: str) -> tuple[str, Mapping[str, Any]]:
    """The scenario (name, values) whose parameters a sweep or an analysis keeps for the rest."""
    by_name = {s.name: s for s in scenarios}
    base = st.selectbox("Other parameters as in scenario", list(by_name), key=f"{model.name}:{key}",
                        help="edit the scenarios on the Scenarios page")
    return base, by_name[base].values


def grouped_picker(model: Model, params: list[Param], label: str, key: str, max_selections: int | None = None) -> list[str]:
    """Pick parameters from one list per group (population, behaviour, mechanism, attacker)."""
    groups = {g: [p.name for p in params if group_of(p) == g] for g in GROUPS}
    groups = {g: names for g, names in groups.items() if names}
    st.markdown(f"**{label}**")
    columns = st.columns(len(groups))
    picked: list[str] = []
    for column, (group, names) in zip(columns, groups.items()):
        picked += column.multiselect(group.capitalize(), names, key=f"{key}:{group}")
    if max_selections is not None and len(picked) > max_selections:
        st.error(f"pick at most {max_selections} parameters; {len(picked)} are picked ({', '.join(picked)})")
        return []
    return picked


def single_spec_run(model: Model, inputs: Callable[[], dict[str, Any] | None], source: str, label: str, key: str,
                    noun: str) -> tuple[pd.DataFrame, dict, dict, bool] | None:
    """The sweep and sensitivity pages' common part: ``inputs`` draws the page's inputs and returns
    its one spec as plain data (None while incomplete); input errors are shown, then the run
    panel. Returns the kept run's frame, provenance, spec data and whether it is partial."""
    spec, data = None, {}
    try:
        data = inputs() or {}
        if data:
            spec = parse_spec(data, source)
    except TokensimError as exc:
        st.error(str(exc))
    run = run_button(model, spec and [spec], [data], label, key, noun)
    if not run:
        return None
    (result,), (spec_data,) = run["results"], run["data"]
    if run.get("partial"):
        st.warning(f"Partial results ({result.provenance.get('partial')}): every figure, table and export below says so.")
    return result.frame, result.provenance, spec_data, bool(run.get("partial"))


def param_heading(param: Param) -> None:
    """A column's heading in the sweep and sensitivity inputs: the parameter's name and unit."""
    st.markdown(f"**{param.name}** {('(' + param.unit + ')') if param.unit else ''}")
