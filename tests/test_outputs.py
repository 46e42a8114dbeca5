"""Every command that writes files: an output that exists is refused in one line unless ``--overwrite``
(then replaced), and a command refused for any reason leaves nothing behind, not even its folder."""

import shutil

import pytest
from PIL import Image

from yad2k_style import cli
from yad2k_style.assets import asset_path
from yad2k_style.darknet import Header, parse_cfg, write_weights
from yad2k_style.darknet.synthetic import random_convs
from yad2k_style.detection.synthetic import EVALUATION_SEED, scenes
from yad2k_style.detection.yolo import embedded
from yad2k_style.face.samples import sample_paths

STYLIZE = "stylize W/scene.png W/scene.png --weights none --long-side 32 --steps 2 "
#: (id, command line: W/ the shared inputs, T/ the test's folder; the output that already exists).
WRITERS = [
    ("detect --json", "detect W/scene.png --json T/found.json", "found.json"),
    ("detect --out", "detect W/scene.png --out T/drawn", "drawn/scene.png"),
    ("classify --json", "classify W/scene.png --model W/classifier --json T/top.json", "top.json"),
    ("evaluate --plot", "evaluate --scenes 3 --plot T/pr.png", "pr.png"),
    ("evaluate --json", "evaluate --scenes 3 --plot '' --json T/metrics.json", "metrics.json"),
    ("anchors --output", "anchors W/dataset -k 2 --output T/anchors.txt", "anchors.txt"),
    ("export tflite", "export yolov2-shapes --format tflite T/shapes.tflite", "shapes.tflite"),
    ("export darknet", "export W/model T/out.cfg T/out.weights", "out.weights"),
    ("export onnx", "export yolov2-shapes --format onnx T/shapes.onnx", "shapes.onnx"),
    ("segment --out", "segment W/scene.png --out T/maps", "maps/scene_overlay.png"),
    ("segment --json", "segment W/scene.png --instances --out T/maps --json T/objects.json", "objects.json"),
    ("stylize -o", STYLIZE + "--save-every 0 -o T/styled.png", "styled.png"),
    ("stylize --plot", STYLIZE + "--save-every 0 -o T/styled.png --plot T/costs.png", "costs.png"),
    ("stylize intermediate", STYLIZE + "--save-every 1 -o T/styled.png", "styled_1.png"),
    ("visualize-units -o", "visualize-units --images W/scenes --units 0 --top 2 -o T/units.png --filters ''",
     "units.png"),
    ("visualize-units --filters", "visualize-units --images W/scenes --units 0 --top 2 -o T/units.png "
     "--filters T/filters.png", "filters.png"),
    ("face identify --grid", "face identify --grid T/matches.png", "matches.png"),
    ("face evaluate --plot", "face evaluate --identities 2 --queries 1 --plot T/roc.png", "roc.png"),
    ("face calibrate --plot",
     "face calibrate W/pairs.txt --model W/face --folds 2 --dry-run --plot T/roc.png", "roc.png"),
]
#: Commands refused after their outputs are named: nothing may be left (issue 35's cases).
REFUSED = [
    ("threshold", "detect --score-threshold -1 --out T/d1"),
    ("not an image", "detect W/notes.txt --out T/d2"),
    ("wrong kind of model", "segment --model yolov2-shapes --out T/d3"),
    ("unknown model", "detect W/scene.png --model yolov9 --out T/d4 --json T/d4.json"),
    ("missing start weights", "train W/dataset --out T/run --weights T/missing.weights.h5"),
    ("start weights not HDF5", "train W/dataset --out T/run --weights W/notes.txt"),
    ("freeze longer than training", "train W/dataset --out T/run --freeze-body-epochs 5 --epochs 2"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    drawn = scenes(EVALUATION_SEED, 4)
    drawn[0].image.save(root / "scene.png")
    (root / "notes.txt").write_text("not an image\n")
    (root / "scenes").mkdir()
    for index, scene in enumerate(drawn):
        scene.image.save(root / "scenes" / f"{index}.png")
    (root / "dataset" / "images").mkdir(parents=True)
    (root / "dataset" / "labels").mkdir()
    (root / "dataset" / "classes.txt").write_text("circle\nsquare\ntriangle\n")
    for index, scene in enumerate(drawn):
        scene.image.save(root / "dataset" / "images" / f"{index}.png")
        rows = [f"{c} {(x0 + x1) / 256} {(y0 + y1) / 256} {(x1 - x0) / 128} {(y1 - y0) / 128}\n"
                for (x0, y0, x1, y1), c in zip(scene.boxes, scene.classes, strict=True)]
        (root / "dataset" / "labels" / f"{index}.txt").write_text("".join(rows))
    assert cli.main(["convert", str(asset_path(embedded.CFG_FILE)), str(asset_path(embedded.WEIGHTS_FILE)),
                     str(root / "model"), "--classes", str(asset_path(embedded.CLASSES_FILE))]) == 0
    cfg = root / "classifier.cfg"  # a small Darknet classifier, random weights
    cfg.write_text("[net]\nwidth=16\nheight=16\nchannels=3\n[convolutional]\nfilters=4\nsize=3\npad=1\n"
                   "activation=relu\n[avgpool]\n[softmax]\n")
    write_weights(root / "classifier.weights", Header(), random_convs(parse_cfg(cfg)))
    assert cli.main(["convert", str(cfg), str(root / "classifier.weights"), str(root / "classifier")]) == 0
    shutil.copytree(asset_path("face"), root / "face", ignore=shutil.ignore_patterns("samples"))
    people = list(sample_paths().values())
    (root / "pairs.txt").write_text(f"{people[0][0]} {people[0][1]} 1\n{people[0][0]} {people[1][0]} 0\n"
                                    f"{people[1][0]} {people[1][1]} 1\n{people[1][0]} {people[2][0]} 0\n")
    return root


def argv(line, world, tmp_path):
    return [word.replace("W/", f"{world}/").replace("T/", f"{tmp_path}/").replace("''", "")
            for word in line.split()]


@pytest.mark.parametrize("line, existing", [pytest.param(line, out, id=name) for name, line, out in WRITERS])
def test_an_existing_output_is_refused_unless_overwrite(line, existing, world, tmp_path, capsys):
    target = tmp_path / existing
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (2, 2)).save(target, format="PNG")        # any old file, kept byte for byte
    before = target.read_bytes()
    files = sorted(tmp_path.rglob("*"))
    assert cli.main(argv(line, world, tmp_path)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].endswith(f"{target}: exists; give --overwrite to replace it"), err
    assert target.read_bytes() == before and sorted(tmp_path.rglob("*")) == files  # nothing written
    assert cli.main([*argv(line, world, tmp_path), "--overwrite"]) == 0, capsys.readouterr().err
    assert target.read_bytes() != before


@pytest.mark.parametrize("line", [pytest.param(line, id=name) for name, line in REFUSED])
def test_a_refused_command_leaves_nothing(line, world, tmp_path, capsys):
    assert cli.main(argv(line, world, tmp_path)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("yad2k-style: error: "), err
    assert "h5py" not in err[0] and "Unable to" not in err[0]     # the library's raw message stays out
    assert list(tmp_path.iterdir()) == []


def test_every_writing_command_is_covered():
    """Each subcommand with ``--overwrite`` has a row above: a new writer gets a row, or this fails."""
    def commands(parser, prefix=()):
        for action in parser._subparsers._group_actions if parser._subparsers else ():
            for name, sub in action.choices.items():
                yield from commands(sub, (*prefix, name)) if sub._subparsers else [((*prefix, name), sub)]

    writers = {" ".join(path) for path, sub in commands(cli.build_parser())
               if any("--overwrite" in action.option_strings for action in sub._actions)}
    named = {" ".join(line.split()[:2 if line.startswith("face ") else 1]) for _, line, _ in WRITERS}
    assert writers == named
