"""tokensim in the browser: ``streamlit run app.py``.

Pages and widgets only; the logic lives in :mod:`experiments.app`. Extra model modules (your
own models, registered with ``mechanisms.core.register``) can be loaded with
``streamlit run app.py -- --models mypackage.mymodel``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Mapping

import pandas as pd
import streamlit as st

from experiments.app import claims as claims_mod
from experiments.app.charts import tradeoff
from experiments.app.export import slug
from experiments.app.models import available_models, import_model_modules
from experiments.app.runs import COST_LIMIT, check_cost, estimate_cost
from experiments.app.scenarios import Scenario, Settings, combine, differences, scenario_spec_dict, scenario_specs
from experiments.app.sweeps import Axis, default_range, design_spec_dict, numeric_axis, samplable, sweep_spec_dict, sweepable
from experiments.app.widgets import (
    chart_with_export, copy_as_spec, download, param_inputs, progress_panel, range_input, result_downloads, run_with_progress, show_notice,
)
from experiments.figures import figure
from experiments.runner import run_spec
from experiments.sensitivity import sensitivity_figure, sensitivity_table
from experiments.spec import parse_spec
from experiments.storage import read_results
from mechanisms.core import Model, Param
from mechanisms.core.errors import TokensimError

MAX_SCENARIOS = 6


def _cli_models() -> list[str]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--models", default="")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return [m for m in args.models.split(",") if m]


def sidebar(models: dict[str, Model], skipped: dict[str, str]) -> tuple[Model, Settings]:
    st.sidebar.title("tokensim")
    name = st.sidebar.selectbox("Model", list(models), key="model",
                                format_func=lambda n: f"{n}: {models[n].title}")
    st.sidebar.subheader("Runs")
    samples = st.sidebar.number_input("Monte Carlo samples", 1, 100_000, 20, key="samples",
                                      help="runs per scenario or parameter point, each with its own random stream")
    timesteps = st.sidebar.number_input("Timesteps", 1, 100_000, 100, key="timesteps")
    seed = st.sidebar.number_input("Seed", 0, 2**31 - 1, 0, key="seed")
    crn = st.sidebar.checkbox("Common random numbers", True, key="crn",
                              help="sample i of every scenario or point gets the same random stream, so "
                                   "differences are paired and less noisy")
    st.sidebar.caption(f"Scenario, sweep and sensitivity runs estimated above {COST_LIMIT:.3g} s of compute "
                       "(model cost x timesteps x samples x points) "
                       "are refused; use the CLI for those.")
    if skipped:
        st.sidebar.warning("Models not available:\n\n" + "\n\n".join(f"**{n}**: {e}" for n, e in skipped.items()))
    return models[name], Settings(int(samples), int(timesteps), int(seed), bool(crn))


def scenario_editors(model: Model) -> list[Scenario]:
    count = st.number_input("Number of scenarios", 2, MAX_SCENARIOS, 2, key=f"{model.name}:n_scenarios")
    scenarios = []
    for i, column in enumerate(st.columns(int(count))):
        with column:
            name = st.text_input("Scenario name", chr(ord("A") + i), key=f"{model.name}:s{i}:name")
            with st.expander(f"Parameters of {name or '?'}", expanded=True):
                scenarios.append(Scenario(name, param_inputs(model, f"s{i}")))
    return scenarios


def refuse(specs) -> bool:
    """Show why ``specs`` cannot run (cost above the limit); True when refused."""
    try:
        check_cost(specs)
    except TokensimError as exc:
        st.error(str(exc))
        return True
    return False


def run_button(model: Model, specs: list | None, data: list[dict], label: str, key: str, noun: str,
               **extra) -> dict | None:
    """The cost of ``specs``, a Run button that runs them with progress, and the run this session
    keeps under ``key`` for this model (with a notice when the inputs changed since). The run
    holds the results, the specs as plain ``data`` (for "copy as spec") and ``extra``."""
    if specs:
        expanded = [s.points() for s in specs]  # once per page draw: a large design takes a while
        points = sum(map(len, expanded))
        try:  # a model's cost may read a data file named by a parameter
            cost = sum(estimate_cost(s, p) for s, p in zip(specs, expanded))
            st.caption(f"{points} {noun} x {specs[0].samples} samples; estimated {cost:.3g} s of compute "
                       f"(limit {COST_LIMIT:.3g} s).")
        except TokensimError as exc:
            st.error(str(exc))
            specs = None
    if st.button(label, type="primary", key=key, disabled=not specs) and not refuse(specs):
        try:
            results = run_with_progress(specs, key)
        except TokensimError as exc:  # for example a data file named by a text parameter is unreadable
            st.error(str(exc))
            return None
        st.session_state[f"{key}:result"] = {"model": model.name, "results": results, "data": data,
                                             "specs": [s.to_dict() for s in specs], **extra}
        cached = sum(r.from_cache for r in results)
        st.success(f"Ran {points} {noun} x {specs[0].samples} samples in {sum(r.seconds for r in results):.1f} s"
                   + (f" ({cached} of {len(results)} runs from the cache)" if cached else ""))
    run = st.session_state.get(f"{key}:result")
    if not run or run["model"] != model.name:
        return None
    if specs and [s.to_dict() for s in specs] != run["specs"]:
        st.info("The inputs changed since these results were computed; run again to update them.")
    return run


def scenarios_page(model: Model, settings: Settings, scenarios: list[Scenario]) -> None:
    specs, data = None, []
    try:
        specs = scenario_specs(model, scenarios, settings)
        data = [scenario_spec_dict(model, s, settings) for s in scenarios]
    except TokensimError as exc:
        st.error(str(exc))
    names = [s.name.strip() for s in scenarios]
    run = run_button(model, specs, data, "Run scenarios", "run_scenarios", "scenarios", names=names)
    if run:
        scenario_results(model, run)


def scenario_results(model: Model, run: dict) -> None:
    names = run["names"]
    frame, prov = combine(names, [r.frame for r in run["results"]], [r.provenance for r in run["results"]])
    metrics = st.multiselect("Metrics to show", model.metric_names, model.metric_names[:2], key=f"{model.name}:show_metrics")
    for metric in metrics:
        st.subheader(metric)
        st.caption(model.metric(metric).description)
        data = frame[["point_id", "scenario", "sample", "timestep", metric]]
        chart = figure(data, prov, metric, kind="timeseries", color="scenario")
        chart_with_export(chart, data, prov, metric, f"{model.name}_{metric}_timeseries", f"sc:{metric}:ts")
        chart = figure(data, prov, metric, kind="distribution", color="scenario")
        chart_with_export(chart, data, prov, metric, f"{model.name}_{metric}_distribution", f"sc:{metric}:dist")
    st.subheader("Differences from the baseline")
    baseline = st.selectbox("Baseline scenario", names, key=f"{model.name}:baseline")
    paired = bool(prov["common_random_numbers"])
    table = differences(frame, prov, model, baseline, paired)
    st.caption("Difference of mean per-run outcomes (scenario minus baseline) with a 95% confidence interval: "
               + ("paired t over samples that share random streams." if paired else "Welch's t."))
    st.dataframe(table, hide_index=True)
    download("Differences (CSV)", table.to_csv(index=False), f"{model.name}_differences.csv", "dl:differences:csv")
    st.subheader("Reproduce")
    result_downloads(frame, prov, f"{model.name}_scenarios", "scenarios")
    for name, spec in zip(names, run["data"]):
        with st.expander(f"Copy scenario {name} as spec"):
            copy_as_spec(spec, f"{model.name}_scenario_{name}", f"spec:{name}")


def base_scenario(model: Model, scenarios: list[Scenario], key: str) -> tuple[str, Mapping[str, Any]]:
    """The scenario (name, values) whose parameters a sweep or an analysis keeps for the rest."""
    by_name = {s.name: s for s in scenarios}
    base = st.selectbox("Other parameters as in scenario", list(by_name), key=f"{model.name}:{key}")
    return base, by_name[base].values


def single_spec_run(model: Model, inputs: Callable[[], dict[str, Any] | None], source: str, label: str, key: str,
                    noun: str) -> tuple[pd.DataFrame, dict, dict] | None:
    """The sweep and sensitivity pages' common part: ``inputs`` draws the page's inputs and returns
    its one spec as plain data (None while incomplete); input errors are shown, then
    :func:`run_button`. Returns the kept run's frame, provenance and spec data, if any."""
    spec, data = None, {}
    try:
        data = inputs() or {}
        if data:
            spec = parse_spec(data, source)
    except TokensimError as exc:
        st.error(str(exc))
    run = run_button(model, spec and [spec], [data], label, key, noun)
    if not run:
        return None
    (result,), (spec_data,) = run["results"], run["data"]
    return result.frame, result.provenance, spec_data


