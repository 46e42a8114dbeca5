"""Classification with localisation: the target, both of the notes' losses against NumPy, and the
packaged model on held-out generated images."""

import keras
import numpy as np
from model_harness import check_model

from yad2k_style.foundations import objects
from yad2k_style.foundations.localization import (
    boxes_from_targets,
    localization_loss,
    localization_model,
    localization_target,
    squared_error_loss,
)
from yad2k_style.foundations.models import load_model
from yad2k_style.foundations.train import evaluate, train


def test_target_with_and_without_an_object():
    record = objects.ObjectImage(None, 2, np.array([8, 16, 40, 32], np.float32), np.zeros((0, 2)))
    y = localization_target(record, size=64)
    np.testing.assert_allclose(y, [1, 24 / 64, 24 / 64, 16 / 64, 32 / 64, 0, 0, 1])
    np.testing.assert_allclose(boxes_from_targets(y[None]), [[8 / 64, 16 / 64, 40 / 64, 32 / 64]], atol=1e-7)
    empty = objects.ObjectImage(None, -1, np.zeros(4, np.float32), np.zeros((0, 2)))
    assert localization_target(empty).tolist() == [0] * 8


def numpy_bce(p, q, eps=1e-7):
    q = np.clip(q, eps, 1 - eps)
    return -(p * np.log(q) + (1 - p) * np.log(1 - q))


def test_losses_against_numpy():
    rng = np.random.default_rng(0)
    y_true = np.zeros((6, 8), np.float32)
    y_true[:3, 0] = 1
    y_true[:3, 1:5] = rng.uniform(size=(3, 4))
    y_true[np.arange(3), 5 + rng.integers(0, 3, 3)] = 1
    y_true[3:, 1:] = rng.uniform(size=(3, 7))  # "don't care" entries: must not count
    raw = rng.uniform(0.05, 0.95, size=(6, 8)).astype(np.float32)
    y_pred = np.concatenate([raw[:, :5], raw[:, 5:] / raw[:, 5:].sum(1, keepdims=True)], axis=1)
    present = y_true[:, 0]
    squared = (y_pred - y_true) ** 2
    expected_plain = squared[:, 0] + present * squared[:, 1:].sum(1)
    np.testing.assert_allclose(squared_error_loss(y_true, y_pred), expected_plain, rtol=1e-5)
    expected = (numpy_bce(present, y_pred[:, 0])
                + present * (-(y_true[:, 5:] * np.log(y_pred[:, 5:])).sum(1) + squared[:, 1:5].sum(1)))
    np.testing.assert_allclose(localization_loss(y_true, y_pred), expected, rtol=1e-4)
    assert squared_error_loss(y_true, y_true).numpy().max() == 0


def test_model(tmp_path):
    keras.utils.set_random_seed(0)
    model = localization_model()
    check_model(model, params=192_744, output_shape=(8,), input_shape=(64, 64, 3), tmp_path=tmp_path)
    y = model.predict(np.zeros((2, 64, 64, 3), np.float32), verbose=0)
    np.testing.assert_allclose(y[:, 5:].sum(1), 1, rtol=1e-5)
    assert ((0 < y[:, :5]) & (y[:, :5] < 1)).all()


def test_a_short_training_lowers_the_loss():
    _, history = train("localization-shapes", epochs=2, images=512)
    assert history["loss"][1] < history["loss"][0]


def test_packaged_model_on_held_out_images():
    figures = evaluate("localization-shapes", load_model("localization-shapes"), count=400)
    assert figures["presence_accuracy"] >= 0.95 and figures["mean_iou"] >= 0.7
    assert figures["class_accuracy"] >= 0.95
