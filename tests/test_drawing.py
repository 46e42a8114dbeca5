"""Class colours and drawing boxes."""

import random

import numpy as np
import pytest
from PIL import Image

from yad2k_style.drawing import draw_boxes, generate_colors, get_colors_for_classes, text_color


def test_colors_are_deterministic_distinct_and_leave_random_alone():
    random.seed(123)
    state = random.getstate()
    colors = get_colors_for_classes(80)
    assert random.getstate() == state
    assert colors == get_colors_for_classes(80) == generate_colors([str(i) for i in range(80)])
    assert len(set(colors)) == 80
    assert all(len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in colors)
    # YAD2K's palette: evenly spaced hues at full saturation, shuffled with seed 10101
    assert sorted(colors) != colors and (255, 0, 0) in colors


def test_draw_boxes_outlines_box_and_puts_label_above():
    image = Image.new("RGB", (200, 120), (255, 255, 255))
    result = draw_boxes(image, np.array([[50.0, 40.0, 100.0, 150.0]]), np.array([1]), ["a", "b"],
                        scores=np.array([0.73]))
    assert result is image
    pixels = np.asarray(image)
    color = get_colors_for_classes(2)[1]
    assert tuple(pixels[75, 40]) == color and tuple(pixels[75, 150]) == color      # left and right edges
    assert tuple(pixels[100, 95]) == color                                           # bottom edge
    assert tuple(pixels[75, 95]) == (255, 255, 255)                                  # inside untouched
    label_rows = np.where(np.all(pixels[:50, 40:150] == color, axis=-1).any(axis=1))[0]
    assert len(label_rows) > 5 and label_rows.max() < 50                             # label box above
    assert text_drawn_in(pixels[:50, 40:150], color) == text_color(color)             # text in it


def test_draw_boxes_clips_to_image_and_skips_boxes_outside():
    image = Image.new("RGB", (64, 48), (255, 255, 255))
    boxes = np.array([[-20.0, -30.0, 30.0, 200.0],      # sticks out left, top and right
                      [100.0, 100.0, 150.0, 150.0]])    # wholly outside
    draw_boxes(image, boxes, np.array([0, 1]), ["a", "b"])
    pixels = np.asarray(image)
    color_a, color_b = get_colors_for_classes(2)
    assert tuple(pixels[20, 0]) == color_a and tuple(pixels[20, 63]) == color_a   # clipped side edges
    assert tuple(pixels[30, 30]) == color_a                                        # bottom edge at y=30
    assert not np.any(np.all(pixels == color_b, axis=-1))


def test_label_stays_inside_the_right_edge():
    image = Image.new("RGB", (100, 60), (255, 255, 255))
    draw_boxes(image, np.array([[30.0, 90.0, 50.0, 99.0]]), np.array([0]), ["a long label"], np.array([0.5]))
    pixels = np.asarray(image)
    color = get_colors_for_classes(1)[0]
    label_columns = np.where(np.all(pixels[:30] == color, axis=-1).any(axis=0))[0]
    assert label_columns.min() < 90 and label_columns.max() <= 99   # moved left, still whole


@pytest.mark.parametrize("background, text", [((0, 0, 255), (255, 255, 255)), ((255, 255, 0), (0, 0, 0)),
                                              ((255, 0, 0), (255, 255, 255)), ((0, 255, 0), (0, 0, 0))])
def test_text_colour_follows_the_luminance(background, text):
    assert text_color(background) == text


def text_drawn_in(region, background):
    """Black or white: which one the (anti-aliased) text pixels of a label on ``background`` lean to."""
    pixels = region.reshape(-1, 3).astype(float)
    on_label = np.abs(pixels - background).sum(axis=1)
    text = pixels[(on_label > 150) & (np.abs(pixels - 255).sum(axis=1) > 0)]  # not the label, not paper
    return (255, 255, 255) if text.mean() > 127 else (0, 0, 0)


def test_triangle_label_on_blue_is_white():
    names = ["circle", "square", "triangle"]
    blue = get_colors_for_classes(3).index((0, 0, 255))
    image = Image.new("RGB", (160, 80), (255, 255, 255))
    draw_boxes(image, np.array([[40.0, 10.0, 70.0, 100.0]]), np.array([blue]), names)
    assert names[blue] == "triangle"
    assert text_drawn_in(np.asarray(image)[20:40, 10:100], (0, 0, 255)) == (255, 255, 255)


def test_small_pictures_are_enlarged_by_a_whole_factor_before_drawing():
    from yad2k_style.detection.detector import Detections
    from yad2k_style.detection.results import annotate
    from yad2k_style.drawing import MIN_DRAWN_SIDE, enlarged

    small = Image.new("RGB", (100, 80), (255, 255, 255))
    big, scale = enlarged(small)
    assert scale == 5 and big.size == (500, 400) and min(big.size) >= MIN_DRAWN_SIDE
    assert enlarged(big) == (big, 1)
    found = Detections(np.array([[10.0, 20.0, 30.0, 40.0]], np.float32), np.array([0.9], np.float32),
                       np.array([0], np.int32))
    drawn = np.asarray(annotate(small, found, ["thing"]))
    color = get_colors_for_classes(1)[0]
    columns = np.where(np.all(drawn == color, axis=-1).any(axis=0))[0]
    rows = np.where(np.all(drawn == color, axis=-1).any(axis=1))[0]
    assert drawn.shape == (400, 500, 3) and columns.min() == 50 and rows.max() == 200  # the box, ×5


def test_a_legend_strip_names_each_colour():
    from yad2k_style.drawing import add_legend

    image = Image.new("RGB", (384, 384), (0, 0, 0))
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    sheet = add_legend(image, ["circle", "square", "triangle"], colors)
    pixels = np.asarray(sheet)
    assert sheet.width == 384 and sheet.height > 384 and pixels[:384].max() == 0   # the image, unchanged
    strip = pixels[384:]
    assert all(np.all(strip == color, axis=-1).sum() > 50 for color in colors)        # each swatch
