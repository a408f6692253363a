"""The Streamlit app driven by Streamlit's AppTest: pages, each model's run and downloads, state
that survives model and page switches, the comparison spec round trip through the CLI, partial
runs, the first screen, saved sessions; errors are shown, never raised; sessions are separate."""
from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from tokensim.experiments.app import runs
from tokensim.experiments.app.models import available_models
from tokensim.experiments.app.scenarios import Scenario, Settings, scenario_specs
from tokensim.experiments.app.widgets import FEW_PARAMS, use_slider
from tokensim.experiments.cli import main as cli_main
from tokensim.experiments.spec import parse_spec
from tokensim.mechanisms.core import Schema, get_model, require
from tokensim.mechanisms.core.model import _REGISTRY
from tokensim.mechanisms.core.params import group_of
from tests.app_support import changeable_param

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MODELS = sorted(available_models()[0])
PNG = b"\x89PNG\r\n\x1a\n"
SCENARIOS, SWEEP, SENSITIVITY, CLAIMS, SESSION = (f"app_pages/{p}.py" for p in
                                                  ("scenarios", "sweep", "sensitivity", "claims", "session"))


@pytest.fixture
def downloads(monkeypatch):
    """File name -> the callable (or bytes) a ``st.download_button`` serves when clicked."""
    captured = {}
    deferred = MediaFileManager.add_deferred
    added = MediaFileManager.add

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        captured[file_name] = data_callable
        return deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if file_name:
            captured[file_name] = lambda data=path_or_data: data
        return added(self, path_or_data, mimetype, coordinates, file_name=file_name,
                     is_for_static_download=is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    monkeypatch.setattr(MediaFileManager, "add", add)
    return captured


def app(model: str, samples: int = 3, timesteps: int = 6, page: str = SCENARIOS) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.radio(key="model").set_value(model).run()
    at.number_input(key="samples").set_value(samples)
    at.number_input(key="timesteps").set_value(timesteps)
    return at.switch_page(page).run()


def set_param(at: AppTest, model_name: str, scenario: int, name: str, value) -> AppTest:
    model = get_model(model_name)
    if len(model.schema.params) > FEW_PARAMS:
        at.multiselect(key=f"{model_name}:s{scenario}:chosen:{group_of(model.schema[name])}").set_value([name]).run()
    key = f"{model_name}:s{scenario}:{name}"
    widget = at.slider(key=key) if use_slider(model.schema[name]) else at.number_input(key=key)
    widget.set_value(value)
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest) -> list:
    return at.get("vega_lite_chart")


def difference_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "difference" in d.value.columns)


@pytest.mark.parametrize("model_name", MODELS)
def test_pick_model_change_parameter_run_and_download(model_name, downloads):
    model = get_model(model_name)
    param, value = changeable_param(model)
    at = set_param(app(model_name), model_name, 1, param.name, value)
    at.button(key="run_scenarios").click().run()
    assert_clean(at)
    assert at.success[0].value.startswith("Ran 2 scenarios x 3 samples in ")
    assert "estimated" in at.success[0].value  # measured time next to the estimate
    assert len(charts(at)) == 4  # two metrics shown by default, a time series and a distribution each
    table = difference_table(at)
    assert set(table["metric"]) == set(model.metric_names) and (table["n"] == 3).all()
    assert any(f"scenario B: {param.name}={value}" in c.value for c in at.caption)
    metric = model.metric_names[0]
    png = downloads[f"{model_name}_{metric}_timeseries.png"]()
    assert png.startswith(PNG) and len(png) > 5000
    csv = downloads[f"{model_name}_{metric}_timeseries.csv"]().decode()
    assert csv.splitlines()[0] == f"point_id,scenario,sample,timestep,{metric}"
    comparison = tomllib.loads(next(c.value for c in at.code if "[scenarios" in c.value))
    assert comparison["scenarios"]["B"] == {param.name: value} and comparison["samples"] == 3


