"""Initial state of the inflation model: token accounts, price, controller memory, holders, metrics.

The economy starts in the same place for every sample: ``initial_supply`` tokens split into
staked, treasury and a liquid float; the price is normalised to 1 USD by choosing the scale of
usage demand (``demand_scale``) so that demand equals the float's value at zero momentum. Only
the governance holders are random (drawn from the sample's generator). The adaptive policies'
parameter vectors start as their parameters' values; the tuned ones come from :mod:`.tuning`.
"""
from __future__ import annotations

import numpy as np

from mechanisms.governance.state import delegation

from .controllers import N_FEATURES, default_vector
from .metrics import initial_metrics


def economy_state(p, size: int) -> dict[str, np.ndarray]:
    """Deterministic accounts, price and controller memory for ``size`` samples."""
    ones = np.ones(size)
    supply = p["initial_supply"] * ones
    staked = p["initial_staking_ratio"] * supply
    treasury = p["initial_treasury_share"] * supply
    circulating = supply - staked - treasury
    rate = p["fixed_rate"] * ones if p["policy"] == "fixed" else p["initial_rate"] * ones
    state = {
        "day": np.zeros(size, dtype=np.int64),
        "usage": ones.copy(),
        "demand_scale": circulating / (1.0 + p["spec_share"]),
        "supply": supply, "circulating": circulating, "staked": staked, "treasury": treasury,
        "minted": np.zeros(size), "burned": np.zeros(size),
        "price": ones.copy(), "peak_price": ones.copy(), "price_ema": ones.copy(),
        "log_return": np.zeros(size), "momentum": np.zeros(size),
        "inflation_rate": rate, "gap_ema": np.zeros(size),
        "pid_integral": np.zeros(size), "pid_error": p["target_staking_ratio"] - staked / supply,
        "pending_rate": rate.copy(), "pending_day": np.full(size, -1, dtype=np.int64),
        "policy_vector": np.zeros((size, N_FEATURES)),
    }
    return {**state, **initial_metrics(p, state)}


def holder_state(p, rng) -> dict[str, np.ndarray]:
    """Governance holders ``(B, n_holders)``: token stakes, staker flags and delegation.

    The first ``n_whales`` holders are validators holding ``whale_share`` of the voting tokens (and
    always staking); the others hold lognormal balances, stake with probability
    ``initial_staking_ratio`` and delegate their votes as in :mod:`mechanisms.governance`
    (``delegation``: each delegates with probability ``gov_delegation_share`` to one of the
    ``gov_n_delegates`` largest community wallets). Stakes are in tokens of the initial supply.
    """
    n, whales = p["n_holders"], p["n_whales"]
    raw = rng.lognormal(size=n, mean=0.0, sigma=p["holder_sigma"])
    is_whale = np.broadcast_to(np.arange(n) < whales, raw.shape)
    others = np.where(is_whale, 0.0, raw)
    others = others / others.sum(axis=1, keepdims=True) * (1.0 - np.reshape(p["whale_share"], (-1, 1)))
    whale_weight = np.reshape(p["whale_share"], (-1, 1)) / max(whales, 1)
    staker = ~is_whale & (rng.random(size=n) < np.reshape(p["initial_staking_ratio"], (-1, 1)))
    stake = np.where(is_whale, whale_weight, others) * np.reshape(p["initial_supply"], (-1, 1))
    delegate_of = delegation(stake[:, whales:], {"n_delegates": p["gov_n_delegates"],
                                                 "delegation_share": np.broadcast_to(p["gov_delegation_share"], len(rng))},
                             rng)
    return {"holder_stake": stake, "holder_staker": staker, "holder_delegate": delegate_of}


def base_state(params, rng) -> dict[str, np.ndarray]:
    """The initial state of a batch with the policies' untuned parameter vectors
    (:func:`mechanisms.inflation.model.initial_state` puts the tuned ones in)."""
    state = {**economy_state(params, len(rng)), **holder_state(params, rng)}
    state["policy_vector"] = np.stack([default_vector(row) for row in batch_rows(params, len(rng))])
    return state


def batch_rows(params, size: int) -> list[dict]:
    """The scalar parameters of each row of a batch (cadCAD's params: arrays of length ``size``)."""
    return [{name: (value[i].item() if isinstance(value, np.ndarray) else value) for name, value in params.items()
             if name != "rng"} for i in range(size)]
