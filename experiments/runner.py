"""The runner: plan a spec into chunks, run them (in-process, on a process pool or on a cluster),
write each finished chunk to Parquet, and merge the chunks into one result set.

Chunks are the unit of work, storage and resumption. Rows (parameter point x sample) are grouped
by their structural parameters, then cut into chunks of at most ``spec.chunk_size`` rows (when the
spec does not set it, :func:`auto_chunk_size` picks it per group from the model's cost and memory). A
chunk's id is a hash of everything that determines its numbers (model and version, timesteps,
seed, seeding mode, and each row's full parameters and sample index), so a re-run with the same
spec finds finished chunks on disk and skips them, while any change makes new ids. A data file
named by a parameter enters the id by the SHA-256 of its content, not only by its path, so a file
changed in place never reuses stale chunks. A stored chunk that cannot be read back whole (empty,
truncated, corrupt) is recomputed; one run at a time writes an output folder.
Inside a chunk, ``spec.layout`` decides how rows become cadCAD simulations: ``packed`` (all rows
of the chunk along one batch axis), ``per_point`` (one simulation per parameter point) or
``per_sample`` (one simulation per sample: cadCAD's classic layout). All give the same numbers.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import threading
from contextlib import nullcontext
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from itertools import groupby
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from tokensim.mechanisms.core import Model, TokensimError, datafiles, get_model
from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches
from tokensim.mechanisms.core.model import model_module
from tokensim.mechanisms.core.seeding import point_keys

from .provenance import provenance
from .spec import Spec
from .storage import output_lock, read_chunk, write_table, write_tables, write_text
from .summary import sample_outcomes, summary_table

Progress = Callable[[int, int], None]

# Chunk frames held in memory while they wait for their turn in results.parquet (finished out of
# order on a pool); beyond it a waiting chunk is read back from its file.
HELD_FRAMES = 4


@dataclass(frozen=True)
class Chunk:
    """A self-contained unit of work: everything a worker needs, as plain picklable data."""

    chunk_id: str
    model: str
    model_module: str
    rows: tuple[Row, ...]
    timesteps: int
    seed: int
    common_random_numbers: bool
    layout: str

    def batches(self) -> list[Batch]:
        if self.layout == "per_sample":
            return [Batch((row,)) for row in self.rows]
        if self.layout == "per_point":
            return [Batch(tuple(group)) for _, group in groupby(self.rows, key=lambda r: r.point_id)]
        return [Batch(self.rows)]


def run_chunk(chunk: Chunk) -> pd.DataFrame:
    """Simulate one chunk (in whichever process or cluster worker it lands)."""
    import importlib

    importlib.import_module(chunk.model_module)
    model = get_model(chunk.model)
    return run_batches(model, chunk.batches(), chunk.timesteps, chunk.seed, chunk.common_random_numbers)


def plan_chunks(spec: Spec, points: Sequence[dict[str, Any]], samples: Sequence[int] | None = None,
                point_ids: Sequence[int] | None = None) -> list[Chunk]:
    """Cut the spec's rows into chunks of rows that share structural parameters.

    By default every point runs samples ``0 .. spec.samples - 1``; ``samples`` and ``point_ids``
    select other sample indices and a subset of the points (the claims engine adds samples to the
    points a verdict reads). A row's chunk id depends only on its content, so rows planned either
    way find the same stored chunks when the cut falls the same way.
    """
    model = get_model(spec.model)
    structural = model.schema.structural

    def group_key(point_id: int) -> str:
        return json.dumps([points[point_id][n] for n in structural])

    ids = range(len(points)) if point_ids is None else point_ids
    sample_ids = range(spec.samples) if samples is None else samples
    order = sorted(ids, key=group_key)  # stable: keeps point order inside a group
    chunks: list[Chunk] = []
    module = model_module(model.name)
    files = datafiles.fingerprints(model.schema, points)
    for _, group in groupby(order, key=group_key):
        ids = list(group)
        rows = [Row(pid, points[pid], s) for pid in ids for s in sample_ids]
        size = spec.chunk_size
        if size is None:  # automatic: the group in equal chunks of at most the chosen size (no small remainder)
            size = math.ceil(len(rows) / math.ceil(len(rows) / chunk_size_for(model, points[ids[0]])))
        for start in range(0, len(rows), size):
            part = tuple(rows[start : start + size])
            chunks.append(
                Chunk(_chunk_id(spec, model.version, part, files), model.name, module, part, spec.timesteps,
                      spec.seed, spec.common_random_numbers, spec.layout)
            )
    return chunks


# The automatic chunk size (docs/scale.md; curves in benchmarks/results.md, "Chunk size"). Every chunk-step
# pays a fixed cost (cadCAD's records and policy aggregation, a Python call per block, numpy's per-call
# overhead), so a chunk should hold enough rows that their model work per step dwarfs it; too many rows and
# the arrays a step updates fall out of the CPU caches (toy at 10,000 agents: 25-50 rows 2.52-2.56 s, 100 rows
# 2.76 s, 200 rows 2.97 s).
CHUNK_STEP_SECONDS = 0.025  # model work per chunk-step to aim for (seconds, by Model.cost)
CHUNK_STATE_BYTES = 64 * 2**20  # at most this much initial state per chunk
CHUNK_STEP_BYTES = 4 * 2**20  # at most this much state updated per chunk-step (an eighth of a 32 MiB L3 cache)
MAX_AUTO_CHUNK = 1000


def chunk_size_for(model: Model, point: dict[str, Any]) -> int:
    """Rows per chunk for a structural group whose first point is ``point``: enough rows that a
    chunk's model work per step (``model.cost``) reaches :data:`CHUNK_STEP_SECONDS`, at most
    :data:`CHUNK_STATE_BYTES` of state (measured on one sample's initial state), at most
    :data:`CHUNK_STEP_BYTES` of the state a step updates (the variables not declared constant, so the
    arrays a step works on and the temporaries it makes of them stay in cache; models that declare
    their state) and :data:`MAX_AUTO_CHUNK`. Depends only on the parameters, never on the machine or
    its load."""
    by_cost = math.ceil(CHUNK_STEP_SECONDS / max(model.cost(point), 1e-12))
    by_memory = CHUNK_STATE_BYTES // max(state_bytes(model, point), 1)
    by_cache = CHUNK_STEP_BYTES // max(state_bytes(model, point, updated_only=True), 1)
    return int(max(1, min(MAX_AUTO_CHUNK, by_cost, by_memory, by_cache)))


def state_bytes(model: Model, point: dict[str, Any], updated_only: bool = False) -> int:
    """Bytes of one sample's state (every array the model keeps from step to step); with
    ``updated_only``, of the variables a timestep updates (declared, not marked constant).

    From the model's declared state when it has one, so planning never builds an initial state (for
    some points that means tuning a controller); otherwise measured on one sample's initial state,
    and with ``updated_only`` 0 (a model that declares no state gets no cache bound).
    """
    if model.state:
        from .budget import declared_state_bytes  # the budget module imports this one lazily too

        return int(declared_state_bytes(model, point, updated_only=updated_only))
    if updated_only:
        return 0
    params = Batch((Row(0, point, 0),)).cadcad_params(model, 0, False)
    state = model.initial_state(params, params["rng"])
    return int(sum(np.asarray(v).nbytes for v in state.values()))


def auto_chunk_size(spec: Spec) -> int:
    """The chunk size the runner uses for ``spec``'s first structural group when it sets none."""
    return chunk_size_for(get_model(spec.model), spec.points()[0])