def test_every_download_button_skips_the_rerun():
    """on_click="ignore": a download neither reruns the page (closing export panels) nor loses a click."""
    at = app("toy")
    at.button(key="run_scenarios").click().run()
    buttons = [e for e in at.get("download_button")]
    assert len(buttons) >= 10
    assert all(b.proto.ignore_rerun for b in buttons)


def test_same_inputs_again_come_from_the_cache():
    at = app("toy", samples=4, timesteps=5)
    set_param(at, "toy", 1, "noise", 3.5)
    at.button(key="run_scenarios").click().run()
    at.button(key="run_scenarios").click().run()
    assert_clean(at)
    assert "2 of 2 runs from the cache" in at.success[0].value


def test_changed_inputs_mark_results_as_stale():
    at = app("toy")
    at.button(key="run_scenarios").click().run()
    set_param(at, "toy", 0, "noise", 2.0)
    assert any("inputs changed" in i.value for i in at.info)


def test_scenarios_and_results_survive_model_and_page_switches():
    at = app("toy")
    at.text_input(key="toy:s1:name").set_value("high noise").run()
    set_param(at, "toy", 1, "noise", 4.0)
    at.button(key="run_scenarios").click().run()
    first = difference_table(at)
    at.radio(key="model").set_value(MODELS[0] if MODELS[0] != "toy" else MODELS[1]).run()
    assert not charts(at)
    at.switch_page(SWEEP).run()
    at.radio(key="model").set_value("toy").run()
    assert at.selectbox(key="toy:sweep_base").options == ["A", "high noise"]  # the scenarios, read on another page
    at.switch_page(SCENARIOS).run()
    assert_clean(at)
    assert at.text_input(key="toy:s1:name").value == "high noise" and at.slider(key="toy:s1:noise").value == 4.0
    assert len(charts(at)) == 4
    pd.testing.assert_frame_equal(difference_table(at), first)


def test_comparison_spec_round_trip_app_file_cli_same_table(tmp_path, capsys):
    at = app("toy", samples=5, timesteps=6)
    at.number_input(key="toy:n_scenarios").set_value(3).run()
    set_param(at, "toy", 1, "noise", 3.0)
    set_param(at, "toy", 2, "emission", 250.0)
    at.button(key="run_scenarios").click().run()
    assert_clean(at)
    app_table = difference_table(at)
    text = next(c.value for c in at.code if "[scenarios" in c.value)
    path = tmp_path / "comparison.toml"
    path.write_text(text)
    assert text.startswith("# Reproduce with: tokensim run toy_comparison.toml")
    assert cli_main(["run", str(path), "--output", str(tmp_path / "out")]) == 0
    assert "Differences from scenario A" in capsys.readouterr().out
    cli_table = pd.read_csv(tmp_path / "out" / "differences.csv")
    assert len(cli_table) == len(app_table) == 2 * len(get_model("toy").metric_names)
    numeric = ["difference", "ci95 low", "ci95 high", "baseline mean", "scenario mean", "n"]
    pd.testing.assert_frame_equal(cli_table[numeric], app_table[numeric].reset_index(drop=True), check_dtype=False)
    assert list(cli_table["reading"]) == list(app_table["reading"])


def test_interrupted_run_asks_then_shows_partial_results_and_resumes(monkeypatch):
    """A run stopped after some chunks (Cancel, or an edit) keeps them: partial results, then resume."""
    at = app("toy", samples=6, timesteps=5)
    set_param(at, "toy", 1, "noise", 3.0)
    model, settings = get_model("toy"), Settings(6, 5, 0, True)
    scenarios = [Scenario("A", model.schema.defaults()), Scenario("B", {**model.schema.defaults(), "noise": 3.0})]
    specs = scenario_specs(model, scenarios, settings)
    folder = runs.run_folder("test-session", "toy:run_scenarios")
    runs.discard(folder)
    runs.run_all(specs[:1], folder=folder)  # scenario A finished; B never started
    runs.cached_result.clear()
    from tokensim.experiments.app.scenarios import comparison_spec_dict

    at.session_state["_pending_runs"] = {"toy:run_scenarios": {
        "model": "toy", "data": [comparison_spec_dict(model, scenarios, settings)], "specs": [s.to_dict() for s in specs],
        "estimate": 0.0, "points": 2, "samples": 6, "names": ["A", "B"], "folder": str(folder), "total": 12, "done": 6,
        "cancelled": True}}
    at.run()
    assert not at.exception
    assert any("Run cancelled after 6 of 12 samples" in w.value for w in at.warning)
    assert any("Partial results" in w.value for w in at.warning)
    assert at.button(key="run_scenarios").disabled  # resume or discard first
    assert len(charts(at)) == 4 and any("PARTIAL RESULTS" in c.value for c in at.caption)
    at.button(key="resume:toy:run_scenarios").click().run()
    assert_clean(at)
    assert "toy:run_scenarios" not in at.session_state["_pending_runs"] and not folder.exists()
    assert difference_table(at)["n"].eq(6).all() and not any("PARTIAL" in c.value for c in at.caption)


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


