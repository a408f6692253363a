"""How a verdict depends on the assumptions behind it: a Morris screen, then a Latin hypercube ensemble.

The parameters screened are the claim's ``robustness`` list, or by default every parameter the
model schema marks ``basis="assumed"`` with a ``plausible`` range that the experiment does not
sweep. A model with none gets no robustness analysis, and the record says so.

1. Morris screen (SALib, through :mod:`tokensim.experiments.design` and :mod:`tokensim.experiments.sensitivity`):
   ``trajectories x (d + 1)`` points over the plausible box; at each the verdict is re-decided on
   the claim's deciding points and reduced to a *score*: the standardized margin of the criterion
   that decided the base verdict (per point ``margin / sd per run``, clipped to +-10, then the
   same all/any/k and combine aggregation as the verdict; positive = that criterion holds).
   Parameters matter when their ``mu_star`` reaches ``MATTER_SHARE`` of the largest, or when a
   Morris step along them changes the verdict (at most ``MAX_ENSEMBLE_PARAMS``, by mu_star).
2. Latin hypercube ensemble over the parameters that matter (the rest stay at the experiment's
   values), re-deciding the verdict at every ensemble point. Reported: the share of the ensemble
   where the verdict holds (Wilson 95% interval) and, for each parameter that flips it, where: the
   single split of that parameter that best separates holding from flipped points (a decision
   stump; its resolution is the gap between the two ensemble values either side of it), with the
   share holding per fifth of the plausible range (a partial-dependence curve).

With a single parameter the Morris step is skipped (SALib needs two) and it goes straight to
the ensemble; when nothing matters the share is read off the Morris points.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..design import parse_design, values_of
from ..stats import proportion_interval
from .criteria import Claim

MATTER_SHARE = 0.1
MAX_ENSEMBLE_PARAMS = 4
MIN_ENSEMBLE = 6
PD_BINS = 5

Evaluate = Callable[[Sequence[Mapping[str, Any]]], list[dict[str, Any]]]


def screened_parameters(claim: Claim, spec) -> tuple[list[str], str]:
    """The assumed parameters to screen and, when there are none, why."""
    from tokensim.mechanisms.core import get_model

    schema = get_model(spec.model).schema
    if claim.robustness is not None:
        return list(claim.robustness), ""
    swept = set(spec.swept_names())
    names = [p.name for p in schema if p.basis == "assumed" and p.plausible is not None and p.name not in swept
             and p.plausible[0] < p.plausible[1]]
    if names:
        return names, ""
    return [], (f"not assessed: model '{spec.model}' marks no assumed parameter with a plausible range "
                "outside this experiment's sweep")


def score(decision: Mapping[str, Any], side: str) -> float:
    """Standardized margin of criterion ``side`` ("supports" or "refutes"); > 0 when it holds."""
    crit = decision[side]
    per_cond = []
    for cond in crit["conditions"]:
        zs = sorted(_z(p) for p in cond["points"])
        if not zs:
            continue
        over = cond["over"]
        per_cond.append(zs[0] if over == "all" else zs[-1] if over == "any" else zs[-min(int(over), len(zs))])
    if not per_cond:
        return 0.0
    return float(min(per_cond) if crit["combine"] == "all" else max(per_cond))


def _z(point: Mapping[str, Any]) -> float:
    return float(point.get("z") or 0.0)


def _design_table(method: str, n: int, seed: int, names: Sequence[str], schema, **extra) -> dict[str, Any]:
    params = {}
    for name in names:
        lo, hi = schema[name].plausible
        params[name] = {"low": lo, "high": hi, **({"log": True} if schema[name].log_scale and lo > 0 else {})}
    return {"method": method, "n": n, "seed": seed, "parameters": params, **extra}


def analyse(claim: Claim, spec, base_verdict: str, evaluate: Evaluate, trajectories: int = 4, levels: int = 4,
            ensemble: int = 32, seed: int = 11, max_points: int | None = None) -> dict[str, Any]:
    """Screen, ensemble and locate flips; ``evaluate(overrides)`` decides the claim at each
    set of parameter overrides. Returns a JSON-ready record.

    ``max_points`` (from the compute budget) bounds the ensemble points: the Latin hypercube gets
    ``min(ensemble, max(MIN_ENSEMBLE, max_points // 2))``, Morris the trajectories that fit in the
    rest (none: the screen is skipped and the ensemble spans every screened parameter); fewer
    than ``MIN_ENSEMBLE`` affordable points and robustness is not assessed, saying why.
    """
    from tokensim.mechanisms.core import get_model

    from ..sensitivity import analyze

    schema = get_model(spec.model).schema
    names, reason = screened_parameters(claim, spec)
    if not names:
        return {"status": "not_assessed", "reason": reason, "parameters": []}
    d = len(names)
    if max_points is not None:
        if max_points < MIN_ENSEMBLE:
            return {"status": "not_assessed", "parameters": names,
                    "reason": (f"not assessed: the budget allows {max_points} ensemble points of the deciding points, "
                               f"fewer than {MIN_ENSEMBLE} (raise --budget or the claim's budget)")}
        ensemble = min(ensemble, max(MIN_ENSEMBLE, max_points // 2))
        trajectories = min(trajectories, (max_points - ensemble) // (d + 1))
    side = "refutes" if base_verdict == "refuted" else "supports"
    fixed = {k: v for k, v in spec.fixed.items() if k not in names}
    record: dict[str, Any] = {"status": "assessed", "parameters": names, "side": side,
                              "plausible": {n: list(schema[n].plausible) for n in names}}
    morris_rows: list[dict[str, Any]] = []
    if d >= 2 and trajectories < 1:
        record["morris"] = {"skipped": f"one Morris trajectory needs {d + 1} points; the budget allows "
                                       f"{max_points} in all, so the ensemble spans all {d} parameters"}
        matter = list(names)
    elif d >= 2:
        design = parse_design(_design_table("morris", trajectories, seed, names, schema, num_levels=levels), seed,
                              schema, fixed, "<robustness>")
        points = values_of(design, design.matrix(), schema)
        decisions = evaluate(points)
        y = np.array([score(d, side) for d in decisions])
        verdicts = [d["verdict"] for d in decisions]
        morris_rows = [{**p, "verdict": v, "score": float(s)} for p, v, s in zip(points, verdicts, y)]
        flipped_along = {names[j] for j in _steps(design.matrix(), verdicts, len(names))}
        if np.ptp(y) > 0:
            table = analyze(y, design, num_resamples=100)
            mu = {r["parameter"]: float(r["mu_star"]) for _, r in table.iterrows()}
            sigma = {r["parameter"]: float(r["sigma"]) for _, r in table.iterrows()}
        else:
            mu, sigma = {n: 0.0 for n in names}, {n: 0.0 for n in names}
        top = max(mu.values()) if mu else 0.0
        matter = [n for n in sorted(names, key=lambda n: -mu[n])
                  if (top > 0 and mu[n] >= MATTER_SHARE * top) or n in flipped_along][:MAX_ENSEMBLE_PARAMS]
        record["morris"] = {"trajectories": trajectories, "levels": levels, "points": len(points),
                            "mu_star": mu, "sigma": sigma, "verdict_changes_along": sorted(flipped_along),
                            "rows": morris_rows}
    else:
        matter = list(names)
    record["matter"] = matter
    if matter:
        design = parse_design(_design_table("lhs", ensemble, seed, matter, schema), seed, schema,
                              {k: v for k, v in spec.fixed.items() if k not in matter}, "<robustness>")
        points = values_of(design, design.matrix(), schema)
        decisions = evaluate(points)
        rows = [{**p, "verdict": d["verdict"], "score": score(d, side)} for p, d in zip(points, decisions)]
        record["ensemble_source"] = "latin hypercube"
    else:
        rows = morris_rows
        record["ensemble_source"] = "Morris"  # no parameter mattered: the screen's own points
    record["ensemble"] = rows
    holds = [r["verdict"] == base_verdict for r in rows]
    share, low, high = proportion_interval(sum(holds), len(holds))
    record.update(share=share, share_low=low, share_high=high, n_points=len(rows),
                  verdicts={v: sum(r["verdict"] == v for r in rows) for v in ("supported", "refuted", "inconclusive")})
    record["flips"] = [f for f in (_flip(n, rows, holds, schema) for n in matter) if f is not None]
    record["partial_dependence"] = {n: _partial_dependence(n, rows, holds, schema) for n in matter}
    return record


def _steps(matrix: np.ndarray, verdicts: Sequence[str], d: int):
    """Index of the parameter moved by each Morris step that changed the verdict."""
    for t in range(len(matrix) // (d + 1)):
        for s in range(d):
            a, b = t * (d + 1) + s, t * (d + 1) + s + 1
            moved = np.flatnonzero(matrix[a] != matrix[b])
            if len(moved) == 1 and verdicts[a] != verdicts[b]:
                yield int(moved[0])


def _flip(name: str, rows: Sequence[Mapping[str, Any]], holds: Sequence[bool], schema) -> dict[str, Any] | None:
    """The best single split of ``name`` separating holding from flipped ensemble points (at least
    two points on each side, at least two flipped or two holding points), if it misclassifies at
    most half of the minority (otherwise the parameter does not flip the verdict)."""
    x = np.array([float(r[name]) for r in rows])
    h = np.array(holds, dtype=bool)
    minority = int(min(h.sum(), (~h).sum()))
    if minority < 2:
        return None
    order = np.argsort(x, kind="stable")
    xs, hs = x[order], h[order]
    best = None
    for i in range(2, len(xs) - 1):  # at least two ensemble points on each side of a split
        if xs[i] == xs[i - 1]:
            continue
        below, above = hs[:i], hs[i:]
        # "holds below the split": errors are flipped points below and holding points above
        for holds_below, errors in ((True, int((~below).sum() + above.sum())), (False, int(below.sum() + (~above).sum()))):
            if best is None or errors < best[0]:
                best = (errors, i, holds_below)
    if best is None or best[0] > minority / 2:
        return None
    errors, i, holds_below = best
    lo_x, hi_x = float(xs[i - 1]), float(xs[i])
    log = schema[name].log_scale and lo_x > 0
    threshold = math.sqrt(lo_x * hi_x) if log else (lo_x + hi_x) / 2
    return {"parameter": name, "threshold": threshold, "between": [lo_x, hi_x], "resolution": hi_x - lo_x,
            "holds": "below" if holds_below else "above", "misclassified": errors, "minority": minority}


def _partial_dependence(name: str, rows: Sequence[Mapping[str, Any]], holds: Sequence[bool], schema) -> list[dict]:
    """Share of ensemble points where the verdict holds, per fifth of the plausible range."""
    lo, hi = schema[name].plausible
    log = schema[name].log_scale and lo > 0
    edges = np.geomspace(lo, hi, PD_BINS + 1) if log else np.linspace(lo, hi, PD_BINS + 1)
    x = np.array([float(r[name]) for r in rows])
    h = np.array(holds, dtype=bool)
    out = []
    for b in range(PD_BINS):
        inside = (x >= edges[b]) & ((x < edges[b + 1]) if b < PD_BINS - 1 else (x <= edges[b + 1]))
        n = int(inside.sum())
        share, low, high = proportion_interval(int(h[inside].sum()), n) if n else (math.nan, math.nan, math.nan)
        centre = math.sqrt(edges[b] * edges[b + 1]) if log else (edges[b] + edges[b + 1]) / 2
        out.append({"low": float(edges[b]), "high": float(edges[b + 1]), "centre": float(centre), "n": n,
                    "share": None if n == 0 else share, "share_low": None if n == 0 else low,
                    "share_high": None if n == 0 else high})
    return out
