"""Checks on seeds/claims.toml: the digest of source-essay claims and the experiments that test them.

The experiment specs are written by the mechanism engineers; until they exist,
``test_experiment_specs_exist`` fails on purpose and names the missing files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CLAIMS_PATH = REPO_ROOT / "seeds" / "claims.toml"

FAMILIES = {"labeling", "inflation", "governance"}
REQUIRED_KEYS = ("id", "family", "claim", "source", "experiment", "metric", "supports_if", "refutes_if")
SOURCE_KEYS = ("title", "author", "outlet", "date")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
METRIC_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _load_claims() -> list[dict]:
    with CLAIMS_PATH.open("rb") as fh:
        data = tomllib.load(fh)
    claims = data.get("claim")
    assert isinstance(claims, list) and claims, "seeds/claims.toml must define at least one [[claim]] table"
    return claims


CLAIMS = _load_claims()


def _label(claim: dict) -> str:
    return str(claim.get("id", "<no id>"))


def _non_empty(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return bool(value)
    return value is not None


def test_claim_count():
    assert len(CLAIMS) >= 8, f"expected at least 8 claims, found {len(CLAIMS)}"


@pytest.mark.parametrize("claim", CLAIMS, ids=_label)
def test_required_keys_present_and_non_empty(claim):
    missing = [k for k in REQUIRED_KEYS if k not in claim]
    assert not missing, f"claim {_label(claim)!r} lacks keys {missing}"
    empty = [k for k in REQUIRED_KEYS if not _non_empty(claim[k])]
    assert not empty, f"claim {_label(claim)!r} has empty keys {empty}"
    for key in ("id", "family", "claim", "experiment", "supports_if", "refutes_if"):
        assert isinstance(claim[key], str), f"claim {_label(claim)!r}: {key} must be a string"
    if "notes" in claim:
        assert isinstance(claim["notes"], str) and claim["notes"].strip()


@pytest.mark.parametrize("claim", CLAIMS, ids=_label)
def test_source_table(claim):
    source = claim["source"]
    assert isinstance(source, dict), f"claim {_label(claim)!r}: source must be a table"
    for key in SOURCE_KEYS:
        value = source.get(key)
        assert isinstance(value, str) and value.strip(), f"claim {_label(claim)!r}: source.{key} missing or empty"
    assert DATE_PATTERN.match(source["date"]), f"claim {_label(claim)!r}: source.date {source['date']!r} is not ISO"
    also_in = claim.get("also_in", [])
    assert isinstance(also_in, list), f"claim {_label(claim)!r}: also_in must be a list"
    assert all(isinstance(t, str) and t.strip() for t in also_in)
    assert source["title"] not in also_in, f"claim {_label(claim)!r}: primary source repeated in also_in"


@pytest.mark.parametrize("claim", CLAIMS, ids=_label)
def test_id_family_and_metric_format(claim):
    assert ID_PATTERN.match(claim["id"]), f"id {claim['id']!r} is not short kebab-case"
    assert claim["family"] in FAMILIES, f"claim {_label(claim)!r}: family {claim['family']!r} not in {sorted(FAMILIES)}"
    metrics = claim["metric"] if isinstance(claim["metric"], list) else [claim["metric"]]
    assert metrics and all(isinstance(m, str) and METRIC_PATTERN.match(m) for m in metrics), (
        f"claim {_label(claim)!r}: metric must be snake_case name(s), got {claim['metric']!r}"
    )


def test_ids_unique():
    ids = [c["id"] for c in CLAIMS]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate claim ids: {dupes}"


def test_every_family_covered():
    assert {c["family"] for c in CLAIMS} == FAMILIES


@pytest.mark.parametrize("claim", CLAIMS, ids=_label)
def test_experiment_path_well_formed(claim):
    rel = Path(claim["experiment"])
    assert not rel.is_absolute() and ".." not in rel.parts, f"{rel} must be relative to the repo root"
    assert rel.parts[:2] == ("experiments", "specs") and rel.suffix == ".toml", (
        f"claim {_label(claim)!r}: experiment {rel} must be experiments/specs/<name>.toml"
    )


def test_experiment_specs_exist():
    missing = sorted({c["experiment"] for c in CLAIMS if not (REPO_ROOT / c["experiment"]).is_file()})
    assert not missing, f"experiment specs referenced by seeds/claims.toml are missing: {missing}"
