"""Tensor functions used inside ``Lambda`` layers, registered with Keras serialization.

Registering them lets a saved ``.keras`` model reload with ``safe_mode=True``: the file names the
function, it holds no bytecode. Shapes are channels-last ``(batch, height, width, channels)``.
"""

import keras
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
