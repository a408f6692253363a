"""Parameters of the inflation model: one :class:`~tokensim.mechanisms.core.params.Schema`.

Rates are annual fractions (0.07 = 7% a year) unless the unit says otherwise; one timestep is one
day. Parameters are grouped by concern: the policy and scenario choices, the token economy (supply,
staking behaviour, price formation, treasury, burn), the exogenous scenarios, each emission
policy's own settings, the tuner's budget and the metric settings. Policy-specific settings are
ignored by the other policies; under ``tuning = "cem"`` the tuned ones (Cosmos rate change and
goal, PID kp and ki, the team's gains) are replaced by what the tuner chose. Every parameter is
marked ``calibrated`` (with its source: data/inflation_*.csv or the Cosmos SDK), ``assumed`` (with
the plausible range the claims engine varies) or ``setting`` (a choice of the experiment).
"""
from __future__ import annotations

from tokensim.mechanisms.core import Param, Schema, require

POLICIES = ("fixed", "cosmos", "pid", "team", "governance", "learning")
SCENARIOS = ("steady", "bull", "crash")
TUNINGS = ("cem", "none")


def _p(name, default, description, low=None, high=None, unit="", plausible=None, basis=None, source="", **kw) -> Param:
    """A float parameter: ``assumed`` when it has a plausible range, else ``basis`` must be given."""
    basis = basis or ("assumed" if plausible is not None else "setting")
    return Param(name, default, description, kind=kw.pop("kind", "float"), low=low, high=high, unit=unit,
                 basis=basis, source=source, plausible=plausible, **kw)


def _int(name, default, description, low, high, unit="", structural=False, plausible=None, basis=None,
         source="") -> Param:
    basis = basis or ("assumed" if plausible is not None else "setting")
    return Param(name, default, description, kind="int", low=low, high=high, unit=unit, structural=structural,
                 basis=basis, source=source, plausible=plausible)


COSMOS_SDK = "Cosmos SDK x/mint defaults, https://docs.cosmos.network/v0.47/build/modules/mint"
COSMOS_HUB = "data/inflation_cosmos_hub.csv (Cosmos Hub bonded ratio and inflation)"
AI_INDEX = "data/inflation_ai_agent_index.csv (AI-agent token index, Dec 2024 - Mar 2025)"

CHOICES = (
    Param("policy", "fixed", "who or what sets the emission rate", kind="choice", choices=POLICIES, basis="setting"),
    Param("scenario", "steady", "exogenous demand scenario (crash uses the shock_* settings)", kind="choice",
          choices=SCENARIOS, basis="setting"),
    Param("pid_target", "staking", "what the PID controller stabilises: staking ratio or price", kind="choice",
          choices=("staking", "price"), basis="setting"),
    Param("tuning", "cem", "cem: the adaptive policy's settings are tuned before the run (same budget for every "
          "policy, training seeds and scenarios of its own); none: its parameters are used as given", kind="choice",
          choices=TUNINGS, basis="setting"),
)

ECONOMY = (
    _p("initial_supply", 1e9, "token supply at day 0", 1e3, 1e15, "tokens"),
    _p("initial_staking_ratio", 0.6, "staked share of supply at day 0", 0.0, 0.95, "share", basis="calibrated",
       source=COSMOS_HUB + ": bonded ratio 0.55-0.70 over 2021-2025"),
    _p("initial_treasury_share", 0.1, "treasury share of supply at day 0", 0.0, 0.5, "share", plausible=(0.0, 0.3)),
    _p("initial_rate", 0.07, "annual inflation rate at day 0 (start value of every adaptive policy)", 0.0, 1.0, "1/yr",
       plausible=(0.03, 0.2)),
    _p("staker_share", 0.9, "share of new emission paid to stakers; the rest goes to the treasury", 0.0, 1.0, "share",
       plausible=(0.7, 1.0)),
    _p("reward_sell_share", 0.5, "share of their rewards stakers sell (they restake the rest)", 0.0, 1.0, "share",
       plausible=(0.1, 1.0)),
    _p("outside_rate", 0.04, "annual yield of the outside option stakers compare with", 0.0, 1.0, "1/yr",
       plausible=(0.02, 0.06)),
    _p("risk_premium", 0.02, "extra annual yield stakers require for holding the token staked", 0.0, 1.0, "1/yr",
       plausible=(0.0, 0.06)),
    _p("fear", 0.1, "extra required yield per unit of price drawdown (panic unstaking)", 0.0, 2.0, "1/yr",
       plausible=(0.0, 0.3)),
    _p("stake_sensitivity", 25.0, "slope of the desired staking ratio in the yield gap (logistic)", 0.0, 1000.0,
       "1/(1/yr)", plausible=(5.0, 60.0)),
    _p("max_stake_ratio", 0.85, "ceiling of the desired staking ratio", 0.05, 1.0, "share", plausible=(0.7, 0.95)),
    _p("stake_speed", 0.05, "share of the gap to the desired stake closed per day (unbonding friction)", 0.0, 1.0,
       "1/day", plausible=(0.01, 0.2)),
    _p("stake_noise", 0.002, "daily random churn of staked balances, relative", 0.0, 0.1, "1/day",
       plausible=(0.0, 0.005)),
    _p("spec_share", 0.5, "speculative demand relative to usage demand at zero momentum", 0.0, 10.0, "ratio",
       plausible=(0.1, 2.0)),
    _p("momentum_beta", 10.0, "sensitivity of speculative demand to momentum (tanh slope)", 0.0, 1000.0,
       "1/(log-return/day)", plausible=(0.0, 30.0)),
    _p("momentum_days", 14.0, "time constant of the momentum average of daily log returns", 1.0, 365.0, "days",
       plausible=(5.0, 30.0)),
    _p("burn_rate", 0.02, "annual fee burn as a share of the usage demand value", 0.0, 1.0, "1/yr",
       plausible=(0.0, 0.05)),
    _p("treasury_spend_usd", 1e5, "treasury spending per day, paid by selling tokens", 0.0, 1e12, "USD/day",
       plausible=(0.0, 1e6)),
    _p("target_staking_ratio", 0.6, "staking-ratio goal every policy is scored against (and the target of "
       "pid/team/governance/learning)", 0.01, 0.99, "share"),
    _p("rate_min", 0.02, "lowest annual inflation an adaptive policy may set", 0.0, 1.0, "1/yr"),
    _p("rate_max", 0.20, "highest annual inflation an adaptive policy may set", 0.0, 1.0, "1/yr", basis="calibrated",
       source=COSMOS_SDK + " (inflation_max 0.20; the Cosmos Hub ran at it, " + COSMOS_HUB + ")"),
)

