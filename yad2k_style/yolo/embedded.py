"""The embedded default detector: synthetic shapes, its data seeds, and how scenes become batches.

Training uses scene streams :data:`TRAIN_SEED` and :data:`VALIDATION_SEED`; evaluation uses
:data:`EVALUATION_SEED`, which training never sees. ``scripts/train_embedded.py`` reproduces the
committed weights in ``weights/shapes/``.
"""

import numpy as np

from yad2k_style.yolo.synthetic import SCENE_SIZE
from yad2k_style.yolo.targets import DOWNSAMPLE, assign_anchors, pack_y_true

TRAIN_SEED = 1
VALIDATION_SEED = 2
EVALUATION_SEED = 1128
EMBEDDED_DIR = "shapes"
INPUT_SHAPE = (SCENE_SIZE, SCENE_SIZE, 3)
GRID_SHAPE = (SCENE_SIZE // DOWNSAMPLE, SCENE_SIZE // DOWNSAMPLE)


def relative_boxes(boxes, classes, image_size):
    """Pixel corners (N, 4) + classes (N,) → (N, 5) relative ``(x, y, w, h, class)`` for targets."""
    height, width = image_size
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    x = (boxes[:, 0] + boxes[:, 2]) / 2 / width
    y = (boxes[:, 1] + boxes[:, 3]) / 2 / height
    w = (boxes[:, 2] - boxes[:, 0]) / width
    h = (boxes[:, 3] - boxes[:, 1]) / height
    return np.stack([x, y, w, h, np.asarray(classes, np.float32)], axis=1)


def scenes_to_arrays(scenes, anchors):
    """Scenes → ``(images uint8 (N, H, W, 3), y_true float32 (N, gh, gw, A, 6), dropped boxes)``."""
    images = np.stack([np.asarray(s.image, np.uint8) for s in scenes])
    targets, dropped = [], 0
    for s in scenes:
        assignment = assign_anchors(relative_boxes(s.boxes, s.classes, images.shape[1:3]), anchors,
                                    GRID_SHAPE)
        targets.append(pack_y_true(assignment.detectors_mask, assignment.matching_true_boxes))
        dropped += assignment.dropped
    return images, np.stack(targets), dropped
