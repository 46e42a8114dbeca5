"""Draw the segmentation figure of the README and docs/segmentation.md with the shipped models.

Rows: the notes' case (two squares of one class touching) and three held-out scenes. Columns: the
image, its true class map, the U-Net's class map (semantic-shapes: the two squares are one region) and
Mask R-CNN's instances (mask-rcnn-shapes: each object its own colour, its class and score), drawn as
`yad2k-style segment --instances` draws them; a legend of the class colours below.
"""

import argparse

from yad2k_style.tensorflow_logs import import_tensorflow_quietly


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs/segmentation.png", help="the figure (default %(default)s)")
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()  # --help answers here, before TensorFlow is imported
import_tensorflow_quietly()

import numpy as np
from matplotlib.patches import Patch

from yad2k_style.detection.synthetic import (
    EVALUATION_SEED,
    SHAPE_CLASSES,
    class_map,
    scene,
    touching_squares,
)
from yad2k_style.plotting import save_figure, subplots
from yad2k_style.segmentation.masks import colour_class_map, palette
from yad2k_style.segmentation.segmenter import draw_instances
from yad2k_style.zoo import load_scene_detector

PANEL_INCHES = 3.0  # at the figure's 130 dpi, about the 384 pixels the instances are drawn at


def main(args):
    semantic = load_scene_detector("semantic-shapes")
    instances = load_scene_detector("mask-rcnn-shapes")
    drawn = [touching_squares()] + [scene(EVALUATION_SEED, index) for index in (0, 3, 5)]
    titles = ("image", "true classes", "semantic (U-Net)", "instances (Mask R-CNN)")
    figure, axes = subplots(len(drawn), len(titles),
                            figsize=(PANEL_INCHES * len(titles), PANEL_INCHES * len(drawn)))
    for row, example in zip(axes, drawn, strict=True):
        panels = (example.image, colour_class_map(class_map(example), len(SHAPE_CLASSES)).convert("RGB"),
                  colour_class_map(semantic.segment([example.image])[0], len(SHAPE_CLASSES)).convert("RGB"),
                  draw_instances(example.image, instances.segment([example.image])[0], SHAPE_CLASSES))
        for axis, panel in zip(row, panels, strict=True):
            axis.imshow(np.asarray(panel), interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
    for axis, title in zip(axes[0], titles, strict=True):
        axis.set_title(title, fontsize=9)
    colours = palette(len(SHAPE_CLASSES))
    figure.legend(handles=[Patch(facecolor=np.asarray(colours[k]) / 255, edgecolor="grey", label=name)
                           for k, name in enumerate(("background", *SHAPE_CLASSES))],
                  loc="lower center", ncol=len(SHAPE_CLASSES) + 1, fontsize=8, frameon=False,
                  title="class colours (true and semantic maps)", title_fontsize=8)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    save_figure(figure, args.out, dpi=130)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main(ARGS)
