"""Decide a claim from per-run outcomes: three-valued conditions on 95% t intervals, then a verdict.

A condition at one parameter point is *true* when the 95% interval of its statistic (the mean,
or the difference with a baseline or competitor) lies wholly on the passing side of the
threshold, *false* when it lies wholly on the failing side, and *undecided* otherwise. For
``>=`` the passing side includes the threshold itself and for ``>`` it does not, so an interval
that touches the threshold exactly is decided the way the operator says. Points combine by
``over`` and conditions by ``combine`` with three-valued (Kleene) logic: ``all`` is false as soon
as one part is false, ``any`` true as soon as one part is true, ``k`` true with k true parts and
false when fewer than k parts can still become true.

Verdict: *supported* when ``supports`` is true and ``refutes`` is not; *refuted* when ``refutes``
is true; *inconclusive* otherwise, with an estimate of the samples per point that would decide it
(:func:`tokensim.experiments.stats.samples_needed` on the undecided points, assuming their spread stays).

All intervals come from :mod:`tokensim.experiments.stats`: ``mean_interval`` (clipped to the metric's
bounds), ``paired_difference`` under common random numbers (samples matched by index) and
``welch_difference`` otherwise.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..stats import mean_interval, paired_difference, samples_needed, welch_difference
from .criteria import Claim, ClaimError, Condition, Criterion, matches, same

N_MAX = 100_000
Z_CLIP = 10.0


@dataclass(frozen=True)
class Results:
    """Per-run outcomes of an experiment: one row per (point_id, sample) with a column per metric.

    ``points`` holds every point's full parameters by point id; ``swept`` the swept names;
    ``bounds`` each metric's bounds (or None); ``paired`` whether samples share random numbers
    across points (common random numbers), so differences are paired by sample index.
    """

    frame: pd.DataFrame
    points: Sequence[Mapping[str, Any]]
    swept: Sequence[str]
    bounds: Mapping[str, tuple[float, float] | None]
    paired: bool

    def values(self, pid: int, metric: str, max_samples: int | None = None) -> pd.Series:
        rows = self._by_point().get(pid)
        if rows is None:
            return pd.Series([], dtype=float)
        if max_samples is not None:
            rows = rows[rows["sample"] < max_samples]
        return pd.Series(rows[metric].to_numpy(dtype=float), index=rows["sample"].to_numpy())

    def _by_point(self) -> dict[int, pd.DataFrame]:
        cache = self.__dict__.get("_groups")
        if cache is None:
            frame = self.frame.sort_values(["point_id", "sample"], kind="stable")
            cache = {int(k): g for k, g in frame.groupby("point_id", sort=False)}
            object.__setattr__(self, "_groups", cache)
        return cache

    def label(self, pid: int) -> dict[str, Any]:
        return {name: self.points[pid][name] for name in self.swept}


def _state(op: str, low: float, high: float, threshold: float) -> bool | None:
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    if op == ">=":
        return True if low >= threshold else False if high < threshold else None
    if op == ">":
        return True if low > threshold else False if high <= threshold else None
    if op == "<=":
        return True if high <= threshold else False if low > threshold else None
    return True if high < threshold else False if low >= threshold else None


def _margin(op: str, mean: float, threshold: float) -> float:
    return mean - threshold if op in (">", ">=") else threshold - mean


def _finite(x: pd.Series) -> pd.Series:
    return x[np.isfinite(x.to_numpy())]


def _difference(x: pd.Series, b: pd.Series, scale: float, paired: bool) -> tuple[float, float, float, float, int]:
    """``x - scale * b``: (mean, low, high, std of the estimate per sample, n)."""
    if paired:
        joined = pd.concat({"x": x, "b": b}, axis=1, join="inner").dropna()
        mean, low, high = paired_difference(scale * joined["b"].to_numpy(), joined["x"].to_numpy())
        d = joined["x"].to_numpy() - scale * joined["b"].to_numpy()
        return mean, low, high, float(d.std(ddof=1)) if len(d) > 1 else math.nan, len(d)
    x, b = _finite(x), _finite(b)
    if len(x) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan, math.nan, 0
    mean, low, high = welch_difference(scale * b.to_numpy(), x.to_numpy())
    sx = x.std(ddof=1) if len(x) > 1 else math.nan
    sb = b.std(ddof=1) if len(b) > 1 else math.nan
    return mean, low, high, float(math.sqrt(sx**2 + (scale * sb) ** 2)), min(len(x), len(b))


def _matched(results: Results, pid: int, changes: Mapping[str, Any]) -> int | None:
    """The point equal to ``pid`` on every swept parameter except ``changes``, which take those values."""
    target = {**results.label(pid), **changes}
    for other, p in enumerate(results.points):
        if all(same(target[n], p[n]) for n in results.swept):
            return other
    return None


def baseline_options(cond: Condition, results: Results, pid: int) -> list[int]:
    """Baseline points of ``pid``: one per combination of the baseline's listed values, never itself."""
    names = list(cond.baseline)
    options = []
    for combo in itertools.product(*(cond.baseline[n] for n in names)):
        bid = _matched(results, pid, dict(zip(names, combo)))
        if bid is None:
            raise ClaimError("<results>", "?", f"{cond.key}.baseline", f"no point matches {results.label(pid)} with {dict(zip(names, combo))}")
        if bid != pid and bid not in options:
            options.append(bid)
    return options


