"""Receptive-field arithmetic for Keras models (the notes' "guide to receptive field arithmetic").

Per layer and spatial axis (height ``y``, width ``x``), with ``k`` the kernel (dilated: ``d(k − 1) + 1``),
``s`` the stride and ``p`` the padding before the first position:

- ``n_out = floor((n_in + 2p − k) / s) + 1`` features (Keras' ``same``: ``ceil(n_in / s)``, its padding
  ``max((n_out − 1) s + k − n_in, 0)`` split with the extra pixel after, as TensorFlow does),
- ``j_out = j_in · s``, the jump between neighbouring features, in input pixels,
- ``r_out = r_in + (k − 1) · j_in``, the receptive field's size, in input pixels,
- ``start_out = start_in + ((k − 1)/2 − p) · j_in``, the centre of the first feature's field.

Input pixel ``i`` spans ``[i, i + 1)``, so the input layer has ``n = size, j = 1, r = 1, start = 0.5``.
Padding layers (explicit, asymmetric too), Darknet's ``-inf`` max-pool padding and cropping shift
``start``. Layers that merge inputs (concatenate, add …) take, for each position, the union of their
inputs' fields. ``space_to_depth`` is a stride (exact). Darknet's ``[reorg]`` permutes positions in a
way no stride and offset describe: its field is reported as the smallest window of the regular form
containing every position a cell reads (found by running its index permutation), so its windows
contain the true ones. Flatten and global pooling see the whole input.

Beside the arithmetic, every position carries the exact bounding box of the input pixels it reads
(``low``/``high`` per axis, propagated through the real reads only): padding reads nothing, a dilated
kernel skips positions, a cell over padding only reads no pixel. The arithmetic's window extends over
padding as if padded positions had fields (the notes' convention); :meth:`LayerField.pixel_window` is
the exact one.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from yad2k_style.errors import YadError

#: Layers that change nothing spatially.
POINTWISE = {"InputLayer", "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU",
             "Softmax", "Dropout", "SpatialDropout2D", "GaussianNoise", "Rescaling", "Normalization",
             "UnitNormalization", "LayerNormalization", "Dense"}
SLIDING = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D"}
MERGING = {"Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
GLOBAL = {"Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"}
#: Lambda functions (by name) that move positions; their fields come from running them on indices.
PERMUTING = {"space_to_depth_x2", "space_to_depth", "darknet_reorg"}


EMPTY = (2**31, -(2**31))  # (low, high) of a position that reads no pixel


@dataclass(frozen=True)
class AxisField:
    """One spatial axis of a layer's output: ``n`` features, ``j`` input pixels between neighbours,
    ``r`` the field's size in input pixels, ``start`` the centre of the first feature's field (the
    notes' four numbers, compared by ``==``). ``low[i]``, ``high[i]``: the input pixels position ``i``
    really reads, ``[low, high)`` (``low >= high``: none)."""

    n: int
    j: float
    r: float
    start: float
    low: tuple = dataclasses.field(default=(), compare=False, repr=False)
    high: tuple = dataclasses.field(default=(), compare=False, repr=False)

    def centre(self, index):
        return self.start + index * self.j


def input_axis(size):
    """The input image along one axis: ``size`` pixels, ``j = 1, r = 1, start = 0.5``."""
    return AxisField(size, 1.0, 1.0, 0.5, tuple(range(size)), tuple(range(1, size + 1)))


def _spans(axis, reads):
    """``(low, high)`` tuples of positions reading ``reads[i]`` (input indices; those outside
    ``[0, n)`` are padding and read nothing). Empty for an axis without pixel spans (the notes'
    arithmetic alone)."""
    if not axis.low:
        return (), ()
    low, high = [], []
    for read in reads:
        real = [m for m in read if 0 <= m < axis.n]
        low.append(min((axis.low[m] for m in real), default=EMPTY[0]))
        high.append(max((axis.high[m] for m in real), default=EMPTY[1]))
    return tuple(low), tuple(high)


@dataclass(frozen=True)
class LayerField:
    """A layer's receptive field on both axes (``y``: height, ``x``: width). ``exact`` is False where
    the arithmetic's window is the tightest regular window containing the true ones (after Darknet's
    reorg, or a merge of inputs with different jumps)."""

    name: str
    kind: str
    y: AxisField
    x: AxisField
    exact: bool = True

    def window(self, row, col):
        """The arithmetic's input window of output position ``(row, col)``: ``(y0, x0, y1, x1)`` in
        pixel coordinates (floats; past the image where padding was read)."""
        cy, cx = self.y.centre(row), self.x.centre(col)
        return cy - self.y.r / 2, cx - self.x.r / 2, cy + self.y.r / 2, cx + self.x.r / 2

    def pixel_window(self, row, col):
        """The input pixels ``(y0, x0, y1, x1)`` (ints, end exclusive) that position ``(row, col)``
        reads; None when it reads padding only."""
        y0, y1, x0, x1 = self.y.low[row], self.y.high[row], self.x.low[col], self.x.high[col]
        return (y0, x0, y1, x1) if y0 < y1 and x0 < x1 else None


def sliding(axis, kernel, stride, padding=0, dilation=1):
    """A convolution or pooling along one axis. ``padding``: the notes' ``p`` (positions padded on
    each side), ``"valid"`` (none) or ``"same"`` (Keras': ``ceil(n / s)`` outputs, the extra padded
    position after the last)."""
    k = dilation * (kernel - 1) + 1
    if padding == "same":
        n = -(-axis.n // stride)
        before = max((n - 1) * stride + k - axis.n, 0) // 2
    else:
        before = 0 if padding == "valid" else padding
        n = (axis.n + 2 * before - k) // stride + 1
    reads = [range(i * stride - before, i * stride - before + k, dilation) for i in range(n)]
    start = axis.start + ((k - 1) / 2 - before) * axis.j
    return AxisField(n, axis.j * stride, axis.r + (k - 1) * axis.j, start, *_spans(axis, reads))


def padded(axis, before, after):
    """Zero padding (negative: cropping) along one axis."""
    reads = [[m] for m in range(-before, axis.n + after)]
    return AxisField(axis.n + before + after, axis.j, axis.r, axis.start - before * axis.j,
                     *_spans(axis, reads))


def union(n, j, lows, highs):
    """The notes' four numbers of the smallest regular field (``n`` positions ``j`` apart) whose window
    at every position ``i`` contains ``[lows[i], highs[i]]``; exact when those windows are regular."""
    offsets = np.arange(n) * j
    low, high = np.min(np.asarray(lows) - offsets), np.max(np.asarray(highs) - offsets)
    return n, j, float(high - low), float((low + high) / 2)


def merged(axes):
    """Inputs of the same size read at the same positions (concatenate, add …): the union of their
    fields at each position. The arithmetic is exact when their jumps agree; otherwise (OpenFace pads
    a strided pool's output back to the size of the other branches) it is the tightest regular window
    containing the union, with the jump of one of the inputs."""
    n = axes[0].n
    lows = [min(a.centre(i) - a.r / 2 for a in axes) for i in range(n)]
    highs = [max(a.centre(i) + a.r / 2 for a in axes) for i in range(n)]
    arithmetic = min((union(n, j, lows, highs) for j in sorted({a.j for a in axes})), key=lambda f: f[2])
    return AxisField(*arithmetic, tuple(np.min([a.low for a in axes], axis=0).tolist()),
                     tuple(np.max([a.high for a in axes], axis=0).tolist()))


def everything(axis):
    """One output that sees every input position (flatten, global pooling)."""
    return permuted(axis, [range(axis.n)], axis.j * axis.n)


def permuted(axis, reads, j):
    """A layer whose output position ``i`` reads input positions ``reads[i]``, ``j`` apart."""
    lows = [axis.centre(min(read)) - axis.r / 2 for read in reads]
    highs = [axis.centre(max(read)) + axis.r / 2 for read in reads]
    return AxisField(*union(len(reads), j, lows, highs), *_spans(axis, reads))


def _position_reads(layer, input_shape):
    """For a position-permuting Lambda: per axis, the input indices each output index reads (over the
    other axis and every channel), found by running the layer on index images."""
    _, height, width, channels = input_shape
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    images = [np.repeat(index[None, :, :, None], channels, -1).astype(np.float32) for index in (rows, cols)]
    read_rows, read_cols = (np.asarray(layer(image)) for image in images)
    return ([set(read_rows[0, i].ravel().astype(int)) for i in range(read_rows.shape[1])],
            [set(read_cols[0, :, i].ravel().astype(int)) for i in range(read_cols.shape[2])])


def _unknown(layer):
    return YadError(f"receptive field: layer {layer.name!r} ({type(layer).__name__}) is not one this "
                    "code knows (convolutions, pooling, padding, cropping, pointwise, merging and "
                    "flattening layers, space_to_depth, Darknet's reorg)")


def _pairs(value):
    """Keras' padding or cropping argument → ``((top, bottom), (left, right))``."""
    if isinstance(value, int):
        return (value, value), (value, value)
    return tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)


def _layer_field(layer, inputs):
    """The output axes ``(y, x)`` of ``layer`` from its inputs' (a list of ``(y, x)`` pairs)."""
    kind = type(layer).__name__
    if kind in MERGING:
        return tuple(merged([axes[i] for axes in inputs]) for i in range(2))
    y, x = inputs[0]
    if kind in POINTWISE:
        return y, x
    if kind in SLIDING:
        kernel = getattr(layer, "kernel_size", None) or layer.pool_size
        dilation = getattr(layer, "dilation_rate", (1, 1))
        return tuple(sliding(axis, kernel[i], layer.strides[i], layer.padding, dilation[i])
                     for i, axis in enumerate((y, x)))
    if kind == "ZeroPadding2D":
        (top, bottom), (left, right) = _pairs(layer.padding)
        return padded(y, top, bottom), padded(x, left, right)
    if kind == "Cropping2D":
        (top, bottom), (left, right) = _pairs(layer.cropping)
        return padded(y, -top, -bottom), padded(x, -left, -right)
    if kind in GLOBAL:
        return everything(y), everything(x)
    function = getattr(getattr(layer, "function", None), "__name__", "")
    if function == "pad_for_max_pool":
        top, bottom, left, right = layer.arguments["pads"]
        return padded(y, top, bottom), padded(x, left, right)
    if function in PERMUTING:
        rows, cols = _position_reads(layer, layer.input.shape)
        return permuted(y, rows, y.j * (y.n // len(rows))), permuted(x, cols, x.j * (x.n // len(cols)))
    raise _unknown(layer)


def _inbound_layers(layer):
    node = layer._inbound_nodes[0]
    return [tensor._keras_history.operation for tensor in node.input_tensors]


def receptive_fields(model):
    """Every layer's :class:`LayerField`, in the model's layer order, for a functional model with one
    input of fixed height and width. A layer this code does not know is a one-line
    :class:`YadError` naming it."""
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 4 or None in shape[1:3]:
        raise YadError(f"receptive field: model {model.name!r} needs one image input of fixed height and "
                       f"width, got {shape}")
    fields = {}
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            axes, exact = (input_axis(shape[1]), input_axis(shape[2])), True
        else:
            parents = [fields[parent.name] for parent in _inbound_layers(layer)]
            axes = _layer_field(layer, [(parent.y, parent.x) for parent in parents])
            reorg = getattr(getattr(layer, "function", None), "__name__", "") == "darknet_reorg"
            jumps = {(parent.y.j, parent.x.j) for parent in parents}
            exact = all(parent.exact for parent in parents) and not reorg and len(jumps) == 1
        _check_size(layer, axes)
        fields[layer.name] = LayerField(layer.name, kind, *axes, exact)
    return list(fields.values())


def _check_size(layer, axes):
    """The arithmetic's sizes must be Keras' (a mismatch is a bug here, not the user's)."""
    shape = layer.output.shape
    if len(shape) == 4 and (shape[1], shape[2]) != (axes[0].n, axes[1].n):
        raise AssertionError(f"{layer.name}: computed {axes[0].n}×{axes[1].n}, "
                             f"Keras has {shape[1]}×{shape[2]}")
