"""Calibration of the inflation model against published figures (data/inflation_*.csv).

Sources are in the CSV headers and data/README.md: the AI-agent token index (CoinGecko via PANews,
SuperEx, Milk Road) and the Cosmos Hub's bonded ratio and inflation (Figment; the text of Cosmos
Hub proposal 848; the Cosmos forum).
"""
from __future__ import annotations

import numpy as np
import pytest

from tokensim.mechanisms.core import get_model
from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches
from tokensim.mechanisms.inflation.calibration import AI_AGENT_CRASH, ai_agent_drawdowns, cosmos_hub
from tokensim.mechanisms.inflation.controllers import cosmos_next_rate

MODEL = get_model("inflation")
TOLERANCE = 0.05  # absolute, in drawdown (share of the pre-crash price)


def test_index_drawdowns_are_read_from_the_data_file():
    drawdowns = ai_agent_drawdowns()
    assert drawdowns.loc[26] == pytest.approx(1 - 6.52 / 20.2)
    assert drawdowns.loc[67] == pytest.approx(1 - 4.5 / 20.2)


def test_calibrated_crash_reproduces_the_ai_agent_index_drawdown():
    # The model's mean price under the fixed rule, 26 and 67 days after the crash starts, against
    # the index: 67.7% at 26 days (same tracker at both ends), and 70% (Milk Road's own peak) to
    # 78% (the other tracker's peak) at 67 days, whose midpoint 74% is the target.
    shock = 30
    p = MODEL.schema.resolve({**AI_AGENT_CRASH, "policy": "fixed", "shock_day": shock})
    frame = run_batches(MODEL, [Batch(tuple(Row(0, p, s) for s in range(12)))], shock + 70, 11)
    price = frame.pivot(index="timestep", columns="sample", values="price")
    model = {days: float(1 - (price.loc[shock + days] / price.loc[shock]).mean()) for days in (26, 67)}
    index = ai_agent_drawdowns()
    assert model[26] == pytest.approx(index.loc[26], abs=TOLERANCE)
    assert model[67] == pytest.approx((0.70 + index.loc[67]) / 2, abs=TOLERANCE)


def test_cosmos_rule_reproduces_the_hubs_published_projection():
    # Proposal 848 (Nov 2023): bonded 65.7% against a 66% goal with inflation_rate_change 1 moves
    # inflation "+0.45% per year ... from 14.24% to 14.69% in 12 months".
    row = cosmos_hub().set_index("source").loc["cosmoshub-prop-848"]
    rate = np.array([row.inflation])
    for _ in range(365):
        rate = cosmos_next_rate(rate, np.array([row.bonded_ratio]), row.goal_bonded, 1.0, row.inflation_min,
                                row.inflation_max, 365)
    assert rate[0] - row.inflation == pytest.approx(row.rate_change_per_year, abs=1e-4)
    assert rate[0] == pytest.approx(0.1469, abs=1e-4)


def test_hub_rows_sit_where_the_rule_drives_them():
    # Below goal the rule raises inflation toward its cap; above goal it lowers it toward the floor.
    for row in cosmos_hub().itertuples():
        step = cosmos_next_rate(np.array([row.inflation]), np.array([row.bonded_ratio]), row.goal_bonded, 0.13,
                                row.inflation_min, row.inflation_max, 365)[0] - row.inflation
        assert np.sign(step) in (0.0, np.sign(row.goal_bonded - row.bonded_ratio))
        assert row.inflation_min <= row.inflation <= row.inflation_max
    below_goal = cosmos_hub().query("bonded_ratio < goal_bonded")
    assert (below_goal.inflation >= below_goal.inflation_max * 0.7).all()  # near the cap when under goal
