"""Readers for class lists and anchors, and the paths of the assets shipped in ``weights/``."""

from importlib import resources
from pathlib import Path

import numpy as np

from yad2k_style.errors import FormatError

COCO_CLASSES = "coco_classes.txt"
VOC_CLASSES = "voc_classes.txt"
YOLOV2_ANCHORS = "yolov2_anchors.txt"
YOLOV2_VOC_ANCHORS = "yolov2_voc_anchors.txt"


def asset_path(name):
    """Path of a file shipped in the package's ``weights/`` folder (works in installed copies too)."""
    path = Path(str(resources.files("yad2k_style.weights").joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such packaged asset")
    return path


def _read_text(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_classes(path):
    """Class names, one per line (blank lines at the end ignored), in the model's output order."""
    lines = _read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FormatError(path, "no class names")
    names = []
    for number, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            raise FormatError(path, "blank class name", line=number)
        if name in names:
            raise FormatError(path, f"duplicate class name {name!r}", line=number)
        names.append(name)
    return names


def parse_anchors(text, source):
    """Anchors from text such as ``"0.57, 0.67, 1.87, 2.06"`` → float32 array of shape (N, 2).

    Each pair is ``(width, height)`` in grid-cell units. ``source`` names the origin in errors.
    """
    fields = [f for f in text.replace(",", " ").split()]
    if not fields:
        raise FormatError(source, "no anchors")
    try:
        values = [float(f) for f in fields]
    except ValueError:
        bad = next(f for f in fields if not _is_float(f))
        raise FormatError(source, f"anchor value {bad!r} is not a number") from None
    if len(values) % 2:
        raise FormatError(source, f"odd number of anchor values ({len(values)}); expected w, h pairs")
    anchors = np.asarray(values, dtype=np.float32).reshape(-1, 2)
    if not np.all(np.isfinite(anchors)) or np.any(anchors <= 0):
        raise FormatError(source, "anchor sizes must be positive finite numbers")
    return anchors


def read_anchors(path):
    """Anchors from a text file of comma- or space-separated ``w, h`` pairs → array (N, 2), cell units."""
    return parse_anchors(_read_text(path), path)


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
