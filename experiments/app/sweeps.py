"""Sweeps over one or two parameters, built as ordinary specs (what "copy as spec" writes)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from tokensim.mechanisms.core import Model, Param
from tokensim.mechanisms.core.errors import ParameterError, TokensimError

from .scenarios import Settings, spec_dict

MAX_SWEPT = 2
MAX_VALUES = 50
LOG_DECADES_BELOW, LOG_DECADES_ABOVE = 1, 4  # default log range of a log-scale parameter around its default
FEASIBILITY_GRID = 201  # candidate values tried when a range is cut to what the other parameters allow


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


def scale_range(param: Param) -> tuple[float, float, bool]:
    """A starting range for a numeric parameter from the schema alone, and whether it is a log range.

    The parameter's ``plausible`` range when it has one; for a log-scale parameter one decade below
    to four above the default (identity_cost 10 gives 1-100,000); otherwise each bound when it lies
    within ten times the default's size of the default, else half that size below and twice the
    default above. Always inside the bounds; a log range starts above 0.
    """
    default = float(param.default)
    scale = abs(default) or 1.0
    if param.plausible is not None and param.plausible[0] < param.plausible[1]:
        low, high = map(float, param.plausible)
    elif param.log_scale and default > 0:
        low, high = default / 10**LOG_DECADES_BELOW, default * 10**LOG_DECADES_ABOVE
    else:
        low = default - scale / 2 if param.low is None or default - param.low > 10 * scale else param.low
        high = default + scale if param.high is None or param.high - default > 10 * scale else param.high
    if param.low is not None:
        low = max(low, param.low)
    if param.high is not None:
        high = min(high, param.high)
    log = bool(param.log_scale and high > 0)
    if log and low <= 0:
        low = high / 10 ** (LOG_DECADES_BELOW + LOG_DECADES_ABOVE)
        if param.low is not None:
            low = max(low, param.low)
        log = low > 0
    return float(low), float(high), log


def feasible(model: Model, base: Mapping[str, Any], name: str, value: Any) -> ParameterError | None:
    """None when ``name = value`` passes every check with the other parameters as in ``base``,
    else the model's error."""
    try:
        model.schema.resolve({**base, name: value})
    except ParameterError as exc:
        return exc
    return None


def default_range(param: Param, model: Model | None = None, base: Mapping[str, Any] | None = None) -> tuple[float, float, bool]:
    """:func:`scale_range` cut to the values the model's cross-parameter checks allow with the
    other parameters as in ``base`` (for example whale_share + attacker_share <= 0.95): the
    contiguous feasible stretch of a fine grid that holds the base value."""
    low, high, log = scale_range(param)
    if model is None or base is None:
        return low, high, log
    grid = np.geomspace(low, high, FEASIBILITY_GRID) if log else np.linspace(low, high, FEASIBILITY_GRID)
    cast = (lambda v: int(round(v))) if param.kind == "int" else float
    ok = [feasible(model, base, param.name, cast(v)) is None for v in grid]
    if all(ok) or not any(ok):
        return low, high, log
    anchor = int(np.argmin(np.abs(grid - float(base.get(param.name, param.default)))))
    if not ok[anchor]:
        anchor = ok.index(True)
    lo = hi = anchor
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < len(grid) - 1 and ok[hi + 1]:
        hi += 1

    def edge(inside: float, outside: float) -> float:
        """The feasible value nearest the boundary between ``inside`` and ``outside`` (bisection),
        rounded toward the inside to three, else two, significant digits if that is feasible
        (a bound such as 0.9 may fail the model's own float arithmetic, 0.9 + 0.05 > 0.95)."""
        for _ in range(40):
            middle = cast((inside + outside) / 2)
            if middle in (inside, outside):
                break
            inside, outside = (middle, outside) if feasible(model, base, param.name, middle) is None else (inside, middle)
        for digits in (3, 2):
            if inside == 0:
                break
            unit = 10.0 ** (math.floor(math.log10(abs(inside))) - digits + 1)
            nice = cast((math.floor if outside > inside else math.ceil)(inside / unit) * unit)
            nice = cast(float(f"{nice:.{digits}g}"))
            if feasible(model, base, param.name, nice) is None:
                return float(nice)
        return float(inside)

    start = edge(cast(grid[lo]), cast(grid[lo - 1])) if lo > 0 else float(cast(grid[lo]))
    stop = edge(cast(grid[hi]), cast(grid[hi + 1])) if hi < len(grid) - 1 else float(cast(grid[hi]))
    return start, stop, log


