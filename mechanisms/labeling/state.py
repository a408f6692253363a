"""Initial state of the labeling model: labeler identities as (B, N) arrays.

Identity ``i`` of batch row ``b`` has a strategy (integer codes from :mod:`.metrics`), a skill, an active flag,
locked stake and a running profit estimate. Identities are laid out in blocks: honest first, then
lazy, Sybil and cartel; each block's size follows the row's share parameters, so shares can differ
between rows of one batch. Independent labelers (honest and lazy) may later switch strategy;
cartel and Sybil identities are run by one operator each and keep their role.
"""
from __future__ import annotations

import numpy as np

from mechanisms.core import BatchRNG

from .metrics import CARTEL, HONEST, INDEPENDENT, LAZY_CONSTANT, LAZY_RANDOM, SYBIL, lazy_share


def initial_strategies(params) -> np.ndarray:
    """Strategy per identity, (B, N), from the share parameters (lazy alternate constant/random)."""
    n = params["n_labelers"]
    position = (np.arange(n) + 0.5) / n  # (N,)
    lazy_end = 1.0 - params["cartel_share"] - params["sybil_share"]
    honest_end = lazy_end - params["share_lazy"]
    sybil_end = lazy_end + params["sybil_share"]
    x = position[None, :]
    lazy_kind = np.where(np.arange(n) % 2 == 0, LAZY_CONSTANT, LAZY_RANDOM)[None, :]
    return np.select(
        [x < honest_end[:, None], x < lazy_end[:, None], x < sybil_end[:, None]],
        [HONEST, lazy_kind, SYBIL],
        default=CARTEL,
    ).astype(np.int64)


def ensure_minimum_active(active: np.ndarray, minimum: int) -> np.ndarray:
    """Activate the lowest-index inactive identities of rows with fewer than ``minimum`` active."""
    deficit = np.maximum(minimum - active.sum(axis=1), 0)
    inactive_rank = np.cumsum(~active, axis=1)
    return active | (~active & (inactive_rank <= deficit[:, None]))


def initial_state(params, rng: BatchRNG) -> dict[str, np.ndarray]:
    """Identities, empty histories and zeroed token accounts; metrics undefined until epoch 1."""
    n, k, v = params["n_labelers"], params["n_classes"], params["n_validators"]
    batch = len(rng)
    strategy = initial_strategies(params)
    skilled = rng.random(size=n) < params["skilled_fraction"][:, None]
    skill = np.where(skilled, params["skill_skilled"][:, None], params["skill_noisy"][:, None])
    joins = rng.random(size=n) < params["initial_participation"][:, None]
    independent = np.isin(strategy, INDEPENDENT)
    active = ensure_minimum_active(np.where(independent, joins, True), params["labels_per_task"])
    stake = np.where(active, params["stake_required"][:, None], 0.0)
    zeros = np.zeros(batch)
    undefined = np.full(batch, np.nan)
    return {
        "strategy": strategy,
        "skill": skill,
        "active": active,
        "joined": active.copy(),
        "stake": stake,
        "profit": np.zeros((batch, n)),
        "gold_seen": np.zeros((batch, n)),
        "gold_correct": np.zeros((batch, n)),
        "cum_reward": np.zeros((batch, n)),
        "cum_correct": np.zeros((batch, n)),
        "ds_counts": np.zeros((batch, n, k, k)),
        "bonds": np.zeros((batch, v, n)),
        "accuracy_majority": undefined.copy(),
        "accuracy_dawid_skene": undefined.copy(),
        "cost_per_correct_label": undefined.copy(),
        "cost_over_effort": undefined.copy(),
        "reward_share_lazy": undefined.copy(),
        "reward_share_cartel": undefined.copy(),
        "reward_share_sybil": undefined.copy(),
        "gini_rewards": undefined.copy(),
        "reward_correct_corr": undefined.copy(),
        "participation": active.mean(axis=1),
        "share_lazy_labelers": lazy_share(strategy, active),
        "correct_labels": zeros.copy(),
        "minted": zeros.copy(),
        "paid_out": zeros.copy(),
        "treasury": zeros.copy(),
        "burned": zeros.copy(),
        "stake_locked": stake.sum(axis=1),
        "stake_deposited": stake.sum(axis=1),
        "stake_returned": zeros.copy(),
    }
