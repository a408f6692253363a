"""Statistics in one place: every mean, interval and difference that tokensim reports.

All intervals are Student-t intervals from :mod:`scipy.stats` (a z = 1.96 interval is about 11% too
narrow at n = 12). A metric whose values are shares in [0, 1] gets its interval clipped to [0, 1];
counts of successes out of trials get a Wilson interval. Summary tables, figures, the app and the
claims engine all call these functions, so a number means the same thing wherever it is shown.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95


def t_half_width(std: np.ndarray | float, n: np.ndarray | float, level: float = LEVEL) -> np.ndarray:
    """Half-width of the t interval of a mean from the sample ``std`` (ddof 1) and size ``n``.

    NaN where ``n < 2`` (one sample says nothing about its spread); 0 where the spread is 0.
    """
    std = np.asarray(std, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + level / 2, np.where(n >= 2, n - 1, np.nan))
        half = q * np.where(std > 0, std, 0.0) / np.sqrt(n)
    return np.where(n >= 2, half, np.nan)


def grouped_intervals(frame: pd.DataFrame, by: Sequence[str], value: str, *, bounds: tuple[float, float] | None = None,
                      level: float = LEVEL) -> pd.DataFrame:
    """Per group of ``by``: ``mean``, ``std``, ``n``, ``low``, ``high`` of column ``value``.

    ``bounds`` clips the interval (for shares: ``(0, 1)``); groups keep their first-seen order.
    """
    g = frame.groupby(list(by), sort=False, dropna=False)[value].agg(["mean", "std", "count"])
    g = g.rename(columns={"count": "n"})
    half = t_half_width(g["std"].to_numpy(), g["n"].to_numpy(), level)
    low, high = g["mean"].to_numpy() - half, g["mean"].to_numpy() + half
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    g["low"], g["high"] = low, high
    return g.reset_index()


def mean_interval(values: Sequence[float] | np.ndarray, *, bounds: tuple[float, float] | None = None,
                  level: float = LEVEL) -> tuple[float, float, float]:
    """``(mean, low, high)`` of one sample; NaN bounds for fewer than two finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    half = float(t_half_width(x.std(ddof=1) if len(x) > 1 else 0.0, len(x), level))
    low, high = mean - half, mean + half
    if bounds is not None and not math.isnan(half):
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return mean, low, high


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean of ``b - a`` over paired samples (common random numbers) with its t interval."""
    return mean_interval(np.asarray(b, dtype=float) - np.asarray(a, dtype=float), level=level)


def welch_difference(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """``mean(b) - mean(a)`` for independent samples with Welch's t interval."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return diff, math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df) * se)
    return diff, diff - half, diff + half


def proportion_interval(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float, float]:
    """``(share, low, high)`` of ``successes`` out of ``trials`` with the Wilson score interval."""
    if trials <= 0:
        return math.nan, math.nan, math.nan
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=level, method="wilson")
    return successes / trials, float(ci.low), float(ci.high)


def samples_needed(std: float, margin: float, level: float = LEVEL, n_max: int = 100_000) -> int:
    """Smallest n whose t half-width ``t(n-1) * std / sqrt(n)`` is below ``margin``.

    The number of samples that would let an interval clear a threshold ``margin`` away from the
    mean, assuming the spread stays what it is; ``n_max`` when even that is not enough.
    """
    if margin <= 0 or not math.isfinite(margin):
        return n_max
    if std <= 0:
        return 2
    n = max(2, math.ceil((stats.norm.ppf(0.5 + level / 2) * std / margin) ** 2))
    while n < n_max and float(t_half_width(std, n, level)) >= margin:
        n += max(1, n // 20)
    return min(n, n_max)
