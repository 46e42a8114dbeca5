"""The segmenters shipped in weights/detection/ (issue 21): their figures on the held-out scenes, and the
notes' point on two touching squares of one class — semantic segmentation gives one region, Mask R-CNN
two objects."""

import numpy as np
import pytest
from skimage.measure import label

from yad2k_style.artifacts import read_info
from yad2k_style.assets import asset_path
from yad2k_style.detection.synthetic import instance_masks, touching_squares
from yad2k_style.segmentation.evaluate import evaluate_instances, evaluate_semantic
from yad2k_style.zoo import load_scene_detector

SQUARE = 1
#: The acceptance floors (measured on 500 held-out scenes: see each model's model.json)
MIOU_FLOOR, MASK_AP50_FLOOR, BOX_MAP50_FLOOR = 0.85, 0.85, 0.85


@pytest.fixture(scope="module")
def semantic():
    return load_scene_detector("semantic-shapes")


@pytest.fixture(scope="module")
def instances():
    return load_scene_detector("mask-rcnn-shapes")


def test_semantic_mean_iou_on_500_held_out_scenes(semantic):
    result = evaluate_semantic(semantic)
    assert result.mean_iou >= MIOU_FLOOR and result.class_mean_iou >= MIOU_FLOOR
    assert min(result.per_class_iou.values()) >= 0.8
    stored = read_info(asset_path("detection/semantic"))["provenance"]
    assert abs(stored["mean_iou"] - result.mean_iou) < 1e-6  # what model.json says is what it does


def test_mask_rcnn_mask_and_box_ap_on_held_out_scenes():
    result = evaluate_instances(load_scene_detector("mask-rcnn-shapes", score_threshold=0.01), count=100)
    assert result.masks.map_50 >= MASK_AP50_FLOOR and result.boxes.map_50 >= BOX_MAP50_FLOOR


def test_two_touching_squares_are_one_region_semantically_and_two_instances(semantic, instances):
    drawn = touching_squares()
    truth = instance_masks(drawn)
    classes = semantic.segment([drawn.image])[0]
    regions, count = label(classes == SQUARE + 1, connectivity=1, return_num=True)
    assert count == 1 and np.mean((regions > 0) == truth.any(0)) > 0.99
    found = instances.segment([drawn.image])[0]
    assert len(found.classes) == 2 and np.all(found.classes == SQUARE)
    for mask in truth:
        ious = [(mask & other).sum() / (mask | other).sum() for other in found.masks]
        assert max(ious) >= 0.8
    assert (found.masks[0] & found.masks[1]).sum() <= 0.05 * found.masks.sum()  # two objects, not one twice
