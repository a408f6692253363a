"""The linter's verdict is part of the test suite: ``ruff check`` (configured in pyproject.toml) is clean."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_check_is_clean():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert "No module named ruff" not in done.stderr, "ruff is missing: pip install -e \".[dev]\""
    assert done.returncode == 0, f"ruff check found problems (fix them, or see [tool.ruff] in pyproject.toml):\n{done.stdout}"
