"""``yad2k-style detect`` in-process: annotated copies, JSON, the course's lines, errors in one line."""

import json

import numpy as np
import pytest
from PIL import Image

from yad2k_style import cli
from yad2k_style.drawing import enlarged
from yad2k_style.images import read_image
from yad2k_style.yolo import Detector

GOOD = ["chart.png", "gray.png", "logo.png", "photo.jpg"]


@pytest.fixture
def setup(tmp_path, tiny_classes, tiny_anchors):
    """A directory of generated images (JPEG, PNG, grayscale, RGBA) and one corrupt file, plus the
    tiny model's class and anchor files."""
    rng = np.random.default_rng(21)
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)).save(images / "photo.jpg")
    Image.fromarray(rng.integers(0, 256, (120, 70, 3), dtype=np.uint8)).save(images / "chart.png")
    Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8), "L").save(images / "gray.png")
    Image.fromarray(rng.integers(0, 256, (50, 100, 4), dtype=np.uint8), "RGBA").save(images / "logo.png")
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated nonsense")
    (tmp_path / "classes.txt").write_text("\n".join(tiny_classes) + "\n")
    (tmp_path / "anchors.txt").write_text(", ".join(str(v) for v in tiny_anchors.ravel()) + "\n")
    return tmp_path


def _options(setup, model_file, *extra):
    return ["--model", str(model_file), "--classes", str(setup / "classes.txt"),
            "--anchors", str(setup / "anchors.txt"), *extra]


def test_detect_directory_writes_annotated_images_and_json(setup, tiny_yolo_file, tiny_yolo, tiny_anchors,
                                                           tiny_classes, capsys):
    images, out, json_path = setup / "images", setup / "out", setup / "detections.json"
    code = cli.main(["detect", str(images), *_options(setup, tiny_yolo_file, "--score-threshold", "0.3",
                                                      "--out", str(out), "--json", str(json_path))])
    captured = capsys.readouterr()
    assert code == 2
    broken = images / "broken.jpg"
    (error,) = captured.err.splitlines()
    assert error.startswith(f"yad2k-style: error: {broken}: not a readable image (")

    assert sorted(p.name for p in out.iterdir()) == GOOD
    for name in GOOD:
        original, annotated = enlarged(read_image(images / name))[0], Image.open(out / name)
        assert annotated.size == original.size and annotated.format == ("JPEG" if name.endswith("jpg")
                                                                        else "PNG")
        if name.endswith(".png"):
            changed = np.any(np.asarray(annotated.convert("RGB")) != np.asarray(original), axis=-1)
            assert 0 < changed.mean() < 1                     # boxes and labels drawn, not a new picture

    records = json.loads(json_path.read_text())
    assert all(set(r) == {"file", "class", "score", "box"} for r in records)
    detector = Detector(tiny_yolo, tiny_anchors, tiny_classes, score_threshold=0.3)
    for name in GOOD:
        mine = [r for r in records if r["file"] == str(images / name)]
        (want,) = detector.detect([read_image(images / name)])
        assert len(mine) == len(want.scores) > 0
        assert f"Found {len(mine)} boxes for {images / name}" in captured.out
        np.testing.assert_allclose([r["score"] for r in mine], want.scores, atol=1e-6)
        np.testing.assert_allclose([r["box"] for r in mine], want.boxes, atol=0.006)
        assert [r["class"] for r in mine] == [tiny_classes[c] for c in want.classes]
    assert captured.out.count("Found ") == 4
    assert "5/5" not in captured.out and "\x1b" not in captured.out   # no bar when not on a terminal


def test_detect_options_reach_the_detector(setup, tiny_yolo_file, tiny_yolo, tiny_anchors, tiny_classes,
                                           capsys):
    files = [setup / "images" / "photo.jpg", setup / "images" / "chart.png"]
    json_path = setup / "d.json"
    code = cli.main(["detect", *map(str, files), *_options(
        setup, tiny_yolo_file, "--letterbox", "--class-agnostic", "--batch-size", "1", "--max-boxes", "3",
        "--score-threshold", "0.25", "--iou-threshold", "0.3", "--json", str(json_path))])
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"Found 3 boxes for {files[0]}", f"Found 3 boxes for {files[1]}"]  # no bar
    records = json.loads(json_path.read_text())
    want = Detector(tiny_yolo, tiny_anchors, tiny_classes, letterbox=True, per_class_nms=False, max_boxes=3,
                    score_threshold=0.25, iou_threshold=0.3).detect([read_image(f) for f in files])
    np.testing.assert_allclose([r["box"] for r in records], np.concatenate([w.boxes for w in want]),
                               atol=0.006)


@pytest.mark.parametrize("extra, message", [
    (["--anchors", "ANCHORS5"], "tiny.keras: model 'yolov2' output shape (None, 2, 2, 16) does not fit "
                                "5 anchors × (5 + 3 classes) = 40 channels per grid cell"),
    (["--score-threshold", "1.5"], "--score-threshold must be between 0 and 1, got 1.5"),
    (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["--out", "IMAGES"], "--out IMAGES would overwrite the input IMAGES/chart.png"),
    (["--json", "NOWHERE/d.json"], "NOWHERE/d.json: directory NOWHERE does not exist"),
])
def test_detect_user_errors_are_one_line(setup, tiny_yolo_file, capsys, extra, message):
    names = {"ANCHORS5": str(setup / "anchors5.txt"), "IMAGES": str(setup / "images"),
             "NOWHERE": str(setup / "nowhere")}
    (setup / "anchors5.txt").write_text("1,1, 2,2, 3,3, 4,4, 5,5\n")
    extra = [names.get(arg, arg).replace("NOWHERE", names["NOWHERE"]) for arg in extra]
    for key, value in names.items():
        message = message.replace(key, value)
    code = cli.main(["detect", str(setup / "images" / "chart.png"), *_options(setup, tiny_yolo_file),
                     *extra])
    assert code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("yad2k-style: error: ") and err[0].endswith(message)


def test_detect_source_errors(tmp_path, capsys):
    (tmp_path / "a.png").write_bytes(b"")
    assert cli.main(["detect", str(tmp_path / "a.png")]) == 2  # the embedded detector; an empty image
    err = capsys.readouterr().err
    assert err.startswith(f"yad2k-style: error: {tmp_path / 'a.png'}: ") and err.count("\n") == 1
    assert cli.main(["detect", str(tmp_path / "missing"), "--model", "m.keras"]) == 2
    missing = tmp_path / "missing"
    assert capsys.readouterr().err == f"yad2k-style: error: {missing}: no such file or directory\n"
    assert cli.main(["detect", str(tmp_path / "a.png"), "--cfg", "x.cfg"]) == 2
    assert capsys.readouterr().err == "yad2k-style: error: --cfg and --weights go together\n"
    for model in ("m.keras", str(tmp_path)):  # a .keras file or a converted directory
        assert cli.main(["detect", str(tmp_path / "a.png"), "--model", model, "--weights", "x.weights"]) == 2
        err = capsys.readouterr().err
        assert err == "yad2k-style: error: give either --model or --cfg with --weights, not both\n"
