"""The detectors of this domain, one entry each: the network, its training data and loss, and the
detector that runs it — what ``scripts/train_detectors.py`` trains and ``bench/detectors.py`` compares.

:func:`parts` gives a :class:`DetectorParts` for a name of :data:`NAMES`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from yad2k_style.detection import faster_rcnn, ssd
from yad2k_style.detection.detector import SceneDetector
from yad2k_style.detection.fast_rcnn import MAX_PROPOSALS, fast_rcnn_model
from yad2k_style.detection.rcnn import rcnn_model
from yad2k_style.detection.rfcn import rfcn_model
from yad2k_style.detection.train import proposal_batches, proposal_cache, scene_batches
from yad2k_style.yolo.synthetic import MAX_OBJECTS, SCENE_SIZE, SHAPE_CLASSES

NAMES = ("ssd", "faster-rcnn", "rfcn", "fast-rcnn", "rcnn")
NUM_CLASSES = len(SHAPE_CLASSES)


@dataclass
class DetectorParts:
    """``network``; ``detector`` (a :class:`SceneDetector` around it); ``example`` inputs that build it;
    ``loss(network, inputs, targets) → (total, terms)``; ``data(schedule, run_dir)`` its training
    batches (for Fast R-CNN and R-CNN it computes, or reads, the proposal cache in ``run_dir``)."""

    network: object
    detector: SceneDetector
    example: object
    loss: Callable
    data: Callable


def parts(name):
    """The :class:`DetectorParts` of detector ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise ValueError(f"unknown detector {name!r}; choose from {', '.join(NAMES)}")
    if name == "ssd":
        return _ssd()
    if name in ("faster-rcnn", "rfcn"):
        return _two_stage(faster_rcnn.faster_rcnn_model if name == "faster-rcnn" else rfcn_model)
    return _external_proposals(fast_rcnn_model if name == "fast-rcnn" else rcnn_model)


def _ssd():
    anchors = ssd.ssd_anchors()
    network = ssd.ssd_model(NUM_CLASSES)
    signature = (tf.TensorSpec((len(anchors),), tf.int32), tf.TensorSpec((len(anchors), 4), tf.float32))

    def loss(network, images, targets):
        total, confidence, localisation = ssd.ssd_loss(*targets, *network(images, training=True))
        return total, {"confidence": confidence, "localisation": localisation}

    def data(schedule, run_dir):
        return scene_batches(lambda boxes, classes, rng: ssd.ssd_targets(anchors, boxes, classes), signature,
                             schedule.scenes_per_epoch, schedule.batch_size)

    detector = SceneDetector(network, lambda logits, deltas: ssd.ssd_decode(logits, deltas, anchors),
                             SHAPE_CLASSES)
    return DetectorParts(network, detector, tf.zeros((1, SCENE_SIZE, SCENE_SIZE, 3)), loss, data)


def _two_stage(builder):
    network = builder(NUM_CLASSES)
    anchors = faster_rcnn.rpn_anchors()
    signature = (tf.TensorSpec((len(anchors),), tf.int32), tf.TensorSpec((len(anchors), 4), tf.float32),
                 tf.TensorSpec((MAX_OBJECTS, 4), tf.float32), tf.TensorSpec((MAX_OBJECTS,), tf.int32),
                 tf.TensorSpec((), tf.int32))
    rng = np.random.default_rng(20)  # the head's RoI sampling, in the training step

    def targets(boxes, classes, scene_rng):
        labels, deltas = faster_rcnn.rpn_targets(anchors, boxes, scene_rng)
        return (labels, deltas, *_padded(boxes, classes))

    def loss(network, images, batch_targets):
        return faster_rcnn.faster_rcnn_loss(network, images, batch_targets, rng)

    def data(schedule, run_dir):
        return scene_batches(targets, signature, schedule.scenes_per_epoch, schedule.batch_size)

    detector = SceneDetector(network, faster_rcnn.decode_detections, SHAPE_CLASSES)
    return DetectorParts(network, detector, tf.zeros((1, SCENE_SIZE, SCENE_SIZE, 3)), loss, data)


def _external_proposals(builder):
    network = builder(NUM_CLASSES)
    samples = faster_rcnn.ROI_SAMPLES
    signature = (tf.TensorSpec((samples, 4), tf.float32), tf.TensorSpec((samples,), tf.int32),
                 tf.TensorSpec((samples, 4), tf.float32))

    def targets(boxes, classes, found, count, rng):
        rois, labels, deltas = faster_rcnn.roi_targets(found[None], np.array([count]), boxes[None],
                                                       classes[None], np.array([len(boxes)]), rng)
        return rois[0], labels[0], deltas[0]

    def loss(network, inputs, batch_targets):
        images, _, _ = inputs
        rois, labels, deltas = batch_targets
        valid = tf.reduce_sum(tf.cast(labels >= 0, tf.int32), 1)
        _, _, logits, box_deltas = network((images, rois, valid), training=True)
        classification, box = faster_rcnn.head_loss(labels, deltas, logits, box_deltas)
        return classification + box, {"head_class": classification, "head_box": box}

    def data(schedule, run_dir):
        cache = Path(run_dir) / "proposals"
        proposals, counts = proposal_cache(cache, schedule.scenes_per_epoch, MAX_PROPOSALS)
        return proposal_batches(proposals, counts, targets, signature, schedule.batch_size)

    detector = SceneDetector(network, faster_rcnn.decode_detections, SHAPE_CLASSES, propose=MAX_PROPOSALS)
    example = (tf.zeros((1, SCENE_SIZE, SCENE_SIZE, 3)), tf.zeros((1, MAX_PROPOSALS, 4)),
               tf.zeros((1,), tf.int32))
    return DetectorParts(network, detector, example, loss, data)


def _padded(boxes, classes):
    """True boxes and classes padded to MAX_OBJECTS, and their count."""
    padded_boxes = np.zeros((MAX_OBJECTS, 4), np.float32)
    padded_classes = np.zeros(MAX_OBJECTS, np.int32)
    padded_boxes[:len(boxes)], padded_classes[:len(classes)] = boxes, classes
    return padded_boxes, padded_classes, np.int32(len(boxes))