def _threshold(cond: Condition, results: Results, pid: int) -> float:
    return float(results.points[pid][cond.threshold]) if isinstance(cond.threshold, str) else float(cond.threshold)


def _atom(op: str, threshold: float, mean: float, low: float, high: float, std: float, n: int, **extra) -> dict[str, Any]:
    state = _state(op, low, high, threshold)
    margin = _margin(op, mean, threshold)
    needed = None
    if state is None:
        needed = samples_needed(std, abs(margin), n_max=N_MAX) if math.isfinite(std) and math.isfinite(margin) else N_MAX
    return {"mean": _num(mean), "low": _num(low), "high": _num(high), "std": _num(std), "n": int(n),
            "threshold": threshold, "state": state, "margin": _num(margin), "needed": needed, "z": _z(margin, std), **extra}


def _z(margin: float, std: float) -> float:
    """Margin in standard deviations per run, clipped to +-Z_CLIP (the robustness score)."""
    if not math.isfinite(margin):
        return 0.0
    if not math.isfinite(std) or std <= 0:
        return math.copysign(Z_CLIP, margin) if margin else 0.0
    return float(np.clip(margin / std, -Z_CLIP, Z_CLIP))


def _and(states: Sequence[bool | None]) -> bool | None:
    return count_state(states, "all")


def point_result(cond: Condition, results: Results, pid: int, max_samples: int | None = None) -> dict[str, Any]:
    """The condition at one point: its atoms (one per metric and baseline, each with statistic,
    interval, state, margin and samples needed), the point's state, and the atom that shows it."""
    atoms: list[dict[str, Any]] = []
    if cond.kind == "absolute":
        thr = _threshold(cond, results, pid)
        for metric in cond.metrics:
            x = _finite(results.values(pid, metric, max_samples))
            mean, low, high = mean_interval(x.to_numpy(), bounds=results.bounds.get(metric))
            atoms.append(_atom(cond.op, thr, mean, low, high, float(x.std(ddof=1)) if len(x) > 1 else math.nan, len(x),
                               metric=metric, option=0))
        state = _and([a["state"] for a in atoms])
    elif cond.kind == "relative":
        thr = _threshold(cond, results, pid)
        options = baseline_options(cond, results, pid)
        option_states = []
        for i, bid in enumerate(options):
            mine = []
            for metric in cond.metrics:
                mean, low, high, std, n = _difference(results.values(pid, metric, max_samples),
                                                      results.values(bid, metric, max_samples), cond.scale, results.paired)
                mine.append(_atom(cond.op, thr, mean, low, high, std, n, metric=metric, option=i, versus=results.label(bid)))
            atoms.extend(mine)
            option_states.append(_and([a["state"] for a in mine]))
        state = count_state(option_states, cond.versus) if options else None
    else:
        for metric in cond.metrics:
            atoms.append(_rank_atom(cond, metric, results, pid, max_samples))
        state = _and([a["state"] for a in atoms])
    shown = _shown(atoms, state)
    needed = None
    if state is None:
        pending = [a["needed"] for a in atoms if a["state"] is None and a["needed"] is not None]
        needed = max(pending) if pending else N_MAX
    out = {"point_id": pid, "point": results.label(pid), **{k: v for k, v in shown.items() if k != "state"},
           "state": state, "needed": needed}
    if len(atoms) > 1:
        out["atoms"] = atoms
    return out


