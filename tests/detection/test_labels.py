"""The three label formats read back the same generated dataset."""

import numpy as np
import pytest

from yad2k_style.detection.labels import (
    LabelledDataset,
    Sample,
    read_dataset,
    write_coco,
    write_voc,
    write_yolo,
)
from yad2k_style.detection.synthetic import SHAPE_CLASSES, scenes
from yad2k_style.errors import FormatError


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Five synthetic scenes written once as images, with their true boxes."""
    root = tmp_path_factory.mktemp("dataset")
    samples = []
    for folder in ("images", "JPEGImages"):
        (root / folder).mkdir()
    for index, s in enumerate(scenes(seed=99, count=5)):
        for folder in ("images", "JPEGImages"):
            s.image.save(root / folder / f"scene_{index}.png")
        samples.append(Sample(root / "images" / f"scene_{index}.png", 128, 128, s.boxes, s.classes))
    return root, LabelledDataset(samples, list(SHAPE_CLASSES))


def test_three_formats_read_identical_boxes(generated):
    root, truth = generated
    write_yolo(truth, root)
    write_voc(truth, root)
    write_coco(truth, root / "annotations.json")
    readings = [read_dataset(root / "annotations.json"), read_dataset(root)]
    (root / "labels").rename(root / "labels_hidden")
    readings.append(read_dataset(root))  # now only Annotations/: the VOC reader
    (root / "labels_hidden").rename(root / "labels")
    assert sum(len(s.boxes) for s in truth.samples) >= 10
    for reading in readings:
        assert reading.class_names == list(SHAPE_CLASSES)
        assert [p.image_path.name for p in reading.samples] == [p.image_path.name for p in truth.samples]
        for got, want in zip(reading.samples, truth.samples, strict=True):
            assert (got.width, got.height) == (128, 128)
            np.testing.assert_allclose(got.boxes, want.boxes, atol=1e-4)
            np.testing.assert_array_equal(got.classes, want.classes)


def test_box_sizes_relative(generated):
    _, truth = generated
    sizes = truth.box_sizes()
    first = truth.samples[0].boxes[0]
    np.testing.assert_allclose(sizes[0], (first[2:4] - first[0:2]) / 128)


@pytest.mark.parametrize(
    "line, message",
    [("0 0.5 0.5 0.1", "expected 'class x y w h', found 4 fields"),
     ("7 0.5 0.5 0.1 0.1", "class 7 outside 0..2"),
     ("0 0.5 0.5 1.5 0.1", "relative"), ("a b c d e", "not numbers")],
)
def test_bad_yolo_label_names_file_and_line(tmp_path, line, message):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    scenes(seed=1, count=1)[0].image.save(tmp_path / "images" / "a.png")
    (tmp_path / "classes.txt").write_text("\n".join(SHAPE_CLASSES) + "\n")
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n" + line + "\n")
    with pytest.raises(FormatError, match=message) as info:
        read_dataset(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'labels' / 'a.txt'}:2:")


def test_bad_coco_and_unknown_layout(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": []}')
    with pytest.raises(FormatError, match="missing COCO field 'categories'"):
        read_dataset(bad)
    with pytest.raises(FormatError, match="not a dataset"):
        read_dataset(tmp_path)
