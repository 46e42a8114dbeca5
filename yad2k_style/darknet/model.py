"""Darknet weights ↔ Keras weights, layer by layer, and the Keras model of a parsed cfg.

Batch norm: Darknet stores ``scales`` (gamma), ``biases`` (beta), ``rolling_mean`` and
``rolling_variance``; they go into Keras' BatchNormalization unchanged, with ``epsilon = 1e-5``, so
Keras computes ``gamma * (x - mean) / sqrt(var + 1e-5) + beta`` — Darknet's GPU formula
(``normalize_kernel`` in ``blas_kernels.cu``) exactly; its CPU ``normalize_cpu`` divides by
``sqrt(var) + 1e-6`` instead (a relative difference below 1e-5 for variances ≥ 1e-2). Keeping the
statistics raw makes Darknet → Keras → Darknet bit-exact. Exporting a model with another epsilon
(the course's 1e-3) shifts the variances by ``epsilon - 1e-5`` so Darknet computes the same function.
"""

import dataclasses

import numpy as np

from yad2k_style.darknet.weights import ConvWeights
from yad2k_style.errors import FormatError, YadError
from yad2k_style.netspec import Reorg, build_model, conv_layer_names

DARKNET_BN_EPSILON = 1e-5


def with_reorg(layers, order=None):
    """``layers`` with every :class:`Reorg` set to ``order`` (``"darknet"`` or ``"space_to_depth"``);
    ``None`` keeps each section's own (``[reorg]`` → darknet, ``[reorg3d]`` → space_to_depth)."""
    if order is None:
        return tuple(layers)
    return tuple(dataclasses.replace(s, order=order) if isinstance(s, Reorg) else s for s in layers)


def model_name(path):
    """A Keras model name from a cfg file name: ``yolov2-tiny.cfg`` → ``yolov2_tiny``."""
    stem = str(path).replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return "".join(c if c.isalnum() else "_" for c in stem) or "darknet"


def build_keras(cfg, reorg=None, input_shape=None, name=None):
    """The Keras model of ``cfg``, with Darknet's batch-norm epsilon; its kernels are zeros until
    weights are loaded (drawing random ones costs YOLOv2-608 0.4 s and 170 MB for nothing).

    ``input_shape`` (height, width, channels) overrides the cfg's ``[net]`` size; ``name`` defaults
    to the cfg file's (:func:`model_name`).
    """
    specs = with_reorg(cfg.layers, reorg)
    if not input_shape or None not in input_shape[:2]:  # a cfg whose sizes do not fit: one line
        cfg.layer_sizes(input_shape[:2] if input_shape else None)
    try:
        return build_model(specs, input_shape or cfg.net.input_shape, name or model_name(cfg.path),
                           bn_epsilon=DARKNET_BN_EPSILON, kernel_initializer="zeros")
    except ValueError as exc:
        raise FormatError(cfg.path, f"cannot build the network: {exc}") from None


def keras_arrays(conv):
    """A :class:`ConvWeights` → (Conv2D weights, BatchNormalization weights or None).

    Kernel (out, in, h, w) → (h, w, in, out); batch norm → ``[gamma, beta, moving_mean,
    moving_variance]`` = ``[scales, biases, rolling_mean, rolling_variance]``.
    """
    kernel = None if conv.kernel is None else conv.kernel.transpose(2, 3, 1, 0)
    if conv.scales is None:
        return [kernel, conv.biases], None
    return [kernel], [conv.scales, conv.biases, conv.rolling_mean, conv.rolling_variance]


def set_darknet_weights(model, convs, store=None):
    """Load Darknet's per-conv arrays (cfg order) into a model built from specs (``model.specs``) with
    ``store(variable, array)`` (by default: assign); a kernel of None was streamed in already
    (:func:`kernel_loader`)."""
    store = store or _assign
    for (conv_name, norm_name), conv in zip(conv_layer_names(model.specs), convs, strict=True):
        conv_weights, norm_weights = keras_arrays(conv)
        pairs = list(zip(model.get_layer(conv_name).weights, conv_weights, strict=True))
        if norm_name:
            pairs += zip(model.get_layer(norm_name).weights, norm_weights, strict=True)
        for variable, array in pairs:
            if array is not None:
                store(variable, array)


def _assign(variable, array):
    variable.assign(array)


def kernel_loader(model, store=None):
    """A ``load_kernel`` for :func:`~yad2k_style.darknet.weights.read_weights`, for ``model``'s
    convolution at each position (cfg order). Each chunk of Darknet's kernel (k, C_in, h, w) is
    transposed into the slice ``[..., first:first + k]`` of the Keras kernel (h, w, C_in, C_out): of the
    variable itself (memory: a chunk), or, with ``store``, of an array then given to ``store(variable,
    array)`` (memory: a kernel)."""
    names = [conv_name for conv_name, _ in conv_layer_names(model.specs)]

    def load(position, chunks):
        variable = model.get_layer(names[position]).kernel
        if store is None:
            for first, chunk in chunks:
                variable.value[..., first:first + len(chunk)].assign(chunk.transpose(2, 3, 1, 0))
            return
        kernel = np.empty(variable.shape, np.float32)
        for first, chunk in chunks:
            kernel[..., first:first + len(chunk)] = chunk.transpose(2, 3, 1, 0)
        store(variable, kernel)

    return load


def darknet_convs(model, specs):
    """The model's convolutions as Darknet arrays (cfg order): the inverse of :func:`keras_arrays`,
    with variances shifted by ``epsilon - 1e-5`` where a batch norm's epsilon is not Darknet's."""
    convs = []
    for conv_name, norm_name in conv_layer_names(specs):
        conv_weights = model.get_layer(conv_name).get_weights()
        kernel = conv_weights[0].transpose(3, 2, 0, 1)
        if norm_name is None:
            convs.append(ConvWeights(conv_weights[1], kernel))
            continue
        norm = model.get_layer(norm_name)
        gamma, beta, mean, variance = norm.get_weights()
        if norm.epsilon != DARKNET_BN_EPSILON:
            variance = variance + np.float32(norm.epsilon - DARKNET_BN_EPSILON)
            if np.any(variance < 0):
                raise YadError(f"{norm_name}: epsilon {norm.epsilon} is below Darknet's "
                               f"{DARKNET_BN_EPSILON} and variances too small to compensate")
        convs.append(ConvWeights(beta, kernel, gamma, mean, variance))
    return convs
