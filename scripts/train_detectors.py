"""Train the notes' other detectors and the segmenters on the synthetic scenes, each resumable:

    python scripts/train_detectors.py ssd --out runs/ssd --epochs 6     # 25,000 fresh scenes an epoch
    python scripts/train_detectors.py faster-rcnn --out runs/faster-rcnn --epochs 6
    python scripts/train_detectors.py rfcn --out runs/rfcn --epochs 6
    python scripts/train_detectors.py fast-rcnn --out runs/fast-rcnn --epochs 8 --scenes-per-epoch 10000
    python scripts/train_detectors.py rcnn --out runs/rcnn --epochs 8 --scenes-per-epoch 10000
    python scripts/train_detectors.py semantic --out runs/semantic --epochs 6 --scenes-per-epoch 10000
    python scripts/train_detectors.py mask-rcnn --out runs/mask-rcnn --epochs 3 --scenes-per-epoch 10000 \
        --init faster-rcnn-shapes

For fast-rcnn and rcnn, ``--scenes-per-epoch`` is the set of training scenes whose selective-search
proposals are computed once into ``OUT/proposals/`` (and reused every epoch). Rerunning the same
command continues an unfinished run from its last epoch; a finished run is evaluated again. The
evaluation (500 held-out scenes, pycocotools) is written to ``OUT/evaluation.json``. ``--package``
then writes the network into the package, ``weights/detection/NAME/`` (float16 weights; evaluated
again there, its figures and F1-best score threshold in its ``model.json``), what ``detect --model
NAME-shapes`` loads.
"""

import argparse
import json
import shutil
import time
from pathlib import Path

from yad2k_style.tensorflow_logs import import_tensorflow_quietly

import_tensorflow_quietly()  # before the imports below bring TensorFlow in: its start-up lines stay hidden

from yad2k_style import zoo
from yad2k_style.artifacts import update_info
from yad2k_style.detection.evaluate import best_f1, evaluate_detector
from yad2k_style.detection.synthetic import EVALUATION_SCENES, EVALUATION_SEED, scenes
from yad2k_style.detection.train import Schedule, train_detector
from yad2k_style.files import write_text_atomically
from yad2k_style.segmentation.evaluate import evaluate_instances, evaluate_semantic, instance_truth
from yad2k_style.zoo import NAMES, parts

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "weights" / "detection"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("detector", choices=NAMES)
    parser.add_argument("--out", required=True, help="run directory (created, or resumed)")
    parser.add_argument("--epochs", type=int, default=Schedule.epochs)
    parser.add_argument("--scenes-per-epoch", type=int, default=Schedule.scenes_per_epoch)
    parser.add_argument("--batch-size", type=int, default=Schedule.batch_size)
    parser.add_argument("--learning-rate", type=float, default=Schedule.learning_rate)
    parser.add_argument("--init", metavar="MODEL", help="start from the parts this trained detector shares "
                        "with the network (a registered name or a model directory; default: fresh)")
    parser.add_argument("--package", action="store_true", help="write the trained network into weights/")
    args = parser.parse_args()
    schedule = Schedule(args.epochs, args.scenes_per_epoch, args.batch_size, args.learning_rate)
    detector = parts(args.detector)
    if args.init:  # a run under way then resumes its own weights
        detector.network(detector.example)
        print(f"initialised {', '.join(zoo.initialise_from(detector.network, args.init))} from {args.init}")
    start = time.perf_counter()
    train_detector(detector.network, detector.data(schedule, args.out), detector.loss, args.out, schedule,
                   detector.example)
    trained = time.perf_counter() - start
    figures, summary, _ = evaluate(args.detector, detector.detector)
    figures.update(detector=args.detector, schedule=vars(args), train_seconds_this_call=trained)
    write_text_atomically(Path(args.out, "evaluation.json"), json.dumps(figures, indent=1) + "\n")
    print(f"{args.detector}: {summary}")
    if args.package:
        package(args.detector, detector.network, vars(args))


def evaluate(name, runner):
    """Evaluate detector or segmenter ``runner`` of ``name`` on the 500 held-out scenes → ``(figures,
    a line of them, (dataset, detections) for the F1-best threshold or None)``."""
    if name == "semantic":
        result = evaluate_semantic(runner)
        return (result.to_json(), f"mIoU {result.mean_iou:.3f} (classes alone {result.class_mean_iou:.3f}, "
                f"per class {', '.join(f'{k} {v:.3f}' for k, v in result.per_class_iou.items())})", None)
    if name == "mask-rcnn":
        result = evaluate_instances(runner)
        found = [(f.boxes, f.scores, f.classes) for f in result.instances]
        dataset, _ = instance_truth(scenes(EVALUATION_SEED, EVALUATION_SCENES))
        return (result.to_json(), f"mask AP@0.5 {result.masks.map_50:.3f}, mask AP@[.5:.95] "
                f"{result.masks.map_50_95:.3f}, box mAP@0.5 {result.boxes.map_50:.3f}", (dataset, found))
    run = evaluate_detector(runner)
    e = run.evaluation
    return (run.to_json(), f"mAP@0.5 {e.map_50:.3f}, mAP@[.5:.95] {e.map_50_95:.3f} on {run.source}",
            (run.dataset, [(d.boxes, d.scores, d.classes) for d in run.detections]))


def package(name, network, arguments):
    """Write ``network`` into ``weights/detection/NAME`` (replacing it) and record its own evaluation."""
    target = PACKAGE_DIR / name
    PACKAGE_DIR.mkdir(parents=True, exist_ok=True)
    staging = PACKAGE_DIR / f".{name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    command = " ".join(["scripts/train_detectors.py", name] + [
        f"--{key.replace('_', '-')} {value}" for key, value in arguments.items()
        if key not in ("detector", "out", "package") and value is not None])
    zoo.package(name, network, staging, provenance={"trained_by": command})
    figures, summary, found = evaluate(name, zoo.load_scene_detector(staging, score_threshold=0.01))
    provenance = {"trained_by": command, **figures, "evaluated_on": "500 held-out scenes"}
    provenance.pop("confusion", None)
    if found is not None:
        best, _ = best_f1(*found)
        update_info(staging, score_threshold=round(best.threshold, 4),
                    provenance={**provenance, "best_f1": round(best.f1, 4)})
    else:
        update_info(staging, provenance=provenance)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    print(f"packaged {target}: {summary} with float16 weights")


if __name__ == "__main__":
    main()
