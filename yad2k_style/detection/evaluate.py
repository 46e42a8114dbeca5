"""COCO-style evaluation with pycocotools: mAP@[.5:.95], mAP@.5, per-class AP and a
precision-recall plot; a detector on a labelled dataset or on held-out synthetic scenes."""

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yad2k_style import plotting
from yad2k_style.boxes import convert_boxes, pairwise_iou
from yad2k_style.detection.labels import LabelledDataset, Sample, coco_dict, read_dataset
from yad2k_style.detection.synthetic import EVALUATION_SCENES, EVALUATION_SEED, SCENE_SIZE, SHAPE_CLASSES
from yad2k_style.detection.synthetic import scenes as draw_scenes
from yad2k_style.errors import FormatError, YadError


def evaluation_set(count=EVALUATION_SCENES, seed=EVALUATION_SEED):
    """``(LabelledDataset, PIL images)`` of the first ``count`` scenes of stream ``seed``; the samples
    are named ``scene_NNN.png`` (no files are written)."""
    drawn = draw_scenes(seed, count)
    samples = [Sample(Path(f"scene_{index:03d}.png"), SCENE_SIZE, SCENE_SIZE, s.boxes, s.classes)
               for index, s in enumerate(drawn)]
    return LabelledDataset(samples, list(SHAPE_CLASSES)), [s.image for s in drawn]

@dataclass(frozen=True)
class Evaluation:
    """``map_50_95`` and ``map_50`` as pycocotools reports them (area all, 100 detections);
    ``per_class_ap50`` / ``per_class_ap`` map class names to AP@.5 and AP@[.5:.95];
    ``precision`` (101,) per class at IoU 0.5 for the recall points ``recall`` (101,)."""

    map_50_95: float
    map_50: float
    per_class_ap50: dict
    per_class_ap: dict
    recall: np.ndarray
    precision: dict


def coco_evaluate(dataset, detections, truth_masks=None):
    """Evaluate ``detections`` against ``dataset`` (a :class:`~yad2k_style.detection.labels.LabelledDataset`).

    ``detections[i]`` belongs to ``dataset.samples[i]``: ``(boxes, scores, classes)`` with boxes in
    pixel corners ``(x_min, y_min, x_max, y_max)`` of that image. With ``truth_masks`` (per image, the
    COCO RLEs of its objects in the order of its boxes) and detections ``(boxes, scores, classes,
    RLEs)``, the masks are evaluated instead of the boxes (pycocotools' ``iouType="segm"``).
    """
    from pycocotools import mask as coco_mask
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth = COCO()
    truth.dataset = coco_dict(dataset)
    if truth_masks is not None:
        annotations = iter(truth.dataset["annotations"])
        for rles in truth_masks:
            for rle, annotation in zip(rles, annotations, strict=False):
                annotation.update(segmentation=rle, area=float(coco_mask.area(_rle_bytes(rle))))
    with contextlib.redirect_stdout(io.StringIO()):
        truth.createIndex()
    results = []
    for image_id, (boxes, scores, classes, *masks) in enumerate(detections, start=1):
        xywh = convert_boxes(np.asarray(boxes, float).reshape(-1, 4), "xyxy", "xywh").tolist()
        for k, (bbox, score, label) in enumerate(zip(xywh, np.ravel(scores), np.ravel(classes), strict=True)):
            results.append({"image_id": image_id, "category_id": int(label) + 1, "bbox": bbox,
                            "score": float(score), **({"segmentation": masks[0][k]} if masks else {})})
    names = dataset.class_names
    recall = np.linspace(0.0, 1.0, 101)
    if not results:
        zeros = {name: 0.0 for name in names}
        return Evaluation(0.0, 0.0, zeros, dict(zeros), recall,
                          {name: np.zeros_like(recall) for name in names})
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(truth, truth.loadRes(results), "bbox" if truth_masks is None else "segm")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    precision = evaluation.eval["precision"][:, :, :, 0, -1]  # (IoU thresholds, recall, class)
    per_class_ap50, per_class_ap, curves = {}, {}, {}
    for k, name in enumerate(names):
        per_class_ap50[name] = _mean_valid(precision[0, :, k])
        per_class_ap[name] = _mean_valid(precision[:, :, k])
        curves[name] = np.clip(precision[0, :, k], 0.0, None)
    return Evaluation(float(evaluation.stats[0]), float(evaluation.stats[1]), per_class_ap50,
                      per_class_ap, evaluation.params.recThrs, curves)


