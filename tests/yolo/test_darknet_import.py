"""The model directory of a converted Darknet model: ``convert``, loading it, and ``export`` back."""

import json

import h5py
import numpy as np
import pytest

from yad2k_style.artifacts import FORMAT, load_artifact
from yad2k_style.assets import COCO_CLASSES, asset_path, read_classes
from yad2k_style.darknet import Header, darknet_to_keras, parse_cfg, read_weights
from yad2k_style.detection.yolo.convert import convert, export
from yad2k_style.errors import FormatError


def all_weights(model):
    return [w for layer in model.layers for w in layer.get_weights()]


def test_convert_writes_directory_and_load_rebuilds_model(darknet_files, tmp_path):
    cfg_path, weights_path = darknet_files("yolov2-tiny", 96, Header(0, 1, 0, 9))
    out = tmp_path / "tiny-model"
    converted = convert(cfg_path, weights_path, out)
    assert sorted(p.name for p in out.iterdir()) == ["model.cfg", "model.json", "model.weights.h5"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert (out / "model.cfg").read_text() == cfg_path.read_text()
    info = json.loads((out / "model.json").read_text())
    assert info["format"] == FORMAT and info["task"] == "detection" and info["name"] == "yolov2_tiny"
    sources = {"cfg": "yolov2-tiny.cfg", "weights": "yolov2-tiny.weights"}
    assert info["provenance"] == {"converted_from": sources, "floats_read": 11_237_145,
                                  "floats_in_file": 11_237_145}
    assert info["architecture"] == {"kind": "darknet", "cfg": "model.cfg", "reorg": None,
                                    "header": {"major": 0, "minor": 1, "revision": 0, "seen": 9}}
    assert info["input_shape"] == [96, 96, 3]
    assert info["preprocessing"] == {"scale": 1 / 255, "mean": [0, 0, 0], "std": [1, 1, 1],
                                     "channel_order": "RGB", "resize": "stretch"}

    loaded = load_artifact(out)
    cfg = parse_cfg(cfg_path)
    assert loaded.model.name == "yolov2_tiny"
    assert loaded.darknet_header == Header(0, 1, 0, 9) and loaded.info == info
    np.testing.assert_array_equal(loaded.anchors, np.reshape(cfg.region.anchors, (5, 2)).astype(np.float32))
    assert loaded.class_names == read_classes(asset_path(COCO_CLASSES))
    x = np.random.default_rng(1).uniform(size=(2, 96, 96, 3)).astype(np.float32)
    want = darknet_to_keras(cfg, read_weights(weights_path, cfg))(x).numpy()
    np.testing.assert_array_equal(loaded.model(x).numpy(), want)
    assert converted.directory == out and converted.info == info
    assert converted.summary == "model 'yolov2_tiny', 32 layers, 11,237,145 params, output (3, 3, 425)"
    assert load_artifact(out, input_shape=(160, 128, 3)).model.output_shape == (None, 5, 4, 425)


def test_round_trip_is_bit_exact(darknet_files, tmp_path):
    """Darknet → model directory → Darknet gives the same bytes; converting those again the same weights."""
    cfg_path, weights_path = darknet_files("yolov2", 64, Header(0, 2, 0, 123_456_789))
    first = convert(cfg_path, weights_path, tmp_path / "first")
    cfg_out, weights_out = tmp_path / "exported.cfg", tmp_path / "exported.weights"
    export(tmp_path / "first", cfg_out, weights_out)
    assert weights_out.read_bytes() == weights_path.read_bytes()
    assert parse_cfg(cfg_out).layers == parse_cfg(cfg_path).layers
    second = convert(cfg_out, weights_out, tmp_path / "second")
    for a, b in zip(all_weights(load_artifact(first.directory).model),
                    all_weights(load_artifact(second.directory).model), strict=True):
        np.testing.assert_array_equal(a, b)


def h5_contents(path):
    """Every group and dataset of an HDF5 file: name → (attributes, bytes of a dataset's data)."""
    contents = {}

    def visit(name, item):
        contents[name] = dict(item.attrs), item[()].tobytes() if isinstance(item, h5py.Dataset) else None

    with h5py.File(path) as file:
        file.visititems(visit)
    return contents


@pytest.mark.parametrize("name, size", [("yolov2", 64), ("yolov2-tiny", 96)])
def test_convert_writes_the_file_save_weights_writes(darknet_files, tmp_path, name, size):
    """The weights, streamed from the Darknet file into the Keras file, give the very file Keras'
    ``save_weights`` writes for the model loaded in memory: the same groups, attributes and bytes."""
    cfg_path, weights_path = darknet_files(name, size)
    convert(cfg_path, weights_path, tmp_path / "model")
    cfg = parse_cfg(cfg_path)
    darknet_to_keras(cfg, read_weights(weights_path, cfg)).save_weights(tmp_path / "keras.weights.h5")
    streamed = h5_contents(tmp_path / "model" / "model.weights.h5")
    saved = h5_contents(tmp_path / "keras.weights.h5")
    assert len(saved) > 100 and list(streamed) == list(saved)
    assert streamed == saved


def test_load_rejects_other_directories(tmp_path):
    with pytest.raises(FormatError, match="model.json: not found: not a model directory"):
        load_artifact(tmp_path)
    (tmp_path / "model.json").write_text('{"format": "something else"}')
    with pytest.raises(FormatError, match="model.json: not a 'yad2k-style model 1' file"):
        load_artifact(tmp_path)
    (tmp_path / "model.json").write_text('{"format": ')
    with pytest.raises(FormatError, match="model.json: not valid JSON"):
        load_artifact(tmp_path)


