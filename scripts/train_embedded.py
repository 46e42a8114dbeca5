"""Reproduce the embedded default detector in weights/shapes/ (CPU, about 1 h 40 min on 2 cores).

    python scripts/train_embedded.py --out runs/final-rescore --epochs 40 --scenes-per-epoch 30000 --rescore
    python scripts/train_embedded.py --package runs/final-rescore
    python scripts/train_embedded.py --ablation runs/ablation       # each recipe change, reduced schedule

The recipe options (``--loss darknet``, ``--rescore``, ``--prior-matching``, ``--burn-in``, ``--ema``) are
``yad2k-style train``'s. ``--ablation`` trains one run per recipe change at a tenth of the schedule
(a tenth of the scenes per epoch; the same seeds), evaluates each on the held-out scenes and writes
``ablation.json``; rerun to resume.

Every epoch draws new scenes of stream ``TRAIN_SEED`` (deterministic, never the evaluation stream),
so the network cannot overfit them. A run is resumable: the same command continues it from its last
epoch. ``--init`` starts from other weights (a fine-tune); ``--package`` writes the Darknet cfg +
weights, classes and anchors to weights/shapes/.
"""

import argparse
import time
from pathlib import Path

from yad2k_style.tensorflow_logs import import_tensorflow_quietly


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", metavar="RUN_DIR",
                        help="only write a finished run into weights/shapes/")
    parser.add_argument("--ablation", metavar="DIR", help="run the ablation into DIR")
    parser.add_argument("--scenes-per-epoch", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--init", metavar="WEIGHTS", help="start from these .weights.h5 (fine-tune)")
    parser.add_argument("--loss", choices=("yad2k", "darknet"), default="yad2k")
    parser.add_argument("--rescore", action="store_true")
    parser.add_argument("--prior-matching", action="store_true")
    parser.add_argument("--burn-in", type=int, default=0)
    parser.add_argument("--ema", type=float)
    parser.add_argument("--multi-scale", action="store_true")
    parser.add_argument("--out", default="runs/shapes")
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()  # --help answers here, before TensorFlow is imported
import_tensorflow_quietly()

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.artifacts import WEIGHTS_FILE
from yad2k_style.assets import read_anchors, write_anchors, write_classes
from yad2k_style.darknet import export_darknet
from yad2k_style.detection.synthetic import (
    MAX_OBJECTS,
    SCENE_SIZE,
    SHAPE_CLASSES,
    TRAIN_SEED,
    VALIDATION_SEED,
    scene,
    scenes,
)
from yad2k_style.detection.yolo import embedded
from yad2k_style.detection.yolo.anchors import kmeans_anchors
from yad2k_style.detection.yolo.model import yolov2_shapes
from yad2k_style.detection.yolo.pipeline import multi_scale, scale_sizes
from yad2k_style.detection.yolo.targets import DOWNSAMPLE
from yad2k_style.detection.yolo.train import BurnIn, Recipe, train
from yad2k_style.files import write_text_atomically
from yad2k_style.netspec import Region

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "weights" / "shapes"
ANCHOR_SCENES = 10000  # scenes whose boxes are clustered into the anchors
#: The ablation: each recipe change on its own against the baseline, then all of them together.
ABLATION = {
    "baseline (YAD2K loss)": {},
    "rescore": {"rescore": True},
    "darknet loss (2 − wh, softmax CE, rescore)": {"loss": "darknet"},
    "darknet loss + prior matching": {"loss": "darknet", "prior_matching": True},
    "darknet loss + burn-in": {"loss": "darknet", "burn_in": 200},
    "darknet loss + EMA": {"loss": "darknet", "ema": 0.999},
    "darknet loss + all": {"loss": "darknet", "prior_matching": True, "burn_in": 200, "ema": 0.999},
    "rescore + multi-scale": {"rescore": True, "multi_scale": True},
    # sized to the ablation's 1,000 steps: EMA over the last ~100 steps, burn-in over 5 % of them
    "rescore + EMA (0.99)": {"rescore": True, "ema": 0.99},
    "rescore + burn-in (50 steps)": {"rescore": True, "burn_in": 50},
}
ABLATION_FRACTION = 10  # the ablation's schedule: a tenth of the scenes per epoch


def fresh_batches(anchors, scenes_per_epoch, batch_size, multi_scale=False):
    """Batches of ``scenes_per_epoch`` new training scenes on every iteration (seeded indices);
    with ``multi_scale``, at sizes redrawn every 10 batches
    (:func:`~yad2k_style.detection.yolo.pipeline.multi_scale`)."""
    target_shape = embedded.GRID_SHAPE + (len(anchors), 6)
    indices = (tf.data.Dataset.random(seed=0, rerandomize_each_iteration=True)
               .take(scenes_per_epoch).map(lambda r: r % 2**40))
    if multi_scale:
        return _scaled_batches(indices, anchors, batch_size)

    def make(index):
        images, y_true, _ = embedded.scenes_to_arrays([scene(TRAIN_SEED, int(index))], anchors)
        return images[0], y_true[0]

    def load(index):
        image, y_true = tf.numpy_function(make, [index], [tf.uint8, tf.float32])
        image.set_shape(embedded.INPUT_SHAPE)
        y_true.set_shape(target_shape)
        return tf.cast(image, tf.float32) / 255.0, y_true

    return (indices.map(load, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))


def _scaled_batches(indices, anchors, batch_size, max_boxes=MAX_OBJECTS):
    """Scenes as (image, relative boxes padded to ``max_boxes``, classes, count), batched, then resized
    per batch by :func:`multi_scale`."""

    def make(index):
        drawn = scene(TRAIN_SEED, int(index))
        boxes = np.zeros((max_boxes, 4), np.float32)
        classes = np.zeros(max_boxes, np.int32)
        boxes[:len(drawn.boxes)] = drawn.boxes / SCENE_SIZE
        classes[:len(drawn.classes)] = drawn.classes
        return np.asarray(drawn.image, np.uint8), boxes, classes, np.int32(len(drawn.boxes))

    def load(index):
        image, boxes, classes, count = tf.numpy_function(make, [index], [tf.uint8, tf.float32, tf.int32,
                                                                         tf.int32])
        image.set_shape(embedded.INPUT_SHAPE)
        boxes.set_shape((max_boxes, 4))
        classes.set_shape((max_boxes,))
        count.set_shape(())
        return tf.cast(image, tf.float32) / 255.0, boxes, classes, count

    batches = indices.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    return multi_scale(batches, anchors, scale_sizes(embedded.INPUT_SHAPE[:2])).prefetch(tf.data.AUTOTUNE)


def fixed_batches(images, y_true, batch_size):
    data = tf.data.Dataset.from_tensor_slices((images, y_true)).batch(batch_size)
    return data.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y)).prefetch(tf.data.AUTOTUNE)


