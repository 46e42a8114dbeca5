"""YOLOv3's ``[yolo]`` heads, decoded as Darknet's ``get_yolo_detections`` decodes them.

Each head sees one scale (13×13, 26×26, 52×52 for a 416 input) and uses the anchors its ``mask``
selects, in input pixels. For the cell in row r, column c of an H×W head and anchor ``(a_w, a_h)``:
``x = (c + σ(t_x)) / W``, ``y = (r + σ(t_y)) / H``, ``w = a_w·exp(t_w) / input width``,
``h = a_h·exp(t_h) / input height``; objectness σ(t_o); class probabilities are independent logistic
outputs σ(t_c), not a softmax. A box's score for class c is σ(t_o)·σ(t_c). The boxes of all heads are
merged before non-max suppression.
"""

import tensorflow as tf

from yad2k_style.detection.yolo.head import grid_boxes


def yolo_layer_head(features, spec, input_size):
    """Decode one head: ``features`` (batch, H, W, A·(5 + C)) of the :class:`~yad2k_style.netspec.Yolo`
    ``spec`` (A = ``len(spec.mask)``), for a network input of ``input_size`` (height, width) pixels.

    Returns ``box_xy`` and ``box_wh`` (batch, H·W·A, 2) relative to the input (0 to 1) and
    ``box_scores`` (batch, H·W·A, C), in the order (row, column, anchor).
    """
    features = tf.convert_to_tensor(features)
    count, classes = len(spec.mask), spec.classes
    shape = tf.shape(features)
    features = tf.reshape(features, [-1, shape[1], shape[2], count, 5 + classes])
    box_xy, box_wh = grid_boxes(features, spec.masked_anchors, input_size)
    box_scores = tf.sigmoid(features[..., 4:5]) * tf.sigmoid(features[..., 5:])
    return (tf.reshape(box_xy, [shape[0], -1, 2]), tf.reshape(box_wh, [shape[0], -1, 2]),
            tf.reshape(box_scores, [shape[0], -1, classes]))


def yolo_layer_heads(features, specs, input_size):
    """All heads' boxes merged: ``features`` and ``specs`` one per head → ``(box_xy, box_wh,
    box_scores)`` as :func:`yolo_layer_head`, concatenated along the box axis."""
    decoded = [yolo_layer_head(f, spec, input_size) for f, spec in zip(features, specs, strict=True)]
    return tuple(tf.concat(parts, axis=1) for parts in zip(*decoded, strict=True))
