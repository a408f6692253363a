"""Emission policies: who or what sets the annual inflation rate each day.

Each policy reads the economy as it stood at the end of the previous day and returns the rate for
the coming day plus its own memory. All share one signature so that the cadCAD block and the
tuner's rollouts (:mod:`.tuning`) run the same code.

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
   decision takes effect ``team_delay`` days later. With an information edge
   (``team_lead_days > 0``) it sees the demand shock that many days early: it meets at once when
   it foresees a fall of more than 10% and adds ``team_edge_gain`` times the foreseen fall.
5. ``governance``: every ``gov_vote_days`` a proposal to move the rate toward the staking target
   is put to a token vote counted with :mod:`tokensim.mechanisms.governance`'s turnout, delegation, tally
   and decision functions (see :func:`_vote`), effective ``gov_delay`` days later.
6. ``learning``: a linear policy over observed features (see :func:`features`).

The adaptive policies' own settings (Cosmos rate change and goal, PID gains, the team's reaction
rule, the learner's weights) are read from the state variable ``policy_vector`` (layout
:data:`VECTOR`), which holds either the parameters' values or what the tuner (:mod:`.tuning`)
chose for them with the same budget for every policy.
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core.seeding import BatchRNG
from tokensim.mechanisms.governance.state import turnout_probability
from tokensim.mechanisms.governance.voting import decide, delegate_stake, tally

from .economy import DAYS_PER_YEAR
from .scenarios import shock_multiplier


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
TEAM_ALARM = 0.1  # a foreseen demand fall of 10% makes the team meet before its next review

# What each policy's parameter vector (state ``policy_vector``, ``(B, N_FEATURES)``) holds: the
# settings the tuner (:mod:`.tuning`) chooses, or the parameters' own values without tuning.
# Unused trailing entries are 0.
VECTOR = {
    "cosmos": ("cosmos_rate_change", "cosmos_goal"),
    "pid": ("pid_kp", "pid_ki"),
    "team": ("team_gain", "team_edge_gain"),
    "learning": ("w_bias", "w_gap", "w_gap_ema", "w_drawdown", "w_momentum"),
}


def default_vector(p) -> np.ndarray:
    """The untuned parameter vector of ``p``'s policy (scalars): its parameters' values; the
    learner's untuned weights hold ``initial_rate`` (a constant rate)."""
    vector = np.zeros(N_FEATURES)
    if p["policy"] == "learning":
        vector[0] = p["initial_rate"]
    else:
        for k, name in enumerate(VECTOR.get(p["policy"], ())):
            vector[k] = p[name]
    return vector


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
    v = s["policy_vector"]
    return cosmos_next_rate(s["inflation_rate"], staking_ratio(s), v[:, 1], v[:, 0], p["rate_min"], p["rate_max"],
                            DAYS_PER_YEAR)


def _pid_error(p, s) -> np.ndarray:
    if p["pid_target"] == "price":
        return np.log(s["price"] / s["price_ema"])
    return staking_gap(p, s)


def _pid(p, s, noise):
    kp, ki = s["policy_vector"][:, 0], s["policy_vector"][:, 1]
    err = _pid_error(p, s)
    integral = s["pid_integral"] + err / DAYS_PER_YEAR
    raw = p["initial_rate"] + kp * err + ki * integral + p["pid_kd"] * (err - s["pid_error"])
    saturated = ((raw > p["rate_max"]) & (err > 0)) | ((raw < p["rate_min"]) & (err < 0))
    return np.clip(raw, p["rate_min"], p["rate_max"]), {
        "pid_integral": np.where(saturated, s["pid_integral"], integral), "pid_error": err}


def _scheduled(p, s, due, decided, delay):
    """Queue ``decided`` where a review is ``due``; apply queued rates whose day has come.

    A review only happens once the previous decision is in force (one decision in the pipeline),
    so reviews more frequent than the delay act every ``delay + 1`` days instead of never.
    """
    due = due & (s["pending_day"] < s["day"])
    pending_rate = np.where(due, decided, s["pending_rate"])
    pending_day = np.where(due, s["day"] + delay, s["pending_day"])
    rate = np.where(s["day"] == pending_day, pending_rate, s["inflation_rate"])
    return rate, {"pending_rate": pending_rate, "pending_day": pending_day}


def foreseen_fall(p, day) -> np.ndarray:
    """The fall of usage demand the team foresees ``team_lead_days`` ahead (its information edge):
    ``1 - m(day + lead) / m(day)`` of the scenario's shock profile, 0 without an edge."""
    lead = p["team_lead_days"]
    return 1.0 - shock_multiplier(p, day + lead) / shock_multiplier(p, day)


def _team(p, s, noise):
    gain, edge_gain = s["policy_vector"][:, 0], s["policy_vector"][:, 1]
    day = s["day"]
    fall, fall_before = foreseen_fall(p, day), foreseen_fall(p, day - 1)
    alarm = (fall > TEAM_ALARM) & (fall_before <= TEAM_ALARM)  # an extra meeting when the edge sees a shock
    due = ((day > 0) & (day % p["team_review_days"] == 0)) | alarm
    observed = staking_ratio(s) + p["team_noise"] * noise["observation"]
    decided = s["inflation_rate"] + gain * (p["target_staking_ratio"] - observed) + edge_gain * fall + p["team_bias"]
    return _scheduled(p, s, due, np.clip(decided, p["rate_min"], p["rate_max"]), p["team_delay"])


