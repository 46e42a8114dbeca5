"""``detect`` and ``evaluate --model`` on this domain's detectors, from a model directory written by
``zoo.package``: the same JSON records and drawings as YOLO's; YOLO-only options refused in one line."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from yad2k_style import cli, registry, zoo
from yad2k_style.artifacts import load_artifact
from yad2k_style.detection.synthetic import EVALUATION_SEED, scenes


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    """Untrained SSD and Fast R-CNN networks (seeded) packaged as model directories."""
    root = tmp_path_factory.mktemp("packaged")
    tf.keras.utils.set_random_seed(3)
    directories = {}
    for name in ("ssd", "fast-rcnn"):
        network = zoo.parts(name).network
        zoo.package(name, network, root / name, provenance={"trained": "no"})
        directories[name] = root / name
    return directories


def test_package_writes_a_directory_that_rebuilds_the_network(packaged):
    artifact = load_artifact(packaged["ssd"])
    assert artifact.info["detector"] == "ssd" and artifact.info["task"] == "detection"
    assert artifact.info["architecture"] == {"kind": "registry", "model": "ssd-shapes", "arguments": {}}
    assert artifact.class_names == ["circle", "square", "triangle"]
    assert zoo.detector_name(packaged["ssd"]) == "ssd" and zoo.detector_name("ssd-shapes") == "ssd"
    assert zoo.detector_name("yolov2-shapes") is None and zoo.detector_name(None) is None


@pytest.mark.parametrize("name", ["ssd", "fast-rcnn"])
def test_detect_writes_json_and_drawings(packaged, name, tmp_path, capsys):
    drawn = next(iter(scenes(EVALUATION_SEED, 1)))
    drawn.image.resize((256, 200)).save(tmp_path / "scene.png")
    code = cli.main(["detect", str(tmp_path / "scene.png"), "--model", str(packaged[name]), "--out",
                     str(tmp_path / "annotated"), "--json", str(tmp_path / "found.json"),
                     "--score-threshold", "0.0", "--max-boxes", "5"])
    assert code == 0
    records = json.loads((tmp_path / "found.json").read_text())
    assert len(records) == 5 and {r["class"] for r in records} <= {"circle", "square", "triangle"}
    boxes = np.array([r["box"] for r in records])
    assert np.all(boxes >= 0) and np.all(boxes[:, [0, 2]] <= 256) and np.all(boxes[:, [1, 3]] <= 200)
    with Image.open(tmp_path / "annotated" / "scene.png") as annotated:
        assert annotated.size == (512, 400)          # drawn at twice the size: 200 → at least 384
    assert capsys.readouterr().out.startswith(f"Found 5 boxes for {tmp_path / 'scene.png'}")


def test_evaluate_runs_on_a_packaged_detector(packaged, tmp_path, capsys):
    assert cli.main(["evaluate", "--model", str(packaged["ssd"]), "--scenes", "4", "--plot", "",
                     "--json", str(tmp_path / "e.json")]) == 0
    figures = json.loads((tmp_path / "e.json").read_text())
    assert 0.0 <= figures["map_50"] <= 1.0


def test_yolo_only_options_and_missing_weights_are_one_line(packaged, capsys, monkeypatch):
    assert cli.main(["detect", "--model", str(packaged["ssd"]), "--letterbox", "--nms", "soft"]) == 2
    assert capsys.readouterr().err.strip().endswith("--letterbox, --nms are for YOLO models only")
    assert cli.main(["detect", "--model", str(packaged["ssd"]), "--precision", "bf16"]) == 2
    assert capsys.readouterr().err.strip().endswith("--precision is for YOLO models only")
    assert cli.main(["export", "ssd-shapes", "out.cfg", "out.weights"]) == 2
    assert capsys.readouterr().err.strip() == (
        "yad2k-style: error: ssd-shapes: --format darknet writes YOLO models; export it as onnx, openvino, "
        "savedmodel or tflite")
    entry = registry.get("faster-rcnn-shapes")
    monkeypatch.setitem(registry.MODELS, entry.name, dataclasses.replace(entry, weights=None))
    assert cli.main(["detect", "--model", "faster-rcnn-shapes"]) == 2
    assert capsys.readouterr().err.strip() == ("yad2k-style: error: faster-rcnn-shapes: no packaged weights; "
                                               "train it with scripts/train_detectors.py faster-rcnn")
