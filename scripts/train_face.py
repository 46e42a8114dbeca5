"""Train the shipped face model: nn4.small2 with semi-hard triplets on synthetic identities.

    python scripts/train_face.py --out runs/face                 # resumable: rerun to continue
    python scripts/train_face.py --package runs/face             # → weights/face/

The run is the command ``yad2k-style face train --out runs/face`` with the settings below; ``--package``
copies the finished model directory into the package.
"""

import argparse
import shutil
import time
from pathlib import Path

from yad2k_style.tensorflow_logs import import_tensorflow_quietly

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "weights" / "face"


def package(run):
    """Copy a finished run's model directory into ``weights/face/``: its weights re-saved from an
    uncompiled model (no optimizer state: 15 MB of float32), its ``model.json`` as it is."""
    from yad2k_style import artifacts
    from yad2k_style.training import save_weights

    model = artifacts.load_artifact(run).model
    PACKAGE_DIR.mkdir(parents=True, exist_ok=True)
    save_weights(model, PACKAGE_DIR / artifacts.WEIGHTS_FILE)
    shutil.copyfile(run / artifacts.INFO_FILE, PACKAGE_DIR / artifacts.INFO_FILE)
    print(f"packaged {run} into {PACKAGE_DIR}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/face", help="run directory (default runs/face)")
    parser.add_argument("--epochs", type=int, default=12, help="epochs (default 12)")
    parser.add_argument("--steps", type=int, default=500, help="batches per epoch (default 500)")
    parser.add_argument("--package", metavar="RUN_DIR", help="only copy a finished run into weights/face/")
    args = parser.parse_args()  # --help answers here, before TensorFlow is imported
    import_tensorflow_quietly()
    if args.package:
        package(Path(args.package))
        return
    from yad2k_style.face.train import FaceTrainingConfig, train_face

    start = time.time()
    train_face(FaceTrainingConfig(out=args.out, epochs=args.epochs, steps=args.steps, verbose=2))
    print(f"done in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
