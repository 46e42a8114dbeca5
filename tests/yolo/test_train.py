"""Training: the `train` command end to end, resuming after a crash, and MirroredStrategy."""

import csv
import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from yad2k_style import cli
from yad2k_style.artifacts import load_artifact
from yad2k_style.assets import asset_path
from yad2k_style.detection.synthetic import SHAPE_CLASSES
from yad2k_style.detection.yolo import embedded
from yad2k_style.detection.yolo.model import yolov2_shapes
from yad2k_style.detection.yolo.train import train

ANCHORS = np.array([[0.5, 0.5], [1.0, 1.2], [1.8, 1.5]], np.float32)


def tiny_batches(count, fail_at=None):
    """Random (images, y_true) batches for yolov2_shapes at 64×64; raises at batch ``fail_at``."""
    rng = np.random.default_rng(0)
    for index in range(count):
        if index == fail_at:
            raise RuntimeError("simulated crash")
        y = np.zeros((2, 2, 2, 3, 6), np.float32)
        y[:, 0, 1, 1] = [1, 0.5, 0.5, 0.1, -0.1, 2]
        yield rng.uniform(size=(2, 64, 64, 3)).astype(np.float32), y


def tiny_data(crash_in_epoch=None):
    """Four batches per epoch; with ``crash_in_epoch`` (1-based) that epoch fails at its third batch."""
    epochs = []

    def generate():
        epochs.append(None)
        yield from tiny_batches(4, fail_at=2 if len(epochs) == crash_in_epoch else None)

    spec = (tf.TensorSpec((2, 64, 64, 3), tf.float32), tf.TensorSpec((2, 2, 2, 3, 6), tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=spec)


def build():
    keras.utils.set_random_seed(0)
    return yolov2_shapes((64, 64, 3), num_anchors=3, num_classes=3)


def logged_epochs(out):
    with open(out / "history.csv") as stream:
        return [int(row["epoch"]) for row in csv.DictReader(stream)]


def test_resumes_after_a_crash(tmp_path):
    with pytest.raises(Exception, match="simulated crash"):
        train(build, tiny_data(crash_in_epoch=2), ANCHORS, 3, tmp_path, epochs=3, verbose=0)
    assert logged_epochs(tmp_path) == [0]
    assert (tmp_path / "backup" / "stage2").exists()
    model = train(build, tiny_data(), ANCHORS, 3, tmp_path, epochs=3, verbose=0)
    assert logged_epochs(tmp_path) == [0, 1, 2]  # epoch 0 was not trained again
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "epoch_001.weights.h5", "epoch_002.weights.h5", "epoch_003.weights.h5"]
    assert not (tmp_path / "backup" / "stage2").exists()
    assert model.output_shape == (None, 2, 2, 24)


def test_train_command_end_to_end(tmp_path, capsys, recwarn, shapes_dataset):
    root = shapes_dataset(tmp_path / "data")
    out = tmp_path / "run"
    code = cli.main(["train", str(root), "--out", str(out), "--model", "yolov2-shapes", "--epochs", "2",
                     "--freeze-body-epochs", "1", "--batch-size", "4", "--kmeans", "3"])
    assert code == 0
    assert "trained model" in capsys.readouterr().out
    assert logged_epochs(out) == [0, 1]
    with open(out / "history.csv") as stream:
        row = next(csv.DictReader(stream))
    assert {"loss", "xy", "wh", "objectness", "no_object", "class"} <= set(row)
    assert (out / "stage1.weights.h5").exists() and (out / "model.weights.h5").exists()
    info = json.loads((out / "model.json").read_text())
    assert info["architecture"] == {"kind": "registry", "model": "yolov2-shapes", "arguments": {
        "input_shape": [128, 128, 3], "num_anchors": 3, "num_classes": 3}}
    assert info["class_names"] == list(SHAPE_CLASSES) and len(info["anchors"]) == 3
    assert any((out / "logs").rglob("events.out.tfevents.*"))
    model = keras.saving.load_model(out / "final.keras", safe_mode=True)
    assert model.output_shape == (None, 4, 4, 3 * 8)
    assert (out / "classes.txt").read_text().split() == list(SHAPE_CLASSES)
    assert len((out / "anchors.txt").read_text().split(",")) == 6
    assert not [w for w in recwarn if "shuffle" in str(w.message)]   # Keras' "shuffle=True … ignored"
    used_in_new_processes(root, out, tmp_path)
    rerun_of_a_finished_run(root, out, capsys)


