"""Every YOLO generation's head decoded as Darknet decodes it, against NumPy ports of Darknet's box
functions (``darknet_numpy``: ``get_detection_detections``, ``get_region_detections`` with
``hierarchy_predictions`` / ``hierarchy_top_prediction``, ``get_yolo_detections``), and YOLOv3's boxes
after non-max suppression against OpenCV DNN's ``[yolo]`` output; then ``detect`` runs each generation."""

import json

import darknet_numpy as dn
import numpy as np
import pytest
from PIL import Image
from zoo_harness import zoo_files

from yad2k_style import cli
from yad2k_style.darknet import parse_cfg, read_darknet
from yad2k_style.darknet.zoo import zoo_cfg
from yad2k_style.detection.nms import per_class_nms
from yad2k_style.detection.yolo.yolo9000 import top_prediction, tree_region_head
from yad2k_style.detection.yolo.yolov1 import detection_head
from yad2k_style.detection.yolo.yolov3 import yolo_layer_head, yolo_layer_heads
from yad2k_style.netspec import Detection, Yolo

cv2 = pytest.importorskip("cv2")
THRESHOLD = 0.6


def darknet_boxes(detections):
    """Boxes (N, 4) ``(x, y, w, h)``, and probabilities (N, C), of a list of the ports' detections."""
    return (np.array([d["bbox"] for d in detections], np.float32),
            np.array([d["prob"] for d in detections], np.float32))


def ours(*tensors):
    return [np.asarray(t)[0] for t in tensors]


@pytest.mark.parametrize("sqrt, softmax", [(True, False), (False, True)])
def test_yolov1_matches_get_detection_detections(sqrt, softmax):
    spec = Detection(classes=20, coords=4, num=3, side=7, softmax=softmax, sqrt=sqrt)
    features = np.random.default_rng(0).normal(0.3, 0.4, (1, spec.inputs)).astype(np.float32)
    features[0, 7 * 7 * 20 + 10 * 3 + 1] = 0.9  # cell 10 (row 1, column 3), box 1: a confident box
    box_xy, box_wh, scores = ours(*detection_head(features, spec))
    output = dn.forward_detection(features[0], 7, 3, 20, 4, softmax, sqrt)
    boxes, probs = darknet_boxes(dn.get_detection_detections(output, 7, 3, 20, sqrt, thresh=0.0))
    np.testing.assert_allclose(np.concatenate([box_xy, box_wh], -1), boxes, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.where(scores > 0, scores, 0), probs, rtol=1e-6, atol=1e-7)
    if not softmax:  # by hand: cell 10's class probabilities times its box 1's confidence
        np.testing.assert_allclose(scores[10 * 3 + 1], 0.9 * features[0, 10 * 20:11 * 20], rtol=1e-6)


@pytest.fixture(scope="module")
def yolo9000():
    cfg = parse_cfg(zoo_cfg("yolo9000"))
    return cfg.region, dn.read_tree(zoo_cfg("yolo9000").parent.parent / "data" / "9k.tree")


def path_to(tree, node):
    path = [node]
    while tree.parents[path[-1]] >= 0:
        path.append(tree.parents[path[-1]])
    return path[::-1]


def test_yolo9000_matches_get_region_detections(yolo9000):
    region, darknet_tree = yolo9000
    tree, classes, anchors = region.tree, region.classes, region.anchors
    height, width, count = 3, 4, region.num
    rng = np.random.default_rng(1)
    features = rng.normal(0, 2, (1, height, width, count, 5 + classes)).astype(np.float32)
    deep = max(range(tree.size), key=lambda node: len(path_to(tree, node)))  # a leaf 12+ levels down
    features[0, 0, 0, 0, 5:] = -6
    features[0, 0, 0, 0, 5 + np.array(path_to(tree, deep))] = 9  # sure all the way down: the leaf
    stop = path_to(tree, deep)[3]  # sure for three levels, then two children equally likely: their parent
    features[0, 1, 2, 1, 5:] = -6
    features[0, 1, 2, 1, 5 + np.array(path_to(tree, stop))] = 9
    siblings = [node for node in range(tree.size) if tree.parents[node] == stop][:2]
    features[0, 1, 2, 1, 5 + np.array(siblings)] = 9
    features = features.reshape(1, height, width, -1)
    box_xy, box_wh, scores = ours(*tree_region_head(features, np.reshape(anchors, (-1, 2)), tree))
    output = dn.forward_region(features[0].transpose(2, 0, 1), count, classes, 4, True, darknet_tree)
    detections = dn.get_region_detections(output, width, height, count, classes, 4, anchors, 0.0,
                                          darknet_tree, tree_thresh=0.5)
    order = np.arange(height * width * count).reshape(height * width, count).T.ravel()  # Darknet's order
    boxes, probs = darknet_boxes(detections)
    np.testing.assert_allclose(np.concatenate([box_xy, box_wh], -1)[order], boxes, rtol=1e-5)
    np.testing.assert_array_equal(scores.argmax(-1)[order], probs.argmax(-1))
    np.testing.assert_allclose(scores.max(-1)[order], probs.max(-1), rtol=1e-6)
    assert scores[0].argmax() == deep and scores[(1 * width + 2) * count + 1].argmax() == stop
    assert len(set(scores.argmax(-1))) > 5  # the random boxes stop at many different nodes


