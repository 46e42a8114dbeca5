"""``evaluate``'s F1 threshold (printed, stored, then used by ``detect``), the oracle ceiling, and
the suppression variants from the command line."""

import json

import pytest

from yad2k_style import cli
from yad2k_style.assets import asset_path
from yad2k_style.detection.yolo import embedded
from yad2k_style.detection.yolo.convert import convert
from yad2k_style.detection.yolo.detector import Detector
from yad2k_style.detection.yolo.sources import ModelSource


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def model_dir(tmp_path):
    convert(asset_path(embedded.CFG_FILE), asset_path(embedded.WEIGHTS_FILE), tmp_path / "shapes",
            classes_path=asset_path(embedded.CLASSES_FILE))
    return tmp_path / "shapes"


def test_f1_threshold_is_stored_and_used_by_detect(model_dir, capsys):
    assert Detector.load(ModelSource(model=str(model_dir)))._score_threshold == 0.6  # the course's
    code, out, err = run(capsys, "evaluate", "--model", model_dir, "--scenes", 30, "--plot", "", "--store")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    best = next(line for line in lines if line.startswith("best F1 at IoU 0.5: "))
    threshold = float(best.rsplit("≥ ", 1)[1])
    assert 0.3 < threshold < 1
    info = json.loads((model_dir / "model.json").read_text())
    assert info["score_threshold"] == pytest.approx(threshold, abs=5e-4)
    assert set(info["class_score_thresholds"]) == {"circle", "square", "triangle"}
    assert lines[-1] == f"stored the score threshold {threshold:.3f} in {model_dir}/model.json"
    assert Detector.load(ModelSource(model=str(model_dir)))._score_threshold == info["score_threshold"]
    chosen = Detector.load(ModelSource(model=str(model_dir)), score_threshold=0.3)
    assert chosen._score_threshold == 0.3


def test_oracle_and_mistakes(capsys):
    code, out, _ = run(capsys, "evaluate", "--oracle", "--scenes", 20)
    assert code == 0 and out.splitlines()[1] == "mAP@0.5      1.000"
    for argv, message in [
        (["evaluate", "--store", "--scenes", 5], "--store writes into a model directory: give --model DIR"),
        (["evaluate", "--oracle", "data"], "--oracle measures the synthetic scenes; give no dataset"),
        (["detect", "--class-agnostic", "--nms", "soft"], "class-agnostic suppression is the course's plain"),
    ]:
        code, _, err = run(capsys, *argv)
        assert (code, err.count("\n")) == (2, 1) and message in err, err


@pytest.mark.parametrize("nms", ["diou", "soft"])
def test_evaluate_with_other_suppressions(nms, capsys):
    code, out, _ = run(capsys, "evaluate", "--nms", nms, "--scenes", 20, "--plot", "")
    assert code == 0 and float(out.splitlines()[1].split()[-1]) > 0.8
