"""The detection subcommands: ``detect``, ``evaluate``, ``train``, ``anchors``, ``convert``, ``export``.

Each handler checks its options, builds the domain's configuration, calls :mod:`yad2k_style.detection` and
prints. Domain modules are imported inside the handlers, so parsing stays free of TensorFlow.
"""

import contextlib
import sys
from pathlib import Path

from yad2k_style import registry
from yad2k_style.cli import PROG, checks
from yad2k_style.detection.synthetic import EVALUATION_SCENES, EVALUATION_SEED
from yad2k_style.errors import YadError
from yad2k_style.progress import Progress, fit_verbosity
from yad2k_style.tensorflow_logs import LITERT_NOISE, native_stderr_without

PROGRESS_AFTER = 3  # `detect` shows a progress bar (on a terminal) for more images than this
SAMPLE_OUT = "detections"  # where `detect` without paths writes the annotated sample scenes
DATASET_HELP = "COCO .json, or a VOC / YOLO-txt dataset folder"
#: export's formats and the outputs each writes.
EXPORT_OUTPUTS = {"darknet": ("CFG", "WEIGHTS"), "savedmodel": ("DIR",), "tflite": ("FILE",),
                  "onnx": ("FILE",), "openvino": ("DIR",)}


def register(subcommands):
    detect = subcommands.add_parser(
        "detect", help="detect objects in images; print \"Found N boxes for FILE\" per image",
        description="Run YOLOv2 on image files and directories (their .jpg .jpeg .png .bmp .gif .webp "
                    "files, not recursing). Unreadable images are reported and skipped; exit code 2. "
                    f"Without paths: the embedded sample scenes, annotated into {SAMPLE_OUT}/.")
    detect.add_argument("paths", nargs="*", metavar="PATH",
                        help="image file or directory (default: a few embedded sample scenes)")
    _add_detector_options(detect, score_threshold=None, max_boxes=10)
    detect.add_argument("--out", metavar="DIR", help="write annotated copies here, same file names "
                        f"(default without paths: {SAMPLE_OUT})")
    detect.add_argument("--json", metavar="FILE", help="write all detections as JSON: file, class, score, "
                        "box [x_min, y_min, x_max, y_max] in pixels (default: no JSON)")
    checks.add_overwrite_option(detect)
    detect.set_defaults(run=_detect)

    evaluate = subcommands.add_parser(
        "evaluate", help="COCO mAP@0.5, mAP@[.5:.95] and per-class AP (pycocotools) of a detector",
        description="Evaluate a detector on a labelled dataset, or (the default) the embedded shapes "
                    "detector on freshly generated held-out scenes.")
    evaluate.add_argument("dataset", nargs="?",
                          help=f"{DATASET_HELP} (default: synthetic held-out scenes)")
    evaluate.add_argument("--task", choices=("detection", "semantic", "segm"), default="detection",
                          help="detection: box mAP; semantic: mean IoU of a semantic segmenter (default "
                          "model semantic-shapes); segm: COCO mask AP and box AP of an instance segmenter "
                          "(default mask-rcnn-shapes); both on the synthetic scenes (default detection)")
    evaluate.add_argument("--scenes", type=int, default=EVALUATION_SCENES,
                          help=f"held-out scenes to generate (default {EVALUATION_SCENES})")
    evaluate.add_argument("--seed", type=int, default=EVALUATION_SEED,
                          help=f"their stream; training never uses it (default {EVALUATION_SEED})")
    _add_detector_options(evaluate, score_threshold=0.005, max_boxes=100)
    evaluate.add_argument("--plot", metavar="FILE.png", default="precision_recall.png",
                          help="precision-recall curves at IoU 0.5 "
                          "(default precision_recall.png; '' for none)")
    evaluate.add_argument("--json", metavar="FILE", help="also write the numbers as JSON (default: no JSON)")
    evaluate.add_argument("--store", action="store_true",
                          help="write the F1-best score threshold into the model directory (--model DIR), "
                          "where detect reads it (default: only print it)")
    evaluate.add_argument("--oracle", action="store_true",
                          help="instead of a detector, the ceiling on the synthetic scenes: every object's "
                          "box snapped to the pixels the generator drew (default: off)")
    checks.add_overwrite_option(evaluate)
    evaluate.set_defaults(run=_evaluate)

    train = subcommands.add_parser(
        "train", help="train a YOLOv2-family model on a labelled dataset into a model directory",
        description="Train on a labelled dataset. The --out directory becomes a model directory "
                    "(model.weights.h5 + model.json, with final.keras, anchors.txt, classes.txt, "
                    "checkpoints and logs): give it to detect/evaluate --model. Rerun to resume.")
    train.add_argument("dataset", help=DATASET_HELP)
    train.add_argument("--out", required=True, metavar="DIR",
                       help="run directory: checkpoints, logs and the trained model (required)")
    train.add_argument("--model", default="yolov2-tiny",
                       choices=registry.names("detection", "detection.yolo"),
                       help="architecture (default yolov2-tiny)")
    train.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"),
                       help="multiples of 32 (default: the model's)")
    train.add_argument("--anchors", metavar="FILE", help="anchors file (default: k-means on the dataset)")
    train.add_argument("--kmeans", type=int, default=5,
                       help="anchors to cluster when no --anchors file is given (default 5)")
    train.add_argument("--weights", metavar="PATH", help=".weights.h5 or a model directory (from convert "
                       "or train) to start from; layers of another shape keep their initialisation "
                       "(default: fresh weights)")
    train.add_argument("--epochs", type=int, default=30, help="epochs in all (default 30)")
    train.add_argument("--freeze-body-epochs", type=int, default=0,
                       help="first train only the detector conv on a frozen body for this many epochs "
                       "(default 0)")
    train.add_argument("--batch-size", type=int, default=8, help="images per step (default 8)")
    train.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's (default 0.001)")
    train.add_argument("--validation", metavar="DATASET",
                       help="dataset to validate on after each epoch (default: none)")
    train.add_argument("--no-augment", action="store_true",
                       help="no flip, scale/translate, colour jitter (default: augment)")
    train.add_argument("--loss", choices=("yad2k", "darknet"), default="yad2k",
                       help="yad2k: squared errors (class softmax too); darknet: the region layer's "
                       "deltas (small boxes weighted by 2 - w·h, class cross-entropy, rescoring) "
                       "(default yad2k)")
    train.add_argument("--rescore", action="store_true",
                       help="objectness target = IoU with the true box (default: 1; on with --loss darknet)")
    train.add_argument("--prior-matching", action="store_true",
                       help="pull every prediction to its anchor for the first 12,800 images, as Darknet "
                       "(default: off)")
    train.add_argument("--burn-in", type=int, default=0, metavar="STEPS",
                       help="ramp the learning rate up as (step / STEPS)^4, as Darknet (default 0: none)")
    train.add_argument("--multi-scale", action="store_true",
                       help="redraw the input size every 10 batches from multiples of 32 around the "
                       "model's (about ±30 %%), as Darknet's random=1 (default: off)")
    train.add_argument("--ema", type=float, metavar="MOMENTUM",
                       help="keep an exponential moving average of the weights and save it (e.g. 0.999) "
                       "(default: none)")
    train.add_argument("--devices", help="comma-separated devices for MirroredStrategy "
                       "(default: all GPUs when there are several)")
    train.set_defaults(run=_train)

    anchors = subcommands.add_parser(
        "anchors", help="k-means anchors (1 - IoU distance) for a dataset",
        description="Cluster the dataset's box sizes with k-means and YOLOv2's distance 1 - IoU; print the "
                    "anchors as w, h pairs in grid cells of the --input-size model (what train --anchors "
                    "and a Darknet [region] take) and their mean IoU with the boxes.")
    anchors.add_argument("dataset", help=DATASET_HELP)
    anchors.add_argument("-k", type=int, default=5, help="number of anchors (default 5)")
    anchors.add_argument("--input-size", type=int, nargs=2, default=(416, 416), metavar=("H", "W"),
                         help="model input size; anchors are in its 32-pixel grid cells (default 416 416)")
    anchors.add_argument("--seed", type=int, default=0, help="k-means++ seed (default 0)")
    anchors.add_argument("-o", "--output", "--out", metavar="FILE",
                         help="also write the anchors to this file (default: print only)")
    checks.add_overwrite_option(anchors)
    anchors.set_defaults(run=_anchors)

    convert = subcommands.add_parser(
        "convert", help="convert a Darknet cfg + weights into a model directory",
        description="Read a Darknet cfg and its .weights (streamed, checked against the cfg's size) into a "
                    "new model directory: model.weights.h5, model.cfg and model.json with the class "
                    "names and the [region]'s anchors. Every vision network of Darknet's cfg folder "
                    "converts: YOLOv1, YOLOv2, YOLO9000 and YOLOv3 (detect and evaluate take them) and "
                    "the classifiers (classify takes them); export takes any, train --weights a YOLOv2 "
                    "detector or a classifier. "
                    "OUT must not exist; a failed conversion leaves nothing.")
    convert.add_argument("cfg", help="Darknet .cfg file")
    convert.add_argument("weights", help="Darknet .weights file")
    convert.add_argument("out", help="model directory to create (model.weights.h5, model.cfg, model.json)")
    convert.add_argument("--classes", metavar="FILE", help="class names, one per line (default: COCO's "
                         "for 80 classes, VOC's for 20, the WordTree's for YOLO9000 and darknet9000)")
    convert.add_argument("--reorg", choices=("darknet", "space_to_depth"),
                         help="order for every reorg layer: darknet (Darknet's own, the default for [reorg]) "
                         "or space_to_depth (the course's/YAD2K's model)")
    convert.add_argument("--allow-extra", action="store_true",
                         help="accept floats left over at the end of the weights file, with a warning "
                         "(default: an error)")
    convert.set_defaults(run=_convert)

    export = subcommands.add_parser(
        "export", help="write a model as Darknet cfg + weights, ONNX, OpenVINO IR, a SavedModel or TFLite",
        description="darknet: MODEL CFG WEIGHTS (a YOLOv2 model; the cfg with its [region]). onnx: MODEL "
                    "FILE.onnx (opset 17, through tf2onnx); openvino: MODEL DIR (model.xml + model.bin, "
                    "through openvino.convert_model); both hold the network alone (float32 images in "
                    "[0, 1] → the model's outputs; decoding and suppression stay outside, except inside "
                    "the two-stage detectors) and need pip install 'yad2k-style[deploy]'. savedmodel: "
                    "MODEL DIR; for YOLO a TensorFlow Serving directory whose signature serving_default "
                    "maps uint8 images at the input size and their original sizes to boxes, scores, "
                    "classes, valid (the detection options below are baked in); for other models the "
                    "network. tflite: MODEL FILE.tflite, the network alone (for YOLO float32 images in "
                    "[0, 1] → raw YOLO features).")
    export.add_argument("model", help="model directory (from convert, train or packaging) of any kind; for "
                        "all but darknet also a .keras file or a registered name with packaged weights")
    export.add_argument("outputs", nargs="+", metavar="OUT",
                        help="darknet: CFG WEIGHTS to write; savedmodel, openvino: a new directory; tflite, "
                        "onnx: a file")
    export.add_argument("--format", choices=EXPORT_OUTPUTS, default="darknet",
                        help="what to write (default darknet)")
    export.add_argument("--calibration", metavar="PATH",
                        help="tflite of a YOLO model: quantise to int8, calibrated on these images (file or "
                        "directory, at most 32 used) (default: float32)")
    _add_settings_options(export, score_threshold=None, max_boxes=10)
    checks.add_overwrite_option(export)
    export.set_defaults(run=_export)


