"""A tokensim model as plain cadCAD: initial state, partial state update blocks and a sim config.

tokensim runs a model's blocks with a leading batch axis, ``(B,)`` arrays for non-structural
parameters and a :class:`~tokensim.mechanisms.core.seeding.BatchRNG` in ``params["rng"]``. A cadCAD user
wants the classic form instead: one sample per run, scalar parameters, cadCAD's own ``N`` for Monte
Carlo runs. :func:`to_cadcad` wraps the model's functions so that cadCAD 0.5.3 runs them as they
are:

- parameters are scalars in ``M`` (and may be swept with cadCAD's own lists); each call turns them
  into the model's batch form with ``B = 1``;
- state variables are stored per run without the batch axis (a float for an aggregate, a
  ``(n,)`` array for an agent-level variable);
- each run draws from its own generator, derived from (seed, parameter point, run index) exactly
  as tokensim's runner derives sample ``run - 1``: cadCAD's ``N > 1`` gives distinct samples, the
  same seed gives the same numbers, and run ``r`` equals tokensim's sample ``r - 1``.

cadCAD has one initial state for all runs, while each sample draws its own (random balances, say).
The initial state returned is run 1's; every run's first substep starts from the run's own initial
state, drawn from its generator. So cadCAD's timestep-0 records show run 1's initial state for
every run, and from timestep 1 on every record is the run's own.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import numpy as np
from cadCAD.configuration.utils import config_sim

from .model import Model
from .seeding import BatchRNG, sample_generator


class CadCADModel(NamedTuple):
    """What ``cadCAD.configuration.Experiment.append_model`` takes."""

    initial_state: dict[str, Any]
    partial_state_update_blocks: list[dict[str, Any]]
    sim_configs: Any  # the result of cadCAD's config_sim


class _Runs:
    """Per cadCAD run: the model's batch parameters (holding the run's generator) and initial state."""

    def __init__(self, model: Model, seed: int) -> None:
        self.model, self.seed = model, seed
        self.runs: dict[tuple, tuple[dict[str, Any], dict[str, np.ndarray]]] = {}

    def get(self, params: Mapping[str, Any], state: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        key = (state.get("simulation", 0), state.get("subset", 0), state.get("run", 1))
        if key not in self.runs:
            point = self.model.schema.resolve({p.name: params[p.name] for p in self.model.schema})
            batch = _batch_params(self.model, point, sample_generator(self.seed, point, int(key[2]) - 1))
            self.runs[key] = (batch, self.model.initial_state(batch, batch["rng"]))
        return self.runs[key]


def _batch_params(model: Model, point: Mapping[str, Any], generator: np.random.Generator) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for p in model.schema:
        value = point[p.name]
        params[p.name] = value if p.structural else np.asarray([value], dtype=np.int64 if p.kind == "int" else np.float64)
    params["rng"] = BatchRNG([generator])
    return params


def _unbatched(value: np.ndarray) -> Any:
    value = np.asarray(value)[0]
    return value.item() if value.ndim == 0 else value


def _model_view(runs: _Runs, params: Mapping[str, Any], substep: int, state: Mapping[str, Any]):
    """The model's batch parameters and batched state for this cadCAD call."""
    batch, initial = runs.get(params, state)
    if substep == 1 and state.get("timestep", 0) == 0:  # the run's first substep starts from its own draw
        return batch, dict(initial)
    return batch, {name: np.asarray(state[name])[None, ...] for name in initial}


def to_cadcad(model: Model, params: Mapping[str, Any] | None = None, seed: int = 0, samples: int = 1,
              timesteps: int = 100) -> CadCADModel:
    """Plain-cadCAD pieces for ``model`` at ``params`` (defaults overlaid), ``samples`` runs of ``timesteps``.

    Example::

        from cadCAD.configuration import Experiment
        from cadCAD.engine import ExecutionContext, ExecutionMode, Executor

        pieces = to_cadcad(get_model("governance"), {"n_community": 200}, seed=1, samples=3, timesteps=20)
        exp = Experiment()
        exp.append_model(initial_state=pieces.initial_state, sim_configs=pieces.sim_configs,
                         partial_state_update_blocks=pieces.partial_state_update_blocks)
        records, _, _ = Executor(ExecutionContext(ExecutionMode.single_mode), exp.configs).execute()
    """
    point = model.schema.resolve(params)
    runs = _Runs(model, seed)
    first_run = _batch_params(model, point, sample_generator(seed, point, 0))
    initial = {name: _unbatched(value) for name, value in model.initial_state(first_run, first_run["rng"]).items()}

    def policy(fn: Callable) -> Callable:
        def cadcad_policy(params, substep, history, state, *args):
            batch, view = _model_view(runs, params, substep, state)
            return fn(batch, substep, history, view)

        cadcad_policy.__name__ = getattr(fn, "__name__", "policy")
        return cadcad_policy

    def update(fn: Callable | None, name: str) -> Callable:
        def cadcad_update(params, substep, history, state, signal, *args):
            batch, view = _model_view(runs, params, substep, state)
            value = view[name] if fn is None else fn(batch, substep, history, view, signal)[1]
            return name, _unbatched(value)

        cadcad_update.__name__ = getattr(fn, "__name__", f"carry_{name}")
        return cadcad_update

    blocks = []
    for i, block in enumerate(model.blocks):
        variables = {name: update(fn, name) for name, fn in block["variables"].items()}
        if i == 0:  # the first block sets every variable, so each run leaves its own initial state
            variables.update({name: update(None, name) for name in initial if name not in variables})
        blocks.append({"policies": {k: policy(f) for k, f in (block.get("policies") or {}).items()},
                       "variables": variables})
    sim = config_sim({"N": samples, "T": range(timesteps), "M": dict(point)})
    return CadCADModel(initial, blocks, sim)
