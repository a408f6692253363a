"""The governance cadCAD model: conservation, determinism, batch layouts, properties, data files, specs."""
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensim.experiments.spec import load_spec
from tokensim.mechanisms.core import DataFileError, ParameterError, get_model
from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches
from tokensim.mechanisms.governance.borrowing import BORROW_RULES
from tokensim.mechanisms.governance.policies import p_vote
from tokensim.mechanisms.governance.state import initial_state
from tokensim.mechanisms.governance.voting import PERSONHOOD_RULES, RULES

MODEL = get_model("governance")
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "tests" / "data" / "governance_balances.csv"  # synthetic addresses and balances
SMALL = {"n_community": 60, "n_whales": 2, "n_delegates": 5, "max_identities": 256}
RATE_METRICS = ["capture_rate", "capture_rate_headcount", "whale_veto_rate", "attacker_flip_rate", "turnout",
                "gini_voting_power", "pass_rate"]


def run(values=None, samples=3, timesteps=8, seed=11, layout="packed", deepcopy_off=True):
    point = MODEL.schema.resolve({**SMALL, **(values or {})})
    rows = tuple(Row(0, point, s) for s in range(samples))
    batches = [Batch(rows)] if layout == "packed" else [Batch((row,)) for row in rows]
    return run_batches(MODEL, batches, timesteps, seed, deepcopy_off=deepcopy_off)


def last(frame):
    return frame[frame.timestep == frame.timestep.max()].reset_index(drop=True)


def states(values=None, samples=2, timesteps=6, seed=5):
    """Step the model's state directly (policy + updates of both blocks) to see agent-level arrays."""
    point = MODEL.schema.resolve({**SMALL, **(values or {})})
    params = Batch(tuple(Row(0, point, s) for s in range(samples))).cadcad_params(MODEL, seed, False)
    state = initial_state(params, params["rng"])
    out = [state]
    for _ in range(timesteps):
        for block in MODEL.blocks:
            signal = {}
            for policy in block["policies"].values():
                signal.update(policy(params, 0, [], state))
            state = {**state, **dict(f(params, 0, [], state, signal) for f in block["variables"].values())}
        out.append(state)
    return out


# --- conservation -------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", ["sqrt_token", "one_person"])
def test_tokens_are_conserved_and_slashed_tokens_are_burned(rule):
    values = {"rule": rule, "slash_detected": True, "identity_cost": 0.0, "personhood_pass": 0.6,
              "attacker_share": 0.2, "attack_value": 1e6, "market_identity_cost": 1e15}
    history = states(values, timesteps=8)
    first = history[0]
    minted = first["minted"]
    for state in history:
        np.testing.assert_array_equal(state["balances"], first["balances"])  # voting moves no tokens
        total = state["balances"].sum(axis=1) + state["attacker_tokens"] + state["burned"]
        np.testing.assert_allclose(total, minted, rtol=1e-12)
        assert (state["attacker_tokens"] >= 0).all() and (state["burned"] >= 0).all()
    assert (history[-1]["burned"] > 0).all(), "this attack should have been caught and slashed"
    assert (history[-1]["sybil_identities"] > 1).all()


def test_conservation_in_the_recorded_metrics():
    frame = run({"rule": "sqrt_token", "slash_detected": True, "identity_cost": 0.0, "attacker_share": 0.2,
                 "attack_value": 1e6}, timesteps=10)
    start = frame[frame.timestep == 0].set_index("sample")["supply"]
    for _, step in frame.groupby("timestep"):
        step = step.set_index("sample")
        np.testing.assert_allclose(step["supply"] + step["burned"] + step["loan_fees"], start, rtol=1e-12)


def test_no_slashing_without_the_switch_or_under_token_rules():
    for values in ({"rule": "sqrt_token", "slash_detected": False}, {"rule": "token", "slash_detected": True}):
        assert (run({**values, "identity_cost": 0.0})["burned"] == 0).all()


