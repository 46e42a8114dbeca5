"""Segmentation masks in the formats people exchange them in.

- **Class maps**: PNG files whose pixel values are class indices (0 background, ``c + 1`` for class
  ``c``), written as palette PNGs so that they also show in colour (:data:`PALETTE`); read from
  palette or 8-bit grey PNGs.
- **COCO segmentations** through pycocotools' mask API: run-length encodings (RLE, compressed or not)
  and polygons (``[[x1, y1, x2, y2, …], …]`` in pixels) decode to bool (H, W) masks; masks encode to
  compressed RLE with a JSON-ready ``counts`` string.

Readers check what they read and raise :class:`~yad2k_style.errors.FormatError` naming the source.
"""

import numpy as np
from PIL import Image

from yad2k_style.drawing import get_colors_for_classes
from yad2k_style.errors import FormatError
from yad2k_style.files import atomic_write

BACKGROUND_COLOUR = (0, 0, 0)


def palette(num_classes):
    """The colours of class map values 0 … ``num_classes``: black for background, then the detectors'
    class colours (:func:`~yad2k_style.drawing.get_colors_for_classes`) → list of RGB tuples."""
    return [BACKGROUND_COLOUR, *get_colors_for_classes(num_classes)]


def colour_class_map(classes, num_classes):
    """uint8 (H, W) class map → its palette PIL image (mode ``P``): the values kept, shown in colour."""
    image = Image.fromarray(np.asarray(classes, np.uint8), mode="P")
    image.putpalette([channel for colour in palette(num_classes) for channel in colour])
    return image


def write_class_map(path, classes, num_classes):
    """Write uint8 (H, W) ``classes`` (0 … ``num_classes``) to ``path`` as a palette PNG, atomically."""
    classes = np.asarray(classes)
    if classes.size and int(classes.max()) > num_classes:
        raise ValueError(f"class map value {int(classes.max())} above {num_classes} classes")
    with atomic_write(path) as file:
        colour_class_map(classes, num_classes).save(file, format="PNG")


def read_class_map(path, num_classes, size=None):
    """A class map PNG (palette or 8-bit grey) → uint8 (H, W), checked: its values are 0 …
    ``num_classes`` and, when ``size`` (height, width) is given, it has that size."""
    try:
        with Image.open(path) as opened:
            if opened.format != "PNG" or opened.mode not in ("P", "L"):
                raise FormatError(path, f"not a class map: a {opened.format} image in mode {opened.mode} "
                                        f"(expected a palette or 8-bit grey PNG)")
            classes = np.array(opened)
    except FormatError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise FormatError(path, exc.strerror.lower()) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise FormatError(path, f"not a readable PNG ({exc})") from None
    if size is not None and classes.shape != tuple(size):
        raise FormatError(path, f"class map of {classes.shape[1]}×{classes.shape[0]} pixels; its image is "
                                f"{size[1]}×{size[0]}")
    if classes.size and int(classes.max()) > num_classes:
        raise FormatError(path, f"class value {int(classes.max())} in a map of {num_classes} classes "
                                f"(0 is background, 1–{num_classes} the classes)")
    return classes


def encode_rle(mask):
    """A bool (H, W) mask → COCO compressed RLE ``{"size": [H, W], "counts": str}`` (JSON-ready)."""
    from pycocotools import mask as coco_mask

    rle = coco_mask.encode(np.asfortranarray(np.asarray(mask, np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode_segmentation(segmentation, height, width, source="segmentation"):
    """A COCO ``segmentation`` of an object in an image of ``height`` × ``width`` pixels → bool (H, W).

    Polygons: a list of ``[x1, y1, x2, y2, …]`` lists (at least 3 points each, finite pixels).
    RLE: ``{"size": [H, W], "counts": …}``, ``counts`` a compressed string or a list of run lengths
    summing to H·W. Anything else is a :class:`FormatError` naming ``source``."""
    from pycocotools import mask as coco_mask

    if isinstance(segmentation, list):
        polygons = _checked_polygons(segmentation, source, height, width)
        rles = coco_mask.frPyObjects(polygons, height, width)
        return coco_mask.decode(coco_mask.merge(rles)).astype(bool)
    if not isinstance(segmentation, dict) or set(segmentation) != {"size", "counts"}:
        raise FormatError(source, "a segmentation is a list of polygons or an RLE {'size', 'counts'}")
    size, counts = segmentation["size"], segmentation["counts"]
    if list(size) != [height, width]:
        raise FormatError(source, f"RLE of size {size} in an image of {height}×{width} (H×W)")
    if isinstance(counts, list):
        if not all(isinstance(run, int) and run >= 0 for run in counts) or sum(counts) != height * width:
            raise FormatError(source, f"uncompressed RLE counts must be run lengths ≥ 0 summing to "
                                      f"{height * width}")
        rle = coco_mask.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    elif isinstance(counts, str | bytes):
        rle = {"size": [height, width], "counts": counts.encode("ascii", "replace")
               if isinstance(counts, str) else counts}
        if _rle_length(rle) != height * width:
            raise FormatError(source, "compressed RLE counts do not cover the image")
    else:
        raise FormatError(source, "RLE counts must be a string or a list of run lengths")
    return coco_mask.decode(rle).astype(bool)


def _checked_polygons(polygons, source, height, width):
    """The polygons as lists of floats, checked: at least 3 points each, finite, and no farther outside
    the image than its own size (rasterising costs time in proportion to a polygon's extent)."""
    checked = []
    for polygon in polygons:
        if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
            raise FormatError(source, "a polygon is a list of at least 3 x, y pairs")
        try:
            values = np.asarray(polygon, np.float64)
        except (TypeError, ValueError):
            raise FormatError(source, "polygon coordinates must be numbers") from None
        if values.ndim != 1 or not np.isfinite(values).all():
            raise FormatError(source, "polygon coordinates must be finite numbers")
        xs, ys = values[0::2], values[1::2]
        if xs.min() < -width or xs.max() > 2 * width or ys.min() < -height or ys.max() > 2 * height:
            raise FormatError(source, f"a polygon point lies far outside the {width}×{height} image")
        checked.append(values.tolist())
    if not checked:
        raise FormatError(source, "no polygon in the segmentation")
    return checked


def _rle_length(rle):
    """The pixels a compressed RLE's runs cover, decoded as pycocotools' ``rleFrString`` does (each run
    after the third is stored as a difference to the run two before), or −1 when the string is not a
    valid encoding (pycocotools itself does not check: runs past the image would overrun its buffer)."""
    counts, runs, position = rle["counts"], [], 0
    while position < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(counts) or shift > 6:
                return -1
            byte = counts[position] - 48
            if not 0 <= byte < 64:
                return -1
            value |= (byte & 0x1F) << (5 * shift)
            more = bool(byte & 0x20)
            position += 1
            shift += 1
            if not more and byte & 0x10:
                value -= 1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            return -1
        runs.append(value)
    return sum(runs)
