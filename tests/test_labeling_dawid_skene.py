"""Dawid-Skene EM and majority vote (mechanisms/labeling/dawid_skene.py).

Reference: the posteriors below were produced by crowd-kit 1.4.2 (Toloka,
https://github.com/Toloka/crowd-kit, ``crowdkit.aggregation.DawidSkene(n_iter=n, tol=-inf)``),
an independent implementation of Dawid and Skene (1979), on the small crowd in ``LABELS`` /
``WORKERS``. crowd-kit is not a dependency of tokensim: it was installed once in a separate
virtualenv to produce these numbers; they are pinned here. crowd-kit floors probabilities at
1e-10, so we compare with an absolute tolerance of 1e-9.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensim.mechanisms.labeling.dawid_skene import dawid_skene, majority_vote, vote_counts

# 8 tasks, 3 answers each from 4 workers, 3 classes
LABELS = np.array([[0, 0, 1], [1, 1, 1], [2, 2, 0], [0, 1, 0], [2, 2, 2], [1, 0, 1], [0, 0, 0], [2, 1, 2]])
WORKERS = np.array([[0, 1, 2], [1, 2, 3], [0, 2, 3], [0, 1, 3], [1, 2, 3], [0, 1, 2], [0, 2, 3], [0, 1, 3]])

CROWDKIT_POSTERIORS = {
    1: [[6.000000000186e-01, 3.999999999814e-01, 0.0], [0.0, 9.999999999743e-01, 0.0],
        [6.666666667941e-02, 0.0, 9.333333333131e-01], [8.749999999702e-01, 1.250000000111e-01, 0.0],
        [0.0, 0.0, 1.0], [1.764705882466e-01, 8.235294117534e-01, 0.0],
        [9.999999999893e-01, 0.0, 0.0], [0.0, 9.090909092606e-02, 9.090909090648e-01]],
    3: [[4.034214782635e-01, 5.965785217365e-01, 0.0], [0.0, 9.999999999706e-01, 0.0],
        [4.230828038571e-06, 0.0, 9.999957691719e-01], [9.925995836191e-01, 7.400416365096e-03, 0.0],
        [0.0, 0.0, 1.0], [6.870445894322e-03, 9.931295541057e-01, 0.0],
        [9.999999999993e-01, 0.0, 0.0], [0.0, 2.698415197022e-05, 9.999730158479e-01]],
}
CROWDKIT_PRIORS = {1: [0.339767156867, 0.304929812833, 0.3553030303],
                   3: [0.300361967329, 0.324641934541, 0.374996098129]}
CROWDKIT_LABELS = {1: [0, 1, 2, 0, 2, 1, 0, 2], 3: [1, 1, 2, 0, 2, 1, 0, 2]}


def test_matches_crowdkit_reference():
    for n_iter, expected in CROWDKIT_POSTERIORS.items():
        result = dawid_skene(LABELS[None], WORKERS[None], 4, 3, n_iter=n_iter)
        np.testing.assert_allclose(result.posteriors[0], expected, atol=1e-9)
        np.testing.assert_allclose(result.class_prior[0], CROWDKIT_PRIORS[n_iter], atol=1e-9)
        assert result.labels[0].tolist() == CROWDKIT_LABELS[n_iter]


def test_overrules_majority_when_a_worker_is_known_unreliable():
    # Task 0 gets answers (0, 0, 1); majority says 0. After 3 iterations DS trusts worker 2
    # (always with the consensus elsewhere) over workers 0 and 1, and says 1 - as crowd-kit does.
    assert majority_vote(LABELS[None], 3)[0, 0] == 0
    assert dawid_skene(LABELS[None], WORKERS[None], 4, 3, n_iter=3).labels[0, 0] == 1


def test_hand_computed_first_m_step():
    # Hand check of the initialisation: majority-vote posteriors are vote shares, e.g. task 0
    # (answers 0, 0, 1) -> (2/3, 1/3, 0); the class prior is their mean over tasks:
    # class 0: (2/3 + 0 + 1/3 + 2/3 + 0 + 1/3 + 1 + 0) / 8 = 3/8.
    votes = vote_counts(LABELS[None], 3)[0]
    shares = votes / votes.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(shares[0], [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(shares.mean(axis=0)[0], 3 / 8)
    # With n_iter=0, worker 3's confusion row for true class 2 is its answers weighted by the
    # share of class 2 in each of its tasks: tasks 2 (answer 0, share 2/3), 4 (answer 2, share 1)
    # and 7 (answer 2, share 2/3): counts (2/3, 0, 5/3) -> (2/7, 0, 5/7).
    result = dawid_skene(LABELS[None], WORKERS[None], 4, 3, n_iter=0, smoothing=0.0)
    np.testing.assert_allclose(result.confusion[0, 3, 2], [2 / 7, 0, 5 / 7])


def synthetic_crowd(seed: int, batch: int = 4, n_tasks: int = 400, n_workers: int = 30, per_task: int = 5, k: int = 3):
    """A crowd with known confusion matrices: good workers, biased workers and spammers."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, size=(batch, n_tasks))
    confusion = np.empty((batch, n_workers, k, k))
    kind = np.arange(n_workers) % 3
    good = np.full((k, k), 0.1 / (k - 1)) + np.eye(k) * (0.9 - 0.1 / (k - 1))
    biased = np.full((k, k), 0.05)
    biased[:, 0] = 1 - 0.05 * (k - 1)  # mostly answers class 0
    biased[0] = good[0]
    spam = np.full((k, k), 1.0 / k)
    confusion[:] = np.where(kind[:, None, None] == 0, good, np.where(kind[:, None, None] == 1, biased, spam))
    workers = np.argsort(rng.random((batch, n_tasks, n_workers)), axis=2)[:, :, :per_task]
    rows = np.arange(batch)[:, None, None]
    probs = confusion[rows, workers, truth[:, :, None]]  # (B, T, S, K)
    labels = (rng.random((batch, n_tasks, per_task, 1)) > probs.cumsum(axis=-1)).sum(axis=-1)
    return truth, labels, workers, n_workers, k


