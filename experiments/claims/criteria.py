"""Structured claim criteria: parse ``seeds/claims.toml`` and check each criterion against its experiment.

The prose ``supports_if`` / ``refutes_if`` of a claim explain; the ``[claim.supports]`` and
``[claim.refutes]`` tables decide. Each holds ``combine`` (``"all"`` or ``"any"``) over a list of
conditions ``[[claim.supports.when]]``; a condition reads one per-run outcome metric at a
selection of the experiment's parameter points (``where``: parameter == value, a list = any of
them; ``range``: an inclusive sub-range of a swept numeric parameter) and compares it in one of
three ways:

- absolute: the point's mean ``op`` ``threshold``;
- relative: ``baseline = {param = value}`` names the matched point (same values of every other
  swept parameter) and the point minus ``scale`` x the baseline is compared with ``threshold``
  (default 0); paired under common random numbers, Welch otherwise;
- rank: ``best = "lowest" | "highest"`` with ``among = param``: the point beats every point that
  differs from it only in ``among``.

``over`` says across how many selected points the condition must hold: ``"all"``, ``"any"`` or
an integer k. Keys added by tokensim beyond the coordination format, documented in
seeds/README.md: ``metric`` may list several metrics (all must pass, against the same baseline);
``baseline`` values may be lists (several baselines) combined by ``versus = "all" | "any"``
(``any``: against the best of them), and a point is never its own baseline; ``threshold`` may name
a numeric parameter (the threshold is its value at the point, e.g. the cartel's stake share);
``over = "none"`` (true when no selected point passes); ``group``: conditions of one criterion
with the same group name are combined point by point (all must pass at the same point) before
the group's ``over`` (its first condition's) is applied; ``label`` (a short text shown with a
condition); and per claim ``max_samples`` (the cap of adaptive sampling), ``budget`` (the
robustness compute for this claim in estimated seconds, for a claim whose ensemble points are
dear; ``--budget`` overrides it),
``figure = {x, color, facet}`` (the axes of the claim's figure) and ``robustness`` (the assumed
parameters to screen).

Every error names the file, the claim id and the key, e.g.
``seeds/claims.toml: claim 'gov-whale-veto': key 'supports.when[0].op': '=>' should be one of <, <=, >, >=``.
"""
from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokensim.mechanisms.core import TokensimError

OPS = ("<", "<=", ">", ">=")
COMBINE = ("all", "any")
BEST = ("lowest", "highest")
CONDITION_KEYS = {"metric", "where", "range", "op", "threshold", "baseline", "scale", "best", "among", "over", "label",
                  "versus", "group"}
VERSUS = ("all", "any")
CRITERION_KEYS = {"combine", "when"}
CLAIM_KEYS = {
    "id", "family", "claim", "source", "also_in", "experiment", "metric", "supports_if", "refutes_if", "notes",
    "supports", "refutes", "robustness", "max_samples", "budget", "figure",
}
FIGURE_KEYS = {"x", "color", "facet"}