def _add_detector_options(parser, score_threshold, max_boxes):
    """The options that choose and tune a detector, shared by ``detect`` and ``evaluate``."""
    _add_source_options(parser)
    _add_settings_options(parser, score_threshold, max_boxes)
    parser.add_argument("--batch-size", type=int, default=8, help="images per network call (default 8)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "int8"), default="fp32",
                        help="fp32; bf16: bfloat16 on a CPU with AVX512-BF16 or AMX, or a GPU (outputs "
                        "within about 1%%); int8: quantised by TFLite, run by LiteRT (with --runtime "
                        "openvino: OpenVINO's own bf16, and int8 by NNCF) (default fp32)")
    parser.add_argument("--calibration", metavar="PATH",
                        help="int8: images (file or directory) to calibrate on, at most 32 used (default: "
                        "detect's own images; synthetic training scenes for the embedded detector)")
    checks.add_runtime_option(parser)


def _add_source_options(parser):
    """The options that name a detection model."""
    parser.add_argument("--model", metavar="PATH", help="a model directory (from convert or train), a "
                        ".keras file, or a registered name with packaged weights (default: "
                        f"{registry.DEFAULT_DETECTOR}, the embedded shapes detector)")
    parser.add_argument("--cfg", metavar="FILE",
                        help="Darknet .cfg (with --weights) instead of --model (default: none)")
    parser.add_argument("--weights", metavar="FILE", help="Darknet .weights (with --cfg) (default: none)")
    parser.add_argument("--classes", metavar="FILE", help="class names, one per line (default: the "
                        "model's; the packaged 80 COCO classes for a .keras file)")
    parser.add_argument("--anchors", metavar="FILE", help="anchors as w, h pairs in grid cells (default: "
                        "the model's; the course's five for a .keras file)")


