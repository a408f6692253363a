"""Time per epoch of the labeling model at scale, and where the time goes.

Run on demand (not part of pytest)::

    python benchmarks/profile_labeling.py                       # 10,000 labelers, 2,000 tasks, B = 10 and 50
    python benchmarks/profile_labeling.py --labelers 200 --tasks 200 --samples 10 50
    python benchmarks/profile_labeling.py --rule yuma --profile   # plus a cProfile of the B = 10 run
    python benchmarks/profile_labeling.py --digest                # hash of the metrics (to compare versions)

Each run goes through :func:`tokensim.mechanisms.core.cadcad_run.run_batches` with all samples packed in
one batch, as ``tokensim run`` does; time per epoch is (run time - time of a 0-epoch run) / epochs,
the best of ``--repeat`` runs.
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tokensim.mechanisms.core import get_model  # noqa: E402
from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches  # noqa: E402

MODEL = get_model("labeling")


def batch(samples: int, **values) -> Batch:
    point = MODEL.schema.resolve(values)
    return Batch(tuple(Row(0, point, s) for s in range(samples)))


def run_time(b: Batch, epochs: int, seed: int = 1):
    start = time.perf_counter()
    frame = run_batches(MODEL, [b], epochs, seed)
    return time.perf_counter() - start, frame


def digest(frame) -> str:
    values = frame[list(MODEL.metric_names)].to_numpy(dtype=float)
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()[:16]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelers", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=2_000)
    parser.add_argument("--samples", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rule", default="gold")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the first sample count")
    parser.add_argument("--digest", action="store_true", help="print a hash of the metric frame")
    args = parser.parse_args(argv)
    values = {"n_labelers": args.labelers, "n_tasks": args.tasks, "reward_rule": args.rule}
    for samples in args.samples:
        b = batch(samples, **values)
        setup = min(run_time(b, 0)[0] for _ in range(args.repeat))
        best, frame = min((run_time(b, args.epochs) for _ in range(args.repeat)), key=lambda r: r[0])
        per_epoch = (best - setup) / args.epochs
        line = (f"{args.rule}: {args.labelers} labelers, {args.tasks} tasks, B={samples}: "
                f"{per_epoch:.3f} s/epoch (setup {setup:.2f} s)")
        if args.digest:
            line += f" digest {digest(frame)}"
        print(line, flush=True)
    if args.profile:
        b = batch(args.samples[0], **values)
        profiler = cProfile.Profile()
        profiler.enable()
        run_batches(MODEL, [b], args.epochs, 1)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