def test_beats_majority_vote_on_known_confusion_matrices():
    truth, labels, workers, n_workers, k = synthetic_crowd(seed=3)
    mv = (majority_vote(labels, k) == truth).mean()
    ds_result = dawid_skene(labels, workers, n_workers, k, n_iter=20)
    ds = (ds_result.labels == truth).mean()
    assert ds > mv + 0.03, (ds, mv)
    # and it recovers the good workers' diagonal (0.9) within sampling error
    good = np.arange(n_workers) % 3 == 0
    diag = np.diagonal(ds_result.confusion[:, good], axis1=-2, axis2=-1)
    assert abs(diag.mean() - 0.9) < 0.05


def test_batch_rows_are_independent():
    truth, labels, workers, n_workers, k = synthetic_crowd(seed=5, batch=3, n_tasks=50)
    together = dawid_skene(labels, workers, n_workers, k, n_iter=5)
    for b in range(3):
        alone = dawid_skene(labels[b:b + 1], workers[b:b + 1], n_workers, k, n_iter=5)
        np.testing.assert_array_equal(alone.posteriors[0], together.posteriors[b])


def test_blocks_of_batch_rows_change_no_number(monkeypatch):
    # dawid_skene runs EM on blocks of about BLOCK_ANSWERS answer slots; every output must be the
    # same bits as one block (rows are independent), with carried counts and empty slots.
    import tokensim.mechanisms.labeling.dawid_skene as ds

    truth, labels, workers, n_workers, k = synthetic_crowd(seed=7, batch=7, n_tasks=40)
    labels = labels.copy()
    labels[:, 30:, 1:] = -1  # ragged crowd
    prior = np.random.default_rng(7).gamma(1.0, 2.0, size=(7, n_workers, k, k))
    whole = dawid_skene(labels, workers, n_workers, k, n_iter=6, prior_counts=prior, smoothing=0.01)
    monkeypatch.setattr(ds, "BLOCK_ANSWERS", 2 * labels.shape[1] * labels.shape[2])  # blocks of 2 rows
    blocks = dawid_skene(labels, workers, n_workers, k, n_iter=6, prior_counts=prior, smoothing=0.01)
    for name in ("posteriors", "labels", "class_prior", "key", "cell_counts", "confusion", "soft_counts"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(whole, name), err_msg=name)
    decay = np.linspace(0.5, 1.0, 7)
    np.testing.assert_array_equal(blocks.next_prior_counts(decay), whole.next_prior_counts(decay))


def test_empty_slots_are_ignored():
    padded = np.concatenate([LABELS, -np.ones((8, 1), dtype=int)], axis=1)
    padded_workers = np.concatenate([WORKERS, np.zeros((8, 1), dtype=int)], axis=1)
    a = dawid_skene(LABELS[None], WORKERS[None], 4, 3, n_iter=3)
    b = dawid_skene(padded[None], padded_workers[None], 4, 3, n_iter=3)
    np.testing.assert_allclose(a.posteriors, b.posteriors, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 5), per_task=st.integers(1, 4))
def test_posteriors_and_confusions_are_distributions(seed, k, per_task):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=(2, 12, per_task))
    workers = np.argsort(rng.random((2, 12, 6)), axis=2)[:, :, :per_task]
    result = dawid_skene(labels, workers, 6, k, n_iter=3, smoothing=0.01)
    assert np.all((result.posteriors >= 0) & (result.posteriors <= 1))
    np.testing.assert_allclose(result.posteriors.sum(axis=-1), 1.0)
    np.testing.assert_allclose(result.confusion.sum(axis=-1), 1.0)
    np.testing.assert_allclose(result.soft_counts.sum(axis=(1, 2, 3)), 12 * per_task)
    mv = majority_vote(labels, k)
    assert mv.min() >= 0 and mv.max() < k


