"""Darknet's own cfg folder, packaged (``weights/darknet/cfg/``): its 42 vision networks by name.

``darknet_model("yolov3")`` is the Keras model of ``yolov3.cfg`` (kernels zero until weights are loaded),
the builder behind the registry's Darknet entries (``yad2k-style models``).
"""

from yad2k_style.assets import asset_path, assets_root

CFG_FOLDER = "darknet/cfg"


def zoo_names():
    """The packaged cfgs' names (``yolov3``, ``resnet50`` …), sorted."""
    return sorted(path.stem for path in (assets_root() / CFG_FOLDER).glob("*.cfg"))


def zoo_cfg(name):
    """The path of the packaged cfg ``name`` (``"yolov3"``)."""
    return asset_path(f"{CFG_FOLDER}/{name}.cfg")


def darknet_model(cfg, input_shape=None):
    """The Keras model of the packaged cfg ``cfg`` (a name: ``"yolov3"``), at its ``[net]`` size or
    ``input_shape`` (height, width, channels)."""
    from yad2k_style.darknet import build_keras, parse_cfg  # TensorFlow, only when a model is built

    return build_keras(parse_cfg(zoo_cfg(cfg)), input_shape=input_shape)
