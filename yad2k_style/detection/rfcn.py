"""R-FCN (Dai et al., 2016), compact: Faster R-CNN's RPN and training, with a fully convolutional head.

"Similar to Faster R-CNN but more efficient" (the notes): instead of a network run on every region,
two 1×1 convolutions run once on the shared features, giving k² = 9 position-sensitive score maps per
class (background included) and 9 × 4 box maps. A region's 3×3 bins each average their own map
(:func:`~yad2k_style.detection.roi_pooling.position_sensitive_pool`), and the bins vote by their mean:
the per-region work is a pooling and a vote. Box deltas are class-agnostic, as in the paper.
"""

import keras

from yad2k_style.detection.faster_rcnn import FEATURES, INPUT_SIZE, STRIDE, faster_rcnn_model
from yad2k_style.detection.region_layers import PositionSensitiveVote

BINS = 3  # k: a region is cut into k × k bins


def position_sensitive_head(num_classes, name="head"):
    """``[features (B, h, w, 128), regions (B, R, 4)]`` → ``[class logits (B, R, C + 1), box deltas
    (B, R, C, 4)]`` (the same deltas for every class). The maps' channels are bin-major: bin (i, j)'s
    are the group ``i k + j``."""
    features = keras.Input((None, None, FEATURES), name="features")
    regions = keras.Input((None, 4), name="regions")
    scores = keras.layers.Conv2D(BINS * BINS * (num_classes + 1), 1, name="ps_scores")(features)
    boxes = keras.layers.Conv2D(BINS * BINS * 4, 1, name="ps_boxes")(features)
    logits = PositionSensitiveVote(BINS, STRIDE, name="ps_vote_scores")([scores, regions])
    deltas = PositionSensitiveVote(BINS, STRIDE, name="ps_vote_boxes")([boxes, regions])
    deltas = keras.layers.Reshape((-1, 1, 4), name="ps_deltas_one_class")(deltas)
    deltas = keras.layers.Concatenate(axis=2, name="ps_deltas_every_class")([deltas] * num_classes)
    return keras.Model([features, regions], [logits, deltas], name=name)


def rfcn_model(num_classes=3, input_shape=(INPUT_SIZE, INPUT_SIZE, 3), name="rfcn_shapes"):
    """Faster R-CNN's model (:func:`~yad2k_style.detection.faster_rcnn.faster_rcnn_model`, the same
    outputs) with R-FCN's head."""
    return faster_rcnn_model(num_classes, input_shape, position_sensitive_head, name)
