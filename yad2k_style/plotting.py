"""Figures written to files with matplotlib's object-oriented API: no display, and no change to
pyplot's backend or open figures (so a notebook's inline plots keep working)."""

from yad2k_style.files import atomic_path


def subplots(rows=1, columns=1, figsize=None):
    """A new ``matplotlib.figure.Figure`` and its axes (one, or an array for several), outside pyplot."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    return figure, figure.subplots(rows, columns)


def save_figure(figure, path, dpi=100):
    """Write ``figure`` to ``path`` (format from the extension) atomically, cropped to what it draws
    (``bbox_inches="tight"``), so that no axis label or legend is cut at its edge."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, bbox_inches="tight", pad_inches=0.1)


#: Where :func:`label_points` tries a label, in points from its point: right, left, below right, below
#: left, above; with the text's horizontal alignment.
LABEL_PLACES = (((5, 3), "left"), ((-5, 3), "right"), ((5, -12), "left"), ((-5, -12), "right"),
                ((0, 8), "center"))


def label_points(axis, xs, ys, names, marker_pixels=5):
    """Label each point ``(xs[k], ys[k])`` of ``axis`` with ``names[k]``, at the first place of
    :data:`LABEL_PLACES` where its text covers no other point (a square of ``marker_pixels`` around it)
    and no label placed before, and stays inside the axes (the first place when none does) → the
    annotations. Call it once the axes' scales and limits are set."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    renderer = FigureCanvasAgg(axis.figure).get_renderer()
    axis.autoscale_view()  # the limits the points are drawn in (margins included)
    frame = axis.get_window_extent(renderer)
    centres = axis.transData.transform(list(zip(xs, ys, strict=True)))
    markers = [Bbox.from_extents(u - marker_pixels, v - marker_pixels, u + marker_pixels, v + marker_pixels)
               for u, v in centres]
    placed, annotations = [], []
    for index, (x, y, name) in enumerate(zip(xs, ys, names, strict=True)):
        obstacles = placed + markers[:index] + markers[index + 1:]
        for offset, align in LABEL_PLACES:
            note = axis.annotate(name, (x, y), textcoords="offset points", xytext=offset, ha=align)
            extent = note.get_window_extent(renderer)
            inside = frame.contains(extent.x0, extent.y0) and frame.contains(extent.x1, extent.y1)
            if inside and not any(extent.overlaps(other) for other in obstacles):
                break
            note.remove()
        else:
            note = axis.annotate(name, (x, y), textcoords="offset points", xytext=LABEL_PLACES[0][0])
            extent = note.get_window_extent(renderer)
        placed.append(extent)
        annotations.append(note)
    return annotations
