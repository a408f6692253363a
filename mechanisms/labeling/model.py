"""Registration of the data-labeling rewards model (``labeling``).

Two blocks per epoch: (1) label and pay, (2) adapt. See :mod:`mechanisms.labeling` for what is
modelled and why.
"""
from __future__ import annotations

from mechanisms.core import Model, register

from . import __doc__ as FAMILY_DOC
from . import updates as u
from .metrics import METRICS
from .params import SCHEMA
from .policies import p_adapt, p_label_and_pay
from .state import initial_state

AGENT_STATE = ("strategy", "skill", "active", "stake", "profit", "gold_seen", "gold_correct", "cum_reward",
               "cum_correct", "ds_counts", "bonds")

BLOCKS = [
    {
        "policies": {"label_and_pay": p_label_and_pay},
        "variables": {
            "stake": u.s_stake_after_slash,
            "profit": u.take("profit"),
            "gold_seen": u.take("gold_seen"),
            "gold_correct": u.take("gold_correct"),
            "ds_counts": u.take("ds_counts"),
            "bonds": u.take("bonds"),
            "cum_reward": u.s_cum_reward,
            "cum_correct": u.s_cum_correct,
            "accuracy_majority": u.take("accuracy_majority"),
            "accuracy_dawid_skene": u.take("accuracy_dawid_skene"),
            "correct_labels": u.s_correct_labels,
            "minted": u.s_minted,
            "paid_out": u.s_paid_out,
            "treasury": u.s_treasury,
            "burned": u.s_burned,
            "stake_locked": u.s_stake_locked_after_slash,
            "cost_per_correct_label": u.s_cost_per_correct_label,
            "cost_over_effort": u.s_cost_over_effort,
            "reward_share_lazy": u.s_reward_share_lazy,
            "reward_share_cartel": u.s_reward_share_cartel,
            "reward_share_sybil": u.s_reward_share_sybil,
            "gini_rewards": u.s_gini_rewards,
            "reward_correct_corr": u.s_reward_correct_corr,
        },
    },
    {
        "policies": {"adapt": p_adapt},
        "variables": {
            "strategy": u.take("strategy"),
            "active": u.take("active"),
            "profit": u.take("profit"),
            "stake": u.take("stake"),
            "stake_deposited": u.s_stake_deposited,
            "stake_returned": u.s_stake_returned,
            "stake_locked": u.s_stake_locked,
            "participation": u.s_participation,
            "share_lazy_labelers": u.s_share_lazy_labelers,
        },
    },
]


# Seconds per work unit, measured at the defaults with 20 samples in a batch on the reference
# machine: 9.1e-4 s (gold) to 1.0e-3 s (yuma) per sample-epoch for 96,800 units.
SECONDS_PER_UNIT = 1.0e-8


def cost(params) -> float:
    """Seconds per sample per epoch: label slots times (EM iterations x classes + validator
    audits), plus per-identity state (confusion counts, bonds), times :data:`SECONDS_PER_UNIT`."""
    slots = params["n_tasks"] * params["labels_per_task"]
    k = params["n_classes"]
    per_slot = params["ds_iterations"] * k * 3 + params["n_validators"] + 20
    per_identity = k * k + params["n_validators"] + 20
    return SECONDS_PER_UNIT * float(slots * per_slot + params["n_labelers"] * per_identity)


MODEL = register(
    Model(
        name="labeling",
        version="1.0",
        title="Data-labeling rewards: which reward rule buys accurate labels cheaply",
        description=FAMILY_DOC,
        schema=SCHEMA,
        initial_state=initial_state,
        blocks=BLOCKS,
        metrics=METRICS,
        agent_state=AGENT_STATE,
        cost=cost,
        time_unit="epoch",
    )
)
