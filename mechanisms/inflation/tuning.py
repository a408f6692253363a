"""Tuning the adaptive emission policies: one optimiser, one budget, training seeds and scenarios
of their own.

Every adaptive policy has a parameter vector (:data:`.controllers.VECTOR`): the Cosmos rule's rate
change and goal, the PID gains, the team's reaction rule (gain on the staking gap and on a foreseen
shock) and the learner's five weights. Under ``tuning = "cem"`` each is chosen by the same
cross-entropy method (Rubinstein & Kroese, *The Cross-Entropy Method*, 2004): sample
``tune_population`` vectors from a diagonal Gaussian (in log space for gains), keep the best
quarter, refit, repeat ``tune_iterations`` times; the current mean is always evaluated too and the
best vector seen is returned. Each candidate is scored on the same ``tune_seeds`` training
economies in each of the :data:`TRAINING_SCENARIOS` (common random numbers), ``tune_days`` days
each, so every tuned policy gets exactly ``iterations x population x seeds x scenarios`` rollouts
(:func:`evaluations`). Objective: the mean of ``staking_tracking_error + tune_rate_weight *
rate_variation + tune_vol_weight * price_volatility``; sweeping ``tune_rate_weight`` traces each
policy's frontier of tracking error against rate changes.

Held out: training economies draw from ``SeedSequence(tune_seed, spawn_key=(TRAINING_TAG,
scenario, i))``, whose assembled entropy has 7 words, while an evaluation sample's
``SeedSequence(seed, spawn_key=(*point, sample))`` has 5 (common random numbers) or 9, so no
training stream is ever an evaluation stream. The training scenarios are steady growth and a 70%
crash in 21 days from day 90; the scenario settings of the evaluated point (``scenario``,
``bull_*``, ``shock_*``) do not enter training, so a bull run and crashes of other depths and
speeds are shocks the tuner never saw.

Rollouts run the model's own blocks with :func:`tokensim.mechanisms.core.step`. Tuned vectors are cached in
memory and on disk (:mod:`.tuning_cache`), keyed by everything that determines them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokensim.mechanisms.core import step
from tokensim.mechanisms.core.seeding import BatchRNG

from .blocks import BLOCKS
from .controllers import N_FEATURES, VECTOR
from .params import SCHEMA
from .state import base_state
from .tuning_cache import cached

TRAINING_TAG = 0x1EA2A  # first spawn-key word of every training stream
SAMPLER_TAG = 0x5A3  # scenario slot of the optimiser's own sampling stream
ELITE_FRACTION = 0.25
STD_FLOOR = 1e-3
TUNED_POLICIES = tuple(VECTOR)

TRAINING_SCENARIOS = (
    {"scenario": "steady"},
    {"scenario": "crash", "shock_day": 90, "shock_depth": 0.7, "shock_duration": 21, "shock_recovery": 0.5,
     "recovery_days": 180},
)
# Parameters that describe the evaluated scenario (replaced in training) or only the metrics.
NOT_TRAINING = ("scenario", "bull_growth", "bull_days", "shock_day", "shock_depth", "shock_duration",
                "shock_recovery", "recovery_days", "rate_tick", "recovery_fraction", "price_recovery_fraction")


@dataclass(frozen=True)
class Coordinate:
    """One tuned setting: start of the search, its spread, bounds, and whether to search in logs."""

    start: float
    spread: float
    low: float
    high: float
    log: bool = False


def search_space(p) -> tuple[Coordinate, ...]:
    """The coordinates of ``p``'s policy vector, searched from the same untuned starting points."""
    if p["policy"] == "cosmos":
        return (Coordinate(0.13, 1.0, 0.0, 10.0, log=True),
                Coordinate(p["target_staking_ratio"], 0.05, 0.01, 0.99))
    if p["policy"] == "pid":
        return (Coordinate(0.5, 1.5, 0.0, 100.0, log=True), Coordinate(0.5, 1.5, 0.0, 100.0, log=True))
    if p["policy"] == "team":
        return (Coordinate(0.3, 1.0, 0.0, 10.0, log=True), Coordinate(0.0, 0.1, -1.0, 1.0))
    if p["policy"] == "learning":
        return (Coordinate(p["initial_rate"], 0.05, -1.0, 1.0), Coordinate(0.0, 0.5, -100.0, 100.0),
                Coordinate(0.0, 0.5, -100.0, 100.0), Coordinate(0.0, 0.2, -10.0, 10.0),
                Coordinate(0.0, 0.05, -10.0, 10.0))
    raise ValueError(f"policy {p['policy']!r} has nothing to tune")


def _to_vectors(z: np.ndarray, space) -> np.ndarray:
    """Search points ``(C, d)`` to policy vectors ``(C, N_FEATURES)``, clipped to the bounds."""
    out = np.zeros((len(z), N_FEATURES))
    for k, c in enumerate(space):
        out[:, k] = np.clip(np.exp(z[:, k]) if c.log else z[:, k], c.low, c.high)
    return out


