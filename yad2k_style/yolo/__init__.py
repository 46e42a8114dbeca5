"""YOLOv2 object detection: architectures and builders, decoding, post-processing, the detector."""

from yad2k_style.yolo.detector import Detections, Detector
from yad2k_style.yolo.head import yolo_boxes_to_corners, yolo_head
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
from yad2k_style.yolo.postprocess import (
    scale_boxes,
    yolo_eval,
    yolo_filter_boxes,
    yolo_non_max_suppression,
)

__all__ = [
    "MODELS",
    "Detections",
    "Detector",
    "create_model",
    "darknet19",
    "darknet_body",
    "scale_boxes",
    "yolo_body",
    "yolo_boxes_to_corners",
    "yolo_eval",
    "yolo_filter_boxes",
    "yolo_head",
    "yolo_non_max_suppression",
    "yolo_v2",
    "yolov2_tiny",
    "yolov2_tiny_voc",
]
