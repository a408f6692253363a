"""Scenarios: named parameter sets of one model side by side, their charts and differences."""
from __future__ import annotations

import streamlit as st

from tokensim.experiments.app import context
from tokensim.experiments.app.runpanel import run_button
from tokensim.experiments.app.scenarios import combine, comparison_spec_dict, differences, scenario_specs
from tokensim.experiments.app.widgets import chart_with_export, copy_as_spec, download, param_inputs, result_downloads
from tokensim.experiments.figures import figure
from tokensim.mechanisms.core.errors import TokensimError

COLUMNS_UP_TO = 3  # more scenarios than this get one tab each (columns would be too narrow)


def editors(model) -> None:
    count = st.number_input("Number of scenarios", 2, context.MAX_SCENARIOS, 2, key=f"{model.name}:n_scenarios")
    holders = st.columns(int(count)) if count <= COLUMNS_UP_TO else st.tabs(
        [st.session_state.get(f"{model.name}:s{i}:name", chr(ord("A") + i)) or "?" for i in range(int(count))])
    for i, holder in enumerate(holders):
        with holder:
            name = st.text_input("Scenario name", chr(ord("A") + i), key=f"{model.name}:s{i}:name")
            with st.expander(f"Parameters of {name or '?'}", expanded=True):
                param_inputs(model, f"s{i}")


def results(model, run: dict) -> None:
    names = run["names"]
    frame, prov = combine(names, [r.frame for r in run["results"]], [r.provenance for r in run["results"]])
    if run.get("partial"):
        st.warning(f"Partial results ({prov.get('partial') or 'some scenarios have no finished samples yet'}): "
                   "every figure, table and export below says so.")
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
    st.caption(("PARTIAL RESULTS. " if run.get("partial") else "")
               + "Difference of mean per-run outcomes (scenario minus baseline) with a 95% confidence interval: "
               + ("paired t over samples that share random streams." if paired else "Welch's t."))
    st.dataframe(table, hide_index=True)
    download("Differences (CSV)", table.to_csv(index=False), f"{model.name}_differences.csv", "dl:differences:csv")
    st.subheader("Reproduce")
    result_downloads(frame, prov, f"{model.name}_scenarios", "scenarios")
    spec = {**run["data"][0], "baseline": baseline}
    with st.expander("Copy the comparison as spec (all scenarios; `tokensim run` prints this differences table)"):
        copy_as_spec(spec, f"{model.name}_comparison", "spec:comparison")


def page() -> None:
    ctx = context.current()
    model = ctx.model
    context.header(model)
    editors(model)
    scenarios = context.scenarios(model)
    specs, data = None, []
    try:
        specs = scenario_specs(model, scenarios, ctx.settings)
        data = [comparison_spec_dict(model, scenarios, ctx.settings)]
    except TokensimError as exc:
        st.error(str(exc))
    names = [s.name.strip() for s in scenarios]
    run = run_button(model, specs, data, "Run scenarios", "run_scenarios", "scenarios", names=names)
    if run:
        results(model, run)


page()
