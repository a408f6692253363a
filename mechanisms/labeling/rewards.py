"""The five reward rules of the labeling model, as pure batched functions.

Every rule turns one epoch's answers into a non-negative *score* per labeler; the epoch's reward
pool is then split in proportion to the scores (:func:`split_pool`). The rules:

``flat``
    Pay per label: the score is the number of labels given. Nothing checks quality.
``gold``
    Gold-standard checks with slashing: a share of tasks have known answers. Each wrong gold
    answer slashes a fixed amount of the labeler's stake (burned), and only labelers whose
    smoothed gold accuracy is at least a threshold are paid, per label (the usual practice of
    crowdsourcing platforms with honeypot/gold questions).
``majority``
    Output agreement: the score is the number of labels that match the task's plurality answer.
``peer``
    Peer prediction with the correlated-agreement (CA) mechanism of Shnayder, Agarwal, Frongillo
    and Parkes (2016), "Informed Truthfulness in Multi-Task Peer Prediction", EC'16,
    https://arxiv.org/abs/1603.03151 (Section 4, the CA mechanism). For each label, a peer who
    answered the same task is drawn; the score is 1[agree on the shared task] minus
    1[agree on two distinct tasks]. With categorical signals whose only positive correlations are
    on the diagonal, the scoring matrix is the identity, which is what we use. A report that does
    not depend on the task (a constant or a coin flip) scores zero in expectation. Simplification:
    the "distinct tasks" term compares the labeler's answer with the answer in the peer's slot
    of another random task, not with the peer's own answer to a third task (the same expectation
    when answer distributions do not change across tasks and slots are assigned at random). Positive
    scores share the pool; a negative score is a fine at the same price per point, taken from
    stake and burned, so the expected payment is linear in the expected score.
``yuma``
    Bittensor's validator consensus (:mod:`tokensim.mechanisms.labeling.yuma`): validators audit a share
    of tasks (at a cost) or copy last epoch's consensus, and set weights; Yuma consensus turns them
    into labeler incentive and validator dividends. See :func:`audit_agreement`.

A label below zero marks an empty slot (a task not demanded this epoch): it scores nothing.
"""
from __future__ import annotations

import numpy as np

RULES = ("flat", "gold", "majority", "peer", "yuma")


def per_worker_sum(values: np.ndarray, workers: np.ndarray, n_workers: int) -> np.ndarray:
    """Sum ``values`` (B, T, S) into the workers that gave each slot: (B, n_workers)."""
    batch = workers.shape[0]
    index = np.arange(batch)[:, None, None] * n_workers + workers
    flat = np.bincount(index.ravel(), weights=np.broadcast_to(values, workers.shape).ravel().astype(float),
                       minlength=batch * n_workers)
    return flat.reshape(batch, n_workers)