def _shown(atoms: Sequence[dict[str, Any]], state: bool | None) -> dict[str, Any]:
    """The atom that shows a point's state: the weakest passing one, the clearest failing one, or
    the undecided one needing most samples."""
    same_state = [a for a in atoms if a["state"] is state] or list(atoms)
    if state is None:
        return max(same_state, key=lambda a: a["needed"] or 0)
    return min(same_state, key=lambda a: a["margin"] if a["margin"] is not None else 0.0)


def _rank_atom(cond: Condition, metric: str, results: Results, pid: int, max_samples: int | None) -> dict[str, Any]:
    """Best among the points that differ only in ``among``: true if better than each on intervals."""
    sign = -1.0 if cond.best == "lowest" else 1.0  # advantage > 0: the point is better
    x = results.values(pid, metric, max_samples)
    own = results.points[pid][cond.among]
    rivals = []
    for other, p in enumerate(results.points):
        if other == pid or same(p[cond.among], own):
            continue
        if not all(same(p[n], results.points[pid][n]) for n in results.swept if n != cond.among):
            continue
        if cond.among in cond.range:
            lo, hi = cond.range[cond.among]
            if not lo <= float(p[cond.among]) <= hi:
                continue
        mean, low, high, std, n = _difference(x, results.values(other, metric, max_samples), 1.0, results.paired)
        lo_m, hi_m = sorted((sign * low, sign * high))
        rivals.append(_atom(">", 0.0, sign * mean, lo_m, hi_m, std, n, metric=metric, versus=results.label(other)))
    if not rivals:
        raise ClaimError("<results>", "?", f"{cond.key}.among", f"no competitor of {results.label(pid)} differs only in {cond.among}")
    state = _and([r["state"] for r in rivals])
    closest = min(rivals, key=lambda r: r["margin"] if r["margin"] is not None else -math.inf)
    pending = [r["needed"] for r in rivals if r["state"] is None and r["needed"] is not None]
    return {**closest, "state": state, "needed": (max(pending) if pending else N_MAX) if state is None else None,
            "statistic": f"{metric} advantage over the closest {cond.among}"}


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def count_state(states: Sequence[bool | None], over: str | int) -> bool | None:
    """Three-valued ``all`` / ``any`` / ``none`` / at-least-k of ``states``."""
    if over == "none":
        flipped = count_state(states, "any")
        return None if flipped is None else not flipped
    k = len(states) if over == "all" else 1 if over == "any" else int(over)
    true, undecided = states.count(True), states.count(None)
    if true >= k:
        return True
    if true + undecided < k:
        return False
    return None


def _needed(parts: Sequence[tuple[bool | None, int | None]], over: str | int) -> int | None:
    """Samples that would decide an undecided aggregate: all undecided parts (all), the easiest
    (any), or the easiest ones still missing for k."""
    true = sum(1 for s, _ in parts if s is True)
    pending = sorted(n if n is not None else N_MAX for s, n in parts if s is None)
    if not pending:
        return None
    if over in ("all", "none"):
        return pending[-1]
    k = 1 if over == "any" else int(over)
    return pending[min(len(pending), max(1, k - true)) - 1]


