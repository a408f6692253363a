"""Run time against chunk size on each benchmark workload, and the size the runner picks.

Run on demand (not part of pytest)::

    python benchmarks/chunks.py                     # every workload below, 3 interleaved rounds
    python benchmarks/chunks.py --only inflation --rounds 5

Each workload is one of ``benchmarks/run.py``'s (same model, agents, 20 parameter points, sweep),
with fewer samples and timesteps so a curve takes minutes. For every chunk size, tokensim runs the
spec as ``tokensim run`` does (one process, chunks written to Parquet in a temporary folder). Sizes
are interleaved round by round in one fresh process per workload and the minimum over rounds is
kept, because the machine is shared (the load average is recorded with every run). The curve is
compared on the process's CPU time (user + system, ``time.process_time``), which the other jobs
on a loaded machine disturb far less than wall time; wall times are recorded too. Before timing,
the frames of every chunk size are checked to be identical. The automatic choice
(:func:`tokensim.experiments.runner.auto_chunk_size`) is timed the same way and compared with the best size.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# name: (model, agents, samples per point, timesteps, chunk sizes); 20 points each
CURVES = {
    "toy_10000": ("toy", 10_000, 10, 100, (5, 10, 25, 50, 100, 200)),
    "toy_10": ("toy", 10, 50, 365, (10, 50, 100, 250, 500, 1000)),
    "inflation_10000": ("inflation", 10_000, 50, 100, (5, 10, 25, 50, 100, 200, 250, 334, 400, 1000)),
    "governance_1000": ("governance", 1_000, 10, 100, (5, 10, 25, 50, 100, 200)),
    "labeling_200": ("labeling", 200, 10, 40, (5, 10, 25, 50, 100, 200)),
}


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def child(name: str, rounds: int) -> dict:
    import pandas as pd

    from benchmarks.run import Workload, import_model, run_tokensim
    from tokensim.experiments.runner import auto_chunk_size, plan_chunks

    model, agents, samples, timesteps, sizes = CURVES[name]
    import_model(model)
    work = Workload(model, agents, 20, samples, timesteps, 1)
    spec = work.spec()
    auto = auto_chunk_size(spec)
    # "auto" is the runner's own plan (spec without chunk_size: each structural group cut into equal
    # chunks of at most the chosen size), which is what a user gets, not a fixed size of that value
    sizes = [*sorted(set(sizes)), "auto"]

    def sized(c):
        return replace(spec, chunk_size=None if c == "auto" else c)

    # identical numbers whatever the chunk size (a short run)
    frames = [run_tokensim(replace(sized(c), timesteps=3), 1, None) for c in (sizes[0], "auto", sizes[-2])]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0])
    runs: dict = {c: [] for c in sizes}
    for _ in range(rounds):
        for c in sizes:
            s = sized(c)
            with tempfile.TemporaryDirectory(prefix="tokensim-chunks-") as tmp:
                before = load()
                start, cpu = time.perf_counter(), time.process_time()
                run_tokensim(s, 1, Path(tmp) / "results")
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            runs[c].append({"seconds": seconds, "cpu_seconds": cpu, "load_start": before, "load_end": load(),
                            "chunks": len(plan_chunks(s, s.points()))})
    best = {c: min(r["cpu_seconds"] for r in rs) for c, rs in runs.items()}
    wall = {c: min(r["seconds"] for r in rs) for c, rs in runs.items()}
    fixed = {c: t for c, t in best.items() if c != "auto"}
    fastest = min(fixed, key=fixed.get)
    planned = sized("auto")
    auto_rows = sorted({len(c.rows) for c in plan_chunks(planned, planned.points())}, reverse=True)
    return {"name": name, "model": model, "agents": agents, "points": 20, "samples": samples,
            "timesteps": timesteps, "rounds": rounds, "auto": auto, "auto_rows": auto_rows,
            "runs": {str(c): r for c, r in runs.items()},
            "best": {str(c): t for c, t in best.items()}, "best_wall": {str(c): t for c, t in wall.items()},
            "fastest": fastest,
            "auto_over_best": best["auto"] / min(best[fastest], best["auto"]), "check": "identical frames at chunk "
            f"sizes {sizes[0]}, auto and {sizes[-2]} (3 steps)"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(CURVES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results_chunks.json"))
    parser.add_argument("--child", choices=list(CURVES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rounds)))
        return 0
    store = Path(args.out)
    results = json.loads(store.read_text()) if store.exists() else {}
    for name in args.only.split(","):
        done = subprocess.run([sys.executable, __file__, "--child", name, "--rounds", str(args.rounds)],
                              capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
        res = json.loads(done.stdout.strip().splitlines()[-1])
        res["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results[name] = res
        store.write_text(json.dumps(results, indent=1))
        curve = "  ".join(f"{c}: {t:.2f}s ({res['best_wall'][c]:.2f})" for c, t in res["best"].items())
        print(f"{name}: {curve}  | auto {res['auto']} = {res['auto_over_best']:.2f}x best ({res['fastest']})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
