"""SIGKILL a sweep at random points, resume it, and check that the final results equal an
uninterrupted run's and that no chunk finished before a kill was computed again.

The kill points are drawn from a seeded generator (so the test is deterministic in what it asks
for); a kill lands after at least ``k`` chunk files exist, wherever the run is then (inside a
chunk's computation, while writing one, or between them).
"""
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from tokensim.experiments.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLI = "import sys, tests.models.toy; from tokensim.experiments.cli import main; sys.exit(main(sys.argv[1:]))"
SPEC = """
model = "toy"
seed = 5
samples = 2
timesteps = 200
chunk_size = 2
[fixed]
n_agents = 2000
[sweep]
emission = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
burn_rate = [0.0, 0.05]
"""
CHUNKS = 12
KILLS = 3


def stored(out: Path) -> dict[str, tuple[int, int]]:
    """Finished chunk files (a killed write leaves only a temporary file) with inode and mtime."""
    folder = out / "chunks"
    if not folder.exists():
        return {}
    found = {}
    for path in folder.glob("*.parquet"):
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        found[path.name] = (info.st_ino, info.st_mtime_ns)
    return found


def start(spec: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI, "run", str(spec), "--quiet", "--output", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_sigkill_at_random_points_then_resume_matches_an_uninterrupted_run(tmp_path, capsys):
    spec = tmp_path / "sweep.toml"
    spec.write_text(SPEC)
    assert main(["run", str(spec), "--quiet", "--force", "--output", str(tmp_path / "reference")]) == 0
    reference = pd.read_parquet(tmp_path / "reference" / "results.parquet")
    capsys.readouterr()

    out = tmp_path / "killed"
    rng = random.Random(12)
    finished_before: dict[str, tuple[int, int]] = {}
    for target in sorted(rng.sample(range(1, CHUNKS), KILLS)):
        proc = start(spec, out)
        deadline = time.monotonic() + 300
        while len(stored(out)) < target and proc.poll() is None:
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(rng.uniform(0.0, 0.01))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        now = stored(out)
        assert all(now[name] == seen for name, seen in finished_before.items()), "a finished chunk was rewritten"
        finished_before = now
    assert len(finished_before) < CHUNKS, "the kills came too late to interrupt the run"

    proc = start(spec, out)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    reused = int(re.search(r"chunks: 12 \((\d+) reused", stdout).group(1))
    assert reused == len(finished_before)  # every chunk finished before the kills was reused ...
    final = stored(out)
    assert all(final[name] == seen for name, seen in finished_before.items())  # ... and not rewritten
    assert len(final) == CHUNKS and not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), reference)
