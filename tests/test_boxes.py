"""Box geometry: IoU (the course's values, NumPy and TensorFlow agree), box formats."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.boxes import convert_boxes, elementwise_iou, iou, pairwise_iou, wh_iou


@pytest.mark.parametrize("box1, box2, expected", [
    ((2, 1, 4, 3), (1, 2, 3, 4), 0.14285714),   # the course's "intersecting boxes"
    ((1, 2, 3, 4), (5, 6, 7, 8), 0.0),          # non-intersecting
    ((1, 1, 2, 2), (2, 2, 3, 3), 0.0),          # touching at a vertex
    ((1, 1, 3, 3), (2, 3, 3, 4), 0.0),          # touching along an edge
])
def test_iou_course_values(box1, box2, expected):
    assert iou(box1, box2) == pytest.approx(expected, rel=1e-6)


def test_iou_of_zero_area_boxes_is_zero_not_nan():
    assert iou((1, 1, 1, 1), (1, 1, 1, 1)) == 0.0
    assert iou((0, 0, 0, 5), (0, 0, 2, 5)) == 0.0
    assert iou((0, 0, 2, 2), (0, 0, 2, 2)) == 1.0
    assert iou((0, 0, 4, 2), (1, 0, 3, 2)) == pytest.approx(0.5)


def _random_boxes(rng, count):
    low = rng.uniform(0, 10, (count, 2))
    return np.concatenate([low, low + rng.uniform(0, 5, (count, 2))], axis=1)


def test_pairwise_iou_numpy_matches_course_iou():
    rng = np.random.default_rng(3)
    boxes1, boxes2 = _random_boxes(rng, 7), _random_boxes(rng, 5)
    boxes2[0] = boxes1[0]                  # identical → 1
    boxes2[1] = [2, 2, 2, 6]               # zero area → 0
    expected = np.array([[iou(a, b) for b in boxes2] for a in boxes1])
    result = pairwise_iou(boxes1, boxes2)
    assert isinstance(result, np.ndarray) and result.shape == (7, 5)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    assert result[0, 0] == pytest.approx(1.0)
    assert np.all(result[:, 1] == 0.0)
    assert 0 < np.count_nonzero(result) < result.size  # some overlap, some not: the test means something


def test_pairwise_iou_tensorflow_matches_numpy_inside_tf_function():
    rng = np.random.default_rng(4)
    boxes1, boxes2 = _random_boxes(rng, 6), _random_boxes(rng, 4)
    boxes2[2] = [1, 1, 1, 1]
    compiled = tf.function(pairwise_iou)
    result = compiled(tf.constant(boxes1, tf.float32), tf.constant(boxes2, tf.float32))
    assert tf.is_tensor(result) and result.dtype == tf.float32
    assert not np.any(np.isnan(result.numpy()))
    np.testing.assert_allclose(result.numpy(), pairwise_iou(boxes1, boxes2), rtol=1e-5, atol=1e-6)


def test_elementwise_iou_broadcasts_and_has_no_nan_gradient():
    rng = np.random.default_rng(5)
    boxes1, boxes2 = _random_boxes(rng, 4), _random_boxes(rng, 4)
    boxes2[3] = boxes1[3] = [2, 2, 2, 2]                     # zero union
    expected = [iou(a, b) for a, b in zip(boxes1, boxes2, strict=True)]
    np.testing.assert_allclose(elementwise_iou(boxes1, boxes2), expected, rtol=1e-12)
    np.testing.assert_allclose(elementwise_iou(boxes1[:, None], boxes2[None]), pairwise_iou(boxes1, boxes2))
    variable = tf.Variable(boxes1, dtype=tf.float32)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(elementwise_iou(variable, tf.constant(boxes2, tf.float32)))
    gradient = tape.gradient(total, variable).numpy()
    assert np.all(np.isfinite(gradient)) and np.any(gradient != 0)


def test_wh_iou_of_centred_sizes():
    # 2×1 against 1×2: intersection 1×1 = 1, union 2 + 2 - 1 = 3
    np.testing.assert_allclose(wh_iou([[2.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 2.0]]),
                               [[1 / 3, 0.5], [0.5, 0.25]])


# One box in every format, on a 100 (wide) × 50 (high) image.
FORMATS = {
    "xyxy": [10.0, 5.0, 30.0, 45.0],
    "yxyx": [5.0, 10.0, 45.0, 30.0],
    "xywh": [10.0, 5.0, 20.0, 40.0],
    "cxcywh": [20.0, 25.0, 20.0, 40.0],
    "rel_xyxy": [0.1, 0.1, 0.3, 0.9],
    "rel_yxyx": [0.1, 0.1, 0.9, 0.3],
    "rel_xywh": [0.1, 0.1, 0.2, 0.8],
    "rel_cxcywh": [0.2, 0.5, 0.2, 0.8],
}


@pytest.mark.parametrize("source", FORMATS)
@pytest.mark.parametrize("target", FORMATS)
def test_convert_boxes_between_every_pair_of_formats(source, target):
    result = convert_boxes(np.array([FORMATS[source]]), source, target, image_size=(50, 100))
    np.testing.assert_allclose(result, [FORMATS[target]], rtol=1e-12)
    tensor = convert_boxes(tf.constant([[FORMATS[source]]], tf.float32), source, target, image_size=(50, 100))
    assert tf.is_tensor(tensor)
    np.testing.assert_allclose(tensor.numpy()[0], [FORMATS[target]], rtol=1e-6)


def test_convert_boxes_keeps_leading_axes_and_rejects_what_it_cannot_do():
    boxes = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert convert_boxes(boxes, "xyxy", "yxyx").dtype == np.float32
    np.testing.assert_array_equal(convert_boxes(boxes, "xyxy", "yxyx"), boxes[..., [1, 0, 3, 2]])
    with pytest.raises(ValueError, match="needs image_size"):
        convert_boxes(boxes, "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match="unknown box format 'xxyy'"):
        convert_boxes(boxes, "xxyy", "xyxy")
