"""Receptive-field arithmetic: the notes' worked example, every layer of small models against brute
force (the input pixels whose gradient reaches an output cell), and the registered models."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.errors import YadError
from yad2k_style.foundations.receptive_field import AxisField, receptive_fields, sliding
from yad2k_style.layers import darknet_reorg, space_to_depth_x2
from yad2k_style.registry import create_model


def test_the_notes_worked_example():
    layer0 = AxisField(n=5, j=1, r=1, start=0.5)
    layer1 = sliding(layer0, kernel=3, stride=2, padding=1)
    layer2 = sliding(layer1, kernel=3, stride=2, padding=1)
    assert layer1 == AxisField(n=3, j=2, r=3, start=0.5)
    assert layer2 == AxisField(n=2, j=4, r=7, start=0.5)

    # The same network as Keras layers: explicit padding, then valid convolutions.
    image = keras.Input((5, 5, 1), name="image")
    x = keras.layers.ZeroPadding2D(1, name="pad1")(image)
    x = keras.layers.Conv2D(1, 3, strides=2, name="conv1")(x)
    x = keras.layers.ZeroPadding2D(1, name="pad2")(x)
    x = keras.layers.Conv2D(1, 3, strides=2, name="conv2")(x)
    fields = {field.name: field for field in receptive_fields(keras.Model(image, x))}
    assert (fields["conv1"].y, fields["conv2"].x) == (layer1, layer2)


def ones(layer):
    """A layer whose kernels are all ones and biases zero: every input in its field counts."""
    for weight in layer.weights:
        weight.assign(np.ones(weight.shape) if "kernel" in weight.path else np.zeros(weight.shape))
    return layer


def small_model(size=(25, 22)):
    """Every kind of layer the arithmetic knows, linear, with non-square input and odd/even sizes."""
    image = keras.Input((*size, 1), name="image")
    x = keras.layers.Conv2D(1, 3, padding="same", name="conv_same")(image)
    x = keras.layers.Conv2D(1, 3, strides=2, padding="same", name="conv_same_s2")(x)          # asymmetric
    x = keras.layers.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(x)
    x = keras.layers.AveragePooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(1, 3, dilation_rate=2, padding="same", name="dilated")(x)
    a = keras.layers.Conv2D(1, 1, name="branch_1x1")(x)
    b = keras.layers.Conv2D(1, (3, 1), padding="same", name="branch_3x1")(x)
    x = keras.layers.Concatenate(name="concat")([a, b])
    x = keras.layers.Conv2D(1, 1, name="mix")(x)
    x = keras.layers.Lambda(space_to_depth_x2, name="space_to_depth_x2")(x)
    x = keras.layers.Conv2D(1, 2, padding="valid", name="conv_valid")(x)
    model = keras.Model(image, x)
    for layer in model.layers:
        ones(layer)
    return model


def brute_force_window(submodel, row, col, size):
    """The bounding box ``(y0, x0, y1, x1)`` of the input pixels with a non-zero gradient; None when
    the cell reads padding only."""
    image = tf.constant(np.random.default_rng(0).uniform(1, 2, size=(1, *size, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(image)
        output = tf.reduce_sum(submodel(image)[0, row, col])
    rows, cols = np.nonzero(tape.gradient(output, image)[0, ..., 0].numpy())
    return (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) if rows.size else None


def test_every_layer_against_brute_force():
    size = (25, 22)
    model = small_model(size)
    checked, padding_only = 0, 0
    fields = receptive_fields(model)
    assert all(field.exact for field in fields)
    for field in fields[1:]:
        layer = model.get_layer(field.name)
        if len(layer.output.shape) != 4 or field.kind == "ZeroPadding2D":
            continue
        submodel = keras.Model(model.input, layer.output)
        assert (field.y.n, field.x.n) == tuple(layer.output.shape[1:3])
        for row in range(field.y.n):
            for col in range(field.x.n):
                expected = brute_force_window(submodel, row, col, size)
                assert field.pixel_window(row, col) == expected, (field.name, row, col)
                padding_only += expected is None
                if expected is not None:  # the arithmetic's window contains the pixels read
                    y0, x0, y1, x1 = field.window(row, col)
                    assert y0 <= expected[0] and x0 <= expected[1] and expected[2] <= y1 and expected[3] <= x1
                checked += 1
    assert checked > 500 and padding_only > 0  # the padding layer makes cells that read nothing


def test_darknet_reorg_windows_contain_what_cells_read():
    image = keras.Input((16, 16, 4), name="image")
    x = ones(keras.layers.Conv2D(4, 3, padding="same", name="conv"))(image)
    x = keras.layers.Lambda(darknet_reorg, name="reorg")(x)
    model = keras.Model(image, x)
    ones(model.get_layer("conv"))
    field = receptive_fields(model)[-1]
    assert not field.exact and (field.y.n, field.x.n, field.x.j) == (8, 8, 2)
    for row in range(8):
        for col in range(8):
            expected = brute_force_window_channels(model, row, col, (16, 16, 4))
            assert field.pixel_window(row, col) == expected
            y0, x0, y1, x1 = field.window(row, col)
            assert y0 <= expected[0] and x0 <= expected[1] and expected[2] <= y1 and expected[3] <= x1


def brute_force_window_channels(model, row, col, shape):
    image = tf.constant(np.ones((1, *shape), np.float32))
    with tf.GradientTape() as tape:
        tape.watch(image)
        output = tf.reduce_sum(model(image)[0, row, col])
    rows, cols = np.nonzero(tape.gradient(output, image)[0].numpy().sum(-1))
    return rows.min(), cols.min(), rows.max() + 1, cols.max() + 1


def test_registered_models():
    fields = {field.name: field for field in receptive_fields(create_model("yolov2"))}
    output = fields["conv2d_23"]
    assert (output.y, output.x) == (AxisField(19, 32, 566, 16), AxisField(19, 32, 566, 16)) and output.exact
    assert fields["space_to_depth_x2"].y == AxisField(19, 32, fields["leaky_re_lu_21"].y.r + 16, 16)
    vgg = {field.name: field for field in receptive_fields(create_model("vgg16-style"))}
    assert [vgg[f"block{b}_conv1"].y.r for b in range(1, 6)] == [3, 10, 24, 60, 132]
    assert (vgg["block5_conv3"].y.r, vgg["block5_conv3"].y.j) == (196, 16)
    face = receptive_fields(create_model("facenet-nn4-small2"))
    assert face[-1].name == "l2_normalize" and face[-1].y.n == 1
    assert next(f for f in face if f.name == "inception_3a_concat").exact is False  # OpenFace: a padded pool


def test_unknown_layers_and_sizes_are_one_line():
    image = keras.Input((8, 8, 1), name="image")
    model = keras.Model(image, keras.layers.UpSampling2D(name="up")(image))
    with pytest.raises(YadError, match="layer 'up' \\(UpSampling2D\\) is not one this code knows"):
        receptive_fields(model)
    free = keras.Input((None, None, 1), name="image")
    with pytest.raises(YadError, match="needs one image input of fixed height and width"):
        receptive_fields(keras.Model(free, keras.layers.Conv2D(1, 3, name="conv")(free)))
