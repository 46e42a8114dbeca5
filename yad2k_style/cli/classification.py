"""``classify``: the top classes of images with a converted Darknet classifier."""

import sys
from pathlib import Path

from yad2k_style.cli import PROG, checks


def register(subcommands):
    classify = subcommands.add_parser(
        "classify", help="the top classes of images with a converted Darknet classifier",
        description="Run a classifier converted from a Darknet cfg (darknet19, darknet53, resnet50, "
                    "densenet201, extraction, darknet9000 …; `convert CFG WEIGHTS DIR` makes the "
                    "directory) on images, as Darknet's classifier predict does: letterboxed to the "
                    "network's input, a WordTree classifier ranking its leaves by their absolute "
                    "probability. Prints the top classes of each image.")
    classify.add_argument("paths", nargs="+", metavar="PATH", help="images, or directories of images")
    classify.add_argument("--model", required=True, metavar="DIR",
                          help="(required) model directory written by convert from a classifier cfg")
    classify.add_argument("--labels", metavar="FILE", help="class names, one per line, in output order "
                          "(default: the model directory's; classes are named by index without)")
    classify.add_argument("--top", type=int, default=5, help="classes shown per image (default 5)")
    classify.add_argument("--batch-size", type=int, default=8, help="images per batch (default 8)")
    classify.add_argument("--json", metavar="FILE", help="also write the results as JSON: file, rank, "
                          "class, index, probability (default: no JSON)")
    checks.add_overwrite_option(classify)
    classify.set_defaults(run=_classify)


def _classify(args):
    import json

    from yad2k_style.classification import Classifier
    from yad2k_style.errors import FormatError
    from yad2k_style.files import atomic_write
    from yad2k_style.images import list_images

    checks.at_least("--top", args.top, 1)
    checks.at_least("--batch-size", args.batch_size, 1)
    checks.file_to_write("--json", args.json, args.overwrite)
    paths = list_images(args.paths)
    classifier = Classifier.load(args.model, args.labels)
    records, failures = [], 0
    for path, result in classifier.classify_files(paths, min(args.top, len(classifier.class_names)),
                                                   args.batch_size):
        if isinstance(result, FormatError):
            sys.stdout.flush()
            print(f"{PROG}: error: {result}", file=sys.stderr)
            failures += 1
            continue
        print(f"{path}:")
        ranked = zip(result.indices, result.probabilities, strict=True)
        for rank, (index, probability) in enumerate(ranked, start=1):
            name = classifier.class_names[index]
            print(f"  {rank}. {name:<24} {probability:.4f}")
            records.append({"file": str(Path(path)), "rank": rank, "class": name, "index": int(index),
                            "probability": round(float(probability), 6)})
    if args.json:
        with atomic_write(args.json, "w", encoding="utf-8") as file:
            json.dump(records, file, indent=1)
            file.write("\n")
    return 2 if failures else 0