def param_heading(param: Param) -> None:
    """A column's heading in the sweep and sensitivity inputs: the parameter's name and unit."""
    st.markdown(f"**{param.name}** {('(' + param.unit + ')') if param.unit else ''}")


def axis_inputs(model: Model, names: list[str]) -> list[Axis]:
    axes = []
    for name, column in zip(names, st.columns(max(len(names), 1))):
        param = model.schema[name]
        key = f"{model.name}:sweep:{name}"
        with column:
            param_heading(param)
            if param.kind in ("choice", "bool"):
                options = list(param.choices) if param.kind == "choice" else [False, True]
                axes.append(Axis(name, values=tuple(st.multiselect("Values", options, options, key=f"{key}:values"))))
                continue
            low, high = default_range(param)
            start = range_input("From", param, low, f"{key}:start")
            stop = range_input("To", param, high, f"{key}:stop")
            num = st.number_input("Values", 2, 50, 5, key=f"{key}:num")
            log = st.checkbox("Log spacing", param.log_scale and low > 0, key=f"{key}:log")
            axes.append(numeric_axis(param, float(start), float(stop), int(num), log))
    return axes


def sweep_page(model: Model, settings: Settings, scenarios: list[Scenario]) -> None:
    names = st.multiselect("Parameters to sweep (one or two)", [p.name for p in sweepable(model)],
                           max_selections=2, key=f"{model.name}:sweep_params")
    base, values = base_scenario(model, scenarios, "sweep_base")

    def inputs() -> dict[str, Any] | None:
        axes = axis_inputs(model, names)
        return sweep_spec_dict(model, values, axes, settings, base) if names else None

    done = single_spec_run(model, inputs, "sweep", "Run sweep", "run_sweep", "parameter points")
    if done:
        sweep_results(model, *done)


