"""Synthetic identities (deterministic per seed) and training runs that resume."""

import csv
import json
import warnings

import numpy as np
import pytest
from PIL import Image

from yad2k_style.errors import YadError, YadWarning
from yad2k_style.face import synthetic
from yad2k_style.face.train import FaceTrainingConfig, train_face


def test_generator_is_deterministic_per_seed():
    first = synthetic.render(synthetic.TRAIN_SEED, 7, 3)
    assert first.shape == (96, 96, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, synthetic.render(synthetic.TRAIN_SEED, 7, 3))
    assert synthetic.identity(5, 1) == synthetic.identity(5, 1) != synthetic.identity(5, 2)
    assert not np.array_equal(first, synthetic.render(synthetic.TRAIN_SEED, 7, 4))    # another rendering
    assert not np.array_equal(first, synthetic.render(synthetic.EVALUATION_SEED, 7, 3))
    held_out = {synthetic.VALIDATION_SEED, synthetic.CALIBRATION_SEED, synthetic.EVALUATION_SEED,
                synthetic.SAMPLE_SEED}
    assert synthetic.TRAIN_SEED not in held_out and len(held_out) == 4


def test_nuisance_changes_pixels_more_than_identity():
    """Mean pixel distance between two renderings of one person exceeds 0.8 × that between two people:
    raw pixels cannot tell people apart."""
    images = synthetic.renderings(synthetic.EVALUATION_SEED, range(12), 2).astype(float)
    same = np.mean([np.abs(images[i, 0] - images[i, 1]).mean() for i in range(12)])
    different = np.mean([np.abs(images[i, 0] - images[(i + 1) % 12, 1]).mean() for i in range(12)])
    assert same > 0.8 * different


def logged(out):
    with open(out / "history.csv") as stream:
        return [(int(row["epoch"]), float(row["val_auc"])) for row in csv.DictReader(stream)]


def test_synthetic_run_continues_from_epoch_2(tmp_path, capsys):
    config = dict(out=str(tmp_path / "run"), steps=2, identities=4, images=2, validation_identities=6,
                  verbose=0)
    train_face(FaceTrainingConfig(epochs=1, **config))
    assert [epoch for epoch, _ in logged(tmp_path / "run")] == [0]
    info = json.loads((tmp_path / "run" / "model.json").read_text())
    assert info["task"] == "face-embedding" and info["threshold"] > 0
    with pytest.raises(YadError, match="already trained for 1 epochs"):
        train_face(FaceTrainingConfig(epochs=1, **config))
    train_face(FaceTrainingConfig(epochs=2, **config))
    assert [epoch for epoch, _ in logged(tmp_path / "run")] == [0, 1]
    assert "validation: pair accuracy" in capsys.readouterr().out


def test_identity_folders_with_single_images_as_negatives(tmp_path):
    for person in range(6):
        (tmp_path / "faces" / f"p{person}").mkdir(parents=True)
        for index in range(1 if person == 5 else 3):
            Image.fromarray(synthetic.render(synthetic.SAMPLE_SEED, person, index)).save(
                tmp_path / "faces" / f"p{person}" / f"{index}.png")
    with pytest.warns(YadWarning, match="1 identities have a single image; they are used as negatives only"):
        warnings.simplefilter("ignore", DeprecationWarning)  # Keras' own, which pytest.warns would re-emit
        train_face(FaceTrainingConfig(out=str(tmp_path / "run"), dataset=str(tmp_path / "faces"), epochs=1,
                                      steps=1, identities=2, images=2, verbose=0))
    assert (tmp_path / "run" / "model.weights.h5").exists()
