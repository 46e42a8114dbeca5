"""Every notebook's code cells run top to bottom (no outputs are stored in the repository)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    notebook = json.loads(path.read_text())
    namespace = {}
    for cell in notebook["cells"]:
        assert not cell.get("outputs"), "commit notebooks without outputs"
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)  # noqa: S102
