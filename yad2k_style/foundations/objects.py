"""Generated images for the foundations: one shape or none on a cluttered background (localisation),
one triangle whose corners are known exactly (landmarks), and small crops for a window classifier.

Shapes and backgrounds are the synthetic detection scenes' (:mod:`yad2k_style.detection.synthetic`). Every
image is a pure function of ``(seed, index)``. Boxes are pixel ``(x0, y0, x1, y1)``; points pixel
``(x, y)``; images uint8 RGB arrays ``(size, size, 3)``.
"""

from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

from yad2k_style.detection.synthetic import SHAPE_CLASSES, Scene, background, colour, draw_shape

IMAGE_SIZE = 64
EMPTY_FRACTION = 0.25  # images with no object
OBJECT_SIZES = (16, 48)  # pixels, smallest and largest side
WINDOW = 14  # the notes' window classifier input: 14×14×3
#: The window classifier's classes: the notes' four (pedestrian, car, motorcycle, background) become
#: the three shapes and the background.
WINDOW_CLASSES = ("background",) + SHAPE_CLASSES
#: Seeds of the streams: training, validation, and held-out evaluation (never trained on).
TRAIN_SEED, VALIDATION_SEED, EVALUATION_SEED = 21, 22, 23


@dataclass(frozen=True)
class ObjectImage:
    """One image: ``label`` the class index or -1 (no object), ``box`` pixel ``(x0, y0, x1, y1)`` (zeros
    without an object), ``points`` the landmarks ``(n, 2)`` pixel ``(x, y)`` (empty where none)."""

    image: np.ndarray
    label: int
    box: np.ndarray
    points: np.ndarray

    @property
    def present(self):
        return self.label >= 0


def _rng(seed, index):
    return np.random.default_rng([seed, index])


def _box(rng, size):
    side = float(np.exp(rng.uniform(*np.log(OBJECT_SIZES))))
    aspect = float(np.exp(rng.uniform(-0.3, 0.3)))
    w, h = min(side * aspect, size - 2), min(side / aspect, size - 2)
    x0, y0 = rng.uniform(1, size - 1 - w), rng.uniform(1, size - 1 - h)
    return np.array([x0, y0, x0 + w, y0 + h], np.float32)


def object_image(seed, index, size=IMAGE_SIZE, empty=EMPTY_FRACTION):
    """One shape (circle, square or triangle) on a cluttered background, or none (probability
    ``empty``)."""
    rng = _rng(seed, index)
    image = background(rng, size)
    if rng.uniform() < empty:
        return ObjectImage(np.asarray(image), -1, np.zeros(4, np.float32), np.zeros((0, 2), np.float32))
    box = _box(rng, size)
    label = int(rng.integers(len(SHAPE_CLASSES)))
    draw_shape(ImageDraw.Draw(image), rng, SHAPE_CLASSES[label], tuple(box.tolist()))
    return ObjectImage(np.asarray(image), label, box, np.zeros((0, 2), np.float32))


def ordered_corners(points):
    """A triangle's corners in the landmarks' fixed order: the topmost first, then clockwise on the
    screen (y down)."""
    points = np.asarray(points, np.float32)
    angles = np.arctan2(*(points - points.mean(0))[:, ::-1].T)
    order = np.argsort(angles)
    top = int(np.argmin(points[order, 1]))
    return points[np.roll(order, -top)]


