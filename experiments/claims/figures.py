"""Figures made for a claim, drawn from its stored record and per-run outcomes.

- :func:`claim_figure`: the metric of the deciding condition against the claim's own x axis
  (``figure = {x, color, facet}`` in the claim, or chosen from the condition: a swept ``range``
  first), one colour per value of a second parameter and one panel per value of a third; every
  other swept parameter is held at the deciding point's value (never averaged over), and the
  caption says so. Points the deciding condition reads are outlined, the deciding point is a
  large diamond, and the value each of them has to pass is drawn (a horizontal rule for a
  numeric threshold; a black tick per point for a parameter threshold, a baseline or a rival).
- :func:`convergence_figure`: the deciding statistic and its 95% interval on the first n samples.
- :func:`dependence_figure`: per parameter that matters, the share of the robustness ensemble
  where the verdict holds, per fifth of its plausible range, with the flip threshold.

Captions carry the provenance and a citation key unique to the figure (model, claim id, content
hash, figure kind) with the repository URL; :func:`bibtex` writes the matching entry.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from tokensim.mechanisms.core import get_model

from ..stats import grouped_intervals

WIDTH, HEIGHT = 460, 260


def citation_key(record: Mapping[str, Any], kind: str) -> str:
    return f"tokensim:{record['model']}:{record['id']}:{record['hash']}:{kind}"


def provenance_text(record: Mapping[str, Any]) -> str:
    prov, spec = record["provenance"], record["spec"]
    fixed = ", ".join(f"{k}={v}" for k, v in spec.get("fixed", {}).items()) or "none"
    more = (f"; deciding points ({record['points_sampled']['deciding']} of {record['points_sampled']['all']}) "
            f"extended to {record['samples']} samples" if record["samples"] != record["base_samples"] else "")
    return (f"Model '{record['model']}' v{record['model_version']}, experiment {record['experiment']}, "
            f"{record['base_samples']} samples per point{more}, {prov['timesteps']} timesteps, seed {prov['seed']}"
            f"{' (common random numbers)' if prov['common_random_numbers'] else ''}; fixed: {fixed}; "
            f"other parameters at model defaults. tokensim {prov['tokensim_version']}, commit "
            f"{str(prov['git_commit'])[:12]}, {prov['created']}.")


def caption(record: Mapping[str, Any], kind: str, what: str) -> str:
    repo = record["provenance"].get("repository") or "repository URL not recorded"
    return f"{what} {provenance_text(record)} Cite as {citation_key(record, kind)} ({repo})."


def bibtex(record: Mapping[str, Any], kind: str, what: str) -> str:
    prov = record["provenance"]
    key = citation_key(record, kind).replace(":", "_")
    return (f"@misc{{{key},\n  title = {{tokensim claim {record['id']}: {what}}},\n"
            f"  author = {{{{tokensim developers}}}},\n  year = {{{str(prov['created'])[:4]}}},\n"
            f"  howpublished = {{{prov.get('repository') or 'tokensim'}}},\n"
            f"  note = {{verdict {record['decision']['verdict']}; model {record['model']} v{record['model_version']}; "
            f"content hash {record['hash']}; commit {prov['git_commit']}}}\n}}\n")


def _title(record: Mapping[str, Any], heading: str, text: str) -> alt.TitleParams:
    return alt.TitleParams(heading, subtitle=_wrap(text, 100), anchor="start", subtitleFontSize=9, subtitleColor="#444")


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


def deciding(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    d = record["decision"]["deciding"]
    cond = record["decision"][d["criterion"]]["conditions"][d["condition"]]
    point = cond["points"][cond["deciding"]] if cond["points"] else {}
    return cond, point


def axes(record: Mapping[str, Any], outcomes: pd.DataFrame) -> tuple[str, str | None, str | None, dict[str, Any]]:
    """x, colour, facet and the values the other swept parameters are held at."""
    swept = list(record["swept"])
    chosen = dict(record.get("figure_axes") or {})
    _cond, point = deciding(record)
    criteria = record["criteria"]
    ranged, listed = [], []
    for side in ("supports", "refutes"):
        for c in criteria.get(side, {}).get("when", []):
            ranged += [k for k in c.get("range", {}) if k in swept]
            listed += [k for k in (c.get("among"), *c.get("baseline", {})) if k in swept]
    x = chosen.get("x") or next((n for n in ranged + swept if outcomes[n].nunique() > 1), swept[0] if swept else None)
    rest = [n for n in swept if n not in (x, chosen.get("facet")) and outcomes[n].nunique() > 1]
    color = chosen.get("color") or (None if "color" in chosen else next((n for n in listed + rest if n in rest), None))
    rest = [n for n in rest if n != color]
    facet = chosen.get("facet") or next((n for n in rest if outcomes[n].nunique() <= 6), None)
    held = {n: (point.get("point") or {}).get(n, outcomes[n].iloc[0]) for n in swept if n not in (x, color, facet)}
    return x, color, facet, held


def _metric(record: Mapping[str, Any]) -> str:
    cond, point = deciding(record)
    return point.get("metric") or cond["metric"].split(" & ")[0]


def claim_frame(record: Mapping[str, Any], outcomes: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per point shown: mean and 95% interval of the deciding metric, whether the deciding
    condition reads it, whether it is the deciding point, and the value it has to pass."""
    x, color, facet, held = axes(record, outcomes)
    metric = _metric(record)
    frame = outcomes
    for name, value in held.items():
        frame = frame[np.isclose(frame[name], value) if isinstance(value, float) else frame[name] == value]
    keys = [k for k in (x, color, facet) if k]
    bounds = get_model(record["model"]).metric(metric).bounds
    stats = grouped_intervals(frame.sort_values(keys, kind="stable"), keys, metric, bounds=bounds)
    cond, point = deciding(record)
    reads = {p["point_id"]: p for p in cond["points"]}
    pid_of = frame.groupby(keys, sort=False)["point_id"].first().reset_index()
    stats = stats.merge(pid_of, on=keys, how="left")
    means = outcomes.groupby("point_id")[metric].mean()
    passes = []
    for pid in stats["point_id"]:
        p = reads.get(pid)
        passes.append(_pass_value(cond, p, metric, means, outcomes) if p else math.nan)
    stats["reads"] = [pid in reads for pid in stats["point_id"]]
    stats["deciding"] = [pid == point.get("point_id") for pid in stats["point_id"]]
    stats["pass_value"] = passes
    stats["state"] = [{True: "passes", False: "fails", None: "undecided"}[reads[pid]["state"]] if pid in reads else "not read"
                      for pid in stats["point_id"]]
    for k in keys:
        stats[k] = stats[k].astype(str) if get_model(record["model"]).schema[k].kind in ("choice", "bool", "text") else stats[k]
    return stats, {"x": x, "color": color, "facet": facet, "held": held, "metric": metric}


