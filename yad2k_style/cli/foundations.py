"""The foundations' subcommands: ``receptive-field`` (the arithmetic's table for any model) and
``visualize-units`` (the image patches that excite a layer's units most, and the first filters)."""

from pathlib import Path

from yad2k_style import registry
from yad2k_style.cli import checks
from yad2k_style.errors import YadError, first_line

DEFAULT_MODEL = registry.DEFAULT_DETECTOR
DEFAULT_LAYER = "leaky_re_lu_4"  # the embedded detector's fourth block: 16×16 cells, 34-pixel fields
DEFAULT_SCENES = 64
MODEL_HELP = "a registered model name or a model directory"


def register(subcommands):
    field = subcommands.add_parser(
        "receptive-field", help="receptive-field arithmetic of every layer of a model",
        description="For each layer and spatial axis: n (features), j (jump: input pixels between "
                    "neighbouring features), r (receptive field in input pixels) and start (centre of "
                    "the first feature's field), as in the notes. With --position, the input window of "
                    "one output cell.")
    field.add_argument("model", metavar="MODEL", help=f"{MODEL_HELP} (required)")
    field.add_argument("--input-size", "--size", type=int, nargs=2, metavar=("H", "W"),
                       help="input size to build a registered model at (default: the model's own)")
    field.add_argument("--layer", help="only this layer's row; with --position, its cell (default: every "
                       "layer; the last with --position)")
    field.add_argument("--position", type=int, nargs=2, metavar=("ROW", "COL"),
                       help="print the input window of this output cell (default: none)")
    field.set_defaults(run=_receptive_field)

    units = subcommands.add_parser(
        "visualize-units", help="image patches that activate a layer's units most; first-layer filters",
        description="For each chosen unit (channel) of LAYER: the image patches, over all images and "
                    "positions, where it is most active, each cropped to the unit's receptive field "
                    "(Zeiler & Fergus); drawn as a grid, one row per unit. Also the first convolution's "
                    "filters as images. Default: the embedded detector on held-out synthetic scenes.")
    units.add_argument("model", nargs="?", default=DEFAULT_MODEL, metavar="MODEL",
                       help=f"{MODEL_HELP} (default {DEFAULT_MODEL}, with its packaged weights)")
    units.add_argument("layer", nargs="?", metavar="LAYER",
                       help=f"a layer with a spatial output (default {DEFAULT_LAYER} for the default model)")
    units.add_argument("--images", metavar="DIR", help=f"images to search, resized to the model's input "
                       f"(default: {DEFAULT_SCENES} synthetic scenes)")
    units.add_argument("--units", type=int, nargs="+", default=list(range(8)), metavar="N",
                       help="unit numbers (default 0 to 7)")
    units.add_argument("--top", type=int, default=8, help="patches per unit (default 8)")
    units.add_argument("-o", "--output", "--out", default="units.png", metavar="FILE.png",
                       help="the patch grid (default units.png)")
    units.add_argument("--filters", default="filters.png", metavar="FILE.png",
                       help="the first convolution's filters (default filters.png; '' for none)")
    checks.add_overwrite_option(units)
    units.set_defaults(run=_visualize_units)


def _model(name, size=None, trained=False):
    from yad2k_style.foundations.models import load_model

    if size is None:
        return load_model(name, trained=trained)
    checks.at_least("--input-size", min(size), 1)
    if name not in registry.MODELS:
        raise YadError(f"--input-size: give a registered model name, not {name}")
    try:
        return registry.create_model(name, input_shape=(*size, 3))
    except TypeError:
        raise YadError(f"{name} is built at one input size only") from None
    except ValueError as exc:  # Keras: a layer's output would be empty, or sizes do not match
        raise YadError(f"{name} cannot be built at {size[0]}×{size[1]} ({first_line(exc)})") from None


def _axis(values, style):
    first, second = values
    return style(first) if first == second else f"{style(first)}×{style(second)}"


def _receptive_field(args):
    from yad2k_style.foundations.receptive_field import receptive_fields

    model = _model(args.model, args.input_size)
    fields = receptive_fields(model)
    by_name = {f.name: f for f in fields}
    if args.layer is not None and args.layer not in by_name:
        raise YadError(f"--layer: no layer {args.layer!r}; its layers: {', '.join(by_name)}")
    if args.position is not None:
        return _window(by_name[args.layer] if args.layer else fields[-1], args.position)
    if args.layer is not None:
        fields = [by_name[args.layer]]
    number = "{:g}".format
    rows = [("layer", "type", "n", "j", "r", "start", "")]
    rows += [(f.name, f.kind, _axis((f.y.n, f.x.n), str), _axis((f.y.j, f.x.j), number),
              _axis((f.y.r, f.x.r), number), _axis((f.y.start, f.x.start), number),
              "" if f.exact else "window contains the true field") for f in fields]
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        print("  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)).rstrip()
              + (f"  ({row[6]})" if row[6] else ""))
    return 0


def _window(field, position):
    """Print the input window of output cell ``position`` (row, col) of layer ``field``."""
    row, col = position
    if not (0 <= row < field.y.n and 0 <= col < field.x.n):
        raise YadError(f"--position: {field.name} has rows 0 to {field.y.n - 1} and columns 0 to "
                       f"{field.x.n - 1}, got {row} {col}")
    y0, x0, y1, x1 = field.window(row, col)
    pixels = field.pixel_window(row, col)
    reads = "no pixel (padding only)" if pixels is None else (
        f"rows {pixels[0]} to {pixels[2] - 1}, columns {pixels[1]} to {pixels[3] - 1}")
    print(f"{field.name} ({row}, {col}): window y {y0:g} to {y1:g}, x {x0:g} to {x1:g}; reads {reads}")
    return 0


def _visualize_units(args):
    from yad2k_style.foundations import units

    checks.at_least("--top", args.top, 1)
    checks.file_to_write("--output", args.output, args.overwrite)
    checks.file_to_write("--filters", args.filters, args.overwrite)
    layer = args.layer or (DEFAULT_LAYER if args.model == DEFAULT_MODEL else None)
    model = _model(args.model, trained=True)
    if layer is None:
        raise YadError(f"give a LAYER of {args.model}: {', '.join(units.spatial_layers(model))}")
    images = _unit_images(args.images, model.input_shape[1:3])
    patches = units.top_patches(model, layer, args.units, images, args.top)
    units.draw_patch_grid(images, patches, args.output)
    for unit, row in patches.items():
        print(f"unit {unit}: strongest {row[0].activation:.4g} (image {row[0].image}, cell {row[0].row} "
              f"{row[0].col}), weakest shown {row[-1].activation:.4g}")
    print(f"patches of {len(patches)} units of {layer}: {args.output}")
    if args.filters:
        filters = units.first_layer_filters(model)
        units.draw_filters(filters, args.filters)
        print(f"{len(filters)} first-layer filters ({filters.shape[1]}×{filters.shape[2]}): {args.filters}")
    return 0


def _unit_images(directory, size):
    import numpy as np

    from yad2k_style.images import list_images, read_image, resize_image

    if directory is None:
        from yad2k_style.detection.synthetic import EVALUATION_SEED, scenes

        pictures = [scene.image for scene in scenes(EVALUATION_SEED, DEFAULT_SCENES)]
    else:
        if not Path(directory).is_dir():
            raise YadError(f"--images {directory}: not a directory")
        pictures = [read_image(path) for path in list_images([directory])]
    return np.stack([np.asarray(resize_image(picture, size), np.float32) / 255.0 for picture in pictures])