class CommonRNG(BatchRNG):
    """The generators of ``G`` training economies, each shared by ``repeats`` candidates.

    Rows are candidate-major (row ``c * G + g`` is candidate ``c`` in economy ``g``); every draw is
    made once per economy and repeated for each candidate, which is exactly what ``C x G`` separate
    generators seeded alike would give, at a ``C``-th of the cost. Per-sample draw arguments are
    read from the first candidate's rows (draws never depend on the tuned vector).
    """

    def __init__(self, generators, repeats: int) -> None:
        super().__init__(generators)
        self.repeats = repeats

    def __len__(self) -> int:
        return len(self.generators) * self.repeats

    def _tile(self, once: np.ndarray) -> np.ndarray:
        return np.tile(once, (self.repeats,) + (1,) * (once.ndim - 1))

    def _rows(self, draws):
        return self._tile(draws)

    def map(self, fn):
        return self._tile(np.stack([np.asarray(fn(g, i)) for i, g in enumerate(self.generators)]))

    def _draw(self, method, size, kwargs):
        per_sample = {k: v for k, v in kwargs.items() if isinstance(v, np.ndarray)}
        shared = {k: v for k, v in kwargs.items() if k not in per_sample}
        return self._tile(np.stack([getattr(g, method)(size=size, **shared, **{k: v[i] for k, v in per_sample.items()})
                                    for i, g in enumerate(self.generators)]))


def training_generators(tune_seed: int, scenario: int, count: int) -> list[np.random.Generator]:
    """Generators of the training economies of one training scenario."""
    return [np.random.Generator(np.random.PCG64(training_sequence(tune_seed, scenario, i))) for i in range(count)]


def training_sequence(tune_seed: int, scenario: int, index: int) -> np.random.SeedSequence:
    """The SeedSequence of training economy ``index`` of training scenario ``scenario``."""
    return np.random.SeedSequence(int(tune_seed), spawn_key=(TRAINING_TAG, scenario, index))


def cadcad_params(p, size: int, rng: BatchRNG) -> dict:
    """``p`` (scalars) as cadCAD hands it to a batch of ``size`` rows: non-structural values as arrays."""
    out = {}
    for param in SCHEMA:
        value = p[param.name]
        out[param.name] = value if param.structural else np.full(size, value, dtype=np.int64 if param.kind == "int"
                                                                   else np.float64)
    out["rng"] = rng
    return out


def rollout(p, vectors: np.ndarray, generators, days: int) -> dict[str, np.ndarray]:
    """Run the model's blocks (:data:`.blocks.BLOCKS`) for ``days`` days with :func:`tokensim.mechanisms.core.step`.

    ``vectors`` is ``(C, N_FEATURES)``; every candidate meets each of the ``G`` generators'
    economies, row ``c * G + g``. Returns the final state.
    """
    rng = CommonRNG(generators, len(vectors))
    params = cadcad_params(p, len(rng), rng)
    state = base_state(params, rng)
    state["policy_vector"] = np.repeat(vectors, len(generators), axis=0)
    for t in range(1, days + 1):
        state = step(BLOCKS, params, state, t)
    return state


def objective(p, final) -> np.ndarray:
    """Per-row training loss."""
    return (final["staking_tracking_error"] + p["tune_rate_weight"] * final["rate_variation"]
            + p["tune_vol_weight"] * final["price_volatility"])


def evaluations(p) -> int:
    """Rollouts the tuner spends on one policy: the same for every tuned policy."""
    return p["tune_iterations"] * p["tune_population"] * p["tune_seeds"] * len(TRAINING_SCENARIOS)


def score(p, vectors: np.ndarray) -> np.ndarray:
    """Mean training loss of each candidate vector over the training seeds and scenarios."""
    total = np.zeros(len(vectors))
    for j, overrides in enumerate(TRAINING_SCENARIOS):
        scenario = {**p, **overrides}
        final = rollout(scenario, vectors, training_generators(p["tune_seed"], j, p["tune_seeds"]), p["tune_days"])
        total += objective(scenario, final).reshape(len(vectors), p["tune_seeds"]).mean(axis=1)
    return total / len(TRAINING_SCENARIOS)


def tune(p) -> np.ndarray:
    """The tuned parameter vector of ``p``'s policy (``p`` holds scalars); deterministic."""
    space = search_space(p)
    dim, pop = len(space), p["tune_population"]
    n_elite = max(2, int(round(ELITE_FRACTION * pop)))
    mean = np.array([np.log(c.start) if c.log else c.start for c in space])
    std = np.array([c.spread for c in space])
    sampler = np.random.Generator(np.random.PCG64(training_sequence(p["tune_seed"], SAMPLER_TAG, 0)))
    best, best_score = _to_vectors(mean[None], space)[0], np.inf
    for _ in range(p["tune_iterations"]):
        z = np.vstack([mean, mean + std * sampler.standard_normal((pop - 1, dim))])
        vectors = _to_vectors(z, space)
        scores = score(p, vectors)
        order = np.argsort(scores, kind="stable")
        if scores[order[0]] < best_score:
            best, best_score = vectors[order[0]].copy(), scores[order[0]]
        elite = z[order[:n_elite]]
        mean, std = elite.mean(axis=0), np.maximum(elite.std(axis=0), STD_FLOOR)
    return best


def training_point(p) -> dict:
    """The parameters that determine ``p``'s tuned vector: the point without its scenario settings."""
    return {name: p[name] for name in SCHEMA.names if name not in NOT_TRAINING}


def tuned_vector(p) -> np.ndarray:
    """The tuned vector of the point ``p`` (scalars), from the caches or tuned now."""
    point = training_point(p)
    return cached(point, lambda: tune({**point, "scenario": "steady", **_scenario_defaults()}))


def _scenario_defaults() -> dict:
    return {name: SCHEMA[name].default for name in NOT_TRAINING if name != "scenario"}


def is_tuned(p) -> bool:
    return p["tuning"] == "cem" and p["policy"] in TUNED_POLICIES
