"""Benchmark: YOLO inference in this package against OpenCV DNN's Darknet engine, side by side.

Both run the same Darknet cfg + seeded random weights (``cv2.dnn.readNetFromDarknet``, default
settings). Every path is timed in this one process, interleaved, after a warm-up call, as the median of
``--runs`` rounds: YOLOv2-608, yolov2-tiny-416 and YOLOv3-416 (Darknet's ``yolov3.cfg`` at 416, its
three heads' convolutions) latency at batch 1 and throughput at batch 8; then the
full ``detect`` path over a folder of 64 generated JPEGs (decode → resize → network → decode → NMS)
against the network alone, and post-processing alone per image. Each path's peak resident memory is
measured in a child process of its own. ``--layers`` times each 3×3 layer shape of YOLOv2-608 direct
and with Winograd F(2×2), F(4×4), F(6×6) (the measurements behind
:func:`yad2k_style.inference.winograd_tile`).

    .venv/bin/python bench/yolo_inference.py [--runs 7] [--json bench/yolo_inference.json] [--layers]

Prints a table: one line per path, its median in ms and its ratio to OpenCV DNN (``0.93x``); the
package's default path is the line starting with ``default``. Not a test: numbers depend on the
machine. Needs opencv-python-headless (the ``test`` extra). Runs unchanged on a GPU (``--batch 64``).
"""

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_seconds, print_table  # noqa: E402

MODELS = {"yolov2": 608, "yolov2-tiny": 416, "yolov3": 416}
PATHS = ("opencv", "keras model(x)", "tf.function(model)", "folded, direct", "default", "bf16",
         "tflite fp32 (LiteRT)", "int8 (LiteRT)", "onnxruntime fp32", "openvino fp32", "openvino bf16",
         "openvino int8 (NNCF)", "ours: --runtime openvino bf16", "ours: --runtime openvino int8")
#: The other runtimes' own paths (the Keras model converted as their users would, default settings but
#: the precision) and ours through them (``--runtime``: our ONNX export, :mod:`yad2k_style.runtimes`).
RUNTIME_PATHS = {path: path.split()[0] if not path.startswith("ours") else "openvino" for path in PATHS
                 if path.startswith(("onnxruntime", "openvino", "ours"))}
CALIBRATION = 8  # int8 calibration images (seeded uniform noise), the same for LiteRT and NNCF
JPEGS = 64
MB = 1024 * 1024


def darknet_files(name, directory):
    """The packaged ``name``.cfg (YOLOv2's, or one of Darknet's cfg folder set to its :data:`MODELS`
    size) with seeded random weights written into ``directory``."""
    import re

    from yad2k_style.assets import asset_path
    from yad2k_style.darknet import Header, parse_cfg, write_weights
    from yad2k_style.darknet.synthetic import random_convs
    from yad2k_style.darknet.zoo import zoo_cfg

    cfg_path = Path(directory) / f"{name}.cfg"
    if name.startswith("yolov2"):
        text = asset_path(f"{name}.cfg").read_text()
    else:
        text = re.sub(r"(?m)^(width|height)=\d+$", rf"\g<1>={MODELS[name]}", zoo_cfg(name).read_text())
    cfg_path.write_text(text)
    weights_path = Path(directory) / f"{name}.weights"
    if not weights_path.exists():
        write_weights(weights_path, Header(), random_convs(parse_cfg(cfg_path), seed=0))
    return cfg_path, weights_path


def make_path(path, cfg_path, weights_path, batch):
    """A zero-argument function that runs ``path`` once on a seeded batch (results fetched to NumPy)."""
    import tensorflow as tf

    from yad2k_style.darknet import darknet_to_keras, parse_cfg, read_weights
    from yad2k_style.inference import InferenceNetwork
    from yad2k_style.quantize import LiteRTNetwork, tflite_bytes

    cfg = parse_cfg(cfg_path)
    x = np.random.default_rng(0).uniform(0, 1, (batch, *cfg.net.input_shape)).astype(np.float32)
    if path == "opencv":
        import cv2

        from yad2k_style.netspec import HEADS

        net = cv2.dnn.readNetFromDarknet(str(cfg_path), str(weights_path))
        blob = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        names = [f"conv_{i - 1}" for i, spec in enumerate(cfg.layers) if isinstance(spec, HEADS)]

        def run():  # up to the convolutions feeding the heads, as the other paths (the heads decode)
            net.setInput(blob)
            outputs = [output.transpose(0, 2, 3, 1) for output in net.forward(names)]
            return outputs if len(outputs) > 1 else outputs[0]

        return run
    model = darknet_to_keras(cfg, read_weights(weights_path, cfg))
    calibration = np.random.default_rng(1).uniform(0, 1, (CALIBRATION, *cfg.net.input_shape))
    calibration = calibration.astype(np.float32)
    if path in RUNTIME_PATHS:
        return runtime_path(path, model, x, calibration)
    if "LiteRT" in path:
        shapes = [tuple(output.shape[1:]) for output in model.outputs]
        network = LiteRTNetwork(tflite_bytes(model, calibration if path.startswith("int8") else None), shapes)
        return lambda: network.run(x)
    network = {
        "keras model(x)": functools.partial(model, training=False),
        "tf.function(model)": tf.function(functools.partial(model, training=False)),
        "folded, direct": InferenceNetwork(model, winograd=False),
        "default": InferenceNetwork(model),
        "bf16": InferenceNetwork(model, precision="bf16"),
    }[path]
    x = tf.constant(x)
    return lambda: tf.nest.map_structure(np.asarray, network(x))


