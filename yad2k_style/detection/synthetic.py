"""Synthetic detection scenes: filled shapes on cluttered backgrounds, drawn with Pillow.

The embedded default detector is trained and evaluated on these scenes, so the package detects
something out of the box with no download. Three classes (``circle``, ``square``, ``triangle``);
objects from 10 to 60 pixels on a 128×128 canvas, several per scene, often two in one 32-pixel cell.
Every scene is a pure function of ``(seed, index)``: the same arguments give the same pixels.
This module imports no TensorFlow (the command line reads its seeds to show them in ``--help``).
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES = ("circle", "square", "triangle")
SCENE_SIZE = 128
MIN_SIZE, MAX_SIZE = 10, 60
MAX_OBJECTS = 6
MAX_OVERLAP = 0.25  # at most this fraction of the smaller of two objects is covered by the other

# Streams of scenes (seeds): the embedded detector trains on the first two; evaluation uses the third,
# which training never sees.
TRAIN_SEED = 1
VALIDATION_SEED = 2
EVALUATION_SEED = 1128
EVALUATION_SCENES = 500


@dataclass(frozen=True)
class Scene:
    """One image and its labels: ``boxes`` (N, 4) are pixel ``(x_min, y_min, x_max, y_max)``."""

    image: Image.Image
    boxes: np.ndarray
    classes: np.ndarray


def scene(seed, index, size=SCENE_SIZE):
    """Scene number ``index`` of the stream ``seed`` (both non-negative ints)."""
    rng = np.random.default_rng([seed, index])
    image = background(rng, size)
    draw = ImageDraw.Draw(image)
    boxes, classes = [], []
    for _ in range(rng.integers(1, MAX_OBJECTS + 1)):
        box = _place(rng, size, boxes)
        if box is None:
            continue
        label = int(rng.integers(len(SHAPE_CLASSES)))
        draw_shape(draw, rng, SHAPE_CLASSES[label], box)
        boxes.append(box)
        classes.append(label)
    return Scene(image, np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(classes, np.int32))


def scenes(seed, count, size=SCENE_SIZE):
    """The first ``count`` scenes of stream ``seed``."""
    return [scene(seed, index, size) for index in range(count)]


def background(rng, size, clutter=True):
    """A ``size``×``size`` RGB PIL image of smooth noise; with ``clutter``, thin lines and dots too,
    never a closed shape (so it holds no object)."""
    low, high = sorted(rng.integers(0, 256, size=2))
    noise = rng.integers(low, high + 1, size=(size // 8, size // 8, 3), dtype=np.uint8)
    image = Image.fromarray(noise).resize((size, size), Image.BILINEAR)
    if not clutter:
        return image
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(3, 12)):  # clutter: thin lines and small dots, never closed shapes
        x0, y0, x1, y1 = rng.integers(0, size, size=4).tolist()
        draw.line((x0, y0, x1, y1), fill=colour(rng), width=int(rng.integers(1, 3)))
    for _ in range(rng.integers(0, 20)):
        x, y = rng.integers(0, size, size=2).tolist()
        draw.point((x, y), fill=colour(rng))
    return image


def colour(rng):
    """A random RGB colour ``(r, g, b)``."""
    return tuple(int(v) for v in rng.integers(0, 256, size=3))


def _place(rng, size, existing, attempts=20):
    for _ in range(attempts):
        side = float(np.exp(rng.uniform(np.log(MIN_SIZE), np.log(MAX_SIZE))))
        aspect = float(np.exp(rng.uniform(-0.35, 0.35)))
        w, h = side * aspect, side / aspect
        if max(w, h) > size - 2:
            continue
        x0, y0 = rng.uniform(0, size - w), rng.uniform(0, size - h)
        box = (x0, y0, x0 + w, y0 + h)
        if all(_overlap(box, other) <= MAX_OVERLAP for other in existing):
            return box
    return None


def _overlap(a, b):
    """Intersection over the smaller box's area (so a small object is never hidden by a big one)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return iw * ih / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def draw_shape(draw, rng, kind, box):
    """Draw a filled ``kind`` into ``box = (x0, y0, x1, y1)`` pixels in a random colour, outlined in
    the inverse colour (see :func:`draw_geometry`)."""
    fill = colour(rng)
    draw_geometry(draw, kind, box, fill, tuple(255 - c for c in fill))


