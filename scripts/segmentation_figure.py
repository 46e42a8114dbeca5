"""Draw the segmentation figure of the README and docs/segmentation.md with the shipped models.

Rows: the notes' case (two squares of one class touching) and three held-out scenes. Columns: the
image, its true class map, the U-Net's class map (semantic-shapes: the two squares are one region) and
Mask R-CNN's instances (mask-rcnn-shapes: each object its own colour, its class and score), drawn as
`yad2k-style segment --instances` draws them; a legend of the class colours below.
"""

import argparse

import numpy as np
from matplotlib.patches import Patch
from PIL import Image

from yad2k_style.detection.synthetic import (
    EVALUATION_SEED,
    SCENE_SIZE,
    SHAPE_CLASSES,
    class_map,
    scene,
    touching_squares,
)
from yad2k_style.plotting import save_figure, subplots
from yad2k_style.segmentation.masks import colour_class_map, palette
from yad2k_style.segmentation.segmenter import draw_instances
from yad2k_style.zoo import load_scene_detector

SCALE = 2  # the instance panel is drawn at twice the scene's size, so that its labels stay readable


def instance_panel(image, found):
    """The scene enlarged :data:`SCALE` times (nearest neighbour) with Mask R-CNN's instances drawn."""
    big = image.resize((SCENE_SIZE * SCALE, SCENE_SIZE * SCALE), Image.NEAREST)
    scaled = found._replace(boxes=found.boxes * SCALE,
                            masks=found.masks.repeat(SCALE, axis=1).repeat(SCALE, axis=2))
    return draw_instances(big, scaled, SHAPE_CLASSES)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/segmentation.png", help="the figure (default %(default)s)")
    args = parser.parse_args()
    semantic = load_scene_detector("semantic-shapes")
    instances = load_scene_detector("mask-rcnn-shapes")
    drawn = [touching_squares()] + [scene(EVALUATION_SEED, index) for index in (0, 3, 5)]
    titles = ("image", "true classes", "semantic (U-Net)", "instances (Mask R-CNN)")
    figure, axes = subplots(len(drawn), len(titles), figsize=(2.4 * len(titles), 2.4 * len(drawn)))
    for row, example in zip(axes, drawn, strict=True):
        panels = (example.image, colour_class_map(class_map(example), len(SHAPE_CLASSES)).convert("RGB"),
                  colour_class_map(semantic.segment([example.image])[0], len(SHAPE_CLASSES)).convert("RGB"),
                  instance_panel(example.image, instances.segment([example.image])[0]))
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
    main()
