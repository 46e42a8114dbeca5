"""The course's YOLO API under its short name: ``from yad2k_style.yolo import yolo_head, yolo_eval``.

The code lives in :mod:`yad2k_style.detection.yolo` (the YOLO family of the detection room); the names
of its ``__all__`` are re-exported here on first use. Nothing inside the package imports this module.
"""

import importlib

_FAMILY = "yad2k_style.detection.yolo"
__all__ = list(importlib.import_module(_FAMILY).__all__)


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_FAMILY), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
