"""cadCAD policies of the labeling model: one epoch of labeling and pay, then adaptation.

``p_label_and_pay`` draws the epoch's tasks, assigns each to ``labels_per_task`` distinct active
labelers, generates their answers from their strategies, aggregates them (majority vote and
online Dawid-Skene), applies the reward rule and returns everything the updates need.
``p_adapt`` applies imitation dynamics (labelers copy better-paid peers), exploration, and
profit-driven joining and leaving. Every random number comes from ``params["rng"]`` and is drawn
every epoch whatever the rule, so rules can be compared under common random numbers.

Answer model: an honest labeler with skill ``s`` answers a task of difficulty ``d`` correctly with
probability ``1/K + (1 - 1/K) s (1 - d)``, otherwise one of the other ``K - 1`` classes at random.
Lazy labelers answer class 0 (constant) or a uniform class (random) without effort; the cartel
answers one agreed class per task and every Sybil identity copies its operator's one class per
task, both chosen without looking at the task (uniform, independent of the truth).
"""
from __future__ import annotations

import numpy as np

from .dawid_skene import dawid_skene, majority_vote
from .metrics import CARTEL, HONEST, INDEPENDENT, LAZY_RANDOM, SYBIL
from .rewards import (
    agreement_scores,
    flat_scores,
    gold_check,
    gold_scores,
    peer_prediction_payments,
    peer_prediction_scores,
    per_worker_sum,
    slash,
    split_pool,
    validator_weights,
)
from .state import ensure_minimum_active
from .yuma import yuma_epoch

BETA_CONCENTRATION = 4.0


def assign_labelers(rng, active: np.ndarray, n_tasks: int, per_task: int) -> np.ndarray:
    """Identity answering each (task, slot), (B, T, S): distinct active identities per task.

    Slot ``s`` draws uniformly among the active identities not yet drawn for the task (a loop over
    the few slots, not over agents): the index among the remaining ones is shifted past the
    already chosen ones, in increasing order.
    """
    n_active = active.sum(axis=1)
    active_first = np.argsort(~active, axis=1, kind="stable")  # active identities, by index, first
    chosen = np.zeros((len(rng), n_tasks, 0), dtype=np.int64)
    slots = []
    for s in range(per_task):
        pick = rng.integers(size=n_tasks, low=0, high=n_active - s)
        for c in range(s):
            pick = pick + (pick >= chosen[:, :, c])
        slots.append(pick)
        chosen = np.sort(np.concatenate([chosen, pick[:, :, None]], axis=2), axis=2)
    rank = np.stack(slots, axis=2)
    return np.take_along_axis(active_first[:, None, :], rank.reshape(len(rng), 1, -1), axis=2).reshape(rank.shape)


def draw_tasks(params) -> dict[str, np.ndarray]:
    """The epoch's tasks: true class, difficulty and gold flag, each (B, T)."""
    rng, t, k = params["rng"], params["n_tasks"], params["n_classes"]
    mean = params["difficulty_mean"]
    truth = rng.integers(size=t, low=0, high=k)
    difficulty = rng.beta(size=t, a=mean * BETA_CONCENTRATION, b=(1.0 - mean) * BETA_CONCENTRATION)
    is_gold = np.arange(t)[None, :] < np.round(params["gold_share"] * t)[:, None]
    return {"truth": truth, "difficulty": difficulty, "is_gold": is_gold}


def answer(params, state, tasks, workers) -> np.ndarray:
    """Each slot's label, (B, T, S), from the answering identity's strategy and skill."""
    rng, k, t, s = params["rng"], params["n_classes"], params["n_tasks"], params["labels_per_task"]
    u = rng.random(size=(t, s))
    wrong = rng.integers(size=(t, s), low=1, high=k)
    coin = rng.integers(size=(t, s), low=0, high=k)
    cartel_pick = rng.integers(size=t, low=0, high=k)
    sybil_pick = rng.integers(size=t, low=0, high=k)
    rows = np.arange(workers.shape[0])[:, None, None]
    strategy = state["strategy"][rows, workers]
    skill = state["skill"][rows, workers]
    truth = tasks["truth"][:, :, None]
    p_right = 1.0 / k + (1.0 - 1.0 / k) * skill * (1.0 - tasks["difficulty"][:, :, None])
    honest = np.where(u < p_right, truth, (truth + wrong) % k)
    return np.select(
        [strategy == HONEST, strategy == LAZY_RANDOM, strategy == CARTEL, strategy == SYBIL],
        [honest, coin, np.broadcast_to(cartel_pick[:, :, None], coin.shape),
         np.broadcast_to(sybil_pick[:, :, None], coin.shape)],
        default=0,  # LAZY_CONSTANT
    )


