"""``segment`` and ``evaluate --task semantic|segm`` with the shipped segmenters, as a user runs them:
the files written, what they hold, and the mistakes people make (one line, exit code 2)."""

import json

import numpy as np
import pytest
from PIL import Image

from yad2k_style import cli
from yad2k_style.detection.synthetic import EVALUATION_SEED, class_map, scene
from yad2k_style.segmentation.masks import decode_segmentation, read_class_map


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Two held-out scenes (one enlarged to 256 × 192) and a file that is not an image."""
    folder = tmp_path_factory.mktemp("images")
    scene(EVALUATION_SEED, 0).image.save(folder / "a.png")
    scene(EVALUATION_SEED, 1).image.resize((256, 192)).save(folder / "b.png")
    return folder


def test_segment_writes_class_maps_at_each_image_size_and_overlays(images, tmp_path, capsys):
    code = cli.main(["segment", str(images), "--out", str(tmp_path / "out")])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"{images / 'a.png'}: " in printed and " px" in printed
    classes = read_class_map(tmp_path / "out" / "a_classes.png", 3, (128, 128))
    truth = class_map(scene(EVALUATION_SEED, 0))
    assert np.mean(classes == truth) > 0.97
    assert read_class_map(tmp_path / "out" / "b_classes.png", 3).shape == (192, 256)
    with Image.open(tmp_path / "out" / "b_overlay.png") as overlay:
        assert overlay.size == (512, 384 + 24) and overlay.mode == "RGB"  # enlarged to 384, legend below


def test_segment_instances_writes_ids_overlays_and_rle_json(images, tmp_path, capsys):
    code = cli.main(["segment", str(images / "b.png"), "--instances", "--out", str(tmp_path / "out"),
                     "--json", str(tmp_path / "found.json")])
    assert code == 0
    assert "Found " in capsys.readouterr().out
    records = json.loads((tmp_path / "found.json").read_text())
    drawn = scene(EVALUATION_SEED, 1)
    assert len(records) == len(drawn.classes)
    ids = read_class_map(tmp_path / "out" / "b_instances.png", len(records), (192, 256))
    assert sorted(np.unique(ids)) == list(range(len(records) + 1))
    for k, record in enumerate(records):
        mask = decode_segmentation(record["segmentation"], 192, 256)
        assert mask.sum() > 0 and np.mean(ids[mask] == k + 1) > 0.9  # the id map is the masks, best on top


def test_segment_without_paths_draws_the_sample_scenes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["segment", "--instances"]) == 0
    assert len(list((tmp_path / "segmentation").glob("*_overlay.png"))) == 4


@pytest.mark.parametrize("argv, message", [
    (["segment", "--model", "semantic-shapes", "--instances"], "semantic-shapes: not an instance"),
    (["segment", "--model", "mask-rcnn-shapes"], "mask-rcnn-shapes: not a semantic segmentation model"),
    (["segment", "--model", "yolov2-shapes"], "yolov2-shapes: not a semantic segmentation model"),
    (["segment", "--score-threshold", "0.5"], "--score-threshold and --json are for --instances"),
    (["segment", "--instances", "--score-threshold", "1.5"], "--score-threshold"),
    (["segment", "--batch-size", "0"], "--batch-size"),
    (["segment", "nowhere.png"], "nowhere.png: no such file"),
    (["detect", "--model", "semantic-shapes"], "labels pixels, not boxes; use segment"),
    (["evaluate", "--task", "semantic", "data.json"], "evaluates on the synthetic held-out scenes"),
    (["evaluate", "--task", "segm", "--oracle"], "--task segm: --oracle is for --task detection only"),
    (["evaluate", "--task", "segm", "--model", "semantic-shapes"], "not an instance segmentation model"),
])
def test_segmentation_mistakes_are_one_line_errors(argv, message, capsys):
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error


def test_an_unreadable_image_is_reported_and_the_others_segmented(images, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.png").write_bytes(b"not a png")
    scene(EVALUATION_SEED, 2).image.save(tmp_path / "in" / "c.png")
    assert cli.main(["segment", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 2
    assert "broken.png: not a readable image" in capsys.readouterr().err
    assert (tmp_path / "out" / "c_classes.png").exists() and not list((tmp_path / "out").glob("broken*"))


def test_evaluate_task_semantic_and_segm_print_their_figures(tmp_path, capsys):
    json_path = str(tmp_path / "s.json")
    assert cli.main(["evaluate", "--task", "semantic", "--scenes", "20", "--json", json_path]) == 0
    printed = capsys.readouterr().out
    assert "20 held-out scenes (seed 1128): mIoU" in printed and "background" in printed
    assert json.loads((tmp_path / "s.json").read_text())["mean_iou"] > 0.85
    assert cli.main(["evaluate", "--task", "segm", "--scenes", "20", "--plot", str(tmp_path / "pr.png")]) == 0
    printed = capsys.readouterr().out
    assert "mask AP@0.5" in printed and "box AP@0.5" in printed and (tmp_path / "pr.png").exists()
