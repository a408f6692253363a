"""Registration of the ``inflation`` model: who should set a token's emission?

A daily model of a proof-of-stake token economy (supply, float, stake, treasury, burn, a price
formed by usage and momentum demand against the float) under six emission policies (fixed code,
Cosmos x/mint feedback, PID, team discretion, token-holder vote, a learning controller) and three
demand scenarios (steady, bull, a crash). Adaptive policies are tuned alike before a run
(:mod:`.tuning`). See :mod:`.economy`, :mod:`.controllers`, :mod:`.tuning`, :mod:`.calibration`
and :mod:`.metrics`; docs/inflation.md explains the model and experiments.
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core import Model, register

from .blocks import BLOCKS
from .metrics import METRICS
from .params import SCHEMA
from .state import STATE, base_state, batch_rows
from .tuning import TRAINING_SCENARIOS, is_tuned, training_point, tuned_vector
from .tuning_cache import is_cached


def initial_state(params, rng) -> dict[str, np.ndarray]:
    """The model's initial state for a batch (``params`` as cadCAD sees them): the economy, the
    governance holders, and each row's policy vector, tuned (cached) under ``tuning = "cem"``."""
    state = base_state(params, rng)
    rows = batch_rows(params, len(rng))
    if is_tuned(rows[0]):
        state["policy_vector"] = np.stack([tuned_vector(row) for row in rows])
    return state


def cost(params) -> float:
    """Seconds per sample per day on the reference machine: about 6e-5 s of array operations and
    cadCAD bookkeeping (measured at the defaults with 20 samples in a batch), plus the holders'
    ballots on vote days under the governance policy (8e-5 s at 200 holders)."""
    return 6.2e-5 + (1.0e-7 * params["n_holders"] if params["policy"] == "governance" else 0.0)


def setup_cost(params) -> float:
    """Seconds of tuning a point costs before it runs: 0 when untuned or already cached, else the
    tuner's rollout days (iterations x training scenarios x tune_days) at 1.0e-4 s per day plus
    2.2e-7 s per row (population x seeds), measured at population 6-48 and seeds 2-12."""
    if not is_tuned(params) or is_cached(training_point(params)):
        return 0.0
    days = params["tune_iterations"] * len(TRAINING_SCENARIOS) * params["tune_days"]
    return days * (1.0e-4 + 2.2e-7 * params["tune_population"] * params["tune_seeds"])


MODEL = register(
    Model(
        name="inflation",
        version="2.1",
        title="Who should set a token's emission?",
        description=__doc__,
        schema=SCHEMA,
        initial_state=initial_state,
        blocks=BLOCKS,
        metrics=METRICS,
        agent_state=("holder_stake", "holder_staker", "holder_delegate"),
        cost=cost,
        setup_cost=setup_cost,
        time_unit="day",
        state=STATE,
    )
)
