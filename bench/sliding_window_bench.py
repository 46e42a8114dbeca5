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
from timing import median_seconds, print_table

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
    print_table(f"{windows:,} windows of a {args.size}×{args.size} image, medians of {args.runs} rounds "
                f"(max difference {difference:.1e}; per s: images)",
                {"convolutional: one pass": fast, "naive: crop and classify": naive},
                "naive: crop and classify", items=1)


if __name__ == "__main__":
    main()
