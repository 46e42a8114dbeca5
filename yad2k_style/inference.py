"""The inference form of a Keras convolutional network: the same outputs, computed faster.

:class:`InferenceNetwork` walks a functional Keras model once and replaces each convolution, the batch
normalisation after it and the activation after that by one step: the batch norm folded into the
kernel and bias, the leaky ReLU applied in the same compiled function, and 3×3 stride-1 convolutions
computed with Winograd's F(m×m, 3×3) (:mod:`yad2k_style.winograd`) where :func:`winograd_tile` says
it pays. Every other layer (pooling, reorg, concatenation …) runs as the Keras layer itself. Outputs
match the model's to float32 round-off (about 1e-5 of their scale); the Keras model is left untouched.

``precision="bf16"`` computes in bfloat16 (direct convolutions, oneDNN's bf16 kernels on CPUs with
AVX512-BF16 or AMX, or a GPU): faster, with errors of about 1 % of the outputs' scale; the output is
float32 again. It is an option, never the default (:func:`bf16_unsupported` says why a machine lacks it).
"""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from yad2k_style import winograd

#: Where Winograd F(2×2, 3×3) beats the direct convolution (``bench/yolo_inference.py --layers``): at
#: least this many input channels, on at least this many rows and columns. Below, the transforms (memory
#: traffic over the activations) cost more than the products save: YOLOv2-608's 304×304×32 and
#: 152×152×64 layers stay direct. F(4×4) and F(6×6) save more products but lost on every YOLOv2-608 layer
#: at batch 1 (fewer, larger tiles: short matrix products and 2.25× the transformed kernel to read).
WINOGRAD_MIN_CHANNELS = 128
WINOGRAD_MIN_SIZE = 12
WINOGRAD_TILE = 2


PRECISIONS = {"fp32": tf.float32, "bf16": tf.bfloat16}
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def bf16_unsupported():
    """Why this machine has no fast bfloat16 (a phrase), or None when it has: a GPU, or a CPU with
    AVX512-BF16 or AMX (Linux's /proc/cpuinfo flags)."""
    if tf.config.list_physical_devices("GPU"):
        return None
    cpuinfo = Path("/proc/cpuinfo")
    flags = set()
    if cpuinfo.is_file():
        flags = {flag for line in cpuinfo.read_text().splitlines() if line.startswith("flags")
                 for flag in line.split(":", 1)[1].split()}
    if flags & set(BF16_CPU_FLAGS):
        return None
    return "this CPU has neither AVX512-BF16 nor AMX (flags avx512_bf16, amx_bf16) and there is no GPU"


def winograd_tile(height, width, in_channels):
    """The Winograd output tile m for a stride-1 "same" 3×3 convolution on (height, width) inputs with
    ``in_channels`` channels, or None for the direct convolution (see :data:`WINOGRAD_MIN_CHANNELS`)."""
    if in_channels >= WINOGRAD_MIN_CHANNELS and min(height, width) >= WINOGRAD_MIN_SIZE:
        return WINOGRAD_TILE
    return None


class ConvStep(tf.Module):
    """One convolution with its bias and optional leaky ReLU: Winograd F(``tile``×``tile``, 3×3) for a
    stride-1 "same" 3×3 kernel on inputs of ``input_size`` (height, width), else direct.

    ``kernel`` (kh, kw, C_in / groups, C_out) and ``bias`` (C_out,) as Keras stores them (batch norm
    already folded in); ``strides``, ``padding`` ("SAME"/"VALID") and ``dilations`` as ``tf.nn.conv2d``'s.
    """

    def __init__(self, kernel, bias, negative_slope=None, tile=None, input_size=None, strides=(1, 1),
                 padding="SAME", dilations=(1, 1), name="conv", dtype=tf.float32, groups=1):
        super().__init__(name=name)
        self.strides, self.padding, self.dilations = strides, padding, dilations
        self.negative_slope = negative_slope
        self.tile = tile
        # TensorFlow's CPU kernels have no grouped convolution (a kernel of fewer input channels than
        # the input's, ResNeXt's); XLA compiles one, as Keras' Conv2D does for groups.
        self._convolve = self._convolve_with
        if groups > 1:
            self._convolve = tf.function(self._convolve_with, jit_compile=True)
        self.dtype = dtype
        if tile:  # a matrix product's operand: a variable costs nothing more than a constant here
            self.kernel = tf.Variable(tf.cast(winograd.transform_kernel(kernel, tile), dtype),
                                      trainable=False, name=f"{name}_kernel")
        else:
            # a NumPy array that each trace embeds as a graph constant: oneDNN keeps its reordered
            # (blocked) copy of a constant filter between calls, and reorders a variable's on every call
            # (19 ms of YOLOv2-608's 49 ms in bf16 on AMX: ONEDNN_VERBOSE, bench/README.md). The price is
            # memory while the graph is built (YOLOv2-608 in bf16: a peak of 3.7 GB against 1.8 GB).
            self.kernel = tf.cast(np.asarray(kernel, np.float32), dtype).numpy()
        self.bias = tf.Variable(tf.cast(bias, dtype), trainable=False, name=f"{name}_bias")
        if tile:
            self.height, self.width = input_size
            self._products = tf.function(self._products_of, jit_compile=True)
            self._finish = tf.function(self._finish_from, jit_compile=True)

    def __call__(self, x):
        x = tf.cast(x, self.dtype)
        if not self.tile:
            return self._activate(tf.nn.bias_add(self._convolve(x), self.bias))
        return self._finish(tf.linalg.matmul(self._products(x), self.kernel), tf.shape(x)[0])

    def _convolve_with(self, x):
        return tf.nn.conv2d(x, tf.constant(self.kernel), self.strides, self.padding, dilations=self.dilations)

    def _products_of(self, x):
        return winograd.input_transform(x, self.tile)

    def _finish_from(self, products, batch):
        y = winograd.output_transform(products, self.tile, batch, self.height, self.width)
        return self._activate(y + self.bias)

    def _activate(self, y):
        return y if self.negative_slope is None else tf.nn.leaky_relu(y, alpha=self.negative_slope)


