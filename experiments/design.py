"""Sampled sweep designs: Latin hypercube, Sobol (Saltelli) and Morris, through SALib.

A grid of ``k`` values over ``d`` parameters costs ``k**d`` points; a sampled design spreads a
fixed budget over the whole box instead, and the Sobol and Morris designs are exactly the
samples SALib's analyzers need for a global sensitivity analysis (:mod:`tokensim.experiments.sensitivity`).
A spec uses a ``[design]`` table instead of ``[sweep]``::

    [design]
    method = "sobol"        # "lhs", "sobol" or "morris"
    n = 64                  # lhs: points; sobol: base samples (a power of 2); morris: trajectories
    seed = 1                # optional; default: the spec's seed
    second_order = false    # sobol only: also sample for second-order indices
    num_levels = 4          # morris only: grid levels per parameter

    [design.parameters]
    emission = { low = 10.0, high = 200.0 }
    noise = { low = 0.01, high = 5.0, log = true }   # sampled uniformly in log10

Points: ``n`` (lhs), ``n * (d + 2)`` (sobol; ``n * (2d + 2)`` with ``second_order``) or
``n * (d + 1)`` (morris). Bounds must lie inside the parameter's schema range; ``int``
parameters take integer bounds and sampled values are rounded to the nearest integer (the
analysis then sees a slightly coarsened input). The design is a pure function of the table, so
the same spec gives the same points, and the analysis can rebuild the sample matrix from the
provenance of a result set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

import numpy as np

from tokensim.mechanisms.core import ParameterError, SpecError, get_model
from tokensim.mechanisms.core.errors import shorten

METHODS = ("lhs", "sobol", "morris")
KEYS = {"method", "n", "seed", "parameters", "second_order", "num_levels"}
PARAM_KEYS = {"low", "high", "log"}
MAX_N = 100_000
MAX_POINTS = 1_000_000  # parameter points of one spec, a grid's or a design's


class SpecFields(Protocol):
    """What this module reads of a :class:`~tokensim.experiments.spec.Spec` (spec.py imports this module, not
    the other way round)."""

    model: str
    seed: int
    fixed: Mapping[str, Any]
    design: Mapping[str, Any]
    source: str


@dataclass(frozen=True)
class Design:
    """A validated ``[design]`` table with defaults filled in."""

    method: str
    n: int
    seed: int
    bounds: dict[str, tuple[float, float]]
    log: dict[str, bool]
    second_order: bool = False
    num_levels: int = 4

    @property
    def names(self) -> list[str]:
        return list(self.bounds)

    def problem(self) -> dict[str, Any]:
        """The SALib problem: bounds in the sampled space (log10 for ``log`` parameters)."""
        bounds = [[math.log10(lo), math.log10(hi)] if self.log[n] else [lo, hi] for n, (lo, hi) in self.bounds.items()]
        return {"num_vars": len(self.bounds), "names": self.names, "bounds": bounds}

    def n_points(self) -> int:
        d = len(self.bounds)
        if self.method == "sobol":
            return self.n * (2 * d + 2 if self.second_order else d + 2)
        if self.method == "morris":
            return self.n * (d + 1)
        return self.n

    def matrix(self) -> np.ndarray:
        """The raw SALib sample matrix ``(points, d)`` in the sampled space, before rounding."""
        problem = self.problem()
        if self.method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, self.n, calc_second_order=self.second_order, seed=self.seed)
        if self.method == "morris":
            from SALib.sample import morris

            return morris.sample(problem, self.n, num_levels=self.num_levels, seed=self.seed)
        from SALib.sample import latin

        return latin.sample(problem, self.n, seed=self.seed)


def parse_design(table: Mapping[str, Any], default_seed: int, schema, fixed: Mapping[str, Any] | None = None, source: str = "<spec>") -> Design:
    """Validate a ``[design]`` table against the model's schema; errors name the key."""

    def fail(key: str, message: str) -> SpecError:
        return SpecError(source, f"design{'.' + key if key else ''}", message)

    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(KEYS))}")
    method = table.get("method")
    if method not in METHODS:
        raise fail("method", f"{shorten(method)} should be one of {', '.join(METHODS)}")
    n = _integer(table.get("n"), 1, MAX_N, lambda m: fail("n", m))
    if method == "sobol" and n & (n - 1):
        raise fail("n", f"{n} should be a power of 2 for a Sobol design (e.g. {1 << n.bit_length()})")
    seed = _integer(table.get("seed", default_seed), 0, 2**63 - 1, lambda m: fail("seed", m))
    second_order = table.get("second_order", False)
    if not isinstance(second_order, bool):
        raise fail("second_order", f"{shorten(second_order)} should be true or false")
    if second_order and method != "sobol":
        raise fail("second_order", "only applies to method = \"sobol\"")
    if "num_levels" in table and method != "morris":
        raise fail("num_levels", "only applies to method = \"morris\"")
    num_levels = _integer(table.get("num_levels", 4), 2, 1000, lambda m: fail("num_levels", m))
    if method == "morris" and num_levels % 2:
        raise fail("num_levels", f"{num_levels} should be even (SALib's Morris design uses an even grid)")
    params = table.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise fail("parameters", "a table of at least one parameter = { low = ..., high = ... }")
    if method != "lhs" and len(params) < 2:
        raise fail("parameters", f"a {method} analysis needs at least 2 parameters")
    bounds, log = {}, {}
    for name, entry in params.items():
        bounds[name], log[name] = _bounds(name, entry, schema, fixed or {}, lambda key, m, n=name: fail(f"parameters.{n}{key}", m))
    design = Design(method, n, seed, bounds, log, second_order, num_levels)
    if design.n_points() > MAX_POINTS:
        raise fail("n", f"gives {design.n_points()} parameter points; at most {MAX_POINTS} are allowed")
    return design


