"""What a model is, and the registry that finds models by name.

A :class:`Model` bundles a parameter :class:`~tokensim.mechanisms.core.params.Schema`, a function that
builds the initial batched state, cadCAD partial state update blocks, and the per-sample metrics
it records each timestep. State variables are numpy arrays with a leading batch axis ``B``; the
metrics are state variables of shape ``(B,)``. Variables named in ``agent_state`` hold
agent-level arrays; the runner keeps them only for the current timestep (see
:mod:`tokensim.mechanisms.core.cadcad_run`), so memory does not grow with the number of timesteps.

Functions in ``blocks`` follow cadCAD's signatures with a trailing ``*args`` (cadCAD hands
``additional_objs`` to them in some modes): policies ``(params, substep, history, state, *args)``
and state updates ``(params, substep, history, state, policy_input, *args)``. They must be pure:
never modify an input array, always return new ones. ``params`` holds structural parameters as
scalars, the others as ``(B,)`` arrays, and the batch's :class:`~tokensim.mechanisms.core.seeding.BatchRNG`
under ``params["rng"]``.

Models are found by name in three places: the built-ins of :mod:`mechanisms`, models registered
in this process with :func:`register`, and *plugins*: installed distributions that declare an
entry point in the group ``tokensim.models``, named after the model, whose object is either the
:class:`Model` itself or a module that registers it::

    [project.entry-points."tokensim.models"]
    mymodel = "mypackage.model:MODEL"

Plugins load on first use, in every process that asks for them (the CLI, the app, local worker
processes and Dask workers), so a plugin needs nothing but to be installed.
"""
from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .errors import TokensimError, clip
from .params import Schema
from .seeding import BatchRNG

SUMMARIES = ("last", "mean", "max", "min", "sum")
SCOPES = ("agent", "aggregate")


@dataclass(frozen=True)
class StateVar:
    """A declared state variable: what it holds, per agent or aggregate, its shape and unit.

    Shapes are written after the batch axis with names of parameters or sizes, e.g. ``()`` for one
    number per sample or ``("n_community",)`` for one per community wallet. Every model declares
    all of its state this way (metrics included), so a contract test can check that the model
    produces exactly the declared variables. ``constant`` marks a variable that ``initial_state``
    sets once per run and no update changes (a per-sample scale drawn at the start, say).
    """

    name: str
    description: str
    scope: str = "aggregate"
    shape: tuple[str, ...] = ()
    unit: str = ""
    constant: bool = False

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"StateVar {self.name}: scope must be one of {SCOPES}")


@dataclass(frozen=True)
class Metric:
    """A per-sample quantity recorded every timestep.

    ``summary`` says how a sample's time series reduces to the one number reported per run
    (``last`` for running/cumulative metrics, ``mean``, ``max``, ``min`` or ``sum``); ``better``
    says which direction is desirable, for tables and claims (``"lower"``, ``"higher"`` or ``""``).
    ``bounds`` is the range the metric cannot leave (``(0, 1)`` for shares and rates), so reported
    intervals are clipped to it.
    """

    name: str
    description: str
    unit: str = ""
    summary: str = "last"
    better: str = ""
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.summary not in SUMMARIES:
            raise ValueError(f"Metric {self.name}: summary must be one of {SUMMARIES}")


