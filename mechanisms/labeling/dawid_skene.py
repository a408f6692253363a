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

Only the cells (batch row, worker, answer) that hold at least one answer enter the EM iterations: a
worker's confusion matrix changes the posteriors only through the answers it gave, and a cell
without answers keeps its prior counts. With many identities and few answers each (10,000
identities and about one answer each per epoch), this keeps every iteration proportional to the
answers, not to workers x K x K; the full matrices are assembled only on request
(:attr:`DawidSkeneResult.confusion`, :attr:`DawidSkeneResult.soft_counts`). Every number is
computed with the same operations in the same order as on the full matrices, so results are
bit-for-bit those of the dense computation.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Cells:
    """The cells (batch row ``b``, worker ``w``, answer ``l``) that hold at least one answer.

    ``key`` (C,): their flat indices ``(b W + w) K + l``, sorted; ``workers`` (M,): the sorted
    flat indices ``b W + w`` of workers with at least one answer, and ``owner`` (C,) the
    position of each cell's worker in ``workers``. ``entry`` (C, K) are the flat positions of
    each cell's K counts (true class k) in a (B, W, K_true, K_answer) array, ``slot`` (C, K)
    those in the (K_answer, M, K_true) work array of the M-step. ``incidence`` is the sparse
    (C, B*T) matrix with a one where the cell's worker gave answer ``l`` to task ``t`` and
    ``incidence_t`` its transpose: soft counts are ``incidence @ posteriors`` and per-task
    log-likelihoods ``incidence_t @ log-confusion``, so each EM step costs a pass over the
    answers. Within each batch row the summation order is the same whatever the batch size, so
    results do not depend on batching.
    """

    key: np.ndarray
    workers: np.ndarray
    owner: np.ndarray
    entry: np.ndarray
    slot: np.ndarray
    incidence: sparse.csr_matrix
    incidence_t: sparse.csr_matrix
    shape: tuple[int, int, int]  # (B, W, K)