def runtime_path(path, model, x, calibration):
    """A zero-argument function running ``model`` on ``x`` by one of :data:`RUNTIME_PATHS`."""
    from yad2k_style import runtimes

    if path.startswith("ours"):
        precision = path.split()[-1]
        network = runtimes.OpenVinoNetwork(model, precision, calibration if precision == "int8" else None)
        return lambda: network.run(x)
    if path == "onnxruntime fp32":
        network = runtimes.OnnxRuntimeNetwork(model)
        return lambda: network.run(x)
    import openvino

    converted = openvino.convert_model(model, example_input=x)   # OpenVINO's own TensorFlow front end
    if path.endswith("(NNCF)"):
        converted = runtimes.quantize_openvino(converted, calibration)
    precision = {"openvino fp32": "f32", "openvino bf16": "bf16"}.get(path)
    compiled = openvino.Core().compile_model(converted, "CPU", {"INFERENCE_PRECISION_HINT": precision}
                                             if precision else {})
    request = compiled.create_infer_request()
    return lambda: [np.array(output) for output in request.infer([x]).values()]


def available_paths():
    """:data:`PATHS` that this machine can run (bf16 needs AVX512-BF16, AMX or a GPU; the runtimes the
    ``deploy`` extra), and why each other one cannot."""
    import importlib.util

    from yad2k_style.inference import bf16_unsupported

    skipped = {}
    for path, module in RUNTIME_PATHS.items():
        needs = ["tf2onnx", module] + (["nncf"] if "int8" in path else [])
        missing = [name for name in needs if importlib.util.find_spec(name) is None]
        if missing:
            skipped[path] = f"skipped: not installed ({', '.join(missing)})"
        elif "bf16" in path and not openvino_bf16():
            skipped[path] = "skipped: OpenVINO lists no BF16 capability on this CPU"
    if bf16_unsupported():
        skipped["bf16"] = f"skipped: {bf16_unsupported()}"
    return [path for path in PATHS if path not in skipped], skipped


def openvino_bf16():
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def latency_table(name, runs, batch, only=None):
    """Median ms per call of every available path (batch ``batch``; of ``only`` when given, with OpenCV's
    and the plain model's), interleaved; and each path's max |output − plain model's output| / max |plain
    model's output| (OpenCV's transposed to NHWC)."""
    paths, _ = available_paths()
    if only:
        paths = [path for path in paths if path in only or path in ("opencv", "tf.function(model)")]
    with tempfile.TemporaryDirectory() as directory:
        files = darknet_files(name, directory)
        functions = [make_path(path, *files, batch) for path in paths]
        outputs = [function() for function in functions]
        outputs = [output if isinstance(output, list) else [output] for output in outputs]
        plain = outputs[paths.index("tf.function(model)")]
        errors = {path: max(float(np.abs(got - want).max() / np.abs(want).max())
                            for got, want in zip(output, plain, strict=True))
                  for path, output in zip(paths, outputs, strict=True)}
        seconds = median_seconds(functions, runs)
    return {path: 1000 * s for path, s in zip(paths, seconds, strict=True)}, errors