def test_sweep_one_then_two_parameters_with_tradeoff_and_heatmap(downloads):
    at = app("toy", samples=3, timesteps=5, page=SWEEP)
    at.multiselect(key="toy:sweep_params:mechanism").set_value(["emission"]).run()
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

    at.multiselect(key="toy:sweep_params:population").set_value(["n_agents"]).run()
    at.number_input(key="toy:sweep:n_agents:start").set_value(5)
    at.number_input(key="toy:sweep:n_agents:stop").set_value(20)
    at.number_input(key="toy:sweep:n_agents:num").set_value(2).run()
    at.button(key="run_sweep").click().run()
    assert_clean(at)
    assert at.success[0].value.startswith("Ran 6 parameter points")
    heatmap = charts(at)[0].proto.spec
    assert '"rect"' in heatmap and '"text"' in heatmap  # cells and their values


@pytest.mark.skipif("governance" not in MODELS, reason="the governance model is not available")
def test_governance_whale_share_sweep_works_out_of_the_box_and_errors_name_it():
    at = app("governance", page=SWEEP)
    at.multiselect(key="governance:sweep_params:population").set_value(["whale_share"]).run()
    assert_clean(at)  # the default range respects whale_share + attacker_share <= 0.95
    assert at.number_input(key="governance:sweep:whale_share:stop").value <= 0.9 + 1e-9
    at.number_input(key="governance:sweep:whale_share:stop").set_value(0.95).run()
    assert not at.exception
    assert at.error[0].value.startswith("sweep of 'whale_share': whale_share = 0.95 is not allowed together with "
                                        "attacker_share = 0.05")
    at.multiselect(key="governance:sweep_params:population").set_value([]).run()
    at.multiselect(key="governance:sweep_params:attacker").set_value(["identity_cost"]).run()
    ic = "governance:sweep:identity_cost"
    assert (at.number_input(key=f"{ic}:start").value, at.number_input(key=f"{ic}:stop").value) == (1.0, 100_000.0)
    assert at.checkbox(key=f"{ic}:log").value


def test_sessions_do_not_share_state():
    first, second = app("toy"), app("toy")
    set_param(first, "toy", 1, "noise", 4.0)
    first.button(key="run_scenarios").click().run()
    second.run()
    assert first.session_state["_runs"] and not second.session_state["_runs"]
    assert len(charts(first)) == 4 and not charts(second)
    assert second.slider(key="toy:s1:noise").value == get_model("toy").schema["noise"].default


