"""Registration of the ``inflation`` model: who should set a token's emission?

A daily model of a proof-of-stake token economy (supply, float, stake, treasury, burn, a price
formed by usage and momentum demand against the float) under six emission policies (fixed code,
Cosmos x/mint feedback, PID, team discretion, token-holder vote, a learning controller) and three
demand scenarios (steady, bull, a 70% crash). See :mod:`.economy`, :mod:`.controllers`,
:mod:`.learning` and :mod:`.metrics`; docs/inflation.md explains the model and experiments.
"""
from __future__ import annotations

from mechanisms.core import Model, register

from .metrics import METRICS
from .params import SCHEMA
from .policies import p_economy, p_emission_policy, p_metrics
from .state import initial_state
from mechanisms.core.updates import updates_for

CONTROLLER_VARS = ("inflation_rate", "gap_ema", "pid_integral", "pid_error", "pending_rate", "pending_day")
ECONOMY_VARS = ("day", "usage", "supply", "circulating", "staked", "treasury", "minted", "burned", "price",
                "log_return", "momentum", "price_ema")
METRIC_VARS = ("staking_ratio", "return_sum", "return_sq_sum", "price_volatility", "max_drawdown", "peak_price",
               "gap_sq_sum", "staking_tracking_error", "holder_dilution", "treasury_runway", "rate_changes",
               "counted_rate", "rate_variation", "last_rate", "pre_shock_ratio", "dipped", "recovery_day",
               "recovery_time", "recovered")

BLOCKS = [
    {"policies": {"emission_policy": p_emission_policy}, "variables": updates_for(CONTROLLER_VARS)},
    {"policies": {"economy": p_economy}, "variables": updates_for(ECONOMY_VARS)},
    {"policies": {"metrics": p_metrics}, "variables": updates_for(METRIC_VARS)},
]


def cost(params) -> float:
    """Seconds per sample per day on the reference machine: about 6e-5 s of array operations and
    cadCAD bookkeeping (measured at the defaults with 20 samples in a batch), plus the holders'
    ballots on vote days under the governance policy (8e-5 s at 200 holders)."""
    return 6.2e-5 + (1.0e-7 * params["n_holders"] if params["policy"] == "governance" else 0.0)


# Training rollouts (plain numpy, no cadCAD): seconds per CEM iteration-day, plus per economy in the
# batch of candidates x training seeds; measured with 4 and 2,048 economies on the reference machine.
TRAIN_DAY_SECONDS, TRAIN_ECONOMY_DAY_SECONDS = 1.6e-4, 5.7e-8


def setup_cost(params) -> float:
    """Seconds to train the learning controller once for a parameter point (0 for other policies)."""
    if params["policy"] != "learning":
        return 0.0
    economies = params["cem_population"] * params["cem_train_seeds"]
    return params["cem_iterations"] * params["train_days"] * (TRAIN_DAY_SECONDS + TRAIN_ECONOMY_DAY_SECONDS * economies)


MODEL = register(
    Model(
        name="inflation",
        version="1.0",
        title="Who should set a token's emission?",
        description=__doc__,
        schema=SCHEMA,
        initial_state=initial_state,
        blocks=BLOCKS,
        metrics=METRICS,
        agent_state=("holder_weight", "holder_staker"),
        cost=cost,
        setup_cost=setup_cost,
        time_unit="day",
    )
)