class InferenceNetwork(tf.Module):
    """``model``'s forward pass for inference: float32 (B, H, W, 3) → the model's output.

    ``winograd=False`` keeps every convolution direct (batch norm still folded). The input size must be
    fixed for Winograd layers (they are planned per layer size); ``__call__`` is a ``tf.function``.
    ``precision``: ``"fp32"`` or ``"bf16"`` (see the module's notes; bf16 convolutions are all direct).
    """

    def __init__(self, model, winograd=True, precision="fp32"):
        super().__init__(name=f"{model.name}_inference")
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
        self.precision = precision
        dtype = PRECISIONS[precision]
        if len(model.inputs) != 1:
            raise ValueError(f"model {model.name!r}: one input expected")
        self._input = id(model.inputs[0])
        self._outputs = [id(output) for output in model.outputs]
        consumers = {}
        for layer in model.layers:
            for tensor in _inputs_of(layer):
                consumers.setdefault(id(tensor), []).append(layer)
        self._steps = []  # (callable, input ids, output id)
        absorbed = set()
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer) or id(layer) in absorbed:
                continue
            if isinstance(layer, keras.layers.Conv2D) and type(layer) is keras.layers.Conv2D:
                step, fused = _fold(layer, consumers, winograd and precision == "fp32", dtype)
                absorbed.update(id(f) for f in fused)
                output = (fused[-1] if fused else layer).output
                self._steps.append((step, [id(layer.input)], id(output)))
            else:  # call(), not __call__: Keras would cast bfloat16 inputs back to float32
                self._steps.append((layer.call, [id(t) for t in _inputs_of(layer)], id(layer.output)))
        self._compiled = tf.function(self._forward)

    def __call__(self, x):
        """float32 images (B, H, W, C) → the model's output (a list for a model of several outputs), as
        ``model(x, training=False)``."""
        return self._compiled(x)

    def _forward(self, x):
        values = {self._input: x}
        for step, inputs, output in self._steps:
            arguments = [values[i] for i in inputs]
            values[output] = step(arguments[0] if len(arguments) == 1 else arguments)
        outputs = [tf.cast(values[output], tf.float32) for output in self._outputs]
        return outputs if len(outputs) > 1 else outputs[0]


def _inputs_of(layer):
    if isinstance(layer, keras.layers.InputLayer):
        return []
    inputs = layer.input
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _only_consumer(tensor, consumers, kind):
    users = consumers.get(id(tensor), [])
    return users[0] if len(users) == 1 and isinstance(users[0], kind) else None


def _fold(conv, consumers, use_winograd, dtype):
    """The step for ``conv`` and the layers it absorbs: a BatchNormalization over channels that is
    its output's only consumer, then a LeakyReLU that is the only consumer of that."""
    kernel = conv.kernel.numpy().astype(np.float64)
    bias = (conv.bias.numpy().astype(np.float64) if conv.use_bias
            else np.zeros(kernel.shape[-1]))
    fused = []
    activation = keras.activations.serialize(conv.activation)
    activation = activation if isinstance(activation, str) else activation.get("config", {}).get("name")
    if activation != "linear":
        raise ValueError(f"layer {conv.name!r}: activation {activation!r} inside Conv2D is not supported")
    norm = _only_consumer(conv.output, consumers, keras.layers.BatchNormalization)
    if norm is not None and norm.axis in (-1, 3, [3], [-1]):
        gamma = norm.gamma.numpy() if norm.scale else 1.0
        beta = norm.beta.numpy() if norm.center else 0.0
        scale = gamma / np.sqrt(norm.moving_variance.numpy().astype(np.float64)
                                + norm.epsilon)
        kernel = kernel * scale
        bias = (bias - norm.moving_mean.numpy()) * scale + beta
        fused.append(norm)
    leaky = _only_consumer((fused[-1] if fused else conv).output, consumers, keras.layers.LeakyReLU)
    negative_slope = None
    if leaky is not None:
        negative_slope = float(leaky.negative_slope)
        fused.append(leaky)
    input_shape = conv.input.shape
    tile = None
    if (use_winograd and conv.kernel_size == (3, 3) and conv.strides == (1, 1)
            and conv.dilation_rate == (1, 1) and conv.padding == "same" and conv.groups == 1
            and None not in input_shape[1:3]):
        tile = winograd_tile(input_shape[1], input_shape[2], kernel.shape[2])
    step = ConvStep(kernel, bias, negative_slope, tile, input_shape[1:3], conv.strides, conv.padding.upper(),
                    conv.dilation_rate, conv.name, dtype, conv.groups)
    return step, fused