def test_detection_one_makes_splitting_worthless_in_the_model():
    frame = last(run({"rule": "sqrt_token", "personhood_pass": 0.0, "market_pass": 0.0, "identity_cost": 0.0,
                      "slash_detected": True, "attacker_share": 0.3}, timesteps=10))
    assert (frame["sybil_identities"] == 1).all() and (frame["sybil_gain"] == 0).all()
    assert (frame["burned"] == 0).all()


def test_whale_above_the_veto_threshold_sinks_every_favoured_proposal():
    """Token voting, veto at 10% of supply, one whale holding 15% always voting against a community that
    unanimously cares equally and favours every proposal: nothing passes, at every community size."""
    for n in (10, 300, 3000):
        frame = last(run({"n_community": n, "n_whales": 1, "whale_share": 0.15, "veto_threshold": 0.1,
                          "whale_opposition": 1.0, "support_mean": 0.99, "support_spread": 0.0,
                          "intensity_sigma": 0.0, "intensity_skew": 0.0, "attacker_share": 0.0,
                          "base_turnout": 1.0, "participation_cost": 0.0, "quorum": 0.0}, samples=2, timesteps=5))
        assert (frame["pass_rate"] == 0).all() and (frame["whale_veto_rate"] == 1).all(), n


# --- determinism and layouts --------------------------------------------------------------------

def test_same_seed_same_numbers_different_seed_different_numbers():
    pd.testing.assert_frame_equal(run(seed=4), run(seed=4))
    a, b = last(run(seed=4)), last(run(seed=5))
    assert not np.allclose(a["welfare_loss"], b["welfare_loss"])


@pytest.mark.parametrize("rule", RULES)
def test_batch_layouts_give_identical_numbers(rule):
    """All rows packed in one batch or one batch per row: exactly equal (every reduction is row-wise, in
    the same order, and each row draws from its own generator)."""
    values = {"rule": rule, "identity_cost": 1.0, "attacker_share": 0.1, "slash_detected": True}
    packed, rows = (run(values, samples=3, layout=layout).sort_values(["sample", "timestep"], ignore_index=True)
                    for layout in ("packed", "rows"))
    pd.testing.assert_frame_equal(packed, rows)


def test_deepcopy_on_and_off_agree():
    pd.testing.assert_frame_equal(run(deepcopy_off=True), run(deepcopy_off=False))


def test_policy_does_not_mutate_its_state():
    point = MODEL.schema.resolve({**SMALL, "rule": "delegated"})
    params = Batch((Row(0, point, 0),)).cadcad_params(MODEL, 1, False)
    state = initial_state(params, params["rng"])
    before = {k: v.copy() for k, v in state.items()}
    p_vote(params, 0, [], state)
    for key, value in before.items():
        np.testing.assert_array_equal(state[key], value)


