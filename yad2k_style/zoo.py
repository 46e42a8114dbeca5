"""The detectors of this domain, one entry each: the network, its training data and loss, and the
detector that runs it — what ``scripts/train_detectors.py`` trains, ``bench/detectors.py`` compares
and ``detect`` / ``evaluate --model`` run.

:func:`parts` gives a :class:`DetectorParts` for a name of :data:`NAMES`; :func:`package` writes a
trained network as a model directory and :func:`load_scene_detector` loads one (or a registered name)
as a detector.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from yad2k_style import artifacts, registry
from yad2k_style.assets import asset_path
from yad2k_style.detection import faster_rcnn, ssd
from yad2k_style.detection.detector import COURSE_SCORE_THRESHOLD, SceneDetector
from yad2k_style.detection.fast_rcnn import MAX_PROPOSALS, fast_rcnn_model
from yad2k_style.detection.rcnn import rcnn_model
from yad2k_style.detection.rfcn import rfcn_model
from yad2k_style.detection.synthetic import (
    MAX_OBJECTS,
    SCENE_SIZE,
    SHAPE_CLASSES,
    class_map,
    instance_masks,
    mask_boxes,
)
from yad2k_style.detection.train import proposal_batches, proposal_cache, scene_batches
from yad2k_style.errors import YadError
from yad2k_style.runtimes import runtime_network
from yad2k_style.segmentation import mask_rcnn, semantic
from yad2k_style.segmentation.segmenter import InstanceSegmenter, SemanticSegmenter
from yad2k_style.weights_file import WeightsFileWriter

NAMES = ("ssd", "faster-rcnn", "rfcn", "fast-rcnn", "rcnn", "mask-rcnn", "semantic")
#: The segmenters among them: Mask R-CNN also detects (its boxes); the semantic one does not.
SEGMENTERS = ("mask-rcnn", "semantic")
#: The registry's name of each detector: its builder, and its packaged weights when they ship.
REGISTRY_NAMES = {name: f"{name}-shapes" for name in NAMES}
#: The registry's task of each (``"detection"`` unless named here).
TASKS = {"mask-rcnn": "instance-segmentation", "semantic": "semantic-segmentation"}
NUM_CLASSES = len(SHAPE_CLASSES)
TASK = "detection"
_EXAMPLE = tf.zeros((1, SCENE_SIZE, SCENE_SIZE, 3))  # what builds a network of images alone


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
    if name == "semantic":
        return _semantic()
    if name == "mask-rcnn":
        return _mask_rcnn()
    if name in ("faster-rcnn", "rfcn"):
        return _two_stage(name, faster_rcnn.faster_rcnn_model if name == "faster-rcnn" else rfcn_model)
    return _external_proposals(name, fast_rcnn_model if name == "fast-rcnn" else rcnn_model)


def scene_detector(name, network, class_names=SHAPE_CLASSES, score_threshold=0.01, iou_threshold=0.45,
                   max_boxes=100, runtime="keras"):
    """The :class:`SceneDetector` of detector ``name`` around ``network``: its decoding with these
    settings (boxes kept at scores ≥ ``score_threshold``, suppressed per class at IoU ``iou_threshold``,
    at most ``max_boxes``; the defaults rank every box worth ranking, for mAP), and selective search in
    front for Fast R-CNN and R-CNN. ``runtime``: ``"keras"``, or the network exported to ONNX and run
    by ``"onnxruntime"`` or ``"openvino"`` (:mod:`yad2k_style.runtimes`)."""
    settings = {"score_threshold": score_threshold, "iou_threshold": iou_threshold, "max_boxes": max_boxes}
    if name == "mask-rcnn":
        network = mask_rcnn.with_settings(network, **settings)
    if runtime != "keras":
        network = runtime_network(network, runtime)
    if name == "semantic":
        return SemanticSegmenter(network, class_names)
    if name == "mask-rcnn":
        return InstanceSegmenter(network, class_names)
    if name == "ssd":
        anchors = ssd.ssd_anchors()
        return SceneDetector(network, lambda logits, deltas: ssd.ssd_decode(logits, deltas, anchors,
                                                                             **settings), class_names)
    propose = MAX_PROPOSALS if name in ("fast-rcnn", "rcnn") else None
    return SceneDetector(network, lambda *outputs: faster_rcnn.decode_detections(*outputs, **settings),
                         class_names, propose=propose)


def package(name, network, out_dir, provenance=None):
    """Write the trained ``network`` of detector ``name`` as a new model directory ``out_dir``: its
    weights, stored as float16 (half the size; loaded back into float32), and a ``model.json`` that
    rebuilds it from the registry (:data:`REGISTRY_NAMES`)."""
    architecture = artifacts.registry_architecture(REGISTRY_NAMES[name])
    info = artifacts.model_info(network, TASKS.get(name, TASK), architecture, class_names=SHAPE_CLASSES,
                                provenance=provenance, detector=name)
    with artifacts.new_directory(out_dir) as staging:
        with WeightsFileWriter(network, Path(staging) / artifacts.WEIGHTS_FILE, dtype="float16") as writer:
            for variable in network.weights:
                writer.write(variable, variable.numpy())
        artifacts.finish_artifact(staging, info)


def initialise_from(network, model):
    """Copy into ``network`` the weights of the nested models (``features``, ``rpn``, ``head`` …) it
    shares by name and shape with the trained detector ``model`` (a registered name or a model
    directory), e.g. Mask R-CNN's from the shipped Faster R-CNN → the names copied."""
    source = _model_directory(model)
    trained = artifacts.load_artifact(source).model
    copied = []
    for layer in network.layers:
        if not layer.weights or not isinstance(layer, keras.Model):
            continue
        try:
            other = trained.get_layer(layer.name)
        except ValueError:
            continue
        if [w.shape for w in other.weights] == [w.shape for w in layer.weights]:
            layer.set_weights(other.get_weights())
            copied.append(layer.name)
    if not copied:
        raise YadError(f"{model}: shares no part with {network.name}")
    return copied


