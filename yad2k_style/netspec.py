"""Networks as data: one small spec per Darknet section, and one builder that turns specs into Keras.

The YOLOv2 builders (:mod:`yad2k_style.detection.yolo.model`) and the Darknet cfg parser
(:mod:`yad2k_style.darknet`) produce the same spec lists, so the course's model and a converted
Darknet model cannot drift apart. Layer names follow Keras 2's per-type counters (``conv2d_1``,
``batch_normalization_1`` …) as in the course's model summary; every layer is named explicitly.
"""

from dataclasses import dataclass

import keras

from yad2k_style.layers import (
    DARKNET_ACTIVATIONS,
    LocallyConnected2D,
    darknet_activation,
    darknet_crop,
    darknet_flatten,
    darknet_reorg,
    darknet_shortcut,
    darknet_softmax,
    darknet_upsample,
    pad_for_max_pool,
    reorg_extra,
    space_to_depth,
    space_to_depth_x2,
    tree_softmax,
)

LEAKY_SLOPE = 0.1  # Darknet's leaky ReLU slope (Keras 3's default is 0.3)
KERAS_BN_EPSILON = 1e-3  # Keras' default, used by the course's (YAD2K-converted) model
ACTIVATIONS = tuple(DARKNET_ACTIVATIONS)  # Darknet's, by cfg name
CONV_PREFIX = "conv2d"
DENSE_PREFIX = "dense"
LOCAL_PREFIX = "locally_connected2d"
BATCH_NORM_PREFIX = "batch_normalization"
REORG_ORDERS = ("darknet", "space_to_depth")


@dataclass(frozen=True)
class Convolutional:
    """2-D convolution; ``padding`` is pixels on each side (Darknet's ``pad=1`` means ``size // 2``).

    With ``batch_normalize`` the convolution has no bias (the batch norm's beta takes its place).
    """

    filters: int
    size: int = 1
    stride: int = 1
    padding: int = 0
    batch_normalize: bool = False
    activation: str = "linear"
    groups: int = 1


@dataclass(frozen=True)
class Connected:
    """Darknet's ``[connected]``: a dense layer over the input flattened in Darknet's (C, H, W) order;
    with ``batch_normalize`` its biases are the batch norm's beta, as for a convolution."""

    outputs: int
    batch_normalize: bool = False
    activation: str = "linear"


@dataclass(frozen=True)
class Local:
    """Darknet's ``[local]``: unshared weights per output location. With ``pad`` the input gets one
    pixel on each side and the output keeps the input's size (Darknet requires ``size`` 3 then)."""

    filters: int
    size: int = 1
    stride: int = 1
    pad: bool = False
    activation: str = "linear"

    @property
    def padding(self):
        return 1 if self.pad else 0


@dataclass(frozen=True)
class Upsample:
    """Nearest-neighbour upsampling by ``stride``, times ``scale``."""

    stride: int = 2
    scale: float = 1.0


@dataclass(frozen=True)
class Crop:
    """Darknet's ``[crop]`` at test time: the centred ``height`` × ``width`` window, mapped from [0, 1]
    to [-1, 1] unless ``noadjust``."""

    height: int
    width: int
    noadjust: bool = False


@dataclass(frozen=True)
class Cost:
    """Darknet's ``[cost]``: a training loss; the identity at test time."""


@dataclass(frozen=True)
class MaxPool:
    """Max-pool with Darknet's padding: ``padding`` pixels in all (default ``size - 1``), of which
    ``padding // 2`` go before; output size ``(n + padding - size) // stride + 1``."""

    size: int = 2
    stride: int = 2
    padding: int | None = None

    @property
    def total_padding(self):
        return self.size - 1 if self.padding is None else self.padding


@dataclass(frozen=True)
class Route:
    """Concatenate earlier layers' outputs along channels (one layer: pass it through).

    Indices are Darknet's: negative relative to this layer, or absolute from 0.
    """

    layers: tuple


@dataclass(frozen=True)
class Reorg:
    """Space-to-depth by ``stride``: Darknet's own ordering or ``tf.nn.space_to_depth``'s."""

    stride: int = 2
    order: str = "darknet"
    extra: int = 0  # Darknet's ``extra``: flatten and append this many zeros instead


@dataclass(frozen=True)
class AvgPool:
    """Global average pool over height and width → (batch, 1, 1, channels)."""


