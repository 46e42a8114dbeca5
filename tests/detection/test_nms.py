"""DIoU-NMS and Gaussian soft-NMS, per class, against greedy NumPy references of the papers' rules."""

import numpy as np
import pytest

from yad2k_style.detection.nms import (
    SOFT_NMS_SIGMA,
    per_class_diou_nms,
    per_class_nms,
    per_class_soft_nms,
)


def iou(a, b):
    h = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    w = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = h * w
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def diou(a, b):
    rho2 = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2
    c2 = (max(a[2], b[2]) - min(a[0], b[0])) ** 2 + (max(a[3], b[3]) - min(a[1], b[1])) ** 2
    return iou(a, b) - rho2 / c2


def reference(boxes, box_scores, rule, max_boxes, iou_threshold, score_threshold):
    """Greedy, one class at a time; then the best ``max_boxes`` over classes: ``[(score, class, box
    index)]``."""
    found = []
    for c in range(box_scores.shape[1]):
        remaining = {i: float(box_scores[i, c]) for i in range(len(boxes))
                     if box_scores[i, c] >= score_threshold}
        while remaining:
            best = max(remaining, key=lambda i: (remaining[i], -i))
            found.append((remaining.pop(best), c, best))
            for i in list(remaining):
                if rule == "diou" and diou(boxes[best], boxes[i]) > iou_threshold:
                    del remaining[i]
                elif rule == "soft":
                    remaining[i] *= np.exp(-iou(boxes[best], boxes[i]) ** 2 / SOFT_NMS_SIGMA)
                    if remaining[i] < score_threshold:
                        del remaining[i]
    return sorted(found, key=lambda f: -f[0])[:max_boxes]


def scene(seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.2, 0.8, size=(6, 2))
    boxes = []
    for y, x in centres:  # clusters of overlapping boxes, some with centres apart
        for _ in range(4):
            h, w = rng.uniform(0.1, 0.3, size=2)
            dy, dx = rng.normal(0, 0.04, size=2)
            boxes.append([y + dy - h / 2, x + dx - w / 2, y + dy + h / 2, x + dx + w / 2])
    return np.array(boxes, np.float32), rng.uniform(0, 1, size=(len(boxes), 3)).astype(np.float32)


@pytest.mark.parametrize("rule, suppress", [("diou", per_class_diou_nms), ("soft", per_class_soft_nms)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_greedy_reference(rule, suppress, seed):
    boxes, box_scores = scene(seed)
    expected = reference(boxes, box_scores, rule, 20, 0.45, 0.3)
    results = suppress(boxes[None], box_scores[None], 20, 0.45, 0.3)
    kept_boxes, scores, classes, valid = (t.numpy() for t in results)
    count = int(valid[0])
    assert count == len(expected)
    np.testing.assert_allclose(scores[0, :count], [score for score, _, _ in expected], rtol=1e-5)
    assert classes[0, :count].tolist() == [c for _, c, _ in expected]
    np.testing.assert_allclose(kept_boxes[0, :count], boxes[[i for _, _, i in expected]])
    assert (scores[0, count:] == 0).all() and (kept_boxes[0, count:] == 0).all()


def test_diou_keeps_a_neighbour_that_plain_iou_would_remove():
    # two boxes overlapping by IoU 0.5 whose centres are 1/3 apart: DIoU = 0.5 − (1/9) / (1 + 16/9) = 0.46
    boxes = np.array([[[0.0, 0.0, 1.0, 1.0], [0.0, 1 / 3, 1.0, 4 / 3]]], np.float32)
    scores = np.array([[[0.9], [0.8]]], np.float32)
    assert iou(boxes[0, 0], boxes[0, 1]) == pytest.approx(0.5)
    assert diou(boxes[0, 0], boxes[0, 1]) == pytest.approx(0.46)
    assert int(per_class_diou_nms(boxes, scores, 5, 0.48, 0.1)[3][0]) == 2
    assert int(per_class_nms(boxes, scores, 5, 0.48, 0.1)[3][0]) == 1