def _chunk_id(spec: Spec, version: str, rows: Sequence[Row], files: dict[str, str] | None = None) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([spec.model, version, spec.timesteps, spec.seed, spec.common_random_numbers]).encode())
    files = files or {}
    for row, key in zip(rows, point_keys([row.params for row in rows])):
        # point_id is part of the id: a stored chunk carries point ids, and a design may repeat a point
        h.update(json.dumps([row.point_id, key, row.sample]).encode())
        hashes = [files[v] for v in row.params.values() if isinstance(v, str) and v in files]
        if hashes:
            h.update(json.dumps(hashes).encode())
    return h.hexdigest()[:20]


def local_map(chunks: Sequence[Chunk], workers: int) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Run chunks in this process (``workers <= 1``) or on a process pool, yielding as they finish.

    Pool workers die with this process: each watches its parent and exits when the parent is
    gone (even after a SIGKILL), and ignores Ctrl-C, which the parent handles by stopping the
    pool at once (running chunks are abandoned, finished ones were already yielded).
    """
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield chunk, run_chunk(chunk)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    try:
        futures: dict[Future, Chunk] = {pool.submit(run_chunk, c): c for c in chunks}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown()


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool`` at once: cancel what waits, terminate running workers, and let its manager
    thread end (private attributes: there is no public API for any of this).

    A worker terminated while writing its result leaves half a message in the result pipe, and the
    pool's manager thread then waits for the rest forever: the interpreter's exit joins that thread,
    so a run interrupted by SIGTERM hung at exit (seen with gdb). Closing this process's copy of the
    pipe's write end (taken before ``shutdown`` drops it) makes that read end-of-file, which the
    manager treats as a broken pool: it releases its resources and ends.
    """
    processes = list((pool._processes or {}).values())
    manager, results = pool._executor_manager_thread, pool._result_queue
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)
    if results is not None:
        results._writer.close()
    if manager is not None:
        manager.join(10)


