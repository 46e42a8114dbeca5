"""Sliding windows, naive and convolutional (OverFeat, Sermanet et al. 2014), as in the notes.

The notes' window classifier: a 14×14×3 window → 5×5 convolution (16) → 2×2 max-pool → FC 400 → FC
400 → softmax over 4 classes. Its convolutional implementation turns the FC layers into a 5×5
convolution (400) and two 1×1 convolutions with the same weights, and runs once on a whole image: a
16×16×3 image gives a 2×2×4 map, 28×28×3 an 8×8×4 map; cell ``(r, c)`` is the classifier on the
window whose top-left pixel is ``(2r, 2c)`` (stride 2, from the max-pool). Other window sizes are an
image pyramid: the image scaled by ``14 / window``.

Boxes are pixel ``(x0, y0, x1, y1)`` in the original image.
"""

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.detection.nms import per_class_nms
from yad2k_style.foundations.objects import WINDOW

STRIDE = 2  # the max-pool's: windows 2 pixels apart


def window_classifier(num_classes=4):
    """The notes' classifier on 14×14×3 windows in [0, 1] → probabilities of ``num_classes`` (4:
    :data:`WINDOW_CLASSES`)."""
    window = keras.Input((WINDOW, WINDOW, 3), name="window")
    x = keras.layers.Conv2D(16, 5, activation="relu", name="conv")(window)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(400, activation="relu", name="fc1")(x)
    x = keras.layers.Dense(400, activation="relu", name="fc2")(x)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", name="softmax")(x)
    return keras.Model(window, probabilities, name="window_classifier")


def convolutional_classifier(classifier, input_shape=(None, None, 3)):
    """The classifier's convolutional implementation, with its weights: images of any size ≥ 14 →
    a map ``(rows, cols, classes)`` of the windows' class probabilities."""
    image = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(16, 5, activation="relu", name="conv")(image)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    side = (WINDOW - 4) // 2  # the FC layer's input was side × side × 16
    x = keras.layers.Conv2D(400, side, activation="relu", name="fc1_as_conv")(x)
    x = keras.layers.Conv2D(400, 1, activation="relu", name="fc2_as_conv")(x)
    num_classes = classifier.output_shape[-1]
    probabilities = keras.layers.Conv2D(num_classes, 1, activation="softmax", name="softmax_as_conv")(x)
    model = keras.Model(image, probabilities, name="convolutional_window_classifier")
    model.get_layer("conv").set_weights(classifier.get_layer("conv").get_weights())
    for dense, conv in (("fc1", "fc1_as_conv"), ("fc2", "fc2_as_conv"), ("softmax", "softmax_as_conv")):
        kernel, bias = classifier.get_layer(dense).get_weights()
        # Flatten read (rows, cols, channels) in row-major order: the kernel's rows unflatten the same way.
        model.get_layer(conv).set_weights([kernel.reshape(model.get_layer(conv).kernel.shape), bias])
    return model


def window_count(size):
    """Windows along an axis of ``size`` pixels: ``floor((size − 14) / 2) + 1``."""
    return (size - WINDOW) // STRIDE + 1


def naive_windows(classifier, image, batch_size=1024):
    """The naive sliding window: crop every 14×14 window at stride 2 of ``image`` (h, w, 3) and run
    the classifier on each. Returns the map ``(rows, cols, classes)``."""
    rows, cols = window_count(image.shape[0]), window_count(image.shape[1])
    crops = np.stack([image[STRIDE * r:STRIDE * r + WINDOW, STRIDE * c:STRIDE * c + WINDOW]
                      for r in range(rows) for c in range(cols)])
    return classifier.predict(crops, batch_size=batch_size, verbose=0).reshape(rows, cols, -1)


def convolutional_windows(convolutional, image):
    """The convolutional sliding window: one pass over ``image`` (h, w, 3) → ``(rows, cols, classes)``."""
    return np.asarray(convolutional(image[None].astype(np.float32), training=False)[0])


def scaled(image, window):
    """``image`` (h, w, 3) in [0, 1] scaled by ``14 / window`` (bilinear), so that a ``window``-pixel
    square becomes one 14×14 window; the pyramid level of that window size."""
    scale = WINDOW / window
    size = (max(WINDOW, round(image.shape[0] * scale)), max(WINDOW, round(image.shape[1] * scale)))
    return tf.image.resize(image, size, method="bilinear").numpy()


def window_boxes(rows, cols, window):
    """Pixel ``(x0, y0, x1, y1)`` boxes of the windows of a ``(rows, cols)`` map at pyramid level
    ``window`` (row-major, ``rows · cols`` boxes)."""
    scale = window / WINDOW
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    x0, y0 = c.ravel() * STRIDE * scale, r.ravel() * STRIDE * scale
    return np.stack([x0, y0, x0 + window, y0 + window], axis=-1).astype(np.float32)


def detect(image, windows=(14, 28), convolutional=None, classifier=None, score_threshold=0.9,
           iou_threshold=0.3, max_boxes=20):
    """Sliding-window detection over an image pyramid, by the convolutional implementation (give
    ``convolutional``) or the naive one (give ``classifier``). Every window whose best object class
    (not background) has probability ≥ ``score_threshold`` is a candidate; candidates go through the
    package's per-class non-max suppression. Returns ``(boxes (N, 4) pixels, scores (N,), classes
    (N,))`` with classes indexing :data:`WINDOW_CLASSES`."""
    boxes, scores = [], []
    for window in windows:
        level = scaled(image, window)
        probabilities = (convolutional_windows(convolutional, level) if convolutional is not None
                         else naive_windows(classifier, level))
        boxes.append(window_boxes(*probabilities.shape[:2], window))
        scores.append(probabilities.reshape(-1, probabilities.shape[-1])[:, 1:])  # objects, not background
    kept, kept_scores, kept_classes, valid = per_class_nms(
        np.concatenate(boxes)[None], np.concatenate(scores)[None].astype(np.float32), max_boxes,
        iou_threshold, score_threshold)
    count = int(valid[0])
    return kept[0, :count].numpy(), kept_scores[0, :count].numpy(), kept_classes[0, :count].numpy() + 1