def _vote(p, s, vote_seed):
    """Pass or reject the day's proposal with :mod:`tokensim.mechanisms.governance`'s tally (one row each).

    The proposal moves the rate by ``gov_sensitivity`` times the staking gap, at most ``gov_max_step``.
    Every holder wishes the rate moved by that much plus a bias (stakers up, others down) and
    noise, and votes yes when the proposed rate is nearer their wish than the current one. Wallets
    vote with governance's turnout rule (``turnout_probability``: ``base_turnout * stake / (stake +
    participation_cost)``), whales always; delegators' tokens are voted by their delegates
    (``delegate_stake``), who vote when they or any delegator would; yes and no tokens are summed by
    governance's ``tally`` and the proposal passes by its ``decide`` (quorum and simple majority, no
    veto). Each row's holder draws come from a generator seeded by that row's ``vote_seed`` for the
    day, so they never touch the row's main stream, vote day or not.
    """
    stake, delegate_of = s["holder_stake"], s["holder_delegate"]
    n_whales = p["n_whales"]
    community = stake[:, n_whales:]
    rng = BatchRNG([np.random.Generator(np.random.PCG64(int(seed))) for seed in vote_seed])
    wish_noise = rng.normal(size=stake.shape[1])
    turnout_draw = rng.random(size=community.shape[1])
    change = np.clip(p["gov_sensitivity"] * staking_gap(p, s), -p["gov_max_step"], p["gov_max_step"])
    staker = holder_is_staker(p, s)
    bias = np.where(staker, _col(p["gov_staker_bias"]), -_col(p["gov_holder_bias"]))
    wish = _col(p["gov_sensitivity"] * staking_gap(p, s)) + bias + _col(p["gov_noise"]) * wish_noise
    yes = np.abs(wish - _col(change)) < np.abs(wish)
    # governance's rule prices stakes in currency; at a price of one currency unit per token (the mean
    # wallet is worth its mean stake) it is base_turnout * stake / (stake + cost) with cost in tokens
    direct = turnout_draw < turnout_probability(community, {"base_turnout": p["gov_base_turnout"],
                                                            "participation_cost": p["gov_participation_cost"],
                                                            "mean_wallet_value": community.mean(axis=1)})
    voted = delegate_stake(community, delegate_of)
    delegating = delegate_of >= 0
    has_delegators = delegate_stake(np.ones_like(community), delegate_of) > 1.0
    cast = np.concatenate([np.ones((len(stake), n_whales), dtype=bool), ~delegating & (direct | has_delegators)], axis=1)
    tokens = np.concatenate([stake[:, :n_whales], voted], axis=1)
    yes_tokens, no_tokens = tally(tokens, cast, yes)
    total = stake.sum(axis=1)
    passed = decide(yes_tokens, no_tokens, yes_tokens + no_tokens, no_tokens, total, p["gov_quorum"], 0.5, 1.0)
    return np.where(passed, s["inflation_rate"] + change, s["inflation_rate"])


def holder_is_staker(p, s) -> np.ndarray:
    """Which holders stake: whales (validators) always, the others as drawn at the start."""
    n = s["holder_stake"].shape[1]
    return (np.arange(n) < p["n_whales"]) | s["holder_staker"]


def _governance(p, s, noise):
    due = (s["day"] > 0) & (s["day"] % p["gov_vote_days"] == 0)
    outcome = _vote(p, s, noise["vote_seed"]) if due.any() else s["inflation_rate"]
    return _scheduled(p, s, due, np.clip(outcome, p["rate_min"], p["rate_max"]), p["gov_delay"])


def _learning(p, s, noise):
    rate = np.einsum("bk,bk->b", features(p, s), s["policy_vector"])
    return np.clip(rate, p["rate_min"], p["rate_max"])


RULES = {"fixed": _fixed, "cosmos": _cosmos, "pid": _pid, "team": _team, "governance": _governance, "learning": _learning}


def controller_noise(p, rng) -> dict[str, np.ndarray]:
    """The draws a policy needs each day, drawn every day so streams do not depend on batching.

    They come from the rows' buffered streams: the team's observation noise from the same normal
    stream as the economy's shocks (so it takes the numbers one call per day would give), the vote
    seeds from an integer stream of their own.
    """
    if p["policy"] == "team":
        return {"observation": rng.stream("standard_normal", 1)[:, 0]}
    if p["policy"] == "governance":  # a seed per row per day; the holders' draws only on vote days
        return {"vote_seed": rng.stream("integers", 1, low=0, high=2**63 - 1, dtype=np.int64)[:, 0]}
    return {}


def controller_step(p, s, noise) -> dict[str, np.ndarray]:
    """The rate for the coming day and the controllers' memory."""
    out = RULES[p["policy"]](p, s, noise)
    rate, memory = out if isinstance(out, tuple) else (out, {})
    gap_ema = s["gap_ema"] + (staking_gap(p, s) - s["gap_ema"]) / GAP_EMA_DAYS
    return {"inflation_rate": rate, "gap_ema": gap_ema, **memory}
