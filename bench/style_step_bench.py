"""One style-transfer ``train_step`` against the floor of the algorithm, on the same image.

The floor: one forward pass of the frozen VGG feature extractor and the gradient with respect to the
input image only (a sum of its outputs as the scalar), under ``tf.function`` like the step. The step
adds the Gram matrices, the costs, Adam's update and the clip. Prints both medians and their ratio.
Random VGG weights (nothing is downloaded); the time does not depend on the weights' values.

    .venv/bin/python bench/style_step_bench.py [--size 400] [--backbone vgg16] [--runs 10] [--xla]
"""

import argparse

import keras
import numpy as np
import tensorflow as tf
from timing import median_seconds

from yad2k_style.style.features import style_feature_extractor
from yad2k_style.style.transfer import StyleSettings, StyleTransfer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=400, help="image side in pixels (default 400)")
    parser.add_argument("--backbone", choices=("vgg16", "vgg19"), default="vgg16", help="(default vgg16)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each (default 10)")
    parser.add_argument("--xla", action="store_true", help="compile both with XLA (default: off)")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    extractor = style_feature_extractor(args.backbone, (args.size, args.size, 3))
    rng = np.random.default_rng(0)
    content, style = rng.uniform(size=(2, args.size, args.size, 3)).astype(np.float32)
    transfer = StyleTransfer(extractor, content, [style], settings=StyleSettings(jit_compile=args.xla))
    image = tf.constant(transfer.generated.numpy())

    @tf.function(jit_compile=args.xla)
    def floor():
        with tf.GradientTape() as tape:
            tape.watch(image)
            total = tf.add_n([tf.reduce_sum(output) for output in extractor(image, training=False)])
        return tape.gradient(total, image)

    def step():
        transfer.train_step()["total"].numpy()

    step_time, floor_time = median_seconds([step, lambda: floor().numpy()], args.runs)
    print(f"{args.backbone} at {args.size}×{args.size}, median of {args.runs} runs"
          f"{' (XLA)' if args.xla else ''}:")
    print(f"train_step                    {step_time * 1e3:8.1f} ms")
    print(f"forward + input gradient      {floor_time * 1e3:8.1f} ms")
    print(f"ratio step / floor            {step_time / floor_time:.3f}")


if __name__ == "__main__":
    main()
