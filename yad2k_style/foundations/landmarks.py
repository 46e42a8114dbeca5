"""Landmark detection (the notes' second output kind): ``Y = [p_c, l1x, l1y, …, lnx, lny]`` with the
points in a fixed order, relative to the image (0–1). Here the landmarks are a triangle's three
corners, the topmost first and then clockwise (:func:`~yad2k_style.foundations.objects.ordered_corners`).
"""

import keras
import numpy as np
from keras import ops
from PIL import Image, ImageDraw, ImageFont

from yad2k_style import plotting
from yad2k_style.foundations.localization import backbone
from yad2k_style.foundations.objects import IMAGE_SIZE
from yad2k_style.layers import PACKAGE

NUM_LANDMARKS = 3


def landmark_target(record, size=IMAGE_SIZE):
    """``Y`` (1 + 2n,) float32 of an :class:`~yad2k_style.foundations.objects.ObjectImage`; without a
    triangle only ``p_c = 0`` counts (the points are stored as 0)."""
    y = np.zeros(1 + 2 * len(record.points), np.float32)
    if record.present:
        y[0] = 1
        y[1:] = (np.asarray(record.points, np.float64) / size).ravel()
    return y


def landmark_model(input_size=IMAGE_SIZE, num_landmarks=NUM_LANDMARKS):
    """``(input_size, input_size, 3)`` images in [0, 1] → ``Y`` (1 + 2 ``num_landmarks``): ``p_c``
    through a sigmoid, the points' relative ``(x, y)`` through a sigmoid."""
    image = keras.Input((input_size, input_size, 3), name="image")
    features = backbone(image, "landmarks")
    p_c = keras.layers.Dense(1, activation="sigmoid", name="p_c")(features)
    points = keras.layers.Dense(2 * num_landmarks, activation="sigmoid", name="points")(features)
    return keras.Model(image, keras.layers.Concatenate(name="y")([p_c, points]), name="landmarks")


@keras.saving.register_keras_serializable(package=PACKAGE)
def landmark_loss(y_true, y_pred):
    """Logistic loss for ``p_c``, plus the squared error of the points where ``p_c = 1``. Per
    example (batch,)."""
    presence = keras.losses.binary_crossentropy(y_true[:, :1], y_pred[:, :1])
    return presence + y_true[:, 0] * ops.sum(ops.square(y_pred[:, 1:] - y_true[:, 1:]), axis=-1)


def landmark_errors(y_true, y_pred, size=IMAGE_SIZE):
    """Distances in pixels between predicted and true points, (images with a triangle, n)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    present = y_true[:, 0] == 1
    true = y_true[present, 1:].reshape(int(present.sum()), -1, 2)
    predicted = y_pred[present, 1:].reshape(true.shape)
    return np.linalg.norm(predicted - true, axis=-1) * size


def evaluate_landmarks(y_true, y_pred, size=IMAGE_SIZE):
    """``presence_accuracy`` over all images; ``mean_error`` and ``median_error`` (pixels) over the
    points of the images with a triangle."""
    errors = landmark_errors(y_true, y_pred, size)
    present = np.asarray(y_true)[:, 0] == 1
    return {"presence_accuracy": float(np.mean((np.asarray(y_pred)[:, 0] > 0.5) == present)),
            "mean_error": float(errors.mean()), "median_error": float(np.median(errors))}


def draw_landmarks(images, y_true, y_pred, path, columns=8, scale=3):
    """A grid PNG of images (float [0, 1]) with true points (green, order numbered) and predicted
    points (red crosses), for the images with a triangle; written atomically."""
    present = np.flatnonzero(np.asarray(y_true)[:, 0] == 1)[:columns * 2]
    rows = -(-len(present) // columns)
    figure, axes = plotting.subplots(rows, columns, figsize=(columns * 2.0, rows * 2.0))
    figure.subplots_adjust(wspace=0.04, hspace=0.04)
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, index in zip(np.ravel(axes), present, strict=False):
        size = images[index].shape[0]
        enlarged = Image.fromarray((images[index] * 255).astype(np.uint8)).resize((size * scale,) * 2)
        ax.imshow(np.asarray(_marked(enlarged, y_true[index], y_pred[index], size * scale)))
    figure.suptitle("landmarks: true (green, numbered), predicted (red)", fontsize=9)
    plotting.save_figure(figure, path)


def number_position(x, y, text_box, size, gap=5):
    """Where a point's number is drawn (PIL's text origin): ``gap`` pixels right of the point ``(x, y)``,
    or left of it when it would not fit, centred on it vertically, and wholly inside the ``size``-pixel
    square picture. ``text_box``: the number's ``(left, top, right, bottom)`` from the origin."""
    left, top, right, bottom = text_box
    text_x = x + gap if x + gap + right <= size else x - gap - right
    return max(text_x, -left), min(max(y - (bottom + top) / 2, -top), size - bottom)


def _marked(image, true, predicted, size):
    """``image`` (``size`` pixels square) with the true points circled and numbered, each number beside
    its point on the side where it fits inside the image, and the predicted points crossed."""
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, size // 12))
    for number, (x, y) in enumerate(np.asarray(true[1:]).reshape(-1, 2) * size, start=1):
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), outline=(0, 255, 0), width=2)
        place = number_position(x, y, draw.textbbox((0, 0), str(number), font=font), size)
        draw.text(place, str(number), fill=(0, 255, 0), font=font)
    for x, y in np.asarray(predicted[1:]).reshape(-1, 2) * size:
        draw.line((x - 3, y - 3, x + 3, y + 3), fill=(255, 0, 0), width=2)
        draw.line((x - 3, y + 3, x + 3, y - 3), fill=(255, 0, 0), width=2)
    return image
