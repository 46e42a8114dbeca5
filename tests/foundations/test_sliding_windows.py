"""Sliding windows: the convolutional implementation equals the naive one on every window (the notes'
16×16 → 2×2 and 28×28 → 8×8), per pyramid level; boxes, detections and the packaged classifier."""

import keras
import numpy as np
import pytest

from yad2k_style.foundations import objects
from yad2k_style.foundations.models import load_model
from yad2k_style.foundations.sliding_windows import (
    convolutional_classifier,
    convolutional_windows,
    detect,
    naive_windows,
    scaled,
    window_boxes,
    window_classifier,
)
from yad2k_style.foundations.train import evaluate


@pytest.fixture(scope="module")
def classifiers():
    return {"random": (keras.utils.set_random_seed(0), window_classifier())[1],
            "packaged": load_model("window-classifier")}


@pytest.mark.parametrize("kind", ["random", "packaged"])
@pytest.mark.parametrize("size, cells", [(16, 2), (20, 4), (28, 8), (31, 9)])
def test_convolutional_equals_naive_on_every_window(classifiers, kind, size, cells):
    classifier = classifiers[kind]
    image = np.random.default_rng(size).uniform(size=(size, size + 2, 3)).astype(np.float32)
    naive = naive_windows(classifier, image)
    convolutional = convolutional_windows(convolutional_classifier(classifier), image)
    assert naive.shape == convolutional.shape == (cells, cells + 1, 4)
    assert np.abs(naive - convolutional).max() <= 1e-5
    # cell (r, c) is the classifier on the window at (2r, 2c)
    window = image[2 * (cells - 1):2 * (cells - 1) + 14, 2:16][None]
    expected = classifier.predict(window, verbose=0)[0]
    np.testing.assert_allclose(convolutional[cells - 1, 1], expected, atol=1e-5)


def test_pyramid_levels_and_boxes(classifiers):
    image = np.asarray(objects.window_scene(objects.EVALUATION_SEED, 0).image, np.float32) / 255
    convolutional = convolutional_classifier(classifiers["packaged"])
    for window in (14, 28):
        level = scaled(image, window)
        assert level.shape[0] == round(96 * 14 / window)
        naive = naive_windows(classifiers["packaged"], level)
        assert np.abs(naive - convolutional_windows(convolutional, level)).max() <= 1e-5
    boxes = window_boxes(2, 3, 28)
    np.testing.assert_array_equal(boxes[[0, 1, 5]], [[0, 0, 28, 28], [4, 0, 32, 28], [8, 4, 36, 32]])
    naive = detect(image, classifier=classifiers["packaged"])
    fast = detect(image, convolutional=convolutional)
    for a, b in zip(naive, fast, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert len(fast[0]) >= 1 and set(fast[2]) <= {1, 2, 3}


def test_packaged_classifier_and_detector(classifiers):
    figures = evaluate("window-classifier", classifiers["packaged"], count=400)
    assert figures["window_accuracy"] >= 0.95
    assert figures["recall"] >= 0.8 and figures["precision"] >= 0.3
