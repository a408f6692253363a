"""Safe loading of user data files: the one way a model reads a file a user names or uploads.

A data file (say a CSV of token balances) reaches a model by a parameter whose ``Param`` has a
``loader``. Whatever names the file, the same rules hold, so no input can make tokensim open a
server path the user did not give, hang on a pipe, or fill memory:

- **Where**: a relative path resolves against the spec file's folder (as ``output`` does); the
  resolved path, symbolic links followed, must lie under the spec's folder, the project's data
  folder (:func:`data_dir`) or the upload folder (:func:`upload_dir`). A spec built without a file
  (the app) resolves against the data folder.
- **What**: only a regular file is read. It is opened non-blocking, so a FIFO, a device such as
  ``/dev/zero`` or a socket is refused at once, never read.
- **How much**: at most :data:`MAX_BYTES` bytes, and a CSV at most the rows its caller allows.
- **Which content**: :func:`fingerprint` is the SHA-256 of the bytes; the runner puts it into the
  chunk ids, so a file changed under the same path never reuses stale chunks.

The app uploads bytes (``st.file_uploader``): :func:`save_upload` stores them, size-capped, under a
name made of their hash in the upload folder, and the returned path goes into the spec like any
other. :func:`read_csv` parses bytes, so a model's parser can validate an upload before it is saved.
Every problem raises :class:`~tokensim.mechanisms.core.errors.DataFileError` naming the file and the issue.
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import stat
import tempfile
from pathlib import Path
from typing import Sequence

from .errors import DataFileError, clip

MAX_BYTES = int(os.environ.get("TOKENSIM_MAX_DATA_BYTES", str(128 * 2**20)))  # 128 MiB


def data_dir() -> Path:
    """The project's data folder (``data/`` next to the packages; ``TOKENSIM_DATA_DIR`` overrides)."""
    return Path(os.environ.get("TOKENSIM_DATA_DIR") or Path(__file__).resolve().parents[2] / "data").resolve()


def upload_dir() -> Path:
    """Where the app keeps uploaded files (``TOKENSIM_UPLOAD_DIR``; default a temporary folder)."""
    return Path(os.environ.get("TOKENSIM_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "tokensim-uploads").resolve()


def resolve(text: str, base: Path | None = None) -> Path:
    """The real path of data file ``text``, checked to be an allowed, regular, small enough file.

    ``base`` is the spec file's folder (``None``: the data folder). Raises :class:`DataFileError`.
    """
    shown = clip(text)
    if "\x00" in text:
        raise DataFileError(f"{shown}: a file name cannot contain a NUL character")
    roots = [r for r in (base, data_dir(), upload_dir()) if r is not None]
    path = Path(os.path.realpath((base or data_dir()) / Path(text)))
    allowed = [Path(os.path.realpath(r)) for r in roots]
    if not any(path == root or root in path.parents for root in allowed):
        raise DataFileError(
            f"{shown}: resolves to {clip(str(path))}, outside the folders data files may come from "
            f"({', '.join(str(r) for r in allowed)}); put the file in the spec's folder or the data folder"
        )
    _regular_size(path)
    return path


def _regular_size(path: Path) -> os.stat_result:
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{clip(str(path))}: cannot read data file ({getattr(exc, 'strerror', None) or exc})") from None
    _check_stat(path, info)
    return info


def _check_stat(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file")
        raise DataFileError(f"{clip(str(path))}: is {kind}; a data file must be a regular file")
    if info.st_size > MAX_BYTES:
        raise DataFileError(f"{clip(str(path))}: {info.st_size} bytes is too large; allowed: at most {MAX_BYTES} bytes")


def read_bytes(path: str | Path, max_bytes: int | None = None) -> bytes:
    """The content of regular file ``path``: opened non-blocking (a FIFO never hangs), size-capped."""
    limit = MAX_BYTES if max_bytes is None else max_bytes
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise DataFileError(f"{clip(str(path))}: cannot read file ({exc.strerror})") from None
    except ValueError:  # a NUL character in the name
        raise DataFileError(f"{clip(repr(str(path)))}: cannot read file (a file name cannot contain NUL)") from None
    try:
        info = os.fstat(fd)
        _check_stat(Path(path), info)
        if info.st_size > limit:
            raise DataFileError(f"{clip(str(path))}: {info.st_size} bytes is too large; allowed: at most {limit} bytes")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DataFileError(f"{clip(str(path))}: cannot read file ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise DataFileError(f"{clip(str(path))}: grew beyond {limit} bytes while being read")
    return data


def fingerprint(path: str | Path) -> str:
    """SHA-256 of the file's content (cached while its size and modification time are unchanged)."""
    info = _regular_size(Path(path))
    return _fingerprint(os.path.realpath(path), info.st_mtime_ns, info.st_size, info.st_ino)


@functools.lru_cache(maxsize=64)
def _fingerprint(path: str, mtime_ns: int, size: int, inode: int) -> str:
    return hashlib.sha256(read_bytes(path)).hexdigest()


def fingerprints(schema, points: Sequence[dict]) -> dict[str, str]:
    """SHA-256 of every data file that ``points`` name (parameters with a ``loader``), by path."""
    names = [p.name for p in schema if p.loader is not None]
    paths = {point[n] for point in points for n in names if point[n]}
    return {path: fingerprint(path) for path in sorted(paths)}


def file_key(path: str | Path) -> tuple[str, int, int]:
    """``(real path, mtime_ns, size)`` of an allowed regular file: a cache key for a model's loader."""
    info = _regular_size(Path(path))
    return os.path.realpath(path), info.st_mtime_ns, info.st_size


def save_upload(data: bytes, suffix: str = ".csv") -> Path:
    """Store uploaded ``data`` (at most :data:`MAX_BYTES`) in the upload folder; its path for a spec.

    The name is the content's hash, so the same upload is stored once and a spec naming it names
    exactly that content.
    """
    if len(data) > MAX_BYTES:
        raise DataFileError(f"upload of {len(data)} bytes is too large; allowed: at most {MAX_BYTES} bytes")
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise DataFileError(f"cannot store the upload in {folder} ({exc.strerror})") from None
        finally:
            tmp.unlink(missing_ok=True)
    return path


def read_csv(data: bytes, source: str, columns: Sequence[str], max_rows: int):
    """A CSV given as bytes, as a DataFrame of stripped text with lower-case column names.

    Checks: UTF-8 text (a BOM is allowed), at most ``max_rows`` data rows (counted before
    parsing, so a huge file is refused cheaply), and the named ``columns`` present. Nothing is
    evaluated; values stay text for the caller to convert.
    """
    import pandas as pd

    where = clip(source)
    if data.count(b"\n") > max_rows + 1:
        raise DataFileError(f"{where}: more than {max_rows} rows; allowed: at most {max_rows} data rows")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})") from None
    if "\x00" in text:
        raise DataFileError(f"{where}: contains NUL characters; a CSV is plain text")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataFileError(f"{where}: not a readable CSV ({clip(str(exc).strip())})") from None
    if len(frame) > max_rows:
        raise DataFileError(f"{where}: {len(frame)} rows; allowed: at most {max_rows} data rows")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    for column in columns:
        if column not in frame.columns:
            raise DataFileError(f"{where}: missing column '{column}'; the file needs columns {','.join(columns)}")
    return frame
