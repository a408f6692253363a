"""Data files uploaded in the app: size-capped, validated by the model's own loader, stored under a
name the app chooses.

The app never opens a path a user typed: a data-file parameter (a ``Param`` with a ``loader``,
today governance's ``balances_csv``) gets a size-capped ``st.file_uploader``; :func:`data_file`
stores the bytes with :func:`tokensim.mechanisms.core.datafiles.save_upload` (under their hash, in the upload
folder the data-file rules allow) and runs the parameter's loader on them before the path is used.
"""
from __future__ import annotations

from tokensim.mechanisms.core import Param
from tokensim.mechanisms.core.datafiles import save_upload
from tokensim.mechanisms.core.errors import DataFileError, clip

MAX_UPLOAD_BYTES = 16 * 2**20


def data_file(param: Param, data: bytes) -> str:
    """Store uploaded ``data`` for the data-file parameter ``param`` and return its path, after
    the parameter's loader accepted it; raises :class:`DataFileError` (too large, not a data-file
    parameter, or the loader's own message, which names "the uploaded file")."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataFileError(f"the file is {len(data) / 2**20:.1f} MB; uploads are limited to {MAX_UPLOAD_BYTES // 2**20} MB")
    if param.loader is None:
        raise DataFileError(f"parameter '{param.name}' takes no uploaded file")
    path = save_upload(data)
    try:
        param.loader(str(path))
    except DataFileError as exc:
        path.unlink(missing_ok=True)
        raise DataFileError(str(exc).replace(clip(str(path)), "the uploaded file")) from None
    return str(path)
