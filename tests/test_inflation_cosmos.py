"""The Cosmos-style feedback rule against the Cosmos SDK x/mint formula and its own worked numbers.

Source: Cosmos SDK x/mint, "NextInflationRate",
https://docs.cosmos.network/v0.47/build/modules/mint (and cosmos-sdk x/mint/types/minter.go):
    inflationRateChangePerYear = (1 - bondedRatio / GoalBonded) * InflationRateChange
    inflation += inflationRateChangePerYear / BlocksPerYear, clipped to [InflationMin, InflationMax]
with default parameters InflationRateChange 0.13, InflationMax 0.20, InflationMin 0.07,
GoalBonded 0.67, BlocksPerYear 6311520. The cases below are those of the SDK's own
TestNextInflation (x/mint/types/minter_test.go).
"""
from __future__ import annotations

import numpy as np
import pytest

from tokensim.mechanisms.inflation.controllers import cosmos_next_rate

RATE_CHANGE, INFL_MAX, INFL_MIN, GOAL, BLOCKS = 0.13, 0.20, 0.07, 0.67, 6_311_520


@pytest.mark.parametrize(
    "bonded, inflation, expected_change",
    [
        (0.0, 0.07, 0.13 / BLOCKS),                          # 0% bonded: +InflationRateChange per year
        (1.0, 0.20, (1 - 1 / 0.67) * 0.13 / BLOCKS),         # 100% bonded from 20%: decreasing
        (0.5, 0.10, (1 - 0.5 / 0.67) * 0.13 / BLOCKS),       # 50% bonded from 10%: increasing
        (1.0, 0.07, 0.0),                                    # 7% floor holds
        (1.0, 0.0700000001, -1e-10),                         # ...and clips a step that would cross it
        (0.0, 0.20, 0.0),                                    # 20% cap holds
        (0.0, 0.1999999999, 1e-10),                          # ...and clips at it
        (0.67, 0.15, 0.0),                                   # on goal: no change
    ],
)
def test_sdk_worked_cases(bonded, inflation, expected_change):
    new = cosmos_next_rate(np.array([inflation]), np.array([bonded]), GOAL, RATE_CHANGE, INFL_MIN, INFL_MAX, BLOCKS)
    assert new[0] - inflation == pytest.approx(expected_change, abs=1e-15)


def test_worked_number_half_bonded():
    # (1 - 0.5 / 0.67) * 0.13 = 0.0329850746... per year; per block / 6311520 = 5.2261697...e-9
    per_year = (1 - 0.5 / 0.67) * 0.13
    assert per_year == pytest.approx(0.032985074626865, rel=1e-12)
    new = cosmos_next_rate(np.array([0.10]), np.array([0.5]), GOAL, RATE_CHANGE, INFL_MIN, INFL_MAX, BLOCKS)
    assert new[0] == pytest.approx(0.10 + 5.2261697e-9, abs=1e-14)


def test_daily_steps_for_a_year_add_the_annual_change():
    # In the model a step is a day: 365 steps at a constant ratio add the annual change.
    rate = np.array([0.10])
    for _ in range(365):
        rate = cosmos_next_rate(rate, np.array([0.5]), GOAL, RATE_CHANGE, INFL_MIN, INFL_MAX, 365)
    assert rate[0] == pytest.approx(0.10 + 0.032985074626865, rel=1e-9)
