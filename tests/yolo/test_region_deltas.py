"""The ``darknet`` loss's gradients against a NumPy port of Darknet's region layer
(``forward_region_layer`` in pjreddie's ``region_layer.c``), on hand-made cases: the loss's gradient
with respect to the raw outputs must be minus Darknet's deltas, with the logistic's derivative on x, y
and objectness as Darknet's GPU backward pass applies it."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.yolo.loss import PRIOR_SCALE, RECIPES, yolo_loss_parts
from yad2k_style.detection.yolo.targets import assign_anchors, pack_y_true

ANCHORS = np.array([[1.0, 1.0], [2.5, 1.5]])  # grid cells
CLASSES = 3
GRID = (3, 4)  # rows, columns
SETTINGS = {"object_scale": 5.0, "noobject_scale": 1.0, "class_scale": 1.0, "coord_scale": 1.0, "thresh": 0.6}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def box_iou(a, b):
    """Darknet's ``box_iou`` of centre boxes ``(x, y, w, h)``."""
    def overlap(ca, wa, cb, wb):
        return max(0.0, min(ca + wa / 2, cb + wb / 2) - max(ca - wa / 2, cb - wb / 2))
    inter = overlap(a[0], a[2], b[0], b[2]) * overlap(a[1], a[3], b[1], b[3])
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def darknet_deltas(raw, truths, seen, rescore):
    """Darknet's region-layer deltas for one image. ``raw`` (H, W, A, 5 + C) network outputs;
    ``truths`` rows ``(x, y, w, h, class)`` relative to the image."""
    h, w = GRID
    out = raw.astype(np.float64).copy()
    out[..., 0:2], out[..., 4] = sigmoid(out[..., 0:2]), sigmoid(out[..., 4])  # activate_array LOGISTIC
    out[..., 5:] = np.exp(out[..., 5:]) / np.exp(out[..., 5:]).sum(-1, keepdims=True)  # softmax_cpu
    delta = np.zeros_like(out)

    def region_box(j, i, n):
        return ((i + out[j, i, n, 0]) / w, (j + out[j, i, n, 1]) / h,
                np.exp(out[j, i, n, 2]) * ANCHORS[n, 0] / w, np.exp(out[j, i, n, 3]) * ANCHORS[n, 1] / h)

    def delta_region_box(truth, j, i, n, scale):
        pred = region_box(j, i, n)
        tx, ty = truth[0] * w - i, truth[1] * h - j
        tw, th = np.log(truth[2] * w / ANCHORS[n, 0]), np.log(truth[3] * h / ANCHORS[n, 1])
        delta[j, i, n, 0:4] = scale * (np.array([tx, ty, tw, th]) - out[j, i, n, 0:4])
        return box_iou(pred, truth)

    for j in range(h):
        for i in range(w):
            for n in range(len(ANCHORS)):
                pred = region_box(j, i, n)
                best_iou = max(box_iou(pred, t[:4]) for t in truths)
                delta[j, i, n, 4] = SETTINGS["noobject_scale"] * (0 - out[j, i, n, 4])
                if best_iou > SETTINGS["thresh"]:
                    delta[j, i, n, 4] = 0
                if seen < 12800:
                    prior = ((i + 0.5) / w, (j + 0.5) / h, ANCHORS[n, 0] / w, ANCHORS[n, 1] / h)
                    delta_region_box(prior, j, i, n, 0.01)
    for truth in truths:
        i, j = int(truth[0] * w), int(truth[1] * h)
        shifted = (0, 0, truth[2], truth[3])
        n = int(np.argmax([box_iou(shifted, (0, 0, a[0] / w, a[1] / h)) for a in ANCHORS]))
        iou = delta_region_box(truth, j, i, n, SETTINGS["coord_scale"] * (2 - truth[2] * truth[3]))
        delta[j, i, n, 4] = SETTINGS["object_scale"] * ((iou if rescore else 1) - out[j, i, n, 4])
        delta[j, i, n, 5:] = SETTINGS["class_scale"] * (np.eye(CLASSES)[int(truth[4])] - out[j, i, n, 5:])
    # Darknet's GPU backward pass: the logistic's derivative on x, y and objectness.
    for k in (0, 1, 4):
        delta[..., k] *= out[..., k] * (1 - out[..., k])
    return delta


