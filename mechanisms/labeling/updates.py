"""cadCAD state updates of the labeling model: token accounts and per-identity histories.

The policies compute each epoch's outcome and its metrics (in :mod:`.metrics`); the updates only
fold it into the state. Token accounts: minted = paid out (labelers, validators, subnet owner,
gold-label makers) + treasury; stake deposited = stake locked + burned + returned. Every update
returns a new array and never modifies its inputs.
"""
from __future__ import annotations


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


def s_paid_out(params, substep, history, state, policy, *args):
    return "paid_out", state["paid_out"] + policy["epoch_paid"]


def s_paid_validators(params, substep, history, state, policy, *args):
    return "paid_validators", state["paid_validators"] + policy["validator_payments"].sum(axis=1)


def s_paid_owner(params, substep, history, state, policy, *args):
    return "paid_owner", state["paid_owner"] + policy["owner_payment"]


def s_paid_gold(params, substep, history, state, policy, *args):
    return "paid_gold", state["paid_gold"] + policy["gold_payment"]


def s_treasury(params, substep, history, state, policy, *args):
    return "treasury", state["treasury"] + policy["unpaid"]


def s_burned(params, substep, history, state, policy, *args):
    return "burned", state["burned"] + policy["fines"].sum(axis=1)


def s_stake_locked_after_slash(params, substep, history, state, policy, *args):
    return "stake_locked", (state["stake"] - policy["fines"]).sum(axis=1)


def s_stake_deposited(params, substep, history, state, policy, *args):
    return "stake_deposited", state["stake_deposited"] + policy["deposits"]


def s_stake_returned(params, substep, history, state, policy, *args):
    return "stake_returned", state["stake_returned"] + policy["returned"]


def s_stake_locked(params, substep, history, state, policy, *args):
    return "stake_locked", policy["stake"].sum(axis=1)
