"""Registration of the data-labeling rewards model (``labeling``).

Two blocks per epoch: (1) label and pay, (2) adapt. See :mod:`tokensim.mechanisms.labeling` for what is
modelled and why; :mod:`.state` declares every state variable, :mod:`.metrics` computes every
metric.
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core import Model, register
from tokensim.mechanisms.core.updates import updates_for

from . import __doc__ as FAMILY_DOC
from . import updates as u
from .metrics import METRICS
from .params import SCHEMA
from .policies import p_adapt, p_label_and_pay
from .state import AGENT_STATE, STATE, initial_state

EPOCH_METRICS = tuple(mt.name for mt in METRICS if mt.name not in {
    "participation", "share_lazy_labelers", "share_ai_labelers", "share_copying_validators", "correct_labels",
    "minted", "paid_out", "paid_validators", "paid_owner", "paid_gold", "treasury", "burned", "stake_locked",
    "stake_deposited", "stake_returned"})

BLOCKS = [
    {
        "policies": {"label_and_pay": p_label_and_pay},
        "variables": {
            **updates_for(("profit", "gold_seen", "gold_correct", "ds_counts", "ds_counts_ceiling", "bonds",
                           "validator_scores", "consensus_history", "validator_profit", "accuracy_window", "epoch")
                          + EPOCH_METRICS),
            "stake": u.s_stake_after_slash,
            "cum_reward": u.s_cum_reward,
            "cum_correct": u.s_cum_correct,
            "correct_labels": u.s_correct_labels,
            "minted": u.s_minted,
            "paid_out": u.s_paid_out,
            "paid_validators": u.s_paid_validators,
            "paid_owner": u.s_paid_owner,
            "paid_gold": u.s_paid_gold,
            "treasury": u.s_treasury,
            "burned": u.s_burned,
            "stake_locked": u.s_stake_locked_after_slash,
        },
    },
    {
        "policies": {"adapt": p_adapt},
        "variables": {
            **updates_for(("strategy", "skill", "active", "joined", "profit", "stake", "validator_copying", "participation",
                           "share_lazy_labelers", "share_ai_labelers", "share_copying_validators")),
            "stake_deposited": u.s_stake_deposited,
            "stake_returned": u.s_stake_returned,
            "stake_locked": u.s_stake_locked,
        },
    },
]


def conservation_laws(params, state) -> dict[str, np.ndarray]:
    """The model's token accounts, per sample (B,): True where each law holds.

    Minted tokens are paid out (labelers, validators, subnet owner, gold-label makers) or held by
    the treasury; labelers' stake deposited is locked, burned or returned; no stake is negative.
    """
    def close(a, b):
        return np.isclose(a, b, rtol=1e-9, atol=1e-9 * np.maximum(1.0, np.abs(b)))

    parts = state["paid_validators"] + state["paid_owner"] + state["paid_gold"]
    return {
        "minted = paid_out + treasury": close(state["minted"], state["paid_out"] + state["treasury"]),
        "stake_deposited = stake_locked + burned + stake_returned":
            close(state["stake_deposited"], state["stake_locked"] + state["burned"] + state["stake_returned"]),
        "paid_out >= paid_validators + paid_owner + paid_gold": parts <= state["paid_out"] * (1 + 1e-12) + 1e-9,
        "every stake >= 0": (state["stake"] >= 0).all(axis=1),
    }


# Seconds per work unit on the reference machine. The work count's shape was fitted to runs of 20
# samples x 10 epochs (model version 2.0: gold 1.8 / 3.1 / 11 ms and yuma 2.4 / 5.4 / 35 ms per
# sample-epoch at 200 / 256 / 2,000 identities, 8 / 64 / 64 validators, at 1.3e-8); the runner's own
# chunk timings then put real time at 0.275 of that (the fitted k of experiments/cost_calibration.json),
# and version 2.1's kernels at 0.71 of 2.0's (gold, 200 identities): 1.3e-8 x 0.275 x 0.71 = 2.5e-9,
# so that cost() is seconds and the automatic chunk size aims at real work (issue 18).
SECONDS_PER_UNIT = 2.5e-9


def cost(params) -> float:
    """Seconds per sample per epoch: label slots times two Dawid-Skene runs (the crowd and its
    honest ceiling) of EM iterations x classes, plus per-identity state, plus validators x
    identities under Yuma (audits, weights, bonds); the equilibrium check adds one more pay."""
    slots = params["n_tasks"] * params["labels_per_task"]
    k, v, n = params["n_classes"], params["n_validators"], params["n_labelers"]
    validators = 14 * v * n if params["reward_rule"] == "yuma" else 0
    work = slots * (2 * params["ds_iterations"] * k * 3 + 30) + n * (2 * k * k + 20) + validators
    if params["equilibrium_check"]:
        work += slots * 30 + validators
    return SECONDS_PER_UNIT * float(work)


MODEL = register(
    Model(
        name="labeling",
        version="2.1",
        title="Data-labeling rewards: which reward rule buys accurate labels cheaply",
        description=FAMILY_DOC,
        schema=SCHEMA,
        initial_state=initial_state,
        blocks=BLOCKS,
        metrics=METRICS,
        agent_state=AGENT_STATE,
        cost=cost,
        state=STATE,
        invariants=conservation_laws,
        time_unit="epoch",
    )
)
