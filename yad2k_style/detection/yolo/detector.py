"""The detector: model + anchors + class names + preprocessing + decoding + non-max suppression.

The hot path is one ``tf.function`` (:meth:`Detector.detect_batch`) from a uint8 image batch at the
network's input size and the original image sizes to padded detections in the original images'
pixels. The network in it is the model's inference form (:class:`~yad2k_style.inference.InferenceNetwork`:
batch norm folded, Winograd 3×3 convolutions) unless ``fast=False``. Preparing images (reading,
resizing) happens outside it, in threads, a batch at a time.
"""

import functools

import numpy as np
import tensorflow as tf

from yad2k_style.boxes import convert_boxes
from yad2k_style.detection.detector import COURSE_SCORE_THRESHOLD, ImageDetector
from yad2k_style.detection.nms import SUPPRESSIONS, class_agnostic_nms
from yad2k_style.detection.yolo.head import yolo_boxes_to_corners, yolo_head
from yad2k_style.detection.yolo.sources import load_detection_model
from yad2k_style.detection.yolo.yolo9000 import HIER_THRESH, tree_region_head
from yad2k_style.detection.yolo.yolov1 import detection_head
from yad2k_style.detection.yolo.yolov3 import yolo_layer_heads
from yad2k_style.errors import FormatError, YadError
from yad2k_style.images import letterbox_geometry, letterbox_image, letterbox_inputs, resize_image, to_rgb
from yad2k_style.inference import InferenceNetwork, bf16_unsupported
from yad2k_style.netspec import Detection, Region, Yolo
from yad2k_style.quantize import CALIBRATION_IMAGES, LiteRTNetwork, tflite_bytes
from yad2k_style.runtimes import runtime_network

#: Darknet's non-max suppression threshold (``nms = .45`` in ``test_detector``); the course's
#: ``yolo_eval`` uses 0.5. On the embedded detector the mAPs are the same with either; 0.45 also
#: removes a box spanning two overlapping squares (IoU 0.498 with one) in the first sample scene.
DARKNET_NMS = 0.45
PRECISIONS = ("fp32", "bf16", "int8")


