"""Initial state of the governance model: holders, stake ages, delegation, the attacker's tables.

Holder arrays are ``(B, n_community + n_whales)``: community wallets first, then whales. The
attacker is kept apart (its balance and its stock of verified fake identities are ``(B,)``). Stake ages are stored as of the first proposal; everyone keeps their stake, so the age at
a later proposal is that plus the number of proposals so far (the attacker's starts at
``whale_stake_age``). Draw order is fixed and does not depend on the voting rule, so
parameter points that differ only in the rule see the same holders under common random numbers.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tokensim.mechanisms.core import DataFileError, StateVar
from tokensim.mechanisms.core.seeding import BatchRNG

from .holders import community_balances, load_balances
from .metrics import COUNTERS, METRICS, rates
from .voting import PERSONHOOD_RULES, voice_credit_allocation


def holder_balances(params: Mapping[str, Any], rng: BatchRNG) -> tuple[np.ndarray, np.ndarray, int]:
    """``(balances (B, n_holders), attacker tokens (B,), n_community)``."""
    size, n_whales = len(rng), params["n_whales"]
    if params["balances_csv"]:
        real = load_balances(params["balances_csv"])
        n_community = len(real) - n_whales
        if n_community < 1 or params["n_delegates"] > n_community:
            raise DataFileError(
                f"{params['balances_csv']}: {len(real)} holders is too few for n_whales = {n_whales} and "
                f"n_delegates = {params['n_delegates']} (needs at least n_whales + max(1, n_delegates) rows)"
            )
        holders = np.concatenate([real[n_whales:], real[:n_whales]])
        balances = np.broadcast_to(holders, (size, len(holders))).copy()
        share = params["attacker_share"]
        attacker = share * holders.sum() / (1.0 - share)
        return balances, attacker, n_community
    supply = params["total_supply"]
    community_total = supply * (1.0 - params["whale_share"] - params["attacker_share"])
    community = community_balances(params["balance_dist"], params["top1_share"], community_total,
                                   params["n_community"], rng)
    whales = np.repeat((params["whale_share"] * supply / max(n_whales, 1))[:, None], n_whales, axis=1)
    return np.concatenate([community, whales], axis=1), params["attacker_share"] * supply, params["n_community"]


def delegation(community: np.ndarray, params: Mapping[str, Any], rng: BatchRNG) -> np.ndarray:
    """``delegate_of`` (B, n_community): the delegate's column, or -1 for wallets voting themselves.

    Delegates are the ``n_delegates`` largest community wallets; each other wallet delegates with
    probability ``delegation_share`` to a delegate picked uniformly.
    """
    n_delegates = params["n_delegates"]
    delegates = largest(community, n_delegates)
    delegates_now = rng.random(size=community.shape[1]) < params["delegation_share"][:, None]
    choice = rng.integers(size=community.shape[1], low=0, high=n_delegates)
    is_delegate = np.zeros(community.shape, dtype=bool)
    np.put_along_axis(is_delegate, delegates, True, axis=1)
    return np.where(delegates_now & ~is_delegate, np.take_along_axis(delegates, choice, axis=1), -1)


def largest(values: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` largest values of each row, largest first, ties by lower column.

    Exactly ``np.argsort(-values, axis=1, kind="stable")[:, :k]``, at the cost of a partition: the
    ``k`` candidates of a row are sorted alone when the row's ``k``-th value is not tied with a value
    outside them; rows with such a tie take the full stable sort.
    """
    n = values.shape[1]
    if k >= n:
        return np.argsort(-values, axis=1, kind="stable")[:, :k]
    top = np.argpartition(-values, k - 1, axis=1)[:, :k]
    top_values = np.take_along_axis(values, top, axis=1)
    order = np.lexsort((top, -top_values), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    threshold = np.take_along_axis(values, top[:, -1:], axis=1)
    tied = (values >= threshold).sum(axis=1) > k
    if tied.any():
        top[tied] = np.argsort(-values[tied], axis=1, kind="stable")[:, :k]
    return top


def turnout_probability(stake: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """``base_turnout * v / (v + participation_cost)`` per wallet for its stake value ``v``.

    ``v = stake * price`` with the token price set so the mean community wallet is worth
    ``mean_wallet_value``; both are in currency, so turnout is the same whatever the token unit
    (``total_supply``) or the number of wallets sharing it. A wallet with no stake does not vote.
    Balances only change by slashing the attacker, so this is computed once per run.
    """
    mean_stake = stake.mean(axis=1, keepdims=True)
    value = stake * params["mean_wallet_value"][:, None] / np.where(mean_stake > 0, mean_stake, 1.0)
    cost = params["participation_cost"][:, None]
    denominator = value + cost
    share = np.where(denominator > 0, value / np.where(denominator > 0, denominator, 1.0), 0.0)
    return params["base_turnout"][:, None] * share


def fake_pass_probability(params: Mapping[str, Any], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample pass probabilities of a fabricated and of a bought real-person identity.

    Under the per-person rules these are ``personhood_pass`` and ``market_pass``; rules that check
    no identity let every identity through (1).
    """
    if params["rule"] in PERSONHOOD_RULES:
        return (np.asarray(params["personhood_pass"], dtype=float), np.asarray(params["market_pass"], dtype=float))
    return np.ones(size), np.ones(size)


def initial_state(params: Mapping[str, Any], rng: BatchRNG) -> dict[str, np.ndarray]:
    """The batched initial state (see the module docstring)."""
    size = len(rng)
    balances, attacker, n_community = holder_balances(params, rng)
    community_age = rng.integers(size=n_community, low=0, high=2 * params["community_stake_age"] + 1)
    whale_age = np.repeat(params["whale_stake_age"][:, None], balances.shape[1] - n_community, axis=1)
    attacker = np.broadcast_to(np.asarray(attacker, dtype=float), (size,)).copy()
    allocation = voice_credit_allocation(balances, params["credit_basis"], params["voice_credits"][:, None],
                                         balances[:, :n_community].mean(axis=1)[:, None])
    state = {
        "balances": balances,
        "first_stake_age": np.concatenate([community_age, whale_age], axis=1).astype(float),
        "turnout_probability": turnout_probability(balances[:, :n_community], params),
        "delegate_of": delegation(balances[:, :n_community], params, rng),
        "attacker_tokens": attacker,
        "burned": np.zeros(size),
        "loan_fees": np.zeros(size),
        "identity_stock": np.zeros(size),
        "minted": balances.sum(axis=1) + attacker,
        "credit_allocation": allocation,
        "voice_credits": allocation.copy(),
    }
    state.update({name: np.zeros(size) for name in COUNTERS})
    state.update(rates(state))
    return state


HOLDERS = ("n_community + n_whales",)
_COUNTER_MEANING = {
    "proposals": "proposals decided so far",
    "captured": "proposals decided against the community's utility-weighted preference",
    "captured_clean": "the same with no adversary (whales with the community, no attacker), same draws",
    "captured_whales": "the same with the whales as drawn and no attacker, same draws",
    "captured_headcount": "proposals decided against the community's head-count majority",
    "whale_contested": "proposals the whales contested",
    "whale_vetoed": "contested proposals the whales overturned",
    "attacker_flips": "proposals whose outcome the attacker flipped",
    "outlay": "attacker's outlay: identities, slashed tokens, loan fees, capital cost",
    "identity_spend": "attacker's spending on identities",
    "fake_votes": "votes cast by fake identities (identity-proposals)",
    "borrowed_sum": "tokens borrowed for votes",
    "capital_cost": "attacker's capital cost (opportunity cost and price impact)",
    "passed": "proposals passed",
    "turnout_sum": "sum over proposals of the share of community wallets represented",
    "gini_sum": "sum over proposals of the Gini of power cast",
    "nakamoto_sum": "sum over proposals of the Nakamoto coefficient of power cast",
    "top10_sum": "sum over proposals of the top-10 entities' share of power cast",
    "tokens_cast_sum": "sum over proposals of the tokens voted as a share of supply",
    "welfare_loss_sum": "sum over proposals of community utility lost per member",
    "identities_sum": "sum over proposals of the identities the attacker split over",
    "sybil_gain_sum": "sum over proposals of the attacker's expected gain from buying identities",
}
STATE = (
    StateVar("balances", "token balances: community wallets, then whales", "agent", HOLDERS, "tokens", constant=True),
    StateVar("first_stake_age", "stake age at the first proposal (stake_age rule)", "agent", HOLDERS, "proposals", constant=True),
    StateVar("turnout_probability", "probability that a community wallet votes", "agent", ("n_community",), constant=True),
    StateVar("delegate_of", "column of a wallet's delegate, -1 if it votes itself", "agent", ("n_community",), constant=True),
    StateVar("credit_allocation", "voice credits a holder receives per period (quadratic rule)", "agent", HOLDERS,
             "credits", constant=True),
    StateVar("voice_credits", "voice credits a holder has left this period (quadratic rule)", "agent", HOLDERS,
             "credits"),
    StateVar("attacker_tokens", "the attacker's token balance", unit="tokens"),
    StateVar("burned", "tokens slashed from detected fake identities so far", unit="tokens"),
    StateVar("loan_fees", "tokens paid to lenders in loan fees so far", unit="tokens"),
    StateVar("identity_stock", "verified fake identities the attacker holds", unit="identities"),
    StateVar("minted", "tokens that existed at the start: balances + attacker + burned + loan_fees", unit="tokens", constant=True),
    *(StateVar(name, f"counter: {_COUNTER_MEANING[name]}") for name in COUNTERS),
    *(StateVar(m.name, f"metric: {m.description}", unit=m.unit) for m in METRICS
      if m.name not in ("burned", "identity_stock", "loan_fees")),
)
"""Every state variable of the model (the metrics included), as the contract requires."""
