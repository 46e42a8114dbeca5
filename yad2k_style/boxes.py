"""Box geometry, the one home of box formats and intersection over union (NumPy and TensorFlow).

Box formats (the last axis holds four numbers):

- ``"xyxy"``: corners ``(x_min, y_min, x_max, y_max)``: the course's ``iou``, the detector's results,
  the ``detect`` command's JSON, the label readers;
- ``"yxyx"``: corners ``(y_min, x_min, y_max, x_max)``: what the course's ``yolo_eval`` returns and
  ``draw_boxes`` takes, the order of ``tf.image.non_max_suppression``;
- ``"xywh"``: top-left corner and size ``(x_min, y_min, width, height)``: COCO's ``bbox``;
- ``"cxcywh"``: centre and size ``(x, y, width, height)``: YOLO's labels and targets.

Each is in pixels, or relative to the image (0 to 1 along each side) when prefixed ``"rel_"``
(``"rel_cxcywh"`` is a YOLO txt label). IoU does not depend on the corner order as long as both
boxes use the same one. Functions take NumPy arrays (or lists) and return NumPy arrays, or take
TensorFlow tensors and return tensors (and work inside ``tf.function``).
"""

import numpy as np
import tensorflow as tf

BOX_FORMATS = ("xyxy", "yxyx", "xywh", "cxcywh")
RELATIVE = "rel_"


def _ops(*values):
    """``tf`` when any value is a tensor, else ``np``."""
    return tf if any(tf.is_tensor(v) for v in values) else np


def _as_float(ops, boxes, dtype=None):
    if ops is tf:
        return tf.convert_to_tensor(boxes, dtype_hint=tf.float32) if dtype is None else tf.cast(boxes, dtype)
    boxes = np.asarray(boxes)
    return boxes if dtype is None and np.issubdtype(boxes.dtype, np.floating) else boxes.astype(
        dtype or np.float64)


def _parse_format(name):
    relative = name.startswith(RELATIVE)
    layout = name[len(RELATIVE):] if relative else name
    if layout not in BOX_FORMATS:
        raise ValueError(f"unknown box format {name!r}; expected one of {', '.join(BOX_FORMATS)}, "
                         f"optionally prefixed {RELATIVE!r}")
    return layout, relative


def convert_boxes(boxes, source, target, image_size=None):
    """Boxes (..., 4) from format ``source`` to format ``target`` (see the module docstring).

    ``image_size = (height, width)`` in pixels (numbers, or arrays broadcasting against the leading
    axes) is needed when one format is relative and the other is not.
    """
    source_layout, source_relative = _parse_format(source)
    target_layout, target_relative = _parse_format(target)
    ops = _ops(boxes)
    boxes = _as_float(ops, boxes)
    x0, y0, x1, y1 = _to_xyxy(boxes, source_layout)
    if source_relative != target_relative:
        if image_size is None:
            raise ValueError(f"converting {source} to {target} needs image_size=(height, width)")
        height, width = (_as_float(ops, side, boxes.dtype) for side in (image_size[0], image_size[1]))
        if source_relative:
            x0, x1, y0, y1 = x0 * width, x1 * width, y0 * height, y1 * height
        else:
            x0, x1, y0, y1 = x0 / width, x1 / width, y0 / height, y1 / height
    return ops.stack(_from_xyxy(x0, y0, x1, y1, target_layout), axis=-1)


def _to_xyxy(boxes, layout):
    a, b, c, d = (boxes[..., i] for i in range(4))
    if layout == "xyxy":
        return a, b, c, d
    if layout == "yxyx":
        return b, a, d, c
    if layout == "xywh":
        return a, b, a + c, b + d
    return a - c / 2, b - d / 2, a + c / 2, b + d / 2  # cxcywh


