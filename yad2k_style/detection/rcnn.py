"""R-CNN (Girshick et al., 2014), compact: every selective-search proposal cropped from the image,
warped to 32×32 and classified by a small CNN with a box regressor, one region at a time — no feature is
shared between regions (they run in batches, which changes nothing per region). The class scores and
box deltas are Fast R-CNN's (one softmax and class-specific deltas, not the paper's SVMs and separate
regressors), so the three region-based detectors differ where the notes say they do: where the
features are computed and where the proposals come from.
"""

import keras
import tensorflow as tf

from yad2k_style.detection.backbone import conv_block
from yad2k_style.detection.fast_rcnn import MAX_PROPOSALS  # noqa: F401  (the same proposals per image)
from yad2k_style.detection.faster_rcnn import INPUT_SIZE
from yad2k_style.detection.roi_pooling import sample_grid

CROP = 32  # a region is warped to CROP × CROP pixels


def region_classifier(num_classes, name="region_cnn"):
    """A warped region (R, 32, 32, 3) in [0, 1] → ``[class logits (R, C + 1), class deltas (R, C, 4)]``."""
    crops = keras.Input((CROP, CROP, 3), name="region")
    x = crops
    for k, filters in enumerate((32, 64, 128)):
        x = conv_block(x, filters, 3, f"region_conv{k + 1}")
        x = keras.layers.MaxPooling2D(2, name=f"region_pool{k + 1}")(x)
    x = keras.layers.Flatten(name="region_flatten")(x)
    x = keras.layers.Dense(256, name="region_fc")(x)
    x = keras.layers.LeakyReLU(0.1, name="region_fc_leaky")(x)
    logits = keras.layers.Dense(num_classes + 1, name="region_classes")(x)
    deltas = keras.layers.Reshape((num_classes, 4), name="region_deltas_per_class")(
        keras.layers.Dense(num_classes * 4, name="region_deltas")(x))
    return keras.Model(crops, [logits, deltas], name=name)


class RCNN(keras.Model):
    """``model((images, proposals (B, P, 4), valid (B,)))`` → Faster R-CNN's outputs, each region
    classified from its own crop, warped to 32×32 (anisotropically, as R-CNN does; bilinear)."""

    def __init__(self, num_classes=3, input_size=INPUT_SIZE, name="rcnn_shapes", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes, self.input_size = num_classes, input_size
        self.classifier = region_classifier(num_classes)

    def call(self, inputs, training=False):
        images, proposals, valid = inputs
        proposals = tf.cast(proposals, images.dtype)
        batch, count = tf.shape(proposals)[0], tf.shape(proposals)[1]
        owners = tf.repeat(tf.range(batch), count)
        crops = sample_grid(images, tf.reshape(proposals, (-1, 4)), owners, CROP, stride=1)
        logits, deltas = self.classifier(crops, training=training)
        return (proposals, valid, tf.reshape(logits, (batch, count, self.num_classes + 1)),
                tf.reshape(deltas, (batch, count, self.num_classes, 4)))
