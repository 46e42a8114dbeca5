"""Option checks: each raises a one-line :class:`~yad2k_style.errors.YadError` that names the option,
before a command does any work."""

from pathlib import Path

from yad2k_style.errors import YadError

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


def file_to_write(option, path):
    """An output file: its folder must exist, and it must not be a directory (or None: not asked for)."""
    if not path:
        return
    if Path(path).is_dir():
        raise YadError(f"{option} {path}: is a directory; give a file name")
    if not Path(path).parent.is_dir():
        raise YadError(f"{option} {path}: directory {Path(path).parent} does not exist")


def directory_to_write(option, path):
    """An output directory: it may exist, but not as a file."""
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise YadError(f"{option} {path}: exists and is not a directory")
