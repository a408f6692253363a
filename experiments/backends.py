"""Where chunks run. Every backend maps a list of chunks to (chunk, frame) pairs as they finish,
so the runner writes each chunk to disk the moment it is done, whatever runs it.

``local`` runs chunks in this process or on a process pool. ``dask`` runs the same
:func:`~tokensim.experiments.runner.run_chunk` tasks on Dask distributed: on a local cluster of worker
processes that the command starts and stops, or on an existing cluster given by its scheduler
address. Dask rather than Ray: Dask distributed is pure-Python wheels (a small optional extra,
``pip install "tokensim[dask]"``), while Ray is a large binary wheel that is slow to install in CI
and has fewer platforms. Every chunk carries its seeds, so the numbers are the same on any
backend, any number of workers and any completion order.

Workers allocate memory as a local process does. Dask's nanny exports ``MALLOC_TRIM_THRESHOLD_=65536``
before it spawns a worker (its default ``distributed.nanny.pre-spawn-environ``). Setting any glibc
malloc threshold switches off glibc's dynamic mmap threshold, so every numpy temporary above 128 KiB
becomes a fresh ``mmap`` with its page faults; that made governance chunks 1.8-2.3x slower on a
Dask worker than in a local process (benchmarks/results.md). A cluster started here unsets it
(:data:`WORKER_ENVIRON`); on a remote cluster the workers must be started with the same setting
(docs/scale.md), and :func:`dask_map` warns when they are not.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Iterator, Sequence

import pandas as pd

from tokensim.mechanisms.core import TokensimError

from .runner import Chunk, ChunkMap, local_map, run_chunk

BACKENDS = ("local", "dask")

# Set before a started cluster spawns its workers (``distributed.nanny.pre-spawn-environ``); None unsets
# Dask's default. Dask's other defaults (OMP/MKL/OPENBLAS_NUM_THREADS=1) suit single-threaded workers.
WORKER_ENVIRON: dict[str, str | None] = {"MALLOC_TRIM_THRESHOLD_": None}
MALLOC_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def chunk_map(
    backend: str = "local", workers: int = 1, address: str | None = None, local_directory: Path | None = None
) -> ChunkMap:
    """The chunk map for ``backend``.

    ``local`` runs in this process (``workers=1``) or a process pool of ``workers``. ``dask``
    starts a local cluster of ``workers`` single-threaded processes, or, with ``address``
    (``tcp://host:port``), submits to that existing cluster and ignores ``workers``.
    ``local_directory`` is where a started cluster keeps its temporary files (default: a fresh
    temporary folder, removed afterwards; never the current directory).
    """
    cpus = cpu_count()
    if workers < 1 or (workers > cpus and not address):
        raise TokensimError(f"--workers = {workers} is not allowed; allowed: an integer in [1, {cpus}] "
                            f"(the CPUs this machine offers; more processes only compete for them)")
    if backend == "local":
        if address:
            raise TokensimError("--address only applies to a cluster backend (--backend dask)")
        return partial(local_map, workers=workers)
    if backend == "dask":
        _require_dask()
        return partial(dask_map, workers=workers, address=address, local_directory=local_directory)
    raise TokensimError(f"unknown backend '{backend}'; backends: {', '.join(BACKENDS)}")


def cpu_count() -> int:
    """CPUs this process may use (its affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise TokensimError(
            "the dask backend needs Dask distributed; install it with: pip install \"tokensim[dask]\""
        ) from None


def dask_map(
    chunks: Sequence[Chunk],
    workers: int = 1,
    address: str | None = None,
    local_directory: Path | None = None,
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Run ``chunks`` on Dask distributed, yielding ``(chunk, frame)`` as each task finishes.

    Each chunk is one task calling :func:`~tokensim.experiments.runner.run_chunk`; a finished task's
    result is fetched and released at once, so the client holds one chunk's frame at a time.
    A cluster started here is closed when the iteration ends (also on error or interrupt).
    """
    if not chunks:
        return
    from distributed import as_completed

    with _client(workers, address, local_directory) as client:
        _warn_on_malloc_settings(client.run(worker_malloc_environ))
        keys = [f"tokensim-chunk-{i}-{c.chunk_id}-{uuid.uuid4().hex[:8]}" for i, c in enumerate(chunks)]
        pending = dict(zip(client.map(run_chunk, list(chunks), key=keys, pure=False), chunks))
        for future in as_completed(list(pending)):
            chunk = pending.pop(future)
            frame = future.result()
            del future  # the last reference: the worker may now drop the result
            yield chunk, frame


DASK_PREFIX = "tokensim-dask-"


def remove_stale_dask_folders() -> None:
    """Remove temporary folders of local clusters whose process is gone (killed before its cleanup)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{DASK_PREFIX}*-*"):
        pid = folder.name[len(DASK_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
def worker_malloc_environ() -> dict[str, str]:
    """The glibc malloc variables set in this process (run on each worker by :func:`dask_map`)."""
    return {k: os.environ[k] for k in MALLOC_VARIABLES if k in os.environ}


def _warn_on_malloc_settings(per_worker: dict[str, dict[str, str]]) -> None:
    """Warn when a worker runs with a malloc trim threshold but no fixed mmap threshold (Dask's default)."""
    slow = sorted(w for w, env in per_worker.items()
                  if "MALLOC_TRIM_THRESHOLD_" in env and "MALLOC_MMAP_THRESHOLD_" not in env)
    if slow:
        warnings.warn(
            f"{len(slow)} Dask worker(s) run with MALLOC_TRIM_THRESHOLD_={per_worker[slow[0]]['MALLOC_TRIM_THRESHOLD_']} "
            "(Dask's default), which makes numpy-heavy chunks about 2x slower; start the workers with "
            "DASK_CONFIG pointing at the setting in docs/scale.md (Remote cluster)", RuntimeWarning, stacklevel=3)


@contextmanager
def _unset(environ: dict[str, str | None]) -> Iterator[None]:
    """Remove the variables ``environ`` unsets from this process while its cluster runs: spawned
    workers inherit this process's environment, and Dask's nanny may have exported them here
    before (it writes its pre-spawn variables into the process that starts workers)."""
    saved = {k: os.environ.pop(k) for k, v in environ.items() if v is None and k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextmanager
def _client(workers: int, address: str | None, local_directory: Path | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise TokensimError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    owned = local_directory is None
    if owned:
        remove_stale_dask_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"{DASK_PREFIX}{os.getpid()}-")) if owned else Path(local_directory)
    folder.mkdir(parents=True, exist_ok=True)
    import dask

    try:
        environ = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_ENVIRON.items()}
        with dask.config.set({"temporary-directory": str(folder), **environ}), _unset(WORKER_ENVIRON):
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None,  # no dashboard; its bare HTTP health server on a free port:
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                local_directory=str(folder), silence_logs=40,
            )
            try:
                client = Client(cluster)
                try:
                    yield client
                finally:
                    client.close()
            finally:
                cluster.close()
    finally:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
