"""Yuma consensus (mechanisms/labeling/yuma.py) against a hand-computed case.

Formulas: opentensor/subtensor docs/consensus.md, "Consensus policy" and "Mathematical
definitions" (equations 3-7), https://github.com/opentensor/subtensor/blob/main/docs/consensus.md,
and https://docs.learnbittensor.org/yuma-consensus ("Clipping", "Miner emissions", "Bonding
mechanics", "Validator emissions").
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from mechanisms.labeling.yuma import stake_weighted_median, yuma_epoch

# Two validators, three miners. Stake 60/40 -> S = (0.6, 0.4).
# Validator 0 (honest) splits its weight over miners 0 and 1; validator 1 (a cabal) also puts
# 0.6 on miner 2, which the majority gives nothing.
STAKE = np.array([[60.0, 40.0]])
WEIGHTS = np.array([[[0.5, 0.5, 0.0], [0.2, 0.2, 0.6]]])


def test_hand_computed_epoch():
    result = yuma_epoch(WEIGHTS, STAKE, np.zeros((1, 2, 3)), kappa=0.5, bond_penalty=1.0, bond_alpha=0.1)
    # Consensus C_j = max w with stake{W_ij >= w} >= kappa = 0.5:
    #   miner 0: w = 0.5 is supported by validator 0's 0.6 stake -> C_0 = 0.5; same for miner 1.
    #   miner 2: w = 0.6 has only 0.4 stake; w = 0 has 1.0 -> C_2 = 0.
    np.testing.assert_allclose(result.consensus[0], [0.5, 0.5, 0.0])
    # Clipped weights min(W_ij, C_j): validator 1's 0.6 on miner 2 is cut to 0.
    np.testing.assert_allclose(result.clipped_weights[0], [[0.5, 0.5, 0.0], [0.2, 0.2, 0.0]])
    # Ranks R_j = sum_i S_i Wc_ij: R_0 = 0.6*0.5 + 0.4*0.2 = 0.38 = R_1, R_2 = 0.
    np.testing.assert_allclose(result.ranks[0], [0.38, 0.38, 0.0])
    # Incentive I_j = R_j / sum R = (0.5, 0.5, 0).
    np.testing.assert_allclose(result.incentive[0], [0.5, 0.5, 0.0])
    # Instant bonds with beta = 1 (bond weights = clipped weights):
    #   dB_0j = 0.6*0.5 / 0.38 = 0.30/0.38 = 15/19, dB_1j = 0.08/0.38 = 4/19 for j = 0, 1; column 2 is 0.
    # EMA from zero bonds with alpha = 0.1: B = 0.1 * dB.
    np.testing.assert_allclose(result.bonds[0], [[1.5 / 19, 1.5 / 19, 0.0], [0.4 / 19, 0.4 / 19, 0.0]])
    # Dividends D_i = sum_j B_ij I_j, normalised: (1.5/19, 0.4/19) / (1.9/19) = (15/19, 4/19)
    #   = (0.78947..., 0.21052...): the cabal earns less than its 0.4 stake share.
    np.testing.assert_allclose(result.dividends[0], [15 / 19, 4 / 19])


def test_bond_ema_and_penalty():
    # With beta = 0 the bonds use the raw weights: dB for miner 2 = 0.4*0.6 / (0.4*0.6) = 1 for
    # validator 1. Starting from bonds B0 = 0.5 everywhere and alpha = 0.1:
    # B_12 = 0.1*1 + 0.9*0.5 = 0.55 and B_02 = 0.1*0 + 0.9*0.5 = 0.45.
    previous = np.full((1, 2, 3), 0.5)
    result = yuma_epoch(WEIGHTS, STAKE, previous, kappa=0.5, bond_penalty=0.0, bond_alpha=0.1)
    np.testing.assert_allclose(result.bonds[0, :, 2], [0.45, 0.55])
    # Miner 0: S_i W_i0 = (0.6*0.5, 0.4*0.2) = (0.30, 0.08) -> dB = (15/19, 4/19)
    # -> B = 0.1*(15/19, 4/19) + 0.45 = (0.45 + 1.5/19, 0.45 + 0.4/19) = (0.52895, 0.47105).
    np.testing.assert_allclose(result.bonds[0, :, 0], [0.45 + 1.5 / 19, 0.45 + 0.4 / 19])


def test_majority_cartel_captures_consensus():
    # If the cabal holds 0.6 of stake, its weight on miner 2 becomes consensus and the honest
    # validator's weight on miners 0 and 1 is clipped to the cabal's 0.2.
    result = yuma_epoch(WEIGHTS, np.array([[40.0, 60.0]]), np.zeros((1, 2, 3)))
    np.testing.assert_allclose(result.consensus[0], [0.2, 0.2, 0.6])
    # R = (0.4*0.2 + 0.6*0.2, same, 0.6*0.6) = (0.2, 0.2, 0.36); I = R / 0.76 = (5/19, 5/19, 9/19)
    np.testing.assert_allclose(result.incentive[0], [5 / 19, 5 / 19, 9 / 19])


def test_weighted_median_ties_and_kappa():
    w = np.array([[[0.1], [0.3], [0.3], [0.9]]])
    s = np.array([[0.25, 0.25, 0.25, 0.25]])
    # descending weights 0.9 (0.25), 0.3 (0.5), 0.3 (0.75), 0.1 (1.0)
    assert stake_weighted_median(w, s, 0.5)[0, 0] == 0.3
    assert stake_weighted_median(w, s, 0.25)[0, 0] == 0.9
    assert stake_weighted_median(w, s, 0.8)[0, 0] == 0.1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), v=st.integers(1, 6), n=st.integers(1, 8), kappa=st.floats(0.0, 1.0))
def test_properties(seed, v, n, kappa):
    rng = np.random.default_rng(seed)
    weights = rng.random((2, v, n)) * (rng.random((2, v, n)) < 0.7)
    stake = rng.random((2, v)) + 0.01
    bonds = rng.random((2, v, n))
    result = yuma_epoch(weights, stake, bonds, kappa=kappa)
    assert np.all(result.clipped_weights <= weights / np.maximum(weights.sum(axis=2, keepdims=True), 1e-300) + 1e-12)
    for name in ("incentive", "dividends"):
        total = getattr(result, name).sum(axis=1)
        assert np.all(np.isclose(total, 1.0) | np.isclose(total, 0.0))
        assert np.all(getattr(result, name) >= 0)
    assert np.all(result.bonds >= 0)
    # batch rows are independent
    alone = yuma_epoch(weights[1:], stake[1:], bonds[1:], kappa=kappa)
    np.testing.assert_array_equal(alone.incentive[0], result.incentive[1])
