"""The embedded default detector: its packaged files, and scenes as its training arrays.

The detector itself is the registry's :data:`~yad2k_style.registry.DEFAULT_DETECTOR` (Darknet cfg +
weights packaged in ``weights/shapes/``), loaded by
:func:`yad2k_style.detection.yolo.sources.load_registered`.
``scripts/train_embedded.py`` reproduces it from the scene streams of :mod:`yad2k_style.detection.synthetic`.
"""

import numpy as np

from yad2k_style import registry
from yad2k_style.detection.synthetic import SCENE_SIZE
from yad2k_style.detection.yolo.targets import DOWNSAMPLE, y_true_for_boxes

ENTRY = registry.get(registry.DEFAULT_DETECTOR)
CFG_FILE, WEIGHTS_FILE = ENTRY.weights.files  # packaged, relative to weights/
CLASSES_FILE = ENTRY.class_names
ANCHORS_FILE = ENTRY.anchors
INPUT_SHAPE = (SCENE_SIZE, SCENE_SIZE, 3)
GRID_SHAPE = (SCENE_SIZE // DOWNSAMPLE, SCENE_SIZE // DOWNSAMPLE)


def scenes_to_arrays(drawn, anchors):
    """Scenes → ``(images uint8 (N, H, W, 3), y_true float32 (N, gh, gw, A, 6), dropped boxes)``."""
    images = np.stack([np.asarray(s.image, np.uint8) for s in drawn])
    targets = [y_true_for_boxes(s.boxes, s.classes, anchors, GRID_SHAPE, "xyxy", images.shape[1:3])
               for s in drawn]
    return images, np.stack([y for y, _ in targets]), sum(dropped for _, dropped in targets)
