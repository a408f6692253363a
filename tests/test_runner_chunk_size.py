"""The automatic chunk size (experiments/runner.py): used only when a spec sets none, chosen per
structural group from the model's cost and state size, bounded, independent of the machine, and
the numbers do not depend on it."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from tokensim.experiments import runner
from tokensim.experiments.runner import (
    MAX_AUTO_CHUNK,
    auto_chunk_size,
    chunk_size_for,
    plan_chunks,
    run_spec,
    state_bytes,
)
from tokensim.experiments.spec import parse_spec
from tokensim.mechanisms.core import get_model

TOY = get_model("toy")


def toy_point(n_agents: int) -> dict:
    return TOY.schema.resolve({"n_agents": n_agents})


def test_size_follows_cost_and_memory(monkeypatch):
    # toy: 3e-8 s per agent-step and 8 bytes per agent: few agents -> the cap, many -> fewer rows
    assert chunk_size_for(TOY, toy_point(10)) == MAX_AUTO_CHUNK
    sizes = [chunk_size_for(TOY, toy_point(n)) for n in (1_000, 10_000, 100_000)]
    assert sizes[0] > sizes[1] > sizes[2] >= 1
    monkeypatch.setattr(runner, "CHUNK_STEP_BYTES", 2**40)  # without the cache bound, cost decides
    by_cost = chunk_size_for(TOY, toy_point(10_000))
    assert by_cost * TOY.cost(toy_point(10_000)) >= runner.CHUNK_STEP_SECONDS > (by_cost - 1) * TOY.cost(toy_point(10_000))
    assert state_bytes(TOY, toy_point(10_000)) >= 8 * 10_000


def test_memory_bound_caps_the_size(monkeypatch):
    monkeypatch.setattr(runner, "CHUNK_STATE_BYTES", 10 * state_bytes(TOY, toy_point(10)))
    assert chunk_size_for(TOY, toy_point(10)) == 10


def test_cache_bound_counts_only_the_state_a_step_updates(monkeypatch):
    # toy's balances (and 4 totals) are updated every step: 4 MiB of them is 52 rows at 10,000 agents (84 by cost)
    assert state_bytes(TOY, toy_point(10_000), updated_only=True) == 8 * (10_000 + 4)
    assert chunk_size_for(TOY, toy_point(10_000)) == runner.CHUNK_STEP_BYTES // 80_032 == 52
    monkeypatch.setattr(runner, "CHUNK_STEP_BYTES", 10 * 80_032)
    assert chunk_size_for(TOY, toy_point(10_000)) == 10
    # inflation's 10,000 governance holders are constant: the memory bound applies, the cache bound not
    inflation = get_model("inflation")
    point = inflation.schema.resolve({"n_holders": 10_000})
    assert state_bytes(inflation, point, updated_only=True) < 1_000 < state_bytes(inflation, point)
    assert chunk_size_for(inflation, point) == runner.CHUNK_STATE_BYTES // state_bytes(inflation, point)


def test_declared_axes_that_are_sums_of_parameters_are_counted():
    from tokensim.experiments.budget import axis_length

    point = {"n_community": 1000, "n_whales": 20, "delay": 2, "rate": 0.5, "flag": True}
    assert [axis_length(d, point) for d in ("n_community", "n_community + n_whales", "n_community - n_whales",
                                            "delay + 1", "5", 7)] == [1000, 1020, 980, 3, 5, 7]
    # not an integer parameter or not a sum: the contract learns the length from the arrays, 1 here
    assert [axis_length(d, point) for d in ("n_classes", "rate", "flag", "delay * 2")] == [1, 1, 1, 1]
    governance = get_model("governance")
    point = governance.schema.resolve({"n_community": 1000, "n_whales": 20})
    per_holder = [v for v in governance.state if v.shape == ("n_community + n_whales",)]
    assert per_holder and state_bytes(governance, point) >= 8 * 1020 * len(per_holder)


def test_spec_without_chunk_size_is_chunked_per_structural_group():
    spec = parse_spec({"model": "toy", "samples": 200, "timesteps": 2, "sweep": {"n_agents": [10, 10_000]}})
    assert spec.chunk_size is None and "chunk_size" not in spec.to_dict()
    chunks = plan_chunks(spec, spec.points())
    by_group = {c.rows[0].params["n_agents"]: max(len(x.rows) for x in chunks if x.rows[0].params["n_agents"] ==
                                                   c.rows[0].params["n_agents"]) for c in chunks}
    assert by_group[10] == 200  # every row of the cheap group in one chunk
    # 10,000 agents: 84 rows by cost, 52 by the cache bound (4 MiB / 80 kB); 200 rows in 4 equal chunks
    assert by_group[10_000] == 50 and chunk_size_for(TOY, toy_point(10_000)) == 52
    assert auto_chunk_size(spec) == chunk_size_for(TOY, toy_point(10)) == MAX_AUTO_CHUNK  # first group


def test_automatic_chunks_of_a_group_are_equal(monkeypatch):
    monkeypatch.setattr(runner, "chunk_size_for", lambda model, point: 96)
    spec = parse_spec({"model": "toy", "samples": 200, "timesteps": 2})
    assert [len(c.rows) for c in plan_chunks(spec, spec.points())] == [67, 67, 66]  # not 96, 96, 8


def test_explicit_chunk_size_wins_and_round_trips():
    spec = parse_spec({"model": "toy", "samples": 6, "timesteps": 2, "chunk_size": 4})
    assert [len(c.rows) for c in plan_chunks(spec, spec.points())] == [4, 2]
    assert parse_spec(spec.to_dict()).chunk_size == 4


def test_numbers_do_not_depend_on_the_chunk_size(toy_spec_dict):
    auto = parse_spec({k: v for k, v in toy_spec_dict.items() if k != "chunk_size"})
    expected = run_spec(auto).frame
    for size in (1, 5):
        pd.testing.assert_frame_equal(run_spec(replace(auto, chunk_size=size)).frame, expected)


@pytest.mark.parametrize("name", ["governance", "inflation", "labeling"])
def test_builtin_models_get_a_bounded_size(name):
    model = get_model(name)
    size = chunk_size_for(model, model.schema.resolve({}))
    assert 1 <= size <= MAX_AUTO_CHUNK
