"""Pooling a feature map over regions: RoI pooling (Fast R-CNN), RoIAlign (Mask R-CNN) and
position-sensitive RoI pooling (R-FCN), all by bilinear sampling
(``tf.image.crop_and_resize``'s, written with gathers).

A region is an ``xyxy`` box in input pixels; a feature map of stride ``s`` has cell (i, j) centred on
pixel ``((j + 0.5) s, (i + 0.5) s)``. The region is cut into ``size × size`` bins and each bin is
sampled at ``sampling × sampling`` points evenly inside it (at the centres of a finer grid); a point is
read bilinearly, clamped to the map's edge cells when it lies within one cell outside the map and 0
farther out (Detectron's RoIAlign rule). RoI pooling takes each bin's maximum over its points (no
quantisation of the region: "crop_and_resize + max-pool"); RoIAlign their mean.
"""

import tensorflow as tf


def roi_pool(features, boxes, box_indices, size, stride, sampling=2, mode="max"):
    """Pool ``features`` (B, H, W, C) over ``boxes`` (R, 4) ``xyxy`` input pixels of images
    ``box_indices`` (R,) → (R, size, size, C). ``mode``: ``"max"`` (RoI pooling) or ``"average"``
    (RoIAlign)."""
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', not {mode!r}")
    points = sample_grid(features, boxes, box_indices, size * sampling, stride)    # (R, n, n, C)
    pool = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    return pool(points, sampling, sampling, "VALID")


def position_sensitive_pool(score_maps, boxes, box_indices, size, stride, sampling=2):
    """R-FCN's position-sensitive RoI pooling: ``score_maps`` (B, H, W, size² × K) hold, for each bin
    (i, j) of a region in row-major order, K maps; bin (i, j) of each box averages its own group,
    channels ``[(i size + j) K, (i size + j + 1) K)`` → (R, size, size, K). The per-region work is this
    pooling and a vote (the mean over bins), not a network."""
    groups = size * size
    channels = score_maps.shape[-1]
    if channels is None or channels % groups:
        raise ValueError(f"score maps with {channels} channels: not {groups} groups of one size")
    pooled = roi_pool(score_maps, boxes, box_indices, size, stride, sampling, "average")  # (R, k, k, k²K)
    pooled = tf.reshape(pooled, (-1, groups, groups, channels // groups))   # (R, bin, group, K)
    own = tf.linalg.diag_part(tf.transpose(pooled, (0, 3, 1, 2)))           # (R, K, bin): bin = group
    return tf.reshape(tf.transpose(own, (0, 2, 1)), (-1, size, size, channels // groups))


def sample_grid(features, boxes, box_indices, points, stride):
    """Bilinear samples of ``features`` (B, H, W, C) at the centres of a ``points × points`` grid over
    each box (R, 4) ``xyxy`` pixels of image ``box_indices`` (R,) → (R, points, points, C); with
    ``stride`` 1 and an image for ``features``, R-CNN's warp of each region to points × points.

    ``tf.image.crop_and_resize``'s arithmetic (the same corners, weights and order of operations), by
    gathers: ONNX has no such operation, and what tf2onnx makes of it OpenVINO cannot read."""
    features = tf.convert_to_tensor(features)
    boxes = tf.cast(boxes, features.dtype)
    padded = tf.pad(features, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")  # edge cells repeated
    rows, columns = tf.shape(padded)[1], tf.shape(padded)[2]
    # in cells of the padded map: pixel p is at p / stride − 0.5 + 1; the samples at the centres of
    # ``points`` equal steps over the box
    x0, y0, x1, y1 = tf.unstack(boxes / stride + 0.5, axis=-1)
    centres = (tf.range(points, dtype=features.dtype) + 0.5) / tf.cast(points, features.dtype)
    ys = y0[:, None] + (y1 - y0)[:, None] * centres                                   # (R, n)
    xs = x0[:, None] + (x1 - x0)[:, None] * centres
    (top, bottom, y_weight, y_inside), (left, right, x_weight, x_inside) = (
        _neighbours(ys, rows), _neighbours(xs, columns))
    flat = tf.reshape(padded, (-1, tf.shape(padded)[3]))
    base = (tf.cast(box_indices, tf.int32) * rows)[:, None, None]

    def gather(row, column):                                    # rows (R, n), columns (R, n) → (R, n, n, C)
        return tf.gather(flat, ((base + row[:, :, None]) * columns + column[:, None, :]))

    x_weight = x_weight[:, None, :, None]
    upper = gather(top, left) + (gather(top, right) - gather(top, left)) * x_weight
    lower = gather(bottom, left) + (gather(bottom, right) - gather(bottom, left)) * x_weight
    sampled = upper + (lower - upper) * y_weight[:, :, None, None]
    inside = tf.logical_and(y_inside[:, :, None], x_inside[:, None, :])[..., None]
    return tf.where(inside, sampled, tf.zeros((), sampled.dtype))


def _neighbours(coordinates, size):
    """Sample coordinates (R, n) in cells of an axis of ``size`` cells → the cells below and above each
    (int32, clamped), its weight towards the upper one, and whether it lies on the axis (samples off it
    read 0)."""
    last = tf.cast(size - 1, coordinates.dtype)
    low = tf.floor(coordinates)
    weight = coordinates - low
    inside = tf.logical_and(coordinates >= 0, coordinates <= last)
    low = tf.clip_by_value(low, 0, last)
    high = tf.clip_by_value(tf.math.ceil(coordinates), 0, last)
    return tf.cast(low, tf.int32), tf.cast(high, tf.int32), weight, inside