InitialState = Callable[[Mapping[str, Any], BatchRNG], dict[str, np.ndarray]]
CostFn = Callable[[Mapping[str, Any]], float]
Invariants = Callable[[Mapping[str, Any], Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]
ENTRY_POINT_GROUP = "tokensim.models"


@dataclass(frozen=True)
class Model:
    """A simulatable mechanism. See the module docstring for the contract of each field.

    ``cost`` estimates the seconds of compute one sample's timestep takes on the reference
    machine (2 cores; see benchmarks/results.md), from the resolved parameters. Each model
    calibrates its own count of work by a measured constant, so costs compare across models; the
    app multiplies it by samples, timesteps and points to refuse runs that would take too long.
    ``setup_cost`` is the one-off seconds a parameter point costs before its samples run (e.g.
    tuning a controller; 0 once that is cached), added once per point by :mod:`tokensim.experiments.budget`.

    ``time_unit`` names what one timestep is (``"day"``, ``"epoch"``, ``"proposal"``), for the
    time axis of figures.

    ``state`` declares every state variable (metrics included); ``agent_state`` names the
    agent-scope ones, which the runner keeps only for the current timestep.

    ``invariants`` (optional) states the model's conservation laws: called with the batch's
    parameters (as cadCAD sees them) and a state after any timestep, it returns a mapping from a
    one-line statement of each law (``"minted = balances + burned"``) to a ``(B,)`` boolean array
    that is true for the samples where the law holds. The contract suite
    (:mod:`tokensim.mechanisms.core.contract`) checks it at every timestep; the runner does not call it.
    """

    name: str
    version: str
    title: str
    description: str
    schema: Schema
    initial_state: InitialState
    blocks: Sequence[dict]
    metrics: tuple[Metric, ...]
    agent_state: tuple[str, ...] = ()
    cost: CostFn = field(default=lambda params: 1e-4)
    setup_cost: CostFn = field(default=lambda params: 0.0)
    state: tuple[StateVar, ...] = ()
    time_unit: str = "timestep"
    invariants: Invariants | None = None

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise TokensimError(
            f"model '{self.name}' has no metric '{name}'; metrics: {', '.join(self.metric_names)}"
        )


# Built-in models, imported lazily so that `tokensim list` does not pay for every model's imports.
_BUILTIN: dict[str, str] = {}
_REGISTRY: dict[str, Model] = {}


def register(model: Model) -> Model:
    """Make ``model`` available by name (used by built-ins and by tests' own toy models)."""
    _REGISTRY[model.name] = model
    return model


def register_builtin(name: str, module: str) -> None:
    """Declare that importing ``module`` registers the model ``name``."""
    _BUILTIN[name] = module


def plugin_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """Installed plugin models by name: entry points of the group ``tokensim.models``.

    Read afresh on every call (the scan is cheap), so a distribution put on ``sys.path`` after
    start-up is seen too. A plugin cannot take the name of a built-in model.
    """
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return {ep.name: ep for ep in found if ep.name not in _BUILTIN}


def model_names() -> list[str]:
    return sorted(set(_BUILTIN) | set(_REGISTRY) | set(plugin_entry_points()))


def get_model(name: str) -> Model:
    """Return the model registered under ``name``, importing built-ins and plugins on first use."""
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in _REGISTRY:
        plugin = plugin_entry_points().get(name)
        if plugin is not None:
            _load_plugin(plugin)
    if name not in _REGISTRY:
        raise TokensimError(f"unknown model '{clip(str(name))}'; available: {', '.join(model_names()) or 'none'}")
    return _REGISTRY[name]


def _load_plugin(entry_point: importlib.metadata.EntryPoint) -> None:
    where = f"plugin '{entry_point.name}' ({entry_point.value}, entry point group {ENTRY_POINT_GROUP})"
    try:
        loaded = entry_point.load()
    except Exception as exc:  # a broken plugin is the plugin author's error, reported as such
        raise TokensimError(f"{where} failed to import: {type(exc).__name__}: {exc}") from exc
    if isinstance(loaded, Model):
        if loaded.name != entry_point.name:
            raise TokensimError(f"{where} is a Model named '{loaded.name}'; name the entry point '{loaded.name}'")
        register(loaded)
    elif entry_point.name not in _REGISTRY:
        raise TokensimError(
            f"{where} is neither a Model nor a module that registers a model named '{entry_point.name}'"
        )


def model_module(name: str) -> str:
    """The module whose import registers ``name`` (so worker processes can find it too).

    Plugins need no import here: a worker finds them through their entry point like any process.
    """
    if name in _BUILTIN:
        return _BUILTIN[name]
    return get_model(name).initial_state.__module__
