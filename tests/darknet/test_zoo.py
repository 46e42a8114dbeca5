"""Darknet's whole cfg folder (``weights/darknet/cfg``, the 42 vision networks): each converts, computes
what Darknet computes, and goes back to Darknet byte for byte.

- **Layer by layer against NumPy ports of Darknet's C forward functions** (``darknet_numpy``): every
  layer of the Keras model against Darknet's forward of that layer fed the Keras outputs of its inputs
  (``[local]``, ``[shortcut]`` across sizes and depths, tree softmax, ``[crop]``, ``[connected]`` …):
  ≤ 1e-5 of the output's scale, ≤ 1e-4 for batch-normalised convolutions (Darknet's CPU divides by
  ``sqrt(var) + 1e-6``, Keras by ``sqrt(var + 1e-5)``).
- **Against OpenCV DNN** (an independent Darknet importer) for every cfg it runs: the network's output
  (without a final softmax, whose ``temperature`` and ``tree`` OpenCV ignores), or the convolution
  feeding each ``[region]``/``[yolo]``: ≤ 1e-3 of the output's scale.
- **Round trip**: ``convert`` then ``export --format darknet`` writes the same ``.weights`` bytes.

Fast tests run a subset at small input sizes; ``slow`` tests run all 42.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from zoo_harness import RECURRENT, layer_by_layer, relative_difference, resized, zoo_files

from yad2k_style.darknet import parse_cfg, read_darknet
from yad2k_style.darknet.cfg import SECTION_NAMES
from yad2k_style.darknet.weights import float_count
from yad2k_style.darknet.zoo import zoo_cfg, zoo_names
from yad2k_style.detection.yolo.convert import convert, export
from yad2k_style.errors import YadWarning
from yad2k_style.netspec import Convolutional, Region, Yolo

cv2 = pytest.importorskip("cv2")

ZOO = zoo_names()
#: Small input sizes that keep every layer's map non-empty; None: the cfg's own ([connected] or [crop]
#: layers fix it, or it is small already).
SIZES = {"alexnet": None, "cifar": None, "cifar.test": None, "extraction.conv": None, "extraction22k": None,
         "go": None, "go.test": None, "jnet-conv": None, "strided": None, "t1.test": None, "vgg-16": None,
         "yolov1": 128, "yolov1-tiny": 128, "yolov3-tiny": 96, "writing": 32}
FAST_LAYERS = ("go", "cifar.test", "yolov1", "resnet18", "resnext50", "darknet9000", "yolov3-tiny",
               "yolo9000")
#: What OpenCV DNN 4.x cannot run: [local] and [detection] layers, [crop], the ramp activation, and
#: shortcuts between maps of different sizes.
OPENCV_CANNOT = {"yolov1": "[local], [detection]", "yolov1-tiny": "[detection]", "t1.test": "[detection]",
                 "vgg-16": "[crop]", "strided": "[crop], ramp",
                 **{name: "[shortcut] across sizes" for name in ZOO if name.startswith("resne")}}
FAST_OPENCV = ("yolov3-tiny", "darknet53", "densenet201", "alexnet", "extraction.conv", "cifar.test")
FAST_ROUND_TRIP = ("yolov1", "yolo9000", "yolov3-tiny", "resnext50", "darknet9000", "go")


def size_of(name):
    return SIZES.get(name, 64)


def test_the_zoo_is_darknets_cfg_folder_without_its_recurrent_networks():
    assert len(ZOO) == 42 and not set(RECURRENT) & set(ZOO)
    assert {"yolov1", "yolo9000", "yolov3", "darknet53", "resnet152", "densenet201", "vgg-16"} <= set(ZOO)


def fast_then_slow(fast, names=None):
    """``names`` (default: the zoo) as parameters: those in ``fast`` run every time, the others are
    ``slow``."""
    names = sorted(ZOO if names is None else names)
    return [name if name in fast else pytest.param(name, marks=pytest.mark.slow) for name in names]


@pytest.mark.parametrize("name", fast_then_slow(FAST_LAYERS))
def test_layers_match_darknets_forward(name, tmp_path):
    cfg, *_, convs = zoo_files(tmp_path, name, size_of(name))
    results = layer_by_layer(cfg, convs)
    assert len(results) >= len(cfg.layers) - 3  # all but heads and plain reorgs
    for index, spec, difference in results:
        tolerance = 1e-4 if isinstance(spec, Convolutional) and spec.batch_normalize else 1e-5
        assert difference <= tolerance, f"{name} {cfg.where(index)}: {difference:.2e}"


def opencv_comparable(text):
    """cfg ``text`` without what OpenCV does not compute as Darknet does, at its end: a [softmax] (OpenCV
    ignores ``temperature`` and ``tree``), [cost], a flattening [reorg] (it ignores ``extra``), a
    WordTree [region] (it refuses YOLO9000's)."""
    sections = re.split(r"(?m)^(?=[ \t]*\[)", text)
    while re.match(r"\s*\[(softmax|soft|cost|reorg)\]", sections[-1]) or (
            sections[-1].lstrip().startswith("[region]") and "tree=" in sections[-1]):
        sections.pop()
    return "".join(sections)


@pytest.mark.parametrize("name", fast_then_slow(FAST_OPENCV, set(ZOO) - set(OPENCV_CANNOT)))
def test_matches_opencv(name, tmp_path):
    text = opencv_comparable(resized(zoo_cfg(name).read_text(), size_of(name)))
    cfg, cfg_path, weights_path, _ = zoo_files(tmp_path, name, text=text)
    model = read_darknet(cfg_path, weights_path).model
    x = np.random.default_rng(0).uniform(0, 1, (1, *cfg.net.input_shape)).astype(np.float32)
    got = model(x)
    got = [t.numpy() for t in (got if isinstance(got, list) else [got])]
    net = cv2.dnn.readNetFromDarknet(str(cfg_path), str(weights_path))
    net.setInput(x.transpose(0, 3, 1, 2))
    heads = [index for index, spec in enumerate(cfg.layers) if isinstance(spec, Region | Yolo)]
    if heads:
        want = net.forward([f"conv_{index - 1}" for index in heads])
    else:
        want = [net.forward()]
    assert len(got) == len(want)
    for ours, theirs in zip(got, want, strict=True):
        theirs = theirs.transpose(0, 2, 3, 1) if theirs.ndim == 4 and ours.ndim == 4 else theirs
        assert relative_difference(ours, theirs.reshape(ours.shape)) <= 1e-3


@pytest.mark.parametrize("name", sorted(OPENCV_CANNOT))
def test_opencv_cannot_run_these(name, tmp_path):
    """The cfgs left to the NumPy ports: OpenCV refuses them (so the list above is not a convenience)."""
    cfg, cfg_path, weights_path, _ = zoo_files(tmp_path, name, size_of(name) if name in SIZES else 64)
    with pytest.raises(cv2.error):
        net = cv2.dnn.readNetFromDarknet(str(cfg_path), str(weights_path))
        net.setInput(np.zeros((1, cfg.net.channels, cfg.net.height, cfg.net.width), np.float32))
        net.forward()


@pytest.mark.parametrize("name", fast_then_slow(FAST_ROUND_TRIP))
def test_convert_export_round_trip(name, tmp_path):
    cfg, cfg_path, weights_path, _ = zoo_files(tmp_path, name, size_of(name))
    classes = None
    if name == "yolov3-openimages":  # 601 classes: Darknet's names file is not packaged
        classes = tmp_path / "classes.txt"
        classes.write_text("".join(f"class {index}\n" for index in range(601)))
    convert(cfg_path, weights_path, tmp_path / "model", classes_path=classes)
    export(tmp_path / "model", tmp_path / "back.cfg", tmp_path / "back.weights")
    assert (tmp_path / "back.weights").read_bytes() == weights_path.read_bytes()
    assert parse_cfg(tmp_path / "back.cfg").layers == cfg.layers


def test_parameter_counts_are_the_floats_darknet_reads():
    """Each cfg's Keras parameter count equals the floats its weights file holds (no parameter is
    missed or invented), at its own input size; the README's zoo table lists them."""
    from yad2k_style.darknet import build_keras

    for name in ("yolov1-tiny", "yolov3-tiny", "darknet9000", "go"):
        cfg = parse_cfg(zoo_cfg(name))
        assert build_keras(cfg).count_params() == float_count(cfg), name


HEAD_TYPES = {"region", "yolo", "detection"}


def zoo_table():
    """The README's table of the zoo: ``| cfg | layer types | parameters | checked by |`` rows."""
    rows = []
    for name in ZOO:
        text = zoo_cfg(name).read_text()
        sections = dict.fromkeys(SECTION_NAMES[s] for s in re.findall(r"(?m)^\s*\[(\w+)\]", text))
        sections.pop("net")
        checks = ["forward" + ("" if name in FAST_LAYERS else "*"),
                  "" if name in OPENCV_CANNOT else "OpenCV" + ("" if name in FAST_OPENCV else "*"),
                  "bytes" + ("" if name in FAST_ROUND_TRIP else "*"),
                  "heads" if HEAD_TYPES & set(sections) else ""]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", YadWarning)  # yolo9000's repeated keys
            count = float_count(parse_cfg(zoo_cfg(name)))
        rows.append(f"| [{name}](weights/darknet/cfg/{name}.cfg) | {', '.join(sections)} | {count:,} | "
                    f"{', '.join(check for check in checks if check)} |")
    return rows


def test_readme_zoo_table_is_true():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| [") and "weights/darknet/cfg/" in line]
    assert rows == zoo_table()


@pytest.mark.parametrize("name", ["resnext50", "yolov3-tiny", "yolov1-tiny", "darknet9000"])
def test_inference_form_matches_the_model(name, tmp_path):
    """The fast path (batch norm folded, Winograd, XLA for grouped convolutions) on YOLOv3's three
    outputs and the classifiers: the model's outputs to float32 round-off."""
    from yad2k_style.inference import InferenceNetwork

    cfg, cfg_path, weights_path, _ = zoo_files(tmp_path, name, size_of(name))
    model = read_darknet(cfg_path, weights_path).model
    x = np.random.default_rng(0).uniform(0, 1, (2, *cfg.net.input_shape)).astype(np.float32)
    want, got = model(x), InferenceNetwork(model)(x)
    want, got = (t if isinstance(t, list) else [t] for t in (want, got))
    assert len(got) == len(want) == (2 if name == "yolov3-tiny" else 1)
    for ours, theirs in zip(got, want, strict=True):
        assert relative_difference(ours, theirs) <= 1e-5


def test_a_truncated_connected_layer_is_one_line(tmp_path, capsys):
    """YOLOv1-tiny's weights cut inside its [connected] layer (the last 40,000 floats gone)."""
    from yad2k_style import cli

    cfg, cfg_path, weights_path, _ = zoo_files(tmp_path, "yolov1-tiny", 128)
    data = weights_path.read_bytes()
    weights_path.write_bytes(data[:-160_000])
    assert cli.main(["convert", str(cfg_path), str(weights_path), str(tmp_path / "model")]) == 2
    needed = float_count(cfg)
    assert capsys.readouterr().err.splitlines() == [
        f"yad2k-style: error: {weights_path}: truncated: {cfg_path} needs {needed:,} floats, the file has "
        f"{needed - 40_000:,}; they run out in layer 14 ([connected] at {cfg_path}:112), which needs "
        f"{1470 * (1 + 256 * 2 * 2):,} floats from float {needed - 1470 * (1 + 256 * 2 * 2):,}"]
    assert not (tmp_path / "model").exists()


def test_shortcut_across_sizes_by_hand():
    """``shortcut_cpu``'s rule on numbers worked by hand: a 4×4×2 source into a 2×2×3 map takes every
    second pixel (stride 2) into the first two channels, ``alpha * previous + beta * source``; the third
    channel keeps ``previous``. The other way round (2×2×3 into 4×4×2) writes every second pixel."""
    import darknet_numpy as dn

    from yad2k_style.layers import darknet_shortcut

    big = np.arange(32, dtype=np.float32).reshape(1, 4, 4, 2)
    small = np.full((1, 2, 2, 3), 100, np.float32)
    got = darknet_shortcut([big, small], alpha=0.5, beta=2.0).numpy()[0]
    want = np.full((2, 2, 3), 100, np.float32)
    want[:, :, :2] = 50 + 2 * big[0, ::2, ::2]
    np.testing.assert_array_equal(got, want)
    assert got[1, 1, 0] == 50 + 2 * 20  # source pixel (2, 2), channel 0: 2·(4·2 + 2)·2 = 20
    got = darknet_shortcut([small, big], alpha=1.0, beta=1.0).numpy()[0]
    want = big[0].copy()
    want[::2, ::2] += 100
    np.testing.assert_array_equal(got, want)
    for source, previous in ((big, small), (small, big)):
        np.testing.assert_array_equal(
            darknet_shortcut([source, previous], alpha=0.5, beta=2.0).numpy()[0].transpose(2, 0, 1),
            dn.shortcut(previous[0].transpose(2, 0, 1), source[0].transpose(2, 0, 1), 0.5, 2.0))


def test_local_layer_by_hand():
    """A 3×3 [local] layer with pad=1 whose kernel at each location picks one input pixel (a different
    one at each location) and adds that location's bias: Darknet's port agrees."""
    import darknet_numpy as dn

    from yad2k_style.layers import LocallyConnected2D

    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    layer = LocallyConnected2D(1, 3, 1, 1, (3, 3))
    layer.build(x.shape)
    kernel = np.zeros((9, 9, 1), np.float32)
    kernel[np.arange(9), [4, 5, 3, 7, 4, 1, 0, 8, 4]] = 1  # taps 0 and 8 of the last row fall on padding
    layer.set_weights([kernel, np.arange(9, dtype=np.float32).reshape(3, 3, 1) / 10])
    got = layer(x).numpy()[0, ..., 0]
    np.testing.assert_allclose(got, [[1.0, 3.1, 2.2], [7.3, 5.4, 3.5], [0.6, 0.7, 9.8]], rtol=1e-6)
    darknet_kernel = kernel.reshape(9, 3, 3, 1, 1).transpose(0, 4, 3, 1, 2)  # (locations, n, c, h, w)
    want = dn.forward_local(x[0].transpose(2, 0, 1), darknet_kernel.ravel(), np.arange(9) / 10, 1, 3, 1, 1,
                            "linear")
    np.testing.assert_allclose(got, want[0], rtol=1e-6)
