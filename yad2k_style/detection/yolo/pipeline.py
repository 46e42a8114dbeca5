"""``tf.data`` training input: decode, augment images and boxes together, build targets, prefetch.

Images are read as :func:`yad2k_style.images.read_image` reads them for detection (EXIF orientation
applied, transparency over white), so training sees what the detector will. Each element is
``(image, y_true)``: image float32 (H, W, 3) in [0, 1] at the model's input size,
``y_true`` (H/32, W/32, A, 6) as :func:`yad2k_style.detection.yolo.targets.pack_y_true` packs it. Augmentation
(on by default) draws, per image and per epoch: a horizontal flip, a scale/translate jitter (a crop
window up to ``jitter`` larger or smaller than the image, shifted; outside pixels grey), and colour
jitter (brightness, contrast, saturation, hue). Boxes follow the image; a box less than 30 % visible
after the crop is dropped.

Multi-scale training (Darknet's ``random=1``): with ``sizes``, every ``every`` batches one input size
is drawn from them (:func:`scale_sizes`: multiples of 32 around the model's), the batch is resized to
it and its targets are built for that size's grid (:func:`multi_scale`); the model must then take any
input size.
"""

import numpy as np
import tensorflow as tf

from yad2k_style.boxes import convert_boxes
from yad2k_style.detection.yolo.targets import DOWNSAMPLE, y_true_for_boxes
from yad2k_style.images import read_image

MIN_VISIBLE = 0.3


def relative_corners(dataset, max_boxes):
    """Padded arrays: boxes (N, max_boxes, 4) relative corners, classes (N, max_boxes), counts (N,)."""
    count = len(dataset.samples)
    boxes = np.zeros((count, max_boxes, 4), np.float32)
    classes = np.zeros((count, max_boxes), np.int32)
    counts = np.zeros((count,), np.int32)
    for i, s in enumerate(dataset.samples):
        n = min(len(s.boxes), max_boxes)
        boxes[i, :n] = convert_boxes(s.boxes[:n], "xyxy", "rel_xyxy", (s.height, s.width))
        classes[i, :n] = s.classes[:n]
        counts[i] = n
    return boxes, classes, counts


def scale_sizes(input_size, spread=0.3):
    """Darknet's multi-scale sizes around ``input_size = (height, width)``: both sides moved together
    by multiples of 32, up to about ``spread`` of the smaller side either way (at least one step):
    128 → 96, 128, 160; 416 → 288 … 544."""
    height, width = input_size
    steps = max(1, round(spread * min(height, width) / DOWNSAMPLE))
    return [(height + DOWNSAMPLE * k, width + DOWNSAMPLE * k) for k in range(-steps, steps + 1)
            if min(height, width) + DOWNSAMPLE * k >= DOWNSAMPLE]


