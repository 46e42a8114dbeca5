"""Keras' weights file written one variable at a time from a skeleton model (``weights_file``)."""

import keras
import numpy as np
import pytest

from yad2k_style.errors import YadError
from yad2k_style.weights_file import WeightsFileWriter, build_skeleton


def small_model():
    inputs = keras.Input((8, 8, 3), name="image")
    x = keras.layers.Conv2D(4, 3, use_bias=False, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.LeakyReLU(0.1, name="leaky")(x)
    return keras.Model(inputs, keras.layers.Conv2D(2, 1, name="head")(x), name="small")


def test_skeleton_has_shapes_but_no_values():
    skeleton = build_skeleton(small_model)
    assert skeleton.count_params() == 3 * 3 * 3 * 4 + 4 * 4 + 4 * 2 + 2
    assert skeleton.output_shape == (None, 6, 6, 2)
    small_model()  # a model built afterwards does not give the skeleton values
    with pytest.raises(Exception, match="conv/kernel: a skeleton's variable has no value"):
        skeleton(np.ones((1, 8, 8, 3), np.float32))


def test_writer_gives_the_file_load_weights_reads(tmp_path):
    rng = np.random.default_rng(3)
    reference = small_model()
    values = [rng.normal(size=v.shape).astype(np.float32) for v in reference.weights]
    skeleton = build_skeleton(small_model)
    with WeightsFileWriter(skeleton, tmp_path / "small.weights.h5") as writer:
        for variable, value in reversed(list(zip(skeleton.weights, values, strict=True))):  # any order
            writer.write(variable, value)
    reference.load_weights(tmp_path / "small.weights.h5")
    for variable, value in zip(reference.weights, values, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_writer_refuses_a_wrong_shape_and_a_missing_variable(tmp_path):
    skeleton = build_skeleton(small_model)
    writer = WeightsFileWriter(skeleton, tmp_path / "small.weights.h5")
    with pytest.raises(YadError, match=r"conv/kernel: an array of shape \(3, 3, 4, 3\) for a variable "
                                       r"of shape \(3, 3, 3, 4\)"):
        writer.write(skeleton.weights[0], np.zeros((3, 3, 4, 3)))
    writer.write(skeleton.weights[0], np.zeros((3, 3, 3, 4)))
    with pytest.raises(YadError, match=r"small.weights.h5: 6 variables not written: norm/gamma, norm/beta"):
        writer.close()


def test_writer_stores_half_precision_that_keras_loads_back(tmp_path):
    model = small_model()
    with WeightsFileWriter(model, tmp_path / "half.weights.h5", dtype="float16") as writer:
        for variable in model.weights:
            writer.write(variable, variable.numpy())
    other = small_model()
    other.load_weights(tmp_path / "half.weights.h5")
    for mine, loaded in zip(model.weights, other.weights, strict=True):
        assert loaded.dtype == "float32"
        np.testing.assert_array_equal(loaded.numpy(), mine.numpy().astype(np.float16).astype(np.float32))
