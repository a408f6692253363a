"""Data files uploaded in the app: stored under a name the app chooses, validated by the model's
own parser, and passed to the model as that path.

The app never opens a path a user typed: a data-file parameter (``Param(kind="text")``, today only
governance's ``balances_csv``) gets a size-capped ``st.file_uploader``; :func:`data_file` stores the
bytes as ``<sha256>.csv`` in the upload folder (the folder ``mechanisms.core.datafiles`` allows,
``TOKENSIM_UPLOAD_DIR`` or a temporary folder) and parses them with the model's parser before the
path is used. This is the one place that does so; when the bytes loader of
``mechanisms/core/datafiles.py`` is merged, :func:`data_file` calls it instead.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from mechanisms.core.errors import DataFileError

MAX_UPLOAD_BYTES = 16 * 2**20


def upload_dir() -> Path:
    return Path(os.environ.get("TOKENSIM_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "tokensim-uploads").resolve()


def data_file(param: str, data: bytes) -> str:
    """Store uploaded ``data`` for data-file parameter ``param`` and return its path, after the
    model's parser accepted it; raises :class:`DataFileError` (too large, unknown parameter, or the
    parser's own message)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataFileError(f"the file is {len(data) / 2**20:.1f} MB; uploads are limited to {MAX_UPLOAD_BYTES // 2**20} MB")
    if param != "balances_csv":
        raise DataFileError(f"parameter '{param}' takes no uploaded file")
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.csv"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    from mechanisms.governance.holders import load_balances

    try:
        load_balances(str(path))
    except DataFileError as exc:
        path.unlink(missing_ok=True)
        raise DataFileError(str(exc).replace(str(path), "the uploaded file")) from None
    return str(path)