@dataclass(frozen=True)
class DawidSkeneResult:
    """Output of :func:`dawid_skene` (all arrays batched on the first axis).

    ``posteriors`` (B, T, K): P(true class | answers); ``labels`` (B, T): their argmax;
    ``class_prior`` (B, K); ``cell_counts`` (C, K): each answered cell's expected count per true
    class under the final posteriors. The full per-worker arrays are built on first access:
    ``confusion`` (B, W, K, K), estimated ``P(answer l | true k)`` per worker, and
    ``soft_counts`` (B, W, K, K), this data's expected counts of (true k, answer l) per worker
    (to carry into later epochs, see :meth:`next_prior_counts`).
    """

    posteriors: np.ndarray
    labels: np.ndarray
    class_prior: np.ndarray
    cells: Cells
    cell_counts: np.ndarray
    prior_counts: np.ndarray | None
    smoothing: float

    def _dense(self, values: np.ndarray, base: np.ndarray | None) -> np.ndarray:
        """Cell layout (B*W*K_answer, K_true): ``base`` (or zeros) with the answered cells set to ``values``."""
        batch, n_workers, k = self.cells.shape
        out = np.zeros((batch * n_workers * k, k)) if base is None else _cell_layout(base)
        out[self.cells.key] = values
        return out

    @cached_property
    def soft_counts(self) -> np.ndarray:
        return _to_matrix(self._dense(self.cell_counts, None), *self.cells.shape)

    @cached_property
    def confusion(self) -> np.ndarray:
        extra = 0.0 if self.prior_counts is None else self.prior_counts.reshape(-1)[self.cells.entry]
        cells = self._dense(self.cell_counts + extra, self.prior_counts)
        k = self.cells.shape[2]
        floored = np.maximum(cells, self.smoothing, out=cells).reshape(-1, k, k)
        floored /= floored.sum(axis=1, keepdims=True)
        return _to_matrix(floored, *self.cells.shape)

    def next_prior_counts(self, decay: np.ndarray) -> np.ndarray:
        """``decay * (prior_counts + soft_counts)``, (B, W, K, K), for the next epoch's M-steps.

        ``decay`` is (B,). Workers without answers only decay; the rest get their soft counts
        added (the same numbers as the full expression, since adding zero changes nothing).
        """
        batch, n_workers, k = self.cells.shape
        prior = np.zeros((batch, n_workers, k, k)) if self.prior_counts is None else self.prior_counts
        decay = np.asarray(decay, dtype=float)
        out = decay[:, None, None, None] * prior
        entry = self.cells.entry
        carried = np.take(prior.reshape(-1), entry)
        np.add(carried, self.cell_counts, out=carried)
        np.multiply(decay[self.cells.key // (n_workers * k)][:, None], carried, out=carried)
        out.reshape(-1)[entry] = carried
        return out


def vote_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Number of answers per class for each task, shape (B, T, K); empty slots (< 0) ignored."""
    batch, n_tasks, _ = labels.shape
    valid = labels >= 0
    index = (np.arange(batch * n_tasks).reshape(batch, n_tasks, 1) * n_classes + labels)[valid]
    counts = np.bincount(index, minlength=batch * n_tasks * n_classes)
    return counts.reshape(batch, n_tasks, n_classes).astype(float)


def majority_vote(labels: np.ndarray, n_classes: int, tie_break: np.ndarray | None = None) -> np.ndarray:
    """Plurality label per task, shape (B, T).

    Ties go to the class with the largest ``tie_break`` value (an array (B, T, K) of numbers in
    [0, 1), e.g. uniform draws), or to the lowest class index when ``tie_break`` is None.
    """
    counts = vote_counts(labels, n_classes)
    if tie_break is not None:
        counts = counts + 0.5 * tie_break  # < 1, so it only orders tied counts
    return counts.argmax(axis=-1)


def answered_cells(labels: np.ndarray, workers: np.ndarray, n_workers: int, n_classes: int) -> Cells:
    """The answered cells of ``labels`` / ``workers`` (B, T, S) and their incidence matrices."""
    batch, n_tasks, _ = labels.shape
    valid = labels >= 0
    rows = np.arange(batch)[:, None, None]
    cell = ((rows * n_workers + workers) * n_classes + labels)[valid]
    task = np.broadcast_to(rows * n_tasks + np.arange(n_tasks)[None, :, None], labels.shape)[valid]
    present = np.zeros(batch * n_workers * n_classes, dtype=bool)
    present[cell] = True
    key = np.flatnonzero(present)
    position = np.zeros(present.size, dtype=np.int64)
    position[key] = np.arange(key.size)
    row = position[cell]  # each answer's cell, as its position in key
    worker, answer = np.divmod(key, n_classes)
    first = np.ones(key.size, dtype=bool)
    first[1:] = worker[1:] != worker[:-1]
    owner = np.cumsum(first) - 1
    true_class = np.arange(n_classes)
    entry = (worker[:, None] * n_classes + true_class) * n_classes + answer[:, None]
    slot = (answer * np.count_nonzero(first) + owner)[:, None] * n_classes + true_class
    incidence = sparse.csr_matrix((np.ones(cell.size), (row, task)), shape=(key.size, batch * n_tasks))
    return Cells(key, worker[first], owner, entry, slot, incidence, incidence.T.tocsr(),
                 (batch, n_workers, n_classes))


def _cell_layout(prior_counts: np.ndarray) -> np.ndarray:
    """(B, W, K_true, K_answer) -> a fresh (B*W*K_answer, K_true) array (rows are cells)."""
    k = prior_counts.shape[-1]
    return np.array(prior_counts.transpose(0, 1, 3, 2), order="C").reshape(-1, k)


def _cell_counts(incidence: sparse.csr_matrix, posteriors: np.ndarray) -> np.ndarray:
    """Expected counts per answered cell and true class k, as a (C, K) array."""
    return incidence @ posteriors.reshape(-1, posteriors.shape[-1])


class _MStep:
    """The M-step restricted to the answered cells, with its work arrays allocated once per EM run.

    Each true-class column of a worker's confusion matrix is normalised over all K answers after
    flooring every count at ``smoothing``. ``matrices`` holds the floored counts of the seen
    workers, laid out (K_answer, M, K_true): the cells without answers hold their prior counts,
    floored once here, and every call overwrites only the answered cells. The sum over answers
    then adds K contiguous slices in the order l = 0, 1, ..., as numpy's sum over the answer axis
    of (M, K_answer, K_true) matrices does.
    """

    def __init__(self, cells: Cells, prior_counts: np.ndarray | None, smoothing: float):
        n_seen, k = cells.workers.size, cells.shape[2]
        self.cells, self.smoothing = cells, smoothing
        self.matrices = np.empty((k, n_seen, k))
        if prior_counts is None:
            self.extra = 0.0
            self.matrices.fill(np.maximum(0.0, smoothing))
        else:
            self.extra = prior_counts.reshape(-1)[cells.entry]  # (C, K_true)
            per_worker = prior_counts.reshape(-1, k, k)  # (B*W, K_true, K_answer)
            chunk = max(1, 2**19 // k**2)  # workers per gathered block (4 MB), to keep temporaries small
            for start in range(0, n_seen, chunk):
                block = np.take(per_worker, cells.workers[start:start + chunk], axis=0)
                np.maximum(block.transpose(2, 0, 1), smoothing, out=self.matrices[:, start:start + chunk])
        self.total = np.empty((n_seen, k))
        self.log_confusion = np.empty(cells.entry.shape)

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """Log of the confusion entries ``P(answer l | true k)`` of the answered cells, (C, K_true).

        ``counts`` (C, K_true) is overwritten. The result is a work array that the next call
        overwrites (the E-step uses it at once).
        """
        floored = np.add(counts, self.extra, out=counts)
        np.maximum(floored, self.smoothing, out=floored)
        self.matrices.reshape(-1)[self.cells.slot] = floored
        np.add.reduce(self.matrices, axis=0, out=self.total)
        out = np.take(self.total, self.cells.owner, axis=0, out=self.log_confusion)
        np.divide(floored, out, out=out)
        with np.errstate(divide="ignore"):  # a zero count with smoothing=0 has log-probability -inf
            return np.log(out, out=out)


def _e_step(incidence_t: sparse.csr_matrix, log_confusion: np.ndarray, prior: np.ndarray, eps: float) -> np.ndarray:
    """Posterior of each task's true class, (B, T, K), computed in log space."""
    batch, n_classes = prior.shape
    per_task = (incidence_t @ log_confusion).reshape(batch, -1, n_classes)
    log_like = np.log(np.maximum(prior, eps))[:, None, :] + per_task
    top = log_like[..., 0]
    for k in range(1, n_classes):  # K-1 elementwise maxima: faster than a reduction over a short axis
        top = np.maximum(top, log_like[..., k])
    scaled = np.exp(log_like - top[..., None])
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
    cells = answered_cells(labels, workers, n_workers, n_classes)
    m_step = _MStep(cells, prior_counts, smoothing)
    votes = vote_counts(labels, n_classes)
    totals = votes.sum(axis=-1, keepdims=True)
    posteriors = np.where(totals > 0, votes / np.where(totals > 0, totals, 1.0), 1.0 / n_classes)
    prior = posteriors.mean(axis=1)
    log_confusion = m_step(_cell_counts(cells.incidence, posteriors))
    for _ in range(n_iter):
        posteriors = _e_step(cells.incidence_t, log_confusion, prior, smoothing)
        prior = posteriors.mean(axis=1)
        log_confusion = m_step(_cell_counts(cells.incidence, posteriors))
    counts = _cell_counts(cells.incidence, posteriors)
    return DawidSkeneResult(posteriors, posteriors.argmax(axis=-1), prior, cells, counts, prior_counts, smoothing)
