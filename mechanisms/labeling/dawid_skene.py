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

Batch rows are independent, so EM runs on blocks of batch rows of about :data:`BLOCK_ANSWERS`
answer slots each (every work array then stays in cache; blocks change no number). Per block the
answer structure is built once: one sparse incidence matrix whose product with the posteriors
gives, in one pass, each answered cell's soft counts and each row's class-prior sums (both added
in task order from zero, the same numbers as a separate ``mean``), and a slot-major table of each
answer's cell for the E-step's gathers. The M-step after the last E-step is skipped (its
confusion matrices were never used; the result keeps the counts and builds them on request).

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

# Batch rows are processed in blocks of about this many answer slots, so that every work array of
# the EM iterations stays in cache (rows are independent, so blocks change no number).
BLOCK_ANSWERS = 16384


@dataclass(frozen=True)
class Cells:
    """The cells (batch row ``b``, worker ``w``, answer ``l``) of one block of batch rows that hold
    at least one answer.

    ``key`` (C,): their flat indices ``(b W + w) K + l``, sorted; ``workers`` (M,): the sorted
    flat indices ``b W + w`` of workers with at least one answer, and ``owner`` (C,) the
    position of each cell's worker in ``workers``. The M-step works on the M * K cells of the seen
    workers: ``grid`` (C,) is each answered cell's position ``owner K + l`` among them, ``other``
    the positions of the cells without answers, and ``columns`` (K, M) the M-step row of each seen
    worker's cell for answer ``l`` (answered cells first, in key order, then the others).
    ``by_slot`` (S, B*T) is the position in ``key`` of each slot's cell, ``C`` (one past the last
    cell) for an empty slot, and ``answer_cell`` the same as (B*T, S). ``incidence`` is the sparse
    (C + 1 + B, B*T) matrix with a one where the cell's worker gave answer ``l`` to task ``t``,
    then a row that collects the empty slots (never used) and one row per batch row with a one for
    each of its tasks; it is built as its transpose (one row per task, no sorting) and kept as a CSC
    matrix, whose product with the posteriors still adds each cell's terms in task order.
    ``incidence_t`` (B*T, C + 1), each task's cells in increasing order, is built on first use
    (only log-space E-steps need it). Soft counts and the class prior's sums are
    ``incidence @ posteriors``, per-task log-likelihoods ``incidence_t @ log-confusion``, so each EM
    step costs a pass over the answers. Within each batch row the summation order is the same
    whatever the batch size, so results do not depend on batching. (Answers repeated in one task by
    the same worker with the same label, which the model never produces, are added one by one.)
    """

    key: np.ndarray
    workers: np.ndarray
    owner: np.ndarray
    grid: np.ndarray
    other: np.ndarray
    columns: np.ndarray
    incidence: sparse.csc_matrix
    by_slot: np.ndarray
    shape: tuple[int, int, int]  # (B, W, K)

    @property
    def answer_cell(self) -> np.ndarray:
        return self.by_slot.T

    @cached_property
    def incidence_t(self) -> sparse.csr_matrix:
        """The transposed incidence (B*T, C + 1), built on first use (only log-space E-steps need it)."""
        n_rows, n_slots = self.by_slot.shape[1], self.by_slot.shape[0]
        cells = np.sort(self.answer_cell, axis=1)  # each task's cells in increasing order
        return sparse.csr_matrix((np.ones(cells.size), cells.reshape(-1), np.arange(0, cells.size + 1, n_slots)),
                                 shape=(n_rows, self.key.size + 1))


