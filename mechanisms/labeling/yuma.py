"""Bittensor's Yuma consensus for one epoch, as subtensor's ``run_epoch`` computes it, batched.

Validators ``i`` (stake ``S_i``) set weights ``W_ij`` on miners ``j`` (here: labelers). Per epoch,
with weights row-normalised and stake normalised (subtensor ``epoch_dense_mechanism``):

* consensus ``C_j = max{w : sum_i S_i [W_ij >= w] >= kappa}`` (stake-weighted kappa-median of
  the column); clipped weights ``Wc_ij = min(W_ij, C_j)``; ranks ``R_j = sum_i S_i Wc_ij``;
  incentive ``I = R / sum R``;
* weights for bonds ``Wb = W + beta (Wc - W)`` (``interpolate`` with the bonds penalty ``beta``);
* bonds and dividends by variant:

``subtensor`` (original Yuma, ``Yuma3On = false``, subtensor's default):
    stored bonds ``B`` (column max-upscaled) are column-normalised; ``dB = col_normalize(Wb o S)``;
    ``B' = col_normalize(alpha dB + (1 - alpha) B)`` with ``alpha = 1 - bonds_moving_average``;
    dividends ``D = normalize(B'^T I)``; ``B'`` is column max-upscaled for storage. Rescaling the
    columns before and after the moving average is what the running code does and
    ``docs/consensus.md`` does not: a miner's bond column always sums to one, so a validator that
    bonds early to a new miner does not keep a head start in absolute bond size.
``yuma3`` (``Yuma3On = true``, liquid alpha off):
    bonds are absolute proportions in [0, 1]; ``B' = min(1, alpha Wb + (1 - alpha) B)``
    (``mat_ema``); dividends ``D = normalize(S o sum_j col_normalize(B')_ij I_j)``.
``yuma3_liquid`` (``Yuma3On`` and ``LiquidAlphaOn``): as ``yuma3`` with one ``alpha_ij`` per
    bond (``compute_liquid_alpha_values`` / ``alpha_sigmoid``): ``x = clamp(Wb_ij - C_j, 0, 1)``
    if ``Wb_ij >= B_ij`` else ``clamp(B_ij - Wb_ij, 0, 1)``; ``alpha_ij = alpha_low + (alpha_high -
    alpha_low) / (1 + exp(-(steepness / 100) (x - 1/2)))``, and ``B' = min(1, (1 - alpha) B +
    alpha Wb)`` (``mat_ema_alpha``). When every consensus weight is zero subtensor falls back to
    the fixed ``alpha``.

Bond columns of miners registered since the last epoch are zeroed first (``inplace_mask_cols``
with ``recently_registered``): here, labelers who (re)joined.

Source: opentensor/subtensor at commit 14bc6f9f964b9cc362e9635dd110a487fa5d15a0 (runtime
spec_version 425, 2026-06-30): ``pallets/subtensor/src/epoch/run_epoch.rs``
(``epoch_dense_mechanism``, ``compute_bonds``, ``compute_ema_bonds_normal``, ``alpha_sigmoid``) and
``pallets/subtensor/src/epoch/math.rs`` (``mat_ema``, ``mat_ema_alpha``, ``inplace_col_normalize``,
``inplace_col_max_upscale``). tests/test_labeling_yuma.py replays subtensor's own
``tests/epoch.rs`` cases (``test_bonds``, ``test_yuma_3_kappa_moves_first``,
``test_yuma_3_liquid_alpha_disabled``). Simplifications: floating point instead of I32F32 and
u16 storage (our numbers match subtensor's to the u16 rounding of stored bonds); every validator
holds a permit and is active; no self-weights, so no diagonal mask; if no weight survives
consensus (zero incentive) subtensor pays validators by stake, we send the pool to the treasury.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VARIANTS = ("subtensor", "yuma3", "yuma3_liquid")
_TOLERANCE = 1e-12  # stake sums are floats: 0.3 + 0.2 must count as reaching kappa = 0.5


@dataclass(frozen=True)
class YumaResult:
    """One epoch of Yuma consensus; shapes: validators V, miners N, batch B."""

    consensus: np.ndarray  # (B, N) kappa-median weight per miner
    clipped_weights: np.ndarray  # (B, V, N)
    ranks: np.ndarray  # (B, N)
    incentive: np.ndarray  # (B, N), sums to 1 (or 0 if no weight survives)
    bonds: np.ndarray  # (B, V, N) bonds as stored for the next epoch
    dividends: np.ndarray  # (B, V), sums to 1 (or 0)


def _normalize(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` divided by its sum along ``axis``; all-zero slices stay as they are (zero)."""
    total = x.sum(axis=axis, keepdims=True)
    positive = total > 0
    out = x / np.where(positive, total, 1.0)
    if not positive.all():
        np.copyto(out, x, where=~positive)
    return out