def split_pool(pool: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``pool`` (B,) in proportion to non-negative ``scores`` (B, N).

    Returns ``(payments (B, N), unpaid (B,))``: a row whose scores are all zero pays nobody and
    its whole pool is unpaid (it goes to the treasury).
    """
    total = scores.sum(axis=1)
    has = total > 0
    payments = pool[:, None] * scores / np.where(has, total, 1.0)[:, None]
    payments = np.where(has[:, None], payments, 0.0)
    return payments, np.where(has, 0.0, pool)


def flat_scores(labels: np.ndarray, workers: np.ndarray, n_workers: int) -> np.ndarray:
    """Number of labels each labeler gave (pay per label)."""
    return per_worker_sum(labels >= 0, workers, n_workers)


def agreement_scores(labels: np.ndarray, workers: np.ndarray, plurality: np.ndarray, n_workers: int) -> np.ndarray:
    """Number of each labeler's labels equal to the task's plurality answer (output agreement)."""
    return per_worker_sum(labels == plurality[:, :, None], workers, n_workers)


def gold_check(
    labels: np.ndarray,
    workers: np.ndarray,
    truth: np.ndarray,
    is_gold: np.ndarray,
    n_workers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Gold answers seen and gold answers correct this epoch, each (B, N)."""
    gold = np.broadcast_to(is_gold[:, :, None], labels.shape) & (labels >= 0)
    seen = per_worker_sum(gold, workers, n_workers)
    correct = per_worker_sum(gold & (labels == truth[:, :, None]), workers, n_workers)
    return seen, correct


def gold_scores(
    n_labels: np.ndarray,
    gold_seen: np.ndarray,
    gold_correct: np.ndarray,
    threshold: np.ndarray,
    prior_correct: float = 2.0,
    prior_wrong: float = 1.0,
) -> np.ndarray:
    """Pay per label to labelers whose smoothed gold accuracy reaches ``threshold`` (B,).

    The accuracy is the posterior mean under a Beta(``prior_correct``, ``prior_wrong``) prior,
    so a newcomer with no gold history starts at 2/3 (paid when the threshold is below that).
    """
    accuracy = (gold_correct + prior_correct) / (gold_seen + prior_correct + prior_wrong)
    return np.where(accuracy >= threshold[:, None], n_labels, 0.0)


def slash(stake: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Tokens actually slashed: ``amount`` capped at the stake, so stakes never go negative."""
    return np.minimum(stake, np.maximum(amount, 0.0))


def peer_prediction_scores(
    labels: np.ndarray,
    workers: np.ndarray,
    n_workers: int,
    peer_offset: np.ndarray,
    other_task_offset: np.ndarray,
    n_demanded: np.ndarray | None = None,
) -> np.ndarray:
    """Correlated-agreement score per labeler, (B, N) (see the module docstring).

    ``peer_offset`` (B, T, S) in [1, S-1] picks the peer's slot on the same task;
    ``other_task_offset`` (B, T, S) in [1, T-1] picks a different task, whose answer in the
    peer's slot position is the baseline (never the labeler's own slot position, so a labeler is
    not compared with itself unless it happens to sit in that slot of the other task). With
    ``n_demanded`` (B,) only the first tasks hold labels, and the other task is drawn among them.
    """
    batch, n_tasks, n_slots = labels.shape
    task = np.arange(n_tasks)[None, :, None]
    slot = np.arange(n_slots)[None, None, :]
    peer_slot = (slot + peer_offset) % n_slots
    peer = np.take_along_axis(labels, peer_slot, axis=2)
    rows = np.arange(batch)[:, None, None]
    if n_demanded is None:
        other = (task + other_task_offset) % n_tasks
    else:
        m = np.maximum(np.asarray(n_demanded), 2)[:, None, None]
        other = (task + 1 + (other_task_offset - 1) % (m - 1)) % m
    baseline = labels[rows, other, peer_slot]
    score = (labels == peer).astype(float) - (labels == baseline).astype(float)
    return per_worker_sum(np.where(labels >= 0, score, 0.0), workers, n_workers)


def peer_prediction_payments(pool: np.ndarray, scores: np.ndarray, stake: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pay positive CA scores from ``pool``; fine negative ones at the same price from stake.

    Returns ``(payments, fines, unpaid)``; fines are capped at the stake (and burned by the model).
    """
    payments, unpaid = split_pool(pool, np.maximum(scores, 0.0))
    positive = np.maximum(scores, 0.0).sum(axis=1)
    price = np.where(positive > 0, pool / np.where(positive > 0, positive, 1.0), 0.0)
    fines = slash(stake, price[:, None] * np.maximum(-scores, 0.0))
    return payments, fines, unpaid


def audit_agreement(
    labels: np.ndarray,
    workers: np.ndarray,
    validator_labels: np.ndarray,
    audited: np.ndarray,
    n_workers: int,
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """What each validator learns from its audits: (above-chance agreement, audited labels), (B, V, N).

    A validator labels the tasks it audits itself (``validator_labels`` (B, V, T), its own noisy
    judgement; ``audited`` (B, V, T)) and compares each labeler's answers on those tasks with its
    own: the score is ``max(agreement rate - 1/K, 0)``, 0 for a labeler it did not audit.
    """
    used = labels >= 0
    n_validators = validator_labels.shape[1]
    agree, seen = [], []
    for v in range(n_validators):  # a loop over validators, not agents
        on = used & audited[:, v, :, None]
        agree.append(per_worker_sum(on & (labels == validator_labels[:, v, :, None]), workers, n_workers))
        seen.append(per_worker_sum(on, workers, n_workers))
    agree_a, seen_a = np.stack(agree, axis=1), np.stack(seen, axis=1)
    rate = np.divide(agree_a, np.maximum(seen_a, 1.0), out=agree_a)
    above = np.maximum(np.subtract(rate, 1.0 / n_classes, out=rate), 0.0, out=rate)
    return above, seen_a
