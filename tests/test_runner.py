"""The runner: chunked Parquet output with provenance, resumption, and equal numbers everywhere."""
import json
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensim.experiments.backends import chunk_map
from tokensim.experiments.runner import in_plan_order, plan_chunks, run_spec
from tokensim.experiments.spec import parse_spec
from tokensim.experiments.storage import read_results
from tokensim.mechanisms.core import TokensimError


def test_results_are_tidy_with_swept_columns_and_provenance(toy_spec_dict, tmp_path):
    spec = parse_spec(toy_spec_dict)
    result = run_spec(spec, output=tmp_path, keep_frame=True)
    frame, prov = read_results(tmp_path)
    assert len(frame) == 9 * 4 * 13  # points x samples x (timesteps + initial state)
    assert list(frame.columns[:5]) == ["point_id", "emission", "burn_rate", "sample", "timestep"]
    pd.testing.assert_frame_equal(frame, result.frame)
    assert prov["model"] == "toy" and prov["model_version"] == "1.0"
    assert prov["seed"] == 3 and prov["samples"] == 4 and prov["swept"] == ["emission", "burn_rate"]
    assert len(prov["points"]) == 9 and prov["points"][0]["n_agents"] == 20
    assert prov["git_commit"] and prov["created"] and prov["versions"]["cadCAD"] == "0.5.3"
    assert json.loads((tmp_path / "provenance.json").read_text())["spec"]["sweep"]["emission"] == [1.0, 10.0, 100.0]
    assert set(pd.read_csv(tmp_path / "summary.csv")["metric"]) == {"mean_balance", "supply", "minted", "burned"}


def test_interrupted_run_resumes_without_redoing_finished_chunks(toy_spec_dict, tmp_path):
    spec = parse_spec(toy_spec_dict)
    chunks = plan_chunks(spec, spec.points())
    assert len(chunks) == 9

    def dies_after_four(todo):
        for i, item in enumerate(chunk_map("local", 1)(todo)):
            if i == 4:
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        run_spec(spec, chunk_map=dies_after_four, output=tmp_path)
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == 4
    assert not list((tmp_path / "chunks").glob(".*tmp"))

    ran = []

    def counting(todo):
        ran.extend(c.chunk_id for c in todo)
        return chunk_map("local", 1)(todo)

    resumed = run_spec(spec, chunk_map=counting, output=tmp_path)
    assert len(ran) == 5 and resumed.chunks_reused == 4 and resumed.frame is None
    fresh = run_spec(spec)
    pd.testing.assert_frame_equal(resumed.load_frame(), fresh.frame)
    pd.testing.assert_frame_equal(resumed.outcomes, fresh.outcomes)


def test_changed_spec_does_not_reuse_stale_chunks(toy_spec_dict, tmp_path):
    run_spec(parse_spec(toy_spec_dict), output=tmp_path)
    changed = parse_spec({**toy_spec_dict, "timesteps": 13})
    assert run_spec(changed, output=tmp_path).chunks_reused == 0


@pytest.mark.parametrize("layout", ["per_point", "per_sample"])
def test_layouts_give_the_packed_numbers(toy_spec_dict, layout):
    packed = run_spec(parse_spec({**toy_spec_dict, "chunk_size": 100}))
    other = run_spec(parse_spec({**toy_spec_dict, "layout": layout}))
    pd.testing.assert_frame_equal(packed.frame, other.frame)


def test_process_pool_gives_the_in_process_numbers(toy_spec_dict):
    spec = parse_spec(toy_spec_dict)
    pd.testing.assert_frame_equal(run_spec(spec).frame, run_spec(spec, chunk_map=chunk_map("local", 2)).frame)


def test_structural_parameters_are_never_batched_together(toy_spec_dict):
    spec = parse_spec({**toy_spec_dict, "chunk_size": 1000, "fixed": {}, "sweep": {"n_agents": [5, 6], "emission": [1.0, 2.0]}})
    chunks = plan_chunks(spec, spec.points())
    assert len(chunks) == 2
    assert all(len({r.params["n_agents"] for r in c.rows}) == 1 for c in chunks)
    frame = run_spec(spec).frame
    assert frame.groupby("point_id")["n_agents"].nunique().eq(1).all()


def test_bad_backend_and_workers_are_user_errors():
    with pytest.raises(TokensimError, match="unknown backend"):
        chunk_map("nowhere", 1)
    with pytest.raises(TokensimError, match="--workers = 0"):
        chunk_map("local", 0)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_frames_reach_the_results_in_plan_order_whatever_order_chunks_finish(data):
    """results.parquet is written in plan order however a pool finishes the chunks; a finished chunk
    waits in memory only while fewer than ``held`` do (else it is read back from its file), and the
    chunks an earlier run stored are always read back."""
    n = data.draw(st.integers(1, 9))
    ids = [f"c{i}" for i in range(n)]
    chunks = [SimpleNamespace(chunk_id=i) for i in ids]
    stored = set(data.draw(st.lists(st.sampled_from(ids), unique=True)))
    finishing = data.draw(st.permutations([c for c in chunks if c.chunk_id not in stored]))
    held = data.draw(st.integers(0, 4))
    read_back: list[str] = []

    def read(chunk):
        read_back.append(chunk.chunk_id)
        return ("file", chunk.chunk_id)

    out = list(in_plan_order(chunks, ((c, ("memory", c.chunk_id)) for c in finishing), stored, read, held))
    assert [chunk_id for _, chunk_id in out] == ids
    assert stored <= set(read_back)
    assert {chunk_id for source, chunk_id in out if source == "memory"} == set(ids) - set(read_back)
    done, on_time = set(stored), set()
    for chunk in finishing:  # a chunk that finishes once every chunk before it is done is never read back
        done.add(chunk.chunk_id)
        if all(i in done for i in ids[: ids.index(chunk.chunk_id)]):
            on_time.add(chunk.chunk_id)
    assert not on_time & set(read_back)
    if held == 0:
        assert sorted(read_back) == sorted(set(ids) - on_time)
    if finishing == [c for c in chunks if c.chunk_id not in stored] and not stored:  # one process
        assert read_back == []


def test_a_run_on_one_process_never_reads_its_chunks_back(toy_spec_dict, tmp_path, monkeypatch):
    import tokensim.experiments.runner as runner

    reads = []
    monkeypatch.setattr(runner, "read_chunk", lambda *a, **k: reads.append(a[0]))
    spec = parse_spec(toy_spec_dict)
    result = run_spec(spec, output=tmp_path, keep_frame=True)
    assert reads == [] and len(list((tmp_path / "chunks").glob("*.parquet"))) == 9
    monkeypatch.undo()
    frame, _ = read_results(tmp_path)
    pd.testing.assert_frame_equal(frame, result.frame)
