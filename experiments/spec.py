"""Declarative experiment specs (TOML or JSON), parsed as data and validated against the model.

A spec names a model, fixes some parameters, sweeps others, and says how many samples and
timesteps to run with which seed::

    model = "governance"
    title = "How many whales veto a community?"
    seed = 7
    samples = 20
    timesteps = 50
    output = "results/whale_veto"      # relative to the spec file
    metrics = ["capture_rate"]         # optional; default: every metric of the model

    [fixed]
    community_size = 1000

    [sweep]                            # cartesian product, in the order written
    n_whales = [1, 3, 10]
    whale_share = { start = 0.1, stop = 0.5, num = 5 }          # linspace, inclusive
    identity_cost = { start = 1, stop = 1000, num = 4, log = true }  # geometric
    fee = { start = 0.0, stop = 1.0, step = 0.25 }              # arange, stop included

Optional keys: ``description``, ``claims`` (ids in seeds/claims.toml), ``chunk_size`` (samples
per chunk; default: chosen from the model's cost and memory, :func:`tokensim.experiments.runner.auto_chunk_size`), ``layout`` (``packed``, ``per_point`` or ``per_sample``),
``common_random_numbers`` (default false) and a ``[design]`` table for sampled designs (see
:mod:`tokensim.experiments.design`). Every error names the file, the key and what is wrong.

A parameter naming a data file (such as the governance model's ``balances_csv``) resolves
relative to the spec file, like ``output``; the file must be a regular file under the spec's
folder, the project's ``data/`` folder or the app's upload folder, and is read and checked before
anything runs (see :mod:`tokensim.mechanisms.core.datafiles`). A spec file itself is read the same safe way:
a regular file of at most :data:`MAX_SPEC_BYTES` bytes of UTF-8, nested at most :data:`MAX_DEPTH`
levels; numbers must be finite.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from tokensim.mechanisms.core import DataFileError, ParameterError, SpecError, datafiles, get_model
from tokensim.mechanisms.core.errors import TokensimError, clip, shorten

from .design import MAX_POINTS, design_points, validate_design

LAYOUTS = ("packed", "per_point", "per_sample")
COSMETIC = {"cosmetic": True}  # field metadata: a key that does not change the numbers
MAX_RUNS = 10_000_000  # parameter points x samples: the rows the runner plans
MAX_SPEC_BYTES = 1_000_000
MAX_DEPTH = 16  # tables and lists nested deeper than this are refused (a spec needs 4)


@dataclass(frozen=True)
class Spec:
    """A validated experiment. ``sweep`` maps each swept parameter to its list of values.

    The fields are the spec file's keys (all but ``source``, which says where the spec came from);
    :data:`TOP_KEYS` and :data:`RESULT_KEYS` are derived from them, so a key is declared once.
    """

    model: str
    seed: int = 0
    samples: int = 10
    timesteps: int = 100
    fixed: Mapping[str, Any] = field(default_factory=dict)
    sweep: Mapping[str, list] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    title: str = field(default="", metadata=COSMETIC)
    description: str = field(default="", metadata=COSMETIC)
    claims: tuple[str, ...] = field(default=(), metadata=COSMETIC)
    output: Path | None = field(default=None, metadata=COSMETIC)
    chunk_size: int | None = field(default=None, metadata=COSMETIC)  # None: chosen per structural group by the runner
    layout: str = field(default="packed", metadata=COSMETIC)
    common_random_numbers: bool = False
    design: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<spec>"
    folder: Path | None = None  # where relative data-file paths resolve (None: the data folder)

    def swept_names(self) -> list[str]:
        return list(self.design.get("parameters", {})) if self.design else list(self.sweep)

    def points(self) -> list[dict[str, Any]]:
        """Every parameter point as a full, validated parameter dict, in a stable order."""
        schema = get_model(self.model).schema
        if self.design:
            swept = design_points(self)
        else:
            names = list(self.sweep)
            swept = [dict(zip(names, combo)) for combo in itertools.product(*(self.sweep[n] for n in names))]
        return [schema.resolve({**self.fixed, **values}) for values in swept]

    def metric_names(self) -> list[str]:
        return list(self.metrics) or get_model(self.model).metric_names

    def to_dict(self) -> dict[str, Any]:
        """A plain, TOML/JSON-serialisable form that :func:`parse_spec` reads back."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)
                if f.name in TOP_KEYS and not (f.name in ("design", "output", "chunk_size") and not getattr(self, f.name))}

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Spec":
        """The spec with ``overrides`` fixed (they replace any sweep over the same parameters)."""
        schema = get_model(self.model).schema
        fixed = dict(self.fixed)
        for name, value in overrides.items():
            fixed[name] = _param_value(self.source, f"--set {name}", schema, name, value, self.folder)
        sweep = {k: v for k, v in self.sweep.items() if k not in overrides}
        spec = replace(self, fixed=fixed, sweep=sweep)
        spec.points()  # re-run cross-parameter checks
        return spec


