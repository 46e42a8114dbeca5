"""Helpers for the tests of Darknet's cfg folder: the packaged cfgs at a chosen input size with seeded
random weights, a Keras model giving every layer's output, and Darknet's own forward of each layer
(``darknet_numpy``, NumPy ports of Darknet's C functions) fed the Keras outputs of its inputs."""

import re

import darknet_numpy as dn
import keras
import numpy as np

from yad2k_style.darknet import DARKNET_BN_EPSILON, Header, parse_cfg_text, write_weights
from yad2k_style.darknet.cfg import find_tree
from yad2k_style.darknet.model import set_darknet_weights
from yad2k_style.darknet.synthetic import random_convs
from yad2k_style.darknet.zoo import zoo_cfg
from yad2k_style.netspec import (
    AvgPool,
    Connected,
    Convolutional,
    Cost,
    Crop,
    Detection,
    Dropout,
    Local,
    MaxPool,
    Region,
    Reorg,
    Route,
    Shortcut,
    Softmax,
    Upsample,
    Yolo,
    build_layers,
    resolve_index,
)

#: Darknet's three recurrent networks are not vision networks; the other 42 cfgs are the zoo.
RECURRENT = ("rnn", "rnn.train", "gru")


def resized(text, size):
    """cfg ``text`` with its ``[net]`` width and height set to ``size`` (None: unchanged)."""
    if size is None:
        return text
    for key in ("width", "height"):
        text = re.sub(rf"(?m)^\s*{key}\s*=.*$", f"{key}={size}", text, count=1)
    return text


def zoo_files(directory, name, size=None, seed=1, text=None):
    """``(cfg, cfg path, weights path, convs)``: the packaged cfg ``name`` (or ``text``) at ``size`` in
    ``directory`` with seeded random weights (version 0.2 header)."""
    source = zoo_cfg(name)
    text = resized(source.read_text() if text is None else text, size)
    cfg_path = directory / f"{name}.cfg"
    cfg_path.write_text(text)
    cfg = parse_cfg_text(text, str(source))  # the tree file is found beside the packaged cfg
    convs = random_convs(cfg, seed)
    weights_path = directory / f"{name}.weights"
    write_weights(weights_path, Header(0, 2, 0, 32_000), convs)
    return cfg, cfg_path, weights_path, convs


def all_outputs_model(cfg, convs):
    """A Keras model of ``cfg`` with ``convs`` loaded, whose outputs are every layer's output."""
    inputs = keras.Input(cfg.net.input_shape, name="input_1")
    outputs = build_layers(cfg.layers, inputs, bn_epsilon=DARKNET_BN_EPSILON, kernel_initializer="zeros")
    model = keras.Model(inputs, outputs)
    model.specs = cfg.layers
    set_darknet_weights(model, convs)
    return model


def darknet_layout(value):
    """A Keras output (1, H, W, C) or (1, N) → Darknet's (C, H, W) or (N,)."""
    value = np.asarray(value)[0]
    return value.transpose(2, 0, 1) if value.ndim == 3 else value


def darknet_forward(cfg, index, inputs, layer):
    """Darknet's output of layer ``index`` of ``cfg`` (Darknet layout) from ``inputs``: the Darknet-layout
    outputs of every earlier layer plus the network input at key -1; ``layer`` its LayerWeights or
    None. None where the layer is a head (decoded elsewhere) or a ``[reorg]`` without ``extra``."""
    spec = cfg.layers[index]
    previous = inputs[index - 1]
    flat = previous.ravel()
    if isinstance(spec, Convolutional):
        return dn.forward_convolutional(previous, layer.kernel, layer.biases, spec.size, spec.stride,
                                        spec.padding, spec.groups, spec.activation, layer.scales,
                                        layer.rolling_mean, layer.rolling_variance)
    if isinstance(spec, Connected):
        return dn.forward_connected(flat, layer.kernel, layer.biases, spec.activation, layer.scales,
                                    layer.rolling_mean, layer.rolling_variance)
    if isinstance(spec, Local):
        return dn.forward_local(previous, layer.kernel.ravel(), layer.biases, spec.filters, spec.size,
                                spec.stride, int(spec.pad), spec.activation)
    if isinstance(spec, MaxPool):
        return dn.forward_maxpool(previous, spec.size, spec.stride, spec.total_padding)
    if isinstance(spec, AvgPool):
        return dn.forward_avgpool(previous)
    if isinstance(spec, Route):
        return np.concatenate([inputs[resolve_index(i, index)] for i in spec.layers], axis=0)
    if isinstance(spec, Shortcut):
        return dn.forward_shortcut(previous, inputs[resolve_index(spec.source, index)], spec.activation,
                                   spec.alpha, spec.beta)
    if isinstance(spec, Upsample):
        return dn.upsample(previous, spec.stride, spec.scale)
    if isinstance(spec, Crop):
        return dn.forward_crop_test(previous, spec.height, spec.width, spec.noadjust)
    if isinstance(spec, Softmax) and spec.tree is not None:
        tree = dn.read_tree(find_tree(spec.tree.source, cfg.path))
        return dn.forward_softmax_tree_layer(flat, tree, spec.temperature)
    if isinstance(spec, Softmax):
        return dn.forward_softmax(flat, spec.groups, spec.temperature)
    if isinstance(spec, Reorg) and spec.extra:
        return dn.forward_reorg_extra(previous, spec.extra)
    if isinstance(spec, Dropout | Cost):
        return previous
    assert isinstance(spec, Region | Yolo | Detection | Reorg), spec
    return None


def relative_difference(got, want):
    """``max |got - want| / max |want|`` (shapes must agree)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-6))


def layer_by_layer(cfg, convs, seed=0):
    """``[(index, spec, relative difference)]``: each layer of the Keras model against Darknet's forward
    of that layer fed the Keras outputs of its inputs, on a seeded input in [0, 1)."""
    model = all_outputs_model(cfg, convs)
    x = np.random.default_rng(seed).uniform(0, 1, (1, *cfg.net.input_shape)).astype(np.float32)
    outputs = model(x)
    outputs = {i: darknet_layout(value) for i, value in enumerate(outputs)}
    outputs[-1] = darknet_layout(x)
    weights = iter(convs)
    results = []
    for index, spec in enumerate(cfg.layers):
        layer = next(weights) if isinstance(spec, Convolutional | Connected | Local) else None
        want = darknet_forward(cfg, index, outputs, layer)
        if want is not None:
            results.append((index, spec, relative_difference(outputs[index], np.reshape(want,
                                                                                        outputs[index].shape))))
    return results
