"""Streamlit pieces the pages share: inputs generated from a parameter schema, export panels and
the progress panel (bar and Cancel) of a run.

Every input takes its label, unit, bounds, default and help text from the model's
:class:`~tokensim.mechanisms.core.params.Param`; nothing here repeats a default or a range. Widget keys
carry the model name and a prefix, so each session (``st.session_state`` is per browser session)
keeps its own values for each model and scenario.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

import altair as alt
import pandas as pd
import streamlit as st

from tokensim.mechanisms.core import Model, Param
from tokensim.mechanisms.core.errors import TokensimError
from tokensim.mechanisms.core.params import GROUPS, group_of

from ..figures import FORMATS, bibtex, caption
from .export import MIME, csv_bytes, figure_bytes, parquet_bytes, slug, spec_toml
from .state import forget, pending
from .uploads import MAX_UPLOAD_BYTES, data_file

FEW_PARAMS = 10  # models with more parameters get grouped pick lists instead of one input per parameter
SLIDER_SPAN = 1000  # numeric ranges wider than this get a number box instead of a slider
SLIDER_STEPS = 100  # a slider moves in steps of a power of ten near 1/100 of its range
NOTICE_KEY = "notice"


def label_of(param: Param) -> str:
    return f"{param.name} ({param.unit})" if param.unit else param.name


def help_of(param: Param) -> str:
    structural = " Structural: changes array shapes or code paths." if param.structural else ""
    return f"{param.description}. Allowed: {param.allowed}. Default: {param.default!r}.{structural}"


def _step(low: float, high: float) -> float:
    return 10.0 ** math.floor(math.log10((high - low) / SLIDER_STEPS)) if high > low else 1.0


def _format(step: float) -> str:
    return f"%.{max(0, -math.floor(math.log10(step)))}f"


def _bounds(param: Param, cast: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``param``'s bounds as ``cast`` (int or float) values; an open end stays None."""
    return (None if param.low is None else cast(param.low), None if param.high is None else cast(param.high))


def use_slider(param: Param) -> bool:
    """Bounded numeric parameters with a modest range get a slider; others a number box."""
    if param.kind not in ("int", "float") or param.low is None or param.high is None or param.log_scale:
        return False
    return param.high - param.low <= SLIDER_SPAN


def param_input(param: Param, key: str, container=st) -> Any:
    """One input for ``param``: slider, number box, selectbox, checkbox or text box."""
    label, help_text = label_of(param), help_of(param)
    if param.kind == "bool":
        return container.checkbox(label, value=param.default, key=key, help=help_text)
    if param.kind == "choice":
        return container.selectbox(label, param.choices, index=param.choices.index(param.default), key=key, help=help_text)
    if param.kind == "text":
        return data_file_input(param, key, container)
    if param.kind == "int":
        low, high = _bounds(param, int)
        if use_slider(param):
            return container.slider(label, low, high, int(param.default), 1, key=key, help=help_text)
        return container.number_input(label, low, high, int(param.default), 1, key=key, help=help_text)
    low, high = _bounds(param, float)
    if use_slider(param):
        step = _step(low, high)
        return container.slider(label, low, high, float(param.default), step, format=_format(step), key=key, help=help_text)
    return container.number_input(label, low, high, float(param.default), format="%g", key=key, help=help_text)


def range_input(label: str, param: Param, value: float, key: str, container=st) -> float:
    """A number box inside ``param``'s bounds, typed like the parameter (for sweep ranges)."""
    cast = int if param.kind == "int" else float
    low, high = _bounds(param, cast)
    return container.number_input(label, low, high, cast(value), **({} if cast is int else {"format": "%g"}), key=key)


def data_file_input(param: Param, key: str, container=st) -> str:
    """A size-capped upload for a data-file parameter: the app stores the file under a name it
    chooses (:func:`.uploads.data_file`) and passes that path; it never opens a path a user typed."""
    upload = container.file_uploader(f"{param.name}: upload a CSV (at most {MAX_UPLOAD_BYTES // 2**20} MB)",
                                     type=["csv"], key=f"upload:{key}", help=help_of(param))
    if upload is not None:
        try:
            st.session_state[key] = data_file(param, upload.getvalue())  # kept across pages (see .state)
            st.session_state[f"{key}:file"] = upload.name
        except TokensimError as exc:
            container.error(f"{upload.name}: {exc}")
            forget(key)
    elif st.session_state.get(key):
        container.caption(f"Using the uploaded {st.session_state.get(f'{key}:file', 'file')}.")
        if container.button("Use no file", key=f"unupload:{key}"):
            forget(key)
    return st.session_state.get(key) or param.default


def group_picks(model: Model) -> dict[str, list[Param]]:
    """The model's parameters by group (population, behaviour, mechanism, attacker), in schema order."""
    groups: dict[str, list[Param]] = {g: [] for g in GROUPS}
    for p in model.schema:
        groups[group_of(p)].append(p)
    return {g: ps for g, ps in groups.items() if ps}


