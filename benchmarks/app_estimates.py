"""Are the app's cost estimates honest? Calibrate them from the runner's own timings and check
that they fall within 1.5x of the measured time on the shipped specs.

Run on demand (not part of pytest)::

    python benchmarks/app_estimates.py                 # calibrate, then check; writes the results
    python benchmarks/app_estimates.py --check-only    # check the calibration in place
    python benchmarks/app_estimates.py --budget 3      # target seconds per run (default 4)
    python benchmarks/app_estimates.py --ready-only    # held out: the first screen's ready comparisons

Workloads, from every spec in ``experiments/specs/`` (the app's three kinds of run, sized by the
uncalibrated estimate to about ``--budget`` seconds each):

scenarios
    one scenario per value of the spec's first swept parameter (at most four), the other swept
    parameters at their middle value, as the app's Scenarios page runs them;
sweep
    the spec's own sweep (every point), samples reduced;
sensitivity
    a Sobol design (8 base samples) over two numeric parameters of the spec, with the app's default
    ranges around the spec's fixed values.

Each run goes through :func:`tokensim.experiments.app.runs.run_cached` exactly as in the app (its chunking,
chunks written to a folder). Calibration: the time of every chunk (between the runner's progress
calls) is fitted per model by non-negative least squares as ``a + T b + T k W`` (``T`` timesteps,
``W`` the sum of ``Model.cost`` over the chunk's rows; see :mod:`tokensim.experiments.app.runs`) and written
to ``experiments/cost_calibration.json``. Check: every workload runs again with another seed and its
whole measured time (chunks, merging and writing) is compared with the calibrated estimate.
Results go to ``benchmarks/app_estimates.md`` and ``.json`` with the machine's load. A held-out
check (``--ready-only``, ``benchmarks/app_estimates_ready.md``) runs the first screen's ready
comparisons (:mod:`tokensim.experiments.app.ready`) at their full size, which no calibration run has.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from scipy.optimize import nnls  # noqa: E402

from tokensim.experiments import budget  # noqa: E402
from tokensim.experiments.app import runs  # noqa: E402
from tokensim.experiments.app.sweeps import default_range  # noqa: E402
from tokensim.experiments.runner import plan_chunks  # noqa: E402
from tokensim.experiments.spec import Spec, load_spec, parse_spec  # noqa: E402
from tokensim.mechanisms.core import get_model  # noqa: E402

TOLERANCE = 1.5
MAX_SCENARIOS = 4


def sized(spec: Spec, budget: float) -> Spec:
    """``spec`` with samples cut so that the uncalibrated per-sample work is about ``budget`` s."""
    model = get_model(spec.model)
    per_sample = sum(model.cost(p) for p in spec.points()) * spec.timesteps
    samples = int(np.clip(budget / max(per_sample, 1e-9), 2, spec.samples))
    return replace(spec, samples=samples, output=None)


def workloads(budget: float) -> list[tuple[str, str, list[Spec]]]:
    """(spec name, kind, specs) for every shipped spec."""
    out = []
    for path in sorted((ROOT / "experiments" / "specs").glob("*.toml")):
        spec = load_spec(path)
        model = get_model(spec.model)
        base = {**model.schema.defaults(), **spec.fixed}
        if spec.sweep:
            first, *rest = list(spec.sweep)
            held = {n: spec.sweep[n][(len(spec.sweep[n]) - 1) // 2] for n in rest}
            values = spec.sweep[first][:MAX_SCENARIOS]
            scen = [parse_spec({**spec.to_dict(), "sweep": {}, "output": None,
                                "fixed": {**spec.fixed, **held, first: v}, "common_random_numbers": True}, "s")
                    for v in values]
            scen = [sized(s, budget / len(scen)) for s in scen]
            n = min(s.samples for s in scen)
            out.append((path.stem, "scenarios", [replace(s, samples=n) for s in scen]))
            out.append((path.stem, "sweep", [sized(replace(spec, output=None), budget)]))
        numeric = [p for p in model.schema if p.kind in ("int", "float") and not p.structural]
        swept = [p for p in numeric if p.name in spec.sweep] + [p for p in numeric if p.plausible and p.name not in spec.sweep]
        bounds = {}
        for p in swept + [p for p in numeric if p not in swept]:
            low, high, log = default_range(p, model, base)
            if low < high and len(bounds) < 2:
                bounds[p.name] = {"low": low, "high": high, **({"log": True} if log else {})}
        fixed = {k: v for k, v in spec.fixed.items() if k not in bounds}
        data = {**spec.to_dict(), "sweep": {}, "fixed": fixed, "output": None,
                "design": {"method": "sobol", "n": 8, "parameters": bounds}}
        out.append((path.stem, "sensitivity", [sized(parse_spec(data, "sens"), budget)]))
    return out


def timed_run(spec: Spec, folder: Path) -> tuple[float, float, list[tuple[float, int, float]]]:
    """CPU and wall seconds of an app run of ``spec``, and per chunk (CPU seconds, timesteps, work W).

    CPU time of this process (all its threads) is what the estimate is checked against: on the
    shared benchmark machine other work stretches wall time by up to 3x from one minute to the
    next, while CPU time equals wall time on an idle machine, where the runner uses one core.
    """
    model = get_model(spec.model)
    chunked = runs.app_chunked(spec)
    chunks = plan_chunks(chunked, chunked.points())
    marks: list[float] = []
    runs.cached_result.clear()
    start, wall = time.process_time(), time.perf_counter()
    runs.run_cached(spec, progress=lambda done, total: marks.append(time.process_time()), folder=folder)
    total, wall = time.process_time() - start, time.perf_counter() - wall
    # the first progress call comes before any chunk ran (chunks reused from disk: none here)
    times = np.diff(marks)
    per_chunk = [(float(t), spec.timesteps, float(sum(model.cost(r.params) for r in c.rows)))
                 for t, c in zip(times, chunks)]
    return total, wall, per_chunk


def calibrate(loads, scratch: Path) -> dict[str, dict[str, float]]:
    rows: dict[str, list] = {}
    for name, kind, specs in loads:
        for i, spec in enumerate(specs):
            _, _, chunks = timed_run(spec, scratch / f"cal_{name}_{kind}_{i}")
            rows.setdefault(spec.model, []).extend(chunks)
        print(f"calibration run: {name} {kind}", file=sys.stderr)
    fitted = {}
    for model, data in rows.items():
        t = np.array([d[0] for d in data])
        design = np.array([[1.0, d[1], d[1] * d[2]] for d in data])
        # relative error matters (estimates within 1.5x), so weight each chunk by 1/time
        weight = 1 / np.maximum(t, 1e-3)
        coef, _ = nnls(design * weight[:, None], t * weight)
        fitted[model] = {"a": float(coef[0]), "b": float(coef[1]), "k": float(coef[2]), "chunks": len(data)}
    return fitted


def check(loads, scratch: Path) -> list[dict]:
    results = []
    for name, kind, specs in loads:
        estimate = measured = wall = 0.0
        for i, spec in enumerate(specs):
            spec = replace(spec, seed=spec.seed + 1)
            estimate += runs.estimate_cost(spec)
            seconds, elapsed, _ = timed_run(spec, scratch / f"chk_{name}_{kind}_{i}")
            measured += seconds
            wall += elapsed
        ratio = measured / estimate
        results.append({"spec": name, "kind": kind, "model": specs[0].model, "runs": len(specs),
                        "points": sum(len(s.points()) for s in specs), "samples": specs[0].samples,
                        "timesteps": specs[0].timesteps, "estimate_s": estimate, "measured_s": measured, "wall_s": wall,
                        "ratio": ratio, "within": 1 / TOLERANCE <= ratio <= TOLERANCE})
        print(f"check: {name} {kind}: estimated {estimate:.2f} s, measured {measured:.2f} s CPU ({wall:.2f} s wall), "
              f"ratio {ratio:.2f}",
              file=sys.stderr)
    return results


def check_ready(scratch: Path) -> list[dict]:
    """The ready comparisons of the first screen, as the app runs them, against their estimates."""
    from tokensim.experiments.app.ready import ready_comparison
    from tokensim.experiments.app.scenarios import scenario_specs
    from tokensim.mechanisms.core import model_names

    results = []
    for name in model_names():
        model = get_model(name)
        ready = ready_comparison(model) if not name.startswith("toy") else None
        if ready is None:
            continue
        specs = scenario_specs(model, list(ready.scenarios), ready.settings)
        estimate = sum(runs.estimate_cost(s) for s in specs)
        measured = wall = 0.0
        for i, spec in enumerate(specs):
            seconds, elapsed, _ = timed_run(spec, scratch / f"ready_{name}_{i}")
            measured, wall = measured + seconds, wall + elapsed
        ratio = measured / estimate
        results.append({"spec": f"ready: {ready.experiment}", "kind": "scenarios", "model": name, "runs": len(specs),
                        "points": len(specs), "samples": ready.settings.samples, "timesteps": ready.settings.timesteps,
                        "estimate_s": estimate, "measured_s": measured, "wall_s": wall, "ratio": ratio,
                        "within": 1 / TOLERANCE <= ratio <= TOLERANCE})
        print(f"ready: {name}: estimated {estimate:.2f} s, measured {measured:.2f} s CPU ({wall:.2f} s wall)", file=sys.stderr)
    return results


HOW = ("Calibration from the chunks of a first pass; the check is a second pass with another seed, timed as a whole "
       "(chunks, merge, writing)")
HOW_READY = ("Held out: the first screen's ready comparisons at full size, with the calibration in "
             "experiments/cost_calibration.json, timed as a whole (chunks, merge, writing)")


def write(results: list[dict], calibration: dict, load: tuple[float, float, float], out: Path, how: str = HOW) -> None:
    ok = sum(r["within"] for r in results)
    ratios = np.array([r["ratio"] for r in results])
    lines = [
        "# App cost estimates against measured time",
        "",
        f"Written by `python benchmarks/app_estimates.py` on {dt.date.today()} ({platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the start; the machine "
        "was shared, so times carry the noise of other work).",
        "",
        f"**{ok} of {len(results)} workloads within {TOLERANCE}x** (measured / estimated: median {np.median(ratios):.2f}, "
        f"range {ratios.min():.2f}-{ratios.max():.2f}). {how}, in CPU seconds of the process (on an idle "
        "machine the same as wall seconds: the app runs chunks in one process; wall seconds are listed too).",
        "",
        "| spec | kind | runs x points | samples | timesteps | estimated s | measured s (CPU) | wall s | measured / estimated | within 1.5x |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(f"| {r['spec']} | {r['kind']} | {r['runs']} x {r['points'] // r['runs']} | {r['samples']} | "
                     f"{r['timesteps']} | {r['estimate_s']:.2f} | {r['measured_s']:.2f} | {r['wall_s']:.2f} | {r['ratio']:.2f} | "
                     f"{'yes' if r['within'] else 'NO'} |")
    lines += ["", "Calibration (seconds per chunk `a`, per chunk-timestep `b`, scale `k` of `Model.cost`):", "",
              "| model | a | b | k | chunks fitted |", "| --- | --- | --- | --- | --- |"]
    for model, c in calibration.items():
        lines.append(f"| {model} | {c['a']:.3g} | {c['b']:.3g} | {c['k']:.3g} | {c.get('chunks', '')} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps({"results": results, "calibration": calibration,
                                                    "load": load, "date": str(dt.date.today())}, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=4.0, help="target seconds per workload")
    parser.add_argument("--check-only", action="store_true", help="keep experiments/cost_calibration.json")
    parser.add_argument("--ready-only", action="store_true", help="only the held-out check of the ready comparisons")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "app_estimates"))
    args = parser.parse_args()
    load = os.getloadavg()
    if args.ready_only:
        with tempfile.TemporaryDirectory(prefix="tokensim-estimates-") as folder:
            results = check_ready(Path(folder))
        write(results, budget.calibration(), load, Path(str(args.out) + "_ready"), HOW_READY)
        return 0 if all(r["within"] for r in results) else 1
    loads = workloads(args.budget)
    with tempfile.TemporaryDirectory(prefix="tokensim-estimates-") as folder:
        scratch = Path(folder)
        if not args.check_only:
            fitted = calibrate(loads, scratch)
            budget.CALIBRATION.write_text(json.dumps({
                "note": "fitted by benchmarks/app_estimates.py from the runner's chunk timings; see experiments/budget.py",
                "date": str(dt.date.today()), "models": fitted}, indent=2) + "\n")
            budget.calibration.cache_clear()
        results = check(loads, scratch)
    write(results, budget.calibration(), load, Path(args.out))
    return 0 if all(r["within"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
