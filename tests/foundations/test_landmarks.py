"""Landmark detection: the corner order, the target, the loss against NumPy, the packaged model's
error in pixels and its picture."""

import numpy as np
import pytest
from PIL import Image

from yad2k_style.foundations import objects
from yad2k_style.foundations.landmarks import (
    draw_landmarks,
    evaluate_landmarks,
    landmark_errors,
    landmark_loss,
    landmark_target,
    number_position,
)
from yad2k_style.foundations.models import load_model
from yad2k_style.foundations.train import dataset

MEAN_ERROR = 3.5  # pixels on 64×64 images: what the packaged model is held to


def test_corners_are_ordered_topmost_then_clockwise():
    triangle = [[0, 30], [10, 10], [20, 30]]  # bottom-left, top, bottom-right
    np.testing.assert_array_equal(objects.ordered_corners(triangle), [[10, 10], [20, 30], [0, 30]])
    record = objects.landmark_image(objects.TRAIN_SEED, 5)
    assert record.present and record.points[0, 1] == record.points[:, 1].min()
    assert np.all((record.points >= 0) & (record.points < 64))


def test_target_and_loss():
    record = objects.ObjectImage(None, 0, np.zeros(4), np.array([[32, 16], [48, 48], [16, 48]], np.float32))
    np.testing.assert_allclose(landmark_target(record), [1, 0.5, 0.25, 0.75, 0.75, 0.25, 0.75])
    y_true = np.array([landmark_target(record), np.zeros(7)], np.float32)
    y_pred = np.full((2, 7), 0.4, np.float32)
    bce = -np.log([0.4, 0.6])
    expected = bce + [((0.4 - y_true[0, 1:]) ** 2).sum(), 0]
    np.testing.assert_allclose(landmark_loss(y_true, y_pred), expected, rtol=1e-5)
    np.testing.assert_allclose(landmark_errors(y_true, y_pred), [[np.hypot(0.1, 0.15) * 64,
                                                                   np.hypot(0.35, 0.35) * 64,
                                                                   np.hypot(0.15, 0.35) * 64]], rtol=1e-5)


def test_packaged_model_error_in_pixels(tmp_path):
    images, targets = dataset("landmarks-triangles", objects.EVALUATION_SEED, 400)
    predicted = load_model("landmarks-triangles").predict(images, verbose=0)
    figures = evaluate_landmarks(targets, predicted)
    assert figures["presence_accuracy"] >= 0.98
    assert figures["mean_error"] <= MEAN_ERROR
    draw_landmarks(images, targets, predicted, tmp_path / "landmarks.png")
    assert Image.open(tmp_path / "landmarks.png").size[0] > 500



@pytest.mark.parametrize("x, y", [(0, 0), (96, 0), (96, 96), (0, 96), (48, 48), (94, 3)])
def test_point_numbers_stay_inside_the_picture(x, y):
    """Every number lies wholly inside the picture, beside its point: right of it, or left of it at the
    right edge (a number once ran past the right edge)."""
    box = (0, 2, 7, 12)                                         # a digit of Pillow's font at size 10
    text_x, text_y = number_position(x, y, box, 96)
    assert 0 <= text_x + box[0] and text_x + box[2] <= 96 and 0 <= text_y + box[1] and text_y + box[3] <= 96
    assert (text_x >= x + 5) if x <= 80 else (text_x + box[2] <= x - 5)
