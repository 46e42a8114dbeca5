"""Darknet YOLOv2 files ↔ the package's model directory: ``convert`` and ``export``.

Reading Darknet files with their detection meaning (class names, the ``[region]``'s anchors) is
:func:`yad2k_style.yolo.sources.read_yolo_darknet`; this module writes the result as a
:mod:`model directory <yad2k_style.artifacts>`, and a model directory back as Darknet files.
"""

from pathlib import Path

from yad2k_style import artifacts
from yad2k_style.darknet import export_darknet
from yad2k_style.errors import FormatError
from yad2k_style.netspec import Region
from yad2k_style.yolo.sources import read_yolo_darknet


def convert(cfg_path, weights_path, out_dir, *, classes_path=None, reorg=None, allow_extra=False,
            progress=False):
    """Convert Darknet ``cfg_path`` + ``weights_path`` into the new model directory ``out_dir``.

    The arguments are :func:`~yad2k_style.yolo.sources.read_yolo_darknet`'s; returns its
    :class:`~yad2k_style.yolo.sources.DetectionModel`.
    """
    artifacts.check_new_directory(out_dir)  # before reading a large weights file
    converted = read_yolo_darknet(cfg_path, weights_path, classes_path=classes_path, reorg=reorg,
                                  allow_extra=allow_extra, progress=progress)
    artifacts.create_artifact(out_dir, converted.model, converted.info, cfg_path)
    return converted


def export(model_path, cfg_path, weights_path):
    """Write a model directory (from ``convert`` or ``train``) as Darknet ``cfg_path`` + ``weights_path``;
    a model without a ``[region]`` gets one from its anchors and class names."""
    if Path(model_path).is_file():
        raise FormatError(model_path, "is a file; export needs a model directory "
                                      "(written by convert or train)")
    artifact = artifacts.load_artifact(model_path)
    anchors, class_names = artifact.anchors, artifact.class_names
    region = None
    if anchors is not None and class_names is not None:
        region = Region(tuple(round(float(v), 5) for v in anchors.ravel()), classes=len(class_names),
                        num=len(anchors))
    export_darknet(artifact.model, cfg_path, weights_path, region, artifact.darknet_header)
