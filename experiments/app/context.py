"""What every page needs: the models, the chosen model, the run settings and the scenarios.

The sidebar (drawn by ``app.py`` before the page) chooses the model and the run settings; the
Scenarios page edits the scenarios; the other pages read them back from the session's inputs
(:func:`scenarios`), which :mod:`.state` keeps while their widgets are not drawn.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from tokensim.mechanisms.core import Model
from tokensim.mechanisms.core.params import GROUPS

from .runs import COST_LIMIT
from .scenarios import Scenario, Settings
from .widgets import FEW_PARAMS

KEY = "_context"
MAX_SCENARIOS = 6
DEFAULT_SETTINGS = {"samples": 20, "timesteps": 100, "seed": 0, "crn": True}


@dataclass(frozen=True)
class Context:
    models: dict[str, Model]
    model: Model
    settings: Settings


def sidebar(models: dict[str, Model], skipped: dict[str, str]) -> Context:
    """The model and run settings, in the sidebar of every page."""
    st.sidebar.title("tokensim")
    name = st.sidebar.radio("Model", list(models), key="model", captions=[m.title for m in models.values()])
    st.sidebar.subheader("Runs")
    samples = st.sidebar.number_input("Monte Carlo samples", 1, 100_000, DEFAULT_SETTINGS["samples"], key="samples",
                                      help="runs per scenario or parameter point, each with its own random stream")
    unit = models[name].time_unit
    timesteps = st.sidebar.number_input("Timesteps" + (f" ({unit}s)" if unit != "timestep" else ""), 1, 100_000,
                                        DEFAULT_SETTINGS["timesteps"], key="timesteps")
    seed = st.sidebar.number_input("Seed", 0, 2**31 - 1, DEFAULT_SETTINGS["seed"], key="seed")
    crn = st.sidebar.checkbox("Common random numbers", DEFAULT_SETTINGS["crn"], key="crn",
                              help="sample i of every scenario or point gets the same random stream, so "
                                   "differences are paired and less noisy")
    st.sidebar.caption(f"Runs estimated above {COST_LIMIT:.3g} s of compute are refused; use the CLI for those.")
    if skipped:
        st.sidebar.warning("Models not available:\n\n" + "\n\n".join(f"**{n}**: {e}" for n, e in skipped.items()))
    context = Context(models, models[name], Settings(int(samples), int(timesteps), int(seed), bool(crn)))
    st.session_state[KEY] = context
    return context


def current() -> Context:
    return st.session_state[KEY]


def scenario_count(model: Model) -> int:
    return int(st.session_state.get(f"{model.name}:n_scenarios", 2))


def scenarios(model: Model) -> list[Scenario]:
    """The scenarios of ``model`` as the session holds them (drawn or not)."""
    state = st.session_state
    out = []
    for i in range(scenario_count(model)):
        prefix = f"{model.name}:s{i}"
        name = state.get(f"{prefix}:name", chr(ord("A") + i))
        if len(model.schema.params) > FEW_PARAMS:
            chosen = {n for g in GROUPS for n in state.get(f"{prefix}:chosen:{g}", [])}
        else:
            chosen = set(model.schema.names)
        values = model.schema.defaults()
        values.update({p.name: state[f"{prefix}:{p.name}"] for p in model.schema
                       if p.name in chosen and f"{prefix}:{p.name}" in state})
        out.append(Scenario(name, values))
    return out


def set_scenarios(model: Model, scenarios: list[Scenario], settings: Settings) -> None:
    """Make ``model`` current with these scenarios and run settings (call from a callback, before
    the widgets are drawn): what the first screen's "ready comparison" buttons do."""
    from tokensim.mechanisms.core.params import group_of

    from .state import forget

    state = st.session_state
    for key in [k for k in list(state.get("_saved_inputs", {})) if k.startswith(f"{model.name}:s")]:
        forget(key)
    state["model"] = model.name
    state["samples"], state["timesteps"], state["seed"], state["crn"] = (
        settings.samples, settings.timesteps, settings.seed, settings.common_random_numbers)
    state[f"{model.name}:n_scenarios"] = len(scenarios)
    many = len(model.schema.params) > FEW_PARAMS
    for i, scenario in enumerate(scenarios):
        prefix = f"{model.name}:s{i}"
        state[f"{prefix}:name"] = scenario.name
        changed = [p for p in model.schema if scenario.values.get(p.name, p.default) != p.default]
        if many:
            for group in GROUPS:
                state[f"{prefix}:chosen:{group}"] = [p.name for p in changed if group_of(p) == group]
        for p in changed if many else model.schema:
            state[f"{prefix}:{p.name}"] = scenario.values.get(p.name, p.default)


def header(model: Model) -> None:
    """The model's title and "About this model", open on the first visit of each model."""
    import pandas as pd

    st.title(model.title)
    st.caption(f"model `{model.name}` v{model.version}; one timestep is one {model.time_unit}")
    seen = st.session_state.setdefault("_about_seen", set())
    with st.expander("About this model", expanded=model.name not in seen):
        st.markdown(model.description)
        st.markdown("**Parameters**")
        from tokensim.mechanisms.core.params import group_of

        table = pd.DataFrame(model.schema.table())
        table.insert(1, "group", [group_of(p) for p in model.schema])
        st.dataframe(table, hide_index=True)
        st.markdown("**Metrics**")
        st.dataframe(pd.DataFrame([{"name": m.name, "unit": m.unit, "per run": m.summary, "better": m.better,
                                    "description": m.description} for m in model.metrics]), hide_index=True)
    seen.add(model.name)
