"""Train the notes' other detectors on the synthetic scenes (issue 20), each resumable:

    python scripts/train_detectors.py ssd --out runs/ssd --epochs 6     # 25,000 fresh scenes an epoch
    python scripts/train_detectors.py faster-rcnn --out runs/faster-rcnn --epochs 6
    python scripts/train_detectors.py rfcn --out runs/rfcn --epochs 6
    python scripts/train_detectors.py fast-rcnn --out runs/fast-rcnn --epochs 8 --scenes-per-epoch 10000
    python scripts/train_detectors.py rcnn --out runs/rcnn --epochs 8 --scenes-per-epoch 10000

For fast-rcnn and rcnn, ``--scenes-per-epoch`` is the set of training scenes whose selective-search
proposals are computed once into ``OUT/proposals/`` (and reused every epoch). Rerunning the same
command continues an unfinished run from its last epoch; a finished run is evaluated again. The
evaluation (500 held-out scenes, pycocotools) is written to ``OUT/evaluation.json``.
"""

import argparse
import json
import time
from pathlib import Path

from yad2k_style.detection.train import Schedule, train_detector
from yad2k_style.detection.zoo import NAMES, parts
from yad2k_style.yolo.evaluate import evaluate_detector


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detector", choices=NAMES)
    parser.add_argument("--out", required=True, help="run directory (created, or resumed)")
    parser.add_argument("--epochs", type=int, default=Schedule.epochs)
    parser.add_argument("--scenes-per-epoch", type=int, default=Schedule.scenes_per_epoch)
    parser.add_argument("--batch-size", type=int, default=Schedule.batch_size)
    parser.add_argument("--learning-rate", type=float, default=Schedule.learning_rate)
    args = parser.parse_args()
    schedule = Schedule(args.epochs, args.scenes_per_epoch, args.batch_size, args.learning_rate)
    detector = parts(args.detector)
    start = time.perf_counter()
    train_detector(detector.network, detector.data(schedule, args.out), detector.loss, args.out, schedule,
                   detector.example)
    trained = time.perf_counter() - start
    run = evaluate_detector(detector.detector)
    figures = {**run.to_json(), "detector": args.detector, "schedule": vars(args),
               "train_seconds_this_call": trained}
    Path(args.out, "evaluation.json").write_text(json.dumps(figures, indent=1) + "\n")
    e = run.evaluation
    print(f"{args.detector}: mAP@0.5 {e.map_50:.3f}, mAP@[.5:.95] {e.map_50_95:.3f} on {run.source}")


if __name__ == "__main__":
    main()
