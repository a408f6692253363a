"""Results on disk: Parquet files (through pyarrow) that carry their provenance in the schema.

A result folder holds ``chunks/<chunk id>.parquet`` written as each chunk finishes (atomically:
written to a temporary name, then renamed, so a killed run never leaves a half chunk), and
``results.parquet`` (all chunks in plan order, with provenance: streamed to a temporary name during
the run and renamed when it ends), then ``provenance.json`` and ``summary.csv``.

Integrity: pages carry CRC checksums that are verified on reading; :func:`read_chunk` returns
``None`` for a chunk that is empty, truncated, corrupt or of the wrong shape, so the runner
recomputes it. A temporary file is removed on every exit path (error, interrupt), and one left by
a killed run is removed by the next run. :func:`output_lock` lets one run at a time write a
folder; a second run exits with a message. A folder that cannot be written (read-only, full
disk, no permission) is reported as one line naming it, before anything is computed.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tokensim.mechanisms.core import TokensimError

META_KEY = b"tokensim"
LOCK_NAME = ".lock"
ADVICE = {
    errno.ENOSPC: "the disk is full; free space or choose another --output",
    errno.EDQUOT: "the disk quota is used up; free space or choose another --output",
    errno.EROFS: "the file system is read-only; choose another --output",
    errno.EACCES: "no permission to write there; choose another --output",
    errno.EPERM: "no permission to write there; choose another --output",
}


def storage_error(path: Path, exc: OSError) -> TokensimError:
    """A user-facing error for a failed write: the path, the system's reason and what to do."""
    advice = ADVICE.get(exc.errno, "choose another --output")
    return TokensimError(f"cannot write {path}: {exc.strerror or exc} ({advice})")


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path``, renamed to ``path`` on success and removed otherwise."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise storage_error(path, exc) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: all but the floating-point ones.

    Identifiers, counts and labels repeat and shrink under a dictionary; simulated floats rarely
    repeat, so encoding them tries a dictionary, overflows it and falls back, which made writing
    2-3.5x slower for files of about the same size (benchmarks/results.md, storage).
    """
    return [field.name for field in schema if not pa.types.is_floating(field.type)]


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (a temporary name, then a rename), with page checksums."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with _atomic(path) as tmp:
        pq.write_table(table, tmp, write_page_checksum=True, use_dictionary=dictionary_columns(table.schema))


def write_text(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` atomically."""
    with _atomic(path) as tmp:
        tmp.write_text(text)


def write_tables(frames: Iterable[pd.DataFrame], path: Path, provenance: dict[str, Any]) -> None:
    """Stream ``frames`` (same columns) into one Parquet file, one row group each, atomically.

    Only one frame is in memory at a time, so a result set larger than memory can be written.
    """
    with _atomic(path) as tmp:
        writer = None
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    meta = dict(table.schema.metadata or {})
                    meta[META_KEY] = json.dumps(provenance, default=str).encode()
                    schema = table.schema.with_metadata(meta)
                    writer = pq.ParquetWriter(tmp, schema, write_page_checksum=True,
                                              use_dictionary=dictionary_columns(schema))
                writer.write_table(table.cast(schema))
        finally:
            if writer is not None:
                writer.close()


def read_results(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a result set (a ``results.parquet`` file or the folder holding one) and its provenance."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.parquet"
    if not path.exists():
        raise TokensimError(f"no results at {path}; run an experiment first (tokensim run SPEC.toml)")
    if not path.is_file():  # a FIFO or a device would block or never end
        raise TokensimError(f"{path} is not a regular file; give a results folder or its results.parquet")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TokensimError(f"{path} is not a readable Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise TokensimError(f"{path} has no tokensim provenance; was it written by tokensim?")
    return table.to_pandas(), json.loads(raw)


def read_chunk(path: Path, columns: Sequence[str] | None = None, rows: int | None = None) -> pd.DataFrame | None:
    """A stored chunk, or ``None`` when it is missing, unreadable (empty, truncated, a checksum
    that does not match) or not of the expected ``columns`` and number of ``rows``."""
    try:
        meta = pq.read_metadata(path)  # the footer: a truncated or empty file fails here
        if rows is not None and meta.num_rows != rows:
            return None
        frame = pq.read_table(path, page_checksum_verification=True).to_pandas()
    except (pa.ArrowException, OSError):
        return None
    if columns is not None and list(frame.columns) != list(columns):
        return None
    return frame


@contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock while writing it; checks that it is writable and clears stale temp files.

    A second run on the same folder exits at once with a message (the lock is released by the
    operating system when a run ends, even when it is killed).
    """
    try:
        (folder / "chunks").mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_NAME, "a+")
    except OSError as exc:
        raise storage_error(folder, exc) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise TokensimError(f"{folder} is being written by another run (pid {holder}); wait for it to "
                                "finish or choose another --output") from None
        for stale in [*folder.glob(".*.tmp"), *(folder / "chunks").glob(".*.tmp")]:
            stale.unlink(missing_ok=True)  # left by a killed run: nobody else holds the lock
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            write_text("", folder / "chunks" / ".writable")  # fail now, not after a chunk's work
            (folder / "chunks" / ".writable").unlink()
        except OSError as exc:
            raise storage_error(folder, exc) from None
        yield
    finally:
        handle.close()