def _from_xyxy(x0, y0, x1, y1, layout):
    if layout == "xyxy":
        return x0, y0, x1, y1
    if layout == "yxyx":
        return y0, x0, y1, x1
    if layout == "xywh":
        return x0, y0, x1 - x0, y1 - y0
    return (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0  # cxcywh


def iou(box1, box2):
    """The course's intersection over union of two boxes given as ``(x1, y1, x2, y2)`` corners.

    Plain Python on four numbers each. Disjoint, touching or zero-area boxes give 0, never NaN.
    """
    box1_x1, box1_y1, box1_x2, box1_y2 = box1
    box2_x1, box2_y1, box2_x2, box2_y2 = box2
    inter_width = min(box1_x2, box2_x2) - max(box1_x1, box2_x1)
    inter_height = min(box1_y2, box2_y2) - max(box1_y1, box2_y1)
    inter_area = max(inter_width, 0) * max(inter_height, 0)
    box1_area = (box1_x2 - box1_x1) * (box1_y2 - box1_y1)
    box2_area = (box2_x2 - box2_x1) * (box2_y2 - box2_y1)
    union_area = box1_area + box2_area - inter_area
    return inter_area / union_area if union_area > 0 else 0.0


def elementwise_iou(boxes1, boxes2):
    """IoU of corner boxes (..., 4) and (..., 4), broadcast over the leading axes → (...).

    Corners in one order for both, ``xyxy`` or ``yxyx``. NumPy in: float64 NumPy out; a tensor in:
    a tensor out (float32 unless given otherwise). Pairs with zero union give 0, never NaN, and no
    NaN gradient.
    """
    ops = _ops(boxes1, boxes2)
    boxes1 = _as_float(ops, boxes1, None if ops is tf else np.float64)
    boxes2 = _as_float(ops, boxes2, boxes1.dtype)
    inter_sides = ops.maximum(ops.minimum(boxes1[..., 2:], boxes2[..., 2:])
                              - ops.maximum(boxes1[..., :2], boxes2[..., :2]), 0)
    inter_area = inter_sides[..., 0] * inter_sides[..., 1]
    area1 = (boxes1[..., 2] - boxes1[..., 0]) * (boxes1[..., 3] - boxes1[..., 1])
    area2 = (boxes2[..., 2] - boxes2[..., 0]) * (boxes2[..., 3] - boxes2[..., 1])
    union_area = area1 + area2 - inter_area
    positive = union_area > 0
    return ops.where(positive, inter_area / ops.where(positive, union_area, 1), 0)


def pairwise_iou(boxes1, boxes2):
    """IoU of every box in ``boxes1`` (N, 4) with every box in ``boxes2`` (M, 4) → (N, M).

    Types and corner orders as :func:`elementwise_iou`.
    """
    ops = _ops(boxes1, boxes2)
    boxes1 = _as_float(ops, boxes1, None if ops is tf else np.float64)
    boxes2 = _as_float(ops, boxes2, boxes1.dtype)
    return elementwise_iou(ops.expand_dims(boxes1, 1), ops.expand_dims(boxes2, 0))


def wh_iou(wh, anchors):
    """IoU of box sizes (N, 2) and anchor sizes (A, 2), ``(width, height)`` in one unit, as if each
    pair shared a centre → float64 (N, A). YOLOv2's anchor matching and k-means distance."""
    wh = np.asarray(wh, np.float64)[:, None, :]
    anchors = np.asarray(anchors, np.float64)[None, :, :]
    inter = np.prod(np.minimum(wh, anchors), axis=-1)
    return inter / (np.prod(wh, axis=-1) + np.prod(anchors, axis=-1) - inter)


#: The scale of the region-based detectors' and SSD's box deltas: Faster R-CNN's head weights
#: (10, 10, 5, 5), which are SSD's "variances" 0.1 and 0.2; RPNs use (1, 1, 1, 1).
DELTA_SCALE = (10.0, 10.0, 5.0, 5.0)
#: The largest log size change a decoded delta may make (Detectron's ``log(1000 / 16)``).
MAX_LOG_SIZE_CHANGE = float(np.log(1000.0 / 16.0))


def encode_deltas(boxes, anchors, scale=DELTA_SCALE):
    """R-CNN's box deltas of ``boxes`` against ``anchors`` (both ``xyxy`` corners, (..., 4), one unit):
    ``((x − xa) / wa, (y − ya) / ha, log(w / wa), log(h / ha))`` times ``scale``, where ``(x, y)`` is a
    centre and ``(w, h)`` a size. Boxes and anchors must have positive sizes."""
    ops = _ops(boxes, anchors)
    boxes = _as_float(ops, boxes, None if ops is tf else np.float64)
    anchors = _as_float(ops, anchors, boxes.dtype)
    size, anchor_size = boxes[..., 2:] - boxes[..., :2], anchors[..., 2:] - anchors[..., :2]
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2
    anchor_centre = (anchors[..., :2] + anchors[..., 2:]) / 2
    return _concat(ops, [(centre - anchor_centre) / anchor_size, ops.log(size / anchor_size)]) * _constant(
        ops, scale, boxes.dtype)


def decode_deltas(deltas, anchors, scale=DELTA_SCALE):
    """The ``xyxy`` boxes that :func:`encode_deltas` encoded as ``deltas`` (..., 4) against ``anchors``;
    log size changes are clipped at :data:`MAX_LOG_SIZE_CHANGE` (no overflow from a wild delta)."""
    ops = _ops(deltas, anchors)
    deltas = _as_float(ops, deltas, None if ops is tf else np.float64)
    anchors = _as_float(ops, anchors, deltas.dtype)
    deltas = deltas / _constant(ops, scale, deltas.dtype)
    anchor_size = anchors[..., 2:] - anchors[..., :2]
    centre = (anchors[..., :2] + anchors[..., 2:]) / 2 + deltas[..., :2] * anchor_size
    half = ops.exp(ops.minimum(deltas[..., 2:], MAX_LOG_SIZE_CHANGE)) * anchor_size / 2
    return _concat(ops, [centre - half, centre + half])


def _concat(ops, parts):
    return tf.concat(parts, -1) if ops is tf else np.concatenate(parts, -1)


def _constant(ops, values, dtype):
    return tf.constant(values, dtype) if ops is tf else np.asarray(values, dtype)
