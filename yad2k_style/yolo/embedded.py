"""The embedded default detector: synthetic shapes, its data seeds, its packaged files, and how
scenes become training batches and evaluation datasets.

Training uses scene streams :data:`TRAIN_SEED` and :data:`VALIDATION_SEED`; evaluation uses
:data:`EVALUATION_SEED`, which training never sees. ``scripts/train_embedded.py`` reproduces the
committed Darknet files in ``weights/shapes/``.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from yad2k_style.assets import asset_path
from yad2k_style.yolo.labels import LabelledDataset, Sample
from yad2k_style.yolo.synthetic import SCENE_SIZE, SHAPE_CLASSES, scenes
from yad2k_style.yolo.targets import DOWNSAMPLE, assign_anchors, pack_y_true

TRAIN_SEED = 1
VALIDATION_SEED = 2
EVALUATION_SEED = 1128
EVALUATION_SCENES = 500
SAMPLE_SCENES = 4  # what `yad2k-style detect` shows without image paths
SAMPLE_SCALE = 3  # … enlarged (nearest neighbour) so that the drawn labels stay readable
INPUT_SHAPE = (SCENE_SIZE, SCENE_SIZE, 3)
GRID_SHAPE = (SCENE_SIZE // DOWNSAMPLE, SCENE_SIZE // DOWNSAMPLE)
CFG_FILE = "shapes/yolov2-shapes.cfg"
WEIGHTS_FILE = "shapes/yolov2-shapes.weights"
CLASSES_FILE = "shapes/classes.txt"
ANCHORS_FILE = "shapes/anchors.txt"


def load_embedded():
    """The packaged detector as a :class:`~yad2k_style.darknet.ConvertedModel` (model, anchors from
    the cfg's ``[region]``, class names), read from its Darknet cfg + weights."""
    from yad2k_style.darknet import read_darknet

    return read_darknet(asset_path(CFG_FILE), asset_path(WEIGHTS_FILE), asset_path(CLASSES_FILE))


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


def relative_boxes(boxes, classes, image_size):
    """Pixel corners (N, 4) + classes (N,) → (N, 5) relative ``(x, y, w, h, class)`` for targets."""
    height, width = image_size
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    x = (boxes[:, 0] + boxes[:, 2]) / 2 / width
    y = (boxes[:, 1] + boxes[:, 3]) / 2 / height
    w = (boxes[:, 2] - boxes[:, 0]) / width
    h = (boxes[:, 3] - boxes[:, 1]) / height
    return np.stack([x, y, w, h, np.asarray(classes, np.float32)], axis=1)


def scenes_to_arrays(drawn, anchors):
    """Scenes → ``(images uint8 (N, H, W, 3), y_true float32 (N, gh, gw, A, 6), dropped boxes)``."""
    images = np.stack([np.asarray(s.image, np.uint8) for s in drawn])
    targets, dropped = [], 0
    for s in drawn:
        assignment = assign_anchors(relative_boxes(s.boxes, s.classes, images.shape[1:3]), anchors,
                                    GRID_SHAPE)
        targets.append(pack_y_true(assignment.detectors_mask, assignment.matching_true_boxes))
        dropped += assignment.dropped
    return images, np.stack(targets), dropped
