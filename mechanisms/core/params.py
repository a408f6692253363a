"""Parameter schema: the single source of truth for every model parameter.

Each model declares a :class:`Schema` of :class:`Param`. The CLI (``--set``), TOML specs and the
Streamlit widgets are all generated from and validated by it, so defaults, bounds, units and help
texts are written exactly once.

A parameter is *structural* when it changes array shapes or code paths (counts of agents, a choice
of rule). The runner only batches together parameter points whose structural values agree, so
inside a batch structural parameters are plain Python scalars while the others are arrays of
shape ``(B,)`` (one value per sample in the batch).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .errors import ParameterError

KINDS = ("float", "int", "bool", "choice", "text")
BASES = ("calibrated", "assumed", "setting")
MAX_TEXT = 4096
# A number on the command line: ASCII digits only (no '1_000', no other scripts' digits, no 'nan').
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
GROUPS = ("population", "behaviour", "mechanism", "attacker")
# Name fragments that place a parameter without an explicit group (first match wins, in this order).
_GROUP_HINTS = (
    ("attacker", ("attack", "sybil", "identity", "identities", "personhood", "cartel", "slash_detected")),
    ("mechanism", ("rule", "policy", "quorum", "threshold", "veto", "conviction", "delegat", "reward", "emission",
                   "slash", "gold", "stake_required", "kappa", "bond", "validator_take", "pid_", "target", "rate_",
                   "burn", "fixed_rate", "halving", "team_", "gov_", "learning", "cem_", "train_")),
    ("population", ("share", "balance", "supply", "dist", "skill", "difficulty", "holders", "initial", "price")),
)


def group_of(param: "Param") -> str:
    """``param.group``, or the group its name suggests (behaviour when nothing matches)."""
    if param.group:
        return param.group
    name = param.name.lower()
    if name.startswith("n_") and not any(h in name for h in _GROUP_HINTS[0][1]):
        return "population"
    for group, hints in _GROUP_HINTS:
        if any(h in name for h in hints):
            return group
    return "behaviour"


@dataclass(frozen=True)
class Param:
    """One model parameter: name, default, type, bounds, unit and a one-line description.

    ``low``/``high`` are inclusive bounds for numeric kinds (``None`` for unbounded); ``choices``
    lists the allowed values of a ``choice`` parameter. A ``text`` parameter holds a short string
    such as a data file path (the model validates its content; it is never evaluated).
    ``structural`` is forced on for ``choice``, ``bool`` and ``text`` parameters. A ``text``
    parameter with a ``loader`` names a data file: specs resolve it relative to the spec file and
    check it with :mod:`tokensim.mechanisms.core.datafiles`, the loader (``loader(path)`` reads and validates
    the file, raising :class:`~tokensim.mechanisms.core.errors.DataFileError`) is called before any run,
    and the file's content hash goes into the chunk ids; an empty value means "no file".

    ``basis`` says where the default comes from: ``"calibrated"`` (then ``source`` names the
    published figure or data file it was fitted to) or ``"assumed"`` (then ``plausible`` gives the
    ``(low, high)`` range a referee would accept, which the claims engine varies to test a verdict's
    robustness). ``"setting"`` marks a parameter that is a choice of the experiment, not an
    assumption about the world (a rule, a horizon, a population size fixed by the question).

    ``group`` sorts the parameter into one of :data:`GROUPS` for the app's pickers; unset, it is
    derived from the name (:func:`group_of`).
    """

    name: str
    default: Any
    description: str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()
    structural: bool = False
    log_scale: bool = False
    basis: str = "assumed"
    source: str = ""
    plausible: tuple[float, float] | None = None
    loader: Callable[[str], Any] | None = None
    group: str = ""

    def __post_init__(self) -> None:
        if self.group and self.group not in GROUPS:
            raise ValueError(f"Param {self.name}: group must be one of {GROUPS}")
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name}: kind must be one of {KINDS}")
        if self.basis not in BASES:
            raise ValueError(f"Param {self.name}: basis must be one of {BASES}")
        if self.basis == "calibrated" and not self.source:
            raise ValueError(f"Param {self.name}: a calibrated parameter needs a source")
        if self.plausible is not None:
            if self.kind not in ("float", "int"):
                raise ValueError(f"Param {self.name}: only numeric parameters have a plausible range")
            lo, hi = self.plausible
            self.validate(lo), self.validate(hi)
            if lo > hi:
                raise ValueError(f"Param {self.name}: plausible range {self.plausible} is reversed")
        if self.loader is not None and self.kind != "text":
            raise ValueError(f"Param {self.name}: only a text parameter can name a data file")
        if self.kind in ("choice", "bool", "text"):
            object.__setattr__(self, "structural", True)
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Param {self.name}: a choice parameter needs choices")
        self.validate(self.default)  # a schema with a bad default is a programming error

    @property
    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return f"a string of at most {MAX_TEXT} characters"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} in [{lo}, {hi}]" + (f" ({self.unit})" if self.unit else "")

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise :class:`ParameterError`."""
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParameterError(self.name, value, self.allowed)
            return value
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParameterError(self.name, value, self.allowed)
        if self.kind == "text":
            if isinstance(value, str) and len(value) <= MAX_TEXT:
                return value
            raise ParameterError(self.name, value, self.allowed)
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_numpy_number(value):
            raise ParameterError(self.name, value, self.allowed, "not a number")
        if _is_numpy_number(value):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(self.name, value, self.allowed, "not finite")
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ParameterError(self.name, value, self.allowed, "not an integer")
            value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an integer beyond the float range
                raise ParameterError(self.name, value, self.allowed, "not finite") from None
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ParameterError(self.name, value, self.allowed, "out of range")
        return value

    def parse(self, text: str) -> Any:
        """Parse a command-line string (``--set name=value``) and validate it."""
        text = text.strip()
        if self.kind in ("choice", "text"):
            return self.validate(text)
        if self.kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ParameterError(self.name, text, self.allowed)
        if len(text) > 40 or not NUMBER.fullmatch(text):
            raise ParameterError(self.name, text, self.allowed, "not a number: write digits 0-9 as in 1000, 0.5 or 1e6")
        return self.validate(int(text) if self.kind == "int" and text.lstrip("+-").isdigit() else float(text))


