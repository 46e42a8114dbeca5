"""ONNX and OpenVINO: every model kind exported, read back by the runtime itself, and run to the Keras
model's outputs; ``--runtime`` giving the default's detections; the mistakes people make."""

import json
import sys

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style import cli, runtimes
from yad2k_style.darknet.zoo import darknet_model
from yad2k_style.errors import YadError
from yad2k_style.exports import load_network

onnxruntime = pytest.importorskip("onnxruntime")
openvino = pytest.importorskip("openvino")

#: kind → how its network is made: a packaged model (trained weights), or a cfg of Darknet's folder at
#: a small input size with seeded random weights.
KINDS = {
    "yolov2 (embedded)": "yolov2-shapes",
    "yolov3-tiny (two yolo heads)": ("yolov3-tiny", 128),
    "yolov1-tiny (connected, detection)": ("yolov1-tiny", 128),
    "yolo9000 (tree softmax)": ("yolo9000", 64),
    "classifier (darknet)": ("darknet", 64),
    "classifier (resnext50, grouped convolutions)": ("resnext50", 64),
    "ssd": "ssd-shapes",
    "faster-rcnn": "faster-rcnn-shapes",
    "rfcn": "rfcn-shapes",
    "fast-rcnn": "fast-rcnn-shapes",
    "rcnn": "rcnn-shapes",
    "mask-rcnn": "mask-rcnn-shapes",
    "u-net (semantic)": "semantic-shapes",
    "face embedding": "facenet-synthetic",
}
SLOW = {"mask-rcnn", "yolo9000 (tree softmax)"}  # tf2onnx takes 20 s and more on each
#: The kinds whose runtime stand-ins are also run inside a tf.function: several outputs, several inputs
#: of two dtypes, one output (the others convert the same way, and the CLI tests run them).
STAND_INS = {"yolov3-tiny (two yolo heads)", "fast-rcnn", "face embedding", "mask-rcnn"}


def seeded(model, seed=0):
    """``model`` with seeded random weights (batch-norm variances positive), in place."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path
                       else rng.normal(0, 0.3 / np.sqrt(np.prod(w.shape[:-1]) or 1), w.shape)
                       for w in model.weights])
    return model


def network(kind):
    made = KINDS[kind]
    if isinstance(made, str):
        return load_network(made)
    name, size = made
    return seeded(darknet_model(name, (size, size, 3)))


def inputs_for(model, seed=1):
    """Seeded inputs for ``model``: images in [0, 1], proposals inside them, their counts."""
    rng = np.random.default_rng(seed)
    batch, arrays = 2, []
    for tensor in model.inputs:
        shape = (batch, *tensor.shape[1:])
        if tensor.dtype == "int32":
            arrays.append(np.array([5, 3], np.int32))
        elif len(shape) == 3:  # proposals (B, P, 4) xyxy pixels: P is dynamic
            corners = rng.uniform(0, 90, (batch, 5, 2)).astype(np.float32)
            arrays.append(np.concatenate([corners, corners + rng.uniform(8, 38, (batch, 5, 2))], -1)
                          .astype(np.float32))
        else:
            arrays.append(rng.uniform(0, 1, shape).astype(np.float32))
    return arrays


def keras_outputs(model, arrays):
    outputs = model(arrays if len(arrays) > 1 else arrays[0], training=False)
    return [np.asarray(output) for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def assert_close(got, want):
    """Each output within 1e-4 of its scale (the max |value| of the Keras output)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert np.asarray(g).shape == w.shape
        scale = max(float(np.abs(w).max()), 1e-6)
        assert float(np.abs(np.asarray(g, np.float64) - w).max()) <= 1e-4 * scale


@pytest.fixture(scope="module", params=[pytest.param(kind, marks=pytest.mark.slow) if kind in SLOW else kind
                                        for kind in KINDS])
def exported(request, tmp_path_factory):
    """(kind, model, inputs, Keras outputs, ONNX path, OpenVINO IR .xml path)."""
    model = network(request.param)
    folder = tmp_path_factory.mktemp("exported")
    runtimes.save_onnx(model, folder / "model.onnx")
    runtimes.save_openvino(model, folder / "ir")
    arrays = inputs_for(model)
    return request.param, model, arrays, keras_outputs(model, arrays), folder / "model.onnx", folder / "ir"


def test_the_outputs_are_not_trivial(exported):
    kind, _, _, want, _, _ = exported
    assert all(np.isfinite(w).all() for w in want)
    assert max(float(np.abs(w).max()) for w in want) > 0, kind


