"""Evaluating the segmenters on held-out synthetic scenes, whose every pixel is known.

- **Semantic**: the confusion matrix of pixels over all scenes; a class's IoU is TP / (TP + FP + FN)
  of its pixels; the mean IoU is PASCAL VOC's, over background and the classes (the classes' mean
  alone is reported too).
- **Instances**: COCO mask AP (pycocotools, ``iouType="segm"``: the IoU of two masks is that of their
  pixels) and box AP, against each object's visible mask and its bounding box.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yad2k_style.detection.evaluate import coco_evaluate
from yad2k_style.detection.labels import LabelledDataset, Sample
from yad2k_style.detection.synthetic import (
    EVALUATION_SCENES,
    EVALUATION_SEED,
    SHAPE_CLASSES,
    class_map,
    instance_masks,
    mask_boxes,
    scenes,
)
from yad2k_style.segmentation.masks import encode_rle

BACKGROUND = "background"


@dataclass(frozen=True)
class SemanticEvaluation:
    """``per_class_iou``: name → IoU, background first (NaN for a class in neither truth nor
    prediction); ``mean_iou`` over all of them (PASCAL VOC's mIoU), ``class_mean_iou`` over the classes
    alone; ``pixel_accuracy``; ``confusion`` (L, L) pixel counts, rows true, columns predicted."""

    per_class_iou: dict
    mean_iou: float
    class_mean_iou: float
    pixel_accuracy: float
    confusion: np.ndarray

    def to_json(self):
        return {"mean_iou": self.mean_iou, "class_mean_iou": self.class_mean_iou,
                "pixel_accuracy": self.pixel_accuracy, "per_class_iou": self.per_class_iou,
                "confusion": self.confusion.tolist()}


def confusion_matrix(truth, predicted, labels):
    """Pixel counts (labels, labels) int64: entry (t, p) counts pixels of true class t predicted p.
    ``truth`` and ``predicted``: integer arrays of one shape, values in 0 … labels − 1."""
    truth, predicted = np.asarray(truth, np.int64).ravel(), np.asarray(predicted, np.int64).ravel()
    if truth.shape != predicted.shape:
        raise ValueError(f"{truth.size} true pixels, {predicted.size} predicted")
    return np.bincount(truth * labels + predicted, minlength=labels * labels).reshape(labels, labels)


def semantic_scores(confusion, class_names):
    """The :class:`SemanticEvaluation` of a confusion matrix over background and ``class_names``."""
    confusion = np.asarray(confusion, np.int64)
    hits = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, hits / union, np.nan)
    names = [BACKGROUND, *class_names]
    return SemanticEvaluation({name: float(value) for name, value in zip(names, iou, strict=True)},
                              float(np.nanmean(iou)), float(np.nanmean(iou[1:])),
                              float(hits.sum() / max(confusion.sum(), 1)), confusion)


def evaluate_semantic(segmenter, count=EVALUATION_SCENES, seed=EVALUATION_SEED, batch_size=8):
    """Run a :class:`~yad2k_style.segmentation.segmenter.SemanticSegmenter` on ``count`` scenes of stream
    ``seed`` (never trained on) → :class:`SemanticEvaluation`."""
    labels = len(segmenter.class_names) + 1
    confusion = np.zeros((labels, labels), np.int64)
    drawn = scenes(seed, count)
    predicted = segmenter.segment([s.image for s in drawn], batch_size)
    for scene, classes in zip(drawn, predicted, strict=True):
        confusion += confusion_matrix(class_map(scene), classes, labels)
    return semantic_scores(confusion, segmenter.class_names)


@dataclass(frozen=True)
class InstanceEvaluation:
    """``masks`` and ``boxes``: the :class:`~yad2k_style.detection.evaluate.Evaluation` of the masks (COCO
    segm AP) and of the boxes; ``instances`` what the segmenter found, per scene."""

    masks: object
    boxes: object
    instances: list

    def to_json(self):
        return {"mask_map_50": self.masks.map_50, "mask_map_50_95": self.masks.map_50_95,
                "mask_per_class_ap50": self.masks.per_class_ap50, "box_map_50": self.boxes.map_50,
                "box_map_50_95": self.boxes.map_50_95}


def instance_truth(drawn):
    """The instance-segmentation truth of scenes: ``(LabelledDataset of the visible boxes, per scene the
    COCO RLEs of the visible masks)``; an object drawn wholly over is left out."""
    samples, rles = [], []
    for index, scene in enumerate(drawn):
        masks = instance_masks(scene)
        boxes = mask_boxes(masks)
        shown = ~np.isnan(boxes[:, 0])
        height, width = masks.shape[1:]
        samples.append(Sample(Path(f"scene_{index:03d}.png"), width, height, boxes[shown],
                              scene.classes[shown]))
        rles.append([encode_rle(mask) for mask in masks[shown]])
    return LabelledDataset(samples, list(SHAPE_CLASSES)), rles


def evaluate_instances(segmenter, count=EVALUATION_SCENES, seed=EVALUATION_SEED, batch_size=8):
    """Run an :class:`~yad2k_style.segmentation.segmenter.InstanceSegmenter` on ``count`` scenes of stream
    ``seed`` → :class:`InstanceEvaluation`."""
    drawn = scenes(seed, count)
    dataset, truth_rles = instance_truth(drawn)
    found = segmenter.segment([s.image for s in drawn], batch_size)
    boxes = coco_evaluate(dataset, [(f.boxes, f.scores, f.classes) for f in found])
    masks = coco_evaluate(dataset, [(f.boxes, f.scores, f.classes, [encode_rle(m) for m in f.masks])
                                    for f in found], truth_masks=truth_rles)
    return InstanceEvaluation(masks, boxes, found)
