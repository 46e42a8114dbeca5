"""What detection produces for people: JSON records, annotated images and their file names.

Boxes in :class:`~yad2k_style.detection.yolo.detector.Detections` are pixels ``(x_min, y_min, x_max, y_max)``;
records keep that order, ``draw_boxes`` takes ``(y_min, x_min, y_max, x_max)``.
"""

from pathlib import Path

import numpy as np

from yad2k_style.boxes import convert_boxes
from yad2k_style.drawing import draw_boxes, enlarged
from yad2k_style.errors import YadError


def detection_records(path, detections, class_names):
    """One JSON-ready record per detection: ``{"file", "class", "score", "box": [x_min, y_min, x_max,
    y_max]}`` in pixels (scores to 6 decimals, boxes to 2)."""
    return [{"file": str(path), "class": class_names[int(label)], "score": round(float(score), 6),
             "box": [round(float(v), 2) for v in box]}
            for box, score, label in zip(detections.boxes, detections.scores, detections.classes,
                                         strict=True)]


def annotate(image, detections, class_names):
    """``detections`` drawn with class names and scores on PIL ``image``: in place, or on a copy
    enlarged a whole number of times when the image is small (:func:`~yad2k_style.drawing.enlarged`),
    so that labels stay readable and do not cover the objects. Returns the drawing."""
    image, scale = enlarged(image)
    corners = convert_boxes(np.asarray(detections.boxes, np.float32) * scale, "xyxy", "yxyx")
    return draw_boxes(image, corners, detections.classes, class_names, detections.scores)


def annotated_paths(paths, out_dir):
    """Where each input's annotated copy goes: the same file name in ``out_dir`` (not made here: the
    caller makes it when it writes the first, so a refused command leaves nothing). Two inputs with one
    name, or an output that would overwrite its input, are a :class:`YadError`."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise YadError(f"--out {out_dir}: exists and is not a directory")
    targets, seen = [], {}
    for path in map(Path, paths):
        target = out_dir / path.name
        if target.name in seen:
            raise YadError(f"{path} and {seen[target.name]} would both be written to {target}")
        if target.resolve() == path.resolve():
            raise YadError(f"--out {out_dir} would overwrite the input {path}")
        seen[target.name] = path
        targets.append(target)
    return targets
