"""The ``yad2k-style`` command: argument parsing, one domain call per subcommand.

User errors (:class:`yad2k_style.errors.YadError`, missing files) print one line on stderr and exit
with code 2; no traceback.
"""

import argparse
import json
import os
import shutil
import sys
import warnings
from pathlib import Path

from yad2k_style.errors import FormatError, YadError

PROG = "yad2k-style"
SUMMARY_WIDTH = 130  # room for the "Connected to" column
PROGRESS_AFTER = 3  # `detect` shows a progress bar for more images than this
CLEAR_LINE = "\r\x1b[2K"  # erases the progress bar so that a line can be printed above it
DEFAULT_SAMPLE_OUT = "detections"  # where `detect` without paths writes the annotated sample scenes


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


def _detect(args):
    from keras.utils import Progbar

    from yad2k_style.boxes import draw_boxes
    from yad2k_style.files import atomic_write
    from yad2k_style.images import list_images, save_image
    from yad2k_style.yolo.embedded import sample_scenes

    _check_detect_options(args)
    samples = None if args.paths else sample_scenes()
    paths = list_images(args.paths) if args.paths else [Path(name) for name, _ in samples]
    out_dir = args.out or (None if args.paths else DEFAULT_SAMPLE_OUT)
    out_paths = _annotated_paths(paths, Path(out_dir)) if out_dir else None
    if args.json and not Path(args.json).parent.is_dir():
        raise YadError(f"{args.json}: directory {Path(args.json).parent} does not exist")
    detector = _detector(args)
    class_names = detector.class_names
    if samples is None:
        results = detector.detect_files(paths, args.batch_size, keep_images=out_paths is not None)
    else:
        images = [image for _, image in samples]
        results = zip(paths, detector.detect(images, args.batch_size), images, strict=True)
    bar = Progbar(len(paths), interval=0, unit_name="image") if len(paths) > PROGRESS_AFTER else None
    records, failures = [], 0
    for done, (path, result, image) in enumerate(results, start=1):
        if bar is not None:
            sys.stdout.write(CLEAR_LINE)
        if isinstance(result, FormatError):
            sys.stdout.flush()
            print(f"{PROG}: error: {result}", file=sys.stderr)
            failures += 1
        else:
            print(f"Found {len(result.boxes)} boxes for {path}")
            records.extend({"file": str(path), "class": class_names[int(c)], "score": round(float(s), 6),
                            "box": [round(float(v), 2) for v in box]}
                           for box, s, c in zip(result.boxes, result.scores, result.classes, strict=True))
            if out_paths is not None:
                corners = result.boxes[:, [1, 0, 3, 2]]  # → the course's (y_min, x_min, y_max, x_max)
                draw_boxes(image, corners, result.classes, class_names, result.scores)
                save_image(image, out_paths[done - 1])
        if bar is not None:
            bar.update(done)
    if args.json:
        with atomic_write(args.json, "w", encoding="utf-8") as file:
            json.dump(records, file, indent=1)
            file.write("\n")
    if out_paths is not None:
        print(f"annotated images in {out_dir}/")
    return 2 if failures else 0


def _evaluate(args):
    from yad2k_style.files import write_text_atomically
    from yad2k_style.yolo.evaluate import coco_evaluate, plot_precision_recall

    _check_detect_options(args)
    detector = _detector(args)
    if args.dataset:
        dataset, detections = _detect_dataset(detector, args.dataset, args.batch_size)
        source = args.dataset
    else:
        from yad2k_style.yolo.embedded import evaluation_set

        dataset, images = evaluation_set(args.scenes, args.seed)
        detections = detector.detect(images, args.batch_size)
        source = f"{args.scenes} held-out scenes (seed {args.seed})"
    evaluation = coco_evaluate(dataset, [(d.boxes, d.scores, d.classes) for d in detections])
    objects = sum(len(sample.classes) for sample in dataset.samples)
    print(f"{source}: {objects} objects, {sum(len(d.boxes) for d in detections)} detections")
    print(f"mAP@0.5      {evaluation.map_50:.3f}")
    print(f"mAP@[.5:.95] {evaluation.map_50_95:.3f}")
    for name in dataset.class_names:
        print(f"  {name:<16} AP@0.5 {evaluation.per_class_ap50[name]:.3f}   "
              f"AP@[.5:.95] {evaluation.per_class_ap[name]:.3f}")
    if args.plot:
        plot_precision_recall(evaluation, args.plot)
        print(f"precision-recall curves: {args.plot}")
    if args.json:
        write_text_atomically(args.json, json.dumps({
            "source": str(source), "map_50": evaluation.map_50, "map_50_95": evaluation.map_50_95,
            "per_class_ap50": evaluation.per_class_ap50, "per_class_ap": evaluation.per_class_ap}, indent=1))
    return 0