def validator_stake(params) -> np.ndarray:
    """Validator stake (B, V): validator 0 is the cartel's with ``cartel_share``; the rest share equally."""
    v = params["n_validators"]
    cartel = params["cartel_share"][:, None]
    honest = np.broadcast_to((1.0 - cartel) / (v - 1), (len(params["rng"]), v - 1))
    return np.concatenate([cartel, honest], axis=1)


def validator_labels(params, truth: np.ndarray) -> np.ndarray:
    """Each validator's own audit label per task, (B, V, T): right with ``validator_accuracy``."""
    rng, v, t, k = params["rng"], params["n_validators"], params["n_tasks"], params["n_classes"]
    u = rng.random(size=(v, t))
    wrong = rng.integers(size=(v, t), low=1, high=k)
    right = u < params["validator_accuracy"][:, None, None]
    return np.where(right, truth[:, None, :], (truth[:, None, :] + wrong) % k)


def pay(params, state, labels, workers, tasks, plurality) -> dict[str, np.ndarray]:
    """Apply the reward rule: labeler payments, validator payments, slashing, unpaid pool."""
    rng, n, rule = params["rng"], params["n_labelers"], params["reward_rule"]
    t, s = params["n_tasks"], params["labels_per_task"]
    pool = params["emission"].astype(float)
    # draws for the peer-prediction and validator audits happen under every rule (common numbers)
    peer_offset = rng.integers(size=(t, s), low=1, high=s)
    other_task = rng.integers(size=(t, s), low=1, high=t)
    audit = validator_labels(params, tasks["truth"])
    seen, correct = gold_check(labels, workers, tasks["truth"], tasks["is_gold"], n)
    gold_seen, gold_correct = state["gold_seen"] + seen, state["gold_correct"] + correct
    fines = np.zeros_like(state["stake"])
    validator_pay = np.zeros((len(rng), params["n_validators"]))
    bonds = state["bonds"]
    if rule == "flat":
        payments, unpaid = split_pool(pool, flat_scores(workers, n))
    elif rule == "gold":
        fines = slash(state["stake"], params["slash_per_error"][:, None] * (seen - correct))
        scores = gold_scores(flat_scores(workers, n), gold_seen, gold_correct, params["gold_threshold"])
        payments, unpaid = split_pool(pool, scores)
    elif rule == "majority":
        payments, unpaid = split_pool(pool, agreement_scores(labels, workers, plurality, n))
    elif rule == "peer":
        scores = peer_prediction_scores(labels, workers, n, peer_offset, other_task)
        payments, fines, unpaid = peer_prediction_payments(pool, scores, state["stake"])
    else:  # yuma
        cartel_member = (state["strategy"] == CARTEL) & state["active"]
        cartel_validator = np.arange(params["n_validators"])[None, :] == 0
        weights = validator_weights(labels, workers, audit, n, params["n_classes"],
                                    np.broadcast_to(cartel_validator, audit.shape[:2]), cartel_member)
        result = yuma_epoch(weights, validator_stake(params), bonds, params["kappa"], params["bond_penalty"],
                            params["bond_alpha"], params["yuma_variant"], params["alpha_low"], params["alpha_high"],
                            params["alpha_steepness"], registered=state["joined"])
        bonds = result.bonds
        take = params["validator_take"][:, None]
        has_weight = result.incentive.sum(axis=1) > 0
        payments = (1.0 - take) * pool[:, None] * result.incentive
        validator_pay = np.where(has_weight[:, None], take * pool[:, None] * result.dividends, 0.0)
        unpaid = pool - payments.sum(axis=1) - validator_pay.sum(axis=1)
    return {"payments": payments, "validator_payments": validator_pay, "fines": fines, "unpaid": unpaid,
            "gold_seen": gold_seen, "gold_correct": gold_correct, "bonds": bonds}


