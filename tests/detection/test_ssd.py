"""SSD: default boxes, targets, the multibox loss with hard negative mining against a NumPy reference,
and decoding."""

import numpy as np
import tensorflow as tf

from yad2k_style.boxes import pairwise_iou
from yad2k_style.detection import ssd


def test_default_boxes_cover_the_three_maps():
    anchors = ssd.ssd_anchors()
    assert anchors.shape == ((16 * 16 + 8 * 8 + 4 * 4) * 4, 4)
    sizes = np.sqrt(np.prod(anchors[:, 2:] - anchors[:, :2], 1))
    np.testing.assert_allclose(sizes[:4], [12, 12, 12, np.sqrt(12 * 24)], rtol=1e-6)
    np.testing.assert_allclose(sizes[-4:], [48, 48, 48, np.sqrt(48 * 96)], rtol=1e-6)
    np.testing.assert_allclose(anchors[-1], [112 - 34, 112 - 34, 112 + 34, 112 + 34], atol=0.1)  # √4608/2


def test_model_outputs_line_up_with_the_default_boxes():
    model = ssd.ssd_model(3)
    assert [tuple(o.shape) for o in model.outputs] == [(None, 1344, 4), (None, 1344, 4)]
    assert all(layer.name for layer in model.layers) and len({layer.name for layer in model.layers}) == len(
        model.layers)


def test_targets_of_a_box_that_is_a_default_box():
    anchors = ssd.ssd_anchors()
    box = anchors[700:701].astype(np.float64)
    labels, deltas = ssd.ssd_targets(anchors, box, np.array([2]))
    assert labels[700] == 3 and np.all(deltas[700] == 0)
    positive = labels > 0
    assert np.all(pairwise_iou(anchors[positive], box)[:, 0] >= 0.5)
    assert np.all(pairwise_iou(anchors[~positive], box)[:, 0] < 0.5)
    assert np.all(deltas[~positive] == 0)
    none, zeros = ssd.ssd_targets(anchors, np.zeros((0, 4)), np.zeros(0, int))
    assert np.all(none == 0) and np.all(zeros == 0)


def numpy_multibox(labels, deltas, logits, box_deltas):
    """SSD's loss written out with loops: cross-entropy, 3 negatives per positive by loss, smooth L1."""
    confidence = localisation = 0.0
    positives = 0
    for image in range(len(labels)):
        shifted = logits[image] - logits[image].max(1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        ce = -log_probs[np.arange(len(labels[image])), labels[image]]
        positive = labels[image] > 0
        count = int(positive.sum())
        positives += count
        negative_losses = np.sort(ce[~positive])[::-1][:3 * max(count, 1)]
        confidence += ce[positive].sum() + negative_losses.sum()
        diff = np.abs(deltas[image][positive] - box_deltas[image][positive])
        localisation += np.where(diff < 1, 0.5 * diff**2, diff - 0.5).sum()
    count = max(positives, 1)
    return (confidence + localisation) / count, confidence / count, localisation / count


def test_multibox_loss_matches_the_numpy_reference():
    rng = np.random.default_rng(0)
    labels = np.zeros((3, 40), np.int32)
    labels[0, [1, 5]] = [1, 3]
    labels[1, [0, 7, 9, 30]] = [2, 2, 1, 3]          # image 2 has no object: 3 negatives still kept
    deltas = rng.normal(size=(3, 40, 4)).astype(np.float32) * (labels[..., None] > 0)
    logits = rng.normal(size=(3, 40, 4)).astype(np.float32) * 3
    box_deltas = rng.normal(size=(3, 40, 4)).astype(np.float32) * 2
    got = ssd.ssd_loss(tf.constant(labels), tf.constant(deltas), tf.constant(logits), tf.constant(box_deltas))
    np.testing.assert_allclose([float(t) for t in got], numpy_multibox(labels, deltas, logits, box_deltas),
                               rtol=1e-5)


def test_decode_returns_the_encoded_boxes_in_pixels():
    anchors = ssd.ssd_anchors()
    truth = np.array([[20, 30, 50, 52], [80, 10, 120, 60]], np.float64)
    labels, deltas = ssd.ssd_targets(anchors, truth, np.array([0, 2]))
    logits = np.full((1, len(anchors), 4), -10.0, np.float32)
    logits[0, np.arange(len(anchors)), labels] = 10.0    # confident in the targets' classes
    boxes, scores, classes, valid = ssd.ssd_decode(tf.constant(logits), tf.constant(deltas[None]), anchors,
                                                   score_threshold=0.5)
    assert int(valid[0]) == 2
    order = np.argsort(classes[0, :2].numpy())
    np.testing.assert_allclose(boxes[0, :2].numpy()[order], truth, atol=1e-3)
    np.testing.assert_array_equal(classes[0, :2].numpy()[order], [0, 2])