def test_top_prediction_quirks(yolo9000):
    """Darknet's walk multiplies the absolute maxima it takes (P(node) already includes its ancestors):
    a node of P = 0.6 under a root of P = 0.9 runs at 0.9 × 0.6 = 0.54 > 0.5 and is taken; with no
    value above 0 in the roots' group it answers node 0."""
    _, darknet_tree = yolo9000
    tree = yolo9000[0].tree
    probabilities = np.zeros((2, tree.size), np.float32)
    root, child = 0, tree.offsets[tree.children[0]]
    probabilities[0, [root, child]] = 0.9, 0.6
    got = top_prediction(probabilities, tree).numpy()
    want = [dn.hierarchy_top_prediction(row, darknet_tree, 0.5, 1) for row in probabilities]
    assert list(got) == want and got[1] == 0
    assert got[0] in (child, root)


def test_yolov3_head_matches_get_yolo_detections():
    spec = parse_cfg(zoo_cfg("yolov3")).heads[0]
    assert isinstance(spec, Yolo) and spec.mask == (6, 7, 8)
    height, width, input_size = 4, 5, (128, 160)
    features = np.random.default_rng(2).normal(0, 1.5, (1, height, width, 3 * 85)).astype(np.float32)
    box_xy, box_wh, scores = ours(*yolo_layer_head(features, spec, input_size))
    output = dn.forward_yolo(features[0].transpose(2, 0, 1), 3, 80)
    boxes, probs = darknet_boxes(dn.get_yolo_detections(output, width, height, spec.mask, spec.anchors, 80,
                                                        input_size[1], input_size[0], thresh=0.0))
    np.testing.assert_allclose(np.concatenate([box_xy, box_wh], -1), boxes, rtol=1e-5)
    np.testing.assert_allclose(scores, probs, rtol=1e-6)
    # by hand: all zeros put each box at its cell's centre, its anchor's size in input pixels, score ¼
    box_xy, box_wh, scores = ours(*yolo_layer_head(np.zeros_like(features), spec, input_size))
    np.testing.assert_allclose(box_xy[(2 * width + 3) * 3 + 1], [3.5 / 5, 2.5 / 4])
    np.testing.assert_allclose(box_wh[1], [156 / 160, 198 / 128])  # anchor 7 of yolov3.cfg: 156×198
    np.testing.assert_allclose(scores, 0.25)


