"""Outcome tables: reduce each sample's time series to one number per metric, then summarise
across samples per parameter point with a mean and a 95% confidence interval."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mechanisms.core import Model, get_model

Z95 = 1.959963984540054


def sample_outcomes(frame: pd.DataFrame, model: Model, swept: Sequence[str]) -> pd.DataFrame:
    """One row per (point, sample): swept parameters and each metric reduced by its ``summary``."""
    metrics = [c for c in frame.columns if c in model.metric_names]
    keys = ["point_id", *swept, "sample"]
    grouped = frame.sort_values("timestep", kind="stable").groupby(keys, sort=True, dropna=False)
    return grouped.agg({m: model.metric(m).summary for m in metrics}).reset_index()


def outcomes(frame: pd.DataFrame, provenance: Mapping[str, Any]) -> pd.DataFrame:
    """:func:`sample_outcomes` for a result set described by ``provenance``."""
    return sample_outcomes(frame, get_model(provenance["model"]), provenance["swept"])


def summary_table(per_sample: pd.DataFrame, swept: Sequence[str]) -> pd.DataFrame:
    """Per parameter point and metric: mean, standard deviation, 95% CI of the mean, n."""
    metrics = [c for c in per_sample.columns if c not in ("point_id", "sample", *swept)]
    long = per_sample.melt(id_vars=["point_id", *swept], value_vars=metrics, var_name="metric")
    stats = long.groupby(["point_id", *swept, "metric"], sort=False, dropna=False)["value"].agg(["mean", "std", "count"])
    half = Z95 * stats["std"].fillna(0.0) / np.sqrt(stats["count"])
    stats["ci95_low"], stats["ci95_high"] = stats["mean"] - half, stats["mean"] + half
    return stats.rename(columns={"count": "n"}).reset_index()
