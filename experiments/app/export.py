"""Bytes for the app's download buttons: figures, data and "copy as spec" TOML.

Figures go through :func:`tokensim.experiments.figures.save_figure` (the function ``tokensim plot``
uses) into a temporary folder, so a downloaded file is byte for byte what the CLI writes for the
same chart. Parquet files carry the provenance in their schema, as the runner writes them, so
``tokensim plot`` can read a downloaded result set.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Mapping

import altair as alt
import pandas as pd
import tomli_w

from ..figures import save_figure
from ..storage import write_tables

MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "bib": "application/x-bibtex",
    "toml": "application/toml",
    "zip": "application/zip",
}


def figure_bytes(chart: alt.Chart, fmt: str) -> bytes:
    """``chart`` rendered as ``fmt`` (png, svg or pdf) by :func:`save_figure`."""
    with tempfile.TemporaryDirectory(prefix="tokensim-export-") as folder:
        (path,) = save_figure(chart, Path(folder) / "figure", [fmt])
        return path.read_bytes()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def parquet_bytes(frame: pd.DataFrame, provenance: Mapping[str, Any]) -> bytes:
    """A result set as Parquet with its provenance, readable by ``tokensim plot``."""
    with tempfile.TemporaryDirectory(prefix="tokensim-export-") as folder:
        path = Path(folder) / "results.parquet"
        write_tables([frame], path, dict(provenance))
        return path.read_bytes()


def spec_toml(spec: Mapping[str, Any], file_name: str) -> str:
    """A spec as TOML with a comment saying how to run it."""
    body = tomli_w.dumps({k: v for k, v in spec.items() if v not in ({}, [], "", None)})
    header = f"# Reproduce with: tokensim run {file_name}\n# Written by the tokensim app.\n"
    return header + body


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    out = "".join(c if c.isalnum() or c in "-_" else "_" for c in text.strip())
    return "_".join(part for part in out.split("_") if part)[:80] or "export"
