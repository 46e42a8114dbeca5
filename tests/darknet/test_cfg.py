"""The cfg parser: the packaged cfgs as the YOLOv2 builders' specs, Darknet's syntax, one-line errors."""

import pytest

from yad2k_style.darknet import float_count, format_cfg, parse_cfg, parse_cfg_text
from yad2k_style.detection.yolo.model import yolov2_specs, yolov2_tiny_specs, yolov2_tiny_voc_specs
from yad2k_style.errors import FormatError, YadWarning
from yad2k_style.netspec import (
    AvgPool,
    Convolutional,
    Cost,
    Crop,
    Dropout,
    MaxPool,
    Region,
    Reorg,
    Route,
    Shortcut,
    Softmax,
)

COCO_ANCHORS = (0.57273, 0.677385, 1.87446, 2.06253, 3.33843, 5.47434, 7.88282, 3.52778, 9.77052, 9.16828)
VOC_ANCHORS = (1.3221, 1.73145, 3.19275, 4.00944, 5.05587, 8.09892, 9.47112, 4.84053, 11.2364, 10.0071)
TINY_VOC_ANCHORS = (1.08, 1.19, 3.42, 4.41, 6.63, 11.38, 9.42, 5.11, 16.62, 10.52)

PACKAGED = {
    "yolov2": ((608, 608, 3), yolov2_specs(5, 80, "darknet") + (Region(COCO_ANCHORS, 80, 5),), 50_983_561),
    "yolov2-voc": ((416, 416, 3), yolov2_specs(5, 20, "darknet") + (Region(VOC_ANCHORS, 20, 5),),
                   50_676_061),
    "yolov2-tiny": ((416, 416, 3), yolov2_tiny_specs() + (Region(COCO_ANCHORS, 80, 5),), 11_237_145),
    "yolov2-tiny-voc": ((416, 416, 3), yolov2_tiny_voc_specs() + (Region(TINY_VOC_ANCHORS, 20, 5),),
                        15_867_885),
}


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_cfgs_are_the_builders_specs(name, cfg_file):
    input_shape, specs, floats = PACKAGED[name]
    cfg = parse_cfg(cfg_file(name))
    assert cfg.net.input_shape == input_shape
    assert cfg.layers == specs
    assert float_count(cfg) == floats
    assert parse_cfg_text(format_cfg(cfg.net, cfg.layers), "written").layers == specs


def test_darknet_syntax(cfg_file, tmp_path):
    text = """
# comment
[network]
 width = 64 ; trailing comment
height=32
channels=3
learning_rate=0.001

[conv]
batch_normalize = 1
filters=8
size=3
stride=2
pad=1
activation=leaky
[max]
stride=1
[convolutional]
filters=4
size=3
padding=2
activation=linear
[route]
layers = 0, -1
[reorg3d]
stride=2
[shortcut]
from=-1
[dropout]
probability=.25
[avg]
[soft]
[region]
anchors = 1,2, 3,4
num=2
classes=3
jitter=.2
"""
    cfg = parse_cfg(cfg_file("syntax", text=text))
    assert cfg.net.input_shape == (32, 64, 3)
    assert cfg.layers == (
        Convolutional(8, 3, 2, 1, True, "leaky"), MaxPool(1, 1), Convolutional(4, 3, 1, 2),
        Route((0, -1)), Reorg(2, "space_to_depth"), Shortcut(-1), Dropout(0.25), AvgPool(), Softmax(),
        Region((1.0, 2.0, 3.0, 4.0), 3, 2, softmax=False))
    assert cfg.sections[0] == "[conv]" and cfg.lines[0] == 9
    assert cfg.where(2) == f"layer 2 ([convolutional] at {tmp_path / 'syntax.cfg'}:18)"
    assert parse_cfg_text(format_cfg(cfg.net, cfg.layers), "written").layers == cfg.layers


def test_maxpool_padding_is_darknets():
    cfg = parse_cfg_text("[net]\nwidth=8\nheight=8\nchannels=1\n[maxpool]\nsize=3\nstride=2\n"
                         "[maxpool]\nsize=3\nstride=1\npadding=0\n", "pools.cfg")
    assert cfg.layers == (MaxPool(3, 2, None), MaxPool(3, 1, 0))
    assert cfg.layers[0].total_padding == 2


NET = "[net]\nwidth=32\nheight=32\nchannels=3\n"


