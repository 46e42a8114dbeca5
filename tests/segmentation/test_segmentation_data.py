"""The generator's masks and class maps, and the mask file formats (PNG class maps, COCO RLE and
polygons through pycocotools)."""

import numpy as np
import pytest
from PIL import Image

from yad2k_style.detection.synthetic import (
    TRAIN_SEED,
    class_map,
    instance_masks,
    mask_boxes,
    scene,
    visible_boxes,
)
from yad2k_style.errors import FormatError
from yad2k_style.segmentation.masks import (
    decode_segmentation,
    encode_rle,
    palette,
    read_class_map,
    write_class_map,
)


@pytest.mark.parametrize("index", range(40))
def test_each_mask_is_what_shows_of_its_object_and_bounds_its_box(index):
    drawn = scene(TRAIN_SEED, index)
    masks = instance_masks(drawn)
    assert masks.shape == (len(drawn.classes), 128, 128) and masks.any(axis=(1, 2)).all()
    assert masks.sum(0).max() <= 1  # disjoint: a pixel shows one object at most
    boxes = mask_boxes(masks)
    np.testing.assert_array_equal(boxes, visible_boxes(drawn))
    for k, mask in enumerate(masks):
        x0, y0, x1, y1 = boxes[k].astype(int)
        assert mask[y0, x0:x1].any() and mask[y1 - 1, x0:x1].any()   # the box's edges touch the mask
        assert mask[y0:y1, x0].any() and mask[y0:y1, x1 - 1].any()
        assert mask.sum() == mask[y0:y1, x0:x1].sum()
        lx0, ly0 = np.floor(drawn.boxes[k, :2]).astype(int)
        lx1, ly1 = np.ceil(drawn.boxes[k, 2:]).astype(int) + 1
        if not masks[k + 1:, ly0:ly1, lx0:lx1].any():  # nothing drawn over it: its box is the label's
            np.testing.assert_allclose(boxes[k], drawn.boxes[k], atol=1.0)
    classes = class_map(drawn)
    expected = np.zeros((128, 128), np.uint8)
    for mask, label in zip(masks, drawn.classes, strict=True):
        expected[mask] = label + 1
    np.testing.assert_array_equal(classes, expected)


def test_a_later_object_covers_an_earlier_one():
    # find a scene in which two objects overlap: the later one owns the shared pixels
    for index in range(200):
        drawn = scene(TRAIN_SEED, index)
        masks = instance_masks(drawn)
        boxes = drawn.boxes
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                if (min(boxes[a, 2], boxes[b, 2]) - max(boxes[a, 0], boxes[b, 0]) > 4
                        and min(boxes[a, 3], boxes[b, 3]) - max(boxes[a, 1], boxes[b, 1]) > 4
                        and drawn.classes[a] == drawn.classes[b] == 1):  # two squares overlapping
                    x0, y0 = np.ceil(np.maximum(boxes[a, :2], boxes[b, :2])).astype(int) + 1
                    x1, y1 = np.floor(np.minimum(boxes[a, 2:], boxes[b, 2:])).astype(int) - 1
                    assert masks[b, y0:y1, x0:x1].all() and not masks[a, y0:y1, x0:x1].any()
                    return
    pytest.fail("no two overlapping squares in 200 scenes")


def test_class_maps_round_trip_as_palette_pngs(tmp_path):
    classes = np.random.default_rng(0).integers(0, 4, (20, 30)).astype(np.uint8)
    write_class_map(tmp_path / "map.png", classes, 3)
    with Image.open(tmp_path / "map.png") as image:
        assert image.mode == "P" and image.getpalette()[:12] == [c for rgb in palette(3) for c in rgb]
    np.testing.assert_array_equal(read_class_map(tmp_path / "map.png", 3, (20, 30)), classes)
    Image.fromarray(classes).save(tmp_path / "grey.png")  # 8-bit grey maps read too
    np.testing.assert_array_equal(read_class_map(tmp_path / "grey.png", 3), classes)


@pytest.mark.parametrize("make, message", [
    (lambda p: Image.new("RGB", (30, 20)).save(p), "not a class map: a PNG image in mode RGB"),
    (lambda p: Image.fromarray(np.full((20, 30), 7, np.uint8)).save(p), "class value 7 in a map of 3"),
    (lambda p: Image.fromarray(np.zeros((21, 30), np.uint8)).save(p),
     "class map of 30×21 pixels; its image is 30×20"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n garbage"), "not a readable PNG"),
    (lambda p: Image.new("L", (30, 20)).save(p.with_suffix(".jpg"), format="JPEG") or
     p.write_bytes(p.with_suffix(".jpg").read_bytes()), "not a class map: a JPEG"),
])
def test_bad_class_maps_are_one_line_errors_naming_the_file(tmp_path, make, message):
    path = tmp_path / "map.png"
    make(path)
    with pytest.raises(FormatError, match=message) as error:
        read_class_map(path, 3, (20, 30))
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_rle_round_trips_and_polygons_rasterise():
    mask = np.zeros((40, 50), bool)
    mask[5:15, 10:30] = True
    mask[20:35, 3] = True
    rle = encode_rle(mask)
    assert rle["size"] == [40, 50] and isinstance(rle["counts"], str)
    np.testing.assert_array_equal(decode_segmentation(rle, 40, 50), mask)
    # uncompressed RLE: column-major runs, starting with background
    runs = {"size": [4, 3], "counts": [2, 3, 7]}  # pixels 2–4 in column order: (2,0), (3,0), (0,1)
    expected = np.zeros((4, 3), bool)
    expected[2, 0] = expected[3, 0] = expected[0, 1] = True
    np.testing.assert_array_equal(decode_segmentation(runs, 4, 3), expected)
    # a polygon square with corners on pixel corners covers those pixels (pycocotools' rasteriser)
    square = decode_segmentation([[10, 5, 30, 5, 30, 15, 10, 15]], 40, 50)
    assert abs(int(square.sum()) - 200) <= 30 and square[6:14, 11:29].all() and not square[20:].any()


@pytest.mark.parametrize("segmentation, message", [
    ([[1, 2, 3, 4]], "at least 3 x, y pairs"),
    ([[1, 2, 3, 4, 5]], "at least 3 x, y pairs"),
    ([[0, 0, 10, "a", 5, 5]], "must be numbers"),
    ([[0, 0, 10, float("nan"), 5, 5]], "finite"),
    ([[0, 0, 35928576, 1, 0, 0]], "far outside the 50×40 image"),  # would rasterise for seconds
    ([], "no polygon"),
    ({"size": [40, 50]}, "list of polygons or an RLE"),
    ({"size": [10, 10], "counts": "abc"}, "RLE of size"),
    ({"size": [40, 50], "counts": [5, 10]}, "summing to 2000"),
    ({"size": [40, 50], "counts": [-5, 2005]}, "summing to 2000"),
    ({"size": [40, 50], "counts": "PPPPPPPP"}, "do not cover the image"),   # runs past the image
    ({"size": [40, 50], "counts": "\x01\x02"}, "do not cover the image"),    # not the encoding's bytes
    ({"size": [40, 50], "counts": 5}, "string or a list"),
    ("mask", "list of polygons or an RLE"),
])
def test_malformed_coco_segmentations_are_format_errors(segmentation, message):
    with pytest.raises(FormatError, match=message):
        decode_segmentation(segmentation, 40, 50, source="labels.json")
