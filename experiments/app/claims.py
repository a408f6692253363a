"""The claims of ``seeds/claims.toml`` with the experiment that tests each, and its results.

A claim's experiment is a spec file; its results live in the spec's ``output`` folder (or
``results/<spec name>`` when the spec names none), written by ``tokensim run`` or by the app's
Run button. The conditions ``supports_if`` and ``refutes_if`` are written in words and mix
several metrics, ranges and scenarios, so this module does not turn them into a verdict: it
gives the numbers (per parameter point, the mean of each claim metric with its 95% confidence
interval) and leaves the reading to the researcher, saying so.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from mechanisms.core import get_model
from mechanisms.core.errors import TokensimError

from ..spec import RESULT_KEYS, Spec, load_spec
from ..summary import outcomes, summary_table

REPO_ROOT = Path(__file__).resolve().parents[2]
CLAIMS_PATH = REPO_ROOT / "seeds" / "claims.toml"
VERDICT_NOTE = (
    "Verdict: needs the reader's judgement. The conditions above are written in words and combine "
    "several metrics, parameter ranges and scenarios; the app does not turn them into a verdict "
    "mechanically. Compare the table (mean per parameter point with its 95% CI) with the conditions."
)


@dataclass(frozen=True)
class Experiment:
    """A claim's experiment: its spec file, the parsed spec (or why it cannot be used), results."""

    path: Path
    spec: Spec | None
    error: str
    results: Path

    @property
    def results_file(self) -> Path:
        return self.results / "results.parquet"

    @property
    def has_results(self) -> bool:
        return self.results_file.is_file()


def load_claims(path: Path | None = None) -> list[dict[str, Any]]:
    """The ``[[claim]]`` tables of ``path`` (default: the repository's seeds/claims.toml), in order."""
    with (path or CLAIMS_PATH).open("rb") as fh:
        return list(tomllib.load(fh).get("claim", []))


def experiment_of(claim: Mapping[str, Any], root: Path | None = None) -> Experiment:
    """Locate and parse the spec of ``claim`` (paths relative to ``root``, default the repository);
    a missing or invalid spec gives an ``error``."""
    root = root or REPO_ROOT
    path = root / claim["experiment"]
    default_results = root / "results" / path.stem
    if not path.is_file():
        return Experiment(path, None, f"{claim['experiment']} is not written yet", default_results)
    try:
        spec = load_spec(path)
    except TokensimError as exc:
        return Experiment(path, None, str(exc), default_results)
    results = spec.output.resolve() if spec.output is not None else default_results
    return Experiment(path, spec, "", results)


def stale_keys(provenance: Mapping[str, Any], spec: Spec) -> list[str]:
    """Spec keys whose stored results were produced with different values than the spec file now has."""
    stored, current = provenance.get("spec", {}), spec.to_dict()
    return [k for k in RESULT_KEYS if _plain(stored.get(k)) != _plain(current.get(k))]


def _plain(value: Any) -> Any:
    """Normalise empty containers and tuples so a JSON round trip compares equal."""
    if value in (None, {}, []):
        return None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def claim_table(frame: pd.DataFrame, provenance: Mapping[str, Any], metrics: list[str]) -> pd.DataFrame:
    """Per parameter point: each claim metric's mean per run with its 95% CI, as one wide table."""
    swept = list(provenance["swept"])
    table = summary_table(outcomes(frame, provenance), swept, get_model(provenance["model"]))
    table = table[table["metric"].isin(metrics)]
    table = table.assign(value=[f"{m:.4g} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in
                                zip(table["mean"], table["ci95_low"], table["ci95_high"])])
    wide = table.pivot_table(index=["point_id", *swept], columns="metric", values="value", aggfunc="first", sort=False)
    wide.columns.name = None
    return wide.reset_index().drop(columns="point_id")


def claim_metrics(claim: Mapping[str, Any], frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The claim's metrics present in the results, and those missing from them."""
    wanted = claim["metric"] if isinstance(claim["metric"], list) else [claim["metric"]]
    return [m for m in wanted if m in frame.columns], [m for m in wanted if m not in frame.columns]
