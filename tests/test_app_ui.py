"""The Streamlit app driven by Streamlit's AppTest: pick each model, change a parameter, run,
see charts and metrics, download exports; errors are shown, never raised; sessions are separate."""
from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from experiments.app.models import available_models
from experiments.app.widgets import FEW_PARAMS, use_slider
from experiments.spec import parse_spec
from mechanisms.core import Schema, get_model, require
from mechanisms.core.model import _REGISTRY
from tests.app_support import changeable_param

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MODELS = sorted(available_models()[0])
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def downloads(monkeypatch):
    """File name -> the callable a deferred ``st.download_button`` runs when clicked."""
    captured = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        captured[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return captured


def app(model: str, samples: int = 3, timesteps: int = 6) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="model").set_value(model).run()
    at.number_input(key="samples").set_value(samples)
    at.number_input(key="timesteps").set_value(timesteps)
    return at.run()


def set_param(at: AppTest, model_name: str, scenario: int, name: str, value) -> AppTest:
    model = get_model(model_name)
    if len(model.schema.params) > FEW_PARAMS:
        at.multiselect(key=f"{model_name}:s{scenario}:chosen").set_value([name]).run()
    key = f"{model_name}:s{scenario}:{name}"
    widget = at.slider(key=key) if use_slider(model.schema[name]) else at.number_input(key=key)
    widget.set_value(value)
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest) -> list:
    return at.get("vega_lite_chart")


@pytest.mark.parametrize("model_name", MODELS)
def test_pick_model_change_parameter_run_and_download(model_name, downloads):
    model = get_model(model_name)
    param, value = changeable_param(model)
    at = set_param(app(model_name), model_name, 1, param.name, value)
    at.button(key="run_scenarios").click().run()
    assert_clean(at)
    assert at.success[0].value.startswith("Ran 2 scenarios x 3 samples")
    assert len(charts(at)) == 4  # two metrics shown by default, a time series and a distribution each
    table = next(d.value for d in at.dataframe if "difference" in d.value.columns)
    assert set(table["metric"]) == set(model.metric_names) and (table["n"] == 3).all()
    assert any(f"scenario B: {param.name}={value}" in c.value for c in at.caption)
    metric = model.metric_names[0]
    png = downloads[f"{model_name}_{metric}_timeseries.png"]()
    assert png.startswith(PNG) and len(png) > 5000
    csv = downloads[f"{model_name}_{metric}_timeseries.csv"]().decode()
    assert csv.splitlines()[0] == f"point_id,scenario,sample,timestep,{metric}"
    spec_b = tomllib.loads(next(c.value for c in at.code if "scenario B" in c.value))
    assert spec_b["fixed"] == {param.name: value} and parse_spec(spec_b).samples == 3


def test_same_inputs_again_come_from_the_cache():
    at = app("toy", samples=4, timesteps=5)
    set_param(at, "toy", 1, "noise", 3.5)
    at.button(key="run_scenarios").click().run()
    at.button(key="run_scenarios").click().run()
    assert_clean(at)
    assert "(2 of 2 runs from the cache)" in at.success[0].value


def test_changed_inputs_mark_results_as_stale():
    at = app("toy")
    at.button(key="run_scenarios").click().run()
    set_param(at, "toy", 0, "noise", 2.0)
    assert any("inputs changed" in i.value for i in at.info)


def test_cost_limit_refuses_with_advice():
    at = app("toy", samples=100_000, timesteps=100_000)
    at.button(key="run_scenarios").click().run()
    assert not at.exception and not at.success
    assert "Reduce samples from 100000 to at most" in at.error[0].value


def test_duplicate_scenario_names_show_an_error():
    at = app("toy")
    at.text_input(key="toy:s1:name").set_value("A").run()
    assert not at.exception
    assert "scenario names must differ" in at.error[0].value
    assert at.button(key="run_scenarios").disabled


