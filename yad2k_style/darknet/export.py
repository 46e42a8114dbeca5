"""Keras → Darknet: write a ``.cfg`` and ``.weights`` pair that Darknet-compatible tools load."""

from yad2k_style.darknet.cfg import Net, format_cfg
from yad2k_style.darknet.model import darknet_convs
from yad2k_style.darknet.weights import Header, write_weights
from yad2k_style.errors import YadError
from yad2k_style.files import atomic_path, write_text_atomically
from yad2k_style.netspec import Region


def export_darknet(model, cfg_path, weights_path, region=None, header=None):
    """Write a Keras ``model`` built from specs (by ``netspec.build_model``: ``yolo_v2()``, a converted
    Darknet model …) as Darknet ``cfg_path`` + ``weights_path``.

    The architecture is the model's spec list (``model.specs``); ``region`` (a
    :class:`~yad2k_style.netspec.Region`) is appended when the specs have none. ``header`` defaults to
    version 0.2.0 with ``seen = 0``. Batch norms with an epsilon other than Darknet's 1e-5 have their
    variances shifted to compute the same function. Reorg layers in ``space_to_depth`` order are
    written as ``[reorg3d]``.
    """
    specs = getattr(model, "specs", None)
    if specs is None:
        raise YadError(f"model {model.name!r} has no spec list; build it with netspec.build_model")
    if region is not None and not any(isinstance(spec, Region) for spec in specs):
        specs = specs + (region,)
    height, width, channels = model.input_shape[1:]
    if None in (height, width, channels):
        raise YadError(f"model {model.name!r} has input shape {model.input_shape}; "
                       f"Darknet needs a fixed size")
    convs = darknet_convs(model, specs)
    write_text_atomically(cfg_path, format_cfg(Net(width, height, channels), specs))
    with atomic_path(weights_path) as temporary:
        write_weights(temporary, header or Header(), convs)