@pytest.mark.parametrize("text, line, problem", [
    (NET + "[lstm]\noutput=2\n", 5, "unsupported section [lstm]"),
    (NET + "[convolutional]\nsize=3\nactivation=leaky\n", 5, "[convolutional]: missing key 'filters'"),
    (NET + "[convolutional]\nfilters=8\ngroups=3\nactivation=leaky\n", 7,
     "[convolutional]: filters=8 do not split into groups=3"),
    (NET + "[convolutional]\nfilters=8\nactivation=mish\n", 7,
     "[convolutional]: activation 'mish' is not one of Darknet's (logistic, loggy, relu, elu, selu, relie, "
     "plse, hardtan, lhtan, linear, ramp, leaky, tanh, stair)"),
    (NET + "[convolutional]\nfilters=eight\nactivation=linear\n", 6,
     "[convolutional]: filters=eight is not an integer"),
    (NET + "[convolutional]\nfilters=8\nactivation=linear\nxnor=1\n", 8,
     "[convolutional]: unsupported key 'xnor'"),
    (NET + "[convolutional]\nfilters\n", 6, "[convolutional]: expected key=value, found 'filters'"),
    (NET + "[maxpool\n", 5, "malformed section header '[maxpool'"),
    (NET + "[route]\nlayers=-1\n", 6, "[route]: layer 0 refers to layer -1, which is not an earlier layer"),
    (NET + "[region]\nanchors=1,2,3\nnum=2\n", 6, "[region]: 3 anchor values for num=2; expected 4"),
    (NET + "[region]\nanchors=1,2\nclasses=20\ntree=data/9k.tree\n", 8,
     "[region]: classes=20, but the tree data/9k.tree has 9418 nodes"),
    (NET + "[region]\nanchors=1,2\ntree=nowhere.tree\n", 7, "[region]: tree file 'nowhere.tree' not found "
     "(looked beside the cfg, in its parent folder and among the packaged trees)"),
    (NET + "[yolo]\nmask=0,3\nanchors=10,13,16,30,33,23\nnum=3\n", 6,
     "[yolo]: mask index 3 is outside the 3 anchors (0 to 2)"),
    (NET + "[local]\nfilters=2\nsize=5\npad=1\n", 8, "[local]: pad=1 with size=5: Darknet pads one pixel "
     "but sizes its output as if it padded 2; only size=3 computes a defined result"),
    (NET + "[reorg]\nstride=2\nreverse=1\n", 7, "[reorg]: reverse=1 is not supported (only 0)"),
    (NET + "[softmax]\ntemperature=0\n", 6, "[softmax]: temperature=0: must be positive"),
    ("[convolutional]\nfilters=8\n", 1, "the first section must be [net] or [network]"),
    ("width=3\n", 1, "'width=3' before the first [section]"),
    ("[net]\nwidth=32\nchannels=3\n", 1, "[net]: missing key 'height'"),
    (NET + "[net]\n" + NET[6:], 5, "[net]: a second [net] section"),
])
def test_errors_name_file_line_and_section(text, line, problem):
    with pytest.raises(FormatError) as caught:
        parse_cfg_text(text, "bad.cfg")
    assert str(caught.value) == f"bad.cfg:{line}: {problem}"


def test_a_repeated_key_keeps_its_first_value_with_one_warning():
    """As Darknet's option_find: the first value of a repeated key wins (yolo9000.cfg repeats batch and
    subdivisions); one warning line names every line ignored."""
    text = NET.replace("width=32", "width=32\nwidth=64") + "[convolutional]\nfilters=8\nfilters=4\n"
    with pytest.warns(YadWarning) as caught:
        cfg = parse_cfg_text(text, "twice.cfg")
    assert cfg.net.width == 32 and cfg.layers[0].filters == 8
    assert [str(w.message) for w in caught] == [
        "twice.cfg: keys given again; Darknet keeps each key's first value, so lines 3 ([net] width), "
        "8 ([convolutional] filters) ignored"]


def test_training_keys_are_ignored_and_computing_keys_read():
    cfg = parse_cfg_text(NET + "[crop]\ncrop_height=16\ncrop_width=8\nflip=1\nangle=7\n"
                               "[cost]\ntype=sse\n[softmax]\ngroups=2\ntemperature=3\n", "keys.cfg")
    assert cfg.layers == (Crop(16, 8), Cost(), Softmax(2, 3.0))
    assert cfg.layer_shapes() == [(16, 8, 3), (16, 8, 3), (1, 1, 384)]