def _pass_value(cond: Mapping[str, Any], p: Mapping[str, Any], metric: str, means: pd.Series, outcomes: pd.DataFrame) -> float:
    """The level of ``metric`` the point has to reach: threshold, scaled baseline plus threshold, or the rival's mean."""
    if p.get("metric") not in (None, metric):
        return math.nan
    if p.get("versus") is None:
        return float(p["threshold"]) if p.get("threshold") is not None else math.nan
    match = outcomes
    for k, v in p["versus"].items():
        match = match[np.isclose(match[k], v) if isinstance(v, float) else match[k] == v]
    if match.empty:
        return math.nan
    base = float(means.get(int(match["point_id"].iloc[0]), math.nan))
    if p.get("statistic"):  # a rank condition: the rival's mean
        return base
    return float(p.get("scale", 1.0)) * base + float(p.get("threshold") or 0.0)


def claim_figure(record: Mapping[str, Any], outcomes: pd.DataFrame) -> alt.TopLevelMixin:
    stats, ax = claim_frame(record, outcomes)
    model = get_model(record["model"])
    x, color, facet, metric = ax["x"], ax["color"], ax["facet"], ax["metric"]
    xkind = "N" if model.schema[x].kind in ("choice", "bool", "text") else "Q"
    scale = alt.Scale(type="symlog") if xkind == "Q" and model.schema[x].log_scale and (stats[x] == 0).any() else (
        alt.Scale(type="log") if xkind == "Q" and model.schema[x].log_scale else alt.Scale(zero=False))
    xenc = alt.X(f"{x}:{xkind}", title=x, scale=scale if xkind == "Q" else alt.Undefined,
                 axis=alt.Axis(labelAngle=0, format="~g") if xkind == "Q" else alt.Axis(labelAngle=0))
    col = alt.Color(f"{color}:N", title=color) if color else alt.value("#1f77b4")
    unit = model.metric(metric).unit
    base = alt.Chart().encode(x=xenc)
    band = base.mark_errorbar(ticks=True).encode(y=alt.Y("low:Q", title=f"{metric}{f' ({unit})' if unit else ''}: mean, 95% CI"),
                                                 y2="high:Q", color=col)
    line = base.mark_line(opacity=0.6).encode(y="mean:Q", color=col) if xkind == "Q" else None
    dots = base.mark_point(filled=True, size=40).encode(y="mean:Q", color=col,
                                                        tooltip=[*[k for k in (x, color, facet) if k], "mean", "low", "high", "n", "state"])
    read = base.mark_point(size=160, strokeWidth=2, color="black").encode(y="mean:Q", shape=alt.Shape("state:N", title="condition")
                                                                          ).transform_filter("datum.reads")
    star = base.mark_point(shape="diamond", size=420, strokeWidth=2.5, color="#d62728").encode(y="mean:Q").transform_filter("datum.deciding")
    ticks = base.mark_tick(color="black", thickness=2, size=18).encode(y="pass_value:Q").transform_filter(
        "isValid(datum.pass_value) && datum.reads")
    layers = [band, *( [line] if line is not None else []), dots, read, star, ticks]
    cond, point = deciding(record)
    thr = point.get("threshold")
    if point.get("versus") is None and isinstance(thr, (int, float)) and not isinstance(cond.get("threshold"), str):
        layers.append(alt.Chart().mark_rule(strokeDash=[6, 3], color="black").encode(y=alt.datum(float(thr))))
    chart = alt.layer(*layers, data=stats)
    chart = chart.properties(width=WIDTH // 2 if facet else WIDTH, height=HEIGHT)
    if facet:
        chart = chart.facet(column=alt.Column(f"{facet}:N", title=facet))
    held = "; ".join(f"{k}={v}" for k, v in ax["held"].items())
    what = (f"{record['id']}: {metric} per parameter point (mean, 95% t interval){f', with {held}' if held else ''}. "
            f"Outlined: the points the deciding condition ({cond['key']}) reads, by state; red diamond: the deciding point; "
            f"black ticks and dashed line: the value each has to pass. Verdict: {record['decision']['verdict']}.")
    return chart.properties(title=_title(record, f"{record['id']}: {record['decision']['verdict']}", caption(record, "figure", what)))


def convergence_figure(record: Mapping[str, Any]) -> alt.TopLevelMixin:
    rows = pd.DataFrame(record["convergence"])
    cond, point = deciding(record)
    stat = point.get("statistic") or (f"{point.get('metric')} minus its baseline" if point.get("versus") else point.get("metric"))
    base = alt.Chart(rows).encode(x=alt.X("samples:Q", scale=alt.Scale(type="log"), title="samples per point (first n)",
                                          axis=alt.Axis(format="~g")))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("low:Q", title=f"{stat}: mean, 95% CI"), y2="high:Q")
    line = base.mark_line(point=True).encode(y="mean:Q", tooltip=["samples", "mean", "low", "high", "state"])
    rule = base.mark_line(strokeDash=[6, 3], color="black").encode(y="threshold:Q")
    what = (f"Convergence of the deciding statistic of {record['id']} ({cond['key']}, at "
            f"{', '.join(f'{k}={v}' for k, v in (point.get('point') or {}).items())}) as samples are added; dashed: "
            f"the threshold it is compared with.")
    return (band + line + rule).properties(width=WIDTH, height=HEIGHT // 1.3,
                                           title=_title(record, f"{record['id']}: convergence", caption(record, "convergence", what)))


