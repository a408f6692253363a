"""cadCAD policies of the labeling model: one epoch of labeling and pay, then adaptation.

``p_label_and_pay`` draws the epoch's tasks, assigns each to ``labels_per_task`` distinct active
labelers, generates their answers from their strategies, aggregates them (majority vote and
online Dawid-Skene), runs the same tasks through an all-honest crowd (the accuracy ceiling),
applies the reward rule (under ``yuma`` with validators who audit or copy), optionally measures
one-step deviation gains, and returns everything the updates need. ``p_adapt`` applies imitation
dynamics to labelers and validators, exploration, and profit-driven joining and leaving. Every
random number comes from ``params["rng"]`` and is drawn every epoch whatever the rule, so rules
can be compared under common random numbers (only ``equilibrium_check`` adds draws). Each policy
draws its numbers in a few large calls per sample
(:meth:`~tokensim.mechanisms.core.seeding.BatchRNG.step_draws`; model version 2.1).

Answer model (``K`` classes, task difficulty ``d``):

* honest, skill ``s``: right with probability ``1/K + (1 - 1/K) s (1 - d)``, else one of the
  other classes at random; pays ``effort_cost`` per label;
* lazy constant (class 0) and lazy random (uniform): no effort;
* cartel: one agreed class per task, chosen without looking; Sybil: every identity copies its
  operator's one class per task, also uninformed;
* copy cartel: on each task, the first member in slot order labels honestly (one effort) and every
  other member on the task submits the same answer (no effort);
* AI labeler: right with probability ``q(d) = 1/K + (1 - 1/K) ai_skill (1 - d) ** ai_difficulty_power``;
  with probability ``ai_correlation`` it returns the task's one shared model answer (drawn once per
  task from ``q(d)``, so AI errors coincide and concentrate on hard tasks), else its own draw;
  pays ``ai_cost`` per label;
* on the first ``gold_recognisable`` share of gold tasks, lazy, cartel and Sybil identities
  recognise the gold task and answer it honestly (paying the effort).

Demand shrinks as models self-train: epoch ``t`` (from 0) demands
``max(2, round(n_tasks (1 - demand_decay) ** t))`` tasks; the slots of the other tasks stay empty.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import metrics as m
from .dawid_skene import dawid_skene, majority_vote
from .metrics import AI, CARTEL, COPYCAT, HONEST, INDEPENDENT, LAZY, LAZY_RANDOM, SYBIL
from .rewards import (
    agreement_scores,
    audit_agreement,
    flat_scores,
    gold_check,
    gold_scores,
    peer_prediction_payments,
    peer_prediction_scores,
    per_worker_sum,
    slash,
    split_pool,
)
from .stake import validator_stake
from .state import ensure_minimum_active
from .yuma import yuma_epoch

BETA_CONCENTRATION = 4.0
DEVIATION_RATE = 0.1  # share of active independent labelers that deviate in the equilibrium check


def _assign_spec(active: np.ndarray, n_tasks: int, per_task: int) -> dict:
    """Slot ``s`` of each task draws among the ``n_active - s`` identities not yet drawn for it."""
    n_active = active.sum(axis=1)
    return {"assign": ((n_tasks, per_task), 0, n_active[:, None, None] - np.arange(per_task))}


def _task_spec(params) -> tuple[dict, dict]:
    t, k = params["n_tasks"], params["n_classes"]
    mean = params["difficulty_mean"]
    return {"truth": ((t,), 0, k)}, {"difficulty": ((t,), mean * BETA_CONCENTRATION, (1.0 - mean) * BETA_CONCENTRATION)}


def _noise_spec(params) -> tuple[dict, dict]:
    k, t, s = params["n_classes"], params["n_tasks"], params["labels_per_task"]
    uniform = {"u": (t, s), "ai_model_u": (t,), "ai_follow": (t, s)}
    integer = {"wrong": ((t, s), 1, k), "coin": ((t, s), 0, k), "cartel": ((t,), 0, k), "sybil": ((t,), 0, k),
               "ai_model_wrong": ((t,), 1, k)}
    return uniform, integer


def _validation_spec(params) -> tuple[dict, dict]:
    v, t, k = params["n_validators"], params["n_tasks"], params["n_classes"]
    return {"u_audit": (v, t), "u_right": (v, t)}, {"validation_wrong": ((v, t), 1, k)}


def assign_labelers(rng, active: np.ndarray, n_tasks: int, per_task: int,
                    draws: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Identity answering each (task, slot), (B, T, S): distinct active identities per task.

    Slot ``s`` draws uniformly among the active identities not yet drawn for the task (a loop over
    the few slots, not over agents): the index among the remaining ones is shifted past the
    already chosen ones, in increasing order. ``draws`` holds the ``assign`` numbers (drawn here
    when it is None).
    """
    if draws is None:
        draws = rng.step_draws(integer=_assign_spec(active, n_tasks, per_task))
    raw = draws["assign"]
    active_first = np.argsort(~active, axis=1, kind="stable")  # active identities, by index, first
    chosen = np.zeros((len(rng), n_tasks, 0), dtype=np.int64)
    slots = []
    for s in range(per_task):
        pick = raw[:, :, s]
        for c in range(s):
            pick = pick + (pick >= chosen[:, :, c])
        slots.append(pick)
        chosen = np.sort(np.concatenate([chosen, pick[:, :, None]], axis=2), axis=2)
    rank = np.stack(slots, axis=2)
    return np.take_along_axis(active_first[:, None, :], rank.reshape(len(rng), 1, -1), axis=2).reshape(rank.shape)