@dataclass(frozen=True)
class Softmax:
    """Darknet's ``[softmax]``: over the input flattened in (C, H, W) order, in ``groups`` equal runs,
    of ``x / temperature``; with a ``tree`` (:class:`~yad2k_style.darknet.tree.WordTree`), one softmax
    per sibling group of the tree instead."""

    groups: int = 1
    temperature: float = 1.0
    tree: object = None


@dataclass(frozen=True)
class Shortcut:
    """Add the output of layer ``source`` (Darknet index) to the previous layer's, then ``activation``:
    ``alpha * previous + beta * source`` (Darknet's ``shortcut_cpu``, across sizes and depths too)."""

    source: int
    activation: str = "linear"
    alpha: float = 1.0
    beta: float = 1.0


@dataclass(frozen=True)
class Dropout:
    """Dropout (identity at inference)."""

    probability: float = 0.5


@dataclass(frozen=True)
class Region:
    """YOLOv2's detection layer: decoding parameters, no computation in the Keras graph.

    ``anchors`` are ``(w, h)`` pairs in grid-cell units, flattened.
    """

    anchors: tuple
    classes: int
    num: int
    coords: int = 4
    softmax: bool = True
    tree: object = None  # YOLO9000: a WordTree; the classes are then softmaxed per sibling group


@dataclass(frozen=True)
class Yolo:
    """YOLOv3's detection layer (decoding only, no computation in the Keras graph): the anchors
    ``mask`` selects of all ``anchors`` (``(w, h)`` pairs in input pixels, flattened)."""

    mask: tuple
    anchors: tuple
    classes: int

    @property
    def masked_anchors(self):
        """The ``(w, h)`` pixel pairs this head uses, in mask order."""
        return tuple((self.anchors[2 * i], self.anchors[2 * i + 1]) for i in self.mask)


@dataclass(frozen=True)
class Detection:
    """YOLOv1's detection layer over a flat input of ``side² × ((1 + coords) × num + classes)``: class
    probabilities per cell, then ``num`` confidences per cell, then ``num`` boxes per cell (decoding
    only; with ``softmax`` the class probabilities of each cell are softmaxed)."""

    classes: int
    coords: int
    num: int
    side: int
    softmax: bool = False
    sqrt: bool = False

    @property
    def inputs(self):
        return self.side * self.side * ((1 + self.coords) * self.num + self.classes)


#: Specs whose output is the network's detection output, in the Keras graph the identity.
HEADS = (Region, Yolo, Detection)


