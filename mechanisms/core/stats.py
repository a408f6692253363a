"""Batched metric helpers shared by the models. Inputs are ``(B, n)`` arrays; outputs ``(B,)``.

:func:`gini_nakamoto` gives both concentration measures from one sort; it returns exactly the
numbers of :func:`gini` and :func:`nakamoto` (tests/test_core_stats.py), so a model that needs both
sorts its array once.
"""
from __future__ import annotations

import numpy as np


def gini(values: np.ndarray) -> np.ndarray:
    """Gini coefficient of each row of non-negative ``values`` (0 = equal, ->1 = concentrated).

    Uses the sorted-rank form G = sum_i (2i - n - 1) x_(i) / (n sum x); a row that sums to zero
    has Gini 0 by convention.
    """
    return _gini_ascending(np.sort(np.asarray(values, dtype=float), axis=-1))


def nakamoto(values: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Smallest number of holders whose combined share exceeds ``threshold``, per row.

    A row with no weight at all gets 0.
    """
    return _nakamoto_descending(-np.sort(-np.asarray(values, dtype=float), axis=-1), threshold)


def gini_nakamoto(values: np.ndarray, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``(gini(values), nakamoto(values, threshold))`` from one sort, with identical numbers.

    The descending order is the ascending sort reversed and copied, so every sum runs over the
    same contiguous array, in the same order, as in the separate functions.
    """
    ascending = np.sort(np.asarray(values, dtype=float), axis=-1)
    descending = np.ascontiguousarray(ascending[..., ::-1])
    return _gini_ascending(ascending), _nakamoto_descending(descending, threshold)


def _gini_ascending(x: np.ndarray) -> np.ndarray:
    n = x.shape[-1]
    total = x.sum(axis=-1)
    ranks = 2.0 * np.arange(1, n + 1) - n - 1.0
    weighted = (x * ranks).sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, weighted / (n * safe), 0.0)


def _nakamoto_descending(x: np.ndarray, threshold: float) -> np.ndarray:
    total = x.sum(axis=-1, keepdims=True)
    shares = np.cumsum(x / np.where(total > 0, total, 1.0), axis=-1)
    count = (shares <= threshold).sum(axis=-1) + 1
    return np.where(total[..., 0] > 0, np.minimum(count, x.shape[-1]), 0)
