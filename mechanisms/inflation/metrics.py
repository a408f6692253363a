"""Outcome metrics of the inflation model, kept as running per-sample values updated every day.

- ``price_volatility``: annualised standard deviation of daily log price returns so far.
- ``max_drawdown``: largest fall of the price from its running peak so far.
- ``staking_tracking_error``: root mean square of (staking ratio - target) over the days so far.
- ``holder_dilution``: ``1 - supply(0) / supply(t)``, the share of the network a passive,
  non-staking holder has lost (negative when burns outpace emission).
- ``treasury_runway``: treasury value divided by daily spending, in days (capped at 100 years).
- ``recovery_time``: in the crash scenario, days from the shock until the staking ratio is back at
  ``recovery_fraction`` of its pre-shock level after falling below it; while not yet recovered,
  the days since the shock (censored at the horizon); 0 when it never fell below.
  ``recovered`` is 1 once recovered (or if it never fell below), else 0.
- ``price_recovery_time`` / ``price_recovered``: the same for the price against
  ``price_recovery_fraction`` of its price on the shock day (the staking ratio can recover while
  the price does not).
- ``rate_changes``: how many times the rate moved at least ``rate_tick`` away from the last counted
  level (a continuous drift of 1 point counts as 1/tick changes, a single 1-point jump as one).
- ``rate_variation``: total absolute change of the annual rate so far.
Plus the time series ``price``, ``supply``, ``staking_ratio``, ``inflation_rate`` and the token
accounts ``circulating``, ``staked``, ``treasury``, ``minted``, ``burned``.
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core import Metric

from .economy import DAYS_PER_YEAR

MAX_RUNWAY_DAYS = 36500.0

METRICS = (
    Metric("price_volatility", "annualised std of daily log price returns", "1/sqrt(yr)", "last", "lower"),
    Metric("max_drawdown", "largest fall from the running price peak", "share", "last", "lower", bounds=(0, 1)),
    Metric("staking_tracking_error", "RMS gap between staking ratio and its target", "share", "last", "lower", bounds=(0, 1)),
    Metric("holder_dilution", "share of the network a passive holder has lost, 1 - supply0/supply", "share", "last", "lower"),
    Metric("treasury_runway", "treasury value / daily spending", "days", "last", "higher"),
    Metric("recovery_time", "days from the crash until the staking ratio is back at recovery_fraction of pre-crash", "days", "last", "lower"),
    Metric("recovered", "1 if the staking ratio has recovered after the crash (or never fell)", "0/1", "last", "higher",
           bounds=(0, 1)),
    Metric("price_recovery_time", "days from the crash until the price is back at price_recovery_fraction of pre-crash", "days", "last", "lower"),
    Metric("price_recovered", "1 if the price has recovered after the crash (or never fell)", "0/1", "last", "higher", bounds=(0, 1)),
    Metric("rate_changes", "number of rate moves of at least rate_tick", "count", "last", "lower"),
    Metric("rate_variation", "total absolute change of the annual inflation rate", "1/yr", "last", "lower"),
    Metric("price", "token price", "USD", "last"),
    Metric("supply", "total token supply", "tokens", "last"),
    Metric("staking_ratio", "staked share of supply", "share", "last", bounds=(0, 1)),
    Metric("inflation_rate", "annual inflation rate in force", "1/yr", "mean"),
    Metric("circulating", "liquid tokens held by the public (the float)", "tokens", "last"),
    Metric("staked", "staked tokens", "tokens", "last"),
    Metric("treasury", "tokens in the treasury", "tokens", "last"),
    Metric("minted", "tokens minted since day 0", "tokens", "last"),
    Metric("burned", "tokens burned since day 0", "tokens", "last"),
)


def initial_metrics(p, s) -> dict[str, np.ndarray]:
    """Metric and helper values at day 0 (``s`` holds the initial accounts and price)."""
    zeros = np.zeros_like(s["supply"])
    ratio = s["staked"] / s["supply"]
    gap = ratio - p["target_staking_ratio"]
    return {
        "price_volatility": zeros, "max_drawdown": zeros, "staking_tracking_error": np.abs(gap),
        "holder_dilution": zeros, "treasury_runway": runway(p, s["treasury"], s["price"]),
        "recovery_time": zeros, "recovered": zeros + 1.0, "rate_changes": zeros, "rate_variation": zeros,
        "staking_ratio": ratio, "supply0": s["supply"].copy(), "return_sum": zeros,
        "return_sq_sum": zeros, "gap_sq_sum": gap**2, "pre_shock_ratio": ratio, "dipped": zeros,
        "recovery_day": zeros - 1.0,
        "pre_shock_price": s["price"].copy(), "price_dipped": zeros, "price_recovery_day": zeros - 1.0,
        "price_recovery_time": zeros, "price_recovered": zeros + 1.0, "counted_rate": s["inflation_rate"].copy(), "last_rate": s["inflation_rate"].copy(),
    }


def runway(p, treasury, price) -> np.ndarray:
    """Days the treasury can pay its spending at today's price (capped; uncapped spending of 0)."""
    spend = np.broadcast_to(np.asarray(p["treasury_spend_usd"], dtype=float), np.shape(treasury))
    days = np.full(np.shape(treasury), MAX_RUNWAY_DAYS)
    with np.errstate(over="ignore"):  # a tiny spend overflows to inf, which the cap handles
        np.divide(treasury * price, spend, out=days, where=spend > 0)
    return np.minimum(days, MAX_RUNWAY_DAYS)


