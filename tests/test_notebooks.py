"""Every notebook runs top to bottom in a real Jupyter kernel (nbclient, as a user's would: magics,
inline display), in a scratch folder; a cell that errors or an expected value that is not met (each is
asserted in its cell) fails the test. Notebooks are committed without outputs."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from yad2k_style.tensorflow_logs import NOISE

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds


def test_the_four_notebooks_are_there():
    assert [path.name for path in NOTEBOOKS] == ["1_car_detection_yolo.ipynb", "2_face_recognition.ipynb",
                                                 "3_neural_style_transfer.ipynb", "4_foundations.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    stored = [cell for cell in notebook.cells if cell.get("outputs") or cell.get("execution_count")]
    assert stored == [], "commit notebooks without outputs"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # as a user's Jupyter starts
    NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert errors == []
    streams = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
                      if output.get("output_type") == "stream")
    assert not [line for line in streams.splitlines() if NOISE.match(line)], "TensorFlow's start-up lines"
    assert any(output.get("output_type") == "display_data" or "image/png" in output.get("data", {})
               for cell in notebook.cells for output in cell.get("outputs", []))  # pictures were drawn
