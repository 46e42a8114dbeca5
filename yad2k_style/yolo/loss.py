"""YOLOv2's training loss with Darknet/YAD2K semantics, as a Keras loss and a parts metric.

``y_true`` (batch, H, W, A, 6) packs :func:`yad2k_style.yolo.targets.pack_y_true`'s detectors mask
and matching boxes; ``y_pred`` is the network's raw output (batch, H, W, A·(5 + C)). Per image the
loss is ``0.5 · (xy + wh + objectness + no_object + class)``, each a sum of squared errors:

- xy: ``sigmoid(t_xy)`` against the centre's offset in its cell (responsible anchors only);
- wh: ``t_wh`` against ``log(w / anchor)`` (responsible anchors only);
- objectness: ``object_scale · (1 - sigmoid(t_o))²`` (or the IoU with the true box, ``rescore``);
- no_object: ``no_object_scale · sigmoid(t_o)²`` for anchors that are not responsible and whose
  predicted box overlaps no true box by more than ``iou_ignore`` (0.6);
- class: squared error of the class softmax against the one-hot class.
"""

import keras
import tensorflow as tf

from yad2k_style.boxes import convert_boxes, elementwise_iou

PARTS = ("xy", "wh", "objectness", "no_object", "class")


def yolo_loss_parts(y_true, y_pred, anchors, num_classes, object_scale=5.0, no_object_scale=1.0,
                    class_scale=1.0, coordinates_scale=1.0, iou_ignore=0.6, rescore=False):
    """The five parts of the loss, each of shape (batch,) (see the module docstring)."""
    anchors = tf.constant(anchors, tf.float32)
    num_anchors = anchors.shape[0]
    grid_h, grid_w = y_pred.shape[1], y_pred.shape[2]
    feats = tf.reshape(y_pred, [-1, grid_h, grid_w, num_anchors, 5 + num_classes])
    y_true = tf.cast(y_true, feats.dtype)
    mask, matching = y_true[..., 0:1], y_true[..., 1:6]

    cols, rows = tf.meshgrid(tf.range(grid_w, dtype=tf.float32), tf.range(grid_h, dtype=tf.float32))
    offsets = tf.stack([cols, rows], axis=-1)[:, :, None, :]  # (H, W, 1, 2): x = column, y = row
    dims = tf.constant([grid_w, grid_h], tf.float32)
    cell_xy = tf.sigmoid(feats[..., 0:2])
    pred_corners = _corners((cell_xy + offsets) / dims, tf.exp(feats[..., 2:4]) * anchors / dims)
    true_corners = _corners((matching[..., 0:2] + offsets) / dims,
                            tf.exp(matching[..., 2:4]) * anchors / dims)
    confidence = tf.sigmoid(feats[..., 4:5])

    batch = tf.shape(feats)[0]
    pred_flat = tf.reshape(pred_corners, [batch, -1, 1, 4])
    true_flat = tf.reshape(true_corners, [batch, 1, -1, 4])
    true_present = tf.reshape(mask, [batch, 1, -1])
    best_iou = tf.reduce_max(elementwise_iou(pred_flat, true_flat) * true_present, axis=-1)
    ignore = tf.cast(tf.reshape(best_iou, tf.shape(mask)) > iou_ignore, feats.dtype)

    target_confidence = 1.0
    if rescore:
        target_confidence = tf.stop_gradient(elementwise_iou(pred_corners, true_corners)[..., None])
    one_hot = tf.one_hot(tf.cast(matching[..., 4], tf.int32), num_classes)
    parts = {
        "xy": coordinates_scale * mask * tf.square(matching[..., 0:2] - cell_xy),
        "wh": coordinates_scale * mask * tf.square(matching[..., 2:4] - feats[..., 2:4]),
        "objectness": object_scale * mask * tf.square(target_confidence - confidence),
        "no_object": no_object_scale * (1 - mask) * (1 - ignore) * tf.square(confidence),
        "class": class_scale * mask * tf.square(one_hot - tf.nn.softmax(feats[..., 5:])),
    }
    return {name: tf.reduce_sum(value, axis=[1, 2, 3, 4]) for name, value in parts.items()}


def _plain_anchors(anchors):
    """Anchors as nested Python floats, for Keras configs."""
    return [[float(v) for v in pair] for pair in anchors]


def _corners(xy, wh):
    """Centres and sizes (..., 2) → corners (..., 4) ``(x_min, y_min, x_max, y_max)``."""
    return convert_boxes(tf.concat([xy, wh], axis=-1), "cxcywh", "xyxy")


@keras.saving.register_keras_serializable(package="yad2k_style")
class YoloLoss(keras.losses.Loss):
    """YOLOv2's loss for ``model.compile(loss=YoloLoss(anchors, num_classes))`` (per-image values,
    averaged over the batch by Keras)."""

    def __init__(self, anchors, num_classes, rescore=False, name="yolo_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.anchors = _plain_anchors(anchors)
        self.num_classes = int(num_classes)
        self.rescore = bool(rescore)

    def call(self, y_true, y_pred):
        parts = yolo_loss_parts(y_true, y_pred, self.anchors, self.num_classes, rescore=self.rescore)
        return 0.5 * tf.add_n(list(parts.values()))

    def get_config(self):
        return {**super().get_config(), "anchors": self.anchors, "num_classes": self.num_classes,
                "rescore": self.rescore}


@keras.saving.register_keras_serializable(package="yad2k_style")
class YoloLossParts(keras.metrics.Metric):
    """Reports the mean of each loss part (``xy``, ``wh``, ``objectness``, ``no_object``, ``class``)
    per image, as separate entries in Keras' logs and progress bar."""

    def __init__(self, anchors, num_classes, rescore=False, name="yolo_parts", **kwargs):
        super().__init__(name=name, **kwargs)
        self.anchors = _plain_anchors(anchors)
        self.num_classes, self.rescore = int(num_classes), bool(rescore)
        self.means = [keras.metrics.Mean(name=part) for part in PARTS]

    def update_state(self, y_true, y_pred, sample_weight=None):
        parts = yolo_loss_parts(y_true, y_pred, self.anchors, self.num_classes, rescore=self.rescore)
        for mean, part in zip(self.means, PARTS, strict=True):
            mean.update_state(0.5 * parts[part], sample_weight=sample_weight)

    def result(self):
        return {part: mean.result() for mean, part in zip(self.means, PARTS, strict=True)}

    def reset_state(self):
        for mean in self.means:
            mean.reset_state()

    def get_config(self):
        return {**super().get_config(), "anchors": self.anchors, "num_classes": self.num_classes,
                "rescore": self.rescore}
