"""``coco_evaluate`` against APs worked out by hand (pycocotools' 101-point interpolation)."""

import numpy as np
import pytest
from PIL import Image

from yad2k_style.detection.evaluate import (
    BestF1,
    BoxErrors,
    best_f1,
    box_errors,
    coco_evaluate,
    oracle_evaluation,
    plot_precision_recall,
)
from yad2k_style.detection.labels import LabelledDataset, Sample


def _dataset():
    """One 200×200 image: a 100×100 "a" at the origin and a 50×50 "b" at (120, 120)."""
    boxes = np.array([[0, 0, 100, 100], [120, 120, 170, 170]], np.float32)
    sample = Sample("scene.png", 200, 200, boxes, np.array([0, 1], np.int32))
    return LabelledDataset([sample], ["a", "b"])


def test_perfect_detections_score_one():
    dataset = _dataset()
    sample = dataset.samples[0]
    evaluation = coco_evaluate(dataset, [(sample.boxes, [0.9, 0.8], sample.classes)])
    assert evaluation.map_50 == pytest.approx(1.0) and evaluation.map_50_95 == pytest.approx(1.0)
    assert evaluation.per_class_ap == pytest.approx({"a": 1.0, "b": 1.0})


def test_hand_computed_aps(tmp_path):
    # "a": one detection of IoU 0.78 → a hit at the IoU thresholds .50 … .75 (6 of 10): AP 1.0 and 0.6.
    # "b": an exact hit ranked below a false positive → precision 0.5 at every recall: AP 0.5 and 0.5.
    boxes = [[0, 0, 100, 78], [0, 150, 40, 190], [120, 120, 170, 170]]
    evaluation = coco_evaluate(_dataset(), [(boxes, [0.7, 0.9, 0.8], [0, 1, 1])])
    assert evaluation.per_class_ap50 == pytest.approx({"a": 1.0, "b": 0.5})
    assert evaluation.per_class_ap == pytest.approx({"a": 0.6, "b": 0.5})
    assert evaluation.map_50 == pytest.approx(0.75) and evaluation.map_50_95 == pytest.approx(0.55)
    np.testing.assert_allclose(evaluation.precision["b"], 0.5)
    path = plot_precision_recall(evaluation, tmp_path / "pr.png")
    width, height = Image.open(path).size                       # 6 × 5 inches at 100 dpi, cropped to
    assert 450 < width <= 600 and 400 < height <= 500          # what is drawn


def test_no_detections_score_zero():
    evaluation = coco_evaluate(_dataset(), [([], [], [])])
    assert (evaluation.map_50, evaluation.map_50_95) == (0.0, 0.0)
    assert evaluation.per_class_ap50 == {"a": 0.0, "b": 0.0}


def test_best_f1_by_hand():
    # "a": a hit at 0.7; "b": a false positive at 0.9, then the hit at 0.8, then another miss at 0.3.
    boxes = [[0, 0, 100, 78], [0, 150, 40, 190], [120, 120, 170, 170], [0, 0, 10, 10]]
    overall, per_class = best_f1(_dataset(), [(boxes, [0.7, 0.9, 0.8, 0.3], [0, 1, 1, 1])])
    # best first: 0.9 miss, 0.8 hit, 0.7 hit, 0.3 miss → F1 after 3: P 2/3, R 1 → 0.8 (the best)
    assert overall == BestF1(pytest.approx(0.7), pytest.approx(0.8), pytest.approx(2 / 3), pytest.approx(1.0))
    assert per_class["a"] == BestF1(pytest.approx(0.7), 1.0, 1.0, 1.0)
    assert per_class["b"].threshold == pytest.approx(0.8) and per_class["b"].f1 == pytest.approx(2 / 3)
    # a detection of the wrong class does not count, however well placed
    overall, _ = best_f1(_dataset(), [([[0, 0, 100, 100]], [0.9], [1])])
    assert overall.f1 == 0


def test_the_oracle_ceiling():
    """Labels are float boxes; the generator draws whole pixels and objects hide each other."""
    evaluation = oracle_evaluation(scenes=40)
    assert evaluation.map_50 == pytest.approx(1.0)
    assert 0.7 < evaluation.map_50_95 < 0.9


def test_box_errors_by_hand():
    # a: found twice (a duplicate, one of them of the wrong class); b: found; one box on nothing (a ghost);
    # a low-scoring ghost below the threshold does not count.
    boxes = [[0, 0, 100, 100], [2, 2, 100, 98], [120, 120, 170, 170], [10, 150, 40, 190], [150, 0, 190, 40]]
    errors = box_errors(_dataset(), [(boxes, [0.9, 0.6, 0.8, 0.7, 0.2], [0, 1, 1, 0, 0])])
    assert errors == BoxErrors(ghosts=1, duplicates=1)
    assert box_errors(_dataset(), [(np.zeros((0, 4)), [], [])]) == BoxErrors(0, 0)