def test_yolov3_boxes_after_nms_match_opencv(tmp_path):
    """Per-class suppression (IoU 0.45) of every (box, class) pair scoring ≥ 0.6: ours on our decoding,
    OpenCV's ``NMSBoxesBatched`` on its ``[yolo]`` rows (x, y, w, h, objectness, objectness × class)."""
    cfg, cfg_path, weights_path, _ = zoo_files(tmp_path, "yolov3-tiny", 96, seed=3)
    x = np.random.default_rng(0).uniform(0, 1, (1, 96, 96, 3)).astype(np.float32)
    features = read_darknet(cfg_path, weights_path).model(x)
    box_xy, box_wh, scores = yolo_layer_heads(features, cfg.heads, (96, 96))
    corners = np.concatenate([box_xy - box_wh / 2, box_xy + box_wh / 2], -1)
    boxes, kept_scores, classes, valid = per_class_nms(corners, scores, 5000, 0.45, THRESHOLD)
    got = sorted(zip(classes[0, :valid[0]].numpy().tolist(), boxes[0, :valid[0]].numpy().tolist(),
                     strict=True))
    net = cv2.dnn.readNetFromDarknet(str(cfg_path), str(weights_path))
    net.setInput(x.transpose(0, 3, 1, 2))
    rows = np.concatenate(net.forward(net.getUnconnectedOutLayersNames()))
    box, klass = np.nonzero(rows[:, 5:] >= THRESHOLD)
    rects = np.concatenate([rows[box, :2] - rows[box, 2:4] / 2, rows[box, 2:4]], -1)
    kept = cv2.dnn.NMSBoxesBatched(rects.tolist(), rows[box, 5 + klass].tolist(), klass.tolist(),
                                   THRESHOLD, 0.45)
    want = sorted((int(klass[k]), [*rects[k, :2], *(rects[k, :2] + rects[k, 2:])]) for k in np.ravel(kept))
    assert 3 <= len(got) == len(want)
    assert [c for c, _ in got] == [c for c, _ in want]
    np.testing.assert_allclose([b for _, b in got], [b for _, b in want], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name, size", [("yolov1-tiny", 128), ("yolo9000", 64), ("yolov3-tiny", 96)])
def test_detect_runs_every_generation(name, size, tmp_path, capsys):
    _, cfg_path, weights_path, _ = zoo_files(tmp_path, name, size, seed=3)
    assert cli.main(["convert", str(cfg_path), str(weights_path), str(tmp_path / "model")]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    if name == "yolo9000":  # converts as shipped: one line on its repeated batch and subdivisions
        assert warned == [f"yad2k-style: warning: {cfg_path}: keys given again; Darknet keeps each key's "
                          f"first value, so lines 8 ([net] batch), 9 ([net] subdivisions) ignored"]
    else:
        assert warned == []
    image = tmp_path / "image.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (80, 120, 3), np.uint8)).save(image)
    assert cli.main(["detect", str(image), "--model", str(tmp_path / "model"), "--score-threshold", "0.05",
                     "--json", str(tmp_path / "found.json"), "--max-boxes", "5"]) == 0
    found = json.loads((tmp_path / "found.json").read_text())
    assert found, "random weights find something at a score of 0.05"
    capsys.readouterr()


def test_training_stays_yolov2s(tmp_path, shapes_dataset, capsys):
    """train starts from a YOLOv2 detector or a classifier's backbone; another generation's heads are
    refused before anything is written."""
    _, cfg_path, weights_path, _ = zoo_files(tmp_path, "yolov3-tiny", 96)
    assert cli.main(["convert", str(cfg_path), str(weights_path), str(tmp_path / "v3")]) == 0
    shapes_dataset(tmp_path / "data", count=2)
    capsys.readouterr()
    assert cli.main(["train", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--weights",
                     str(tmp_path / "v3")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"yad2k-style: error: --weights {tmp_path / 'v3'}: a network with YOLOv3's [yolo] heads; train "
        f"starts YOLOv2 from a YOLOv2 detector or a classifier's backbone")
    assert not (tmp_path / "run").exists()


def test_litert_gives_yolov3s_outputs_in_the_models_order(tmp_path):
    """TFLite may list a network's outputs in another order; LiteRTNetwork puts them back by shape, so
    ``--precision int8`` decodes YOLOv3's heads (here the float32 flatbuffer: equal to float round-off)."""
    from yad2k_style.quantize import LiteRTNetwork, tflite_bytes

    _, cfg_path, weights_path, _ = zoo_files(tmp_path, "yolov3-tiny", 96)
    model = read_darknet(cfg_path, weights_path).model
    network = LiteRTNetwork(tflite_bytes(model), [tuple(output.shape[1:]) for output in model.outputs])
    x = np.random.default_rng(0).uniform(0, 1, (2, 96, 96, 3)).astype(np.float32)
    got, want = network(x), model(x)
    assert [tuple(t.shape) for t in got] == [(2, 3, 3, 255), (2, 6, 6, 255)]
    for ours, theirs in zip(got, want, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * float(np.abs(theirs).max()))
