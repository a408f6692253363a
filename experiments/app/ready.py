"""Ready comparisons for the first screen: one per model, from the project's own claims.

For each model, the first claim in ``seeds/claims.toml`` whose experiment sweeps a choice
parameter (a rule or a policy) gives a comparison: one scenario per value of that parameter (at
most six), the experiment's fixed values, its other swept parameters at one value each (the
middle one of a numeric list, the first of a categorical one), and its seed, samples and
timesteps; samples come down when the run would exceed the app's cost limit, and say so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokensim.mechanisms.core import Model

from .claims import experiment_of, load_claims
from .runs import COST_LIMIT, estimate_cost
from .scenarios import Scenario, Settings, scenario_specs

MAX_READY_SCENARIOS = 6


@dataclass(frozen=True)
class Ready:
    claim: str
    experiment: str
    title: str
    varied: str
    scenarios: tuple[Scenario, ...]
    settings: Settings
    note: str


def ready_comparison(model: Model) -> Ready | None:
    for claim in load_claims():
        exp = experiment_of(claim)
        spec = exp.spec
        if spec is None or spec.model != model.name or not spec.sweep:
            continue
        choice = next((n for n in spec.sweep if model.schema[n].kind in ("choice", "bool")), None)
        if choice is None:
            continue
        others: dict[str, Any] = {}
        for name, values in spec.sweep.items():
            if name != choice:
                numeric = model.schema[name].kind in ("int", "float")
                others[name] = values[(len(values) - 1) // 2] if numeric else values[0]
        base = {**model.schema.defaults(), **spec.fixed, **others}
        scenarios = tuple(Scenario(str(v), {**base, choice: v}) for v in spec.sweep[choice][:MAX_READY_SCENARIOS])
        settings = Settings(spec.samples, spec.timesteps, spec.seed, True)
        cost = sum(estimate_cost(s) for s in scenario_specs(model, scenarios, settings))
        note = ""
        if cost > COST_LIMIT:
            samples = max(2, int(spec.samples * COST_LIMIT / cost))
            note = f"samples reduced from {spec.samples} to {samples} to stay within the app's cost limit"
            settings = Settings(samples, spec.timesteps, spec.seed, True)
        held = ", ".join(f"{k} = {v}" for k, v in others.items())
        title = f"{choice}: {', '.join(s.name for s in scenarios)}" + (f" (at {held})" if held else "")
        return Ready(claim["id"], claim["experiment"], title, choice, scenarios, settings, note)
    return None
