"""Altair figures built from tidy results, with a caption and citation that make them citable.

One function per chart kind; every function takes a result frame and its provenance and returns
an Altair chart whose title and caption carry model, version, parameters, seeds and samples.
``tokensim plot`` and the app's export both call :func:`figure` and :func:`save_figure`, so a
figure exported from the app is the same file the CLI writes for the same results.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from tokensim.mechanisms.core import TokensimError, get_model

from .stats import grouped_intervals
from .summary import outcomes

FORMATS = ("png", "svg", "pdf")
KINDS = ("auto", "timeseries", "sweep", "heatmap", "distribution")
WIDTH, HEIGHT = 520, 300
# Okabe and Ito's colour-blind-safe palette (Color Universal Design), black last; lines take the
# colours in the order of the scenarios or swept values, so the first scenario is always orange.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
Y_PADDING = 8  # pixels between the plot frame and the data, so a line at a bound (1.0) stays visible


def _settings_at_defaults(provenance: Mapping[str, Any], fixed: Mapping[str, Any]) -> str:
    """``; settings at defaults: k=v, ...`` for the model's ``setting`` parameters the spec leaves at their
    defaults, so a caption never hides an experiment choice (an attacker present by default, say)."""
    try:
        schema = get_model(provenance["model"]).schema
    except TokensimError:
        return ""
    left = [f"{p.name}={p.default}" for p in schema if p.basis == "setting" and p.kind != "text"
            and p.name not in fixed and p.name not in provenance["swept"]]
    return f"; settings at defaults: {', '.join(left)}" if left else ""


def caption(provenance: Mapping[str, Any], metric: str) -> str:
    """A one-paragraph caption: what was simulated, with which parameters, seeds and samples.

    Besides the swept and fixed parameters it names every ``setting`` parameter left at its default;
    assumed and calibrated parameters are at their defaults unless fixed or swept.
    """
    fixed = provenance["spec"].get("fixed", {})
    fixed_text = ", ".join(f"{k}={v}" for k, v in fixed.items()) or "model defaults"
    fixed_text += _settings_at_defaults(provenance, fixed)
    swept = ", ".join(provenance["swept"]) or "none"
    scenarios = provenance.get("scenarios") or {}  # set by the app's scenario comparisons
    scenario_text = "".join(
        f"; scenario {name}: {', '.join(f'{k}={v}' for k, v in values.items()) or 'no other changes'}"
        for name, values in scenarios.items()
    )
    partial = provenance.get("partial")
    return (
        (f"PARTIAL RESULTS ({partial}). " if partial else "")
        + f"{metric} from tokensim model '{provenance['model']}' v{provenance['model_version']}; "
        f"swept: {swept}; fixed: {fixed_text}{scenario_text}; other (assumed, calibrated) parameters at defaults. "
        f"{provenance['samples']} samples x {provenance['timesteps']} timesteps per point, seed {provenance['seed']}"
        f"{' (common random numbers)' if provenance.get('common_random_numbers') else ''}. "
        f"tokensim {provenance['tokensim_version']}, commit {provenance['git_commit'][:12]}, {provenance['created']}."
    )


def content_hash(chart: alt.TopLevelMixin | None, provenance: Mapping[str, Any]) -> str:
    """Eight hex digits of the figure's content: its Vega-Lite spec (data included), or the
    provenance when there is no chart; two different figures get different citation keys."""
    if chart is None:
        body = json.dumps(provenance, sort_keys=True, default=str)
    else:  # every row counts, however many (Altair refuses to serialise over 5,000 rows by default)
        with alt.data_transformers.enable("default", max_rows=None):
            body = chart.to_json(sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:8]


def bibtex(provenance: Mapping[str, Any], metric: str, chart: alt.TopLevelMixin | None = None) -> str:
    """A BibTeX entry for a figure (``chart``) or a result set: the key joins model, metric and a
    hash of the content; the entry carries the project's URL when it has one
    (:func:`~tokensim.experiments.provenance.repository_url`) and always the commit."""
    year = str(provenance["created"])[:4]
    metric_key = "".join(c if c.isalnum() else "_" for c in metric)
    key = f"tokensim_{provenance['model']}_{metric_key}_{content_hash(chart, provenance)}"
    title = provenance.get("title") or provenance.get("model_title") or provenance["model"]
    url = provenance.get("repository", "")
    return (
        f"@software{{{key},\n"
        f"  title = {{tokensim: {title} ({metric})}},\n"
        f"  author = {{{{tokensim developers}}}},\n"
        f"  year = {{{year}}},\n"
        f"  version = {{{provenance['tokensim_version']}}},\n"
        + (f"  url = {{{url}}},\n" if url else "")
        + f"  note = {{model {provenance['model']} v{provenance['model_version']}, seed {provenance['seed']}, "
        f"{provenance['samples']} samples, commit {provenance['git_commit']}}}\n"
        "}\n"
    )


def _titled(chart: alt.TopLevelMixin, provenance: Mapping[str, Any], metric: str, pooled: str = "") -> alt.TopLevelMixin:
    title = provenance.get("title") or provenance.get("model_title") or provenance["model"]
    lines = _wrap(caption(provenance, metric) + pooled, 95)
    return chart.properties(
        title=alt.TitleParams(title, subtitle=lines, anchor="start", subtitleFontSize=9, subtitleColor="#555")
    )


def _wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return lines + ([current] if current else [])


def _label(provenance: Mapping[str, Any], metric: str) -> str:
    m = get_model(provenance["model"]).metric(metric)
    return f"{metric} ({m.unit})" if m.unit else metric


def _param_label(provenance: Mapping[str, Any], name: str) -> str:
    """An axis title for a swept parameter: its name and unit (the app's scenarios have none)."""
    schema = get_model(provenance["model"]).schema
    unit = schema[name].unit if name in schema else ""
    return f"{name} ({unit})" if unit else name


def _time_label(provenance: Mapping[str, Any]) -> str:
    return get_model(provenance["model"]).time_unit


def _y_scale(provenance: Mapping[str, Any], metric: str, **kwargs) -> alt.Scale:
    """The metric axis: padded so lines at a bound stay off the frame, zero only for bounded metrics."""
    bounded = get_model(provenance["model"]).metric(metric).bounds is not None
    return alt.Scale(padding=Y_PADDING, zero=bounded, **kwargs)


def _pooled(frame: pd.DataFrame, provenance: Mapping[str, Any], shown: Sequence[str | None]) -> str:
    """Caption text naming swept parameters the chart does not show, whose runs it pools."""
    hidden = [s for s in provenance["swept"] if s not in shown]
    if not hidden:
        return ""
    parts = [f"{s} ({', '.join(str(v) for v in sorted(frame[s].unique()))})" for s in hidden]
    return " Runs pooled over " + "; ".join(parts) + "."


def _finish(layers: alt.TopLevelMixin, facet: str | None) -> alt.TopLevelMixin:
    """Size the chart, and repeat it in one column per value of ``facet`` when given."""
    if facet is None:
        return layers.properties(width=WIDTH, height=HEIGHT)
    return layers.properties(width=WIDTH // 2, height=HEIGHT).facet(column=alt.Column(f"{facet}:N", title=facet))


def _x_scale(provenance: Mapping[str, Any], x: str, values: pd.Series) -> alt.Scale:
    """A log axis for parameters the schema marks ``log_scale`` (symlog when 0 is among the values)."""
    if not get_model(provenance["model"]).schema[x].log_scale or (values < 0).any():
        return alt.Scale(zero=False)
    return alt.Scale(type="symlog") if (values == 0).any() else alt.Scale(type="log")


def _order(frame: pd.DataFrame, column: str) -> list:
    """Values of ``column`` in the order they first appear (scenario order), sorted when numeric."""
    values = list(dict.fromkeys(frame[column].tolist()))
    return sorted(values) if pd.api.types.is_numeric_dtype(frame[column]) else values


def _color(color: str | None, frame: pd.DataFrame | None = None, legend: bool = True, provenance=None):
    """The colour encoding: the palette in the order of ``color``'s values. ``legend=False`` gives
    the ``fill`` channel instead, for bands: their paler colours stay out of the legend, which
    shows the lines' own colours."""
    if not color:
        return alt.value(PALETTE[3])
    domain = _order(frame, color) if frame is not None else alt.Undefined
    range_ = list(PALETTE[: len(domain)]) if frame is not None and len(domain) <= len(PALETTE) else alt.Undefined
    scale = alt.Scale(domain=domain, range=range_)
    if not legend:
        return alt.Fill(f"{color}:N", scale=scale, sort=domain, legend=None)
    title = _param_label(provenance, color) if provenance is not None else color
    return alt.Color(f"{color}:N", scale=scale, sort=domain, legend=alt.Legend(title=title, symbolType="stroke"))


def _lines_legend(layers: alt.LayerChart) -> alt.LayerChart:
    """Keep the legend of the lines (``color``) separate from the bands' ``fill``, which has none;
    merged, the bands' ``legend=None`` would hide the legend altogether."""
    return layers.resolve_legend(fill="independent", color="independent")


def _band_color(color: str | None, frame: pd.DataFrame) -> dict:
    """A band's encoding: ``fill`` in the lines' colours, never in the legend."""
    return {"fill": _color(color, frame, legend=False)} if color else {"color": _color(None)}


def timeseries(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, color: str | None = None,
               facet: str | None = None) -> alt.TopLevelMixin:
    """Median over samples per timestep with a 5-95% band, one line per value of ``color``."""
    keys = ["timestep"] + [k for k in (color, facet) if k]
    g = frame.groupby(keys, sort=False)[metric]
    stats = pd.DataFrame({"median": g.median(), "p05": g.quantile(0.05), "p95": g.quantile(0.95)}).reset_index()
    base = alt.Chart(stats).encode(x=alt.X("timestep:Q", title=_time_label(provenance)))
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("p05:Q", title=f"{_label(provenance, metric)}: median, 5-95%", scale=_y_scale(provenance, metric)),
        y2="p95:Q", **_band_color(color, frame))
    line = base.mark_line(strokeWidth=2).encode(y="median:Q", color=_color(color, frame, provenance=provenance))
    pooled = _pooled(frame, provenance, [color, facet])
    return _titled(_finish(_lines_legend(band + line), facet), provenance, metric, pooled)


def sweep(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, x: str, color: str | None = None,
          facet: str | None = None) -> alt.TopLevelMixin:
    """Per-run outcome against one swept parameter: mean with a 95% CI band, per ``color``."""
    per_sample = outcomes(frame, provenance)
    keys = [x] + [k for k in (color, facet) if k]
    bounds = get_model(provenance["model"]).metric(metric).bounds
    stats = grouped_intervals(per_sample.sort_values(keys, kind="stable"), keys, metric, bounds=bounds)
    stats = stats.rename(columns={"n": "count"})
    scale = _x_scale(provenance, x, stats[x])
    ticks = sorted(stats[x].unique()) if scale.type in ("log", "symlog") and stats[x].nunique() <= 15 else alt.Undefined
    base = alt.Chart(stats).encode(x=alt.X(f"{x}:Q", title=_param_label(provenance, x), scale=scale,
                                           axis=alt.Axis(values=ticks, labelAngle=0, format="~g")))
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("low:Q", title=f"{_label(provenance, metric)}, mean and 95% CI", scale=_y_scale(provenance, metric)),
        y2="high:Q", **_band_color(color, stats))
    line = base.mark_line(point=True, strokeWidth=2).encode(
        y="mean:Q", color=_color(color, stats, provenance=provenance), tooltip=[*keys, "mean", "low", "high", "count"])
    pooled = _pooled(frame, provenance, [x, color, facet])
    return _titled(_finish(_lines_legend(band + line), facet), provenance, metric, pooled)


