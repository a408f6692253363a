"""Check a claim end to end: run its experiment, decide, add samples while undecided, test robustness.

``check_claim`` runs the claim's spec (every point, its ``samples``), decides the verdict
(:mod:`tokensim.experiments.claims.verdict`), and while the verdict is inconclusive runs more samples
(new sample indices) at the points the criteria read: each round goes to
``max(2n, samples needed)``, up to the cap (the claim's ``max_samples``, default
``CAP_FACTOR`` x the spec's samples). Then the robustness analysis
(:mod:`tokensim.experiments.claims.robustness`) re-decides the verdict across the assumed parameters,
on the deciding points only and with ``Settings.ensemble_samples`` samples per point, within a
compute budget per claim (:meth:`Settings.budget_for`, in seconds by ``Model.cost``): the ensemble
shrinks to fit it and the Morris screen is skipped when not even one trajectory fits; the record
says what was done.

Everything lands in ``results/claims/<id>/``: ``verdict.json`` (the record: verdict, every
condition's numbers and intervals, rounds, convergence, robustness, provenance and the content
hash) and ``outcomes.parquet`` (per-run outcomes the figures are drawn from); chunks go to the
experiment's shared store ``results/claims/chunks/<experiment>/``. The record is keyed by a
content hash of the spec, the model's version and schema markings, the claim's criteria and the
engine settings: a check with nothing changed reads the record and runs nothing.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from tokensim.mechanisms.core import get_model

from ..provenance import git_commit, package_version, repository_url
from ..spec import Spec, load_spec
from ..storage import write_table
from .criteria import Claim, check_against
from .robustness import analyse
from .sampling import Job, job_rows, results_of, run_jobs
from .verdict import convergence, decide, referenced_points

ENGINE_VERSION = "1"
CAP_FACTOR = 4
DEFAULT_BUDGET = 400.0  # robustness compute per claim (Model.cost seconds), unless the claim or --budget says


@dataclass(frozen=True)
class Settings:
    """Engine settings that change numbers (all are in the content hash)."""

    cap_factor: int = CAP_FACTOR
    robustness: bool = True
    trajectories: int = 3
    levels: int = 4
    ensemble: int = 32
    ensemble_samples: int | None = None  # default: max(4, spec samples // 2)
    budget: float | None = None  # robustness compute per claim (--budget), overriding each claim's own
    seed: int = 11

    def ensemble_samples_for(self, spec: Spec) -> int:
        return self.ensemble_samples or max(4, spec.samples // 2)

    def budget_for(self, claim: Claim) -> float:
        """Compute for the claim's robustness, in seconds by the models' own cost functions
        (``Model.cost``, before the calibration the CLI's run estimates apply; parameters only, so the
        same on every machine): ``--budget`` if given, else the claim's ``budget``, else
        :data:`DEFAULT_BUDGET`."""
        return self.budget if self.budget is not None else claim.budget or DEFAULT_BUDGET


class Progress:
    """What the engine reports while it runs; the CLI's tqdm bar subclasses this."""

    def expect(self, rows: int) -> None:  # more rows (point x sample) are about to run
        pass

    def update(self, rows: int) -> None:  # rows finished (run or read from the store)
        pass

    def stage(self, text: str) -> None:
        pass


def claim_dir(results: Path, claim_id: str) -> Path:
    return results / claim_id


def spec_of(claim: Claim, root: Path) -> Spec:
    return load_spec(root / claim.experiment)


