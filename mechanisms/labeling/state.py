"""State of the labeling model: labeler identities as (B, N) arrays, validators as (B, V).

Identity ``i`` of batch row ``b`` has a strategy (integer codes from :mod:`.metrics`), a skill, an
active flag, locked stake and a running profit estimate. Identities are laid out in blocks: honest
first, then lazy, AI, Sybil, copy cartel and cartel; each block's size follows the row's share
parameters, so shares can differ between rows of one batch. Independent labelers (honest, lazy,
AI) may later switch strategy; cartel, Sybil and copy-cartel identities are run by one operator
each and keep their role. :data:`STATE` declares every variable (metrics included).
"""
from __future__ import annotations

import numpy as np

from tokensim.mechanisms.core import BatchRNG, StateVar

from .metrics import (
    AI,
    CARTEL,
    COPYCAT,
    HONEST,
    INDEPENDENT,
    LAZY_CONSTANT,
    LAZY_RANDOM,
    METRICS,
    SYBIL,
    population_metrics,
)

N, V = ("n_labelers",), ("n_validators",)
AGENTS = (
    StateVar("strategy", "strategy code per identity (metrics.HONEST ... metrics.AI)", "agent", N),
    StateVar("skill", "labeling skill per identity, drawn once", "agent", N),
    StateVar("active", "identity is registered and labeling", "agent", N),
    StateVar("joined", "identity (re)joined in the last adaptation (its Yuma bonds reset)", "agent", N),
    StateVar("stake", "stake locked by the identity", "agent", N, "tokens"),
    StateVar("profit", "moving average of the identity's profit per epoch", "agent", N, "tokens/epoch"),
    StateVar("gold_seen", "gold tasks the identity has answered", "agent", N, "tasks"),
    StateVar("gold_correct", "gold tasks the identity answered correctly", "agent", N, "tasks"),
    StateVar("cum_reward", "rewards received so far", "agent", N, "tokens"),
    StateVar("cum_correct", "correct labels given so far", "agent", N, "labels"),
    StateVar("ds_counts", "carried Dawid-Skene confusion counts", "agent", ("n_labelers", "n_classes", "n_classes")),
    StateVar("ds_counts_ceiling", "carried Dawid-Skene counts of the all-honest ceiling crowd", "agent",
             ("n_labelers", "n_classes", "n_classes")),
    StateVar("bonds", "Yuma bonds, as the variant stores them", "agent", ("n_validators", "n_labelers")),
    StateVar("validator_scores", "validators' moving-average audit scores of labelers", "agent",
             ("n_validators", "n_labelers")),
    StateVar("consensus_history", "Yuma consensus of the last commit_reveal_delay + 1 epochs, newest first",
             "agent", ("commit_reveal_delay + 1", "n_labelers")),
    StateVar("validator_copying", "honest validator copies consensus instead of auditing", "agent", V),
    StateVar("validator_profit", "moving average of validator dividends minus audit spend", "agent", V,
             "tokens/epoch"),
    StateVar("accuracy_window", "per-epoch correct tasks (MV, DS, both ceilings) and tasks demanded, last "
             "accuracy_window epochs", "aggregate", ("accuracy_window", "5")),
    StateVar("epoch", "epochs completed", "aggregate", (), "epochs"),
)
STATE = AGENTS + tuple(StateVar(mt.name, mt.description, "aggregate", (), mt.unit) for mt in METRICS)
AGENT_STATE = tuple(sv.name for sv in AGENTS if sv.scope == "agent")


def initial_strategies(params) -> np.ndarray:
    """Strategy per identity, (B, N), from the share parameters (lazy alternate constant/random)."""
    n = params["n_labelers"]
    x = ((np.arange(n) + 0.5) / n)[None, :]
    ends = np.cumsum(np.stack([1.0 - params["share_lazy"] - params["share_ai"] - params["sybil_share"]
                               - params["copy_share"] - params["cartel_share"], params["share_lazy"],
                               params["share_ai"], params["sybil_share"], params["copy_share"]], axis=1), axis=1)
    lazy_kind = np.where(np.arange(n) % 2 == 0, LAZY_CONSTANT, LAZY_RANDOM)[None, :]
    return np.select([x < ends[:, i:i + 1] for i in range(5)],
                     [HONEST, lazy_kind, AI, SYBIL, COPYCAT], default=CARTEL).astype(np.int64)


def ensure_minimum_active(active: np.ndarray, minimum: int) -> np.ndarray:
    """Activate the lowest-index inactive identities of rows with fewer than ``minimum`` active."""
    deficit = np.maximum(minimum - active.sum(axis=1), 0)
    inactive_rank = np.cumsum(~active, axis=1)
    return active | (~active & (inactive_rank <= deficit[:, None]))


def initial_state(params, rng: BatchRNG) -> dict[str, np.ndarray]:
    """Identities, empty histories and zeroed token accounts; epoch metrics undefined until epoch 1."""
    n, k, v = params["n_labelers"], params["n_classes"], params["n_validators"]
    batch = len(rng)
    strategy = initial_strategies(params)
    skilled = rng.random(size=n) < params["skilled_fraction"][:, None]
    skill = np.where(skilled, params["skill_skilled"][:, None], params["skill_noisy"][:, None])
    joins = rng.random(size=n) < params["initial_participation"][:, None]
    independent = np.isin(strategy, INDEPENDENT)
    active = ensure_minimum_active(np.where(independent, joins, True), params["labels_per_task"])
    stake = np.where(active, params["stake_required"][:, None], 0.0)
    copying = np.zeros((batch, v), dtype=bool)
    state = {mt.name: np.full(batch, np.nan) for mt in METRICS}
    for account in ("correct_labels", "minted", "paid_out", "paid_validators", "paid_owner", "paid_gold", "treasury",
                    "burned", "stake_returned", "audit_spend"):
        state[account] = np.zeros(batch)
    state.update({
        "strategy": strategy, "skill": skill, "active": active, "joined": active.copy(), "stake": stake,
        "profit": np.zeros((batch, n)), "gold_seen": np.zeros((batch, n)), "gold_correct": np.zeros((batch, n)),
        "cum_reward": np.zeros((batch, n)), "cum_correct": np.zeros((batch, n)),
        "ds_counts": np.zeros((batch, n, k, k)), "ds_counts_ceiling": np.zeros((batch, n, k, k)),
        "bonds": np.zeros((batch, v, n)), "validator_scores": np.zeros((batch, v, n)),
        "consensus_history": np.zeros((batch, params["commit_reveal_delay"] + 1, n)),
        "validator_copying": copying, "validator_profit": np.zeros((batch, v)),
        "accuracy_window": np.zeros((batch, params["accuracy_window"], 5)), "epoch": np.zeros(batch),
        "stake_locked": stake.sum(axis=1), "stake_deposited": stake.sum(axis=1),
    })
    state.update(population_metrics(strategy, active, copying))
    return state
