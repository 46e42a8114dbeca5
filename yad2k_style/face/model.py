"""The course's face-recognition network: OpenFace's nn4.small2 Inception embedding, channels-last.

96×96×3 RGB in [0, 1] → 128 numbers of unit L2 norm. Layer names are the course's (``conv1``, ``bn1``,
``inception_3a_3x3_conv1`` …, ``dense_layer``), so OpenFace's per-layer weights map one to one
(:mod:`yad2k_style.face.openface`). The Inception blocks are data (:data:`BLOCKS`) and one builder
turns each into layers: branches of a 1×1 "reduce" convolution followed by a zero-padded k×k
convolution, a pooling branch (optionally with a 1×1 convolution, then zero-padding back to the
block's size), and a plain 1×1 branch, concatenated in that order. Every convolution has a bias and
is followed by batch norm (epsilon 1e-5, except ``bn1``: Keras' 1e-3, as in the course) and ReLU.
"""

from dataclasses import dataclass

import keras

BN_EPSILON = 1e-5
EMBEDDING_SIZE = 128


@dataclass(frozen=True)
class ConvBranch:
    """``reduce`` 1×1 filters, then (when ``filters``) zero-padding ``size // 2`` and a ``size``×``size``
    convolution of stride ``stride``. Layers ``<block>_<name>_{conv,bn}`` or ``…_{conv,bn}{1,2}``."""

    name: str
    reduce: int
    filters: int | None = None
    size: int = 3
    stride: int = 1


@dataclass(frozen=True)
class PoolBranch:
    """``kind`` ("max" or "avg") pooling ``size``/``stride``, then (when ``filters``) a 1×1 convolution
    ``<block>_pool_{conv,bn}``, then zero-padding ``pad`` (Keras' ``ZeroPadding2D`` argument)."""

    kind: str
    size: int
    stride: int
    filters: int | None
    pad: object


@dataclass(frozen=True)
class Block:
    name: str
    branches: tuple


BLOCKS = (
    Block("inception_3a", (ConvBranch("3x3", 96, 128, 3), ConvBranch("5x5", 16, 32, 5),
                           PoolBranch("max", 3, 2, 32, ((3, 4), (3, 4))), ConvBranch("1x1", 64))),
    Block("inception_3b", (ConvBranch("3x3", 96, 128, 3), ConvBranch("5x5", 32, 64, 5),
                           PoolBranch("avg", 3, 3, 64, 4), ConvBranch("1x1", 64))),
    Block("inception_3c", (ConvBranch("3x3", 128, 256, 3, 2), ConvBranch("5x5", 32, 64, 5, 2),
                           PoolBranch("max", 3, 2, None, ((0, 1), (0, 1))))),
    Block("inception_4a", (ConvBranch("3x3", 96, 192, 3), ConvBranch("5x5", 32, 64, 5),
                           PoolBranch("avg", 3, 3, 128, 2), ConvBranch("1x1", 256))),
    Block("inception_4e", (ConvBranch("3x3", 160, 256, 3, 2), ConvBranch("5x5", 64, 128, 5, 2),
                           PoolBranch("max", 3, 2, None, ((0, 1), (0, 1))))),
    Block("inception_5a", (ConvBranch("3x3", 96, 384, 3), PoolBranch("avg", 3, 3, 96, 1),
                           ConvBranch("1x1", 256))),
    Block("inception_5b", (ConvBranch("3x3", 96, 384, 3), PoolBranch("max", 3, 2, 96, 1),
                           ConvBranch("1x1", 256))),
)


def conv_bn_relu(x, filters, size, name, conv_name, bn_name, strides=1, epsilon=BN_EPSILON):
    """Convolution (with bias, 'valid') + batch norm + ReLU; the ReLU is named ``<name>_relu``."""
    x = keras.layers.Conv2D(filters, size, strides=strides, name=conv_name)(x)
    x = keras.layers.BatchNormalization(epsilon=epsilon, name=bn_name)(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def _conv_branch(x, block, branch):
    prefix = f"{block}_{branch.name}"
    if branch.filters is None:
        return conv_bn_relu(x, branch.reduce, 1, prefix, f"{prefix}_conv", f"{prefix}_bn")
    x = conv_bn_relu(x, branch.reduce, 1, f"{prefix}1", f"{prefix}_conv1", f"{prefix}_bn1")
    x = keras.layers.ZeroPadding2D(branch.size // 2, name=f"{prefix}_pad")(x)
    return conv_bn_relu(x, branch.filters, branch.size, f"{prefix}2", f"{prefix}_conv2", f"{prefix}_bn2",
                        strides=branch.stride)


def _pool_branch(x, block, branch):
    prefix = f"{block}_pool"
    pool = keras.layers.MaxPooling2D if branch.kind == "max" else keras.layers.AveragePooling2D
    x = pool(branch.size, strides=branch.stride, name=f"{prefix}_{branch.kind}")(x)
    if branch.filters is not None:
        x = conv_bn_relu(x, branch.filters, 1, prefix, f"{prefix}_conv", f"{prefix}_bn")
    return keras.layers.ZeroPadding2D(branch.pad, name=f"{prefix}_pad")(x)


def inception_block(x, block):
    """One :class:`Block` on ``x`` → its branches concatenated along channels."""
    outputs = [(_pool_branch if isinstance(branch, PoolBranch) else _conv_branch)(x, block.name, branch)
               for branch in block.branches]
    return keras.layers.Concatenate(axis=-1, name=f"{block.name}_concat")(outputs)


def face_reco_model(input_shape=(96, 96, 3)):
    """The course's ``faceRecoModel``: (batch, 96, 96, 3) → (batch, 128) embeddings of unit L2 norm;
    3,743,280 parameters (9,312 of them batch-norm statistics)."""
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    x = keras.layers.ZeroPadding2D(3, name="pad1")(inputs)
    x = conv_bn_relu(x, 64, 7, "stem1", "conv1", "bn1", strides=2, epsilon=1e-3)
    x = keras.layers.ZeroPadding2D(1, name="pad2")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = conv_bn_relu(x, 64, 1, "stem2", "conv2", "bn2")
    x = keras.layers.ZeroPadding2D(1, name="pad3")(x)
    x = conv_bn_relu(x, 192, 3, "stem3", "conv3", "bn3")
    x = keras.layers.ZeroPadding2D(1, name="pad4")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    for block in BLOCKS:
        x = inception_block(x, block)
    x = keras.layers.AveragePooling2D(3, strides=1, name="avg_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(EMBEDDING_SIZE, name="dense_layer")(x)
    outputs = keras.layers.UnitNormalization(axis=-1, name="l2_normalize")(x)
    return keras.Model(inputs, outputs, name="face_reco_model")


#: The course's name for :func:`face_reco_model`.
faceRecoModel = face_reco_model  # noqa: N816
