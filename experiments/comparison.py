"""A comparison of named scenarios of one model, as one spec file that ``tokensim run`` accepts.

The app's Scenarios page writes it ("Download the comparison spec"); ``tokensim run`` runs it and
prints and writes the same differences table the app shows::

    model = "governance"
    title = "Token against quadratic voting"
    seed = 7
    samples = 20
    timesteps = 40
    common_random_numbers = true
    baseline = "A"                 # optional; default: the first scenario
    metrics = ["capture_rate"]     # optional; default: every metric

    [fixed]                        # values shared by every scenario
    n_community = 1000

    [scenarios.A]                  # one table per scenario, in order: its own values on top of [fixed]
    rule = "token"

    [scenarios.B]
    rule = "quadratic"

Each scenario runs as its own single-point spec (``fixed`` = the shared values and its own),
exactly as the app runs it, so the numbers agree whatever the chunking. The scenarios' result
sets are combined into one with a ``scenario`` column (playing the part of a swept parameter);
its provenance lists each scenario's own values, which figure captions print.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from tokensim.mechanisms.core import Model, SpecError, get_model
from tokensim.mechanisms.core.errors import TokensimError

from .spec import Spec, parse_spec
from .stats import paired_difference, welch_difference
from .summary import outcomes

SHARED_KEYS = {"model", "title", "description", "claims", "seed", "samples", "timesteps", "metrics",
               "common_random_numbers", "chunk_size", "layout"}
KEYS = SHARED_KEYS | {"fixed", "scenarios", "baseline", "output"}


@dataclass(frozen=True)
class Comparison:
    """A validated comparison: scenario names in order, one spec per scenario, the baseline."""

    names: tuple[str, ...]
    specs: tuple[Spec, ...]
    baseline: str
    output: Path | None = None

    @property
    def model(self) -> Model:
        return get_model(self.specs[0].model)


def is_comparison(data: Any) -> bool:
    """True for a spec table that compares scenarios (it has a ``scenarios`` table)."""
    return isinstance(data, Mapping) and "scenarios" in data


def scenario_spec_data(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The single-point spec (as plain data) that runs scenario ``name`` of comparison ``data``."""
    shared = {k: v for k, v in data.items() if k in SHARED_KEYS}
    title = f"{data.get('title') or data['model']}: scenario {name}"
    fixed = {**dict(data.get("fixed", {})), **dict(data["scenarios"][name])}
    return {**shared, "title": title, **({"fixed": fixed} if fixed else {})}


def parse_comparison(data: Mapping[str, Any], source: str = "<comparison>") -> Comparison:
    """Validate a comparison given as plain data; errors name the source, the key and the scenario."""
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise SpecError(source, unknown[0], f"unknown key in a comparison; allowed keys: {', '.join(sorted(KEYS))}")
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, Mapping) or len(scenarios) < 2:
        raise SpecError(source, "scenarios", "a comparison needs a table of at least two named scenarios")
    for name, values in scenarios.items():
        if not str(name).strip():
            raise SpecError(source, "scenarios", "every scenario needs a name")
        if not isinstance(values, Mapping):
            raise SpecError(source, f"scenarios.{name}", f"{values!r} should be a table of parameter values")
    if not isinstance(data.get("fixed", {}), Mapping):
        raise SpecError(source, "fixed", "should be a table of parameter values")
    names = tuple(str(n) for n in scenarios)
    baseline = data.get("baseline", names[0])
    if baseline not in names:
        raise SpecError(source, "baseline", f"{baseline!r} is not one of the scenarios {', '.join(names)}")
    specs = []
    for name in names:
        try:
            specs.append(parse_spec(scenario_spec_data(data, name), f"{source} [scenario {name}]"))
        except SpecError as exc:  # name the comparison's own keys and what the scenario changed
            own = ", ".join(f"{k} = {v!r}" for k, v in dict(scenarios[name]).items())
            detail = str(exc).split(": key ", 1)[-1].split(": ", 1)[-1]
            raise SpecError(source, f"scenarios.{name}", detail + (f" (scenario {name} sets {own})" if own else "")) from None
    output = data.get("output")
    if output is not None and not isinstance(output, str):
        raise SpecError(source, "output", f"{output!r} should be a string")
    return Comparison(names, tuple(specs), baseline, None if output is None else Path(output))


