"""Interrupted work and repeatability (issue 22). A conversion and a training run are killed with SIGKILL
(no cleanup: a power cut, the out-of-memory killer) at fixed points, chosen by the environment
variable ``YAD2K_STYLE_KILL_AT`` (``yad2k_style.files.kill_point``): no partial output is left where a
user looks (only hidden staging entries), the conversion reruns cleanly, and the training run resumes
at the last finished epoch. The same inputs give bit-identical detections, masks and embeddings in
two processes on the CPU."""

import os
import signal
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

from yad2k_style.artifacts import load_artifact
from yad2k_style.assets import asset_path
from yad2k_style.detection.yolo import embedded
from yad2k_style.files import KILL_AT

SHAPES_CFG, SHAPES_WEIGHTS = (asset_path(name) for name in (embedded.CFG_FILE, embedded.WEIGHTS_FILE))


def run(argv, tmp_path, kill_at=None, timeout=600):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    environment.pop(KILL_AT, None)
    if kill_at:
        environment[KILL_AT] = kill_at
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=timeout,
                          cwd=tmp_path, env=environment)


def visible(folder):
    """The entries of ``folder`` a user sees (not the hidden staging ones), recursively."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def test_a_conversion_killed_midway_leaves_no_output_and_reruns(tmp_path):
    argv = ["-m", "yad2k_style", "convert", str(SHAPES_CFG), str(SHAPES_WEIGHTS), str(tmp_path / "out"),
            "--classes", str(asset_path("shapes/classes.txt"))]
    killed = run(argv, tmp_path, kill_at="weights-file:variable#20")  # after 20 arrays
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "out").exists() and visible(tmp_path) == []
    again = run(argv, tmp_path)
    assert again.returncode == 0, again.stderr
    assert load_artifact(tmp_path / "out").model.count_params() == 1_298_968


TRAIN = textwrap.dedent("""
    import sys
    from yad2k_style.detection.train import Schedule, train_detector
    from yad2k_style.zoo import parts
    detector = parts("ssd")
    schedule = Schedule(epochs=3, scenes_per_epoch=64, batch_size=32, learning_rate=1e-3)
    data = detector.data(schedule, sys.argv[1])
    train_detector(detector.network, data, detector.loss, sys.argv[1], schedule)
""")


@pytest.mark.parametrize("kill_at, kept", [("backup:staged#2", "latest"), ("backup:swapping#2", "previous")])
def test_a_training_run_killed_while_backing_up_resumes_at_its_last_epoch(tmp_path, kill_at, kept):
    """Killed while writing epoch 2's backup (before it is complete, or between the two renames that
    swap it in): epoch 1's backup is whole, every checkpoint file is whole, and the rerun trains epochs 2
    and 3 only."""
    run_dir = tmp_path / "run"
    killed = run(["-c", TRAIN, str(run_dir)], tmp_path, kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    backup = run_dir / "backup" / "train"
    assert (backup / kept / "latest.weights.h5").exists()
    for checkpoint in (run_dir / "checkpoints").iterdir():  # whole files, never half-written
        assert not checkpoint.name.startswith(".")
        with h5py.File(checkpoint, "r"):
            pass
    resumed = run(["-c", TRAIN, str(run_dir)], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Epoch 2/3" in resumed.stdout and "Epoch 1/3" not in resumed.stdout
    epochs = [line.split(",")[0] for line in (run_dir / "history.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "epoch_001.weights.h5", "epoch_002.weights.h5", "epoch_003.weights.h5"]
    assert (run_dir / "network.weights.h5").exists() and not list(backup.glob(".*"))


OUTPUTS = textwrap.dedent("""
    import sys
    import numpy as np
    from yad2k_style.zoo import load_scene_detector
    from yad2k_style.face.embedder import FaceEmbedder
    from yad2k_style.face.samples import sample_paths
    from yad2k_style.detection.synthetic import sample_scenes
    from yad2k_style.detection.yolo.detector import Detector
    images = [image for _, image in sample_scenes()]
    found = Detector.load(score_threshold=0.01, max_boxes=50).detect(images)
    instances = load_scene_detector("mask-rcnn-shapes").segment(images)
    faces = [path for paths in sample_paths().values() for path in paths]
    np.savez(sys.argv[1], *[d.boxes for d in found], *[d.scores for d in found],
             *[i.masks for i in instances], *[i.scores for i in instances],
             FaceEmbedder.load().encode_files(faces))
""")


def test_the_same_inputs_give_bit_identical_outputs_in_two_processes(tmp_path):
    for name in ("first.npz", "second.npz"):
        result = run(["-c", OUTPUTS, str(tmp_path / name)], tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    with np.load(tmp_path / "first.npz") as first, np.load(tmp_path / "second.npz") as second:
        assert len(first.files) == len(second.files) > 10
        for key in first.files:
            assert first[key].tobytes() == second[key].tobytes(), key
