"""Darknet cfg + weights → a converted-model directory, and :func:`load` to get the model back.

The directory holds ``model.weights.h5`` (Keras weights), ``model.cfg`` (the source cfg text: the
model is rebuilt from code + cfg, never deserialised) and ``model.json`` (anchors, class names, reorg
order, input shape, source files, float count, weights header). It is written to a temporary
directory beside it and renamed into place, so a failed conversion leaves nothing.
"""

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from yad2k_style.assets import COCO_CLASSES, VOC_CLASSES, asset_path, read_classes
from yad2k_style.darknet.cfg import parse_cfg
from yad2k_style.darknet.model import DARKNET_BN_EPSILON, build_keras, set_darknet_weights
from yad2k_style.darknet.weights import Header, read_weights
from yad2k_style.errors import FormatError, YadError
from yad2k_style.files import set_default_mode

CFG_FILE = "model.cfg"
WEIGHTS_FILE = "model.weights.h5"
INFO_FILE = "model.json"
FORMAT = "yad2k-style darknet conversion 1"
DEFAULT_CLASSES = {80: COCO_CLASSES, 20: VOC_CLASSES}


@dataclass
class ConvertedModel:
    """A ready Keras model with what decoding needs.

    ``anchors``: float32 (N, 2) ``(w, h)`` in grid cells, or None without a ``[region]``;
    ``class_names`` in output order; ``header``: the source weights header (kept for export);
    ``info``: the directory's ``model.json`` (reorg order, source files, float counts …).
    """

    model: keras.Model
    anchors: np.ndarray | None
    class_names: list
    header: Header
    info: dict


def darknet_to_keras(cfg, weights, reorg=None):
    """Keras model of a parsed cfg with the arrays of a read weights file (in memory)."""
    model = build_keras(cfg, reorg)
    set_darknet_weights(model, weights.convs)
    return model


def read_darknet(cfg_path, weights_path, classes_path=None, reorg=None, allow_extra=False,
                 progress=False):
    """The :class:`ConvertedModel` of Darknet ``cfg_path`` + ``weights_path``, in memory.

    ``classes_path``: class names, one per line (default: COCO's for 80 classes, VOC's for 20).
    ``reorg``: force ``"darknet"`` or ``"space_to_depth"`` for every reorg layer (see
    :func:`~yad2k_style.darknet.model.with_reorg`).
    """
    cfg = parse_cfg(cfg_path)
    class_names = _class_names(cfg, classes_path)
    weights = read_weights(weights_path, cfg, allow_extra, progress)
    model = darknet_to_keras(cfg, weights, reorg)
    region = cfg.region
    info = {
        "format": FORMAT,
        "name": model.name,
        "source": {"cfg": Path(cfg_path).name, "weights": Path(weights_path).name},
        "input_shape": list(cfg.net.input_shape),
        "reorg": reorg,
        "anchors": None if region is None else np.reshape(region.anchors, (-1, 2)).tolist(),
        "class_names": class_names,
        "floats_read": weights.floats_read,
        "floats_in_file": weights.floats_in_file,
        "header": dataclasses.asdict(weights.header),
        "bn_epsilon": DARKNET_BN_EPSILON,
    }
    return _converted(model, info)


def convert(cfg_path, weights_path, out_dir, classes_path=None, reorg=None, allow_extra=False,
            progress=False):
    """Convert Darknet ``cfg_path`` + ``weights_path`` into the new directory ``out_dir``.

    The arguments are :func:`read_darknet`'s. Returns the :class:`ConvertedModel`.
    """
    out = Path(out_dir)
    if out.exists():
        raise YadError(f"{out}: already exists; give a new output directory")
    if not out.parent.is_dir():
        raise YadError(f"{out.parent}: no such directory")
    converted = read_darknet(cfg_path, weights_path, classes_path, reorg, allow_extra, progress)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        set_default_mode(staging)
        shutil.copyfile(cfg_path, staging / CFG_FILE)
        converted.model.save_weights(staging / WEIGHTS_FILE)
        (staging / INFO_FILE).write_text(json.dumps(converted.info, indent=1) + "\n", encoding="utf-8")
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return converted


def _class_names(cfg, classes_path):
    classes = None if cfg.region is None else cfg.region.classes
    if classes_path is not None:
        names = read_classes(classes_path)
        if classes is not None and len(names) != classes:
            raise FormatError(classes_path, f"{len(names)} class names, but {cfg.path} has classes={classes}")
        return names
    if classes is None:
        return []
    if classes not in DEFAULT_CLASSES:
        raise YadError(f"{cfg.path} has {classes} classes; give their names with --classes FILE")
    return read_classes(asset_path(DEFAULT_CLASSES[classes]))


def _converted(model, info):
    anchors = info["anchors"]
    return ConvertedModel(model, None if anchors is None else np.asarray(anchors, np.float32),
                          info["class_names"], Header(**info["header"]), info)


def load(path, input_shape=None):
    """The :class:`ConvertedModel` in a directory written by :func:`convert`.

    ``input_shape`` (height, width, channels) builds the same weights at another input size.
    """
    path = Path(path)
    info_path = path / INFO_FILE
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(info_path, "not found: not a converted-model directory") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(info_path, f"not valid JSON ({exc})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise FormatError(info_path, f"not a {FORMAT!r} file")
    model = build_keras(parse_cfg(path / CFG_FILE), info["reorg"], input_shape, info["name"])
    model.load_weights(path / WEIGHTS_FILE)
    return _converted(model, info)
