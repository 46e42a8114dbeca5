"""Darknet-19 and the YOLOv2 family as spec lists (the order of Darknet's cfg files), and builders.

All builders take channels-last input shapes and return a ``keras.Model`` whose layers are named as
in the course's Keras summary. YOLOv2 inputs must be multiples of 32 (five stride-2 max-pools); the
output grid is ``(height / 32, width / 32)`` with ``num_anchors * (5 + num_classes)`` channels.
"""

from yad2k_style.errors import YadError
from yad2k_style.netspec import (
    AvgPool,
    Convolutional,
    MaxPool,
    Namer,
    Reorg,
    Route,
    Softmax,
    build_layers,
    build_model,
    conv_bn_leaky,
)

#: Darknet-19's 18 convolutions and 5 max-pools (cfg indices 0–22); index 16 is conv13 (38×38×512 at 608).
DARKNET19_BODY = (
    conv_bn_leaky(32, 3), MaxPool(),
    conv_bn_leaky(64, 3), MaxPool(),
    conv_bn_leaky(128, 3), conv_bn_leaky(64, 1), conv_bn_leaky(128, 3), MaxPool(),
    conv_bn_leaky(256, 3), conv_bn_leaky(128, 1), conv_bn_leaky(256, 3), MaxPool(),
    conv_bn_leaky(512, 3), conv_bn_leaky(256, 1), conv_bn_leaky(512, 3),
    conv_bn_leaky(256, 1), conv_bn_leaky(512, 3), MaxPool(),
    conv_bn_leaky(1024, 3), conv_bn_leaky(512, 1), conv_bn_leaky(1024, 3),
    conv_bn_leaky(512, 1), conv_bn_leaky(1024, 3),
)


def detector_conv(num_anchors, num_classes):
    """The final linear 1×1 convolution, with bias, to ``num_anchors * (5 + num_classes)`` channels."""
    return Convolutional(num_anchors * (5 + num_classes), 1)


def darknet19_specs(num_classes=1000):
    """Darknet-19 classifier: the body, a linear 1×1 conv to ``num_classes``, global average pool, softmax."""
    return DARKNET19_BODY + (Convolutional(num_classes, 1), AvgPool(), Softmax())


def yolov2_specs(num_anchors=5, num_classes=80, reorg="space_to_depth"):
    """YOLOv2: Darknet-19 body, two 3×3×1024 convs, the passthrough from conv13 (1×1 conv to 64,
    then space-to-depth by 2), concatenation ``[passthrough, conv20]``, 3×3×1024 and the detector conv.
    ``reorg="space_to_depth"`` is the course's model; ``"darknet"`` is Darknet's own reorg."""
    return DARKNET19_BODY + (
        conv_bn_leaky(1024, 3), conv_bn_leaky(1024, 3),
        Route((-9,)), conv_bn_leaky(64, 1), Reorg(2, order=reorg),
        Route((-1, -4)), conv_bn_leaky(1024, 3),
        detector_conv(num_anchors, num_classes),
    )


def yolov2_tiny_specs(num_anchors=5, num_classes=80):
    """Tiny YOLOv2 (COCO): six 3×3 conv + max-pool stages, the last pool 2×2 stride 1, then 1024 and 512."""
    return _tiny_stages() + (conv_bn_leaky(1024, 3), conv_bn_leaky(512, 3),
                             detector_conv(num_anchors, num_classes))


def yolov2_tiny_voc_specs(num_anchors=5, num_classes=20):
    """Tiny YOLOv2 (VOC): the same stages, then two 3×3×1024 convs."""
    return _tiny_stages() + (conv_bn_leaky(1024, 3), conv_bn_leaky(1024, 3),
                             detector_conv(num_anchors, num_classes))


def yolov2_shapes_specs(num_anchors=5, num_classes=3):
    """The embedded detector of synthetic shapes: five tiny stages to stride 32 and a 3×3×128 conv,
    YOLOv2's passthrough from the stride-16 features (1×1 conv to 32, Darknet reorg by 2: small
    objects need them), concatenation ``[passthrough, conv]``, 3×3×256 and the detector conv."""
    return _tiny_stages(5) + (
        conv_bn_leaky(128, 3),
        Route((-3,)), conv_bn_leaky(32, 1), Reorg(2, order="darknet"),
        Route((-1, -4)), conv_bn_leaky(256, 3),
        detector_conv(num_anchors, num_classes),
    )


def _tiny_stages(count=6):
    """``count`` 3×3 conv + 2×2 max-pool stages from 16 filters, doubling; the sixth pool has stride 1."""
    stages = ()
    for index, filters in enumerate((16, 32, 64, 128, 256, 512)[:count]):
        stride = 1 if index == 5 else 2
        stages += (conv_bn_leaky(filters, 3), MaxPool(2, stride))
    return stages


def darknet_body(inputs, namer=None):
    """Darknet-19's feature extractor on ``inputs`` → tensor (batch, H/32, W/32, 1024)."""
    return build_layers(DARKNET19_BODY, inputs, namer)[-1]


def yolo_body(inputs, num_anchors, num_classes, reorg="space_to_depth"):
    """YOLOv2 on ``inputs`` → raw output tensor (batch, H/32, W/32, num_anchors * (5 + num_classes))."""
    _check_grid(inputs.shape)
    return build_layers(yolov2_specs(num_anchors, num_classes, reorg), inputs, Namer())[-1]


def _check_grid(shape):
    """Height and width multiples of 32, or both None (any size, for multi-scale training)."""
    height, width = shape[1], shape[2]
    if height is None and width is None:
        return
    if height is None or width is None or height % 32 or width % 32:
        raise YadError(f"YOLOv2 input height and width must be multiples of 32, got {height}×{width}")


def _build(specs, input_shape, name):
    _check_grid((None,) + tuple(input_shape))
    return build_model(specs, input_shape, name)


def yolo_v2(input_shape=(608, 608, 3), num_anchors=5, num_classes=80, reorg="space_to_depth"):
    """The course's YOLOv2: at 608×608×3, 5 anchors, 80 classes → 19×19×425, 50,983,561 params."""
    return _build(yolov2_specs(num_anchors, num_classes, reorg), input_shape, "yolov2")


def yolov2_tiny(input_shape=(416, 416, 3), num_anchors=5, num_classes=80):
    """Tiny YOLOv2 for COCO: 416×416 → 13×13×425, 11,237,145 params."""
    return _build(yolov2_tiny_specs(num_anchors, num_classes), input_shape, "yolov2_tiny")


def yolov2_tiny_voc(input_shape=(416, 416, 3), num_anchors=5, num_classes=20):
    """Tiny YOLOv2 for Pascal VOC: 416×416 → 13×13×125, 15,867,885 params."""
    return _build(yolov2_tiny_voc_specs(num_anchors, num_classes), input_shape, "yolov2_tiny_voc")


def yolov2_shapes(input_shape=(128, 128, 3), num_anchors=5, num_classes=3):
    """The embedded default detector's architecture (synthetic shapes): 128×128 → 4×4×40."""
    return _build(yolov2_shapes_specs(num_anchors, num_classes), input_shape, "yolov2_shapes")


def darknet19(input_shape=(224, 224, 3), num_classes=1000):
    """Darknet-19 ImageNet classifier → class probabilities (batch, num_classes)."""
    return build_model(darknet19_specs(num_classes), input_shape, "darknet19")
