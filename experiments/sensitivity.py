"""Global sensitivity analysis of any metric over a Sobol or Morris design, with SALib.

The result set of a spec with a ``[design]`` of method ``sobol`` or ``morris`` (see
:mod:`tokensim.experiments.design`) holds one parameter point per row of SALib's sample matrix. The
analysis reduces each run to its outcome (:func:`tokensim.experiments.summary.outcomes`: the metric's
``summary`` over time), averages the samples of each point (Monte Carlo noise that averaging
does not remove shows up as variance no parameter explains: first-order indices then sum to less
than one), rebuilds the sample matrix from the provenance, and calls the analyzer that matches
the design:

- Sobol (Saltelli 2002/2010 estimators): first-order ``S1`` (share of the outcome's variance due
  to the parameter alone) and total ``ST`` (including all its interactions), each with a
  bootstrap confidence interval.
- Morris elementary effects (Campolongo et al. 2007): ``mu_star`` (mean absolute effect of moving
  the parameter across its range; ranks importance), ``sigma`` (spread of the effects:
  non-linearity or interactions) and ``mu`` (signed mean), in the metric's units per full range.
"""
from __future__ import annotations

from typing import Any, Mapping

import altair as alt
import numpy as np
import pandas as pd

from tokensim.mechanisms.core import TokensimError, get_model

from .design import Design, parse_design
from .figures import HEIGHT, WIDTH, caption
from .summary import outcomes

ANALYSES = ("sobol", "morris")


def design_from_provenance(provenance: Mapping[str, Any]) -> Design:
    """The design that produced a result set, rebuilt from its provenance."""
    spec = provenance["spec"]
    if not spec.get("design"):
        raise TokensimError("these results come from a grid sweep; sensitivity needs a [design] with method \"sobol\" or \"morris\"")
    schema = get_model(provenance["model"]).schema
    design = parse_design(spec["design"], int(provenance["seed"]), schema, spec.get("fixed", {}), provenance.get("spec_source", "<spec>"))
    if design.method not in ANALYSES:
        raise TokensimError(f"a {design.method} design supports no sensitivity analysis; use method \"sobol\" or \"morris\"")
    return design


def point_outcomes(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str) -> np.ndarray:
    """Per-run outcome of ``metric`` averaged over the samples of each point, in point order.

    ``frame`` is either the per-timestep result frame or the per-sample outcomes
    (``RunResult.outcomes``, which has no ``timestep`` column).
    """
    if metric not in frame.columns:
        present = [c for c in frame.columns if c in get_model(provenance["model"]).metric_names]
        raise TokensimError(f"metric '{metric}' is not in these results; present: {', '.join(present)}")
    per_run = frame
    if "timestep" in frame.columns:
        per_run = outcomes(frame[["point_id", *provenance["swept"], "sample", "timestep", metric]], provenance)
    means = per_run.groupby("point_id")[metric].mean()
    n_points = len(provenance["points"])
    return means.reindex(range(n_points)).to_numpy(dtype=float)


def analyze(y: np.ndarray, design: Design, num_resamples: int = 100, conf_level: float = 0.95) -> pd.DataFrame:
    """Sensitivity indices of outputs ``y`` (one per design point) for ``design``.

    Returns one row per parameter: ``S1, S1_conf, ST, ST_conf`` (Sobol) or
    ``mu, mu_star, mu_star_conf, sigma`` (Morris); ``*_conf`` is the half-width of the
    ``conf_level`` bootstrap interval.
    """
    x = design.matrix()
    if y.shape != (len(x),):
        raise TokensimError(f"{y.size} outcomes for a design of {len(x)} points; were the results produced by this design?")
    if not np.all(np.isfinite(y)):
        raise TokensimError(f"{int(np.sum(~np.isfinite(y)))} design points have no finite outcome; is the run complete?")
    if np.ptp(y) == 0:
        raise TokensimError("the metric is the same at every design point; its sensitivity indices are undefined")
    problem = design.problem()
    if design.method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=design.second_order, num_resamples=num_resamples,
                            conf_level=conf_level, seed=design.seed)
        columns = ["S1", "S1_conf", "ST", "ST_conf"]
    else:
        from SALib.analyze import morris

        res = morris.analyze(problem, x, y, num_resamples=num_resamples, conf_level=conf_level,
                             num_levels=design.num_levels, seed=design.seed)
        columns = ["mu", "mu_star", "mu_star_conf", "sigma"]
    table = pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in columns})
    table.insert(0, "parameter", design.names)
    return table


def sensitivity_table(frame: pd.DataFrame, provenance: Mapping[str, Any], metric: str,
                      num_resamples: int = 100, conf_level: float = 0.95) -> pd.DataFrame:
    """Sensitivity indices of ``metric`` from a result set of a Sobol or Morris design
    (``frame``: per-timestep results or per-sample outcomes)."""
    design = design_from_provenance(provenance)
    return analyze(point_outcomes(frame, provenance, metric), design, num_resamples, conf_level)


def sensitivity_figure(table: pd.DataFrame, provenance: Mapping[str, Any], metric: str) -> alt.Chart:
    """Grouped horizontal bars per parameter with confidence intervals: S1 and ST (Sobol) or
    mu* and sigma (Morris)."""
    sobol = "S1" in table.columns
    pairs = [("S1", "S1_conf"), ("ST", "ST_conf")] if sobol else [("mu_star", "mu_star_conf"), ("sigma", None)]
    rows = []
    for _, r in table.iterrows():
        for name, conf in pairs:
            half = float(r[conf]) if conf else 0.0
            rows.append({"parameter": r["parameter"], "index": name, "value": float(r[name]),
                         "low": float(r[name]) - half, "high": float(r[name]) + half})
    long = pd.DataFrame(rows)
    order = list(table.sort_values("ST" if sobol else "mu_star", ascending=False)["parameter"])
    title_x = "Sobol index (share of variance), 95% CI" if sobol else f"Morris effect on {metric} per full range"
    base = alt.Chart(long).encode(
        y=alt.Y("parameter:N", sort=order, title=None),
        yOffset=alt.YOffset("index:N"),
        color=alt.Color("index:N", title=None),
    )
    bars = base.mark_bar().encode(x=alt.X("value:Q", title=title_x), tooltip=["parameter", "index", "value", "low", "high"])
    rules = base.mark_rule().encode(x="low:Q", x2="high:Q", color=alt.value("black"))
    title = provenance.get("title") or provenance.get("model_title") or provenance["model"]
    method = "Sobol indices" if sobol else "Morris screening"
    subtitle = _wrap(f"{method} of {metric}. " + caption(provenance, metric), 95)
    return (bars + rules).properties(
        width=WIDTH, height=max(HEIGHT // 2, 40 * len(table)),
        title=alt.TitleParams(f"{title}: sensitivity of {metric}", subtitle=subtitle, anchor="start",
                              subtitleFontSize=9, subtitleColor="#555"),
    )


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)