def dependence_figure(record: Mapping[str, Any]) -> alt.TopLevelMixin | None:
    rob = record["robustness"]
    if rob.get("status") != "assessed" or not rob.get("partial_dependence"):
        return None
    flips = {f["parameter"]: f["threshold"] for f in rob.get("flips", [])}
    panels = []
    shown = [n for n in rob["partial_dependence"] if n in flips] or list(rob["partial_dependence"])[:4]
    for name, bins in ((n, rob["partial_dependence"][n]) for n in shown):
        frame = pd.DataFrame([b for b in bins if b["share"] is not None])
        if frame.empty:
            continue
        base = alt.Chart(frame).encode(x=alt.X("centre:Q", title=name, scale=alt.Scale(zero=False)))
        layer = base.mark_errorbar().encode(y=alt.Y("share_low:Q", title="share where the verdict holds",
                                                    scale=alt.Scale(domain=[0, 1])), y2="share_high:Q")
        layer += base.mark_line(point=True).encode(y="share:Q", tooltip=["low", "high", "n", "share"])
        if name in flips:
            layer += alt.Chart(pd.DataFrame({"t": [flips[name]]})).mark_rule(color="#d62728", strokeDash=[4, 2]).encode(x="t:Q")
        panels.append(layer.properties(width=200, height=160))
    if not panels:
        return None
    what = (f"Robustness of {record['id']}: share of the {rob['n_points']}-point {rob['ensemble_source']} ensemble "
            f"({rob['samples_per_point']} samples at each of {rob['deciding_points']} deciding points) where the verdict "
            f"'{record['decision']['verdict']}' holds, per fifth of each parameter's plausible range (Wilson 95% CI); "
            f"red: the flip threshold.")
    return alt.hconcat(*panels).properties(title=_title(record, f"{record['id']}: what flips it", caption(record, "robustness", what)))


def figures_for(record: Mapping[str, Any], outcomes: pd.DataFrame) -> dict[str, alt.TopLevelMixin]:
    out = {"figure": claim_figure(record, outcomes)}
    if record.get("convergence"):
        out["convergence"] = convergence_figure(record)
    dep = dependence_figure(record)
    if dep is not None:
        out["robustness"] = dep
    return out


WHAT = {"figure": "the deciding metric per parameter point", "convergence": "convergence of the deciding statistic",
        "robustness": "robustness of the verdict"}


def save(chart: alt.TopLevelMixin, stem, formats: Sequence[str] = ("png", "svg")) -> list:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        chart.save(str(path), format=fmt, **({"scale_factor": 1.5} if fmt == "png" else {}))
        paths.append(path)
    return paths
