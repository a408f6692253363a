"""Quadratic voting with voice credits, conviction voting, and capture against the no-adversary baseline."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensim.mechanisms.governance.voting import (
    RULES,
    conviction_after,
    conviction_pass_share,
    conviction_step,
    qv_cost,
    qv_spend,
    qv_votes,
    trigger_threshold,
    voice_credit_allocation,
)
from tests.test_governance_model import last, run, states

FAST = settings(max_examples=25, deadline=None)


# --- quadratic voting with voice credits ---------------------------------------------------------

def test_quadratic_voting_published_example():
    """P. Carleton, "Quadratic Voting" (Observable notebook, https://observablehq.com/@pcarleton/quadratic-voting),
    after Posner & Weyl, *Radical Markets* (2018) ch. 2 and Lalley & Weyl, AEA P&P 108 (2018): 3 votes cost 9
    credits, 4 cost 16, 5 cost 25. Ten voters with 100 credits: 3 die-hards put 10 votes (100 credits) on T; 7
    others spread 25 credits (5 votes) over each of 4 other options. T gets 30 votes, each other option 35."""
    assert list(qv_cost([3, 4, 5, 10])) == [9.0, 16.0, 25.0, 100.0]
    assert qv_votes(100.0) == 10.0
    # the spreaders care equally about 4 options: the pacing rule spends 25 on each, in turn
    credits, votes = 100.0, []
    for remaining in (4, 3, 2, 1):
        spend = qv_spend(credits, 1.0, remaining, 1.0)
        votes.append(float(qv_votes(spend)))
        credits -= spend
    assert votes == pytest.approx([5.0] * 4, rel=1e-12) and credits == pytest.approx(0.0, abs=1e-9)
    assert 3 * qv_votes(100.0) == 30.0 and 7 * votes[0] == pytest.approx(35.0)


@FAST
@given(credits=st.floats(0.0, 1e6), intensity=st.floats(0.0, 1e3), remaining=st.integers(1, 500),
       m2=st.floats(1e-6, 1e4))
def test_qv_spend_never_exceeds_the_budget_and_costs_votes_squared(credits, intensity, remaining, m2):
    spend = qv_spend(credits, intensity, remaining, m2)
    assert 0.0 <= spend <= credits
    assert qv_cost(qv_votes(spend)) == pytest.approx(spend, rel=1e-12, abs=1e-300)
    if remaining == 1:
        assert spend == pytest.approx(credits)  # the period's last proposal takes what is left


def test_voice_credit_bases():
    tokens = np.array([[1.0, 3.0, 0.0]])
    assert list(voice_credit_allocation(tokens, "equal", 50.0, 2.0)[0]) == [50.0, 50.0, 50.0]
    assert list(voice_credit_allocation(tokens, "tokens", 50.0, 2.0)[0]) == [25.0, 75.0, 0.0]
    with pytest.raises(ValueError, match="basis"):
        voice_credit_allocation(tokens, "wealth", 50.0, 2.0)


@pytest.mark.parametrize("basis", ["equal", "tokens"])
@pytest.mark.parametrize("carry", [False, True])
def test_voice_credit_budgets_hold_in_the_model(basis, carry):
    """Every holder's credits stay in [0, what it was given], spending equals votes squared, and at each period
    end credits are refilled (on top of the rest if they carry, in place of it if they expire)."""
    period = 3
    history = states({"rule": "quadratic", "credit_basis": basis, "credit_carry": carry, "credit_period": period,
                      "attacker_share": 0.0, "base_turnout": 0.9, "participation_cost": 0.0}, timesteps=7)
    allocation = history[0]["credit_allocation"]
    for t, (before, after) in enumerate(zip(history, history[1:])):
        assert (after["voice_credits"] >= -1e-9).all()
        given_so_far = allocation * (1 + (t + 1) // period if carry else 1)
        assert (after["voice_credits"] <= given_so_far + 1e-9).all()
        if (t + 1) % period and t + 1 < len(history) - 1:
            assert (after["voice_credits"] <= before["voice_credits"] + 1e-12).all()  # within a period: spend only
    assert not np.allclose(history[1]["voice_credits"], allocation)  # somebody voted
    if not carry:
        np.testing.assert_allclose(history[period]["voice_credits"], allocation)


# --- conviction voting -----------------------------------------------------------------------------

def test_conviction_trigger_against_blockscience_published_numbers():
    """BlockScience/1Hive, conviction-voting-cadcad (github.com/1Hive/conviction-voting-cadcad, mirror of
    BlockScience/Aragon_Conviction_Voting), models/v3/Trigger_Function_Explanation.ipynb, cells 3-10, with the
    parameters of models/v3/model/parts/sys_params.py: funds 4867.21, supply 22392.22 (Honey, 2020-08-05),
    beta 0.2, rho 0.0025, alpha 2**(-1/3) (3-day half-life). Published outputs: min_required_conviction =
    6783.893932236272, max_achievable_conviction = 108542.30291578037, their ratio rho/beta**2 = 0.0625, and
    max_achievable_request = (beta - sqrt(rho)) funds = 730.0815 (15% of funds)."""
    funds, supply, alpha, beta, rho = 4867.21, 22392.22, 2 ** (-1 / 3), 0.2, 0.0025
    assert trigger_threshold(0.0, funds, supply, alpha, beta, rho) == pytest.approx(6783.893932236272, rel=1e-12)
    max_conviction = supply / (1 - alpha)
    assert max_conviction == pytest.approx(108542.30291578037, rel=1e-12)
    assert trigger_threshold(0.0, funds, supply, alpha, beta, rho) / max_conviction == pytest.approx(0.0625)
    max_request = (beta - math.sqrt(rho)) * funds
    assert max_request == pytest.approx(730.0815, rel=1e-9)
    # at the largest achievable request, full unanimous conviction exactly meets the trigger
    assert trigger_threshold(max_request, funds, supply, alpha, beta, rho) == pytest.approx(max_conviction)
    assert trigger_threshold(beta * funds, funds, supply, alpha, beta, rho) == np.inf


def test_conviction_charges_like_the_blockscience_update():
    """y(t+1) = alpha y(t) + x (models/v3/model/parts/participants.py, line 163): from 0, a constant stake
    reaches x (1 - alpha**t) / (1 - alpha), half of its limit after the 3-day half-life."""
    alpha, x, y = 2 ** (-1 / 3), 100.0, 0.0
    for day in range(1, 31):
        y = conviction_step(y, x, alpha)
        assert y == pytest.approx(conviction_after(x, alpha, day), rel=1e-12)
    assert conviction_after(x, alpha, 3) == pytest.approx(0.5 * x / (1 - alpha))


@FAST
@given(alpha=st.floats(0.05, 0.99), days=st.integers(1, 200), r=st.floats(0.0, 0.19), staked=st.floats(1.0, 1e6),
       share=st.floats(0.001, 1.0))
def test_conviction_pass_share_is_the_trigger_crossing(alpha, days, r, staked, share):
    """Staking ``share`` of an effective supply for ``days`` crosses the trigger exactly when share exceeds
    conviction_pass_share (the model's decision rule is the BlockScience trigger)."""
    beta, rho, funds = 0.2, 0.0025, 1000.0
    supply = staked / share
    crosses = conviction_after(staked, alpha, days) > trigger_threshold(r * funds, funds, supply, alpha, beta, rho)
    line = conviction_pass_share(alpha, days, beta, rho, r)
    if abs(share - line) > 1e-9 * max(line, 1.0):
        assert bool(crosses) == bool(share > line)


def test_conviction_rule_cannot_be_vetoed_by_no_votes():
    """Under conviction voting a whale cannot vote no; staking elsewhere only raises the effective supply. A whale
    with 40% of supply against a community favouring everything: proposals still pass (their support is well
    above the trigger's share), while under token voting a 60% whale fails them all."""
    frame = last(run({"rule": "conviction", "n_whales": 1, "whale_share": 0.4, "whale_opposition": 1.0,
                      "support_mean": 0.99, "support_spread": 0.0, "attacker_share": 0.0, "base_turnout": 0.5, "top1_share": 0.02,
                      "participation_cost": 0.0}, timesteps=6))
    assert (frame["pass_rate"] == 1.0).all() and (frame["whale_veto_rate"] == 0.0).all()
    frame = last(run({"rule": "token", "n_whales": 1, "whale_share": 0.6, "whale_opposition": 1.0,
                      "support_mean": 0.99, "support_spread": 0.0, "attacker_share": 0.0, "base_turnout": 0.5, "top1_share": 0.02,
                      "participation_cost": 0.0}, timesteps=6))
    assert (frame["pass_rate"] == 0.0).all()


# --- capture against the no-adversary baseline ---------------------------------------------------

@pytest.mark.parametrize("rule", RULES)
def test_excess_capture_is_exactly_zero_without_adversaries(rule):
    frame = run({"rule": rule, "whale_opposition": 0.0, "attacker_share": 0.0, "identity_cost": 0.0}, timesteps=8)
    for name in ("excess_capture_rate", "whale_capture_rate", "sybil_capture_rate"):
        assert (frame[name] == 0.0).all(), name
    np.testing.assert_array_equal(frame["capture_rate"], frame["baseline_capture_rate"])


@pytest.mark.parametrize("rule", RULES)
def test_excess_capture_decomposes_into_whale_and_sybil_channels(rule):
    frame = run({"rule": rule, "whale_share": 0.3, "whale_opposition": 0.7, "attacker_share": 0.1,
                 "identity_cost": 1.0}, timesteps=8)
    np.testing.assert_allclose(frame["whale_capture_rate"] + frame["sybil_capture_rate"],
                               frame["excess_capture_rate"], atol=1e-12)
    np.testing.assert_allclose(frame["capture_rate"] - frame["baseline_capture_rate"], frame["excess_capture_rate"],
                               atol=1e-12)
