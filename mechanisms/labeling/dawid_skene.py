"""Label aggregation for crowdsourcing: majority vote and Dawid-Skene EM, batched.

Layout: ``labels`` and ``workers`` are integer arrays shaped ``(B, n_tasks, n_slots)``: slot ``s``
of task ``t`` in batch row ``b`` holds the class that worker ``workers[b, t, s]`` gave. A label
below zero marks an empty slot, so ragged crowds (tasks with different numbers of answers) fit the
same layout.

Dawid-Skene models each worker ``w`` by a confusion matrix ``pi[w, k, l] = P(w answers l | true
class k)`` and the tasks by class priors ``p[k]``; EM alternates the posterior of each task's true
class (E-step) with maximum-likelihood confusion matrices and priors (M-step). It starts from the
majority-vote posteriors, as the original paper and crowd-kit do.

Source: A. P. Dawid and A. M. Skene (1979), "Maximum Likelihood Estimation of Observer
Error-Rates Using the EM Algorithm", Journal of the Royal Statistical Society C 28(1), 20-28,
https://doi.org/10.2307/2346806. The update order (MV init, M-step, then E-step / prior / M-step
per iteration) follows crowd-kit's ``DawidSkene`` (Toloka, https://github.com/Toloka/crowd-kit),
which tests/test_labeling_dawid_skene.py uses as the reference implementation.

``prior_counts`` lets a long-running network carry each worker's soft confusion counts from
earlier epochs into this epoch's M-step (an online Dawid-Skene): with only a few labels per worker
per epoch, a single epoch's counts are too thin to estimate a K x K matrix.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class DawidSkeneResult:
    """Output of :func:`dawid_skene` (all arrays batched on the first axis).

    ``posteriors`` (B, T, K): P(true class | answers); ``labels`` (B, T): their argmax;
    ``confusion`` (B, W, K, K): estimated ``P(answer l | true k)`` per worker;
    ``class_prior`` (B, K); ``soft_counts`` (B, W, K, K): this data's expected counts of
    (true k, answer l) per worker under the final posteriors (to carry into later epochs).
    """

    posteriors: np.ndarray
    labels: np.ndarray
    confusion: np.ndarray
    class_prior: np.ndarray
    soft_counts: np.ndarray


def vote_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Number of answers per class for each task, shape (B, T, K); empty slots (< 0) ignored."""
    valid = labels >= 0
    onehot = (labels[..., None] == np.arange(n_classes)) & valid[..., None]
    return onehot.sum(axis=-2).astype(float)


def majority_vote(labels: np.ndarray, n_classes: int, tie_break: np.ndarray | None = None) -> np.ndarray:
    """Plurality label per task, shape (B, T).

    Ties go to the class with the largest ``tie_break`` value (an array (B, T, K) of numbers in
    [0, 1), e.g. uniform draws), or to the lowest class index when ``tie_break`` is None.
    """
    counts = vote_counts(labels, n_classes)
    if tie_break is not None:
        counts = counts + 0.5 * tie_break  # < 1, so it only orders tied counts
    return counts.argmax(axis=-1)


def _incidence(labels: np.ndarray, workers: np.ndarray, n_workers: int, n_classes: int) -> sparse.csr_matrix:
    """Sparse (B*W*K, B*T) matrix with a one where worker w gave answer l to task t.

    Rows are the cells (row b, worker w, answer l); columns the tasks. Soft counts are then
    ``A @ posteriors`` and per-task log-likelihoods ``A.T @ log-confusion``: each EM step costs
    a pass over the answers, not over workers x tasks. Within each batch row the summation order
    is the same whatever the batch size, so results do not depend on batching.
    """
    batch, n_tasks, _ = labels.shape
    valid = labels >= 0
    rows = np.arange(batch)[:, None, None]
    cell = ((rows * n_workers + workers) * n_classes + labels)[valid]
    task = np.broadcast_to(rows * n_tasks + np.arange(n_tasks)[None, :, None], labels.shape)[valid]
    shape = (batch * n_workers * n_classes, batch * n_tasks)
    return sparse.csr_matrix((np.ones(cell.size), (cell, task)), shape=shape)