def draw_tasks(params, epoch: np.ndarray, draws: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The epoch's tasks: true class, difficulty, demanded / gold / recognisable-gold flags, each (B, T)."""
    t = params["n_tasks"]
    if draws is None:
        integer, beta = _task_spec(params)
        draws = params["rng"].step_draws(integer=integer, beta=beta)
    truth, difficulty = draws["truth"], draws["difficulty"]
    n_demanded = np.maximum(2, np.round(t * (1.0 - params["demand_decay"]) ** epoch)).astype(np.int64)
    index = np.arange(t)[None, :]
    n_gold = np.round(params["gold_share"] * n_demanded)
    return {"truth": truth, "difficulty": difficulty, "n_demanded": n_demanded,
            "demanded": index < n_demanded[:, None], "is_gold": index < n_gold[:, None],
            "recognised": index < np.round(params["gold_recognisable"] * n_gold)[:, None]}


def draw_answer_noise(params, draws: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Every random number the answers need, (B, T, S) or (B, T)."""
    uniform, integer = _noise_spec(params)
    if draws is None:
        draws = params["rng"].step_draws(uniform=uniform, integer=integer)
    return {name: draws[name] for name in (*uniform, *integer)}


def honest_answers(params, skill: np.ndarray, tasks, noise) -> np.ndarray:
    """What each slot's identity answers when it labels honestly with its own skill, (B, T, S)."""
    k = params["n_classes"]
    truth = tasks["truth"][:, :, None]
    p_right = 1.0 / k + (1.0 - 1.0 / k) * skill * (1.0 - tasks["difficulty"][:, :, None])
    return np.where(noise["u"] < p_right, truth, (truth + noise["wrong"]) % k)


def ai_answers(params, tasks, noise) -> np.ndarray:
    """AI labelers' answers, (B, T, S): a shared model answer or an own draw of the same accuracy."""
    k = params["n_classes"]
    ease = (1.0 - tasks["difficulty"]) ** params["ai_difficulty_power"][:, None]
    q = 1.0 / k + (1.0 - 1.0 / k) * params["ai_skill"][:, None] * ease  # (B, T)
    truth = tasks["truth"]
    model = np.where(noise["ai_model_u"] < q, truth, (truth + noise["ai_model_wrong"]) % k)[:, :, None]
    own = np.where(noise["u"] < q[:, :, None], truth[:, :, None], (truth[:, :, None] + noise["wrong"]) % k)
    return np.where(noise["ai_follow"] < params["ai_correlation"][:, None, None], model, own)


def answer(params, strategy: np.ndarray, skill: np.ndarray, tasks, workers, noise):
    """Each slot's label and effort cost, (B, T, S), from the answering identity's strategy.

    Returns ``(labels, effort, honest)``: ``honest`` is the all-honest crowd's answer in every slot
    (the ceiling), ``labels`` is -1 in the slots of tasks not demanded.
    """
    rows = np.arange(workers.shape[0])[:, None, None]
    slot_strategy, slot_skill = strategy[rows, workers], skill[rows, workers]
    honest = honest_answers(params, slot_skill, tasks, noise)
    shape = honest.shape
    copycat = slot_strategy == COPYCAT
    first_copycat = np.argmax(copycat, axis=2)  # the member who labels; the others copy it
    leader_answer = np.take_along_axis(honest, first_copycat[:, :, None], axis=2)
    leads = copycat & (np.arange(shape[2])[None, None, :] == first_copycat[:, :, None])
    recognised = tasks["recognised"][:, :, None] & np.isin(slot_strategy, (*LAZY, CARTEL, SYBIL))
    labels = np.select(
        [slot_strategy == HONEST, recognised, slot_strategy == LAZY_RANDOM, slot_strategy == CARTEL,
         slot_strategy == SYBIL, copycat, slot_strategy == AI],
        [honest, honest, noise["coin"], np.broadcast_to(noise["cartel"][:, :, None], shape),
         np.broadcast_to(noise["sybil"][:, :, None], shape), np.broadcast_to(leader_answer, shape),
         ai_answers(params, tasks, noise)],
        default=0,  # LAZY_CONSTANT
    )
    effort_cost, ai_cost = params["effort_cost"][:, None, None], params["ai_cost"][:, None, None]
    effort = np.where((slot_strategy == HONEST) | leads | recognised, effort_cost,
                      np.where(slot_strategy == AI, ai_cost, 0.0))
    demanded = tasks["demanded"][:, :, None]
    return np.where(demanded, labels, -1), np.where(demanded, effort, 0.0), np.where(demanded, honest, -1)


def draw_validation(params, state, tasks, draws: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Validators' audits this epoch: which tasks each audits (B, V, T), its own labels, the spend.

    An auditing honest validator audits each demanded task with probability ``audit_rate``, capped
    by its audit budget (``validator_budget`` tokens per epoch at ``audit_cost`` per task; the last
    ``unfunded_validator_share`` of honest validators have none). Copying validators (and the
    cartel's validator 0) audit nothing.
    """
    k = params["n_classes"]
    if draws is None:
        uniform, integer = _validation_spec(params)
        draws = params["rng"].step_draws(uniform=uniform, integer=integer)
    u_audit, u_right, wrong = draws["u_audit"], draws["u_right"], draws["validation_wrong"]
    truth = tasks["truth"][:, None, :]
    own = np.where(u_right < params["validator_accuracy"][:, None, None], truth, (truth + wrong) % k)
    cost = params["audit_cost"][:, None]
    budget = np.where(validator_funded(params), params["validator_budget"][:, None], 0.0)
    with np.errstate(over="ignore"):  # a tiny audit cost makes any budget unlimited
        affordable = np.where(cost > 0, budget / np.where(cost > 0, cost, 1.0) / tasks["n_demanded"][:, None], np.inf)
    rate = np.where(state["validator_copying"], 0.0, np.minimum(params["audit_rate"][:, None], affordable))
    rate[:, 0] = 0.0  # the cartel's validator weights its members without auditing
    audited = (u_audit < rate[:, :, None]) & tasks["demanded"][:, None, :]
    return {"own": own, "audited": audited, "spend": cost * audited.sum(axis=2)}


def validator_funded(params) -> np.ndarray:
    """(B, V): validators with an audit budget (honest validators 1..V-1 minus the unfunded last ones)."""
    v = params["n_validators"]
    honest_rank = np.arange(v)[None, :] - 1  # validator 0 is the cartel's
    n_unfunded = np.round(params["unfunded_validator_share"] * (v - 1))[:, None]
    return (honest_rank >= 0) & (honest_rank < (v - 1) - n_unfunded)


def pay(params, state, labels, workers, tasks, plurality, draws) -> dict[str, np.ndarray]:
    """Apply the reward rule: labeler, validator, owner and gold-maker payments, fines, unpaid pool."""
    n, rule, batch = params["n_labelers"], params["reward_rule"], workers.shape[0]
    pool = params["emission"].astype(float)
    seen, correct = gold_check(labels, workers, tasks["truth"], tasks["is_gold"], n)
    gold_seen, gold_correct = state["gold_seen"] + seen, state["gold_correct"] + correct
    zeros_v = np.zeros((batch, params["n_validators"]))
    out = {"fines": np.zeros_like(state["stake"]), "validator_payments": zeros_v, "owner_payment": np.zeros(batch),
           "gold_payment": np.zeros(batch), "gold_seen": gold_seen, "gold_correct": gold_correct,
           "bonds": state["bonds"], "validator_scores": state["validator_scores"],
           "consensus_history": state["consensus_history"], "audit_spend": zeros_v}
    if rule == "flat":
        out["payments"], out["unpaid"] = split_pool(pool, flat_scores(labels, workers, n))
    elif rule == "gold":
        gold_bill = np.minimum(pool, params["gold_cost"] * tasks["is_gold"].sum(axis=1))
        out["gold_payment"] = gold_bill
        out["fines"] = slash(state["stake"], params["slash_per_error"][:, None] * (seen - correct))
        scores = gold_scores(flat_scores(labels, workers, n), gold_seen, gold_correct, params["gold_threshold"])
        out["payments"], out["unpaid"] = split_pool(pool - gold_bill, scores)
    elif rule == "majority":
        out["payments"], out["unpaid"] = split_pool(pool, agreement_scores(labels, workers, plurality, n))
    elif rule == "peer":
        scores = peer_prediction_scores(labels, workers, n, draws["peer_offset"], draws["other_task"],
                                        tasks["n_demanded"])
        out["payments"], out["fines"], out["unpaid"] = peer_prediction_payments(pool, scores, state["stake"])
    else:
        out.update(yuma_pay(params, state, labels, workers, pool, draws["validation"]))
    return out


def yuma_pay(params, state, labels, workers, pool, validation) -> dict[str, np.ndarray]:
    """Validators set weights (audit scores, or copied consensus), Yuma splits the pool.

    Auditors keep a moving average of each labeler's audit score (``validator_score_memory``),
    updated where they audited it this epoch, and weight it by the labeler's labels this epoch.
    Copiers set last epoch's consensus, or with ``commit_reveal_delay`` = d the consensus revealed
    d epochs before that. The cartel's validator 0 weights only cartel members. The pool pays the
    subnet owner ``owner_cut``; of the rest, ``validator_take`` goes to validators as dividends and
    the remainder to labelers as incentive.
    """
    n, k = params["n_labelers"], params["n_classes"]
    above, seen = audit_agreement(labels, workers, validation["own"], validation["audited"], n, k)
    memory = params["validator_score_memory"][:, None, None]
    live = state["active"][:, None, :]
    scores = np.where(seen > 0, memory * state["validator_scores"] + (1.0 - memory) * above,
                      state["validator_scores"])
    scores = np.where(live, scores, 0.0)  # a labeler who left is deregistered
    n_labels = flat_scores(labels, workers, n)[:, None, :]
    weights = scores * n_labels
    copied = state["consensus_history"][:, -1, :]  # revealed commit_reveal_delay epochs late
    weights = np.where(state["validator_copying"][:, :, None], copied[:, None, :] * live, weights)
    cartel_member = ((state["strategy"] == CARTEL) & state["active"]).astype(float)
    weights[:, 0, :] = cartel_member
    result = yuma_epoch(weights, validator_stake(params), state["bonds"], params["kappa"], params["bond_penalty"],
                        params["bond_alpha"], params["yuma_variant"], params["alpha_low"], params["alpha_high"],
                        params["alpha_steepness"], registered=state["joined"])
    has_weight = result.incentive.sum(axis=1) > 0
    owner = np.where(has_weight, params["owner_cut"] * pool, 0.0)
    rest = pool - owner
    take = params["validator_take"][:, None]
    payments = (1.0 - take) * rest[:, None] * result.incentive
    validator_pay = np.where(has_weight[:, None], take * rest[:, None] * result.dividends, 0.0)
    history = np.concatenate([result.consensus[:, None, :], state["consensus_history"][:, :-1, :]], axis=1)
    return {"payments": payments, "validator_payments": validator_pay, "owner_payment": owner,
            "unpaid": pool - owner - payments.sum(axis=1) - validator_pay.sum(axis=1), "bonds": result.bonds,
            "validator_scores": scores, "consensus_history": history, "audit_spend": validation["spend"]}


def _label_pay_profit(params, state, strategy, tasks, workers, noise, draws):
    """Answers, pay and this epoch's profit per identity for a given strategy profile."""
    n = params["n_labelers"]
    labels, effort, honest = answer(params, strategy, state["skill"], tasks, workers, noise)
    plurality = majority_vote(labels, params["n_classes"], tie_break=draws["tie_break"])
    paid = pay(params, {**state, "strategy": strategy}, labels, workers, tasks, plurality, draws)
    effort_per = per_worker_sum(effort, workers, n)
    profit = paid["payments"] - paid["fines"] - effort_per - params["identity_cost"][:, None] * state["active"]
    return labels, honest, plurality, paid, effort_per, profit


def p_label_and_pay(params, substep, history, state, *args):
    """One epoch: tasks, answers, aggregation, ceiling, rewards, costs, profits and metrics."""
    rng, n, k, t, s = (params["rng"], params["n_labelers"], params["n_classes"], params["n_tasks"],
                       params["labels_per_task"])
    # every random number of the epoch, in a few calls per sample
    task_integer, beta = _task_spec(params)
    noise_uniform, noise_integer = _noise_spec(params)
    validation_uniform, validation_integer = _validation_spec(params)
    pool = rng.step_draws(uniform={**noise_uniform, **validation_uniform, "tie_break": (t, k)},
                          integer={**task_integer, **_assign_spec(state["active"], t, s), **noise_integer,
                                   **validation_integer, "peer_offset": ((t, s), 1, s), "other_task": ((t, s), 1, t)},
                          beta=beta)
    tasks = draw_tasks(params, state["epoch"], pool)
    workers = assign_labelers(rng, state["active"], t, s, pool)
    noise = draw_answer_noise(params, pool)
    draws = {"tie_break": pool["tie_break"], "peer_offset": pool["peer_offset"], "other_task": pool["other_task"]}
    draws["validation"] = draw_validation(params, state, tasks, pool)
    labels, honest, plurality, paid, effort, profit_now = _label_pay_profit(
        params, state, state["strategy"], tasks, workers, noise, draws)
    ceiling_plurality = majority_vote(honest, k, tie_break=draws["tie_break"])
    ds = dawid_skene(labels, workers, n, k, params["ds_iterations"], prior_counts=state["ds_counts"], smoothing=0.01)
    ds_ceiling = dawid_skene(honest, workers, n, k, params["ds_iterations"], prior_counts=state["ds_counts_ceiling"],
                             smoothing=0.01)
    truth = tasks["truth"]
    counts = m.accuracy_counts(truth, tasks["demanded"], plurality, ds.labels, ceiling_plurality, ds_ceiling.labels)
    window = m.push_window(state["accuracy_window"], counts)
    memory = params["profit_memory"][:, None]
    epoch_paid = (paid["payments"].sum(axis=1) + paid["validator_payments"].sum(axis=1) + paid["owner_payment"]
                  + paid["gold_payment"])
    correct_tasks = counts[:, m.DS]
    right_labels = per_worker_sum(labels == truth[:, :, None], workers, n)
    validator_profit_now = paid["validator_payments"] - paid["audit_spend"]
    v_memory = params["profit_memory"][:, None]
    out = {
        **paid,
        "profit": np.where(state["active"], memory * state["profit"] + (1.0 - memory) * profit_now, state["profit"]),
        "validator_profit": v_memory * state["validator_profit"] + (1.0 - v_memory) * validator_profit_now,
        "right_labels": right_labels,
        "ds_counts": ds.next_prior_counts(params["ds_memory"]),
        "ds_counts_ceiling": ds_ceiling.next_prior_counts(params["ds_memory"]),
        "accuracy_window": window,
        "epoch": state["epoch"] + 1,
        "epoch_paid": epoch_paid,
        "correct_tasks": correct_tasks,
        **m.window_accuracies(window),
        **m.reward_metrics(state["strategy"], state["active"], paid["payments"], paid["validator_payments"], effort),
        "reward_correct_corr": m.row_correlation(state["cum_reward"] + paid["payments"],
                                                 state["cum_correct"] + right_labels),
        "cost_per_correct_label": m.cost_per_correct(state["paid_out"] + epoch_paid,
                                                     state["correct_labels"] + correct_tasks),
        "audit_spend": paid["audit_spend"].sum(axis=1),
    }
    if params["equilibrium_check"]:
        out.update(_deviation_gains(params, state, tasks, workers, noise, draws, profit_now))
    return out


def _deviation_gains(params, state, tasks, workers, noise, draws, profit_now) -> dict[str, np.ndarray]:
    """One-step best response: a random tenth of active independent labelers each switch to a random
    other independent strategy for this epoch, on the same draws; their profit gain by type pair."""
    rng, n = params["rng"], params["n_labelers"]
    check = rng.step_draws(uniform={"u": (n,)}, integer={"pick": ((n,), 1, len(INDEPENDENT))})
    u, pick = check["u"], check["pick"]
    strategy = state["strategy"]
    independent = np.isin(strategy, INDEPENDENT) & state["active"]
    deviating = independent & (u < DEVIATION_RATE)
    position = np.argmax(strategy[:, :, None] == np.asarray(INDEPENDENT)[None, None, :], axis=2)
    target = np.asarray(INDEPENDENT)[(position + pick) % len(INDEPENDENT)]
    switched = np.where(deviating, target, strategy)
    *_, profit_cf = _label_pay_profit(params, state, switched, tasks, workers, noise, draws)
    return m.deviation_gains(strategy, target, deviating, profit_cf - profit_now)


def _imitate(profit: np.ndarray, strategy: np.ndarray, eligible: np.ndarray, peer: np.ndarray,
             u: np.ndarray) -> np.ndarray:
    """Pairwise proportional imitation (Schlag 1998): switch to the peer's strategy with probability
    (peer profit - own profit) / (profit range among the eligible), replicator dynamics on average."""
    rows = np.arange(peer.shape[0])[:, None]
    masked = np.where(eligible, profit, np.nan)
    spread = np.nan_to_num(np.nanmax(masked, axis=1, initial=-np.inf) - np.nanmin(masked, axis=1, initial=np.inf))
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)[:, None]
    gain = (profit[rows, peer] - profit) / spread
    switch = eligible & eligible[rows, peer] & (u < gain)
    return np.where(switch, strategy[rows, peer], strategy)


def p_adapt(params, substep, history, state, *args):
    """Strategy revision (labelers and validators), exploration, leaving and joining; stake top-ups."""
    rng, n, v = params["rng"], params["n_labelers"], params["n_validators"]
    d = rng.step_draws(uniform={"revise": (n,), "u_imitate": (n,), "explore": (n,), "u_join": (n,), "u_leave": (n,),
                                "v_revise": (v,), "v_u": (v,), "v_explore": (v,)},
                       integer={"peer": ((n,), 0, n), "explore_to": ((n,), 0, len(INDEPENDENT)),
                                "v_peer": ((v,), 1, max(v, 2))})
    revise = d["revise"] < params["adapt_rate"][:, None]
    peer, u_imitate = d["peer"], d["u_imitate"]
    explore = d["explore"] < params["explore_rate"][:, None]
    explore_to, u_join, u_leave = d["explore_to"], d["u_join"], d["u_leave"]
    v_revise = d["v_revise"] < params["validator_adapt_rate"][:, None]
    v_peer, v_u = d["v_peer"], d["v_u"]
    v_explore = d["v_explore"] < params["explore_rate"][:, None]
    strategy, active, profit = state["strategy"], state["active"], state["profit"]
    rows = np.arange(peer.shape[0])[:, None]
    independent = np.isin(strategy, INDEPENDENT)
    imitated = _imitate(profit, strategy, independent & active, peer, u_imitate)
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
    honest_validator = np.arange(v)[None, :] >= 1
    mode = state["validator_copying"].astype(np.int64)
    # validators compare returns per unit of stake (a big validator earns more whatever it does)
    stake = validator_stake(params)
    yield_ = state["validator_profit"] / np.where(stake > 0, stake, 1.0)
    v_imitated = _imitate(yield_, mode, np.broadcast_to(honest_validator, mode.shape), v_peer, v_u)
    mode = np.where(v_revise, v_imitated, mode)
    mode = np.where(v_explore & honest_validator, 1 - mode, mode)
    # a validator with no audit budget cannot take up auditing once it has found copying
    cost = params["audit_cost"][:, None]
    can_audit = validator_funded(params) & ((params["validator_budget"][:, None] > 0) | (cost == 0))
    mode = np.where(state["validator_copying"] & ~can_audit, 1, mode)
    # validators exist only under the yuma rule; elsewhere their mode never changes
    copying = ((mode == 1) & honest_validator) if params["reward_rule"] == "yuma" else state["validator_copying"]
    return {"strategy": new_strategy, "active": new_active, "joined": new_active & ~active, "profit": new_profit,
            "stake": new_stake, "deposits": deposits.sum(axis=1), "returned": returned.sum(axis=1),
            "validator_copying": copying, **m.population_metrics(new_strategy, new_active, copying)}


def _group_mean_profit(strategy: np.ndarray, active: np.ndarray, profit: np.ndarray) -> np.ndarray:
    """Each identity's operator group (cartel, Sybil or copy cartel) mean profit over its active
    members; NaN-free."""
    out = np.zeros_like(profit)
    for group in m.GROUPS:
        member = strategy == group
        live = member & active
        mean = np.where(live, profit, 0.0).sum(axis=1) / np.maximum(live.sum(axis=1), 1)
        out = np.where(member, np.where(live.any(axis=1), mean, 0.0)[:, None], out)
    return out
