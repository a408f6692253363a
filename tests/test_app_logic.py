"""The app's logic without a browser: cost limit, cache, scenarios and their differences with
confidence intervals, sweeps as specs, exports identical to ``tokensim plot``, claims."""
from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.app import claims, runs
from experiments.app.export import figure_bytes, parquet_bytes, spec_toml
from experiments.app.models import available_models
from experiments.app.scenarios import Scenario, Settings, combine, differences, scenario_specs
from experiments.stats import paired_difference as _paired, welch_difference as _welch
from experiments.app.sweeps import numeric_axis, sweep_spec_dict
from experiments.cli import main as cli_main
from experiments.figures import figure
from experiments.spec import parse_spec
from experiments.storage import read_results
from mechanisms.core import TokensimError, get_model
from mechanisms.core.model import _BUILTIN
from tests.app_support import write_claim_repo

TOY = get_model("toy")
SMALL = Settings(samples=4, timesteps=6, seed=5)


def toy_scenarios(**b_values) -> list[Scenario]:
    defaults = TOY.schema.defaults()
    return [Scenario("A", defaults), Scenario("B", {**defaults, **b_values})]


def run_scenarios(scenarios, settings=SMALL):
    specs = scenario_specs(TOY, scenarios, settings)
    results = runs.run_all(specs)
    return combine([s.name for s in scenarios], [r.frame for r in results], [r.provenance for r in results])


def test_cost_is_model_cost_times_timesteps_samples_points():
    spec = parse_spec({"model": "toy", "samples": 3, "timesteps": 7, "fixed": {"n_agents": 40},
                       "sweep": {"emission": [1.0, 2.0]}})
    expected = get_model("toy").cost(spec.points()[0]) * 7 * 3 * 2
    assert runs.estimate_cost(spec) == pytest.approx(expected)
    assert runs.check_cost([spec], limit=expected * 1.001) == pytest.approx(expected)


def test_cost_limit_says_what_to_reduce():
    spec = parse_spec({"model": "toy", "samples": 100, "timesteps": 50, "fixed": {"n_agents": 1000}})
    with pytest.raises(runs.CostLimitError) as info:
        runs.check_cost([spec], limit=runs.estimate_cost(spec) / 5)
    message = str(info.value)
    assert "samples from 100 to at most 20" in message and "timesteps from 50 to at most 10" in message
    assert "tokensim run" in message


def test_cache_returns_the_same_numbers_and_reports_the_hit():
    spec = parse_spec({"model": "toy", "seed": 11, "samples": 3, "timesteps": 5})
    first = runs.run_cached(spec)
    second = runs.run_cached(parse_spec({**spec.to_dict(), "title": "renamed"}))
    assert not first.from_cache and second.from_cache
    pd.testing.assert_frame_equal(first.frame, second.frame)
    changed = runs.run_cached(parse_spec({**spec.to_dict(), "seed": 12}))
    assert not changed.from_cache


def test_app_chunking_gives_the_cli_numbers():
    """The app cuts runs into small chunks for progress; the numbers must not change."""
    from experiments.runner import run_spec

    spec = parse_spec({"model": "toy", "seed": 2, "samples": 6, "timesteps": 5, "sweep": {"noise": [0.5, 2.0]}})
    app = runs.run_cached(spec).frame
    cli = run_spec(spec).frame
    pd.testing.assert_frame_equal(app, cli)


def test_progress_runs_to_one():
    seen = []
    specs = scenario_specs(TOY, toy_scenarios(noise=2.0), Settings(samples=5, timesteps=4, seed=99))
    runs.run_all(specs, progress=lambda fraction, text: seen.append(fraction))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 3


def test_scenario_names_and_values_are_validated():
    with pytest.raises(TokensimError, match="names must differ"):
        scenario_specs(TOY, [Scenario("A", {}), Scenario("A", {})], SMALL)
    with pytest.raises(TokensimError, match="burn_rate"):
        scenario_specs(TOY, toy_scenarios(burn_rate=1.5), SMALL)


def test_combined_result_set_is_plotted_identically_by_the_cli(tmp_path):
    frame, prov = run_scenarios(toy_scenarios(noise=3.0, emission=50.0))
    assert list(frame["scenario"].unique()) == ["A", "B"]
    assert prov["scenarios"] == {"A": {}, "B": {"emission": 50.0, "noise": 3.0}}
    path = tmp_path / "comparison.parquet"
    path.write_bytes(parquet_bytes(frame, prov))
    stored, stored_prov = read_results(path)
    assert stored_prov["swept"] == ["scenario"]
    for kind, fmt in (("timeseries", "svg"), ("distribution", "png")):
        app_bytes = figure_bytes(figure(frame, prov, "supply", kind=kind, color="scenario"), fmt)
        stem = tmp_path / kind
        assert cli_main(["plot", str(path), "--metric", "supply", "--kind", kind, "--color", "scenario",
                         "--formats", fmt, "--out", str(stem)]) == 0
        assert stem.with_suffix(f".{fmt}").read_bytes() == app_bytes
    assert "scenario B: emission=50.0, noise=3.0" in stem.with_suffix(".png").parent.joinpath("timeseries.svg").read_text()


