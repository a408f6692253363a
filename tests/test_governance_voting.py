"""Pure voting arithmetic and the Sybil best response (mechanisms.governance.voting / .sybil)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechanisms.governance.holders import lognormal_sigma, pareto_alpha
from mechanisms.governance.sybil import (
    best_response, identities_needed, identity_grid, pass_tail_table, realised_passes, tail_offsets,
)
from mechanisms.governance.voting import (
    RULES, stake_age_multiplier, decide, delegate_stake, identity_power, sqrt_token_votes, split_power, tally,
)

FAST = settings(max_examples=25, deadline=None)


# --- quadratic voting ----------------------------------------------------------------------------

def test_quadratic_voting_worked_example():
    """Lalley & Weyl, "Quadratic Voting: How Mechanism Design Can Radicalize Democracy", AEA Papers and
    Proceedings 108 (2018), https://doi.org/10.1257/pandp.20181002, and Buterin, Hitzig & Weyl, "A Flexible
    Design for Funding Public Goods", Management Science 65(11) 2019, https://arxiv.org/abs/1809.06421:
    votes are the square root of what an identity commits, so splitting across identities pays.
    100 tokens in one identity: sqrt(100) = 10 votes. Over 4 identities of 25 tokens: 4 * sqrt(25) = 20
    = sqrt(4 * 100) votes."""
    assert sqrt_token_votes(100.0, 1) == 10.0
    assert sqrt_token_votes(100.0, 4) == 20.0
    assert sqrt_token_votes(100.0, 4) == math.sqrt(4 * 100)


@FAST
@given(n=st.floats(1e-6, 1e12), k=st.integers(1, 100_000))
def test_quadratic_split_gives_sqrt_k_times_n(n, k):
    assert sqrt_token_votes(n, k) == pytest.approx(math.sqrt(k * n), rel=1e-12)


@FAST
@given(n=st.floats(1e-3, 1e9), k=st.integers(1, 10_000))
def test_splitting_changes_nothing_under_token_rules_and_counts_heads_under_one_person(n, k):
    assert split_power(n, k, "token") == pytest.approx(n, rel=1e-12)
    assert split_power(n, k, "delegated") == pytest.approx(n, rel=1e-12)
    assert split_power(n, k, "one_person") == k


def test_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="unknown rule"):
        identity_power(np.ones(3), "plurality")


def test_stake_age_multiplier_grows_with_age_to_one():
    alpha = 0.9
    assert stake_age_multiplier(0, alpha) == pytest.approx(0.1)
    assert stake_age_multiplier(1, alpha) == pytest.approx(0.19)
    assert stake_age_multiplier(500, alpha) == pytest.approx(1.0)
    assert stake_age_multiplier(0, 0.0) == 1.0


# --- delegation and the decision ----------------------------------------------------------------

@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60), size=st.integers(1, 4))
def test_delegation_moves_votes_not_tokens(seed, n, size):
    rng = np.random.default_rng(seed)
    stake = rng.exponential(10.0, (size, n))
    delegate_of = np.where(rng.random((size, n)) < 0.5, rng.integers(0, min(3, n), (size, n)), -1)
    delegate_of[:, : min(3, n)] = -1  # delegates vote for themselves
    out = delegate_stake(stake, delegate_of)
    np.testing.assert_allclose(out.sum(axis=1), stake.sum(axis=1), rtol=1e-12)
    assert (out[delegate_of >= 0] == 0).all() and (out >= 0).all()


def test_decide_quorum_threshold_ties_and_veto():
    args = dict(supply=100.0, quorum=0.1, pass_threshold=0.5, veto_threshold=0.2)
    assert decide(6.0, 4.0, 10.0, 4.0, **args)
    assert not decide(5.0, 5.0, 10.0, 5.0, **args)  # a tie keeps the status quo
    assert not decide(6.0, 3.0, 9.0, 3.0, **args)  # quorum of 10 tokens missed
    assert not decide(60.0, 21.0, 81.0, 21.0, **args)  # 21 tokens against > 20% of supply: vetoed


@FAST
@given(
    n_community=st.integers(1, 5000),
    seed=st.integers(0, 2**32 - 1),
    whale_excess=st.floats(1e-6, 0.5),
    veto=st.floats(0.01, 0.6),
)
def test_whale_above_veto_threshold_defeats_any_community(n_community, seed, whale_excess, veto):
    """Token voting with a veto rule: a whale whose stake exceeds the veto threshold and who votes no
    defeats a proposal that every community wallet votes for, whatever the community's size."""
    rng = np.random.default_rng(seed)
    supply = 1e6
    whale = min(veto + whale_excess, 0.99) * supply
    community = rng.dirichlet(np.ones(n_community)) * (supply - whale)
    stake = np.concatenate([community, [whale]])[None, :]
    yes = np.concatenate([np.ones(n_community, bool), [False]])[None, :]
    cast = np.ones_like(yes)
    yes_power, no_power = tally(identity_power(stake, "token"), cast, yes)
    yes_tokens, no_tokens = tally(stake, cast, yes)
    passed = decide(yes_power, no_power, yes_tokens + no_tokens, no_tokens, supply, 0.0, 0.5, veto)
    assert not passed.any()


# --- the Sybil attacker -------------------------------------------------------------------------

def test_identity_grid_is_increasing_from_one():
    grid = identity_grid(4096)
    assert grid[0] == 1 and grid[-1] == 4096 and (np.diff(grid) > 0).all()
    assert list(identity_grid(1)) == [1]