# --- properties over the parameter space ---------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(
    rule=st.sampled_from(RULES),
    n_community=st.integers(5, 80),
    n_whales=st.integers(0, 4),
    whale_share=st.floats(0.0, 0.6),
    attacker_share=st.floats(0.0, 0.3),
    balance_dist=st.sampled_from(["lognormal", "pareto"]),
    top1_share=st.floats(0.02, 0.95),
    quorum=st.floats(0.0, 0.5),
    pass_threshold=st.floats(0.01, 0.99),
    veto_threshold=st.floats(0.0, 1.0),
    identity_cost=st.floats(0.0, 1e3),
    personhood_pass=st.floats(0.0, 1.0),
    slash_detected=st.booleans(),
    participation_cost=st.floats(0.0, 1e4),
    credit_basis=st.sampled_from(["equal", "tokens"]),
    credit_carry=st.booleans(),
    credit_period=st.integers(1, 5),
    borrow_limit=st.floats(0.0, 2.0),
    borrow_fee=st.floats(0.0, 0.1),
    identity_detection=st.floats(0.0, 1.0),
    market_pass=st.floats(0.0, 1.0),
    market_identity_cost=st.floats(0.0, 1e4),
    requested_share=st.floats(0.0, 0.3),
    conviction_days=st.integers(1, 60),
    seed=st.integers(0, 2**16),
)
def test_metrics_stay_in_range(rule, n_community, n_whales, whale_share, attacker_share, balance_dist, top1_share,
                               quorum, pass_threshold, veto_threshold, identity_cost, personhood_pass,
                               slash_detected, participation_cost, credit_basis, credit_carry, credit_period,
                               borrow_limit, borrow_fee, identity_detection, market_pass, market_identity_cost,
                               requested_share, conviction_days, seed):
    values = dict(rule=rule, n_community=n_community, n_whales=n_whales, whale_share=whale_share if n_whales else 0.0,
                  attacker_share=attacker_share, balance_dist=balance_dist, top1_share=top1_share, quorum=quorum,
                  pass_threshold=pass_threshold, veto_threshold=veto_threshold, identity_cost=identity_cost,
                  personhood_pass=personhood_pass, slash_detected=slash_detected,
                  participation_cost=participation_cost, n_delegates=min(5, n_community), max_identities=128,
                  credit_basis=credit_basis, credit_carry=credit_carry, credit_period=credit_period,
                  borrow_limit=borrow_limit, borrow_fee=borrow_fee, identity_detection=identity_detection,
                  market_pass=market_pass, market_identity_cost=market_identity_cost,
                  requested_share=requested_share, conviction_days=conviction_days)
    frame = run(values, samples=2, timesteps=4, seed=seed)
    for name in RATE_METRICS:
        assert frame[name].between(0.0, 1.0).all(), name
    assert (frame["nakamoto_coefficient"] >= 0).all() and (frame["sybil_identities"] >= 0).all()
    assert (frame["sybil_gain"] >= 0).all() and (frame["burned"] >= 0).all() and (frame["welfare_loss"] >= 0).all()
    start = frame[frame.timestep == 0]["supply"].to_numpy()
    end = last(frame)
    np.testing.assert_allclose(end["supply"] + end["burned"] + end["loan_fees"], start, rtol=1e-12)
    assert (frame["attacker_cost_to_flip"].dropna() >= 0).all() and (frame["loan_fees"] >= 0).all()
    assert (frame["identity_stock"] >= 0).all() and (frame["borrowed"] >= 0).all()
    np.testing.assert_allclose(frame["whale_capture_rate"] + frame["sybil_capture_rate"], frame["excess_capture_rate"],
                               atol=1e-12)
    if rule not in PERSONHOOD_RULES:  # splitting never adds power under token rules
        assert (frame[frame.timestep > 0]["sybil_identities"] == 1).all()
    if rule not in BORROW_RULES or borrow_limit == 0:
        assert (frame["borrowed"] == 0).all()


def test_free_identities_let_the_attacker_capture_one_person_voting():
    capture = {}
    for cost in (0.0, 1e9):
        frame = last(run({"rule": "one_person", "identity_cost": cost, "personhood_pass": 1.0, "attacker_share": 0.05,
                          "whale_share": 0.0, "n_whales": 0, "attack_value": 1e5, "market_identity_cost": 1e15},
                         samples=3, timesteps=12))
        capture[cost] = frame["capture_rate"].mean()
        if cost:
            assert (frame[frame.timestep > 0]["sybil_identities"] == 1).all()
    assert capture[0.0] == 1.0 and capture[1e9] < 0.6


# --- parameters and data files -----------------------------------------------------------------

def test_cross_parameter_checks_name_the_parameter():
    with pytest.raises(ParameterError, match="attacker_share"):
        MODEL.schema.resolve({"whale_share": 0.8, "attacker_share": 0.2})
    with pytest.raises(ParameterError, match="whale_share"):
        MODEL.schema.resolve({"n_whales": 0, "whale_share": 0.1})
    with pytest.raises(ParameterError, match="n_delegates"):
        MODEL.schema.resolve({"n_community": 5, "n_delegates": 6})
    with pytest.raises(ParameterError, match="rule"):
        MODEL.schema.resolve({"rule": "plurality"})


