"""The runner: plan a spec into chunks, run them (in-process, on a process pool or on a cluster),
write each finished chunk to Parquet, and merge the chunks into one result set.

Chunks are the unit of work, storage and resumption. Rows (parameter point x sample) are grouped
by their structural parameters, then cut into chunks of at most ``spec.chunk_size`` rows. A
chunk's id is a hash of everything that determines its numbers (model and version, timesteps,
seed, seeding mode, and each row's full parameters and sample index), so a re-run with the same
spec finds finished chunks on disk and skips them, while any change makes new ids.
Inside a chunk, ``spec.layout`` decides how rows become cadCAD simulations: ``packed`` (all rows
of the chunk along one batch axis), ``per_point`` (one simulation per parameter point) or
``per_sample`` (one simulation per sample: cadCAD's classic layout). All give the same numbers.
"""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from itertools import groupby
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import pandas as pd

from mechanisms.core import get_model
from mechanisms.core.cadcad_run import Batch, Row, run_batches
from mechanisms.core.model import model_module
from mechanisms.core.seeding import point_key

from .provenance import provenance
from .spec import Spec
from .storage import read_chunk, write_table, write_tables
from .summary import sample_outcomes, summary_table

Progress = Callable[[int, int], None]


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
    for _, group in groupby(order, key=group_key):
        rows = [Row(pid, points[pid], s) for pid in group for s in sample_ids]
        for start in range(0, len(rows), spec.chunk_size):
            part = tuple(rows[start : start + spec.chunk_size])
            chunks.append(
                Chunk(_chunk_id(spec, model.version, part), model.name, module, part, spec.timesteps,
                      spec.seed, spec.common_random_numbers, spec.layout)
            )
    return chunks


def _chunk_id(spec: Spec, version: str, rows: Sequence[Row]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([spec.model, version, spec.timesteps, spec.seed, spec.common_random_numbers]).encode())
    for row in rows:
        # point_id is part of the id: a stored chunk carries point ids, and a design may repeat a point
        h.update(json.dumps([row.point_id, point_key(row.params), row.sample]).encode())
    return h.hexdigest()[:20]


def local_map(chunks: Sequence[Chunk], workers: int) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Run chunks in this process (``workers <= 1``) or on a process pool, yielding as they finish."""
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield chunk, run_chunk(chunk)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures: dict[Future, Chunk] = {pool.submit(run_chunk, c): c for c in chunks}
        for future in as_completed(futures):
            yield futures[future], future.result()


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
    keep_frame = output is None if keep_frame is None else keep_frame
    model = get_model(spec.model)
    points = spec.points()
    swept = spec.swept_names()
    chunks = plan_chunks(spec, points)
    total, done = len(points) * spec.samples, 0
    keep = ["point_id", "sample", "timestep", *spec.metric_names()]
    per_sample: dict[str, pd.DataFrame] = {}
    frames: dict[str, pd.DataFrame] = {}

    def finish(chunk: Chunk, frame: pd.DataFrame) -> None:
        nonlocal done
        frame = _with_swept_columns(frame, swept, points)
        per_sample[chunk.chunk_id] = sample_outcomes(frame, model, swept)
        if keep_frame:
            frames[chunk.chunk_id] = frame
        done += len(chunk.rows)
        if progress:
            progress(done, total)

    todo: list[Chunk] = []
    for chunk in chunks:
        path = _chunk_path(output, chunk)
        if path is not None and path.exists():
            finish(chunk, read_chunk(path))
        else:
            todo.append(chunk)
    if progress:
        progress(done, total)
    for chunk, frame in (chunk_map or (lambda cs: local_map(cs, 1)))(todo):
        frame = frame[keep]
        path = _chunk_path(output, chunk)
        if path is not None:
            write_table(frame, path)
        finish(chunk, frame)

    prov = provenance(spec, points)
    outcomes = pd.concat([per_sample[c.chunk_id] for c in chunks], ignore_index=True)
    if output is not None:
        write_tables(
            (_with_swept_columns(read_chunk(_chunk_path(output, c)), swept, points) for c in chunks),
            output / "results.parquet",
            prov,
        )
        (output / "provenance.json").write_text(json.dumps(prov, indent=2, default=str))
        summary_table(outcomes, swept, get_model(spec.model)).to_csv(output / "summary.csv", index=False)
    frame = pd.concat([frames[c.chunk_id] for c in chunks], ignore_index=True) if keep_frame else None
    return RunResult(outcomes, prov, len(chunks), len(chunks) - len(todo), output, frame)


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
