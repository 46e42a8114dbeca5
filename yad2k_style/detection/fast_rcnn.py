"""Fast R-CNN (Girshick, 2015), compact: the image through the shared convolutional features once, RoI
pooling of every selective-search proposal on them, and one head for classes and boxes, trained with
the multi-task loss (:func:`~yad2k_style.detection.faster_rcnn.head_loss`).

The head and features are Faster R-CNN's (:mod:`.faster_rcnn`) without its RPN: here the proposals come
from outside, one :func:`~yad2k_style.detection.selective_search.selective_search` per image.
"""

import keras

from yad2k_style.detection.faster_rcnn import INPUT_SIZE, box_head, shared_features

MAX_PROPOSALS = 256  # selective search gives about 186 per scene; the rest are dropped (in its order)


def proposal_inputs(input_shape):
    """The inputs of a detector that is given its proposals: image, proposals (P, 4) xyxy pixels,
    valid (how many of them are real)."""
    return (keras.Input(input_shape, name="image"), keras.Input((None, 4), name="proposals"),
            keras.Input((), dtype="int32", name="valid"))


def passed_through(proposals, valid):
    """The given proposals and count as outputs (Faster R-CNN's first two)."""
    return (keras.layers.Identity(name="proposals_out")(proposals),
            keras.layers.Identity(name="valid_out")(valid))


def fast_rcnn_model(num_classes=3, input_shape=(INPUT_SIZE, INPUT_SIZE, 3), name="fast_rcnn_shapes"):
    """``[images (B, S, S, 3), proposals (B, P, 4), valid (B,)]`` → Faster R-CNN's outputs
    ``[proposals, valid, class logits (B, P, C + 1), box deltas (B, P, C, 4)]``."""
    image, proposals, valid = proposal_inputs(input_shape)
    features = shared_features(input_shape)(image)
    logits, deltas = box_head(num_classes)([features, proposals])
    return keras.Model([image, proposals, valid], [*passed_through(proposals, valid), logits, deltas],
                       name=name)
