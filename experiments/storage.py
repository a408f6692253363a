"""Results on disk: Parquet files (through pyarrow) that carry their provenance in the schema.

A result folder holds ``chunks/<chunk id>.parquet`` written as each chunk finishes (atomically:
written to a temporary name, then renamed, so a killed run never leaves a half chunk), then
``results.parquet`` (all chunks, with provenance), ``provenance.json`` and ``summary.csv``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mechanisms.core import TokensimError

META_KEY = b"tokensim"


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (a temporary name, then a rename)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_tables(frames: Iterable[pd.DataFrame], path: Path, provenance: dict[str, Any]) -> None:
    """Stream ``frames`` (same columns) into one Parquet file, one row group each, atomically.

    Only one frame is in memory at a time, so a result set larger than memory can be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    writer = None
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                meta = dict(table.schema.metadata or {})
                meta[META_KEY] = json.dumps(provenance, default=str).encode()
                schema = table.schema.with_metadata(meta)
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table.cast(schema))
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)


def read_results(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a result set (a ``results.parquet`` file or the folder holding one) and its provenance."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.parquet"
    if not path.exists():
        raise TokensimError(f"no results at {path}; run an experiment first (tokensim run SPEC.toml)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TokensimError(f"{path} is not a readable Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise TokensimError(f"{path} has no tokensim provenance; was it written by tokensim?")
    return table.to_pandas(), json.loads(raw)


def read_chunk(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()
