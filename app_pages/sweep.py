"""Sweep: one or two parameters over a grid, around one scenario; the chart and a trade-off."""
from __future__ import annotations

from typing import Any

import streamlit as st

from tokensim.experiments.app import context
from tokensim.experiments.app.charts import tradeoff
from tokensim.experiments.app.pagekit import base_scenario, grouped_picker, param_heading, single_spec_run
from tokensim.experiments.app.sweeps import Axis, default_range, numeric_axis, sweep_spec_dict, sweepable
from tokensim.experiments.app.widgets import chart_with_export, copy_as_spec, range_input, result_downloads
from tokensim.experiments.figures import figure


def axis_inputs(model, names: list[str], base: dict) -> list[Axis]:
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
            low, high, log = default_range(param, model, base)
            start = range_input("From", param, low, f"{key}:start")
            stop = range_input("To", param, high, f"{key}:stop")
            num = st.number_input("Values", 2, 50, 5, key=f"{key}:num")
            log = st.checkbox("Log spacing", log, key=f"{key}:log", help="the schema marks this parameter log-scale"
                              if param.log_scale else None)
            axes.append(numeric_axis(param, float(start), float(stop), int(num), log))
    return axes


def results(model, frame, prov: dict, spec: dict) -> None:
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


def page() -> None:
    ctx = context.current()
    model = ctx.model
    context.header(model)
    names = grouped_picker(model, sweepable(model), "Parameters to sweep (one or two)", f"{model.name}:sweep_params",
                           max_selections=2)
    base_name, base = base_scenario(model, context.scenarios(model), "sweep_base")

    def inputs() -> dict[str, Any] | None:
        axes = axis_inputs(model, names, dict(base))
        return sweep_spec_dict(model, base, axes, ctx.settings, base_name) if names else None

    done = single_spec_run(model, inputs, "sweep", "Run sweep", "run_sweep", "parameter points")
    if done:
        results(model, *done[:3])


page()