def test_cross_parameter_check_shows_the_schema_message(monkeypatch):
    toy = get_model("toy")
    checked = replace(toy, name="toy_checked", schema=Schema(toy.schema.params, checks=(
        lambda p: require(p["noise"] <= p["burn_rate"] * 100, "noise", p["noise"], "at most 100 x burn_rate"),
    )))
    monkeypatch.setitem(_REGISTRY, "toy_checked", checked)
    at = app("toy_checked")
    set_param(at, "toy_checked", 1, "noise", 5.0)
    assert not at.exception
    assert "parameter 'noise' = 5.0 is not allowed; allowed: at most 100 x burn_rate" in at.error[0].value


def test_sweep_one_then_two_parameters_with_tradeoff(downloads):
    at = app("toy", samples=3, timesteps=5)
    at.multiselect(key="toy:sweep_params").set_value(["emission"]).run()
    at.number_input(key="toy:sweep:emission:start").set_value(10.0)
    at.number_input(key="toy:sweep:emission:stop").set_value(1000.0)
    at.number_input(key="toy:sweep:emission:num").set_value(3)
    at.checkbox(key="toy:sweep:emission:log").check().run()
    at.button(key="run_sweep").click().run()
    assert_clean(at)
    assert at.success[0].value.startswith("Ran 3 parameter points x 3 samples")
    specs = [c.proto.spec for c in charts(at)]
    assert len(specs) == 2 and '"area"' in specs[0] and '"point"' in specs[1]  # sweep band, trade-off scatter
    spec = tomllib.loads(next(c.value for c in at.code if "[sweep" in c.value))
    assert parse_spec(spec).sweep["emission"] == [10.0, 100.0, 1000.0]
    assert downloads["toy_sweep.parquet"]()[:4] == b"PAR1"

    at.multiselect(key="toy:sweep_params").set_value(["emission", "n_agents"]).run()
    at.number_input(key="toy:sweep:n_agents:start").set_value(5)
    at.number_input(key="toy:sweep:n_agents:stop").set_value(20)
    at.number_input(key="toy:sweep:n_agents:num").set_value(2).run()
    at.button(key="run_sweep").click().run()
    assert_clean(at)
    assert at.success[0].value.startswith("Ran 6 parameter points")
    assert '"rect"' in charts(at)[0].proto.spec  # heatmap


def test_sessions_do_not_share_state():
    first, second = app("toy"), app("toy")
    set_param(first, "toy", 1, "noise", 4.0)
    first.button(key="run_scenarios").click().run()
    second.run()
    assert "run_scenarios:result" in first.session_state and "run_scenarios:result" not in second.session_state
    assert len(charts(first)) == 4 and not charts(second)
    assert second.slider(key="toy:s1:noise").value == get_model("toy").schema["noise"].default


def test_sensitivity_tab_runs_a_sobol_analysis():
    at = app("toy", samples=2, timesteps=4)
    at.multiselect(key="toy:sens_params").set_value(["emission", "noise"]).run()
    at.selectbox(key="toy:sens_n").set_value(8).run()
    at.button(key="run_sensitivity").click().run()
    assert_clean(at)
    assert at.success[0].value.startswith("Ran 32 design points x 2 samples")
    table = next(d.value for d in at.dataframe if "ST" in d.value.columns)
    assert list(table["parameter"]) == ["emission", "noise"]
    assert len(charts(at)) == 1
    spec = parse_spec(tomllib.loads(next(c.value for c in at.code if "[design" in c.value)))
    assert spec.design["method"] == "sobol" and len(spec.points()) == 32


@pytest.mark.skipif("governance" not in MODELS, reason="the governance model is not available")
def test_unreadable_data_file_shows_the_model_error(tmp_path):
    """A text parameter naming a data file: the model's own error, shown before anything runs."""
    bad = tmp_path / "balances.csv"
    bad.write_text("not,a,balance\nx,y,z\n")
    at = app("governance")
    at.multiselect(key="governance:s1:chosen").set_value(["balances_csv"]).run()
    at.text_input(key="governance:s1:balances_csv").set_value(str(bad)).run()
    assert not at.exception
    assert "balances.csv" in at.error[0].value and at.button(key="run_scenarios").disabled