def test_png_export_is_a_real_png():
    frame, prov = run_scenarios(toy_scenarios(noise=2.0))
    data = figure_bytes(figure(frame, prov, "mean_balance", kind="timeseries", color="scenario"), "png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_paired_differences_match_a_one_sample_t_interval():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=12), rng.normal(0.5, 1.0, size=12)
    diff, low, high = _paired(a, b)
    ci = stats.ttest_1samp(b - a, 0.0).confidence_interval(0.95)
    assert diff == pytest.approx(np.mean(b - a)) and (low, high) == pytest.approx((ci.low, ci.high))


def test_welch_differences_match_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=9), rng.normal(1.0, 3.0, size=14)
    diff, low, high = _welch(a, b)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean()) and (low, high) == pytest.approx((ci.low, ci.high))


def test_difference_table_reads_direction_only_when_the_interval_excludes_zero():
    frame, prov = run_scenarios(toy_scenarios(emission=200.0), Settings(samples=6, timesteps=6, seed=1))
    table = differences(frame, prov, TOY, "A", paired=True).set_index("metric")
    assert set(table.index) == set(TOY.metric_names)
    minted = table.loc["minted"]
    assert minted["difference"] == pytest.approx(6 * 100.0)  # 100 more tokens minted on each of 6 steps
    assert minted["reading"] == "no clear difference" or minted["ci95 low"] > 0
    assert table.loc["supply", "reading"].startswith("higher")


def test_int_sweep_axis_has_distinct_integer_values():
    axis = numeric_axis(TOY.schema["n_agents"], 1, 4, 7, log=False)
    assert axis.values == (1, 2, 3, 4)
    with pytest.raises(TokensimError, match="below stop"):
        numeric_axis(TOY.schema["noise"], 2.0, 1.0, 3, log=False)


def test_sweep_spec_round_trips_through_toml():
    base = {**TOY.schema.defaults(), "n_agents": 30}
    axes = [numeric_axis(TOY.schema["emission"], 10.0, 1000.0, 3, log=True), numeric_axis(TOY.schema["n_agents"], 10, 30, 3, False)]
    spec = parse_spec(sweep_spec_dict(TOY, base, axes, SMALL, "A"))
    assert spec.fixed == {} and spec.sweep["n_agents"] == [10, 20, 30]
    text = spec_toml(spec.to_dict(), "sweep.toml")
    assert text.startswith("# Reproduce with: tokensim run sweep.toml")
    again = parse_spec(tomllib.loads(text))
    assert again.points() == spec.points() and again.seed == spec.seed


def test_a_broken_builtin_model_is_skipped_not_fatal(monkeypatch):
    monkeypatch.setitem(_BUILTIN, "broken", "tests.no_such_module_for_app_test")
    models, skipped = available_models()
    assert "toy" in models and "broken" in skipped and "ModuleNotFoundError" in skipped["broken"]


def test_claim_experiment_results_and_table(tmp_path):
    from experiments.runner import run_spec

    claim = write_claim_repo(tmp_path)
    exp = claims.experiment_of(claim, tmp_path)
    assert exp.spec is not None and not exp.has_results
    assert exp.results == (tmp_path / "results" / "toy_claim").resolve()
    run_spec(exp.spec, output=exp.results)
    assert exp.has_results
    frame, prov = read_results(exp.results)
    assert claims.stale_keys(prov, exp.spec) == []
    assert claims.stale_keys(prov, parse_spec({**exp.spec.to_dict(), "seed": 2})) == ["seed"]
    present, missing = claims.claim_metrics(claim, frame)
    assert present == ["supply"] and missing == ["minted"]
    table = claims.claim_table(frame, prov, present)
    assert list(table.columns) == ["burn_rate", "supply"] and len(table) == 2


def test_missing_claim_spec_is_reported(tmp_path):
    exp = claims.experiment_of({"experiment": "experiments/specs/nope.toml"}, tmp_path)
    assert exp.spec is None and "not written yet" in exp.error


def test_repository_claims_load():
    assert len(claims.load_claims()) >= 8


def test_small_chunks_keep_repeated_design_points_apart():
    """A Morris design repeats points; the app's small chunks must still give every point its runs."""
    from experiments.runner import run_spec

    spec = parse_spec({"model": "toy", "seed": 0, "samples": 2, "timesteps": 3, "design": {
        "method": "morris", "n": 10, "num_levels": 4,
        "parameters": {"emission": {"low": 0.0, "high": 200.0}, "noise": {"low": 0.0, "high": 2.0}}}})
    assert len({json.dumps(p, sort_keys=True) for p in spec.points()}) < len(spec.points())
    app = runs.run_cached(spec).frame
    pd.testing.assert_frame_equal(app, run_spec(spec).frame)