def cell_entries(key: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, K): the flat positions of each cell's K counts (true class k) in a (B, W, K_true,
    K_answer) array."""
    worker, answer = np.divmod(key, n_classes)
    return (worker * (n_classes * n_classes) + answer)[:, None] + np.arange(n_classes) * n_classes


@dataclass(frozen=True)
class DawidSkeneResult:
    """Output of :func:`dawid_skene` (all arrays batched on the first axis).

    ``posteriors`` (B, T, K): P(true class | answers); ``labels`` (B, T): their argmax;
    ``class_prior`` (B, K); ``key`` (C,) the answered cells ``(b W + w) K + l`` (sorted) and
    ``cell_counts`` (C, K): each answered cell's expected count per true class under the final
    posteriors. The full per-worker arrays are built on first access:
    ``confusion`` (B, W, K, K), estimated ``P(answer l | true k)`` per worker, and
    ``soft_counts`` (B, W, K, K), this data's expected counts of (true k, answer l) per worker
    (to carry into later epochs, see :meth:`next_prior_counts`).
    """

    posteriors: np.ndarray
    labels: np.ndarray
    class_prior: np.ndarray
    key: np.ndarray
    shape: tuple[int, int, int]  # (B, W, K)
    cell_counts: np.ndarray
    prior_counts: np.ndarray | None
    smoothing: float

    @cached_property
    def entry(self) -> np.ndarray:
        """(C, K): flat positions of the answered cells' counts in a (B, W, K, K) array."""
        return cell_entries(self.key, self.shape[2])

    def _dense(self, values: np.ndarray, base: np.ndarray | None) -> np.ndarray:
        """Cell layout (B*W*K_answer, K_true): ``base`` (or zeros) with the answered cells set to ``values``."""
        batch, n_workers, k = self.shape
        out = np.zeros((batch * n_workers * k, k)) if base is None else _cell_layout(base)
        out[self.key] = values
        return out

    @cached_property
    def soft_counts(self) -> np.ndarray:
        return _to_matrix(self._dense(self.cell_counts, None), *self.shape)

    @cached_property
    def confusion(self) -> np.ndarray:
        extra = 0.0 if self.prior_counts is None else self.prior_counts.reshape(-1)[self.entry]
        cells = self._dense(self.cell_counts + extra, self.prior_counts)
        k = self.shape[2]
        floored = np.maximum(cells, self.smoothing, out=cells).reshape(-1, k, k)
        floored /= floored.sum(axis=1, keepdims=True)
        return _to_matrix(floored, *self.shape)

    def next_prior_counts(self, decay: np.ndarray) -> np.ndarray:
        """``decay * (prior_counts + soft_counts)``, (B, W, K, K), for the next epoch's M-steps.

        ``decay`` is (B,). Workers without answers only decay; the rest get their soft counts
        added (the same numbers as the full expression, since adding zero changes nothing).
        """
        batch, n_workers, k = self.shape
        prior = np.zeros((batch, n_workers, k, k)) if self.prior_counts is None else self.prior_counts
        decay = np.asarray(decay, dtype=float)
        out = decay[:, None, None, None] * prior
        entry = self.entry
        carried = np.take(prior.reshape(-1), entry)
        np.add(carried, self.cell_counts, out=carried)
        np.multiply(decay[self.key // (n_workers * k)][:, None], carried, out=carried)
        out.reshape(-1)[entry] = carried
        return out


def vote_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Number of answers per class for each task, shape (B, T, K); empty slots (< 0) ignored."""
    batch, n_tasks, _ = labels.shape
    size = batch * n_tasks * n_classes
    index = np.multiply(np.arange(batch * n_tasks).reshape(batch, n_tasks, 1), n_classes) + labels
    empty = labels < 0
    if empty.any():
        index[empty] = size  # counted one past the end, then dropped
    counts = np.bincount(index.reshape(-1), minlength=size + 1)[:size]
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
    """The answered cells of ``labels`` / ``workers`` (B, T, S) and their incidence matrix."""
    batch, n_tasks, n_slots = labels.shape
    n_cells = batch * n_workers * n_classes
    # every slot's cell (b W + w) K + l; empty slots point one past the last cell
    cell = np.multiply(np.arange(batch)[:, None, None], n_workers, dtype=np.int64) + workers
    cell *= n_classes
    cell += labels
    empty = labels < 0
    if empty.any():
        cell[empty] = n_cells
    present = np.zeros(n_cells + 1, dtype=bool)
    present[cell] = True
    present[-1] = False
    key = np.flatnonzero(present)
    position = np.empty(n_cells + 1, dtype=np.int64)
    position[key] = np.arange(key.size)
    position[-1] = key.size
    answer_cell = position[cell].reshape(batch * n_tasks, n_slots)  # each slot's cell, as its position in key
    worker, answer = np.divmod(key, n_classes)
    first = np.empty(key.size, dtype=bool)
    first[:1] = True
    np.not_equal(worker[1:], worker[:-1], out=first[1:])
    owner = np.cumsum(first) - 1
    seen = worker[first]
    # the M-step's rows: the answered cells in key order, then the seen workers' other cells;
    # columns[l, m] is the row of worker m's cell for answer l
    grid = owner * n_classes + answer  # increasing: position of each cell in (M, K_answer)
    n_grid = seen.size * n_classes
    columns = np.empty(n_grid, dtype=np.int64)
    columns[grid] = np.arange(key.size)
    unanswered = np.ones(n_grid, dtype=bool)
    unanswered[grid] = False
    other = np.flatnonzero(unanswered)
    columns[other] = np.arange(key.size, n_grid)
    # the incidence, built as its transpose (one row per task: its slots' cells and its batch row's
    # sum row) and used as a CSC matrix: no sorting, and each cell's sum still runs in task order
    n_rows = batch * n_tasks
    index = np.empty((n_rows, n_slots + 1), dtype=np.int64)
    index[:, :n_slots] = answer_cell
    index[:, n_slots] = key.size + 1 + np.arange(n_rows) // n_tasks
    incidence = sparse.csc_matrix((np.ones(index.size), index.reshape(-1), np.arange(0, index.size + 1, n_slots + 1)),
                                  shape=(key.size + 1 + batch, n_rows))
    return Cells(key, seen, owner, grid, other, np.ascontiguousarray(columns.reshape(-1, n_classes).T), incidence,
                 np.ascontiguousarray(answer_cell.T), (batch, n_workers, n_classes))


def _cell_layout(prior_counts: np.ndarray) -> np.ndarray:
    """(B, W, K_true, K_answer) -> a fresh (B*W*K_answer, K_true) array (rows are cells)."""
    k = prior_counts.shape[-1]
    return np.array(prior_counts.transpose(0, 1, 3, 2), order="C").reshape(-1, k)


def _cell_counts(cells: Cells, posteriors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected counts per answered cell and true class k, (C, K), and the class prior (the mean
    posterior of each batch row's tasks), (B, K), from one product with the incidence matrix.

    Both sums add their terms in task order starting from zero, as ``incidence @ posteriors`` and
    ``posteriors.mean(axis=1)`` do, so the numbers are the same.
    """
    n_cells, n_tasks = cells.key.size, posteriors.shape[1]
    both = cells.incidence @ posteriors.reshape(-1, posteriors.shape[-1])
    prior = np.divide(both[n_cells + 1:], n_tasks, out=both[n_cells + 1:])
    return both[:n_cells], prior


class _MStep:
    """The M-step restricted to the answered cells, with its work arrays allocated once per EM run.

    Each true-class column of a worker's confusion matrix is normalised over all K answers after
    flooring every count at ``smoothing``. ``rows`` (K_answer * M, K_true) holds the floored counts
    of the seen workers' cells: first the answered cells in key order (each call writes them in
    place), then the cells without answers, which keep their prior counts, floored once here. The
    sum over answers adds, in the order l = 0, 1, ..., the rows ``columns[l]`` of every worker, as
    numpy's sum over the answer axis of (M, K_answer, K_true) matrices does.
    """

    def __init__(self, cells: Cells, prior_counts: np.ndarray | None, smoothing: float):
        n_seen, k, n_cells = cells.workers.size, cells.shape[2], cells.key.size
        self.cells, self.smoothing = cells, smoothing
        self.rows = np.empty((n_seen * k, k))
        if prior_counts is None:
            self.extra = 0.0
            self.rows[n_cells:] = np.maximum(0.0, smoothing)
        else:
            per_worker = prior_counts.reshape(-1, k, k)  # (B*W, K_true, K_answer)
            block = np.take(per_worker, cells.workers, axis=0)  # the seen workers' counts
            per_cell = np.array(block.transpose(0, 2, 1), order="C").reshape(-1, k)  # (M * K_answer, K_true)
            self.extra = np.take(per_cell, cells.grid, axis=0)  # (C, K_true)
            np.maximum(np.take(per_cell, cells.other, axis=0), smoothing, out=self.rows[n_cells:])
        self.total = np.empty((n_seen, k))
        self.term = np.empty((n_seen, k))
        # the answered cells' entries, plus a row of ones that empty answer slots point at
        self.confusion = np.empty((n_cells + 1, k))
        self.confusion[-1] = 1.0

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """The confusion entries ``P(answer l | true k)`` of the answered cells and a row of ones,
        (C + 1, K_true).

        ``counts`` (C, K_true) is left unchanged. The result is a work array that the next call
        overwrites (the E-step uses it at once).
        """
        floored = np.add(counts, self.extra, out=self.rows[:counts.shape[0]])
        np.maximum(floored, self.smoothing, out=floored)
        columns = self.cells.columns
        total = np.take(self.rows, columns[0], axis=0, out=self.total)
        for answer in range(1, columns.shape[0]):
            total += np.take(self.rows, columns[answer], axis=0, out=self.term)
        out = np.take(total, self.cells.owner, axis=0, out=self.confusion[:-1])
        np.divide(floored, out, out=out)
        return self.confusion


def _e_step(cells: Cells, confusion: np.ndarray, prior: np.ndarray, eps: float, space: str) -> np.ndarray:
    """Posterior of each task's true class, (B, T, K): in probability space, with log space for
    the tasks whose likelihoods could underflow (``space="auto"``) or for every task (``"log"``)."""
    batch, n_classes = prior.shape
    floored = np.maximum(prior, eps)
    if space == "log":
        with np.errstate(divide="ignore"):  # a zero entry with smoothing=0 has log-probability -inf
            log_confusion = np.log(confusion)
        per_task = (cells.incidence_t @ log_confusion).reshape(batch, -1, n_classes)
        return _log_space_posteriors(np.log(floored)[:, None, :], per_task)
    slots = cells.by_slot
    like = np.take(confusion, slots[0], axis=0)
    factor = np.empty_like(like)
    for s in range(1, slots.shape[0]):
        like *= np.take(confusion, slots[s], axis=0, out=factor)
    like = like.reshape(batch, -1, n_classes)
    like *= floored[:, None, :]
    total = like[..., 0].copy()
    for k in range(1, n_classes):  # K-1 elementwise sums: faster than a reduction over a short axis
        total += like[..., k]
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 only where log space takes over below
        posteriors = np.divide(like, total[..., None], out=like)
    if total.size and not total.min() >= UNDERFLOW:  # (also when a sum is NaN)
        low = np.flatnonzero(~(total >= UNDERFLOW))
        with np.errstate(divide="ignore"):
            log_confusion = np.log(confusion)
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
    batch, n_tasks, n_slots = labels.shape
    per_block = max(1, BLOCK_ANSWERS // max(1, n_tasks * n_slots))
    if batch <= per_block:
        posteriors, prior, key, counts = _em(labels, workers, n_workers, n_classes, n_iter, prior_counts,
                                             smoothing, space)
    else:
        posteriors, prior = np.empty((batch, n_tasks, n_classes)), np.empty((batch, n_classes))
        keys, counts = [], []
        for start in range(0, batch, per_block):
            part = slice(start, start + per_block)
            post, prior[part], key, count = _em(labels[part], workers[part], n_workers, n_classes, n_iter,
                                                None if prior_counts is None else prior_counts[part],
                                                smoothing, space)
            posteriors[part] = post
            keys.append(key + start * n_workers * n_classes)
            counts.append(count)
        key, counts = np.concatenate(keys), np.concatenate(counts)
    return DawidSkeneResult(posteriors, posteriors.argmax(axis=-1), prior, key, (batch, n_workers, n_classes),
                            counts, prior_counts, smoothing)


def _em(labels, workers, n_workers, n_classes, n_iter, prior_counts, smoothing, space):
    """EM on one block of batch rows: posteriors, class prior, answered cells' keys and counts."""
    cells = answered_cells(labels, workers, n_workers, n_classes)
    m_step = _MStep(cells, prior_counts, smoothing)
    # majority-vote posteriors: votes / answers per task (uniform for a task without answers)
    votes = vote_counts(labels, n_classes)
    totals = np.count_nonzero(labels >= 0, axis=-1)[..., None].astype(float)
    posteriors = np.divide(votes, totals, out=np.full(votes.shape, 1.0 / n_classes), where=totals > 0)
    counts, prior = _cell_counts(cells, posteriors)
    for _ in range(n_iter):
        # (the M-step after the last E-step is not needed: the result keeps the counts)
        confusion = m_step(counts)
        posteriors = _e_step(cells, confusion, prior, smoothing, space)
        counts, prior = _cell_counts(cells, posteriors)
    return posteriors, prior, cells.key, counts
