"""The segmentation subcommand ``segment`` (semantic class maps, or Mask R-CNN's instances with
``--instances``), and ``evaluate --task semantic|segm``'s handler."""

import sys
from pathlib import Path

from yad2k_style.cli import PROG, checks
from yad2k_style.errors import YadError
from yad2k_style.progress import Progress

SEMANTIC_MODEL, INSTANCE_MODEL = "semantic-shapes", "mask-rcnn-shapes"
SEGMENT_OUT = "segmentation"
PROGRESS_AFTER = 3
#: Each output of an image, by its file name's ending.
SEMANTIC_OUTPUTS = ("_classes.png", "_overlay.png")
INSTANCE_OUTPUTS = ("_instances.png", "_overlay.png")


def register(subcommands):
    segment = subcommands.add_parser(
        "segment", help="label every pixel of images (a class map), or each object's pixels (--instances)",
        description="Semantic segmentation (the notes' method 1): writes STEM_classes.png, a palette PNG "
                    "whose values are the classes (0 background, 1… the classes' order), and "
                    "STEM_overlay.png. With --instances, Mask R-CNN (method 2): STEM_instances.png "
                    "(0 background, k the k-th instance, best score first) and STEM_overlay.png with "
                    "each instance in its own colour. Unreadable images are reported and skipped; exit "
                    "code 2. Without paths: a few embedded sample scenes.")
    segment.add_argument("paths", nargs="*", metavar="PATH",
                         help="image file or directory (default: a few embedded sample scenes)")
    segment.add_argument("--instances", action="store_true",
                         help="instance segmentation by Mask R-CNN: each object its own mask (default: "
                         "semantic segmentation, a class per pixel)")
    segment.add_argument("--model", metavar="PATH", help="a segmentation model directory or registered name "
                         f"(default {SEMANTIC_MODEL}; {INSTANCE_MODEL} with --instances)")
    segment.add_argument("--out", metavar="DIR", default=SEGMENT_OUT,
                         help=f"where the maps and overlays go (default {SEGMENT_OUT})")
    segment.add_argument("--score-threshold", type=float,
                         help="--instances: keep objects scoring at least this (default: the model's "
                         "stored F1-best threshold)")
    segment.add_argument("--json", metavar="FILE", help="--instances: also write each object as JSON: file, "
                         "class, score, box [x_min, y_min, x_max, y_max] pixels, COCO RLE segmentation "
                         "(default: no JSON)")
    segment.add_argument("--batch-size", type=int, default=8, help="images per network call (default 8)")
    checks.add_runtime_option(segment)
    checks.add_overwrite_option(segment)
    segment.set_defaults(run=_segment)


def load_segmenter(model, instances, score_threshold=None, **settings):
    """The segmenter ``model`` names (default by ``instances``), checked to be of that kind."""
    from yad2k_style.zoo import detector_name, load_scene_detector

    model = model or (INSTANCE_MODEL if instances else SEMANTIC_MODEL)
    name = detector_name(model)
    wanted = "mask-rcnn" if instances else "semantic"
    if name != wanted:
        kind = "an instance" if instances else "a semantic"
        default = INSTANCE_MODEL if instances else SEMANTIC_MODEL
        raise YadError(f"{model}: not {kind} segmentation model (give {default}"
                       f"{'' if instances else ', or --instances for Mask R-CNN'})")
    return load_scene_detector(model, score_threshold=score_threshold, **settings)


def _segment(args):
    from yad2k_style.detection.synthetic import sample_scenes
    from yad2k_style.images import list_images, read_image

    checks.at_least("--batch-size", args.batch_size, 1)
    if args.score_threshold is not None:
        checks.between("--score-threshold", args.score_threshold, 0, 1)
    if not args.instances and (args.score_threshold is not None or args.json):
        raise YadError("--score-threshold and --json are for --instances")
    checks.file_to_write("--json", args.json, args.overwrite)
    samples = None if args.paths else sample_scenes()
    paths = list_images(args.paths) if args.paths else [Path(name) for name, _ in samples]
    targets = _output_paths(paths, args.out, INSTANCE_OUTPUTS if args.instances else SEMANTIC_OUTPUTS)
    checks.files_to_write("--out", [path for outputs in targets for path in outputs], args.overwrite)
    segmenter = load_segmenter(args.model, args.instances, args.score_threshold, runtime=args.runtime)
    write = _write_instances if args.instances else _write_semantic
    records, failures = [], 0
    with Progress(len(paths) if len(paths) > PROGRESS_AFTER else 0, "image") as bar:
        for done, path in enumerate(paths, start=1):
            try:
                image = samples[done - 1][1] if samples else read_image(path)
            except YadError as exc:
                bar.clear()
                sys.stdout.flush()
                print(f"{PROG}: error: {exc}", file=sys.stderr)
                failures += 1
                continue
            bar.clear()
            Path(args.out).mkdir(parents=True, exist_ok=True)
            records.extend(write(segmenter, path, image, targets[done - 1]))
            bar.update(done)
    if args.json:
        _write_json(args.json, records)
    if len(paths) > failures:
        print(f"maps and overlays in {Path(args.out)}/")
    return 2 if failures else 0


