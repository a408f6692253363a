"""examples/cadcad_interop.ipynb executes top to bottom in a fresh kernel (its cells assert what
they show: distinct seeded runs, identical to tokensim's samples). Needs the dev extra's nbclient,
nbformat and ipykernel."""
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def test_cadcad_interop_notebook_executes(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(ROOT / "examples" / "cadcad_interop.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "cadCAD runs 1-4 are identical to tokensim's samples 0-3" in printed
