"""The packaged shapes detector: its files, ``evaluate`` (mAP against pycocotools), ``detect`` with no
arguments, and the same detections whichever way its Darknet files are loaded."""

import json

import numpy as np
import pytest
from PIL import Image

from yad2k_style import cli
from yad2k_style.assets import asset_path, read_anchors, read_classes
from yad2k_style.boxes import pairwise_iou
from yad2k_style.cli import detection
from yad2k_style.darknet import float_count, parse_cfg
from yad2k_style.darknet.weights import Header
from yad2k_style.detection import synthetic
from yad2k_style.detection.evaluate import evaluation_set
from yad2k_style.detection.labels import write_yolo
from yad2k_style.detection.synthetic import EVALUATION_SEED, SHAPE_CLASSES, scenes
from yad2k_style.detection.yolo import embedded

MAP_50_FLOOR, MAP_50_95_FLOOR = 0.94, 0.60  # issue 17's guard of the shipped detector
PACKAGE_LIMIT = 6 * 2**20  # "a few MB at most"


def test_packaged_files_agree_with_each_other():
    cfg = parse_cfg(asset_path(embedded.CFG_FILE))
    weights = asset_path(embedded.WEIGHTS_FILE)
    assert read_classes(asset_path(embedded.CLASSES_FILE)) == list(SHAPE_CLASSES)
    np.testing.assert_allclose(np.reshape(cfg.region.anchors, (-1, 2)),
                               read_anchors(asset_path(embedded.ANCHORS_FILE)), atol=1e-5)
    assert (cfg.region.classes, cfg.net.input_shape) == (3, embedded.INPUT_SHAPE)
    assert weights.stat().st_size == Header().size + 4 * float_count(cfg) < PACKAGE_LIMIT


def test_evaluate_without_arguments_reaches_the_floor(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["evaluate", "--json", "metrics.json"]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["map_50"] >= MAP_50_FLOOR
    assert MAP_50_95_FLOOR <= metrics["map_50_95"] < metrics["map_50"]
    assert min(metrics["per_class_ap50"].values()) >= MAP_50_FLOOR - 0.05
    assert f"mAP@0.5      {metrics['map_50']:.3f}" in out
    assert out.startswith("500 held-out scenes (seed 1128): ")
    with Image.open(tmp_path / "precision_recall.png") as plot:
        assert plot.format == "PNG" and plot.width > 300


def _matched(truth_boxes, truth_classes, records, min_size):
    """Whether every true box of at least ``min_size`` pixels has a detection of its class at IoU ≥ 0.5."""
    boxes = np.array([r["box"] for r in records], np.float32).reshape(-1, 4)
    classes = np.array([SHAPE_CLASSES.index(r["class"]) for r in records])
    for box, label in zip(truth_boxes, truth_classes, strict=True):
        same = classes == label
        if (box[2:] - box[:2]).max() >= min_size and not (
                same.any() and pairwise_iou(box[None], boxes[same]).max() >= 0.5):
            return False
    return True


def _ghosts_and_duplicates(truth_boxes, records, score=0.5):
    """Boxes scoring ≥ ``score`` whose IoU with every true object is < 0.5, and true objects with two or
    more such boxes at IoU ≥ 0.5, whatever the classes."""
    boxes = np.array([r["box"] for r in records if r["score"] >= score], np.float32).reshape(-1, 4)
    overlaps = pairwise_iou(boxes, np.asarray(truth_boxes, np.float32))
    return int(np.sum(overlaps.max(axis=1, initial=0) < 0.5)), int(np.sum((overlaps >= 0.5).sum(axis=0) > 1))


def test_detect_without_arguments_annotates_the_sample_scenes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["detect", "--json", "d.json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = json.loads((tmp_path / "d.json").read_text())
    samples = scenes(EVALUATION_SEED, synthetic.SAMPLE_SCENES)
    for index, sample in enumerate(samples):
        name = f"scene_{index:03d}.png"
        mine = [r for r in records if r["file"] == name]
        assert f"Found {len(mine)} boxes for {name}" in lines
        scale = synthetic.SAMPLE_SCALE
        assert _matched(sample.boxes * scale, sample.classes, mine, min_size=24 * scale)
        assert _ghosts_and_duplicates(sample.boxes * scale, mine) == (0, 0), name
        enlarged = np.asarray(sample.image).repeat(scale, axis=0).repeat(scale, axis=1)
        with Image.open(tmp_path / detection.SAMPLE_OUT / name) as annotated:
            drawn = np.asarray(annotated.convert("RGB"), float)
        assert drawn.shape == enlarged.shape == (128 * scale, 128 * scale, 3)
        changed = np.abs(drawn - enlarged).max(axis=-1) > 0
        assert 0.01 < changed.mean() < 0.5  # boxes and labels drawn over the scene, not a new image
    assert "annotated images in detections/" in lines


@pytest.fixture
def scene_files(tmp_path):
    paths = []
    for index, sample in enumerate(scenes(EVALUATION_SEED + 1, 3)):
        paths.append(tmp_path / f"s{index}.png")
        sample.image.save(paths[-1])
    return paths


def test_every_model_source_gives_the_same_detections(tmp_path, scene_files, capsys):
    cfg, weights, classes = (str(asset_path(name)) for name in
                             (embedded.CFG_FILE, embedded.WEIGHTS_FILE, embedded.CLASSES_FILE))
    assert cli.main(["convert", cfg, weights, str(tmp_path / "converted"), "--classes", classes]) == 0
    sources = {"embedded": [], "darknet": ["--cfg", cfg, "--weights", weights, "--classes", classes],
               "converted": ["--model", str(tmp_path / "converted")]}
    results = {}
    for name, options in sources.items():
        json_path = tmp_path / f"{name}.json"
        paths = [str(p) for p in scene_files]
        assert cli.main(["detect", *paths, *options, "--json", str(json_path)]) == 0
        results[name] = json.loads(json_path.read_text())
    capsys.readouterr()
    assert results["embedded"] and results["embedded"] == results["darknet"] == results["converted"]


def test_evaluate_a_dataset_folder_as_the_synthetic_stream(tmp_path, capsys):
    dataset, images = evaluation_set(count=20, seed=7)
    (tmp_path / "data" / "images").mkdir(parents=True)
    for sample, image in zip(dataset.samples, images, strict=True):
        sample.image_path = tmp_path / "data" / "images" / sample.image_path.name
        image.save(sample.image_path)  # PNG: the same pixels
    write_yolo(dataset, tmp_path / "data")
    folder, synthetic = tmp_path / "folder.json", tmp_path / "synthetic.json"
    assert cli.main(["evaluate", str(tmp_path / "data"), "--json", str(folder), "--plot", ""]) == 0
    assert cli.main(["evaluate", "--scenes", "20", "--seed", "7", "--json", str(synthetic),
                     "--plot", str(tmp_path / "pr.png")]) == 0
    capsys.readouterr()
    mine, theirs = json.loads(folder.read_text()), json.loads(synthetic.read_text())
    assert mine["map_50"] == theirs["map_50"] > 0.5 and mine["map_50_95"] == theirs["map_50_95"]
    (tmp_path / "data" / "classes.txt").write_text("circle\nsquare\nstar\n")
    assert cli.main(["evaluate", str(tmp_path / "data"), "--plot", ""]) == 2
    assert "classes ['circle', 'square', 'star'] are not the model's" in capsys.readouterr().err
