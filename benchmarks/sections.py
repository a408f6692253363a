"""Markdown sections of benchmarks/results.md for the measurements beside ``run.py``'s per-model table:
Dask against local (``backends.py``), chunk-size curves (``chunks.py``), compiled reference kernels
(``kernels.py``) and measurements taken by hand (``results_claims.md``: the claims pack under GNU
time, kept verbatim). Each reads the file its script wrote next to results.md; a missing file is
skipped, so regenerating results.md never drops a section.

    python benchmarks/sections.py      # rewrite results.md from the recorded JSON files, measuring nothing
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _read(name: str) -> dict | None:
    path = HERE / name
    return json.loads(path.read_text()) if path.exists() else None


def backends_section() -> list[str]:
    recs = _read("results_backends.json")
    if not recs:
        return []
    lines = ["## Dask against local on the same cores", ""]
    for rec in recs if isinstance(recs, list) else [recs]:
        lines += _backends_record(rec)
    return lines


def _backends_record(rec: dict) -> list[str]:
    best, runs, cpu = rec["best"], rec["runs"], rec.get("best_cpu")
    lines = [f"`python benchmarks/backends.py {rec['argv']}` on {rec['date']}: governance_rule_vs_identity_cost "
             f"(30 points) at {rec['samples']} samples x {rec['timesteps']} steps, chunk size 20 (30 chunks), "
             f"{rec['workers']} worker processes, {rec['rounds']} rounds interleaved, minimum wall time (cluster "
             "start and stop included). Check: identical frames on every mode; worker malloc variables as "
             "reported by the workers: "
             + "; ".join(f"{m}: {', '.join(c.get('worker_env', ['(local pool)']))}" for m, c in rec["checks"].items())
             + ".", "",
             "| mode | min wall (s) | / local | min CPU (s), with workers | / local | every run: wall (s) and load "
             "average (1 min) at its start |",
             "|---|---:|---:|---:|---:|---|"]
    for mode, seconds in best.items():
        each = ", ".join(f"{r['seconds']:.2f} ({r['load_start'].split(',')[0]})" for r in runs[mode])
        c = f"{cpu[mode]:.2f} | {cpu[mode] / cpu['local']:.2f}x" if cpu else "- | -"
        lines.append(f"| {mode} | {seconds:.2f} | {seconds / best['local']:.2f}x | {c} | {each} |")
    return lines + [""]


def chunks_section() -> list[str]:
    rec = _read("results_chunks.json")
    if not rec:
        return []
    lines = ["## Chunk size", "",
             "`python benchmarks/chunks.py`: tokensim (one process, chunks written to Parquet) per chunk size, "
             "3 rounds interleaved, minimum **CPU time** of the process (wall time in brackets; the machine was "
             "shared, so wall time mostly measures the other jobs). `auto` is the runner's own plan for a spec without "
             "`chunk_size` (`tokensim.experiments.runner.chunk_size_for` per structural group, cut into equal chunks; "
             "the rows per chunk it gave are in the auto column); the target is auto within 10% of the best measured "
             "size.", "",
             "| workload | seconds per chunk size: CPU (wall) | auto | best | auto / best | load (1 min) during the runs |",
             "|---|---|---:|---:|---:|---|"]
    for name, res in rec.items():
        curve = ", ".join(f"{c}: {t:.2f} ({res['best_wall'][c]:.2f})" if "best_wall" in res else f"{c}: {t:.2f}"
                          for c, t in res["best"].items())
        loads = [float(r["load_start"].split(",")[0]) for rs in res["runs"].values() for r in rs]
        lines.append(f"| {name}: {res['points']} points x {res['samples']} samples x {res['timesteps']} steps "
                     f"({res['date']}) | {curve} | {_auto_text(res)} | {res['fastest']} | **{res['auto_over_best']:.2f}x** | "
                     f"{min(loads):.1f}-{max(loads):.1f} |")
    return lines + [""]


def _auto_text(res: dict) -> str:
    """The automatic choice: the size chunk_size_for gave and, where recorded, the rows per chunk of the
    runner's equal cut (older records timed a fixed chunk of the chosen size)."""
    rows = res.get("auto_rows")
    return f"{res['auto']} ({'/'.join(map(str, rows))} rows per chunk)" if rows else f"{res['auto']} (as a fixed size)"


def kernels_section() -> list[str]:
    rec = _read("results_kernels.json")
    if not rec:
        return []
    lines = ["## Compiled reference kernels", "",
             "`python benchmarks/kernels.py` (numba, the `bench` extra): each model's hottest kernel in tokensim "
             "(numpy) and as compiled loops over the same arithmetic, on identical inputs, results checked equal "
             "first (see the script's docstring for each check); minimum CPU time over interleaved calls.", "",
             "| kernel | size | tokensim | compiled | tokensim / compiled | note | load (1 min) |",
             "|---|---|---:|---:|---:|---|---|"]
    for name, entry in rec.items():
        for r in entry["rows"]:
            load = r["load_start"].split(",")[0]
            if name == "labeling":
                lines.append(
                    f"| Dawid-Skene, ns per label-iteration | B = {r['batch']} ({r['answers']:,} answers, "
                    f"{r['iterations']} iterations) | {r['tokensim_ns']:.1f} (marginal {r['tokensim_marginal_ns']:.1f}) | "
                    f"{r['compiled_ns']:.1f} (marginal {r['compiled_marginal_ns']:.1f}) | "
                    f"**{r['tokensim_ns'] / r['compiled_ns']:.2f}x** | log space (`space='log'`, same structure): "
                    f"{r['log_ns']:.1f} (marginal {r['log_marginal_ns']:.1f}); max posterior difference "
                    f"{r['max_posterior_diff']:.1e} | {load} |")
            elif name == "governance":
                lines.append(f"| governance members, ns per member-proposal | rule {r['rule']}, B = {r['batch']}, "
                             f"{r['members']:,} members | {r['tokensim_ns']:.1f} | {r['compiled_ns']:.1f} | "
                             f"**{r['tokensim_ns'] / r['compiled_ns']:.2f}x** | preferences, turnout, tallies, Gini, "
                             f"Nakamoto | {load} |")
            else:
                lines.append(f"| inflation economy step, ns per sample-step | B = {r['batch']} | {r['tokensim_ns']:.1f} | "
                             f"{r['compiled_ns']:.1f} | **{r['tokensim_ns'] / r['compiled_ns']:.2f}x** | | {load} |")
    return lines + ["", f"numba {entry['numba']}, numpy {entry['numpy']}, {entry['date']}.", ""]


def by_hand_section() -> list[str]:
    """Measurements written by hand (not reproducible by a script here), kept as they are."""
    path = HERE / "results_claims.md"
    return path.read_text().rstrip("\n").splitlines() + [""] if path.exists() else []


def sections() -> list[str]:
    return by_hand_section() + backends_section() + chunks_section() + kernels_section()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from benchmarks.run import report

    entries = json.loads((HERE / "results.json").read_text())
    (HERE / "results.md").write_text(report(entries))
    print(f"written: {HERE / 'results.md'}")
