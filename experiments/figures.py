"""Altair figures built from tidy results, with a caption and citation that make them citable.

One function per chart kind; every function takes a result frame and its provenance and returns
an Altair chart whose title and caption carry model, version, parameters, seeds and samples.
``tokensim plot`` and the app's export both call :func:`figure` and :func:`save_figure`, so a
figure exported from the app is the same file the CLI writes for the same results.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import altair as alt
import pandas as pd

from mechanisms.core import TokensimError, get_model

from .stats import grouped_intervals
from .summary import outcomes

FORMATS = ("png", "svg", "pdf")
KINDS = ("auto", "timeseries", "sweep", "heatmap", "distribution")
WIDTH, HEIGHT = 520, 300


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
    return (
        f"{metric} from tokensim model '{provenance['model']}' v{provenance['model_version']}; "
        f"swept: {swept}; fixed: {fixed_text}{scenario_text}; other (assumed, calibrated) parameters at defaults. "
        f"{provenance['samples']} samples x {provenance['timesteps']} timesteps per point, seed {provenance['seed']}"
        f"{' (common random numbers)' if provenance.get('common_random_numbers') else ''}. "
        f"tokensim {provenance['tokensim_version']}, commit {provenance['git_commit'][:12]}, {provenance['created']}."
    )


def bibtex(provenance: Mapping[str, Any], metric: str) -> str:
    """A BibTeX entry for a figure or result set."""
    year = str(provenance["created"])[:4]
    key = f"tokensim_{provenance['model']}_{metric}_{str(provenance['git_commit'])[:7]}"
    title = provenance.get("title") or provenance.get("model_title") or provenance["model"]
    return (
        f"@software{{{key},\n"
        f"  title = {{tokensim: {title} ({metric})}},\n"
        f"  author = {{{{tokensim developers}}}},\n"
        f"  year = {{{year}}},\n"
        f"  version = {{{provenance['tokensim_version']}}},\n"
        f"  note = {{model {provenance['model']} v{provenance['model_version']}, seed {provenance['seed']}, "
        f"{provenance['samples']} samples, commit {provenance['git_commit']}}}\n"
        f"}}\n"
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


def _color(color: str | None):
    return alt.Color(f"{color}:N") if color else alt.value("#1f77b4")


def timeseries(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, color: str | None = None,
               facet: str | None = None) -> alt.TopLevelMixin:
    """Median over samples per timestep with a 5-95% band, one line per value of ``color``."""
    keys = ["timestep"] + [k for k in (color, facet) if k]
    g = frame.groupby(keys)[metric]
    stats = pd.DataFrame({"median": g.median(), "p05": g.quantile(0.05), "p95": g.quantile(0.95)}).reset_index()
    base = alt.Chart(stats).encode(x=alt.X("timestep:Q", title="timestep"))
    band = base.mark_area(opacity=0.2).encode(
        y=alt.Y("p05:Q", title=f"{_label(provenance, metric)}: median, 5-95%"), y2="p95:Q", color=_color(color))
    line = base.mark_line().encode(y="median:Q", color=_color(color))
    pooled = _pooled(frame, provenance, [color, facet])
    return _titled(_finish(band + line, facet), provenance, metric, pooled)


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
    base = alt.Chart(stats).encode(x=alt.X(f"{x}:Q", title=x, scale=scale, axis=alt.Axis(values=ticks, labelAngle=0, format="~g")))
    band = base.mark_area(opacity=0.2).encode(
        y=alt.Y("low:Q", title=f"{_label(provenance, metric)}, mean and 95% CI"), y2="high:Q", color=_color(color))
    line = base.mark_line(point=True).encode(y="mean:Q", color=_color(color), tooltip=[*keys, "mean", "low", "high", "count"])
    pooled = _pooled(frame, provenance, [x, color, facet])
    return _titled(_finish(band + line, facet), provenance, metric, pooled)


def heatmap(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, x: str, y: str,
            facet: str | None = None) -> alt.TopLevelMixin:
    """Mean per-run outcome over a grid of two swept parameters."""
    per_sample = outcomes(frame, provenance)
    keys = [x, y] + ([facet] if facet else [])
    stats = per_sample.groupby(keys)[metric].mean().reset_index()
    chart = alt.Chart(stats).mark_rect().encode(
        x=alt.X(f"{x}:O", title=x),
        y=alt.Y(f"{y}:O", title=y, sort="descending"),
        color=alt.Color(f"{metric}:Q", title=f"mean {metric}"),
        tooltip=[*keys, metric],
    )
    return _titled(_finish(chart, facet), provenance, metric, _pooled(frame, provenance, [x, y, facet]))


def distribution(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str, color: str | None = None,
                 facet: str | None = None) -> alt.TopLevelMixin:
    """Histogram of per-run outcomes, overlaid per ``color``."""
    per_sample = outcomes(frame, provenance)
    chart = alt.Chart(per_sample).mark_bar(opacity=0.6).encode(
        x=alt.X(f"{metric}:Q", bin=alt.Bin(maxbins=30), title=_label(provenance, metric)),
        y=alt.Y("count():Q", stack=None, title="runs"),
        color=_color(color),
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
