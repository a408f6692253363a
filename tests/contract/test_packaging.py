"""The wheel installs one top-level package, ``tokensim``, and works beside a project's own
``experiments`` and ``mechanisms`` packages (as CADLabs' cadCAD model repositories have): the CLI,
a run, the claims and the Streamlit app all work from the installed wheel, with no checkout.

The wheel is built offline from a copy of this checkout (no build isolation, so the dev extra's
setuptools builds it) and installed with ``pip install --target`` into a temporary folder.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", "results", "build", "dist", "*.egg-info", "__pycache__", ".venv",
                              ".hypothesis", ".pytest_cache", "docs")

SCRIPT = textwrap.dedent('''
    import importlib
    import sys
    from pathlib import Path

    target = Path(sys.argv[1])
    for name in ("experiments", "mechanisms"):  # the project's own packages stay importable as they were
        assert getattr(importlib.import_module(name), "DECOY", False), name

    import tokensim
    from tokensim.experiments.app.claims import CLAIMS_PATH, experiment_of, load_claims
    from tokensim.experiments.cli import main

    assert Path(tokensim.__file__).is_relative_to(target), tokensim.__file__
    assert tokensim.ROOT == target / "tokensim"
    assert (tokensim.ROOT / "py.typed").is_file()
    assert main(["list"]) == 0
    Path("tiny.toml").write_text(
        'model = "governance"\\nseed = 1\\nsamples = 2\\ntimesteps = 3\\n[fixed]\\nn_community = 50\\n'
        '[sweep]\\nrule = ["token", "quadratic"]\\n')
    assert main(["run", "tiny.toml", "--quiet", "--output", "out"]) == 0
    assert Path("out", "results.parquet").is_file()
    shipped = tokensim.ROOT / "experiments" / "specs" / "quickstart.toml"  # its output points into the package
    assert main(["run", str(shipped), "--quiet", "--set", "n_community=20", "--force"]) == 0
    assert Path("results", "quickstart", "results.parquet").is_file()

    claims = load_claims()
    assert CLAIMS_PATH.is_relative_to(target) and claims
    for claim in claims:
        experiment = experiment_of(claim)
        assert experiment.spec is not None, (claim["id"], experiment.error)
    if (tokensim.ROOT / "experiments" / "claims" / "cli.py").is_file():  # the claims engine (issue 11)
        assert main(["claims", "list"]) == 0
        # outputs default to the current folder, never into the installed package
        assert main(["claims", "report"]) == 0
        assert Path("docs", "claims.md").is_file()
        assert all(experiment_of(c).results.is_relative_to(Path.cwd()) for c in claims)
        assert not (tokensim.ROOT / "docs").exists() and not (tokensim.ROOT / "results").exists()

    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(tokensim.ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, app.exception
    print("installed tokensim works beside the decoys")
''')


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("build")
    shutil.copytree(ROOT, work / "src", ignore=SKIP)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                           "-w", str(work / "dist"), str(work / "src")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [path] = (work / "dist").glob("tokensim-*.whl")
    return path


def test_the_wheel_holds_one_top_level_package_with_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if not n.startswith("tokensim-")} == {"tokensim"}
    for required in ("tokensim/__init__.py", "tokensim/py.typed", "tokensim/app.py", "tokensim/seeds/claims.toml",
                     "tokensim/experiments/specs/quickstart.toml", "tokensim/mechanisms/core/contract.py"):
        assert required in names, required
    shipped = [*(ROOT / "data").glob("*.csv"), *(ROOT / "app_pages").glob("*.py"),
               *(p for p in (ROOT / "experiments").rglob("*.json") if "__pycache__" not in p.parts)]
    missing = [p.relative_to(ROOT).as_posix() for p in shipped if f"tokensim/{p.relative_to(ROOT).as_posix()}" not in names]
    assert not missing, f"missing from the wheel (see setup.py): {missing}"


def test_the_installed_wheel_works_beside_decoy_experiments_and_mechanisms(wheel, tmp_path):
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                           "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    decoys = tmp_path / "project"
    for name in ("experiments", "mechanisms"):
        (decoys / name).mkdir(parents=True)
        (decoys / name / "__init__.py").write_text("DECOY = True\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(decoys), str(target)])}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(target)], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "works beside the decoys" in run.stdout
    script = subprocess.run([str(target / "bin" / "tokensim"), "list", "toy"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert script.returncode == 2 and "unknown model 'toy'" in script.stderr  # the console script runs the wheel


def test_tokensim_app_starts_streamlit_on_the_app_beside_the_packages(monkeypatch):
    from tokensim.experiments.cli import main

    calls = []
    monkeypatch.setattr("subprocess.call", lambda argv: calls.append(argv) or 0)
    assert main(["app", "--server.port", "8600", "--", "--models", "pkg.mod"]) == 0
    [argv] = calls
    assert argv[:4] == [sys.executable, "-m", "streamlit", "run"] and Path(argv[4]) == ROOT / "app.py"
    assert argv[5:] == ["--server.port", "8600", "--", "--models", "pkg.mod"]
