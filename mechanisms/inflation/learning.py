"""The learning controller ("AI"): a linear rate policy trained by the cross-entropy method.

The policy sets ``rate = clip(w . features, rate_min, rate_max)`` over the features of
:func:`.controllers.features` (bias, staking gap, its 60-day average, drawdown, momentum). Its
weights are trained inside the experiment, on the same economy (same parameters, same scenario,
same code path as the cadCAD run) but on *training* economies whose random streams come from a
separate SeedSequence branch, ``SeedSequence([TRAINING_TAG, learning_seed])``; evaluation samples
use ``SeedSequence(seed, spawn_key=(point, sample))``, a different entropy pool, so the two never
share streams. Training minimises the mean over training economies of
``staking_tracking_error + learning_vol_weight * price_volatility`` after ``train_days`` days.

Cross-entropy method (Rubinstein & Kroese, *The Cross-Entropy Method*, 2004): sample
``cem_population`` weight vectors from a diagonal Gaussian, keep the best quarter, refit the
Gaussian to them, repeat ``cem_iterations`` times; the current mean is always evaluated too and
the best vector seen is returned. Every candidate faces the same training economies (common
random numbers), which makes the ranking less noisy. Training is deterministic and cached per set
of training-relevant parameters, so a batch or a sweep trains once per distinct economy.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .controllers import N_FEATURES, controller_step
from .economy import economy_step
from .metrics import metrics_step
from .params import SCHEMA
from .state import economy_state

TRAINING_TAG = 0x1EA2A  # entropy word that separates the training branch from evaluation seeds
INITIAL_STD = np.array([0.05, 0.5, 0.5, 0.2, 0.05])
STD_FLOOR = 1e-3
ELITE_FRACTION = 0.25


def rollout(p, weights: np.ndarray, generators, days: int) -> dict[str, np.ndarray]:
    """Run the model's daily step functions (the cadCAD blocks' code) on plain arrays.

    ``weights`` is ``(C, N_FEATURES)``; every candidate meets each of the ``G`` generators'
    economies, row ``c * G + g``. Returns the final state.
    """
    candidates, n_gen = len(weights), len(generators)
    state = economy_state(p, candidates * n_gen)
    state["policy_weights"] = np.repeat(weights, n_gen, axis=0)
    for _ in range(days):
        state = {**state, **controller_step(p, state, {})}
        shocks = np.stack([g.normal(size=2) for g in generators])
        state = {**state, **economy_step(p, state, np.tile(shocks, (candidates, 1)))}
        state = {**state, **metrics_step(p, state)}
    return state


def training_generators(learning_seed: int, count: int) -> list[np.random.Generator]:
    """Generators of the training economies (and one more, last, for the CEM's own sampling)."""
    children = np.random.SeedSequence([TRAINING_TAG, int(learning_seed)]).spawn(count + 1)
    return [np.random.Generator(np.random.PCG64(c)) for c in children]


def train(p) -> np.ndarray:
    """Train the weights for the single parameter point ``p`` (scalars); deterministic."""
    n_seeds, pop = p["cem_train_seeds"], p["cem_population"]
    n_elite = max(2, int(round(ELITE_FRACTION * pop)))
    mean = np.array([p["initial_rate"], 0.0, 0.0, 0.0, 0.0])
    std = INITIAL_STD.copy()
    sampler = training_generators(p["learning_seed"], n_seeds)[-1]
    best, best_score = mean.copy(), np.inf
    for _ in range(p["cem_iterations"]):
        candidates = np.vstack([mean, mean + std * sampler.standard_normal((pop - 1, N_FEATURES))])
        economies = training_generators(p["learning_seed"], n_seeds)[:-1]  # same economies each time
        final = rollout(p, candidates, economies, p["train_days"])
        score = final["staking_tracking_error"] + p["learning_vol_weight"] * final["price_volatility"]
        score = score.reshape(pop, n_seeds).mean(axis=1)
        order = np.argsort(score, kind="stable")
        if score[order[0]] < best_score:
            best, best_score = candidates[order[0]].copy(), score[order[0]]
        elite = candidates[order[:n_elite]]
        mean, std = elite.mean(axis=0), np.maximum(elite.std(axis=0), STD_FLOOR)
    return best


@lru_cache(maxsize=128)
def _trained(key: tuple) -> np.ndarray:
    weights = train(dict(key))
    weights.flags.writeable = False
    return weights


def row_values(params, row: int) -> tuple:
    """The training-relevant key of one batch row: every schema parameter's value for that row."""
    values = []
    for name in SCHEMA.names:
        value = params[name]
        value = value[row].item() if isinstance(value, np.ndarray) else value
        values.append((name, value))
    return tuple(values)


def batch_weights(params, size: int) -> np.ndarray:
    """Trained weights ``(B, N_FEATURES)`` for each row of a batch (cached per distinct row)."""
    return np.stack([_trained(row_values(params, i)) for i in range(size)])
