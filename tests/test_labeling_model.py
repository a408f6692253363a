"""The labeling model end to end: conservation, reproducibility, batch layouts, properties."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensim.mechanisms.core import ParameterError, get_model
from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches
from tokensim.mechanisms.labeling.model import conservation_laws
from tokensim.mechanisms.labeling.rewards import RULES

MODEL = get_model("labeling")
SMALL = {"n_labelers": 40, "n_tasks": 30, "labels_per_task": 3, "n_validators": 4, "ds_iterations": 3}


def point(**values):
    return MODEL.schema.resolve({**SMALL, **values})


def run(points, samples=2, timesteps=8, seed=11, packed=True, deepcopy_off=True):
    rows = [Row(pid, p, s) for pid, p in enumerate(points) for s in range(samples)]
    batches = [Batch(tuple(rows))] if packed else [Batch((r,)) for r in rows]
    return run_batches(MODEL, batches, timesteps, seed, deepcopy_off=deepcopy_off)


def check_accounts(frame: pd.DataFrame) -> None:
    """minted = paid out + treasury; stake deposited = locked + burned + returned; nothing negative;
    every share within [0, 1]."""
    scale = max(1.0, frame["minted"].abs().max())
    np.testing.assert_allclose(frame["minted"], frame["paid_out"] + frame["treasury"], atol=1e-9 * scale)
    parts = frame["paid_validators"] + frame["paid_owner"] + frame["paid_gold"]
    assert (parts <= frame["paid_out"] + 1e-9 * scale).all()
    total = frame["stake_locked"] + frame["burned"] + frame["stake_returned"]
    np.testing.assert_allclose(frame["stake_deposited"], total, atol=1e-9 * max(1.0, frame["stake_deposited"].max()))
    for column in ("paid_out", "paid_validators", "paid_owner", "paid_gold", "treasury", "burned", "stake_locked",
                   "stake_returned", "correct_labels", "audit_spend"):
        assert (frame[column] >= -1e-9).all(), column
    shares = [mt.name for mt in MODEL.metrics if mt.bounds == (0.0, 1.0)]
    values = frame[shares].to_numpy()
    assert np.all(np.isnan(values) | ((values >= -1e-12) & (values <= 1 + 1e-12)))


EVERY_AGENT = {"cartel_share": 0.15, "sybil_share": 0.1, "share_lazy": 0.15, "copy_share": 0.1, "share_ai": 0.1,
               "gold_recognisable": 0.5, "unfunded_validator_share": 0.5, "commit_reveal_delay": 2,
               "demand_decay": 0.05, "equilibrium_check": True, "validator_adapt_rate": 0.3, "explore_rate": 0.05}


@pytest.mark.parametrize("rule", RULES)
def test_conservation_every_rule(rule):
    frame = run([point(reward_rule=rule, **EVERY_AGENT)], timesteps=10)
    check_accounts(frame)
    last = frame[frame.timestep == 10]
    np.testing.assert_allclose(last["minted"], 10 * MODEL.schema["emission"].default)


@pytest.mark.parametrize("rule", RULES)
def test_conservation_laws_and_stakes_in_agent_state(rule):
    params = Batch((Row(0, point(reward_rule=rule, slash_per_error=100.0, **EVERY_AGENT), 0),)).cadcad_params(
        MODEL, 3, False)
    state = MODEL.initial_state(params, params["rng"])
    for _ in range(6):
        for block in MODEL.blocks:
            (policy,) = block["policies"].values()
            signal = policy(params, 0, [], state)
            state = {**state, **dict(f(params, 0, [], state, signal) for f in block["variables"].values())}
            for law, holds in conservation_laws(params, state).items():
                assert holds.all(), law
            assert np.all(state["stake"] >= 0)
            assert np.all(state["stake"][~state["active"]] == 0)


def test_same_seed_same_numbers_and_different_seed_differs():
    p = [point(reward_rule="peer", share_lazy=0.3)]
    a, b = run(p, seed=5), run(p, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = run(p, seed=6)
    assert not np.allclose(a["accuracy_dawid_skene"].dropna(), c["accuracy_dawid_skene"].dropna())


@pytest.mark.parametrize("rule", RULES)
def test_batch_layout_equivalence(rule):
    # Exact equality: every row draws from its own generator and all reductions are per row
    # (bincount, sparse products and sums keep each row's summation order whatever B is).
    points = [point(reward_rule=rule, share_lazy=x, cartel_share=0.1, copy_share=0.1, share_ai=0.1,
                    equilibrium_check=True) for x in (0.1, 0.4)]
    packed = run(points, packed=True).sort_values(["point_id", "sample", "timestep"]).reset_index(drop=True)
    alone = run(points, packed=False).sort_values(["point_id", "sample", "timestep"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(packed, alone)


def test_deepcopy_on_and_off_agree():
    p = [point(reward_rule="yuma", cartel_share=0.2)]
    pd.testing.assert_frame_equal(run(p, deepcopy_off=True, timesteps=4), run(p, deepcopy_off=False, timesteps=4))


def test_parameter_errors_name_parameter_and_range():
    with pytest.raises(ParameterError, match="share_lazy"):
        MODEL.schema.resolve({"share_lazy": 0.5, "cartel_share": 0.4, "sybil_share": 0.1})
    with pytest.raises(ParameterError, match=r"labels_per_task.*no larger than n_labelers"):
        MODEL.schema.resolve({"n_labelers": 5, "labels_per_task": 6})
    with pytest.raises(ParameterError, match=r"reward_rule.*'flat'"):
        MODEL.schema.resolve({"reward_rule": "bribe"})


def test_flat_pay_lazy_takeover_and_gold_resists():
    flat = run([point(reward_rule="flat", emission=180.0, effort_cost=1.5, adapt_rate=0.3)], samples=3, timesteps=25)
    gold = run([point(reward_rule="gold", emission=180.0, effort_cost=1.5, adapt_rate=0.3, gold_share=0.2)], samples=3, timesteps=25)
    lazy_flat = flat[flat.timestep == 25]["share_lazy_labelers"].mean()
    lazy_gold = gold[gold.timestep == 25]["share_lazy_labelers"].mean()
    assert lazy_flat > 0.5 and lazy_gold < lazy_flat


@settings(max_examples=15, deadline=None)
@given(
    rule=st.sampled_from(RULES),
    lazy=st.floats(0.0, 0.4), cartel=st.floats(0.0, 0.3), sybil=st.floats(0.0, 0.2),
    emission=st.floats(0.0, 5000.0), effort=st.floats(0.0, 5.0), stake=st.floats(0.0, 50.0),
    slash=st.floats(0.0, 50.0), kappa=st.floats(0.0, 1.0), k=st.integers(2, 5),
    copy=st.floats(0.0, 0.15), ai=st.floats(0.0, 0.15), recognisable=st.floats(0.0, 1.0),
    variant=st.sampled_from(["subtensor", "yuma3", "yuma3_liquid"]), audit_cost=st.floats(0.0, 5.0),
    budget=st.floats(0.0, 200.0), gold_cost=st.floats(0.0, 100.0),
)
def test_properties_over_parameter_space(rule, lazy, cartel, sybil, emission, effort, stake, slash, kappa, k, copy,
                                         ai, recognisable, variant, audit_cost, budget, gold_cost):
    p = point(reward_rule=rule, share_lazy=lazy, cartel_share=cartel, sybil_share=sybil, emission=emission,
              effort_cost=effort, stake_required=stake, slash_per_error=slash, kappa=kappa, n_classes=k,
              copy_share=copy, share_ai=ai, gold_recognisable=recognisable, yuma_variant=variant,
              audit_cost=audit_cost, validator_budget=budget, gold_cost=gold_cost, validator_adapt_rate=0.3)
    frame = run([p], samples=1, timesteps=4)
    check_accounts(frame)
    assert (frame["participation"] * SMALL["n_labelers"] >= SMALL["labels_per_task"] - 1e-9).all()
