"""The command line: run with overrides, plot, list; user mistakes give an error line, not a traceback."""
import subprocess
import sys

import pytest

from tokensim.experiments.cli import main
from tokensim.experiments.storage import read_results

SPEC = """
model = "toy"
title = "toy sweep"
seed = 1
samples = 3
timesteps = 8
chunk_size = 3
output = "out"
[sweep]
emission = [1.0, 2.0]
burn_rate = [0.0, 0.1]
"""


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(SPEC)
    return path


def test_run_prints_summary_and_writes_results(spec_path, capsys):
    assert main(["run", str(spec_path), "--quiet", "--set", "noise=0.5"]) == 0
    out = capsys.readouterr().out
    assert "toy sweep: mean per run over 3 samples (4 points, 8 timesteps)" in out
    assert "chunks: 4 (0 reused" in out and "results:" in out
    _, prov = read_results(spec_path.parent / "out")
    assert prov["spec"]["fixed"]["noise"] == 0.5
    assert main(["run", str(spec_path), "--quiet", "--set", "noise=0.5"]) == 0
    assert "chunks: 4 (4 reused" in capsys.readouterr().out


def test_plot_writes_png_svg_pdf_and_bibtex(spec_path, capsys):
    main(["run", str(spec_path), "--quiet"])
    capsys.readouterr()
    out_dir = spec_path.parent / "out"
    assert main(["plot", str(out_dir), "--metric", "supply", "--kind", "sweep", "--x", "emission", "--color", "burn_rate"]) == 0
    printed = capsys.readouterr().out
    png = out_dir / "figures" / "supply_sweep.png"
    assert f"figure: {png}" in printed
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out_dir / "figures" / "supply_sweep.pdf").read_bytes()[:5] == b"%PDF-"
    assert "<svg" in (out_dir / "figures" / "supply_sweep.svg").read_text()
    assert "@software{tokensim_toy_supply" in (out_dir / "figures" / "supply_sweep.bib").read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "missing.toml"], "missing.toml: cannot read file"),
        (["plot", "nowhere"], "no results at nowhere"),
        (["list", "nope"], "unknown model 'nope'"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_bad_override_names_parameter_value_and_range(spec_path, capsys):
    assert main(["run", str(spec_path), "--quiet", "--set", "burn_rate=3"]) == 2
    assert "parameter 'burn_rate' = 3.0 is not allowed (out of range); allowed: a number in [0, 1]" in capsys.readouterr().err


def test_console_script_runs_as_a_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tokensim.experiments.cli", "run", str(tmp_path / "x.toml")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_list_shows_each_parameter_with_range_basis_and_source_in_readable_lines(capsys):
    assert main(["list", "governance"]) == 0
    out = capsys.readouterr().out
    assert "  n_community = 1000: an integer in [2, 1e+06] (wallets); structural" in out
    assert "assumed, plausible [0.1, 0.6]." in out  # top1_share's basis
    assert "calibrated (" in out  # a calibrated parameter names its source
    assert max(len(line) for line in out.splitlines()) <= 160


def test_list_into_a_closed_pipe_stops_without_a_traceback():
    done = subprocess.run(f"{sys.executable} -m tokensim.experiments.cli list | head -1", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr
