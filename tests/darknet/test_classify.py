"""``classify``: Darknet classifiers converted from the cfg folder, run as Darknet's classifier predict
runs them (letterbox, a WordTree classifier's leaves ranked by absolute probability)."""

import json

import darknet_numpy as dn
import numpy as np
import pytest
from PIL import Image
from zoo_harness import zoo_files

from yad2k_style import cli
from yad2k_style.classification import Classifier
from yad2k_style.darknet.zoo import zoo_cfg
from yad2k_style.detection.yolo.convert import convert
from yad2k_style.images import letterbox_image, letterbox_inputs


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Model directories of darknet9000 (WordTree) and darknet53 at 64×64, seeded random weights."""
    root = tmp_path_factory.mktemp("classifiers")
    for name in ("darknet9000", "darknet53"):
        (root / name).mkdir()
        _, cfg_path, weights_path, _ = zoo_files(root / name, name, 64)
        convert(cfg_path, weights_path, root / f"{name}-model")
    image = root / "image.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (50, 90, 3), np.uint8)).save(image)
    return root


def test_wordtree_leaves_ranked_as_darknet_ranks_them(converted):
    classifier = Classifier.load(converted / "darknet9000-model")
    image = Image.open(converted / "image.png").convert("RGB")
    got = classifier.probabilities([image])[0]
    raw = np.asarray(classifier.model(letterbox_inputs(letterbox_image(image, (64, 64))[None],
                                                       [[50, 90]], (64, 64))))[0]
    tree = dn.read_tree(zoo_cfg("darknet9000").parent.parent / "data" / "9k.tree")
    want = dn.hierarchy_predictions(raw, tree.n, tree, 1, 1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert np.count_nonzero(got) == int(tree.leaf.sum()) == 7573  # only leaves are ranked
    (result,) = classifier.classify([image], top=5)
    assert list(result.indices) == list(np.argsort(-want, kind="stable")[:5])
    assert classifier.class_names[result.indices[0]] == classifier.class_names[int(np.argmax(want))]


def test_classify_command(converted, capsys, tmp_path):
    model, image = converted / "darknet53-model", converted / "image.png"
    assert cli.main(["classify", str(image), "--model", str(model), "--top", "3", "--json",
                     str(tmp_path / "top.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{image}:" and len(lines) == 4 and lines[1].startswith("  1. class ")
    records = json.loads((tmp_path / "top.json").read_text())
    assert [r["rank"] for r in records] == [1, 2, 3]
    assert records[0]["probability"] >= records[1]["probability"] >= records[2]["probability"]
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"thing {i}" for i in range(1000)) + "\n")
    assert cli.main(["classify", str(image), "--model", str(model), "--labels", str(labels),
                     "--top", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("  1. thing ")


@pytest.mark.parametrize("extra, problem", [
    (["--top", "0"], "--top must be at least 1, got 0"),
    (["--labels", "LABELS"], "LABELS: 3 class names for a classifier of 1000 classes"),
    (["--model", "DETECTOR"], "DETECTOR: a detection model, not a classifier (classify takes a converted "
                              "classifier cfg: darknet19, darknet53, resnet50 …)"),
])
def test_classify_mistakes_are_one_line(converted, capsys, tmp_path, extra, problem):
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    detector = tmp_path / "detector"
    _, cfg_path, weights_path, _ = zoo_files(tmp_path, "yolov3-tiny", 96)
    convert(cfg_path, weights_path, detector)
    replace = {"LABELS": str(labels), "DETECTOR": str(detector)}
    argv = ["classify", str(converted / "image.png"), "--model", str(converted / "darknet53-model"),
            *(replace.get(arg, arg) for arg in extra)]
    assert cli.main(argv) == 2
    for word, value in replace.items():
        problem = problem.replace(word, value)
    assert capsys.readouterr().err.strip() == f"yad2k-style: error: {problem}"
