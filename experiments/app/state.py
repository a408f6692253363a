"""What a browser session keeps: inputs per model across model switches and pages, runs per
model, and the session as one file to save and load.

Streamlit forgets a widget's value when the widget is not drawn in a run (another page, another
model). So every run starts with :func:`restore`: the values of the app's own input widgets (keys
that start with a model name and a colon, and the run settings) are copied into a store that
Streamlit leaves alone, and any such value missing from the widgets is put back from the store.
Runs are kept in a dict keyed ``model:kind`` (``kind`` is ``run_scenarios``, ``run_sweep`` ...).

A saved session is a zip file: ``session.json`` (format version, input values, and per run its
spec data, names, timings and which result files belong to it) and one Parquet file per result
(with its provenance, readable by ``tokensim plot``). Loading reads only those members as data,
each size-capped; nothing in the file is evaluated or unpickled.
"""
from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import streamlit as st

from ..storage import read_results
from .export import parquet_bytes
from .runs import AppResult

SAVED = "_saved_inputs"
RUNS = "_runs"
PENDING = "_pending_runs"
SETTINGS_KEYS = ("model", "samples", "timesteps", "seed", "crn")
FORMAT = "tokensim-session-1"
MAX_SESSION_BYTES = 200 * 2**20  # an uploaded session file, and the sum of its members unpacked
SESSION_FILE = "session.json"


def _persistent(key: str, models: list[str]) -> bool:
    return key in SETTINGS_KEYS or any(key.startswith(f"{m}:") for m in models)


def restore(models: list[str]) -> None:
    """Keep the app's input values across runs where their widgets are not drawn (call first)."""
    state = st.session_state
    saved = state.setdefault(SAVED, {})
    for key in list(state.keys()):
        if isinstance(key, str) and _persistent(key, models):
            saved[key] = state[key]
    if saved.get("model") not in models:  # a loaded session may name a model this server lacks
        saved.pop("model", None)
        state.pop("model", None)
    for key, value in saved.items():
        if key not in state:
            state[key] = value


def forget(key: str) -> None:
    """Drop an input value from the widgets and from the store."""
    st.session_state.pop(key, None)
    st.session_state.get(SAVED, {}).pop(key, None)


def runs() -> dict[str, dict]:
    return st.session_state.setdefault(RUNS, {})


def pending() -> dict[str, dict]:
    return st.session_state.setdefault(PENDING, {})


def inputs() -> dict[str, Any]:
    """The saved input values (for the session file)."""
    saved = dict(st.session_state.get(SAVED, {}))
    saved.update({k: v for k, v in st.session_state.items() if isinstance(k, str) and k in saved})
    return saved


def session_bytes(values: dict[str, Any], kept: dict[str, dict]) -> bytes:
    """A session (input ``values`` and ``kept`` runs) as one zip file."""
    buffer = io.BytesIO()
    manifest: dict[str, Any] = {"format": FORMAT, "inputs": values, "runs": {}}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, (key, run) in enumerate(kept.items()):
            files = []
            for i, result in enumerate(run["results"]):
                name = f"results/{n}_{i}.parquet"
                zf.writestr(name, parquet_bytes(result.frame, result.provenance))
                files.append({"file": name, "seconds": result.seconds, "done": result.done, "total": result.total})
            manifest["runs"][key] = {**{k: v for k, v in run.items() if k != "results"}, "results": files}
        zf.writestr(SESSION_FILE, json.dumps(manifest, default=str))
    return buffer.getvalue()


class SessionFileError(ValueError):
    """An uploaded session file that is not one this app wrote."""


def read_session(data: bytes) -> tuple[dict[str, Any], dict[str, dict]]:
    """Input values and runs from a session file's bytes; :class:`SessionFileError` when it is not one."""
    if len(data) > MAX_SESSION_BYTES:
        raise SessionFileError(f"the file is {len(data) / 2**20:.0f} MB; at most {MAX_SESSION_BYTES // 2**20} MB")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        if sum(i.file_size for i in zf.infolist()) > MAX_SESSION_BYTES:
            raise SessionFileError(f"the file unpacks to more than {MAX_SESSION_BYTES // 2**20} MB")
        manifest = json.loads(zf.read(SESSION_FILE))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SessionFileError(f"not a tokensim session file ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SessionFileError(f"not a tokensim session file (format should be {FORMAT!r})")
    kept = {}
    with tempfile.TemporaryDirectory(prefix="tokensim-session-") as folder:
        for key, run in dict(manifest.get("runs", {})).items():
            results = []
            for entry in run["results"]:
                path = Path(folder) / "r.parquet"
                path.write_bytes(zf.read(str(entry["file"])))
                frame, prov = read_results(path)
                results.append(AppResult(frame, prov, False, float(entry["seconds"]), int(entry["done"]), int(entry["total"])))
            kept[str(key)] = {**run, "results": results}
    return dict(manifest.get("inputs", {})), kept


def load_into_state(values: dict[str, Any], kept: dict[str, dict]) -> None:
    """Replace this session's inputs and runs with a loaded session's (call from a callback)."""
    state = st.session_state
    state[SAVED] = dict(values)
    for key, value in values.items():
        state[key] = value
    state[RUNS] = kept
    state[PENDING] = {}