def _add_settings_options(parser, score_threshold, max_boxes):
    """The options that tune a detector's decoding and suppression."""
    stored = ("the model's stored F1-best threshold (evaluate --store), else 0.6" if score_threshold is None
              else score_threshold)
    parser.add_argument("--score-threshold", type=float, default=score_threshold,
                        help=f"keep boxes whose confidence × class probability reaches this "
                        f"(default {stored})")
    parser.add_argument("--iou-threshold", type=float, default=0.45,
                        help="non-max suppression drops boxes overlapping a better one by more "
                        "(default 0.45, Darknet's; the course's yolo_eval uses 0.5)")
    parser.add_argument("--max-boxes", type=int, default=max_boxes,
                        help=f"at most this many boxes per image (default {max_boxes})")
    parser.add_argument("--class-agnostic", action="store_true",
                        help="the course's suppression across classes (default: within each class)")
    parser.add_argument("--nms", choices=("plain", "diou", "soft"), default="plain",
                        help="per-class suppression: plain IoU, DIoU (centre distance counts) or Gaussian "
                        "soft-NMS (scores decay) (default plain)")
    parser.add_argument("--letterbox", action="store_true",
                        help="Darknet's resize: keep the aspect ratio, pad with grey (default: stretch)")


def _detector(args, images=None):
    """Check the detector options and load the detector they name; ``images`` (paths) calibrate int8
    when no ``--calibration`` is given."""
    checks.at_least("--batch-size", args.batch_size, 1)
    from yad2k_style.detection.yolo.sources import ModelSource

    source = ModelSource(model=args.model, cfg=args.cfg, weights=args.weights, classes=args.classes,
                         anchors=args.anchors)
    calibration = _calibration(args, images)
    show_native_logs = args.verbose or calibration is None
    with contextlib.nullcontext() if show_native_logs else native_stderr_without(LITERT_NOISE):
        return _load_detector(source, args, precision=args.precision, calibration=calibration,
                              runtime=args.runtime)


