import numpy as np
import pytest

from yad2k_style.detection.yolo.anchors import kmeans_anchors
from yad2k_style.errors import YadError


def test_kmeans_recovers_three_planted_shapes():
    rng = np.random.default_rng(7)
    planted = np.array([[0.05, 0.08], [0.3, 0.15], [0.5, 0.7]])
    wh = np.concatenate([shape * rng.uniform(0.93, 1.07, size=(200, 2)) for shape in planted])
    clusters = kmeans_anchors(wh, k=3, seed=0)
    assert clusters.mean_iou >= 0.9
    np.testing.assert_allclose(clusters.anchors, planted, rtol=0.05)


def test_kmeans_needs_enough_boxes():
    with pytest.raises(YadError, match="clustering 5 anchors needs at least 5 boxes with positive size; "
                                       "the dataset has 3"):
        kmeans_anchors(np.ones((3, 2)), k=5)
