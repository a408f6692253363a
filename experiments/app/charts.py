"""The trade-off scatter of two metrics over a sweep (the other charts are
:mod:`tokensim.experiments.figures`' own, shared with ``tokensim plot``)."""
from __future__ import annotations

from typing import Any, Mapping

import altair as alt
import pandas as pd

from tokensim.mechanisms.core import get_model

from ..figures import HEIGHT, PALETTE, WIDTH, _label, _param_label, _wrap, caption  # as in every other figure
from ..stats import grouped_intervals
from ..summary import outcomes


def tradeoff_data(frame: pd.DataFrame, provenance: Mapping[str, Any], x: str, y: str) -> pd.DataFrame:
    """Per parameter point: mean of each metric's per-run outcome with its 95% CI."""
    per_run = outcomes(frame, provenance)
    keys = ["point_id", *provenance["swept"]]
    per_run = per_run.sort_values(keys, kind="stable")
    model = get_model(provenance["model"])
    out = None
    for m in (x, y):
        g = grouped_intervals(per_run, keys, m, bounds=model.metric(m).bounds)
        g = g[keys + ["mean", "low", "high"]].rename(columns={"mean": m, "low": f"{m}_low", "high": f"{m}_high"})
        out = g if out is None else out.merge(g, on=keys)
    return out


def tradeoff(frame: pd.DataFrame, provenance: Mapping[str, Any], x: str, y: str) -> alt.Chart:
    """Mean outcome of ``y`` against ``x`` per parameter point, with 95% CI bars on both axes,
    coloured by the first swept parameter and shaped by the second."""
    data = tradeoff_data(frame, provenance, x, y)
    swept = list(provenance["swept"])
    base = alt.Chart(data)
    if not swept:
        color = alt.value(PALETTE[3])
    elif _type(data, swept[0]) == "N":
        domain = list(dict.fromkeys(data[swept[0]].tolist()))
        color = alt.Color(f"{swept[0]}:N", title=_param_label(provenance, swept[0]), sort=domain,
                          scale=alt.Scale(domain=domain, range=list(PALETTE[: len(domain)])))
    else:
        color = alt.Color(f"{swept[0]}:Q", title=_param_label(provenance, swept[0]), scale=alt.Scale(scheme="viridis"))
    points = base.mark_point(filled=True, size=70).encode(
        x=alt.X(f"{x}:Q", title=f"{_label(provenance, x)}, mean and 95% CI", scale=alt.Scale(zero=False)),
        y=alt.Y(f"{y}:Q", title=f"{_label(provenance, y)}, mean and 95% CI", scale=alt.Scale(zero=False)),
        color=color,
        tooltip=[*swept, x, y],
        **({"shape": alt.Shape(f"{swept[1]}:N", title=_param_label(provenance, swept[1]))} if len(swept) > 1 else {}),
    )
    xbars = base.mark_rule(opacity=0.5).encode(x=f"{x}_low:Q", x2=f"{x}_high:Q", y=f"{y}:Q", color=color)
    ybars = base.mark_rule(opacity=0.5).encode(y=f"{y}_low:Q", y2=f"{y}_high:Q", x=f"{x}:Q", color=color)
    title = provenance.get("title") or provenance.get("model_title") or provenance["model"]
    subtitle = _wrap(caption(provenance, f"{y} against {x}"), 95)
    return (xbars + ybars + points).properties(
        width=WIDTH, height=HEIGHT,
        title=alt.TitleParams(f"{title}: trade-off", subtitle=subtitle, anchor="start", subtitleFontSize=9, subtitleColor="#555"),
    )


def _type(data: pd.DataFrame, column: str) -> str:
    return "Q" if pd.api.types.is_numeric_dtype(data[column]) and data[column].nunique() > 6 else "N"
