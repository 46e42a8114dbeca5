"""Figures: labelled points that do not cover each other, and saving that cuts no label off (the
detectors' figure had both faults: R-FCN's label over SSD's, its x-axis label cut at the bottom)."""

import itertools

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from yad2k_style.plotting import label_points, save_figure, subplots

#: The detectors' figure: images per second and mAP@0.5 of YOLOv2, SSD, Faster R-CNN, R-FCN, Fast R-CNN
#: and R-CNN (bench/detectors.json), where R-FCN's and SSD's points nearly touch.
POINTS = {"YOLOv2": (410, 0.966), "SSD": (281, 0.9958), "Faster R-CNN": (181, 0.9933), "R-FCN": (245, 0.9966),
          "Fast R-CNN": (17.9, 0.9862), "R-CNN": (8.7, 0.9888)}


def test_labels_cover_no_label_and_no_point_and_stay_in_the_axes():
    figure, axis = subplots(figsize=(6, 4))
    xs, ys = zip(*POINTS.values(), strict=True)
    axis.scatter(xs, ys)
    axis.set_xscale("log")
    axis.margins(x=0.15, y=0.15)
    notes = label_points(axis, xs, ys, list(POINTS))
    renderer = FigureCanvasAgg(figure).get_renderer()
    extents = [note.get_window_extent(renderer) for note in notes]
    frame = axis.get_window_extent(renderer)
    points = axis.transData.transform(list(zip(xs, ys, strict=True)))
    assert [note.get_text() for note in notes] == list(POINTS)
    for a, b in itertools.combinations(extents, 2):
        assert not a.overlaps(b)
    for k, extent in enumerate(extents):
        assert frame.contains(extent.x0, extent.y0) and frame.contains(extent.x1, extent.y1)
        assert not any(extent.contains(*point) for j, point in enumerate(points) if j != k)
    assert notes[3].get_horizontalalignment() == "right"  # R-FCN's label moved left of its point


def test_saved_figures_keep_their_axis_labels(tmp_path):
    figure, axis = subplots(figsize=(3, 2))
    axis.plot([1, 2], [1, 2])
    axis.set_xlabel("a long axis label, well below the axes", fontsize=14)
    save_figure(figure, tmp_path / "f.png")
    pixels = np.asarray(Image.open(tmp_path / "f.png").convert("L"))
    rows_with_ink = np.where((pixels < 128).any(axis=1))[0]
    assert rows_with_ink.max() < pixels.shape[0] - 5          # the label's bottom is inside the image
    columns_with_ink = np.where((pixels[rows_with_ink.max() - 5:] < 128).any(axis=0))[0]
    assert columns_with_ink.min() > 0 and columns_with_ink.max() < pixels.shape[1] - 1
