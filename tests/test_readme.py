"""The Python snippets of the README and of ``docs/`` run as written, page after page and top to
bottom, in a folder holding the files they name (made here: ``street.jpg``, Darknet ``yolov2.cfg`` at
128×128 with random ``yolov2.weights``, a model directory ``runs/mine``, a ``yolo.keras`` and the
embedded detector as ``shapes.onnx``)."""

import re
from pathlib import Path

import numpy as np
from conftest import write_cfg
from PIL import Image

from yad2k_style.assets import asset_path
from yad2k_style.darknet import Header, parse_cfg, write_weights
from yad2k_style.darknet.synthetic import random_convs
from yad2k_style.detection.yolo import embedded, yolo_v2
from yad2k_style.detection.yolo.convert import convert
from yad2k_style.exports import load_network
from yad2k_style.runtimes import save_onnx

ROOT = Path(__file__).parents[1]
#: The pages whose snippets run, in this order (a later page may use what an earlier one made).
PAGES = ["README.md", *(f"docs/{name}.md" for name in ("models", "detection", "segmentation", "exports",
                                                        "face", "style", "foundations", "errors",
                                                        "benchmarks"))]


def python_snippets():
    """``[(page, snippet)]`` of every fenced ``python`` block of :data:`PAGES`."""
    return [(page, snippet) for page in PAGES for snippet in re.findall(
        r"^```python\n(.*?)^```", (ROOT / page).read_text(encoding="utf-8"), re.S | re.M)]


def test_every_page_is_listed():
    assert sorted(PAGES[1:]) == sorted(f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md"))


def test_readme_python_snippets_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.random.default_rng(7).integers(0, 256, (150, 200, 3), np.uint8)).save("street.jpg")
    cfg = write_cfg(tmp_path, "yolov2", size=128)
    write_weights(tmp_path / "yolov2.weights", Header(), random_convs(parse_cfg(cfg), seed=1))
    (tmp_path / "runs").mkdir()
    convert(asset_path(embedded.CFG_FILE), asset_path(embedded.WEIGHTS_FILE), "runs/mine",
            classes_path=asset_path(embedded.CLASSES_FILE))
    yolo_v2((64, 64, 3)).save("yolo.keras")
    save_onnx(load_network("yolov2-shapes"), "shapes.onnx")
    snippets = python_snippets()
    assert len(snippets) >= 6
    namespace = {}
    for number, (page, snippet) in enumerate(snippets, start=1):
        exec(compile(snippet, f"{page} python snippet {number}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "50983561 4" in out and "11237145" in out and "Found " in out and "street.jpg Detections(" in out
    assert (tmp_path / "yolov2-model" / "model.json").exists() and (tmp_path / "out.weights").exists()
