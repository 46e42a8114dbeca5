"""Mask R-CNN: mask targets and pasting on hand-made masks, the model's outputs, its loss, and the
metrics (mIoU, COCO mask AP) against hand-worked examples."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.evaluate import coco_evaluate
from yad2k_style.detection.labels import LabelledDataset, Sample
from yad2k_style.segmentation import mask_rcnn
from yad2k_style.segmentation.evaluate import confusion_matrix, semantic_scores
from yad2k_style.segmentation.masks import encode_rle
from yad2k_style.segmentation.semantic import semantic_loss, unet_model


def rectangle(height, width, rows, columns):
    mask = np.zeros((height, width), np.uint8)
    mask[rows, columns] = 1
    return mask


def test_mask_targets_are_the_true_mask_cropped_and_resized_to_the_roi():
    masks = np.zeros((1, 2, 64, 64), np.uint8)
    masks[0, 0] = rectangle(64, 64, slice(10, 30), slice(20, 40))   # x 20–40, y 10–30
    masks[0, 1] = rectangle(64, 64, slice(40, 60), slice(0, 10))
    rois = np.array([[[20, 10, 40, 30],      # exactly the first mask's box: all ones
                      [20, 10, 60, 30],      # twice as wide: the left half
                      [10, 0, 30, 20],       # shifted by (−10, −10): the bottom-right quarter
                      [0, 40, 10, 60],       # the second mask's box
                      [20, 10, 40, 30]]], np.float32)  # not matched: zeros
    matches = np.array([[0, 0, 0, 1, -1]], np.int32)
    targets = mask_rcnn.mask_targets(masks, rois, matches, size=8).numpy()
    assert targets.shape == (1, 5, 8, 8)
    np.testing.assert_array_equal(targets[0, 0], np.ones((8, 8)))
    np.testing.assert_array_equal(targets[0, 1], np.repeat([[1] * 4 + [0] * 4], 8, 0))
    quarter = np.zeros((8, 8))
    quarter[4:, 4:] = 1
    np.testing.assert_array_equal(targets[0, 2], quarter)
    np.testing.assert_array_equal(targets[0, 3], np.ones((8, 8)))
    np.testing.assert_array_equal(targets[0, 4], np.zeros((8, 8)))


def test_a_target_pasted_back_is_the_mask():
    truth = np.zeros((96, 80), bool)
    yy, xx = np.mgrid[:96, :80]
    truth[(yy - 50.5) ** 2 / 30**2 + (xx - 40.5) ** 2 / 20**2 <= 1] = True  # an ellipse
    box = np.array([20.0, 20.0, 61.0, 81.0], np.float32)  # its bounding box, 41 × 61
    target = mask_rcnn.mask_targets(truth[None, None], box[None, None], np.zeros((1, 1), np.int32)).numpy()
    pasted = mask_rcnn.paste_masks(target[0], box[None], 96, 80)[0]
    iou = (pasted & truth).sum() / (pasted | truth).sum()
    assert iou > 0.95 and not pasted[:, :19].any() and not pasted[:19].any()


def test_paste_fills_exactly_the_box_with_a_full_mask_and_skips_empty_boxes():
    boxes = np.array([[10.0, 20.0, 40.0, 50.0], [5.0, 5.0, 5.0, 9.0]], np.float32)
    pasted = mask_rcnn.paste_masks(np.ones((2, 28, 28)), boxes, 64, 60)
    np.testing.assert_array_equal(pasted[0], rectangle(64, 60, slice(20, 50), slice(10, 40)).astype(bool))
    assert not pasted[1].any()


def test_model_outputs_and_loss():
    tf.keras.utils.set_random_seed(0)
    model = mask_rcnn.mask_rcnn_model(3, max_boxes=7)
    boxes, scores, classes, valid, masks = model(tf.random.uniform((2, 128, 128, 3), seed=1))
    assert boxes.shape == (2, 7, 4) and masks.shape == (2, 7, 28, 28) and valid.shape == (2,)
    assert np.all((masks.numpy() >= 0) & (masks.numpy() <= 1))
    assert model.get_layer("mask_head").count_params() == (9 * 128 * 64 + 64) + (9 * 64 * 64 + 64) + (
        4 * 64 * 64 + 64) + (64 * 3 + 3)
    other = mask_rcnn.with_settings(model, 0.5, 0.3, 5)
    assert other is not model and other.get_layer("detections").max_boxes == 5
    assert mask_rcnn.with_settings(model, 0.01, 0.45, 7) is model
    np.testing.assert_array_equal(other.get_layer("mask_head").get_weights()[0],
                                  model.get_layer("mask_head").get_weights()[0])


def test_mask_loss_is_the_own_class_cross_entropy_of_foreground_rois():
    logits = np.zeros((1, 3, 2, 2, 2), np.float32)
    logits[0, 0, ..., 1] = 2.0      # RoI 0 is class 1 (label 2): its map is channel 1
    logits[0, 1, ..., 0] = -1.0     # RoI 1 is class 0 (label 1)
    labels = np.array([[2, 1, 0]], np.int32)   # RoI 2 is background: no mask loss
    targets = np.array([[np.ones((2, 2)), np.zeros((2, 2)), np.ones((2, 2))]], np.float32)
    expected = (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))) / 2
    np.testing.assert_allclose(float(mask_rcnn.mask_loss(logits, labels, targets)), expected, rtol=1e-6)


def test_mean_iou_of_a_hand_worked_map():
    truth = np.array([[0, 0, 1], [1, 2, 2]])
    predicted = np.array([[0, 1, 1], [1, 2, 0]])
    confusion = confusion_matrix(truth, predicted, 4)
    np.testing.assert_array_equal(confusion[:3, :3], [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    scores = semantic_scores(confusion, ["circle", "square", "triangle"])
    # background: 1 hit, union 1 + 1 + 1 = 3; circle: 2 / 3; square: 1 / 2; triangle: in neither
    assert scores.per_class_iou["background"] == pytest.approx(1 / 3)
    assert scores.per_class_iou["circle"] == pytest.approx(2 / 3)
    assert scores.per_class_iou["square"] == pytest.approx(1 / 2)
    assert np.isnan(scores.per_class_iou["triangle"])
    assert scores.mean_iou == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert scores.class_mean_iou == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert scores.pixel_accuracy == pytest.approx(4 / 6)


def test_mask_ap_of_a_hand_worked_example():
    # two squares of one class; the first is found exactly (score 0.9), the second by a mask that
    # covers 40 % of it (IoU 0.4, score 0.8): AP@0.5 = precision 1 up to recall 0.5, then none
    # → 51 of pycocotools' 101 recall points
    first = rectangle(64, 64, slice(0, 20), slice(0, 20)).astype(bool)
    second = rectangle(64, 64, slice(30, 50), slice(30, 50)).astype(bool)
    partial = rectangle(64, 64, slice(30, 50), slice(30, 38)).astype(bool)  # 160 of 400 pixels
    boxes = np.array([[0, 0, 20, 20], [30, 30, 50, 50]], np.float32)
    dataset = LabelledDataset([Sample("a.png", 64, 64, boxes, np.array([1, 1]))], ["circle", "square"])
    detections = [(boxes, np.array([0.9, 0.8]), np.array([1, 1]), [encode_rle(first), encode_rle(partial)])]
    masks = coco_evaluate(dataset, detections, truth_masks=[[encode_rle(first), encode_rle(second)]])
    assert masks.per_class_ap50["square"] == pytest.approx(51 / 101)
    # the same boxes found exactly: box AP@0.5 is 1
    assert coco_evaluate(dataset, [detections[0][:3]]).per_class_ap50["square"] == pytest.approx(1.0)


def test_unet_keeps_the_image_size_and_its_loss_is_the_pixels_cross_entropy():
    tf.keras.utils.set_random_seed(0)
    network = unet_model(3, input_shape=(32, 32, 3))
    images = tf.random.uniform((2, 32, 32, 3), seed=2)
    maps = np.random.default_rng(0).integers(0, 4, (2, 32, 32)).astype(np.uint8)
    logits = network(images, training=True).numpy()
    assert logits.shape == (2, 32, 32, 4)
    shifted = logits - logits.max(-1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, maps[..., None].astype(int), -1).mean()
    total, terms = semantic_loss(network, images, maps)
    np.testing.assert_allclose(float(total), expected, rtol=1e-4)
