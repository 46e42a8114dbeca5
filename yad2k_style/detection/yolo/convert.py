"""Darknet YOLOv2 files ↔ the package's model directory: ``convert`` and ``export``.

Reading Darknet files with their detection meaning (class names, the ``[region]``'s anchors) into memory
is :func:`yad2k_style.detection.yolo.sources.read_yolo_darknet`; this module writes them as a
:mod:`model directory <yad2k_style.artifacts>` with the same ``model.json``, and a model directory back as
Darknet files.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from yad2k_style import artifacts
from yad2k_style.darknet import export_darknet, parse_cfg
from yad2k_style.darknet.cfg import find_tree
from yad2k_style.darknet.convert import transcode_darknet
from yad2k_style.detection.yolo.sources import darknet_class_names, darknet_info
from yad2k_style.errors import FormatError
from yad2k_style.netspec import Region


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert` wrote: the model ``directory``, its ``info`` (``model.json``) and
    ``summary``, one line on the network (name, layers, parameters, output shape)."""

    directory: Path
    info: dict
    summary: str


def convert(cfg_path, weights_path, out_dir, *, classes_path=None, reorg=None, allow_extra=False,
            progress=False):
    """Convert Darknet ``cfg_path`` + ``weights_path`` into the new model directory ``out_dir``; returns
    a :class:`Conversion` (load the directory with :func:`~yad2k_style.artifacts.load_artifact`).

    The weights go from one file to the other without being held in memory
    (:func:`~yad2k_style.darknet.convert.transcode_darknet`). The arguments are
    :func:`~yad2k_style.detection.yolo.sources.read_yolo_darknet`'s.
    """
    with artifacts.new_directory(out_dir) as staging:  # checked before anything is read
        cfg = parse_cfg(cfg_path)
        class_names = darknet_class_names(cfg, classes_path)
        skeleton, weights = transcode_darknet(cfg, weights_path, staging / artifacts.WEIGHTS_FILE, reorg,
                                              allow_extra, progress)
        info = darknet_info(cfg, weights_path, skeleton, weights, reorg, class_names)
        for tree in {spec.tree.source for spec in cfg.layers if getattr(spec, "tree", None) is not None}:
            shutil.copyfile(find_tree(tree, cfg_path), staging / Path(tree).name)  # found beside model.cfg
        artifacts.finish_artifact(staging, info, cfg_path)
    shapes = [tuple(output.shape[1:]) for output in skeleton.outputs]
    outputs = f"output {shapes[0]}" if len(shapes) == 1 else f"outputs {', '.join(map(str, shapes))}"
    summary = (f"model {skeleton.name!r}, {len(skeleton.layers)} layers, {skeleton.count_params():,} params, "
               f"{outputs}")
    return Conversion(Path(out_dir), info, summary)


def export(model_path, cfg_path, weights_path):
    """Write a model directory (from ``convert`` or ``train``) as Darknet ``cfg_path`` + ``weights_path``;
    a model without a ``[region]`` gets one from its anchors and class names."""
    if Path(model_path).is_file():
        raise FormatError(model_path, "is a file; export needs a model directory "
                                      "(written by convert or train)")
    artifact = artifacts.load_artifact(artifacts.locate(model_path, "detection"))
    anchors, class_names = artifact.anchors, artifact.class_names
    region = None
    if anchors is not None and class_names is not None:
        region = Region(tuple(round(float(v), 5) for v in anchors.ravel()), classes=len(class_names),
                        num=len(anchors))
    export_darknet(artifact.model, cfg_path, weights_path, region, artifact.darknet_header)
