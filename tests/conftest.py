import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from yad2k_style.assets import asset_path  # noqa: E402
from yad2k_style.darknet import Header, parse_cfg, write_weights  # noqa: E402
from yad2k_style.darknet.synthetic import random_convs  # noqa: E402


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


# Darknet test files: the packaged cfgs at a reduced input size, with seeded random weights.

def write_cfg(directory, name, size=None, text=None):
    """Copy packaged ``weights/{name}.cfg`` (or ``text``) into ``directory``, with ``size``×``size``
    input when given; returns the path."""
    text = asset_path(f"{name}.cfg").read_text() if text is None else text
    if size is not None:
        text = re.sub(r"^(width|height)=\d+$", rf"\g<1>={size}", text, flags=re.MULTILINE)
    path = directory / f"{name}.cfg"
    path.write_text(text)
    return path


@pytest.fixture
def cfg_file(tmp_path):
    """Factory ``(name, size=None, text=None)`` → path of a packaged cfg (or ``text``) in ``tmp_path``."""
    return lambda name, size=None, text=None: write_cfg(tmp_path, name, size, text)


@pytest.fixture
def darknet_files(tmp_path):
    """Factory ``(name, size=None, header=Header(), seed=0)`` → ``(cfg path, weights path)`` for a
    packaged cfg with seeded random weights, in a fresh subdirectory of ``tmp_path``."""

    def make(name, size=None, header=None, seed=0):
        header = header or Header()
        directory = tmp_path / f"{name}-{size}-{header.size}-{seed}"
        directory.mkdir()
        cfg_path = write_cfg(directory, name, size)
        weights_path = directory / f"{name}.weights"
        write_weights(weights_path, header, random_convs(parse_cfg(cfg_path), seed))
        return cfg_path, weights_path

    return make


@pytest.fixture(scope="session")
def shapes_dataset():
    """Factory ``(root, count=8)`` → a YOLO-txt dataset of ``count`` synthetic scenes written in ``root``."""
    from yad2k_style.detection.labels import LabelledDataset, Sample, write_yolo
    from yad2k_style.detection.synthetic import SHAPE_CLASSES, scenes

    def make(root, count=8):
        (root / "images").mkdir(parents=True)
        samples = []
        for index, s in enumerate(scenes(seed=5, count=count)):
            path = root / "images" / f"{index}.png"
            s.image.save(path)
            samples.append(Sample(path, 128, 128, s.boxes, s.classes))
        write_yolo(LabelledDataset(samples, list(SHAPE_CLASSES)), root)
        return root

    return make


@pytest.fixture(scope="session")
def vgg16_weights(tmp_path_factory):
    """A VGG16 without its top, seeded random weights, and the Keras weights file it wrote (59 MB)."""
    import keras

    keras.utils.set_random_seed(16)
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path_factory.mktemp("vgg16") / "vgg16.weights.h5"
    vgg.save_weights(path)
    return vgg, path
