"""Darknet cfg + weights → a Keras model in memory, with what was read (header, float counts).

Nothing here knows what the network detects: class names and the meaning of a ``[region]``'s anchors
belong to the domain that uses the model (:mod:`yad2k_style.detection.yolo.convert`).
"""

from dataclasses import dataclass

import keras

from yad2k_style.darknet.cfg import DarknetCfg, parse_cfg
from yad2k_style.darknet.model import build_keras, kernel_loader, set_darknet_weights
from yad2k_style.darknet.weights import Header, read_weights
from yad2k_style.weights_file import WeightsFileWriter, build_skeleton


@dataclass
class DarknetModel:
    """A converted network: the Keras ``model``, the parsed ``cfg`` (its ``region`` included), the
    weights file's ``header``, and the floats read out of the floats in the file."""

    model: keras.Model
    cfg: DarknetCfg
    header: Header
    floats_read: int
    floats_in_file: int


def darknet_to_keras(cfg, weights, reorg=None):
    """Keras model of a parsed cfg with the arrays of a read weights file (in memory)."""
    model = build_keras(cfg, reorg)
    set_darknet_weights(model, weights.convs)
    return model


def read_darknet(cfg, weights_path, reorg=None, allow_extra=False, progress=False):
    """The :class:`DarknetModel` of ``cfg`` (a path, or a :class:`DarknetCfg` already parsed) +
    ``weights_path``.

    ``reorg``: force ``"darknet"`` or ``"space_to_depth"`` for every reorg layer (see
    :func:`~yad2k_style.darknet.model.with_reorg`). ``allow_extra``: accept floats left over at the end
    of the file, with a warning. ``progress``: a progress bar of the floats read.
    """
    cfg = cfg if isinstance(cfg, DarknetCfg) else parse_cfg(cfg)
    model = build_keras(cfg, reorg)  # the kernels stream from the file into it: no second copy in memory
    weights = read_weights(weights_path, cfg, allow_extra, progress, load_kernel=kernel_loader(model))
    set_darknet_weights(model, weights.convs)
    return DarknetModel(model, cfg, weights.header, weights.floats_read, weights.floats_in_file)


def transcode_darknet(cfg, weights_path, out_path, reorg=None, allow_extra=False, progress=False):
    """Write ``weights_path`` as the Keras weights file ``out_path`` of ``cfg``'s model (the file
    ``save_weights`` of :func:`read_darknet`'s model writes) without holding the weights: each kernel is
    transposed and written as it is read, so memory holds one kernel. The arguments are
    :func:`read_darknet`'s.

    Returns ``(skeleton, weights)``: the model built without values
    (:func:`~yad2k_style.weights_file.build_skeleton`: its names, shapes and parameter counts, to
    describe it, not to run it) and the :class:`~yad2k_style.darknet.weights.DarknetWeights` read (its
    kernels None).
    """
    cfg = cfg if isinstance(cfg, DarknetCfg) else parse_cfg(cfg)
    skeleton = build_skeleton(lambda: build_keras(cfg, reorg))
    with WeightsFileWriter(skeleton, out_path) as writer:
        weights = read_weights(weights_path, cfg, allow_extra, progress,
                               load_kernel=kernel_loader(skeleton, writer.write))
        set_darknet_weights(skeleton, weights.convs, writer.write)
    return skeleton, weights