def recovery(p, s, value, fraction, prefix: str = ""):
    """Recovery of ``value`` (the staking ratio, or the price with ``prefix="price_"``) after the crash.

    Returns the pre-shock level, the dip flag, the first recovery day, the recovery time and the
    recovered flag under their state names: a series has *dipped* once it falls below ``fraction``
    of its level on the shock day, and *recovered* on the first later day it is back at or above
    that line. Only the crash scenario has a shock; elsewhere nothing is returned (the initial
    values, never dipped, stand).
    """
    day = s["day"]
    if p["scenario"] != "crash":
        return {}
    pre_key = "pre_shock_price" if prefix else "pre_shock_ratio"
    pre = np.where(day <= p["shock_day"], value, s[pre_key])
    below = (day > p["shock_day"]) & (value < fraction * pre)
    dipped = (s[f"{prefix}dipped"] > 0) | below
    first = dipped & ~below & (s[f"{prefix}recovery_day"] < 0)
    recovery_day = np.where(first, day, s[f"{prefix}recovery_day"])
    since = (day - p["shock_day"]).astype(float)
    time = np.where(recovery_day >= 0, recovery_day - p["shock_day"], np.where(dipped, since, 0.0))
    return {pre_key: pre, f"{prefix}dipped": dipped.astype(float),
            f"{prefix}recovery_day": recovery_day, f"{prefix}recovery_time": time,
            f"{prefix}recovered": (~dipped | (recovery_day >= 0)).astype(float)}


def metrics_step(p, s) -> dict[str, np.ndarray]:
    """Running metrics after a day of the economy (``s`` already holds the new accounts)."""
    n = s["day"].astype(float)
    ratio = s["staked"] / s["supply"]
    gap = ratio - p["target_staking_ratio"]
    r = s["log_return"]
    return_sum, return_sq_sum = s["return_sum"] + r, s["return_sq_sum"] + r**2
    variance = np.maximum(return_sq_sum / n - (return_sum / n) ** 2, 0.0)
    gap_sq_sum = s["gap_sq_sum"] + gap**2
    rate = s["inflation_rate"]
    tick = np.abs(rate - s["counted_rate"]) >= p["rate_tick"]
    out = {
        "staking_ratio": ratio,
        "return_sum": return_sum,
        "return_sq_sum": return_sq_sum,
        "price_volatility": np.sqrt(variance * DAYS_PER_YEAR),
        "max_drawdown": np.maximum(s["max_drawdown"], 1.0 - s["price"] / np.maximum(s["peak_price"], s["price"])),
        "peak_price": np.maximum(s["peak_price"], s["price"]),
        "gap_sq_sum": gap_sq_sum,
        "staking_tracking_error": np.sqrt(gap_sq_sum / (n + 1.0)),
        "holder_dilution": 1.0 - s["supply0"] / s["supply"],
        "treasury_runway": runway(p, s["treasury"], s["price"]),
        "rate_changes": s["rate_changes"] + tick,
        "counted_rate": np.where(tick, rate, s["counted_rate"]),
        "rate_variation": s["rate_variation"] + np.abs(rate - s["last_rate"]),
        "last_rate": rate,
    }
    return {**out, **recovery(p, s, ratio, p["recovery_fraction"]),
            **recovery(p, s, s["price"], p["price_recovery_fraction"], "price_")}
