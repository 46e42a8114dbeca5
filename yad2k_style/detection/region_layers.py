"""The region-based detectors' own Keras layers, so that each detector is a functional model (its
``summary()`` shows every step, it saves as ``.keras`` and reloads with ``safe_mode=True`` once this
module is imported: the classes are registered, no code is serialised).

- :class:`Proposals`: RPN outputs → the best proposals after NMS (decoded, clipped).
- :class:`RoIPooling`: features and regions → pooled regions (RoI pooling or RoIAlign).
- :class:`PositionSensitiveVote`: R-FCN's position-sensitive pooling and the bins' vote.
- :class:`RegionCrops`: R-CNN's crop of each region out of the image, warped to a fixed size.
- :class:`TimeDistributed`: a network applied to every region, as one batched call.
"""

import keras
import tensorflow as tf

from yad2k_style.boxes import decode_deltas
from yad2k_style.detection.anchors import anchor_grid
from yad2k_style.detection.roi_pooling import position_sensitive_pool, roi_pool, sample_grid

PACKAGE = "yad2k_style.detection"


def _flat_regions(regions):
    """(B, R, 4) → (B R, 4) and each region's image index (B R,)."""
    batch, count = tf.shape(regions)[0], tf.shape(regions)[1]
    return tf.reshape(regions, (-1, 4)), tf.repeat(tf.range(batch), count), batch, count


@keras.saving.register_keras_serializable(PACKAGE)
class Proposals(keras.layers.Layer):
    """``[objectness logits (B, N), deltas (B, N, 4)]`` of an RPN whose anchors are
    :func:`~yad2k_style.detection.anchors.anchor_grid` ``(size / stride)² × sizes × ratios`` →
    ``[proposals (B, count, 4) xyxy pixels, valid (B,) int32]``: decoded (``scale``), clipped to the
    image, sides below ``min_side`` dropped, suppressed at IoU ``nms``, best first, zero-padded. No
    gradient flows through (approximate joint training). ``call(..., count=k)`` overrides ``count``."""

    def __init__(self, input_size, stride, sizes, ratios, count, nms, scale, min_side=2.0, **kwargs):
        super().__init__(**kwargs)
        self.input_size, self.stride = int(input_size), int(stride)
        self.count, self.nms = int(count), float(nms)
        self.sizes, self.ratios = tuple(float(s) for s in sizes), tuple(float(r) for r in ratios)
        self.scale, self.min_side = tuple(float(s) for s in scale), float(min_side)
        cells = self.input_size // self.stride
        self.anchors = anchor_grid((cells, cells), self.stride, self.sizes, self.ratios)

    def call(self, inputs, count=None):
        objectness, deltas = inputs
        count = self.count if count is None else count
        boxes = tf.clip_by_value(decode_deltas(deltas, tf.constant(self.anchors, deltas.dtype), self.scale),
                                 0.0, float(self.input_size))
        sides = tf.reduce_min(boxes[..., 2:] - boxes[..., :2], -1)
        scores = tf.where(sides >= self.min_side, tf.sigmoid(objectness), 0.0)
        yxyx = tf.gather(boxes, [1, 0, 3, 2], axis=-1) / self.input_size
        kept, _, _, valid = tf.image.combined_non_max_suppression(
            yxyx[:, :, None, :], scores[..., None], count, count, self.nms, score_threshold=0.0,
            pad_per_class=False, clip_boxes=False)
        proposals = tf.gather(kept, [1, 0, 3, 2], axis=-1) * self.input_size
        return [tf.stop_gradient(proposals), tf.cast(valid, tf.int32)]

    def compute_output_shape(self, input_shapes):
        batch = input_shapes[0][0]
        return [(batch, self.count, 4), (batch,)]

    def get_config(self):
        return {**super().get_config(), "input_size": self.input_size, "stride": self.stride,
                "sizes": self.sizes, "ratios": self.ratios, "count": self.count, "nms": self.nms,
                "scale": self.scale, "min_side": self.min_side}


@keras.saving.register_keras_serializable(PACKAGE)
class RoIPooling(keras.layers.Layer):
    """``[features (B, h, w, C), regions (B, R, 4) xyxy pixels]`` → (B, R, size, size, C):
    :func:`~yad2k_style.detection.roi_pooling.roi_pool` of each region on its image's features."""

    def __init__(self, size, stride, sampling=2, mode="max", **kwargs):
        super().__init__(**kwargs)
        self.size, self.stride, self.sampling, self.mode = int(size), int(stride), int(sampling), mode

    def call(self, inputs):
        features, regions = inputs
        flat, owners, batch, count = _flat_regions(tf.cast(regions, features.dtype))
        pooled = roi_pool(features, flat, owners, self.size, self.stride, self.sampling, self.mode)
        return tf.reshape(pooled, (batch, count, self.size, self.size, features.shape[-1]))

    def compute_output_shape(self, input_shapes):
        features, regions = input_shapes
        return (regions[0], regions[1], self.size, self.size, features[-1])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "stride": self.stride, "sampling": self.sampling,
                "mode": self.mode}


@keras.saving.register_keras_serializable(PACKAGE)
class PositionSensitiveVote(keras.layers.Layer):
    """``[maps (B, h, w, bins² K), regions (B, R, 4)]`` → (B, R, K): R-FCN's position-sensitive pooling
    (:func:`~yad2k_style.detection.roi_pooling.position_sensitive_pool`) and the vote, the mean over
    the bins."""

    def __init__(self, bins, stride, **kwargs):
        super().__init__(**kwargs)
        self.bins, self.stride = int(bins), int(stride)

    def call(self, inputs):
        maps, regions = inputs
        flat, owners, batch, count = _flat_regions(tf.cast(regions, maps.dtype))
        votes = tf.reduce_mean(position_sensitive_pool(maps, flat, owners, self.bins, self.stride), [1, 2])
        return tf.reshape(votes, (batch, count, maps.shape[-1] // (self.bins * self.bins)))

    def compute_output_shape(self, input_shapes):
        maps, regions = input_shapes
        return (regions[0], regions[1], maps[-1] // (self.bins * self.bins))

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "stride": self.stride}


@keras.saving.register_keras_serializable(PACKAGE)
class RegionCrops(keras.layers.Layer):
    """``[images (B, H, W, 3), regions (B, R, 4) xyxy pixels]`` → (B, R, size, size, 3): each region
    cut out of its image and warped to size × size (bilinear; R-CNN's anisotropic warp)."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, inputs):
        images, regions = inputs
        flat, owners, batch, count = _flat_regions(tf.cast(regions, images.dtype))
        crops = sample_grid(images, flat, owners, self.size, stride=1)
        return tf.reshape(crops, (batch, count, self.size, self.size, images.shape[-1]))

    def compute_output_shape(self, input_shapes):
        images, regions = input_shapes
        return (regions[0], regions[1], self.size, self.size, images[-1])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(PACKAGE)
class TimeDistributed(keras.layers.TimeDistributed):
    """Keras' ``TimeDistributed`` over regions, (B, R, …) → (B, R, …), computed as one call of the layer
    on the regions of the whole batch (B R, …) and reshaped back: the same outputs and weights, no loop
    over a dynamic region axis (which Keras vectorises with ``pfor``, a graph tf2onnx mistranslates).
    It keeps Keras' class name, which names its weights in a ``.weights.h5`` file."""

    def call(self, inputs, training=None, mask=None):
        flat = tf.reshape(inputs, (-1, *inputs.shape[2:]))
        outputs = self.layer(flat, training=training)
        return tf.reshape(outputs, tf.concat([tf.shape(inputs)[:2], tf.shape(outputs)[1:]], 0))
