"""The inference form (batch norm folded, Winograd 3×3) against the Keras models it is made from."""

import keras
import numpy as np
import pytest

from yad2k_style import registry
from yad2k_style.inference import ConvStep, InferenceNetwork, bf16_unsupported, winograd_tile
from yad2k_style.yolo import Detector

#: The acceptance bound of the inference path: max |Δ| ≤ 1e-3 · max |plain model output|.
ACCEPTANCE = 1e-3
MEASURED = 1e-5  # what it achieves: float32 round-off of the folding and the F(2×2) transforms


def randomise_batch_norms(model, seed=0):
    """Batch-norm statistics away from (0, 1), so folding them is exercised."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.1, channels),
                               rng.normal(0, 0.1, channels), rng.uniform(0.5, 2.0, channels)])


def relative_difference(model, network, seed=0):
    x = np.random.default_rng(seed).uniform(0, 1, (2, *model.input_shape[1:])).astype(np.float32)
    want = model(x, training=False).numpy()
    got = network(x).numpy()
    assert got.shape == want.shape and np.abs(want).max() > 0.1
    return float(np.abs(got - want).max() / np.abs(want).max())


@pytest.mark.parametrize("name", registry.names("detection", "detection.yolo"))
def test_every_registered_detector_keeps_its_outputs(name):
    keras.utils.set_random_seed(0)
    model = registry.create_model(name)
    randomise_batch_norms(model)
    network = InferenceNetwork(model)
    assert relative_difference(model, network) <= MEASURED < ACCEPTANCE
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    steps = [step for step, _, _ in network._steps if isinstance(step, ConvStep)]
    assert len(steps) == len(convs)
    assert not any(getattr(step, "__self__", None) in norms for step, _, _ in network._steps)  # all folded
    expected = [winograd_tile(c.input.shape[1], c.input.shape[2], c.input.shape[3])
                if c.kernel_size == (3, 3) else None for c in convs]
    assert [step.tile for step in steps] == expected
    if name == "yolov2":  # the 3×3 layers from 76×76 down: 11 of 15
        assert sum(tile is not None for tile in expected) == 11
        assert sum(c.kernel_size == (3, 3) for c in convs) == 15


def test_rule_keeps_wide_shallow_layers_direct():
    assert winograd_tile(304, 304, 32) is None and winograd_tile(152, 152, 64) is None
    assert winograd_tile(76, 76, 128) == 2 and winograd_tile(19, 19, 1280) == 2
    assert winograd_tile(8, 8, 512) is None


def test_conv_bias_unfused_norms_and_other_layers():
    """A conv with bias and no norm, a norm with two consumers (not folded), ReLU inside a step
    refused, a 'valid' conv with stride 2, concatenation; with and without Winograd (130 and 128
    input channels on 24×24: both 3×3 layers qualify)."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((24, 24, 128), name="input_1")
    a = keras.layers.Conv2D(130, 3, padding="same", name="a")(inputs)
    b = keras.layers.Conv2D(16, 3, padding="same", use_bias=False, name="b")(a)
    shared = keras.layers.BatchNormalization(name="shared")(b)
    c = keras.layers.LeakyReLU(0.2, name="c")(shared)
    d = keras.layers.Conv2D(16, 2, strides=2, padding="valid", name="d")(shared)
    up = keras.layers.UpSampling2D(name="up")(d)
    outputs = keras.layers.Concatenate(name="cat")([c, up])
    model = keras.Model(inputs, outputs)
    randomise_batch_norms(model)
    for use_winograd in (True, False):
        network = InferenceNetwork(model, winograd=use_winograd)
        assert relative_difference(model, network) <= MEASURED
        tiles = [step.tile for step, _, _ in network._steps if isinstance(step, ConvStep)]
        assert tiles == ([2, 2, None] if use_winograd else [None] * 3)
    relu = keras.layers.Conv2D(4, 3, activation="relu", name="relu")(inputs)
    with pytest.raises(ValueError, match="activation 'relu' inside Conv2D"):
        InferenceNetwork(keras.Model(inputs, relu))


def test_detector_uses_the_inference_form_by_default(tiny_yolo, tiny_anchors, tiny_classes):
    images = np.random.default_rng(3).integers(0, 256, (2, 64, 64, 3), np.uint8)
    sizes = np.array([[64, 64], [100, 50]], np.int32)
    fast = Detector(tiny_yolo, tiny_anchors, tiny_classes, score_threshold=0.3)
    plain = Detector(tiny_yolo, tiny_anchors, tiny_classes, score_threshold=0.3, fast=False)
    assert isinstance(fast.network, InferenceNetwork) and not isinstance(plain.network, InferenceNetwork)
    got, want = fast.detect_batch(images, sizes), plain.detect_batch(images, sizes)
    np.testing.assert_array_equal(got[3], want[3])
    assert got[3].numpy().sum() >= 2
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-3)


BF16_SCALE_ERROR = 0.05  # bfloat16 keeps 8 significant bits: about 1 % of the output's scale here


@pytest.mark.skipif(bf16_unsupported() is not None, reason="no native bfloat16 here")
def test_bf16_inference_is_close_and_float32_out():
    keras.utils.set_random_seed(0)
    model = registry.create_model("yolov2-tiny")
    randomise_batch_norms(model)
    network = InferenceNetwork(model, precision="bf16")
    x = np.random.default_rng(0).uniform(0, 1, (1, 416, 416, 3)).astype(np.float32)
    got = network(x)
    assert got.dtype == "float32"
    error = relative_difference(model, network)
    assert 1e-4 < error <= BF16_SCALE_ERROR  # really bfloat16, and close
    assert all(step.tile is None and step.dtype == "bfloat16"
               for step, _, _ in network._steps if isinstance(step, ConvStep))


def test_unknown_precision_is_refused(tiny_yolo):
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        InferenceNetwork(tiny_yolo, precision="int4")


def test_bf16_without_hardware_is_one_line(monkeypatch, capsys):
    from yad2k_style import cli
    from yad2k_style.detection.yolo import detector as detector_module

    reason = "this CPU has neither AVX512-BF16 nor AMX"
    monkeypatch.setattr(detector_module, "bf16_unsupported", lambda: reason)
    assert cli.main(["detect", "--precision", "bf16"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"yad2k-style: error: yolov2-shapes: precision bf16: {reason}"]
