"""Regression tests for issue 12 (hardening): every finding of the adversarial test, one test each.

User mistakes end in one ``error:`` line naming file, key, value and allowed range, exit 2, no
traceback; nothing hangs; no stale chunk is reused; no worker outlives its parent.
"""
import errno
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tokensim.experiments import budget, storage
from tokensim.experiments.backends import DASK_PREFIX, remove_stale_dask_folders
from tokensim.experiments.cli import main
from tokensim.experiments.runner import plan_chunks
from tokensim.experiments.spec import load_spec, parse_spec
from tokensim.mechanisms.core import get_model

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "tests" / "data" / "governance_balances.csv"
TOY = """
model = "toy"
seed = 1
samples = 2
timesteps = 3
chunk_size = 2
output = "out"
[sweep]
emission = [1.0, 2.0]
"""
# Runs the CLI in a fresh interpreter with the toy model registered.
CLI = "import sys, tests.models.toy; from tokensim.experiments.cli import main; sys.exit(main(sys.argv[1:]))"


def cli_error(argv, capsys) -> str:
    """Run the CLI in-process; it must exit 2 with exactly one ``error:`` line, which is returned."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def write(tmp_path, text, name="spec.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return path


def subprocess_cli(args, **kwargs):
    return subprocess.Popen([sys.executable, "-c", CLI, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, **kwargs)


# --- spec bytes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (TOY.encode("utf-16"), "not UTF-8 text"),
    ("model = \"toy\"\ntitle = \"Caf\xe9\"\n".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
    (pickle.dumps({"model": "toy"}), "not UTF-8 text"),
    (TOY.encode().replace(b'"toy"', b'"t\xffy"'), "not UTF-8 text (byte 0xff"),
    (b"a = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b"model = 'toy'\n[fixed]\n" + b"x = " + b"{a = " * 30 + b"1" + b"}" * 30, "nested too deeply"),
])
def test_undecodable_or_nested_specs_are_one_line(tmp_path, capsys, content, message):
    path = write(tmp_path, content)
    err = cli_error(["run", str(path), "--quiet"], capsys)
    assert str(path) in err and message in err


def test_deeply_nested_json_and_huge_integers(tmp_path, capsys):
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000, "spec.json")
    assert "nested too deeply" in cli_error(["run", str(path)], capsys)
    path = write(tmp_path, '{"model": "toy", "seed": ' + "9" * 5000 + "}", "spec.json")
    assert "not valid JSON" in cli_error(["run", str(path)], capsys)


@pytest.mark.parametrize("body, key, allowed", [
    ("[fixed]\nn_agents = nan", "fixed.n_agents", "an integer in [1, 100000]"),
    ("[fixed]\nn_agents = inf", "fixed.n_agents", "an integer in [1, 100000]"),
    ("[fixed]\nn_agents = 1e400", "fixed.n_agents", "an integer in [1, 100000]"),
    ("[fixed]\nn_agents = " + "1" * 400, "fixed.n_agents", "an integer in [1, 100000]"),
    ("[fixed]\nemission = " + "1" * 400, "fixed.emission", "a number in [0, 1e+09]"),
    ("[sweep]\nburn_rate = { start = 0.0, stop = 0.5, step = nan }", "sweep.burn_rate.step", "a finite number"),
    ("[sweep]\nburn_rate = { start = 0.0, stop = inf, step = 0.1 }", "sweep.burn_rate.stop", "a finite number"),
    ("[sweep]\nburn_rate = { start = 0.0, stop = 0.5, step = 1e-300 }", "sweep.burn_rate", "allowed 1 to 100000"),
    ("[sweep]\nburn_rate = { start = 0.1, stop = 0.5, num = 3, log = \"yes\" }", "sweep.burn_rate.log", "true or false"),
    ("claims = [1, {a = 1}]", "claims[0]", "a string"),
    ("metrics = [{a = 1}]", "metrics[0]", "a string"),
    ('output = "a\\u0000b"', "output", "without NUL"),
])
def test_non_finite_and_mistyped_values_are_rejected(tmp_path, capsys, body, key, allowed):
    path = write(tmp_path, 'model = "toy"\nsamples = 2\ntimesteps = 2\n' + body + "\n")
    err = cli_error(["run", str(path), "--quiet"], capsys)
    assert f"key '{key}'" in err and allowed in err and len(err) < 400


@pytest.mark.parametrize("text", ["1_000", "\u0661\u0660\u0660\u0660", "nan", "inf", "1e99999", "0x10", "9" * 5000])
def test_set_accepts_ascii_decimal_numbers_only(tmp_path, capsys, text):
    path = write(tmp_path, TOY)
    err = cli_error(["run", str(path), "--quiet", "--set", f"n_agents={text}"], capsys)
    assert "parameter 'n_agents'" in err and "allowed: an integer in [1, 100000]" in err and len(err) < 400


def test_huge_values_are_shortened_in_messages(tmp_path, capsys):
    path = write(tmp_path, f'model = "toy"\nlayout = "{"x" * 100_000}"\n')
    err = cli_error(["run", str(path)], capsys)
    assert "key 'layout'" in err and "(100002 characters)" in err and len(err) < 300


# --- no hang --------------------------------------------------------------------------------------

def test_fifo_as_spec_is_refused_at_once(tmp_path):
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    proc = subprocess_cli(["run", str(fifo)])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "FIFO" in err and "Traceback" not in err


def test_fifo_as_results_to_plot_is_refused(tmp_path, capsys):
    os.mkfifo(tmp_path / "results.parquet")
    assert "is not a regular file" in cli_error(["plot", str(tmp_path)], capsys)


def test_data_file_given_with_set_obeys_the_same_rules(tmp_path, capsys):
    (tmp_path / "balances.csv").write_bytes(SAMPLE_CSV.read_bytes())
    path = write(tmp_path, 'model = "governance"\nsamples = 2\ntimesteps = 2\n[fixed]\nn_whales = 3\nmax_identities = 16\n')
    err = cli_error(["run", str(path), "--set", "balances_csv=/etc/passwd"], capsys)
    assert "key '--set balances_csv'" in err and "outside the folders" in err
    spec = load_spec(path).with_overrides({"balances_csv": "balances.csv"})  # relative to the spec, like its own keys
    assert spec.fixed["balances_csv"] == str(tmp_path / "balances.csv")


def test_fifo_and_devices_as_balances_csv_are_refused(tmp_path, capsys):
    os.mkfifo(tmp_path / "balances.csv")
    spec = write(tmp_path, 'model = "governance"\n[fixed]\nbalances_csv = "balances.csv"\n')
    err = cli_error(["run", str(spec)], capsys)
    assert "key 'fixed.balances_csv'" in err and "FIFO" in err
    spec = write(tmp_path, 'model = "governance"\n[fixed]\nbalances_csv = "/dev/zero"\n')
    assert "outside the folders data files may come from" in cli_error(["run", str(spec)], capsys)
    spec = write(tmp_path, 'model = "governance"\n[fixed]\nbalances_csv = "../../../../../etc/passwd"\n')
    err = cli_error(["run", str(spec)], capsys)
    assert "outside the folders" in err and "root:" not in err


# --- data files -----------------------------------------------------------------------------------

def gov_spec(tmp_path, csv="balances.csv"):
    return write(tmp_path, f'model = "governance"\nsamples = 2\ntimesteps = 2\noutput = "out"\n'
                           f'[fixed]\nbalances_csv = "{csv}"\nn_whales = 3\nmax_identities = 16\n')


def test_balances_csv_resolves_against_the_spec_folder_like_output(tmp_path, monkeypatch):
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "balances.csv").write_bytes(SAMPLE_CSV.read_bytes())
    monkeypatch.chdir(tmp_path)  # the working directory is not the spec's folder
    spec = load_spec(gov_spec(folder))
    assert spec.fixed["balances_csv"] == str(folder / "balances.csv") and spec.output == folder / "out"


def test_changed_csv_under_the_same_path_never_reuses_chunks(tmp_path, capsys):
    csv = tmp_path / "balances.csv"
    csv.write_bytes(SAMPLE_CSV.read_bytes())
    path = gov_spec(tmp_path)
    before = {c.chunk_id for c in plan_chunks(load_spec(path), load_spec(path).points())}
    assert main(["run", str(path), "--quiet"]) == 0
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["data_files"] == {str(csv): hashlib.sha256(csv.read_bytes()).hexdigest()}
    csv.write_text(SAMPLE_CSV.read_text().replace("250000", "260000"))
    after = {c.chunk_id for c in plan_chunks(load_spec(path), load_spec(path).points())}
    assert before.isdisjoint(after)
    assert main(["run", str(path), "--quiet"]) == 0
    assert "(0 reused" in capsys.readouterr().out.split("chunks:")[-1]


@pytest.mark.parametrize("content, message", [
    ("address,balance\n0xa,1e308\n0xb,1e308\n", "sums to more than"),
    ("address,balance\n0xa,1_000\n0xb,2\n", "row 2, column 'balance': '1_000'"),
    ("address,balance\n0xa,\u0661\u0660\n0xb,2\n", "row 2, column 'balance'"),
    ("address,balance\n0xa,1\n0xb,2\n".encode("utf-16"), "not UTF-8 text"),
])
def test_bad_csv_errors_name_spec_file_key_and_row(tmp_path, capsys, content, message):
    csv = tmp_path / "balances.csv"
    csv.write_bytes(content) if isinstance(content, bytes) else csv.write_text(content)
    path = gov_spec(tmp_path)
    err = cli_error(["run", str(path)], capsys)
    assert err.startswith(f"error: {path}: key 'fixed.balances_csv': ") and message in err


def test_csv_row_and_size_caps(tmp_path, monkeypatch, capsys):
    from tokensim.mechanisms.core import datafiles
    from tokensim.mechanisms.governance import holders

    monkeypatch.setattr(holders, "MAX_HOLDERS", 50)
    (tmp_path / "balances.csv").write_bytes(SAMPLE_CSV.read_bytes())  # 60 holders
    assert "allowed: at most 50 data rows" in cli_error(["run", str(gov_spec(tmp_path))], capsys)
    monkeypatch.setattr(datafiles, "MAX_BYTES", 100)
    assert "allowed: at most 100 bytes" in cli_error(["run", str(gov_spec(tmp_path))], capsys)


def test_upload_entry_point_takes_bytes(tmp_path, monkeypatch):
    from tokensim.mechanisms.core import datafiles
    from tokensim.mechanisms.governance.holders import balances_from_bytes

    monkeypatch.setenv("TOKENSIM_UPLOAD_DIR", str(tmp_path / "uploads"))
    data = SAMPLE_CSV.read_bytes()
    assert len(balances_from_bytes(data, "upload.csv")) == 60
    stored = datafiles.save_upload(data)
    spec = parse_spec({"model": "governance", "fixed": {"balances_csv": str(stored), "n_whales": 3}})
    assert spec.fixed["balances_csv"] == str(stored)  # an upload is an allowed data file; a server path is not
    with pytest.raises(Exception, match="outside the folders"):
        parse_spec({"model": "governance", "fixed": {"balances_csv": str(SAMPLE_CSV)}})


# --- resource bounds ------------------------------------------------------------------------------

def test_cli_refuses_runs_that_would_exhaust_memory_and_says_what_to_reduce(tmp_path, capsys):
    path = write(tmp_path, 'model = "governance"\nsamples = 1000\ntimesteps = 1\nchunk_size = 1000\n'
                           '[fixed]\nn_community = 1000000\n')
    err = cli_error(["run", str(path)], capsys)
    assert "GiB of memory" in err and "chunk_size from 1000 to at most" in err


def test_cli_refuses_costly_runs_unless_forced(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(budget, "COST_LIMIT", 1e-5)  # the run is estimated at 1.8e-5 s
    path = write(tmp_path, TOY)
    err = cli_error(["run", str(path)], capsys)
    assert "above the limit" in err and "samples from 2 to at most 1" in err and "--force" in err
    assert main(["run", str(path), "--quiet", "--force"]) == 0


def test_learning_controller_training_is_counted(tmp_path, monkeypatch):
    from tokensim.mechanisms.inflation import tuning_cache

    monkeypatch.setenv("TOKENSIM_CACHE_DIR", str(tmp_path))  # nothing tuned yet: training is still to come
    monkeypatch.setattr(tuning_cache, "_MEMORY", {})
    model = get_model("inflation")
    spec = parse_spec({"model": "inflation", "samples": 1, "timesteps": 10, "fixed": {"tuning": "cem"},
                       "sweep": {"policy": ["fixed", "learning"]}})
    fixed, learning = spec.points()
    assert model.setup_cost(fixed) == 0 and model.setup_cost(learning) > 0.1
    without_training = budget.estimate_cost(parse_spec({"model": "inflation", "samples": 1, "timesteps": 10,
                                                          "fixed": {"tuning": "cem"}, "sweep": {"policy": ["fixed", "fixed"]}}))
    assert budget.estimate_cost(spec) == pytest.approx(without_training + model.setup_cost(learning), rel=0.2)


@pytest.mark.parametrize("argv", [["--workers", "16"], ["--workers", "100000", "--backend", "dask"], ["--workers", "0"]])
def test_workers_are_bounded_by_the_cpus(tmp_path, capsys, argv):
    err = cli_error(["run", str(write(tmp_path, TOY)), *argv], capsys)
    assert "--workers" in err and "allowed: an integer in [1, " in err


def test_memory_error_is_one_line(tmp_path, capsys, monkeypatch):
    import tokensim.experiments.runner

    def boom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(tokensim.experiments.runner, "run_spec", boom)
    assert "out of memory; reduce chunk_size" in cli_error(["run", str(write(tmp_path, TOY)), "--quiet"], capsys)


# --- chunk store ----------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["empty", "truncated", "flipped", "other"])
def test_damaged_chunks_are_recomputed(tmp_path, capsys, damage):
    path = write(tmp_path, TOY)
    assert main(["run", str(path), "--quiet"]) == 0
    good = pd.read_parquet(tmp_path / "out" / "results.parquet")
    chunk = sorted((tmp_path / "out" / "chunks").glob("*.parquet"))[0]
    data = chunk.read_bytes()
    if damage == "empty":
        chunk.write_bytes(b"")
    elif damage == "truncated":
        chunk.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":  # inside the first data page: its checksum no longer matches
        chunk.write_bytes(data[:40] + bytes([data[40] ^ 0xFF]) + data[41:])
    else:
        pd.DataFrame({"x": [1.0]}).to_parquet(chunk)
    capsys.readouterr()
    assert main(["run", str(path), "--quiet"]) == 0
    assert "chunks: 2 (1 reused" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "results.parquet"), good)


def test_failed_write_leaves_no_temp_file_and_is_one_line(tmp_path, capsys, monkeypatch):
    import pyarrow.parquet as pq

    def full(*args, **kwargs):
        Path(args[1]).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full)
    err = cli_error(["run", str(write(tmp_path, TOY)), "--quiet"], capsys)
    assert "No space left on device (the disk is full" in err
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_full_disk_while_plotting_is_one_line(tmp_path, capsys, monkeypatch):
    import tokensim.experiments.figures

    path = write(tmp_path, TOY)
    assert main(["run", str(path), "--quiet"]) == 0

    def full(chart, stem, formats):
        raise OSError(errno.ENOSPC, "No space left on device", str(stem))

    monkeypatch.setattr(tokensim.experiments.figures, "save_figure", full)
    err = cli_error(["plot", str(tmp_path / "out"), "--metric", "supply"], capsys)
    assert "cannot write" in err and "the disk is full" in err


def test_stale_temp_files_of_a_killed_run_are_removed(tmp_path):
    path = write(tmp_path, TOY)
    (tmp_path / "out" / "chunks").mkdir(parents=True)
    stale = tmp_path / "out" / "chunks" / ".abc.parquet.99999.tmp"
    stale.write_bytes(b"half")
    assert main(["run", str(path), "--quiet"]) == 0
    assert not stale.exists()


def test_read_only_output_fails_before_computing(tmp_path, capsys, monkeypatch):
    import tokensim.experiments.runner

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    path = write(tmp_path, TOY)
    monkeypatch.setattr(tokensim.experiments.runner, "run_chunk", lambda chunk: pytest.fail("computed a chunk"))
    monkeypatch.setattr(Path, "write_text", read_only)
    err = cli_error(["run", str(path), "--quiet"], capsys)
    assert "Read-only file system (the file system is read-only; choose another --output)" in err


def test_second_run_on_the_same_output_exits_with_a_message(tmp_path, capsys):
    path = write(tmp_path, TOY)
    with storage.output_lock(tmp_path / "out"):
        err = cli_error(["run", str(path), "--quiet"], capsys)
    assert f"{tmp_path / 'out'} is being written by another run (pid {os.getpid()})" in err
    assert main(["run", str(path), "--quiet"]) == 0  # the lock is released afterwards


# --- processes ------------------------------------------------------------------------------------

SLOW = """
model = "toy"
seed = 2
samples = 2
timesteps = 150
chunk_size = 2
output = "out"
[fixed]
n_agents = 2000
[sweep]
emission = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
"""


def wait_for(condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def chunk_files(folder):
    return sorted((folder / "out" / "chunks").glob("*.parquet")) if (folder / "out" / "chunks").exists() else []


def children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkilled_parent_takes_its_pool_workers_with_it(tmp_path):
    path = write(tmp_path, SLOW)
    proc = subprocess_cli(["run", str(path), "--quiet", "--workers", "2"], start_new_session=True)
    wait_for(lambda: len([c for c in children(proc.pid) if alive(c)]) >= 2)
    workers = [c for c in children(proc.pid) if alive(c)]
    proc.kill()
    proc.communicate(timeout=60)
    wait_for(lambda: not any(alive(w) for w in workers), timeout=60)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_ends_cleanly_and_keeps_finished_chunks(tmp_path, workers):
    path = write(tmp_path, SLOW)
    proc = subprocess_cli(["run", str(path), "--quiet", "--workers", workers])
    wait_for(lambda: len(chunk_files(tmp_path)) >= 1)
    pool = [c for c in children(proc.pid) if alive(c)]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM and err.startswith("interrupted: finished chunks are kept")
    assert len(err.strip().splitlines()) == 1  # no worker tracebacks, no resource-tracker warnings
    assert "Traceback" not in err and chunk_files(tmp_path) and not list((tmp_path / "out").rglob("*.tmp"))
    wait_for(lambda: not any(alive(c) for c in pool), timeout=30)  # the pool was stopped, not left running


def test_dask_folders_of_killed_runs_are_removed(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{DASK_PREFIX}{dead.stdout.strip()}-abc"
    live = tmp_path / f"{DASK_PREFIX}{os.getpid()}-def"
    stale.mkdir(), live.mkdir()
    remove_stale_dask_folders()
    assert not stale.exists() and live.exists()


def test_interrupted_dask_run_removes_its_temporary_folder(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    import tempfile

    from tokensim.experiments.backends import dask_map
    from tokensim.experiments.runner import plan_chunks

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spec = parse_spec({"model": "toy", "samples": 2, "timesteps": 2, "chunk_size": 1, "fixed": {"n_agents": 5}})
    running = dask_map(plan_chunks(spec, spec.points()), workers=1)
    next(running)
    assert list(tmp_path.glob(f"{DASK_PREFIX}{os.getpid()}-*"))
    running.close()  # what an interrupt does to the runner's loop
    assert not list(tmp_path.glob(f"{DASK_PREFIX}*"))


def test_spec_round_trip_keeps_resolved_data_path(tmp_path):
    (tmp_path / "balances.csv").write_bytes(SAMPLE_CSV.read_bytes())
    spec = load_spec(gov_spec(tmp_path))
    again = parse_spec(json.loads(json.dumps(spec.to_dict())), folder=tmp_path)
    assert again.fixed["balances_csv"] == spec.fixed["balances_csv"]


def test_a_stopped_pool_leaves_no_manager_thread_waiting_on_a_half_written_result(monkeypatch):
    """A worker terminated mid-write leaves half a message in the result pipe; the pool's manager
    thread then waits for the rest, and the interpreter's exit joins that thread, so a run stopped
    by SIGTERM hung at exit. After the runner stops its pool the manager thread must have ended."""
    import struct
    from concurrent import futures

    from tokensim.experiments import runner

    # two quick chunks (1,000 agents; their group sorts first), then two of several seconds
    # (90,000 agents) that keep both workers busy, so no real result follows the half message
    spec = parse_spec({"model": "toy", "samples": 2, "timesteps": 4000, "chunk_size": 1,
                       "sweep": {"n_agents": [1_000, 90_000]}})
    pools = []

    def recording_pool(*args, **kwargs):
        pools.append(futures.ProcessPoolExecutor(*args, **kwargs))
        return pools[-1]

    monkeypatch.setattr(runner, "ProcessPoolExecutor", recording_pool)
    running = runner.local_map(plan_chunks(spec, spec.points()), workers=2)
    first, _ = next(running)  # the pool is up and has delivered a quick chunk
    assert first.rows[0].params["n_agents"] == 1_000
    time.sleep(0.5)  # both workers are now inside the long chunks
    pool = pools[0]
    manager = pool._executor_manager_thread
    os.write(pool._result_queue._writer.fileno(), struct.pack("!i", 1000) + b"half a message")
    time.sleep(0.2)  # the manager reads the header and waits for the other 986 bytes
    running.close()  # what an interrupt does
    manager.join(10)
    assert not manager.is_alive(), "the pool's manager thread still waits on the half-written result"
