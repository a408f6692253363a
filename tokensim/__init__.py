"""tokensim: simulate token-incentive and governance mechanisms with cadCAD.

One import namespace over the repository's top-level folders, so that tokensim installs beside
anything (a cadCAD project's own ``experiments`` package included): ``tokensim.mechanisms`` is
``mechanisms/``, ``tokensim.experiments`` is ``experiments/``, and the data the app and the claims
read travel with them (``experiments/specs/``, ``seeds/claims.toml``, ``data/``).

In an installed wheel those folders sit inside this package (the mapping is in setup.py). In a
checkout they stay where they are, beside this folder, and the package's search path is extended
to the repository root; either way :data:`ROOT` is the folder that holds ``mechanisms/``,
``experiments/``, ``seeds/`` and ``data/``.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_HERE = Path(__file__).resolve().parent
ROOT = _HERE if (_HERE / "mechanisms").is_dir() else _HERE.parent
if ROOT != _HERE:  # a checkout: tokensim.mechanisms is the repository's mechanisms/, and so on
    __path__.append(str(ROOT))  # noqa: F821  (a package's __path__ is set by the import system)

try:
    __version__ = version("tokensim")
except PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["ROOT", "__version__"]