def detect_throughput(runs):
    """Images per second of ``Detector.detect_files`` over 64 generated JPEGs, of the network alone at
    the same batch (8), and post-processing's ms per image; YOLOv2-608."""
    import tensorflow as tf
    from PIL import Image

    from yad2k_style.darknet import darknet_to_keras, parse_cfg, read_weights
    from yad2k_style.yolo import Detector

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as directory:
        cfg_path, weights_path = darknet_files("yolov2", directory)
        cfg = parse_cfg(cfg_path)
        model = darknet_to_keras(cfg, read_weights(weights_path, cfg))
        detector = Detector(model, np.ones((5, 2)), [str(i) for i in range(80)])
        paths = []
        for index in range(JPEGS):
            height, width = rng.integers(360, 720), rng.integers(480, 1280)
            path = Path(directory) / f"image_{index:02d}.jpg"
            Image.fromarray(rng.integers(0, 256, (height, width, 3), np.uint8)).save(path, quality=90)
            paths.append(path)
        images = tf.constant(rng.integers(0, 256, (8, 608, 608, 3), np.uint8))
        sizes = tf.constant([[608, 608]] * 8, tf.int32)
        features = detector.network(detector.model_inputs(images, sizes))

        def network_only():
            return detector.network(detector.model_inputs(images, sizes)).numpy()

        whole, network, post = median_seconds([
            lambda: list(detector.detect_files(paths, batch_size=8)),
            lambda: [network_only() for _ in range(JPEGS // 8)],
            lambda: [t.numpy() for t in detector.postprocess(features, sizes)],
        ], runs)
    return {"detect images/s": JPEGS / whole, "network images/s": JPEGS / network,
            "postprocess ms/image": 1000 * post / 8, "network ms/image": 1000 * network / JPEGS}


def embedded_maps(scenes):
    """mAP@0.5 and mAP@[.5:.95] of the embedded detector on ``scenes`` held-out scenes (``evaluate``'s
    settings) at each precision and runtime this machine has; int8 calibrated on 32 training scenes."""
    from yad2k_style.detection.evaluate import evaluate_detector
    from yad2k_style.detection.synthetic import EVALUATION_SEED, TRAIN_SEED
    from yad2k_style.detection.synthetic import scenes as drawn_scenes
    from yad2k_style.quantize import CALIBRATION_IMAGES
    from yad2k_style.yolo import Detector

    calibration = [scene.image for scene in drawn_scenes(TRAIN_SEED, CALIBRATION_IMAGES)]
    paths, _ = available_paths()
    combinations = [("keras", "fp32"), ("keras", "bf16"), ("keras", "int8"), ("onnxruntime", "fp32"),
                    ("openvino", "fp32"), ("openvino", "bf16"), ("openvino", "int8")]
    wanted = {("keras", "bf16"): "bf16", ("onnxruntime", "fp32"): "onnxruntime fp32",
              ("openvino", "fp32"): "openvino fp32", ("openvino", "bf16"): "ours: --runtime openvino bf16",
              ("openvino", "int8"): "ours: --runtime openvino int8"}
    maps = {}
    for runtime, precision in combinations:
        if wanted.get((runtime, precision), "default") not in [*paths, "default"]:
            continue
        detector = Detector.load(None, score_threshold=0.005, max_boxes=100, runtime=runtime,
                                 precision=precision,
                                 calibration=calibration if precision == "int8" else None)
        evaluation = evaluate_detector(detector, None, scenes=scenes, seed=EVALUATION_SEED).evaluation
        maps[f"{runtime} {precision}"] = {"mAP@0.5": evaluation.map_50, "mAP@[.5:.95]": evaluation.map_50_95}
    return maps


def layer_table(runs):
    """Per 3×3 layer shape of YOLOv2-608 (batch 1): ms of the direct convolution and of Winograd
    F(2), F(4), F(6), each with bias and leaky ReLU (:class:`~yad2k_style.inference.ConvStep`);
    ratios to direct."""
    import tensorflow as tf

    from yad2k_style.inference import ConvStep

    shapes = [(304, 32, 64), (152, 64, 128), (76, 128, 256), (38, 256, 512), (19, 512, 1024),
              (19, 1024, 1024), (19, 1280, 1024)]
    rng = np.random.default_rng(0)
    rows = []
    for size, c_in, c_out in shapes:
        x = tf.constant(rng.uniform(0, 1, (1, size, size, c_in)).astype(np.float32))
        kernel = rng.normal(0, 0.05, (3, 3, c_in, c_out)).astype(np.float32)
        steps = [ConvStep(kernel, np.zeros(c_out), 0.1, tile, (size, size)) for tile in (None, 2, 4, 6)]
        seconds = median_seconds([functools.partial(run_step, tf.function(step), x) for step in steps], runs)
        gflop = 2 * size * size * 9 * c_in * c_out / 1e9
        rows.append({"layer": f"{size}x{size} {c_in}->{c_out}", "gflop": gflop,
                     "direct ms": 1000 * seconds[0],
                     **{f"F({m}) x": seconds[i + 1] / seconds[0] for i, m in enumerate((2, 4, 6))}})
    return rows


def run_step(step, x):
    return step(x).numpy()


def peak_memory(name, path, batch):
    """Peak resident MB of a child process that builds and runs ``path`` once; and of one that only
    imports and writes the files (the baseline)."""
    command = [sys.executable, __file__, "--child", name, path, str(batch)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])["peak_mb"]


def child(name, path, batch):
    """In a child process: import, write the files, build ``path`` and run it once (unless ``path`` is
    ``baseline``); print the process's peak resident MB as JSON."""
    import tensorflow as tf  # noqa: F401  (the imports belong to every path's baseline)

    with tempfile.TemporaryDirectory() as directory:
        files = darknet_files(name, directory)
        if path != "baseline":
            make_path(path, *files, batch)()
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"peak_mb": peak_kb / 1024}))


