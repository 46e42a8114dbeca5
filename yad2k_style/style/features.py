"""The frozen VGG16/VGG19 feature extractor of style transfer: one model, image → the style layers'
activations in order, then the content layer's (the course's output lists).

Built on ``keras.applications`` without the classifier. Weights: ``"imagenet"`` (Keras' own download
into its cache, ``$KERAS_HOME/models``, default ``~/.keras/models``), a local weights file (Keras'
``.weights.h5`` or the published legacy ``.h5``), or ``None`` (random, for tests).
"""

import contextlib
import os
import socket
import warnings
from pathlib import Path

import keras

from yad2k_style import registry
from yad2k_style.errors import FormatError, YadError, first_line
from yad2k_style.style.costs import STYLE_LAYERS

#: backbone → (Keras application, the course's content layer, MD5 of the published no-top weights
#: file as Keras checks it).
BACKBONES = {
    "vgg16": (keras.applications.VGG16, "block5_conv3", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": (keras.applications.VGG19, "block5_conv4", "253f8cb515780f3b799900260a226db6"),
}
COURSE_SIZE = 400  # the course's 400×400 images
DOWNLOAD_TIMEOUT = 30  # seconds without an answer before a download is given up


def content_layer(backbone):
    """The course's content layer: ``block5_conv3`` for VGG16, ``block5_conv4`` for VGG19."""
    return _backbone(backbone)[1]


def _backbone(backbone):
    if backbone not in BACKBONES:
        raise YadError(f"unknown backbone {backbone!r}; choose from {', '.join(BACKBONES)}")
    return BACKBONES[backbone]


@contextlib.contextmanager
def _dtype_policy(policy):
    """Build layers under Keras' dtype ``policy`` (e.g. ``"mixed_float16"``); None: unchanged."""
    previous = keras.config.dtype_policy()
    if policy is not None:
        keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def style_feature_extractor(backbone="vgg16", input_shape=(COURSE_SIZE, COURSE_SIZE, 3), weights=None,
                            style_layers=STYLE_LAYERS, content=None, dtype_policy=None):
    """A frozen ``keras.Model``: images ``(batch, height, width, 3)`` → a list of the activations of
    ``style_layers`` (``(name, weight)`` pairs, in order) and then of ``content`` (default: the
    course's content layer of ``backbone``).

    ``weights``: ``"imagenet"``, a weights file path, or None (random). ``dtype_policy``:
    ``"mixed_float16"`` builds the network in half precision (the costs cast its outputs to float32).
    Input pixels go in as given: the course feeds [0, 1] images straight in.
    """
    application, default_content, _ = _backbone(backbone)
    names = [name for name, _ in style_layers] + [content or default_content]
    with _dtype_policy(dtype_policy):
        image = keras.Input(input_shape, name="image")
        vgg = application(include_top=False, weights=None, input_tensor=image)
    known = [layer.name for layer in vgg.layers if layer.name.startswith("block")]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise YadError(f"{backbone} has no layer {', '.join(unknown)}; its layers: {', '.join(known)}")
    if weights is not None:
        load_backbone_weights(vgg, backbone, imagenet_weights_file(backbone) if weights == "imagenet"
                              else weights)
    extractor = keras.Model(image, [vgg.get_layer(name).output for name in names],
                            name=f"{backbone}_style_features")
    extractor.trainable = False
    return extractor


def load_backbone_weights(vgg, backbone, path):
    """Load a weights file into the whole ``keras.applications`` VGG (no top); a
    :class:`FormatError` naming the file when it is missing or holds another architecture."""
    if not Path(path).is_file():
        raise FormatError(path, "weights file not found")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about each layer before it raises
        try:
            vgg.load_weights(path)
        except (ValueError, OSError) as exc:
            raise FormatError(path, f"not {backbone} weights without the top ({first_line(exc)})") from None


def keras_home():
    """Keras' cache folder: ``$KERAS_HOME`` as it is now, default ``~/.keras``; downloaded weights go
    into its ``models`` folder."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()


def imagenet_weights_file(backbone):
    """The published ImageNet weights (no top) of ``backbone``, from Keras' cache or downloaded into it
    by ``keras.utils.get_file``. Without a network and without the cached file: one
    :class:`YadError` line naming the file, where it comes from and where to put it."""
    _, _, md5 = _backbone(backbone)
    url = registry.get(f"{backbone}-style").weights.files[0]
    name = url.rsplit("/", 1)[-1]
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        return keras.utils.get_file(name, url, cache_dir=keras_home(), cache_subdir="models", file_hash=md5)
    except Exception as exc:  # Keras' get_file raises a bare Exception when the fetch fails
        reason = first_line(exc).rsplit(" -- ", 1)[-1]  # "URL fetch failure on URL: None -- reason"
        raise YadError(f"cannot download the ImageNet weights of {backbone} ({reason}): put {name} from "
                       f"{url} into {keras_home() / 'models'}, or give --weights FILE") from None
    finally:
        socket.setdefaulttimeout(previous)
