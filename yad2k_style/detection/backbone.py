"""The small convolutional body every detector of this domain shares on the 128×128 scenes: Darknet-style
conv–batch-norm–leaky blocks, maps at strides 8, 16 and 32."""

import keras

from yad2k_style.netspec import LEAKY_SLOPE

#: (filters, kernel size) of the blocks before each 2× downsampling; the body's maps are the outputs
#: of the last three stages (strides 8, 16, 32).
STAGES = (((16, 3),), ((32, 3),), ((64, 3),), ((128, 3), (64, 1), (128, 3)),
          ((256, 3), (128, 1), (256, 3)), ((256, 3), (256, 3)))


def conv_block(x, filters, size, name, strides=1):
    """Conv (no bias) → batch norm → leaky ReLU (0.1), layers named ``name``, ``name_bn``, ``name_leaky``."""
    x = keras.layers.Conv2D(filters, size, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"{name}_leaky")(x)


def backbone_maps(inputs, stages=STAGES, prefix="body"):
    """The body's feature maps at strides 8, 16, 32 (128×128 input: 16×16, 8×8, 4×4) for ``inputs``."""
    x, maps = inputs, []
    for stage, blocks in enumerate(stages):
        if stage:
            x = keras.layers.MaxPooling2D(2, name=f"{prefix}_pool{stage}")(x)
        for block, (filters, size) in enumerate(blocks):
            x = conv_block(x, filters, size, f"{prefix}_{stage + 1}_{block + 1}")
        if stage >= len(stages) - 3:
            maps.append(x)
    return maps
