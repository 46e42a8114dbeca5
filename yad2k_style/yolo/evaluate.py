"""COCO-style evaluation with pycocotools: mAP@[.5:.95], mAP@.5, per-class AP and a
precision-recall plot; a detector on a labelled dataset or on held-out synthetic scenes."""

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yad2k_style import plotting
from yad2k_style.boxes import convert_boxes
from yad2k_style.errors import FormatError, YadError
from yad2k_style.yolo import embedded
from yad2k_style.yolo.labels import coco_dict, read_dataset
from yad2k_style.yolo.synthetic import EVALUATION_SCENES, EVALUATION_SEED


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


def coco_evaluate(dataset, detections):
    """Evaluate ``detections`` against ``dataset`` (a :class:`~yad2k_style.yolo.labels.LabelledDataset`).

    ``detections[i]`` belongs to ``dataset.samples[i]``: ``(boxes, scores, classes)`` with boxes in
    pixel corners ``(x_min, y_min, x_max, y_max)`` of that image.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth = COCO()
    truth.dataset = coco_dict(dataset)
    with contextlib.redirect_stdout(io.StringIO()):
        truth.createIndex()
    results = []
    for image_id, (boxes, scores, classes) in enumerate(detections, start=1):
        xywh = convert_boxes(np.asarray(boxes, float).reshape(-1, 4), "xyxy", "xywh").tolist()
        for bbox, score, label in zip(xywh, np.ravel(scores), np.ravel(classes), strict=True):
            results.append({"image_id": image_id, "category_id": int(label) + 1, "bbox": bbox,
                            "score": float(score)})
    names = dataset.class_names
    recall = np.linspace(0.0, 1.0, 101)
    if not results:
        zeros = {name: 0.0 for name in names}
        return Evaluation(0.0, 0.0, zeros, dict(zeros), recall,
                          {name: np.zeros_like(recall) for name in names})
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(truth, truth.loadRes(results), "bbox")
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
        dataset, images = embedded.evaluation_set(scenes, seed)
        detections = detector.detect(images, batch_size)
        source = f"{scenes} held-out scenes (seed {seed})"
    evaluation = coco_evaluate(dataset, [(d.boxes, d.scores, d.classes) for d in detections])
    return EvaluationRun(source, dataset, detections, evaluation)


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