def _output_paths(paths, out_dir, endings):
    """Each input's outputs: ``out_dir/STEM + ending`` for each of ``endings`` (``out_dir`` is made when
    the first is written). Two inputs with one stem are a :class:`YadError`."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise YadError(f"--out {out_dir}: exists and is not a directory")
    seen, targets = {}, []
    for path in paths:
        if path.stem in seen:
            raise YadError(f"{path} and {seen[path.stem]} would both be written to {out_dir / path.stem}*")
        seen[path.stem] = path
        targets.append([out_dir / f"{path.stem}{ending}" for ending in endings])
    return targets


def _write_semantic(segmenter, path, image, targets):
    import numpy as np

    from yad2k_style.drawing import add_legend, enlarged, overlay_masks
    from yad2k_style.images import save_image
    from yad2k_style.segmentation.masks import palette, write_class_map

    classes = segmenter.segment([image])[0]
    names = segmenter.class_names
    write_class_map(targets[0], classes, len(names))
    colours = palette(len(names))[1:]
    overlay, _ = enlarged(overlay_masks(image, [classes == k + 1 for k in range(len(names))], colours))
    save_image(add_legend(overlay, names, colours), targets[1])
    found = [f"{name} {int(np.sum(classes == k + 1)):,} px" for k, name in enumerate(names)
             if np.any(classes == k + 1)]
    print(f"{path}: {', '.join(found) if found else 'background only'}")
    return []


def _write_instances(segmenter, path, image, targets):
    import numpy as np

    from yad2k_style.detection.results import detection_records
    from yad2k_style.images import save_image
    from yad2k_style.segmentation.masks import encode_rle, write_class_map
    from yad2k_style.segmentation.segmenter import draw_instances

    found = segmenter.segment([image])[0]
    count = len(found.classes)
    ids = np.zeros((image.height, image.width), np.uint8)
    for k in reversed(range(min(count, 255))):  # the best score on top where masks overlap
        ids[found.masks[k]] = k + 1
    write_class_map(targets[0], ids, max(count, 1))
    save_image(draw_instances(image, found, segmenter.class_names), targets[1])
    print(f"Found {count} instances for {path}")
    records = detection_records(path, found, segmenter.class_names)
    for record, mask in zip(records, found.masks, strict=True):
        record["segmentation"] = encode_rle(mask)
    return records


def _write_json(path, records):
    import json

    from yad2k_style.files import write_text_atomically

    write_text_atomically(path, json.dumps(records, indent=1) + "\n")


def evaluate_segmentation(args):
    """``evaluate --task semantic|segm``: the segmenter on held-out scenes; mIoU or COCO mask AP."""
    if args.dataset is not None:
        raise YadError(f"--task {args.task} evaluates on the synthetic held-out scenes; give no dataset")
    from yad2k_style.segmentation.evaluate import evaluate_instances, evaluate_semantic

    instances = args.task == "segm"
    settings = {"iou_threshold": args.iou_threshold, "max_boxes": args.max_boxes} if instances else {}
    settings["runtime"] = args.runtime
    score_threshold = 0.01 if args.score_threshold is None else args.score_threshold
    segmenter = load_segmenter(args.model, instances, score_threshold, **settings)
    source = f"{args.scenes} held-out scenes (seed {args.seed})"
    if instances:
        result = evaluate_instances(segmenter, args.scenes, args.seed, args.batch_size)
        print(f"{source}: {sum(len(f.classes) for f in result.instances)} instances found")
        for label, evaluation in (("mask", result.masks), ("box", result.boxes)):
            print(f"{label} AP@0.5      {evaluation.map_50:.3f}")
            print(f"{label} AP@[.5:.95] {evaluation.map_50_95:.3f}")
        for name in segmenter.class_names:
            print(f"  {name:<16} mask AP@0.5 {result.masks.per_class_ap50[name]:.3f}   "
                  f"mask AP@[.5:.95] {result.masks.per_class_ap[name]:.3f}")
        if args.plot:
            from yad2k_style.detection.evaluate import plot_precision_recall

            plot_precision_recall(result.masks, args.plot)
            print(f"mask precision-recall curves: {args.plot}")
    else:
        result = evaluate_semantic(segmenter, args.scenes, args.seed, args.batch_size)
        print(f"{source}: mIoU {result.mean_iou:.3f} (background and classes; classes alone "
              f"{result.class_mean_iou:.3f}), pixel accuracy {result.pixel_accuracy:.3f}")
        for name, iou in result.per_class_iou.items():
            print(f"  {name:<16} IoU {iou:.3f}")
    if args.json:
        _write_json(args.json, {"source": source, **result.to_json()})
    return 0