def test_balances_from_csv():
    frame = last(run({"balances_csv": str(SAMPLE_CSV), "n_whales": 3, "attacker_share": 0.0}, timesteps=5))
    real = pd.read_csv(SAMPLE_CSV)["balance"].sum()
    np.testing.assert_allclose(frame["supply"], real, rtol=1e-12)
    history = states({"balances_csv": str(SAMPLE_CSV), "n_whales": 3}, timesteps=1)
    balances = history[0]["balances"][0]
    assert len(balances) == 60 and list(balances[-3:]) == [250000.0, 120000.0, 90000.0]  # whales are last


@pytest.mark.parametrize(
    "content, message",
    [
        ("address,amount\n0xa,1\n0xb,2\n", "missing column 'balance'"),
        ("address,balance\n0xa,1\n0xb,lots\n0xc,3\n", "row 3, column 'balance': 'lots'"),
        ("address,balance\n0xa,1\n0xb,-2\n", "row 3, column 'balance'"),
        ("address,balance\n0xa,1\n0xb,inf\n", "not a finite number"),
        ("address,balance\n0xa,1\n", "at least 2 holders"),
        ("address,balance\n0xa,0\n0xb,0\n", "sums to 0"),
        ("", "not a readable CSV"),
    ],
)
def test_bad_balances_files_name_file_row_and_problem(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataFileError, match=message) as info:
        run({"balances_csv": str(path), "n_whales": 0, "whale_share": 0.0, "n_delegates": 1})
    assert str(path) in str(info.value)


def test_missing_file_and_too_few_holders(tmp_path):
    with pytest.raises(DataFileError, match="cannot read"):
        run({"balances_csv": str(tmp_path / "nope.csv")})
    with pytest.raises(DataFileError, match="too few"):
        run({"balances_csv": str(SAMPLE_CSV), "n_whales": 58})


def test_cost_scales_with_holders():
    small = MODEL.cost(MODEL.schema.resolve({"n_community": 100}))
    large = MODEL.cost(MODEL.schema.resolve({"n_community": 10_000}))
    assert large > 10 * small > 0


# --- experiment specs ---------------------------------------------------------------------------

SPECS = {
    "governance_whale_veto": "gov-whale-veto",
    "governance_rule_vs_identity_cost": "gov-token-vote-needs-sybil-resistance",
    "governance_qv_breakeven": "gov-personhood-qv-breakeven",
}


@pytest.mark.parametrize("name", SPECS)
def test_specs_load_and_name_their_claims(name):
    spec = load_spec(ROOT / "experiments" / "specs" / f"{name}.toml")
    assert spec.model == "governance" and SPECS[name] in spec.claims
    claims = tomllib.loads((ROOT / "seeds" / "claims.toml").read_text())["claim"]
    claim = next(c for c in claims if c["id"] == SPECS[name])
    assert claim["experiment"] == f"experiments/specs/{name}.toml"
    assert set(claim["metric"]) <= set(spec.metric_names())


def test_splitting_cannot_cross_the_veto_line_by_rounding():
    """Regression (found by hypothesis): an attacker holding exactly the veto line's tokens cannot
    veto alone, and splitting them over k identities must not round its total above the line."""
    frame = run({"rule": "token", "n_community": 5, "n_whales": 0, "whale_share": 0.0, "attacker_share": 0.25,
                 "balance_dist": "lognormal", "top1_share": 0.5, "quorum": 0.0, "pass_threshold": 0.5,
                 "veto_threshold": 0.25, "identity_cost": 0.0, "personhood_pass": 0.0, "slash_detected": True,
                 "participation_cost": 1.5, "n_delegates": 5, "max_identities": 128}, samples=2, timesteps=4, seed=1)
    assert (frame[frame.timestep > 0]["sybil_identities"] == 1).all()


