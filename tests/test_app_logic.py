"""The app's logic without a browser: cost limit, cache, scenarios and their differences with
confidence intervals, sweeps as specs, exports identical to ``tokensim plot``, claims."""
from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tokensim.experiments import budget
from tokensim.experiments.app import claims, runs
from tokensim.experiments.app.export import figure_bytes, parquet_bytes, spec_toml
from tokensim.experiments.app.models import available_models
from tokensim.experiments.app.scenarios import Scenario, Settings, combine, differences, scenario_specs
from tokensim.experiments.stats import paired_difference as _paired, welch_difference as _welch
from tokensim.experiments.app.sweeps import numeric_axis, sweep_spec_dict
from tokensim.experiments.cli import main as cli_main
from tokensim.experiments.figures import figure
from tokensim.experiments.spec import parse_spec
from tokensim.experiments.storage import read_results
from tokensim.mechanisms.core import TokensimError, get_model
from tokensim.mechanisms.core.model import _BUILTIN
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
    from tokensim.experiments.runner import run_spec

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


def test_claim_experiment_and_its_results(tmp_path):
    from tokensim.experiments.runner import run_spec

    claim = write_claim_repo(tmp_path)
    exp = claims.experiment_of(claim, tmp_path)
    assert exp.spec is not None and not exp.has_results
    assert exp.results == (tmp_path / "results" / "toy_claim").resolve()
    run_spec(exp.spec, output=exp.results)
    assert exp.has_results


def test_missing_claim_spec_is_reported(tmp_path):
    exp = claims.experiment_of({"experiment": "experiments/specs/nope.toml"}, tmp_path)
    assert exp.spec is None and "not written yet" in exp.error


def test_repository_claims_load():
    assert len(claims.load_claims()) >= 8


def test_small_chunks_keep_repeated_design_points_apart():
    """A Morris design repeats points; the app's small chunks must still give every point its runs."""
    from tokensim.experiments.runner import run_spec

    spec = parse_spec({"model": "toy", "seed": 0, "samples": 2, "timesteps": 3, "design": {
        "method": "morris", "n": 10, "num_levels": 4,
        "parameters": {"emission": {"low": 0.0, "high": 200.0}, "noise": {"low": 0.0, "high": 2.0}}}})
    assert len({json.dumps(p, sort_keys=True) for p in spec.points()}) < len(spec.points())
    app = runs.run_cached(spec).frame
    pd.testing.assert_frame_equal(app, run_spec(spec).frame)


def test_estimate_counts_the_app_chunks_and_uses_the_calibration(monkeypatch):
    spec = parse_spec({"model": "toy", "samples": 10, "timesteps": 7, "sweep": {"n_agents": [10, 20], "noise": [1.0, 2.0]}})
    monkeypatch.setattr(budget, "calibration", lambda: {"toy": {"a": 0.5, "b": 0.01, "k": 2.0}})
    chunked = runs.app_chunked(spec)
    from tokensim.experiments.runner import plan_chunks

    chunks = plan_chunks(chunked, chunked.points())
    work = sum(TOY.cost(p) for p in spec.points()) * 10
    assert runs.estimate_cost(spec) == pytest.approx(len(chunks) * (0.5 + 7 * 0.01) + 7 * 2.0 * work)


def test_partial_result_holds_the_finished_chunks_marked_partial(tmp_path, monkeypatch):
    """An interrupted run keeps its finished chunks: they are read back as a partial result, and a
    resumed run reuses them and gives the numbers of an uninterrupted run."""
    monkeypatch.setattr(runs, "RUNS_ROOT", tmp_path)
    spec = parse_spec({"model": "toy", "seed": 3, "samples": 10, "timesteps": 4, "sweep": {"noise": [0.5, 2.0]}})
    folder = runs.run_folder("s", "k")
    calls = []

    class Stop(Exception):
        pass

    def stop_after_three(done, total):
        calls.append(done)
        if len(calls) == 4:  # the first call comes before any chunk
            raise Stop

    runs.cached_result.clear()
    with pytest.raises(Stop):
        runs.run_cached(spec, progress=stop_after_three, folder=folder)
    partial = runs.partial_result(spec, folder)
    assert partial.partial and partial.done == calls[-1] < partial.total == 20
    assert partial.provenance["partial"] == f"{partial.done} of 20 samples finished"
    full = runs.run_cached(spec, folder=folder).frame
    from tokensim.experiments.runner import run_spec

    pd.testing.assert_frame_equal(full, run_spec(spec).frame)
    rows = partial.frame.merge(full, on=["point_id", "sample", "timestep"], suffixes=("", "_full"))
    assert len(rows) == len(partial.frame) and (rows["supply"] == rows["supply_full"]).all()
    runs.discard(folder)
    assert not folder.exists()


