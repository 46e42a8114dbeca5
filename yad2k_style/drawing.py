"""Drawing detections: class colours (YAD2K's, the same on every call) and labelled boxes on PIL images."""

import colorsys
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

COLOR_SEED = 10101  # YAD2K's fixed shuffle seed: the same colours as the course's pictures
#: Pictures drawn for people have at least this many pixels on their shorter side: a smaller image is
#: enlarged by a whole factor (nearest neighbour) before labels are drawn on it, so they stay readable
#: and small (the sample scenes, 128 pixels, are drawn at 384).
MIN_DRAWN_SIDE = 384


def get_colors_for_classes(num_classes):
    """``num_classes`` distinct RGB colours, tuples of ints in 0–255, the same on every call.

    Hues evenly spaced at full saturation and value, shuffled with YAD2K's fixed seed (the global
    ``random`` state is left alone).
    """
    hsv = [(index / num_classes, 1.0, 1.0) for index in range(num_classes)]
    colors = [tuple(int(channel * 255) for channel in colorsys.hsv_to_rgb(*h)) for h in hsv]
    random.Random(COLOR_SEED).shuffle(colors)
    return colors


def generate_colors(class_names):
    """The course's name for :func:`get_colors_for_classes`: one colour per class name."""
    return get_colors_for_classes(len(class_names))


def text_color(background):
    """Black or white, whichever reads better on an RGB ``background`` (its luma, ITU-R BT.601)."""
    red, green, blue = background
    return (0, 0, 0) if 0.299 * red + 0.587 * green + 0.114 * blue >= 128 else (255, 255, 255)


def draw_boxes(image, boxes, box_classes, class_names, scores=None):
    """Draw boxes with their class name (and score) on a PIL image, in place; returns the image.

    ``boxes``: (N, 4) pixel corners in the course's order ``(y_min, x_min, y_max, x_max)``;
    ``box_classes``: N class indices into ``class_names``; ``scores``: N floats or None. Boxes are
    clipped to the image (a box wholly outside it is skipped); the label sits above the box, or just
    inside its top edge when there is no room above, and is moved left to stay inside the image. Its
    text is black on light colours and white on dark ones. The font is Pillow's built-in one.
    """
    width, height = image.size
    font = ImageFont.load_default(size=max(10, int(np.floor(3e-2 * height + 0.5))))
    thickness = max(1, (width + height) // 300)
    colors = get_colors_for_classes(len(class_names))
    draw = ImageDraw.Draw(image)
    for index, (box, box_class) in enumerate(zip(np.asarray(boxes), np.asarray(box_classes), strict=True)):
        label = class_names[int(box_class)]
        if scores is not None:
            label = f"{label} {float(scores[index]):.2f}"
        top, left, bottom, right = (int(np.floor(value + 0.5)) for value in box)
        top, left = max(0, top), max(0, left)
        bottom, right = min(height - 1, bottom), min(width - 1, right)
        if bottom < top or right < left:
            continue
        color = colors[int(box_class)]
        draw.rectangle([left, top, right, bottom], outline=color, width=thickness)
        text_left, text_top, text_right, text_bottom = draw.textbbox((0, 0), label, font=font)
        text_width, text_height = text_right - text_left, text_bottom - text_top
        label_top = top - text_height - 2 if top - text_height - 2 >= 0 else top + 1
        label_left = max(0, min(left, width - 1 - (text_width + 2)))
        draw.rectangle([label_left, label_top, label_left + text_width + 2, label_top + text_height + 2],
                       fill=color)
        draw.text((label_left + 1 - text_left, label_top + 1 - text_top), label, fill=text_color(color),
                  font=font)
    return image


def enlarged(image, min_side=MIN_DRAWN_SIDE):
    """``(image, scale)``: PIL ``image`` enlarged ``scale`` times (a whole number, nearest neighbour) so
    that its shorter side reaches ``min_side`` pixels; itself and 1 when it already does."""
    scale = max(1, math.ceil(min_side / min(image.size)))
    if scale == 1:
        return image, 1
    return image.resize((image.width * scale, image.height * scale), Image.NEAREST), scale


def add_legend(image, names, colors):
    """A copy of RGB PIL ``image`` with a strip below it: a swatch of each colour of ``colors`` and its
    name of ``names``, left to right, wrapping to more rows when they do not fit."""
    font = ImageFont.load_default(size=max(12, image.height // 32))
    swatch = font.size
    widths = [swatch + 6 + int(font.getlength(name)) + 16 for name in names]
    rows, x = [[]], 8
    for name, color, width in zip(names, colors, widths, strict=True):
        if rows[-1] and x + width > image.width:
            rows.append([])
            x = 8
        rows[-1].append((name, color, x))
        x += width
    line = swatch + 8
    sheet = Image.new("RGB", (image.width, image.height + line * len(rows) + 4), (255, 255, 255))
    sheet.paste(image.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(sheet)
    for number, row in enumerate(rows):
        top = image.height + 4 + number * line
        for name, color, left in row:
            draw.rectangle([left, top, left + swatch, top + swatch], fill=tuple(color), outline=(0, 0, 0))
            draw.text((left + swatch + 6, top), name, fill=(0, 0, 0), font=font)
    return sheet


def overlay_masks(image, masks, colors, alpha=0.5):
    """A copy of RGB PIL ``image`` with each bool (H, W) mask of ``masks`` blended in its colour of
    ``colors`` (RGB tuples) at opacity ``alpha``; a later mask is drawn over an earlier one."""
    pixels = np.asarray(image.convert("RGB"), np.float32)
    for mask, color in zip(masks, colors, strict=True):
        pixels[mask] = (1 - alpha) * pixels[mask] + alpha * np.asarray(color, np.float32)
    return Image.fromarray(np.round(pixels).astype(np.uint8))