def package(run_dir, target=PACKAGE_DIR):
    """Write a finished run as the packaged detector: Darknet cfg (with its [region]) + weights,
    classes and anchors in ``target``."""
    run_dir = Path(run_dir)
    anchors = read_anchors(run_dir / "anchors.txt")
    model = yolov2_shapes(num_classes=len(SHAPE_CLASSES))
    model.load_weights(run_dir / WEIGHTS_FILE)
    region = Region(tuple(round(float(v), 5) for v in anchors.ravel()), classes=len(SHAPE_CLASSES),
                    num=len(anchors))
    target.mkdir(parents=True, exist_ok=True)
    export_darknet(model, target / Path(embedded.CFG_FILE).name, target / Path(embedded.WEIGHTS_FILE).name,
                   region=region)
    write_classes(target / Path(embedded.CLASSES_FILE).name, SHAPE_CLASSES)
    write_anchors(target / Path(embedded.ANCHORS_FILE).name, anchors)
    print(f"packaged {run_dir} into {target}")


def train_run(out, epochs, scenes_per_epoch, batch_size, learning_rate, init=None, loss="yad2k",
              rescore=False, prior_matching=False, burn_in=0, ema=None, multi_scale=False):
    """One training run into ``out`` (resumable); the anchors from :data:`ANCHOR_SCENES` training scenes."""
    keras.utils.set_random_seed(0)
    anchor_scenes = scenes(TRAIN_SEED, ANCHOR_SCENES)
    wh = np.concatenate([s.boxes[:, 2:4] - s.boxes[:, 0:2] for s in anchor_scenes]) / DOWNSAMPLE
    clusters = kmeans_anchors(wh, k=5, seed=0)
    print(f"anchors (cells): {clusters.anchors.round(3).tolist()}  mean IoU {clusters.mean_iou:.3f}")
    val_images, val_y, _ = embedded.scenes_to_arrays(scenes(VALIDATION_SEED, 500), clusters.anchors)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_anchors(out / "anchors.txt", clusters.anchors)
    steps = epochs * -(-scenes_per_epoch // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.02)

    def build():
        model = yolov2_shapes((None, None, 3) if multi_scale else embedded.INPUT_SHAPE,
                              num_classes=len(SHAPE_CLASSES))
        if init:
            model.load_weights(init)
        return model

    recipe = Recipe(loss, rescore, prior_matching, batch_size, ema)
    train(build, fresh_batches(clusters.anchors, scenes_per_epoch, batch_size, multi_scale), clusters.anchors,
          len(SHAPE_CLASSES), out, epochs, learning_rate=BurnIn(schedule, burn_in) if burn_in else schedule,
          validation_data=fixed_batches(val_images, val_y, batch_size), recipe=recipe, verbose=2)


def evaluate_run(run_dir):
    """mAP@0.5 and mAP@[.5:.95] of a finished run on the 500 held-out scenes."""
    from yad2k_style.detection.evaluate import evaluate_detector
    from yad2k_style.detection.yolo.detector import Detector
    from yad2k_style.detection.yolo.sources import ModelSource

    package(run_dir, Path(run_dir) / "darknet")
    darknet = Path(run_dir) / "darknet"
    detector = Detector.load(ModelSource(cfg=str(darknet / Path(embedded.CFG_FILE).name),
                                         weights=str(darknet / Path(embedded.WEIGHTS_FILE).name),
                                         classes=str(darknet / Path(embedded.CLASSES_FILE).name),
                                         anchors=str(darknet / Path(embedded.ANCHORS_FILE).name)),
                             score_threshold=0.005, max_boxes=100)
    evaluation = evaluate_detector(detector).evaluation
    return {"map_50": evaluation.map_50, "map_50_95": evaluation.map_50_95}


def ablation(root, args):
    """Every :data:`ABLATION` run at a tenth of the schedule, evaluated; ``ablation.json`` in ``root``."""
    import json

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    results_path = root / "ablation.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for number, (name, options) in enumerate(ABLATION.items()):
        if name in results:
            continue
        start = time.time()
        run = root / f"run{number}"
        if not (run / WEIGHTS_FILE).exists():
            train_run(run, args.epochs, args.scenes_per_epoch // ABLATION_FRACTION, args.batch_size,
                      args.learning_rate, **options)
        minutes = round((time.time() - start) / 60, 1)
        results[name] = {**evaluate_run(run), "options": options, "minutes": minutes}
        print(name, json.dumps(results[name]), flush=True)
        write_text_atomically(results_path, json.dumps(results, indent=1) + "\n")


def main(args):
    if args.package:
        package(args.package)
        return
    if args.ablation:
        ablation(args.ablation, args)
        return
    start = time.time()
    train_run(args.out, args.epochs, args.scenes_per_epoch, args.batch_size, args.learning_rate, args.init,
              args.loss, args.rescore, args.prior_matching, args.burn_in, args.ema, args.multi_scale)
    print(f"done in {time.time() - start:.0f} s; weights in {Path(args.out) / WEIGHTS_FILE}")


if __name__ == "__main__":
    main(ARGS)
