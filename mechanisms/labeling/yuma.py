"""Bittensor's Yuma consensus for one epoch, batched over samples.

Validators ``i`` (with stake ``S_i``) set weights ``W_ij`` on miners ``j`` (here: labelers). Per
epoch, with weights row-normalised and stake normalised:

* consensus weight ``C_j = max{w : sum_i S_i [W_ij >= w] >= kappa}`` (stake-weighted
  kappa-median of the column);
* clipped weights ``Wc_ij = min(W_ij, C_j)``; ranks ``R_j = sum_i S_i Wc_ij``; miner incentive
  ``I_j = R_j / sum_k R_k``;
* bond weights ``Wb_ij = (1 - beta) W_ij + beta Wc_ij``; instant bonds
  ``dB_ij = S_i Wb_ij / sum_k S_k Wb_kj``; EMA bonds ``B_ij = alpha dB_ij + (1 - alpha) B_ij(t-1)``;
* validator dividends ``D_i = sum_j B_ij I_j``, normalised to sum to one.

A validator's emission is ``xi D_i`` and a miner's ``(1 - xi) I_j`` of the epoch's pool.

Sources: opentensor/subtensor ``docs/consensus.md`` (section "Consensus policy" and the table
"Mathematical definitions", equations 3-7), and the Bittensor docs page "Yuma Consensus"
(https://docs.learnbittensor.org/yuma-consensus). The dividend normalisation follows the epoch
code quoted in consensus.md (``inplace_normalize(matmul_transpose(ema_bonds, incentive))``).
Simplifications: floating point instead of subtensor's fixed point; no validator permits,
activity cut-offs, liquid alpha or bond caps (Yuma 3); every validator may weight every miner.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TOLERANCE = 1e-12  # stake sums are floats: 0.3 + 0.2 must count as reaching kappa = 0.5


@dataclass(frozen=True)
class YumaResult:
    """One epoch of Yuma consensus; shapes: validators V, miners N, batch B."""

    consensus: np.ndarray  # (B, N) kappa-median weight per miner
    clipped_weights: np.ndarray  # (B, V, N)
    ranks: np.ndarray  # (B, N)
    incentive: np.ndarray  # (B, N), sums to 1 (or 0 if no weight survives)
    bonds: np.ndarray  # (B, V, N) EMA bonds to carry to the next epoch
    dividends: np.ndarray  # (B, V), sums to 1 (or 0)


def _normalize(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` divided by its sum along ``axis``; all-zero slices stay zero."""
    total = x.sum(axis=axis, keepdims=True)
    positive = total > 0
    out = x / np.where(positive, total, 1.0)
    if not positive.all():
        np.copyto(out, 0.0, where=~positive)
    return out


def stake_weighted_median(weights: np.ndarray, stake: np.ndarray, kappa: float | np.ndarray) -> np.ndarray:
    """Largest ``w`` per miner that validators holding at least ``kappa`` of stake set at or above.

    ``weights`` (B, V, N), ``stake`` (B, V) normalised, ``kappa`` scalar or (B,). Sorting each
    column by weight, descending, the answer is the weight at which the cumulative stake first
    reaches ``kappa``. Returns (B, N).
    """
    order = np.argsort(-weights, axis=1, kind="stable")
    sorted_w = np.take_along_axis(weights, order, axis=1)
    sorted_s = np.take_along_axis(np.broadcast_to(stake[:, :, None], weights.shape), order, axis=1)
    support = np.cumsum(sorted_s, axis=1, out=sorted_s)
    kappa = np.asarray(kappa, dtype=float).reshape(-1, 1, 1)
    reached = support >= kappa - _TOLERANCE
    first = reached.argmax(axis=1)  # (B, N)
    value = np.take_along_axis(sorted_w, first[:, None, :], axis=1)[:, 0, :]
    return np.where(reached.any(axis=1), value, 0.0)


def yuma_epoch(
    weights: np.ndarray,
    stake: np.ndarray,
    bonds: np.ndarray,
    kappa: float | np.ndarray = 0.5,
    bond_penalty: float | np.ndarray = 1.0,
    bond_alpha: float | np.ndarray = 0.1,
) -> YumaResult:
    """Run one Yuma epoch (see the module docstring for the formulas and sources).

    Parameters
    ----------
    weights : (B, V, N) non-negative raw weights; rows are normalised here.
    stake : (B, V) non-negative stake; normalised here.
    bonds : (B, V, N) EMA bonds from the previous epoch (zeros at the start).
    kappa, bond_penalty, bond_alpha : scalars or (B,) arrays.
    """
    w = _normalize(np.asarray(weights, dtype=float), axis=2)
    s = _normalize(np.asarray(stake, dtype=float), axis=1)
    beta = np.asarray(bond_penalty, dtype=float).reshape(-1, 1, 1)
    alpha = np.asarray(bond_alpha, dtype=float).reshape(-1, 1, 1)
    consensus = stake_weighted_median(w, s, kappa)
    clipped = np.minimum(w, consensus[:, None, :])
    ranks = (s[:, :, None] * clipped).sum(axis=1)
    incentive = _normalize(ranks, axis=1)
    # the (B, V, N) arithmetic below reuses two work arrays: same operations, fewer large allocations
    work = np.multiply(beta, clipped)
    bond_weights = np.add(np.multiply(1.0 - beta, w, out=w), work, out=w)  # w is not needed any more
    instant = _normalize(np.multiply(s[:, :, None], bond_weights, out=bond_weights), axis=1)
    ema = np.add(np.multiply(alpha, instant, out=instant), np.multiply(1.0 - alpha, bonds, out=work), out=instant)
    dividends = _normalize(np.multiply(ema, incentive[:, None, :], out=work).sum(axis=2), axis=1)
    return YumaResult(consensus, clipped, ranks, incentive, ema, dividends)
