"""Speed and memory of tokensim against classic cadCAD and a bare numpy loop, per mechanism.

Run on demand (not part of pytest)::

    python benchmarks/run.py                      # every registered model, full workload
    python benchmarks/run.py --models toy --scale 0.1
    python benchmarks/run.py --no-memory-check --out /tmp/results.md

The workload per mechanism is fixed: ``--agents`` agents (10,000) where the model has an agent
count, 365 timesteps, 20 parameter points x 50 samples (``--scale`` multiplies agents and
samples, for a quick look). It is run three ways, each in a fresh Python process so that peak
memory (``ru_maxrss`` of the process and its largest child) belongs to that mode alone:

classic
    cadCAD as it is usually used: one cadCAD run per sample (layout ``per_sample``, every state
    variable of batch size 1) with cadCAD's default per-substep deepcopy. It is slow, so only the
    first ``--classic-samples`` samples are timed and the time is extrapolated linearly to the
    whole workload (runs are independent and equally sized, so time is linear in runs; the
    output says so).
tokensim
    :func:`tokensim.experiments.runner.run_spec` with the default packed layout (all rows of a chunk on one
    batch axis, one cadCAD run per chunk, ``deepcopy_off``), chunks written to Parquet in a
    temporary results folder exactly as ``tokensim run`` does, on ``--workers`` processes.
unstored
    the same without a results folder (nothing written, no per-timestep frame kept): planning, cadCAD's
    engine and the per-sample outcomes. tokensim - unstored is the cost of storage.
floor
    the same model functions (policies and state updates) on the same batched state and chunks,
    called in a plain Python loop over timesteps and blocks, without cadCAD: the cost of the
    arithmetic itself. tokensim's overhead is the ratio tokensim / floor.

tokensim, unstored and floor run ``--repeat`` times each (3), interleaved, in fresh processes, and the
minimum CPU time counts: a single fresh process varies by up to 30% on this machine. Before timing,
a small workload checks that the three ways give identical numbers. The memory
check runs tokensim on a tenth of the workload and on the whole workload with the same chunk size
(at most the tenth's size, so the larger sweep is 10x the chunks) and compares the peaks: a sweep
10x larger should need about the same memory.
Results go to ``benchmarks/results.md`` with the machine description and the date.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tokensim.experiments.runner import Chunk, auto_chunk_size, local_map, plan_chunks, run_spec  # noqa: E402
from tokensim.experiments.spec import Spec, parse_spec  # noqa: E402
from tokensim.mechanisms.core import Model, get_model, model_names, step  # noqa: E402
from tokensim.mechanisms.core.cadcad_run import Batch, run_batches  # noqa: E402

MODES = ("classic", "tokensim", "unstored", "floor")
TOY_MODULE = "tests.models.toy"

# Per mechanism: the agent-count parameter (None if the model has no agents) and one swept
# parameter with the range its 20 points span. Other parameters stay at their defaults.
WORKLOADS: dict[str, dict[str, Any]] = {
    "toy": {"agents": "n_agents", "sweep": ("emission", 10.0, 200.0)},
    "inflation": {"agents": "n_holders", "sweep": ("burn_rate", 0.0, 0.1)},
    "labeling": {"agents": "n_labelers", "sweep": ("emission", 500.0, 5000.0)},
    "governance": {"agents": "n_community", "sweep": ("whale_share", 0.0, 0.5)},
}


@dataclass(frozen=True)
class Workload:
    model: str
    agents: int
    points: int
    samples: int
    timesteps: int
    chunk_size: int | None  # None: the runner's automatic choice (tokensim.experiments.runner.chunk_size_for)

    def spec(self) -> Spec:
        """The workload as a validated spec."""
        model = get_model(self.model)
        plan = WORKLOADS.get(self.model) or guess_workload(model)
        fixed = {plan["agents"]: self.agents} if plan.get("agents") else {}
        name, low, high = plan["sweep"]
        values = [float(v) for v in np.linspace(low, high, self.points)]
        chunking = {"chunk_size": self.chunk_size} if self.chunk_size else {}
        return parse_spec({
            "model": self.model, "seed": 2024, "samples": self.samples, "timesteps": self.timesteps,
            **chunking, "fixed": fixed, "sweep": {name: values},
        }, f"<benchmark {self.model}>")

    @property
    def runs(self) -> int:
        return self.points * self.samples


def guess_workload(model: Model) -> dict[str, Any]:
    """For a model without an entry in WORKLOADS: its first structural int parameter is the agent
    count, and its first non-structural float parameter is swept over +-50% of its default."""
    ints = [p for p in model.schema if p.kind == "int" and p.structural]
    floats = [p for p in model.schema if p.kind == "float" and not p.structural and p.default]
    if not floats:
        raise SystemExit(f"model '{model.name}': add an entry to WORKLOADS in benchmarks/run.py")
    p = floats[0]
    low = max(p.default * 0.5, p.low if p.low is not None else -np.inf)
    high = min(p.default * 1.5, p.high if p.high is not None else np.inf)
    return {"agents": ints[0].name if ints else None, "sweep": (p.name, low, high)}


# ----------------------------------------------------------------------------- the three modes

def run_classic(spec: Spec, max_runs: int) -> tuple[pd.DataFrame, int]:
    """cadCAD's classic layout: one run per sample, deepcopy on; the first ``max_runs`` runs."""
    chunks = plan_chunks(spec, spec.points())
    rows = [row for chunk in chunks for row in chunk.rows][:max_runs]
    model = get_model(spec.model)
    frame = run_batches(model, [Batch((row,)) for row in rows], spec.timesteps, spec.seed,
                        spec.common_random_numbers, deepcopy_off=False)
    return frame, len(rows)