def _is_numpy_number(value: Any) -> bool:
    import numpy as np

    return isinstance(value, np.number) and not isinstance(value, np.bool_)


@dataclass(frozen=True)
class Schema:
    """An ordered collection of :class:`Param` plus cross-parameter checks.

    ``checks`` are callables taking the full resolved parameter dict and returning ``None`` when
    it is consistent, or raising :class:`ParameterError` themselves.
    """

    params: tuple[Param, ...]
    checks: tuple[Callable[[Mapping[str, Any]], None], ...] = field(default=())

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names in schema: {names}")

    def __iter__(self):
        return iter(self.params)

    def __contains__(self, name: str) -> bool:
        return any(p.name == name for p in self.params)

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(name, None, "one of " + ", ".join(self.names), "unknown parameter")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def structural(self) -> list[str]:
        return [p.name for p in self.params if p.structural]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid with ``values``, every value validated, cross-checks run."""
        values = dict(values or {})
        for name in values:
            if name not in self:
                raise ParameterError(name, values[name], "one of " + ", ".join(self.names), "unknown parameter")
        resolved = {p.name: p.validate(values.get(p.name, p.default)) for p in self.params}
        for check in self.checks:
            check(resolved)
        return resolved

    def table(self) -> list[dict[str, str]]:
        """Rows describing each parameter, for ``tokensim list`` and documentation."""
        return [
            {
                "name": p.name,
                "default": repr(p.default),
                "allowed": p.allowed,
                "structural": "yes" if p.structural else "",
                "basis": p.basis + (f" ({p.source})" if p.source else "")
                + (f", plausible [{p.plausible[0]:g}, {p.plausible[1]:g}]" if p.plausible else ""),
                "description": p.description,
            }
            for p in self.params
        ]


def require(condition: bool, name: str, value: Any, allowed: str, reason: str = "") -> None:
    """Raise :class:`ParameterError` unless ``condition``; a helper for cross-parameter checks."""
    if not condition:
        raise ParameterError(name, value, allowed, reason)


def params_from_pairs(schema: Schema, pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``name=value`` strings (from ``--set``) against ``schema``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(pair, pair, "name=value", "expected name=value")
        name, text = pair.split("=", 1)
        out[name.strip()] = schema[name.strip()].parse(text)
    return out