def sweep_results(model: Model, frame: pd.DataFrame, prov: dict, spec: dict) -> None:
    swept = list(prov["swept"])
    metric = st.selectbox("Metric", model.metric_names, key=f"{model.name}:sweep_metric")
    data = frame[["point_id", *swept, "sample", "timestep", metric]]
    chart = figure(data, prov, metric)
    chart_with_export(chart, data, prov, metric, f"{model.name}_{metric}_sweep", "sweep:main")
    st.subheader("Trade-off")
    left, right = st.columns(2)
    mx = left.selectbox("x metric", model.metric_names, 0, key=f"{model.name}:trade_x")
    my = right.selectbox("y metric", model.metric_names, min(1, len(model.metric_names) - 1), key=f"{model.name}:trade_y")
    data = frame[["point_id", *swept, "sample", "timestep", *dict.fromkeys([mx, my])]]
    chart = tradeoff(data, prov, mx, my)
    chart_with_export(chart, data, prov, f"{my} against {mx}", f"{model.name}_{my}_vs_{mx}_tradeoff", "sweep:trade")
    st.subheader("Reproduce")
    result_downloads(frame, prov, f"{model.name}_sweep", "sweep")
    with st.expander("Copy sweep as spec"):
        copy_as_spec(spec, f"{model.name}_sweep", "spec:sweep")