def p_label_and_pay(params, substep, history, state, *args):
    """One epoch: tasks, answers, aggregation, rewards, costs and profits (see module docstring)."""
    rng, n, k = params["rng"], params["n_labelers"], params["n_classes"]
    tasks = draw_tasks(params)
    workers = assign_labelers(rng, state["active"], params["n_tasks"], params["labels_per_task"])
    labels = answer(params, state, tasks, workers)
    plurality = majority_vote(labels, k, tie_break=rng.random(size=(params["n_tasks"], k)))
    ds = dawid_skene(labels, workers, n, k, params["ds_iterations"], prior_counts=state["ds_counts"], smoothing=0.01)
    paid = pay(params, state, labels, workers, tasks, plurality)
    slot_strategy = state["strategy"][np.arange(workers.shape[0])[:, None, None], workers]
    honest_labels = per_worker_sum(slot_strategy == HONEST, workers, n)
    cost = params["effort_cost"][:, None] * honest_labels + params["identity_cost"][:, None] * state["active"]
    profit_now = paid["payments"] - paid["fines"] - cost
    memory = params["profit_memory"][:, None]
    right_labels = per_worker_sum(labels == tasks["truth"][:, :, None], workers, n)
    ds_right = ds.labels == tasks["truth"]
    return {
        **paid,
        "profit": np.where(state["active"], memory * state["profit"] + (1.0 - memory) * profit_now, state["profit"]),
        "right_labels": right_labels,
        "ds_counts": ds.next_prior_counts(params["ds_memory"]),
        "accuracy_majority": (plurality == tasks["truth"]).mean(axis=1),
        "accuracy_dawid_skene": ds_right.mean(axis=1),
        "correct_tasks": ds_right.sum(axis=1).astype(float),
    }


def _imitate(state, peer: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Pairwise proportional imitation (Schlag 1998): switch to the peer's strategy with probability
    (peer profit - own profit) / (profit range), which yields replicator dynamics on average."""
    rows = np.arange(peer.shape[0])[:, None]
    profit, strategy, active = state["profit"], state["strategy"], state["active"]
    independent = np.isin(strategy, INDEPENDENT) & active
    masked = np.where(independent, profit, np.nan)
    spread = np.nan_to_num(np.nanmax(masked, axis=1, initial=-np.inf) - np.nanmin(masked, axis=1, initial=np.inf))
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)[:, None]
    gain = (profit[rows, peer] - profit) / spread
    switch = independent & independent[rows, peer] & (u < gain)
    return np.where(switch, strategy[rows, peer], strategy)


def p_adapt(params, substep, history, state, *args):
    """Strategy revision, exploration, leaving and joining; stake top-ups and returns."""
    rng, n = params["rng"], params["n_labelers"]
    revise = rng.random(size=n) < params["adapt_rate"][:, None]
    peer = rng.integers(size=n, low=0, high=n)
    u_imitate = rng.random(size=n)
    explore = rng.random(size=n) < params["explore_rate"][:, None]
    explore_to = rng.integers(size=n, low=0, high=len(INDEPENDENT))
    u_join = rng.random(size=n)
    u_leave = rng.random(size=n)
    strategy, active, profit = state["strategy"], state["active"], state["profit"]
    rows = np.arange(peer.shape[0])[:, None]
    independent = np.isin(strategy, INDEPENDENT)
    imitated = _imitate(state, peer, u_imitate)
    new_strategy = np.where(revise, imitated, strategy)
    new_strategy = np.where(explore & independent & active, np.asarray(INDEPENDENT)[explore_to], new_strategy)
    leave = active & (profit < 0) & (u_leave < params["leave_rate"][:, None])
    group_profit = _group_mean_profit(strategy, active, profit)  # (B, N): mean profit of own group
    peer_ok = active[rows, peer] & independent[rows, peer] & (profit[rows, peer] > 0)
    join_independent = ~active & independent & peer_ok
    join_operator = ~active & ~independent & (group_profit > 0)
    join = (join_independent | join_operator) & (u_join < params["join_rate"][:, None])
    new_strategy = np.where(join & independent, strategy[rows, peer], new_strategy)
    new_profit = np.where(join, np.where(independent, profit[rows, peer], group_profit), profit)
    new_active = ensure_minimum_active((active & ~leave) | join, params["labels_per_task"])
    required = params["stake_required"][:, None]
    new_stake = np.where(new_active, required, 0.0)
    deposits = np.where(new_active, required - np.where(active, state["stake"], 0.0), 0.0)
    returned = np.where(active & ~new_active, state["stake"], 0.0)
    return {"strategy": new_strategy, "active": new_active, "joined": new_active & ~active, "profit": new_profit, "stake": new_stake,
            "deposits": deposits.sum(axis=1), "returned": returned.sum(axis=1)}


def _group_mean_profit(strategy: np.ndarray, active: np.ndarray, profit: np.ndarray) -> np.ndarray:
    """Each identity's operator group (cartel or Sybil) mean profit over its active members; NaN-free."""
    out = np.zeros_like(profit)
    for group in (CARTEL, SYBIL):
        member = strategy == group
        live = member & active
        mean = np.where(live, profit, 0.0).sum(axis=1) / np.maximum(live.sum(axis=1), 1)
        out = np.where(member, np.where(live.any(axis=1), mean, 0.0)[:, None], out)
    return out
