"""The YOLO family: YOLOv2's architectures and builders, decoding, post-processing, the detector,
training targets, loss and training, and the Darknet import with a detection meaning.

The names below are the course's API (also importable from :mod:`yad2k_style.yolo`). They are imported
on first use, so importing a submodule that needs no TensorFlow does not pull it in.
"""

import importlib

_EXPORTS = {
    "Detections": "yad2k_style.detection.detector", "Detector": "detector",
    "yolo_boxes_to_corners": "head", "yolo_head": "head",
    "darknet19": "model", "darknet_body": "model", "yolo_body": "model", "yolo_v2": "model",
    "yolov2_shapes": "model", "yolov2_tiny": "model", "yolov2_tiny_voc": "model",
    "scale_boxes": "postprocess", "yolo_eval": "postprocess", "yolo_filter_boxes": "postprocess",
    "yolo_non_max_suppression": "postprocess",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _EXPORTS[name] if "." in _EXPORTS[name] else f"{__name__}.{_EXPORTS[name]}"
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
