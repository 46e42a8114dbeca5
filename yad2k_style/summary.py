"""Compare a model's structure with a reference layer table (the course's ``model.summary()``).

Structure, not text: Keras 3's summary layout depends on the terminal width, so each layer becomes a
:class:`LayerRow` (name, type, output shape, parameter count, inbound layer names) and rows are
compared field by field.
"""

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from yad2k_style.errors import FormatError
from yad2k_style.files import read_text

COURSE_YOLOV2_TABLE = "yolov2_608_summary.tsv"


@dataclass(frozen=True)
class LayerRow:
    name: str
    type: str
    output_shape: str
    params: int
    inbound: tuple


def reference_table_path(name=COURSE_YOLOV2_TABLE):
    """Path of a reference table shipped in ``yad2k_style/data``."""
    return Path(str(resources.files("yad2k_style.data").joinpath(name)))


def model_table(model):
    """One :class:`LayerRow` per layer of a functional ``keras.Model``, in ``model.layers`` order."""
    rows = []
    for layer in model.layers:
        inbound = ()
        for node in layer._inbound_nodes[:1]:
            inbound = tuple(t._keras_history.operation.name for t in node.input_tensors)
        rows.append(LayerRow(layer.name, type(layer).__name__, _shape_text(layer.output.shape),
                             layer.count_params(), inbound))
    return rows


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def read_table(path):
    """Rows of a reference table: TSV ``name, type, output_shape, params, inbound`` (inbound
    comma-separated); lines starting with ``#`` are comments."""
    rows = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5:
            raise FormatError(path, f"expected 5 tab-separated fields, found {len(fields)}", line=number)
        name, kind, shape, params, inbound = fields
        try:
            count = int(params)
        except ValueError:
            raise FormatError(path, f"parameter count {params!r} is not an integer", line=number) from None
        rows.append(LayerRow(name, kind, shape, count, tuple(filter(None, inbound.split(",")))))
    if not rows:
        raise FormatError(path, "no layer rows")
    return rows


def compare_tables(actual, reference):
    """Every difference between two row lists, as readable lines (empty when they match)."""
    differences = []
    actual_by_name = {row.name: row for row in actual}
    reference_by_name = {row.name: row for row in reference}
    for row in reference:
        mine = actual_by_name.get(row.name)
        if mine is None:
            differences.append(f"missing layer {row.name} ({row.type}, {row.output_shape})")
            continue
        for field in ("type", "output_shape", "params", "inbound"):
            want, got = getattr(row, field), getattr(mine, field)
            if want != got:
                differences.append(f"layer {row.name}: {field} is {_text(got)}, table has {_text(want)}")
    for row in actual:
        if row.name not in reference_by_name:
            differences.append(f"extra layer {row.name} ({row.type}, {row.output_shape})")
    if not differences and [r.name for r in actual] != [r.name for r in reference]:
        differences.append("layer order differs from the table")
    return differences


def _text(value):
    return ", ".join(value) or "(none)" if isinstance(value, tuple) else str(value)


def parameter_totals(model):
    """``(total, trainable, non_trainable)`` parameter counts of a built model."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return trainable + non_trainable, trainable, non_trainable
