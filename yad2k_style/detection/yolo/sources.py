"""Where a detection model comes from: the packaged default, a registered name, a model directory, a
``.keras`` file, or Darknet cfg + weights; with its anchors and class names.

:func:`load_detection_model` is what ``--model`` / ``--cfg --weights`` / ``--classes`` / ``--anchors``
mean everywhere (``detect``, ``evaluate``).
"""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from yad2k_style import artifacts, registry
from yad2k_style.assets import COCO_CLASSES, VOC_CLASSES, asset_path, read_anchors, read_classes
from yad2k_style.darknet import parse_cfg, read_darknet
from yad2k_style.darknet.tree import node_names
from yad2k_style.errors import FormatError, YadError
from yad2k_style.netspec import Cost, Softmax

DEFAULT_CLASSES = {80: COCO_CLASSES, 20: VOC_CLASSES}
WORDTREE_NAMES = "darknet/data/9k.names"  # YOLO9000's names, one per node of 9k.tree
TASK = "detection"


@dataclass(frozen=True, kw_only=True)
class ModelSource:
    """What the user named. ``model``: a model directory, a ``.keras`` file, or a registered name whose
    weights are packaged; or ``cfg`` with ``weights`` (Darknet files); neither: the embedded detector.
    ``classes`` and ``anchors`` are files that replace the model's own."""

    model: str | None = None
    cfg: str | None = None
    weights: str | None = None
    classes: str | None = None
    anchors: str | None = None


@dataclass
class DetectionModel:
    """A detection network and what decoding it needs: ``anchors`` float32 (A, 2) ``(w, h)`` in grid
    cells (YOLOv2's), ``class_names`` in output order, ``heads`` (the Darknet head specs of its cfg:
    empty for the course's models); ``source`` names it in messages; ``info`` is its ``model.json``
    (empty for a ``.keras`` file)."""

    model: keras.Model
    anchors: np.ndarray | None
    class_names: list
    source: str
    info: dict = field(default_factory=dict)
    heads: list = field(default_factory=list)


def darknet_class_names(cfg, classes_path=None):
    """Class names for a parsed cfg: from ``classes_path`` (their count must be its detection head's or
    its classifier's outputs), else COCO's for 80 classes, VOC's for 20 and the WordTree's for a tree
    (YOLO9000, darknet9000); none for a cfg without a head, or a classifier without default names."""
    classes, tree = _classes_of(cfg)
    if classes_path is not None:
        names = read_classes(classes_path)
        if classes is not None and len(names) != classes:
            raise FormatError(classes_path,
                              f"{len(names)} class names, but {cfg.path} has classes={classes}")
        return names
    if classes is None:
        return []
    if tree is not None:
        return node_names(tree, asset_path(WORDTREE_NAMES))
    if classes in DEFAULT_CLASSES:
        return read_classes(asset_path(DEFAULT_CLASSES[classes]))
    if is_classifier(cfg):
        return []
    raise YadError(f"{cfg.path} has {classes} classes, which have no default names; give a class-names "
                   f"file (--classes FILE on the command line, classes_path in Python)")


def _classes_of(cfg):
    """``(number of classes, WordTree or None)`` of a cfg's detection head or classifier, or
    ``(None, None)``."""
    if cfg.heads:
        return cfg.heads[-1].classes, getattr(cfg.heads[-1], "tree", None)
    if is_classifier(cfg):
        softmax = [spec for spec in cfg.layers if isinstance(spec, Softmax)][-1]
        return cfg.layer_shapes()[-1][2], softmax.tree
    return None, None


def read_yolo_darknet(cfg_path, weights_path, classes_path=None, *, reorg=None, allow_extra=False,
                      progress=False):
    """The :class:`DetectionModel` of Darknet ``cfg_path`` + ``weights_path``, in memory; its
    ``info`` is the ``model.json`` that :func:`yad2k_style.detection.yolo.convert.convert` writes.

    ``reorg``: force ``"darknet"`` or ``"space_to_depth"`` for every reorg layer; ``allow_extra``:
    accept floats left over at the end of the weights file (with a warning).
    """
    cfg = parse_cfg(cfg_path)
    class_names = darknet_class_names(cfg, classes_path)  # before reading a large weights file
    darknet = read_darknet(cfg, weights_path, reorg, allow_extra, progress)
    info = darknet_info(cfg, weights_path, darknet.model, darknet, reorg, class_names)
    return DetectionModel(darknet.model, region_anchors(cfg), class_names, str(weights_path), info, cfg.heads)


