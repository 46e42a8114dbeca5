"""The registry: every entry builds to the shapes and parameter count it states, its files exist,
its weights sources are honest; ``yad2k-style models`` prints it."""

import re

import numpy as np
import pytest
from model_harness import check_model

from yad2k_style import cli, registry
from yad2k_style.assets import asset_path, read_anchors, read_classes
from yad2k_style.errors import YadError
from yad2k_style.summary import compare_tables, model_table, read_table, reference_table_path

# Also reloaded in a fresh process (the others are large to save).
SMALL = ("yolov2-shapes", "facenet-nn4-small2")


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_entry_builds_as_stated(name, tmp_path):
    entry = registry.get(name)
    model = entry.build()
    check_model(model, params=entry.params, output_shape=entry.output_shape, input_shape=entry.input_shape,
                tmp_path=tmp_path, reload=name in SMALL)
    if entry.class_names and entry.builder.startswith("yad2k_style.yolo"):
        classes = read_classes(asset_path(entry.class_names))
        anchors = read_anchors(asset_path(entry.anchors)) if entry.anchors else np.zeros((5, 2))
        assert entry.output_shape[-1] == len(anchors) * (5 + len(classes))
    if entry.reference_table:
        reference = read_table(reference_table_path(entry.reference_table))
        assert compare_tables(model_table(model), reference) == []


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_weights_sources(name):
    weights = registry.get(name).weights
    if weights is None:  # trained by scripts/train_detectors.py, not packaged yet
        assert registry.get(name).builder.startswith("yad2k_style.detection.")
        return
    assert weights.format in ("darknet", "openface-csv", "model-directory", "keras")
    assert weights.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", weights.sha256)
    for file in weights.files:
        if weights.format == "model-directory":
            assert {"model.json", "model.weights.h5"} <= {p.name for p in asset_path(file).iterdir()}
        elif weights.source == "packaged" or not file.startswith("https://"):
            assert asset_path(file).is_file()


def test_overrides_and_unknown_names():
    assert registry.create_model("yolov2-shapes", num_anchors=3).output_shape == (None, 4, 4, 24)
    assert registry.names("classification") == ["window-classifier", "darknet19", "darknet53", "resnet50",
                                                "densenet201", "extraction"]
    assert registry.names("detection", "darknet") == ["yolov1", "yolov1-tiny", "yolo9000", "yolov3",
                                                      "yolov3-tiny", "yolov3-spp"]
    assert registry.names("detection", "detection") == ["ssd-shapes", "faster-rcnn-shapes", "rfcn-shapes",
                                                         "fast-rcnn-shapes", "rcnn-shapes"]
    assert registry.names("detection", "detection.yolo")[-1] == "yolov2-shapes"
    with pytest.raises(YadError, match="unknown model 'yolov9'; registered models: yolov2, yolov2-voc, "):
        registry.get("yolov9")


def test_models_command_prints_the_table(capsys):
    assert cli.main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "task", "input", "params", "weights"]
    assert len(lines) == 1 + len(registry.MODELS)
    assert lines[1].split() == ["yolov2", "detection", "608×608×3", "50,983,561",
                                "https://pjreddie.com/media/files/yolov2.weights"]
    assert "yolov2-shapes       detection             128×128×3   1,298,968 packaged" in lines  # aligned
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["facenet-nn4-small2"][:3] == ["face-embedding", "96×96×3", "3,743,280"]
    assert rows["facenet-synthetic"] == ["face-embedding", "96×96×3", "3,743,280", "packaged"]