def param_inputs(model: Model, prefix: str, container=st) -> dict[str, Any]:
    """Inputs for the parameters of ``model``; returns the value of every parameter by name.

    A model with more than :data:`FEW_PARAMS` parameters first offers one pick list per group of
    parameters (population, behaviour, mechanism, attacker), and only the picked parameters get
    an input; the others keep their defaults.
    """
    params = list(model.schema)
    if len(params) > FEW_PARAMS:
        chosen: list[str] = []
        for group, members in group_picks(model).items():
            chosen += container.multiselect(
                f"{group.capitalize()} parameters to change", [p.name for p in members],
                key=f"{model.name}:{prefix}:chosen:{group}",
                help="Pick the parameters to set; the others stay at their defaults (see About this model).",
            )
        params = [p for p in params if p.name in chosen]
    values = model.schema.defaults()
    values.update({p.name: param_input(p, f"{model.name}:{prefix}:{p.name}", container) for p in params})
    return values


def notice(text: str) -> None:
    """Show ``text`` once, at the top of the next run (used by callbacks)."""
    st.session_state[NOTICE_KEY] = text


def show_notice() -> None:
    text = st.session_state.pop(NOTICE_KEY, None)
    if text:
        st.info(text)


def _cancel(key: str) -> None:
    entry = pending().get(key)
    if entry is not None:
        entry["cancelled"] = True


@contextmanager
def progress_panel(key: str, cancelled: str | None = None) -> Iterator[Callable[[float, str], None]]:
    """A progress bar and a Cancel button for the run ``key`` done inside the ``with`` block.

    Cancel (like Streamlit's own Stop, or any edit) makes Streamlit start a new run of the page,
    which interrupts this one at its next progress update, after the chunk in hand. Cancel marks
    the pending run ``key`` cancelled, or, given ``cancelled``, shows that message at the top of
    the next run instead.
    """
    bar = st.progress(0.0, text="starting")
    cancel = st.empty()
    if cancelled is None:
        cancel.button("Cancel", key=f"cancel:{key}", on_click=_cancel, args=(key,))
    else:
        cancel.button("Cancel", key=f"cancel:{key}", on_click=notice, args=(cancelled,))
    yield lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=text)
    cancel.empty()
    bar.empty()


def download(label: str, data: Callable[[], bytes] | bytes | str, file_name: str, key: str) -> None:
    """A download that does not rerun the page (``on_click="ignore"``), so every click is one file."""
    fmt = file_name.rsplit(".", 1)[-1]
    st.download_button(label, data=data, file_name=file_name, mime=MIME.get(fmt), key=key, on_click="ignore")


def chart_with_export(chart: alt.Chart, frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, stem: str, key: str) -> None:
    """Show ``chart`` and, below it, its caption, downloads (figure as PNG/SVG/PDF, the chart's
    data as CSV and Parquet) and a BibTeX entry.

    Figures are rendered only when a download is clicked (a callable passed to
    ``st.download_button``), so showing many charts stays quick.
    """
    # Vega-Lite's default sizing and theme, as in the exported file (Streamlit would otherwise
    # squeeze title, legend and plot into width x height, and restyle the chart).
    st.altair_chart(chart.properties(autosize="pad"), key=f"chart:{key}", theme=None, width="content")
    with st.expander(f"Export: {stem}"):
        st.caption(caption(provenance, metric))
        columns = st.columns(len(FORMATS) + 3)
        for column, fmt in zip(columns, FORMATS):
            with column:
                download(fmt.upper(), lambda fmt=fmt: figure_bytes(chart, fmt), f"{stem}.{fmt}", f"dl:{key}:{fmt}")
        with columns[len(FORMATS)]:
            download("CSV", lambda: csv_bytes(frame), f"{stem}.csv", f"dl:{key}:csv")
        with columns[len(FORMATS) + 1]:
            download("Parquet", lambda: parquet_bytes(frame, provenance), f"{stem}.parquet", f"dl:{key}:parquet")
        entry = bibtex(provenance, metric, chart)
        with columns[len(FORMATS) + 2]:
            download("BibTeX", entry, f"{stem}.bib", f"dl:{key}:bib")
        st.code(entry, language="bibtex")


def copy_as_spec(spec: Mapping[str, Any], name: str, key: str) -> None:
    """The TOML of ``spec`` (with a copy button) and a download of it."""
    file_name = f"{slug(name)}.toml"
    text = spec_toml(spec, file_name)
    st.code(text, language="toml")
    download(f"Download {file_name}", text, file_name, f"dl:{key}:toml")


def result_downloads(frame: pd.DataFrame, provenance: Mapping[str, Any], stem: str, key: str) -> None:
    """The whole result set as CSV and as Parquet with provenance (``tokensim plot`` reads it)."""
    left, right = st.columns(2)
    with left:
        download("All results (CSV)", lambda: csv_bytes(frame), f"{stem}.csv", f"dl:{key}:all_csv")
    with right:
        download("All results (Parquet, with provenance)", lambda: parquet_bytes(frame, provenance), f"{stem}.parquet",
                 f"dl:{key}:all_parquet")
