"""The embedded default detector's scenes: the samples ``detect`` shows, the held-out evaluation set,
and scenes as training arrays.

The detector itself is the registry's :data:`~yad2k_style.registry.DEFAULT_DETECTOR` (Darknet cfg +
weights packaged in ``weights/shapes/``), loaded by :func:`yad2k_style.yolo.sources.load_registered`.
``scripts/train_embedded.py`` reproduces it from the scene streams of :mod:`yad2k_style.yolo.synthetic`.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from yad2k_style import registry
from yad2k_style.yolo.labels import LabelledDataset, Sample
from yad2k_style.yolo.synthetic import EVALUATION_SCENES, EVALUATION_SEED, SCENE_SIZE, SHAPE_CLASSES, scenes
from yad2k_style.yolo.targets import DOWNSAMPLE, y_true_for_boxes

ENTRY = registry.get(registry.DEFAULT_DETECTOR)
CFG_FILE, WEIGHTS_FILE = ENTRY.weights.files  # packaged, relative to weights/
CLASSES_FILE = ENTRY.class_names
ANCHORS_FILE = ENTRY.anchors
SAMPLE_SCENES = 4  # what `yad2k-style detect` shows without image paths
SAMPLE_SCALE = 3  # … enlarged (nearest neighbour) so that the drawn labels stay readable
INPUT_SHAPE = (SCENE_SIZE, SCENE_SIZE, 3)
GRID_SHAPE = (SCENE_SIZE // DOWNSAMPLE, SCENE_SIZE // DOWNSAMPLE)


def sample_scenes(count=SAMPLE_SCENES):
    """``[(file name, PIL image)]``: the first ``count`` held-out scenes, named ``scene_NNN.png``,
    enlarged :data:`SAMPLE_SCALE` times (the detector resizes them back to its input)."""
    size = SCENE_SIZE * SAMPLE_SCALE
    return [(f"scene_{index:03d}.png", s.image.resize((size, size), Image.NEAREST))
            for index, s in enumerate(scenes(EVALUATION_SEED, count))]


def evaluation_set(count=EVALUATION_SCENES, seed=EVALUATION_SEED):
    """``(LabelledDataset, PIL images)`` of the first ``count`` scenes of stream ``seed``; the samples
    are named ``scene_NNN.png`` (no files are written)."""
    drawn = scenes(seed, count)
    samples = [Sample(Path(f"scene_{index:03d}.png"), SCENE_SIZE, SCENE_SIZE, s.boxes, s.classes)
               for index, s in enumerate(drawn)]
    return LabelledDataset(samples, list(SHAPE_CLASSES)), [s.image for s in drawn]


def scenes_to_arrays(drawn, anchors):
    """Scenes → ``(images uint8 (N, H, W, 3), y_true float32 (N, gh, gw, A, 6), dropped boxes)``."""
    images = np.stack([np.asarray(s.image, np.uint8) for s in drawn])
    targets = [y_true_for_boxes(s.boxes, s.classes, anchors, GRID_SHAPE, "xyxy", images.shape[1:3])
               for s in drawn]
    return images, np.stack([y for y, _ in targets]), sum(dropped for _, dropped in targets)
