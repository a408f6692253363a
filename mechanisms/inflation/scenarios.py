"""Exogenous demand scenarios: steady growth, a bull run, and a crash with a partial recovery.

Usage demand follows a geometric random walk whose drift depends on the scenario; the crash
multiplies it by a deterministic shock profile (linear fall of ``shock_depth`` over
``shock_duration`` days from ``shock_day``, then a linear return of ``shock_recovery`` of the lost
demand over ``recovery_days``). The default crash loses 70% of usage demand in three weeks, the
drawdown AI tokens saw in early 2025 (BlockBeats, 2025-02-07; seeds/claims.toml,
``infl-ai-token-70pct-crash``). Randomness enters only through the daily shocks drawn by the caller.
"""
from __future__ import annotations

import numpy as np


def usage_drift(p, day: np.ndarray) -> np.ndarray:
    """Annual log drift of usage demand on ``day``."""
    if p["scenario"] == "bull":
        return np.where(day < p["bull_days"], p["bull_growth"], p["usage_growth"])
    growth = p["usage_growth"]
    return growth if np.shape(growth) == np.shape(day) else np.broadcast_to(growth, np.shape(day)).astype(float)


def shock_multiplier(p, day: np.ndarray) -> np.ndarray:
    """Multiplier of usage demand on ``day``: 1 outside the crash scenario and before the shock."""
    if p["scenario"] != "crash":
        return np.ones(np.shape(day))
    since = day - p["shock_day"]
    # np.minimum(np.maximum(...)) is np.clip at a third of its call cost (this runs every day)
    drop = p["shock_depth"] * np.minimum(np.maximum(since / p["shock_duration"], 0.0), 1.0)
    back = p["shock_depth"] * p["shock_recovery"] * np.minimum(
        np.maximum((since - p["shock_duration"]) / p["recovery_days"], 0.0), 1.0)
    return 1.0 - drop + back
