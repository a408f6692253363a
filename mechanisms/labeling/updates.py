"""cadCAD state updates of the labeling model.

The policies compute each epoch's outcome; the updates only fold it into the state: token
accounts (minted = paid out + treasury; stake deposited = stake locked + burned + returned) and
the metrics. Every update returns a new array and never modifies its inputs.
"""
from __future__ import annotations

import numpy as np

from mechanisms.core.updates import take

from .metrics import CARTEL, LAZY, SYBIL, group_share, lazy_share, masked_gini, row_correlation


def s_stake_after_slash(params, substep, history, state, policy, *args):
    return "stake", state["stake"] - policy["fines"]


def s_cum_reward(params, substep, history, state, policy, *args):
    return "cum_reward", state["cum_reward"] + policy["payments"]


def s_cum_correct(params, substep, history, state, policy, *args):
    return "cum_correct", state["cum_correct"] + policy["right_labels"]


def s_correct_labels(params, substep, history, state, policy, *args):
    return "correct_labels", state["correct_labels"] + policy["correct_tasks"]


def s_minted(params, substep, history, state, policy, *args):
    return "minted", state["minted"] + params["emission"]


def _epoch_paid(policy) -> np.ndarray:
    return policy["payments"].sum(axis=1) + policy["validator_payments"].sum(axis=1)


def s_paid_out(params, substep, history, state, policy, *args):
    return "paid_out", state["paid_out"] + _epoch_paid(policy)


def s_treasury(params, substep, history, state, policy, *args):
    return "treasury", state["treasury"] + policy["unpaid"]


def s_burned(params, substep, history, state, policy, *args):
    return "burned", state["burned"] + policy["fines"].sum(axis=1)


def s_stake_locked_after_slash(params, substep, history, state, policy, *args):
    return "stake_locked", (state["stake"] - policy["fines"]).sum(axis=1)


def _cost_per_correct(state, policy) -> np.ndarray:
    paid = state["paid_out"] + _epoch_paid(policy)
    correct = state["correct_labels"] + policy["correct_tasks"]
    return np.where(correct > 0, paid / np.where(correct > 0, correct, 1.0), np.nan)


def s_cost_per_correct_label(params, substep, history, state, policy, *args):
    return "cost_per_correct_label", _cost_per_correct(state, policy)


def s_cost_over_effort(params, substep, history, state, policy, *args):
    effort = params["labels_per_task"] * params["effort_cost"]
    ratio = _cost_per_correct(state, policy) / np.where(effort > 0, effort, 1.0)
    return "cost_over_effort", np.where(effort > 0, ratio, np.nan)


def _share(policy, group_mask, validator_extra=0.0) -> np.ndarray:
    """Share of the epoch's payments (labelers and validators) that went to the group."""
    return group_share(policy["payments"], group_mask, validator_extra, _epoch_paid(policy))


def s_reward_share_lazy(params, substep, history, state, policy, *args):
    return "reward_share_lazy", _share(policy, np.isin(state["strategy"], LAZY))


def s_reward_share_cartel(params, substep, history, state, policy, *args):
    cartel_validator = policy["validator_payments"][:, 0]  # validator 0 is the cartel's
    return "reward_share_cartel", _share(policy, state["strategy"] == CARTEL, cartel_validator)


def s_reward_share_sybil(params, substep, history, state, policy, *args):
    return "reward_share_sybil", _share(policy, state["strategy"] == SYBIL)


def s_gini_rewards(params, substep, history, state, policy, *args):
    return "gini_rewards", masked_gini(policy["payments"], state["active"])


def s_reward_correct_corr(params, substep, history, state, policy, *args):
    rewards = state["cum_reward"] + policy["payments"]
    correct = state["cum_correct"] + policy["right_labels"]
    return "reward_correct_corr", row_correlation(rewards, correct)


def s_stake_deposited(params, substep, history, state, policy, *args):
    return "stake_deposited", state["stake_deposited"] + policy["deposits"]


def s_stake_returned(params, substep, history, state, policy, *args):
    return "stake_returned", state["stake_returned"] + policy["returned"]


def s_stake_locked(params, substep, history, state, policy, *args):
    return "stake_locked", policy["stake"].sum(axis=1)


def s_participation(params, substep, history, state, policy, *args):
    return "participation", policy["active"].mean(axis=1)


def s_share_lazy_labelers(params, substep, history, state, policy, *args):
    return "share_lazy_labelers", lazy_share(policy["strategy"], policy["active"])
