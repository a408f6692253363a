"""Parameter schema: every bad value raises one error naming parameter, value and allowed range."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensim.mechanisms.core import Param, ParameterError, Schema, require
from tokensim.mechanisms.core.params import params_from_pairs

SCHEMA = Schema(
    (
        Param("rate", 0.5, "a share", low=0.0, high=1.0, unit="share"),
        Param("count", 3, "a count", kind="int", low=1, high=10, structural=True),
        Param("rule", "a", "a rule", kind="choice", choices=("a", "b")),
        Param("flag", False, "a flag", kind="bool"),
        Param("path", "", "a file", kind="text"),
    ),
    checks=(lambda p: require(p["count"] > 1 or p["rule"] == "a", "count", p["count"], "> 1 when rule is 'b'"),),
)


def test_defaults_resolve_and_structural_flags():
    assert SCHEMA.resolve() == {"rate": 0.5, "count": 3, "rule": "a", "flag": False, "path": ""}
    assert SCHEMA.structural == ["count", "rule", "flag", "path"]


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"rate": 1.5}, "parameter 'rate' = 1.5 is not allowed (out of range); allowed: a number in [0, 1] (share)"),
        ({"rate": "x"}, "parameter 'rate' = 'x'"),
        ({"rate": float("nan")}, "not finite"),
        ({"count": 2.5}, "parameter 'count' = 2.5 is not allowed (not an integer); allowed: an integer in [1, 10]"),
        ({"count": 0}, "allowed: an integer in [1, 10]"),
        ({"rule": "c"}, "allowed: one of 'a', 'b'"),
        ({"flag": 1}, "allowed: true or false"),
        ({"nope": 1}, "parameter 'nope' = 1 is not allowed (unknown parameter); allowed: one of rate, count"),
        ({"count": 1, "rule": "b"}, "parameter 'count' = 1 is not allowed; allowed: > 1 when rule is 'b'"),
    ],
)
def test_bad_values_name_parameter_value_and_range(values, fragment):
    with pytest.raises(ParameterError) as info:
        SCHEMA.resolve(values)
    assert fragment in str(info.value)


def test_cli_pairs_are_parsed_by_kind():
    assert params_from_pairs(SCHEMA, ["rate=0.25", "count=4", "rule=b", "flag=yes"]) == {
        "rate": 0.25, "count": 4, "rule": "b", "flag": True,
    }
    with pytest.raises(ParameterError, match="expected name=value"):
        params_from_pairs(SCHEMA, ["rate"])


@settings(max_examples=50, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numeric_validation_accepts_exactly_the_range(x):
    if 0.0 <= x <= 1.0:
        assert SCHEMA["rate"].validate(x) == x
    else:
        with pytest.raises(ParameterError):
            SCHEMA["rate"].validate(x)


def test_a_bad_default_is_a_programming_error():
    with pytest.raises(ParameterError):
        Param("x", 5.0, "bad default", low=0.0, high=1.0)