@dataclass(frozen=True)
class EvaluationRun:
    """A detector evaluated: ``source`` describes the data, ``detections[i]`` belongs to
    ``dataset.samples[i]``, ``evaluation`` holds the numbers."""

    source: str
    dataset: object
    detections: list
    evaluation: Evaluation

    @property
    def objects(self):
        return sum(len(sample.classes) for sample in self.dataset.samples)

    def to_json(self):
        """The numbers as a JSON-ready dictionary."""
        e = self.evaluation
        return {"source": self.source, "map_50": e.map_50, "map_50_95": e.map_50_95,
                "per_class_ap50": e.per_class_ap50, "per_class_ap": e.per_class_ap}


def evaluate_detector(detector, dataset_path=None, *, scenes=EVALUATION_SCENES, seed=EVALUATION_SEED,
                      batch_size=8):
    """Run ``detector`` on a labelled dataset (any layout :func:`read_dataset` reads; its classes must
    be the detector's, in order) or, without one, on ``scenes`` synthetic scenes of stream ``seed``
    (training never draws from :data:`EVALUATION_SEED`); returns an :class:`EvaluationRun`."""
    if dataset_path is not None:
        dataset = read_dataset(dataset_path)
        if dataset.class_names != detector.class_names:
            raise YadError(f"{dataset_path}: classes {dataset.class_names} are not the model's "
                           f"{detector.class_names}; if they are the same classes under other names, "
                           f"give the dataset's names as the model's (--classes FILE)")
        detections = []
        for _, result, _ in detector.detect_files([s.image_path for s in dataset.samples], batch_size):
            if isinstance(result, FormatError):
                raise result
            detections.append(result)
        source = str(dataset_path)
    else:
        dataset, images = evaluation_set(scenes, seed)
        detections = detector.detect(images, batch_size)
        source = f"{scenes} held-out scenes (seed {seed})"
    evaluation = coco_evaluate(dataset, [(d.boxes, d.scores, d.classes) for d in detections])
    return EvaluationRun(source, dataset, detections, evaluation)


@dataclass(frozen=True)
class BestF1:
    """The score threshold that maximises F1 at IoU 0.5: keep detections with score ≥ ``threshold``
    to get ``f1``, ``precision`` and ``recall``."""

    threshold: float
    f1: float
    precision: float
    recall: float


def best_f1(dataset, detections, iou_threshold=0.5):
    """``(overall, {class name: BestF1})``: each image's detections, best first, are matched greedily
    to unmatched true boxes of their class with IoU ≥ ``iou_threshold``; F1 is maximised over the
    score thresholds, for all classes together and for each alone. ``detections[i]`` is
    ``(boxes (pixel xyxy), scores, classes)`` of ``dataset.samples[i]``."""
    scores, hits, labels = [], [], []
    for sample, (boxes, box_scores, classes) in zip(dataset.samples, detections, strict=True):
        matched = np.zeros(len(sample.classes), bool)
        for index in np.argsort(-np.asarray(box_scores), kind="stable"):
            same = (sample.classes == classes[index]) & ~matched
            overlaps = pairwise_iou(np.asarray(boxes[index:index + 1], np.float64), sample.boxes)[0] * same
            hit = overlaps.size > 0 and overlaps.max() >= iou_threshold
            if hit:
                matched[int(np.argmax(overlaps))] = True
            scores.append(float(box_scores[index]))
            hits.append(hit)
            labels.append(int(classes[index]))
    scores, hits, labels = np.asarray(scores), np.asarray(hits, bool), np.asarray(labels, int)
    truth_classes = np.concatenate([s.classes for s in dataset.samples] or [np.zeros(0, int)])
    overall = _best_f1(scores, hits, len(truth_classes))
    per_class = {name: _best_f1(scores[labels == c], hits[labels == c], int(np.sum(truth_classes == c)))
                 for c, name in enumerate(dataset.class_names)}
    return overall, per_class


