"""Decoding YOLOv2's raw output into boxes relative to the image: ``yolo_head`` and corners.

Relative coordinates run from 0 to 1 across the network input: x along its width, y along its height.
"""

import numpy as np
import tensorflow as tf

from yad2k_style.boxes import convert_boxes


def yolo_head(feats, anchors, num_classes):
    """Decode the network's output ``feats`` (batch, H, W, A·(5 + C)).

    ``anchors``: (A, 2) ``(width, height)`` in grid-cell units. Returns four tensors of shape
    (batch, H, W, A, ·): ``box_xy`` (2: centre x, y), ``box_wh`` (2: width, height), both relative to
    the image, ``box_confidence`` (1: sigmoid objectness) and ``box_class_probs`` (C: softmax).
    For the cell in row r, column c: ``x = (c + sigmoid(t_x)) / W``, ``y = (r + sigmoid(t_y)) / H``,
    ``w = anchor_w · exp(t_w) / W``, ``h = anchor_h · exp(t_h) / H`` — right on non-square grids too.
    """
    feats = tf.convert_to_tensor(feats)
    anchors = np.asarray(anchors, dtype=feats.dtype.as_numpy_dtype).reshape(-1, 2)
    num_anchors = len(anchors)
    channels = feats.shape[-1]
    if channels is not None and channels != num_anchors * (5 + num_classes):
        raise ValueError(f"yolo_head: {channels} output channels, expected {num_anchors} anchors × "
                         f"(5 + {num_classes} classes) = {num_anchors * (5 + num_classes)}")
    shape = tf.shape(feats)
    feats = tf.reshape(feats, [-1, shape[1], shape[2], num_anchors, 5 + num_classes])
    box_xy, box_wh = grid_boxes(feats, anchors)
    box_confidence = tf.sigmoid(feats[..., 4:5])
    box_class_probs = tf.nn.softmax(feats[..., 5:])
    return box_xy, box_wh, box_confidence, box_class_probs


def grid_boxes(feats, anchors, input_size=None):
    """The boxes of raw features ``feats`` (batch, H, W, A, ≥ 4) whose first four entries are
    ``t_x, t_y, t_w, t_h``, relative to the image: centres ``(c + σ(t_x)) / W``, ``(r + σ(t_y)) / H``
    (each (batch, H, W, A, 2)) and sizes ``anchor · exp(t)`` over the grid's size, ``anchors`` (A, 2)
    ``(w, h)`` being in grid cells (YOLOv2); or over ``input_size`` (height, width) when given, the
    anchors being in its pixels (YOLOv3)."""
    shape = tf.shape(feats)
    height, width = shape[1], shape[2]
    columns, rows = tf.meshgrid(tf.range(width), tf.range(height))  # each (H, W)
    cell_offset = tf.cast(tf.stack([columns, rows], axis=-1), feats.dtype)[None, :, :, None, :]
    grid_wh = tf.cast(tf.stack([width, height]), feats.dtype)
    scale = grid_wh if input_size is None else tf.constant(input_size[::-1], feats.dtype)
    box_xy = (tf.sigmoid(feats[..., :2]) + cell_offset) / grid_wh
    box_wh = tf.exp(feats[..., 2:4]) * np.asarray(anchors, feats.dtype.as_numpy_dtype) / scale
    return box_xy, box_wh


def yolo_boxes_to_corners(box_xy, box_wh):
    """Centres and sizes (..., 2) ``(x, y)`` / ``(w, h)`` → corners (..., 4) ``(y_min, x_min, y_max, x_max)``.

    The course's order, the one ``tf.image.non_max_suppression`` takes; units are kept.
    """
    return convert_boxes(tf.concat([box_xy, box_wh], axis=-1), "cxcywh", "yxyx")