def _calibration(args, paths):
    """The PIL images that calibrate ``--precision int8`` (None for other precisions): ``--calibration``,
    else ``paths``, else synthetic training scenes for the embedded detector."""
    if args.precision != "int8":
        if args.calibration:
            raise YadError("--calibration goes with --precision int8")
        return None
    if args.calibration or paths:
        return _read_calibration([args.calibration] if args.calibration else paths)
    if args.model or args.cfg:
        raise YadError("--precision int8 needs --calibration PATH: images like those the model will see")
    from yad2k_style.detection.synthetic import TRAIN_SEED, scenes
    from yad2k_style.quantize import CALIBRATION_IMAGES

    return [scene.image for scene in scenes(TRAIN_SEED, CALIBRATION_IMAGES)]


def _read_calibration(paths):
    """The first :data:`~yad2k_style.quantize.CALIBRATION_IMAGES` images of ``paths`` (files, folders)."""
    from yad2k_style.images import list_images, read_image
    from yad2k_style.quantize import CALIBRATION_IMAGES

    return [read_image(path) for path in list_images(paths)[:CALIBRATION_IMAGES]]


def _load_detector(source, args, **settings):
    """Check the settings options; the detector ``source`` names, with them."""
    if args.score_threshold is not None:
        checks.between("--score-threshold", args.score_threshold, 0, 1)
    checks.between("--iou-threshold", args.iou_threshold, 0, 1)
    checks.at_least("--max-boxes", args.max_boxes, 1)
    from yad2k_style.detection.yolo.detector import Detector
    from yad2k_style.zoo import detector_name, load_scene_detector

    if detector_name(source.model) == "semantic":
        raise YadError(f"{source.model}: a semantic segmentation model labels pixels, not boxes; use "
                       f"segment, or evaluate --task semantic")
    if detector_name(source.model):
        yolo_only = [option for option, given in (
            ("--letterbox", args.letterbox), ("--class-agnostic", args.class_agnostic),
            ("--nms", args.nms != "plain"), ("--precision", settings.get("precision", "fp32") != "fp32"),
            ("--classes", source.classes), ("--anchors", source.anchors)) if given]
        if yolo_only:
            raise YadError(f"{source.model}: {', '.join(yolo_only)} {'is' if len(yolo_only) == 1 else 'are'} "
                           f"for YOLO models only")
        return load_scene_detector(source.model, score_threshold=args.score_threshold,
                                   iou_threshold=args.iou_threshold, max_boxes=args.max_boxes,
                                   runtime=settings.get("runtime", "keras"))
    return Detector.load(source, letterbox=args.letterbox, per_class_nms=not args.class_agnostic,
                         nms=args.nms, score_threshold=args.score_threshold,
                         iou_threshold=args.iou_threshold, max_boxes=args.max_boxes, **settings)


