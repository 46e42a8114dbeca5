"""YOLOv2 loss: finiteness without objects, agreement with a NumPy reference, and an overfit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.yolo.loss import YoloLoss, YoloLossParts, yolo_loss_parts
from yad2k_style.detection.yolo.model import yolo_v2
from yad2k_style.detection.yolo.targets import assign_anchors, pack_y_true

ANCHORS = np.array([[1.0, 1.0], [2.0, 3.0]], np.float32)
NUM_CLASSES = 3


def targets(boxes, grid=(2, 3)):
    assignment = assign_anchors(np.array(boxes, np.float64).reshape(-1, 5), ANCHORS, grid)
    return pack_y_true(assignment.detectors_mask, assignment.matching_true_boxes)


def numpy_parts(y_true, y_pred):
    """Straightforward loops over cells and anchors (independent of the TF implementation)."""
    grid_h, grid_w = y_true.shape[:2]
    feats = y_pred.reshape(grid_h, grid_w, len(ANCHORS), 5 + NUM_CLASSES).astype(np.float64)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    truths = []
    for r, c, a in zip(*np.nonzero(y_true[..., 0]), strict=True):
        x, y, tw, th = y_true[r, c, a, 1:5]
        w, h = np.exp(tw) * ANCHORS[a, 0] / grid_w, np.exp(th) * ANCHORS[a, 1] / grid_h
        cx, cy = (c + x) / grid_w, (r + y) / grid_h
        truths.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    parts = dict.fromkeys(("xy", "wh", "objectness", "no_object", "class"), 0.0)  # each then halved
    for r in range(grid_h):
        for c in range(grid_w):
            for a in range(len(ANCHORS)):
                f = feats[r, c, a]
                conf = sig(f[4])
                if y_true[r, c, a, 0]:
                    m = y_true[r, c, a, 1:6]
                    parts["xy"] += np.sum((m[0:2] - sig(f[0:2])) ** 2)
                    parts["wh"] += np.sum((m[2:4] - f[2:4]) ** 2)
                    parts["objectness"] += 5 * (1 - conf) ** 2
                    probs = np.exp(f[5:]) / np.exp(f[5:]).sum()
                    parts["class"] += np.sum((np.eye(NUM_CLASSES)[int(m[4])] - probs) ** 2)
                else:
                    cx, cy = (c + sig(f[0])) / grid_w, (r + sig(f[1])) / grid_h
                    w, h = np.exp(f[2]) * ANCHORS[a, 0] / grid_w, np.exp(f[3]) * ANCHORS[a, 1] / grid_h
                    box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                    if max((iou(box, t) for t in truths), default=0) <= 0.6:
                        parts["no_object"] += conf ** 2
    return parts


def iou(a, b):
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_parts_match_numpy_reference():
    rng = np.random.default_rng(3)
    y_true = targets([[0.2, 0.3, 0.3, 0.5, 1], [0.8, 0.7, 0.6, 0.9, 2], [0.5, 0.5, 0.2, 0.2, 0]])
    y_pred = rng.normal(scale=0.8, size=(2, 3, len(ANCHORS) * (5 + NUM_CLASSES))).astype(np.float32)
    # anchor 1 of cell (0, 0) is not responsible, but predicts the first true box exactly: ignored
    y_pred[0, 0, 8:12] = [np.log(0.6 / 0.4), np.log(0.6 / 0.4), np.log(0.45), np.log(1 / 3)]
    got = yolo_loss_parts(tf.constant(y_true[None]), tf.constant(y_pred[None]), ANCHORS, NUM_CLASSES)
    want = numpy_parts(y_true, y_pred)
    for name, value in want.items():
        np.testing.assert_allclose(got[name].numpy()[0], 0.5 * value, rtol=1e-4, atol=1e-6, err_msg=name)
    assert got["prior"].numpy()[0] == 0  # off unless asked for


def test_loss_and_gradient_finite_without_objects():
    y_true = np.zeros((2, 2, 3, len(ANCHORS), 6), np.float32)
    y_pred = tf.Variable(tf.random.stateless_normal((2, 2, 3, len(ANCHORS) * 8), seed=(1, 1)))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(YoloLoss(ANCHORS, NUM_CLASSES)(y_true, y_pred))
    gradient = tape.gradient(loss, y_pred)
    assert np.isfinite(loss.numpy()) and loss.numpy() > 0
    assert np.isfinite(gradient.numpy()).all()
    parts = yolo_loss_parts(y_true, y_pred, ANCHORS, NUM_CLASSES)
    assert all(float(tf.reduce_sum(parts[k])) == 0 for k in ("xy", "wh", "objectness", "class", "prior"))


def test_rescore_uses_iou_target():
    y_true = targets([[0.5, 0.5, 0.3, 0.5, 1]])
    y_pred = np.zeros((1, 2, 3, len(ANCHORS) * 8), np.float32)
    plain = yolo_loss_parts(y_true[None], y_pred, ANCHORS, NUM_CLASSES)["objectness"]
    rescored = yolo_loss_parts(y_true[None], y_pred, ANCHORS, NUM_CLASSES, rescore=True)["objectness"]
    assert float(plain[0]) == pytest.approx(0.5 * 5 * 0.25)
    assert float(rescored[0]) < float(plain[0])


def test_single_batch_overfit_loss_falls():
    keras.utils.set_random_seed(0)
    model = yolo_v2((64, 96, 3), num_anchors=len(ANCHORS), num_classes=NUM_CLASSES)
    images = tf.random.stateless_uniform((2, 64, 96, 3), seed=(5, 6))
    y_true = np.stack([targets([[0.3, 0.4, 0.4, 0.5, 1]]), targets([[0.7, 0.6, 0.3, 0.3, 2]])])
    model.compile(keras.optimizers.Adam(1e-3), loss=YoloLoss(ANCHORS, NUM_CLASSES),
                  metrics=[YoloLossParts(ANCHORS, NUM_CLASSES)])
    history = model.fit(images, y_true, epochs=25, batch_size=2, verbose=0).history
    assert set(history) >= {"loss", "xy", "wh", "objectness", "no_object", "class", "prior"}
    assert history["loss"][-1] < 0.2 * history["loss"][0]
