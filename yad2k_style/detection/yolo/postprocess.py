"""From decoded boxes to detections: the course's filtering, non-max suppression and ``yolo_eval``.

The course's ``yolo_non_max_suppression`` is class-agnostic: each box keeps only its best class, then
one suppression over all boxes. The detector's batched suppressions (per class, DIoU, soft) are
:mod:`yad2k_style.detection.nms`, shared with every detector.

Boxes are corners ``(y_min, x_min, y_max, x_max)`` throughout, relative or in pixels as stated.
"""

import tensorflow as tf

from yad2k_style.detection.nms import per_class_nms
from yad2k_style.detection.yolo.head import yolo_boxes_to_corners


def yolo_filter_boxes(boxes, box_confidence, box_class_probs, threshold=.6):
    """Keep boxes whose best class score reaches ``threshold`` (the course's step 1).

    ``boxes`` (..., 4), ``box_confidence`` (..., 1), ``box_class_probs`` (..., C) with the same leading
    axes, e.g. (19, 19, 5, ·). Score = confidence × class probability; each box keeps its best class
    if that score ≥ ``threshold``. Returns flat ``(scores (K,), boxes (K, 4), classes (K,) int64)``.
    """
    box_scores = box_confidence * box_class_probs
    box_classes = tf.math.argmax(box_scores, axis=-1)
    box_class_scores = tf.math.reduce_max(box_scores, axis=-1)
    filtering_mask = box_class_scores >= threshold
    scores = tf.boolean_mask(box_class_scores, filtering_mask)
    boxes = tf.boolean_mask(boxes, filtering_mask)
    classes = tf.boolean_mask(box_classes, filtering_mask)
    return scores, boxes, classes


def yolo_non_max_suppression(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    """The course's class-agnostic non-max suppression with ``tf.image.non_max_suppression``.

    ``scores`` (K,), ``boxes`` (K, 4), ``classes`` (K,) → at most ``max_boxes`` of each, best score
    first; a box is dropped when its IoU with a better kept box exceeds ``iou_threshold``.
    """
    nms_indices = tf.image.non_max_suppression(boxes, scores, max_boxes, iou_threshold=iou_threshold)
    return tf.gather(scores, nms_indices), tf.gather(boxes, nms_indices), tf.gather(classes, nms_indices)


def scale_boxes(boxes, image_shape):
    """Relative corners (..., 4) ``(y_min, x_min, y_max, x_max)`` → pixels of an image ``(height, width)``."""
    height, width = image_shape[0], image_shape[1]
    image_dims = tf.cast(tf.reshape(tf.stack([height, width, height, width]), [1, 4]), boxes.dtype)
    return boxes * image_dims


def yolo_eval(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5,
              *, per_class=False):
    """The course's ``yolo_eval``: corners → score filter → pixels → non-max suppression.

    ``yolo_outputs = (box_xy, box_wh, box_confidence, box_class_probs)`` as :func:`yolo_head` returns
    them (all boxes are treated as one image); ``image_shape = (height, width)`` of the original
    image in pixels. Returns ``(scores (K,), boxes (K, 4) pixels (y_min, x_min, y_max, x_max),
    classes (K,) int64)``, best score first, K ≤ ``max_boxes``. ``per_class=False`` is the course's
    class-agnostic suppression; ``per_class=True`` suppresses within each class (keeping up to
    ``max_boxes`` in all), scoring every class of every box rather than only its best one.
    """
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = yolo_boxes_to_corners(box_xy, box_wh)
    if per_class:
        boxes = scale_boxes(tf.reshape(boxes, [1, -1, 4]), image_shape)
        box_scores = tf.reshape(box_confidence * box_class_probs, [1, -1, box_class_probs.shape[-1]])
        boxes, scores, classes, valid = per_class_nms(boxes, box_scores, max_boxes, iou_threshold,
                                                      score_threshold)
        count = valid[0]
        return scores[0, :count], boxes[0, :count], tf.cast(classes[0, :count], tf.int64)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, score_threshold)
    boxes = scale_boxes(boxes, image_shape)
    return yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)
