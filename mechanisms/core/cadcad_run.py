"""Run a model through cadCAD and turn its records into a tidy DataFrame.

A :class:`Batch` is a set of rows (parameter point x sample) that share every structural
parameter; it becomes one cadCAD simulation whose state arrays have a leading axis of length
``B = len(rows)``. Several batches become several configurations of one cadCAD ``Experiment``,
run by cadCAD's ``Executor`` in single-process mode with ``deepcopy_off`` (our updates are pure,
so cadCAD's per-substep deepcopy is pure overhead; both settings give the same numbers, which a
test checks).

cadCAD keeps every substep of every timestep in its history. To keep memory bounded by the
batch, not by the run length, a policy added in front of the model's first block drops the
agent-level variables (``Model.agent_state``) from the records of the finished timestep; the
per-sample metrics stay in every record. Model updates stay pure: only cadCAD's own history
records are edited, and only after the next timestep has copied the state it needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from cadCAD.configuration import Experiment
from cadCAD.configuration.utils import config_sim
from cadCAD.engine import ExecutionContext, ExecutionMode, Executor

from .model import Model
from .seeding import BatchRNG, keyed_generator, point_keys


@dataclass(frozen=True)
class Row:
    """One Monte Carlo sample of one parameter point."""

    point_id: int
    params: Mapping[str, Any]  # the full, validated parameter point
    sample: int


@dataclass(frozen=True)
class Batch:
    """Rows that share all structural parameters, simulated together along the batch axis."""

    rows: tuple[Row, ...]

    def cadcad_params(self, model: Model, seed: int, common_random_numbers: bool) -> dict[str, Any]:
        """Parameters as cadCAD sees them: structural ones as scalars, the rest as (B,) arrays."""
        params: dict[str, Any] = {}
        for p in model.schema:
            values = [row.params[p.name] for row in self.rows]
            if p.structural:
                if any(v != values[0] for v in values):
                    raise ValueError(f"batch mixes values of structural parameter '{p.name}'")
                params[p.name] = values[0]
            else:
                params[p.name] = np.asarray(values, dtype=np.int64 if p.kind == "int" else np.float64)
        keys = [()] * len(self.rows) if common_random_numbers else point_keys([row.params for row in self.rows])
        params["rng"] = BatchRNG(keyed_generator(seed, key, row.sample) for key, row in zip(keys, self.rows))
        return params


def _prune_policy(agent_keys: Sequence[str]):
    """A cadCAD policy that drops agent-level arrays from the previous timestep's records."""

    def prune_finished_timestep(params, substep, history, state, *args):
        for record in history[-1]:
            for key in agent_keys:
                record[key] = None
        return {}

    return prune_finished_timestep


def _no_signal(params, substep, history, state, *args):
    """Stands in for an empty policy dict: cadCAD's own stand-in rejects ``additional_objs``."""
    return {}


def cadcad_blocks(model: Model) -> list[dict]:
    """The model's blocks, with history pruning prepended to the first block's policies."""
    blocks = [dict(block, policies=dict(block.get("policies") or {"_none": _no_signal})) for block in model.blocks]
    if model.agent_state and blocks:
        blocks[0]["policies"] = {"_prune_history": _prune_policy(model.agent_state), **blocks[0]["policies"]}
    return blocks


def run_batches(
    model: Model,
    batches: Sequence[Batch],
    timesteps: int,
    seed: int,
    common_random_numbers: bool = False,
    deepcopy_off: bool = True,
) -> pd.DataFrame:
    """Simulate ``batches`` for ``timesteps`` steps; one tidy row per sample per timestep.

    Columns: ``point_id``, ``sample``, ``timestep`` (0 is the initial state) and one column per
    model metric, rows ordered by batch, then timestep, then batch row.
    """
    experiment = Experiment()
    blocks = cadcad_blocks(model)
    for batch in batches:
        params = batch.cadcad_params(model, seed, common_random_numbers)
        state = model.initial_state(params, params["rng"])
        missing = [m for m in model.metric_names if m not in state]
        if missing:
            raise ValueError(f"model '{model.name}': initial state lacks metrics {missing}")
        experiment.append_model(
            sim_configs=config_sim({"N": 1, "T": range(timesteps), "M": params}),
            initial_state=state,
            partial_state_update_blocks=blocks,
        )
    # With deepcopy on, pass no additional objects at all: that is cadCAD's plain default mode.
    extra = {"deepcopy_off": True} if deepcopy_off else None
    context = ExecutionContext(ExecutionMode.single_mode, additional_objs=extra)
    records, _, _ = Executor(exec_context=context, configs=experiment.configs, supress_print=True).execute()
    return _records_to_frame(model, batches, records, last_substep=len(blocks))


def _records_to_frame(model: Model, batches: Sequence[Batch], records: list[dict], last_substep: int) -> pd.DataFrame:
    by_simulation: dict[int, list[dict]] = {}
    for record in records:
        if record["timestep"] == 0 or record["substep"] == last_substep:
            by_simulation.setdefault(record["simulation"], []).append(record)
    frames = []
    for sim_id, batch in enumerate(batches):
        steps = by_simulation[sim_id]
        size, n_steps = len(batch.rows), len(steps)
        columns: dict[str, np.ndarray] = {
            "point_id": np.tile([row.point_id for row in batch.rows], n_steps),
            "sample": np.tile([row.sample for row in batch.rows], n_steps),
            "timestep": np.repeat([record["timestep"] for record in steps], size),
        }
        for name in model.metric_names:
            column = np.empty((n_steps, size))
            for i, record in enumerate(steps):
                column[i] = record[name]  # a (B,) array, or a scalar broadcast over the batch
            columns[name] = column.ravel()
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)