def conv_bn_leaky(filters, size):
    """Darknet's workhorse: bias-free 'same' conv + batch norm + leaky ReLU (slope 0.1)."""
    return Convolutional(filters, size, padding=size // 2, batch_normalize=True, activation="leaky")


class Namer:
    """Keras 2-style layer names with one counter per layer type: ``conv2d_1``, ``conv2d_2`` …"""

    def __init__(self):
        self._counts = {}

    def __call__(self, prefix, first_plain=False):
        """Next name for ``prefix``; with ``first_plain`` the first one carries no number."""
        count = self._counts.get(prefix, 0) + 1
        self._counts[prefix] = count
        if first_plain:
            return prefix if count == 1 else f"{prefix}_{count}"
        return f"{prefix}_{count}"


def resolve_index(index, position):
    """Absolute layer index for a Darknet reference ``index`` made at layer ``position``."""
    absolute = position + index if index < 0 else index
    if not 0 <= absolute < position:
        raise ValueError(f"layer {position} refers to layer {index}, which is not an earlier layer")
    return absolute


def build_layers(specs, inputs, namer=None, bn_epsilon=KERAS_BN_EPSILON, kernel_initializer="glorot_uniform"):
    """Apply ``specs`` in order to ``inputs``; returns each spec's output tensor (Darknet indexing).
    ``kernel_initializer="zeros"`` skips drawing random kernels that weights loaded next replace."""
    namer = namer or Namer()
    outputs = []
    x = inputs
    for position, spec in enumerate(specs):
        if isinstance(spec, Route):
            sources = [outputs[resolve_index(i, position)] for i in spec.layers]
            x = sources[0] if len(sources) == 1 else keras.layers.Concatenate(
                axis=-1, name=namer("concatenate"))(sources)
        elif isinstance(spec, Shortcut):
            x = _shortcut(spec, outputs[resolve_index(spec.source, position)], x, namer)
        else:
            x = _apply(spec, x, namer, bn_epsilon, kernel_initializer)
        outputs.append(x)
    return outputs


def _apply(spec, x, namer, bn_epsilon, kernel_initializer="glorot_uniform"):
    if isinstance(spec, Convolutional):
        return _convolutional(spec, x, namer, bn_epsilon, kernel_initializer)
    if isinstance(spec, MaxPool):
        return _max_pool(spec, x, namer)
    if isinstance(spec, Reorg):
        # Keras infers the output shape, except for an input of unknown size (multi-scale training).
        shape = (None, None, x.shape[-1] * spec.stride ** 2) if x.shape[1] is None else None
        if spec.extra:
            return keras.layers.Lambda(reorg_extra, arguments={"extra": spec.extra}, name=namer("reorg"))(x)
        if spec.order == "space_to_depth" and spec.stride == 2:
            return keras.layers.Lambda(space_to_depth_x2, output_shape=shape,
                                       name=namer("space_to_depth_x2", True))(x)
        if spec.order == "space_to_depth":
            return keras.layers.Lambda(
                space_to_depth, arguments={"block_size": spec.stride}, output_shape=shape,
                name=namer("space_to_depth", True))(x)
        return keras.layers.Lambda(darknet_reorg, arguments={"stride": spec.stride}, output_shape=shape,
                                   name=namer("reorg", True))(x)
    if isinstance(spec, AvgPool):
        return keras.layers.GlobalAveragePooling2D(keepdims=True, name=namer("global_average_pooling2d"))(x)
    if isinstance(spec, Softmax):
        return _softmax(spec, x, namer)
    if isinstance(spec, Connected):
        return _connected(spec, x, namer, bn_epsilon, kernel_initializer)
    if isinstance(spec, Local):
        height, width = (n // spec.stride + 1 for n in (x.shape[1] + 2 * spec.padding - spec.size,
                                                         x.shape[2] + 2 * spec.padding - spec.size))
        x = LocallyConnected2D(spec.filters, spec.size, spec.stride, spec.padding, (height, width),
                               kernel_initializer, name=namer(LOCAL_PREFIX))(x)
        return _activate(x, spec.activation, namer)
    if isinstance(spec, Upsample):
        return keras.layers.Lambda(darknet_upsample, arguments={"stride": spec.stride, "scale": spec.scale},
                                   name=namer("up_sampling2d"))(x)
    if isinstance(spec, Crop):
        return keras.layers.Lambda(darknet_crop, arguments={"height": spec.height, "width": spec.width,
                                                            "adjust": not spec.noadjust},
                                   name=namer("crop"))(x)
    if isinstance(spec, (Dropout, Cost, *HEADS)):
        return x
    raise TypeError(f"no Keras builder for spec {spec!r}")


