"""Where tokensim finds its shipped files and where it writes by default.

``PACKAGE_ROOT`` holds ``seeds/``, ``experiments/specs/`` and ``data/``: the repository root in a
source checkout, ``site-packages/tokensim`` in an installed wheel. Results and reports are written
under :func:`output_root`: the repository root in a checkout (``results/`` and ``docs/`` sit beside
the code, as README's commands expect), the current directory for an installed package, so it
never writes into ``site-packages``; a root given explicitly (``--root``) is used as it is.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def is_checkout(root: Path = PACKAGE_ROOT) -> bool:
    """True when ``root`` is a source checkout (it holds the project's pyproject.toml)."""
    return (root / "pyproject.toml").is_file()


def output_root(root: Path = PACKAGE_ROOT) -> Path:
    """The folder default outputs go under: ``root``, unless ``root`` is the installed package (not a
    checkout), in which case the current directory."""
    installed = Path(root).resolve() == PACKAGE_ROOT and not is_checkout(PACKAGE_ROOT)
    return Path.cwd() if installed else Path(root)


def outside_package(output: Path, stem: str) -> Path:
    """``output`` (a spec's own ``output``, say), unless it lies inside the installed package, where a
    shipped spec's relative ``output`` points: then ``results/<stem>`` under the current directory."""
    if is_checkout(PACKAGE_ROOT) or not Path(output).resolve().is_relative_to(PACKAGE_ROOT):
        return Path(output)
    return Path.cwd() / "results" / stem
