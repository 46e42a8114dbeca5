"""Shared training pieces: starting from other weights, with a report of what did not fit."""

import numpy as np
import pytest

from yad2k_style.detection.yolo.model import yolov2_shapes
from yad2k_style.errors import FormatError, YadWarning
from yad2k_style.training import load_matching_weights, save_weights


def test_load_matching_weights_reports_the_layers_that_kept_their_initialisation(tmp_path):
    source = yolov2_shapes((64, 64, 3), num_anchors=5, num_classes=3)    # head: 40 channels
    for weight in source.weights:
        weight.assign(np.random.default_rng(1).normal(size=weight.shape).astype(np.float32))
    save_weights(source, tmp_path / "source.weights.h5")
    target = yolov2_shapes((64, 64, 3), num_anchors=3, num_classes=3)    # head: 24 channels
    head = target.get_layer("conv2d_9")
    initial_head = [w.copy() for w in head.get_weights()]
    with pytest.warns(YadWarning) as warned:
        report = load_matching_weights(target, tmp_path / "source.weights.h5")
    assert report.kept == ("conv2d_9",) and len(report.loaded) == 16   # 8 convs + 8 batch norms
    assert str(warned[0].message) == (f"{tmp_path / 'source.weights.h5'}: loaded 16 of 17 weighted layers; "
                                      f"1 kept their initialisation (no weights of their shape): conv2d_9")
    for kept, initial in zip(head.get_weights(), initial_head, strict=True):
        np.testing.assert_array_equal(kept, initial)
    for name in report.loaded:
        for mine, theirs in zip(target.get_layer(name).weights, source.get_layer(name).weights, strict=True):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())

    same = yolov2_shapes((64, 64, 3), num_anchors=5, num_classes=3)
    assert load_matching_weights(same, tmp_path / "source.weights.h5").summary().endswith(
        "loaded all 17 weighted layers")
    (tmp_path / "bad.weights.h5").write_bytes(b"not hdf5")
    before = [w.numpy().copy() for w in same.weights]
    with pytest.raises(FormatError, match=r"bad\.weights\.h5: not a Keras weights file"):
        load_matching_weights(same, tmp_path / "bad.weights.h5")
    for weight, kept in zip(same.weights, before, strict=True):
        np.testing.assert_array_equal(weight.numpy(), kept)


def test_load_weights_by_layer_name_ignores_the_file_layout(tmp_path):
    """A file saved from one arrangement of named layers loads into another by the layers' names."""
    import keras

    from yad2k_style.training import load_weights_by_layer_name

    def nested(seed):
        keras.utils.set_random_seed(seed)
        inner_in = keras.Input((4,), name="inner_in")
        inner = keras.Model(inner_in, keras.layers.Dense(3, name="fc_a")(inner_in), name="inner")
        image = keras.Input((4,), name="x")
        return keras.Model(image, keras.layers.Dense(2, name="fc_b")(inner(image)), name="outer")

    def flat(seed):
        keras.utils.set_random_seed(seed)
        image = keras.Input((4,), name="x")
        hidden = keras.layers.Dense(3, name="fc_a")(image)
        return keras.Model(image, keras.layers.Dense(2, name="fc_b")(hidden), name="flat")

    source = nested(1)
    source.save_weights(tmp_path / "nested.weights.h5")
    target = flat(2)
    load_weights_by_layer_name(target, tmp_path / "nested.weights.h5")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(target(x).numpy(), source(x).numpy(), rtol=1e-6)
    keras.utils.set_random_seed(3)
    other_in = keras.Input((4,), name="x")
    other = keras.Model(other_in, keras.layers.Dense(2, name="fc_c")(other_in))
    with pytest.raises(FormatError, match="nested.weights.h5: no weights for layers fc_c"):
        load_weights_by_layer_name(other, tmp_path / "nested.weights.h5")


def test_load_weights_by_layer_name_loads_layers_inside_wrappers(tmp_path):
    """A plain layer wrapped by TimeDistributed inside a nested model (Mask R-CNN's mask head) takes its
    weights too: once, a reload left such layers at their initial values."""
    import keras

    from yad2k_style.training import load_weights_by_layer_name

    def build(seed):
        keras.utils.set_random_seed(seed)
        regions = keras.Input((2, 4), name="regions")
        each = keras.layers.TimeDistributed(keras.layers.Dense(3, name="fc"), name="fc_each")(regions)
        head = keras.Model(regions, each, name="head")
        outer_in = keras.Input((2, 4), name="x")
        return keras.Model(outer_in, head(outer_in), name="outer")

    source, target = build(1), build(2)
    source.save_weights(tmp_path / "wrapped.weights.h5")
    load_weights_by_layer_name(target, tmp_path / "wrapped.weights.h5")
    x = np.random.default_rng(0).normal(size=(3, 2, 4)).astype(np.float32)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
