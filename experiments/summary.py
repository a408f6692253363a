"""Outcome tables: reduce each sample's time series to one number per metric, then summarise
across samples per parameter point with a mean and a 95% confidence interval."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from tokensim.mechanisms.core import Model, get_model

from .stats import grouped_intervals


def sample_outcomes(frame: pd.DataFrame, model: Model, swept: Sequence[str]) -> pd.DataFrame:
    """One row per (point, sample): swept parameters and each metric reduced by its ``summary``."""
    metrics = [c for c in frame.columns if c in model.metric_names]
    keys = ["point_id", *swept, "sample"]
    grouped = frame.sort_values("timestep", kind="stable").groupby(keys, sort=True, dropna=False)
    return grouped.agg({m: model.metric(m).summary for m in metrics}).reset_index()


def outcomes(frame: pd.DataFrame, provenance: Mapping[str, Any]) -> pd.DataFrame:
    """:func:`sample_outcomes` for a result set described by ``provenance``."""
    return sample_outcomes(frame, get_model(provenance["model"]), provenance["swept"])


def summary_table(per_sample: pd.DataFrame, swept: Sequence[str], model: Model | None = None) -> pd.DataFrame:
    """Per parameter point and metric: mean, standard deviation, 95% t interval of the mean, n.

    With ``model``, intervals of bounded metrics (shares) are clipped to the metric's bounds.
    """
    metrics = [c for c in per_sample.columns if c not in ("point_id", "sample", *swept)]
    parts = []
    for m in metrics:
        bounds = model.metric(m).bounds if model is not None and m in model.metric_names else None
        part = grouped_intervals(per_sample, ["point_id", *swept], m, bounds=bounds)
        part.insert(len(swept) + 1, "metric", m)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return table.rename(columns={"low": "ci95_low", "high": "ci95_high"})