def detector_name(model):
    """The detector name (:data:`NAMES`) of ``model`` — a registered name or a model directory — when it
    is one of this domain's, else None."""
    if model is None:
        return None
    path = Path(model)
    if not path.exists():
        return {registered: name for name, registered in REGISTRY_NAMES.items()}.get(str(model))
    if path.is_dir() and (path / artifacts.INFO_FILE).is_file():
        detector = artifacts.read_info(path).get("detector")
        return detector if detector in NAMES else None
    return None


def load_scene_detector(model, score_threshold=None, **settings):
    """The :class:`SceneDetector` of ``model``: a model directory of :func:`package`, or a registered
    name whose weights are packaged. ``score_threshold`` None: the model's stored one (the F1-best,
    ``evaluate --store``), else the course's 0.6; ``settings``: :func:`scene_detector`'s other
    keywords (decoding, ``runtime``)."""
    name = detector_name(model)
    artifact = artifacts.load_artifact(_model_directory(model))
    if score_threshold is None:
        score_threshold = artifact.info.get("score_threshold", COURSE_SCORE_THRESHOLD)
    return scene_detector(name, artifact.model, artifact.class_names or SHAPE_CLASSES, score_threshold,
                          **settings)


def _model_directory(model):
    """The model directory of ``model``: itself, or a registered name's packaged one."""
    name = detector_name(model)
    if name is None:
        raise YadError(f"{model}: not one of the detectors {', '.join(REGISTRY_NAMES.values())}")
    directory = Path(model)
    if not directory.exists():
        entry = registry.get(str(model))
        if entry.weights is None:
            raise YadError(f"{model}: no packaged weights; train it with scripts/train_detectors.py {name}")
        directory = asset_path(entry.weights.files[0])
    return directory


def _ssd():
    anchors = ssd.ssd_anchors()
    network = ssd.ssd_model(NUM_CLASSES)
    signature = (tf.TensorSpec((len(anchors),), tf.int32), tf.TensorSpec((len(anchors), 4), tf.float32))

    def loss(network, images, targets):
        total, confidence, localisation = ssd.ssd_loss(*targets, *network(images, training=True))
        return total, {"confidence": confidence, "localisation": localisation}

    def data(schedule, run_dir):
        return scene_batches(lambda drawn, rng: ssd.ssd_targets(anchors, *_labels(drawn)), signature,
                             schedule.scenes_per_epoch, schedule.batch_size)

    return DetectorParts(network, scene_detector("ssd", network), _EXAMPLE, loss, data)


