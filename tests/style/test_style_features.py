"""The VGG feature extractor: its outputs, frozen weights, and every way of getting weights (a file,
the published legacy format from Keras' cache, no network) with one-line errors."""

import hashlib
import time

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from yad2k_style.errors import FormatError, YadError
from yad2k_style.style import features
from yad2k_style.style.costs import STYLE_LAYERS
from yad2k_style.style.features import content_layer, style_feature_extractor

NAMES = [name for name, _ in STYLE_LAYERS]


@pytest.mark.parametrize("backbone, content, params", [("vgg16", "block5_conv3", 14_714_688),
                                                       ("vgg19", "block5_conv4", 20_024_384)])
def test_outputs_are_the_style_layers_then_the_content_layer(backbone, content, params):
    extractor = style_feature_extractor(backbone, (64, 48, 3))
    assert content_layer(backbone) == content
    assert extractor.output_names == NAMES + [content]
    shapes = [tuple(shape[1:]) for shape in extractor.output_shape]
    assert shapes == [(64, 48, 64), (32, 24, 128), (16, 12, 256), (8, 6, 512), (4, 3, 512), (4, 3, 512)]
    assert extractor.count_params() == params
    assert extractor.trainable_weights == []
    assert extractor.layers[0].name == "image"


def test_chosen_layers_and_unknown_ones():
    extractor = style_feature_extractor("vgg16", (32, 32, 3), style_layers=[("block3_conv2", 1.0)],
                                        content="block4_conv2")
    assert [tuple(s[1:]) for s in extractor.output_shape] == [(8, 8, 256), (4, 4, 512)]
    with pytest.raises(YadError, match="vgg16 has no layer block5_conv4; its layers: block1_conv1, "):
        style_feature_extractor("vgg16", (32, 32, 3), content="block5_conv4")
    with pytest.raises(YadError, match="unknown backbone 'vgg11'; choose from vgg16, vgg19"):
        style_feature_extractor("vgg11")


def test_weights_file_loads(vgg16_weights):
    vgg, path = vgg16_weights
    extractor = style_feature_extractor("vgg16", (32, 32, 3), weights=path)
    image = np.random.default_rng(0).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    expected = keras.Model(vgg.input, vgg.get_layer("block5_conv3").output)(image)
    np.testing.assert_array_equal(extractor(image)[-1], expected)


def test_wrong_weights_files_are_one_line_errors(tmp_path, vgg16_weights):
    _, vgg16_path = vgg16_weights
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"not hdf5")
    cases = [(vgg16_path, "vgg19", "not vgg19 weights without the top"),
             (junk, "vgg16", "not vgg16 weights without the top"),
             (tmp_path / "missing.weights.h5", "vgg16", "weights file not found")]
    for path, backbone, problem in cases:
        with pytest.raises(FormatError, match=problem) as error:
            style_feature_extractor(backbone, (32, 32, 3), weights=path)
        assert str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value)


def write_published_format(vgg, path):
    """Weights in the layout of Keras' published ``*_notop.h5`` files (the legacy HDF5 format)."""
    with h5py.File(path, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, vgg)


def test_imagenet_weights_come_from_keras_cache(vgg16_weights, tmp_path, monkeypatch):
    """With the published file in ``$KERAS_HOME/models`` (and its checksum as Keras expects), nothing
    is downloaded: the legacy-format file loads."""
    vgg, _ = vgg16_weights
    cached = tmp_path / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    cached.parent.mkdir()
    write_published_format(vgg, cached)
    md5 = hashlib.md5(cached.read_bytes()).hexdigest()
    monkeypatch.setitem(features.BACKBONES, "vgg16", features.BACKBONES["vgg16"][:2] + (md5,))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # any download attempt would fail
    extractor = style_feature_extractor("vgg16", (32, 32, 3), weights="imagenet")
    for name in ("block1_conv1", "block5_conv3"):
        np.testing.assert_array_equal(extractor.get_layer(name).kernel, vgg.get_layer(name).kernel)


def test_imagenet_without_network_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    for proxy in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")  # a closed port: no network, whatever the machine
    start = time.monotonic()
    with pytest.raises(YadError) as error:
        style_feature_extractor("vgg19", (32, 32, 3), weights="imagenet")
    assert time.monotonic() - start < 60
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("cannot download the ImageNet weights of vgg19 (")
    file = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert message.endswith(f"put {file} from https://storage.googleapis.com/tensorflow/keras-applications/"
                            f"vgg19/{file} into {tmp_path / 'models'}, or give --weights FILE")
