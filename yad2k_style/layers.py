"""Tensor functions used inside ``Lambda`` layers, registered with Keras serialization, and the one
weighted layer of Darknet that Keras 3 lacks (:class:`LocallyConnected2D`).

Registering them lets a saved ``.keras`` model reload with ``safe_mode=True``: the file names the
function, it holds no bytecode. Shapes are channels-last ``(batch, height, width, channels)``.
"""

import keras
import numpy as np
import tensorflow as tf

PACKAGE = "yad2k_style"


@keras.saving.register_keras_serializable(package=PACKAGE)
def space_to_depth_x2(x):
    """The course's passthrough reshape: ``tf.nn.space_to_depth(x, 2)``, (B, H, W, C) → (B, H/2, W/2, 4C)."""
    return tf.nn.space_to_depth(x, block_size=2)


@keras.saving.register_keras_serializable(package=PACKAGE)
def space_to_depth(x, block_size):
    """``tf.nn.space_to_depth`` with any block size (Darknet's ``[reorg3d]``)."""
    return tf.nn.space_to_depth(x, block_size=block_size)


@keras.saving.register_keras_serializable(package=PACKAGE)
def darknet_reorg(x, stride=2):
    """Darknet's ``[reorg]`` layer as pjreddie's darknet computes it, (B, H, W, C) → (B, H/s, W/s, s²C).

    Darknet's reorg reads its (C, H, W) input buffer as if it had shape (C/s², H·s, W·s), applies a
    space-to-depth to that, and the next layer reads the result as (s²C, H/s, W/s). This is not
    ``tf.nn.space_to_depth``; it is what Darknet-trained YOLOv2 weights expect.
    """
    _, height, width, channels = x.shape
    if channels % (stride * stride) or (height or 0) % stride or (width or 0) % stride:
        raise ValueError(
            f"darknet_reorg: input shape {tuple(x.shape)} is not divisible by stride {stride}"
        )
    if height is None or width is None:  # a model for any input size: the sizes at run time
        height, width = tf.shape(x)[1], tf.shape(x)[2]
    chw = tf.transpose(x, [0, 3, 1, 2])
    chw = tf.reshape(chw, [-1, channels // (stride * stride), height * stride, width * stride])
    folded = tf.nn.space_to_depth(tf.transpose(chw, [0, 2, 3, 1]), block_size=stride)
    chw = tf.reshape(
        tf.transpose(folded, [0, 3, 1, 2]),
        [-1, channels * stride * stride, height // stride, width // stride],
    )
    return tf.transpose(chw, [0, 2, 3, 1])


@keras.saving.register_keras_serializable(package=PACKAGE)
def pad_for_max_pool(x, pads):
    """Pad height and width by ``pads = (top, bottom, left, right)`` with -inf, so a following
    'valid' max-pool ignores the padding as Darknet's maxpool does."""
    top, bottom, left, right = pads
    return tf.pad(
        x, [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=float("-inf")
    )


#: Darknet's activations (``activations.c``) by their cfg names; ``x`` float tensors, elementwise.
DARKNET_ACTIVATIONS = {
    "logistic": tf.sigmoid,
    "loggy": lambda x: 2.0 * tf.sigmoid(x) - 1.0,
    "relu": tf.nn.relu,
    "elu": lambda x: tf.where(x >= 0, x, tf.exp(x) - 1.0),
    "selu": lambda x: tf.where(x >= 0, 1.0507 * x, 1.0507 * 1.6732 * (tf.exp(x) - 1.0)),
    "relie": lambda x: tf.where(x > 0, x, 0.01 * x),
    "plse": lambda x: tf.where(x < -4, 0.01 * (x + 4), tf.where(x > 4, 0.01 * (x - 4) + 1, 0.125 * x + 0.5)),
    "hardtan": lambda x: tf.clip_by_value(x, -1.0, 1.0),
    "lhtan": lambda x: tf.where(x < 0, 0.001 * x, tf.where(x > 1, 0.001 * (x - 1) + 1, x)),
    "linear": tf.identity,
    "ramp": lambda x: tf.nn.relu(x) + 0.1 * x,
    "leaky": lambda x: tf.where(x > 0, x, 0.1 * x),
    "tanh": tf.tanh,
    "stair": lambda x: _stair(x),
}


def _stair(x):
    """Darknet's ``stair``: ``floor(x / 2)`` where ``floor(x)`` is even, else
    ``x - floor(x) + floor(x / 2)``."""
    whole = tf.floor(x)
    half = tf.floor(x / 2.0)
    return tf.where(tf.math.floormod(whole, 2.0) == 0, half, x - whole + half)


@keras.saving.register_keras_serializable(package=PACKAGE)
def darknet_activation(x, kind):
    """Darknet's activation ``kind`` (a cfg name: ``relu``, ``ramp``, ``logistic`` …), elementwise."""
    return DARKNET_ACTIVATIONS[kind](x)


@keras.saving.register_keras_serializable(package=PACKAGE)
def darknet_flatten(x):
    """(B, H, W, C) → (B, C·H·W) in Darknet's memory order (channel, row, column); a 2-D input is
    returned as it is."""
    if len(x.shape) == 2:
        return x
    return tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, x.shape[1] * x.shape[2] * x.shape[3]])


@keras.saving.register_keras_serializable(package=PACKAGE)
def darknet_softmax(x, groups=1, temperature=1.0):
    """Darknet's ``[softmax]``: the input flattened in Darknet's order (:func:`darknet_flatten`), cut
    into ``groups`` equal runs, each a softmax of ``x / temperature`` → (B, C·H·W)."""
    flat = darknet_flatten(x)
    size = flat.shape[-1]
    grouped = tf.reshape(flat, [-1, groups, size // groups]) / temperature
    return tf.reshape(tf.nn.softmax(grouped, axis=-1), [-1, size])


def group_ids(group_sizes):
    """The group index of each entry of runs of ``group_sizes`` entries: (3, 2) → [0, 0, 0, 1, 1]."""
    return np.repeat(np.arange(len(group_sizes)), group_sizes)


@keras.saving.register_keras_serializable(package=PACKAGE)
def tree_softmax(x, group_sizes, temperature=1.0):
    """A WordTree softmax: (B, N) split into consecutive runs of ``group_sizes`` (summing to N), a
    softmax within each run (Darknet's ``softmax_tree``) → (B, N). A 4-D input is flattened first."""
    flat = tf.transpose(darknet_flatten(x)) / temperature  # (N, B): segments run along axis 0
    ids = tf.constant(group_ids(group_sizes), tf.int32)
    count = len(group_sizes)
    shifted = tf.exp(flat - tf.gather(tf.math.unsorted_segment_max(flat, ids, count), ids))
    return tf.transpose(shifted / tf.gather(tf.math.unsorted_segment_sum(shifted, ids, count), ids))


@keras.saving.register_keras_serializable(package=PACKAGE)
def darknet_crop(x, height, width, adjust=True):
    """Darknet's ``[crop]`` at test time: the centred ``height`` × ``width`` window (offsets rounded
    down), and with ``adjust`` the values mapped from [0, 1] to [-1, 1] (``2x - 1``)."""
    top = (x.shape[1] - height) // 2
    left = (x.shape[2] - width) // 2
    window = x[:, top:top + height, left:left + width, :]
    return 2.0 * window - 1.0 if adjust else window


@keras.saving.register_keras_serializable(package=PACKAGE)
def reorg_extra(x, extra):
    """Darknet's ``[reorg]`` with ``extra``: the input flattened in Darknet's order, then ``extra``
    zeros (B, C·H·W + extra)."""
    flat = darknet_flatten(x)
    return tf.concat([flat, tf.zeros([tf.shape(flat)[0], extra], flat.dtype)], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
def darknet_upsample(x, stride, scale=1.0):
    """Darknet's ``[upsample]``: each pixel repeated ``stride`` × ``stride`` times, times ``scale``."""
    x = tf.repeat(tf.repeat(x, stride, axis=1), stride, axis=2)
    return x if scale == 1.0 else x * scale


@keras.saving.register_keras_serializable(package=PACKAGE)
def darknet_shortcut(inputs, alpha=1.0, beta=1.0):
    """Darknet's ``[shortcut]`` before its activation, ``inputs = [source, previous]``: the result has
    the previous layer's shape; where the maps differ in size, the larger is sampled every
    ``stride`` pixels onto the smaller's grid (Darknet's ``shortcut_cpu``), and only the first
    min(C_source, C_previous) channels are changed: ``alpha * previous + beta * source`` there,
    ``previous`` elsewhere."""
    source, previous = inputs
    (h1, w1, c1), (h2, w2, c2) = source.shape[1:], previous.shape[1:]
    if (h1, w1, c1) == (h2, w2, c2) and alpha == 1.0:
        return previous + beta * source
    stride, sample = max(w1 // w2, 1), max(w2 // w1, 1)
    rows, cols, channels = min(h1, h2), min(w1, w2), min(c1, c2)
    taken = source[:, ::stride, ::stride, :channels][:, :rows, :cols]
    kept = previous[:, ::sample, ::sample, :channels][:, :rows, :cols]
    change = (alpha - 1.0) * kept + beta * taken  # (B, rows, cols, channels), on every sample-th pixel
    if sample > 1:
        change = tf.reshape(tf.pad(change[:, :, None, :, None, :],
                                   [[0, 0], [0, 0], [0, sample - 1], [0, 0], [0, sample - 1], [0, 0]]),
                            [-1, rows * sample, cols * sample, channels])
    padding = [[0, 0], [0, h2 - change.shape[1]], [0, w2 - change.shape[2]], [0, c2 - channels]]
    change = tf.pad(change, padding)
    return previous + change


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocallyConnected2D(keras.layers.Layer):
    """Darknet's ``[local]``: a convolution whose weights differ at every output location.

    Input (B, H, W, C) → (B, H', W', filters). ``padding`` pixels of zeros on each side; ``kernel``
    (H'·W', size·size·C, filters) with each patch ordered (row, column, channel); ``bias`` (H', W',
    filters).
    """

    def __init__(self, filters, size, stride=1, padding=0, output_size=None, kernel_initializer="zeros",
                 **kwargs):
        super().__init__(**kwargs)
        self.filters, self.size, self.stride, self.padding = filters, size, stride, padding
        self.output_size = None if output_size is None else tuple(output_size)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        locations = self.output_size[0] * self.output_size[1]
        channels = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", initializer=self.kernel_initializer,
                                      shape=(locations, self.size * self.size * channels, self.filters))
        self.bias = self.add_weight(name="bias", initializer="zeros", shape=(*self.output_size, self.filters))

    def call(self, x):
        pad = self.padding
        x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        patches = tf.image.extract_patches(x, [1, self.size, self.size, 1], [1, self.stride, self.stride, 1],
                                           [1, 1, 1, 1], "VALID")
        height, width = self.output_size
        patches = tf.reshape(patches, [-1, height * width, patches.shape[-1]])
        out = tf.einsum("blk,lkf->blf", patches, self.kernel)
        return tf.reshape(out, [-1, height, width, self.filters]) + self.bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_size, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "size": self.size, "stride": self.stride,
                "padding": self.padding, "output_size": list(self.output_size),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