TOP_KEYS = frozenset(f.name for f in fields(Spec)) - {"source", "folder"}
RESULT_KEYS = tuple(f.name for f in fields(Spec) if f.name in TOP_KEYS and not f.metadata.get("cosmetic"))
"""The keys that determine a spec's numbers (and the columns stored): what a cache or a staleness check compares."""


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file (``.toml`` or ``.json``); errors name the file and key."""
    path = Path(path)
    spec = parse_spec(read_spec_data(path), str(path), folder=Path(os.path.abspath(path.parent)))
    if spec.output is not None and not spec.output.is_absolute():
        spec = replace(spec, output=Path(os.path.normpath(path.parent / spec.output)))
    return spec


def read_spec_data(path: str | Path) -> dict[str, Any]:
    """A spec file's contents as plain data (TOML or JSON by suffix), read safely: a regular file
    of at most :data:`MAX_SPEC_BYTES`, UTF-8, nested at most :data:`MAX_DEPTH` levels; errors name
    the file."""
    path = Path(path)
    source = str(path)
    try:  # a regular file only (a FIFO is refused at once, never read), at most MAX_SPEC_BYTES
        raw = datafiles.read_bytes(path, MAX_SPEC_BYTES)
    except DataFileError as exc:
        raise SpecError(source, "", str(exc).removeprefix(f"{clip(source)}: ")) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(source, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); "
                        "save the spec as UTF-8") from None
    kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
    try:
        data = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except RecursionError:
        raise SpecError(source, "", f"not valid {kind}: nested too deeply; allowed: at most {MAX_DEPTH} levels") from None
    except ValueError as exc:  # TOMLDecodeError, JSONDecodeError, an integer of over 4300 digits
        raise SpecError(source, "", f"not valid {kind}: {clip(str(exc), 160)}") from None
    return data


def parse_spec(data: Mapping[str, Any], source: str = "<spec>", folder: Path | None = None) -> Spec:
    """Validate a spec given as a mapping (already parsed from TOML/JSON or built by the app).

    ``folder`` is the spec file's folder: relative data-file paths resolve against it (``None``:
    against the project's data folder; see :mod:`tokensim.mechanisms.core.datafiles`).
    """
    if not isinstance(data, Mapping):
        raise SpecError(source, "", "a spec must be a table of keys")
    _check_depth(source, data)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise SpecError(source, unknown[0] or "\"\"", f"unknown key; allowed keys: {', '.join(sorted(TOP_KEYS))}")
    if "model" not in data:
        raise SpecError(source, "model", "missing; every spec names the model it runs")
    try:
        model = get_model(_typed(source, "model", data["model"], str))
    except TokensimError as exc:
        raise SpecError(source, "model", str(exc)) from None
    schema = model.schema

    def integer(key: str, default: int, low: int, high: int) -> int:
        value = _typed(source, key, data.get(key, default), int)
        if not low <= value <= high:
            raise SpecError(source, key, f"{value} is out of range; allowed: an integer in [{low}, {high}]")
        return value

    fixed_raw = _typed(source, "fixed", data.get("fixed", {}), dict)
    fixed = {name: _param_value(source, f"fixed.{name}", schema, name, value, folder) for name, value in fixed_raw.items()}
    sweep_raw = _typed(source, "sweep", data.get("sweep", {}), dict)
    sweep = {name: _sweep_values(source, f"sweep.{name}", schema, name, value, folder) for name, value in sweep_raw.items()}
    both = sorted(set(fixed) & set(sweep))
    if both:
        raise SpecError(source, f"sweep.{both[0]}", "is both fixed and swept; keep one")
    metrics = _strings(source, "metrics", data.get("metrics", []))
    for i, name in enumerate(metrics):
        if name not in model.metric_names:
            raise SpecError(source, f"metrics[{i}]", f"unknown metric {shorten(name)}; metrics of '{model.name}': {', '.join(model.metric_names)}")
    layout = _typed(source, "layout", data.get("layout", "packed"), str)
    if layout not in LAYOUTS:
        raise SpecError(source, "layout", f"{shorten(layout)} is not one of {', '.join(LAYOUTS)}")
    output = data.get("output")
    if output is not None and ("\x00" in _typed(source, "output", output, str) or len(output) > 4096):
        raise SpecError(source, "output", f"{shorten(output)} is not a folder name; allowed: a path of at most 4096 "
                        "characters without NUL")
    spec = Spec(
        model=model.name,
        seed=integer("seed", 0, 0, 2**63 - 1),
        samples=integer("samples", 10, 1, 100_000),
        timesteps=integer("timesteps", 100, 1, 100_000),
        fixed=fixed,
        sweep=sweep,
        metrics=metrics,
        title=_typed(source, "title", data.get("title", ""), str),
        description=_typed(source, "description", data.get("description", ""), str),
        claims=_strings(source, "claims", data.get("claims", [])),
        output=None if output is None else Path(_typed(source, "output", output, str)),
        chunk_size=integer("chunk_size", 1, 1, 10_000_000) if "chunk_size" in data else None,
        layout=layout,
        common_random_numbers=_typed(source, "common_random_numbers", data.get("common_random_numbers", False), bool),
        design=_typed(source, "design", data.get("design", {}), dict),
        source=source,
        folder=folder,
    )
    if spec.design:
        if spec.sweep:
            raise SpecError(source, "design", "use either [sweep] or [design], not both")
        validate_design(spec)
    n_points = math.prod(len(v) for v in sweep.values())
    if n_points > MAX_POINTS:
        raise SpecError(source, "sweep", f"{n_points} parameter points; at most {MAX_POINTS} are allowed")
    if spec.design:
        from .design import design_of

        n_points = design_of(spec).n_points()
    if n_points * spec.samples > MAX_RUNS:
        raise SpecError(source, "samples", f"{spec.samples} samples x {n_points} parameter points = "
                        f"{n_points * spec.samples} runs; allowed: at most {MAX_RUNS} (fewer samples or points)")
    try:
        spec.points()
    except ParameterError as exc:
        raise SpecError(source, "fixed" if exc.name in fixed else f"sweep.{exc.name}", str(exc)) from None
    return spec


def _plain(value: Any) -> Any:
    """``value`` as TOML/JSON data: paths as strings, tuples as lists, mappings copied."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _typed(source: str, key: str, value: Any, kind: type) -> Any:
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        names = {int: "an integer", str: "a string", list: "a list", dict: "a table", bool: "true or false"}
        raise SpecError(source, key, f"{shorten(value)} should be {names[kind]}")
    return value


