"""Fast R-CNN (Girshick, 2015), compact: the image through the shared convolutional features once, RoI
pooling of every selective-search proposal on them, and one head for classes and boxes, trained with
the multi-task loss (:func:`~yad2k_style.detection.faster_rcnn.head_loss`).

The head and features are Faster R-CNN's (:mod:`.faster_rcnn`) without its RPN: here the proposals come
from outside, one :func:`~yad2k_style.detection.selective_search.selective_search` per image.
"""

import keras
import tensorflow as tf

from yad2k_style.detection.faster_rcnn import INPUT_SIZE, box_head, classify_regions, shared_features

MAX_PROPOSALS = 256  # selective search gives about 186 per scene; the rest are dropped (in its order)


class FastRCNN(keras.Model):
    """``model((images (B, S, S, 3), proposals (B, P, 4) xyxy pixels, valid (B,)))`` → ``(proposals,
    valid, class logits (B, P, C + 1), box deltas (B, P, C, 4))``, Faster R-CNN's outputs."""

    def __init__(self, num_classes=3, input_size=INPUT_SIZE, name="fast_rcnn_shapes", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes, self.input_size = num_classes, input_size
        self.features = shared_features(input_size=input_size)
        self.head = box_head(num_classes)

    def call(self, inputs, training=False):
        images, proposals, valid = inputs
        features = self.features(images, training=training)
        return (proposals, valid, *classify_regions(self.head, features, tf.cast(proposals, features.dtype),
                                                    self.num_classes, training))
