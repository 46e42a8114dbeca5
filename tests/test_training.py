"""Shared training pieces: starting from other weights, with a report of what did not fit."""

import numpy as np
import pytest

from yad2k_style.errors import FormatError, YadWarning
from yad2k_style.training import load_matching_weights, save_weights
from yad2k_style.yolo.model import yolov2_shapes


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
    with pytest.raises(FormatError, match=r"bad\.weights\.h5: cannot load weights"):
        load_matching_weights(same, tmp_path / "bad.weights.h5")
    for weight, kept in zip(same.weights, before, strict=True):
        np.testing.assert_array_equal(weight.numpy(), kept)