def _detect(args):
    import json

    from yad2k_style.detection import results
    from yad2k_style.detection.synthetic import sample_scenes
    from yad2k_style.errors import FormatError
    from yad2k_style.files import atomic_write
    from yad2k_style.images import list_images, save_image

    samples = None if args.paths else sample_scenes()
    paths = list_images(args.paths) if args.paths else [Path(name) for name, _ in samples]
    out_dir = args.out or (None if args.paths else SAMPLE_OUT)
    checks.file_to_write("--json", args.json, args.overwrite)
    out_paths = results.annotated_paths(paths, out_dir) if out_dir else None
    checks.files_to_write("--out", out_paths or [], args.overwrite)
    detector = _detector(args, paths if args.paths else None)
    if samples is None:
        found = detector.detect_files(paths, args.batch_size, keep_images=out_paths is not None)
    else:
        images = [image for _, image in samples]
        found = zip(paths, detector.detect(images, args.batch_size), images, strict=True)
    records, failures, saved = [], 0, 0
    with Progress(len(paths) if len(paths) > PROGRESS_AFTER else 0, "image") as bar:
        for done, (path, result, image) in enumerate(found, start=1):
            bar.clear()
            if isinstance(result, FormatError):
                sys.stdout.flush()
                print(f"{PROG}: error: {result}", file=sys.stderr)
                failures += 1
            else:
                print(f"Found {len(result.boxes)} boxes for {path}")
                records.extend(results.detection_records(path, result, detector.class_names))
                if out_paths is not None:
                    Path(out_dir).mkdir(parents=True, exist_ok=True)
                    save_image(results.annotate(image, result, detector.class_names), out_paths[done - 1])
                    saved += 1
            bar.update(done)
    if args.json:
        with atomic_write(args.json, "w", encoding="utf-8") as file:
            json.dump(records, file, indent=1)
            file.write("\n")
    if saved:
        print(f"annotated images in {Path(out_dir)}/")
    return 2 if failures else 0


