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

from yad2k_style.darknet.weights import LayerWeights
from yad2k_style.errors import FormatError, YadError
from yad2k_style.netspec import Connected, Convolutional, Local, Reorg, build_model, weighted_layer_names

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


def keras_kernel(spec, kernel):
    """Darknet's kernel of ``spec`` (or a run of it along its first axis) → Keras' layout:
    convolution (out, in, h, w) → (h, w, in, out); connected (out, in) → (in, out); local
    (locations, n, c, h, w) → (locations, h·w·c, n)."""
    if isinstance(spec, Convolutional):
        return kernel.transpose(2, 3, 1, 0)
    if isinstance(spec, Connected):
        return kernel.T
    locations, filters, channels, height, width = kernel.shape
    return kernel.transpose(0, 3, 4, 2, 1).reshape(locations, height * width * channels, filters)


def darknet_kernel(spec, kernel):
    """The inverse of :func:`keras_kernel`."""
    if isinstance(spec, Convolutional):
        return kernel.transpose(3, 2, 0, 1)
    if isinstance(spec, Connected):
        return kernel.T
    size = spec.size
    locations, _, filters = kernel.shape
    return kernel.reshape(locations, size, size, -1, filters).transpose(0, 4, 3, 1, 2)


def _kernel_slice(spec, first, count):
    """Where a run of ``count`` of Darknet's kernel rows from ``first`` lands in the Keras kernel: the
    output axis of a convolution (last) or dense layer (second), the location axis of a local one."""
    run = slice(first, first + count)
    if isinstance(spec, Convolutional):
        return (Ellipsis, run)
    return (slice(None), run) if isinstance(spec, Connected) else (run,)


def keras_arrays(spec, layer):
    """A :class:`LayerWeights` → (the layer's Keras weights, BatchNormalization weights or None).

    Batch norm → ``[gamma, beta, moving_mean, moving_variance]`` = ``[scales, biases, rolling_mean,
    rolling_variance]``; a local layer's biases (n, out_h, out_w) → (out_h, out_w, n).
    """
    kernel = None if layer.kernel is None else keras_kernel(spec, layer.kernel)
    if layer.scales is not None:
        return [kernel], [layer.scales, layer.biases, layer.rolling_mean, layer.rolling_variance]
    biases = layer.biases
    if isinstance(spec, Local):
        biases = biases.reshape(spec.filters, -1).T  # (locations, n), reshaped by the variable's shape
    return [kernel, biases], None


def set_darknet_weights(model, convs, store=None):
    """Load Darknet's per-layer arrays (cfg order) into a model built from specs (``model.specs``) with
    ``store(variable, array)`` (by default: assign); a kernel of None was streamed in already
    (:func:`kernel_loader`)."""
    store = store or _assign
    for (spec, name, norm_name), layer in zip(weighted_layer_names(model.specs), convs, strict=True):
        layer_weights, norm_weights = keras_arrays(spec, layer)
        pairs = list(zip(model.get_layer(name).weights, layer_weights, strict=True))
        if norm_name:
            pairs += zip(model.get_layer(norm_name).weights, norm_weights, strict=True)
        for variable, array in pairs:
            if array is not None:
                store(variable, np.reshape(array, variable.shape))


def _assign(variable, array):
    variable.assign(array)


def kernel_loader(model, store=None):
    """A ``load_kernel`` for :func:`~yad2k_style.darknet.weights.read_weights`, for ``model``'s
    weighted layer at each position (cfg order). Each run of Darknet's kernel along its first axis is
    converted (:func:`keras_kernel`) into its slice of the Keras kernel: of the variable itself
    (memory: a run), or, with ``store``, of an array then given to ``store(variable, array)`` (memory:
    a kernel)."""
    layers = [(spec, name) for spec, name, _ in weighted_layer_names(model.specs)]

    def load(position, chunks):
        spec, name = layers[position]
        variable = model.get_layer(name).kernel
        if store is None:
            for first, chunk in chunks:
                variable.value[_kernel_slice(spec, first, len(chunk))].assign(keras_kernel(spec, chunk))
            return
        kernel = np.empty(variable.shape, np.float32)
        for first, chunk in chunks:
            kernel[_kernel_slice(spec, first, len(chunk))] = keras_kernel(spec, chunk)
        store(variable, kernel)

    return load


def darknet_convs(model, specs):
    """The model's weighted layers as Darknet arrays (cfg order): the inverse of :func:`keras_arrays`,
    with variances shifted by ``epsilon - 1e-5`` where a batch norm's epsilon is not Darknet's."""
    result = []
    for spec, name, norm_name in weighted_layer_names(specs):
        weights = model.get_layer(name).get_weights()
        kernel = darknet_kernel(spec, weights[0])
        norm_last = isinstance(spec, Connected)
        if norm_name is None:
            biases = weights[1].transpose(2, 0, 1).ravel() if isinstance(spec, Local) else weights[1]
            result.append(LayerWeights(biases, kernel, norm_last=norm_last))
            continue
        norm = model.get_layer(norm_name)
        gamma, beta, mean, variance = norm.get_weights()
        if norm.epsilon != DARKNET_BN_EPSILON:
            variance = variance + np.float32(norm.epsilon - DARKNET_BN_EPSILON)
            if np.any(variance < 0):
                raise YadError(f"{norm_name}: epsilon {norm.epsilon} is below Darknet's "
                               f"{DARKNET_BN_EPSILON} and variances too small to compensate")
        result.append(LayerWeights(beta, kernel, gamma, mean, variance, norm_last))
    return result
