"""Sensitivity: Sobol indices or Morris effects of one metric to several parameters (SALib)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from tokensim.experiments.app import context
from tokensim.experiments.app.export import slug
from tokensim.experiments.app.pagekit import base_scenario, grouped_picker, param_heading, single_spec_run
from tokensim.experiments.app.sweeps import default_range, design_spec_dict, samplable, sobol_warning
from tokensim.experiments.app.widgets import chart_with_export, copy_as_spec, range_input
from tokensim.experiments.sensitivity import sensitivity_figure, sensitivity_table
from tokensim.mechanisms.core.errors import TokensimError


def bounds_inputs(model, names: list[str], base: dict) -> dict[str, tuple[float, float, bool]]:
    bounds = {}
    for name, column in zip(names, st.columns(max(len(names), 1))):
        param = model.schema[name]
        key = f"{model.name}:sens:{name}"
        with column:
            param_heading(param)
            low, high, log = default_range(param, model, base)
            low = range_input("Low", param, low, f"{key}:low")
            high = range_input("High", param, high, f"{key}:high")
            log = st.checkbox("Log scale", log, key=f"{key}:log")
            bounds[name] = (low, high, log)
    return bounds


def results(model, frame, prov: dict, spec: dict) -> None:
    metric = st.selectbox("Metric", model.metric_names, key=f"{model.name}:sens_metric")
    try:
        table = sensitivity_table(frame, prov, metric)
    except TokensimError as exc:
        st.error(str(exc))
        return
    method = prov["spec"]["design"]["method"]
    warning = sobol_warning(table, int(prov["spec"]["design"]["n"])) if method == "sobol" else None
    if warning:
        st.warning(warning)
    chart = sensitivity_figure(table, prov, metric)
    chart_with_export(chart, table, prov, metric, f"{model.name}_{metric}_{method}", "sens:main")
    st.dataframe(table.round(4), hide_index=True)
    st.caption("_conf: half-width of the 95% bootstrap confidence interval.")
    with st.expander("Copy analysis as spec"):
        copy_as_spec(spec, f"{model.name}_{method}", "spec:sens")
        st.code(f"tokensim sensitivity results/{slug(model.name + '_' + method)} --metric {metric}", language="bash")


def page() -> None:
    ctx = context.current()
    model = ctx.model
    context.header(model)
    st.caption("Global sensitivity of one metric to several parameters over a Sobol (Saltelli) or Morris design, "
               "analysed with SALib.")
    left, right = st.columns(2)
    method = left.selectbox("Method", ["sobol", "morris"], key=f"{model.name}:sens_method")
    if method == "sobol":
        n = right.selectbox("Base samples (power of 2)", [8, 16, 32, 64, 128, 256, 512, 1024], 2, key=f"{model.name}:sens_n")
    else:
        n = right.number_input("Trajectories", 2, 200, 10, key=f"{model.name}:sens_n_morris")
    names = grouped_picker(model, samplable(model), "Parameters (two or more)", f"{model.name}:sens_params")
    base_name, base = base_scenario(model, context.scenarios(model), "sens_base")

    def inputs() -> dict[str, Any] | None:
        bounds = bounds_inputs(model, names, dict(base))
        return design_spec_dict(model, base, method, int(n), bounds, ctx.settings, base_name) if names else None

    done = single_spec_run(model, inputs, "sensitivity", "Run analysis", "run_sensitivity", "design points")
    if done:
        results(model, *done[:3])


page()
