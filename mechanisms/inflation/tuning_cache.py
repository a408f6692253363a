"""Tuned parameter vectors cached in memory and on disk, keyed by everything that determines them.

The key is a SHA-256 of: the training point (every parameter that enters tuning), the source code
of every module a rollout runs (so an edited model never reuses stale vectors) and the numpy
version. Files live in ``$TOKENSIM_CACHE_DIR`` or else ``$XDG_CACHE_HOME/tokensim`` (default
``~/.cache/tokensim``) under ``inflation-tuning/``, one JSON file per key written atomically
(temporary file, then rename), so local worker processes and Dask workers on the same machine
tune a point once and all read the same numbers; a worker that cannot see the folder tunes
again and, training being deterministic, gets the same vector. Floats are stored with ``repr``,
which round-trips exactly.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

# Every module whose code a training rollout runs.
_SOURCES = ("blocks", "controllers", "economy", "metrics", "params", "policies", "scenarios", "state", "tuning")
_MEMORY: dict[str, np.ndarray] = {}


def cache_dir() -> Path:
    """Folder of the cached vectors (see the module docstring)."""
    root = os.environ.get("TOKENSIM_CACHE_DIR")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                            "tokensim")
    return Path(root) / "inflation-tuning"


def _code_digest() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()


_CODE = _code_digest()


def cache_key(point: Mapping) -> str:
    """Content hash of a training point, the model's code and the numpy version."""
    canonical = json.dumps({"point": {k: point[k] for k in sorted(point)}, "code": _CODE,
                            "numpy": np.__version__}, sort_keys=True, default=float)
    return hashlib.sha256(canonical.encode()).hexdigest()


def cache_path(point: Mapping, key: str | None = None) -> Path:
    """The file of ``point``'s vector (``key``: its :func:`cache_key`, if already computed)."""
    return cache_dir() / f"{key or cache_key(point)}.json"


def is_cached(point: Mapping) -> bool:
    """Whether ``point``'s vector is already known (in memory or on disk): no tuning cost."""
    key = cache_key(point)
    return key in _MEMORY or cache_path(point, key).is_file()


def cached(point: Mapping, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``point``'s vector from memory, else from disk, else ``compute()`` it and store it in both."""
    key = cache_key(point)
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_path(point, key)
    vector = _read(path)
    if vector is None:
        vector = np.asarray(compute(), dtype=float)
        _write(path, point, vector)
    vector.flags.writeable = False
    _MEMORY[key] = vector
    return vector


def _read(path: Path) -> np.ndarray | None:
    try:
        data = json.loads(path.read_text())
        return np.array([float(x) for x in data["vector"]], dtype=float)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable (e.g. a half-written file from a killed run): tune again


def _write(path: Path, point: Mapping, vector: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump({"vector": [repr(float(x)) for x in vector], "point": dict(point)}, f, default=float)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache folder only costs re-tuning
