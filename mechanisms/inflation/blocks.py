"""The inflation model's cadCAD partial state update blocks, in the order cadCAD runs them.

Kept apart from :mod:`.model` (registration) so that the tuner (:mod:`.tuning`) can roll the very
same blocks forward with :func:`tokensim.mechanisms.core.step` without importing the registered model.
"""
from __future__ import annotations

from tokensim.mechanisms.core.updates import updates_for

from .policies import p_economy, p_emission_policy, p_metrics

CONTROLLER_VARS = ("inflation_rate", "gap_ema", "pid_integral", "pid_error", "pending_rate", "pending_day")
ECONOMY_VARS = ("day", "usage", "supply", "circulating", "staked", "treasury", "minted", "burned", "price",
                "log_return", "momentum", "price_ema")
METRIC_VARS = ("staking_ratio", "return_sum", "return_sq_sum", "price_volatility", "max_drawdown", "peak_price",
               "gap_sq_sum", "staking_tracking_error", "holder_dilution", "treasury_runway", "rate_changes",
               "counted_rate", "rate_variation", "last_rate", "pre_shock_ratio", "dipped", "recovery_day",
               "recovery_time", "recovered", "pre_shock_price", "price_dipped", "price_recovery_day",
               "price_recovery_time", "price_recovered")

BLOCKS = [
    {"policies": {"emission_policy": p_emission_policy}, "variables": updates_for(CONTROLLER_VARS)},
    {"policies": {"economy": p_economy}, "variables": updates_for(ECONOMY_VARS)},
    {"policies": {"metrics": p_metrics}, "variables": updates_for(METRIC_VARS)},
]
