"""The one table of models: each entry names its builder and arguments and carries its metadata.

In the spirit of keras-hub's presets and timm's ``_cfg``: :data:`MODELS` maps a name to a
:class:`ModelEntry` (task, description, parameter count, input and output shapes, preprocessing, class
names and anchors where the model has them, where its weights come from, its reference layer table).
Builders are named as ``"module:function"`` strings and imported only when a model is built, so
reading the table imports no TensorFlow (``yad2k-style models`` and ``--help`` stay fast).

Adding a model is one :class:`ModelEntry` in :data:`MODELS`; ``tests/test_registry.py`` builds every
entry and checks its parameter count and shapes against the entry.
"""

import importlib
from dataclasses import asdict, dataclass, field

from yad2k_style.errors import YadError


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the network's input: ``channel_order`` pixels (uint8), resized to the
    input size by ``resize`` (``"stretch"``: bicubic, aspect ratio not kept; ``"letterbox"``:
    Darknet's), then ``(pixels * scale - mean) / std`` per channel."""

    scale: float = 1 / 255
    mean: tuple = (0.0, 0.0, 0.0)
    std: tuple = (1.0, 1.0, 1.0)
    channel_order: str = "RGB"
    resize: str = "stretch"

    def to_json(self):
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Weights:
    """Where trained weights come from.

    ``source``: ``"packaged"`` (files in the package's ``weights/`` folder, named relative to it) or
    ``"url"`` (the publisher's address; downloaded only when a user asks for ``imagenet`` weights, by
    Keras into its cache, never by tests). ``format``: ``"darknet"``
    (``files`` = cfg, weights), ``"openface-csv"`` (a folder of per-array CSV files),
    ``"model-directory"`` (a :mod:`~yad2k_style.artifacts` directory) or ``"keras"`` (a Keras weights
    file, ``.weights.h5`` or legacy ``.h5``). ``sha256``: only where the publisher gives one.
    """

    source: str
    format: str
    files: tuple
    sha256: str | None = None

    def describe(self):
        return "packaged" if self.source == "packaged" else self.files[-1]


@dataclass(frozen=True)
class ModelEntry:
    """One registered model. ``builder`` is ``"module:function"``; ``arguments`` its keywords.

    ``input_shape`` (height, width, channels) and ``output_shape`` (without the batch axis; of the last
    output for a model with several) and ``params`` are what ``build()`` gives with the default
    arguments. ``class_names`` and ``anchors``
    name packaged text files (``weights/``), ``reference_table`` a packaged layer table (``data/``).
    """

    name: str
    task: str
    builder: str
    description: str
    params: int
    input_shape: tuple
    output_shape: tuple
    arguments: dict = field(default_factory=dict)
    preprocessing: Preprocessing = Preprocessing()
    class_names: str | None = None
    anchors: str | None = None
    weights: Weights | None = None
    reference_table: str | None = None

    def builder_function(self):
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)

    def build(self, **overrides):
        """A fresh ``keras.Model`` (weights initialised, not loaded); ``overrides`` go to the builder."""
        return self.builder_function()(**{**self.arguments, **overrides})


COCO = "coco_classes.txt"
VOC = "voc_classes.txt"
WORDTREE = "darknet/data/9k.names"  # YOLO9000's 9418 WordTree nodes
PJREDDIE = "https://pjreddie.com/media/files/"  # Darknet's publisher gives no checksums
DARKNET_CFGS = "https://raw.githubusercontent.com/pjreddie/darknet/master/cfg/"
#: Keras' published ImageNet weights (the files ``keras.applications`` downloads into its cache).
KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
VGG_NOTOP = "{}_weights_tf_dim_ordering_tf_kernels_notop.h5"
#: The course's CSV copy of OpenFace's nn4.small2.v1 weights (OpenFace publishes no checksum).
KERAS_OPENFACE = "https://github.com/iwantooxxoox/Keras-OpenFace/tree/master/weights"

