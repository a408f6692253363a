"""Named scenarios: each is a full parameter set of one model, run as its own spec.

A scenario becomes a spec that fixes the parameters that differ from the model's defaults, so
"copy as spec" gives exactly what ``tokensim run`` needs to reproduce it. With common random
numbers (the default in the app) sample ``i`` of every scenario uses the same random streams,
so scenarios are compared under the same luck and differences are paired.

The scenarios' result sets are combined into one, with a ``scenario`` column playing the part of
a swept parameter; its provenance lists each scenario's own parameters (``scenarios``), which the
figure caption prints. Written to Parquet, ``tokensim plot`` reads it like any result set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from mechanisms.core import Model
from mechanisms.core.errors import TokensimError

from ..spec import Spec, parse_spec
from ..stats import paired_difference, welch_difference
from ..summary import outcomes


@dataclass(frozen=True)
class Settings:
    """How every scenario is run."""

    samples: int
    timesteps: int
    seed: int
    common_random_numbers: bool = True


@dataclass(frozen=True)
class Scenario:
    """A named parameter set (values for every schema parameter, as the widgets gave them)."""

    name: str
    values: Mapping[str, Any]


def non_defaults(model: Model, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that differ from the schema's defaults, in schema order."""
    return {p.name: values[p.name] for p in model.schema if p.name in values and values[p.name] != p.default}


def spec_dict(model: Model, title: str, settings: Settings, values: Mapping[str, Any], varied: Collection[str] = (),
              **tables: Any) -> dict[str, Any]:
    """A spec as plain data (what "copy as spec" writes): ``settings``, the ``tables`` given
    (``sweep`` or ``design``), and as ``fixed`` the ``values`` that differ from the defaults,
    except those of the ``varied`` parameters."""
    data: dict[str, Any] = {
        "model": model.name,
        "title": title,
        "seed": settings.seed,
        "samples": settings.samples,
        "timesteps": settings.timesteps,
        "common_random_numbers": settings.common_random_numbers,
        **tables,
    }
    fixed = {k: v for k, v in non_defaults(model, values).items() if k not in varied}
    if fixed:
        data["fixed"] = fixed
    return data


def scenario_spec_dict(model: Model, scenario: Scenario, settings: Settings) -> dict[str, Any]:
    """The spec (as plain data) that runs ``scenario``."""
    return spec_dict(model, f"{model.title}: scenario {scenario.name}", settings, scenario.values)


def scenario_specs(model: Model, scenarios: Sequence[Scenario], settings: Settings) -> list[Spec]:
    """Validated specs of ``scenarios``; errors name the scenario and the parameter."""
    names = [s.name.strip() for s in scenarios]
    if any(not n for n in names):
        raise TokensimError("every scenario needs a name")
    if len(set(names)) != len(names):
        raise TokensimError(f"scenario names must differ; got {', '.join(names)}")
    if len(scenarios) < 2:
        raise TokensimError("a comparison needs at least two scenarios")
    return [parse_spec(scenario_spec_dict(model, s, settings), f"scenario '{s.name}'") for s in scenarios]


def combine(names: Sequence[str], frames: Sequence[pd.DataFrame], provenances: Sequence[Mapping[str, Any]]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One result set of several single-point scenario runs: ``point_id`` is the scenario index
    and a ``scenario`` column names it."""
    parts = []
    for i, (name, frame) in enumerate(zip(names, frames)):
        part = frame.assign(point_id=i)
        part.insert(1, "scenario", name)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    fixed = [dict(p["spec"].get("fixed", {})) for p in provenances]
    common = {k: v for k, v in fixed[0].items() if all(k in f and f[k] == v for f in fixed[1:])}
    first = provenances[0]
    spec = {**first["spec"], "title": _title(first, names), "fixed": common, "sweep": {}}
    prov = {
        **first,
        "title": spec["title"],
        "spec": spec,
        "spec_source": "tokensim app: scenario comparison",
        "swept": ["scenario"],
        "points": [dict(p["points"][0], scenario=n) for p, n in zip(provenances, names)],
        "scenarios": {n: {k: v for k, v in f.items() if k not in common} for n, f in zip(names, fixed)},
        "scenario_specs": {n: p["spec"] for n, p in zip(names, provenances)},
        "created": max(str(p["created"]) for p in provenances),
    }
    return frame, prov


def _title(provenance: Mapping[str, Any], names: Sequence[str]) -> str:
    return f"{provenance['model_title']}: scenarios {', '.join(names)}"


def differences(frame: pd.DataFrame, provenance: Mapping[str, Any], model: Model, baseline: str, paired: bool) -> pd.DataFrame:
    """Each scenario's per-run outcomes against ``baseline``: difference of means, 95% CI.

    ``paired`` (common random numbers) uses the t interval of the per-sample differences;
    otherwise Welch's t interval for two independent samples. ``better`` reads the direction of
    the metric (``Metric.better``) only when the interval excludes zero.
    """
    per_run = outcomes(frame, provenance)
    rows = []
    names = list(dict.fromkeys(per_run["scenario"]))
    base = per_run[per_run["scenario"] == baseline].sort_values("sample")
    for metric in [c for c in per_run.columns if c in model.metric_names]:
        info = model.metric(metric)
        for name in names:
            if name == baseline:
                continue
            other = per_run[per_run["scenario"] == name].sort_values("sample")
            a, b = base[metric].to_numpy(float), other[metric].to_numpy(float)
            diff, low, high = (paired_difference if paired else welch_difference)(a, b)
            rows.append({
                "metric": metric, "scenario": name, "difference": diff, "ci95 low": low, "ci95 high": high,
                "reading": _reading(low, high, info.better), "baseline mean": a.mean(), "scenario mean": b.mean(),
                "relative difference": diff / abs(a.mean()) if a.mean() != 0 else math.nan, "unit": info.unit,
                "baseline": baseline, "n": min(len(a), len(b)), "method": "paired t" if paired else "Welch t",
            })
    return pd.DataFrame(rows)


def _reading(low: float, high: float, better: str) -> str:
    if math.isnan(low):
        return "needs 2+ samples"
    if low <= 0 <= high:
        return "no clear difference"
    higher = low > 0
    if not better:
        return "higher" if higher else "lower"
    good = higher == (better == "higher")
    return f"{'higher' if higher else 'lower'} ({'better' if good else 'worse'})"
