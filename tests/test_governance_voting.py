"""Pure voting arithmetic and the Sybil best response (tokensim.mechanisms.governance.voting / .sybil)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensim.mechanisms.governance.borrowing import tokens_to_borrow
from tokensim.mechanisms.governance.holders import lognormal_sigma, pareto_alpha
from tokensim.mechanisms.governance.sybil import (
    attacker_power_each,
    best_purchase,
    expected_uses,
    identities_needed,
    pass_at_least,
    purchase_grid,
    realised_passes,
)
from tokensim.mechanisms.governance.voting import (
    decide,
    delegate_stake,
    identity_power,
    split_power,
    sqrt_token_votes,
    stake_age_multiplier,
    tally,
    token_vote,
)

FAST = settings(max_examples=25, deadline=None)


# --- square root of the balance (sqrt_token) -----------------------------------------------------

def test_sqrt_token_splitting_pays():
    """Any square-root rule rewards splitting (Buterin, Hitzig & Weyl, "A Flexible Design for Funding Public
    Goods", Management Science 65(11) 2019, https://arxiv.org/abs/1809.06421, on fake identities): 100 tokens
    in one identity give sqrt(100) = 10 votes; over 4 identities of 25 tokens, 4 * sqrt(25) = 20 = sqrt(4 * 100).
    Quadratic voting with voice credits is tested in tests/test_governance_mechanisms.py."""
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

def test_purchase_grid_is_increasing_from_zero():
    grid = purchase_grid(4096)
    assert grid[0] == 0 and grid[1] == 1 and grid[-1] == 4095 and (np.diff(grid) > 0).all()
    assert list(purchase_grid(1)) == [0]


@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 0.97, 1.0])
def test_pass_at_least_matches_exact_binomial(q):
    for n in (0, 1, 4, 16, 39):
        for r in range(-1, n + 2):
            exact = sum(math.comb(n, x) * q**x * (1 - q) ** (n - x) for x in range(max(r, 0), n + 1))
            assert pass_at_least(r, n, q) == pytest.approx(exact, abs=1e-12)
    assert pass_at_least(np.inf, 10, q) == 0.0


def test_realised_passes_follow_the_binomial():
    n, q, draws = 10, 0.3, 20_000
    u = (np.arange(draws) + 0.5) / draws  # evenly spread quantiles: the mean is exact up to 1/20000
    passes = realised_passes(u, np.full(draws, n), np.full(draws, q))
    assert passes.mean() == pytest.approx(n * q, abs=1e-3)
    assert passes.min() == 0 and passes.max() == 9  # P(10 pass) = 0.3**10 < the smallest quantile 2.5e-5
    assert list(realised_passes(np.array([0.0, 1.0 - 1e-12]), np.array([10, 10]), np.array([0.3, 0.3]))) == [10, 0]
    assert list(realised_passes(np.array([0.0, 0.5]), np.array([5, 5]), np.array([0.0, 1.0]))) == [0, 5]


def test_expected_uses_of_a_persistent_identity():
    assert expected_uses(0.0, 40) == 40.0
    assert expected_uses(1.0, 40) == 1.0
    assert expected_uses(0.5, 3) == pytest.approx(1 + 0.5 + 0.25)
    assert expected_uses(1e-170, 40) == pytest.approx(40.0)


def _attack(rule, q, identity_cost, value, others, community_pass, tokens=1000.0, slash=False, max_k=512, stock=0.0,
            uses=1.0):
    """Run the best purchase for one sample against tallies ``others`` = (yes, no, cast, against)."""
    grid = purchase_grid(max_k)
    params = {
        "pass_threshold": np.array([0.5]), "veto_threshold": np.array([1.0]), "quorum": np.array([0.0]),
        "attack_value": np.array([value]), "slash_detected": slash, "max_identities": max_k,
    }
    yes, no, cast, against = (np.array([x], dtype=float) for x in others)
    supply = np.array([1e6])
    base = decide(yes, no, cast, against, supply, 0.0, 0.5, 1.0)
    k = 1.0 + stock + grid[None, :]
    def power_of(t):
        return identity_power(t, rule)
    power_each, tokens_each = attacker_power_each(np.array([tokens]), k, power_of)
    needed = identities_needed(base, np.array([community_pass]), np.array([False]), yes, no, cast, against,
                               supply, params, power_each, tokens_each)
    return best_purchase(needed, np.array([stock]), grid, np.array([q]), np.array([identity_cost]), np.array([uses]),
                         np.array([tokens]), params), grid


@FAST
@given(
    rule=st.sampled_from(["token", "sqrt_token", "one_person", "stake_age", "delegated"]),
    identity_cost=st.floats(0.0, 100.0),
    value=st.floats(0.0, 1e6),
    yes=st.floats(0.0, 1e4),
    no=st.floats(0.0, 1e4),
    slash=st.booleans(),
)
def test_detection_one_makes_splitting_worthless(rule, identity_cost, value, yes, no, slash):
    """With personhood pass probability 0 (detection 1) every new fake is removed: the best purchase is none
    and splitting gains nothing, whatever the tally, rule, prices or slashing."""
    choice, _ = _attack(rule, 0.0, identity_cost, value, (yes, no, yes + no, no), yes > no, slash=slash)
    assert choice["bought"][0] == 0 and choice["gain"][0] == 0.0


def test_free_undetected_identities_buy_a_one_person_majority():
    """One-person-one-vote, 300 yes against 200 no, free identities that always pass: the proposal fails
    once 300 <= 0.5 * (500 + A), i.e. with A = 100 identities voting no (a tie fails), so the attacker
    buys the smallest m >= 99 on its grid (plus its own identity) and flips the outcome for certain."""
    choice, grid = _attack("one_person", 1.0, 0.0, 1e4, (300, 200, 500, 200), True)
    assert choice["p_flip"][0] == 1.0
    assert choice["bought"][0] == grid[grid >= 99][0]
    assert choice["gain"][0] == pytest.approx(1e4)


def test_a_second_proposal_costs_nothing_extra():
    """Identities persist: with the 99 verified fakes bought for the first proposal still held, the same
    contest needs no purchase, so the second flip costs nothing; without the stock it would cost 99+ again."""
    first, grid = _attack("one_person", 1.0, 10.0, 1e4, (300, 200, 500, 200), True)
    bought = first["bought"][0]
    assert bought >= 99 and first["p_flip"][0] == 1.0
    second, _ = _attack("one_person", 1.0, 10.0, 1e4, (300, 200, 500, 200), True, stock=bought)
    assert second["bought"][0] == 0 and second["p_flip"][0] == 1.0 and second["net_gain"][0] == 1e4


def test_amortised_price_lets_the_attacker_buy_what_one_flip_does_not_pay_for():
    """Fakes at 45 that pass half the time: the ~200+ needed for 99 passes cost more than the expected value of
    one flip, so an attacker using them once buys none; one expecting 40 uses of each (an amortised 1.125 each)
    buys them (spending at most the flip's value at once)."""
    once, _ = _attack("one_person", 0.5, 45.0, 1e4, (300, 200, 500, 200), True)
    assert once["bought"][0] == 0
    planned, _ = _attack("one_person", 0.5, 45.0, 1e4, (300, 200, 500, 200), True, uses=40.0)
    assert planned["bought"][0] >= 198 and planned["p_flip"][0] > 0.5
    assert planned["net_gain"][0] == pytest.approx(1e4 * planned["p_flip"][0] - planned["bought"][0] * 45.0 / 40.0)


def test_identity_cost_above_the_value_stops_the_attack():
    choice, _ = _attack("one_person", 1.0, 1e5, 1e4, (300, 200, 500, 200), True)
    assert choice["bought"][0] == 0 and choice["gain"][0] == 0.0


# --- vote borrowing ------------------------------------------------------------------------------

@FAST
@given(yes=st.floats(1.0, 1e5), no=st.floats(0.0, 1e5), own=st.floats(0.0, 1e4), pass_threshold=st.floats(0.3, 0.7),
       veto=st.sampled_from([1.0, 0.2]))
def test_borrowing_flips_a_token_vote_exactly_when_the_borrowed_stake_crosses_the_line(yes, no, own, pass_threshold,
                                                                                       veto):
    """Token voting: the attacker votes its own ``own`` tokens against the community's side; b whole borrowed
    tokens flip the outcome and b - 1 do not (b = 0 when its own stake already flips it)."""
    supply = np.array([1e6])
    rule = {"quorum": np.array([0.0]), "pass_threshold": np.array([pass_threshold]), "veto_threshold": np.array([veto])}
    for community_pass in (True, False):
        votes_no = community_pass
        tally = {"yes": np.array([yes + (0.0 if votes_no else own)]), "no": np.array([no + (own if votes_no else 0.0)])}
        tally["cast"] = tally["yes"] + tally["no"]
        tally["against"] = tally["no"].copy()
        def outcome(t, b, votes_no=votes_no):
            return decide(t["yes"] + (0 if votes_no else b), t["no"] + (b if votes_no else 0), t["cast"] + b,
                          t["against"] + (b if votes_no else 0), supply, 0.0, pass_threshold, veto)
        with_own = outcome(tally, 0.0)
        others_pass = decide(np.array([yes]), np.array([no]), np.array([yes + no]), np.array([no]), supply, 0.0,
                             pass_threshold, veto)
        if others_pass[0] != community_pass:
            continue  # the community is not getting its way even without the attacker: nothing to flip
        b = tokens_to_borrow(with_own, np.array([community_pass]), np.array([False]), tally, supply, rule,
                             np.ones(1))[0]
        if with_own[0] != community_pass:
            assert b == 0.0
            continue
        if not np.isfinite(b):  # no loan helps: then even a huge one must not flip it
            assert outcome(tally, 1e12)[0] == community_pass
            continue
        assert outcome(tally, b)[0] != community_pass
        assert b == 1.0 or outcome(tally, b - 1.0)[0] == community_pass


def test_borrowing_in_the_model_flips_token_votes_and_pays_fees():
    from tests.test_governance_model import last, run

    values = {"rule": "token", "n_whales": 0, "whale_share": 0.0, "attacker_share": 0.01, "attack_value": 1e5,
              "borrow_fee": 0.001}
    without = last(run({**values, "borrow_limit": 0.0}, timesteps=10))
    loans = last(run({**values, "borrow_limit": 1.0}, timesteps=10))
    assert (without["borrowed"] == 0).all() and (without["loan_fees"] == 0).all()
    assert (loans["borrowed"] > 0).all() and (loans["loan_fees"] > 0).all()
    assert (loans["sybil_capture_rate"] > without["sybil_capture_rate"]).all()
    np.testing.assert_allclose(loans["loan_fees"], 0.001 * loans["borrowed"] * 10, rtol=1e-9)
    frame = run({**values, "borrow_limit": 1.0, "slash_detected": True}, timesteps=10)
    start = frame[frame.timestep == 0].set_index("sample")["supply"]
    for _, step in frame.groupby("timestep"):  # fees leave the attacker for the lenders, nothing else moves
        step = step.set_index("sample")
        np.testing.assert_allclose(step["supply"] + step["burned"] + step["loan_fees"], start, rtol=1e-12)


def test_token_vote_is_the_stable_token_weighted_tally():
    """The API the inflation model's governance policy imports: tokens of casting holders, decided by decide()."""
    stake = np.array([[60.0, 30.0, 10.0], [60.0, 30.0, 10.0]])
    cast = np.array([[True, True, True], [False, True, True]])
    yes = np.array([[False, True, True], [False, True, True]])
    out = token_vote(stake, cast, yes, supply=100.0)
    assert list(out["yes"]) == [40.0, 40.0] and list(out["no"]) == [60.0, 0.0]
    assert list(out["passed"]) == [False, True]
    assert not token_vote(stake, cast, yes, supply=100.0, quorum=0.5)["passed"][1]  # 40 tokens cast < 50


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


# --- issue 18: the fast paths give scipy's numbers exactly ----------------------------------------

@pytest.mark.parametrize("max_identities", [2, 50, 300, 4096, 100_000])
def test_pass_at_least_with_certain_passes_is_scipys_tail(max_identities):
    from scipy.stats import binom

    grid = purchase_grid(max_identities).astype(float)
    for n in grid:
        needed = np.arange(-3.0, n + 4.0)
        expected = np.where(np.isfinite(needed), binom.sf(needed - 1.0, n, 1.0), 0.0)
        np.testing.assert_array_equal(pass_at_least(needed, n, 1.0), expected)


def test_realised_passes_skip_only_where_nothing_is_drawn():
    from scipy.stats import binom

    u = np.random.default_rng(3).random(2000)
    for q in (0.0, 0.3, 1.0):
        for bought in (0.0, 7.0):
            b, qq = np.full(u.shape, bought), np.full(u.shape, q)
            slow = np.where(qq <= 0.0, 0.0, np.where(qq >= 1.0, b, np.clip(binom.ppf(1.0 - u, b, qq), 0.0, b)))
            np.testing.assert_array_equal(realised_passes(u, b, qq), slow)


def test_purchase_grid_is_cached_and_read_only():
    assert purchase_grid(4096) is purchase_grid(4096)
    with pytest.raises(ValueError):
        purchase_grid(4096)[0] = 1


def test_qv_spend_fast_path_gives_the_clipped_share_exactly():
    from tokensim.mechanisms.governance.voting import qv_spend

    rng = np.random.default_rng(9)
    credits = rng.random((6, 50)) * 100.0
    intensity = np.exp(rng.standard_normal((6, 50)) * 2.0)
    remaining = np.array([1.0, 2.0, 3.0, 10.0, 1.0, 7.0])[:, None]
    mean_square = np.exp(2.0 * rng.random(6))[:, None]
    u2 = np.square(intensity)
    denominator = u2 + (remaining - 1.0) * mean_square
    share = np.where(denominator > 0, u2 / np.where(denominator > 0, denominator, 1.0), 1.0)
    np.testing.assert_array_equal(qv_spend(credits, intensity, remaining, mean_square),
                                  credits * np.clip(share, 0.0, 1.0))
    assert qv_spend(5.0, 0.0, 1.0, 1.0) == 5.0  # nothing later and no intensity: the general path