SCENARIO = (
    _p("usage_growth", 0.2, "annual log drift of usage demand (steady scenario, and crash outside the shock)", -2.0, 5.0,
       "1/yr", plausible=(0.0, 0.5)),
    _p("usage_vol", 0.02, "daily log volatility of usage demand", 0.0, 0.5, "1/sqrt(day)", plausible=(0.01, 0.05)),
    _p("bull_growth", 1.5, "annual log drift of usage demand during the bull run", -2.0, 10.0, "1/yr"),
    _int("bull_days", 180, "length of the bull run (usage_growth afterwards)", 1, 3650, "days"),
    _int("shock_day", 90, "day the crash starts", 0, 3650, "days"),
    _p("shock_depth", 0.7, "share of usage demand lost at the bottom of the crash", 0.0, 0.99, "share"),
    _int("shock_duration", 21, "days from the start of the crash to its bottom", 1, 365, "days"),
    _p("shock_recovery", 0.5, "share of the lost demand that comes back after the bottom", 0.0, 1.0, "share"),
    _int("recovery_days", 180, "days over which the recovered demand comes back", 1, 3650, "days"),
)

POLICY_SETTINGS = (
    _p("fixed_rate", 0.07, "annual inflation of the fixed rule", 0.0, 1.0, "1/yr"),
    _int("halving_days", 0, "fixed rule: halve the rate every this many days (0 = never)", 0, 36500, "days"),
    _p("cosmos_rate_change", 0.13, "Cosmos x/mint inflation_rate_change: max change of the rate per year (tuned "
       "under tuning = cem)", 0.0, 10.0, "1/yr^2", basis="calibrated", source=COSMOS_SDK),
    _p("cosmos_goal", 0.6, "Cosmos x/mint goal_bonded the rule steers to (the SDK default is 0.67; tuned under "
       "tuning = cem)", 0.01, 0.99, "share"),
    _p("pid_kp", 0.5, "PID proportional gain, rate per unit error (tuned under tuning = cem)", 0.0, 100.0, "1/yr"),
    _p("pid_ki", 0.5, "PID integral gain, rate per unit error-year (tuned under tuning = cem)", 0.0, 100.0, "1/yr^2"),
    _p("pid_kd", 0.0, "PID derivative gain (rate per unit error change per day)", 0.0, 100.0, "1/yr"),
    _p("pid_price_days", 30.0, "PID price target: time constant of the moving-average reference price", 1.0, 365.0,
       "days"),
    _int("team_review_days", 30, "team: days between reviews", 1, 3650, "days", plausible=(7, 90)),
    _int("team_delay", 14, "team: days from a review until its decision takes effect", 0, 365, "days",
         plausible=(0, 30)),
    _p("team_noise", 0.05, "team: standard deviation of its error in observing the staking ratio", 0.0, 1.0, "share",
       plausible=(0.0, 0.1)),
    _p("team_bias", 0.005, "team: rate added at each review (self-interest: the treasury gains from emission)", -0.2,
       0.2, "1/yr", plausible=(0.0, 0.01)),
    _p("team_gain", 0.3, "team: rate change per unit staking-ratio gap at a review (tuned under tuning = cem)", 0.0,
       10.0, "1/yr"),
    _int("team_lead_days", 0, "team: days ahead it sees the demand shock (information edge; 0 = none)", 0, 365, "days"),
    _p("team_edge_gain", 0.0, "team: rate added per unit of foreseen demand fall (tuned under tuning = cem)", -1.0,
       1.0, "1/yr"),
    _int("n_holders", 200, "governance: token holders who may vote", 2, 100_000, structural=True),
    _int("n_whales", 5, "governance: large holders (validators) among them, who always vote", 0, 1000,
         structural=True),
    _p("whale_share", 0.3, "governance: whales' share of voting tokens", 0.0, 0.99, "share", plausible=(0.1, 0.5)),
    _p("holder_sigma", 1.5, "governance: lognormal sigma of the other holders' balances", 0.0, 5.0,
       plausible=(1.0, 2.5)),
    _int("gov_vote_days", 30, "governance: days between votes", 1, 3650, "days"),
    _int("gov_delay", 7, "governance: days from a vote until the new rate takes effect", 0, 365, "days",
         plausible=(0, 21)),
    _p("gov_base_turnout", 0.3, "governance: turnout of a holder whose stake dwarfs the participation cost "
       "(governance model's base_turnout)", 0.0, 1.0, "probability", plausible=(0.1, 0.6)),
    _p("gov_participation_cost", 10.0, "governance: cost of voting in tokens; turnout = base * stake / (stake + "
       "cost) (governance model's participation_cost)", 0.0, 1e12, "tokens", plausible=(0.0, 1e6)),
    _int("gov_n_delegates", 10, "governance: delegates, the largest non-whale holders (governance model's "
         "n_delegates)", 1, 10_000, structural=True),
    _p("gov_delegation_share", 0.3, "governance: probability that a holder delegates its vote (governance model's "
       "delegation_share)", 0.0, 1.0, "probability", plausible=(0.0, 0.6)),
    _p("gov_quorum", 0.04, "governance: tokens cast needed, as a share of voting tokens (governance model's quorum)",
       0.0, 1.0, "share"),
    _p("gov_sensitivity", 0.3, "governance: rate change proposed (and wished) per unit staking-ratio gap", 0.0, 10.0,
       "1/yr", plausible=(0.1, 1.0)),
    _p("gov_max_step", 0.02, "governance: largest rate change one proposal may make", 0.0, 1.0, "1/yr"),
    _p("gov_staker_bias", 0.03, "governance: how much higher than now a staker wants the rate", -0.5, 0.5, "1/yr",
       plausible=(0.0, 0.05)),
    _p("gov_holder_bias", 0.02, "governance: how much lower than now a non-staking holder wants the rate", -0.5, 0.5,
       "1/yr", plausible=(0.0, 0.05)),
    _p("gov_noise", 0.02, "governance: standard deviation of each voter's idiosyncratic rate wish", 0.0, 1.0, "1/yr",
       plausible=(0.005, 0.05)),
)

