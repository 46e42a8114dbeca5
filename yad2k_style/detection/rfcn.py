"""R-FCN (Dai et al., 2016), compact: Faster R-CNN's RPN and training, with a fully convolutional head.

"Similar to Faster R-CNN but more efficient" (the notes): instead of a network run on every region,
two 1×1 convolutions run once on the shared features, giving k² = 9 position-sensitive score maps per
class (background included) and 9 × 4 box maps. A region's 3×3 bins each average their own map
(:func:`~yad2k_style.detection.roi_pooling.position_sensitive_pool`), and the bins vote by their mean:
the per-region work is a pooling and a vote. Box deltas are class-agnostic, as in the paper.
"""

import keras
import tensorflow as tf

from yad2k_style.detection.faster_rcnn import FEATURES, INPUT_SIZE, STRIDE, FasterRCNN
from yad2k_style.detection.roi_pooling import position_sensitive_pool

BINS = 3  # k: a region is cut into k × k bins


def position_sensitive_maps(num_classes, name="ps_head"):
    """Features (B, h, w, 128) → ``[score maps (B, h, w, k²(C + 1)), box maps (B, h, w, k² 4)]``,
    channels bin-major: bin (i, j)'s maps are the group ``i k + j``."""
    features = keras.Input((None, None, FEATURES), name="features")
    scores = keras.layers.Conv2D(BINS * BINS * (num_classes + 1), 1, name="ps_scores")(features)
    boxes = keras.layers.Conv2D(BINS * BINS * 4, 1, name="ps_boxes")(features)
    return keras.Model(features, [scores, boxes], name=name)


class RFCN(FasterRCNN):
    """Faster R-CNN with R-FCN's head; the same outputs (box deltas repeated for every class)."""

    def __init__(self, num_classes=3, input_size=INPUT_SIZE, name="rfcn_shapes", **kwargs):
        super().__init__(num_classes, input_size, name=name, **kwargs)

    def build_head(self, num_classes):
        return position_sensitive_maps(num_classes)

    def classify(self, features, rois, training=False):
        batch, count = tf.shape(rois)[0], tf.shape(rois)[1]
        flat = tf.reshape(rois, (-1, 4))
        indices = tf.repeat(tf.range(batch), count)
        score_maps, box_maps = self.head(features, training=training)
        logits = tf.reduce_mean(position_sensitive_pool(score_maps, flat, indices, BINS, STRIDE), [1, 2])
        deltas = tf.reduce_mean(position_sensitive_pool(box_maps, flat, indices, BINS, STRIDE), [1, 2])
        deltas = tf.tile(deltas[:, None, :], (1, self.num_classes, 1))
        return (tf.reshape(logits, (batch, count, self.num_classes + 1)),
                tf.reshape(deltas, (batch, count, self.num_classes, 4)))
