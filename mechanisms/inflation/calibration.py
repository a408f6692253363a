"""Published figures the inflation model is calibrated against (data/inflation_*.csv).

- :data:`AI_AGENT_CRASH`: the crash scenario fitted to the AI-agent token index
  (``data/inflation_ai_agent_index.csv``, series ``ai_agents``): from its peak (2025-01-15,
  20.2 bn USD) the index fell 67.7% in 26 days (2025-02-10) and stood 70-78% below peak 67 days
  after it (2025-03-23; 70% from Milk Road's own 15 bn peak, 78% from the 20.2 bn peak of another
  tracker). A linear demand fall of 62% over 31 days, with no recovery inside the window,
  reproduces both drawdowns of the model's price under the fixed rule (fitted on a grid of depth
  0.45-0.70 and duration 20-50 days; tests/test_inflation_calibration.py checks the tolerance).
- :func:`cosmos_hub`: the Cosmos Hub's bonded ratio and inflation (``data/inflation_cosmos_hub.csv``),
  used to check the Cosmos rule against the Hub's own published projection.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "data"

AI_AGENT_CRASH = {"scenario": "crash", "shock_depth": 0.62, "shock_duration": 31, "shock_recovery": 0.0}
AI_AGENT_PEAK = "2025-01-15"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, comment="#", parse_dates=["date"])


def cosmos_hub() -> pd.DataFrame:
    """Rows of the Cosmos Hub table: date, bonded_ratio, inflation, the x/mint bounds and goal."""
    return _read("inflation_cosmos_hub.csv")


def ai_agent_drawdowns() -> pd.Series:
    """The AI-agent index's drawdown from its peak, indexed by days since the peak (after it only)."""
    index = _read("inflation_ai_agent_index.csv")
    agents = index[index.series == "ai_agents"].set_index("date")["market_cap_busd"]
    peak = agents.loc[AI_AGENT_PEAK]
    after = agents[agents.index > AI_AGENT_PEAK]
    return pd.Series(1.0 - after.to_numpy() / peak, index=(after.index - pd.Timestamp(AI_AGENT_PEAK)).days)
