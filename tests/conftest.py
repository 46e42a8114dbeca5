import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def yolov2_608():
    """The course's 608×608 YOLOv2 (built once per test session: ~3 s, 200 MB)."""
    from yad2k_style.yolo import yolo_v2

    return yolo_v2()


TINY_ANCHORS = ((1.0, 1.0), (2.0, 1.5))
TINY_CLASSES = ("cat", "dog", "bird")


@pytest.fixture(scope="session")
def tiny_yolo():
    """YOLOv2 at 64×64 (a 2×2 grid), 2 anchors, 3 classes, seeded random weights.

    The last convolution's kernel is scaled up so that raw outputs vary by about ±1 with the image
    (at initialisation they are ~1e-4) and detections have distinct scores.
    """
    import keras

    from yad2k_style.yolo import yolo_v2

    keras.utils.set_random_seed(0)
    model = yolo_v2((64, 64, 3), num_anchors=len(TINY_ANCHORS), num_classes=len(TINY_CLASSES))
    last = model.get_layer("conv2d_23")
    kernel, bias = last.get_weights()
    last.set_weights([kernel * 5000, bias])
    return model


@pytest.fixture(scope="session")
def tiny_yolo_file(tiny_yolo, tmp_path_factory):
    """:func:`tiny_yolo` saved as a ``.keras`` file."""
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    tiny_yolo.save(path)
    return path


@pytest.fixture(scope="session")
def tiny_anchors():
    """:func:`tiny_yolo`'s anchors, (2, 2) ``(width, height)`` in grid cells."""
    import numpy as np

    return np.array(TINY_ANCHORS, np.float32)


@pytest.fixture(scope="session")
def tiny_classes():
    """:func:`tiny_yolo`'s class names."""
    return list(TINY_CLASSES)
