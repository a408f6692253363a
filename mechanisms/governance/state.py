"""Initial state of the governance model: holders, stake ages, delegation, the attacker's tables.

Holder arrays are ``(B, n_community + n_whales)``: community wallets first, then whales. The
attacker is kept apart (its balance and its stock of verified fake identities are ``(B,)``). Stake ages are stored as of the first proposal; everyone keeps their stake, so the age at
a later proposal is that plus the number of proposals so far (the attacker's starts at
``whale_stake_age``). Draw order is fixed and does not depend on the voting rule, so
parameter points that differ only in the rule see the same holders under common random numbers.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from mechanisms.core import DataFileError
from mechanisms.core.seeding import BatchRNG

from .holders import community_balances, load_balances
from .metrics import COUNTERS, rates
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
    delegates = np.argsort(-community, axis=1, kind="stable")[:, :n_delegates]
    delegates_now = rng.random(size=community.shape[1]) < params["delegation_share"][:, None]
    choice = rng.integers(size=community.shape[1], low=0, high=n_delegates)
    is_delegate = np.zeros(community.shape, dtype=bool)
    np.put_along_axis(is_delegate, delegates, True, axis=1)
    return np.where(delegates_now & ~is_delegate, np.take_along_axis(delegates, choice, axis=1), -1)


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
