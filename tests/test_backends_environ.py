"""Dask workers started by tokensim allocate memory as a local process does: Dask's default
``MALLOC_TRIM_THRESHOLD_`` (which made numpy-heavy chunks 2-3x slower, benchmarks/results.md) is unset on
every worker, and a cluster whose workers still carry it is reported."""
from __future__ import annotations

import importlib.util
import os

import pytest

from tokensim.experiments import backends

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="install the extra: pip install -e \".[dask]\""
)


@needs_dask
def test_started_cluster_workers_have_no_malloc_trim_threshold(tmp_path, monkeypatch):
    # as left behind by a Dask cluster started earlier with Dask's defaults (its nanny exports them here)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with backends._client(2, None, tmp_path / "scratch") as client:
        per_worker = client.run(backends.worker_malloc_environ)
        omp = set(client.run(lambda: os.environ.get("OMP_NUM_THREADS")).values())
    assert len(per_worker) == 2
    assert all("MALLOC_TRIM_THRESHOLD_" not in env for env in per_worker.values()), per_worker
    assert omp == {"1"}  # Dask's other worker defaults are kept
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"  # this process's own setting is restored


def test_workers_with_dasks_default_trim_threshold_are_reported():
    with pytest.warns(RuntimeWarning, match="1 Dask worker.*MALLOC_TRIM_THRESHOLD_=65536"):
        backends._warn_on_malloc_settings({"tcp://a": {"MALLOC_TRIM_THRESHOLD_": "65536"}, "tcp://b": {}})


def test_workers_with_a_fixed_mmap_threshold_or_no_setting_are_not_reported(recwarn):
    backends._warn_on_malloc_settings({
        "tcp://a": {"MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_MMAP_THRESHOLD_": "16777216"}, "tcp://b": {},
    })
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
