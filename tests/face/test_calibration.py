"""Threshold calibration from labelled pair distances, against exhaustive computation."""

import numpy as np
import pytest
from PIL import Image

from yad2k_style.errors import FormatError, YadError
from yad2k_style.face.calibration import (
    accuracy_at,
    best_threshold,
    calibrate,
    plot_roc,
    read_pairs,
    roc,
    threshold_at_far,
)


@pytest.fixture
def pairs():
    rng = np.random.default_rng(0)
    distances = np.concatenate([rng.normal(0.5, 0.1, 400), rng.normal(1.0, 0.1, 600)])
    return distances, np.arange(1000) < 400


def test_roc_rates_by_counting(pairs):
    distances, same = pairs
    fpr, tpr, thresholds = roc(distances, same)
    for index in (0, 100, 500, len(thresholds) - 1):
        accepted = distances < thresholds[index]
        assert fpr[index] == np.mean(accepted[~same]) and tpr[index] == np.mean(accepted[same])
    assert np.all(np.diff(fpr) >= 0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)


def test_best_threshold_is_the_exhaustive_best(pairs):
    distances, same = pairs
    threshold = best_threshold(distances, same)
    candidates = np.linspace(0, 1.5, 3001)
    best = max(accuracy_at(distances, same, t) for t in candidates)
    assert accuracy_at(distances, same, threshold) >= best
    assert 0.65 < threshold < 0.85


def test_calibrate_and_far_threshold(pairs, tmp_path):
    distances, same = pairs
    result = calibrate(distances, same, folds=10, far=0.01)
    assert 0.65 < result.threshold < 0.85 and result.accuracy > 0.97 and result.auc > 0.99
    assert np.mean(distances[~same] < result.far_threshold) <= 0.01
    assert result.tpr == np.mean(distances[same] < result.far_threshold)
    assert threshold_at_far(distances, same, 0.01) == (result.far_threshold, result.tpr)
    plot_roc(result, tmp_path / "roc.png")
    with Image.open(tmp_path / "roc.png") as image:
        assert image.format == "PNG" and image.width >= 400
    with pytest.raises(YadError, match="pairs of both kinds"):
        calibrate(distances[same], same[same])


def test_read_pairs(tmp_path):
    (tmp_path / "pairs.txt").write_text("# first, second, same\na.png b.png 1\n\n"
                                        "c.png d.png 0  # two people\n")
    firsts, seconds, same = read_pairs(tmp_path / "pairs.txt")
    assert firsts == [tmp_path / "a.png", tmp_path / "c.png"] and same.tolist() == [True, False]
    (tmp_path / "bad.txt").write_text("a.png b.png yes\n")
    with pytest.raises(FormatError, match=r"bad\.txt:1: expected 'IMAGE1 IMAGE2 SAME' with SAME 0 or 1"):
        read_pairs(tmp_path / "bad.txt")