def multi_scale(batches, anchors, sizes, every=10, seed=0):
    """Batches ``(images (B, H, W, 3), boxes (B, M, 4) relative corners, classes (B, M), counts (B,))``
    → ``(images, y_true)`` at a size drawn from ``sizes`` for every ``every`` consecutive batches
    (seeded; a new draw each time the data is iterated, i.e. each epoch)."""
    anchors = np.asarray(anchors, np.float32)
    choices = tf.constant(sizes, tf.int32)

    def targets(boxes, classes, counts, size):
        grid = tuple(int(v) // DOWNSAMPLE for v in size)
        return np.stack([y_true_for_boxes(b[:n], c[:n], anchors, grid)[0]
                         for b, c, n in zip(boxes, classes, counts, strict=True)]).astype(np.float32)

    def rescale(batch, pick):
        images, boxes, classes, counts = batch
        size = choices[pick]
        y_true = tf.numpy_function(targets, [boxes, classes, counts, size], tf.float32)
        y_true.set_shape((None, None, None, len(anchors), 6))
        return tf.image.resize(images, size), y_true

    picks = (tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
             .map(lambda r: tf.cast(r % len(sizes), tf.int32))
             .flat_map(lambda k: tf.data.Dataset.from_tensors(k).repeat(every)))
    return tf.data.Dataset.zip((batches, picks)).map(rescale, num_parallel_calls=tf.data.AUTOTUNE)


def training_pipeline(dataset, input_shape, anchors, batch_size, augment=True, shuffle=True,
                      seed=0, jitter=0.2, max_boxes=100, sizes=None):
    """A batched, prefetched ``tf.data.Dataset`` of ``(images, y_true)`` for ``model.fit``; with
    ``sizes``, multi-scale (see the module docstring)."""
    height, width = input_shape[:2]
    grid = (height // DOWNSAMPLE, width // DOWNSAMPLE)
    anchors = np.asarray(anchors, np.float32)
    boxes, classes, counts = relative_corners(dataset, max_boxes)
    paths = [str(s.image_path) for s in dataset.samples]
    data = tf.data.Dataset.from_tensor_slices((paths, boxes, classes, counts))
    if shuffle:
        data = data.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    data = tf.data.Dataset.zip((data, seeds))

    def load(element, pair):
        path, box, label, count = element
        image = tf.numpy_function(lambda p: np.asarray(read_image(p.decode())), [path], tf.uint8)
        image = tf.image.convert_image_dtype(tf.ensure_shape(image, (None, None, 3)), tf.float32)
        box, label = box[:count], label[:count]
        if augment:
            image, box, label = augment_example(image, box, label, (height, width), pair, jitter)
        else:
            image = tf.image.resize(image, (height, width))
        image.set_shape((height, width, 3))
        if sizes:  # targets are built per batch, at the batch's size
            missing = max_boxes - tf.shape(box)[0]
            return (image, tf.pad(box, [[0, missing], [0, 0]]), tf.pad(label, [[0, missing]]),
                    max_boxes - missing)
        y_true = tf.numpy_function(
            lambda b, c: y_true_for_boxes(b, c, anchors, grid)[0], [box, label], tf.float32)
        y_true.set_shape((*grid, len(anchors), 6))
        return image, y_true

    data = data.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    if sizes:
        data = multi_scale(data, anchors, sizes, seed=seed)
    return data.prefetch(tf.data.AUTOTUNE)


def augment_example(image, boxes, classes, size, seed, jitter=0.2):
    """Random flip, scale/translate and colour jitter of one image (H, W, 3) in [0, 1] with its
    relative corner boxes (N, 4); ``seed`` is a stateless seed (2,). Returns the image resized to
    ``size = (height, width)``, the surviving boxes and their classes."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    if tf.random.stateless_uniform((), seeds[0]) < 0.5:
        image = tf.image.flip_left_right(image)
        boxes = tf.stack([1 - boxes[:, 2], boxes[:, 1], 1 - boxes[:, 0], boxes[:, 3]], axis=1)
    scale = tf.random.stateless_uniform((2,), seeds[1], 1 - jitter, 1 + jitter)
    offset = tf.random.stateless_uniform((2,), seeds[2]) * (1 - scale)  # window inside or around
    window = tf.concat([offset, offset + scale], axis=0)  # (y0, x0, y1, x1)
    image = tf.image.crop_and_resize(image[None], window[None], [0], size, extrapolation_value=0.5)[0]
    origin = tf.stack([window[1], window[0], window[1], window[0]])
    extent = tf.stack([scale[1], scale[0], scale[1], scale[0]])
    moved = (boxes - origin) / extent
    clipped = tf.clip_by_value(moved, 0.0, 1.0)
    keep = _area(clipped) >= MIN_VISIBLE * _area(moved)
    keep &= (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    image = tf.image.stateless_random_brightness(image, 0.1, seeds[3])
    image = tf.image.stateless_random_contrast(image, 0.8, 1.2, seeds[4])
    image = tf.image.stateless_random_saturation(image, 0.8, 1.2, seeds[5])
    image = tf.image.stateless_random_hue(image, 0.03, seeds[6])
    return (tf.clip_by_value(image, 0.0, 1.0), tf.boolean_mask(clipped, keep),
            tf.boolean_mask(classes, keep))


def _area(boxes):
    return tf.maximum(boxes[:, 2] - boxes[:, 0], 0.0) * tf.maximum(boxes[:, 3] - boxes[:, 1], 0.0)