def bounds_inputs(model: Model, names: list[str]) -> dict[str, tuple[float, float, bool]]:
    bounds = {}
    for name, column in zip(names, st.columns(max(len(names), 1))):
        param = model.schema[name]
        key = f"{model.name}:sens:{name}"
        with column:
            param_heading(param)
            low, high = default_range(param)
            low = range_input("Low", param, low, f"{key}:low")
            high = range_input("High", param, high, f"{key}:high")
            log = st.checkbox("Log scale", param.log_scale and low > 0, key=f"{key}:log")
            bounds[name] = (low, high, log)
    return bounds


def sensitivity_page(model: Model, settings: Settings, scenarios: list[Scenario]) -> None:
    st.caption("Global sensitivity of one metric to several parameters over a Sobol (Saltelli) or Morris design, "
               "analysed with SALib.")
    left, right = st.columns(2)
    method = left.selectbox("Method", ["sobol", "morris"], key=f"{model.name}:sens_method")
    if method == "sobol":
        n = right.selectbox("Base samples (power of 2)", [8, 16, 32, 64, 128, 256], 1, key=f"{model.name}:sens_n")
    else:
        n = right.number_input("Trajectories", 2, 200, 10, key=f"{model.name}:sens_n_morris")
    names = st.multiselect("Parameters (two or more)", [p.name for p in samplable(model)], key=f"{model.name}:sens_params")
    base, values = base_scenario(model, scenarios, "sens_base")

    def inputs() -> dict[str, Any] | None:
        bounds = bounds_inputs(model, names)
        return design_spec_dict(model, values, method, int(n), bounds, settings, base) if names else None

    done = single_spec_run(model, inputs, "sensitivity", "Run analysis", "run_sensitivity", "design points")
    if done:
        sensitivity_results(model, *done)


def sensitivity_results(model: Model, frame: pd.DataFrame, prov: dict, spec: dict) -> None:
    metric = st.selectbox("Metric", model.metric_names, key=f"{model.name}:sens_metric")
    try:
        table = sensitivity_table(frame, prov, metric)
    except TokensimError as exc:
        st.error(str(exc))
        return
    chart = sensitivity_figure(table, prov, metric)
    method = prov["spec"]["design"]["method"]
    chart_with_export(chart, table, prov, metric, f"{model.name}_{metric}_{method}", "sens:main")
    st.dataframe(table.round(4), hide_index=True)
    st.caption("_conf: half-width of the 95% bootstrap confidence interval.")
    with st.expander("Copy analysis as spec"):
        copy_as_spec(spec, f"{model.name}_{method}", "spec:sens")
        st.code(f"tokensim sensitivity results/{slug(model.name + '_' + method)} --metric {metric}", language="bash")


@st.cache_data(show_spinner=False, max_entries=32)
def stored_results(path: str, mtime: float) -> tuple[pd.DataFrame, dict]:
    """A results folder's contents, re-read when its file changes (``mtime`` is part of the key)."""
    return read_results(path)


def claims_page() -> None:
    st.caption("Claims from seeds/claims.toml, each with the experiment that tests it. Independent of the sidebar.")
    for claim in claims_mod.load_claims():
        with st.expander(f"{claim['id']} ({claim['family']})"):
            claim_view(claim)