def _col_max_upscale(x: np.ndarray) -> np.ndarray:
    """Each column (over validators, axis 1) divided by its maximum (subtensor's storage form)."""
    top = x.max(axis=1, keepdims=True)
    return np.where(top > 0, x / np.where(top > 0, top, 1.0), x)


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


def liquid_alpha(bond_weights: np.ndarray, bonds: np.ndarray, consensus: np.ndarray, alpha_low, alpha_high,
                 steepness) -> np.ndarray:
    """Per-bond EMA rate of Yuma 3's liquid alpha (subtensor ``alpha_sigmoid``), (B, V, N)."""
    low = np.asarray(alpha_low, dtype=float).reshape(-1, 1, 1)
    high = np.asarray(alpha_high, dtype=float).reshape(-1, 1, 1)
    k = np.asarray(steepness, dtype=float).reshape(-1, 1, 1)
    buy = np.clip(bond_weights - consensus[:, None, :], 0.0, 1.0)
    sell = np.clip(bonds - bond_weights, 0.0, 1.0)
    x = np.where(bond_weights >= bonds, buy, sell)
    sigmoid = 1.0 / (1.0 + np.exp(-(k / 100.0) * (x - 0.5)))
    return np.clip(low + sigmoid * (high - low), low, high)


def yuma_epoch(
    weights: np.ndarray,
    stake: np.ndarray,
    bonds: np.ndarray,
    kappa: float | np.ndarray = 0.5,
    bond_penalty: float | np.ndarray = 1.0,
    bond_alpha: float | np.ndarray = 0.1,
    variant: str = "subtensor",
    alpha_low: float | np.ndarray = 0.7,
    alpha_high: float | np.ndarray = 0.9,
    alpha_steepness: float | np.ndarray = 1000.0,
    registered: np.ndarray | None = None,
) -> YumaResult:
    """Run one Yuma epoch (see the module docstring for the formulas and sources).

    Parameters
    ----------
    weights : (B, V, N) non-negative raw weights; rows are normalised here.
    stake : (B, V) non-negative stake; normalised here.
    bonds : (B, V, N) bonds as stored by the previous epoch of the same variant (zeros at the start).
    kappa, bond_penalty, bond_alpha : scalars or (B,); ``bond_alpha = 1 - bonds_moving_average``.
    variant : one of :data:`VARIANTS`.
    alpha_low, alpha_high, alpha_steepness : liquid alpha's range and sigmoid steepness (``yuma3_liquid``).
    registered : optional (B, N) bool, miners registered since the last epoch (their bonds are reset).
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown Yuma variant {variant!r}; one of {VARIANTS}")
    w = _normalize(np.asarray(weights, dtype=float), axis=2)
    s = _normalize(np.asarray(stake, dtype=float), axis=1)
    beta = np.asarray(bond_penalty, dtype=float).reshape(-1, 1, 1)
    alpha = np.asarray(bond_alpha, dtype=float).reshape(-1, 1, 1)
    previous = np.asarray(bonds, dtype=float)
    if registered is not None:
        previous = np.where(registered[:, None, :], 0.0, previous)
    consensus = stake_weighted_median(w, s, kappa)
    clipped = np.minimum(w, consensus[:, None, :])
    ranks = (s[:, :, None] * clipped).sum(axis=1)
    incentive = _normalize(ranks, axis=1)
    bond_weights = w + beta * (clipped - w)
    if variant == "subtensor":
        old = _normalize(previous, axis=1)
        delta = _normalize(bond_weights * s[:, :, None], axis=1)
        ema = _normalize(alpha * delta + (1.0 - alpha) * old, axis=1)
        dividends = _normalize((ema * incentive[:, None, :]).sum(axis=2), axis=1)
        stored = _col_max_upscale(ema)
    else:
        rate = alpha
        if variant == "yuma3_liquid":
            liquid = liquid_alpha(bond_weights, previous, consensus, alpha_low, alpha_high, alpha_steepness)
            any_consensus = (consensus != 0).any(axis=1)[:, None, None]
            rate = np.where(any_consensus, liquid, alpha)
        stored = np.minimum((1.0 - rate) * previous + np.maximum(rate * bond_weights, 0.0), 1.0)
        per_validator = (_normalize(stored, axis=1) * incentive[:, None, :]).sum(axis=2)
        dividends = _normalize(per_validator * s, axis=1)
    return YumaResult(consensus, clipped, ranks, incentive, stored, dividends)
