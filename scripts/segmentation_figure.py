"""Draw the README's segmentation figure with the shipped models (issue 21):

    python scripts/segmentation_figure.py [--out docs/segmentation.png]

Rows: the notes' case (two squares of one class touching) and three held-out scenes. Columns: the
image, its true class map, the U-Net's class map (semantic-shapes: the two squares are one region) and
Mask R-CNN's instances (mask-rcnn-shapes: each object its own colour, its class and score).
"""

import argparse

import numpy as np

from yad2k_style.detection.masks import colour_class_map
from yad2k_style.detection.zoo import load_scene_detector
from yad2k_style.drawing import get_colors_for_classes, overlay_masks
from yad2k_style.plotting import save_figure, subplots
from yad2k_style.yolo.synthetic import EVALUATION_SEED, SHAPE_CLASSES, class_map, scene, touching_squares


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/segmentation.png")
    args = parser.parse_args()
    semantic = load_scene_detector("semantic-shapes")
    instances = load_scene_detector("mask-rcnn-shapes")
    drawn = [touching_squares()] + [scene(EVALUATION_SEED, index) for index in (0, 3, 5)]
    titles = ("image", "true classes", "semantic (U-Net)", "instances (Mask R-CNN)")
    figure, axes = subplots(len(drawn), len(titles), figsize=(2.4 * len(titles), 2.4 * len(drawn)))
    for row, example in zip(axes, drawn, strict=True):
        found = instances.segment([example.image])[0]
        colours = get_colors_for_classes(max(len(found.classes), 1))[:len(found.classes)]
        panels = (example.image, colour_class_map(class_map(example), len(SHAPE_CLASSES)).convert("RGB"),
                  colour_class_map(semantic.segment([example.image])[0], len(SHAPE_CLASSES)).convert("RGB"),
                  overlay_masks(example.image, found.masks, colours, alpha=0.6))
        for axis, panel in zip(row, panels, strict=True):
            axis.imshow(np.asarray(panel), interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
        for box, label, score, colour in zip(found.boxes, found.classes, found.scores, colours, strict=True):
            row[3].text(box[0], box[1] - 1, f"{SHAPE_CLASSES[label]} {score:.2f}", fontsize=6,
                        color=np.asarray(colour) / 255, va="bottom")
    for axis, title in zip(axes[0], titles, strict=True):
        axis.set_title(title, fontsize=9)
    figure.tight_layout()
    save_figure(figure, args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
