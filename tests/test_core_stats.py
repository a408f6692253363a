"""Concentration helpers (mechanisms/core/stats.py): hand-computed values, and the one-sort
``gini_nakamoto`` returns exactly the numbers of ``gini`` and ``nakamoto``."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tokensim.mechanisms.core.stats import gini, gini_nakamoto, nakamoto


def test_hand_computed_values():
    x = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0, 0.0]])
    # G = sum (2i - n - 1) x_(i) / (n sum x): row 2 -> 3 * 4 / (4 * 4) = 0.75; row 4 -> (1*1 + 3*3) / 16
    np.testing.assert_allclose(gini(x), [0.0, 0.75, 0.0, 10 / 16])
    # more than half the weight: 3 of 4 equal holders, the whale alone, nobody, the holder of 3/4
    np.testing.assert_array_equal(nakamoto(x), [3, 1, 0, 1])


values = hnp.arrays(
    float, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
    elements=st.one_of(st.just(0.0), st.just(1.0), st.floats(0, 1e6, allow_subnormal=False)),
)


@settings(max_examples=200, deadline=None)
@given(x=values, threshold=st.sampled_from([0.5, 1 / 3, 0.9]))
def test_one_sort_gives_identical_numbers(x, threshold):
    g, n = gini_nakamoto(x, threshold)
    np.testing.assert_array_equal(g, gini(x))
    np.testing.assert_array_equal(n, nakamoto(x, threshold))


def test_identical_on_governance_sized_rows():
    rng = np.random.default_rng(3)
    x = rng.pareto(1.2, size=(50, 1001)) * (rng.random((50, 1001)) < 0.6)  # heavy tail, abstainers at 0
    g, n = gini_nakamoto(x)
    np.testing.assert_array_equal(g, gini(x))
    np.testing.assert_array_equal(n, nakamoto(x))
