"""Every detector of the notes on the same held-out scenes: accuracy, speed, and where the time goes.

YOLOv2 (the embedded detector), SSD, Faster R-CNN, R-FCN, Fast R-CNN and R-CNN: the packaged weights,
else those of a run of ``scripts/train_detectors.py`` (its directory under ``--runs``):

- mAP@0.5 and mAP@[.5:.95] on ``--scenes`` held-out scenes (pycocotools, ``evaluate_detector``);
- time per image at batch 1, the median over ``--images`` scenes, split into proposals (selective
  search, for R-CNN and Fast R-CNN), the network, and post-processing (decoding, NMS); images/s;
- the notes' claims ("YOLO is 1000× faster than R-CNN and 100× faster than Fast R-CNN") beside the
  ratios measured here.

Prints one table, writes a plot of speed against mAP (``--plot``) and the numbers (``--json``).

    .venv/bin/python bench/detectors.py [--runs runs] [--scenes 500] [--images 50]
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from timing import print_table

from yad2k_style import registry
from yad2k_style.detection.evaluate import evaluate_detector
from yad2k_style.detection.synthetic import EVALUATION_SEED, scenes
from yad2k_style.detection.train import WEIGHTS_FILE
from yad2k_style.detection.yolo.detector import Detector
from yad2k_style.plotting import label_points, save_figure, subplots
from yad2k_style.training import load_weights_by_layer_name
from yad2k_style.zoo import REGISTRY_NAMES, load_scene_detector, parts, scene_detector

NOTES_CLAIMS = {"R-CNN": 1000.0, "Fast R-CNN": 100.0}
NAMES = {"yolo": "YOLOv2", "ssd": "SSD", "faster-rcnn": "Faster R-CNN", "rfcn": "R-FCN",
         "fast-rcnn": "Fast R-CNN", "rcnn": "R-CNN"}


def yolo_stages():
    """The embedded YOLOv2's detector and its stages for one uint8 image: (proposals, network, post)."""
    detector = Detector.load(score_threshold=0.01, max_boxes=100)  # decoding for mAP, as the others

    def stages(image):
        size = np.array([[image.shape[0], image.shape[1]]], np.int32)
        inputs = detector.model_inputs(image[None], size)
        return None, lambda: detector.network(inputs), lambda features: detector.postprocess(features, size)

    return detector, stages


def trained_detector(name, runs):
    """Detector ``name`` of this domain, deciding for mAP: its packaged weights, else its run directory's
    under ``runs``; None when it has neither."""
    registered = REGISTRY_NAMES[name]
    if registry.get(registered).weights is not None:
        return load_scene_detector(registered, score_threshold=0.01)
    weights = Path(runs) / name / WEIGHTS_FILE
    if not weights.exists():
        return None
    network = parts(name).network
    load_weights_by_layer_name(network, weights)
    return scene_detector(name, network)


def region_stages(detector):
    """The stages of a :class:`~yad2k_style.detection.detector.SceneDetector` for one uint8 image."""
    run_network = tf.function(lambda inputs: detector.network(inputs, training=False))
    decode = tf.function(lambda outputs: detector.decode(*outputs))

    def stages(image):
        if detector.propose is None:
            inputs = detector.inputs(image[None])
            return None, lambda: run_network(inputs), decode
        holder = {}

        def propose():
            holder["inputs"] = detector.inputs(image[None])

        return propose, lambda: run_network(holder["inputs"]), decode

    return stages