def axis_values(axis: Axis) -> list:
    """The values an axis sweeps (as the spec parser expands a range table)."""
    if axis.values:
        return list(axis.values)
    space = np.geomspace if axis.log else np.linspace
    return [float(v) for v in space(axis.start, axis.stop, axis.num)]


def check_values(model: Model, base: Mapping[str, Any], name: str, values: Sequence[Any], base_name: str, what: str) -> None:
    """Raise an error naming ``name`` (the parameter the user varies) when one of ``values``
    breaks a cross-parameter check with the other parameters as in scenario ``base_name``."""
    for value in values:
        exc = feasible(model, base, name, value)
        if exc is None:
            continue
        param = model.schema[name]
        low, high, _ = default_range(param, model, base)
        shown = f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
        other = "" if exc.name == name else f" together with {exc.name} = {base.get(exc.name)!r} of scenario {base_name}"
        raise TokensimError(
            f"{what} of '{name}': {name} = {shown} is not allowed{other} ({exc}). "
            f"With the other parameters as in scenario {base_name}, '{name}' can range over [{low:g}, {high:g}]."
        )


def sweep_spec_dict(model: Model, base: Mapping[str, Any], axes: Sequence[Axis], settings: Settings, base_name: str) -> dict[str, Any]:
    """The spec (as plain data) of a sweep over ``axes`` around the parameter set ``base``."""
    if not axes:
        raise TokensimError("choose one or two parameters to sweep")
    if len(axes) > MAX_SWEPT:
        raise TokensimError(f"sweep at most {MAX_SWEPT} parameters here; use a spec file for more")
    swept = [a.name for a in axes]
    for axis in axes:
        check_values(model, base, axis.name, axis_values(axis), base_name, "sweep")
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
    (:mod:`tokensim.experiments.design`); ``bounds`` maps each parameter to ``(low, high, log)``."""
    for name, (low, high, log) in bounds.items():
        space = np.geomspace if log and low > 0 else np.linspace
        values = [float(v) for v in space(low, high, 9)]
        check_values(model, base, name, [int(round(v)) for v in values] if model.schema[name].kind == "int" else values,
                     base_name, "sensitivity range")
    parameters = {name: {"low": low, "high": high, **({"log": True} if log else {})} for name, (low, high, log) in bounds.items()}
    design: dict[str, Any] = {"method": method, "n": n, "parameters": parameters}
    if method == "morris":
        design["num_levels"] = num_levels
    title = f"{model.title}: {method} sensitivity of {', '.join(bounds)} (others as scenario {base_name})"
    return spec_dict(model, title, settings, base, bounds, design=design)


SOBOL_TARGET_HALF_WIDTH = 0.05  # a converged index is known to about +/-0.05
SOBOL_WIDE = 0.1


def sobol_warning(table, n: int) -> str | None:
    """Why Sobol indices have not converged (first-order above total, or wide 95% intervals), with
    a suggested number of base samples; None when they look converged.

    The bootstrap half-width shrinks like ``1/sqrt(n)``, so reaching :data:`SOBOL_TARGET_HALF_WIDTH`
    from the widest half-width ``w`` takes about ``n (w / target)^2`` base samples (a power of two).
    """
    if "S1" not in table.columns:
        return None
    above = list(table.loc[table["S1"] > table["ST"], "parameter"])
    widest = float(max(table["S1_conf"].max(), table["ST_conf"].max()))
    if not above and widest <= SOBOL_WIDE:
        return None
    factor = max(4.0, (widest / SOBOL_TARGET_HALF_WIDTH) ** 2)
    suggested = 2 ** int(np.ceil(np.log2(n * factor)))
    reasons = []
    if above:
        reasons.append(f"first-order index S1 exceeds total index ST for {', '.join(map(str, above))} "
                       "(impossible for converged estimates)")
    if widest > SOBOL_WIDE:
        reasons.append(f"95% intervals are as wide as +/-{widest:.2f}")
    return ("These Sobol indices have not converged: " + "; ".join(reasons) + f". Run again with at least {suggested} "
            f"base samples (now {n}); the runs grow in proportion.")