# ---------------------------------------------------------------- probability space vs log space
# The E-step multiplies probabilities and falls back to log space for tasks whose likelihoods could
# underflow (mechanisms/labeling/dawid_skene.py). Stated tolerance: identical labels and posteriors
# within 1e-12 of the log-space computation (space="log", which is the previous implementation).

def extreme_crowd(seed: int, k: int, per_task: int, n_tasks: int = 60, n_workers: int = 12, batch: int = 3):
    """Near-deterministic workers (confusion entries down to 1e-9), adversarial ones that always
    answer another class, and uniform spammers."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, size=(batch, n_tasks))
    confusion = np.empty((batch, n_workers, k, k))
    for w in range(n_workers):
        if w % 3 == 0:
            c = np.full((k, k), 1e-9) + np.eye(k)
        elif w % 3 == 1:
            c = np.full((k, k), 1e-9) + np.roll(np.eye(k), 1, axis=1)
        else:
            c = np.ones((k, k))
        confusion[:, w] = c / c.sum(axis=1, keepdims=True)
    workers = np.argsort(rng.random((batch, n_tasks, n_workers)), axis=2)[:, :, :per_task]
    probs = confusion[np.arange(batch)[:, None, None], workers, truth[:, :, None]]
    labels = (rng.random((batch, n_tasks, per_task, 1)) > probs.cumsum(axis=-1)).sum(axis=-1)
    labels = np.minimum(labels, k - 1)
    return labels, workers, n_workers


def assert_close_to_log_space(labels, workers, n_workers, k, **kwargs):
    fast = dawid_skene(labels, workers, n_workers, k, space="auto", **kwargs)
    ref = dawid_skene(labels, workers, n_workers, k, space="log", **kwargs)
    np.testing.assert_array_equal(fast.labels, ref.labels)
    np.testing.assert_allclose(fast.posteriors, ref.posteriors, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.class_prior, ref.class_prior, rtol=0, atol=1e-12)
    return fast, ref


def test_probability_space_matches_log_space_on_synthetic_crowds():
    for seed in range(3):
        _, labels, workers, n_workers, k = synthetic_crowd(seed=seed, batch=2, n_tasks=150)
        prior = np.random.default_rng(seed).gamma(1.0, 2.0, size=(2, n_workers, k, k))
        assert_close_to_log_space(labels, workers, n_workers, k, n_iter=20)
        assert_close_to_log_space(labels, workers, n_workers, k, n_iter=20, prior_counts=prior, smoothing=0.01)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 5), per_task=st.integers(1, 8),
       smoothing=st.sampled_from([1e-10, 1e-3, 0.01, 1.0]))
def test_probability_space_matches_log_space_on_extreme_crowds(seed, k, per_task, smoothing):
    labels, workers, n_workers = extreme_crowd(seed, k, per_task)
    assert_close_to_log_space(labels, workers, n_workers, k, n_iter=10, smoothing=smoothing)


def test_tasks_that_would_underflow_take_the_log_space_posterior():
    # Confusion entries of 1e-30 and 15 answers per task: every likelihood is 1e-450, zero in
    # probability space. Those tasks get exactly the log-space posterior; the other tasks (entries
    # of 0.2 to 0.8) stay in probability space.
    from tokensim.mechanisms.labeling.dawid_skene import UNDERFLOW, _e_step, answered_cells

    rng = np.random.default_rng(0)
    k, per_task, n_tasks, n_workers = 3, 15, 6, 20
    workers = np.argsort(rng.random((2, n_tasks, n_workers)), axis=2)[:, :, :per_task]
    labels = rng.integers(0, k, size=(2, n_tasks, per_task))
    cells = answered_cells(labels, workers, n_workers, k)
    confusion = np.vstack([rng.uniform(0.2, 0.8, size=(cells.key.size, k)), np.ones((1, k))])
    tiny = np.isin(cells.answer_cell[:n_tasks], np.arange(cells.key.size))  # batch row 0's cells
    confusion[np.unique(cells.answer_cell[:n_tasks][tiny])] *= 1e-30 * rng.uniform(1, 2, size=k)
    prior = rng.dirichlet(np.ones(k), size=2)
    fast = _e_step(cells, confusion, prior, 1e-10, "auto")
    ref = _e_step(cells, confusion, prior, 1e-10, "log")
    np.testing.assert_array_equal(fast[0], ref[0])  # batch row 0: all in log space, exactly
    np.testing.assert_allclose(fast[1], ref[1], rtol=0, atol=1e-12)
    assert np.isfinite(fast).all()
    product = np.prod(confusion[cells.answer_cell], axis=1).reshape(2, n_tasks, k)
    assert (product[0] == 0).all() and (product[1].sum(axis=-1) > UNDERFLOW).all()  # row 0 needed log space


def test_space_is_validated():
    import pytest

    with pytest.raises(ValueError, match="space"):
        dawid_skene(LABELS[None], WORKERS[None], 4, 3, space="linear")
