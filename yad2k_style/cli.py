"""The ``yad2k-style`` command: argument parsing, one domain call per subcommand.

User errors (:class:`yad2k_style.errors.YadError`, missing files) print one line on stderr and exit
with code 2; no traceback.
"""

import argparse
import os
import shutil
import sys

PROG = "yad2k-style"
SUMMARY_WIDTH = 130  # room for the "Connected to" column


def _summary(args):
    from yad2k_style import summary
    from yad2k_style.yolo import create_model

    model = create_model(args.model)
    width = max(shutil.get_terminal_size().columns, SUMMARY_WIDTH)
    os.environ["COLUMNS"] = str(width)  # rich cuts the table to 80 columns when output is piped
    model.summary(line_length=width)
    total, trainable, non_trainable = summary.parameter_totals(model)
    reference = args.reference
    if reference is None and args.model == "yolov2":
        reference = summary.reference_table_path()
    if reference is None:
        print(f"{args.model}: {len(model.layers)} layers, {total:,} params "
              f"({trainable:,} trainable, {non_trainable:,} non-trainable)")
        return 0
    expected = summary.read_table(reference)
    differences = summary.compare_tables(summary.model_table(model), expected)
    if differences:
        print(f"differs from {reference}: {len(differences)} difference(s)")
        for line in differences:
            print(f"  {line}")
        return 1
    print(f"matches the course table: {len(expected)}/{len(expected)} layers, {total:,} params")
    return 0


def _anchors(args):
    from yad2k_style.yolo.anchors import kmeans_anchors
    from yad2k_style.yolo.labels import read_dataset

    height, width = args.input_size
    dataset = read_dataset(args.dataset)
    wh = dataset.box_sizes() * (width // 32, height // 32)
    clusters = kmeans_anchors(wh, k=args.k, seed=args.seed)
    text = ", ".join(f"{v:.5f}" for v in clusters.anchors.ravel())
    print(f"{len(wh)} boxes, {args.k} anchors (w, h in cells of the {height // 32}×{width // 32} grid), "
          f"mean IoU {clusters.mean_iou:.3f}")
    print(text)
    if args.out:
        from yad2k_style.files import write_text_atomically

        write_text_atomically(args.out, text + "\n")
    return 0


def _train(args):
    from yad2k_style.yolo.train import train_on_dataset

    devices = args.devices.split(",") if args.devices else None
    train_on_dataset(args.dataset, args.out, args.model, args.input_size, args.anchors, args.kmeans,
                     args.weights, args.epochs, args.freeze_body_epochs, args.batch_size,
                     args.learning_rate, args.validation, not args.no_augment, devices, args.rescore)
    print(f"trained model: {args.out}/final.keras (anchors.txt, classes.txt beside it)")
    return 0


def build_parser():
    from yad2k_style.yolo.model import MODELS

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser(
        "summary", help="print a model's Keras summary and check it against a reference layer table")
    summary.add_argument("model", choices=sorted(MODELS), help="registered model name")
    summary.add_argument("--reference", help="TSV layer table to compare with "
                         "(default for yolov2: the course's table shipped in the package)")
    summary.set_defaults(run=_summary)

    anchors = commands.add_parser("anchors", help="k-means anchors (1 - IoU distance) for a dataset")
    anchors.add_argument("dataset", help="COCO .json, or a VOC / YOLO-txt dataset folder")
    anchors.add_argument("-k", type=int, default=5, help="number of anchors (default 5)")
    anchors.add_argument("--input-size", type=int, nargs=2, default=(416, 416), metavar=("H", "W"),
                         help="model input size; anchors are in its 32-pixel grid cells (default 416 416)")
    anchors.add_argument("--seed", type=int, default=0)
    anchors.add_argument("--out", help="also write the anchors to this file")
    anchors.set_defaults(run=_anchors)

    yolo_models = [name for name in sorted(MODELS) if name != "darknet19"]
    train = commands.add_parser("train", help="train a YOLOv2-family model on a labelled dataset")
    train.add_argument("dataset", help="COCO .json, or a VOC / YOLO-txt dataset folder")
    train.add_argument("--out", required=True, help="folder for checkpoints, logs and the trained model")
    train.add_argument("--model", default="yolov2-tiny", choices=yolo_models)
    train.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"),
                       help="multiples of 32 (default: the model's)")
    train.add_argument("--anchors", help="anchors file (default: k-means on the dataset)")
    train.add_argument("--kmeans", type=int, default=5, help="anchors to cluster when no file is given")
    train.add_argument("--weights", help=".weights.h5 to start from (e.g. converted Darknet weights); "
                       "layers of another shape keep their initialisation")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--freeze-body-epochs", type=int, default=0,
                       help="first train only the detector conv on a frozen body for this many epochs")
    train.add_argument("--batch-size", type=int, default=8)
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--validation", help="dataset to validate on after each epoch")
    train.add_argument("--no-augment", action="store_true", help="no flip, scale/translate, colour jitter")
    train.add_argument("--rescore", action="store_true", help="objectness target = IoU with the true box")
    train.add_argument("--devices", help="comma-separated devices for MirroredStrategy "
                       "(default: all GPUs when there are several)")
    train.set_defaults(run=_train)
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from yad2k_style.errors import YadError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (YadError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