def draw_geometry(draw, kind, box, fill, outline):
    """A circle or square filling ``box``, or a triangle with its apex at the top centre and its base
    along the bottom, drawn with ``fill`` and ``outline``."""
    x0, y0, x1, y1 = box
    if kind == "circle":
        draw.ellipse(box, fill=fill, outline=outline)
    elif kind == "square":
        draw.rectangle(box, fill=fill, outline=outline)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill, outline=outline)


def touching_squares(size=SCENE_SIZE):
    """The notes' case for instance segmentation: two squares of one class side by side, their edges
    touching (the second drawn over the first's right edge), in two colours on a smooth background.
    Semantic segmentation can only give them one region; instances, two."""
    rng = np.random.default_rng(21)
    image = background(rng, size, clutter=False)
    draw = ImageDraw.Draw(image)
    boxes = np.array([[22.0, 40.0, 62.0, 80.0], [62.0, 48.0, 98.0, 84.0]], np.float32) * size / SCENE_SIZE
    for box, fill in zip(boxes, ((220, 70, 40), (40, 90, 220)), strict=True):
        draw_geometry(draw, "square", tuple(box.tolist()), fill, tuple(255 - c for c in fill))
    return Scene(image, boxes, np.array([1, 1], np.int32))


def instance_masks(drawn):
    """What the generator actually drew of each object of scene ``drawn``: bool (N, H, W), object k's
    pixels not covered by objects drawn after it (an object wholly covered has an empty mask). The
    pixels are those the shapes were drawn on, so the masks are exact."""
    width, height = drawn.image.size
    masks = np.zeros((len(drawn.classes), height, width), bool)
    covered = np.zeros((height, width), bool)
    for index in reversed(range(len(drawn.classes))):
        outline = Image.new("L", (width, height), 0)
        draw_geometry(ImageDraw.Draw(outline), SHAPE_CLASSES[int(drawn.classes[index])],
                      tuple(drawn.boxes[index].tolist()), 255, 255)
        shape = np.asarray(outline) > 0
        masks[index] = shape & ~covered
        covered |= shape
    return masks


def class_map(drawn):
    """The per-pixel classes of scene ``drawn``: uint8 (H, W), 0 for background, ``c + 1`` where an
    object of class ``c`` shows (:func:`instance_masks`)."""
    width, height = drawn.image.size
    classes = np.zeros((height, width), np.uint8)
    for mask, label in zip(instance_masks(drawn), drawn.classes, strict=True):
        classes[mask] = label + 1
    return classes


def mask_boxes(masks):
    """The pixel boxes ``(x0, y0, x1, y1)`` (N, 4) bounding bool masks (N, H, W), whole pixels (a mask
    covering only pixel (x, y) has box ``(x, y, x + 1, y + 1)``); a row of NaN for an empty mask."""
    boxes = np.full((len(masks), 4), np.nan, np.float32)
    for index, mask in enumerate(masks):
        rows, cols = np.nonzero(mask)
        if rows.size:
            boxes[index] = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    return boxes


def visible_boxes(drawn):
    """The pixel boxes ``(x0, y0, x1, y1)`` (N, 4) of what the generator actually drew of each object
    of scene ``drawn``: the bounding boxes of its :func:`instance_masks` (a row of NaN when nothing of
    it shows). Pixels are whole: rendering quantises the labels' float boxes."""
    return mask_boxes(instance_masks(drawn))


SAMPLE_SCENES = 4  # what ``detect`` and ``segment`` show without image paths
SAMPLE_SCALE = 3  # … enlarged (nearest neighbour) so that the drawn labels stay readable


def sample_scenes(count=SAMPLE_SCENES):
    """``[(file name, PIL image)]``: the first ``count`` held-out scenes, named ``scene_NNN.png``,
    enlarged :data:`SAMPLE_SCALE` times (the detector resizes them back to its input)."""
    size = SCENE_SIZE * SAMPLE_SCALE
    return [(f"scene_{index:03d}.png", s.image.resize((size, size), Image.NEAREST))
            for index, s in enumerate(scenes(EVALUATION_SEED, count))]