def _deciding(points: list[dict], state: bool | None, over: str | int) -> int:
    """Index of the point that shows the condition's state: under ``all`` the smallest margin (the
    weakest pass, or the clearest failure), otherwise the largest (the strongest pass, or the
    failure closest to passing); when undecided, the point needing most samples."""
    idx = [i for i, p in enumerate(points) if p["state"] is state]
    if not idx:
        return 0
    margin = [points[i]["margin"] if points[i]["margin"] is not None else 0.0 for i in idx]
    if state is None:
        return idx[int(np.argmax([points[i]["needed"] or 0 for i in idx]))]
    return idx[int(np.argmin(margin))] if over == "all" else idx[int(np.argmax(margin))]


def evaluate_condition(cond: Condition, results: Results, max_samples: int | None = None,
                       index: int = 0) -> dict[str, Any]:
    """The condition at each selected point (a relative condition skips points that are their own
    only baseline), aggregated by ``over``."""
    pids = [i for i, p in enumerate(results.points) if matches(cond, p)]
    if cond.kind == "relative":
        pids = [pid for pid in pids if baseline_options(cond, results, pid)]
    points = [{**point_result(cond, results, pid, max_samples), "member": index, "op": cond.op or ">", "scale": cond.scale}
              for pid in pids]
    state = count_state([p["state"] for p in points], cond.over)
    return {"key": cond.key, "describe": cond.describe(), "label": cond.label, "metric": cond.metric, "kind": cond.kind,
            "op": cond.op, "threshold": cond.threshold, "over": cond.over, "state": state,
            "needed": _needed([(p["state"], p["needed"]) for p in points], cond.over),
            "deciding": _deciding(points, state, cond.over), "points": points}


def _group(name: str, members: Sequence[dict[str, Any]], over: str | int) -> dict[str, Any]:
    """Conditions of one group combined point by point (all must pass at the same point)."""
    by_pid = [{p["point_id"]: p for p in m["points"]} for m in members]
    common = [pid for pid in by_pid[0] if all(pid in b for b in by_pid[1:])]
    points = []
    for pid in common:
        parts = [b[pid] for b in by_pid]
        state = _and([q["state"] for q in parts])
        shown = _shown(parts, state)
        pending = [q["needed"] for q in parts if q["state"] is None and q["needed"] is not None]
        points.append({**{k: v for k, v in shown.items() if k not in ("state", "needed", "atoms")}, "state": state,
                       "needed": (max(pending) if pending else N_MAX) if state is None else None,
                       "parts": [{k: q.get(k) for k in ("metric", "mean", "low", "high", "n", "threshold", "state", "op",
                                                        "versus", "scale")} for q in parts]})
    state = count_state([p["state"] for p in points], over)
    return {"key": f"group {name}", "describe": " and ".join(m["describe"].split(" (")[0] for m in members)
            + f" (at the same point; {over})", "label": "; ".join(m["label"] for m in members if m["label"]),
            "metric": " & ".join(m["metric"] for m in members), "kind": "group", "op": "", "threshold": None,
            "over": over, "state": state, "needed": _needed([(p["state"], p["needed"]) for p in points], over),
            "deciding": _deciding(points, state, over), "points": points, "members": list(members)}


def evaluate_criterion(crit: Criterion, results: Results, max_samples: int | None = None) -> dict[str, Any]:
    """Conditions (groups combined point by point first), combined by ``combine``."""
    evaluated = [evaluate_condition(c, results, max_samples, i) for i, c in enumerate(crit.when)]
    units, seen = [], set()
    for cond, ev in zip(crit.when, evaluated):
        if not cond.group:
            units.append(ev)
        elif cond.group not in seen:
            seen.add(cond.group)
            members = [e for c, e in zip(crit.when, evaluated) if c.group == cond.group]
            units.append(_group(cond.group, members, cond.over))
    state = count_state([u["state"] for u in units], crit.combine)
    return {"combine": crit.combine, "state": state, "needed": _needed([(u["state"], u["needed"]) for u in units], crit.combine),
            "conditions": units}