def test_default_ranges_respect_scale_and_cross_checks():
    from tokensim.experiments.app.sweeps import check_values, default_range

    gov = get_model("governance")
    base = gov.schema.defaults()
    low, high, log = default_range(gov.schema["whale_share"], gov, base)
    assert low == 0.0 and 0.85 <= high < 0.9 and not log  # whale_share + attacker_share (0.05) <= 0.95
    assert default_range(gov.schema["identity_cost"], gov, base) == (1.0, 100_000.0, True)
    for value in np.linspace(low, high, 7):
        gov.schema.resolve({**base, "whale_share": float(value)})
    with pytest.raises(TokensimError) as info:
        check_values(gov, base, "whale_share", [0.5, 0.95], "A", "sweep")
    message = str(info.value)
    assert message.startswith("sweep of 'whale_share': whale_share = 0.95 is not allowed together with attacker_share")
    assert f"can range over [0, {high:g}]" in message


def test_sobol_warning_when_first_order_exceeds_total_or_intervals_are_wide():
    from tokensim.experiments.app.sweeps import sobol_warning

    good = pd.DataFrame({"parameter": ["a", "b"], "S1": [0.5, 0.3], "S1_conf": [0.03, 0.04], "ST": [0.6, 0.35],
                         "ST_conf": [0.04, 0.05]})
    assert sobol_warning(good, 256) is None
    bad = pd.DataFrame({"parameter": ["a", "b"], "S1": [0.7, 0.1], "S1_conf": [0.5, 0.2], "ST": [0.4, 0.2],
                        "ST_conf": [0.3, 0.2]})
    message = sobol_warning(bad, 16)
    assert "S1 exceeds total index ST for a" in message and "+/-0.50" in message
    assert "at least 2048 base samples (now 16)" in message  # 16 x (0.5 / 0.05)^2 = 1600 -> 2048


def test_comparison_spec_errors_name_the_key():
    from tokensim.experiments.comparison import parse_comparison
    from tokensim.mechanisms.core import SpecError

    base = {"model": "toy", "samples": 2, "timesteps": 3}
    with pytest.raises(SpecError, match="at least two named scenarios"):
        parse_comparison({**base, "scenarios": {"A": {}}}, "c.toml")
    with pytest.raises(SpecError, match=r"c.toml: key 'scenarios.B': .*burn_rate"):
        parse_comparison({**base, "scenarios": {"A": {}, "B": {"burn_rate": 2.0}}}, "c.toml")
    with pytest.raises(SpecError, match="'baseline': 'C' is not one of the scenarios A, B"):
        parse_comparison({**base, "baseline": "C", "scenarios": {"A": {}, "B": {}}}, "c.toml")


def test_citation_keys_differ_per_figure_and_carry_the_repository_url_only_when_there_is_one():
    from tokensim.experiments.figures import bibtex

    frame, prov = run_scenarios(toy_scenarios(noise=2.0))
    ts = figure(frame, prov, "supply", kind="timeseries", color="scenario")
    dist = figure(frame, prov, "supply", kind="distribution", color="scenario")
    keys = {bibtex(prov, "supply", c).splitlines()[0] for c in (ts, dist)}
    assert len(keys) == 2 and all(k.startswith("@software{tokensim_toy_supply_") for k in keys)
    assert bibtex(prov, "supply", ts) == bibtex(prov, "supply", figure(frame, prov, "supply", kind="timeseries", color="scenario"))
    assert "url = " not in bibtex({**prov, "repository": ""}, "supply", ts)  # never a guessed address
    entry = bibtex({**prov, "repository": "https://example.org/tokensim"}, "supply", ts)
    assert "url = {https://example.org/tokensim}" in entry and f"commit {prov['git_commit']}" in entry


def test_a_git_remote_is_cited_only_as_a_public_web_address():
    from tokensim.experiments.provenance import public_address

    assert public_address("https://github.com/o/r.git") == "https://github.com/o/r"
    assert public_address("https://user:token@github.com/o/r") == "https://github.com/o/r"  # no credentials
    assert public_address("git@github.com:o/r.git") == "https://github.com/o/r"
    assert public_address("ssh://git@gitlab.com:22/g/r.git") == "https://gitlab.com/g/r"
    assert public_address("http://example.org/r") == "http://example.org/r"
    # a clone of a folder (as CI makes) has a path for its remote: no address, never a path on a disk
    assert [public_address(r) for r in ("/work/main", "file:///work/main", "../main", "")] == ["", "", "", ""]


def test_charts_colour_lines_in_scenario_order_with_a_colour_blind_safe_palette_and_time_units():
    from tokensim.experiments.figures import PALETTE

    names = ["zeta", "alpha", "mid", "b4", "c5", "d6"]
    defaults = TOY.schema.defaults()
    scenarios = [Scenario(n, {**defaults, "noise": 0.5 + i}) for i, n in enumerate(names)]
    frame, prov = run_scenarios(scenarios, Settings(samples=2, timesteps=3, seed=0))
    spec = figure(frame, prov, "supply", kind="timeseries", color="scenario").to_dict()
    band, line = spec["layer"]
    assert line["encoding"]["color"]["scale"] == {"domain": names, "range": list(PALETTE[:6])}
    assert "legend" in line["encoding"]["color"] and band["encoding"]["fill"]["legend"] is None
    assert spec["resolve"]["legend"] == {"fill": "independent", "color": "independent"}
    assert line["encoding"]["x"]["title"] == "timestep"
    gov = get_model("governance")
    assert (gov.time_unit, get_model("labeling").time_unit, get_model("inflation").time_unit) == ("proposal", "epoch", "day")
