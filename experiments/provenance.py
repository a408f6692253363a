"""Provenance: what exactly produced a result set or figure, so it can be cited and reproduced."""
from __future__ import annotations

import datetime as _dt
import functools
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from tokensim.mechanisms.core import datafiles, get_model

from .spec import Spec

SEED_DERIVATION = (
    "numpy SeedSequence(seed, spawn_key=(*point_key, sample)) per sample, point_key = first 128 bits "
    "of SHA-256 over the point's parameters as sorted JSON (empty when common_random_numbers)"
)


def package_version() -> str:
    try:
        return metadata.version("tokensim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.cache  # the address does not change while a process runs; it costs a git call
def repository_url() -> str:
    """The project's public address, or "" while it has none (then citations carry no URL, never a
    guessed one): ``[project.urls]`` of the installed package's metadata (Repository, Source or
    Homepage), else of the checkout's pyproject.toml, else the checkout's git remote ``origin``."""
    import tomllib

    try:
        labelled = dict(u.split(", ", 1) for u in metadata.metadata("tokensim").get_all("Project-URL") or [])
    except metadata.PackageNotFoundError:
        labelled = {}
    root = Path(__file__).resolve().parent.parent
    try:
        labelled = {**tomllib.loads((root / "pyproject.toml").read_text()).get("project", {}).get("urls", {}),
                    **labelled}
    except (OSError, tomllib.TOMLDecodeError):
        pass
    for key in ("Repository", "Source", "Homepage"):
        if labelled.get(key):
            return str(labelled[key])
    try:
        remote = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True,
                                text=True, check=False, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return public_address(remote)


def public_address(remote: str) -> str:
    """A git remote as a web address a reader can open, or "" when it is none.

    ``http(s)://host/path`` keeps its address without any credentials in it; ``git@host:path`` and
    ``ssh://[user@]host/path`` become ``https://host/path``; a trailing ``.git`` goes. A local path
    or a ``file://`` remote (a clone of a folder, as CI makes) is no public address: citations then
    carry none rather than a path on someone's disk.
    """
    remote = remote.strip()
    scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(?!//)(.+)", remote)
    if scp:
        host, path = scp.groups()
    else:
        web = re.fullmatch(r"(?:https?|ssh|git)://(?:[^@/]*@)?([^/:]+)(?::\d+)?/(.+)", remote)
        if not web:
            return ""
        host, path = web.groups()
    path = path.strip("/")
    scheme = "http" if remote.startswith("http://") else "https"
    return f"{scheme}://{host}/{path[:-4] if path.endswith('.git') else path}" if path else ""


def git_commit() -> str:
    """The commit of the tokensim checkout (with ``-dirty`` if it has changes), or ``unknown``."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("cadCAD", "numpy", "pandas", "pyarrow", "altair"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def provenance(spec: Spec, points: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything needed to cite and reproduce a result set of ``spec``."""
    model = get_model(spec.model)
    return {
        "model": model.name,
        "model_version": model.version,
        "model_title": model.title,
        "title": spec.title,
        "spec": spec.to_dict(),
        "spec_source": spec.source,
        "swept": spec.swept_names(),
        "points": points,
        "data_files": datafiles.fingerprints(model.schema, points),  # path -> SHA-256 of its content
        "seed": spec.seed,
        "samples": spec.samples,
        "timesteps": spec.timesteps,
        "common_random_numbers": spec.common_random_numbers,
        "seed_derivation": SEED_DERIVATION,
        "tokensim_version": package_version(),
        "git_commit": git_commit(),
        "repository": repository_url(),
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
