"""``yolo_head`` decoding (non-square grids included) and ``yolo_boxes_to_corners``."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.yolo import yolo_boxes_to_corners, yolo_head

ANCHORS = np.array([[1.0, 2.0], [3.0, 1.5]], np.float32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _reference_head(feats, anchors, num_classes):
    """Darknet's region-layer formulas, written cell by cell."""
    batch, height, width, _ = feats.shape
    feats = feats.reshape(batch, height, width, len(anchors), 5 + num_classes).astype(np.float64)
    xy = np.zeros(feats.shape[:-1] + (2,))
    wh = np.zeros_like(xy)
    for row in range(height):
        for col in range(width):
            for a, (anchor_w, anchor_h) in enumerate(anchors):
                t = feats[:, row, col, a]
                xy[:, row, col, a] = np.stack([(col + _sigmoid(t[:, 0])) / width,
                                               (row + _sigmoid(t[:, 1])) / height], -1)
                wh[:, row, col, a] = np.stack([anchor_w * np.exp(t[:, 2]) / width,
                                               anchor_h * np.exp(t[:, 3]) / height], -1)
    logits = feats[..., 5:]
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    return xy, wh, _sigmoid(feats[..., 4:5]), probs / probs.sum(-1, keepdims=True)


def test_zero_features_on_10x19_grid_sit_at_cell_centres():
    num_classes = 3
    feats = tf.zeros([1, 10, 19, 2 * (5 + num_classes)])
    box_xy, box_wh, box_confidence, box_class_probs = yolo_head(feats, ANCHORS, num_classes)
    assert box_xy.shape == (1, 10, 19, 2, 2) and box_class_probs.shape == (1, 10, 19, 2, 3)
    rows, cols = np.meshgrid(np.arange(10), np.arange(19), indexing="ij")
    np.testing.assert_allclose(box_xy[0, ..., 0], np.stack([(cols + 0.5) / 19] * 2, -1), rtol=1e-6)
    np.testing.assert_allclose(box_xy[0, ..., 1], np.stack([(rows + 0.5) / 10] * 2, -1), rtol=1e-6)
    np.testing.assert_allclose(box_xy[0, 3, 17, 1], [17.5 / 19, 3.5 / 10], rtol=1e-6)  # row 3, column 17
    np.testing.assert_allclose(box_wh[0, 3, 17], ANCHORS / [19, 10], rtol=1e-6)
    np.testing.assert_allclose(box_confidence, 0.5)
    np.testing.assert_allclose(box_class_probs, 1 / 3, rtol=1e-6)


def test_one_zero_cell_among_random_features():
    rng = np.random.default_rng(5)
    feats = rng.normal(size=(2, 10, 19, 2 * 8)).astype(np.float32)
    feats[1, 7, 2] = 0.0
    box_xy, _, _, _ = yolo_head(feats, ANCHORS, 3)
    np.testing.assert_allclose(box_xy[1, 7, 2], [[2.5 / 19, 7.5 / 10]] * 2, rtol=1e-6)


def test_matches_cell_by_cell_reference_on_non_square_grid():
    rng = np.random.default_rng(6)
    feats = rng.normal(size=(2, 3, 5, 2 * (5 + 4))).astype(np.float32)
    for got, want in zip(yolo_head(feats, ANCHORS, 4), _reference_head(feats, ANCHORS, 4), strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-7)


def test_works_inside_tf_function_with_unknown_grid():
    decode = tf.function(lambda f: yolo_head(f, ANCHORS, 3),
                         input_signature=[tf.TensorSpec([None, None, None, 16], tf.float32)])
    box_xy, *_ = decode(tf.zeros([1, 4, 6, 16]))
    np.testing.assert_allclose(box_xy[0, 1, 5, 0], [5.5 / 6, 1.5 / 4], rtol=1e-6)


def test_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match="17 output channels, expected 2 anchors"):
        yolo_head(tf.zeros([1, 2, 2, 17]), ANCHORS, 3)


def test_boxes_to_corners_is_y_min_x_min_y_max_x_max():
    corners = yolo_boxes_to_corners(tf.constant([[0.5, 0.25]]), tf.constant([[0.2, 0.1]]))
    np.testing.assert_allclose(corners.numpy(), [[0.2, 0.4, 0.3, 0.6]], rtol=1e-6)
