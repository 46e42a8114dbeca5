"""Faster R-CNN: RPN targets on hand-made boxes, RoI sampling, the loss, and decoding."""

import numpy as np
import tensorflow as tf

from yad2k_style.boxes import encode_deltas, pairwise_iou
from yad2k_style.detection import faster_rcnn as frcnn
from yad2k_style.detection.matching import IGNORED, NEGATIVE, POSITIVE


def test_rpn_targets_label_sample_and_encode():
    anchors = frcnn.rpn_anchors()
    assert anchors.shape == (16 * 16 * 12, 4)
    truth = np.array([[30.0, 40.0, 54.0, 64.0], [90.0, 90.0, 96.0, 97.0]])  # a 24-px and a 6 × 7 object
    labels, deltas = frcnn.rpn_targets(anchors, truth, np.random.default_rng(0))
    iou = pairwise_iou(anchors, truth)
    positive = labels == POSITIVE
    assert np.sum(labels >= 0) == frcnn.RPN_SAMPLES and positive.sum() <= frcnn.RPN_SAMPLES // 2
    for k in range(2):  # each object's best anchor is positive, the small one's IoU far below 0.7
        best = np.flatnonzero(iou[:, k] == iou[:, k].max())
        assert np.all(labels[best] == POSITIVE)
    assert iou[:, 1].max() < 0.7
    assert np.all(iou[labels == NEGATIVE].max(1) < 0.3)
    assert np.all(deltas[~positive] == 0)
    matched = truth[iou[positive].argmax(1)]
    np.testing.assert_allclose(deltas[positive], encode_deltas(matched, anchors[positive], frcnn.RPN_SCALE),
                               rtol=1e-5)
    assert set(np.unique(labels)) <= {POSITIVE, NEGATIVE, IGNORED}


def test_roi_targets_take_the_true_boxes_as_candidates():
    proposals = np.zeros((2, 5, 4), np.float32)
    proposals[0, :3] = [[10, 10, 30, 30], [12, 12, 30, 30], [60, 60, 80, 80]]
    valid = np.array([3, 0], np.int32)
    boxes = np.zeros((2, 6, 4), np.float32)
    boxes[0, :1] = [[10, 10, 30, 30]]
    boxes[1, :2] = [[5, 5, 25, 25], [40, 40, 70, 50]]
    classes = np.zeros((2, 6), np.int32)
    classes[0, 0], classes[1, :2] = 2, [0, 1]
    counts = np.array([1, 2], np.int32)
    rng = np.random.default_rng(0)
    rois, labels, deltas, matches = frcnn.roi_targets(proposals, valid, boxes, classes, counts, rng)
    assert rois.shape == (2, frcnn.ROI_SAMPLES, 4)
    # image 0: 3 proposals + 1 true box; IoU ≥ 0.5: proposals 0 and 1 and the box itself (class 2 → 3)
    np.testing.assert_array_equal(np.sort(labels[0][labels[0] >= 0]), [0, 3, 3, 3])
    assert np.all(labels[0][4:] == -1)
    foreground = labels[0] == 3
    np.testing.assert_allclose(deltas[0][foreground], encode_deltas(np.repeat(boxes[0, :1], 3, 0),
                                                                    rois[0][foreground]), atol=1e-6)
    # image 1: no proposals: its two true boxes, labels 1 and 2, zero deltas
    np.testing.assert_array_equal(np.sort(labels[1][:2]), [1, 2])
    np.testing.assert_allclose(deltas[1][:2], 0, atol=1e-6)
    # foreground first (Mask R-CNN's mask head takes those); each matched to its true box, the rest −1
    np.testing.assert_array_equal(labels[0][:4], [3, 3, 3, 0])
    np.testing.assert_array_equal(matches[0], [0, 0, 0] + [-1] * (frcnn.ROI_SAMPLES - 3))
    np.testing.assert_array_equal(matches[1][:2], labels[1][:2] - 1)
    assert np.all(matches[1][2:] == -1)


def test_model_loss_and_decoding_run_on_a_batch():
    tf.keras.utils.set_random_seed(0)
    model = frcnn.faster_rcnn_model(3)
    images = tf.random.uniform((2, 128, 128, 3), seed=1)
    proposals, valid, logits, deltas = model(images)
    assert proposals.shape == (2, frcnn.TEST_PROPOSALS, 4) and logits.shape == (2, frcnn.TEST_PROPOSALS, 4)
    assert deltas.shape == (2, frcnn.TEST_PROPOSALS, 3, 4)
    anchors = frcnn.rpn_anchors()
    truth = np.array([[20.0, 20.0, 60.0, 50.0]])
    labels, rpn_deltas = frcnn.rpn_targets(anchors, truth, np.random.default_rng(0))
    boxes = np.zeros((2, 6, 4), np.float32)
    boxes[:, 0] = truth
    targets = (tf.constant(np.stack([labels] * 2)), tf.constant(np.stack([rpn_deltas] * 2)),
               tf.constant(boxes), tf.zeros((2, 6), tf.int32), tf.constant([1, 1]))
    total, terms = frcnn.faster_rcnn_loss(model, images, targets, np.random.default_rng(0))
    assert np.isfinite(float(total)) and set(terms) == {"rpn_class", "rpn_box", "head_class", "head_box"}
    assert abs(float(total) - sum(float(v) for v in terms.values())) < 1e-4
    # decoding: zero deltas and a confident class give back the proposals, per class
    confident = np.full((1, 3, 4), -10.0, np.float32)
    confident[0, :, 2] = 10.0
    rois = tf.constant([[[10.0, 10.0, 40.0, 40.0], [70.0, 70.0, 100.0, 90.0], [0.0, 0.0, 1.0, 1.0]]])
    found, scores, classes, count = frcnn.decode_detections(rois, tf.constant([2]), tf.constant(confident),
                                                            tf.zeros((1, 3, 3, 4)), score_threshold=0.5)
    assert int(count[0]) == 2 and np.all(classes[0, :2].numpy() == 1)
    np.testing.assert_allclose(np.sort(found[0, :2].numpy(), 0), np.sort(rois[0, :2].numpy(), 0), atol=1e-4)


def test_rfcn_head_is_a_pooling_and_a_vote():
    """R-FCN's logits for a region are the mean over its 3 × 3 bins of each bin's own score map."""
    from yad2k_style.detection.rfcn import BINS, rfcn_model
    from yad2k_style.detection.roi_pooling import position_sensitive_pool

    tf.keras.utils.set_random_seed(0)
    model = rfcn_model(3)
    images = tf.random.uniform((1, 128, 128, 3), seed=2)
    features = model.get_layer("features")(images)
    rois = tf.constant([[[8.0, 16.0, 72.0, 60.0], [40.0, 40.0, 64.0, 100.0]]])
    head = model.get_layer("head")
    logits, deltas = head([features, rois])
    score_maps = head.get_layer("ps_scores")(features)
    want = tf.reduce_mean(position_sensitive_pool(score_maps, rois[0], [0, 0], BINS, 8), [1, 2])
    np.testing.assert_allclose(logits[0].numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert deltas.shape == (1, 2, 3, 4) and np.all(deltas[0, :, 0].numpy() == deltas[0, :, 2].numpy())
    assert head.count_params() == 128 * 9 * 4 + 9 * 4 + 128 * 36 + 36  # two 1×1 convolutions, no more
