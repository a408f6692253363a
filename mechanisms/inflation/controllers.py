"""Emission policies: who or what sets the annual inflation rate each day.

Each policy reads the economy as it stood at the end of the previous day and returns the rate for
the coming day plus its own memory. All share one signature so that the cadCAD block and the
learning controller's training loop (:mod:`.learning`) run the same code.

1. ``fixed``: a constant rate, optionally halved every ``halving_days`` (Bitcoin-like schedule).
2. ``cosmos``: Cosmos SDK x/mint ``NextInflationRate``: the rate changes by
   ``(1 - bonded_ratio / goal_bonded) * inflation_rate_change`` per year, applied in per-step
   increments and clipped to ``[rate_min, rate_max]``
   (https://docs.cosmos.network/v0.47/build/modules/mint, "NextInflationRate"; cosmos-sdk
   x/mint/types/minter.go). One step is one day, so ``steps_per_year = 365``.
3. ``pid``: a PID controller around ``initial_rate`` on the staking-ratio gap or on the log price
   deviation from its moving average (price stability: inflate when price runs above trend), with
   clamping anti-windup.
4. ``team``: a committee reviews every ``team_review_days``; it sees the staking ratio with noise,
   moves the rate by ``team_gain`` times the gap plus a self-interested ``team_bias`` and its
   decision takes effect ``team_delay`` days later.
5. ``governance``: every ``gov_vote_days`` token holders vote; each voter wants the current rate
   moved by ``gov_sensitivity`` times the staking gap, plus a bias (stakers want more emission,
   non-stakers less) and noise; the new rate is the token-weighted median wish of those who vote
   (whales, the validators, always vote; others with probability ``gov_turnout``), effective
   ``gov_delay`` days later. This small rule stands in for a full governance model.
6. ``learning``: a linear policy over observed features (see :func:`features`) whose weights
   :mod:`.learning` trains by the cross-entropy method on separate training seeds.
"""
from __future__ import annotations

import numpy as np

from mechanisms.core.seeding import BatchRNG

from .economy import DAYS_PER_YEAR


def staking_ratio(s) -> np.ndarray:
    """Staked share of supply."""
    return s["staked"] / s["supply"]


def staking_gap(p, s) -> np.ndarray:
    """How far the staking ratio is below its target (positive: too little stake)."""
    return p["target_staking_ratio"] - staking_ratio(s)


def cosmos_next_rate(rate, bonded_ratio, goal_bonded, rate_change, rate_min, rate_max, steps_per_year):
    """Cosmos SDK x/mint NextInflationRate for one step (see the module docstring for the source)."""
    change_per_year = (1.0 - bonded_ratio / goal_bonded) * rate_change
    return np.clip(rate + change_per_year / steps_per_year, rate_min, rate_max)


def features(p, s) -> np.ndarray:
    """Observed features of the learning policy, ``(B, 5)``: bias, staking gap, its 60-day
    average, price drawdown and 30-day-scaled momentum. No calendar feature, so the policy cannot
    memorise when a shock comes."""
    gap = staking_gap(p, s)
    drawdown = 1.0 - s["price"] / s["peak_price"]
    return np.stack([np.ones_like(gap), gap, s["gap_ema"], drawdown, 30.0 * s["momentum"]], axis=-1)


N_FEATURES = 5
GAP_EMA_DAYS = 60.0


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row, the smallest value at which the cumulative weight reaches half the row's total."""
    order = np.argsort(values, axis=1, kind="stable")
    v = np.take_along_axis(values, order, axis=1)
    cum = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    idx = np.argmax(cum >= 0.5 * cum[:, -1:], axis=1)
    return v[np.arange(len(v)), idx]


def _col(x) -> np.ndarray:
    return np.reshape(x, (-1, 1))


