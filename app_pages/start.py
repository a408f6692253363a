"""Start: what tokensim is, one sentence per mechanism, and one click to a ready comparison each."""
from __future__ import annotations

import streamlit as st

from tokensim.experiments.app import context
from tokensim.experiments.app.ready import ready_comparison

INTRO = (
    "**tokensim** simulates token-incentive and governance mechanisms with "
    "[cadCAD](https://github.com/cadCAD-org/cadCAD): Monte Carlo runs of a model under named scenarios, "
    "sweeps and sensitivity analyses, each with 95% confidence intervals, and every figure exportable with its "
    "data, caption, citation and the spec that reproduces it from the command line (`tokensim run`)."
)
SENTENCES = {
    "governance": "Whales, quadratic and one-person-one-vote rules and Sybil identities: which voting rule, at "
                  "which identity cost, keeps outcomes with the community?",
    "labeling": "A crowd labels data for AI and is paid in tokens: which reward rule buys accurate labels cheaply "
                "while lazy, colluding and Sybil labelers adapt to what pays?",
    "inflation": "Who should set a token's emission (a code rule, feedback, a PID controller, a team, a vote or a "
                 "learning controller) under growth, a bull run and a 70% crash?",
}


def open_ready(model_name: str) -> None:
    ctx = context.current()
    model = ctx.models[model_name]
    ready = ready_comparison(model)
    context.set_scenarios(model, list(ready.scenarios), ready.settings)
    st.session_state["_goto"] = "scenarios"


def page() -> None:
    ctx = context.current()
    st.title("tokensim")
    st.markdown(INTRO)
    st.markdown("Pick a model in the sidebar, or start from a comparison that one of the project's claims is tested "
                "with (seeds/claims.toml): one click sets up its scenarios, then **Run scenarios** on the next page.")
    for name, model in ctx.models.items():
        with st.container(border=True):
            st.markdown(f"**{model.title}** (`{name}`)")
            st.markdown(SENTENCES.get(name) or model.description.strip().split("\n\n")[0])
            ready = ready_comparison(model)
            if ready is None:
                continue
            st.caption(f"Ready comparison from claim `{ready.claim}` ({ready.experiment}): {ready.title}; "
                       f"{ready.settings.samples} samples x {ready.settings.timesteps} {model.time_unit}s, seed "
                       f"{ready.settings.seed}" + (f"; {ready.note}" if ready.note else "") + ".")
            st.button(f"Open the {name} comparison", key=f"ready:{name}", on_click=open_ready, args=(name,))


page()