def test_onnx_file_runs_in_onnx_runtime(exported):
    _, _, arrays, want, onnx_path, _ = exported
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [f"input_{k}" for k in range(len(arrays))]
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), arrays, strict=True)})
    assert_close(got, want)


def test_openvino_ir_runs_in_openvino(exported):
    _, _, arrays, want, _, ir = exported
    assert sorted(path.name for path in ir.iterdir()) == ["model.bin", "model.xml"]
    core = openvino.Core()
    compiled = core.compile_model(core.read_model(ir / "model.xml"), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "f32"})
    results = compiled(arrays)
    assert_close([results[output] for output in compiled.outputs], want)


def test_runtime_networks_stand_in_for_the_model_inside_tf_function(exported):
    kind, model, arrays, want, _, _ = exported
    if kind not in STAND_INS:
        pytest.skip("converted as the others are; see STAND_INS")
    for runtime in ("onnxruntime", "openvino"):
        stand_in = runtimes.runtime_network(model, runtime)
        outputs = tf.function(lambda *xs, net=stand_in: net(list(xs) if len(xs) > 1 else xs[0]))(*arrays)
        got = outputs if isinstance(outputs, list) else [outputs]
        assert_close([np.asarray(g) for g in got], want)


# --- the command line --------------------------------------------------------------------------------

def run_cli(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_detect_runtime_gives_the_default_detections_on_the_sample_scenes(runtime, tmp_path, capsys):
    found = {}
    for name in ("keras", runtime):
        code, _, err = run_cli(["detect", "--runtime", name, "--out", str(tmp_path / name),
                                "--json", str(tmp_path / f"{name}.json")], capsys)
        assert code == 0, err
        found[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert len(found["keras"]) == len(found[runtime]) >= 10
    for want, got in zip(found["keras"], found[runtime], strict=True):
        assert (got["file"], got["class"]) == (want["file"], want["class"])
        assert np.allclose(got["box"], want["box"], atol=1e-3 * 640 + 0.01)  # JSON keeps 2 decimals
        assert abs(got["score"] - want["score"]) < 1e-4


@pytest.mark.parametrize("model", ["ssd-shapes", "faster-rcnn-shapes"])
def test_scene_detectors_under_openvino_give_the_same_detections(model):
    from yad2k_style.detection.synthetic import sample_scenes
    from yad2k_style.zoo import load_scene_detector

    images = [image for _, image in sample_scenes()[:4]]
    want = load_scene_detector(model).detect(images)
    got = load_scene_detector(model, runtime="openvino").detect(images)
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w.classes, g.classes)
        assert np.allclose(w.boxes, g.boxes, atol=1e-3)
        assert np.allclose(w.scores, g.scores, atol=1e-5)


def test_face_runtime_gives_the_same_embeddings():
    from yad2k_style.face.embedder import FaceEmbedder
    from yad2k_style.face.samples import sample_paths

    paths = [path for group in sample_paths().values() for path in group][:6]
    want = FaceEmbedder.load().encode_files(paths)
    for runtime in ("onnxruntime", "openvino"):
        assert np.abs(FaceEmbedder.load(runtime=runtime).encode_files(paths) - want).max() < 1e-5


def maps_of(runtime, scenes, capsys, *extra):
    code, out, err = run_cli(["evaluate", "--runtime", runtime, "--scenes", str(scenes), "--plot", "",
                              *extra], capsys)
    assert code == 0, err
    return [float(line.split()[-1]) for line in out.splitlines() if line.startswith("mAP")]


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_evaluate_runtime_gives_the_same_map(runtime, capsys):
    want = maps_of("keras", 20, capsys)
    got = maps_of(runtime, 20, capsys)
    assert len(want) == 2 and np.allclose(got, want, atol=0.002)


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_evaluate_runtime_gives_the_same_map_on_the_embedded_benchmark(runtime, capsys):
    want = maps_of("keras", 200, capsys)
    assert np.allclose(maps_of(runtime, 200, capsys), want, atol=0.002)


def test_openvino_int8_is_calibrated_and_close(capsys):
    want = maps_of("keras", 20, capsys)
    got = maps_of("openvino", 20, capsys, "--precision", "int8")
    assert abs(got[0] - want[0]) < 0.05


# --- mistakes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["export", "yolov2-shapes", "--format", "onnnx", "T/x.onnx"], "invalid choice: 'onnnx'"),
    (["export", "yolov2-shapes", "--format", "onnx", "T/a.onnx", "T/b.onnx"],
     "export --format onnx writes FILE: give 1 output path, got 2"),
    (["export", "faster-rcnn-shapes", "--format", "tflite", "T/f.tflite"],
     "faster_rcnn_shapes: TFLite has no CombinedNonMaxSuppression (layer proposals); export it as onnx, "
     "openvino or savedmodel"),
    (["export", "ssd-shapes", "--format", "darknet", "T/s.cfg", "T/s.weights"],
     "ssd-shapes: --format darknet writes YOLO models"),
    (["export", "facenet-synthetic", "--format", "onnx", "T/f.onnx", "--calibration", "T"],
     "--calibration goes with --format tflite (int8)"),
    (["detect", "--runtime", "onnxruntime", "--precision", "bf16"],
     "--runtime onnxruntime runs fp32; --precision bf16 runs with --runtime keras or openvino"),
    (["detect", "--runtime", "tensorrt"], "invalid choice: 'tensorrt'"),
])
def test_mistakes_get_one_line_and_leave_nothing(args, message, tmp_path, capsys):
    args = [arg.replace("T/", f"{tmp_path}/").replace("T", str(tmp_path)) if arg.startswith("T") else arg
            for arg in args]
    try:
        code = cli.main(args)
    except SystemExit as exit_info:  # argparse's own mistakes
        code = exit_info.code
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("form, name", [("onnx", "model.onnx"), ("openvino", "ir")])
def test_an_existing_output_is_refused(form, name, tmp_path, capsys):
    out = tmp_path / name
    out.mkdir() if form == "openvino" else out.write_text("keep me")
    code, _, err = run_cli(["export", "yolov2-shapes", "--format", form, str(out)], capsys)
    assert code == 2 and ("already exists" in err or "exists; give --overwrite" in err)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("missing, args", [
    ("onnxruntime", ["detect", "--runtime", "onnxruntime"]),
    ("openvino", ["face", "identify", "--runtime", "openvino"]),
    ("tf2onnx", ["export", "yolov2-shapes", "--format", "onnx", "OUT"]),
])
def test_a_runtime_not_installed_names_the_extra(missing, args, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, missing, None)  # import raises ImportError
    args = [str(tmp_path / "x.onnx") if arg == "OUT" else arg for arg in args]
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err.strip().splitlines()[-1].endswith(
        f"needs {missing}, which is not installed: pip install 'yad2k-style[deploy]'")
    assert list(tmp_path.iterdir()) == []