def comparison_data(model: Model, title: str, seed: int, samples: int, timesteps: int, crn: bool,
                    scenarios: Sequence[tuple[str, Mapping[str, Any]]], baseline: str | None = None) -> dict[str, Any]:
    """A comparison as plain data (what the app writes): values shared by every scenario go to
    ``fixed``, the rest to each scenario's table; values at the model's default are left out."""
    changed = [{p.name: values[p.name] for p in model.schema if p.name in values and values[p.name] != p.default}
               for _, values in scenarios]
    common = {k: v for k, v in changed[0].items() if all(k in c and c[k] == v for c in changed[1:])}
    data: dict[str, Any] = {"model": model.name, "title": title, "seed": seed, "samples": samples,
                            "timesteps": timesteps, "common_random_numbers": crn,
                            "baseline": baseline or scenarios[0][0]}
    if common:
        data["fixed"] = common
    data["scenarios"] = {name: {k: v for k, v in c.items() if k not in common} for (name, _), c in zip(scenarios, changed)}
    return data


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
    title = f"{first['model_title']}: scenarios {', '.join(names)}"
    spec = {**first["spec"], "title": title, "fixed": common, "sweep": {}}
    prov = {
        **first,
        "title": title,
        "spec": spec,
        "spec_source": "tokensim scenario comparison",
        "swept": ["scenario"],
        "points": [dict(p["points"][0], scenario=n) for p, n in zip(provenances, names)],
        "scenarios": {n: {k: v for k, v in f.items() if k not in common} for n, f in zip(names, fixed)},
        "scenario_specs": {n: p["spec"] for n, p in zip(names, provenances)},
        "created": max(str(p["created"]) for p in provenances),
    }
    partial = [f"{n}: {p['partial']}" for n, p in zip(names, provenances) if p.get("partial")]
    if partial:
        prov["partial"] = "; ".join(partial)
    return frame, prov


def differences(frame: pd.DataFrame, provenance: Mapping[str, Any], model: Model, baseline: str, paired: bool) -> pd.DataFrame:
    """Each scenario's per-run outcomes against ``baseline``: difference of means, 95% CI.

    ``paired`` (common random numbers) uses the t interval of the per-sample differences over the
    samples both scenarios have; otherwise Welch's t interval for two independent samples.
    ``reading`` uses the metric's direction (``Metric.better``) only when the interval excludes zero.
    """
    per_run = outcomes(frame, provenance)
    rows = []
    names = list(dict.fromkeys(per_run["scenario"]))
    base = per_run[per_run["scenario"] == baseline].set_index("sample").sort_index()
    for metric in [c for c in per_run.columns if c in model.metric_names]:
        info = model.metric(metric)
        for name in names:
            if name == baseline:
                continue
            other = per_run[per_run["scenario"] == name].set_index("sample").sort_index()
            if paired:  # a partial run may lack some samples of one scenario
                shared = base.index.intersection(other.index)
                a, b = base.loc[shared, metric].to_numpy(float), other.loc[shared, metric].to_numpy(float)
            else:
                a, b = base[metric].to_numpy(float), other[metric].to_numpy(float)
            if len(a) == 0 or len(b) == 0:
                continue
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


def run_comparison(comparison: Comparison, output: Path, chunk_map=None,
                   progress: Callable[[int, int], None] | None = None) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Run every scenario into ``output/scenarios/<i>`` (finished chunks are kept and reused, as
    for any spec), then write the combined ``results.parquet``, ``provenance.json`` and
    ``differences.csv`` to ``output``. Returns the combined frame, its provenance and the table."""
    from .runner import run_spec
    from .storage import write_tables

    total = sum(len(s.points()) * s.samples for s in comparison.specs)
    frames, provs, offset = [], [], 0
    for i, spec in enumerate(comparison.specs):
        def report(done: int, _total: int, offset: int = offset) -> None:
            if progress:
                progress(offset + done, total)

        result = run_spec(spec, chunk_map=chunk_map, progress=report, output=output / "scenarios" / str(i), keep_frame=True)
        frames.append(result.frame)
        provs.append(result.provenance)
        offset += spec.samples
    frame, prov = combine(comparison.names, frames, provs)
    table = differences(frame, prov, comparison.model, comparison.baseline, bool(prov["common_random_numbers"]))
    write_tables([frame], output / "results.parquet", prov)
    (output / "provenance.json").write_text(json.dumps(prov, indent=2, default=str))
    table.to_csv(output / "differences.csv", index=False)
    return frame, prov, table


def check_names(names: Sequence[str]) -> None:
    """Scenario names must be present and distinct (the app's editor checks before building specs)."""
    if any(not n.strip() for n in names):
        raise TokensimError("every scenario needs a name")
    if len(set(n.strip() for n in names)) != len(names):
        raise TokensimError(f"scenario names must differ; got {', '.join(names)}")
    if len(names) < 2:
        raise TokensimError("a comparison needs at least two scenarios")
