"""Token holders: heavy-tailed community balances calibrated by the top-1% share, or real balances.

Calibration (closed forms, so the top-1% share is exact for the population distribution):

- lognormal(0, sigma): the richest fraction ``p`` holds ``1 - Phi(z_(1-p) - sigma)`` of the
  tokens, so ``sigma = z_(1-p) + Phi^-1(share)`` (share = 1% gives sigma = 0, equal balances).
- Pareto with tail index ``a > 1``: the richest fraction ``p`` holds ``p^(1 - 1/a)``, so
  ``a = 1 / (1 - ln(share) / ln(p))`` (Lorenz curve of the Pareto distribution).

A finite sample's realised share scatters around the target, more so for small communities and
heavy tails. Balances are then scaled so the community holds exactly its share of the supply.

Real balances come from a CSV with columns ``address,balance`` read with pandas as text and
converted explicitly; nothing in the file is evaluated. Any problem raises
:class:`~tokensim.mechanisms.core.errors.DataFileError` naming the file, the row or column and the issue.
"""
from __future__ import annotations

import functools
from statistics import NormalDist

import numpy as np
import pandas as pd

from tokensim.mechanisms.core import DataFileError, datafiles
from tokensim.mechanisms.core.errors import shorten

TOP = 0.01  # the calibration fraction: the richest 1%
MAX_HOLDERS = 1_000_100  # rows of a balances CSV: n_community's upper bound plus n_whales'


def lognormal_sigma(top_share: np.ndarray) -> np.ndarray:
    """Log-sd of a lognormal whose richest 1% hold ``top_share`` of the tokens."""
    dist = NormalDist()
    z_top = dist.inv_cdf(1.0 - TOP)
    return np.array([z_top + dist.inv_cdf(float(s)) for s in np.atleast_1d(top_share)])


def pareto_alpha(top_share: np.ndarray) -> np.ndarray:
    """Tail index of a Pareto law whose richest 1% hold ``top_share`` (> 1%) of the tokens."""
    return 1.0 / (1.0 - np.log(np.asarray(top_share, dtype=float)) / np.log(TOP))


def community_balances(dist: str, top_share: np.ndarray, total: np.ndarray, n: int, rng) -> np.ndarray:
    """``(B, n)`` balances drawn from ``dist`` and scaled so row ``b`` sums to ``total[b]``.

    ``rng`` is a :class:`~tokensim.mechanisms.core.seeding.BatchRNG`; one standard draw per wallet.
    """
    if dist == "lognormal":
        raw = np.exp(lognormal_sigma(top_share)[:, None] * rng.normal(size=n))
    elif dist == "pareto":
        # inverse CDF of the Pareto law with minimum 1: x = (1 - u)^(-1/a)
        raw = np.power(1.0 - rng.random(size=n), -1.0 / pareto_alpha(top_share)[:, None])
    else:
        raise ValueError(f"unknown balance distribution {dist!r}")
    return raw * (total / raw.sum(axis=1))[:, None]


def load_balances(path: str) -> np.ndarray:
    """Balances from a CSV of ``address,balance``, largest first (a read-only cached copy).

    Read through :mod:`tokensim.mechanisms.core.datafiles` (regular files only, size- and row-capped)."""
    return _load_balances(*datafiles.file_key(path))


@functools.lru_cache(maxsize=8)
def _load_balances(path: str, mtime_ns: int, size: int) -> np.ndarray:
    return balances_from_bytes(datafiles.read_bytes(path), path)


def balances_from_bytes(data: bytes, source: str) -> np.ndarray:
    """Balances from CSV bytes (a file's content or an app upload); ``source`` names it in errors."""
    frame = datafiles.read_csv(data, source, ("address", "balance"), MAX_HOLDERS)
    if len(frame) < 2:
        raise DataFileError(f"{source}: needs at least 2 holders, found {len(frame)}")
    numbers = pd.to_numeric(frame["balance"].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers) | (numbers < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFileError(
            f"{source}: row {i + 2}, column 'balance': {shorten(frame['balance'].iloc[i])} is not a finite number >= 0"
        )
    with np.errstate(over="ignore"):
        total = numbers.sum()
    if total <= 0:
        raise DataFileError(f"{source}: column 'balance' sums to 0; at least one holder needs tokens")
    if not np.isfinite(total):
        raise DataFileError(f"{source}: column 'balance' sums to more than {np.finfo(float).max:.3g}; "
                            "allowed: balances whose total is a finite number")
    out = np.sort(numbers)[::-1].copy()
    out.flags.writeable = False
    return out
