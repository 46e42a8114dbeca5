"""YOLOv1's ``[detection]`` head, decoded as Darknet's ``get_detection_detections`` decodes it.

The network ends in a fully connected layer whose S²·((1 + coords)·B + C) outputs are, in this order:
the class probabilities of each of the S×S cells (C each), then B confidences per cell, then B boxes
per cell (x, y, w, h). x and y are offsets within the cell; w and h are relative to the image, squared
when the head has ``sqrt=1`` (the network predicts their square roots). Nothing else is applied: the
connected layer is linear. A box's score for class c is confidence × P(c | cell).
"""

import tensorflow as tf


def detection_head(features, spec):
    """Decode the flat output ``features`` (batch, S²·((1 + coords)·B + C)) of a
    :class:`~yad2k_style.netspec.Detection` ``spec``.

    Returns ``box_xy`` (batch, S·S·B, 2) centres ``(x, y)`` and ``box_wh`` (batch, S·S·B, 2) sizes,
    relative to the image (0 to 1), and ``box_scores`` (batch, S·S·B, C); boxes are in Darknet's
    order (cell-major, row by row, then the cell's B boxes).
    """
    side, num, classes = spec.side, spec.num, spec.classes
    cells = side * side
    features = tf.convert_to_tensor(features)
    probs = tf.reshape(features[:, :cells * classes], [-1, cells, classes])
    if spec.softmax:
        probs = tf.nn.softmax(probs, axis=-1)
    confidence = tf.reshape(features[:, cells * classes:cells * (classes + num)], [-1, cells, num])
    boxes = tf.reshape(features[:, cells * (classes + num):], [-1, cells, num, spec.coords])
    index = tf.range(cells)
    offset = tf.cast(tf.stack([index % side, index // side], axis=-1), features.dtype)[None, :, None, :]
    box_xy = (boxes[..., :2] + offset) / side
    box_wh = tf.square(boxes[..., 2:4]) if spec.sqrt else boxes[..., 2:4]
    box_scores = confidence[..., None] * probs[:, :, None, :]
    return (tf.reshape(box_xy, [-1, cells * num, 2]), tf.reshape(box_wh, [-1, cells * num, 2]),
            tf.reshape(box_scores, [-1, cells * num, classes]))