def time_stages(stages, images, warmup=2):
    """Median seconds per image of (proposals, network, post-processing) over ``images``."""
    times = {"proposals": [], "network": [], "post-processing": []}
    for k, image in enumerate(images):
        propose, network, post = stages(image)
        start = time.perf_counter()
        if propose is not None:
            propose()
        proposed = time.perf_counter()
        outputs = network()
        tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, outputs)
        ran = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, post(outputs))
        done = time.perf_counter()
        if k >= warmup:
            times["proposals"].append(proposed - start)
            times["network"].append(ran - proposed)
            times["post-processing"].append(done - ran)
    return {stage: statistics.median(values) for stage, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="the run directories of scripts/train_detectors.py")
    parser.add_argument("--scenes", type=int, default=500, help="held-out scenes for mAP (default 500)")
    parser.add_argument("--images", type=int, default=50, help="scenes timed at batch 1 (default 50)")
    parser.add_argument("--plot", default="docs/detectors.png", help="speed against mAP (PNG; '' for none)")
    parser.add_argument("--json", default="bench/detectors.json", help="the numbers ('' for none)")
    parser.add_argument("--replot", metavar="JSON",
                        help="only draw --plot from the numbers of an earlier run (its --json)")
    args = parser.parse_args()
    if args.replot:
        plot(json.loads(Path(args.replot).read_text()), args.plot)
        print(f"written: {args.plot}")
        return
    images = [np.asarray(s.image) for s in scenes(EVALUATION_SEED, args.images)]
    results = {}
    for name in NAMES:
        if name == "yolo":
            detector, stages = yolo_stages()
        else:
            detector = trained_detector(name, args.runs)
            if detector is None:
                print(f"{NAMES[name]}: neither packaged nor trained in {Path(args.runs) / name}; skipped")
                continue
            stages = region_stages(detector)
        evaluation = evaluate_detector(detector, scenes=args.scenes).evaluation
        split = time_stages(stages, images)
        results[NAMES[name]] = {"map_50": evaluation.map_50, "map_50_95": evaluation.map_50_95, **split,
                                "total": sum(split.values())}
        print(f"{NAMES[name]}: mAP@0.5 {evaluation.map_50:.3f}, {sum(split.values()) * 1e3:.1f} ms per image",
              flush=True)
    seconds = {name: r["total"] for name, r in results.items()}
    extra = {"mAP@.5": {n: f"{r['map_50']:.3f}" for n, r in results.items()},
             "mAP@.5:.95": {n: f"{r['map_50_95']:.3f}" for n, r in results.items()},
             "proposals": {n: f"{r['proposals'] * 1e3:.1f}" for n, r in results.items()},
             "network": {n: f"{r['network'] * 1e3:.1f}" for n, r in results.items()},
             "post": {n: f"{r['post-processing'] * 1e3:.1f}" for n, r in results.items()}}
    print_table(f"{args.scenes} held-out scenes, batch 1 (per s: images; proposals / network / post in ms)",
                seconds, "YOLOv2", items=1, extra=extra)
    for other, claim in NOTES_CLAIMS.items():
        if other in results and "YOLOv2" in results:
            measured = results[other]["total"] / results["YOLOv2"]["total"]
            results[other][f"YOLO speed-up (notes: {claim:.0f}x)"] = measured
            print(f"  YOLOv2 vs {other}: {measured:.1f}x faster here; the notes claim {claim:.0f}x")
    if args.plot:
        plot(results, args.plot)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten: {', '.join(path for path in (args.plot, args.json) if path) or 'nothing'}")


def plot(results, path):
    """Images per second (log) against mAP@0.5, one labelled point per detector."""
    figure, axis = subplots(figsize=(6, 4))
    speeds = [1 / r["total"] for r in results.values()]
    maps = [r["map_50"] for r in results.values()]
    for speed, map_50 in zip(speeds, maps, strict=True):
        axis.scatter(speed, map_50, s=40)
    axis.set_xscale("log")
    axis.set_xlabel("images per second, batch 1, 2 CPU cores (log)")
    axis.set_ylabel("mAP@0.5, held-out scenes")
    axis.grid(True, alpha=0.3)
    axis.margins(x=0.15, y=0.15)
    label_points(axis, speeds, maps, list(results))
    save_figure(figure, path)


if __name__ == "__main__":
    main()
