"""Serving exports: the SavedModel's signature and the TFLite network give the detector's detections."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.yolo.serving import OUTPUTS, SIGNATURE, save_savedmodel, save_tflite
from yad2k_style.errors import YadError
from yad2k_style.yolo import Detector

litert = pytest.importorskip("ai_edge_litert.interpreter")


def _batch():
    rng = np.random.default_rng(5)
    return rng.integers(0, 256, (3, 64, 64, 3), np.uint8), np.array([[64, 64], [100, 50], [30, 90]], np.int32)


@pytest.fixture(scope="module")
def detector(tiny_yolo, tiny_anchors, tiny_classes):
    return Detector(tiny_yolo, tiny_anchors, tiny_classes, score_threshold=0.3, max_boxes=6)


def _assert_same_detections(got, want):
    np.testing.assert_array_equal(got[3], want[3])
    assert int(np.sum(want[3])) >= 3  # not vacuous
    np.testing.assert_array_equal(got[2], want[2])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-3, atol=1e-3 * np.abs(want[0]).max())


def test_savedmodel_signature_gives_the_detections(detector, tmp_path):
    save_savedmodel(detector, tmp_path / "served")
    assert (tmp_path / "served" / "saved_model.pb").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["served"]  # nothing half-written beside it
    loaded = tf.saved_model.load(str(tmp_path / "served"))
    serve = loaded.signatures[SIGNATURE]
    assert sorted(serve.structured_outputs) == sorted(OUTPUTS)
    images, sizes = _batch()
    outputs = serve(images=tf.constant(images), image_sizes=tf.constant(sizes))
    _assert_same_detections([outputs[name].numpy() for name in OUTPUTS], detector.detect_batch(images, sizes))
    with pytest.raises(YadError, match="already exists"):
        save_savedmodel(detector, tmp_path / "served")


def test_tflite_network_runs_in_litert(detector, tmp_path):
    path = tmp_path / "net.tflite"
    save_tflite(detector, path)
    interpreter = litert.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (given,), (output,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert tuple(given["shape"]) == (1, 64, 64, 3) and tuple(output["shape"]) == (1, 2, 2, 16)
    images, sizes = _batch()
    features = []
    for image, size in zip(images, sizes, strict=True):
        inputs = detector.model_inputs(image[None], size[None]).numpy()
        interpreter.set_tensor(given["index"], inputs)
        interpreter.invoke()
        features.append(interpreter.get_tensor(output["index"])[0])
    want_features = detector.model(detector.model_inputs(images, sizes)).numpy()
    assert np.abs(np.stack(features) - want_features).max() <= 1e-4 * np.abs(want_features).max()
    got = detector.postprocess(np.stack(features), sizes)
    _assert_same_detections(got, detector.detect_batch(images, sizes))


def test_export_command_writes_the_embedded_detector(tmp_path, capsys):
    from yad2k_style import cli
    from yad2k_style.detection.synthetic import EVALUATION_SEED, scenes

    assert cli.main(["export", "yolov2-shapes", "--format", "savedmodel", str(tmp_path / "s"),
                     "--max-boxes", "20"]) == 0
    assert cli.main(["export", "yolov2-shapes", "--format", "tflite", str(tmp_path / "n.tflite")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Wrote {tmp_path / 's'}: signature 'serving_default'") and len(out) == 2
    images = np.stack([np.asarray(scene.image) for scene in scenes(EVALUATION_SEED, 4)]).astype(np.uint8)
    sizes = np.array([image.shape[:2] for image in images], np.int32)
    want = Detector.load(max_boxes=20).detect_batch(images, sizes)
    served = tf.saved_model.load(str(tmp_path / "s")).signatures[SIGNATURE]
    got = served(images=tf.constant(images), image_sizes=tf.constant(sizes))
    _assert_same_detections([got[name].numpy() for name in OUTPUTS], want)
    assert (tmp_path / "n.tflite").stat().st_size > 4_000_000  # 1.3 M float32 parameters


def test_int8_detector_and_tflite_export(tmp_path, capsys):
    """int8 (TFLite full-integer, calibrated on training scenes) keeps the embedded detector's mAP@0.5
    within 0.05 on 100 held-out scenes; the exported int8 file gives the same features as the detector's."""
    from yad2k_style import cli
    from yad2k_style.detection.evaluate import evaluate_detector
    from yad2k_style.detection.synthetic import TRAIN_SEED, scenes
    from yad2k_style.quantize import LiteRTNetwork

    calibration = [scene.image for scene in scenes(TRAIN_SEED, 16)]
    int8 = Detector.load(precision="int8", calibration=calibration, score_threshold=0.005, max_boxes=100)
    fp32 = Detector.load(score_threshold=0.005, max_boxes=100)
    maps = [evaluate_detector(d, scenes=100).evaluation.map_50 for d in (fp32, int8)]
    assert maps[0] > 0.85 and abs(maps[1] - maps[0]) <= 0.05
    folder = tmp_path / "calibration"
    folder.mkdir()
    for index, image in enumerate(calibration):
        image.save(folder / f"{index}.png")
    assert cli.main(["export", "yolov2-shapes", "--format", "tflite", str(tmp_path / "q.tflite"),
                     "--calibration", str(folder)]) == 0
    assert "(int8 inside, " in capsys.readouterr().out
    exported = LiteRTNetwork((tmp_path / "q.tflite").read_bytes())
    inputs = int8.calibration_inputs(calibration[:4])
    np.testing.assert_allclose(exported.run(inputs), int8.network.run(inputs), atol=1e-6)
    error = np.abs(exported.run(inputs) - fp32.model(inputs).numpy()).max()
    assert 1e-3 < error < 0.5 * np.abs(fp32.model(inputs).numpy()).max()  # quantised, not broken


def test_int8_needs_calibration_and_only_int8_takes_it(tiny_yolo, tiny_anchors, tiny_classes):
    with pytest.raises(YadError, match="int8 precision needs calibration images"):
        Detector(tiny_yolo, tiny_anchors, tiny_classes, precision="int8")
    with pytest.raises(YadError, match="int8 precision needs calibration images"):
        Detector(tiny_yolo, tiny_anchors, tiny_classes, calibration=[])
    with pytest.raises(YadError, match="at least one image"):
        Detector(tiny_yolo, tiny_anchors, tiny_classes, precision="int8", calibration=[])
