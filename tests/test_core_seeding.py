"""Seeds: same seed same numbers, different seed different numbers, whatever the batching."""
import numpy as np
import pandas as pd

from tokensim.mechanisms.core.cadcad_run import Batch, Row, run_batches
from tokensim.mechanisms.core.seeding import BatchRNG, point_key, sample_generator
from tests.models.toy import MODEL

KEYS = ["point_id", "sample", "timestep"]


def rows(n_points=2, n_samples=3):
    points = [MODEL.schema.resolve({"emission": 10.0 ** (i + 1), "n_agents": 7}) for i in range(n_points)]
    return [Row(i, p, s) for i, p in enumerate(points) for s in range(n_samples)]


def test_point_key_ignores_dict_order_and_separates_points():
    assert point_key({"a": 1, "b": 2.5}) == point_key({"b": 2.5, "a": 1})
    assert point_key({"a": 1}) != point_key({"a": 2})


def test_batch_rows_draw_their_own_streams():
    gens = [sample_generator(5, {"x": 1}, s) for s in range(3)]
    batch = BatchRNG(gens).normal(size=4, scale=np.array([1.0, 2.0, 3.0]))
    for s in range(3):
        alone = sample_generator(5, {"x": 1}, s).normal(size=4, scale=s + 1.0)
        np.testing.assert_array_equal(batch[s], alone)


def test_streams_give_each_row_the_numbers_of_its_own_generator_whatever_the_batch():
    """Buffered streams: a row's draws are its generator's consecutive draws, alone or in a batch,
    across refills (calls larger than a block included), one sequence per method and arguments."""
    sizes = [2, 1, 2, 700, 2, 1500, 3] * 3  # crosses the 1,024-draw block several times

    def drawn(gens):
        rng = BatchRNG(gens)
        normals = np.concatenate([rng.stream("standard_normal", n) for n in sizes], axis=1)
        ints = np.concatenate([rng.stream("integers", 3, low=0, high=10) for _ in sizes], axis=1)
        return normals, ints

    batch_normals, batch_ints = drawn([sample_generator(5, {"x": 1}, s) for s in range(3)])
    for s in range(3):
        alone_normals, alone_ints = drawn([sample_generator(5, {"x": 1}, s)])
        np.testing.assert_array_equal(batch_normals[s], alone_normals[0])
        np.testing.assert_array_equal(batch_ints[s], alone_ints[0])
    # With nothing else drawn, a stream is the generator's plain sequence of draws.
    plain = sample_generator(5, {"x": 1}, 0)
    rng = BatchRNG([sample_generator(5, {"x": 1}, 0)])
    np.testing.assert_array_equal(np.concatenate([rng.stream("standard_normal", n)[0] for n in sizes]),
                                  np.concatenate([plain.normal(size=n) for n in sizes]))


def test_same_seed_same_numbers_different_seed_different_numbers():
    a = run_batches(MODEL, [Batch(tuple(rows()))], 10, seed=1)
    b = run_batches(MODEL, [Batch(tuple(rows()))], 10, seed=1)
    c = run_batches(MODEL, [Batch(tuple(rows()))], 10, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["mean_balance"], c["mean_balance"])


def test_common_random_numbers_share_streams_across_points():
    a = run_batches(MODEL, [Batch(tuple(rows()))], 5, seed=1, common_random_numbers=True)
    initial = a[a.timestep == 0].set_index(["point_id", "sample"])["supply"]
    np.testing.assert_array_equal(initial.loc[0].to_numpy(), initial.loc[1].to_numpy())


def test_layouts_and_deepcopy_modes_give_identical_numbers():
    packed = run_batches(MODEL, [Batch(tuple(rows()))], 10, seed=4)
    per_sample = run_batches(MODEL, [Batch((r,)) for r in rows()], 10, seed=4)
    deepcopy_on = run_batches(MODEL, [Batch((r,)) for r in rows()], 10, seed=4, deepcopy_off=False)
    def norm(f):
        return f.sort_values(KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(norm(packed), norm(per_sample))
    pd.testing.assert_frame_equal(norm(per_sample), norm(deepcopy_on))


def test_toy_model_conserves_tokens():
    frame = run_batches(MODEL, [Batch(tuple(rows()))], 25, seed=0)
    np.testing.assert_allclose(frame["minted"], frame["supply"] + frame["burned"], rtol=1e-12)
    assert (frame[["supply", "burned", "mean_balance"]] >= 0).all().all()


def test_point_keys_are_each_points_key_computed_once_per_shared_dict(monkeypatch):
    import tokensim.mechanisms.core.seeding as seeding

    a, b = {"x": 1}, {"x": 2}
    expected = [point_key(a), point_key(a), point_key(b), point_key({"x": 1})]
    calls = []
    real = seeding.point_key
    monkeypatch.setattr(seeding, "point_key", lambda p: calls.append(p) or real(p))
    assert seeding.point_keys([a, a, b, {"x": 1}]) == expected
    assert len(calls) == 3  # a once for its two rows, b, and the equal but distinct dict
    assert seeding.keyed_generator(5, point_key(a), 2).random() == sample_generator(5, a, 2).random()
