"""Darknet cfg + weights → Keras in memory, and the way back with ``export_darknet``: pure format."""

import dataclasses

import keras
import numpy as np
import pytest

from yad2k_style.assets import asset_path
from yad2k_style.darknet import (
    Header,
    Net,
    build_keras,
    darknet_to_keras,
    export_darknet,
    format_cfg,
    parse_cfg,
    parse_cfg_text,
    read_darknet,
    read_weights,
)
from yad2k_style.darknet.model import set_darknet_weights
from yad2k_style.darknet.synthetic import random_convs
from yad2k_style.errors import YadError
from yad2k_style.netspec import Convolutional, Reorg, build_model
from yad2k_style.summary import compare_tables, model_table, read_table, reference_table_path
from yad2k_style.yolo import yolo_v2


def all_weights(model):
    return [w for layer in model.layers for w in layer.get_weights()]


def test_read_darknet_in_memory(darknet_files):
    cfg_path, weights_path = darknet_files("yolov2-tiny", 96, Header(0, 1, 0, 9))
    darknet = read_darknet(cfg_path, weights_path)
    cfg = parse_cfg(cfg_path)
    assert darknet.header == Header(0, 1, 0, 9) and darknet.cfg.layers == cfg.layers
    assert darknet.floats_read == darknet.floats_in_file == 11_237_145
    assert darknet.model.name == "yolov2_tiny" and darknet.model.output_shape == (None, 3, 3, 425)
    x = np.random.default_rng(1).uniform(size=(2, 96, 96, 3)).astype(np.float32)
    want = darknet_to_keras(cfg, read_weights(weights_path, cfg))(x).numpy()
    np.testing.assert_array_equal(darknet.model(x).numpy(), want)
    assert not hasattr(darknet, "anchors") and not hasattr(darknet, "class_names")  # detection's business


def test_streamed_kernels_are_the_arrays_read(darknet_files):
    """read_darknet streams each kernel into the model in chunks; the model is the in-memory one."""
    cfg_path, weights_path = darknet_files("yolov2-tiny", 96)
    cfg = parse_cfg(cfg_path)
    streamed = read_darknet(cfg_path, weights_path).model
    in_memory = darknet_to_keras(cfg, read_weights(weights_path, cfg))
    for got, want in zip(all_weights(streamed), all_weights(in_memory), strict=True):
        np.testing.assert_array_equal(got, want)
    chunks = {}
    weights = read_weights(weights_path, cfg, load_kernel=lambda position, pieces: chunks.setdefault(
        position, [len(piece) for _, piece in pieces]))
    assert chunks[7] == [227, 227, 58]  # 512 filters of 3×3×1024: 2^21 // 9216 filters per chunk
    assert all(conv.kernel is None for conv in weights.convs)
    # a loader that reads nothing leaves the file aligned (the next variances would fail otherwise)
    assert read_weights(weights_path, cfg, load_kernel=lambda *_: None).floats_read == 11_237_145


def test_space_to_depth_model_exports_as_reorg3d(darknet_files, tmp_path):
    cfg_path, weights_path = darknet_files("yolov2", 64)
    cfg = parse_cfg(cfg_path)
    model = darknet_to_keras(cfg, read_weights(weights_path, cfg), reorg="space_to_depth")
    assert "space_to_depth_x2" in [layer.name for layer in model.layers]
    export_darknet(model, tmp_path / "course.cfg", tmp_path / "course.weights")
    exported = parse_cfg(tmp_path / "course.cfg")
    assert exported.sections[27] == "[reorg3d]" and exported.layers[27] == Reorg(2, "space_to_depth")
    assert (tmp_path / "course.weights").read_bytes()[20:] == weights_path.read_bytes()[20:]


def test_yolov2_cfg_layer_table():
    """``--reorg space_to_depth`` gives the course's model layer for layer; Darknet's order differs only
    in the passthrough layer."""
    cfg = parse_cfg(asset_path("yolov2.cfg"))
    reference = read_table(reference_table_path())
    assert compare_tables(model_table(build_keras(cfg, "space_to_depth")), reference) == []
    assert compare_tables(model_table(build_keras(cfg)), reference) == [
        "missing layer space_to_depth_x2 (Lambda, (None, 19, 19, 256))",
        "layer concatenate_1: inbound is reorg, leaky_re_lu_20, table has space_to_depth_x2, leaky_re_lu_20",
        "extra layer reorg (Lambda, (None, 19, 19, 256))",
    ]


def test_export_converts_batch_norm_epsilon(tmp_path):
    """The course's epsilon (1e-3) becomes Darknet's (1e-5) with variances shifted by the difference.

    Small variances (0.005–0.05) make the epsilon matter: without the shift the output would move by
    far more than rounding.
    """
    model = yolo_v2((64, 64, 3), reorg="darknet")
    net = Net(64, 64, 3)
    cfg = parse_cfg_text(format_cfg(net, model.specs), "course.cfg")
    rng = np.random.default_rng(5)
    convs = []
    for conv in random_convs(cfg, seed=4):
        if conv.scales is not None:
            variance = rng.uniform(0.005, 0.05, conv.biases.shape).astype(np.float32)
            conv = dataclasses.replace(conv, rolling_variance=variance,
                                       scales=(conv.scales * np.sqrt(variance)).astype(np.float32))
        convs.append(conv)
    set_darknet_weights(model, convs)
    export_darknet(model, tmp_path / "course.cfg", tmp_path / "course.weights")
    exported = read_weights(tmp_path / "course.weights", cfg)
    assert exported.header == Header(0, 2, 0, 0)
    for got, want in zip(exported.convs, convs, strict=True):
        np.testing.assert_array_equal(got.kernel, want.kernel)
        if want.scales is not None:
            np.testing.assert_allclose(got.rolling_variance, want.rolling_variance + 0.00099, rtol=1e-6)
    x = np.random.default_rng(0).uniform(size=(1, 64, 64, 3)).astype(np.float32)
    want = model(x).numpy()
    scale = np.abs(want).max()
    assert np.abs(darknet_to_keras(cfg, exported)(x).numpy() - want).max() <= 1e-5 * scale
    unshifted = build_keras(cfg)
    set_darknet_weights(unshifted, convs)
    assert np.abs(unshifted(x).numpy() - want).max() > 1e-2 * scale


def test_export_needs_specs_and_a_fixed_size(tmp_path):
    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)], name="plain")
    with pytest.raises(YadError, match="model 'plain' has no spec list; build it with netspec.build_model"):
        export_darknet(plain, tmp_path / "a.cfg", tmp_path / "a.weights")
    free = build_model([Convolutional(2, 1)], (None, None, 3), "free")
    with pytest.raises(YadError, match=r"input shape \(None, None, None, 3\); Darknet needs a fixed size"):
        export_darknet(free, tmp_path / "a.cfg", tmp_path / "a.weights")
    assert list(tmp_path.iterdir()) == []
