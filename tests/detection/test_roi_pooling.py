"""RoI pooling, RoIAlign and position-sensitive pooling against NumPy loops (Detectron's sampling rule),
on fractional boxes and boxes across the border."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.roi_pooling import position_sensitive_pool, roi_pool


def bilinear(feature, y, x):
    """Detectron's RoIAlign read of one point (cell coordinates) of ``feature`` (H, W, C)."""
    height, width = feature.shape[:2]
    if y < -1 or y > height or x < -1 or x > width:
        return np.zeros(feature.shape[-1])
    y, x = min(max(y, 0.0), height - 1), min(max(x, 0.0), width - 1)
    y0, x0 = int(np.floor(y)), int(np.floor(x))
    y1, x1 = min(y0 + 1, height - 1), min(x0 + 1, width - 1)
    dy, dx = y - y0, x - x0
    return ((1 - dy) * (1 - dx) * feature[y0, x0] + (1 - dy) * dx * feature[y0, x1]
            + dy * (1 - dx) * feature[y1, x0] + dy * dx * feature[y1, x1])


def bin_samples(feature, box, stride, size, sampling, i, j):
    """The sampling × sampling reads of bin (i, j) of ``box`` (xyxy pixels)."""
    x0, y0, x1, y1 = np.asarray(box, float) / stride - 0.5
    bin_h, bin_w = (y1 - y0) / size, (x1 - x0) / size
    return np.array([bilinear(feature, y0 + (i + (a + 0.5) / sampling) * bin_h,
                              x0 + (j + (b + 0.5) / sampling) * bin_w)
                     for a in range(sampling) for b in range(sampling)])


def numpy_roi_pool(features, boxes, indices, size, stride, sampling, reduce):
    out = np.zeros((len(boxes), size, size, features.shape[-1]))
    for r, (box, index) in enumerate(zip(boxes, indices, strict=True)):
        for i in range(size):
            for j in range(size):
                out[r, i, j] = reduce(bin_samples(features[index], box, stride, size, sampling, i, j), axis=0)
    return out


FEATURES = np.random.default_rng(0).normal(size=(2, 6, 7, 3)).astype(np.float32)
BOXES = np.array([
    [8.3, 4.7, 40.9, 29.2],     # fractional, inside
    [-10.0, -6.0, 20.0, 14.0],  # across the top-left border
    [30.0, 25.0, 70.0, 60.0],   # past the bottom-right (the map covers 56 × 48 pixels at stride 8)
    [12.0, 12.0, 13.0, 13.5],   # smaller than a cell
], np.float32)
INDICES = np.array([0, 1, 0, 1])


@pytest.mark.parametrize("mode, reduce", [("max", np.max), ("average", np.mean)])
@pytest.mark.parametrize("size, sampling", [(2, 2), (3, 1), (7, 2), (14, 2)])  # 14, 2: Mask R-CNN's
def test_roi_pooling_matches_the_numpy_loop(mode, reduce, size, sampling):
    got = roi_pool(tf.constant(FEATURES), tf.constant(BOXES), tf.constant(INDICES), size, 8, sampling, mode)
    want = numpy_roi_pool(FEATURES, BOXES, INDICES, size, 8, sampling, reduce)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-5)


def test_a_box_far_outside_reads_zeros_and_mode_is_checked():
    far = np.array([[200.0, 200.0, 260.0, 260.0]], np.float32)
    assert np.all(roi_pool(FEATURES, far, [0], 2, 8).numpy() == 0)
    with pytest.raises(ValueError, match="mode must be"):
        roi_pool(FEATURES, far, [0], 2, 8, mode="median")


def test_position_sensitive_pooling_takes_each_bin_s_own_group():
    size, classes = 3, 2
    maps = np.random.default_rng(1).normal(size=(2, 6, 7, size * size * classes)).astype(np.float32)
    got = position_sensitive_pool(tf.constant(maps), BOXES, INDICES, size, 8).numpy()
    want = np.zeros((len(BOXES), size, size, classes))
    for r, (box, index) in enumerate(zip(BOXES, INDICES, strict=True)):
        for i in range(size):
            for j in range(size):
                group = (i * size + j) * classes
                samples = bin_samples(maps[index], box, 8, size, 2, i, j)[:, group:group + classes]
                want[r, i, j] = samples.mean(0)
    np.testing.assert_allclose(got, want, atol=1e-5)
    with pytest.raises(ValueError, match="not 9 groups"):
        position_sensitive_pool(tf.constant(maps[..., :5]), BOXES, INDICES, size, 8)