def decide(claim: Claim, results: Results, max_samples: int | None = None) -> dict[str, Any]:
    """The claim's verdict on ``results`` (optionally on the first ``max_samples`` samples only).

    Returns ``verdict``, the evaluated ``supports`` and ``refutes`` criteria (every condition with
    every point's statistic, interval and state), ``deciding`` (which criterion and condition
    decided, or what is still open) and ``samples_needed`` when inconclusive.
    """
    sup = evaluate_criterion(claim.supports, results, max_samples)
    ref = evaluate_criterion(claim.refutes, results, max_samples)
    if ref["state"] is True:
        verdict, side = "refuted", "refutes"
    elif sup["state"] is True:
        verdict, side = "supported", "supports"
    else:
        verdict, side = "inconclusive", "refutes" if sup["state"] is False and ref["state"] is None else "supports"
    crit = sup if side == "supports" else ref
    wanted = crit["state"]
    cond_idx = next((i for i, c in enumerate(crit["conditions"]) if c["state"] is wanted), 0)
    needed = None
    if verdict == "inconclusive":
        options = [c["needed"] for c in (sup, ref) if c["state"] is None and c["needed"] is not None]
        needed = min(options) if options else None
    return {"verdict": verdict, "supports": sup, "refutes": ref, "samples_needed": needed,
            "neither": sup["state"] is False and ref["state"] is False,
            "deciding": {"criterion": side, "condition": cond_idx},
            "contradiction": sup["state"] is True and ref["state"] is True}


def deciding_condition(decision: Mapping[str, Any]) -> dict[str, Any]:
    d = decision["deciding"]
    return decision[d["criterion"]]["conditions"][d["condition"]]


def deciding_point(decision: Mapping[str, Any]) -> dict[str, Any]:
    cond = deciding_condition(decision)
    return cond["points"][cond["deciding"]] if cond["points"] else {}


def referenced_points(claim: Claim, results: Results) -> list[int]:
    """Every point a verdict reads: selected points, their baselines and their competitors."""
    ids: set[int] = set()
    for cond in claim.conditions():
        for pid, p in enumerate(results.points):
            if not matches(cond, p):
                continue
            ids.add(pid)
            if cond.kind == "relative":
                ids.update(baseline_options(cond, results, pid))
            elif cond.kind == "rank":
                ids.update(o for o, q in enumerate(results.points)
                           if all(same(q[n], p[n]) for n in results.swept if n != cond.among))
    return sorted(ids)


def convergence(claim: Claim, results: Results, decision: Mapping[str, Any], steps: int = 24) -> list[dict[str, Any]]:
    """The deciding statistic (mean and 95% interval at the deciding point) on the first n samples,
    for n from 2 to all samples, about ``steps`` values of n (geometric)."""
    d = decision["deciding"]
    crit = claim.supports if d["criterion"] == "supports" else claim.refutes
    point = deciding_point(decision)
    if not point:
        return []
    cond = crit.when[point["member"]]
    total = int(results.frame["sample"].max()) + 1
    ns = sorted({round(v) for v in np.geomspace(2, total, num=min(steps, max(total - 1, 1)))} | {total}) if total >= 2 else [total]
    out = []
    for n in ns:
        r = point_result(cond, results, point["point_id"], max_samples=n)
        atom = next((a for a in r.get("atoms", [r]) if a.get("metric") == point.get("metric")
                     and a.get("versus") == point.get("versus")), r)
        out.append({"samples": n, "mean": atom["mean"], "low": atom["low"], "high": atom["high"], "state": atom["state"],
                    "threshold": atom["threshold"]})
    return out
