"""Darknet's format, and nothing of what a network detects: cfg ↔ specs, weights ↔ arrays, Keras ↔ Darknet.

``parse_cfg`` gives the specs, ``read_weights`` the arrays, ``read_darknet`` a :class:`DarknetModel`
(the Keras model, its cfg, the weights header) in memory, and ``export_darknet`` writes a Keras model
built from specs as cfg + weights.
"""

from yad2k_style.darknet.cfg import DarknetCfg, Net, format_cfg, parse_cfg, parse_cfg_text
from yad2k_style.darknet.convert import DarknetModel, darknet_to_keras, read_darknet
from yad2k_style.darknet.export import export_darknet
from yad2k_style.darknet.model import DARKNET_BN_EPSILON, build_keras
from yad2k_style.darknet.weights import Header, float_count, read_weights, write_weights

__all__ = [
    "DARKNET_BN_EPSILON",
    "DarknetCfg",
    "DarknetModel",
    "Header",
    "Net",
    "build_keras",
    "darknet_to_keras",
    "export_darknet",
    "float_count",
    "format_cfg",
    "parse_cfg",
    "parse_cfg_text",
    "read_darknet",
    "read_weights",
    "write_weights",
]
