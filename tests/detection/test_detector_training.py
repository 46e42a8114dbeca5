"""Training this domain's detectors: every detector's parts make batches and a finite loss; a run
finishes, writes its weights and, run again, loads them instead of training."""

import json

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.train import WEIGHTS_FILE, Schedule, train_detector
from yad2k_style.zoo import NAMES, parts


@pytest.mark.parametrize("name", NAMES)
def test_each_detector_gives_batches_and_a_finite_loss(name, tmp_path):
    tf.keras.utils.set_random_seed(0)
    detector = parts(name)
    data = detector.data(Schedule(1, 4, 2), tmp_path)
    inputs, targets = next(iter(data))
    detector.network(detector.example)
    total, terms = detector.loss(detector.network, inputs, targets)
    assert np.isfinite(float(total)) and float(total) > 0
    assert abs(float(total) - sum(float(v) for v in terms.values())) < 1e-4 * float(total)


def test_a_finished_run_is_loaded_not_trained_again(tmp_path):
    tf.keras.utils.set_random_seed(0)
    schedule = Schedule(epochs=2, scenes_per_epoch=4, batch_size=2)
    detector = parts("ssd")
    history = train_detector(detector.network, detector.data(schedule, tmp_path), detector.loss, tmp_path,
                             schedule, detector.example)
    assert len(history.history["loss"]) == 2 and (tmp_path / WEIGHTS_FILE).is_file()
    assert json.loads((tmp_path / "state.json").read_text()) == {"finished": True, "epochs": 2}
    trained = [w.numpy() for w in detector.network.weights]
    again = parts("ssd")
    assert train_detector(again.network, again.data(schedule, tmp_path), again.loss, tmp_path, schedule,
                          again.example) is None
    for a, b in zip(trained, (w.numpy() for w in again.network.weights), strict=True):
        np.testing.assert_array_equal(a, b)


def test_unknown_detector_is_refused():
    with pytest.raises(ValueError, match="unknown detector 'yolo9'; choose from ssd, faster-rcnn"):
        parts("yolo9")