def _detect_dataset(detector, path, batch_size):
    """``(LabelledDataset, [Detections])`` for a labelled dataset whose classes are the detector's."""
    from yad2k_style.yolo.labels import read_dataset

    dataset = read_dataset(path)
    if dataset.class_names != detector.class_names:
        raise YadError(f"{path}: classes {dataset.class_names} are not the model's {detector.class_names}")
    detections = []
    for _, result, _ in detector.detect_files([s.image_path for s in dataset.samples], batch_size):
        if isinstance(result, FormatError):
            raise result
        detections.append(result)
    return dataset, detections


def _check_detect_options(args):
    for option, value in (("--score-threshold", args.score_threshold),
                          ("--iou-threshold", args.iou_threshold)):
        if not 0 <= value <= 1:
            raise YadError(f"{option} must be between 0 and 1, got {value}")
    for option, value in (("--max-boxes", args.max_boxes), ("--batch-size", args.batch_size)):
        if value < 1:
            raise YadError(f"{option} must be at least 1, got {value}")


def _annotated_paths(paths, out_dir):
    """Where ``detect --out`` writes each annotated copy: same file name in ``out_dir`` (created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    targets, seen = [], {}
    for path in paths:
        target = out_dir / path.name
        if target.name in seen:
            raise YadError(f"{path} and {seen[target.name]} would both be written to {target}")
        if target.resolve() == path.resolve():
            raise YadError(f"--out {out_dir} would overwrite the input {path}")
        seen[target.name] = path
        targets.append(target)
    return targets


def _detector(args):
    """The detector that ``detect`` and ``evaluate`` run: ``--model FILE.keras`` or a converted-model
    directory, ``--cfg`` + ``--weights`` (Darknet), or else the embedded shapes detector.
    ``--classes`` and ``--anchors`` replace what the source says (a ``.keras`` file says nothing: the
    packaged COCO classes and the course's anchors)."""
    from yad2k_style import assets
    from yad2k_style.yolo.detector import Detector

    settings = dict(letterbox=args.letterbox, per_class_nms=not args.class_agnostic,
                    score_threshold=args.score_threshold, iou_threshold=args.iou_threshold,
                    max_boxes=args.max_boxes)
    anchors = assets.read_anchors(args.anchors) if args.anchors else None
    class_names = assets.read_classes(args.classes) if args.classes else None
    if args.model and (args.cfg or args.weights):
        raise YadError("give either --model or --cfg with --weights, not both")
    if args.model and not Path(args.model).is_dir():
        return Detector.from_keras(args.model, anchors, class_names, **settings)
    converted, source = _converted_model(args)
    if anchors is None and converted.anchors is None:
        raise YadError(f"{source}: no [region] anchors; give --anchors FILE")
    try:
        return Detector(converted.model, converted.anchors if anchors is None else anchors,
                        class_names or converted.class_names, **settings)
    except YadError as exc:
        raise YadError(f"{source}: {exc}") from None


def _converted_model(args):
    """``(ConvertedModel, source name)`` from a converted directory, Darknet files or the package."""
    from yad2k_style import darknet
    from yad2k_style.yolo.embedded import load_embedded

    if (args.cfg is None) != (args.weights is None):
        raise YadError("--cfg and --weights go together")
    if args.model:
        return darknet.load(args.model), args.model
    if args.cfg:
        return darknet.read_darknet(args.cfg, args.weights, args.classes), args.weights
    return load_embedded(), "the embedded shapes detector"


def _convert(args):
    from yad2k_style.darknet import convert

    converted = convert(args.cfg, args.weights, args.out, args.classes, args.reorg, args.allow_extra,
                        progress=True)
    info, model = converted.info, converted.model
    print(f"Read {info['floats_read']:,} of {info['floats_in_file']:,} floats "
          f"from {info['source']['weights']}")
    print(f"Wrote {args.out}: model {model.name!r}, {len(model.layers)} layers, "
          f"{model.count_params():,} params, output {model.output_shape[1:]}")
    return 0


def _export(args):
    from yad2k_style.darknet import export_darknet, load

    export_darknet(load(args.model), args.cfg, args.weights)
    print(f"Wrote {args.cfg} and {args.weights}")
    return 0


def build_parser():
    from yad2k_style.yolo.embedded import EVALUATION_SEED
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
    train.add_argument("--weights", help=".weights.h5 or a directory written by convert (Darknet weights) "
                       "to start from; layers of another shape keep their initialisation")
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

    detect = commands.add_parser(
        "detect", help="detect objects in images; print \"Found N boxes for FILE\" per image",
        description="Run YOLOv2 on image files and directories (their .jpg .jpeg .png .bmp .gif .webp "
                    "files, not recursing). Unreadable images are reported and skipped; exit code 2. "
                    "Without paths: the embedded sample scenes, annotated into detections/.")
    detect.add_argument("paths", nargs="*", metavar="PATH",
                        help="image file or directory (default: a few embedded sample scenes)")
    _add_detector_options(detect, score_threshold=0.6, max_boxes=10)
    detect.add_argument("--out", metavar="DIR", help="write annotated copies here, same file names "
                        f"(default without paths: {DEFAULT_SAMPLE_OUT})")
    detect.add_argument("--json", metavar="FILE", help="write all detections as JSON: file, class, score, "
                        "box [x_min, y_min, x_max, y_max] in pixels")
    detect.set_defaults(run=_detect)

    evaluate = commands.add_parser(
        "evaluate", help="COCO mAP@0.5, mAP@[.5:.95] and per-class AP (pycocotools) of a detector",
        description="Evaluate a detector on a labelled dataset, or (the default) the embedded shapes "
                    "detector on freshly generated held-out scenes.")
    evaluate.add_argument("dataset", nargs="?", help="COCO .json, or a VOC / YOLO-txt dataset folder "
                          "(default: synthetic held-out scenes)")
    evaluate.add_argument("--scenes", type=int, default=500, help="held-out scenes to generate (default 500)")
    evaluate.add_argument("--seed", type=int, default=EVALUATION_SEED,
                          help=f"their stream; training never uses it (default {EVALUATION_SEED})")
    _add_detector_options(evaluate, score_threshold=0.005, max_boxes=100)
    evaluate.add_argument("--plot", metavar="FILE.png", default="precision_recall.png",
                          help="precision-recall curves at IoU 0.5 "
                          "(default precision_recall.png; '' for none)")
    evaluate.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    evaluate.set_defaults(run=_evaluate)

    convert = commands.add_parser(
        "convert", help="convert a Darknet cfg + weights into a Keras model directory")
    convert.add_argument("cfg", help="Darknet .cfg file")
    convert.add_argument("weights", help="Darknet .weights file")
    convert.add_argument("out", help="output directory to create (model.weights.h5, model.cfg, model.json)")
    convert.add_argument("--classes", help="class names, one per line (default: COCO's for 80 classes, "
                         "VOC's for 20)")
    convert.add_argument("--reorg", choices=("darknet", "space_to_depth"),
                         help="order for every reorg layer: darknet (Darknet's own, the default for [reorg]) "
                         "or space_to_depth (the course's/YAD2K's model)")
    convert.add_argument("--allow-extra", action="store_true",
                         help="accept floats left over at the end of the weights file (with a warning)")
    convert.set_defaults(run=_convert)

    export = commands.add_parser("export", help="write a converted model as Darknet cfg + weights")
    export.add_argument("model", help="directory written by convert")
    export.add_argument("cfg", help="Darknet .cfg file to write")
    export.add_argument("weights", help="Darknet .weights file to write")
    export.set_defaults(run=_export)
    return parser


def _add_detector_options(parser, score_threshold, max_boxes):
    """The options that choose and tune a detector, shared by ``detect`` and ``evaluate``."""
    parser.add_argument("--model", metavar="PATH", help="saved Keras YOLOv2 (.keras) or a directory "
                        "written by convert (default: the embedded shapes detector)")
    parser.add_argument("--cfg", metavar="FILE", help="Darknet .cfg (with --weights) instead of --model")
    parser.add_argument("--weights", metavar="FILE", help="Darknet .weights (with --cfg)")
    parser.add_argument("--classes", metavar="FILE", help="class names, one per line (default: the "
                        "model's; the packaged 80 COCO classes for a .keras file)")
    parser.add_argument("--anchors", metavar="FILE", help="anchors as w, h pairs in grid cells (default: "
                        "the model's [region]; the course's five for a .keras file)")
    parser.add_argument("--score-threshold", type=float, default=score_threshold,
                        help="keep boxes whose confidence × class probability reaches this "
                        f"(default {score_threshold})")
    parser.add_argument("--iou-threshold", type=float, default=0.5,
                        help="non-max suppression drops boxes overlapping a better one by more (default 0.5)")
    parser.add_argument("--max-boxes", type=int, default=max_boxes,
                        help=f"at most this many boxes per image (default {max_boxes})")
    parser.add_argument("--class-agnostic", action="store_true",
                        help="the course's suppression across classes (default: within each class)")
    parser.add_argument("--letterbox", action="store_true",
                        help="Darknet's resize: keep the aspect ratio, pad with grey (default: stretch)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per network call (default 8)")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    from yad2k_style.errors import YadWarning

    if issubclass(category, YadWarning):
        print(f"{PROG}: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.run(args)
    except (YadError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