def _cell_counts(incidence: sparse.csr_matrix, posteriors: np.ndarray) -> np.ndarray:
    """Expected counts per (row, worker, answer l) and true class k, as a (B*W*K, K) array."""
    return incidence @ posteriors.reshape(-1, posteriors.shape[-1])


def _m_step(cells: np.ndarray, n_classes: int, smoothing: float) -> np.ndarray:
    """Confusion matrices in cell layout (B*W, K_answer, K_true): each true-class column is
    normalised over answers after flooring every count at ``smoothing``.

    ``cells`` must be a temporary owned by the caller: it is floored and divided in place (these
    arrays have B x W x K^2 entries, and fresh allocations dominated the run time at 10,000
    identities).
    """
    floored = np.maximum(cells, smoothing, out=cells).reshape(-1, n_classes, n_classes)
    floored /= floored.sum(axis=1, keepdims=True)
    return floored


def _e_step(incidence_t: sparse.csr_matrix, confusion: np.ndarray, prior: np.ndarray, eps: float) -> np.ndarray:
    """Posterior of each task's true class, (B, T, K), computed in log space."""
    batch, n_classes = prior.shape
    per_task = (incidence_t @ np.log(confusion).reshape(-1, n_classes)).reshape(batch, -1, n_classes)
    log_like = np.log(np.maximum(prior, eps))[:, None, :] + per_task
    scaled = np.exp(log_like - log_like.max(axis=-1, keepdims=True))
    return scaled / scaled.sum(axis=-1, keepdims=True)


def _to_matrix(cells: np.ndarray, batch: int, n_workers: int, n_classes: int) -> np.ndarray:
    """Cell layout -> (B, W, K_true, K_answer)."""
    return cells.reshape(batch, n_workers, n_classes, n_classes).transpose(0, 1, 3, 2)


def dawid_skene(
    labels: np.ndarray,
    workers: np.ndarray,
    n_workers: int,
    n_classes: int,
    n_iter: int = 20,
    prior_counts: np.ndarray | None = None,
    smoothing: float = 1e-10,
) -> DawidSkeneResult:
    """Batched Dawid-Skene EM (see the module docstring for layout and sources).

    Parameters
    ----------
    labels, workers : int arrays (B, T, S)
        Answers and who gave them; ``labels < 0`` marks an empty slot.
    n_workers, n_classes : int
        Size of the worker index space and number of classes K.
    n_iter : int
        EM iterations after the majority-vote initialisation (fixed, so every batch row does the
        same work and results do not depend on batching).
    prior_counts : array (B, W, K, K), optional
        Soft counts from earlier data added in every M-step (an online Dawid-Skene).
    smoothing : float
        Floor on every count before normalising (crowd-kit uses 1e-10); larger values act as a
        pseudo-count that keeps rarely seen workers near uniform.
    """
    batch = labels.shape[0]
    extra = 0.0 if prior_counts is None else prior_counts.transpose(0, 1, 3, 2).reshape(-1, n_classes)
    votes = vote_counts(labels, n_classes)
    totals = votes.sum(axis=-1, keepdims=True)
    posteriors = np.where(totals > 0, votes / np.where(totals > 0, totals, 1.0), 1.0 / n_classes)
    prior = posteriors.mean(axis=1)
    incidence = _incidence(labels, workers, n_workers, n_classes)
    incidence_t = incidence.T.tocsr()
    confusion = _m_step(_cell_counts(incidence, posteriors) + extra, n_classes, smoothing)
    for _ in range(n_iter):
        posteriors = _e_step(incidence_t, confusion, prior, smoothing)
        prior = posteriors.mean(axis=1)
        confusion = _m_step(_cell_counts(incidence, posteriors) + extra, n_classes, smoothing)
    soft = _to_matrix(_cell_counts(incidence, posteriors), batch, n_workers, n_classes)
    confusion = _to_matrix(confusion, batch, n_workers, n_classes)
    return DawidSkeneResult(posteriors, posteriors.argmax(axis=-1), confusion, prior, soft)
