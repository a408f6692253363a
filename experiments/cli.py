"""The ``tokensim`` command line: list models, run experiment specs, plot results.

User mistakes (bad spec, bad parameter, missing results, a run too large for the machine, an
output folder that cannot be written) print one clear ``error:`` line and exit with status 2; only
bugs show a traceback. Ctrl-C and SIGTERM stop a run cleanly, keeping its finished chunks.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
from pathlib import Path
from typing import Sequence

import pandas as pd

from tokensim.mechanisms.core import TokensimError, get_model, model_names
from tokensim.mechanisms.core.errors import printable
from tokensim.mechanisms.core.params import params_from_pairs

from .paths import outside_package
from .storage import ADVICE, storage_error


def _cmd_list(args: argparse.Namespace) -> int:
    names = [args.model] if args.model else model_names()
    for name in names:
        model = get_model(name)
        print(f"{model.name} (v{model.version}): {model.title}")
        for row in model.schema.table():
            print(_parameter_text(row))
        print(textwrap.fill("metrics: " + ", ".join(model.metric_names), LIST_WIDTH, initial_indent="  ",
                            subsequent_indent="    "))
        print()
    return 0


LIST_WIDTH = 100


def _parameter_text(row: dict[str, str]) -> str:
    """One parameter for ``tokensim list``: name, default and range on a line, then its basis
    (calibrated with its source, assumed with its plausible range, or a setting) and description."""
    head = f"  {row['name']} = {row['default']}: {row['allowed']}" + ("; structural" if row["structural"] else "")
    body = textwrap.fill(f"{row['basis']}. {row['description']}", LIST_WIDTH, initial_indent="      ",
                         subsequent_indent="      ")
    return f"{head}\n{body}"


def _cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .backends import chunk_map
    from .budget import check_cost, check_memory
    from .runner import run_spec
    from .spec import load_spec
    from .summary import summary_table
    from .comparison import is_comparison
    from .spec import read_spec_data

    if is_comparison(read_spec_data(args.spec)):
        return _run_comparison(args)
    spec = load_spec(args.spec)
    if args.set:
        spec = spec.with_overrides(params_from_pairs(get_model(spec.model).schema, args.set))
    output = Path(args.output) if args.output else spec.output
    if output is None:
        output = Path("results") / Path(args.spec).stem
    output = outside_package(output, Path(args.spec).stem)
    mapper = chunk_map(args.backend, args.workers, args.address)
    if not args.force:
        points = spec.points()
        check_cost([spec], hint="Or run it anyway with --force.")
        check_memory(spec, points, workers=1 if args.address else args.workers)
    bar = tqdm(total=1, unit="sample", desc=f"{spec.model}", disable=args.quiet, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    stopped: list[int] = []

    def terminate(signum: int, frame) -> None:
        stopped.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        result = run_spec(spec, chunk_map=mapper, progress=progress, output=output)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: finished chunks are kept in {output / 'chunks'}; run the same command again to resume",
              file=sys.stderr)
        return 128 + (stopped[0] if stopped else signal.SIGINT)
    finally:
        bar.close()  # before any error line, so that it starts a line of its own
        signal.signal(signal.SIGTERM, previous)
    table = summary_table(result.outcomes, result.provenance["swept"], get_model(spec.model))
    wide = table.pivot_table(index=["point_id", *result.provenance["swept"]], columns="metric", values="mean", sort=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        print(f"\n{spec.title or spec.model}: mean per run over {spec.samples} samples "
              f"({len(result.provenance['points'])} points, {spec.timesteps} timesteps)")
        print(wide.reset_index().drop(columns="point_id").to_string(index=False))
    print(f"\nchunks: {result.chunks_total} ({result.chunks_reused} reused from an earlier run)")
    print(f"results: {output / 'results.parquet'}")
    print(f"summary with 95% CIs: {output / 'summary.csv'}")
    return 0


def _run_comparison(args: argparse.Namespace) -> int:
    """``tokensim run`` of a comparison spec (:mod:`tokensim.experiments.comparison`): every scenario, then
    the differences table the app shows, printed and written to ``differences.csv``."""
    import os
    from dataclasses import replace

    from tqdm import tqdm

    from .backends import chunk_map
    from .comparison import parse_comparison, run_comparison
    from .spec import read_spec_data

    comparison = parse_comparison(read_spec_data(args.spec), args.spec)
    if args.set:
        schema = get_model(comparison.specs[0].model).schema
        overrides = params_from_pairs(schema, args.set)
        comparison = replace(comparison, specs=tuple(s.with_overrides(overrides) for s in comparison.specs))
    if args.output:
        output = Path(args.output)
    elif comparison.output is not None:
        output = Path(os.path.normpath(Path(args.spec).parent / comparison.output))
    else:
        output = Path("results") / Path(args.spec).stem
    bar = tqdm(total=1, unit="sample", desc=comparison.specs[0].model, disable=args.quiet, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()

    try:
        _, _, table = run_comparison(comparison, output, chunk_map(args.backend, args.workers, args.address), progress)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: finished chunks are kept under {output / 'scenarios'}; run the same command again to resume",
              file=sys.stderr)
        return 130
    bar.close()
    first = comparison.specs[0]
    print(f"\nDifferences from scenario {comparison.baseline} (mean per run, scenario minus baseline, 95% CI; "
          f"{first.samples} samples x {first.timesteps} timesteps per scenario)")
    shown = table[["metric", "scenario", "difference", "ci95 low", "ci95 high", "reading", "method"]]
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        print(shown.to_string(index=False))
    print(f"\nresults: {output / 'results.parquet'}")
    print(f"differences with 95% CIs: {output / 'differences.csv'}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from .figures import bibtex, figure, save_figure
    from .storage import read_results

    frame, prov = read_results(args.results)
    metric = args.metric or get_model(prov["model"]).metric_names[0]
    chart = figure(frame, prov, metric, kind=args.kind, x=args.x, y=args.y, color=args.color, facet=args.facet)
    results_dir = Path(args.results) if Path(args.results).is_dir() else Path(args.results).parent
    stem = Path(args.out) if args.out else results_dir / "figures" / f"{metric}_{args.kind}"
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    paths = save_figure(chart, stem, formats)
    stem.with_suffix(".bib").write_text(bibtex(prov, metric, chart))
    for path in paths:
        print(f"figure: {path}")
    print(f"citation: {stem.with_suffix('.bib')}")
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from .figures import save_figure
    from .sensitivity import design_from_provenance, sensitivity_figure, sensitivity_table
    from .storage import read_results

    if args.resamples < 1:
        raise TokensimError(f"--resamples = {args.resamples} is not allowed; allowed: an integer >= 1")
    frame, prov = read_results(args.results)
    metric = args.metric or get_model(prov["model"]).metric_names[0]
    design = design_from_provenance(prov)
    table = sensitivity_table(frame, prov, metric, num_resamples=args.resamples)
    results_dir = Path(args.results) if Path(args.results).is_dir() else Path(args.results).parent
    stem = Path(args.out) if args.out else results_dir / "sensitivity" / f"{metric}_{design.method}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(stem.with_suffix(".csv"), index=False)
    print(f"{design.method} sensitivity of {metric} ({len(prov['points'])} points x {prov['samples']} samples; "
          f"_conf = half-width of the 95% bootstrap CI)")
    with pd.option_context("display.width", 200, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
    print(f"table: {stem.with_suffix('.csv')}")
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    for path in save_figure(sensitivity_figure(table, prov, metric), stem, formats) if formats else []:
        print(f"figure: {path}")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    """Start the Streamlit app: app.py beside experiments/ (the repository root, or the installed package)."""
    import subprocess

    app = Path(__file__).resolve().parents[1] / "app.py"
    return subprocess.call([sys.executable, "-m", "streamlit", "run", str(app), *args.extra])
def _cmd_claims(args: argparse.Namespace) -> int:
    from .claims.cli import run_claims

    return run_claims(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokensim", description="Simulate token-incentive and governance mechanisms.")
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="models, their parameters with ranges, and their metrics")
    p_list.add_argument("model", nargs="?", help="only this model")
    p_list.set_defaults(func=_cmd_list)

    p_run = sub.add_parser("run", help="run an experiment spec (TOML or JSON)")
    p_run.add_argument("spec", help="path of the spec file")
    p_run.add_argument("--set", action="append", metavar="NAME=VALUE",
                       help="fix a parameter (repeatable); a data file path resolves like the spec's own, "
                            "relative to the spec file")
    p_run.add_argument("--workers", type=int, default=1, help="processes (or cluster tasks) at once")
    p_run.add_argument("--backend", default="local", help="where chunks run: local (process pool) or dask (Dask distributed)")
    p_run.add_argument("--address", help="Dask scheduler of an existing cluster, e.g. tcp://host:8786 (--backend dask)")
    p_run.add_argument("--output", help="results folder (default: the spec's 'output')")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.add_argument("--force", action="store_true",
                       help="run even when the estimated compute or memory is above the limit")
    p_run.set_defaults(func=_cmd_run)

    p_plot = sub.add_parser("plot", help="figure of a metric from a results folder or Parquet file")
    p_plot.add_argument("results", help="results folder or results.parquet")
    p_plot.add_argument("--metric", help="metric to plot (default: the model's first)")
    p_plot.add_argument("--kind", default="auto", help="auto, timeseries, sweep, heatmap or distribution")
    p_plot.add_argument("--x", help="swept parameter on the x axis")
    p_plot.add_argument("--y", help="swept parameter on the y axis (heatmap)")
    p_plot.add_argument("--color", help="swept parameter for colour")
    p_plot.add_argument("--facet", help="swept parameter that splits the figure into columns")
    p_plot.add_argument("--formats", default="png,svg,pdf", help="comma-separated: png, svg, pdf")
    p_plot.add_argument("--out", help="file stem for the figures (default: RESULTS/figures/METRIC_KIND)")
    p_plot.set_defaults(func=_cmd_plot)

    p_sens = sub.add_parser("sensitivity", help="Sobol indices or Morris effects of a metric (results of a [design] spec)")
    p_sens.add_argument("results", help="results folder or results.parquet of a sobol or morris design")
    p_sens.add_argument("--metric", help="metric to analyse (default: the model's first)")
    p_sens.add_argument("--resamples", type=int, default=100, help="bootstrap resamples for the confidence intervals")
    p_sens.add_argument("--formats", default="png", help="figure formats, comma-separated: png, svg, pdf ('' for none)")
    p_sens.add_argument("--out", help="file stem for table and figure (default: RESULTS/sensitivity/METRIC_METHOD)")
    p_sens.set_defaults(func=_cmd_sensitivity)

    p_app = sub.add_parser("app", help="start the Streamlit app (works from a checkout and an installed wheel)",
                           description="Any further arguments go to `streamlit run`; the app's own options follow "
                                       "--, e.g. tokensim app --server.port 8600 -- --models pkg.module")
    p_app.set_defaults(func=_cmd_app)
    from .claims.cli import add_parser as add_claims_parser

    add_claims_parser(sub, _cmd_claims)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)  # only `tokensim app` passes arguments on (to streamlit)
    if extra and args.command != "app":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`tokensim list | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 141
    except TokensimError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system refused a write (full, read-only, no permission): not a bug
        if exc.errno not in ADVICE:
            raise
        print(f"error: {printable(str(storage_error(Path(exc.filename or '.'), exc)))}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory; reduce chunk_size, samples, --workers or the model's size "
              "(agents and similar parameters)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
