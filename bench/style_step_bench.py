"""One style-transfer ``train_step`` against the floor of the algorithm, on the same image.

The floor: one forward pass of the frozen VGG feature extractor and the gradient with respect to the
input image only (a sum of its outputs as the scalar), under ``tf.function`` like the step. The step
adds the Gram matrices, the costs, Adam's update and the clip. Prints both medians and their ratio.
Random VGG weights (nothing is downloaded); the time does not depend on the weights' values.

    .venv/bin/python bench/style_step_bench.py [--size 400] [--backbones vgg16 vgg19] [--runs 7] [--xla]
"""

import argparse

import keras
import numpy as np
import tensorflow as tf
from timing import median_seconds, print_table

from yad2k_style.style.features import style_feature_extractor
from yad2k_style.style.transfer import StyleSettings, StyleTransfer


def step_table(backbone, size, runs, xla):
    keras.utils.set_random_seed(0)
    extractor = style_feature_extractor(backbone, (size, size, 3))
    rng = np.random.default_rng(0)
    content, style = rng.uniform(size=(2, size, size, 3)).astype(np.float32)
    transfer = StyleTransfer(extractor, content, [style], settings=StyleSettings(jit_compile=xla))
    image = tf.constant(transfer.generated.numpy())

    @tf.function(jit_compile=xla)
    def floor():
        with tf.GradientTape() as tape:
            tape.watch(image)
            total = tf.add_n([tf.reduce_sum(output) for output in extractor(image, training=False)])
        return tape.gradient(total, image)

    def step():
        transfer.train_step()["total"].numpy()

    seconds = median_seconds([step, lambda: floor().numpy()], runs)
    print_table(f"{backbone} style step at {size}×{size}{' (XLA)' if xla else ''} (per s: steps)",
                dict(zip(["train_step", "forward + input gradient"], seconds, strict=True)),
                "forward + input gradient", items=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=400, help="image side in pixels (default 400)")
    parser.add_argument("--backbones", nargs="+", choices=("vgg16", "vgg19"), default=["vgg16", "vgg19"],
                        help="(default both)")
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--xla", action="store_true", help="compile both with XLA (default: off)")
    args = parser.parse_args()
    if args.size < 32 or args.runs < 1:
        parser.error("--size must be at least 32 and --runs at least 1")
    print(f"medians of {args.runs} interleaved rounds")
    for backbone in args.backbones:
        step_table(backbone, args.size, args.runs, args.xla)


if __name__ == "__main__":
    main()
