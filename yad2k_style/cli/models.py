"""Subcommands about the model registry: ``models`` (the table) and ``summary`` (a model's layers,
checked against its reference table)."""

import os
import shutil

from yad2k_style import registry

SUMMARY_WIDTH = 130  # room for the "Connected to" column


def register(subcommands):
    models = subcommands.add_parser(
        "models", help="list the registered models (name, task, input, params, weights)",
        description="The registry, one line per model: its name (what --model and summary take), task, "
                    "input shape, parameter count, and where its weights come from: packaged (in the "
                    "package, used offline) or the publisher's URL (download it yourself; nothing is "
                    "downloaded for you).")
    models.set_defaults(run=_models, needs_tensorflow=False)
    summary = subcommands.add_parser(
        "summary", help="print a model's Keras summary and check it against a reference layer table",
        description="Build a registered model (random weights), print its Keras summary and, where it has a "
                    "reference layer table (yolov2: the course's), compare every layer's name, type, "
                    "output shape, parameters and inbound layers with it. Exit code 0 when they match, 1 "
                    "with the differences listed.")
    summary.add_argument("model", choices=list(registry.MODELS), metavar="MODEL",
                         help=f"registered model name: {', '.join(registry.MODELS)}")
    summary.add_argument("--reference", help="TSV layer table to compare with "
                         "(default: the model's reference table in the registry, if any)")
    summary.set_defaults(run=_summary)


def models_table():
    """The registry as text rows: name, task, input, params, weights."""
    header = ("name", "task", "input", "params", "weights")
    rows = [(e.name, e.task, "×".join(map(str, e.input_shape)), f"{e.params:,}",
             e.weights.describe() if e.weights else "none") for e in registry.MODELS.values()]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    align = ("<", "<", "<", ">", "<")
    return [" ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)).rstrip()
            for row in [header, *rows]]


def _models(args):
    print("\n".join(models_table()))
    return 0


def _summary(args):
    from yad2k_style import summary

    entry = registry.get(args.model)
    reference = args.reference
    if reference is None and entry.reference_table:
        reference = summary.reference_table_path(entry.reference_table)
    expected = summary.read_table(reference) if reference is not None else None  # checked before printing
    model = entry.build()
    width = max(shutil.get_terminal_size().columns, SUMMARY_WIDTH)
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)  # rich cuts the table to 80 columns when output is piped
    try:
        model.summary(line_length=width)
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    total, trainable, non_trainable = summary.parameter_totals(model)
    if expected is None:
        print(f"{args.model}: {len(model.layers)} layers, {total:,} params "
              f"({trainable:,} trainable, {non_trainable:,} non-trainable)")
        return 0
    differences = summary.compare_tables(summary.model_table(model), expected)
    if differences:
        print(f"differs from {reference}: {len(differences)} difference(s)")
        for line in differences:
            print(f"  {line}")
        return 1
    print(f"matches the course table: {len(expected)}/{len(expected)} layers, {total:,} params")
    return 0