def heatmap(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, x: str, y: str,
            facet: str | None = None) -> alt.TopLevelMixin:
    """Mean per-run outcome over a grid of two swept parameters."""
    per_sample = outcomes(frame, provenance)
    keys = [x, y] + ([facet] if facet else [])
    stats = per_sample.groupby(keys)[metric].mean().reset_index()
    stats["label"] = [f"{v:.3g}" for v in stats[metric]]
    middle = float(stats[metric].min() + stats[metric].max()) / 2
    stats["dark"] = stats[metric] > middle  # viridis is light at the top: dark text on light cells
    base = alt.Chart(stats).encode(
        x=alt.X(f"{x}:O", title=_param_label(provenance, x), axis=alt.Axis(labelAngle=0, format="~g")
                if pd.api.types.is_numeric_dtype(stats[x]) else alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:O", title=_param_label(provenance, y), sort="descending"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(f"{metric}:Q", title=f"mean {_label(provenance, metric)}", scale=alt.Scale(scheme="viridis")),
        tooltip=[*keys, metric],
    )
    text = base.mark_text(fontSize=10).encode(
        text="label:N", color=alt.condition(alt.datum.dark, alt.value("black"), alt.value("white")))
    return _titled(_finish(cells + text, facet), provenance, metric, _pooled(frame, provenance, [x, y, facet]))


def distribution(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, color: str | None = None,
                 facet: str | None = None) -> alt.TopLevelMixin:
    """Histogram of per-run outcomes on shared bins, one step outline per ``color`` (outlines do
    not blend into colours that are not in the legend, as overlaid translucent bars do)."""
    per_sample = outcomes(frame, provenance)
    values = per_sample[metric].to_numpy(float)
    finite = values[np.isfinite(values)]
    edges = np.histogram_bin_edges(finite if len(finite) else [0.0, 1.0], bins=min(30, max(5, len(finite) // 2)))
    if edges[0] == edges[-1]:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    keys = [k for k in (color, facet) if k]
    rows = []
    for group, part in (per_sample.groupby(keys, sort=False) if keys else [((), per_sample)]):
        counts, _ = np.histogram(part[metric].to_numpy(float), bins=edges)
        labels = dict(zip(keys, group if isinstance(group, tuple) else (group,)))
        # a step curve: each bin's count from its left edge, closed at the right edge
        for left, count in zip([*edges[:-1], edges[-1]], [*counts, counts[-1]]):
            rows.append({**labels, metric: float(left), "runs": int(count)})
    hist = pd.DataFrame(rows)
    chart = alt.Chart(hist).mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=alt.X(f"{metric}:Q", title=_label(provenance, metric), scale=alt.Scale(zero=False)),
        y=alt.Y("runs:Q", title="runs", scale=alt.Scale(padding=Y_PADDING)),
        color=_color(color, hist if color else None, provenance=provenance),
    )
    return _titled(_finish(chart, facet), provenance, metric, _pooled(frame, provenance, [color, facet]))


def figure(
    frame: pd.DataFrame,
    provenance: Mapping[str, Any],
    metric: str,
    kind: str = "auto",
    x: str | None = None,
    y: str | None = None,
    color: str | None = None,
    facet: str | None = None,
) -> alt.TopLevelMixin:
    """The chart for ``metric``.

    ``auto`` picks from the swept parameters: none gives a time series; numeric ones go on the
    axes (one: sweep line, two: heatmap); a categorical one colours the lines and a second
    categorical one splits the chart into columns (``facet``). Swept parameters the chart does not
    show are named in the caption as pooled.
    """
    if metric not in frame.columns:
        raise TokensimError(f"metric '{metric}' is not in these results; present: {', '.join(_metrics(frame, provenance))}")
    swept: Sequence[str] = provenance["swept"]
    for name in (x, y, color, facet):
        if name is not None and name not in swept:
            raise TokensimError(f"'{name}' is not a swept parameter of these results; swept: {', '.join(swept) or 'none'}")
    if kind not in KINDS:
        raise TokensimError(f"unknown figure kind '{kind}'; kinds: {', '.join(KINDS)}")
    chosen, x, y, color, facet = _auto(frame, swept, x, y, color, facet, kind)
    kind = chosen if kind == "auto" else kind
    if kind == "timeseries":
        return timeseries(frame, provenance, metric, color, facet)
    if kind == "distribution":
        return distribution(frame, provenance, metric, color, facet)
    if kind == "sweep":
        if x is None or not pd.api.types.is_numeric_dtype(frame[x]):
            raise TokensimError(f"a sweep figure needs a numeric swept parameter on x (--x); "
                                f"swept: {', '.join(swept) or 'none'}")
        return sweep(frame, provenance, metric, x, color, facet)
    if x is None or y is None:
        raise TokensimError("a heatmap needs two swept parameters (--x and --y)")
    return heatmap(frame, provenance, metric, x, y, facet)


def _auto(frame: pd.DataFrame, swept: Sequence[str], x, y, color, facet, kind: str = "auto"):
    """Choose a kind and fill the encodings the caller left open: categorical parameters colour,
    then facet; numeric ones go on x, then y (a heatmap, unless another kind was asked for or a
    colour is taken), then colour."""
    taken = {x, y, color, facet}
    numeric = [s for s in swept if pd.api.types.is_numeric_dtype(frame[s]) and s not in taken]
    categorical = [s for s in swept if not pd.api.types.is_numeric_dtype(frame[s]) and s not in taken]
    if color is None and categorical:
        color = categorical.pop(0)
    if facet is None and categorical:
        facet = categorical.pop(0)
    if x is None and numeric:
        x = numeric.pop(0)
    if x is None:
        return "timeseries", None, None, color, facet
    if kind == "heatmap" and y is None and not numeric and color is not None:
        return "heatmap", x, color, None, facet  # a categorical parameter can be a heatmap row
    if y is None and numeric and (kind == "heatmap" or (kind == "auto" and color is None)):
        return "heatmap", x, numeric.pop(0), color, facet
    if color is None and numeric:
        color = numeric.pop(0)
    return "sweep", x, None, color, facet


def _metrics(frame: pd.DataFrame, provenance: Mapping[str, Any]) -> list[str]:
    return [c for c in frame.columns if c in get_model(provenance["model"]).metric_names]


def save_figure(chart: alt.TopLevelMixin, stem: Path, formats: Sequence[str] = FORMATS, scale: float = 2.0) -> list[Path]:
    """Write ``chart`` as ``stem.<fmt>`` for each format (vl-convert, offline); returns the paths."""
    paths = []
    stem.parent.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if fmt not in FORMATS:
            raise TokensimError(f"unknown figure format '{fmt}'; formats: {', '.join(FORMATS)}")
        path = stem.with_suffix(f".{fmt}")
        chart.save(str(path), format=fmt, **({"scale_factor": scale} if fmt == "png" else {}))
        paths.append(path)
    return paths
