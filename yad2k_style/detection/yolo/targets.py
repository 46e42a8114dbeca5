"""Training targets: which grid cell and anchor is responsible for each true box, and its encoding.

Boxes are relative to the image: ``(x, y, w, h, class)`` with ``(x, y)`` the centre, x along the
width, all in [0, 1]. Anchors are ``(w, h)`` in grid-cell units. A box belongs to the cell holding its
centre and to the free anchor whose shape fits it best (IoU of the two boxes centred together).
"""

from dataclasses import dataclass

import numpy as np

from yad2k_style.boxes import convert_boxes, wh_iou

DOWNSAMPLE = 32  # YOLOv2's five stride-2 max-pools


@dataclass(frozen=True)
class AnchorAssignment:
    """``detectors_mask`` (H, W, A, 1): 1 where an anchor is responsible for a box.
    ``matching_true_boxes`` (H, W, A, 5): ``(x - col, y - row, log(w / anchor_w), log(h / anchor_h),
    class)`` in cell units there, zeros elsewhere. ``dropped``: boxes with no free anchor left in
    their cell (or with zero width or height)."""

    detectors_mask: np.ndarray
    matching_true_boxes: np.ndarray
    dropped: int


def assign_anchors(true_boxes, anchors, grid_shape):
    """Assign each box to its cell and best free anchor; a second box on a taken (cell, anchor)
    gets its next-best anchor rather than overwriting the first (YAD2K overwrote)."""
    grid_h, grid_w = grid_shape
    anchors = np.asarray(anchors, np.float64).reshape(-1, 2)
    mask = np.zeros((grid_h, grid_w, len(anchors), 1), np.float32)
    matching = np.zeros((grid_h, grid_w, len(anchors), 5), np.float32)
    boxes = np.asarray(true_boxes, np.float64).reshape(-1, 5)
    dropped = 0
    for x, y, w, h, label in boxes:
        if w <= 0 or h <= 0:
            dropped += 1
            continue
        cell_w, cell_h = w * grid_w, h * grid_h
        col = min(int(np.floor(x * grid_w)), grid_w - 1)
        row = min(int(np.floor(y * grid_h)), grid_h - 1)
        order = np.argsort(-wh_iou([[cell_w, cell_h]], anchors)[0], kind="stable")
        free = [k for k in order if mask[row, col, k, 0] == 0]
        if not free:
            dropped += 1
            continue
        k = free[0]
        mask[row, col, k, 0] = 1
        matching[row, col, k] = (x * grid_w - col, y * grid_h - row,
                                 np.log(cell_w / anchors[k, 0]), np.log(cell_h / anchors[k, 1]), label)
    return AnchorAssignment(mask, matching, dropped)


def preprocess_true_boxes(true_boxes, anchors, image_size):
    """YAD2K's API: ``(detectors_mask, matching_true_boxes)`` for boxes (N, 5) on an image of
    ``image_size = (height, width)`` pixels, whose grid is ``(height // 32, width // 32)``."""
    height, width = image_size
    if height % DOWNSAMPLE or width % DOWNSAMPLE:
        raise ValueError(f"image size must be a multiple of 32, got {height}×{width}")
    assignment = assign_anchors(true_boxes, anchors, (height // DOWNSAMPLE, width // DOWNSAMPLE))
    return assignment.detectors_mask, assignment.matching_true_boxes


def notes_target(true_boxes, grid_shape, num_classes, anchors=((1.0, 1.0),)):
    """The notes' label Y, shape (H, W, A·(5 + C)): per anchor ``[p_c, b_x, b_y, b_h, b_w, c_1..c_C]``
    with ``b_x, b_y`` in [0, 1) within the cell and ``b_h, b_w`` in cell units (may exceed 1).
    With one anchor (the default) and a 3×3 grid this is the notes' 3×3×8 target for 3 classes."""
    assignment = assign_anchors(true_boxes, anchors, grid_shape)
    mask, matching = assignment.detectors_mask, assignment.matching_true_boxes
    anchors = np.asarray(anchors, np.float32).reshape(-1, 2)
    wh = np.exp(matching[..., 2:4]) * anchors * mask
    one_hot = np.eye(num_classes, dtype=np.float32)[matching[..., 4].astype(int)] * mask
    y = np.concatenate([mask, matching[..., 0:2] * mask, wh[..., 1:2], wh[..., 0:1], one_hot], axis=-1)
    return y.reshape(*grid_shape, -1)


def notes_boxes(y, num_classes):
    """The boxes a notes' label ``y`` (H, W, A·(5 + C)) holds, back in :func:`notes_target`'s input
    form: (N, 5) relative ``(x, y, w, h, class)``, in cell and anchor order."""
    grid_h, grid_w = y.shape[:2]
    cells = np.asarray(y, np.float64).reshape(grid_h, grid_w, -1, 5 + num_classes)
    rows, cols, slots = np.nonzero(cells[..., 0] == 1)
    found = cells[rows, cols, slots]
    return np.stack([(cols + found[:, 1]) / grid_w, (rows + found[:, 2]) / grid_h, found[:, 4] / grid_w,
                     found[:, 3] / grid_h, np.argmax(found[:, 5:], axis=-1)], axis=-1).reshape(-1, 5)


def pack_y_true(detectors_mask, matching_true_boxes):
    """One tensor for ``model.fit``: (…, H, W, A, 6) = mask followed by the matching box."""
    return np.concatenate([detectors_mask, matching_true_boxes], axis=-1)


def y_true_for_boxes(boxes, classes, anchors, grid_shape, box_format="rel_xyxy", image_size=None):
    """The loss's target for one image: boxes (N, 4) in ``box_format`` (pixels need ``image_size =
    (height, width)``) and classes (N,) → ``(y_true float32 (H, W, A, 6), boxes dropped)``."""
    xywh = convert_boxes(np.asarray(boxes, np.float64).reshape(-1, 4), box_format, "rel_cxcywh", image_size)
    labels = np.asarray(classes, np.float64).reshape(-1, 1)
    assignment = assign_anchors(np.concatenate([xywh, labels], axis=1), anchors, grid_shape)
    return pack_y_true(assignment.detectors_mask, assignment.matching_true_boxes), assignment.dropped