def _evaluate(args):
    import json

    from yad2k_style.detection.evaluate import best_f1, box_errors, evaluate_detector, plot_precision_recall
    from yad2k_style.files import write_text_atomically

    checks.at_least("--scenes", args.scenes, 1)
    checks.file_to_write("--json", args.json, args.overwrite)
    checks.file_to_write("--plot", args.plot, args.overwrite)
    if args.task != "detection":
        return _evaluate_segmentation(args)
    if args.oracle:
        return _oracle(args)
    if args.store and not (args.model and Path(args.model).is_dir()):
        raise YadError("--store writes into a model directory: give --model DIR")
    if args.precision == "int8" and args.dataset and not args.calibration:
        raise YadError("--precision int8 needs --calibration PATH: images like the dataset's")
    run = evaluate_detector(_detector(args), args.dataset, scenes=args.scenes, seed=args.seed,
                            batch_size=args.batch_size)
    evaluation = run.evaluation
    print(f"{run.source}: {run.objects} objects, {sum(len(d.boxes) for d in run.detections)} detections")
    _print_evaluation(evaluation, run.dataset.class_names)
    found = [(d.boxes, d.scores, d.classes) for d in run.detections]
    errors = box_errors(run.dataset, found)
    print(f"at scores ≥ 0.5: {errors.ghosts} boxes on no object, {errors.duplicates} objects boxed twice")
    overall, per_class = best_f1(run.dataset, found)
    print(f"best F1 at IoU 0.5: {overall.f1:.3f} (precision {overall.precision:.3f}, recall "
          f"{overall.recall:.3f}) keeping scores ≥ {overall.threshold:.3f}")
    for name, best in per_class.items():
        print(f"  {name:<16} F1 {best.f1:.3f} at scores ≥ {best.threshold:.3f}")
    if args.store and overall.f1 == 0:
        raise YadError(f"--store: no box matches an object at any score (best F1 0), so no threshold is "
                       f"worth storing; {args.model} is left as it was")
    if args.store:
        from yad2k_style.artifacts import update_info

        update_info(args.model, score_threshold=overall.threshold,
                    class_score_thresholds={name: best.threshold for name, best in per_class.items()})
        print(f"stored the score threshold {overall.threshold:.3f} in {args.model}/model.json")
    if args.plot:
        plot_precision_recall(evaluation, args.plot)
        print(f"precision-recall curves: {args.plot}")
    if args.json:
        write_text_atomically(args.json, json.dumps(run.to_json(), indent=1))
    return 0


def _evaluate_segmentation(args):
    from yad2k_style.cli.segmentation import evaluate_segmentation

    yolo_only = [option for option, given in (
        ("--oracle", args.oracle), ("--store", args.store), ("--precision", args.precision != "fp32"),
        ("--letterbox", args.letterbox), ("--class-agnostic", args.class_agnostic),
        ("--nms", args.nms != "plain"),
        ("--cfg", args.cfg), ("--classes", args.classes), ("--anchors", args.anchors)) if given]
    if yolo_only:
        raise YadError(f"--task {args.task}: {', '.join(yolo_only)} {'is' if len(yolo_only) == 1 else 'are'} "
                       f"for --task detection only")
    checks.at_least("--batch-size", args.batch_size, 1)
    checks.between("--iou-threshold", args.iou_threshold, 0, 1)
    checks.at_least("--max-boxes", args.max_boxes, 1)
    if args.score_threshold is not None:
        checks.between("--score-threshold", args.score_threshold, 0, 1)
    return evaluate_segmentation(args)


