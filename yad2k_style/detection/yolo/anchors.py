"""Anchor shapes by k-means over a dataset's box sizes, with YOLOv2's distance ``1 - IoU``."""

from dataclasses import dataclass

import numpy as np

from yad2k_style.boxes import wh_iou
from yad2k_style.errors import YadError


@dataclass(frozen=True)
class AnchorClusters:
    """``anchors`` (k, 2) ``(w, h)`` sorted by area, in the units of the input sizes; ``mean_iou``:
    mean over boxes of the best IoU with an anchor (boxes centred together); ``boxes``: how many
    boxes were clustered."""

    anchors: np.ndarray
    mean_iou: float
    boxes: int


def kmeans_anchors(wh, k=5, seed=0, iterations=300, restarts=5):
    """Cluster box sizes ``wh`` (N, 2) into ``k`` anchors; best of ``restarts`` k-means++ runs."""
    wh = np.asarray(wh, np.float64).reshape(-1, 2)
    wh = wh[np.all(wh > 0, axis=1)]
    if len(wh) < k:
        raise YadError(f"clustering {k} anchors needs at least {k} boxes with positive size; "
                       f"the dataset has {len(wh)}")
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        centroids = _kmeans(wh, _plus_plus(wh, k, rng), iterations)
        result = AnchorClusters(centroids[np.argsort(np.prod(centroids, axis=1))],
                                float(np.mean(np.max(wh_iou(wh, centroids), axis=1))), len(wh))
        if best is None or result.mean_iou > best.mean_iou:
            best = result
    return AnchorClusters(best.anchors.astype(np.float32), best.mean_iou, best.boxes)


def dataset_anchors(dataset, input_size, k=5, seed=0):
    """k-means anchors for a :class:`~yad2k_style.detection.labels.LabelledDataset`'s boxes, in grid cells
    of a network input of ``input_size = (height, width)`` pixels (32-pixel cells)."""
    height, width = input_size[:2]
    return kmeans_anchors(dataset.box_sizes() * (width // 32, height // 32), k=k, seed=seed)


def _plus_plus(wh, k, rng):
    centroids = [wh[rng.integers(len(wh))]]
    for _ in range(1, k):
        distance = 1 - np.max(wh_iou(wh, np.array(centroids)), axis=1)
        total = distance.sum()
        index = rng.integers(len(wh)) if total == 0 else rng.choice(len(wh), p=distance / total)
        centroids.append(wh[index])
    return np.array(centroids)


def _kmeans(wh, centroids, iterations):
    assignment = None
    for _ in range(iterations):
        new = np.argmax(wh_iou(wh, centroids), axis=1)
        if assignment is not None and np.array_equal(new, assignment):
            break
        assignment = new
        for j in range(len(centroids)):
            members = wh[assignment == j]
            if len(members):
                centroids[j] = members.mean(axis=0)
    return centroids
