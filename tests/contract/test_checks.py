"""Each contract check catches the defect it is named for: broken variants of the toy model fail it."""
from dataclasses import replace

import numpy as np
import pytest

from tokensim.mechanisms.core import Param, Schema, StateVar
from tokensim.mechanisms.core.contract import ADVISORY, CHECKS, check_model
from tests.models import toy

GOOD = toy.MODEL


def _block(i, **variables):
    blocks = [dict(b, variables=dict(b["variables"])) for b in GOOD.blocks]
    blocks[i]["variables"].update(variables)
    return blocks


def _drop_state(name):
    return replace(GOOD, state=tuple(v for v in GOOD.state if v.name != name))


def _impure_burned(params, substep, history, state, policy, *args):
    state["burned"] += params["burn_rate"] * state["balances"].sum(axis=1)  # in place: a defect
    return "burned", state["burned"]


def _wrong_key(params, substep, history, state, policy, *args):
    return "supply", state["balances"].mean(axis=1)


def _global_rng_scores(params, substep, history, state, *args):
    scores = np.exp(np.random.default_rng().normal(size=(len(params["rng"]), params["n_agents"])))
    return {"share": scores / scores.sum(axis=1, keepdims=True)}


def _batch_mean_scores(params, substep, history, state, *args):
    share = toy.p_scores(params, substep, history, state)["share"]
    return {"share": np.broadcast_to(share.mean(axis=0), share.shape)}  # mixes the samples of a batch


def _reads_dead_scores(params, substep, history, state, *args):
    params["dead"]  # read and ignored: a parameter without effect
    return toy.p_scores(params, substep, history, state)


def _leaky_balances(params, substep, history, state, policy, *args):
    return "balances", toy.s_balances(params, substep, history, state, policy)[1] * 0.999


BROKEN = {
    "params_marked": replace(GOOD, schema=Schema((*GOOD.schema.params, Param("unmarked", 1.0, "no plausible range")))),
    "state_declared": _drop_state("supply"),
    "state_updated": replace(GOOD, blocks=_block(1, mean_balance=_wrong_key)),
    "pure": replace(GOOD, blocks=_block(0, burned=_impure_burned)),
    "params_read": replace(GOOD, schema=Schema((*GOOD.schema.params, Param("unused", 1.0, "never read",
                                                                           plausible=(0.0, 2.0))))),
    "params_matter": replace(
        GOOD, schema=Schema((*GOOD.schema.params, Param("dead", 1.0, "read, then ignored", plausible=(0.5, 2.0)))),
        blocks=[dict(GOOD.blocks[0], policies={"scores": _reads_dead_scores}), GOOD.blocks[1]]),
    "deterministic": replace(GOOD, blocks=[dict(GOOD.blocks[0], policies={"scores": _global_rng_scores}), GOOD.blocks[1]]),
    "layouts": replace(GOOD, blocks=[dict(GOOD.blocks[0], policies={"scores": _batch_mean_scores}), GOOD.blocks[1]]),
    "invariants": replace(GOOD, blocks=_block(0, balances=_leaky_balances)),
    "deepcopy": replace(GOOD, blocks=_block(0, burned=_impure_burned)),
}


def test_the_toy_model_passes_every_check():
    every = [*CHECKS, *ADVISORY]
    assert check_model(GOOD, every) == {name: [] for name in every}


@pytest.mark.parametrize("check", sorted(BROKEN))
def test_a_broken_model_fails_the_check(check):
    problems = {**CHECKS, **ADVISORY}[check](BROKEN[check])
    assert problems, f"{check} missed its defect"
    assert all("model 'toy'" in p for p in problems)


def test_messages_say_what_to_fix():
    problems = CHECKS["state_declared"](_drop_state("supply"))
    assert any("produced state not declared: ['supply']" in p and "add a StateVar" in p for p in problems)
    assert any("metric 'supply' is not declared" in p for p in problems)
    [problem] = CHECKS["params_marked"](BROKEN["params_marked"])
    assert "'unmarked'" in problem and "plausible=(lo, hi)" in problem
    [problem] = CHECKS["state_updated"](BROKEN["state_updated"])
    assert "registered for 'mean_balance'" in problem and "returns key 'supply'" in problem


def test_undeclared_shape_and_scope_are_caught():
    wrong_shape = replace(GOOD, state=tuple(
        replace(v, shape=("n_agents", "n_agents")) if v.name == "balances" else v for v in GOOD.state))
    assert any("declared ('n_agents', 'n_agents')" in p for p in CHECKS["state_declared"](wrong_shape))
    wrong_scope = replace(GOOD, state=tuple(
        replace(v, scope="agent", shape=("n_agents",)) if v.name == "supply" else v for v in GOOD.state))
    problems = CHECKS["state_declared"](wrong_scope)
    assert any("metric 'supply'" in p for p in problems) and any("agent_state" in p for p in problems)
    no_state = replace(GOOD, state=())
    assert "declares no state" in CHECKS["state_declared"](no_state)[0]


def test_params_read_all_at_once_count_as_read():
    def copies_params(params, rng):
        rows = {k: v for k, v in params.items()}  # reads every value, e.g. to build per-row dicts
        return toy.initial_state(rows, rng)

    unused = replace(BROKEN["params_read"], initial_state=copies_params)
    assert CHECKS["params_read"](unused) == []


def test_constant_state_has_no_update_and_never_changes():
    def with_scale(params, rng):
        return {**toy.initial_state(params, rng), "scale": rng.uniform(low=1.0, high=2.0)}

    constant = StateVar("scale", "drawn once per run", constant=True)
    good = replace(GOOD, state=(*GOOD.state, constant), initial_state=with_scale)
    assert CHECKS["state_updated"](good) == [] and CHECKS["state_declared"](good) == []
    updated = replace(good, blocks=_block(1, scale=lambda p, s, h, state, pol, *a: ("scale", state["scale"] + 1.0)))
    problems = CHECKS["state_updated"](updated)
    assert any("declared constant but has a state update" in p for p in problems)


def test_a_missing_update_is_caught():
    extra = replace(GOOD, state=(*GOOD.state, StateVar("ghost", "declared, never updated")),
                    initial_state=lambda p, rng: {**toy.initial_state(p, rng), "ghost": np.zeros(len(rng))})
    assert any("state 'ghost' has no state update" in p for p in CHECKS["state_updated"](extra))
