"""Initial state of the inflation model: token accounts, price, controller memory, holders, metrics.

The economy starts in the same place for every sample: ``initial_supply`` tokens split into
staked, treasury and a liquid float; the price is normalised to 1 USD by choosing the scale of
usage demand (``demand_scale``) so that demand equals the float's value at zero momentum. Only
the governance holders are random (drawn from the sample's generator). The adaptive policies'
parameter vectors start as their parameters' values; the tuned ones come from :mod:`.tuning`.
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core import StateVar
from tokensim.mechanisms.governance.state import delegation

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
    ``initial_staking_ratio`` and delegate their votes as in :mod:`tokensim.mechanisms.governance`
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
    (:func:`tokensim.mechanisms.inflation.model.initial_state` puts the tuned ones in)."""
    state = {**economy_state(params, len(rng)), **holder_state(params, rng)}
    state["policy_vector"] = np.stack([default_vector(row) for row in batch_rows(params, len(rng))])
    return state


def batch_rows(params, size: int) -> list[dict]:
    """The scalar parameters of each row of a batch (cadCAD's params: arrays of length ``size``)."""
    names = [name for name in params if name != "rng"]
    columns = [params[n].tolist() if isinstance(params[n], np.ndarray) else [params[n]] * size for n in names]
    return [dict(zip(names, values)) for values in zip(*columns)]


def _v(name, description, unit="", scope="aggregate", shape=(), constant=False):
    return StateVar(name, description, scope=scope, shape=shape, unit=unit, constant=constant)


# Every state variable of the model, metrics included (their meaning is in :mod:`.metrics`).
STATE = (
    _v("day", "days since the start", "days"),
    _v("usage", "usage-demand random walk, relative to day 0", "ratio"),
    _v("demand_scale", "USD of usage demand at usage 1 (set so the day-0 price is 1; constant)", "USD", constant=True),
    _v("supply", "total token supply", "tokens"),
    _v("circulating", "liquid tokens held by the public (the float)", "tokens"),
    _v("staked", "staked tokens", "tokens"),
    _v("treasury", "tokens in the treasury", "tokens"),
    _v("minted", "tokens minted since day 0", "tokens"),
    _v("burned", "tokens burned since day 0", "tokens"),
    _v("price", "token price", "USD"),
    _v("peak_price", "running maximum of the price", "USD"),
    _v("price_ema", "moving average of the price (PID price target)", "USD"),
    _v("log_return", "today's log price return", "1/day"),
    _v("momentum", "exponential average of daily log returns", "1/day"),
    _v("inflation_rate", "annual inflation rate in force", "1/yr"),
    _v("gap_ema", "60-day average of the staking gap (learner feature)", "share"),
    _v("pid_integral", "PID integral of the error", "share*yr"),
    _v("pid_error", "PID error of the previous day", "share"),
    _v("pending_rate", "rate decided by the team or vote, waiting to take effect", "1/yr"),
    _v("pending_day", "day the pending rate takes effect (-1: none)", "days"),
    _v("policy_vector", "the policy's settings: tuned, or its parameters (layout controllers.VECTOR; constant)",
       shape=("5",), constant=True),
    _v("holder_stake", "governance holders' tokens, whales first (constant)", "tokens", "agent", ("n_holders",), constant=True),
    _v("holder_staker", "non-whale holders who stake (constant)", "bool", "agent", ("n_holders",), constant=True),
    _v("holder_delegate", "delegate column of each non-whale holder, -1 if voting itself (constant)", "index",
       "agent", ("n_holders - n_whales",), constant=True),
    _v("staking_ratio", "staked share of supply", "share"),
    _v("supply0", "supply at day 0 (constant)", "tokens", constant=True),
    _v("return_sum", "sum of daily log returns", "1"),
    _v("return_sq_sum", "sum of squared daily log returns", "1"),
    _v("price_volatility", "annualised std of daily log price returns", "1/sqrt(yr)"),
    _v("max_drawdown", "largest fall from the running price peak", "share"),
    _v("gap_sq_sum", "sum of squared staking gaps", "share^2"),
    _v("staking_tracking_error", "RMS staking gap", "share"),
    _v("holder_dilution", "1 - supply0/supply", "share"),
    _v("treasury_runway", "treasury value / daily spending", "days"),
    _v("rate_changes", "rate moves of at least rate_tick", "count"),
    _v("counted_rate", "rate at the last counted move", "1/yr"),
    _v("rate_variation", "total absolute rate change", "1/yr"),
    _v("last_rate", "yesterday's rate", "1/yr"),
    _v("pre_shock_ratio", "staking ratio on the shock day", "share"),
    _v("dipped", "1 once the staking ratio fell below recovery_fraction of pre-shock", "0/1"),
    _v("recovery_day", "day the staking ratio recovered (-1: not yet)", "days"),
    _v("recovery_time", "days from the shock to the staking ratio's recovery", "days"),
    _v("recovered", "1 if the staking ratio recovered or never fell", "0/1"),
    _v("pre_shock_price", "price on the shock day", "USD"),
    _v("price_dipped", "1 once the price fell below price_recovery_fraction of pre-shock", "0/1"),
    _v("price_recovery_day", "day the price recovered (-1: not yet)", "days"),
    _v("price_recovery_time", "days from the shock to the price's recovery", "days"),
    _v("price_recovered", "1 if the price recovered or never fell", "0/1"),
)
