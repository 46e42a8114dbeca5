"""Figures written to files: matplotlib without a display, saved atomically."""

from yad2k_style.files import atomic_path


def pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def save_figure(figure, path, dpi=100):
    """Write ``figure`` to ``path`` (format from the extension) atomically, then close it."""
    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=dpi)
    finally:
        pyplot().close(figure)