def test_unknown_runtime_and_precision_in_the_library():
    from yad2k_style.detection.yolo.detector import Detector

    with pytest.raises(YadError, match="unknown runtime 'tvm'"):
        Detector.load(None, runtime="tvm")
    with pytest.raises(YadError, match="int8 precision needs calibration images"):
        Detector.load(None, runtime="openvino", precision="int8")


@pytest.mark.parametrize("model", ["ssd-shapes", "fast-rcnn-shapes", "semantic-shapes", "facenet-synthetic"])
def test_savedmodel_and_tflite_of_the_other_models_give_the_network(model, tmp_path, capsys):
    """``--format savedmodel`` and ``tflite`` for models that are not YOLO: the network, read back by
    TensorFlow and by LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    network = load_network(model)
    arrays = inputs_for(network)
    want = keras_outputs(network, arrays)
    code, out, err = run_cli(["export", model, "--format", "savedmodel", str(tmp_path / "served")], capsys)
    assert code == 0, err
    serve = tf.saved_model.load(str(tmp_path / "served")).signatures["serving_default"]
    got = serve(**{f"input_{k}": tf.constant(a) for k, a in enumerate(arrays)})
    assert_close([got[f"output_{k}"].numpy() for k in range(len(want))], want)
    if model == "fast-rcnn-shapes":  # proposals of a dynamic count: TFLite's batch-1 file is not for it
        return
    code, out, err = run_cli(["export", model, "--format", "tflite", str(tmp_path / "n.tflite")], capsys)
    assert code == 0, err
    interpreter = Interpreter(model_path=str(tmp_path / "n.tflite"))
    interpreter.allocate_tensors()
    (entry,), exits = interpreter.get_input_details(), interpreter.get_output_details()
    for index in range(len(arrays[0])):
        interpreter.set_tensor(entry["index"], arrays[0][index:index + 1])
        interpreter.invoke()
        got = [interpreter.get_tensor(detail["index"])[0] for detail in exits]
        for w in want:  # TFLite orders its outputs its own way (SSD's two have one shape)
            scale = float(np.abs(w[index]).max())
            assert any(g.shape == w[index].shape and np.abs(g - w[index]).max() <= 1e-4 * scale for g in got)
