"""Validator stake of the labeling model's Yuma rule: published concentration or a Zipf law.

Real subnets are not equal-stake: a handful of validators hold most delegated stake. Two ways to
set the honest validators' stake (the cartel's validator holds ``cartel_share`` of all stake):

``published``
    The shares by rank in ``data/labeling_validator_stake.csv`` (Mentat Minds 2024: top 5
    validators 65% of delegated TAO, top 10 about 85%, named shares for ranks 1-5), each block of
    ranks split equally, truncated to the number of honest validators and renormalised.
``zipf``
    Stake proportional to ``rank ** -stake_concentration`` (0 = equal stake).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "labeling_validator_stake.csv"
DISTRIBUTIONS = ("published", "zipf")


def published_shares(path: Path = DATA_FILE) -> np.ndarray:
    """Per-rank stake shares from the CSV (rank blocks split equally); sums to the file's total."""
    rows = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    shares: list[float] = []
    for record in csv.DictReader(rows):
        lo, hi, share = int(record["rank_from"]), int(record["rank_to"]), float(record["share"])
        if lo != len(shares) + 1 or hi < lo or not 0 <= share <= 1:
            raise ValueError(f"{path}: rank block {lo}-{hi} with share {share} is out of order or not a share")
        shares.extend([share / (hi - lo + 1)] * (hi - lo + 1))
    return np.asarray(shares)


PUBLISHED = published_shares()


def honest_stake_profile(n: int, distribution: str, concentration: np.ndarray) -> np.ndarray:
    """Relative stake of ``n`` honest validators by rank, (B, n), each row summing to one."""
    batch = len(concentration)
    if distribution == "published":
        profile = PUBLISHED[:n]
        if n > len(PUBLISHED):  # beyond the published ranks: the smallest published share
            profile = np.concatenate([PUBLISHED, np.full(n - len(PUBLISHED), PUBLISHED[-1])])
        raw = np.broadcast_to(profile, (batch, n))
    else:
        raw = np.arange(1, n + 1)[None, :] ** -np.asarray(concentration, dtype=float)[:, None]
    return raw / raw.sum(axis=1, keepdims=True)


def validator_stake(params) -> np.ndarray:
    """Validator stake (B, V): validator 0 is the cartel's with ``cartel_share``; the rest share
    ``1 - cartel_share`` by :func:`honest_stake_profile`."""
    v = params["n_validators"]
    cartel = params["cartel_share"][:, None]
    honest = honest_stake_profile(v - 1, params["stake_distribution"], params["stake_concentration"])
    return np.concatenate([cartel, (1.0 - cartel) * honest], axis=1)
