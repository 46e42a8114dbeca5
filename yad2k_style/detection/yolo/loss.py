"""YOLOv2's training loss with Darknet/YAD2K semantics, as a Keras loss and a parts metric.

``y_true`` (batch, H, W, A, 6) packs :func:`yad2k_style.detection.yolo.targets.pack_y_true`'s detectors mask
and matching boxes; ``y_pred`` is the network's raw output (batch, H, W, A·(5 + C)). Per image the
loss is the sum of its parts; the squared ones carry a factor ½, so that the loss's gradient with
respect to the raw outputs is minus Darknet's region-layer "deltas":

- xy: ``½ s (x − σ(t_xy))²`` against the centre's offset in its cell (responsible anchors only);
- wh: ``½ s (log(w / anchor) − t_wh)²`` (responsible anchors only);
- objectness: ``½ object_scale (1 − σ(t_o))²``, or the IoU with the true box as the target
  (``rescore``, Darknet's ``rescore=1``; the IoU is not differentiated);
- no_object: ``½ no_object_scale σ(t_o)²`` for anchors that are not responsible and whose predicted
  box overlaps no true box by more than ``iou_ignore`` (Darknet's ``thresh``, 0.6);
- class: ``½ Σ (onehot − softmax)²`` (YAD2K's), or with ``softmax_classes`` the softmax
  cross-entropy, whose gradient is Darknet's ``class_scale (onehot − softmax)``;
- prior: with ``prior_scale > 0`` (Darknet uses 0.01 for its first 12,800 images), every anchor that
  is not responsible is pulled to its prior box, ``½ prior_scale ((½ − σ(t_xy))² + t_wh²)``.

The coordinate weight ``s`` is ``coordinates_scale``, times ``2 − w·h`` (the true box's width and
height relative to the image) with ``small_box_weighting``, as Darknet weights small boxes. Darknet's
GPU backward pass multiplies the x, y and objectness deltas by the logistic's derivative; its CPU pass
does not. These gradients follow the GPU (the chain rule).
"""

import keras
import tensorflow as tf

from yad2k_style.boxes import convert_boxes, elementwise_iou

PARTS = ("xy", "wh", "objectness", "no_object", "class", "prior")
PRIOR_SCALE = 0.01  # Darknet's pull of every prediction to its anchor …
PRIOR_IMAGES = 12_800  # … for the first 12,800 images it sees


def yolo_loss_parts(y_true, y_pred, anchors, num_classes, object_scale=5.0, no_object_scale=1.0,
                    class_scale=1.0, coordinates_scale=1.0, iou_ignore=0.6, rescore=False,
                    small_box_weighting=False, softmax_classes=False, prior_scale=0.0):
    """The parts of the loss, each of shape (batch,), summing to the loss (see the module docstring)."""
    anchors = tf.constant(anchors, tf.float32)
    num_anchors = anchors.shape[0]
    grid_h, grid_w = tf.shape(y_pred)[1], tf.shape(y_pred)[2]  # dynamic: multi-scale batches vary
    feats = tf.reshape(y_pred, [-1, grid_h, grid_w, num_anchors, 5 + num_classes])
    y_true = tf.cast(y_true, feats.dtype)
    mask, matching = y_true[..., 0:1], y_true[..., 1:6]

    cols, rows = tf.meshgrid(tf.range(grid_w, dtype=tf.float32), tf.range(grid_h, dtype=tf.float32))
    offsets = tf.stack([cols, rows], axis=-1)[:, :, None, :]  # (H, W, 1, 2): x = column, y = row
    dims = tf.cast(tf.stack([grid_w, grid_h]), tf.float32)
    cell_xy = tf.sigmoid(feats[..., 0:2])
    pred_corners = _corners((cell_xy + offsets) / dims, tf.exp(feats[..., 2:4]) * anchors / dims)
    true_wh = tf.exp(matching[..., 2:4]) * anchors / dims  # relative to the image
    true_corners = _corners((matching[..., 0:2] + offsets) / dims, true_wh)
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
    coordinates = coordinates_scale * mask
    if small_box_weighting:
        coordinates *= 2.0 - true_wh[..., 0:1] * true_wh[..., 1:2]
    one_hot = tf.one_hot(tf.cast(matching[..., 4], tf.int32), num_classes)
    if softmax_classes:
        cross_entropy = tf.nn.softmax_cross_entropy_with_logits(one_hot, feats[..., 5:])[..., None]
        classes = class_scale * mask * cross_entropy
    else:
        classes = 0.5 * class_scale * mask * tf.square(one_hot - tf.nn.softmax(feats[..., 5:]))
    prior = tf.concat([tf.square(0.5 - cell_xy), tf.square(feats[..., 2:4])], axis=-1)
    parts = {
        "xy": 0.5 * coordinates * tf.square(matching[..., 0:2] - cell_xy),
        "wh": 0.5 * coordinates * tf.square(matching[..., 2:4] - feats[..., 2:4]),
        "objectness": 0.5 * object_scale * mask * tf.square(target_confidence - confidence),
        "no_object": 0.5 * no_object_scale * (1 - mask) * (1 - ignore) * tf.square(confidence),
        "class": classes,
        "prior": 0.5 * prior_scale * (1 - mask) * prior,
    }
    return {name: tf.reduce_sum(value, axis=[1, 2, 3, 4]) for name, value in parts.items()}


