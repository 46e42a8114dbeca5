"""Option checks: each raises a one-line :class:`~yad2k_style.errors.YadError` that names the option,
before a command does any work."""

from pathlib import Path

from yad2k_style.errors import YadError
from yad2k_style.runtimes import EXTRA, RUNTIMES

GRID = 32  # YOLOv2's stride: input sizes are multiples of it


def at_least(option, value, minimum):
    if not value >= minimum:  # NaN too
        raise YadError(f"{option} must be at least {minimum}, got {value}")


def between(option, value, low, high):
    if not low <= value <= high:
        raise YadError(f"{option} must be between {low} and {high}, got {value}")


def positive(option, value):
    if not value > 0:  # NaN too
        raise YadError(f"{option} must be positive, got {value}")


def input_size(option, size):
    """``size = (height, width)``: positive multiples of 32, or None (the model's own)."""
    if size is not None and any(side < GRID or side % GRID for side in size):
        raise YadError(f"{option} must be two positive multiples of {GRID} (height width), "
                       f"got {' '.join(map(str, size))}")


def add_overwrite_option(parser):
    """``--overwrite``, the one way every command is allowed to replace output files that exist."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace output files that exist (default: refuse, naming the first)")


def file_to_write(option, path, overwrite=False):
    """An output file: its folder must exist, it must not be a directory, and it must not exist unless
    ``overwrite`` (``--overwrite``). None or '': not asked for."""
    if not path:
        return
    if Path(path).is_dir():
        raise YadError(f"{option} {path}: is a directory; give a file name")
    if not Path(path).parent.is_dir():
        raise YadError(f"{option} {path}: directory {Path(path).parent} does not exist")
    _replaceable(option, path, overwrite)


def files_to_write(option, paths, overwrite=False):
    """Output files inside an output folder (``detect --out``'s annotated images, say): none may exist
    unless ``overwrite``; the folder itself is made when the first is written."""
    for path in paths:
        if Path(path).is_dir():
            raise YadError(f"{option} {path}: is a directory")
        _replaceable(option, path, overwrite)


def _replaceable(option, path, overwrite):
    """An output that exists is refused unless ``overwrite``."""
    if not overwrite and Path(path).exists():
        raise YadError(f"{option} {path}: exists; give --overwrite to replace it")


def directory_to_write(option, path):
    """An output directory: it may exist, but not as a file."""
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise YadError(f"{option} {path}: exists and is not a directory")


def add_runtime_option(parser):
    """``--runtime``: what runs the network (:mod:`yad2k_style.runtimes`)."""
    parser.add_argument("--runtime", choices=RUNTIMES, default="keras",
                        help="what runs the network: keras (ours), or onnxruntime / openvino (the network "
                        f"exported to ONNX, run there; pip install 'yad2k-style[{EXTRA}]') (default keras)")