TUNING = (
    _int("tune_seed", 0, "tuning: seed of the training branch (never shared with evaluation samples)", 0,
         2**31 - 1),
    _p("tune_rate_weight", 0.0, "tuning: weight of rate_variation next to staking_tracking_error in the objective "
       "(sweep it to trace a policy's frontier)", 0.0, 10.0),
    _p("tune_vol_weight", 0.0, "tuning: weight of price_volatility next to staking_tracking_error in the objective",
       0.0, 10.0),
    _int("tune_iterations", 12, "tuning: cross-entropy method iterations", 1, 200, structural=True),
    _int("tune_population", 96, "tuning: candidate settings per iteration", 4, 512, structural=True),
    _int("tune_seeds", 6, "tuning: training economies per candidate and training scenario", 1, 128,
         structural=True),
    _int("tune_days", 365, "tuning: days simulated per training run", 10, 3650, "days", structural=True),
)

METRIC_SETTINGS = (
    _p("rate_tick", 0.0025, "rate_changes counts a change each time the rate has moved this far from the last "
       "counted level", 1e-6, 1.0, "1/yr"),
    _p("recovery_fraction", 0.8, "recovered = staking ratio back at this share of its pre-crash level", 0.01, 1.0,
       "share"),
    _p("price_recovery_fraction", 0.5, "price_recovered = price back at this share of its pre-crash level", 0.01, 1.0,
       "share"),
)


def _checks(p) -> None:
    require(p["rate_min"] <= p["rate_max"], "rate_min", p["rate_min"], f"a number <= rate_max ({p['rate_max']})")
    share = p["initial_staking_ratio"] + p["initial_treasury_share"]
    require(share < 1.0, "initial_treasury_share", p["initial_treasury_share"],
            f"a number < 1 - initial_staking_ratio ({1 - p['initial_staking_ratio']:g})", "no liquid float left")
    require(p["n_whales"] < p["n_holders"], "n_whales", p["n_whales"], f"an integer < n_holders ({p['n_holders']})")
    require(p["gov_n_delegates"] <= p["n_holders"] - p["n_whales"], "gov_n_delegates", p["gov_n_delegates"],
            f"an integer <= n_holders - n_whales ({p['n_holders'] - p['n_whales']})")


SCHEMA = Schema(CHOICES + ECONOMY + SCENARIO + POLICY_SETTINGS + TUNING + METRIC_SETTINGS, checks=(_checks,))
