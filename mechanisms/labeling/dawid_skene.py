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

The E-step multiplies probabilities (prior times the confusion entry of each answer) instead of
adding logarithms and exponentiating: with confusion entries floored at ``smoothing`` and a handful
of answers per task the products stay far above the smallest normal double, so this is exact to a
few rounding errors while skipping a ``log`` per answered cell and an ``exp`` per task and class.
A task whose likelihoods could lose precision (their sum below :data:`UNDERFLOW`, e.g. many
answers from near-deterministic workers) gets the log-space posterior instead, computed exactly as
``space="log"`` computes every task. Tolerance (tests/test_labeling_dawid_skene.py): the same labels
and posteriors within 1e-12 of the log-space computation, on crowds including extreme and
degenerate confusion matrices; measured differences are a few 1e-16.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

# Below this sum of likelihoods (2^-830) a task's posterior is computed in log space: every factor is
# at most 1, so all partial products of the largest likelihood are then normal doubles (>= 2^-1022)
# with a relative rounding error of at most (answers + 1) * 2^-53.
UNDERFLOW = 2.0 ** -830


@dataclass(frozen=True)
class Cells:
    """The cells (batch row ``b``, worker ``w``, answer ``l``) that hold at least one answer.

    ``key`` (C,): their flat indices ``(b W + w) K + l``, sorted; ``workers`` (M,): the sorted
    flat indices ``b W + w`` of workers with at least one answer, and ``owner`` (C,) the
    position of each cell's worker in ``workers``. ``entry`` (C, K) are the flat positions of
    each cell's K counts (true class k) in a (B, W, K_true, K_answer) array, ``slot`` (C, K)
    those in the (K_answer, M, K_true) work array of the M-step. ``incidence`` is the sparse
    (C, B*T) matrix with a one where the cell's worker gave answer ``l`` to task ``t`` and
    ``incidence_t`` its transpose (built on first use): soft counts are ``incidence @ posteriors`` and per-task
    log-likelihoods ``incidence_t @ log-confusion``, so each EM step costs a pass over the
    answers. ``answer_cell`` (B*T, S) is the position in ``key`` of each slot's cell, ``C`` (one
    past the last cell) for an empty slot. Within each batch row the summation order is the same
    whatever the batch size, so results do not depend on batching.
    """

    key: np.ndarray
    workers: np.ndarray
    owner: np.ndarray
    entry: np.ndarray
    slot: np.ndarray
    incidence: sparse.csr_matrix
    answer_cell: np.ndarray
    shape: tuple[int, int, int]  # (B, W, K)

    @cached_property
    def incidence_t(self) -> sparse.csr_matrix:
        """The transposed incidence (B*T, C), built on first use (only log-space E-steps need it)."""
        return self.incidence.T.tocsr()


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
    # (C, K) index arrays as one broadcast add each (the same integers as the expanded forms)
    true_class = np.arange(n_classes)
    entry = (worker * (n_classes * n_classes) + answer)[:, None] + true_class * n_classes
    slot = ((answer * np.count_nonzero(first) + owner) * n_classes)[:, None] + true_class
    incidence = sparse.csr_matrix((np.ones(cell.size), (row, task)), shape=(key.size, batch * n_tasks))
    answer_cell = np.full(labels.shape, key.size, dtype=np.intp)
    answer_cell[valid] = row
    return Cells(key, worker[first], owner, entry, slot, incidence,
                 answer_cell.reshape(batch * n_tasks, -1), (batch, n_workers, n_classes))


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
        # the answered cells' entries, plus a row of ones that empty answer slots point at
        self.confusion = np.empty((cells.entry.shape[0] + 1, k))
        self.confusion[-1] = 1.0

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """The confusion entries ``P(answer l | true k)`` of the answered cells and a row of ones,
        (C + 1, K_true).

        ``counts`` (C, K_true) is overwritten. The result is a work array that the next call
        overwrites (the E-step uses it at once).
        """
        floored = np.add(counts, self.extra, out=counts)
        np.maximum(floored, self.smoothing, out=floored)
        self.matrices.reshape(-1)[self.cells.slot] = floored
        np.add.reduce(self.matrices, axis=0, out=self.total)
        out = np.take(self.total, self.cells.owner, axis=0, out=self.confusion[:-1])
        np.divide(floored, out, out=out)
        return self.confusion


def _e_step(cells: Cells, confusion: np.ndarray, prior: np.ndarray, eps: float, space: str) -> np.ndarray:
    """Posterior of each task's true class, (B, T, K): in probability space, with log space for
    the tasks whose likelihoods could underflow (``space="auto"``) or for every task (``"log"``)."""
    batch, n_classes = prior.shape
    floored = np.maximum(prior, eps)
    if space == "log":
        with np.errstate(divide="ignore"):  # a zero entry with smoothing=0 has log-probability -inf
            log_confusion = np.log(confusion[:-1])
        per_task = (cells.incidence_t @ log_confusion).reshape(batch, -1, n_classes)
        return _log_space_posteriors(np.log(floored)[:, None, :], per_task)
    slots = cells.answer_cell
    like = np.take(confusion, slots[:, 0], axis=0)
    factor = np.empty_like(like)
    for s in range(1, slots.shape[1]):
        like *= np.take(confusion, slots[:, s], axis=0, out=factor)
    like = like.reshape(batch, -1, n_classes)
    like *= floored[:, None, :]
    total = like[..., 0].copy()
    for k in range(1, n_classes):  # K-1 elementwise sums: faster than a reduction over a short axis
        total += like[..., k]
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 only where log space takes over below
        posteriors = np.divide(like, total[..., None], out=like)
    low = np.flatnonzero(~(total >= UNDERFLOW))
    if low.size:
        with np.errstate(divide="ignore"):
            log_confusion = np.log(confusion[:-1])
        log_prior = np.log(floored)[low // total.shape[1]]
        flat = posteriors.reshape(-1, n_classes)
        flat[low] = _log_space_posteriors(log_prior, cells.incidence_t[low] @ log_confusion)
    return posteriors


def _log_space_posteriors(log_prior: np.ndarray, per_task: np.ndarray) -> np.ndarray:
    """Normalised ``exp(log_prior + per_task)`` over the last axis, shifted by its maximum."""
    log_like = log_prior + per_task
    top = log_like[..., 0]
    for k in range(1, log_like.shape[-1]):  # K-1 elementwise maxima: faster than a reduction over a short axis
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
    space: str = "auto",
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
    space : "auto" or "log"
        ``auto``: E-steps in probability space, log space for tasks that could underflow (see
        the module docstring); ``log``: every E-step in log space (the reference computation).
    """
    if space not in ("auto", "log"):
        raise ValueError(f"space = {space!r}; allowed: 'auto' or 'log'")
    cells = answered_cells(labels, workers, n_workers, n_classes)
    m_step = _MStep(cells, prior_counts, smoothing)
    votes = vote_counts(labels, n_classes)
    totals = votes.sum(axis=-1, keepdims=True)
    posteriors = np.where(totals > 0, votes / np.where(totals > 0, totals, 1.0), 1.0 / n_classes)
    prior = posteriors.mean(axis=1)
    confusion = m_step(_cell_counts(cells.incidence, posteriors))
    for _ in range(n_iter):
        posteriors = _e_step(cells, confusion, prior, smoothing, space)
        prior = posteriors.mean(axis=1)
        confusion = m_step(_cell_counts(cells.incidence, posteriors))
    counts = _cell_counts(cells.incidence, posteriors)
    return DawidSkeneResult(posteriors, posteriors.argmax(axis=-1), prior, cells, counts, prior_counts, smoothing)