def region_anchors(cfg):
    """The ``[region]``'s anchors of a parsed cfg, float32 (A, 2) ``(w, h)`` in grid cells, or None."""
    return None if cfg.region is None else np.reshape(cfg.region.anchors, (-1, 2)).astype(np.float32)


def darknet_info(cfg, weights_path, model, read, reorg, class_names):
    """The ``model.json`` of a Darknet network: ``model`` gives its name and input shape, ``read`` (a
    :class:`~yad2k_style.darknet.DarknetModel` or :class:`~yad2k_style.darknet.weights.DarknetWeights`)
    the weights file's header and float counts."""
    anchors = region_anchors(cfg)
    provenance = {"converted_from": {"cfg": Path(cfg.path).name, "weights": Path(weights_path).name},
                  "floats_read": read.floats_read, "floats_in_file": read.floats_in_file}
    return artifacts.model_info(
        model, TASK if cfg.heads else "classification" if is_classifier(cfg) else "darknet",
        artifacts.darknet_architecture(reorg, dataclasses.asdict(read.header)),
        class_names=class_names, anchors=anchors, provenance=provenance)


def is_classifier(cfg):
    """Whether a parsed cfg ends (before any ``[cost]``) in a ``[softmax]``: a classifier."""
    layers = [spec for spec in cfg.layers if not isinstance(spec, Cost)]
    return bool(layers) and isinstance(layers[-1], Softmax)


def load_registered(name):
    """The registered model ``name`` with its packaged weights (the embedded detector, say)."""
    entry = registry.get(name)
    if entry.weights is None or entry.weights.source != "packaged":
        where = f"; they are published at {entry.weights.files[-1]}" if entry.weights else ""
        raise YadError(f"{name}: its weights are not packaged{where}. Give the downloaded files with "
                       f"--cfg CFG --weights FILE, or convert them with `yad2k-style convert`")
    cfg, weights = (asset_path(file) for file in entry.weights.files)
    loaded = read_yolo_darknet(cfg, weights, asset_path(entry.class_names) if entry.class_names else None)
    loaded.source = name
    return loaded


def load_detection_model(source=None):
    """The :class:`DetectionModel` that ``source`` (a :class:`ModelSource`) names.

    A ``.keras`` file carries no anchors or class names: the course's five anchors and the 80 COCO
    classes shipped in the package, unless ``source.anchors`` / ``source.classes`` are given.
    """
    source = source or ModelSource()
    if source.model and (source.cfg or source.weights):
        raise YadError("give either --model or --cfg with --weights, not both")
    if (source.cfg is None) != (source.weights is None):
        raise YadError("--cfg and --weights go together")
    anchors = read_anchors(source.anchors) if source.anchors else None
    class_names = read_classes(source.classes) if source.classes else None
    if source.cfg:
        loaded = read_yolo_darknet(source.cfg, source.weights, source.classes)
    elif source.model is None:
        loaded = load_registered(registry.DEFAULT_DETECTOR)
    elif not Path(source.model).exists() and source.model in registry.MODELS:
        loaded = load_registered(source.model)
    else:
        if Path(source.model).suffix.lower() in (".cfg", ".weights"):
            raise FormatError(source.model, "a Darknet file goes with --cfg FILE --weights FILE; --model "
                                            "takes a model directory, a .keras file or a registered name")
        artifact = artifacts.load_artifact(artifacts.locate(source.model, TASK))
        loaded = DetectionModel(artifact.model, artifact.anchors, artifact.class_names, source.model,
                                artifact.info, artifact.darknet_cfg.heads if artifact.darknet_cfg else [])
        if not artifact.info:  # a .keras file: the course's defaults
            course = registry.get("yolov2")
            loaded.anchors = read_anchors(asset_path(course.anchors))
            loaded.class_names = read_classes(asset_path(course.class_names))
    if anchors is not None:
        loaded.anchors = anchors
    if class_names is not None:
        loaded.class_names = class_names
    if loaded.anchors is None and not loaded.heads:
        raise YadError(f"{loaded.source}: no anchors (no [region]); give --anchors FILE")
    return loaded
