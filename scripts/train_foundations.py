"""Train the foundations' packaged models on generated images and write their weights and held-out
figures into ``weights/foundations/``.

    python scripts/train_foundations.py                          # all three, ~6 minutes on 2 cores
    python scripts/train_foundations.py window-classifier        # one
    python scripts/train_foundations.py --figures                # only redraw docs/ from the packaged weights

Each run starts from a seeded initialisation and takes under three minutes: rerunning one repeats it.
"""

import argparse
import json
import time
from pathlib import Path

from yad2k_style.tensorflow_logs import import_tensorflow_quietly

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "weights" / "foundations"
METRICS = PACKAGE_DIR / "metrics.json"


def figures():
    """``docs/landmarks.png``: the packaged landmark model on held-out triangles."""
    from yad2k_style.foundations import objects
    from yad2k_style.foundations.landmarks import draw_landmarks
    from yad2k_style.foundations.models import load_model
    from yad2k_style.foundations.train import dataset

    images, targets = dataset("landmarks-triangles", objects.EVALUATION_SEED, 64)
    predicted = load_model("landmarks-triangles").predict(images, verbose=0)
    draw_landmarks(images, targets, predicted, ROOT / "docs" / "landmarks.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", action="store_true", help="only redraw the docs/ figures")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="models to train (default: all of localization-shapes, landmarks-triangles, "
                        "window-classifier)")
    args = parser.parse_args()  # --help answers here, before TensorFlow is imported
    import_tensorflow_quietly()
    if args.figures:
        return figures()
    from yad2k_style.files import write_text_atomically
    from yad2k_style.foundations.train import RECIPES, evaluate, train
    from yad2k_style.training import save_weights

    PACKAGE_DIR.mkdir(parents=True, exist_ok=True)
    metrics = json.loads(METRICS.read_text()) if METRICS.exists() else {}
    unknown = set(args.names) - set(RECIPES)
    if unknown:
        parser.error(f"unknown model(s) {', '.join(sorted(unknown))}; choose from {', '.join(RECIPES)}")
    for name in args.names or RECIPES:
        start = time.monotonic()
        model, history = train(name)
        save_weights(model, PACKAGE_DIR / f"{name}.weights.h5")
        minutes = round((time.monotonic() - start) / 60, 1)
        metrics[name] = {**evaluate(name, model), "epochs": len(history["loss"]),
                         "final_loss": history["loss"][-1], "minutes": minutes}
        print(name, json.dumps(metrics[name]))
        write_text_atomically(METRICS, json.dumps(metrics, indent=1) + "\n")
    figures()


if __name__ == "__main__":
    main()
