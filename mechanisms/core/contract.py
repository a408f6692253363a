"""The mechanism contract: the checks every registered model (built-in or plugin) must pass.

Like scikit-learn's ``parametrize_with_checks`` and CADLabs' ``test_linting``, one suite runs over
every model (``tests/contract/``); a plugin author runs the same checks with
``check_model(model)``. Each check returns a list of problems, each a sentence that names the
model, the variable or parameter, and what to change; an empty list means the check passes.

The checks run the model for a few timesteps at its defaults, with two samples, and once more for
each alternative value of every choice or bool parameter (the *configurations*), through
:func:`tokensim.mechanisms.core.step` (cadCAD's semantics) and through the runner's cadCAD path:

``params_marked``     every parameter has a basis; calibrated ones a source (an existing data
                      file when it names one under ``data/``); assumed numeric ones a plausible range
``state_declared``    ``Model.state`` lists exactly the produced variables, with their scope
                      (``agent_state`` = the agent-scope ones, metrics aggregate) and shapes
``state_updated``     every declared variable has a state update in some block (a ``constant`` one
                      has none, so it keeps its initial value), and every update returns the
                      variable it is registered under
``pure``              no policy or update modifies the state it is given (``deepcopy_off`` relies on it)
``params_read``       every parameter is read by the initial state or a policy or update
``params_matter``     (advisory, see :data:`ADVISORY`) changing any read, non-structural numeric
                      parameter changes some state
``deterministic``     the same seed gives the same numbers
``layouts``           packed, per-point and per-sample batches give the same numbers
``deepcopy``          cadCAD with ``deepcopy_off`` on and off gives the same numbers
``invariants``        the model's conservation laws (``Model.invariants``) hold at every timestep
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .cadcad_run import Batch, Row, run_batches
from .errors import TokensimError
from .model import Model
from .params import Param
from .step import step

TIMESTEPS = 6
SAMPLES = 2
SEED = 20261201
ROOT = Path(__file__).resolve().parents[2]  # the repository (or the installed package) root
BOOKKEEPING = ("substep", "timestep")


class RecordingParams(dict):
    """A parameter dict that records which keys are read (by ``[]``, ``get`` or ``in``).

    Reading every value at once (``items()``, ``values()``, ``dict(params)``, ``{**params}``) counts
    as reading every parameter: a model that copies its parameters into its own rows uses them there.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __iter__(self) -> Iterator[str]:  # overriding it makes dict(params) and {**params} use []
        return super().__iter__()

    def items(self):  # type: ignore[override]
        self.read.update(self.keys())
        return super().items()

    def values(self):  # type: ignore[override]
        self.read.update(self.keys())
        return super().values()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def configurations(model: Model) -> list[tuple[str, dict[str, Any]]]:
    """The defaults, and the defaults with each alternative of every choice or bool parameter.

    Returns ``(label, resolved point)`` pairs; an alternative the schema's cross-checks reject is
    left out (its label is reported by :func:`rejected_configurations`).
    """
    return [(label, point) for label, point in _all_configurations(model) if point is not None]


def rejected_configurations(model: Model) -> list[str]:
    return [label for label, point in _all_configurations(model) if point is None]


def _all_configurations(model: Model) -> Iterator[tuple[str, dict[str, Any] | None]]:
    defaults = model.schema.defaults()
    yield "defaults", model.schema.resolve()
    for p in model.schema:
        alternatives = p.choices if p.kind == "choice" else (True, False) if p.kind == "bool" else ()
        for value in alternatives:
            if value == defaults[p.name]:
                continue
            label = f"{p.name}={value!r}"
            try:
                yield label, model.schema.resolve({p.name: value})
            except TokensimError:
                yield label, None


def batch_params(model: Model, point: Mapping[str, Any], samples: int = SAMPLES, seed: int = SEED,
                 recording: bool = False, common_random_numbers: bool = False) -> dict[str, Any]:
    """The parameters of one batch of ``samples`` rows of ``point``, as cadCAD hands them to a model.

    With ``common_random_numbers`` the streams do not depend on the point, so two points differ
    only by their parameters."""
    batch = Batch(tuple(Row(0, point, s) for s in range(samples)))
    params = batch.cadcad_params(model, seed, common_random_numbers)
    return RecordingParams(params) if recording else params


