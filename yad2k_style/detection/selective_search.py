"""Selective search (Uijlings et al., 2013): R-CNN's region proposals from a segmentation.

1. An over-segmentation: Felzenszwalb and Huttenlocher's graph-based one (scikit-image's
   ``felzenszwalb``).
2. Hierarchical grouping (ours): repeatedly merge the two most similar neighbouring regions until one
   is left; every region met on the way, initial or merged, proposes its bounding box.

The similarity of regions a and b is a weighted sum of four terms, each in [0, 1]:
- colour: the intersection of their colour histograms (25 bins per channel, L1-normalised);
- texture: the intersection of their texture histograms (Gaussian derivatives, σ = 1, in 8 directions
  per channel, half-rectified, 10 bins each, L1-normalised);
- size: ``1 − (|a| + |b|) / |image|``, so small regions merge first;
- fill: ``1 − (|box(a ∪ b)| − |a| − |b|) / |image|``, so regions that fill each other's gaps merge first.
A merged region's histograms are the size-weighted means of its parts'.
"""

from dataclasses import dataclass

import numpy as np

COLOUR_BINS, TEXTURE_BINS, ORIENTATIONS = 25, 10, 8
ALL_SIMILARITIES = (1.0, 1.0, 1.0, 1.0)  # weights of (colour, texture, size, fill)


@dataclass
class Region:
    """A region: ``box`` ``[x_min, y_min, x_max, y_max]`` in pixels (inclusive-exclusive), ``size`` in
    pixels, ``colour`` and ``texture`` histograms, and the ids of its ``neighbours``."""

    box: np.ndarray
    size: int
    colour: np.ndarray
    texture: np.ndarray
    neighbours: set


def segment(image, scale=100, sigma=0.8, min_size=20):
    """Felzenszwalb–Huttenlocher labels (H, W) int of an RGB image (H, W, 3) uint8."""
    from skimage.segmentation import felzenszwalb

    return felzenszwalb(np.asarray(image), scale=scale, sigma=sigma, min_size=min_size)


def initial_regions(image, labels):
    """The :class:`Region` of each label of ``labels`` (H, W), on ``image`` (H, W, 3) uint8 → dict."""
    image = np.asarray(image, np.float64)
    ids, index = np.unique(np.asarray(labels), return_inverse=True)
    index = index.reshape(labels.shape)
    texture_maps = _texture_responses(image)                                  # (H, W, 3 × 8)
    colour = _histograms(index, len(ids), image, COLOUR_BINS, 256.0)
    top = max(texture_maps.max(), 1e-12) * (1 + 1e-9)                         # the largest in the last bin
    texture = _histograms(index, len(ids), texture_maps, TEXTURE_BINS, top)
    sizes = np.bincount(index.ravel(), minlength=len(ids))
    rows, columns = np.indices(index.shape)
    count = len(ids)
    boxes = np.stack([_extreme(np.minimum, index, columns, count), _extreme(np.minimum, index, rows, count),
                      _extreme(np.maximum, index, columns, count) + 1,
                      _extreme(np.maximum, index, rows, count) + 1], -1)
    regions = {int(region_id): Region(boxes[k], int(sizes[k]), colour[k], texture[k], set())
               for k, region_id in enumerate(ids)}
    for a, b in _touching_pairs(labels):
        regions[a].neighbours.add(b)
        regions[b].neighbours.add(a)
    return regions


def _histograms(index, count, maps, bins, top):
    """Each region's histograms of each map (``bins`` bins over [0, ``top``)), concatenated and
    L1-normalised → (count, maps × bins)."""
    flat = index.ravel()
    binned = np.minimum((maps.reshape(-1, maps.shape[-1]) / top * bins).astype(np.int64), bins - 1)
    histograms = np.stack([np.bincount(flat * bins + binned[:, k], minlength=count * bins)
                           for k in range(maps.shape[-1])], 1)                 # (count × bins, maps)
    histograms = histograms.reshape(count, bins, -1).transpose(0, 2, 1).reshape(count, -1).astype(np.float64)
    return histograms / np.maximum(histograms.sum(1, keepdims=True), 1)


def _extreme(function, index, values, count):
    """Per region the minimum or maximum (``function``: np.minimum or np.maximum) of ``values``."""
    out = np.full(count, np.iinfo(np.int64).max if function is np.minimum else -1, np.int64)
    function.at(out, index.ravel(), values.ravel())
    return out


