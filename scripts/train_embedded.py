"""Reproduce the embedded default detector in weights/shapes/ (CPU, about 20 minutes on 2 cores).

    python scripts/train_embedded.py [--scenes 16000] [--epochs 30] [--out runs/shapes]

Then copy OUT/final.weights.h5 and OUT/anchors.txt to weights/shapes/.
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.yolo import embedded
from yad2k_style.yolo.anchors import kmeans_anchors
from yad2k_style.yolo.model import yolov2_shapes
from yad2k_style.yolo.synthetic import SHAPE_CLASSES, scenes
from yad2k_style.yolo.targets import DOWNSAMPLE
from yad2k_style.yolo.train import train


def batches(images, y_true, batch_size, shuffle):
    data = tf.data.Dataset.from_tensor_slices((images, y_true))
    if shuffle:
        data = data.shuffle(len(images), seed=0, reshuffle_each_iteration=True)
    return (data.batch(batch_size)
            .map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=16000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--out", default="runs/shapes")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    start = time.time()
    train_scenes = scenes(embedded.TRAIN_SEED, args.scenes)
    validation_scenes = scenes(embedded.VALIDATION_SEED, 500)
    wh = np.concatenate([s.boxes[:, 2:4] - s.boxes[:, 0:2] for s in train_scenes]) / DOWNSAMPLE
    clusters = kmeans_anchors(wh, k=5, seed=0)
    print(f"anchors (cells): {clusters.anchors.round(3).tolist()}  mean IoU {clusters.mean_iou:.3f}")
    images, y_true, dropped = embedded.scenes_to_arrays(train_scenes, clusters.anchors)
    val_images, val_y, _ = embedded.scenes_to_arrays(validation_scenes, clusters.anchors)
    print(f"{len(images)} training scenes, {int(y_true[..., 0].sum())} boxes assigned, {dropped} dropped;"
          f" generated in {time.time() - start:.0f} s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "anchors.txt").write_text(", ".join(f"{v:.5f}" for v in clusters.anchors.ravel()) + "\n")
    steps = args.epochs * -(-len(images) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.02)
    train(lambda: yolov2_shapes(num_classes=len(SHAPE_CLASSES)),
          batches(images, y_true, args.batch_size, shuffle=True), clusters.anchors, len(SHAPE_CLASSES),
          out, args.epochs, learning_rate=schedule,
          validation_data=batches(val_images, val_y, args.batch_size, shuffle=False), verbose=2)
    print(f"done in {time.time() - start:.0f} s; weights in {out / 'final.weights.h5'}")


if __name__ == "__main__":
    main()
