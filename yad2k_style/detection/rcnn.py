"""R-CNN (Girshick et al., 2014), compact: every selective-search proposal cropped from the image,
warped to 32×32 and classified by a small CNN with a box regressor, one region at a time — no feature is
shared between regions (they run in batches, which changes nothing per region). The class scores and
box deltas are Fast R-CNN's (one softmax and class-specific deltas, not the paper's SVMs and separate
regressors), so the three region-based detectors differ where the notes say they do: where the
features are computed and where the proposals come from.
"""

import keras

from yad2k_style.detection.backbone import conv_block
from yad2k_style.detection.fast_rcnn import passed_through, proposal_inputs
from yad2k_style.detection.faster_rcnn import INPUT_SIZE
from yad2k_style.detection.region_layers import RegionCrops, TimeDistributed
from yad2k_style.netspec import LEAKY_SLOPE

CROP = 32  # a region is warped to CROP × CROP pixels


def region_cnn(name="region_cnn"):
    """A warped region (32, 32, 3) in [0, 1] → 256 features: three conv–pool blocks and a dense layer."""
    crops = keras.Input((CROP, CROP, 3), name="region")
    x = crops
    for k, filters in enumerate((32, 64, 128)):
        x = conv_block(x, filters, 3, f"region_conv{k + 1}")
        x = keras.layers.MaxPooling2D(2, name=f"region_pool{k + 1}")(x)
    x = keras.layers.Flatten(name="region_flatten")(x)
    x = keras.layers.Dense(256, name="region_fc")(x)
    return keras.Model(crops, keras.layers.LeakyReLU(LEAKY_SLOPE, name="region_fc_leaky")(x), name=name)


def rcnn_model(num_classes=3, input_shape=(INPUT_SIZE, INPUT_SIZE, 3), name="rcnn_shapes"):
    """``[images (B, S, S, 3), proposals (B, P, 4), valid (B,)]`` → Faster R-CNN's outputs, each region
    classified from its own crop (:class:`~yad2k_style.detection.region_layers.RegionCrops`, 32×32)."""
    image, proposals, valid = proposal_inputs(input_shape)
    crops = RegionCrops(CROP, name="region_crops")([image, proposals])
    x = TimeDistributed(region_cnn(), name="each_region")(crops)
    logits = keras.layers.Dense(num_classes + 1, name="region_classes")(x)
    deltas = keras.layers.Reshape((-1, num_classes, 4), name="region_deltas_per_class")(
        keras.layers.Dense(num_classes * 4, name="region_deltas")(x))
    return keras.Model([image, proposals, valid], [*passed_through(proposals, valid), logits, deltas],
                       name=name)
