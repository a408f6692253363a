"""Sampled designs ([design] in a spec): counts, bounds, integer rounding, determinism, and
validation errors that name the key."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tests.models.toy  # noqa: F401  (registers the toy model)
from tokensim.experiments.spec import parse_spec
from tokensim.mechanisms.core import SpecError

PARAMS = {
    "emission": {"low": 10.0, "high": 200.0},
    "n_agents": {"low": 2, "high": 30},
    "noise": {"low": 0.01, "high": 5.0, "log": True},
}


def spec(method="lhs", n=16, parameters=PARAMS, **extra):
    design = {"method": method, "n": n, "parameters": parameters, **extra}
    return parse_spec({"model": "toy", "seed": 5, "design": design})


@pytest.mark.parametrize(("method", "n", "expected"), [("lhs", 16, 16), ("sobol", 8, 8 * (3 + 2)), ("morris", 6, 6 * (3 + 1))])
def test_design_points_count_bounds_and_types(method, n, expected):
    s = spec(method, n)
    points = s.points()
    assert len(points) == expected
    assert s.swept_names() == list(PARAMS)
    for p in points:
        assert 10.0 <= p["emission"] <= 200.0 and 0.01 <= p["noise"] <= 5.0
        assert isinstance(p["n_agents"], int) and 2 <= p["n_agents"] <= 30
        assert p["burn_rate"] == 0.01  # not sampled: default


def test_sobol_second_order_doubles_the_cross_samples():
    assert len(spec("sobol", 4, second_order=True).points()) == 4 * (2 * 3 + 2)


def test_designs_are_deterministic_and_seeded():
    assert spec("sobol", 8).points() == spec("sobol", 8).points()
    assert spec("lhs", 8, seed=1).points() != spec("lhs", 8, seed=2).points()
    # the design seed defaults to the spec's seed
    assert spec("lhs", 8).points() == spec("lhs", 8, seed=5).points()


def test_lhs_puts_one_point_in_each_stratum():
    n = 20
    points = spec("lhs", n).points()
    emission = np.array([p["emission"] for p in points])
    strata = np.floor((emission - 10.0) / (190.0 / n)).astype(int)
    assert sorted(strata) == list(range(n))
    log_noise = np.log10([p["noise"] for p in points])
    lo, hi = math.log10(0.01), math.log10(5.0)
    assert sorted(np.floor((log_noise - lo) / ((hi - lo) / n)).astype(int)) == list(range(n))


def test_morris_points_lie_on_the_level_grid():
    points = spec("morris", 4, parameters={"emission": {"low": 0.0, "high": 300.0}, "burn_rate": {"low": 0.0, "high": 0.3}}).points()
    levels = {0.0, 100.0, 200.0, 300.0}  # num_levels = 4
    assert {round(p["emission"], 9) for p in points} <= levels


@pytest.mark.parametrize(
    ("design", "key", "message"),
    [
        ({"method": "grid", "n": 4, "parameters": PARAMS}, "design.method", "should be one of"),
        ({"method": "sobol", "n": 12, "parameters": PARAMS}, "design.n", "power of 2"),
        ({"method": "lhs", "n": 0, "parameters": PARAMS}, "design.n", "integer in"),
        ({"method": "lhs", "n": 4, "parameters": {}}, "design.parameters", "at least one"),
        ({"method": "sobol", "n": 4, "parameters": {"emission": {"low": 1.0, "high": 2.0}}}, "design.parameters", "at least 2"),
        ({"method": "lhs", "n": 4, "parameters": {"whatever": {"low": 0, "high": 1}}}, "design.parameters.whatever", "unknown parameter"),
        ({"method": "lhs", "n": 4, "parameters": {"burn_rate": {"low": 0.0, "high": 1.5}}}, "design.parameters.burn_rate.high", "out of range"),
        ({"method": "lhs", "n": 4, "parameters": {"burn_rate": {"low": 0.5, "high": 0.5}}}, "design.parameters.burn_rate", "below high"),
        ({"method": "lhs", "n": 4, "parameters": {"n_agents": {"low": 1.5, "high": 9}}}, "design.parameters.n_agents.low", "not an integer"),
        ({"method": "lhs", "n": 4, "parameters": {"noise": {"low": 0.0, "high": 1.0, "log": True}}}, "design.parameters.noise.low", "> 0"),
        ({"method": "lhs", "n": 4, "parameters": {"noise": {"low": 0.0, "high": 1.0, "step": 1}}}, "design.parameters.noise.step", "unknown key"),
        ({"method": "lhs", "n": 4, "parameters": PARAMS, "levels": 4}, "design.levels", "unknown key"),
        ({"method": "lhs", "n": 4, "parameters": PARAMS, "num_levels": 4}, "design.num_levels", "only applies"),
        ({"method": "morris", "n": 4, "parameters": PARAMS, "num_levels": 5}, "design.num_levels", "even"),
    ],
)
def test_invalid_designs_name_the_key(design, key, message):
    with pytest.raises(SpecError, match=message) as info:
        parse_spec({"model": "toy", "design": design}, "x.toml")
    assert info.value.key == key


def test_design_excludes_sweep_and_fixed():
    with pytest.raises(SpecError, match="either \\[sweep\\] or \\[design\\]"):
        parse_spec({"model": "toy", "sweep": {"noise": [1.0]}, "design": {"method": "lhs", "n": 2, "parameters": PARAMS}})
    with pytest.raises(SpecError, match="both fixed and sampled"):
        parse_spec({"model": "toy", "fixed": {"noise": 1.0}, "design": {"method": "lhs", "n": 2, "parameters": PARAMS}})


def test_design_survives_the_spec_round_trip():
    s = spec("morris", 3)
    again = parse_spec(s.to_dict())
    assert again.points() == s.points()
