"""Reproduce the embedded default detector in weights/shapes/ (CPU, about an hour on 2 cores).

    python scripts/train_embedded.py --out runs/shapes
    python scripts/train_embedded.py --init runs/shapes/model.weights.h5 --epochs 10 \
        --learning-rate 2e-4 --out runs/shapes-finetune
    python scripts/train_embedded.py --package runs/shapes-finetune

Every epoch draws new scenes of stream ``TRAIN_SEED`` (deterministic, never the evaluation stream),
so the network cannot overfit them. The second run fine-tunes the first at a tenth of its learning
rate; ``--package`` writes the Darknet cfg + weights, classes and anchors to weights/shapes/.
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.artifacts import WEIGHTS_FILE
from yad2k_style.assets import read_anchors, write_anchors, write_classes
from yad2k_style.darknet import export_darknet
from yad2k_style.netspec import Region
from yad2k_style.yolo import embedded
from yad2k_style.yolo.anchors import kmeans_anchors
from yad2k_style.yolo.model import yolov2_shapes
from yad2k_style.yolo.synthetic import SHAPE_CLASSES, TRAIN_SEED, VALIDATION_SEED, scene, scenes
from yad2k_style.yolo.targets import DOWNSAMPLE
from yad2k_style.yolo.train import train

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "weights" / "shapes"
ANCHOR_SCENES = 10000  # scenes whose boxes are clustered into the anchors


def fresh_batches(anchors, scenes_per_epoch, batch_size):
    """Batches of ``scenes_per_epoch`` new training scenes on every iteration (seeded indices)."""
    target_shape = embedded.GRID_SHAPE + (len(anchors), 6)

    def make(index):
        images, y_true, _ = embedded.scenes_to_arrays([scene(TRAIN_SEED, int(index))], anchors)
        return images[0], y_true[0]

    def load(index):
        image, y_true = tf.numpy_function(make, [index], [tf.uint8, tf.float32])
        image.set_shape(embedded.INPUT_SHAPE)
        y_true.set_shape(target_shape)
        return tf.cast(image, tf.float32) / 255.0, y_true

    indices = (tf.data.Dataset.random(seed=0, rerandomize_each_iteration=True)
               .take(scenes_per_epoch).map(lambda r: r % 2**40))
    return (indices.map(load, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", metavar="RUN_DIR",
                        help="only write a finished run into weights/shapes/")
    parser.add_argument("--scenes-per-epoch", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--init", metavar="WEIGHTS", help="start from these .weights.h5 (fine-tune)")
    parser.add_argument("--out", default="runs/shapes")
    args = parser.parse_args()
    if args.package:
        package(args.package)
        return
    keras.utils.set_random_seed(0)
    start = time.time()
    anchor_scenes = scenes(TRAIN_SEED, ANCHOR_SCENES)
    wh = np.concatenate([s.boxes[:, 2:4] - s.boxes[:, 0:2] for s in anchor_scenes]) / DOWNSAMPLE
    clusters = kmeans_anchors(wh, k=5, seed=0)
    print(f"anchors (cells): {clusters.anchors.round(3).tolist()}  mean IoU {clusters.mean_iou:.3f}")
    val_images, val_y, _ = embedded.scenes_to_arrays(scenes(VALIDATION_SEED, 500), clusters.anchors)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_anchors(out / "anchors.txt", clusters.anchors)
    steps = args.epochs * -(-args.scenes_per_epoch // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.02)

    def build():
        model = yolov2_shapes(num_classes=len(SHAPE_CLASSES))
        if args.init:
            model.load_weights(args.init)
        return model

    train(build,
          fresh_batches(clusters.anchors, args.scenes_per_epoch, args.batch_size), clusters.anchors,
          len(SHAPE_CLASSES), out, args.epochs, learning_rate=schedule,
          validation_data=fixed_batches(val_images, val_y, args.batch_size), verbose=2)
    print(f"done in {time.time() - start:.0f} s; weights in {out / WEIGHTS_FILE}")


if __name__ == "__main__":
    main()
