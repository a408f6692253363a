"""Named scenarios of the app: each is a full parameter set of one model.

A comparison of scenarios is written as one comparison spec (:mod:`tokensim.experiments.comparison`) that
``tokensim run`` accepts; each scenario runs as its own single-point spec. With common random
numbers (the default in the app) sample ``i`` of every scenario uses the same random streams, so
scenarios are compared under the same luck and differences are paired.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Mapping, Sequence

from tokensim.mechanisms.core import Model

from ..comparison import check_names, combine, comparison_data, differences, parse_comparison  # noqa: F401 - used by pages
from ..spec import Spec


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


def comparison_spec_dict(model: Model, scenarios: Sequence[Scenario], settings: Settings, baseline: str | None = None) -> dict[str, Any]:
    """The comparison spec (as plain data) of ``scenarios``: what "Download the comparison spec" writes."""
    check_names([s.name for s in scenarios])
    return comparison_data(model, model.title, settings.seed, settings.samples, settings.timesteps,
                           settings.common_random_numbers, [(s.name.strip(), s.values) for s in scenarios], baseline)


def scenario_specs(model: Model, scenarios: Sequence[Scenario], settings: Settings) -> list[Spec]:
    """Validated specs of ``scenarios``, one per scenario; errors name the scenario and the parameter."""
    return list(parse_comparison(comparison_spec_dict(model, scenarios, settings), "scenarios").specs)
