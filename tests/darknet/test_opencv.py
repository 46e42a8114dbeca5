"""Converted models against OpenCV's Darknet importer (an independent implementation of Darknet).

The raw output of the last convolution (before the region layer) is compared on the same seeded
input: acceptance is ``max |difference| <= 1e-3 * max |output|``. The packaged cfgs run at their own
input size, except the 608×608 YOLOv2, which runs at 128×128 by default and at 608 as a ``slow`` test.
"""

import numpy as np
import pytest

from yad2k_style.darknet import (
    Header,
    Net,
    build_keras,
    darknet_to_keras,
    export_darknet,
    format_cfg,
    parse_cfg,
    parse_cfg_text,
    read_weights,
)
from yad2k_style.darknet.model import set_darknet_weights
from yad2k_style.darknet.synthetic import random_convs
from yad2k_style.netspec import Convolutional, build_model
from yad2k_style.yolo import yolo_v2

cv2 = pytest.importorskip("cv2")

TOLERANCE = 1e-3
OPENCV_BN_EPSILON = 1e-6  # OpenCV's Darknet importer: (x - mean) / sqrt(var + 1e-6)
#: Version 0.1 stores ``seen`` as int32 (16-byte header), 0.2 as int64 (20 bytes).
HEADERS = {"16-byte": Header(0, 1, 0, 64_000), "20-byte": Header(0, 2, 0, 5_000_000_000)}
DEFAULT_RUN = [("yolov2", 128), ("yolov2-voc", None), ("yolov2-tiny", None), ("yolov2-tiny-voc", None)]


def seeded_input(cfg, seed=0):
    """A (1, H, W, C) image batch in [0, 1), as Darknet feeds images."""
    return np.random.default_rng(seed).uniform(0, 1, (1, *cfg.net.input_shape)).astype(np.float32)


def opencv_last_conv(cfg_path, weights_path, x):
    """OpenCV's output of the cfg's last [convolutional] (named ``conv_<layer index>``) → NHWC."""
    cfg = parse_cfg(cfg_path)
    last = max(i for i, spec in enumerate(cfg.layers) if isinstance(spec, Convolutional))
    net = cv2.dnn.readNetFromDarknet(str(cfg_path), str(weights_path))
    net.setInput(x.transpose(0, 3, 1, 2))
    return net.forward(f"conv_{last}").transpose(0, 2, 3, 1)


def relative_difference(got, want):
    """``max |got - want| / max |want|``."""
    assert got.shape == want.shape
    assert np.abs(want).max() > 0.1
    return float(np.abs(got - want).max() / np.abs(want).max())


def check_against_opencv(cfg_path, weights_path, header):
    cfg = parse_cfg(cfg_path)
    weights = read_weights(weights_path, cfg)
    assert weights.header == header
    x = seeded_input(cfg)
    got = darknet_to_keras(cfg, weights)(x).numpy()
    assert relative_difference(got, opencv_last_conv(cfg_path, weights_path, x)) <= TOLERANCE


@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.parametrize("name, size", DEFAULT_RUN, ids=[f"{n}-{s or 'cfg'}" for n, s in DEFAULT_RUN])
def test_packaged_models_match_opencv(darknet_files, name, size, header):
    cfg_path, weights_path = darknet_files(name, size, HEADERS[header])
    check_against_opencv(cfg_path, weights_path, HEADERS[header])


@pytest.mark.slow
@pytest.mark.parametrize("header", HEADERS)
def test_yolov2_608_matches_opencv(darknet_files, header):
    cfg_path, weights_path = darknet_files("yolov2", None, HEADERS[header])
    check_against_opencv(cfg_path, weights_path, HEADERS[header])


def test_only_the_epsilon_differs_and_the_reorg_order_matters(darknet_files):
    """With OpenCV's batch-norm epsilon (1e-6 under the square root) the converted YOLOv2 matches
    OpenCV to float32 rounding; with ``space_to_depth`` instead of Darknet's reorg (YAD2K's model) it
    does not match at all."""
    cfg_path, weights_path = darknet_files("yolov2", 128)
    cfg = parse_cfg(cfg_path)
    convs = read_weights(weights_path, cfg).convs
    x = seeded_input(cfg)
    want = opencv_last_conv(cfg_path, weights_path, x)
    opencv_epsilon = build_model(cfg.layers, cfg.net.input_shape, "yolov2", bn_epsilon=OPENCV_BN_EPSILON)
    set_darknet_weights(opencv_epsilon, convs)
    assert relative_difference(opencv_epsilon(x).numpy(), want) <= 2e-5
    yad2k = build_keras(cfg, reorg="space_to_depth")
    set_darknet_weights(yad2k, convs)
    assert relative_difference(yad2k(x).numpy(), want) > 0.05


def test_exported_course_model_matches_opencv(tmp_path):
    """``yolo_v2()`` (batch-norm epsilon 1e-3, Darknet's reorg) exported to Darknet cfg + weights."""
    model = yolo_v2((128, 128, 3), reorg="darknet")
    height, width, channels = model.input_shape[1:]
    cfg = parse_cfg_text(format_cfg(Net(width, height, channels), model.specs), "course.cfg")
    set_darknet_weights(model, random_convs(cfg, seed=4))
    cfg_path, weights_path = tmp_path / "course.cfg", tmp_path / "course.weights"
    export_darknet(model, cfg_path, weights_path)
    x = seeded_input(cfg)
    assert relative_difference(model(x).numpy(), opencv_last_conv(cfg_path, weights_path, x)) <= TOLERANCE