def _oracle(args):
    from yad2k_style.detection.evaluate import oracle_evaluation
    from yad2k_style.detection.synthetic import SHAPE_CLASSES

    if args.dataset is not None:
        raise YadError("--oracle measures the synthetic scenes; give no dataset")
    evaluation = oracle_evaluation(args.scenes, args.seed)
    print(f"oracle on {args.scenes} held-out scenes (seed {args.seed}): each object's box snapped to the "
          "pixels drawn")
    _print_evaluation(evaluation, SHAPE_CLASSES)
    return 0


def _print_evaluation(evaluation, class_names):
    print(f"mAP@0.5      {evaluation.map_50:.3f}")
    print(f"mAP@[.5:.95] {evaluation.map_50_95:.3f}")
    for name in class_names:
        print(f"  {name:<16} AP@0.5 {evaluation.per_class_ap50[name]:.3f}   "
              f"AP@[.5:.95] {evaluation.per_class_ap[name]:.3f}")


def _train(args):
    checks.at_least("--epochs", args.epochs, 1)
    checks.between("--freeze-body-epochs", args.freeze_body_epochs, 0, args.epochs)  # epochs in all
    checks.at_least("--batch-size", args.batch_size, 1)
    checks.positive("--learning-rate", args.learning_rate)
    checks.at_least("--kmeans", args.kmeans, 1)
    checks.input_size("--input-size", args.input_size)
    checks.directory_to_write("--out", args.out)
    checks.at_least("--burn-in", args.burn_in, 0)
    if args.ema is not None:
        checks.between("--ema", args.ema, 0.5, 0.99999)
    from yad2k_style.detection.yolo.train import TrainingConfig, train_on_dataset

    config = TrainingConfig(
        dataset=args.dataset, out=args.out, model=args.model,
        input_size=tuple(args.input_size) if args.input_size else None, anchors=args.anchors,
        kmeans=args.kmeans, weights=args.weights, epochs=args.epochs,
        freeze_body_epochs=args.freeze_body_epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, validation=args.validation, augment=not args.no_augment,
        devices=tuple(args.devices.split(",")) if args.devices else None, loss=args.loss,
        rescore=args.rescore, prior_matching=args.prior_matching, ema=args.ema, burn_in=args.burn_in,
        multi_scale=args.multi_scale, verbose=fit_verbosity())
    train_on_dataset(config)
    print(f"trained model: {args.out} (use --model {args.out}; final.keras, anchors.txt, classes.txt inside)")
    return 0


def _anchors(args):
    checks.at_least("-k", args.k, 1)
    checks.file_to_write("--output", args.output, args.overwrite)
    checks.input_size("--input-size", args.input_size)
    from yad2k_style.assets import format_anchors, write_anchors
    from yad2k_style.detection.labels import read_dataset
    from yad2k_style.detection.yolo.anchors import dataset_anchors

    height, width = args.input_size
    clusters = dataset_anchors(read_dataset(args.dataset), args.input_size, args.k, args.seed)
    print(f"{clusters.boxes} boxes, {args.k} anchors "
          f"(w, h in cells of the {height // 32}×{width // 32} grid), "
          f"mean IoU {clusters.mean_iou:.3f}")
    print(format_anchors(clusters.anchors))
    if args.output:
        write_anchors(args.output, clusters.anchors)
    return 0


def _convert(args):
    from yad2k_style.detection.yolo.convert import convert

    converted = convert(args.cfg, args.weights, args.out, classes_path=args.classes, reorg=args.reorg,
                        allow_extra=args.allow_extra, progress=True)
    provenance = converted.info["provenance"]
    print(f"Read {provenance['floats_read']:,} of {provenance['floats_in_file']:,} floats "
          f"from {Path(args.weights).name}")
    print(f"Wrote {args.out}: {converted.summary}")
    return 0