def run_tokensim(spec: Spec, workers: int, output: Path | None) -> pd.DataFrame | None:
    """tokensim's own path: packed chunks through :func:`run_spec` (results streamed to disk)."""
    result = run_spec(spec, chunk_map=partial(local_map, workers=workers), output=output,
                      keep_frame=output is None)
    return result.frame


def run_unstored(spec: Spec, workers: int) -> None:
    """tokensim's path without a results folder: nothing written and no per-timestep frame kept."""
    run_spec(spec, chunk_map=partial(local_map, workers=workers), output=None, keep_frame=False)


def run_floor(spec: Spec) -> pd.DataFrame:
    """The model's own functions on the same packed chunks, in a plain loop without cadCAD."""
    model = get_model(spec.model)
    return pd.concat([floor_chunk(model, chunk) for chunk in plan_chunks(spec, spec.points())], ignore_index=True)


def floor_chunk(model: Model, chunk: Chunk) -> pd.DataFrame:
    """Simulate one chunk as cadCAD would (same state handed to the same functions, policy
    outputs with the same key added up), keeping only the per-sample metrics of each timestep."""
    frames = []
    for batch in chunk.batches():
        params = batch.cadcad_params(model, chunk.seed, chunk.common_random_numbers)
        size = len(batch.rows)
        state = {**model.initial_state(params, params["rng"]), "substep": 0, "timestep": 0, "run": 1}
        record = {m: np.empty((chunk.timesteps + 1, size)) for m in model.metric_names}
        for name in model.metric_names:
            record[name][0] = state[name]
        for t in range(1, chunk.timesteps + 1):
            state = step(model.blocks, params, state, t)
            for name in model.metric_names:
                record[name][t] = state[name]
        columns = {
            "point_id": np.tile([r.point_id for r in batch.rows], chunk.timesteps + 1),
            "sample": np.tile([r.sample for r in batch.rows], chunk.timesteps + 1),
            "timestep": np.repeat(np.arange(chunk.timesteps + 1), size),
            **{name: record[name].ravel() for name in model.metric_names},
        }
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- child process

def child(args: argparse.Namespace) -> None:
    """Run one mode in this fresh process and print one JSON line with time and peak memory."""
    import_model(args.models)
    work = Workload(args.models, args.agents, args.points, args.samples, args.timesteps, args.chunk_size or None)
    spec = work.spec()
    runs = work.runs
    with tempfile.TemporaryDirectory(prefix="tokensim-bench-") as tmp:
        cpu = time.process_time()
        start = time.perf_counter()
        if args.child == "classic":
            _, runs = run_classic(spec, args.classic_runs)
        elif args.child == "tokensim":
            run_tokensim(spec, args.workers, Path(tmp) / "results")
        elif args.child == "unstored":
            run_unstored(spec, args.workers)
        else:
            run_floor(spec)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu  # this process only (with --workers 1 that is all the work)
    usage_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"mode": args.child, "seconds": seconds, "cpu_seconds": cpu, "runs_timed": runs, "runs_total": work.runs,
                      "maxrss_mb": usage_self / 1024, "children_maxrss_mb": usage_children / 1024}))


def import_model(name: str) -> None:
    if name == "toy":
        import importlib

        importlib.import_module(TOY_MODULE)


