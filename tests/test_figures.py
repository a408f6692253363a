"""Figures: the chart kind and encodings chosen from the swept parameters, and honest captions."""
import numpy as np
import pandas as pd
import pytest

from tokensim.experiments.figures import figure
from tokensim.mechanisms.core import TokensimError


def results(swept_values):
    """A synthetic governance result set over the cartesian product of ``swept_values``."""
    grid = pd.MultiIndex.from_product(list(swept_values.values()), names=list(swept_values)).to_frame(index=False)
    grid.insert(0, "point_id", range(len(grid)))
    rows = grid.merge(pd.DataFrame({"sample": [0, 1]}), how="cross").merge(pd.DataFrame({"timestep": [0, 1]}), how="cross")
    rows["capture_rate"] = np.linspace(0, 1, len(rows))
    prov = {
        "model": "governance", "model_version": "1.0", "title": "t", "spec": {"fixed": {}}, "swept": list(swept_values),
        "samples": 2, "timesteps": 1, "seed": 0, "tokensim_version": "0", "git_commit": "abc", "created": "2026",
    }
    return rows, prov


def encodings(chart):
    spec = chart.to_dict()
    inner = spec.get("spec", spec)
    layer = inner.get("layer", [inner])[-1]
    return spec, layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"], layer["encoding"]


def test_categorical_colours_and_numeric_goes_on_a_log_x_axis():
    frame, prov = results({"rule": ["token", "quadratic"], "identity_cost": [0.0, 10.0, 100.0]})
    spec, mark, enc = encodings(figure(frame, prov, "capture_rate"))
    assert mark == "line" and enc["color"]["field"] == "rule"
    spec_x = spec["layer"][0]["encoding"]["x"]
    assert spec_x["field"] == "identity_cost" and spec_x["scale"]["type"] == "symlog"


def test_two_categoricals_facet_and_unshown_parameters_are_named_as_pooled():
    frame, prov = results({"rule": ["token", "quadratic"], "n_whales": [1, 3], "veto_threshold": [0.5, 1.0]})
    frame["scenario"] = frame["rule"]  # stand-in for a second categorical column
    prov["swept"] = ["rule", "scenario", "n_whales"]
    spec = figure(frame, prov, "capture_rate", kind="timeseries").to_dict()
    assert spec["facet"]["column"]["field"] == "scenario"
    assert "pooled over n_whales (1, 3)" in " ".join(spec["title"]["subtitle"])


def test_two_numerics_make_a_heatmap():
    frame, prov = results({"n_whales": [1, 3], "whale_share": [0.1, 0.2]})
    spec, mark, enc = encodings(figure(frame, prov, "capture_rate"))
    assert spec["layer"][0]["mark"]["type"] == "rect" and {enc["x"]["field"], enc["y"]["field"]} == {"n_whales", "whale_share"}
    assert mark == "text" and enc["text"]["field"] == "label"  # every cell shows its value


def test_bad_requests_are_user_errors():
    frame, prov = results({"rule": ["token", "quadratic"]})
    with pytest.raises(TokensimError, match="needs a numeric swept parameter"):
        figure(frame, prov, "capture_rate", kind="sweep")
    with pytest.raises(TokensimError, match="not a swept parameter"):
        figure(frame, prov, "capture_rate", color="nope")
    with pytest.raises(TokensimError, match="metric 'nope' is not in these results"):
        figure(frame, prov, "nope")


def test_a_figure_of_more_than_altairs_5000_rows_gets_its_citation_key():
    from tokensim.experiments.figures import bibtex

    frame, prov = results({"rule": ["token", "quadratic"], "whale_share": list(np.linspace(0.01, 0.5, 1500))})
    assert len(frame) > 5000
    chart = figure(frame, prov, "capture_rate", kind="timeseries", color="rule")
    entry = bibtex(prov, "capture_rate", chart)
    assert entry.startswith("@software{tokensim_governance_capture_rate_")
    other = figure(frame.assign(capture_rate=frame.capture_rate[::-1].to_numpy()), prov, "capture_rate",
                   kind="timeseries", color="rule")
    assert bibtex(prov, "capture_rate", other) != entry  # the key covers every row of the data