@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 0.97, 1.0])
def test_pass_tail_matches_exact_binomial(q):
    grid = np.array([1, 2, 5, 17, 40])
    tail, offsets = pass_tail_table(grid, np.array([q]))
    assert list(offsets) == list(tail_offsets(grid))
    for g, k in enumerate(grid):
        n = k - 1
        for r in range(k + 1):
            exact = sum(math.comb(n, x) * q**x * (1 - q) ** (n - x) for x in range(r, n + 1))
            assert tail[0, offsets[g] + r] == pytest.approx(exact, abs=1e-12)


def test_pass_tail_is_finite_for_large_identity_counts():
    tail, _ = pass_tail_table(identity_grid(100_000, 8), np.array([0.5, 0.999]))
    assert np.isfinite(tail).all() and (tail >= 0).all() and (tail <= 1).all()


def test_realised_passes_follow_the_binomial():
    grid, q = np.array([1, 11]), 0.3
    tail, offsets = pass_tail_table(grid, np.full(20_000, q))
    u = (np.arange(20_000) + 0.5) / 20_000  # evenly spread quantiles: the mean is exact up to 1/20000
    passes = realised_passes(u, np.ones(20_000, dtype=np.int64), grid, tail, offsets)
    assert passes.mean() == pytest.approx(10 * q, abs=1e-3)
    assert passes.min() == 0 and passes.max() == 9  # P(10 pass) = 0.3**10 < the smallest quantile 2.5e-5
    extremes = realised_passes(np.array([0.0, 1.0]), np.ones(2, dtype=np.int64), grid, tail[:2], offsets)
    assert list(extremes) == [10, 0]


def _attack(rule, q, identity_cost, value, others, community_pass, tokens=1000.0, slash=False, max_k=512):
    """Run the best response for one sample against tallies ``others`` = (yes, no, cast, against)."""
    grid = identity_grid(max_k)
    tail, offsets = pass_tail_table(grid, np.array([q]))
    params = {
        "pass_threshold": np.array([0.5]), "veto_threshold": np.array([1.0]), "quorum": np.array([0.0]),
        "identity_cost": np.array([identity_cost]), "attack_value": np.array([value]), "slash_detected": slash,
    }
    yes, no, cast, against = (np.array([x], dtype=float) for x in others)
    supply = np.array([1e6])
    base = decide(yes, no, cast, against, supply, 0.0, 0.5, 1.0)
    power_each = identity_power(tokens / grid[None, :], rule)
    needed = identities_needed(base, np.array([community_pass]), np.array([False]), yes, no, cast, against,
                               supply, params, power_each, tokens / grid[None, :])
    return best_response(needed, grid, tail, offsets, np.array([q]), np.array([tokens]), params), grid


@FAST
@given(
    rule=st.sampled_from(RULES),
    identity_cost=st.floats(0.0, 100.0),
    value=st.floats(0.0, 1e6),
    yes=st.floats(0.0, 1e4),
    no=st.floats(0.0, 1e4),
    slash=st.booleans(),
)
def test_detection_one_makes_splitting_worthless(rule, identity_cost, value, yes, no, slash):
    """With personhood pass probability 0 (detection 1) every fake is removed: the best split is k = 1
    and splitting gains nothing, whatever the tally, rule, prices or slashing."""
    choice, _ = _attack(rule, 0.0, identity_cost, value, (yes, no, yes + no, no), yes > no, slash=slash)
    assert choice["k"][0] == 1 and choice["sybil_gain"][0] == 0.0


def test_free_undetected_identities_buy_a_one_person_majority():
    """One-person-one-vote, 300 yes against 200 no, free identities that always pass: the proposal fails
    once 300 <= 0.5 * (500 + A), i.e. with A = 100 identities voting no (a tie fails), so the attacker
    takes the smallest k >= 100 on its grid and flips the outcome for certain."""
    choice, grid = _attack("one_person", 1.0, 0.0, 1e4, (300, 200, 500, 200), True)
    assert choice["p_flip"][0] == 1.0
    assert choice["k"][0] == grid[grid >= 100][0]
    assert choice["sybil_gain"][0] == pytest.approx(1e4)


def test_identity_cost_above_the_value_stops_the_attack():
    choice, _ = _attack("one_person", 1.0, 1e5, 1e4, (300, 200, 500, 200), True)
    assert choice["k"][0] == 1 and choice["sybil_gain"][0] == 0.0


# --- calibration --------------------------------------------------------------------------------

@pytest.mark.parametrize("share", [0.05, 0.3, 0.6])
def test_calibration_gives_the_top_one_percent_share(share):
    """Large samples of the calibrated laws hold the target top-1% share (finite-sample error ~1-3%)."""
    rng = np.random.default_rng(0)
    n = 400_000
    lognormal = np.sort(np.exp(lognormal_sigma(np.array([share]))[0] * rng.standard_normal(n)))
    assert lognormal[-n // 100:].sum() / lognormal.sum() == pytest.approx(share, rel=0.05)
    if share <= 0.05:  # heavier Pareto tails (alpha near 1) converge too slowly to test by sampling
        pareto = np.sort((1 - rng.random(n)) ** (-1 / pareto_alpha(np.array([share]))[0]))
        assert pareto[-n // 100:].sum() / pareto.sum() == pytest.approx(share, rel=0.1)