def measure(mode: str, work: Workload, workers: int, classic_runs: int) -> dict[str, Any]:
    """Run ``mode`` in a fresh subprocess and return its measurements."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--models", work.model,
           "--agents", str(work.agents), "--points", str(work.points), "--samples", str(work.samples),
           "--timesteps", str(work.timesteps), "--chunk-size", str(work.chunk_size or 0),
           "--workers", str(workers), "--classic-runs", str(classic_runs)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"{mode} on {work.model} failed:\n{done.stderr[-4000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["extrapolated"] = out["runs_timed"] < out["runs_total"]
    out["seconds_total"] = out["seconds"] * out["runs_total"] / out["runs_timed"]
    out["cpu_total"] = out["cpu_seconds"] * out["runs_total"] / out["runs_timed"]
    out["samples_per_s"] = out["runs_total"] / out["seconds_total"]
    out["peak_mb"] = max(out["maxrss_mb"], out["children_maxrss_mb"])
    return out


# ----------------------------------------------------------------------------- checks and report

def check_equal(model: str) -> str:
    """The three ways give the same numbers on a small workload (exact equality)."""
    import_model(model)
    spec = Workload(model, agents=min_agents(model, 30), points=2, samples=3, timesteps=12, chunk_size=4).spec()
    tok = run_tokensim(spec, 1, None).sort_values(["point_id", "sample", "timestep"]).reset_index(drop=True)
    cols = ["point_id", "sample", "timestep", *spec.metric_names()]
    tok = tok[cols]
    classic, _ = run_classic(spec, 10**9)
    floor = run_floor(spec)
    for name, other in (("classic", classic), ("floor", floor)):
        other = other[cols].sort_values(["point_id", "sample", "timestep"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(other, tok, check_dtype=False, obj=f"{name} vs tokensim ({model})")
    return "identical frames (classic, tokensim, floor) on 2 points x 3 samples x 12 steps"


def min_agents(model: str, wanted: int) -> int:
    plan = WORKLOADS.get(model) or guess_workload(get_model(model))
    if not plan.get("agents"):
        return wanted
    param = get_model(model).schema[plan["agents"]]
    return int(min(max(wanted, param.low or 1), param.high or wanted))


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    versions = {d: _version(d) for d in ("cadCAD", "numpy", "pandas", "tokensim")}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"cpu": cpu, "nproc": str(os.cpu_count()), "memory": mem, "os": platform.platform(), "load": load,
            "python": platform.python_version(), **versions,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


def report(entries: dict[str, dict[str, Any]]) -> str:
    """Markdown for every recorded model (each with its own workload, machine, date and load)."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run.py` from `benchmarks/results.json` (one entry per model, replaced when "
        "that model is benchmarked again). Method: the docstring of `benchmarks/run.py` and docs/scale.md. "
        "Each mode runs in a fresh process (tokensim and floor `--repeat` times, interleaved, the minimum CPU "
        "time counting); time excludes interpreter start and imports; peak memory is the "
        "largest resident set of the process or of one of its worker processes. `classic` times only its "
        "first runs and extrapolates linearly (it says so); its peak memory is that of the timed subset.",
        "",
        "**Load.** Every measurement records the load average at its start and end. The development machine "
        "(2 cores) was often shared with other jobs; where the load exceeds the core count, absolute times "
        "measure those jobs too: compare ratios measured back to back (interleaved runs, minimum of several), "
        "and prefer CPU time where one process is timed. Sections after the per-model tables come from "
        "`backends.py`, `chunks.py`, `kernels.py` and `results_claims.md` (see `benchmarks/sections.py`).",
        "",
    ]
    for name in sorted(entries):
        res = entries[name]
        w, info = res["workload"], res["machine"]
        lines += [f"## {name}", "",
                  f"`python benchmarks/run.py {res['argv']}` on {info['date']}: {info['cpu']}, {info['nproc']} CPUs, "
                  f"{info['memory']} RAM; Python {info['python']}, numpy {info['numpy']}, pandas {info['pandas']}, "
                  f"cadCAD {info['cadCAD']}, tokensim {info['tokensim']}. Load average (1/5/15 min) at start "
                  f"{info['load']}, at end {res['load_end']} (a shared machine: absolute times are noisy).", "",
                  f"Workload: {w['agents']:,} agents ({res['agents_param'] or 'model has no agent count'}), "
                  f"{w['timesteps']} timesteps, {w['points']} points x {w['samples']} samples = "
                  f"{w['points'] * w['samples']:,} runs, chunk size {w['chunk_size'] or 'automatic (' + str(res.get('auto_chunk', '?')) + ')'}; sweep of `{res['sweep']}`. "
                  f"Check: {res['check']}.", "",
                  "| mode | wall time (s) | samples/s | peak memory (MB) | note |",
                  "|---|---:|---:|---:|---|"]
        for mode in (m for m in MODES if m in res):  # entries recorded before "unstored" lack it
            m = res[mode]
            note = (f"extrapolated from {m['runs_timed']} of {m['runs_total']} runs ({m['seconds']:.1f} s measured)"
                    if m["extrapolated"] else "")
            if mode == "tokensim":
                note = f"{res['workers']} worker process(es)"
            if mode == "unstored":
                note = "tokensim without a results folder"
            lines.append(f"| {mode} | {m['seconds_total']:.1f} | {m['samples_per_s']:.2f} | {m['peak_mb']:.0f} | {note} |")
        t, f, c = res["tokensim"]["seconds_total"], res["floor"]["seconds_total"], res["classic"]["seconds_total"]
        if "cpu_total" in res["tokensim"]:
            tc, fc, cc = (res[m]["cpu_total"] for m in ("tokensim", "floor", "classic"))
            spread = ""
            if "cpu_all" in res["tokensim"]:
                spread = (f" Minimum of {len(res['tokensim']['cpu_all'])} fresh processes per mode, interleaved; "
                          "all runs (CPU s): tokensim " + ", ".join(f"{x:.2f}" for x in res["tokensim"]["cpu_all"])
                          + "; floor " + ", ".join(f"{x:.2f}" for x in res["floor"]["cpu_all"]) + ".")
            split = ""
            if "unstored" in res:
                uc = res["unstored"]["cpu_total"]
                noise = max(max(res[m]["cpu_all"]) - min(res[m]["cpu_all"]) for m in ("tokensim", "unstored", "floor"))
                split = (f" Split of tokensim's time over the floor: unstored - floor = {uc - fc:.2f} s (planning, "
                         f"cadCAD's engine, per-sample outcomes; unstored / floor = {uc / fc:.2f}x) and tokensim - "
                         f"unstored = {tc - uc:.2f} s (storage: each chunk and results.parquet written with page "
                         f"checksums); a difference below the spread of one mode's repeated runs ({noise:.2f} s here) "
                         "is noise.")
                spread = spread.replace("; floor ", "; unstored " + ", ".join(
                    f"{x:.2f}" for x in res["unstored"]["cpu_all"]) + "; floor ")
            lines += ["", f"CPU time of the timing process (s): classic {cc:.1f}, tokensim {tc:.1f}, floor {fc:.1f}; "
                          f"tokensim / floor on CPU time = **{tc / fc:.2f}x**, classic / tokensim = {cc / tc:.1f}x."
                          + split + spread]
        lines += ["", f"Ratios: tokensim / floor = **{t / f:.2f}x** (target <= 1.2x); "
                      f"classic / tokensim = **{c / t:.1f}x**, classic / floor = {c / f:.1f}x (no layout can beat "
                      "the floor; the compiled kernels below measure how far the floor itself is from compiled code).", ""]
        if "memory" in res:
            mm = res["memory"]
            lines += [f"Memory check (tokensim, chunk size {mm['chunk_size']} for both): {mm['base_runs']:,} runs "
                      f"peak {mm['base_mb']:.0f} MB; the 10x larger sweep of {mm['big_runs']:,} runs peak "
                      f"{mm['big_mb']:.0f} MB, ratio {mm['big_mb'] / mm['base_mb']:.2f}.", ""]
    from benchmarks.sections import sections

    return "\n".join(lines + sections()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="", help="comma-separated model names (default: toy and every built-in that imports)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply agents and samples per point (e.g. 0.1)")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--timesteps", type=int, default=365)
    parser.add_argument("--chunk-size", type=int, default=0,
                        help="rows per chunk (tokensim and floor); default: the runner's automatic choice")
    parser.add_argument("--workers", type=int, default=1, help="tokensim processes")
    parser.add_argument("--classic-runs", type=int, default=20, help="classic runs actually timed")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per mode for tokensim and floor, interleaved; the minimum counts "
                             "(classic, extrapolated and slow, runs once)")
    parser.add_argument("--no-memory-check", action="store_true", help="skip the 10x sweep memory check")
    parser.add_argument("--memory-only", action="store_true", help="redo only the memory check of recorded models")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.md"),
                        help="markdown report; entries are kept in the .json next to it")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    names = [n for n in args.models.split(",") if n] or ["toy", *builtin_models()]
    agents = max(1, round(args.agents * args.scale))
    samples = max(1, round(args.samples * args.scale))
    for name in names:
        import_model(name)
        plan = WORKLOADS.get(name) or guess_workload(get_model(name))
        n_agents = min_agents(name, agents)
        work = Workload(name, n_agents, args.points, samples, args.timesteps, args.chunk_size or None)
        print(f"\n== {name}: {work.agents:,} agents x {work.timesteps} steps x {work.points} points x {work.samples} samples", flush=True)
        store = Path(args.out).with_suffix(".json")
        entries = json.loads(store.read_text()) if store.exists() else {}
        if args.memory_only:
            res = entries[name]
        else:
            res = {"model": name, "workload": asdict(work), "agents_param": plan.get("agents"),
                   "sweep": plan["sweep"][0], "workers": args.workers, "machine": machine(),
                   "argv": " ".join(sys.argv[1:] if argv is None else argv), "auto_chunk": auto_chunk_size(work.spec())}
            res["check"] = check_equal(name)
            print(f"   check: {res['check']}", flush=True)
            res["classic"] = measure("classic", work, args.workers, args.classic_runs)
            tries: dict[str, list] = {"tokensim": [], "unstored": [], "floor": []}
            for _ in range(max(1, args.repeat)):  # interleaved, so a burst of load hits both modes
                for mode in tries:
                    tries[mode].append(measure(mode, work, args.workers, args.classic_runs))
            for mode, runs in tries.items():
                res[mode] = {**min(runs, key=lambda r: r["cpu_seconds"]),
                             "cpu_all": [r["cpu_seconds"] for r in runs], "seconds_all": [r["seconds"] for r in runs]}
            for mode in MODES:
                m = res[mode]
                extra = f" (extrapolated from {m['runs_timed']} runs)" if m["extrapolated"] else ""
                print(f"   {mode:9s} {m['seconds_total']:9.1f} s{extra}  {m['samples_per_s']:9.2f} samples/s  peak {m['peak_mb']:7.0f} MB", flush=True)
            t, f, c = res["tokensim"]["seconds_total"], res["floor"]["seconds_total"], res["classic"]["seconds_total"]
            print(f"   tokensim/floor = {t / f:.2f}x   classic/tokensim = {c / t:.1f}x", flush=True)
        if not args.no_memory_check and samples >= 10:
            res["memory"] = memory_check(work, res["tokensim"], args.workers)
            mm = res["memory"]
            print(f"   memory (chunk size {mm['chunk_size']}): {mm['base_runs']} runs {mm['base_mb']:.0f} MB -> "
                  f"{mm['big_runs']} runs {mm['big_mb']:.0f} MB", flush=True)
        res["load_end"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        store.parent.mkdir(parents=True, exist_ok=True)
        entries[name] = res
        store.write_text(json.dumps(entries, indent=1))
        Path(args.out).write_text(report(entries))
        print(f"   written: {args.out} and {store}", flush=True)
    return 0


def memory_check(work: Workload, timed: dict[str, Any], workers: int) -> dict[str, Any]:
    """Peak memory of tokensim on a tenth of the workload and on the whole (a 10x larger sweep), with
    the same chunk size, at most the tenth's size, so that the larger sweep really is more chunks."""
    small = replace(work, samples=work.samples // 10)
    chunk = min(work.chunk_size or auto_chunk_size(work.spec()), small.runs)
    small = replace(small, chunk_size=chunk)
    big = replace(work, chunk_size=chunk)
    base = measure("tokensim", small, workers, 0)
    top = timed if chunk == (work.chunk_size or auto_chunk_size(work.spec())) else measure("tokensim", big, workers, 0)
    return {"chunk_size": chunk, "base_runs": small.runs, "big_runs": big.runs,
            "base_mb": base["peak_mb"], "big_mb": top["peak_mb"]}


def builtin_models() -> list[str]:
    """Built-in models that import cleanly (the others are still being written)."""
    names = []
    for name in model_names():
        try:
            get_model(name)
        except Exception:  # a model under construction elsewhere must not stop the benchmark
            continue
        names.append(name)
    return [n for n in names if n != "toy"]


if __name__ == "__main__":
    sys.exit(main())