def _export(args):
    from yad2k_style.zoo import detector_name

    names = EXPORT_OUTPUTS[args.format]
    if len(args.outputs) != len(names):
        raise YadError(f"export --format {args.format} writes {' and '.join(names)}: give "
                       f"{len(names)} output path{'s' if len(names) > 1 else ''}, got {len(args.outputs)}")
    if args.format == "darknet":
        if detector_name(args.model):
            raise YadError(f"{args.model}: --format darknet writes YOLO models; export it as onnx, openvino, "
                           "savedmodel or tflite")
        cfg, weights = args.outputs
        checks.file_to_write("cfg", cfg, args.overwrite)
        checks.file_to_write("weights", weights, args.overwrite)
        from yad2k_style.detection.yolo.convert import export

        export(args.model, cfg, weights)
        print(f"Wrote {cfg} and {weights}")
        return 0
    (out,) = args.outputs
    if args.calibration and args.format != "tflite":
        raise YadError("--calibration goes with --format tflite (int8)")
    if EXPORT_OUTPUTS[args.format] == ("DIR",):
        from yad2k_style.artifacts import check_new_directory

        check_new_directory(out)
    else:
        checks.file_to_write(args.format, out, args.overwrite)
    if args.format in ("onnx", "openvino"):
        from yad2k_style import runtimes

        runtimes.require("tf2onnx", f"--format {args.format}")
        if args.format == "openvino":
            runtimes.require("openvino", "--format openvino")
    if args.format in ("onnx", "openvino") or not _is_yolo(args.model):
        return _export_network(args, out)
    from yad2k_style.detection.yolo import serving
    from yad2k_style.detection.yolo.sources import ModelSource

    detector = _load_detector(ModelSource(model=args.model), args)
    if args.format == "savedmodel":
        serving.save_savedmodel(detector, out)
        print(f"Wrote {out}: signature {serving.SIGNATURE!r} (images uint8 {detector.input_size + (3,)}, "
              f"image_sizes) -> {', '.join(serving.OUTPUTS)}")
    else:
        calibration = _read_calibration([args.calibration]) if args.calibration else None
        with contextlib.nullcontext() if args.verbose else native_stderr_without(LITERT_NOISE):
            serving.save_tflite(detector, out, calibration)
        kind = "int8 inside, " if calibration else ""
        print(f"Wrote {out}: float32 images {detector.input_size + (3,)} in [0, 1] -> raw YOLO features "
              f"({kind}{Path(out).stat().st_size / 2**20:.1f} MB)")
    return 0


def _is_yolo(model):
    """Whether ``model`` (a path or registered name) is a YOLO detector (a Darknet-family detection model)."""
    from yad2k_style import artifacts
    from yad2k_style.zoo import detector_name

    if detector_name(model):
        return False
    if not Path(model).exists() and model in registry.MODELS:
        return registry.get(model).task == "detection"
    path = Path(model)
    if path.is_dir() and (path / artifacts.INFO_FILE).is_file():
        return artifacts.read_info(path).get("task") == "detection"
    return path.suffix == ".keras"  # a bare .keras file is read as the course's YOLOv2


def _export_network(args, out):
    """``export --format onnx|openvino``, and savedmodel / tflite of models that are not YOLO: the network."""
    from yad2k_style.exports import export_network, load_network

    if args.calibration:
        raise YadError("--calibration (int8 TFLite) is for YOLO models")
    network = load_network(args.model)
    export_network(network, out, args.format)
    inputs = ", ".join(f"{tensor.dtype} {tuple(tensor.shape[1:])}" for tensor in network.inputs)
    outputs = ", ".join(f"{tensor.dtype} {tuple(tensor.shape[1:])}" for tensor in network.outputs)
    print(f"Wrote {out}: {network.name}, batch × ({inputs}) -> batch × ({outputs})")
    return 0