def claim_view(claim: dict) -> None:
    st.markdown(claim["claim"])
    source = claim["source"]
    st.caption(f"Source: {source['title']}, {source['author']}, {source['outlet']}, {source['date']}.")
    st.markdown(f"**Supports if:** {claim['supports_if']}\n\n**Refutes if:** {claim['refutes_if']}")
    if claim.get("notes"):
        st.caption(f"Notes: {claim['notes']}")
    st.markdown(f"**Experiment:** `{claim['experiment']}`")
    if not st.toggle("Show the experiment and its results", key=f"claim:{claim['id']}:open"):
        return  # loading results and drawing figures only on request keeps every other rerun quick
    exp = claims_mod.experiment_of(claim)
    if exp.spec is None:
        st.warning(exp.error)
        return
    with st.expander("Spec file"):
        st.code(exp.path.read_text(encoding="utf-8"), language="toml")
    if not exp.has_results:
        claim_run(claim, exp)
        return
    frame, prov = stored_results(str(exp.results_file), exp.results_file.stat().st_mtime)
    stale = claims_mod.stale_keys(prov, exp.spec)
    if stale:
        st.warning(f"These results were produced with different {', '.join(stale)} than the spec file has now; "
                   "run it again to update them.")
        claim_run(claim, exp)
    present, missing = claims_mod.claim_metrics(claim, frame)
    if missing:
        st.warning(f"The results lack the claim's metrics {', '.join(missing)}.")
    st.caption(f"Results: {exp.results} ({prov['samples']} samples x {prov['timesteps']} timesteps per point, "
               f"seed {prov['seed']}, created {prov['created']}).")
    if present:
        metric = st.selectbox("Figure of", present, key=f"claim:{claim['id']}:metric")
        data = frame[["point_id", *prov["swept"], "sample", "timestep", metric]]
        chart_with_export(figure(data, prov, metric), data, prov, metric, f"{claim['id']}_{metric}", f"claim:{claim['id']}")
        st.dataframe(claims_mod.claim_table(frame, prov, present), hide_index=True)
    st.info(claims_mod.VERDICT_NOTE)


def claim_run(claim: dict, exp: claims_mod.Experiment) -> None:
    st.caption(f"Estimated {estimate_cost(exp.spec):.3g} s of compute. This is one of the project's own "
               "experiments, sized to finish in about two minutes, so the app's cost limit for custom runs does "
               f"not apply; the same run from a shell: `tokensim run {claim['experiment']}`.")
    if st.button("Run this experiment", key=f"claim:{claim['id']}:run"):
        try:
            run_claim_spec(exp, claim["id"])
        except TokensimError as exc:
            st.error(str(exc))
            return
        st.rerun()


def run_claim_spec(exp: claims_mod.Experiment, key: str) -> None:
    """Run a claim's spec into its results folder, as ``tokensim run`` would."""
    message = f"Run cancelled; finished chunks are kept in {exp.results / 'chunks'} and reused next time."
    with progress_panel(f"claim:{key}", message) as report:
        run_spec(exp.spec, progress=lambda done, total: report(done / max(total, 1), f"{done} of {total} samples"),
                 output=exp.results)


def main() -> None:
    st.set_page_config(page_title="tokensim", layout="wide")
    import_model_modules(_cli_models())
    models, skipped = available_models()
    show_notice()
    if not models:
        st.error("No model could be loaded. " + "; ".join(f"{n}: {e}" for n, e in skipped.items()))
        return
    model, settings = sidebar(models, skipped)
    st.title(model.title)
    st.caption(f"model `{model.name}` v{model.version}")
    with st.expander("About this model"):
        st.markdown(model.description)
        st.markdown("**Parameters**")
        st.dataframe(pd.DataFrame(model.schema.table()), hide_index=True)
        st.markdown("**Metrics**")
        st.dataframe(pd.DataFrame([{"name": m.name, "unit": m.unit, "per run": m.summary, "better": m.better,
                                    "description": m.description} for m in model.metrics]), hide_index=True)
    scen_tab, sweep_tab, sens_tab, claims_tab = st.tabs(["Scenarios", "Sweep", "Sensitivity", "Claims"])
    with scen_tab:
        scenarios = scenario_editors(model)
        scenarios_page(model, settings, scenarios)
    with sweep_tab:
        sweep_page(model, settings, scenarios)
    with sens_tab:
        sensitivity_page(model, settings, scenarios)
    with claims_tab:
        claims_mod.page()


main()
