"""The delegates of a community are its largest wallets, found by a partition instead of a sort.

:func:`tokensim.mechanisms.governance.state.largest` must give exactly the first ``k`` columns of
a stable descending argsort (largest first, ties by lower column), so delegation, and with it
every run of the governance and inflation models, is unchanged by the faster selection.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tokensim.mechanisms.governance.state import largest


def stable_top(values: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-values, axis=1, kind="stable")[:, :k]


# Few distinct values make ties, at the threshold and inside the top, the common case.
tied_values = st.sampled_from([0.0, 1.0, 2.5, 1e-300, 1e300])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_largest_equals_a_stable_descending_sort(data):
    rows = data.draw(st.integers(1, 5))
    n = data.draw(st.integers(1, 40))
    k = data.draw(st.integers(1, n))
    elements = data.draw(st.sampled_from([tied_values, st.floats(0, 1e9, allow_nan=False)]))
    values = data.draw(arrays(np.float64, (rows, n), elements=elements))
    np.testing.assert_array_equal(largest(values, k), stable_top(values, k))


def test_largest_on_lognormal_wallets_with_some_rows_tied():
    rng = np.random.default_rng(7)
    values = np.exp(1.5 * rng.normal(size=(50, 2_000)))
    values[::7, :300] = 1.0  # rows whose threshold value is shared by many wallets
    for k in (1, 10, 299, 2_000):
        np.testing.assert_array_equal(largest(values, k), stable_top(values, k))