def test_session_saved_and_loaded_as_one_file(downloads):
    from tokensim.experiments.app import state

    at = app("toy")
    at.text_input(key="toy:s1:name").set_value("noisy").run()
    set_param(at, "toy", 1, "noise", 2.5)
    at.button(key="run_scenarios").click().run()
    table = difference_table(at)
    at.switch_page(SESSION).run()
    assert_clean(at)
    data = downloads[next(n for n in downloads if n.startswith("tokensim-session-"))]()
    values, kept = state.read_session(data)
    assert values["toy:s1:name"] == "noisy" and values["toy:s1:noise"] == 2.5 and list(kept) == ["toy:run_scenarios"]

    fresh = app("governance" if "governance" in MODELS else "toy", page=SCENARIOS)
    fresh.session_state["_loaded"] = True
    state_values, state_runs = state.read_session(data)
    fresh.session_state["_saved_inputs"] = state_values
    for key, value in state_values.items():
        fresh.session_state[key] = value
    fresh.session_state["_runs"] = state_runs
    fresh.run()
    assert_clean(fresh)
    assert fresh.radio(key="model").value == "toy" and fresh.text_input(key="toy:s1:name").value == "noisy"
    pd.testing.assert_frame_equal(difference_table(fresh), table)
    with pytest.raises(state.SessionFileError, match="not a tokensim session file"):
        state.read_session(b"PK\x03\x04 nonsense")


def test_start_page_orients_and_opens_a_ready_comparison():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert_clean(at)
    assert at.title[0].value == "tokensim" and "simulates token-incentive" in at.markdown[0].value
    ready = [b for b in at.button if b.key and b.key.startswith("ready:")]
    assert {b.key for b in ready} >= {f"ready:{m}" for m in MODELS if m in ("governance", "labeling", "inflation")}
    if "governance" not in MODELS:
        return
    at.button(key="ready:governance").click().run()
    assert_clean(at)
    assert at.radio(key="model").value == "governance"
    assert at.expander[0].label == "About this model" and at.expander[0].proto.expanded  # open on the first visit
    from tokensim.experiments.app.ready import ready_comparison

    ready = ready_comparison(get_model("governance"))  # the first governance claim whose spec sweeps a rule
    names = [at.text_input(key=f"governance:s{i}:name").value for i in range(at.number_input(key="governance:n_scenarios").value)]
    assert names == [s.name for s in ready.scenarios] and len(names) >= 2
    assert at.number_input(key="samples").value == ready.settings.samples
    assert not at.button(key="run_scenarios").disabled
    at.run()
    assert not at.expander[0].proto.expanded  # closed on later visits


def test_sensitivity_page_runs_a_sobol_analysis_and_warns_when_unconverged():
    at = app("toy", samples=2, timesteps=4, page=SENSITIVITY)
    at.multiselect(key="toy:sens_params:mechanism").set_value(["emission"])
    at.multiselect(key="toy:sens_params:behaviour").set_value(["noise"]).run()
    at.selectbox(key="toy:sens_n").set_value(8).run()
    at.button(key="run_sensitivity").click().run()
    assert_clean(at)
    assert at.success[0].value.startswith("Ran 32 design points x 2 samples")
    table = next(d.value for d in at.dataframe if "ST" in d.value.columns)
    assert sorted(table["parameter"]) == ["emission", "noise"]
    assert len(charts(at)) == 1
    assert any("have not converged" in w.value and "base samples (now 8)" in w.value for w in at.warning)
    spec = parse_spec(tomllib.loads(next(c.value for c in at.code if "[design" in c.value)))
    assert spec.design["method"] == "sobol" and len(spec.points()) == 32


@pytest.mark.skipif("governance" not in MODELS, reason="the governance model is not available")
def test_balances_csv_is_an_upload_never_a_typed_path(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENSIM_UPLOAD_DIR", str(tmp_path / "uploads"))
    at = app("governance")
    at.multiselect(key="governance:s1:chosen:population").set_value(["balances_csv"]).run()
    assert not [t for t in at.text_input if "balances_csv" in (t.key or "")]  # no box to type a path into
    assert any(u.key == "upload:governance:s1:balances_csv" for u in at.get("file_uploader"))
    from tokensim.experiments.app.uploads import data_file
    from tokensim.mechanisms.core import get_model
    from tokensim.mechanisms.core.errors import DataFileError

    param = get_model("governance").schema["balances_csv"]
    with pytest.raises(DataFileError, match="the uploaded file: missing column 'address'"):
        data_file(param, b"not,a,balance\nx,y,z\n")
    path = Path(data_file(param, b"address,balance\na,10\nb,5\nc,1\n"))
    assert path.parent == tmp_path / "uploads" and path.read_bytes().startswith(b"address")
