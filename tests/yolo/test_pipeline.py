"""Augmentation moves boxes with the pixels; the pipeline's targets match its labels."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.labels import LabelledDataset, Sample
from yad2k_style.detection.yolo.pipeline import augment_example, training_pipeline

ANCHORS = np.array([[1.0, 1.0], [2.0, 2.0]], np.float32)


def white_box_image(box, size=(96, 128)):
    height, width = size
    image = np.zeros((height, width, 3), np.float32)
    x0, y0, x1, y1 = (np.array(box) * [width, height, width, height]).round().astype(int)
    image[y0:y1, x0:x1] = 1.0
    return image


@pytest.mark.parametrize("seed", range(8))
def test_augmented_box_bounds_the_moved_object(seed):
    box = np.array([[0.3, 0.25, 0.55, 0.6]], np.float32)
    image, boxes, classes = augment_example(
        tf.constant(white_box_image(box[0])), tf.constant(box), tf.constant([1]), (64, 64),
        tf.constant([seed, 17]), jitter=0.3)
    assert image.shape == (64, 64, 3) and classes.numpy().tolist() == [1]
    bright = np.argwhere(image.numpy().mean(axis=-1) > 0.8)
    (y0, x0), (y1, x1) = bright.min(axis=0), bright.max(axis=0) + 1
    np.testing.assert_allclose(boxes.numpy()[0] * 64, [x0, y0, x1, y1], atol=1.6)


def test_pipeline_targets_and_shapes(tmp_path):
    from PIL import Image

    samples = []
    for index, box in enumerate([[10, 20, 40, 60], [70, 10, 120, 50]]):
        image = np.zeros((96, 128, 3), np.uint8)
        path = tmp_path / f"{index}.png"
        Image.fromarray(image).save(path)
        samples.append(Sample(path, 128, 96, np.array([box], np.float32), np.array([index], np.int32)))
    data = training_pipeline(LabelledDataset(samples, ["a", "b"]), (64, 96, 3), ANCHORS, batch_size=2,
                             augment=False, shuffle=False)
    images, y_true = next(iter(data))
    assert images.shape == (2, 64, 96, 3) and y_true.shape == (2, 2, 3, 2, 6)
    assert y_true[..., 0].numpy().sum(axis=(1, 2, 3)).tolist() == [1, 1]
    # first box centre (25, 40) of 128×96 → relative (0.195, 0.417) → column 0, row 0 of the 2×3 grid
    mask = y_true[0, ..., 0].numpy()
    assert mask[0, 0].sum() == 1
    np.testing.assert_allclose(y_true[0, 0, 0, :, 5].numpy().max(), 0)  # class 0
    np.testing.assert_allclose(y_true[1, ..., 5].numpy().max(), 1)  # class 1
