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


def test_size_follows_cost_and_memory():
    # toy: 3e-8 s per agent-step and 8 bytes per agent: few agents -> the cap, many -> fewer rows
    assert chunk_size_for(TOY, toy_point(10)) == MAX_AUTO_CHUNK
    sizes = [chunk_size_for(TOY, toy_point(n)) for n in (1_000, 10_000, 100_000)]
    assert sizes[0] > sizes[1] > sizes[2] >= 1
    assert sizes[1] * TOY.cost(toy_point(10_000)) >= runner.CHUNK_STEP_SECONDS  # enough work per chunk-step
    assert state_bytes(TOY, toy_point(10_000)) >= 8 * 10_000


def test_memory_bound_caps_the_size(monkeypatch):
    monkeypatch.setattr(runner, "CHUNK_STATE_BYTES", 10 * state_bytes(TOY, toy_point(10)))
    assert chunk_size_for(TOY, toy_point(10)) == 10


def test_spec_without_chunk_size_is_chunked_per_structural_group():
    spec = parse_spec({"model": "toy", "samples": 200, "timesteps": 2, "sweep": {"n_agents": [10, 10_000]}})
    assert spec.chunk_size is None and "chunk_size" not in spec.to_dict()
    chunks = plan_chunks(spec, spec.points())
    by_group = {c.rows[0].params["n_agents"]: max(len(x.rows) for x in chunks if x.rows[0].params["n_agents"] ==
                                                   c.rows[0].params["n_agents"]) for c in chunks}
    assert by_group[10] == 200  # every row of the cheap group in one chunk
    assert by_group[10_000] == 67 and chunk_size_for(TOY, toy_point(10_000)) == 84  # 200 rows in 3 equal chunks
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