def _activate(x, activation, namer):
    """Darknet's ``activation`` after ``x``: a LeakyReLU layer for ``leaky`` (slope 0.1), none for
    ``linear``, else a ``Lambda`` of :func:`~yad2k_style.layers.darknet_activation`."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unsupported activation {activation!r}; expected one of {ACTIVATIONS}")
    if activation == "leaky":
        return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=namer("leaky_re_lu"))(x)
    if activation == "linear":
        return x
    return keras.layers.Lambda(darknet_activation, arguments={"kind": activation},
                               name=namer(activation))(x)


def _convolutional(spec, x, namer, bn_epsilon, kernel_initializer):
    if spec.activation not in ACTIVATIONS:
        raise ValueError(f"unsupported activation {spec.activation!r}; expected one of {ACTIVATIONS}")
    padding = _padding_mode(x.shape, spec.size, spec.stride, (spec.padding, spec.padding))
    if padding == "pad":
        x = keras.layers.ZeroPadding2D(spec.padding, name=namer("zero_padding2d"))(x)
        padding = "valid"
    x = keras.layers.Conv2D(
        spec.filters, spec.size, strides=spec.stride, padding=padding, groups=spec.groups,
        use_bias=not spec.batch_normalize, kernel_initializer=kernel_initializer, name=namer(CONV_PREFIX))(x)
    if spec.batch_normalize:
        x = keras.layers.BatchNormalization(epsilon=bn_epsilon, name=namer(BATCH_NORM_PREFIX))(x)
    return _activate(x, spec.activation, namer)


def _connected(spec, x, namer, bn_epsilon, kernel_initializer):
    if len(x.shape) > 2:
        x = keras.layers.Lambda(darknet_flatten, name=namer("flatten"))(x)
    x = keras.layers.Dense(spec.outputs, use_bias=not spec.batch_normalize,
                           kernel_initializer=kernel_initializer, name=namer(DENSE_PREFIX))(x)
    if spec.batch_normalize:
        x = keras.layers.BatchNormalization(epsilon=bn_epsilon, name=namer(BATCH_NORM_PREFIX))(x)
    return _activate(x, spec.activation, namer)


def _softmax(spec, x, namer):
    if spec.tree is not None:
        arguments = {"group_sizes": list(spec.tree.group_sizes), "temperature": spec.temperature}
        return keras.layers.Lambda(tree_softmax, arguments=arguments, name=namer("tree_softmax"))(x)
    if len(x.shape) == 2 and spec.groups == 1 and spec.temperature == 1.0:
        return keras.layers.Softmax(name=namer("softmax"))(x)
    arguments = {"groups": spec.groups, "temperature": spec.temperature}
    return keras.layers.Lambda(darknet_softmax, arguments=arguments, name=namer("softmax"))(x)


def _shortcut(spec, source, previous, namer):
    if source.shape[1:] == previous.shape[1:] and (spec.alpha, spec.beta) == (1.0, 1.0):
        x = keras.layers.Add(name=namer("add"))([source, previous])
    else:
        x = keras.layers.Lambda(darknet_shortcut, arguments={"alpha": spec.alpha, "beta": spec.beta},
                                name=namer("shortcut"))([source, previous])
    return _activate(x, spec.activation, namer)


def _max_pool(spec, x, namer):
    before = spec.total_padding // 2
    after = spec.total_padding - before
    padding = _padding_mode(x.shape, spec.size, spec.stride, (before, after))
    if padding == "pad":
        x = keras.layers.Lambda(
            pad_for_max_pool, arguments={"pads": (before, after, before, after)},
            name=namer("max_pool_padding"))(x)
        padding = "valid"
    return keras.layers.MaxPooling2D(
        spec.size, strides=spec.stride, padding=padding, name=namer("max_pooling2d"))(x)


def _padding_mode(shape, size, stride, pads):
    """'valid', 'same' or 'pad' (explicit padding needed) for Darknet's ``pads = (before, after)``.

    TensorFlow's 'same' pads ``total // 2`` before and the rest after; it is used only where that is
    exactly Darknet's padding, so the layer table stays the course's. An unknown size (a model for
    any input size) is decided as an even one: inputs are multiples of 32, so every stride-2 layer of
    the YOLOv2 family sees an even size, and the stride-1 decisions do not depend on it.
    """
    if pads == (0, 0):
        return "valid"
    for n in (64 if n is None else n for n in shape[1:3]):
        out = (n + sum(pads) - size) // stride + 1
        same_total = max((-(-n // stride) - 1) * stride + size - n, 0)
        if out != -(-n // stride) or same_total // 2 != pads[0]:
            return "pad"
    return "same"


def build_model(specs, input_shape, name, bn_epsilon=KERAS_BN_EPSILON, kernel_initializer="glorot_uniform"):
    """A ``keras.Model`` named ``name`` from ``specs`` on an input named ``input_1`` (kernels drawn by
    ``kernel_initializer``). Its output is the last layer's, or, for a network with ``[yolo]`` heads,
    the list of their inputs (YOLOv3: three maps, coarsest first).

    The model keeps its spec list as ``model.specs`` (a tuple), so it can be exported to Darknet
    without reading the architecture back from Keras layers.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="input_1")
    outputs = build_layers(specs, inputs, bn_epsilon=bn_epsilon, kernel_initializer=kernel_initializer)
    heads = [outputs[i] for i, spec in enumerate(specs) if isinstance(spec, Yolo)]
    model = keras.Model(inputs, heads or outputs[-1], name=name)
    model.specs = tuple(specs)
    return model


#: The specs that hold weights, and the Keras layer type each becomes.
WEIGHTED = {Convolutional: CONV_PREFIX, Connected: DENSE_PREFIX, Local: LOCAL_PREFIX}


def weighted_layer_names(specs):
    """``(spec, layer name, batch-norm name or None)`` for each spec with weights
    (:data:`WEIGHTED`), in order, as :func:`build_layers` names them with a fresh :class:`Namer`."""
    namer = Namer()
    names = []
    for spec in specs:
        if type(spec) in WEIGHTED:
            main = namer(WEIGHTED[type(spec)])
            names.append((spec, main, namer(BATCH_NORM_PREFIX) if getattr(spec, "batch_normalize", False)
                          else None))
    return names
