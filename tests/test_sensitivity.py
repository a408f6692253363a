"""Sensitivity analysis: SALib's estimators wired to our designs recover known indices of
analytic functions, and ``tokensim sensitivity`` works end to end on a small toy run."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import tests.models.toy  # noqa: F401  (registers the toy model)
from tokensim.experiments.cli import main
from tokensim.experiments.design import Design, values_of
from tokensim.experiments.runner import run_spec
from tokensim.experiments.sensitivity import analyze, sensitivity_table
from tokensim.experiments.spec import parse_spec
from tokensim.mechanisms.core import TokensimError, get_model


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic Sobol indices of the Ishigami function on [-pi, pi]^3.

    Source: Saltelli et al. (2008), Global Sensitivity Analysis: The Primer, Wiley, section 4.5
    (also https://www.sfu.ca/~ssurjano/ishigami.html): V1 = (1 + b pi^4 / 5)^2 / 2,
    V2 = a^2 / 8, V13 = 8 b^2 pi^8 / 225, V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2.
    """
    pi4 = math.pi**4
    v1, v2, v13 = 0.5 * (1 + b * pi4 / 5) ** 2, a**2 / 8, 8 * b**2 * pi4**2 / 225
    v = a**2 / 8 + b * pi4 / 5 + b**2 * pi4**2 / 18 + 0.5
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def box(method: str, n: int, bounds: dict[str, tuple[float, float]], **extra) -> Design:
    return Design(method, n, seed=4, bounds=bounds, log={k: False for k in bounds}, **extra)


def test_sobol_recovers_ishigami_indices():
    from SALib.test_functions import Ishigami

    design = box("sobol", 1024, {f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)})
    table = analyze(Ishigami.evaluate(design.matrix()), design)
    s1, st = ishigami_indices()
    np.testing.assert_allclose(table["S1"], s1, atol=0.04)
    np.testing.assert_allclose(table["ST"], st, atol=0.04)
    assert (table["S1_conf"] > 0).all() and (table["ST_conf"] < 0.1).all()
    assert s1.round(4).tolist() == [0.3139, 0.4424, 0.0]  # the Primer's published values


def test_morris_recovers_linear_effects_exactly():
    """For y = 3 a - 2 b (c inert), each elementary effect is coefficient x range, without spread."""
    design = box("morris", 10, {"a": (0.0, 10.0), "b": (1.0, 2.0), "c": (0.0, 1.0)})
    x = design.matrix()
    table = analyze(3 * x[:, 0] - 2 * x[:, 1], design).set_index("parameter")
    np.testing.assert_allclose(table["mu_star"], [30.0, 2.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["mu"], [30.0, -2.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["sigma"], 0.0, atol=1e-9)


def test_analyze_rejects_mismatched_or_constant_outputs():
    design = box("sobol", 8, {"a": (0.0, 1.0), "b": (0.0, 1.0)})
    with pytest.raises(TokensimError, match="design of 32 points"):
        analyze(np.ones(5), design)
    with pytest.raises(TokensimError, match="same at every design point"):
        analyze(np.ones(32), design)


def test_values_of_rounds_ints_and_undoes_log():
    schema = get_model("toy").schema
    design = Design("lhs", 2, 0, {"n_agents": (1, 10), "noise": (0.1, 10.0)}, {"n_agents": False, "noise": True})
    values = values_of(design, np.array([[3.4, -1.0], [9.6, 1.0]]), schema)
    assert values == [{"n_agents": 3, "noise": 0.1}, {"n_agents": 10, "noise": 10.0}]


SOBOL_TOML = """
model = "toy"
title = "toy sensitivity"
seed = 3
samples = 2
timesteps = 15
output = "out"
[fixed]
n_agents = 6
[design]
method = "sobol"
n = 16
[design.parameters]
emission = { low = 10.0, high = 200.0 }
burn_rate = { low = 0.01, high = 0.2 }
noise = { low = 0.01, high = 5.0, log = true }
"""


def test_cli_sensitivity_end_to_end_sobol(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(SOBOL_TOML)
    assert main(["run", str(tmp_path / "s.toml"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["sensitivity", str(tmp_path / "out"), "--metric", "mean_balance", "--formats", "png"]) == 0
    out = capsys.readouterr().out
    assert "sobol sensitivity of mean_balance" in out
    table = pd.read_csv(tmp_path / "out" / "sensitivity" / "mean_balance_sobol.csv").set_index("parameter")
    assert list(table.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    # the steady-state mean balance is emission / (burn_rate * n_agents): noise only reshuffles it
    assert table.loc["noise", "ST"] < 0.01
    assert table.loc["emission", "ST"] > 0.2 and table.loc["burn_rate", "ST"] > 0.2
    assert (tmp_path / "out" / "sensitivity" / "mean_balance_sobol.png").stat().st_size > 1000


def test_sensitivity_morris_on_toy_run():
    """minted = initial + emission x timesteps: only emission matters, by (200 - 10) x 10 per range."""
    spec = parse_spec({
        "model": "toy", "seed": 2, "samples": 2, "timesteps": 10, "fixed": {"n_agents": 5},
        "design": {"method": "morris", "n": 4, "parameters": {
            "emission": {"low": 10.0, "high": 200.0}, "burn_rate": {"low": 0.0, "high": 0.5}}},
    })
    result = run_spec(spec)
    table = sensitivity_table(result.frame, result.provenance, "minted").set_index("parameter")
    from_outcomes = sensitivity_table(result.outcomes, result.provenance, "minted").set_index("parameter")
    pd.testing.assert_frame_equal(from_outcomes, table)
    assert table.loc["emission", "mu_star"] == pytest.approx(1900.0, rel=0.05)
    assert table.loc["burn_rate", "mu_star"] < 0.05 * 1900.0
    with pytest.raises(TokensimError, match="metric 'nope'"):
        sensitivity_table(result.frame, result.provenance, "nope")


def test_sensitivity_needs_a_sobol_or_morris_design(tmp_path, capsys):
    grid = parse_spec({"model": "toy", "samples": 1, "timesteps": 2, "sweep": {"noise": [1.0, 2.0]}})
    run_spec(grid, output=tmp_path / "grid")
    assert main(["sensitivity", str(tmp_path / "grid")]) == 2
    assert "needs a [design]" in capsys.readouterr().err
    lhs = parse_spec({"model": "toy", "samples": 1, "timesteps": 2,
                      "design": {"method": "lhs", "n": 4, "parameters": {"noise": {"low": 0.1, "high": 1.0}}}})
    result = run_spec(lhs)
    with pytest.raises(TokensimError, match="lhs design supports no sensitivity"):
        sensitivity_table(result.frame, result.provenance, "supply")
