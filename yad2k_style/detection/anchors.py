"""Anchor (default box) grids: boxes of several sizes and aspect ratios centred on every cell of a
feature map, as Faster R-CNN's RPN and SSD place them."""

import numpy as np


def anchor_grid(feature_shape, stride, sizes, ratios=(1.0,)):
    """Anchors of a ``feature_shape`` (rows, columns) map whose cells are ``stride`` pixels apart →
    float32 (rows × columns × A, 4) ``xyxy`` pixels, A = len(sizes) × len(ratios).

    Cell (i, j) is centred on ``((j + 0.5) stride, (i + 0.5) stride)``; each ``size`` s and ``ratio``
    r = w / h gives a box of ``w = s √r``, ``h = s / √r`` (area s²). Order: row by row, then the cell's
    anchors size-major — what a head's (rows, columns, A × k) output reshaped to (−1, k) lines up with.
    """
    rows, columns = feature_shape
    sizes, ratios = np.asarray(sizes, np.float64), np.asarray(ratios, np.float64)
    widths = (sizes[:, None] * np.sqrt(ratios)[None, :]).ravel()
    heights = (sizes[:, None] / np.sqrt(ratios)[None, :]).ravel()
    y, x = np.meshgrid((np.arange(rows) + 0.5) * stride, (np.arange(columns) + 0.5) * stride, indexing="ij")
    centres = np.stack([x.ravel(), y.ravel()], -1)[:, None, :]                 # (cells, 1, 2)
    half = np.stack([widths, heights], -1)[None, :, :] / 2                     # (1, A, 2)
    return np.concatenate([centres - half, centres + half], -1).reshape(-1, 4).astype(np.float32)