def _best_f1(scores, hits, truths):
    if not len(scores) or not truths:
        return BestF1(1.0, 0.0, 0.0, 0.0)
    order = np.argsort(-scores, kind="stable")
    true_positives = np.cumsum(hits[order])
    kept = np.arange(1, len(order) + 1)
    precision, recall = true_positives / kept, true_positives / truths
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(order)),
                   where=precision + recall > 0)
    best = int(np.argmax(f1))
    return BestF1(float(scores[order][best]), float(f1[best]), float(precision[best]), float(recall[best]))


@dataclass(frozen=True)
class BoxErrors:
    """At a score threshold: ``ghosts``, boxes whose IoU with every true object is below 0.5 (of any
    class); ``duplicates``, true objects matched (IoU ≥ 0.5, any class) by more than one box."""

    ghosts: int
    duplicates: int


def box_errors(dataset, detections, score_threshold=0.5, iou_threshold=0.5):
    """The :class:`BoxErrors` of ``detections`` (as :func:`best_f1` takes them) kept at
    ``score_threshold``, whatever the classes."""
    ghosts = duplicates = 0
    for sample, (boxes, scores, _) in zip(dataset.samples, detections, strict=True):
        kept = np.asarray(boxes, np.float64)[np.asarray(scores) >= score_threshold].reshape(-1, 4)
        overlaps = pairwise_iou(kept, sample.boxes) if len(sample.boxes) else np.zeros((len(kept), 0))
        ghosts += int(np.sum(overlaps.max(axis=1, initial=0.0) < iou_threshold))
        duplicates += int(np.sum((overlaps >= iou_threshold).sum(axis=0) > 1))
    return BoxErrors(ghosts, duplicates)


def oracle_evaluation(scenes=EVALUATION_SCENES, seed=EVALUATION_SEED):
    """The ceiling of any detector on the synthetic scenes: the evaluation of an oracle that outputs,
    with score 1 and the right class, each object's box snapped to the pixels the generator drew
    (:func:`~yad2k_style.detection.synthetic.visible_boxes`; a fully hidden object gets no box). Its
    losses come from rendering and occlusion alone."""
    from yad2k_style.detection.synthetic import visible_boxes

    dataset, _ = evaluation_set(scenes, seed)
    detections = []
    for drawn in draw_scenes(seed, scenes):
        boxes = visible_boxes(drawn)
        shown = ~np.isnan(boxes[:, 0])
        detections.append((boxes[shown], np.ones(int(shown.sum()), np.float32), drawn.classes[shown]))
    return coco_evaluate(dataset, detections)


def _rle_bytes(rle):
    """A JSON-ready RLE (``counts`` a string) as pycocotools' C functions take it (``counts`` bytes)."""
    counts = rle["counts"]
    return {**rle, "counts": counts.encode("ascii") if isinstance(counts, str) else counts}


def _mean_valid(values):
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else 0.0


def plot_precision_recall(evaluation, path):
    """Draw each class's precision-recall curve at IoU 0.5 into a PNG file (written atomically)."""
    figure, axes = plotting.subplots(figsize=(6, 5))
    for name, precision in evaluation.precision.items():
        axes.plot(evaluation.recall, precision,
                  label=f"{name} (AP@.5 {evaluation.per_class_ap50[name]:.3f})")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
             title=f"Precision-recall at IoU 0.5: mAP@.5 {evaluation.map_50:.3f}, "
                   f"mAP@[.5:.95] {evaluation.map_50_95:.3f}")
    axes.title.set_fontsize(9)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    plotting.save_figure(figure, path)
    return Path(path)
