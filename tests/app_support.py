"""Helpers shared by the app's tests."""
from __future__ import annotations

from pathlib import Path

from tokensim.mechanisms.core import Model, Param


def write_claim_repo(root: Path) -> dict:
    """A repository under ``root`` with one claim whose spec sweeps the toy model; returns the claim."""
    (root / "seeds").mkdir(parents=True)
    (root / "experiments" / "specs").mkdir(parents=True)
    (root / "experiments" / "specs" / "toy_claim.toml").write_text(
        'model = "toy"\nseed = 1\nsamples = 3\ntimesteps = 5\noutput = "../../results/toy_claim"\n'
        'metrics = ["supply", "burned"]\n[sweep]\nburn_rate = [0.0, 0.1]\n'
    )
    (root / "seeds" / "claims.toml").write_text(
        '[[claim]]\nid = "toy-claim"\nfamily = "inflation"\nclaim = "Burning lowers supply."\n'
        'source = { title = "t", author = "a", outlet = "o", date = "2025" }\n'
        'experiment = "experiments/specs/toy_claim.toml"\nmetric = ["supply", "minted"]\n'
        'supports_if = "supply is lower at burn_rate 0.1"\nrefutes_if = "it is not"\n'
    )
    import tomllib

    return tomllib.loads((root / "seeds" / "claims.toml").read_text())["claim"][0]


def changeable_param(model: Model) -> tuple[Param, object]:
    """A numeric, non-structural parameter and a valid new value for it (cross-checks pass)."""
    defaults = model.schema.defaults()
    for param in model.schema:
        if param.kind not in ("int", "float") or param.structural or param.low is None or param.high is None:
            continue
        target = param.high if param.default != param.high else param.low
        value = (param.default + target) / 2
        value = round(value) if param.kind == "int" else float(value)
        if value == param.default:
            continue
        try:
            model.schema.resolve({**defaults, param.name: value})
        except Exception:  # noqa: BLE001 - a cross-check rejects this one; try the next parameter
            continue
        return param, value
    raise AssertionError(f"model {model.name} has no numeric parameter the test can change")