class ClaimError(TokensimError, ValueError):
    """A claim's criteria are malformed or do not fit its experiment; names file, claim and key."""

    def __init__(self, source: str, claim: str, key: str, message: str) -> None:
        self.source, self.claim, self.key = source, claim, key
        where = f"{source}: claim '{claim}'" + (f": key '{key}'" if key else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Condition:
    """One machine-checkable condition (see the module docstring for the meaning of each key).

    ``metrics`` has one name, or several that must all pass against the same baseline;
    ``threshold`` is a number or the name of a parameter whose value at the point is the threshold;
    ``baseline`` values are tuples (several = several baselines, combined by ``versus``).
    """

    metrics: tuple[str, ...]
    where: Mapping[str, tuple] = field(default_factory=dict)
    range: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    op: str = ""
    threshold: float | str = 0.0
    baseline: Mapping[str, tuple] = field(default_factory=dict)
    scale: float = 1.0
    best: str = ""
    among: str = ""
    over: str | int = "all"
    versus: str = "all"
    group: str = ""
    label: str = ""
    key: str = ""  # where it was written, e.g. "supports.when[0]", for messages

    @property
    def kind(self) -> str:
        return "rank" if self.best else "relative" if self.baseline else "absolute"

    @property
    def metric(self) -> str:
        return " & ".join(self.metrics)

    def describe(self) -> str:
        """A compact one-line rendering, for tables and captions."""
        sel = ", ".join(f"{k}={_fmt_values(v)}" for k, v in self.where.items())
        rng = ", ".join(f"{k} in [{lo:g}, {hi:g}]" for k, (lo, hi) in self.range.items())
        at = "; ".join(x for x in (sel, rng) if x) or "every point"
        over = {"all": "at every selected point", "any": "at some selected point", "none": "at no selected point"}.get(
            str(self.over), f"at >= {self.over} selected points")
        thr = self.threshold if isinstance(self.threshold, str) else f"{self.threshold:g}"
        if self.kind == "rank":
            test = f"{self.metric} is the {self.best} among {self.among}"
        elif self.kind == "relative":
            base = ", ".join(f"{k}={_fmt_values(v)}" for k, v in self.baseline.items())
            if any(len(v) > 1 for v in self.baseline.values()):
                base += f" ({self.versus} of them)"
            scaled = f"{self.scale:g} x " if self.scale != 1 else ""
            test = f"{self.metric} - {scaled}same at [{base}] {self.op} {thr}"
        else:
            test = f"{self.metric} {self.op} {thr}"
        return f"{test} ({at}; {over})"


@dataclass(frozen=True)
class Criterion:
    """``combine`` (all / any) over conditions."""

    combine: str
    when: tuple[Condition, ...]


@dataclass(frozen=True)
class Claim:
    """A claim of seeds/claims.toml with its parsed criteria; ``raw`` keeps the table as written."""

    id: str
    family: str
    text: str
    experiment: str
    metrics: tuple[str, ...]
    supports_if: str
    refutes_if: str
    supports: Criterion
    refutes: Criterion
    robustness: tuple[str, ...] | None = None
    max_samples: int | None = None
    budget: float | None = None
    figure: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    def conditions(self) -> list[Condition]:
        return [*self.supports.when, *self.refutes.when]

    def criteria_dict(self) -> dict[str, Any]:
        """The machine-checkable part as written (what the verdict's content hash covers)."""
        keys = ("supports", "refutes", "robustness", "max_samples", "budget", "figure", "experiment")
        return {k: self.raw[k] for k in keys if k in self.raw}


def _fmt_values(values: Sequence[Any]) -> str:
    return str(values[0]) if len(values) == 1 else "[" + ", ".join(str(v) for v in values) + "]"


def load_claims(path: str | Path) -> list[Claim]:
    """Read and parse a claims file; errors name the file, the claim and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClaimError(str(path), "", "", f"cannot read file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ClaimError(str(path), "", "", f"not valid TOML: {exc}") from None
    return parse_claims(data, str(path))


def parse_claims(data: Mapping[str, Any], source: str = "<claims>") -> list[Claim]:
    """Parse the ``[[claim]]`` tables of an already-read claims file."""
    tables = data.get("claim", [])
    if not isinstance(tables, list):
        raise ClaimError(source, "", "claim", "should be an array of tables [[claim]]")
    claims, seen = [], set()
    for i, table in enumerate(tables):
        claim = parse_claim(table, source, f"#{i + 1}")
        if claim.id in seen:
            raise ClaimError(source, claim.id, "id", "is used by an earlier claim; ids must be unique")
        seen.add(claim.id)
        claims.append(claim)
    return claims


def parse_claim(table: Mapping[str, Any], source: str = "<claims>", fallback_id: str = "?") -> Claim:
    """Parse one ``[[claim]]`` table (structure only; :func:`check_against` fits it to the experiment)."""
    if not isinstance(table, Mapping):
        raise ClaimError(source, fallback_id, "", "a claim must be a table")
    cid = table.get("id")
    if not isinstance(cid, str) or not cid:
        raise ClaimError(source, fallback_id, "id", "missing or not a string")

    def fail(key: str, message: str) -> ClaimError:
        return ClaimError(source, cid, key, message)

    unknown = sorted(set(table) - CLAIM_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(CLAIM_KEYS))}")
    for key in ("family", "claim", "experiment", "supports_if", "refutes_if"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise fail(key, "missing or not a string")
    metrics = table.get("metric", [])
    metrics = [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise fail("metric", "should be a list of metric names")
    robustness = table.get("robustness")
    if robustness is not None and (not isinstance(robustness, list) or not all(isinstance(p, str) for p in robustness)):
        raise fail("robustness", f"{robustness!r} should be a list of parameter names")
    max_samples = table.get("max_samples")
    if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(max_samples, int)
                                    or not 2 <= max_samples <= 100_000):
        raise fail("max_samples", f"{max_samples!r} should be an integer in [2, 100000]")
    budget = table.get("budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not 1 <= budget <= 100_000):
        raise fail("budget", f"{budget!r} should be a number of estimated seconds in [1, 100000]")
    figure = table.get("figure", {})
    if not isinstance(figure, Mapping):
        raise fail("figure", "should be a table {x = ..., color = ..., facet = ...}")
    extra = sorted(set(figure) - FIGURE_KEYS)
    if extra:
        raise fail(f"figure.{extra[0]}", f"unknown key; allowed: {', '.join(sorted(FIGURE_KEYS))}")
    for k, v in figure.items():
        if not isinstance(v, str):
            raise fail(f"figure.{k}", f"{v!r} should be a parameter name")
    return Claim(
        id=cid, family=table["family"], text=table["claim"], experiment=table["experiment"],
        metrics=tuple(metrics), supports_if=table["supports_if"], refutes_if=table["refutes_if"],
        supports=_criterion(table.get("supports"), "supports", fail),
        refutes=_criterion(table.get("refutes"), "refutes", fail),
        robustness=None if robustness is None else tuple(robustness), max_samples=max_samples,
        budget=None if budget is None else float(budget), figure=dict(figure), notes=str(table.get("notes", "")), raw=table,
    )


def _criterion(table: Any, key: str, fail) -> Criterion:
    if table is None:
        raise fail(key, f"missing; write [claim.{key}] with combine and [[claim.{key}.when]] conditions "
                        "(format in seeds/README.md)")
    if not isinstance(table, Mapping):
        raise fail(key, "should be a table with combine and when")
    unknown = sorted(set(table) - CRITERION_KEYS)
    if unknown:
        raise fail(f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(CRITERION_KEYS))}")
    combine = table.get("combine", "all")
    if combine not in COMBINE:
        raise fail(f"{key}.combine", f"{combine!r} should be one of {', '.join(COMBINE)}")
    when = table.get("when")
    if not isinstance(when, list) or not when:
        raise fail(f"{key}.when", "should be a non-empty array of conditions [[claim." + key + ".when]]")
    return Criterion(combine, tuple(_condition(c, f"{key}.when[{i}]", fail) for i, c in enumerate(when)))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, bool)) or _number(value)


def _condition(table: Any, key: str, fail) -> Condition:
    if not isinstance(table, Mapping):
        raise fail(key, "a condition must be a table")
    unknown = sorted(set(table) - CONDITION_KEYS)
    if unknown:
        raise fail(f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(CONDITION_KEYS))}")
    metric = table.get("metric")
    metrics = [metric] if isinstance(metric, str) else metric
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) and m for m in metrics):
        raise fail(f"{key}.metric", "missing; a metric name or a list of metric names")
    where_raw = table.get("where", {})
    if not isinstance(where_raw, Mapping):
        raise fail(f"{key}.where", "should be a table {parameter = value or [values]}")
    where = {}
    for name, value in where_raw.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(_scalar(v) for v in values):
            raise fail(f"{key}.where.{name}", f"{value!r} should be a value or a non-empty list of values")
        where[name] = tuple(values)
    range_raw = table.get("range", {})
    if not isinstance(range_raw, Mapping):
        raise fail(f"{key}.range", "should be a table {parameter = [low, high]}")
    ranges = {}
    for name, value in range_raw.items():
        if not (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)) or value[0] > value[1]:
            raise fail(f"{key}.range.{name}", f"{value!r} should be [low, high] with low <= high")
        ranges[name] = (float(value[0]), float(value[1]))
    best = table.get("best", "")
    baseline = table.get("baseline", {})
    if best:
        if best not in BEST:
            raise fail(f"{key}.best", f"{best!r} should be one of {', '.join(BEST)}")
        among = table.get("among")
        if not isinstance(among, str) or not among:
            raise fail(f"{key}.among", "missing; a rank condition names the parameter whose values compete")
        for other in ("op", "threshold", "baseline", "scale"):
            if other in table:
                raise fail(f"{key}.{other}", "does not apply to a rank condition (best/among)")
        op, threshold = "", 0.0
    else:
        if "among" in table:
            raise fail(f"{key}.among", "only applies with best = \"lowest\" or \"highest\"")
        among = ""
        op = table.get("op")
        if op not in OPS:
            raise fail(f"{key}.op", f"{op!r} should be one of {', '.join(OPS)}")
        if not isinstance(baseline, Mapping):
            raise fail(f"{key}.baseline", "should be a table {parameter = value}")
        for name, value in baseline.items():
            values = value if isinstance(value, list) else [value]
            if not values or not all(_scalar(v) for v in values):
                raise fail(f"{key}.baseline.{name}", f"{value!r} should be a value or a non-empty list of values")
        baseline = {name: tuple(v if isinstance(v, list) else [v]) for name, v in baseline.items()}
        if "threshold" not in table and not baseline:
            raise fail(f"{key}.threshold", "missing; an absolute condition compares the mean with a threshold")
        threshold = table.get("threshold", 0.0)
        if not (_number(threshold) or (isinstance(threshold, str) and threshold)):
            raise fail(f"{key}.threshold", f"{threshold!r} should be a finite number or a parameter name")
        if "scale" in table and not baseline:
            raise fail(f"{key}.scale", "only applies with a baseline")
    if "versus" in table and not (baseline and any(len(v) > 1 for v in baseline.values())):
        raise fail(f"{key}.versus", "only applies with a baseline listing several values")
    versus = table.get("versus", "all")
    if versus not in VERSUS:
        raise fail(f"{key}.versus", f"{versus!r} should be one of {', '.join(VERSUS)}")
    group = table.get("group", "")
    if not isinstance(group, str):
        raise fail(f"{key}.group", f"{group!r} should be a string")
    scale = table.get("scale", 1.0)
    if not _number(scale):
        raise fail(f"{key}.scale", f"{scale!r} should be a finite number")
    over = table.get("over", "all")
    if not (over in ("all", "any", "none") or (isinstance(over, int) and not isinstance(over, bool) and over >= 1)):
        raise fail(f"{key}.over", f"{over!r} should be \"all\", \"any\", \"none\" or an integer >= 1")
    label = table.get("label", "")
    if not isinstance(label, str):
        raise fail(f"{key}.label", f"{label!r} should be a string")
    return Condition(tuple(metrics), where, ranges, op or "", threshold if isinstance(threshold, str) else float(threshold),
                     baseline, float(scale), best, among, over, versus, group, label, key)


def check_against(claim: Claim, spec, source: str = "<claims>") -> None:
    """Check that every criterion of ``claim`` reads the experiment ``spec`` can give.

    Metrics must be recorded by the spec; ``where`` / ``baseline`` values must be among the
    experiment's points; ``range`` and ``among`` must name swept parameters; the selection of each
    condition must not be empty.
    """
    from tokensim.mechanisms.core import get_model

    model = get_model(spec.model)
    schema = model.schema
    swept = spec.swept_names()
    points = spec.points()

    def fail(key: str, message: str) -> ClaimError:
        return ClaimError(source, claim.id, key, message)

    recorded = spec.metric_names()
    for cond in claim.conditions():
        k = cond.key
        for metric in cond.metrics:
            if metric not in recorded:
                raise fail(f"{k}.metric", f"{metric!r} is not recorded by {claim.experiment}; its metrics: {', '.join(recorded)}")
        if isinstance(cond.threshold, str) and (cond.threshold not in schema or schema[cond.threshold].kind not in ("int", "float")):
            raise fail(f"{k}.threshold", f"{cond.threshold!r} should be a number or a numeric parameter of '{model.name}'")
        for name, values in cond.where.items():
            _check_values(name, values, schema, points, f"{k}.where.{name}", fail)
        for name in cond.range:
            if name not in swept or schema[name].kind not in ("int", "float"):
                raise fail(f"{k}.range.{name}", f"should be a swept numeric parameter; swept: {', '.join(swept) or 'none'}")
        for name, values in cond.baseline.items():
            if name not in swept:
                raise fail(f"{k}.baseline.{name}", f"should be a swept parameter; swept: {', '.join(swept) or 'none'}")
            _check_values(name, values, schema, points, f"{k}.baseline.{name}", fail)
        if cond.among and cond.among not in swept:
            raise fail(f"{k}.among", f"{cond.among!r} should be a swept parameter; swept: {', '.join(swept) or 'none'}")
        if not select(cond, points):
            raise fail(k, "selects no parameter point of the experiment (check where and range)")
        if not isinstance(cond.over, str) and cond.over > len(select(cond, points)):
            raise fail(f"{k}.over", f"{cond.over} is more than the {len(select(cond, points))} points selected")
    for axis, name in claim.figure.items():
        if name not in swept:
            raise fail(f"figure.{axis}", f"{name!r} should be a swept parameter; swept: {', '.join(swept) or 'none'}")
    for name in claim.robustness or ():
        if name not in schema:
            raise fail("robustness", f"unknown parameter {name!r}; parameters: {', '.join(schema.names)}")
        param = schema[name]
        if param.plausible is None:
            raise fail("robustness", f"parameter {name!r} has no plausible range in the model schema")
        if name in swept:
            raise fail("robustness", f"parameter {name!r} is swept by the experiment; screen only unswept ones")


def _check_values(name: str, values: Sequence[Any], schema, points, key: str, fail) -> None:
    if name not in schema:
        raise fail(key, f"unknown parameter; parameters: {', '.join(schema.names)}")
    present = []
    for p in points:
        if p[name] not in present:
            present.append(p[name])
    for v in values:
        if not any(same(v, p) for p in present):
            raise fail(key, f"{v!r} is not a value of {name} in the experiment; values: {', '.join(map(str, present))}")


def same(a: Any, b: Any) -> bool:
    """Parameter values equal (floats to 1e-9 relative, so 0.35 written in TOML matches the sweep's)."""
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def matches(cond: Condition, point: Mapping[str, Any]) -> bool:
    """Whether a parameter point is selected by the condition's ``where`` and ``range``."""
    for name, values in cond.where.items():
        if not any(same(v, point[name]) for v in values):
            return False
    for name, (lo, hi) in cond.range.items():
        x = float(point[name])
        if x < lo - 1e-12 * max(1.0, abs(lo)) or x > hi + 1e-12 * max(1.0, abs(hi)):
            return False
    return True


def select(cond: Condition, points: Sequence[Mapping[str, Any]]) -> list[int]:
    """Ids of the points the condition reads (its own points, not baselines or competitors)."""
    return [i for i, p in enumerate(points) if matches(cond, p)]
