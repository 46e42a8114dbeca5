"""Readers for class lists and anchors, and the paths of the assets shipped in ``weights/``."""

import functools
from importlib import resources
from pathlib import Path

import numpy as np

from yad2k_style.errors import FormatError
from yad2k_style.files import read_text, write_text_atomically

COCO_CLASSES = "coco_classes.txt"
VOC_CLASSES = "voc_classes.txt"
YOLOV2_ANCHORS = "yolov2_anchors.txt"
YOLOV2_VOC_ANCHORS = "yolov2_voc_anchors.txt"


@functools.cache
def assets_root():
    """The folder of the shipped assets: the installed package ``yad2k_style.weights``, or, where
    ``yad2k_style`` is imported from a source checkout (Python run in the repository's root, whose
    ``yad2k_style/`` comes first on ``sys.path``), the checkout's ``weights/`` beside it."""
    try:
        return Path(str(resources.files("yad2k_style.weights")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "weights"


def asset_path(name):
    """Path of a file or folder shipped in the package's ``weights/`` folder (installed copies too)."""
    path = assets_root() / name
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such packaged asset")
    return path


def read_classes(path):
    """Class names, one per line (blank lines at the end ignored), in the model's output order."""
    lines = read_text(path).splitlines()
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
    return parse_anchors(read_text(path), path)


def format_anchors(anchors):
    """Anchors (N, 2) as the one-line text :func:`parse_anchors` reads: ``"w1, h1, w2, h2, …"``."""
    return ", ".join(f"{value:.5f}" for value in np.ravel(anchors))


def write_anchors(path, anchors):
    """Write anchors (N, 2) to ``path`` (atomically) in the format :func:`read_anchors` reads."""
    write_text_atomically(path, format_anchors(anchors) + "\n")


def write_classes(path, class_names):
    """Write class names one per line (atomically), the format :func:`read_classes` reads."""
    write_text_atomically(path, "".join(f"{name}\n" for name in class_names))


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
