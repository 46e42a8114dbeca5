"""What the real command writes, in new processes with stdout and stderr redirected to files: no
TensorFlow start-up log lines, and no terminal control codes (progress bars are for terminals)."""

import re
import subprocess
import sys

import pytest

from yad2k_style.assets import asset_path
from yad2k_style.detection import synthetic
from yad2k_style.detection.yolo import embedded

TF_LOG_LINE = re.compile(r"^[IWEF][0-9]{4} |cuda|cuInit|oneDNN", re.MULTILINE)


def run(cwd, *argv):
    """``yad2k-style ARGV`` with stdout and stderr redirected to files → (exit code, stdout, stderr) bytes."""
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        code = subprocess.run([sys.executable, "-m", "yad2k_style", *map(str, argv)], stdout=stdout,
                              stderr=stderr, cwd=cwd, timeout=600).returncode
    return code, out.read_bytes(), err.read_bytes()


def assert_plain(stdout, stderr):
    for stream in (stdout, stderr):
        assert b"\x1b" not in stream and b"\x08" not in stream, stream[-500:]
    assert not TF_LOG_LINE.search(stderr.decode()), stderr.decode()[-2000:]


def test_detect_prints_plain_lines_only(tmp_path):
    code, stdout, stderr = run(tmp_path, "detect")
    assert code == 0 and stderr == b""
    assert_plain(stdout, stderr)
    assert stdout.decode().splitlines()[-1] == "annotated images in detections/"
    assert sorted(p.name for p in (tmp_path / "detections").iterdir()) == [
        f"scene_{index:03d}.png" for index in range(synthetic.SAMPLE_SCENES)]


def test_convert_prints_plain_lines_only(tmp_path):
    cfg, weights, classes = (asset_path(name) for name in
                             (embedded.CFG_FILE, embedded.WEIGHTS_FILE, embedded.CLASSES_FILE))
    code, stdout, stderr = run(tmp_path, "convert", cfg, weights, "out", "--classes", classes)
    assert code == 0 and stderr == b""
    assert_plain(stdout, stderr)
    assert stdout.decode().splitlines() == [
        "Read 1,298,968 of 1,298,968 floats from yolov2-shapes.weights",
        "Wrote out: model 'yolov2_shapes', 33 layers, 1,298,968 params, output (4, 4, 40)"]


def test_train_prints_plain_lines_only(tmp_path, shapes_dataset):
    shapes_dataset(tmp_path / "ds", count=4)
    code, stdout, stderr = run(tmp_path, "train", "ds", "--out", "run", "--model", "yolov2-shapes",
                               "--epochs", "2", "--batch-size", "4", "--kmeans", "3")
    assert code == 0, stderr.decode()[-2000:]
    assert_plain(stdout, stderr)
    lines = stdout.decode().splitlines()
    assert [line.split(" - ")[0] for line in lines if " - loss: " in line] == ["1/1", "1/1"]  # one per epoch


@pytest.mark.parametrize("argv", [["-v", "summary", "yolov2-tiny"]])
def test_verbose_shows_tensorflow_log_lines(tmp_path, argv):
    code, _, stderr = run(tmp_path, *argv)
    assert code == 0 and TF_LOG_LINE.search(stderr.decode())


@pytest.mark.parametrize("argv, message", [
    (["train", "ds", "--out", "run", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["detect", "--json", "."], "--json .: is a directory; give a file name"),
])
def test_mistakes_in_a_real_process(tmp_path, shapes_dataset, argv, message):
    """Exit code 2, one line on stderr, no traceback, nothing written."""
    shapes_dataset(tmp_path / "ds", count=2)
    code, stdout, stderr = run(tmp_path, *argv)
    assert (code, stdout, stderr.decode()) == (2, b"", f"yad2k-style: error: {message}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "stderr.txt", "stdout.txt"]