def _two_stage(name, builder):
    network = builder(NUM_CLASSES)
    anchors = faster_rcnn.rpn_anchors()
    signature = _two_stage_signature(anchors)
    rng = np.random.default_rng(20)  # the head's RoI sampling, in the training step

    def targets(drawn, scene_rng):
        boxes, classes = _labels(drawn)
        labels, deltas = faster_rcnn.rpn_targets(anchors, boxes, scene_rng)
        return (labels, deltas, *_padded(boxes, classes))

    def loss(network, images, batch_targets):
        return faster_rcnn.faster_rcnn_loss(network, images, batch_targets, rng)

    def data(schedule, run_dir):
        return scene_batches(targets, signature, schedule.scenes_per_epoch, schedule.batch_size)

    return DetectorParts(network, scene_detector(name, network), _EXAMPLE, loss, data)


def _external_proposals(name, builder):
    network = builder(NUM_CLASSES)
    samples = faster_rcnn.ROI_SAMPLES
    signature = (tf.TensorSpec((samples, 4), tf.float32), tf.TensorSpec((samples,), tf.int32),
                 tf.TensorSpec((samples, 4), tf.float32))

    def targets(boxes, classes, found, count, rng):
        rois, labels, deltas, _ = faster_rcnn.roi_targets(found[None], np.array([count]), boxes[None],
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

    detector = scene_detector(name, network)
    example = (tf.zeros((1, SCENE_SIZE, SCENE_SIZE, 3)), tf.zeros((1, MAX_PROPOSALS, 4)),
               tf.zeros((1,), tf.int32))
    return DetectorParts(network, detector, example, loss, data)


def _two_stage_signature(anchors):
    """A two-stage detector's training targets of one scene: RPN labels and deltas over ``anchors``, the
    true boxes and classes padded to MAX_OBJECTS, their count."""
    return (tf.TensorSpec((len(anchors),), tf.int32), tf.TensorSpec((len(anchors), 4), tf.float32),
            tf.TensorSpec((MAX_OBJECTS, 4), tf.float32), tf.TensorSpec((MAX_OBJECTS,), tf.int32),
            tf.TensorSpec((), tf.int32))


def _labels(drawn):
    """A scene's boxes float32 (N, 4) and classes int32 (N,)."""
    return drawn.boxes.astype(np.float32), drawn.classes.astype(np.int32)


def _semantic():
    network = semantic.unet_model(NUM_CLASSES)
    signature = (tf.TensorSpec((SCENE_SIZE, SCENE_SIZE), tf.uint8),)

    def data(schedule, run_dir):
        return scene_batches(lambda drawn, rng: (class_map(drawn),), signature, schedule.scenes_per_epoch,
                             schedule.batch_size)

    return DetectorParts(network, SemanticSegmenter(network, SHAPE_CLASSES), _EXAMPLE,
                         lambda network, images, targets: semantic.semantic_loss(network, images, targets[0]),
                         data)


def _mask_rcnn():
    network = mask_rcnn.mask_rcnn_model(NUM_CLASSES)
    anchors = faster_rcnn.rpn_anchors()
    masks = tf.TensorSpec((MAX_OBJECTS, SCENE_SIZE, SCENE_SIZE), tf.uint8)
    signature = (*_two_stage_signature(anchors), masks)
    rng = np.random.default_rng(21)  # the head's RoI sampling, in the training step

    def targets(drawn, scene_rng):
        masks = instance_masks(drawn)
        boxes = mask_boxes(masks)
        shown = ~np.isnan(boxes[:, 0])  # the true boxes are the masks' (an object wholly covered: none)
        boxes, classes, masks = boxes[shown], drawn.classes[shown].astype(np.int32), masks[shown]
        labels, deltas = faster_rcnn.rpn_targets(anchors, boxes, scene_rng)
        padded_masks = np.zeros((MAX_OBJECTS, SCENE_SIZE, SCENE_SIZE), np.uint8)
        padded_masks[:len(masks)] = masks
        return (labels, deltas, *_padded(boxes, classes), padded_masks)

    def loss(network, images, batch_targets):
        return mask_rcnn.mask_rcnn_loss(network, images, batch_targets, rng)

    def data(schedule, run_dir):
        return scene_batches(targets, signature, schedule.scenes_per_epoch, schedule.batch_size)

    return DetectorParts(network, scene_detector("mask-rcnn", network), _EXAMPLE, loss, data)


def _padded(boxes, classes):
    """True boxes and classes padded to MAX_OBJECTS, and their count."""
    padded_boxes = np.zeros((MAX_OBJECTS, 4), np.float32)
    padded_classes = np.zeros(MAX_OBJECTS, np.int32)
    padded_boxes[:len(boxes)], padded_classes[:len(classes)] = boxes, classes
    return padded_boxes, padded_classes, np.int32(len(boxes))
