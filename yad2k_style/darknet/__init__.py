"""Darknet's format: cfg parser → specs, weights reader/writer, conversion to Keras and back.

``read_darknet`` gives a :class:`ConvertedModel` (the Keras model, anchors, class names) in
memory, ``convert`` writes a converted-model directory, ``load`` gives it back, and
``export_darknet`` writes a Keras model as cfg + weights.
"""

from yad2k_style.darknet.cfg import DarknetCfg, Net, format_cfg, parse_cfg, parse_cfg_text
from yad2k_style.darknet.convert import ConvertedModel, convert, darknet_to_keras, load, read_darknet
from yad2k_style.darknet.export import export_darknet
from yad2k_style.darknet.model import DARKNET_BN_EPSILON, build_keras
from yad2k_style.darknet.weights import Header, float_count, read_weights, write_weights

__all__ = [
    "DARKNET_BN_EPSILON",
    "ConvertedModel",
    "DarknetCfg",
    "Header",
    "Net",
    "build_keras",
    "convert",
    "darknet_to_keras",
    "export_darknet",
    "float_count",
    "format_cfg",
    "load",
    "parse_cfg",
    "parse_cfg_text",
    "read_darknet",
    "read_weights",
    "write_weights",
]
