"""A model from another distribution, found through the ``tokensim.models`` entry-point group.

The fixture writes a small out-of-tree package and its ``.dist-info`` (with ``entry_points.txt``),
exactly what ``pip install`` leaves in site-packages, into a temporary folder. Put on
``PYTHONPATH``, the plugin is listed and run by the CLI in a fresh process, on local worker
processes (``--workers 2``) and on a two-worker Dask LocalCluster, with identical numbers; the app's
model list offers it and it passes the mechanism contract.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tokensim.experiments.storage import read_results

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
"""A plugin model for tokensim: a decaying stock topped up by noisy inflows."""
import numpy as np

from tokensim.mechanisms.core import Metric, Model, Param, Schema, StateVar
from tokensim.mechanisms.core.updates import updates_for

SCHEMA = Schema((
    Param("n_pools", 4, "number of pools", kind="int", low=1, high=1000, structural=True, basis="setting"),
    Param("inflow", 2.0, "mean inflow per pool and step", low=0.0, high=100.0, plausible=(1.0, 4.0)),
    Param("decay", 0.1, "share of each pool lost per step", low=0.0, high=1.0, plausible=(0.05, 0.2)),
))


def initial_state(params, rng):
    pools = np.zeros((len(rng), params["n_pools"]))
    return {"pools": pools, "total": pools.sum(axis=1)}


def p_flow(params, substep, history, state, *args):
    inflow = params["rng"].exponential(size=params["n_pools"]) * params["inflow"][:, None]
    pools = state["pools"] * (1.0 - params["decay"][:, None]) + inflow
    return {"pools": pools, "total": pools.sum(axis=1)}


MODEL = Model(
    name="pools", version="0.1", title="Decaying pools (plugin)", description=__doc__, schema=SCHEMA,
    initial_state=initial_state,
    blocks=[{"policies": {"flow": p_flow}, "variables": updates_for(["pools", "total"])}],
    metrics=(Metric("total", "tokens in all pools", "tokens"),),
    agent_state=("pools",),
    state=(StateVar("pools", "tokens per pool", scope="agent", shape=("n_pools",), unit="tokens"),
           StateVar("total", "tokens in all pools", unit="tokens")),
)
'''

SPEC = '''
model = "pools"
seed = 5
samples = 3
timesteps = 5
chunk_size = 3
output = "OUT"
[sweep]
inflow = [1.0, 3.0]
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    (site / "tokensim_pools").mkdir()
    (site / "tokensim_pools" / "__init__.py").write_text("")
    (site / "tokensim_pools" / "model.py").write_text(PLUGIN)
    info = site / "tokensim_pools-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tokensim-pools\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text('[tokensim.models]\npools = tokensim_pools.model:MODEL\n')
    return site


def _cli(plugin_path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(plugin_path)])}
    return subprocess.run([sys.executable, "-m", "tokensim.experiments.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _run(plugin_path: Path, tmp_path: Path, name: str, *extra: str) -> pd.DataFrame:
    spec = tmp_path / f"{name}.toml"
    spec.write_text(SPEC.replace("OUT", name))
    done = _cli(plugin_path, "run", str(spec), "--quiet", *extra, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "chunks: 2 (0 reused" in done.stdout
    return read_results(tmp_path / name)[0]


def test_the_cli_lists_a_plugin(plugin_path, tmp_path):
    done = _cli(plugin_path, "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pools (v0.1): Decaying pools (plugin)" in done.stdout and "governance (v" in done.stdout
    unknown = _cli(plugin_path, "list", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown model 'nope'" in unknown.stderr and "pools" in unknown.stderr


def test_a_plugin_runs_alike_in_process_on_worker_processes_and_on_dask(plugin_path, tmp_path):
    pytest.importorskip("distributed")
    here = _run(plugin_path, tmp_path, "one")
    pd.testing.assert_frame_equal(_run(plugin_path, tmp_path, "pool", "--workers", "2"), here)
    pd.testing.assert_frame_equal(_run(plugin_path, tmp_path, "dask", "--backend", "dask", "--workers", "2"), here)
    last = here[here["timestep"] == 5].groupby("inflow")["total"].mean()
    assert last[3.0] > last[1.0] > 0  # the plugin's own dynamics ran, point by point


def test_the_app_offers_a_plugin_and_it_passes_the_contract(plugin_path, monkeypatch):
    from tokensim.experiments.app.models import available_models
    from tokensim.mechanisms.core import get_model
    from tokensim.mechanisms.core.contract import CHECKS, check_model

    monkeypatch.syspath_prepend(str(plugin_path))
    models, skipped = available_models()
    assert "pools" in models and not skipped
    assert check_model(get_model("pools")) == {name: [] for name in CHECKS}


def test_a_broken_plugin_is_reported_by_name(tmp_path, monkeypatch):
    from tokensim.mechanisms.core import TokensimError, get_model

    info = tmp_path / "broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [tokensim.models]
        broken = no_such_module_here:MODEL
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TokensimError, match=r"plugin 'broken' \(no_such_module_here:MODEL.*failed to import"):
        get_model("broken")


def test_a_plugin_cannot_take_a_built_in_name(tmp_path, monkeypatch):
    from tokensim.mechanisms.core import get_model
    from tokensim.mechanisms.core.model import plugin_entry_points

    info = tmp_path / "impostor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: impostor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[tokensim.models]\ngovernance = no_such_module_here:MODEL\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "governance" not in plugin_entry_points()
    assert get_model("governance").title.startswith("Governance")  # the built-in, not the broken impostor
