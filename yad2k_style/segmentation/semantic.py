"""Semantic segmentation, the notes' method 1: every pixel gets a class, and two touching objects of one
class become one region. A U-Net (Ronneberger et al., 2015): an encoder of conv blocks and 2×
poolings, a decoder of 2× transposed convolutions, each joined to the encoder's map of its size (the
skip connections bring back the detail pooling lost), and a per-pixel softmax over background and the
classes; trained by per-pixel cross-entropy.
"""

import keras
import tensorflow as tf

from yad2k_style.detection.backbone import conv_block

INPUT_SIZE = 128
#: Filters of the encoder's levels (full size, 1/2, 1/4, 1/8); the last is the bottleneck.
LEVELS = (16, 32, 64, 128)


def unet_model(num_classes=3, input_shape=(INPUT_SIZE, INPUT_SIZE, 3), levels=LEVELS, name="unet_shapes"):
    """Image (B, H, W, 3) in [0, 1], H and W multiples of 2^(levels − 1) → per-pixel logits
    (B, H, W, C + 1): background, then the ``num_classes`` classes."""
    image = keras.Input(input_shape, name="image")
    x, skips = image, []
    for depth, filters in enumerate(levels):
        if depth:
            x = keras.layers.MaxPooling2D(2, name=f"down{depth}_pool")(x)
        x = conv_block(x, filters, 3, f"down{depth}_conv1")
        x = conv_block(x, filters, 3, f"down{depth}_conv2")
        skips.append(x)
    for depth in reversed(range(len(levels) - 1)):
        filters = levels[depth]
        x = keras.layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{depth}_transpose")(x)
        x = keras.layers.Concatenate(name=f"up{depth}_skip")([x, skips[depth]])
        x = conv_block(x, filters, 3, f"up{depth}_conv1")
        x = conv_block(x, filters, 3, f"up{depth}_conv2")
    logits = keras.layers.Conv2D(num_classes + 1, 1, name="pixel_logits")(x)
    return keras.Model(image, logits, name=name)


def semantic_loss(network, images, class_maps):
    """Mean per-pixel softmax cross-entropy of ``network`` on ``images`` against uint8 ``class_maps``
    (B, H, W) → (total, {term: value})."""
    logits = network(images, training=True)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(class_maps, tf.int32),
                                                                         logits))
    return loss, {"pixels": loss}