def landmark_image(seed, index, size=IMAGE_SIZE, empty=EMPTY_FRACTION):
    """A triangle of random shape (every angle at least 25°, at least a third of its box's area) on a
    smooth background, its three corners as the landmarks; or no triangle (probability ``empty``)."""
    rng = _rng(seed, index)
    image = background(rng, size, clutter=False)
    if rng.uniform() < empty:
        return ObjectImage(np.asarray(image), -1, np.zeros(4, np.float32), np.zeros((3, 2), np.float32))
    x0, y0, x1, y1 = _box(rng, size)
    while True:
        corners = rng.uniform((x0, y0), (x1, y1), size=(3, 2)).astype(np.float32)
        (ax, ay), (bx, by) = corners[1] - corners[0], corners[2] - corners[0]
        area = abs(ax * by - ay * bx) / 2
        if min(_angles(corners)) >= np.radians(25) and area >= (x1 - x0) * (y1 - y0) / 3:
            break
    fill = colour(rng)
    ImageDraw.Draw(image).polygon([tuple(p) for p in corners.tolist()], fill=fill,
                                  outline=tuple(255 - c for c in fill))
    corners = ordered_corners(corners)
    box = np.concatenate([corners.min(0), corners.max(0)])
    return ObjectImage(np.asarray(image), 0, box, corners)


def _angles(corners):
    result = []
    for i in range(3):
        a, b = corners[(i + 1) % 3] - corners[i], corners[(i + 2) % 3] - corners[i]
        cosine = a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-6)
        result.append(np.arccos(np.clip(cosine, -1, 1)))
    return result


def window_crop(seed, index):
    """A :data:`WINDOW`-pixel crop for the window classifier: a shape nearly filling it (label 1–3), or
    background (label 0): clutter only, a shape cut by the window's edge, or a shape of another
    scale (half, or two to three times the window) over it. The four labels are equally likely."""
    rng = _rng(seed, index)
    image = background(rng, WINDOW * 4)
    left, top = WINDOW + int(rng.integers(0, WINDOW)), WINDOW + int(rng.integers(0, WINDOW))
    label = int(rng.integers(len(WINDOW_CLASSES)))
    kind = WINDOW_CLASSES[label] if label else WINDOW_CLASSES[int(rng.integers(1, len(WINDOW_CLASSES)))]
    side = rng.uniform(WINDOW - 4, WINDOW)
    x0, y0 = left + rng.uniform(0, WINDOW - side), top + rng.uniform(0, WINDOW - side)
    variant = None if label else int(rng.integers(3))
    if variant == 1:  # cut: shifted by 40–90 % of its side
        x0, y0 = (x0, y0) + rng.choice([-1, 1], size=2) * rng.uniform(0.4, 0.9, size=2) * side
    elif variant == 2:  # another scale (half, or two to three times), overlapping the window
        side *= rng.choice([0.5, rng.uniform(2.0, 3.0)])
        centre = np.array([left, top]) + WINDOW / 2
        x0, y0 = rng.uniform(centre - side, centre)
    if variant != 0:
        draw_shape(ImageDraw.Draw(image), rng, kind, (x0, y0, x0 + side, y0 + side))
    crop = np.asarray(image)[top:top + WINDOW, left:left + WINDOW]
    return ObjectImage(crop, label, np.zeros(4, np.float32), np.zeros((0, 2), np.float32))


def window_scene(seed, index, size=96, windows=(14, 28), count=4):
    """A scene for the sliding-window detector: up to ``count`` shapes, each nearly filling a square of
    one of the ``windows`` sizes, not overlapping. Labels index :data:`WINDOW_CLASSES` (1–3)."""
    rng = _rng(seed, index)
    image = background(rng, size)
    draw = ImageDraw.Draw(image)
    boxes, labels = [], []
    for _ in range(count):
        side = rng.choice(windows) * rng.uniform(0.75, 1.0)
        x0, y0 = rng.uniform(0, size - side, size=2)
        box = (x0, y0, x0 + side, y0 + side)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        label = int(rng.integers(1, len(WINDOW_CLASSES)))
        draw_shape(draw, rng, WINDOW_CLASSES[label], box)
        boxes.append(box)
        labels.append(label)
    return Scene(image, np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(labels, np.int32))


def batch(make, seed, count, **options):
    """``count`` images of ``make`` (one of the generators above) from stream ``seed``: float32
    images in [0, 1] ``(count, h, w, 3)`` and the :class:`ObjectImage` records."""
    records = [make(seed, index, **options) for index in range(count)]
    return np.stack([record.image for record in records]).astype(np.float32) / 255.0, records