def _plain_anchors(anchors):
    """Anchors as nested Python floats, for Keras configs."""
    return [[float(v) for v in pair] for pair in anchors]


def _corners(xy, wh):
    """Centres and sizes (..., 2) → corners (..., 4) ``(x_min, y_min, x_max, y_max)``."""
    return convert_boxes(tf.concat([xy, wh], axis=-1), "cxcywh", "xyxy")


#: The recipes: YAD2K's loss, and Darknet's region layer (yolov2.cfg's settings).
RECIPES = {
    "yad2k": {},
    "darknet": {"rescore": True, "small_box_weighting": True, "softmax_classes": True},
}


@keras.saving.register_keras_serializable(package="yad2k_style")
class YoloLoss(keras.losses.Loss):
    """YOLOv2's loss for ``model.compile(loss=YoloLoss(anchors, num_classes))`` (per-image values,
    averaged over the batch by Keras). ``options`` are :func:`yolo_loss_parts`' keywords (see
    :data:`RECIPES`). ``prior_scale`` is a variable: :class:`PriorMatching` turns it off after the
    images Darknet pulls predictions to their anchors for."""

    def __init__(self, anchors, num_classes, name="yolo_loss", options=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.anchors = _plain_anchors(anchors)
        self.num_classes = int(num_classes)
        self.options = dict(options or {})
        self.prior_scale = tf.Variable(float(self.options.pop("prior_scale", 0.0)), trainable=False,
                                       name="prior_scale")

    def parts(self, y_true, y_pred):
        return yolo_loss_parts(y_true, y_pred, self.anchors, self.num_classes, prior_scale=self.prior_scale,
                               **self.options)

    def call(self, y_true, y_pred):
        return tf.add_n(list(self.parts(y_true, y_pred).values()))

    def get_config(self):
        return {**super().get_config(), "anchors": self.anchors, "num_classes": self.num_classes,
                "options": {**self.options, "prior_scale": float(self.prior_scale.numpy())}}


@keras.saving.register_keras_serializable(package="yad2k_style")
class YoloLossParts(keras.metrics.Metric):
    """Reports the mean of each loss part (:data:`PARTS`) per image, as separate entries in Keras'
    logs and progress bar; ``loss``: the :class:`YoloLoss` being trained, whose prior scale they
    follow (default: a new one with ``options``)."""

    def __init__(self, anchors, num_classes, name="yolo_parts", options=None, loss=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.loss = loss or YoloLoss(anchors, num_classes, options=options)
        self.means = [keras.metrics.Mean(name=part) for part in PARTS]

    def update_state(self, y_true, y_pred, sample_weight=None):
        parts = self.loss.parts(y_true, y_pred)
        for mean, part in zip(self.means, PARTS, strict=True):
            mean.update_state(parts[part], sample_weight=sample_weight)

    def result(self):
        return {part: mean.result() for mean, part in zip(self.means, PARTS, strict=True)}

    def reset_state(self):
        for mean in self.means:
            mean.reset_state()

    def get_config(self):
        config = self.loss.get_config()
        return {**super().get_config(), "anchors": config["anchors"], "num_classes": config["num_classes"],
                "options": config["options"]}


class PriorMatching(keras.callbacks.Callback):
    """Darknet's prior matching: ``loss``'s ``prior_scale`` is :data:`PRIOR_SCALE` until
    ``images`` training images have been seen (counted as ``batch_size`` per batch), then 0."""

    def __init__(self, loss, batch_size, images=PRIOR_IMAGES, initial_images=0):
        super().__init__()
        self.loss, self.batch_size, self.images = loss, batch_size, images
        self.seen = initial_images

    def on_train_batch_begin(self, batch, logs=None):
        self.loss.prior_scale.assign(PRIOR_SCALE if self.seen < self.images else 0.0)

    def on_train_batch_end(self, batch, logs=None):
        self.seen += self.batch_size
