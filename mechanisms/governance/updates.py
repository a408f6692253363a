"""State updates of the governance model; all pure (they return new arrays).

Voting moves no tokens: holder balances never change. Two token flows leave the attacker's
balance: slashing (to ``burned``) and loan fees (to the lenders, ``loan_fees``; borrowed principal
is returned within the vote), so ``balances + attacker + burned + loan_fees`` stays equal to the
tokens that existed at the start (``minted``).
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core.updates import take

from .metrics import COUNTERS, RATES


def s_attacker_tokens(params, substep, history, state, policy, *args):
    return "attacker_tokens", state["attacker_tokens"] - policy["slashed"] - policy["fee"]


def s_loan_fees(params, substep, history, state, policy, *args):
    return "loan_fees", state["loan_fees"] + policy["fee"]


def s_burned(params, substep, history, state, policy, *args):
    return "burned", state["burned"] + policy["slashed"]


def s_voice_credits(params, substep, history, state, policy, *args):
    """Credits left after this proposal; at the end of a period each holder receives its allocation,
    on top of what is left if ``credit_carry``, else in place of it (unspent credits expire)."""
    # only the quadratic rule spends credits (the policy reports zeros otherwise, and x - 0 is x)
    spends = params["rule"] == "quadratic"
    left = state["voice_credits"] - policy["credits_spent"] if spends else state["voice_credits"]
    period_ends = (np.mod(state["proposals"] + 1, params["credit_period"]) == 0)[:, None]
    if not spends and not period_ends.any():
        return "voice_credits", left  # unchanged (updates never write into state arrays)
    refilled = np.where(params["credit_carry"], left, 0.0) + state["credit_allocation"]
    return "voice_credits", np.where(period_ends, refilled, left)


def _accumulate(name: str):
    """An update adding the policy's increment to counter ``name``."""

    def update(params, substep, history, state, policy, *args):
        return name, state[name] + policy[name]

    update.__name__ = f"s_{name}"
    return update


def _metric(name: str):
    """An update recomputing metric ``name`` from the counters (see :mod:`.metrics`)."""
    rate = RATES[name]

    def update(params, substep, history, state, policy, *args):
        return name, rate(state)

    update.__name__ = f"s_{name}"
    return update


VOTE_UPDATES = {
    "attacker_tokens": s_attacker_tokens,
    "burned": s_burned,
    "voice_credits": s_voice_credits,
    "loan_fees": s_loan_fees,
    "identity_stock": take("identity_stock"),
    **{name: _accumulate(name) for name in COUNTERS},
}

METRIC_UPDATES = {name: _metric(name) for name in RATES}