def _strings(source: str, key: str, value: Any) -> tuple[str, ...]:
    for i, item in enumerate(_typed(source, key, value, list)):
        _typed(source, f"{key}[{i}]", item, str)
    return tuple(value)


def _check_depth(source: str, data: Any) -> None:
    """Refuse tables and lists nested deeper than :data:`MAX_DEPTH` (checked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SpecError(source, "", f"nested too deeply; allowed: at most {MAX_DEPTH} levels of tables and lists")
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _param_value(source: str, key: str, schema, name: str, value: Any, folder: Path | None = None) -> Any:
    try:
        param = schema[name]
        value = param.validate(value)
        if param.loader is not None and value:
            path = str(datafiles.resolve(value, folder))
            param.loader(path)  # the model's own checks of the file's content, before anything runs
            value = path
        return value
    except (ParameterError, DataFileError) as exc:
        raise SpecError(source, key, str(exc)) from None


def _sweep_values(source: str, key: str, schema, name: str, value: Any, folder: Path | None = None) -> list:
    if isinstance(value, list):
        values = value
    elif isinstance(value, dict):
        values = _range_values(source, key, value)
    else:
        raise SpecError(source, key, "a swept parameter takes a list of values or a range table {start, stop, num|step}")
    if not values:
        raise SpecError(source, key, "no values to sweep")
    param = schema[name] if name in schema else None
    if param is None:
        raise SpecError(source, key, f"unknown parameter; parameters: {', '.join(schema.names)}")
    out = []
    for i, v in enumerate(values):
        if param.kind == "int" and isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(_param_value(source, f"{key}[{i}]", schema, name, v, folder))
    return out


def _range_values(source: str, key: str, table: dict) -> list:
    allowed = {"start", "stop", "num", "step", "log"}
    extra = sorted(set(table) - allowed)
    if extra:
        raise SpecError(source, f"{key}.{extra[0]}", f"unknown range key; allowed: {', '.join(sorted(allowed))}")
    start, stop = (_finite(source, f"{key}.{k}", table.get(k)) for k in ("start", "stop"))
    if ("num" in table) == ("step" in table):
        raise SpecError(source, key, "give exactly one of 'num' or 'step'")
    log = _typed(source, f"{key}.log", table.get("log", False), bool)
    if "num" in table:
        num = table["num"]
        if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= 100_000:
            raise SpecError(source, f"{key}.num", f"{shorten(num)} should be an integer in [1, 100000]")
        if log:
            if start <= 0 or stop <= 0:
                raise SpecError(source, key, "a log range needs start and stop > 0")
            values = np.geomspace(start, stop, num)
        else:
            values = np.linspace(start, stop, num)
    else:
        if log:
            raise SpecError(source, f"{key}.log", "a log range takes 'num', not 'step'")
        step = _finite(source, f"{key}.step", table["step"])
        if step <= 0:
            raise SpecError(source, f"{key}.step", f"{shorten(table['step'])} should be a finite number > 0")
        count = math.floor((stop - start) / step + 1e-9) + 1 if math.isfinite((stop - start) / step) else 0
        if count < 1 or count > 100_000:
            raise SpecError(source, key, f"range gives {float(count):.6g} values; allowed 1 to 100000")
        values = start + step * np.arange(count)
    return [round(float(v), 12) for v in values]


def _finite(source: str, key: str, value: Any) -> float:
    """``value`` as a finite float, or a :class:`SpecError` naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(source, key, f"{shorten(value)} is missing or not a number; allowed: a finite number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise SpecError(source, key, f"{shorten(value)} is not allowed; allowed: a finite number")
    return number
