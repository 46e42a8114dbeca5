"""YOLO9000's ``[region]`` with a WordTree, decoded as Darknet's ``get_region_detections`` decodes it.

Boxes and objectness are YOLOv2's. The 9418 class outputs of each box are a tree softmax (one softmax
per sibling group of ``9k.tree``: P(node | parent)); ``hierarchy_predictions`` turns them into
absolute probabilities (the product along the path to the root), and ``hierarchy_top_prediction``
walks down from the roots, taking the most likely child while the running product stays above
``hier_thresh`` (Darknet's 0.5). The box gets that one class, with score = objectness (Darknet's
``prob[top] = objectness``), so a detection may be a general node ("animal") where the tree is unsure
of the leaf ("Siberian husky").
"""

import numpy as np
import tensorflow as tf

from yad2k_style.darknet.tree import hierarchy_probabilities, tree_depth
from yad2k_style.detection.yolo.head import grid_boxes
from yad2k_style.layers import group_ids, tree_softmax

#: Darknet's ``hier_thresh`` (``test_detector``'s default).
HIER_THRESH = 0.5


def top_prediction(probabilities, tree, hier_thresh=HIER_THRESH):
    """Darknet's ``hierarchy_top_prediction`` for each row of ``probabilities`` (M, N) (absolute, from
    :func:`hierarchy_probabilities`) → int32 (M,) node indices.

    From group 0 (the roots): take the group's most likely node (the first of equals; node 0 when no
    value is above 0); while the running product of the maxima taken stays above ``hier_thresh``,
    descend into its children, ending at a leaf; otherwise stop, at the node whose children this group
    is (or, in group 0, at the node taken)."""
    size, groups = tree.size, len(tree.group_sizes)
    ids = tf.constant(group_ids(tree.group_sizes), tf.int32)
    by_node = tf.transpose(probabilities)                                         # (N, M)
    best = tf.math.unsorted_segment_max(by_node, ids, groups)                     # (G, M)
    is_best = (by_node == tf.gather(best, ids)) & (by_node > 0)
    nodes = tf.where(is_best, tf.range(size)[:, None], size)
    best_node = tf.math.unsorted_segment_min(nodes, ids, groups)                  # (G, M)
    best_node = tf.where(best_node >= size, 0, best_node)
    best = tf.maximum(best, 0.0)
    children = tf.constant(tree.children, tf.int32)
    group_parent = tf.constant([tree.parents[offset] for offset in tree.offsets], tf.int32)
    rows = tf.range(tf.shape(probabilities)[0])
    group = tf.zeros_like(rows)
    running = tf.ones_like(probabilities[:, 0])
    result, done = tf.zeros_like(rows), tf.zeros_like(rows, tf.bool)
    for _ in range(tree_depth(tree)):
        where = tf.stack([group, rows], axis=-1)
        node, value = tf.gather_nd(best_node, where), tf.gather_nd(best, where)
        deeper = running * value > hier_thresh
        child = tf.gather(children, node)
        answer = tf.where(deeper, node, tf.where(group == 0, node, tf.gather(group_parent, group)))
        finished = ~done & (~deeper | (child < 0))
        result = tf.where(finished, answer, result)
        running = tf.where(deeper & ~done, running * value, running)
        done = done | finished
        group = tf.where(done, group, child)
    return result


def tree_region_head(features, anchors, tree, hier_thresh=HIER_THRESH):
    """Decode YOLO9000's raw output ``features`` (batch, H, W, A·(5 + N)) with ``anchors`` (A, 2) in grid
    cells and the :class:`~yad2k_style.darknet.tree.WordTree` ``tree`` (N nodes).

    Returns ``box_xy`` and ``box_wh`` (batch, H·W·A, 2) relative to the image, and ``box_scores``
    (batch, H·W·A, N): the objectness at the box's top prediction (:func:`top_prediction`), zero
    elsewhere.
    """
    features = tf.convert_to_tensor(features)
    anchors = np.asarray(anchors, np.float32).reshape(-1, 2)
    count, size = len(anchors), tree.size
    shape = tf.shape(features)
    features = tf.reshape(features, [-1, shape[1], shape[2], count, 5 + size])
    box_xy, box_wh = (tf.reshape(t, [shape[0], -1, 2]) for t in grid_boxes(features, anchors))
    objectness = tf.reshape(tf.sigmoid(features[..., 4]), [-1])
    conditional = tree_softmax(tf.reshape(features[..., 5:], [-1, size]), list(tree.group_sizes))
    top = top_prediction(hierarchy_probabilities(conditional, tree), tree, hier_thresh)
    box_scores = tf.one_hot(top, size, dtype=features.dtype) * objectness[:, None]
    return box_xy, box_wh, tf.reshape(box_scores, [shape[0], -1, size])
