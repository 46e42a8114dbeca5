"""Classification with localisation (the notes' first detector): one object or none per image.

The target ``Y = [p_c, b_x, b_y, b_h, b_w, c_1 … c_n]``: ``p_c`` 1 when an object is present;
``(b_x, b_y)`` its centre and ``(b_h, b_w)`` its height and width, relative to the image (0–1);
``c_k`` one-hot. Without an object only ``p_c = 0`` counts: the other entries are "don't care" (stored
as 0, masked by ``p_c`` in both losses). The model outputs the same vector: ``p_c`` through a sigmoid,
the box through a sigmoid, the classes through a softmax.
"""

import keras
import numpy as np
from keras import ops

from yad2k_style.boxes import convert_boxes, elementwise_iou
from yad2k_style.detection.synthetic import SHAPE_CLASSES
from yad2k_style.foundations.objects import IMAGE_SIZE
from yad2k_style.layers import PACKAGE

BOX = slice(1, 5)
NUM_CLASSES = len(SHAPE_CLASSES)


def localization_target(record, size=IMAGE_SIZE, num_classes=NUM_CLASSES):
    """``Y`` (5 + n,) float32 of an :class:`~yad2k_style.foundations.objects.ObjectImage`."""
    y = np.zeros(5 + num_classes, np.float32)
    if record.present:
        x0, y0, x1, y1 = np.asarray(record.box, np.float64) / size
        y[:5] = (1, (x0 + x1) / 2, (y0 + y1) / 2, y1 - y0, x1 - x0)
        y[5 + record.label] = 1
    return y


def boxes_from_targets(y):
    """Relative ``(x0, y0, x1, y1)`` boxes (N, 4) from targets or predictions ``Y`` (N, 5 + n)."""
    y = np.asarray(y)
    return convert_boxes(y[:, [1, 2, 4, 3]], "cxcywh", "xyxy")  # (b_x, b_y, b_w, b_h)


def backbone(image, prefix, filters=(16, 32, 64, 64), units=128):
    """Four 3×3 convolutions (ReLU), each followed by a 2×2 max-pool, then a dense layer: the small
    ConvNet both heads sit on."""
    x = image
    for number, width in enumerate(filters, start=1):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{prefix}_conv{number}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"{prefix}_pool{number}")(x)
    x = keras.layers.Flatten(name=f"{prefix}_flatten")(x)
    return keras.layers.Dense(units, activation="relu", name=f"{prefix}_dense")(x)


def localization_model(input_size=IMAGE_SIZE, num_classes=NUM_CLASSES):
    """``(input_size, input_size, 3)`` images in [0, 1] → ``Y`` (5 + ``num_classes``)."""
    image = keras.Input((input_size, input_size, 3), name="image")
    features = backbone(image, "localization")
    p_c = keras.layers.Dense(1, activation="sigmoid", name="p_c")(features)
    box = keras.layers.Dense(4, activation="sigmoid", name="box")(features)
    classes = keras.layers.Dense(num_classes, activation="softmax", name="classes")(features)
    y = keras.layers.Concatenate(name="y")([p_c, box, classes])
    return keras.Model(image, y, name="localization")


@keras.saving.register_keras_serializable(package=PACKAGE)
def squared_error_loss(y_true, y_pred):
    """The notes' loss: ``Σ (ŷ_k − y_k)²`` over every entry when ``y_1 = p_c = 1``, ``(ŷ_1 − y_1)²``
    otherwise. Per example (batch,)."""
    p_c = y_true[:, 0]
    squared = ops.square(y_pred - y_true)
    return squared[:, 0] + p_c * ops.sum(squared[:, 1:], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
def localization_loss(y_true, y_pred):
    """The loss the notes recommend in practice: logistic loss for ``p_c``, log-likelihood (softmax
    cross-entropy) for the classes, squared error for the box, the last two only where ``p_c = 1``.
    Per example (batch,)."""
    p_c = y_true[:, 0]
    presence = keras.losses.binary_crossentropy(y_true[:, :1], y_pred[:, :1])
    classes = keras.losses.categorical_crossentropy(y_true[:, 5:], y_pred[:, 5:])
    box = ops.sum(ops.square(y_pred[:, BOX] - y_true[:, BOX]), axis=-1)
    return presence + p_c * (classes + box)


def evaluate_localization(y_true, y_pred):
    """``presence_accuracy`` (``p̂_c > 0.5`` against ``p_c``) over all images; ``class_accuracy`` and
    ``mean_iou`` (predicted box against the true one) over the images with an object."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    present = y_true[:, 0] == 1
    ious = elementwise_iou(boxes_from_targets(y_true[present]), boxes_from_targets(y_pred[present]))
    right_class = np.argmax(y_pred[present, 5:], -1) == np.argmax(y_true[present, 5:], -1)
    return {"presence_accuracy": float(np.mean((y_pred[:, 0] > 0.5) == present)),
            "class_accuracy": float(np.mean(right_class)), "mean_iou": float(np.mean(ious))}