def _fixed(p, s, noise):
    day = s["day"]
    halvings = np.where(p["halving_days"] > 0, day // np.maximum(p["halving_days"], 1), 0)
    return p["fixed_rate"] * 0.5 ** halvings


def _cosmos(p, s, noise):
    return cosmos_next_rate(s["inflation_rate"], staking_ratio(s), p["target_staking_ratio"],
                            p["cosmos_rate_change"], p["rate_min"], p["rate_max"], DAYS_PER_YEAR)


def _pid_error(p, s) -> np.ndarray:
    if p["pid_target"] == "price":
        return np.log(s["price"] / s["price_ema"])
    return staking_gap(p, s)


def _pid(p, s, noise):
    err = _pid_error(p, s)
    integral = s["pid_integral"] + err / DAYS_PER_YEAR
    raw = p["initial_rate"] + p["pid_kp"] * err + p["pid_ki"] * integral + p["pid_kd"] * (err - s["pid_error"])
    saturated = ((raw > p["rate_max"]) & (err > 0)) | ((raw < p["rate_min"]) & (err < 0))
    return np.clip(raw, p["rate_min"], p["rate_max"]), {
        "pid_integral": np.where(saturated, s["pid_integral"], integral), "pid_error": err}


def _scheduled(p, s, due, decided, delay):
    """Queue ``decided`` where a review is ``due``; apply queued rates whose day has come."""
    pending_rate = np.where(due, decided, s["pending_rate"])
    pending_day = np.where(due, s["day"] + delay, s["pending_day"])
    rate = np.where(s["day"] == pending_day, pending_rate, s["inflation_rate"])
    return rate, {"pending_rate": pending_rate, "pending_day": pending_day}


def _team(p, s, noise):
    due = (s["day"] > 0) & (s["day"] % p["team_review_days"] == 0)
    observed = staking_ratio(s) + p["team_noise"] * noise["observation"]
    decided = s["inflation_rate"] + p["team_gain"] * (p["target_staking_ratio"] - observed) + p["team_bias"]
    return _scheduled(p, s, due, np.clip(decided, p["rate_min"], p["rate_max"]), p["team_delay"])


def _vote(p, s, vote_seed):
    """The token-weighted median wish of the holders who turn out (one vote per batch row).

    Each row's holder draws come from a generator seeded by that row's ``vote_seed`` for the day,
    so they never touch the row's main stream, vote day or not. The first ``n_whales`` holders are
    the whales, who always vote.
    """
    n = s["holder_weight"].shape[1]
    rng = BatchRNG([np.random.Generator(np.random.PCG64(int(seed))) for seed in vote_seed])
    wish_noise = rng.normal(size=n)
    turnout = rng.random(size=n)
    bias = np.where(s["holder_staker"], _col(p["gov_staker_bias"]), -_col(p["gov_holder_bias"]))
    wanted = s["inflation_rate"] + p["gov_sensitivity"] * staking_gap(p, s)
    wishes = _col(wanted) + bias + _col(p["gov_noise"]) * wish_noise
    whale = np.arange(n) < p["n_whales"]
    weights = s["holder_weight"] * (whale | (turnout < _col(p["gov_turnout"])))
    return np.where(weights.sum(axis=1) > 0, weighted_median(wishes, weights), s["inflation_rate"])


def _governance(p, s, noise):
    due = (s["day"] > 0) & (s["day"] % p["gov_vote_days"] == 0)
    outcome = _vote(p, s, noise["vote_seed"]) if due.any() else s["inflation_rate"]
    return _scheduled(p, s, due, np.clip(outcome, p["rate_min"], p["rate_max"]), p["gov_delay"])


def _learning(p, s, noise):
    rate = np.einsum("bk,bk->b", features(p, s), s["policy_weights"])
    return np.clip(rate, p["rate_min"], p["rate_max"])


RULES = {"fixed": _fixed, "cosmos": _cosmos, "pid": _pid, "team": _team, "governance": _governance, "learning": _learning}


def controller_noise(p, rng) -> dict[str, np.ndarray]:
    """The draws a policy needs each day, drawn every day so streams do not depend on batching."""
    if p["policy"] == "team":
        return {"observation": rng.normal()}
    if p["policy"] == "governance":  # a seed per row per day; the holders' draws only on vote days
        return {"vote_seed": rng.integers(low=0, high=2**63 - 1, dtype=np.int64)}
    return {}


def controller_step(p, s, noise) -> dict[str, np.ndarray]:
    """The rate for the coming day and the controllers' memory."""
    out = RULES[p["policy"]](p, s, noise)
    rate, memory = out if isinstance(out, tuple) else (out, {})
    gap_ema = s["gap_ema"] + (staking_gap(p, s) - s["gap_ema"]) / GAP_EMA_DAYS
    return {"inflation_rate": rate, "gap_ema": gap_ema, **memory}