def similarity(a, b, image_size, weights=ALL_SIMILARITIES):
    """The weighted similarity of regions ``a`` and ``b`` in an image of ``image_size`` pixels."""
    colour = np.minimum(a.colour, b.colour).sum()
    texture = np.minimum(a.texture, b.texture).sum()
    size = 1.0 - (a.size + b.size) / image_size
    union = _union(a.box, b.box)
    fill = 1.0 - (np.prod(union[2:] - union[:2]) - a.size - b.size) / image_size
    return float(np.dot(weights, (colour, texture, size, fill)))


def group(regions, image_size, weights=ALL_SIMILARITIES):
    """Merge ``regions`` (dict id → :class:`Region`, changed in place) most similar pair first until
    one is left (or no two touch) → the merges ``[(a, b, new id)]`` in order; new ids count on from
    the largest."""
    pairs = {(a, b): similarity(regions[a], regions[b], image_size, weights)
             for a in regions for b in regions[a].neighbours if a < b}
    merges, next_id = [], max(regions) + 1
    while pairs:
        a, b = max(pairs, key=lambda pair: (pairs[pair], -pair[0], -pair[1]))  # ties: the lowest ids
        ra, rb = regions[a], regions[b]
        size = ra.size + rb.size
        merged = Region(_union(ra.box, rb.box), size, (ra.colour * ra.size + rb.colour * rb.size) / size,
                        (ra.texture * ra.size + rb.texture * rb.size) / size,
                        (ra.neighbours | rb.neighbours) - {a, b})
        regions[next_id] = merged
        pairs = {pair: value for pair, value in pairs.items() if a not in pair and b not in pair}
        for neighbour in merged.neighbours:
            regions[neighbour].neighbours -= {a, b}
            regions[neighbour].neighbours.add(next_id)
            pairs[(neighbour, next_id)] = similarity(regions[neighbour], merged, image_size, weights)
        merges.append((a, b, next_id))
        next_id += 1
    return merges


def selective_search(image, scales=(50, 150), min_side=4, weights=ALL_SIMILARITIES):
    """Proposals for an RGB image (H, W, 3) uint8 → float32 (P, 4) ``xyxy`` pixels, distinct, each side
    at least ``min_side``: the boxes of every region of the grouping, over a Felzenszwalb segmentation
    at each of ``scales`` (more scales, more proposals and recall). Order: each hierarchy's merged
    regions from the largest down, then its initial regions."""
    image = np.asarray(image)
    height, width = image.shape[:2]
    boxes = []
    for scale in scales:
        regions = initial_regions(image, segment(image, scale=scale))
        initial = sorted(regions)
        merges = group(regions, height * width, weights)
        boxes += [regions[new].box for _, _, new in reversed(merges)] + [regions[i].box for i in initial]
    proposals = np.array(boxes, np.float32).reshape(-1, 4)
    keep = np.all(proposals[:, 2:] - proposals[:, :2] >= min_side, axis=1)
    _, first = np.unique(proposals[keep], axis=0, return_index=True)
    return proposals[keep][np.sort(first)]


def _union(a, b):
    """The bounding box of boxes ``a`` and ``b``."""
    return np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])


def scene_proposals(job):
    """``job = (seed, first, count, max_proposals)`` → the proposals of scenes first … first + count − 1
    of stream ``seed``: float32 (count, max_proposals, 4) zero-padded and int32 (count,) counts. Imports
    no TensorFlow (it runs in worker processes)."""
    from yad2k_style.detection.synthetic import scene

    seed, first, count, max_proposals = job
    boxes = np.zeros((count, max_proposals, 4), np.float32)
    counts = np.zeros(count, np.int32)
    for k in range(count):
        found = selective_search(scene(seed, first + k).image)[:max_proposals]
        boxes[k, :len(found)], counts[k] = found, len(found)
    return boxes, counts


def _texture_responses(image):
    """Half-rectified Gaussian derivatives (σ = 1) of each channel in 8 directions → (H, W, 24)."""
    from scipy.ndimage import gaussian_filter

    responses = []
    for channel in range(image.shape[-1]):
        dy = gaussian_filter(image[..., channel], 1.0, order=(1, 0))
        dx = gaussian_filter(image[..., channel], 1.0, order=(0, 1))
        for k in range(ORIENTATIONS):
            angle = 2 * np.pi * k / ORIENTATIONS
            responses.append(np.maximum(np.cos(angle) * dx + np.sin(angle) * dy, 0))
    return np.stack(responses, -1)


def _touching_pairs(labels):
    """The pairs (a, b), a < b, of labels that touch horizontally or vertically."""
    pairs = set()
    for first, second in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        differ = first != second
        a, b = first[differ], second[differ]
        pairs.update(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))
    return pairs
