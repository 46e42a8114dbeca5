"""Anchor grids, IoU matching (RPN, SSD and Fast R-CNN rules), balanced sampling and box deltas, on
hand-made boxes."""

import numpy as np
import pytest

from yad2k_style.boxes import decode_deltas, encode_deltas
from yad2k_style.detection.anchors import anchor_grid
from yad2k_style.detection.matching import IGNORED, NEGATIVE, POSITIVE, assign, sample


def test_anchor_grid_centres_sizes_and_order():
    anchors = anchor_grid((2, 3), 8, sizes=[4, 8], ratios=[1, 4])
    assert anchors.shape == (2 * 3 * 4, 4) and anchors.dtype == np.float32
    # cell (0, 0), centre (4, 4): size 4 ratio 1; size 4 ratio 4 (w 8, h 2); size 8 ratio 1; size 8 ratio 4
    np.testing.assert_allclose(anchors[:4], [[2, 2, 6, 6], [0, 3, 8, 5], [0, 0, 8, 8], [-4, 2, 12, 6]])
    # the cell after (0, 0) is (0, 1), centre (12, 4): a head's (rows, columns, A × 4) reshaped to (-1, 4)
    np.testing.assert_allclose(anchors[4], [10, 2, 14, 6])
    np.testing.assert_allclose(anchors[3 * 4], [2, 10, 6, 14])  # row 1, column 0: centre (4, 12)


def test_rpn_rule_positive_negative_ignored_and_forced_match():
    truth = np.array([[0, 0, 10, 10], [40, 40, 60, 60]], float)
    anchors = np.array([
        [0, 0, 10, 10],     # IoU 1 with box 0: positive
        [0, 0, 10, 12],     # IoU 10/12 = 0.83 with box 0: positive
        [0, 0, 10, 20],     # IoU 0.5 with box 0: ignored (between 0.3 and 0.7)
        [20, 20, 30, 30],   # IoU 0: negative
        [40, 40, 60, 90],   # IoU 0.4 with box 1, its best anchor: forced positive
        [45, 45, 70, 70],   # IoU 225 / 800 = 0.28 with box 1: negative
    ], float)
    result = assign(anchors, truth, 0.7, 0.3)
    np.testing.assert_array_equal(result.labels, [POSITIVE, POSITIVE, IGNORED, NEGATIVE, POSITIVE, NEGATIVE])
    np.testing.assert_array_equal(result.matches[[0, 1, 4]], [0, 0, 1])
    np.testing.assert_allclose(result.ious, [1, 10 / 12, 0.5, 0, 0.4, 225 / 800])
    without = assign(anchors, truth, 0.7, 0.3, force_match=False)
    assert without.labels[4] == IGNORED  # 0.4 lies between the thresholds


def test_ties_for_a_box_s_best_anchor_are_all_positive_and_no_box_means_background():
    truth = np.array([[0, 0, 10, 10]], float)
    anchors = np.array([[0, 0, 10, 40], [0, 0, 40, 10], [50, 50, 60, 60]], float)  # IoU 0.25, 0.25, 0
    np.testing.assert_array_equal(assign(anchors, truth, 0.5, 0.5).labels, [POSITIVE, POSITIVE, NEGATIVE])
    empty = assign(anchors, np.zeros((0, 4)), 0.5, 0.5)
    np.testing.assert_array_equal(empty.labels, [NEGATIVE] * 3)
    np.testing.assert_array_equal(empty.matches, [-1] * 3)
    fast_rcnn = assign(anchors, np.zeros((0, 4)), 0.5, 0.5, negative_floor=0.1, force_match=False)
    np.testing.assert_array_equal(fast_rcnn.labels, [IGNORED] * 3)


def test_fast_rcnn_background_needs_some_overlap():
    truth = np.array([[0, 0, 10, 10]], float)
    rois = np.array([[0, 0, 10, 10], [0, 0, 10, 30], [0, 0, 10, 200], [30, 30, 40, 40]], float)
    labels = assign(rois, truth, 0.5, 0.5, negative_floor=0.1, force_match=False).labels
    np.testing.assert_array_equal(labels, [POSITIVE, NEGATIVE, IGNORED, IGNORED])  # IoU 1, 1/3, 0.05, 0


def test_sample_caps_positives_and_fills_with_negatives():
    labels = np.array([POSITIVE] * 10 + [NEGATIVE] * 100 + [IGNORED] * 5, np.int8)
    sampled = sample(labels, 16, 0.25, np.random.default_rng(0))
    assert np.sum(sampled == POSITIVE) == 4 and np.sum(sampled == NEGATIVE) == 12
    assert np.all(sampled[110:] == IGNORED)
    assert set(np.flatnonzero(sampled == POSITIVE)) <= set(range(10))
    few = sample(np.array([POSITIVE, NEGATIVE, NEGATIVE], np.int8), 16, 0.5, np.random.default_rng(0))
    np.testing.assert_array_equal(few, [POSITIVE, NEGATIVE, NEGATIVE])  # fewer than asked: all kept


def test_box_deltas_hand_example_and_round_trip():
    box, anchor = np.array([10, 20, 50, 40.0]), np.array([12, 18, 44, 46.0])
    # centres (30, 30) and (28, 32); sizes (40, 20) and (32, 28); scale (10, 10, 5, 5)
    want = [10 * 2 / 32, 10 * -2 / 28, 5 * np.log(40 / 32), 5 * np.log(20 / 28)]
    np.testing.assert_allclose(encode_deltas(box, anchor), want)
    unscaled = np.array(want) / [10, 10, 5, 5]
    np.testing.assert_allclose(encode_deltas(box, anchor, scale=(1, 1, 1, 1)), unscaled)
    rng = np.random.default_rng(4)
    corners = rng.uniform(0, 100, (50, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(1, 60, (50, 2))], 1)
    anchors = np.concatenate([corners + 3, corners + rng.uniform(5, 50, (50, 2))], 1)
    np.testing.assert_allclose(decode_deltas(encode_deltas(boxes, anchors), anchors), boxes, atol=1e-9)
    import tensorflow as tf

    deltas = tf.constant(encode_deltas(boxes, anchors), tf.float32)
    decoded = decode_deltas(deltas, tf.constant(anchors, tf.float32))
    np.testing.assert_allclose(decoded.numpy(), boxes, atol=1e-3)


def test_decoding_clips_a_wild_size_delta():
    boxes = decode_deltas(np.array([[0, 0, 1e4, 1e4]]), np.array([[0, 0, 10, 10.0]]))
    assert np.all(np.isfinite(boxes)) and boxes[0, 2] - boxes[0, 0] == pytest.approx(10 * 1000 / 16)
