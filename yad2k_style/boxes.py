"""Boxes: intersection over union (plain Python, NumPy and TensorFlow), class colours and drawing.

Two corner orders appear in this package, always named in the docstrings:

- ``(x1, y1, x2, y2)`` (``x_min, y_min, x_max, y_max``): the course's ``iou``, the detector's results
  and the ``detect`` command's JSON;
- ``(y1, x1, y2, x2)`` (``y_min, x_min, y_max, x_max``): what the course's ``yolo_eval`` returns and
  ``draw_boxes`` takes, the order of ``tf.image.non_max_suppression``.

IoU does not depend on the order as long as both boxes use the same one.
"""

import colorsys
import random

import numpy as np
import tensorflow as tf
from PIL import ImageDraw, ImageFont

COLOR_SEED = 10101  # YAD2K's fixed shuffle seed: the same colours as the course's pictures


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


def pairwise_iou(boxes1, boxes2):
    """IoU of every box in ``boxes1`` (N, 4) with every box in ``boxes2`` (M, 4) → (N, M).

    Corners in one order for both, ``(x1, y1, x2, y2)`` or ``(y1, x1, y2, x2)``. NumPy arrays (or
    lists) give a NumPy array; if either argument is a TensorFlow tensor the result is a tensor (works
    inside ``tf.function``). Pairs with zero union give 0.
    """
    ops = tf if tf.is_tensor(boxes1) or tf.is_tensor(boxes2) else np
    if ops is np:
        boxes1, boxes2 = np.asarray(boxes1, dtype=np.float64), np.asarray(boxes2, dtype=np.float64)
    else:
        boxes1 = tf.convert_to_tensor(boxes1, dtype_hint=tf.float32)
        boxes2 = tf.cast(boxes2, boxes1.dtype)
    first = ops.expand_dims(boxes1, 1)   # (N, 1, 4)
    second = ops.expand_dims(boxes2, 0)  # (1, M, 4)
    inter_low = ops.maximum(first[..., :2], second[..., :2])
    inter_high = ops.minimum(first[..., 2:], second[..., 2:])
    inter_sides = ops.maximum(inter_high - inter_low, 0)
    inter_area = inter_sides[..., 0] * inter_sides[..., 1]
    area1 = (first[..., 2] - first[..., 0]) * (first[..., 3] - first[..., 1])
    area2 = (second[..., 2] - second[..., 0]) * (second[..., 3] - second[..., 1])
    union_area = area1 + area2 - inter_area
    positive = union_area > 0
    return ops.where(positive, inter_area / ops.where(positive, union_area, 1), 0)


def get_colors_for_classes(num_classes):
    """``num_classes`` distinct RGB colours, tuples of ints in 0–255, the same on every call.

    Hues evenly spaced at full saturation and value, shuffled with YAD2K's fixed seed (the global
    ``random`` state is left alone).
    """
    hsv = [(index / num_classes, 1.0, 1.0) for index in range(num_classes)]
    colors = [tuple(int(channel * 255) for channel in colorsys.hsv_to_rgb(*h)) for h in hsv]
    random.Random(COLOR_SEED).shuffle(colors)
    return colors


def generate_colors(class_names):
    """The course's name for :func:`get_colors_for_classes`: one colour per class name."""
    return get_colors_for_classes(len(class_names))


def draw_boxes(image, boxes, box_classes, class_names, scores=None):
    """Draw boxes with their class name (and score) on a PIL image, in place; returns the image.

    ``boxes``: (N, 4) pixel corners in the course's order ``(y_min, x_min, y_max, x_max)``;
    ``box_classes``: N class indices into ``class_names``; ``scores``: N floats or None. Boxes are
    clipped to the image (a box wholly outside it is skipped); the label sits above the box, or just
    inside its top edge when there is no room above. The font is Pillow's built-in one.
    """
    width, height = image.size
    font = ImageFont.load_default(size=max(10, int(np.floor(3e-2 * height + 0.5))))
    thickness = max(1, (width + height) // 300)
    colors = get_colors_for_classes(len(class_names))
    draw = ImageDraw.Draw(image)
    for index, (box, box_class) in enumerate(zip(np.asarray(boxes), np.asarray(box_classes), strict=True)):
        label = class_names[int(box_class)]
        if scores is not None:
            label = f"{label} {float(scores[index]):.2f}"
        top, left, bottom, right = (int(np.floor(value + 0.5)) for value in box)
        top, left = max(0, top), max(0, left)
        bottom, right = min(height - 1, bottom), min(width - 1, right)
        if bottom < top or right < left:
            continue
        color = colors[int(box_class)]
        draw.rectangle([left, top, right, bottom], outline=color, width=thickness)
        text_left, text_top, text_right, text_bottom = draw.textbbox((0, 0), label, font=font)
        text_width, text_height = text_right - text_left, text_bottom - text_top
        label_top = top - text_height - 2 if top - text_height - 2 >= 0 else top + 1
        draw.rectangle([left, label_top, left + text_width + 2, label_top + text_height + 2], fill=color)
        draw.text((left + 1 - text_left, label_top + 1 - text_top), label, fill=(0, 0, 0), font=font)
    return image
