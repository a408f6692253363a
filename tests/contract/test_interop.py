"""``to_cadcad``: plain cadCAD 0.5.3 runs every registered model with scalar parameters, cadCAD's own
N > 1 gives distinct seeded samples, and run r reproduces tokensim's sample r - 1 exactly."""
import numpy as np
import pandas as pd
import pytest
from cadCAD.configuration import Experiment
from cadCAD.engine import ExecutionContext, ExecutionMode, Executor

from tokensim.mechanisms.core import get_model, model_names
from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches
from tokensim.mechanisms.core.interop import to_cadcad

T, N, SEED = 4, 3, 77


def _cadcad(model, params=None, seed=SEED, samples=N, timesteps=T, seen=None):
    pieces = to_cadcad(model, params, seed=seed, samples=samples, timesteps=timesteps)
    if seen is not None:  # record the parameter types cadCAD hands to the wrapped functions
        policy_name, policy = next(iter(pieces.partial_state_update_blocks[0]["policies"].items()))

        def spy(params, *args):
            seen.update({k: type(v) for k, v in params.items()})
            return policy(params, *args)

        pieces.partial_state_update_blocks[0]["policies"][policy_name] = spy
    experiment = Experiment()
    experiment.append_model(initial_state=pieces.initial_state, sim_configs=pieces.sim_configs,
                            partial_state_update_blocks=pieces.partial_state_update_blocks)
    records, _, _ = Executor(ExecutionContext(ExecutionMode.single_mode), experiment.configs, supress_print=True).execute()
    frame = pd.DataFrame(records)
    return frame[frame["substep"] == len(pieces.partial_state_update_blocks)], pieces


@pytest.mark.parametrize("name", model_names())
def test_cadcad_runs_equal_tokensim_samples(name):
    model = get_model(name)
    frame, pieces = _cadcad(model)
    assert all(np.isscalar(v) for v in pieces.sim_configs["M"].values())
    point = model.schema.resolve()
    expected = run_batches(model, [Batch(tuple(Row(0, point, s) for s in range(N)))], T, SEED)
    for metric in model.metric_names:
        for run in range(1, N + 1):
            got = frame[frame["run"] == run].sort_values("timestep")[metric].astype(float).to_numpy()
            want = expected[(expected["sample"] == run - 1) & (expected["timestep"] > 0)][metric].to_numpy()
            np.testing.assert_array_equal(got, want, err_msg=f"{name}: {metric}, run {run}")


def test_runs_are_distinct_seeded_and_get_scalar_parameters():
    model = get_model("toy")
    seen = {}
    first, _ = _cadcad(model, {"n_agents": 5}, seen=seen)
    again, _ = _cadcad(model, {"n_agents": 5})
    other, _ = _cadcad(model, {"n_agents": 5}, seed=SEED + 1)
    last = first[first["timestep"] == T].set_index("run")["supply"]
    assert last.nunique() == N  # N > 1: distinct samples
    pd.testing.assert_series_equal(last, again[again["timestep"] == T].set_index("run")["supply"])
    assert not np.array_equal(last.to_numpy(), other[other["timestep"] == T]["supply"].to_numpy())
    assert seen["emission"] in (float, np.float64) and seen["n_agents"] is int  # scalars, as cadCAD users write them
    balances = first[first["timestep"] == T]["balances"].iloc[0]
    assert isinstance(balances, np.ndarray) and balances.shape == (5,)  # one run's agents, no batch axis


def test_cadcad_sweeps_over_its_own_parameter_lists():
    model = get_model("toy")
    pieces = to_cadcad(model, {"n_agents": 4}, seed=SEED, samples=2, timesteps=3)
    from cadCAD.configuration.utils import config_sim

    swept = {k: [v] for k, v in pieces.sim_configs["M"].items()} | {"emission": [1.0, 1000.0]}
    sim = config_sim({"N": 2, "T": range(3), "M": swept})
    experiment = Experiment()
    experiment.append_model(initial_state=pieces.initial_state, sim_configs=sim,
                            partial_state_update_blocks=pieces.partial_state_update_blocks)
    records, _, _ = Executor(ExecutionContext(ExecutionMode.single_mode), experiment.configs, supress_print=True).execute()
    frame = pd.DataFrame(records)
    ends = frame[frame["substep"] == 2].pivot_table(index=["subset", "run"], columns="timestep", values="minted")
    minted = (ends[3] - ends[1]).groupby("subset").mean()  # two steps of emission (initial draws differ by point)
    assert minted[0] == pytest.approx(2 * 1.0) and minted[1] == pytest.approx(2 * 1000.0)


def test_cadcads_multiprocess_mode_gives_the_same_numbers():
    model = get_model("toy")
    frames = []
    for mode in (ExecutionMode.single_mode, ExecutionMode.local_mode):
        pieces = to_cadcad(model, {"n_agents": 5}, seed=SEED, samples=N, timesteps=T)
        experiment = Experiment()
        experiment.append_model(initial_state=pieces.initial_state, sim_configs=pieces.sim_configs,
                                partial_state_update_blocks=pieces.partial_state_update_blocks)
        records, _, _ = Executor(ExecutionContext(mode), experiment.configs, supress_print=True).execute()
        frame = pd.DataFrame(records)
        frames.append(frame[frame["substep"] == 2].sort_values(["run", "timestep"])[["run", "timestep", "supply", "minted"]]
                      .reset_index(drop=True))
    pd.testing.assert_frame_equal(frames[0], frames[1])