def rerun_of_a_finished_run(root, out, capsys):
    """The same command again is refused in one line; with more epochs it trains on from the end."""
    argv = ["train", str(root), "--out", str(out), "--model", "yolov2-shapes", "--batch-size", "4",
            "--kmeans", "3", "--freeze-body-epochs", "1"]
    assert cli.main([*argv, "--epochs", "2"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"yad2k-style: error: {out}: already trained for 2 epochs; give a new output directory, or more "
        f"than 2 epochs to train on from there"]
    assert logged_epochs(out) == [0, 1]
    assert cli.main([*argv, "--epochs", "3"]) == 0
    capsys.readouterr()
    assert logged_epochs(out) == [0, 1, 2]
    assert json.loads((out / "state.json").read_text()) == {"stage": "stage2", "epochs_done": 3}


def run_cli(cwd, *argv):
    """``yad2k-style ARGV`` in a new Python process: nothing the test process registered helps it. It
    runs in ``cwd``, away from the source tree, so it imports the installed package, as users do."""
    result = subprocess.run([sys.executable, "-m", "yad2k_style", *map(str, argv)], capture_output=True,
                            text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def used_in_new_processes(dataset, run, tmp_path):
    """A trained run is a model directory that ``detect`` and ``evaluate`` read in fresh processes, with
    the run's classes and 3 k-means anchors (the course's 5 would not fit its 24 output channels); its
    ``final.keras`` loads there too (no saved loss to look up)."""
    image = dataset / "images" / "0.png"
    out = run_cli(tmp_path, "detect", image, "--model", run, "--score-threshold", "0", "--max-boxes", "5",
                  "--json", tmp_path / "d.json")
    assert out.splitlines() == [f"Found 5 boxes for {image}"]
    records = json.loads((tmp_path / "d.json").read_text())
    assert len(records) == 5 and {r["class"] for r in records} <= set(SHAPE_CLASSES)
    out = run_cli(tmp_path, "evaluate", dataset, "--model", run, "--plot", "", "--json", tmp_path / "m.json")
    assert out.startswith(f"{dataset}: ") and json.loads((tmp_path / "m.json").read_text())["map_50"] >= 0
    out = run_cli(tmp_path, "detect", image, "--model", run / "final.keras", "--classes", run / "classes.txt",
                  "--anchors", run / "anchors.txt", "--score-threshold", "0", "--max-boxes", "5",
                  "--json", tmp_path / "k.json")
    assert json.loads((tmp_path / "k.json").read_text()) == records


def test_train_starts_from_converted_darknet_weights(tmp_path, capsys, shapes_dataset):
    cfg, weights = (str(asset_path(name)) for name in (embedded.CFG_FILE, embedded.WEIGHTS_FILE))
    converted_dir = tmp_path / "converted"
    assert cli.main(["convert", cfg, weights, str(converted_dir)]) == 2  # 3 classes: names needed
    assert "which have no default names; give a class-names file (--classes FILE" in capsys.readouterr().err
    assert cli.main(["convert", cfg, weights, str(converted_dir), "--classes",
                     str(asset_path(embedded.CLASSES_FILE))]) == 0
    out = tmp_path / "run"
    code = cli.main(["train", str(shapes_dataset(tmp_path / "data")), "--out", str(out), "--model",
                     "yolov2-shapes", "--weights", str(converted_dir), "--epochs", "1",
                     "--freeze-body-epochs", "1", "--batch-size", "4", "--no-augment"])
    assert code == 0
    capsys.readouterr()
    darknet = load_artifact(converted_dir).model
    trained = keras.saving.load_model(out / "final.keras", safe_mode=True)
    body = [layer.name for layer in darknet.layers if layer.weights][:-1]
    convs = [layer for layer in darknet.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(body) == 2 * (len(convs) - 1)  # convs and batch norms: frozen, so exactly Darknet's
    for name in body:
        pairs = zip(trained.get_layer(name).weights, darknet.get_layer(name).weights, strict=True)
        for mine, theirs in pairs:
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    head = darknet.layers[-1].name
    assert not np.array_equal(trained.get_layer(head).weights[0].numpy(),
                              darknet.get_layer(head).weights[0].numpy())  # the detector conv learnt


MIRRORED_SCRIPT = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    from yad2k_style.detection.yolo.model import yolov2_shapes
    from yad2k_style.training import select_strategy
    from yad2k_style.detection.yolo.train import train
    strategy = select_strategy(["/cpu:0", "/cpu:1"])
    images = np.random.default_rng(0).uniform(size=(8, 64, 64, 3)).astype("float32")
    y = np.zeros((8, 2, 2, 3, 6), "float32"); y[:, 0, 1, 1] = [1, 0.5, 0.5, 0.1, -0.1, 2]
    data = tf.data.Dataset.from_tensor_slices((images, y)).batch(4)
    anchors = np.array([[0.5, 0.5], [1.0, 1.2], [1.8, 1.5]], "float32")
    model = train(lambda: yolov2_shapes((64, 64, 3), num_anchors=3, num_classes=3), data, anchors, 3,
                  OUT, epochs=2, strategy=strategy, verbose=0)
    print("replicas", strategy.num_replicas_in_sync)
    print("variables on", sorted({v.value.device.split("/")[-1] for v in model.weights[:1]}))
""")


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    script = MIRRORED_SCRIPT.replace("OUT", repr(str(tmp_path)))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "replicas 2" in result.stdout
    assert logged_epochs(tmp_path) == [0, 1]


def test_darknet_recipe_prior_matching_burn_in_and_ema(tmp_path):
    """The Darknet recipe trains: the prior term is on for the first images only, the burn-in ramps
    the learning rate, and with EMA the saved weights are the average, not the last step's."""
    from yad2k_style.detection.yolo.loss import PRIOR_SCALE, PriorMatching, YoloLoss
    from yad2k_style.detection.yolo.train import BurnIn, Recipe

    loss = YoloLoss(ANCHORS, 3, options={"prior_scale": PRIOR_SCALE})
    callback = PriorMatching(loss, batch_size=8, images=20)
    scales = []
    for batch in range(4):
        callback.on_train_batch_begin(batch)
        scales.append(float(loss.prior_scale.numpy()))
        callback.on_train_batch_end(batch)
    assert scales == pytest.approx([PRIOR_SCALE, PRIOR_SCALE, PRIOR_SCALE, 0.0])  # 0, 8, 16 seen, then 24

    schedule = BurnIn(1e-3, 100)
    assert [float(schedule(step)) for step in (0, 50, 100, 500)] == pytest.approx([0, 1e-3 / 16, 1e-3, 1e-3])

    recipe = Recipe("darknet", prior_matching=True, batch_size=2, ema=0.9)
    model = train(build, tiny_data(), ANCHORS, 3, tmp_path / "ema", epochs=2, recipe=recipe,
                  learning_rate=BurnIn(1e-3, 4), verbose=0)
    with open(tmp_path / "ema" / "history.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert float(rows[0]["prior"]) > 0 and float(rows[0]["class"]) > 0
    averaged = model.get_layer("conv2d_1").kernel.numpy()
    saved = yolov2_shapes((64, 64, 3), num_anchors=3, num_classes=3)
    saved.load_weights(tmp_path / "ema" / "model.weights.h5")
    np.testing.assert_array_equal(saved.get_layer("conv2d_1").kernel.numpy(), averaged)
    ema_values = model.optimizer._model_variables_moving_average[0].numpy()
    np.testing.assert_allclose(averaged, ema_values)


def test_multi_scale_darknet_training_end_to_end(tmp_path, capsys, shapes_dataset):
    """--multi-scale: batches of 96, 128 and 160 pixels through one model; the run is saved at the
    model's own 128×128."""
    from yad2k_style.detection.yolo.pipeline import scale_sizes, training_pipeline

    assert scale_sizes((128, 128)) == [(96, 96), (128, 128), (160, 160)]
    assert scale_sizes((416, 416))[0] == (288, 288) and scale_sizes((416, 416))[-1] == (544, 544)
    root = shapes_dataset(tmp_path / "data")
    from yad2k_style.detection.labels import read_dataset

    batches = training_pipeline(read_dataset(root), (128, 128, 3), ANCHORS, 2, sizes=scale_sizes((128, 128)))
    seen = {(tuple(images.shape[1:3]), tuple(y.shape[1:3])) for images, y in batches.repeat(6)}
    assert {size for size, _ in seen} > {(128, 128)} and all(g == (s[0] // 32, s[1] // 32) for s, g in seen)
    out = tmp_path / "run"
    code = cli.main(["train", str(root), "--out", str(out), "--model", "yolov2-shapes", "--epochs", "2",
                     "--batch-size", "2", "--kmeans", "3", "--multi-scale", "--loss", "darknet",
                     "--prior-matching", "--burn-in", "4", "--ema", "0.9"])
    assert code == 0
    model = keras.saving.load_model(out / "final.keras", safe_mode=True)
    assert model.input_shape == (None, 128, 128, 3)
    assert json.loads((out / "model.json").read_text())["input_shape"] == [128, 128, 3]
    capsys.readouterr()
