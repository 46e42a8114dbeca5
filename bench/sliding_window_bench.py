"""The convolutional sliding window (OverFeat) against the naive one on the same image.

Every 14×14 window at stride 2 of a 224×224 image (106 × 106 = 11,236 windows) classified by the
notes' window classifier: the naive way crops the windows and classifies them in batches; the
convolutional way runs the classifier's convolutional implementation once. Prints both medians and
their ratio (same maps up to 1e-5).

    .venv/bin/python bench/sliding_window_bench.py [--size 224] [--runs 5]
"""

import argparse

import keras
import numpy as np
from timing import median_seconds

from yad2k_style.foundations.sliding_windows import (
    convolutional_classifier,
    convolutional_windows,
    naive_windows,
    window_classifier,
    window_count,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="image side in pixels (default 224)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    classifier = window_classifier()
    convolutional = convolutional_classifier(classifier)
    image = np.random.default_rng(0).uniform(size=(args.size, args.size, 3)).astype(np.float32)
    difference = np.abs(naive_windows(classifier, image) - convolutional_windows(convolutional, image)).max()
    naive, fast = median_seconds([lambda: naive_windows(classifier, image),
                                  lambda: convolutional_windows(convolutional, image)], args.runs)
    windows = window_count(args.size) ** 2
    print(f"{windows:,} windows of a {args.size}×{args.size} image, median of {args.runs} runs "
          f"(max difference {difference:.1e}):")
    print(f"naive: crop and classify     {naive * 1e3:9.1f} ms")
    print(f"convolutional: one pass      {fast * 1e3:9.1f} ms")
    print(f"speed-up naive / conv        {naive / fast:9.1f}×")


if __name__ == "__main__":
    main()
