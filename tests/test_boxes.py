"""IoU (the course's values, NumPy and TensorFlow agree), class colours, drawing boxes."""

import random

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from yad2k_style.boxes import draw_boxes, generate_colors, get_colors_for_classes, iou, pairwise_iou


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


def test_colors_are_deterministic_distinct_and_leave_random_alone():
    random.seed(123)
    state = random.getstate()
    colors = get_colors_for_classes(80)
    assert random.getstate() == state
    assert colors == get_colors_for_classes(80) == generate_colors([str(i) for i in range(80)])
    assert len(set(colors)) == 80
    assert all(len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in colors)
    # YAD2K's palette: evenly spaced hues at full saturation, shuffled with seed 10101
    assert sorted(colors) != colors and (255, 0, 0) in colors


def test_draw_boxes_outlines_box_and_puts_label_above():
    image = Image.new("RGB", (200, 120), (255, 255, 255))
    result = draw_boxes(image, np.array([[50.0, 40.0, 100.0, 150.0]]), np.array([1]), ["a", "b"],
                        scores=np.array([0.73]))
    assert result is image
    pixels = np.asarray(image)
    color = get_colors_for_classes(2)[1]
    assert tuple(pixels[75, 40]) == color and tuple(pixels[75, 150]) == color      # left and right edges
    assert tuple(pixels[100, 95]) == color                                           # bottom edge
    assert tuple(pixels[75, 95]) == (255, 255, 255)                                  # inside untouched
    label_rows = np.where(np.all(pixels[:50, 40:150] == color, axis=-1).any(axis=1))[0]
    assert len(label_rows) > 5 and label_rows.max() < 50                             # label box above
    assert np.any(pixels[:50, 40:150].sum(axis=-1) < 60)                              # dark text in it


def test_draw_boxes_clips_to_image_and_skips_boxes_outside():
    image = Image.new("RGB", (64, 48), (255, 255, 255))
    boxes = np.array([[-20.0, -30.0, 30.0, 200.0],      # sticks out left, top and right
                      [100.0, 100.0, 150.0, 150.0]])    # wholly outside
    draw_boxes(image, boxes, np.array([0, 1]), ["a", "b"])
    pixels = np.asarray(image)
    color_a, color_b = get_colors_for_classes(2)
    assert tuple(pixels[20, 0]) == color_a and tuple(pixels[20, 63]) == color_a   # clipped side edges
    assert tuple(pixels[30, 30]) == color_a                                        # bottom edge at y=30
    assert not np.any(np.all(pixels == color_b, axis=-1))
