"""Shared pieces of the fuzz suite: a deterministic hypothesis profile, a hang guard, a CLI runner.

Every fuzz test asserts the same contract: whatever the input, the CLI exits 0 or 2; on 2 it
prints exactly one ``error:`` line, short, naming where the problem is; it never shows a
traceback (any exception other than a handled one fails the test) and never hangs (an alarm
turns a hang into a failure).
"""
import os
import signal
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, settings

from tokensim.experiments import budget
from tokensim.experiments.cli import main

# Deterministic (the same examples in every run, so CI is reproducible) and quick: the whole
# suite stays within about a minute. TOKENSIM_FUZZ_EXAMPLES=2000 (and TOKENSIM_FUZZ_RANDOM=1 for
# fresh examples each time) for a longer hunt.
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("TOKENSIM_FUZZ_EXAMPLES", "40")),
    derandomize=not os.environ.get("TOKENSIM_FUZZ_RANDOM"), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings.get_profile("fuzz")
HANG_SECONDS = 60
MAX_MESSAGE = 1000  # characters of an error line; inputs are shortened to about 80 in messages


class Hang(Exception):
    """Raised by :func:`no_hang` when a call takes longer than it may."""


@contextmanager
def no_hang(seconds: float = HANG_SECONDS):
    def alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv, capsys) -> tuple[int, str]:
    """Run the CLI in-process under :func:`no_hang`; check the error contract; return (status, error)."""
    capsys.readouterr()
    with no_hang():
        status = main(argv)
    err = capsys.readouterr().err.strip()
    assert status in (0, 2), (status, err)
    if status == 2:
        assert err.startswith("error: ") and "\n" not in err, err
        assert "Traceback" not in err and len(err) <= MAX_MESSAGE, err
    return status, err


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    """Any run larger than a toy one is refused by the budget check (itself an exit-2 path)."""
    monkeypatch.setattr(budget, "COST_LIMIT", 1e-4)
