"""The course's post-processing functions on its seeded inputs, and the batched suppressions."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.boxes import pairwise_iou
from yad2k_style.detection.nms import class_agnostic_nms, per_class_nms
from yad2k_style.yolo import scale_boxes, yolo_eval, yolo_filter_boxes, yolo_non_max_suppression

RTOL = 1e-5


def _course_normal(shape):
    return tf.random.normal(shape, mean=1, stddev=4, seed=1)


def test_yolo_filter_boxes_course_values():
    tf.random.set_seed(10)
    box_confidence = _course_normal([19, 19, 5, 1])
    boxes = _course_normal([19, 19, 5, 4])
    box_class_probs = _course_normal([19, 19, 5, 80])
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, threshold=0.5)
    assert scores.shape == (1789,) and boxes.shape == (1789, 4) and classes.shape == (1789,)
    assert scores[2].numpy() == pytest.approx(9.270486, rel=RTOL)
    np.testing.assert_allclose(boxes[2], [4.6399336, 3.2303846, 4.431282, -2.202031], rtol=RTOL)
    assert classes[2].numpy() == 8


def test_yolo_non_max_suppression_course_values():
    tf.random.set_seed(10)
    scores = _course_normal([54])
    boxes = _course_normal([54, 4])
    classes = _course_normal([54])
    scores, boxes, classes = yolo_non_max_suppression(scores, boxes, classes)
    assert scores.shape == (10,) and boxes.shape == (10, 4) and classes.shape == (10,)
    assert scores[2].numpy() == pytest.approx(8.147684, rel=RTOL)
    np.testing.assert_allclose(boxes[2], [6.0797963, 3.743308, 1.3914018, -0.34089637], rtol=RTOL)
    assert classes[2].numpy() == pytest.approx(1.7079165, rel=RTOL)


def test_yolo_eval_course_values():
    tf.random.set_seed(10)
    yolo_outputs = (_course_normal([19, 19, 5, 2]), _course_normal([19, 19, 5, 2]),
                    _course_normal([19, 19, 5, 1]), _course_normal([19, 19, 5, 80]))
    scores, boxes, classes = yolo_eval(yolo_outputs)
    assert scores.shape == (10,) and boxes.shape == (10, 4) and classes.shape == (10,)
    assert scores[2].numpy() == pytest.approx(171.60194, rel=RTOL)
    np.testing.assert_allclose(boxes[2], [-1240.3483, -3212.5881, -645.78, 2024.3052], rtol=RTOL)
    assert classes[2].numpy() == 16


def test_scale_boxes_multiplies_by_height_width():
    scaled = scale_boxes(tf.constant([[0.1, 0.2, 0.5, 1.0]]), (720, 1280))
    np.testing.assert_allclose(scaled.numpy(), [[72.0, 256.0, 360.0, 1280.0]], rtol=1e-6)


def _two_overlapping_boxes_of_two_classes():
    """Two boxes, IoU 0.8 in pixels, best classes 0 (score 0.9) and 2 (score 0.7)."""
    box_xy = tf.constant([[0.50, 0.5], [0.55, 0.5]])
    box_wh = tf.constant([[0.5, 0.5], [0.5, 0.5]])
    box_confidence = tf.constant([[1.0], [1.0]])
    box_class_probs = tf.constant([[0.9, 0.05, 0.05], [0.1, 0.2, 0.7]])
    return box_xy, box_wh, box_confidence, box_class_probs


def test_per_class_keeps_overlapping_boxes_of_different_classes_agnostic_keeps_one():
    outputs = _two_overlapping_boxes_of_two_classes()
    scores, boxes, classes = yolo_eval(outputs, image_shape=(100, 200))
    np.testing.assert_allclose(scores.numpy(), [0.9], rtol=1e-6)
    assert classes.numpy().tolist() == [0]
    scores, boxes, classes = yolo_eval(outputs, image_shape=(100, 200), per_class=True)
    np.testing.assert_allclose(scores.numpy(), [0.9, 0.7], rtol=1e-6)
    assert classes.numpy().tolist() == [0, 2] and classes.dtype == tf.int64
    np.testing.assert_allclose(boxes.numpy(), [[25, 50, 75, 150], [25, 60, 75, 160]], rtol=1e-5)


def test_batched_suppressions_on_the_same_two_boxes():
    box_xy, box_wh, box_confidence, box_class_probs = _two_overlapping_boxes_of_two_classes()
    corners = tf.concat([box_xy[:, ::-1] - box_wh / 2, box_xy[:, ::-1] + box_wh / 2], -1)[None]
    box_scores = (box_confidence * box_class_probs)[None]
    _, scores, classes, valid = per_class_nms(corners, box_scores, 5, 0.5, 0.6)
    assert valid.numpy().tolist() == [2] and classes.numpy()[0, :2].tolist() == [0, 2]
    np.testing.assert_allclose(scores.numpy()[0], [0.9, 0.7, 0, 0, 0], rtol=1e-6)
    _, scores, classes, valid = class_agnostic_nms(corners, box_scores, 5, 0.5, 0.6)
    assert valid.numpy().tolist() == [1] and classes.numpy()[0].tolist() == [0, 0, 0, 0, 0]


def test_score_equal_to_threshold_is_kept_everywhere():
    boxes = tf.constant([[[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]]])
    box_scores = tf.constant([[[0.6, 0.0], [0.0, 0.59999]]])
    for suppress in (per_class_nms, class_agnostic_nms):
        assert suppress(boxes, box_scores, 4, 0.5, 0.6)[3].numpy().tolist() == [1]
    scores, _, _ = yolo_filter_boxes(boxes[0], tf.ones([2, 1]), box_scores[0], threshold=0.6)
    assert scores.shape == (1,)


def _greedy_nms(boxes, scores, max_boxes, iou_threshold):
    """Reference: best first, drop a box whose IoU with a kept one exceeds the threshold."""
    kept = []
    for index in np.argsort(-scores, kind="stable"):
        if len(kept) < max_boxes and all(pairwise_iou(boxes[[index]], boxes[kept])[0] <= iou_threshold):
            kept.append(index)
    return kept


def _random_scene(seed, batch=2, count=40, num_classes=4):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.2, 0.8, (batch, count, 2))
    sizes = rng.uniform(0.1, 0.4, (batch, count, 2))
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], -1).astype(np.float32)
    box_scores = rng.uniform(0, 1, (batch, count, num_classes)).astype(np.float32)
    return boxes, box_scores


def test_per_class_nms_matches_greedy_reference_per_class():
    boxes, box_scores = _random_scene(7)
    max_boxes, iou_threshold, score_threshold = 12, 0.4, 0.5
    out_boxes, out_scores, out_classes, valid = (t.numpy() for t in per_class_nms(
        tf.constant(boxes), tf.constant(box_scores), max_boxes, iou_threshold, score_threshold))
    for image in range(len(boxes)):
        found = []
        for cls in range(box_scores.shape[-1]):
            candidates = np.where(box_scores[image, :, cls] >= score_threshold)[0]
            kept = _greedy_nms(boxes[image, candidates], box_scores[image, candidates, cls], max_boxes,
                               iou_threshold)
            found += [(box_scores[image, candidates[k], cls], cls, candidates[k]) for k in kept]
        found = sorted(found, key=lambda item: -item[0])[:max_boxes]
        assert valid[image] == len(found) == max_boxes
        np.testing.assert_allclose(out_scores[image], [score for score, _, _ in found], rtol=1e-6)
        assert out_classes[image].tolist() == [cls for _, cls, _ in found]
        np.testing.assert_allclose(out_boxes[image], boxes[image, [index for _, _, index in found]])


def test_class_agnostic_nms_matches_the_course_path_per_image():
    boxes, box_scores = _random_scene(8)
    out_boxes, out_scores, out_classes, valid = (t.numpy() for t in class_agnostic_nms(
        tf.constant(boxes), tf.constant(box_scores), 10, 0.3, 0.7))
    for image in range(len(boxes)):
        scores, kept_boxes, classes = yolo_filter_boxes(
            boxes[image], tf.ones([len(boxes[image]), 1]), box_scores[image], threshold=0.7)
        scores, kept_boxes, classes = yolo_non_max_suppression(scores, kept_boxes, classes, 10, 0.3)
        count = valid[image]
        assert 2 < count == len(scores) <= 10
        np.testing.assert_allclose(out_scores[image, :count], scores.numpy(), rtol=1e-6)
        np.testing.assert_allclose(out_boxes[image, :count], kept_boxes.numpy())
        assert out_classes[image, :count].tolist() == classes.numpy().tolist()
        assert not out_scores[image, count:].any() and not out_boxes[image, count:].any()