def rollout(model: Model, params: Mapping[str, Any], timesteps: int = TIMESTEPS,
            blocks: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The initial state and the state after each of ``timesteps`` steps (via :func:`step`)."""
    states = [dict(model.initial_state(params, params["rng"]))]
    for t in range(1, timesteps + 1):
        states.append(step(blocks if blocks is not None else model.blocks, params, states[-1], t))
    return states


def _model_state(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in BOOKKEEPING}


# --- the checks -----------------------------------------------------------------------------------

def check_params_marked(model: Model) -> list[str]:
    problems = []
    for p in model.schema:
        where = f"model '{model.name}', parameter '{p.name}'"
        if p.basis == "calibrated":
            if not p.source:
                problems.append(f"{where}: calibrated but has no source; give source= the data file or published figure")
            elif p.source.startswith("data/") and not (ROOT / p.source.split()[0]).is_file():
                problems.append(f"{where}: source {p.source.split()[0]} does not exist; add the file or fix the path")
        elif p.basis == "assumed" and p.kind in ("float", "int") and p.plausible is None:
            problems.append(
                f"{where}: assumed numeric parameter without a plausible range; add plausible=(lo, hi) "
                f"(the range a referee would accept), or mark it basis='setting' or 'calibrated' (with source=)"
            )
    return problems


def _resolve_dims(model: Model, params: Mapping[str, Any], states: Sequence[Mapping[str, Any]],
                  label: str) -> list[str]:
    problems: list[str] = []
    declared = {v.name: v for v in model.state}
    symbols: dict[str, int] = {}
    batch = len(params["rng"])
    for name, var in declared.items():
        for t, state in enumerate(states):
            if name not in state:
                continue
            value = state[name]
            where = f"model '{model.name}', state '{name}' ({label}, timestep {t})"
            if not isinstance(value, np.ndarray):
                problems.append(f"{where}: is a {type(value).__name__}, not a numpy array with a leading batch axis of "
                                f"length {batch}; store it as an array of shape (B, ...)")
                break
            if value.ndim < 1 or value.shape[0] != batch:
                problems.append(f"{where}: shape {value.shape} lacks the leading batch axis of length {batch}")
                break
            actual = value.shape[1:]
            if len(actual) != len(var.shape):
                problems.append(f"{where}: shape after the batch axis is {actual}, declared {var.shape}; "
                                f"fix StateVar('{name}', shape=...)")
                break
            for dim, size in zip(var.shape, actual):
                if isinstance(dim, int) or dim.isdigit():
                    expected = int(dim)
                elif dim in params and not isinstance(params[dim], np.ndarray):
                    expected = int(params[dim])
                else:
                    expected = symbols.setdefault(dim, size)
                if expected != size:
                    problems.append(f"{where}: axis '{dim}' has length {size}, expected {expected}; "
                                    f"fix StateVar('{name}', shape=...) or the array")
                    break
            else:
                continue
            break
    return problems


def check_state_declared(model: Model) -> list[str]:
    where = f"model '{model.name}'"
    if not model.state:
        return [f"{where}: declares no state; list every state variable (metrics included) as "
                f"Model(state=(StateVar(name, description, scope, shape, unit), ...))"]
    problems: list[str] = []
    names = [v.name for v in model.state]
    declared = set(names)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"{where}: state variables declared twice: {duplicates}")
    by_name = {v.name: v for v in model.state}
    for metric in model.metric_names:
        var = by_name.get(metric)
        if var is None:
            problems.append(f"{where}: metric '{metric}' is not declared in Model.state; add StateVar('{metric}', ...)")
        elif var.scope != "aggregate" or var.shape != ():
            problems.append(f"{where}: metric '{metric}' is declared scope={var.scope!r}, shape={var.shape}; "
                            f"a metric is one number per sample: scope='aggregate', shape=()")
    agent = {v.name for v in model.state if v.scope == "agent"}
    if set(model.agent_state) != agent:
        problems.append(f"{where}: agent_state {sorted(model.agent_state)} differs from the agent-scope state "
                        f"variables {sorted(agent)}; make agent_state exactly the agent-scope names")
    for v in model.state:
        if v.scope == "agent" and not v.shape:
            problems.append(f"{where}: agent-scope state '{v.name}' has shape (); give its agent axis, e.g. shape=('n_agents',)")
    for label, point in configurations(model):
        params = batch_params(model, point)
        try:
            states = rollout(model, params)
        except Exception as exc:  # noqa: BLE001 - a crash is reported as the problem it is
            problems.append(f"{where} ({label}): the model raised {type(exc).__name__}: {exc}")
            continue
        for t, state in enumerate(states):
            produced = set(_model_state(state))
            missing, extra = sorted(declared - produced), sorted(produced - declared)
            if missing:
                problems.append(f"{where} ({label}, timestep {t}): declared state not produced: {missing}; "
                                f"{'return them from initial_state' if t == 0 else 'keep them in the state'} "
                                f"or remove them from Model.state")
            if extra:
                problems.append(f"{where} ({label}, timestep {t}): produced state not declared: {extra}; "
                                f"add a StateVar for each to Model.state")
            if missing or extra:
                break
        problems.extend(_resolve_dims(model, params, states, label))
    return _unique(problems)


def check_state_updated(model: Model) -> list[str]:
    where = f"model '{model.name}'"
    updated: set[str] = set()
    problems: list[str] = []
    for block in model.blocks:
        updated |= set(block["variables"])
    for v in model.state:
        if v.constant and v.name in updated:
            problems.append(f"{where}: state '{v.name}' is declared constant but has a state update; remove the update "
                            f"or drop constant=True")
        elif not v.constant and v.name not in updated:
            problems.append(f"{where}: state '{v.name}' has no state update in any block; add one "
                            f"(tokensim.mechanisms.core.updates.take('{v.name}') stores a policy's value), declare it "
                            f"StateVar(..., constant=True) if initial_state sets it once per run, or drop the variable")

    def checked(registered: str, fn: Callable) -> Callable:
        def update(params, substep, history, state, signal, *args):
            key, value = fn(params, substep, history, state, signal, *args)
            if key != registered:
                problems.append(f"{where}: the update registered for '{registered}' (block {substep}, "
                                f"{getattr(fn, '__name__', fn)}) returns key '{key}'; register it under '{key}' or fix it")
            return key, value
        return update

    blocks = [dict(b, variables={k: checked(k, f) for k, f in b["variables"].items()}) for b in model.blocks]
    problems += _roll_every_configuration(model, blocks, where)
    return _unique(problems)


def _roll_every_configuration(model: Model, blocks: list[dict], where: str) -> list[str]:
    """Run ``blocks`` (the model's, wrapped by a check) at every configuration; a crash is a problem."""
    problems = []
    for label, point in configurations(model):
        try:
            rollout(model, batch_params(model, point), blocks=blocks)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{where} ({label}): the model raised {type(exc).__name__}: {exc}")
    return problems


def check_pure(model: Model) -> list[str]:
    where = f"model '{model.name}'"
    problems: list[str] = []

    def guarded(kind: str, name: str, fn: Callable) -> Callable:
        def call(params, substep, history, state, *rest):
            before = {k: np.array(v, copy=True) for k, v in state.items() if isinstance(v, np.ndarray)}
            out = fn(params, substep, history, state, *rest)
            for k, v in before.items():
                if not np.array_equal(v, state[k], equal_nan=v.dtype.kind == "f"):
                    problems.append(f"{where}: {kind} '{name}' (block {substep}) modifies its input state '{k}' in "
                                    f"place; return a new array instead (deepcopy_off relies on pure functions)")
            return out
        return call

    blocks = [
        dict(b, policies={k: guarded("policy", k, f) for k, f in (b.get("policies") or {}).items()},
             variables={k: guarded("update", k, f) for k, f in b["variables"].items()})
        for b in model.blocks
    ]
    problems += _roll_every_configuration(model, blocks, where)
    return _unique(problems)


def _reads(model: Model) -> dict[str, list[str]]:
    """Each parameter read in some configuration, with the configurations that read it."""
    reads: dict[str, list[str]] = {}
    for label, point in configurations(model):
        params = batch_params(model, point, recording=True)
        rollout(model, params)
        for name in params.read:
            reads.setdefault(name, []).append(label)
    return reads


def check_params_read(model: Model) -> list[str]:
    read = _reads(model)
    tried = [label for label, _ in configurations(model)]
    rejected = rejected_configurations(model)
    note = f" (configurations the schema's checks rejected, so not run: {rejected})" if rejected else ""
    return [
        f"model '{model.name}': parameter '{p.name}' is never read by initial_state or any policy or update in "
        f"{TIMESTEPS} timesteps of the configurations {tried}{note}; use it or remove it from the schema"
        for p in model.schema if p.name not in read
    ]


def perturbed(p: Param, default: Any) -> list[Any]:
    """Values to try instead of ``default``: the far end of the plausible range, then of the bounds."""
    candidates: list[Any] = []
    for lo, hi in (p.plausible or (None, None), (p.low, p.high)):
        ends = [e for e in (lo, hi) if e is not None and math.isfinite(e) and e != default]
        candidates += sorted(ends, key=lambda e: -abs(e - default))
    step_ = max(abs(default) * 0.5, 1.0 if p.kind == "int" else 0.1)
    candidates += [default + step_, default - step_]
    values = []
    for value in candidates:
        value = int(round(value)) if p.kind == "int" else float(value)
        if value != default and value not in values:
            values.append(value)
    return values


def _perturbation(model: Model, p: Param, base: Mapping[str, Any]) -> tuple[Any, dict[str, Any]] | None:
    for value in perturbed(p, base[p.name]):
        try:
            return value, model.schema.resolve({**_overrides(model, base), p.name: value})
        except TokensimError:
            continue
    return None


def _overrides(model: Model, point: Mapping[str, Any]) -> dict[str, Any]:
    defaults = model.schema.defaults()
    return {k: v for k, v in point.items() if defaults.get(k) != v}


def _states_equal(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    for sa, sb in zip(a, b):
        for k, va in _model_state(sa).items():
            vb = sb.get(k)
            if not np.array_equal(np.asarray(va), np.asarray(vb), equal_nan=np.asarray(va).dtype.kind == "f"):
                return False
    return True


def check_params_matter(model: Model, timesteps: int = TIMESTEPS) -> list[str]:
    """Advisory: a parameter that acts only after ``timesteps`` (a shock day) is reported too."""
    problems = []
    read = _reads(model)
    points = dict(configurations(model))
    for p in model.schema:
        if p.structural or p.kind not in ("float", "int") or p.name not in read:
            continue
        tried = []
        for label in read[p.name]:
            base = points[label]
            found = _perturbation(model, p, base)
            if found is None:
                continue
            value, point = found
            tried.append(f"{base[p.name]!r} -> {value!r} ({label})")
            before = rollout(model, batch_params(model, base, common_random_numbers=True), timesteps)
            after = rollout(model, batch_params(model, point, common_random_numbers=True), timesteps)
            if not _states_equal(before, after):
                break
        else:
            if tried:
                problems.append(
                    f"model '{model.name}': changing parameter '{p.name}' changes no state variable in {timesteps} "
                    f"timesteps under common random numbers ({'; '.join(tried)}); it is read but has no effect: "
                    f"wire it into the dynamics or remove it"
                )
    return problems


def _rows(model: Model) -> list[Row]:
    """Two samples each of the defaults and of a second point differing in one non-structural parameter."""
    defaults = model.schema.resolve()
    second = None
    for p in model.schema:
        if not p.structural and p.kind in ("float", "int"):
            found = _perturbation(model, p, defaults)
            if found is not None:
                second = found[1]
                break
    points = [defaults] + ([second] if second is not None else [])
    return [Row(i, point, s) for i, point in enumerate(points) for s in range(SAMPLES)]


def _frame(model: Model, batches: Sequence[Batch], deepcopy_off: bool = True) -> pd.DataFrame:
    frame = run_batches(model, batches, TIMESTEPS, SEED, deepcopy_off=deepcopy_off)
    return frame.sort_values(["point_id", "sample", "timestep"], kind="stable").reset_index(drop=True)


def _differences(model: Model, a: pd.DataFrame, b: pd.DataFrame, what: str) -> list[str]:
    problems = []
    for metric in model.metric_names:
        x, y = a[metric].to_numpy(), b[metric].to_numpy()
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=True):
            bad = np.flatnonzero(~np.isclose(x, y, rtol=0, atol=0, equal_nan=True)) if x.shape == y.shape else [0]
            row = a.iloc[bad[0]]
            problems.append(f"model '{model.name}': metric '{metric}' differs {what} (first at point {row['point_id']}, "
                            f"sample {row['sample']}, timestep {row['timestep']}: {x[bad[0]]!r} vs {y[bad[0]]!r}); "
                            f"draw every random number through params['rng'] and keep updates pure")
    return problems


def check_deterministic(model: Model) -> list[str]:
    rows = tuple(_rows(model))
    return _differences(model, _frame(model, [Batch(rows)]), _frame(model, [Batch(rows)]), "between two runs with the same seed")


def check_layouts(model: Model) -> list[str]:
    rows = _rows(model)
    packed = _frame(model, [Batch(tuple(rows))])
    per_sample = _frame(model, [Batch((r,)) for r in rows])
    per_point = _frame(model, [Batch(tuple(r for r in rows if r.point_id == i)) for i in sorted({r.point_id for r in rows})])
    return (_differences(model, packed, per_sample, "between packed and per-sample batches")
            + _differences(model, packed, per_point, "between packed and per-point batches"))


def check_deepcopy(model: Model) -> list[str]:
    batches = [Batch(tuple(_rows(model)))]
    return _differences(model, _frame(model, batches, True), _frame(model, batches, False),
                        "between cadCAD with deepcopy_off on and off")


def check_invariants(model: Model, points: Sequence[tuple[str, Mapping[str, Any]]] | None = None) -> list[str]:
    """The conservation laws at every timestep of each ``(label, point)`` (default: the configurations)."""
    if model.invariants is None:
        return []
    problems = []
    for label, point in configurations(model) if points is None else points:
        params = batch_params(model, point)
        for t, state in enumerate(rollout(model, params)):
            for law, holds in model.invariants(params, state).items():
                holds = np.asarray(holds, dtype=bool)
                if not holds.all():
                    samples = np.flatnonzero(~holds).tolist()
                    problems.append(f"model '{model.name}' ({label}, timestep {t}): '{law}' fails for samples {samples}")
    return problems[:20]


CHECKS: dict[str, Callable[[Model], list[str]]] = {
    "params_marked": check_params_marked,
    "state_declared": check_state_declared,
    "state_updated": check_state_updated,
    "pure": check_pure,
    "params_read": check_params_read,
    "deterministic": check_deterministic,
    "layouts": check_layouts,
    "deepcopy": check_deepcopy,
    "invariants": check_invariants,
}


# Not part of the contract: inconclusive for a parameter that acts only after the short horizon
# (a shock on day 90, a bull run's length), which a horizon long enough for every model would make
# too slow for the suite. Run it on a model with ``check_params_matter(model, timesteps=...)``.
ADVISORY: dict[str, Callable[[Model], list[str]]] = {"params_matter": check_params_matter}


def check_model(model: Model, checks: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Run ``checks`` (default: all of :data:`CHECKS`, the contract) on ``model``; problems by check name."""
    available = {**CHECKS, **ADVISORY}
    return {name: available[name](model) for name in (checks or CHECKS)}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