PARENT_CHECK_SECONDS = 0.5


def _stop_worker(signum: int, frame) -> None:
    """SIGTERM in a pool worker (the parent stopping the pool): release this process's
    multiprocessing resources (so Python's resource tracker has nothing to warn about), then exit."""
    from multiprocessing import util

    util._run_finalizers(0)
    os._exit(128 + signum)


def _worker_init(parent: int) -> None:
    """In a pool worker: ignore Ctrl-C (the parent stops the pool) and exit when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="tokensim-parent-watch", daemon=True).start()


ChunkMap = Callable[[Sequence[Chunk]], Iterable[tuple[Chunk, pd.DataFrame]]]


@dataclass
class RunResult:
    """A finished run: per-sample outcomes, provenance, what was reused from disk, and the
    tidy per-timestep frame when it was kept in memory (``frame is None`` when streamed to disk;
    :meth:`load_frame` reads it back)."""

    outcomes: pd.DataFrame
    provenance: dict[str, Any]
    chunks_total: int
    chunks_reused: int
    output: Path | None
    frame: pd.DataFrame | None = None

    def load_frame(self) -> pd.DataFrame:
        if self.frame is not None:
            return self.frame
        from .storage import read_results

        return read_results(self.output)[0]


def run_spec(
    spec: Spec,
    chunk_map: ChunkMap | None = None,
    progress: Progress | None = None,
    output: Path | None = None,
    keep_frame: bool | None = None,
) -> RunResult:
    """Run ``spec``; with an output folder, chunks go to disk as they finish and are reused.

    ``chunk_map`` runs chunks somewhere (default: in this process); ``progress(done, total)`` is
    called in samples after every chunk. With an output folder, only per-sample outcomes stay in
    memory and ``results.parquet`` is assembled chunk by chunk, so memory is bounded by the chunk
    size, not the sweep size; ``keep_frame`` (default: only without an output folder) also keeps
    the per-timestep frame. Rows are ordered by chunk, then point, sample and timestep.
    """
    output = output if output is not None else spec.output
    with output_lock(output) if output is not None else nullcontext():
        return _run(spec, chunk_map, progress, output, output is None if keep_frame is None else keep_frame)


def _run(spec: Spec, chunk_map: ChunkMap | None, progress: Progress | None, output: Path | None,
         keep_frame: bool) -> RunResult:
    model = get_model(spec.model)
    points = spec.points()
    swept = spec.swept_names()
    chunks = plan_chunks(spec, points)
    total, done = len(points) * spec.samples, 0
    keep = ["point_id", "sample", "timestep", *spec.metric_names()]
    per_sample: dict[str, pd.DataFrame] = {}
    frames: dict[str, pd.DataFrame] = {}

    def finish(chunk: Chunk, frame: pd.DataFrame) -> pd.DataFrame:
        nonlocal done
        frame = _with_swept_columns(frame, swept, points)
        per_sample[chunk.chunk_id] = sample_outcomes(frame, model, swept)
        if keep_frame:
            frames[chunk.chunk_id] = frame
        done += len(chunk.rows)
        if progress:
            progress(done, total)
        return frame

    def stored(chunk: Chunk) -> pd.DataFrame | None:
        path = _chunk_path(output, chunk)
        if path is None or not path.exists():
            return None
        return read_chunk(path, keep, len(chunk.rows) * (spec.timesteps + 1))

    todo: list[Chunk] = []
    for chunk in chunks:
        frame = stored(chunk)
        if frame is not None:
            finish(chunk, frame)
        else:
            todo.append(chunk)  # never run, or unreadable (empty, truncated, corrupt): computed again
    if progress:
        progress(done, total)

    def computed() -> Iterator[tuple[Chunk, pd.DataFrame]]:
        """Run the chunks left; store each as it finishes and yield it with its swept columns."""
        running = iter((chunk_map or (lambda cs: local_map(cs, 1)))(todo))
        try:
            for chunk, frame in running:
                frame = frame[keep]
                path = _chunk_path(output, chunk)
                if path is not None:
                    write_table(frame, path)
                yield chunk, finish(chunk, frame)
        finally:  # an interrupt while a chunk is stored stops the pool now, not when the generator is collected
            if hasattr(running, "close"):
                running.close()

    prov = provenance(spec, points)
    if output is None:
        for _ in computed():
            pass
    else:
        reused = {c.chunk_id for c in chunks} - {c.chunk_id for c in todo}
        write_tables(in_plan_order(chunks, computed(), reused, lambda c: _reread(stored, c, swept, points)),
                     output / "results.parquet", prov)
    outcomes = pd.concat([per_sample[c.chunk_id] for c in chunks], ignore_index=True)
    if output is not None:
        write_text(json.dumps(prov, indent=2, default=str), output / "provenance.json")
        write_text(summary_table(outcomes, swept, get_model(spec.model)).to_csv(index=False), output / "summary.csv")
    frame = pd.concat([frames[c.chunk_id] for c in chunks], ignore_index=True) if keep_frame else None
    return RunResult(outcomes, prov, len(chunks), len(chunks) - len(todo), output, frame)


def in_plan_order(chunks: Sequence[Chunk], finished: Iterable[tuple[Chunk, pd.DataFrame]], stored: set[str],
                  read_back: Callable[[Chunk], pd.DataFrame], held_frames: int = HELD_FRAMES) -> Iterator[pd.DataFrame]:
    """Every chunk's frame in plan order (the order of results.parquet), each as soon as it and all
    chunks before it are done, whatever order ``finished`` yields them in.

    ``stored`` names the chunks done before (read back when their turn comes). A frame that finishes
    before its turn is held in memory while fewer than ``held_frames`` are held, else read back from
    its file: memory stays bounded by the chunk size, and a chunk that finishes when all before it
    are done is never read back (so a run on one process reads nothing back).
    """
    position = {c.chunk_id: i for i, c in enumerate(chunks)}
    done, held, turn = set(stored), {}, 0
    for chunk, frame in finished:
        done.add(chunk.chunk_id)
        end = turn  # every chunk before ``end`` is done now and goes out in this round
        while end < len(chunks) and chunks[end].chunk_id in done:
            end += 1
        if len(held) < held_frames or position[chunk.chunk_id] < end:
            held[chunk.chunk_id] = frame
        for ready in chunks[turn:end]:
            yield held.pop(ready.chunk_id) if ready.chunk_id in held else read_back(ready)
        turn = end
    for chunk in chunks[turn:]:  # only when nothing ran: every chunk was stored before
        yield read_back(chunk)


def _reread(stored: Callable[[Chunk], pd.DataFrame | None], chunk: Chunk, swept: Sequence[str],
            points: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A stored chunk read back for results.parquet, with its swept columns."""
    frame = stored(chunk)
    if frame is None:  # only a process outside tokensim's lock can have changed it since
        raise TokensimError(f"chunk {chunk.chunk_id} changed on disk during the run; run the command again")
    return _with_swept_columns(frame, swept, points)


def _chunk_path(output: Path | None, chunk: Chunk) -> Path | None:
    return None if output is None else output / "chunks" / f"{chunk.chunk_id}.parquet"


def _with_swept_columns(frame: pd.DataFrame, swept: Sequence[str], points: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Add a column per swept parameter (joined on ``point_id``), rows sorted by point, sample, time."""
    frame = frame.sort_values(["point_id", "sample", "timestep"], kind="stable")
    position = frame.columns.get_loc("point_id") + 1
    frame = frame.reset_index(drop=True)
    for offset, name in enumerate(swept):
        values = pd.Series([p[name] for p in points])
        frame.insert(position + offset, name, values.iloc[frame["point_id"].to_numpy()].to_numpy())
    return frame
