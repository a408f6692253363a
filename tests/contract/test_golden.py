"""Every shipped experiment's numbers are unchanged by refactors: quick versions of each spec in
experiments/specs/ reproduce the per-run outcomes stored in tests/golden/ for the model's version
(how they are made and regenerated: tests/golden/regenerate.py)."""
import json
import math

import pytest

from tokensim.mechanisms.core import get_model
from tests.golden.regenerate import GOLDEN, REGENERATE, compute, golden_path, quick_spec, spec_names


@pytest.mark.parametrize("name", spec_names())
def test_shipped_experiment_numbers_are_unchanged(name):
    model = get_model(quick_spec(name)["model"])
    path = golden_path(name, model.name, model.version)
    if not path.is_file():
        others = sorted(p.name for p in GOLDEN.glob(f"{name}.*.json"))
        pytest.fail(f"no golden numbers of {name} for {model.name} version {model.version}"
                    + (f" (found {others}: the model's version changed)" if others else "")
                    + f"; if its numbers changed on purpose, regenerate them: {REGENERATE} {name}")
    golden = json.loads(path.read_text())
    now = compute(name)
    assert now["quick_spec"] == golden["quick_spec"], (
        f"experiments/specs/{name}.toml changed since its golden numbers were made; regenerate: {REGENERATE} {name}")
    changed = []
    for old, new in zip(golden["outcomes"], now["outcomes"], strict=True):
        for metric, value in old.items():
            if not _same(value, new[metric]):
                changed.append(f"{metric} at point {golden['points'][str(old['point_id'])]}, sample {old['sample']}: "
                               f"golden {value!r}, now {new[metric]!r}")
    assert not changed, (
        f"{len(changed)} number(s) of {name} ({model.name} v{model.version}) changed without a version bump. If that is "
        f"intended, bump the model's version and run: {REGENERATE} {name}\n" + "\n".join(changed[:10]))


def _same(a, b) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