MODELS = {entry.name: entry for entry in (
    ModelEntry(
        "yolov2", "detection", "yad2k_style.detection.yolo.model:yolo_v2",
        "YOLOv2 608×608, 80 COCO classes: the course's model, layer for layer",
        50_983_561, (608, 608, 3), (19, 19, 425), class_names=COCO, anchors="yolov2_anchors.txt",
        weights=Weights("url", "darknet", ("yolov2.cfg", PJREDDIE + "yolov2.weights")),
        reference_table="yolov2_608_summary.tsv"),
    ModelEntry(
        "yolov2-voc", "detection", "yad2k_style.detection.yolo.model:yolo_v2",
        "YOLOv2 416×416, 20 Pascal VOC classes", 50_676_061, (416, 416, 3), (13, 13, 125),
        arguments={"input_shape": (416, 416, 3), "num_classes": 20}, class_names=VOC,
        anchors="yolov2_voc_anchors.txt",
        weights=Weights("url", "darknet", ("yolov2-voc.cfg", PJREDDIE + "yolov2-voc.weights"))),
    ModelEntry(
        "yolov2-tiny", "detection", "yad2k_style.detection.yolo.model:yolov2_tiny",
        "Tiny YOLOv2 416×416, 80 COCO classes", 11_237_145, (416, 416, 3), (13, 13, 425),
        class_names=COCO,
        weights=Weights("url", "darknet", ("yolov2-tiny.cfg", PJREDDIE + "yolov2-tiny.weights"))),
    ModelEntry(
        "yolov2-tiny-voc", "detection", "yad2k_style.detection.yolo.model:yolov2_tiny_voc",
        "Tiny YOLOv2 416×416, 20 Pascal VOC classes", 15_867_885, (416, 416, 3), (13, 13, 125),
        class_names=VOC,
        weights=Weights("url", "darknet", ("yolov2-tiny-voc.cfg", PJREDDIE + "yolov2-tiny-voc.weights"))),
    ModelEntry(
        "yolov2-shapes", "detection", "yad2k_style.detection.yolo.model:yolov2_shapes",
        "the embedded detector: circles, squares, triangles in 128×128 synthetic scenes",
        1_298_968, (128, 128, 3), (4, 4, 40), class_names="shapes/classes.txt",
        anchors="shapes/anchors.txt",
        weights=Weights("packaged", "darknet", ("shapes/yolov2-shapes.cfg", "shapes/yolov2-shapes.weights"))),
    ModelEntry(
        "facenet-nn4-small2", "face-embedding", "yad2k_style.face.model:face_reco_model",
        "OpenFace nn4.small2, the course's FaceNet Inception embedding: 96×96 face → 128-d, unit norm",
        3_743_280, (96, 96, 3), (128,),
        weights=Weights("url", "openface-csv", (KERAS_OPENFACE,))),
    ModelEntry(
        "facenet-synthetic", "face-embedding", "yad2k_style.face.model:face_reco_model",
        "nn4.small2 trained on synthetic identities: the packaged default of the face commands",
        3_743_280, (96, 96, 3), (128,),
        weights=Weights("packaged", "model-directory", ("face",))),
    ModelEntry(
        "vgg16-style", "style-features", "yad2k_style.style.features:style_feature_extractor",
        "VGG16 without the top: the course's 5 style layers and block5_conv3 (content) for style transfer",
        14_714_688, (400, 400, 3), (25, 25, 512), arguments={"backbone": "vgg16"},
        weights=Weights("url", "keras", (KERAS_APPLICATIONS + "vgg16/" + VGG_NOTOP.format("vgg16"),))),
    ModelEntry(
        "vgg19-style", "style-features", "yad2k_style.style.features:style_feature_extractor",
        "VGG19 without the top, the course's: its 5 style layers and block5_conv4 (content)",
        20_024_384, (400, 400, 3), (25, 25, 512), arguments={"backbone": "vgg19"},
        weights=Weights("url", "keras", (KERAS_APPLICATIONS + "vgg19/" + VGG_NOTOP.format("vgg19"),))),
    ModelEntry(
        "localization-shapes", "localization", "yad2k_style.foundations.localization:localization_model",
        "classification with localisation: one shape or none in 64×64 → [p_c, b_x, b_y, b_h, b_w, c_1..c_3]",
        192_744, (64, 64, 3), (8,),
        weights=Weights("packaged", "keras", ("foundations/localization-shapes.weights.h5",))),
    ModelEntry(
        "landmarks-triangles", "landmarks", "yad2k_style.foundations.landmarks:landmark_model",
        "landmark detection: a triangle's 3 corners in 64×64 → [p_c, l1x, l1y, l2x, l2y, l3x, l3y]",
        192_615, (64, 64, 3), (7,),
        weights=Weights("packaged", "keras", ("foundations/landmarks-triangles.weights.h5",))),
    ModelEntry(
        "window-classifier", "classification", "yad2k_style.foundations.sliding_windows:window_classifier",
        "the notes' sliding-window classifier: 14×14 window → background, circle, square, triangle",
        323_620, (14, 14, 3), (4,),
        weights=Weights("packaged", "keras", ("foundations/window-classifier.weights.h5",))),
    *(ModelEntry(f"{name}-shapes", "detection", f"yad2k_style.detection.{module}", description, params,
                 (128, 128, 3), output, class_names="shapes/classes.txt",
                 weights=Weights("packaged", "model-directory", (f"detection/{name}",)) if packaged else None)
      for name, module, description, params, output, packaged in (
          ("ssd", "ssd:ssd_model", "SSD: default boxes on 3 maps, hard negative mining; 128×128 scenes",
           2_172_112, (1344, 4), True),
          ("faster-rcnn", "faster_rcnn:faster_rcnn_model", "Faster R-CNN: RPN + RoI-pooled head; 128×128 "
           "scenes", 2_834_492, (50, 3, 4), True),
          ("rfcn", "rfcn:rfcn_model", "R-FCN: RPN + position-sensitive score maps; 128×128 scenes",
           1_167_988, (50, 3, 4), True),
          ("fast-rcnn", "fast_rcnn:fast_rcnn_model", "Fast R-CNN: selective search + RoI-pooled head "
           "(inputs: image, proposals, count)", 2_679_168, (None, 3, 4), True),
          ("rcnn", "rcnn:rcnn_model", "R-CNN: selective search, each region warped and classified "
           "(inputs: image, proposals, count)", 622_576, (None, 3, 4), True))),
    ModelEntry(
        "mask-rcnn-shapes", "instance-segmentation", "yad2k_style.segmentation.mask_rcnn:mask_rcnn_model",
        "Mask R-CNN: Faster R-CNN + a 28×28 mask per detection (RoIAlign); 128×128 scenes → boxes, scores, "
        "classes, count, masks", 2_961_855, (128, 128, 3), (100, 28, 28), class_names="shapes/classes.txt",
        weights=Weights("packaged", "model-directory", ("detection/mask-rcnn",))),
    ModelEntry(
        "semantic-shapes", "semantic-segmentation", "yad2k_style.segmentation.semantic:unet_model",
        "U-Net semantic segmentation: a class per pixel (background + 3 shapes); 128×128 scenes",
        484_196, (128, 128, 3), (128, 128, 4), class_names="shapes/classes.txt",
        weights=Weights("packaged", "model-directory", ("detection/semantic",))),
    ModelEntry(
        "darknet19", "classification", "yad2k_style.detection.yolo.model:darknet19",
        "Darknet-19 ImageNet classifier (YOLOv2's backbone)", 20_856_776, (224, 224, 3), (1000,),
        weights=Weights("url", "darknet", (DARKNET_CFGS + "darknet19.cfg", PJREDDIE + "darknet19.weights"))),
    *(ModelEntry(name, task, "yad2k_style.darknet.zoo:darknet_model", description, params, (size, size, 3),
                 output, arguments={"cfg": name}, class_names=classes,
                 weights=Weights("url", "darknet", (f"darknet/cfg/{name}.cfg", PJREDDIE + published)))
      for name, task, description, params, size, output, classes, published in (
          ("yolov1", "detection", "YOLOv1 448×448, 20 VOC classes: 7×7 cells of 3 boxes; [local] and "
           "[connected] layers", 197_328_243, 448, (1715,), VOC, "yolov1/yolov1.weights"),
          ("yolov1-tiny", "detection", "Tiny YOLOv1 448×448, 20 VOC classes", 27_099_950, 448, (1470,), VOC,
           "yolov1/tiny-yolov1.weights"),
          ("yolo9000", "detection", "YOLO9000 544×544: 9418 WordTree classes, tree softmax, hierarchical "
           "top prediction", 48_807_501, 544, (17, 17, 28269), WORDTREE, "yolo9000.weights"),
          ("yolov3", "detection", "YOLOv3 608×608, 80 COCO classes: Darknet-53, three [yolo] scales",
           62_001_757, 608, (76, 76, 255), COCO, "yolov3.weights"),
          ("yolov3-tiny", "detection", "Tiny YOLOv3 416×416, 80 COCO classes: two [yolo] scales", 8_858_734,
           416, (26, 26, 255), COCO, "yolov3-tiny.weights"),
          ("yolov3-spp", "detection", "YOLOv3-SPP 608×608, 80 COCO classes: spatial pyramid pooling",
           63_052_381, 608, (76, 76, 255), COCO, "yolov3-spp.weights"),
          ("darknet53", "classification", "Darknet-53 ImageNet classifier (YOLOv3's backbone)", 41_645_640,
           256, (1000,), None, "darknet53.weights"),
          ("resnet50", "classification", "ResNet-50 ImageNet classifier, Darknet's", 22_825_896, 256, (1000,),
           None, "resnet50.weights"),
          ("densenet201", "classification", "DenseNet-201 ImageNet classifier, Darknet's", 17_206_440, 256,
           (1000,), None, "densenet201.weights"),
          ("extraction", "classification", "Extraction (GoogLeNet-like) ImageNet classifier, YOLOv1's "
           "backbone", 23_455_400, 224, (1000,), None, "extraction.weights"))),
)}

#: What ``detect`` and ``evaluate`` run when no model is given: packaged, no download.
DEFAULT_DETECTOR = "yolov2-shapes"
#: What the ``face`` commands use when no model is given.
DEFAULT_FACE_MODEL = "facenet-synthetic"


def get(name):
    """The :class:`ModelEntry` called ``name``; a :class:`YadError` listing the names otherwise."""
    if name not in MODELS:
        raise YadError(f"unknown model {name!r}; registered models: {', '.join(MODELS)}")
    return MODELS[name]


def names(task=None, family=None):
    """Registered names, in table order, optionally only those of one ``task`` and built by one
    ``family`` (the package of their builder, below ``yad2k_style``: ``"detection.yolo"`` for YOLO's
    detectors, ``"detection"`` for SSD and the region detectors, ``"segmentation"``)."""
    return [name for name, entry in MODELS.items() if (task is None or entry.task == task)
            and (family is None or entry.builder.split(":")[0].rpartition(".")[0] == f"yad2k_style.{family}")]


def create_model(name, **overrides):
    """Build a registered model by name; keyword ``overrides`` go to its builder (e.g. ``input_shape``)."""
    return get(name).build(**overrides)