def test_declared_state_is_exactly_the_state_produced_and_every_parameter_has_a_basis():
    produced = set(states(timesteps=1)[1])
    assert {v.name for v in MODEL.state} == produced
    assert set(MODEL.metric_names) <= produced
    for param in MODEL.schema:
        assert param.basis in ("calibrated", "assumed", "setting"), param.name
        if param.basis == "assumed":
            assert param.plausible is not None, param.name
        if param.basis == "calibrated":
            assert param.source, param.name


def test_captions_name_every_setting_left_at_its_default():
    """The quickstart's old caption said "other parameters at defaults" and hid a 5% Sybil attacker: a caption
    now lists each setting the spec neither fixes nor sweeps, with its value."""
    from tokensim.experiments.figures import caption

    provenance = {"model": "governance", "model_version": MODEL.version, "spec": {"fixed": {"n_whales": 3}},
                  "swept": ["rule", "whale_share"], "samples": 2, "timesteps": 4, "seed": 1,
                  "tokensim_version": "0", "git_commit": "0" * 40, "created": "2026-01-01"}
    text = caption(provenance, "excess_capture_rate")
    for name in ("attacker_share=0.05", "identity_cost=10.0", "attack_value=10000.0", "whale_opposition=0.5",
                 "borrow_limit=0.0"):
        assert name in text
    assert "n_whales=3" in text and "rule=" not in text.split("settings at defaults")[1]


def test_cast_power_counters_match_separate_sorts():
    """One sort for Gini, Nakamoto and the top 10 gives the numbers of the separate computations."""
    from tokensim.mechanisms.core.stats import gini, nakamoto
    from tokensim.mechanisms.governance.metrics import cast_power_counters

    rng = np.random.default_rng(5)
    power = rng.pareto(1.1, (7, 300)) * (rng.random((7, 300)) < 0.4)
    power[0] = 0.0
    power[1] = 1.0  # flat: the Nakamoto running sum must widen to every column
    power[2, :3] = 1e6  # concentrated: settled within the first columns
    got = cast_power_counters(power)
    total = power.sum(axis=1)
    top = -np.sort(-power, axis=1)[:, :10].sum(axis=1)
    np.testing.assert_array_equal(got["gini_sum"], gini(power))
    np.testing.assert_array_equal(got["nakamoto_sum"], nakamoto(power).astype(float))
    np.testing.assert_array_equal(got["top10_sum"], np.where(total > 0, top / np.where(total > 0, total, 1.0), 0.0))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 3.0), st.floats(0.0, 2.0), st.floats(0.05, 0.95))
def test_member_utilities_are_the_select_and_mask_formulas_bit_for_bit(seed, sigma, skew, support_mean):
    """community_preferences builds the utilities with products and sums instead of np.where and a
    negated mask (faster: no branch on a random mask); intensities are finite and positive, so the
    numbers are exactly those of the plain formulas, which this test keeps."""
    from tokensim.mechanisms.governance.policies import community_preferences

    rng = np.random.default_rng(seed)
    size, n = 7, 64
    draws = {"support": rng.standard_normal(size), "skew": rng.standard_normal(size),
             "favour": rng.random((size, n)), "intensity": rng.standard_normal((size, n)) * 3}
    params = {"support_mean": np.full(size, support_mean), "support_spread": np.full(size, 1.0),
              "intensity_skew": np.full(size, skew), "intensity_sigma": np.full(size, sigma), "rule": "quadratic"}
    got = community_preferences(draws, params)
    logit = np.log(support_mean / (1.0 - support_mean)) + draws["support"]
    yes = draws["favour"] < (1.0 / (1.0 + np.exp(-logit)))[:, None]
    side = np.exp(0.5 * skew * draws["skew"])
    intensity = np.exp(sigma * draws["intensity"])
    total = side * (intensity * yes).sum(axis=1) - (intensity * ~yes).sum(axis=1) / side
    scaled = np.where(yes, side[:, None] * intensity, intensity / side[:, None])
    assert got["yes"].tobytes() == yes.tobytes()
    assert got["utility_total"].tobytes() == total.tobytes()
    assert got["intensity"].tobytes() == scaled.tobytes()
