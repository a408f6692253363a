"""One day of the token economy: emission, staking, treasury spending, fee burn and price.

Accounts (tokens): ``supply = circulating + staked + treasury`` and
``supply(t) = supply(0) + minted(t) - burned(t)``. Each day, in this order:

1. Usage demand (USD value of tokens people hold to use the network) moves by the scenario's
   drift, a daily log shock and the crash profile (:mod:`.scenarios`).
2. Emission ``minted = rate * supply / 365`` (the annual rate applied per day, as Cosmos x/mint
   applies annual provisions per block); ``staker_share`` of it is paid to stakers, the rest goes
   to the treasury. Stakers sell ``reward_sell_share`` of their rewards (those tokens join the
   float: sell pressure) and restake the rest.
3. Stakers compare the staking yield ``rate * supply * staker_share / staked`` with the outside
   rate plus a risk premium that grows with the price drawdown (``fear``); the desired staking
   ratio is a logistic function of that gap, capped at ``max_stake_ratio``; the stake moves
   ``stake_speed`` of the way there each day, plus random churn. Unstaked tokens join the float.
4. The treasury sells tokens for ``treasury_spend_usd`` a day while it has any (sell pressure).
5. Fees worth ``burn_rate`` of usage demand a year are bought from the float and burned (at most
   half of the float per day, so balances stay positive).
6. Price clears the float in equation-of-exchange form: ``price = (usage demand + speculative
   demand) / circulating``, where speculative demand is ``spec_share`` times usage demand scaled by
   ``1 + tanh(momentum_beta * momentum)`` and momentum is an exponential average of daily log
   returns. Emission, unstaking and treasury sales enlarge the float and so lower the price.

Assumptions: one aggregate staker; price is set once a day; the outside rate is constant; demand
is exogenous except for the momentum-chasing speculative part.
"""
from __future__ import annotations

import numpy as np

from .scenarios import shock_multiplier, usage_drift

DAYS_PER_YEAR = 365.0
TINY = 1e-12


def staking_yield(p, s) -> np.ndarray:
    """Annual staking yield at the current rate and stake."""
    staked = np.maximum(s["staked"], TINY * s["supply"])
    return s["inflation_rate"] * s["supply"] * p["staker_share"] / staked


def desired_staking_ratio(p, s) -> np.ndarray:
    """Staking ratio holders want given yield, outside rate, risk premium and drawdown fear."""
    drawdown = 1.0 - s["price"] / s["peak_price"]
    required = p["outside_rate"] + p["risk_premium"] + p["fear"] * drawdown
    gap = staking_yield(p, s) - required
    return p["max_stake_ratio"] / (1.0 + np.exp(-p["stake_sensitivity"] * gap))


def economy_step(p, s, shocks: np.ndarray) -> dict[str, np.ndarray]:
    """The economy one day later; ``shocks`` is ``(B, 2)`` standard normals (usage, staking churn)."""
    day = s["day"] + 1
    vol = p["usage_vol"]
    usage = s["usage"] * np.exp(usage_drift(p, s["day"]) / DAYS_PER_YEAR + vol * shocks[:, 0])
    minted = s["inflation_rate"] * s["supply"] / DAYS_PER_YEAR
    rewards = p["staker_share"] * minted
    sold_rewards = p["reward_sell_share"] * rewards
    staked = s["staked"] + (rewards - sold_rewards)
    flow = p["stake_speed"] * (desired_staking_ratio(p, s) * s["supply"] - staked)
    flow = flow + p["stake_noise"] * staked * shocks[:, 1]
    circulating = s["circulating"] + sold_rewards
    flow = np.minimum(np.maximum(flow, -staked), circulating)  # np.clip, at a third of its call cost
    staked = staked + flow
    treasury = s["treasury"] + (minted - rewards)
    sold = np.minimum(treasury, p["treasury_spend_usd"] / s["price"])
    treasury = treasury - sold
    use_demand = s["demand_scale"] * usage * shock_multiplier(p, day)
    circulating = circulating - flow + sold
    burned = np.minimum(p["burn_rate"] * use_demand / DAYS_PER_YEAR / s["price"], 0.5 * circulating)
    circulating = circulating - burned
    supply = s["supply"] + minted - burned
    demand = use_demand * (1.0 + p["spec_share"] * (1.0 + np.tanh(p["momentum_beta"] * s["momentum"])))
    price = demand / np.maximum(circulating, TINY * supply)
    log_return = np.log(price / s["price"])
    return {
        "day": day,
        "usage": usage,
        "supply": supply,
        "circulating": circulating,
        "staked": staked,
        "treasury": treasury,
        "minted": s["minted"] + minted,
        "burned": s["burned"] + burned,
        "price": price,
        "log_return": log_return,
        "momentum": s["momentum"] + (log_return - s["momentum"]) / p["momentum_days"],
        "price_ema": s["price_ema"] + (price - s["price_ema"]) / p["pid_price_days"],
    }
