"""YOLOv2 object detection: architectures and builders."""

from yad2k_style.yolo.model import (
    MODELS,
    create_model,
    darknet19,
    darknet_body,
    yolo_body,
    yolo_v2,
    yolov2_tiny,
    yolov2_tiny_voc,
)

__all__ = [
    "MODELS",
    "create_model",
    "darknet19",
    "darknet_body",
    "yolo_body",
    "yolo_v2",
    "yolov2_tiny",
    "yolov2_tiny_voc",
]
