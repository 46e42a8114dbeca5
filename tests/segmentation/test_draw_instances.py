"""Instances drawn as `segment --instances` and the segmentation figure draw them: each mask in its own
colour, labels in the image (the figure once wrote them with matplotlib past its panel's right edge)."""

import numpy as np
from PIL import Image

from yad2k_style.drawing import get_colors_for_classes
from yad2k_style.segmentation.segmenter import Instances, draw_instances


def test_two_objects_of_one_class_get_two_colours_and_labels_stay_inside():
    image = Image.new("RGB", (480, 384), (255, 255, 255))      # 384 pixels high: drawn at its own size
    masks = np.zeros((2, 384, 480), bool)
    masks[0, 200:300, 40:120] = True
    masks[1, 200:300, 400:480] = True                           # touches the right edge
    found = Instances(np.array([[40, 200, 120, 300], [400, 200, 479, 300]], np.float32),
                      np.array([0.9, 0.8]), np.array([1, 1], np.int32), masks)
    drawn = np.asarray(draw_instances(image, found, ["circle", "square"], alpha=1.0))
    first, second = get_colors_for_classes(2)
    assert tuple(drawn[250, 80]) == first and tuple(drawn[250, 440]) == second  # one colour per object
    square = get_colors_for_classes(2)[1]                       # the class's colour, behind its labels
    columns = np.where(np.all(drawn[:200] == square, axis=-1).any(axis=0))[0]
    assert columns.size and columns.max() <= 479 and columns.min() < 400     # moved left, whole
    assert np.asarray(image).min() == 255                       # the input is left as it was
