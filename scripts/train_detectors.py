"""Train the notes' other detectors on the synthetic scenes (issue 20), each resumable:

    python scripts/train_detectors.py ssd --out runs/ssd                  # 20 × 25,000 fresh scenes
    python scripts/train_detectors.py faster-rcnn --out runs/faster-rcnn
    python scripts/train_detectors.py rfcn --out runs/rfcn
    python scripts/train_detectors.py fast-rcnn --out runs/fast-rcnn      # selective search, cached
    python scripts/train_detectors.py rcnn --out runs/rcnn

Options: ``--epochs``, ``--scenes-per-epoch`` (for fast-rcnn and rcnn: the training scenes, whose
selective-search proposals are computed once into ``OUT/proposals/``), ``--batch-size``,
``--learning-rate``. Rerunning the same command continues an unfinished run from its last epoch; a
finished run is evaluated again. The evaluation (500 held-out scenes, pycocotools) is written to
``OUT/evaluation.json``.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from yad2k_style.detection import faster_rcnn, ssd
from yad2k_style.detection.detector import SceneDetector
from yad2k_style.detection.fast_rcnn import MAX_PROPOSALS, FastRCNN
from yad2k_style.detection.rcnn import RCNN
from yad2k_style.detection.rfcn import RFCN
from yad2k_style.detection.train import (
    Schedule,
    proposal_batches,
    proposal_cache,
    scene_batches,
    train_detector,
)
from yad2k_style.yolo.evaluate import evaluate_detector
from yad2k_style.yolo.synthetic import MAX_OBJECTS, SHAPE_CLASSES

NUM_CLASSES = len(SHAPE_CLASSES)


def ssd_setup(schedule, out):
    anchors = ssd.ssd_anchors()
    network = ssd.ssd_model(NUM_CLASSES)
    signature = (tf.TensorSpec((len(anchors),), tf.int32), tf.TensorSpec((len(anchors), 4), tf.float32))
    data = scene_batches(lambda boxes, classes, rng: ssd.ssd_targets(anchors, boxes, classes), signature,
                         schedule.scenes_per_epoch, schedule.batch_size)

    def loss(network, images, targets):
        total, confidence, localisation = ssd.ssd_loss(*targets, *network(images, training=True))
        return total, {"confidence": confidence, "localisation": localisation}

    def decode(class_logits, box_deltas):
        return ssd.ssd_decode(class_logits, box_deltas, anchors)

    return network, data, loss, SceneDetector(network, decode, SHAPE_CLASSES), None


def two_stage_setup(detector_class):
    def setup(schedule, out):
        network = detector_class(NUM_CLASSES)
        anchors = faster_rcnn.rpn_anchors()
        signature = (tf.TensorSpec((len(anchors),), tf.int32), tf.TensorSpec((len(anchors), 4), tf.float32),
                     tf.TensorSpec((MAX_OBJECTS, 4), tf.float32), tf.TensorSpec((MAX_OBJECTS,), tf.int32),
                     tf.TensorSpec((), tf.int32))

        def targets(boxes, classes, rng):
            labels, deltas = faster_rcnn.rpn_targets(anchors, boxes, rng)
            return (labels, deltas, *padded(boxes, classes))

        rng = np.random.default_rng(20)  # the head's RoI sampling, in the training step

        def loss(network, images, targets):
            return faster_rcnn.faster_rcnn_loss(network, images, targets, rng)

        data = scene_batches(targets, signature, schedule.scenes_per_epoch, schedule.batch_size)
        return network, data, loss, SceneDetector(network, faster_rcnn.decode_detections, SHAPE_CLASSES), None

    return setup


def proposal_setup(detector_class):
    def setup(schedule, out):
        network = detector_class(NUM_CLASSES)
        proposals, counts = proposal_cache(Path(out) / "proposals", schedule.scenes_per_epoch, MAX_PROPOSALS)
        samples = faster_rcnn.ROI_SAMPLES
        signature = (tf.TensorSpec((samples, 4), tf.float32), tf.TensorSpec((samples,), tf.int32),
                     tf.TensorSpec((samples, 4), tf.float32))

        def targets(boxes, classes, found, count, rng):
            rois, labels, deltas = faster_rcnn.roi_targets(found[None], np.array([count]), boxes[None],
                                                           classes[None], np.array([len(boxes)]), rng)
            return rois[0], labels[0], deltas[0]

        def loss(network, inputs, targets):
            images, _, _ = inputs
            rois, labels, deltas = targets
            valid = tf.reduce_sum(tf.cast(labels >= 0, tf.int32), 1)
            _, _, logits, box_deltas = network((images, rois, valid), training=True)
            classification, box = faster_rcnn.head_loss(labels, deltas, logits, box_deltas)
            return classification + box, {"head_class": classification, "head_box": box}

        data = proposal_batches(proposals, counts, targets, signature, schedule.batch_size)
        detector = SceneDetector(network, faster_rcnn.decode_detections, SHAPE_CLASSES,
                                 propose=MAX_PROPOSALS)
        example = (tf.zeros((1, 128, 128, 3)), tf.zeros((1, MAX_PROPOSALS, 4)), tf.zeros((1,), tf.int32))
        return network, data, loss, detector, example

    return setup


def padded(boxes, classes):
    """True boxes and classes padded to MAX_OBJECTS, and their count."""
    padded_boxes = np.zeros((MAX_OBJECTS, 4), np.float32)
    padded_classes = np.zeros(MAX_OBJECTS, np.int32)
    padded_boxes[:len(boxes)], padded_classes[:len(classes)] = boxes, classes
    return padded_boxes, padded_classes, np.int32(len(boxes))


DETECTORS = {"ssd": ssd_setup, "faster-rcnn": two_stage_setup(faster_rcnn.FasterRCNN),
             "rfcn": two_stage_setup(RFCN), "fast-rcnn": proposal_setup(FastRCNN),
             "rcnn": proposal_setup(RCNN)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detector", choices=DETECTORS)
    parser.add_argument("--out", required=True, help="run directory (created, or resumed)")
    parser.add_argument("--epochs", type=int, default=Schedule.epochs)
    parser.add_argument("--scenes-per-epoch", type=int, default=Schedule.scenes_per_epoch)
    parser.add_argument("--batch-size", type=int, default=Schedule.batch_size)
    parser.add_argument("--learning-rate", type=float, default=Schedule.learning_rate)
    args = parser.parse_args()
    schedule = Schedule(args.epochs, args.scenes_per_epoch, args.batch_size, args.learning_rate)
    network, data, loss, detector, example = DETECTORS[args.detector](schedule, args.out)
    start = time.perf_counter()
    train_detector(network, data, loss, args.out, schedule, example)
    trained = time.perf_counter() - start
    run = evaluate_detector(detector)
    figures = {**run.to_json(), "detector": args.detector, "schedule": vars(args),
               "train_seconds_this_call": trained}
    Path(args.out, "evaluation.json").write_text(json.dumps(figures, indent=1) + "\n")
    e = run.evaluation
    print(f"{args.detector}: mAP@0.5 {e.map_50:.3f}, mAP@[.5:.95] {e.map_50_95:.3f} on {run.source}")


if __name__ == "__main__":
    main()
