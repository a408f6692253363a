"""The mechanism contract, run over every registered model: built-ins, the toy model and plugins.

One test per (model, check); a failure lists each problem as a sentence saying what to fix. The
checks themselves live in :mod:`tokensim.mechanisms.core.contract` (a plugin author runs them with
``check_model``); ``test_checks.py`` proves each check catches the defect it is named for.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokensim.mechanisms.core import get_model, model_names
from tokensim.mechanisms.core.contract import CHECKS, check_invariants

@pytest.mark.parametrize(("name", "check"), [pytest.param(n, c, id=f"{n}-{c}") for n in model_names() for c in CHECKS])
def test_contract(name, check):
    problems = CHECKS[check](get_model(name))
    assert not problems, f"{len(problems)} contract problem(s) in '{check}':\n" + "\n".join(problems)


def _with_invariants():
    return [name for name in model_names() if get_model(name).invariants is not None]


@pytest.mark.parametrize("name", _with_invariants())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_invariants_hold_over_the_plausible_ranges(name, data):
    """Conservation at every timestep for parameters drawn from their plausible ranges (hypothesis)."""
    model = get_model(name)
    drawn = {}
    for p in model.schema:
        if p.plausible is not None and not p.structural:
            lo, hi = p.plausible
            drawn[p.name] = data.draw(st.integers(lo, hi) if p.kind == "int" else
                                      st.floats(lo, hi, allow_nan=False), label=p.name)
    point = model.schema.resolve(drawn)
    problems = check_invariants(model, [(f"drawn {drawn}", point)])
    assert not problems, "\n".join(problems)