def content_hash(claim: Claim, spec: Spec, settings: Settings) -> str:
    """Hash of everything a verdict depends on (not of where results are written)."""
    model = get_model(spec.model)
    spec_dict = {k: v for k, v in spec.to_dict().items() if k not in ("output", "title", "description", "claims")}
    schema = {p.name: [p.basis, list(p.plausible) if p.plausible else None, p.default] for p in model.schema}
    payload = {"engine": ENGINE_VERSION, "model": model.name, "model_version": model.version, "spec": spec_dict,
               "schema": schema, "criteria": claim.criteria_dict(), "settings": asdict(settings)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_record(results: Path, claim_id: str) -> dict[str, Any] | None:
    path = claim_dir(results, claim_id) / "verdict.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def is_current(claim: Claim, root: Path, results: Path, settings: Settings) -> bool:
    record = read_record(results, claim.id)
    return record is not None and record.get("hash") == content_hash(claim, spec_of(claim, root), settings)


def check_claim(claim: Claim, root: Path, results: Path, settings: Settings = Settings(),
                chunk_map: Callable | None = None, progress: Progress | None = None, force: bool = False,
                claims_source: str = "seeds/claims.toml") -> dict[str, Any]:
    """Decide ``claim`` (see the module docstring); returns the stored record."""
    progress = progress or Progress()
    spec = spec_of(claim, root)
    check_against(claim, spec, claims_source)
    key = content_hash(claim, spec, settings)
    cached = read_record(results, claim.id)
    if cached is not None and cached.get("hash") == key and not force:
        return cached
    out_dir = claim_dir(results, claim.id)
    store = results / "chunks" / Path(claim.experiment).stem
    points = spec.points()

    def run(jobs: Sequence[Job]) -> list[pd.DataFrame]:
        progress.expect(job_rows(jobs))
        return run_jobs(jobs, store, chunk_map, progress.update)

    progress.stage(f"{claim.id}: {len(points)} points x {spec.samples} samples")
    frame = run([Job(spec, points, list(range(len(points))), range(spec.samples))])[0]
    res = results_of(spec, points, frame)
    decision = decide(claim, res)
    n, cap = spec.samples, claim.max_samples or settings.cap_factor * spec.samples
    cap = max(cap, n)
    rounds = [{"samples": n, "verdict": decision["verdict"], "samples_needed": decision["samples_needed"]}]
    deciding = referenced_points(claim, res)
    # more samples only help while a criterion is undecided (both false = decided "neither")
    while decision["verdict"] == "inconclusive" and decision["samples_needed"] is not None and n < cap:
        target = min(cap, max(2 * n, decision["samples_needed"]))
        progress.stage(f"{claim.id}: inconclusive at {n} samples; {len(deciding)} deciding points to {target}")
        extra = run([Job(spec, points, deciding, range(n, target))])[0]
        frame = pd.concat([frame, extra], ignore_index=True)
        res = results_of(spec, points, frame)
        decision = decide(claim, res)
        n = target
        rounds.append({"samples": n, "verdict": decision["verdict"], "samples_needed": decision["samples_needed"]})

    robustness: dict[str, Any]
    if settings.robustness:
        ens_n = settings.ensemble_samples_for(spec)

        def evaluate(overrides: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
            jobs, specs = [], []
            for values in overrides:
                s = replace(spec.with_overrides(values), samples=ens_n)
                pts = s.points()
                specs.append((s, pts))
                jobs.append(Job(s, pts, deciding, range(ens_n)))
            progress.stage(f"{claim.id}: robustness, {len(jobs)} ensemble points x {len(deciding)} deciding points "
                           f"x {ens_n} samples")
            frames = run(jobs)
            return [decide(claim, results_of(s, pts, f)) for (s, pts), f in zip(specs, frames)]

        model = get_model(spec.model)
        per_point = sum(model.cost(points[pid]) for pid in deciding) * ens_n * spec.timesteps
        robustness = analyse(claim, spec, decision["verdict"], evaluate, settings.trajectories, settings.levels,
                             settings.ensemble, settings.seed, max_points=int(settings.budget_for(claim) // max(per_point, 1e-9)))
        robustness["estimated_seconds_per_point"] = per_point
        robustness["budget_seconds"] = settings.budget_for(claim)
        robustness["samples_per_point"] = ens_n
        robustness["deciding_points"] = len(deciding)
    else:
        robustness = {"status": "skipped", "reason": "robustness not requested (--no-robustness)", "parameters": []}

    model = get_model(spec.model)
    record = {
        "id": claim.id, "family": claim.family, "claim": claim.text, "experiment": claim.experiment,
        "hash": key, "engine_version": ENGINE_VERSION, "settings": asdict(settings),
        "model": model.name, "model_version": model.version, "model_title": model.title,
        "spec": {k: v for k, v in spec.to_dict().items() if k != "output"},
        "swept": spec.swept_names(), "base_samples": spec.samples, "samples": n, "cap": cap,
        "points_sampled": {"all": len(points), "deciding": len(deciding)},
        "rounds": rounds, "decision": decision, "convergence": convergence(claim, res, decision),
        "robustness": robustness, "supports_if": claim.supports_if, "refutes_if": claim.refutes_if,
        "criteria": claim.criteria_dict(), "figure_axes": dict(claim.figure),
        "provenance": {"git_commit": git_commit(), "tokensim_version": package_version(),
                       "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                       "seed": spec.seed, "timesteps": spec.timesteps, "repository": repository_url(),
                       "common_random_numbers": spec.common_random_numbers},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_table(res.frame, out_dir / "outcomes.parquet")
    tmp = out_dir / ".verdict.json.tmp"
    tmp.write_text(dumps(record))
    tmp.replace(out_dir / "verdict.json")
    return record


def dumps(record: Mapping[str, Any]) -> str:
    """Stable JSON (sorted keys; NaN written as null) so equal records are equal bytes."""
    return json.dumps(_clean(record), indent=1, sort_keys=True) + "\n"


def _clean(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, Mapping):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item"):  # numpy scalars
        return _clean(x.item())
    return x
