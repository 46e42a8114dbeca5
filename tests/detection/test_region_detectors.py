"""Fast R-CNN's and R-CNN's inputs: the cached proposals (resumable), R-CNN's warp, and the detector
wrapper that runs selective search."""

import numpy as np
import tensorflow as tf

from yad2k_style.detection.faster_rcnn import decode_detections
from yad2k_style.detection.rcnn import CROP, rcnn_model
from yad2k_style.detection.roi_pooling import sample_grid
from yad2k_style.detection.selective_search import scene_proposals, selective_search
from yad2k_style.detection.synthetic import TRAIN_SEED, scene
from yad2k_style.detection.train import proposal_cache


def test_proposal_cache_is_computed_once_and_resumes(tmp_path, capsys):
    boxes, counts = proposal_cache(tmp_path, 5, 300, chunk=2, workers=1)
    assert boxes.shape == (5, 300, 4) and counts.shape == (5,)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"proposals_{k:06d}.npz" for k in (0, 2, 4)]
    for k in range(5):
        want = selective_search(scene(TRAIN_SEED, k).image)
        np.testing.assert_array_equal(boxes[k, :counts[k]], want)
        assert np.all(boxes[k, counts[k]:] == 0)
    assert len(capsys.readouterr().out.splitlines()) == 3
    (tmp_path / "proposals_000002.npz").unlink()  # an interrupted run: one chunk missing
    again, again_counts = proposal_cache(tmp_path, 5, 300, chunk=2, workers=1)
    assert capsys.readouterr().out.startswith("proposals of scenes 2–3")
    np.testing.assert_array_equal(again, boxes)
    np.testing.assert_array_equal(again_counts, counts)
    first, first_counts = scene_proposals((TRAIN_SEED, 3, 1, 10))
    np.testing.assert_array_equal(first[0, :first_counts[0]], boxes[3, :min(counts[3], 10)])


def test_rcnn_warp_of_the_whole_image_is_the_image():
    """Stride 1, a box on the image's edges and as many samples as pixels: the samples are the pixels."""
    image = np.random.default_rng(0).uniform(size=(1, CROP, CROP, 3)).astype(np.float32)
    crops = sample_grid(tf.constant(image), tf.constant([[0.0, 0.0, CROP, CROP]]), [0], CROP, stride=1)
    np.testing.assert_allclose(crops.numpy(), image, atol=1e-5)
    # the left half stretched to the full width: sample j sits at x = (j + 0.5) / 2 − 0.5 in pixel indices
    half = sample_grid(tf.constant(image), tf.constant([[0.0, 0.0, CROP / 2, CROP]]), [0], CROP, stride=1)
    x = np.clip((np.arange(CROP) + 0.5) / 2 - 0.5, 0, None)
    left, weight = np.floor(x).astype(int), (x - np.floor(x))[None, :, None]
    want = image[0][:, left] * (1 - weight) + image[0][:, np.minimum(left + 1, CROP - 1)] * weight
    np.testing.assert_allclose(half[0].numpy(), want, atol=1e-5)


def test_rcnn_classifies_each_region_from_its_own_crop():
    """No feature is shared: a region's outputs do not depend on the other regions or the rest of the
    image."""
    tf.keras.utils.set_random_seed(1)
    model = rcnn_model(3)
    images = np.random.default_rng(2).uniform(size=(1, 128, 128, 3)).astype(np.float32)
    boxes = tf.constant([[[10.0, 10.0, 50.0, 40.0], [60.0, 60.0, 120.0, 100.0]]])
    _, _, logits, deltas = model([tf.constant(images), boxes, tf.constant([2])])
    changed = images.copy()
    changed[0, 70:, 70:] = 0.0   # inside the second box only
    _, _, logits2, _ = model([tf.constant(changed), boxes, tf.constant([2])])
    np.testing.assert_allclose(logits2[0, 0].numpy(), logits[0, 0].numpy(), rtol=1e-6)
    assert np.abs(logits2[0, 1].numpy() - logits[0, 1].numpy()).max() > 1e-4
    found = decode_detections(boxes, tf.constant([2]), logits, deltas, score_threshold=0.0)
    assert found[0].shape == (1, 100, 4)


def test_sample_grid_is_crop_and_resize():
    """The gathers compute ``tf.image.crop_and_resize`` on the edge-padded map (what the exporters cannot
    carry), samples off the map 0, for every stride and grid."""
    rng = np.random.default_rng(2)
    for stride, points in ((1, 32), (8, 14), (16, 7), (4, 1)):
        features = rng.normal(size=(2, 16, 16, 5)).astype(np.float32)
        boxes = rng.uniform(-20, 16 * stride + 20, (30, 4)).astype(np.float32)
        boxes[:, 2:] = boxes[:, :2] + np.abs(boxes[:, 2:] - boxes[:, :2]) + 1
        owners = rng.integers(0, 2, 30).astype(np.int32)
        padded = np.pad(features, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="symmetric")
        x0, y0, x1, y1 = (boxes / stride + 0.5).T
        step_x, step_y = (x1 - x0) / points, (y1 - y0) / points
        last = padded.shape[1] - 1
        corners = np.stack([y0 + step_y / 2, x0 + step_x / 2, y1 - step_y / 2, x1 - step_x / 2], -1) / last
        want = tf.image.crop_and_resize(padded, corners, owners, (points, points), extrapolation_value=0.0)
        got = sample_grid(features, boxes, owners, points, stride)
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=2e-5)


def test_decoding_with_shared_boxes_is_the_per_class_suppression():
    """``decode_detections`` gives each class box its own row (the form ONNX's NonMaxSuppression takes):
    the same detections as combined NMS over per-class boxes, bit for bit."""
    from yad2k_style.boxes import decode_deltas
    from yad2k_style.detection.faster_rcnn import decode_detections

    rng = np.random.default_rng(0)
    proposals = rng.uniform(0, 100, (3, 60, 4)).astype(np.float32)
    proposals[..., 2:] = proposals[..., :2] + rng.uniform(5, 40, (3, 60, 2)).astype(np.float32)
    valid = tf.constant([60, 30, 0], tf.int32)
    logits = tf.constant(rng.normal(0, 2, (3, 60, 4)).astype(np.float32))
    deltas = tf.constant(rng.normal(0, 0.3, (3, 60, 3, 4)).astype(np.float32))
    proposals = tf.constant(proposals)
    scores = tf.nn.softmax(logits)[..., 1:] * tf.sequence_mask(valid, 60, tf.float32)[..., None]
    yxyx = tf.clip_by_value(tf.gather(decode_deltas(deltas, proposals[:, :, None, :]), [1, 0, 3, 2], axis=-1),
                            0.0, 128.0) / 128.0
    for threshold, most in ((0.01, 100), (0.3, 10), (0.0, 20)):
        boxes, kept_scores, classes, count = tf.image.combined_non_max_suppression(
            yxyx, scores, most, most, 0.45, threshold, clip_boxes=False)
        got = decode_detections(proposals, valid, logits, deltas, 128, threshold, 0.45, most)
        np.testing.assert_array_equal(got[0].numpy(), tf.gather(boxes, [1, 0, 3, 2], axis=-1).numpy() * 128)
        np.testing.assert_array_equal(got[1].numpy(), kept_scores.numpy())
        np.testing.assert_array_equal(got[2].numpy(), classes.numpy().astype(np.int32))
        np.testing.assert_array_equal(got[3].numpy(), count.numpy())
        assert count.numpy()[2] == 0 and count.numpy()[0] > 0
