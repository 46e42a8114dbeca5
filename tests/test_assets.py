import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from yad2k_style.assets import (
    COCO_CLASSES,
    VOC_CLASSES,
    YOLOV2_ANCHORS,
    asset_path,
    parse_anchors,
    read_anchors,
    read_classes,
)
from yad2k_style.errors import FormatError


def test_packaged_class_lists():
    coco = read_classes(asset_path(COCO_CLASSES))
    assert len(coco) == 80
    assert (coco[0], coco[2], coco[5], coco[9], coco[79]) == (
        "person", "car", "bus", "traffic light", "toothbrush")
    voc = read_classes(asset_path(VOC_CLASSES))
    assert len(voc) == 20 and voc[14] == "person"


def test_course_anchors():
    anchors = read_anchors(asset_path(YOLOV2_ANCHORS))
    assert anchors.shape == (5, 2) and anchors.dtype == np.float32
    np.testing.assert_allclose(anchors[0], [0.57273, 0.677385])
    np.testing.assert_allclose(anchors[4], [9.77052, 9.16828])


def test_anchor_formats():
    np.testing.assert_allclose(parse_anchors("1 2\n3,4", "x"), [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "text, message",
    [("", "no anchors"), ("1, 2, 3", "odd number of anchor values"),
     ("1, two", "anchor value 'two' is not a number"), ("1, -2", "positive")],
)
def test_malformed_anchors(tmp_path, text, message):
    path = tmp_path / "anchors.txt"
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as info:
        read_anchors(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "text, message",
    [("", "no class names"), ("cat\n\ndog\n", r":2: blank class name"),
     ("cat\ndog\ncat\n", r":3: duplicate class name 'cat'")],
)
def test_malformed_classes(tmp_path, text, message):
    path = tmp_path / "classes.txt"
    path.write_text(text)
    with pytest.raises(FormatError, match=message):
        read_classes(path)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(FormatError, match="file not found"):
        read_classes(tmp_path / "none.txt")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FormatError, match="not UTF-8"):
        read_anchors(binary)


def test_a_source_checkout_without_the_installed_assets_reads_weights_beside_it():
    """Python started in the repository's root imports ``yad2k_style`` from the checkout, where no
    ``yad2k_style.weights`` exists (``pip install .`` maps ``weights/`` there only in the install):
    the assets are the checkout's ``weights/``, and the embedded detector loads and detects."""
    script = textwrap.dedent("""
        import importlib.abc, sys
        class NoInstalledAssets(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "yad2k_style.weights":
                    raise ModuleNotFoundError(name)
        sys.meta_path.insert(0, NoInstalledAssets())
        from yad2k_style.assets import assets_root
        from yad2k_style.detection.synthetic import sample_scenes
        from yad2k_style.yolo import Detector
        found = Detector.load().detect([image for _, image in sample_scenes(1)])[0]
        print(assets_root(), len(found.boxes))
    """)
    root = Path(__file__).parents[1]
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(root / "weights"), "6"]
