"""Anchor assignment and target encoding for hand-made boxes."""

import numpy as np
import pytest

from yad2k_style.boxes import wh_iou
from yad2k_style.detection.yolo.targets import (
    assign_anchors,
    notes_boxes,
    notes_target,
    preprocess_true_boxes,
)

ANCHORS = np.array([[1.0, 1.0], [4.0, 2.0], [2.0, 4.0]], np.float32)


def test_cell_anchor_and_encoding():
    # 416×416 → 13×13 grid; centre (0.5, 0.25) → col 6, row 3; size 4×2 cells → anchor 1 (exact fit)
    box = [0.5, 0.25, 4 / 13, 2 / 13, 2]
    mask, matching = preprocess_true_boxes(np.array([box]), ANCHORS, (416, 416))
    assert mask.shape == (13, 13, 3, 1) and matching.shape == (13, 13, 3, 5)
    assert mask.sum() == 1 and mask[3, 6, 1, 0] == 1
    np.testing.assert_allclose(matching[3, 6, 1], [0.5 * 13 - 6, 0.25 * 13 - 3, 0.0, 0.0, 2], atol=1e-6)


def test_log_size_encoding_and_non_square_grid():
    # 320×608 → grid 10 rows × 19 columns; x is along the width (columns)
    box = [0.9, 0.15, 3 / 19, 1.5 / 10, 0]
    mask, matching = preprocess_true_boxes(np.array([box]), ANCHORS, (320, 608))
    assert mask.shape == (10, 19, 3, 1)
    row, col, anchor = (int(v) for v in np.argwhere(mask[..., 0])[0])
    assert (row, col) == (1, 17)
    expected_anchor = int(np.argmax(wh_iou([[3.0, 1.5]], ANCHORS)[0]))
    assert anchor == expected_anchor == 1
    np.testing.assert_allclose(matching[row, col, anchor, 2:4], [np.log(3 / 4), np.log(1.5 / 2)], rtol=1e-6)


def test_collision_takes_next_best_anchor_and_counts_drops():
    same = [0.5, 0.5, 4 / 13, 2 / 13, 1]
    boxes = np.array([same, same, same, same])
    assignment = assign_anchors(boxes, ANCHORS, (13, 13))
    taken = assignment.detectors_mask[6, 6, :, 0]
    assert taken.tolist() == [1, 1, 1]  # the first three fill all three anchors of the cell
    assert assignment.dropped == 1
    # the first box keeps its best anchor; the second gets the next best, not an overwrite
    order = np.argsort(-wh_iou([[4.0, 2.0]], ANCHORS)[0], kind="stable")
    assert order[0] == 1
    assert assignment.matching_true_boxes[6, 6, order[1], 4] == 1


def test_zero_size_box_is_dropped():
    assignment = assign_anchors(np.array([[0.5, 0.5, 0.0, 0.1, 0]]), ANCHORS, (13, 13))
    assert assignment.detectors_mask.sum() == 0 and assignment.dropped == 1


def test_notes_target_one_anchor_3x3x8():
    # the notes' car example: 3×3 grid, classes (pedestrian, car, motorcycle), one anchor
    y = notes_target(np.array([[0.4, 0.7, 0.3, 0.4, 1]]), (3, 3), 3)
    assert y.shape == (3, 3, 8)
    np.testing.assert_allclose(y[2, 1], [1, 0.4 * 3 - 1, 0.7 * 3 - 2, 0.4 * 3, 0.3 * 3, 0, 1, 0], atol=1e-6)
    assert y[..., 0].sum() == 1 and np.abs(y[0]).sum() == 0


def test_notes_target_decodes_back_to_its_boxes():
    """The notes' 100×100 image, 3×3 grid, one anchor: Y (3×3×8) → the same boxes; and two anchors."""
    boxes = np.array([[0.15, 0.2, 0.25, 0.3, 0], [0.4, 0.7, 0.3, 0.4, 1], [0.9, 0.85, 0.1, 0.2, 2]])
    np.testing.assert_allclose(notes_boxes(notes_target(boxes, (3, 3), 3), 3), boxes, atol=1e-6)
    moved = boxes[:2] * [1, 1, 1, 1, 0] + [0.5, 0, 0, 0, 0]  # one class, other cells
    two = notes_target(moved, (3, 3), 2, anchors=((1, 1), (0.5, 2)))
    assert two.shape == (3, 3, 14)
    np.testing.assert_allclose(notes_boxes(two, 2), moved, atol=1e-6)


def test_image_size_must_be_multiple_of_32():
    with pytest.raises(ValueError, match="multiple of 32"):
        preprocess_true_boxes(np.zeros((0, 5)), ANCHORS, (400, 416))
