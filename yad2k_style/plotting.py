"""Figures written to files with matplotlib's object-oriented API: no display, and no change to
pyplot's backend or open figures (so a notebook's inline plots keep working)."""

from yad2k_style.files import atomic_path


def subplots(rows=1, columns=1, figsize=None):
    """A new ``matplotlib.figure.Figure`` and its axes (one, or an array for several), outside pyplot."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    return figure, figure.subplots(rows, columns)


def save_figure(figure, path, dpi=100):
    """Write ``figure`` to ``path`` (format from the extension) atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi)
