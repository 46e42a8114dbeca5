"""The spec builder: Darknet's padding rules for convolutions and max-pools."""

import keras
import numpy as np
import pytest

from yad2k_style.netspec import (
    Connected,
    Convolutional,
    Local,
    MaxPool,
    Reorg,
    Route,
    build_layers,
    build_model,
    weighted_layer_names,
)


def darknet_maxpool_reference(x, size, stride, padding):
    """Darknet's forward_maxpool_layer on one NHWC image: offset -padding//2, out-of-range skipped."""
    h, w, c = x.shape
    out_h, out_w = (h + padding - size) // stride + 1, (w + padding - size) // stride + 1
    out = np.full((out_h, out_w, c), -np.inf, np.float32)
    for i in range(out_h):
        for j in range(out_w):
            for n in range(size):
                for m in range(size):
                    y, x_ = i * stride - padding // 2 + n, j * stride - padding // 2 + m
                    if 0 <= y < h and 0 <= x_ < w:
                        out[i, j] = np.maximum(out[i, j], x[y, x_])
    return out


@pytest.mark.parametrize(
    "size, stride, padding, hw",
    [(2, 2, None, (8, 8)), (2, 1, None, (13, 13)), (2, 2, None, (7, 9)),
     (3, 2, None, (8, 8)), (3, 1, None, (5, 6)), (3, 2, 0, (9, 9))],
)
def test_max_pool_follows_darknet_padding(size, stride, padding, hw):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, *hw, 3)).astype(np.float32)
    spec = MaxPool(size, stride, padding)
    model = build_model([spec], (*hw, 3), "pool")
    expected = darknet_maxpool_reference(x[0], size, stride, spec.total_padding)
    np.testing.assert_array_equal(model(x).numpy()[0], expected)


def test_strided_conv_uses_darknet_symmetric_padding():
    model = build_model([Convolutional(1, 3, stride=2, padding=1)], (8, 8, 1), "conv")
    assert model.output_shape == (None, 4, 4, 1)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "ZeroPadding2D", "Conv2D"]
    conv = model.get_layer("conv2d_1")
    conv.set_weights([np.ones((3, 3, 1, 1), np.float32), np.zeros(1, np.float32)])
    x = np.arange(64, dtype=np.float32).reshape(1, 8, 8, 1)
    padded = np.pad(x[0, :, :, 0], 1)
    expected = [[padded[2 * i:2 * i + 3, 2 * j:2 * j + 3].sum() for j in range(4)] for i in range(4)]
    np.testing.assert_allclose(model(x).numpy()[0, :, :, 0], expected)


def test_route_indices_and_errors():
    inputs = keras.Input((4, 4, 2))
    outputs = build_layers([Convolutional(3, 1), Convolutional(5, 1), Route((0, -1))], inputs)
    assert outputs[-1].shape == (None, 4, 4, 8)
    with pytest.raises(ValueError, match="not an earlier layer"):
        build_layers([Convolutional(3, 1), Route((1,))], inputs)


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="unsupported activation 'mish'"):
        build_model([Convolutional(1, 1, activation="mish")], (4, 4, 1), "bad")


def test_model_keeps_specs_and_weighted_names_follow_the_builder():
    specs = (Convolutional(4, 3, padding=1, batch_normalize=True, activation="leaky"), MaxPool(),
             Convolutional(6, 1), Route((1, -1)), Reorg(2, "space_to_depth"), Convolutional(3, 1),
             Local(2, 3, pad=True, activation="relu"), Connected(5, batch_normalize=True))
    model = build_model(specs, (8, 8, 2), "net")
    assert model.specs == specs
    names = [(name, norm) for _, name, norm in weighted_layer_names(specs)]
    assert names == [("conv2d_1", "batch_normalization_1"), ("conv2d_2", None), ("conv2d_3", None),
                     ("locally_connected2d_1", None), ("dense_1", "batch_normalization_2")]
    assert [model.get_layer(name).kernel.shape for name, _ in names] == [
        (3, 3, 2, 4), (1, 1, 4, 6), (1, 1, 40, 3), (2 * 2, 3 * 3 * 3, 2), (2 * 2 * 2, 5)]
    assert model.output_shape == (None, 5)
