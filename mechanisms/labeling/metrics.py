"""Outcome metrics of the labeling model, batched: inputs (B, N) arrays, outputs (B,).

Strategy codes live here too, since every metric that splits rewards by labeler kind needs them.
"""
from __future__ import annotations

import numpy as np

from mechanisms.core import Metric

HONEST, LAZY_CONSTANT, LAZY_RANDOM, CARTEL, SYBIL = 0, 1, 2, 3, 4
INDEPENDENT = (HONEST, LAZY_CONSTANT, LAZY_RANDOM)
LAZY = (LAZY_CONSTANT, LAZY_RANDOM)

METRICS = (
    Metric("accuracy_majority", "share of the epoch's tasks whose majority-vote label is right", "share",
           "last", "higher"),
    Metric("accuracy_dawid_skene", "share of the epoch's tasks whose Dawid-Skene label is right", "share",
           "last", "higher"),
    Metric("cost_per_correct_label", "tokens paid so far per task labeled correctly (Dawid-Skene)",
           "tokens/label", "last", "lower"),
    Metric("cost_over_effort", "cost_per_correct_label over the honest effort cost of one task "
           "(labels_per_task x effort_cost)", "ratio", "last", "lower"),
    Metric("reward_share_lazy", "share of the epoch's rewards paid to lazy labelers", "share", "last", "lower"),
    Metric("reward_share_cartel", "share of the epoch's rewards paid to the cartel (labelers and its validator)",
           "share", "last", "lower"),
    Metric("reward_share_sybil", "share of the epoch's rewards paid to Sybil identities", "share", "last", "lower"),
    Metric("participation", "share of identities active", "share", "last", "higher"),
    Metric("share_lazy_labelers", "share of active identities that are lazy", "share", "last", "lower"),
    Metric("gini_rewards", "Gini coefficient of the epoch's rewards among active labelers", "", "last", ""),
    Metric("reward_correct_corr", "correlation across identities of rewards and correct labels, so far", "",
           "last", "higher"),
    Metric("correct_labels", "tasks labeled correctly (Dawid-Skene) so far", "tasks", "last", "higher"),
    Metric("minted", "tokens minted so far", "tokens", "last", ""),
    Metric("paid_out", "tokens paid to labelers and validators so far", "tokens", "last", ""),
    Metric("treasury", "minted tokens not paid out (no eligible labeler)", "tokens", "last", ""),
    Metric("burned", "stake slashed and burned so far", "tokens", "last", ""),
    Metric("stake_locked", "stake currently locked by active labelers", "tokens", "last", ""),
    Metric("stake_deposited", "stake deposited so far (joins and top-ups)", "tokens", "last", ""),
    Metric("stake_returned", "stake returned to labelers who left", "tokens", "last", ""),
)


def lazy_share(strategy: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Share of active identities whose strategy is lazy (constant or random)."""
    lazy = np.isin(strategy, LAZY) & active
    return lazy.sum(axis=1) / np.maximum(active.sum(axis=1), 1)


def group_share(amounts: np.ndarray, mask: np.ndarray, extra: np.ndarray | float, total: np.ndarray) -> np.ndarray:
    """(Sum of ``amounts`` where ``mask``, plus ``extra``) / ``total``; NaN when nothing was paid."""
    part = np.where(mask, amounts, 0.0).sum(axis=1) + extra
    return np.where(total > 0, part / np.where(total > 0, total, 1.0), np.nan)


def masked_gini(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Gini coefficient of ``values`` over the entries where ``mask`` is True, per row.

    Same sorted-rank formula as :func:`mechanisms.core.stats.gini`, restricted to the masked
    entries (masked-out entries are sorted to the end and given zero weight).
    """
    n = mask.sum(axis=1)
    x = np.sort(np.where(mask, values, np.inf), axis=1)
    valid = np.isfinite(x)
    x = np.where(valid, x, 0.0)
    ranks = 2.0 * np.arange(1, values.shape[1] + 1)[None, :] - n[:, None] - 1.0
    total = x.sum(axis=1)
    weighted = (x * np.where(valid, ranks, 0.0)).sum(axis=1)
    ok = (total > 0) & (n > 0)
    return np.where(ok, weighted / np.where(ok, n * total, 1.0), 0.0)


def row_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of two (B, N) arrays per row; 0 when either row is constant."""
    da = a - a.mean(axis=1, keepdims=True)
    db = b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((da * da).sum(axis=1) * (db * db).sum(axis=1))
    return np.where(denom > 0, (da * db).sum(axis=1) / np.where(denom > 0, denom, 1.0), 0.0)