def _integer(value: Any, low: int, high: int, fail) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(f"{shorten(value)} should be an integer in [{low}, {high}]")
    return value


def _bounds(name: str, entry: Any, schema, fixed: Mapping[str, Any], fail) -> tuple[tuple[float, float], bool]:
    if name not in schema:
        raise fail("", f"unknown parameter; parameters: {', '.join(schema.names)}")
    param = schema[name]
    if param.kind not in ("float", "int"):
        raise fail("", f"a {param.kind} parameter cannot be sampled; sample float or int parameters")
    if name in fixed:
        raise fail("", "is both fixed and sampled; keep one")
    if not isinstance(entry, Mapping):
        raise fail("", "should be a table { low = ..., high = ... }")
    extra = sorted(set(entry) - PARAM_KEYS)
    if extra:
        raise fail(f".{extra[0]}", f"unknown key; allowed: {', '.join(sorted(PARAM_KEYS))}")
    values = []
    for key in ("low", "high"):
        try:
            values.append(param.validate(entry.get(key)))
        except ParameterError as exc:
            raise fail(f".{key}", str(exc)) from None
    low, high = values
    if not low < high:
        raise fail("", f"low = {low} should be below high = {high}")
    is_log = entry.get("log", False)
    if not isinstance(is_log, bool):
        raise fail(".log", f"{shorten(is_log)} should be true or false")
    if is_log and low <= 0:
        raise fail(".low", f"{low} should be > 0 for a log-scaled parameter")
    return (low, high), is_log


def design_of(spec: SpecFields) -> Design:
    """The :class:`Design` of a spec (or of a spec dict stored in provenance)."""
    schema = get_model(spec.model).schema
    return parse_design(spec.design, spec.seed, schema, spec.fixed, spec.source)


def validate_design(spec: SpecFields) -> None:
    """Raise :class:`SpecError` unless ``spec.design`` is a valid design for its model."""
    design_of(spec)


def design_points(spec: SpecFields) -> list[dict[str, Any]]:
    """The sampled values of each design point, in design order (point id = matrix row)."""
    design = design_of(spec)
    schema = get_model(spec.model).schema
    return values_of(design, design.matrix(), schema)


def values_of(design: Design, matrix: np.ndarray, schema) -> list[dict[str, Any]]:
    """Map sample-space rows to parameter values: undo log10, round ints, stay inside bounds."""
    columns = {}
    for j, name in enumerate(design.names):
        low, high = design.bounds[name]
        x = 10.0 ** matrix[:, j] if design.log[name] else matrix[:, j]
        x = np.clip(x, low, high)
        columns[name] = [int(v) for v in np.rint(x)] if schema[name].kind == "int" else [float(v) for v in x]
    return [{name: columns[name][i] for name in design.names} for i in range(len(matrix))]
