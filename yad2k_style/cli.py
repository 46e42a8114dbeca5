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
