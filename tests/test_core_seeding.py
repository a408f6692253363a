"""Seeds: same seed same numbers, different seed different numbers, whatever the batching."""
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_step_draws_are_each_samples_own_whatever_the_batch():
    """A sample's step draws do not depend on which other samples share its batch, and every integer
    lies in its own (per-sample) range."""
    def draws(samples):
        rng = BatchRNG([sample_generator(3, None, s) for s in samples])
        high = np.array([10 + s for s in samples])[:, None, None] - np.arange(3)  # per sample and slot
        return rng.step_draws(normal={"z": (), "w": (5,)}, uniform={"u": (40, 3), "v": (7,)},
                              integer={"big": ((600,), 1, 5), "small": ((9,), 0, 3), "mixed": ((40, 3), 0, high)},
                              beta={"d": ((40,), np.array([1.0 + s for s in samples]), np.full(len(samples), 2.0))})

    batch, alone = draws([0, 1, 2]), draws([1])
    for name in ("z", "w", "u", "v", "big", "small", "mixed", "d"):
        np.testing.assert_array_equal(batch[name][1], alone[name][0], err_msg=name)
    assert batch["z"].shape == (3,) and batch["w"].shape == (3, 5) and batch["mixed"].shape == (3, 40, 3)
    assert batch["big"].min() >= 1 and batch["big"].max() <= 4 and batch["small"].max() <= 2
    assert (batch["mixed"] < (np.array([10, 11, 12])[:, None, None] - np.arange(3))).all()
    assert ((batch["u"] >= 0) & (batch["u"] < 1)).all() and set(np.unique(batch["big"])) == {1, 2, 3, 4}


def test_step_draws_make_the_documented_calls_in_order():
    """The calls a row's generator makes are the contract that pins a model's numbers: normals,
    uniforms, one call per shared range of GROUP_MIN numbers or more, one with an array of ranges
    (per-sample ranges first, then the small shared groups), betas."""
    big = BatchRNG.GROUP_MIN
    high = np.array([[7, 8, 9]])
    drawn = BatchRNG([sample_generator(8, None, 0)]).step_draws(
        normal={"z": (2,)}, uniform={"u": (3,), "v": (2, 2)},
        integer={"small": ((4,), 0, 6), "big": ((big,), 2, 5), "per_sample": ((3,), 1, high)},
        beta={"d": ((6,), np.array([2.0]), np.array([3.0]))})
    g = sample_generator(8, None, 0)
    z, uv = g.standard_normal(2), g.random(7)
    big_ints = g.integers(3, size=big) + 2
    picks = g.integers(np.concatenate([high[0] - 1, np.full(4, 6)]))
    d = g.beta(2.0, 3.0, size=6)
    expected = {"z": z, "u": uv[:3], "v": uv[3:].reshape(2, 2), "big": big_ints, "per_sample": picks[:3] + 1,
                "small": picks[3:], "d": d}
    assert drawn.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(drawn[name][0], value, err_msg=name)


_shapes = st.lists(st.integers(1, 6), min_size=0, max_size=2).map(tuple)
_arrays = st.lists(st.integers(1, 6), min_size=1, max_size=2).map(tuple)


@st.composite
def step_specs(draw):
    """A random :meth:`BatchRNG.step_draws` request: blocks of every kind, integer ranges shared
    (below and above GROUP_MIN) or per sample. Per-sample arguments are made from the sample's
    index by :func:`_draw_for`, so any batch can be built: ``integer`` maps names to
    ``(kind, shape, low, high)``, ``high`` being the spread of the ranges for kind ``per_sample``,
    and ``beta`` maps names to shapes."""
    names = iter(f"x{i}" for i in range(100))
    normal = {next(names): draw(_shapes) for _ in range(draw(st.integers(0, 2)))}
    uniform = {next(names): draw(_shapes) for _ in range(draw(st.integers(0, 2)))}
    integer = {}
    for _ in range(draw(st.integers(0, 4))):
        low, kind = draw(st.integers(0, 2)), draw(st.sampled_from(["shared", "large", "per_sample"]))
        if kind == "large":  # a group of its own call
            integer[next(names)] = ("shared", (draw(st.integers(BatchRNG.GROUP_MIN, BatchRNG.GROUP_MIN + 50)),),
                                    low, low + draw(st.integers(1, 3)))
        elif kind == "shared":
            integer[next(names)] = ("shared", draw(_shapes), low, low + draw(st.integers(1, 5)))
        else:
            spread = draw(st.integers(1, 40))
            integer[next(names)] = ("per_sample", draw(_arrays), low, spread)
    beta = {next(names): draw(_shapes) for _ in range(draw(st.integers(0, 2)))}
    return normal, uniform, integer, beta


def _draw_for(samples, spec):
    """``spec``'s draws for a batch of ``samples``, each sample's arguments its own."""
    normal, uniform, integer, beta = spec
    rng = BatchRNG([sample_generator(11, {"p": 1}, s) for s in samples])
    index = np.asarray(samples)
    integer = {name: (shape, low, high if kind == "shared" else
                      low + 1 + (index.reshape(-1, *(1,) * len(shape)) * 7919 + np.arange(shape[-1])) % high)
               for name, (kind, shape, low, high) in integer.items()}
    beta = {name: (shape, 0.5 + index % 3, 1.0 + index % 5) for name, shape in beta.items()}
    return rng.step_draws(normal, uniform, integer, beta), integer


@settings(max_examples=60, deadline=None)
@given(spec=step_specs(), samples=st.lists(st.integers(0, 50), min_size=1, max_size=5, unique=True),
       data=st.data())
def test_a_rows_step_draws_are_independent_of_its_batch(spec, samples, data):
    """Whatever is drawn and whichever samples share the batch (with their own per-sample ranges
    and beta parameters), each row's numbers are those of its sample drawn alone; integers lie in
    their own row's range."""
    batch, integer = _draw_for(samples, spec)
    row = data.draw(st.integers(0, len(samples) - 1))
    alone, _ = _draw_for([samples[row]], spec)
    assert batch.keys() == alone.keys()
    for name, values in batch.items():
        assert values.shape[0] == len(samples)
        np.testing.assert_array_equal(values[row], alone[name][0], err_msg=name)
    for name, (shape, low, high) in integer.items():
        assert batch[name].shape == (len(samples), *shape)
        assert (batch[name] >= low).all() and (batch[name] < high).all(), name


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
