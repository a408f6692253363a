"""Run the rows a claim needs, in resumable chunks stored by content, and return per-run outcomes.

The claims engine asks for rows the runner would not run on its own: more samples (new sample
indices ``n .. m-1``) at the points a verdict reads, and the same points under other values of
the assumed parameters (robustness ensembles). Rows are cut into chunks by
:func:`tokensim.experiments.runner.plan_chunks`, so a chunk's id is the runner's content hash; each
finished chunk is written at once (atomically) to the experiment's chunk store, as its per-run
outcomes (one row per point and sample, a column per metric: what verdicts read), so an
interrupted check resumes where it stopped and claims that share an experiment share its chunks.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tokensim.mechanisms.core import get_model

from ..runner import Chunk, _with_swept_columns, local_map, plan_chunks
from ..spec import Spec
from ..storage import read_chunk, write_table
from ..summary import sample_outcomes
from .verdict import Results

ChunkMap = Callable[[Sequence[Chunk]], Iterable[tuple[Chunk, pd.DataFrame]]]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Job:
    """Rows to run: ``point_ids`` of ``points`` (the points of ``spec``) x sample indices ``samples``."""

    spec: Spec
    points: Sequence[Mapping[str, Any]]
    point_ids: Sequence[int]
    samples: range


def run_jobs(jobs: Sequence[Job], store: Path, chunk_map: ChunkMap | None = None,
             progress: Progress | None = None) -> list[pd.DataFrame]:
    """Per-run outcomes of each job (one frame per job), running only chunks not in ``store``.

    All missing chunks of all jobs go to ``chunk_map`` together, so a process pool or cluster can
    run them in parallel; ``progress(rows)`` is called with the rows (point x sample) finished.
    """
    planned: list[list[Chunk]] = []
    todo: dict[str, tuple[Chunk, int]] = {}
    done: dict[str, pd.DataFrame] = {}
    for j, job in enumerate(jobs):
        chunks = plan_chunks(job.spec, job.points, samples=job.samples, point_ids=job.point_ids) if job.point_ids else []
        planned.append(chunks)
        for chunk in chunks:
            path = store / f"{chunk.chunk_id}.parquet"
            if chunk.chunk_id in done or chunk.chunk_id in todo:
                continue
            if path.exists():
                done[chunk.chunk_id] = read_chunk(path)
                if progress:
                    progress(len(chunk.rows))
            else:
                todo[chunk.chunk_id] = (chunk, j)
    runner = chunk_map or (lambda cs: local_map(cs, 1))
    for chunk, frame in runner([c for c, _ in todo.values()]):
        job = jobs[todo[chunk.chunk_id][1]]
        model = get_model(job.spec.model)
        swept = job.spec.swept_names()
        keep = ["point_id", "sample", "timestep", *job.spec.metric_names()]
        per_run = sample_outcomes(_with_swept_columns(frame[keep], swept, job.points), model, swept)
        write_table(per_run, store / f"{chunk.chunk_id}.parquet")
        done[chunk.chunk_id] = per_run
        if progress:
            progress(len(chunk.rows))
    out = []
    for chunks in planned:
        frames = [done[c.chunk_id] for c in chunks]
        out.append(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    return out


def job_rows(jobs: Sequence[Job]) -> int:
    """Rows (point x sample) the jobs ask for, for a progress total."""
    return sum(len(j.point_ids) * len(j.samples) for j in jobs)


def results_of(spec: Spec, points: Sequence[Mapping[str, Any]], frame: pd.DataFrame) -> Results:
    """Wrap per-run outcomes of ``spec`` for :func:`tokensim.experiments.claims.verdict.decide`."""
    model = get_model(spec.model)
    frame = frame.sort_values(["point_id", "sample"], kind="stable").reset_index(drop=True)
    return Results(frame, list(points), spec.swept_names(), {m.name: m.bounds for m in model.metrics},
                   spec.common_random_numbers)