def machine():
    """CPU model, the vector flags that matter here, core count; the GPU if TensorFlow sees one."""
    import tensorflow as tf

    model, flags = platform.processor(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16")
    return {"cpu": model or platform.machine(), "flags": [f for f in wanted if f in flags],
            "cores": os.cpu_count(), "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
            "tensorflow": tf.__version__}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed rounds per path (default 7)")
    parser.add_argument("--batch", type=int, default=8, help="the throughput batch (default 8)")
    parser.add_argument("--json", default=str(Path(__file__).with_suffix(".json")), help="results file")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="default: both")
    parser.add_argument("--paths", nargs="+", choices=PATHS, metavar="PATH",
                        help="only these paths, with opencv and tf.function(model) (default: all; all of "
                        "them at batch 8 on YOLOv2-608 need more than 24 GB in one process)")
    parser.add_argument("--layers", action="store_true", help="also time each 3x3 layer shape")
    parser.add_argument("--only-layers", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-memory", action="store_true", help="skip the child-process memory peaks")
    parser.add_argument("--no-detect", action="store_true", help="skip the detect-path throughput")
    parser.add_argument("--maps", type=int, default=0, metavar="SCENES",
                        help="also the embedded detector's mAP at each precision and runtime on this many "
                        "held-out scenes (default 0: skipped)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    if args.runs < 1 or args.batch < 1:
        parser.error("--runs and --batch must be at least 1")
    results = {"machine": machine(), "runs": args.runs, "models": {}}
    print(f"machine: {json.dumps(results['machine'])}; medians of {args.runs} interleaved rounds")
    if args.only_layers:
        args.models, args.no_memory, args.layers, args.no_detect = [], True, True, True
    _, skipped = available_paths()
    for path, why in skipped.items():
        print(f"{path}: {why}")
    results["skipped"] = skipped
    for name in args.models:
        entry = results["models"][name] = {}
        for batch in sorted({1, args.batch}):
            start = time.perf_counter()
            times, errors = latency_table(name, args.runs, batch, args.paths)
            entry[f"batch {batch}"] = {"ms": times, "max relative error": errors}
            order = sorted(times, key=lambda p: p != "default")
            spent = time.perf_counter() - start
            print_table(f"{name} {MODELS[name]}x{MODELS[name]}, batch {batch} ({spent:.0f} s; per s: images; "
                        f"error = max |output - plain's| / max |output|)",
                        {path: times[path] / 1e3 for path in order}, "opencv", items=batch,
                        extra={"error": {path: f"{errors[path]:.1e}" for path in order}})
    if not args.no_detect:
        detect = results["detect"] = detect_throughput(max(1, args.runs // 2))
        print(f"\ndetect over {JPEGS} JPEGs (yolov2 608, batch 8): {detect['detect images/s']:.2f} images/s, "
              f"network alone {detect['network images/s']:.2f} images/s "
              f"({detect['detect images/s'] / detect['network images/s']:.2f}x); post-processing "
              f"{detect['postprocess ms/image']:.2f} ms/image = "
              f"{100 * detect['postprocess ms/image'] / detect['network ms/image']:.1f}% of the network's")
    if args.maps:
        maps = results["embedded detector mAP"] = embedded_maps(args.maps)
        print(f"\nthe embedded detector on {args.maps} held-out scenes (evaluate's settings)")
        for path, value in maps.items():
            print(f"  {path:<20} mAP@0.5 {value['mAP@0.5']:.4f}   mAP@[.5:.95] {value['mAP@[.5:.95]']:.4f}")
    if not args.no_memory:
        memory = results["peak memory MB"] = {}
        print("\npeak resident memory, each in a child process (batch 1; baseline: imports + files)")
        for name in args.models:
            for path in ["baseline", *available_paths()[0]]:
                memory[f"{name} {path}"] = peak = peak_memory(name, path, 1)
                print(f"  {name:<12}{path:<22}{peak:>8.0f} MB")
    if args.layers:
        results["layers"] = layer_table(args.runs)
        print("\n3x3 layers of yolov2-608, batch 1: Winograd time / direct time")
        for row in results["layers"]:
            ratios = "  ".join(f"F({m}) {row[f'F({m}) x']:.2f}x" for m in (2, 4, 6))
            print(f"  {row['layer']:<22}{row['gflop']:>6.2f} GFLOP {row['direct ms']:>8.1f} ms   {ratios}")
    Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
