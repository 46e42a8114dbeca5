"""``yad2k-style face …`` in-process: enroll, verify, identify, calibrate; and the mistakes."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from yad2k_style import cli
from yad2k_style.artifacts import create_artifact
from yad2k_style.face.database import FaceDatabase
from yad2k_style.face.embedder import face_info
from yad2k_style.face.model import face_reco_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A seeded face model directory and a few images (random, so every one has its own embedding)."""
    root = tmp_path_factory.mktemp("face")
    keras.utils.set_random_seed(5)
    model = face_reco_model()
    create_artifact(root / "model", model, face_info(model))
    rng = np.random.default_rng(5)
    for name in ("alice1", "alice2", "bob1"):
        Image.fromarray(rng.integers(0, 256, (120, 100, 3), np.uint8)).save(root / f"{name}.png")
    (root / "broken.png").write_bytes(b"\x89PNG not really")
    return root


def run(setup, capsys, *argv):
    code = cli.main([str(a).replace("S/", f"{setup}/") for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_enroll_verify_identify_calibrate(setup, capsys, tmp_path):
    db = tmp_path / "faces.npz"
    common = ["--db", db, "--model", "S/model"]
    assert run(setup, capsys, "face", "enroll", "alice", "S/alice1.png", "S/alice2.png", *common)[:2] == (
        0, f"enrolled alice: 2 image(s); {db} holds 1 people, 2 images\n")
    assert run(setup, capsys, "face", "enroll", "bob", "S/bob1.png", *common)[0] == 0
    assert FaceDatabase.load(db).names.tolist() == ["alice", "alice", "bob"]

    code, out, _ = run(setup, capsys, "face", "verify", "S/alice1.png", "alice", *common)
    assert code == 0 and out.splitlines() == ["It's alice, welcome in!", "distance 0.0000, threshold 0.7000"]
    code, out, _ = run(setup, capsys, "face", "verify", "S/bob1.png", "alice", *common, "--threshold", "1e-4")
    assert code == 1 and out.splitlines()[0] == "It's not alice, please go away"

    code, out, _ = run(setup, capsys, "face", "identify", "S/bob1.png", "S/alice2.png", *common,
                       "--threshold", "1e-4")
    assert code == 0
    assert out.splitlines() == [f"{setup}/bob1.png: bob (nearest bob, distance 0.0000)",
                                f"{setup}/alice2.png: alice (nearest alice, distance 0.0000)"]

    pairs = setup / "pairs.txt"
    pairs.write_text("alice1.png alice1.png 1\nbob1.png bob1.png 1\nalice1.png bob1.png 0\n"
                     "alice2.png bob1.png 0\n")
    code, out, _ = run(setup, capsys, "face", "calibrate", pairs, "--model", "S/model", "--folds", "2",
                       "--plot", tmp_path / "roc.png")
    assert code == 0 and "ROC AUC 1.0000" in out and (tmp_path / "roc.png").exists()
    threshold = json.loads((setup / "model" / "model.json").read_text())["threshold"]
    assert 0 < threshold and f"stored threshold {threshold:.4f}" in out


@pytest.mark.parametrize("argv, message", [
    (["enroll", "carl", "S/broken.png", "--db", "T/new.npz", "--model", "S/model"],
     "S/broken.png: not a readable image"),
    (["verify", "S/alice1.png", "alice", "--db", "S/alice1.png", "--model", "S/model"],
     "S/alice1.png: not a face database (written by `yad2k-style face enroll`)"),
    (["verify", "S/alice1.png", "zoe", "--db", "T/small.npz", "--model", "S/model"],
     "T/small.npz: holds 4-dimensional embeddings; the model makes 128-dimensional ones"),
    (["verify", "S/alice1.png", "zoe", "--db", "T/faces.npz", "--model", "S/model"],
     "'zoe' is not in T/faces.npz (enrolled: alice)"),
    (["identify", "S/alice1.png", "--model", "S/model"], "give --db FILE with the images to identify"),
    (["enroll", "x", "S/alice1.png", "--db", "T/new.npz", "--model", "S/model", "--threshold", "-1"],
     "--threshold must be positive, got -1.0"),
    (["convert-openface", "S/alice1.png", "T/out"], "S/alice1.png: not a folder of OpenFace CSV weights"),
    (["evaluate", "--identities", "1"], "--identities must be at least 2, got 1"),
    (["train", "--out", "S/alice1.png"], "--out S/alice1.png: exists and is not a directory"),
    (["train", "--out", "T/run", "--images", "1"], "--images must be at least 2, got 1"),
    (["train", "S/alice1.png", "--out", "T/run", "--steps", "1"],
     "S/alice1.png: not a folder of identity folders"),
])
def test_mistakes_are_one_line(setup, capsys, tmp_path, argv, message):
    FaceDatabase(4, ["a"], np.ones((1, 4))).save(tmp_path / "small.npz")
    FaceDatabase(128, ["alice"], np.ones((1, 128)) / np.sqrt(128)).save(tmp_path / "faces.npz")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run(setup, capsys, "face", *[a.replace("T/", f"{tmp_path}/") for a in argv])
    message = message.replace("S/", f"{setup}/").replace("T/", f"{tmp_path}/")
    lines = err.splitlines()
    assert code == 2 and out == "" and len(lines) == 1, err
    assert lines[0].startswith(f"yad2k-style: error: {message}"), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
