"""The ``yad2k-style`` command: argument parsing, one domain call per subcommand.

User errors (:class:`yad2k_style.errors.YadError`, missing files) print one line on stderr and exit
with code 2; no traceback.
"""

import argparse
import os
import shutil
import sys
import warnings

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
    from yad2k_style.yolo.model import MODELS

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser(
        "summary", help="print a model's Keras summary and check it against a reference layer table")
    summary.add_argument("model", choices=sorted(MODELS), help="registered model name")
    summary.add_argument("--reference", help="TSV layer table to compare with "
                         "(default for yolov2: the course's table shipped in the package)")
    summary.set_defaults(run=_summary)

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


def _show_warning(message, category, filename, lineno, file=None, line=None):
    from yad2k_style.errors import YadWarning

    if issubclass(category, YadWarning):
        print(f"{PROG}: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from yad2k_style.errors import YadError

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
