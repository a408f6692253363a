"""Golden numbers of every shipped experiment, so refactors cannot move them unnoticed.

Each spec in experiments/specs/ has a quick version (2 samples, at most 100 timesteps, each
numeric sweep cut to its first and last value) whose per-run outcomes,
per point and metric, are stored in ``tests/golden/<spec>.<model>-<version>.json``.
tests/contract/test_golden.py re-runs the quick versions and compares.

When a model's numbers change on purpose, bump its ``version`` (in its model.py) and regenerate:

    PYTHONPATH=$PWD python3 -m tests.golden.regenerate            # every spec
    PYTHONPATH=$PWD python3 -m tests.golden.regenerate quickstart # some specs, by file stem

Regenerating a spec removes its goldens of other model versions.
"""
from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from tokensim.experiments.runner import run_spec
from tokensim.experiments.spec import parse_spec
from tokensim.mechanisms.core import get_model

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "experiments" / "specs"
GOLDEN = Path(__file__).resolve().parent
SAMPLES, MAX_TIMESTEPS = 2, 100
REGENERATE = "PYTHONPATH=$PWD python3 -m tests.golden.regenerate"


def spec_names() -> list[str]:
    return sorted(p.stem for p in SPECS.glob("*.toml"))


def quick_spec(name: str) -> dict[str, Any]:
    """The spec file ``name`` cut down to a few seconds of work (as data, TOML/JSON-serialisable)."""
    data = tomllib.loads((SPECS / f"{name}.toml").read_text())
    data.pop("output", None)
    data["samples"] = SAMPLES
    data["timesteps"] = min(data.get("timesteps", 100), MAX_TIMESTEPS)
    data["chunk_size"] = 1000
    sweep = data.get("sweep", {})
    for key, values in sweep.items():
        if isinstance(values, dict):  # a range table
            values = parse_spec({"model": data["model"], "sweep": {key: values}}).sweep[key]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        sweep[key] = [values[0], values[-1]] if numeric and len(values) > 2 else list(values)
    return data


def golden_path(name: str, model: str, version: str) -> Path:
    return GOLDEN / f"{name}.{model}-{version}.json"


def compute(name: str) -> dict[str, Any]:
    """The quick version's per-run outcome of every metric, with what determines them."""
    data = quick_spec(name)
    spec = parse_spec(data, f"{name} (quick version)")
    model = get_model(spec.model)
    result = run_spec(spec)
    swept = spec.swept_names()
    rows = result.outcomes.sort_values(["point_id", "sample"]).to_dict("records")
    return {
        "spec": name, "model": model.name, "version": model.version, "quick_spec": data,
        "outcomes": [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items() if k not in swept} for row in rows],
        "points": {int(row["point_id"]): {k: row[k] for k in swept} for row in rows},
    }


def write(name: str) -> Path:
    golden = compute(name)
    for stale in GOLDEN.glob(f"{name}.*.json"):
        stale.unlink()
    path = golden_path(name, golden["model"], golden["version"])
    path.write_text(json.dumps(golden, indent=1, sort_keys=True, default=str) + "\n")
    return path


def main(argv: list[str]) -> int:
    names = argv or spec_names()
    unknown = sorted(set(names) - set(spec_names()))
    if unknown:
        print(f"error: no spec named {unknown} in experiments/specs/; specs: {', '.join(spec_names())}", file=sys.stderr)
        return 2
    for name in names:
        print(f"golden: {write(name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
