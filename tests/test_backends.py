"""The distributed backend (Dask) gives the same numbers as a local run, starts and closes its own
cluster without writing to the working directory, and connects to an existing cluster."""
from __future__ import annotations

import importlib.util
import os

import pandas as pd
import pytest

import tests.models.toy  # noqa: F401  (registers the toy model)
from tokensim.experiments.backends import BACKENDS, chunk_map
from tokensim.experiments.cli import main
from tokensim.experiments.runner import run_spec
from tokensim.experiments.spec import parse_spec
from tokensim.experiments.storage import read_results
from tokensim.mechanisms.core import TokensimError

SPEC = {
    "model": "toy", "seed": 11, "samples": 3, "timesteps": 6, "chunk_size": 2,
    "fixed": {"n_agents": 7}, "sweep": {"emission": [5.0, 50.0], "noise": [0.5, 2.0]},
}
SPEC_TOML = """
model = "toy"
seed = 11
samples = 3
timesteps = 6
chunk_size = 2
output = "out"
[fixed]
n_agents = 7
[sweep]
emission = [5.0, 50.0]
noise = [0.5, 2.0]
"""


def test_chunk_map_rejects_bad_settings():
    with pytest.raises(TokensimError, match="workers"):
        chunk_map("local", workers=0)
    with pytest.raises(TokensimError, match="unknown backend 'ray'"):
        chunk_map("ray")
    with pytest.raises(TokensimError, match="--address only applies"):
        chunk_map("local", address="tcp://127.0.0.1:8786")
    assert "dask" in BACKENDS


needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="install the extra: pip install -e \".[dask]\""
)


@needs_dask
def test_dask_local_cluster_from_cli_matches_local_run(tmp_path, monkeypatch, capsys):
    """``tokensim run --backend dask --workers 2``: 6 chunks over 2 worker processes, identical frame."""
    spec = parse_spec(SPEC)
    expected = run_spec(spec).frame
    (tmp_path / "spec.toml").write_text(SPEC_TOML)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    assert main(["run", str(tmp_path / "spec.toml"), "--backend", "dask", "--workers", "2", "--quiet"]) == 0
    assert "chunks: 6 (0 reused" in capsys.readouterr().out
    frame, prov = read_results(tmp_path / "out")
    pd.testing.assert_frame_equal(frame, expected)
    assert len(list((tmp_path / "out" / "chunks").glob("*.parquet"))) == 6
    assert os.listdir(cwd) == []  # no dask scratch space in the working directory


@needs_dask
def test_dask_existing_cluster_by_address_matches_local_run(tmp_path):
    from distributed import LocalCluster

    spec = parse_spec(SPEC)
    expected = run_spec(spec).frame
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1", dashboard_address=None,
                      scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                      local_directory=str(tmp_path / "scratch"), silence_logs=40) as cluster:
        mapper = chunk_map("dask", address=cluster.scheduler_address)
        frame = run_spec(spec, chunk_map=mapper).frame
        assert len(cluster.workers) == 1  # the user's cluster stays up after our run
    pd.testing.assert_frame_equal(frame, expected)


@needs_dask
def test_dask_map_with_no_chunks_starts_nothing():
    assert list(chunk_map("dask", workers=2)([])) == []
