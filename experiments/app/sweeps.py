"""Sweeps over one or two parameters, built as ordinary specs (what "copy as spec" writes)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from mechanisms.core import Model, Param
from mechanisms.core.errors import TokensimError

from .scenarios import Settings, spec_dict

MAX_SWEPT = 2
MAX_VALUES = 50


@dataclass(frozen=True)
class Axis:
    """The values of one swept parameter: a range ``start..stop`` with ``num`` values (numeric)
    or an explicit list (choice and bool parameters)."""

    name: str
    start: float | None = None
    stop: float | None = None
    num: int = 5
    log: bool = False
    values: tuple = ()

    def spec_value(self) -> Any:
        """The ``[sweep]`` entry: a range table or a list."""
        if self.values:
            return list(self.values)
        table: dict[str, Any] = {"start": self.start, "stop": self.stop, "num": self.num}
        if self.log:
            table["log"] = True
        return table


def sweepable(model: Model) -> list[Param]:
    """Parameters a sweep can vary (text parameters such as file paths cannot)."""
    return [p for p in model.schema if p.kind != "text"]


def default_range(param: Param) -> tuple[float, float]:
    """A starting range for a numeric parameter: each bound when it lies within ten times the
    default's size of the default; otherwise half that size below and twice the default above."""
    default = float(param.default)
    scale = abs(default) or 1.0
    low = default - scale / 2 if param.low is None or default - param.low > 10 * scale else param.low
    high = default + scale if param.high is None or param.high - default > 10 * scale else param.high
    if param.low is not None:
        low = max(low, param.low)
    if param.high is not None:
        high = min(high, param.high)
    return float(low), float(high)


def sweep_spec_dict(model: Model, base: Mapping[str, Any], axes: Sequence[Axis], settings: Settings, base_name: str) -> dict[str, Any]:
    """The spec (as plain data) of a sweep over ``axes`` around the parameter set ``base``."""
    if not axes:
        raise TokensimError("choose one or two parameters to sweep")
    if len(axes) > MAX_SWEPT:
        raise TokensimError(f"sweep at most {MAX_SWEPT} parameters here; use a spec file for more")
    swept = [a.name for a in axes]
    title = f"{model.title}: sweep of {' and '.join(swept)} (others as scenario {base_name})"
    return spec_dict(model, title, settings, base, swept, sweep={a.name: a.spec_value() for a in axes})


def numeric_axis(param: Param, start: float, stop: float, num: int, log: bool) -> Axis:
    """An axis over a numeric parameter; an integer parameter gets its distinct rounded values."""
    if not 2 <= num <= MAX_VALUES:
        raise TokensimError(f"sweep of '{param.name}': number of values {num} should be in [2, {MAX_VALUES}]")
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise TokensimError(f"sweep of '{param.name}': start {start:g} and stop {stop:g} should be finite numbers")
    if not start < stop:
        raise TokensimError(f"sweep of '{param.name}': start {start:g} should be below stop {stop:g}")
    if log and start <= 0:
        raise TokensimError(f"sweep of '{param.name}': a log range needs start > 0, got {start:g}")
    if param.kind != "int":
        return Axis(param.name, float(start), float(stop), int(num), bool(log))
    if log:
        raw = np.geomspace(start, stop, num)
    else:
        raw = np.linspace(start, stop, num)
    return Axis(param.name, values=tuple(sorted({int(v) for v in np.rint(raw)})))


def samplable(model: Model) -> list[Param]:
    """Parameters a sampled design (Latin hypercube, Sobol, Morris) can vary: the numeric ones."""
    return [p for p in model.schema if p.kind in ("int", "float")]


def design_spec_dict(
    model: Model, base: Mapping[str, Any], method: str, n: int, bounds: Mapping[str, tuple[float, float, bool]],
    settings: Settings, base_name: str, num_levels: int = 4,
) -> dict[str, Any]:
    """The spec (as plain data) of a sampled design for a sensitivity analysis
    (:mod:`experiments.design`); ``bounds`` maps each parameter to ``(low, high, log)``."""
    parameters = {name: {"low": low, "high": high, **({"log": True} if log else {})} for name, (low, high, log) in bounds.items()}
    design: dict[str, Any] = {"method": method, "n": n, "parameters": parameters}
    if method == "morris":
        design["num_levels"] = num_levels
    title = f"{model.title}: {method} sensitivity of {', '.join(bounds)} (others as scenario {base_name})"
    return spec_dict(model, title, settings, base, bounds, design=design)
