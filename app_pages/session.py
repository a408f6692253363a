"""Session: save every model's inputs and results as one file, and load such a file back."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from tokensim.experiments.app import state
from tokensim.experiments.app.widgets import download, notice


def _load() -> None:
    upload = st.session_state.get("upload:session")
    if upload is None:
        return
    try:
        values, kept = state.read_session(upload.getvalue())
    except state.SessionFileError as exc:
        notice(f"{upload.name}: {exc}")
        return
    state.load_into_state(values, kept)
    notice(f"Loaded {upload.name}: {len(kept)} runs and the inputs of every model.")


def page() -> None:
    st.title("Session")
    st.markdown("Everything this browser session holds (the scenarios, sweeps and analyses of every model, their "
                "results and the run settings) as one file, to come back to later or to pass on.")
    kept = state.runs()
    st.caption(f"{len(kept)} finished runs: {', '.join(kept) or 'none yet'}.")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M")
    values, runs = state.inputs(), dict(kept)  # captured now: the file is built when clicked, outside this run
    download("Save the session", lambda: state.session_bytes(values, runs), f"tokensim-session-{stamp}.zip", "dl:session")
    st.file_uploader(f"Load a session file (at most {state.MAX_SESSION_BYTES // 2**20} MB)", type=["zip"],
                     key="upload:session", on_change=_load)


page()
