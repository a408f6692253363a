"""Dask against the local process pool on the same cores, and what Dask's malloc setting costs.

Run on demand (not part of pytest)::

    python benchmarks/backends.py                       # governance_rule_vs_identity_cost, 20 samples x 120 steps
    python benchmarks/backends.py --timesteps 365 --rounds 5

Each mode runs the same spec (chunk size 20, so 30 chunks share the workers) in a fresh process:

local
    ``--workers 2`` on the local process pool.
dask
    ``--backend dask --workers 2``: a local cluster with tokensim's worker environment
    (:data:`tokensim.experiments.backends.WORKER_ENVIRON`, Dask's ``MALLOC_TRIM_THRESHOLD_`` unset).
dask-default
    the same cluster with Dask's own default environment (``MALLOC_TRIM_THRESHOLD_=65536``).
dask-mmap
    Dask's default plus ``MALLOC_MMAP_THRESHOLD_=16777216`` (the other fix measured in issue 18).

The time includes starting and closing the cluster (about 1 s), as a user sees it. Before timing,
every mode's frame is checked to equal the local frame exactly and each cluster's workers report
their malloc variables. The machine is shared, so modes are interleaved round by round, the load
average is recorded with every run, and the minimum over rounds is compared, of wall time and of
CPU time (the process and its reaped children: pool processes or cluster workers, so Dask's
scheduler and nannies count too).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODES = ("local", "dask", "dask-default", "dask-mmap")
SPEC = ROOT / "experiments" / "specs" / "governance_rule_vs_identity_cost.toml"
ENVIRON = {
    "dask": None,  # tokensim's WORKER_ENVIRON as shipped
    "dask-default": {},
    "dask-mmap": {"MALLOC_MMAP_THRESHOLD_": "16777216"},
}


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu() -> float:
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child(mode: str, samples: int, timesteps: int, workers: int, check: bool) -> dict:
    """Run ``mode`` in this process; with ``check``, also the workers' malloc variables."""
    from dataclasses import replace

    import pandas as pd

    import tokensim.experiments.backends as backends
    from tokensim.experiments.runner import run_spec
    from tokensim.experiments.spec import load_spec

    if ENVIRON.get(mode) is not None:
        backends.WORKER_ENVIRON = ENVIRON[mode]
    spec = replace(load_spec(SPEC), samples=samples, timesteps=timesteps, chunk_size=20, output=None)
    out: dict = {"mode": mode, "load_start": load()}
    if check and mode != "local":
        with backends._client(workers, None, None) as client:
            out["worker_env"] = sorted(map(json.dumps, client.run(backends.worker_malloc_environ).values()))
    mapper = backends.chunk_map("local" if mode == "local" else "dask", workers)
    cpu = _cpu()
    start = time.perf_counter()
    frame = run_spec(spec, chunk_map=mapper).frame
    out["seconds"] = time.perf_counter() - start
    out["cpu_seconds"] = _cpu() - cpu  # this process and its reaped children (pool or cluster workers)
    out["load_end"] = load()
    frame = frame.sort_values(["point_id", "sample", "timestep"]).reset_index(drop=True)
    out["digest"] = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()[:16]
    out["rows"] = len(frame)
    return out


def measure(mode: str, args: argparse.Namespace, check: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--samples", str(args.samples),
           "--timesteps", str(args.timesteps), "--workers", str(args.workers)] + (["--check"] if check else [])
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--timesteps", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results_backends.json"))
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.samples, args.timesteps, args.workers, args.check)))
        return 0
    modes = args.modes.split(",")
    small = argparse.Namespace(samples=2, timesteps=8, workers=args.workers)
    checks = {m: measure(m, small, check=True) for m in modes}
    digests = {m: c["digest"] for m, c in checks.items()}
    if len(set(digests.values())) != 1:
        raise SystemExit(f"backends disagree: {digests}")
    print(f"check: identical frames on every mode ({checks[modes[0]]['rows']} rows); worker malloc variables: "
          + "; ".join(f"{m}: {c.get('worker_env', 'n/a')}" for m, c in checks.items()), flush=True)
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(args.rounds):
        for m in modes:
            res = measure(m, args)
            runs[m].append(res)
            print(f"round {r + 1} {m:13s} {res['seconds']:7.2f} s (CPU {res['cpu_seconds']:6.2f} s)  load {res['load_start']} -> {res['load_end']}", flush=True)
    digests = {res["digest"] for rs in runs.values() for res in rs}
    if len(digests) != 1:
        raise SystemExit(f"timed runs disagree: {digests}")
    best = {m: min(r["seconds"] for r in rs) for m, rs in runs.items()}
    cpu = {m: min(r["cpu_seconds"] for r in rs) for m, rs in runs.items()}
    for m in modes:
        print(f"{m:13s} min {best[m]:7.2f} s   / local {best[m] / best['local']:.2f}x   CPU {cpu[m]:7.2f} s "
              f"/ local {cpu[m] / cpu['local']:.2f}x", flush=True)
    record = {"argv": " ".join(sys.argv[1:] if argv is None else argv), "samples": args.samples,
              "timesteps": args.timesteps, "workers": args.workers, "rounds": args.rounds,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "checks": checks, "runs": runs, "best": best, "best_cpu": cpu}
    store = Path(args.out)  # a list of records, the newest last
    earlier = json.loads(store.read_text()) if store.exists() else []
    store.write_text(json.dumps([*(earlier if isinstance(earlier, list) else [earlier]), record], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
