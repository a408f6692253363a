"""tokensim in the browser: ``streamlit run app.py``.

The entry point: the sidebar (model and run settings) and the pages, one file each under
``app_pages/``; the logic lives in :mod:`tokensim.experiments.app`. Extra model modules (your own models,
registered with ``tokensim.mechanisms.core.register``) load with
``streamlit run app.py -- --models mypackage.mymodel``.
"""
from __future__ import annotations

import argparse
import sys

import streamlit as st
from streamlit import config

from tokensim.experiments.app import context, state
from tokensim.experiments.app.models import available_models, import_model_modules
from tokensim.experiments.app.widgets import show_notice

PAGES = {
    "start": ("app_pages/start.py", "Start", ":material/home:"),
    "scenarios": ("app_pages/scenarios.py", "Scenarios", ":material/compare:"),
    "sweep": ("app_pages/sweep.py", "Sweep", ":material/grid_on:"),
    "sensitivity": ("app_pages/sensitivity.py", "Sensitivity", ":material/tune:"),
    "claims": ("app_pages/claims.py", "Claims", ":material/fact_check:"),
    "session": ("app_pages/session.py", "Session", ":material/save:"),
}
GOTO = "_goto"  # a callback asks for another page (st.switch_page cannot run inside a callback)


def _cli_models() -> list[str]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--models", default="")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return [m for m in args.models.split(",") if m]


def main() -> None:
    st.set_page_config(page_title="tokensim", layout="wide")
    # Inputs are restored from the session's store (tokensim.experiments.app.state), so a widget may have
    # both a default and a stored value; the stored one wins, which is what we want. The option
    # cannot be set with st.set_option, hence the config module (the same as --global.* on the CLI).
    config._set_option("global.disableWidgetStateDuplicationWarning", True, "app.py")
    import_model_modules(_cli_models())
    models, skipped = available_models()
    if not models:
        st.error("No model could be loaded. " + "; ".join(f"{n}: {e}" for n, e in skipped.items()))
        return
    state.restore(list(models))
    pages = {key: st.Page(path, title=title, icon=icon, default=key == "start")
             for key, (path, title, icon) in PAGES.items()}
    navigation = st.navigation(list(pages.values()))
    goto = st.session_state.pop(GOTO, None)
    if goto:
        st.switch_page(pages[goto])
    context.sidebar(models, skipped)
    show_notice()
    navigation.run()


if __name__ == "__main__":  # streamlit runs the script as __main__; a spawned worker process imports it as __mp_main__
    main()
