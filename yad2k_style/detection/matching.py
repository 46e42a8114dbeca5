"""Which anchors (or proposals) learn which true box: labels by IoU, a forced match per true box, and
balanced sampling — Faster R-CNN's RPN and head, and SSD's matching, with their thresholds."""

from dataclasses import dataclass

import numpy as np

from yad2k_style.boxes import pairwise_iou

POSITIVE, NEGATIVE, IGNORED = 1, 0, -1


@dataclass(frozen=True)
class Assignment:
    """Per anchor: ``labels`` int8 (N,) :data:`POSITIVE` / :data:`NEGATIVE` / :data:`IGNORED`;
    ``matches`` int64 (N,) the index of its true box (of the best IoU; −1 when there are none);
    ``ious`` float64 (N,) that IoU (0 without true boxes)."""

    labels: np.ndarray
    matches: np.ndarray
    ious: np.ndarray


def assign(anchors, true_boxes, positive_iou, negative_iou, *, negative_floor=0.0, force_match=True):
    """Label ``anchors`` (N, 4) against ``true_boxes`` (M, 4), both ``xyxy`` in one unit.

    An anchor is positive when its best IoU is ≥ ``positive_iou``; negative when it is below
    ``negative_iou`` and at least ``negative_floor`` (Fast R-CNN's background is IoU in [0.1, 0.5));
    ignored otherwise. With ``force_match`` every true box also makes its best anchors positive (all
    that share the highest IoU, when above 0), so no object goes without one — Faster R-CNN's second
    rule, SSD's first. Those anchors match that box.

    RPN: ``assign(a, t, 0.7, 0.3)``; SSD: ``assign(a, t, 0.5, 0.5)``; Fast R-CNN's RoIs:
    ``assign(r, t, 0.5, 0.5, negative_floor=0.1, force_match=False)``.
    """
    anchors = np.asarray(anchors, np.float64).reshape(-1, 4)
    true_boxes = np.asarray(true_boxes, np.float64).reshape(-1, 4)
    count = len(anchors)
    if len(true_boxes) == 0:
        labels = np.full(count, NEGATIVE if negative_floor <= 0 else IGNORED, np.int8)
        return Assignment(labels, np.full(count, -1, np.int64), np.zeros(count))
    overlaps = pairwise_iou(anchors, true_boxes)                                 # (N, M)
    matches = overlaps.argmax(1)
    ious = overlaps[np.arange(count), matches]
    labels = np.full(count, IGNORED, np.int8)
    labels[(ious < negative_iou) & (ious >= negative_floor)] = NEGATIVE
    labels[ious >= positive_iou] = POSITIVE
    if force_match:
        best = overlaps.max(0)                                                   # (M,)
        anchor_index, box_index = np.nonzero((overlaps == best[None, :]) & (best[None, :] > 0))
        labels[anchor_index] = POSITIVE
        matches[anchor_index] = box_index
        ious[anchor_index] = overlaps[anchor_index, box_index]
    return Assignment(labels, matches, ious)


def sample(labels, count, positive_fraction, rng):
    """``labels`` with at most ``count`` non-ignored entries, positives at most ``positive_fraction``
    of them (Faster R-CNN: 256 anchors, half; 128 RoIs, a quarter), the rest negatives; the ones left
    out become :data:`IGNORED`. Chosen uniformly with ``rng`` (a NumPy Generator)."""
    labels = np.array(labels, np.int8)
    positives = np.flatnonzero(labels == POSITIVE)
    keep_positive = min(len(positives), int(count * positive_fraction))
    labels[rng.choice(positives, len(positives) - keep_positive, replace=False)] = IGNORED
    negatives = np.flatnonzero(labels == NEGATIVE)
    keep_negative = min(len(negatives), count - keep_positive)
    labels[rng.choice(negatives, len(negatives) - keep_negative, replace=False)] = IGNORED
    return labels
