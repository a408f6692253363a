"""Tuning the adaptive policies: the same optimiser and budget for every policy, training seeds and
scenarios kept apart from evaluation, rollouts through tokensim.mechanisms.core.step, and the disk cache."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tokensim.experiments.stats import paired_difference
from tokensim.mechanisms.core import get_model, step
from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches
from tokensim.mechanisms.core.seeding import BatchRNG, sample_generator
from tokensim.mechanisms.inflation import tuning, tuning_cache
from tokensim.mechanisms.inflation.blocks import BLOCKS
from tokensim.mechanisms.inflation.state import base_state

MODEL = get_model("inflation")
SMALL = {"tune_iterations": 2, "tune_population": 6, "tune_seeds": 2, "tune_days": 40}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tuning_cache, "_MEMORY", {})
    return tmp_path / "cache"


def point(**values):
    return MODEL.schema.resolve({**SMALL, **values})


def test_every_tuned_policy_gets_the_same_number_of_evaluations(monkeypatch):
    counted = {}
    real = tuning.rollout

    def counting(p, vectors, generators, days):
        counted[p["policy"]] = counted.get(p["policy"], 0) + len(vectors) * len(generators)
        assert days == SMALL["tune_days"]
        return real(p, vectors, generators, days)

    monkeypatch.setattr(tuning, "rollout", counting)
    for policy in tuning.TUNED_POLICIES:
        tuning.tune(point(policy=policy))
    expected = 2 * 6 * 2 * len(tuning.TRAINING_SCENARIOS)
    assert counted == {policy: expected for policy in ("cosmos", "pid", "team", "learning")}
    assert all(tuning.evaluations(point(policy=p)) == expected for p in counted)


def test_training_streams_never_are_evaluation_streams():
    # Assembled entropy: 4 padded seed words + spawn key. Training keys have 3 words (7 in all);
    # an evaluation sample's key has 1 (common random numbers) or 5 (point key + sample): 5 or 9.
    def words(seq: np.random.SeedSequence) -> tuple[int, ...]:
        entropy = seq.entropy if isinstance(seq.entropy, (list, tuple)) else [seq.entropy]
        return tuple(entropy) + (0,) * (4 - len(entropy)) + tuple(seq.spawn_key)

    train = {words(tuning.training_sequence(seed, j, i)) for seed in (0, 1, tuning.TRAINING_TAG)
             for j in range(len(tuning.TRAINING_SCENARIOS)) for i in range(8)}
    evaluation = set()
    for seed in (0, 1, tuning.TRAINING_TAG, 2**40):
        for pt in (None, {"policy": "pid"}):
            for sample in range(8):
                g = sample_generator(seed, pt, sample)
                evaluation.add(words(g.bit_generator.seed_seq))
    assert {len(w) for w in train} == {7} and {len(w) for w in evaluation} <= {5, 9}
    assert not train & evaluation
    draws = [g.random(4) for j in range(2) for g in tuning.training_generators(0, j, 8)]
    held_out = [sample_generator(seed, None, s).random(4) for seed in range(3) for s in range(8)]
    assert not any(np.array_equal(t, e) for t in draws for e in held_out)


def test_evaluation_scenarios_never_enter_training():
    # A bull run and a crash of another depth and speed get the same tuned vector as steady
    # growth: the evaluated scenario is not part of what the tuner sees.
    base = point(policy="pid")
    held_out = [point(policy="pid", scenario="bull"),
                point(policy="pid", scenario="crash", shock_depth=0.85, shock_duration=60, shock_day=20)]
    assert all(tuning.training_point(p) == tuning.training_point(base) for p in held_out)
    np.testing.assert_array_equal(tuning.tuned_vector(held_out[0]), tuning.tuned_vector(base))
    scenarios = [s["scenario"] for s in tuning.TRAINING_SCENARIOS]
    assert "bull" not in scenarios
    crash = next(s for s in tuning.TRAINING_SCENARIOS if s["scenario"] == "crash")
    assert (crash["shock_depth"], crash["shock_duration"]) != (0.85, 60)


def test_common_rng_rollout_equals_separate_generators_through_core_step():
    # Candidates share their economies' draws; this must equal C x G generators seeded alike.
    p = point(policy="governance", n_holders=30, tuning="none", scenario="crash", shock_day=5)
    vectors = np.zeros((3, 5))
    final = tuning.rollout(p, vectors, tuning.training_generators(0, 1, 2), 25)
    gens = [g for _ in range(3) for g in tuning.training_generators(0, 1, 2)]
    rng = BatchRNG(gens)
    params = tuning.cadcad_params(p, 6, rng)
    state = base_state(params, rng)
    for t in range(1, 26):
        state = step(BLOCKS, params, state, t)
    for name in ("price", "staked", "inflation_rate", "staking_tracking_error"):
        np.testing.assert_array_equal(final[name], state[name])


def test_common_rng_step_draws_equal_separate_generators_seeded_alike():
    # BatchRNG.step_draws on CommonRNG: each economy's draws repeated for every candidate, per-sample
    # arguments read from the first candidate's rows, as C x G generators seeded alike would draw.
    candidates = 3
    high = np.tile(np.array([4, 9]), candidates)[:, None] + np.arange(5)  # per row, the same per economy
    a = np.tile(np.array([1.0, 2.5]), candidates)
    request = {"normal": {"z": (3,)}, "uniform": {"u": (2, 2)}, "integer": {"k": ((5,), 1, high), "j": ((4,), 0, 6)},
               "beta": {"d": ((3,), a, a + 1.0)}}
    common = tuning.CommonRNG(tuning.training_generators(0, 1, 2), candidates).step_draws(**request)
    separate = BatchRNG([g for _ in range(candidates) for g in tuning.training_generators(0, 1, 2)]).step_draws(**request)
    assert common.keys() == separate.keys()
    for name, values in separate.items():
        np.testing.assert_array_equal(common[name], values, err_msg=name)


def test_tuned_pid_beats_untuned_pid_on_held_out_seeds_and_scenario():
    # Evaluated on experiment seed 2024 in a bull run: seeds and scenario training never saw.
    def final(tuning_mode):
        p = MODEL.schema.resolve({"policy": "pid", "scenario": "bull", "tuning": tuning_mode, "tune_population": 24})
        frame = run_batches(MODEL, [Batch(tuple(Row(0, p, s) for s in range(12)))], 365, 2024,
                            common_random_numbers=True)
        return frame.loc[frame.timestep == 365, "staking_tracking_error"].to_numpy()

    mean, low, high = paired_difference(final("cem"), final("none"))  # untuned minus tuned
    assert low > 0, (mean, low, high)


def test_cache_is_shared_across_processes_with_identical_numbers(private_cache):
    p = point(policy="learning")
    script = (
        "import json, sys\n"
        "from tokensim.mechanisms.core import get_model\n"
        "from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches\n"
        "from tokensim.mechanisms.inflation import tuning\n"
        "m = get_model('inflation')\n"
        "p = m.schema.resolve(json.loads(sys.argv[1]))\n"
        "print(json.dumps([repr(float(x)) for x in tuning.tuned_vector(p)]))\n"
        "f = run_batches(m, [Batch(tuple(Row(0, p, s) for s in range(3)))], 30, 9)\n"
        "f.to_json(sys.argv[2])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENSIM_CACHE_DIR": str(private_cache)}
    values = json.dumps({**SMALL, "policy": "learning"})
    out, stamps = [], []
    for i in range(2):
        out.append(subprocess.run([sys.executable, "-c", script, values, str(private_cache.parent / f"f{i}.json")],
                                  env=env, check=True, capture_output=True, text=True).stdout)
        files = list(tuning_cache.cache_dir().glob("*.json"))
        assert len(files) == 1
        stamps.append(files[0].stat().st_mtime_ns)
    assert stamps[0] == stamps[1]  # tuned once, by the first process; the second only read it
    first, second = (np.array([float(x) for x in json.loads(o)]) for o in out)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, tuning.tune(p))  # the cached vector is the tuned one, bit for bit
    np.testing.assert_array_equal(tuning.tuned_vector(p), first)  # and this process reads it from disk
    frames = [pd.read_json(private_cache.parent / f"f{i}.json") for i in range(2)]
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_cache_key_changes_with_every_training_parameter_and_not_with_the_scenario():
    base = tuning.training_point(point(policy="team"))
    key = tuning_cache.cache_key(base)
    assert tuning_cache.cache_key({**base, "tune_seed": 1}) != key
    assert tuning_cache.cache_key({**base, "stake_sensitivity": 30.0}) != key
    assert tuning_cache.cache_key(tuning.training_point(point(policy="team", scenario="crash"))) == key


def test_a_damaged_cache_file_is_tuned_again(private_cache):
    p = point(policy="cosmos")
    path = tuning_cache.cache_path(tuning.training_point(p))
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    np.testing.assert_array_equal(tuning.tuned_vector(p), tuning.tune(p))
    assert json.loads(path.read_text())["vector"]


def test_setup_cost_counts_training_until_it_is_cached():
    p = point(policy="pid")
    before = MODEL.setup_cost(p)
    assert before > 0 and MODEL.setup_cost(point(policy="fixed")) == 0.0
    tuning.tuned_vector(p)
    assert MODEL.setup_cost(p) == 0.0


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs the dask extra")
def test_dask_workers_share_the_tuning_cache_and_match_a_local_run(private_cache, tmp_path):
    from distributed import LocalCluster

    from tokensim.experiments.backends import chunk_map
    from tokensim.experiments.runner import run_spec
    from tokensim.experiments.spec import parse_spec

    spec = parse_spec({"model": "inflation", "seed": 3, "samples": 4, "timesteps": 20, "chunk_size": 2,
                       "fixed": {**SMALL, "scenario": "crash", "shock_day": 5}, "sweep": {"policy": ["pid", "learning"]}})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                      local_directory=str(tmp_path / "scratch"), silence_logs=40) as cluster:
        frame = run_spec(spec, chunk_map=chunk_map("dask", address=cluster.scheduler_address)).frame
    files = sorted(tuning_cache.cache_dir().glob("*.json"))
    assert len(files) == 2  # one tuned vector per policy, on disk
    stamps = [f.stat().st_mtime_ns for f in files]
    tuning_cache._MEMORY.clear()
    pd.testing.assert_frame_equal(frame, run_spec(spec).frame)  # this process reads the workers' vectors...
    assert [f.stat().st_mtime_ns for f in files] == stamps  # ...without tuning again


def test_the_apps_cost_estimate_includes_tuning_once_per_point(monkeypatch):
    from tokensim.experiments import budget
    from tokensim.experiments.app.runs import estimate_cost
    from tokensim.experiments.spec import parse_spec

    monkeypatch.setattr(budget, "calibration", lambda: {})  # a = b = 0, k = 1: cost x timesteps x samples

    spec = parse_spec({"model": "inflation", "seed": 1, "samples": 2, "timesteps": 10,
                       "fixed": {**SMALL, "policy": "pid"}, "sweep": {"scenario": ["steady", "crash"]}})
    per_steps = sum(MODEL.cost(p) for p in spec.points()) * 10 * 2
    setup = MODEL.setup_cost(spec.points()[0])
    assert setup > 0 and estimate_cost(spec) == pytest.approx(per_steps + 2 * setup)