class Detector(ImageDetector):
    """Runs a YOLO Keras model on images and returns detections in the images' own pixels.

    ``model``: a Keras model from float32 images (batch, H, W, 3) in [0, 1] to raw YOLO features
    (batch, H/32, W/32, A·(5 + C)); H and W are read from ``model.input_shape``.
    ``anchors``: (A, 2) ``(width, height)`` in grid-cell units. ``heads``: the Darknet heads the model
    ends in (its cfg's :class:`~yad2k_style.netspec.Region`, :class:`~yad2k_style.netspec.Yolo` or
    :class:`~yad2k_style.netspec.Detection` specs), each decoded as Darknet decodes it (YOLOv1,
    YOLO9000's tree with ``hier_thresh``, YOLOv3's three scales); None or a plain ``[region]`` is
    YOLOv2's decoding (``yolo_head``) with ``anchors``. ``letterbox=False`` stretches each
    image to H×W (the course's bicubic resize); ``letterbox=True`` is Darknet's: keep the aspect
    ratio, centre, pad with 0.5 grey. ``per_class_nms=True`` suppresses overlaps only within a class;
    ``False`` is the course's class-agnostic suppression. ``nms``: per class, ``"plain"``, ``"diou"``
    or ``"soft"`` (see :mod:`~yad2k_style.detection.nms`). A box is kept when its score ≥
    ``score_threshold``; at most ``max_boxes`` per image. Settings are fixed at construction (the
    compiled path depends on them): make another ``Detector`` around the same model to change them.
    ``fast=False`` runs the Keras model itself instead of its inference form (same outputs to ~1e-5).
    ``precision="bf16"`` runs the inference form in bfloat16 (a :class:`YadError` where the machine has
    no native bfloat16; see :mod:`yad2k_style.inference`); ``"int8"`` runs the network quantised to
    int8 by TFLite and LiteRT (:mod:`yad2k_style.quantize`), calibrated on ``calibration``: PIL images
    of the kind it will see (at most :data:`~yad2k_style.quantize.CALIBRATION_IMAGES` are used).
    ``runtime``: ``"keras"`` (the above), or ``"onnxruntime"`` / ``"openvino"``: the network exported to
    ONNX and run there (:mod:`yad2k_style.runtimes`; OpenVINO's int8 is NNCF's, on ``calibration``);
    decoding and suppression stay ours.
    """

    def __init__(self, model, anchors, class_names, *, heads=None, letterbox=False, per_class_nms=True,
                 nms="plain", score_threshold=.6, iou_threshold=DARKNET_NMS, max_boxes=10, fast=True,
                 precision="fp32", calibration=None, hier_thresh=HIER_THRESH, runtime="keras"):
        self.model = model
        self.heads = list(heads or [])
        self.anchors = None if anchors is None else np.asarray(anchors, dtype=np.float32).reshape(-1, 2)
        self.class_names = list(class_names)
        self.input_size = _input_size(model)
        self._hier_thresh = float(hier_thresh)
        _check_heads(model, self.heads, self.anchors, len(self.class_names))
        self._letterbox = bool(letterbox)
        if nms not in SUPPRESSIONS:
            raise YadError(f"unknown suppression {nms!r}; choose from {', '.join(SUPPRESSIONS)}")
        if not per_class_nms and nms != "plain":
            raise YadError("class-agnostic suppression is the course's plain one; "
                           "it has no DIoU or soft form")
        self._nms = SUPPRESSIONS[nms] if per_class_nms else class_agnostic_nms
        self._score_threshold = float(score_threshold)
        self._iou_threshold = float(iou_threshold)
        self._max_boxes = int(max_boxes)
        self.settings = {"letterbox": self._letterbox, "per_class_nms": per_class_nms, "nms": nms,
                         "score_threshold": self._score_threshold, "iou_threshold": self._iou_threshold,
                         "max_boxes": self._max_boxes}
        self.network = self._network(fast, precision, calibration, runtime)
        height, width = self.input_size
        sizes = tf.TensorSpec([None, 2], tf.int32, name="image_sizes")
        self.detect_batch = tf.function(self._detect_batch, input_signature=[
            tf.TensorSpec([None, height, width, 3], tf.uint8, name="images"), sizes])
        shapes = model.output_shape
        features = ([tf.TensorSpec(shape, tf.float32) for shape in shapes] if isinstance(shapes, list)
                    else tf.TensorSpec(shapes, tf.float32, name="features"))
        self.postprocess = tf.function(self._postprocess, input_signature=[features, sizes])

    def _network(self, fast, precision, calibration, runtime):
        """What runs the model: its inference form, the Keras model itself, an int8 LiteRT network, or
        another runtime's."""
        if precision not in PRECISIONS:
            raise YadError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
        if precision != "fp32" and not fast:
            raise YadError(f"precision {precision} needs the fast path (fast=True)")
        if (calibration is None) != (precision != "int8"):
            raise YadError("int8 precision needs calibration images, and only int8 uses them")
        if runtime != "keras":
            inputs = None if calibration is None else self.calibration_inputs(calibration)
            return runtime_network(self.model, runtime, precision, inputs)
        if precision == "bf16" and bf16_unsupported():
            raise YadError(f"precision bf16: {bf16_unsupported()}")
        if precision == "int8":
            shapes = [tuple(output.shape[1:]) for output in self.model.outputs]
            return LiteRTNetwork(tflite_bytes(self.model, self.calibration_inputs(calibration)), shapes)
        if not fast:
            return functools.partial(self.model, training=False)
        return InferenceNetwork(self.model, precision=precision)

    @classmethod
    def load(cls, source=None, **settings):
        """A detector around the model a :class:`~yad2k_style.detection.yolo.sources.ModelSource` names
        (default: the embedded detector); ``settings`` are the constructor's keywords. Without a
        ``score_threshold`` (or with None), the model's stored one (``evaluate --store``: the score
        that maximises F1) is used, else the course's 0.6."""
        loaded = load_detection_model(source)
        if settings.get("score_threshold") is None:
            settings["score_threshold"] = loaded.info.get("score_threshold", COURSE_SCORE_THRESHOLD)
        try:
            return cls(loaded.model, loaded.anchors, loaded.class_names, heads=loaded.heads, **settings)
        except YadError as exc:
            raise FormatError(loaded.source, str(exc)) from None

    def prepare(self, image):
        """An RGB PIL image of any size → uint8 array (H, W, 3) for :meth:`detect_batch`."""
        if self._letterbox:
            return letterbox_image(image, self.input_size)
        return np.asarray(resize_image(image, self.input_size), dtype=np.uint8)

    def calibration_inputs(self, images):
        """PIL images → float32 (N, H, W, 3) network inputs for int8 calibration (the first
        :data:`~yad2k_style.quantize.CALIBRATION_IMAGES`), prepared as detection prepares images."""
        chunk = [to_rgb(image) for image in images[:CALIBRATION_IMAGES]]
        if not chunk:
            raise YadError("int8 calibration needs at least one image")
        sizes = np.array([(image.height, image.width) for image in chunk], np.int32)
        return self.model_inputs(np.stack([self.prepare(image) for image in chunk]), sizes).numpy()

    def model_inputs(self, images, image_sizes):
        """The float32 batch the network sees: ``images / 255``, letterbox padding set to exactly 0.5.

        ``images``: uint8 (B, H, W, 3) from :meth:`prepare`; ``image_sizes``: int (B, 2) original
        ``(height, width)``.
        """
        if not self._letterbox:
            return tf.cast(images, tf.float32) / 255.0
        return letterbox_inputs(images, image_sizes, self.input_size)

    def _detect_batch(self, images, image_sizes):
        """uint8 (B, H, W, 3) and original sizes (B, 2) ``(height, width)`` → padded detections:
        boxes (B, M, 4) pixels ``(x_min, y_min, x_max, y_max)``, scores (B, M), classes (B, M) int32,
        valid (B,); M = ``max_boxes``, zeros after each image's ``valid`` entries."""
        features = tf.nest.map_structure(lambda t: tf.cast(t, tf.float32),
                                         self.network(self.model_inputs(images, image_sizes)))
        return self._postprocess(features, image_sizes)

    def decode(self, feats):
        """Raw features (one tensor, or one per ``[yolo]`` head) → boxes (B, N, 4) relative ``(y_min,
        x_min, y_max, x_max)`` and scores (B, N, C), each head decoded as Darknet decodes it."""
        head = self.heads[-1] if self.heads else None
        if isinstance(head, Yolo):
            box_xy, box_wh, box_scores = yolo_layer_heads(feats, self.heads, self.input_size)
        elif isinstance(head, Detection):
            box_xy, box_wh, box_scores = detection_head(feats, head)
        elif isinstance(head, Region) and head.tree is not None:
            box_xy, box_wh, box_scores = tree_region_head(feats, self.anchors, head.tree, self._hier_thresh)
        else:
            num_classes = len(self.class_names)
            box_xy, box_wh, box_confidence, box_class_probs = yolo_head(feats, self.anchors, num_classes)
            batch = tf.shape(feats)[0]
            box_scores = tf.reshape(box_confidence * box_class_probs, [batch, -1, num_classes])
            box_xy, box_wh = (tf.reshape(t, [batch, -1, 2]) for t in (box_xy, box_wh))
        return yolo_boxes_to_corners(box_xy, box_wh), box_scores

    def _postprocess(self, feats, image_sizes):
        """Raw features (B, S, S, A·(5 + C), or a list for ``[yolo]`` heads) and original sizes (B, 2)
        → :meth:`detect_batch`'s outputs."""
        boxes, box_scores = self.decode(feats)
        boxes, scores, classes, valid = self._nms(
            boxes, box_scores, self._max_boxes, self._iou_threshold, self._score_threshold)
        kept = tf.range(self._max_boxes)[None, :, None] < valid[:, None, None]
        return tf.where(kept, self._to_image_pixels(boxes, image_sizes), 0.0), scores, classes, valid

    def _to_image_pixels(self, boxes, image_sizes):
        """Relative ``(y_min, x_min, y_max, x_max)`` (B, M, 4) → original pixels ``(x_min, y_min, x_max,
        y_max)``, undoing the resize (and letterbox placement) exactly, clipped to the image."""
        input_size = tf.constant(self.input_size, tf.float32)
        sizes = tf.cast(image_sizes, tf.float32)
        if self._letterbox:
            geometry = letterbox_geometry(image_sizes, self.input_size)
            scaled, offset = (tf.cast(t, tf.float32) for t in geometry)
        else:
            scaled, offset = tf.broadcast_to(input_size, tf.shape(sizes)), tf.zeros_like(sizes)
        corners = tf.reshape(boxes, tf.concat([tf.shape(boxes)[:-1], [2, 2]], axis=0))  # (min, max) × (y, x)
        pixels = (corners * input_size - offset[:, None, None]) * (sizes / scaled)[:, None, None]
        pixels = tf.clip_by_value(pixels, 0.0, sizes[:, None, None])
        return convert_boxes(tf.reshape(pixels, tf.shape(boxes)), "yxyx", "xyxy")

def _input_size(model):
    shape = model.input_shape
    if not isinstance(shape, tuple) or len(shape) != 4 or shape[3] != 3 or None in shape[1:3]:
        raise YadError(f"model {model.name!r}: input shape {shape}, expected (batch, height, width, 3) "
                       "with fixed height and width")
    return int(shape[1]), int(shape[2])


def _check_heads(model, heads, anchors, num_classes):
    """The class names fit the heads' classes; a YOLOv2 output fits its anchors and classes."""
    for head in heads:
        if head.classes != num_classes:
            raise YadError(f"model {model.name!r}: {num_classes} class names for a head of {head.classes} "
                           f"classes")
    if heads and not isinstance(heads[-1], Region):
        return
    if anchors is None:
        raise YadError(f"model {model.name!r}: no anchors for its [region] output")
    shape = model.output_shape
    expected = len(anchors) * (5 + num_classes)
    if not isinstance(shape, tuple) or len(shape) != 4 or shape[3] != expected:
        raise YadError(f"model {model.name!r} output shape {shape} does not fit {len(anchors)} anchors × "
                       f"(5 + {num_classes} classes) = {expected} channels per grid cell")