def gradient(raw, truths, prior_scale, rescore):
    assignment = assign_anchors(np.array(truths), ANCHORS, GRID)
    y_true = pack_y_true(assignment.detectors_mask, assignment.matching_true_boxes)[None]
    y_pred = tf.Variable(raw.reshape(1, *GRID, -1).astype(np.float32))
    options = {**RECIPES["darknet"], "rescore": rescore}
    with tf.GradientTape() as tape:
        loss = tf.add_n(list(yolo_loss_parts(y_true, y_pred, ANCHORS, CLASSES, prior_scale=prior_scale,
                                             **options).values()))
    return tape.gradient(loss, y_pred).numpy().reshape(raw.shape)


TRUTHS = {
    "small and large boxes": [[0.30, 0.40, 0.08, 0.10, 1], [0.70, 0.55, 0.55, 0.40, 2]],
    "one box": [[0.55, 0.20, 0.25, 0.30, 0]],
}


@pytest.mark.parametrize("case", list(TRUTHS))
@pytest.mark.parametrize("seen, rescore", [(0, True), (20_000, True), (20_000, False)])
def test_gradients_are_minus_darknets_deltas(case, seen, rescore):
    rng = np.random.default_rng(7)
    raw = rng.normal(scale=0.7, size=(*GRID, len(ANCHORS), 5 + CLASSES))
    truths = TRUTHS[case]
    # a prediction that is not responsible but overlaps the first truth by more than 0.6: no no-object delta
    j, i = int(truths[0][1] * GRID[0]), int(truths[0][0] * GRID[1])
    other = 1 - int(np.argmax([min(truths[0][2] * GRID[1], a[0]) * min(truths[0][3] * GRID[0], a[1])
                               / (truths[0][2] * GRID[1] * truths[0][3] * GRID[0] + a[0] * a[1]
                                  - min(truths[0][2] * GRID[1], a[0]) * min(truths[0][3] * GRID[0], a[1]))
                               for a in ANCHORS]))
    raw[j, i, other, 0] = np.log((truths[0][0] * GRID[1] - i) / (1 - (truths[0][0] * GRID[1] - i)))
    raw[j, i, other, 1] = np.log((truths[0][1] * GRID[0] - j) / (1 - (truths[0][1] * GRID[0] - j)))
    raw[j, i, other, 2] = np.log(truths[0][2] * GRID[1] / ANCHORS[other, 0])
    raw[j, i, other, 3] = np.log(truths[0][3] * GRID[0] / ANCHORS[other, 1])
    expected = darknet_deltas(raw, np.array(truths, np.float64), seen, rescore)
    assert expected[j, i, other, 4] == 0  # the no-object threshold at work
    got = -gradient(raw, truths, PRIOR_SCALE if seen < 12800 else 0.0, rescore)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_small_boxes_weigh_more_and_classes_get_the_softmax_gradient():
    raw = np.zeros((*GRID, len(ANCHORS), 5 + CLASSES))
    small, large = (-gradient(raw, [truth], 0.0, True) for truth in ([[0.3, 0.4, 0.1, 0.1, 1]],
                                                                      [[0.3, 0.4, 0.9, 0.9, 1]]))
    j, i = 1, 1
    # the same offset in the cell (0.2, 0.2) → the x delta scales with 2 − w·h
    ratio = small[j, i, 0, 0] / large[j, i, 1, 0]
    assert ratio == pytest.approx((2 - 0.01) / (2 - 0.81), rel=1e-5)
    np.testing.assert_allclose(small[j, i, 0, 5:], np.eye(CLASSES)[1] - 1 / 3, rtol=1e-6)
