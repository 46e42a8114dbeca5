"""Darknet's WordTree (YOLO9000, darknet9000): a ``.tree`` file of one node per line, ``name parent``
(parent -1 for a root), siblings on consecutive lines.

Each run of consecutive lines with the same parent is a *group*; a tree softmax takes one softmax per
group, so a node's value is P(node | parent), and P(node) is the product along its path to a root.
Group 0 is the roots; ``child[i]`` is the group of node i's children (-1 for a leaf). This is
``read_tree`` of Darknet's ``tree.c``.
"""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yad2k_style.errors import FormatError
from yad2k_style.files import read_text


@dataclass(frozen=True)
class WordTree:
    """A parsed ``.tree``; ``source`` is the file as the cfg names it (``data/9k.tree``). Node ``i``
    has ``names[i]`` (the file's first column: WordNet ids in ``9k.tree``), ``parents[i]`` (-1 for a
    root), ``children[i]`` (its children's group, -1 for a leaf); group ``g`` is the nodes
    ``offsets[g] : offsets[g] + group_sizes[g]``."""

    source: str
    names: tuple
    parents: tuple
    group_sizes: tuple

    @property
    def size(self):
        return len(self.parents)

    @property
    def offsets(self):
        return tuple(int(v) for v in np.cumsum((0,) + self.group_sizes[:-1]))

    @property
    def children(self):
        children = [-1] * self.size
        for group, offset in enumerate(self.offsets):
            parent = self.parents[offset]
            if parent >= 0:
                children[parent] = group
        return tuple(children)

    @property
    def leaves(self):
        """A bool per node: True for the nodes that are nobody's parent."""
        leaf = np.ones(self.size, bool)
        leaf[[p for p in self.parents if p >= 0]] = False
        return leaf


def read_tree(path, source=None):
    """Parse the ``.tree`` file ``path`` → :class:`WordTree` (``source`` defaults to ``path``).

    A line is ``name parent``; a parent must be an earlier node (or -1), and siblings must be on
    consecutive lines (a parent's children in two runs would make two softmax groups): otherwise a
    :class:`FormatError` naming the file and line."""
    names, parents, sizes, seen = [], [], [], set()
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            name, parent = fields[0], int(fields[1]) if len(fields) > 1 else -1
        except ValueError:
            raise FormatError(path, f"expected 'name parent_index', found {line.strip()!r}",
                              line=number) from None
        if not -1 <= parent < len(names):
            raise FormatError(path, f"parent {parent} of {name!r} is not an earlier node", line=number)
        if parents and parent == parents[-1]:
            sizes[-1] += 1
        else:
            if parent in seen:
                raise FormatError(path, f"the children of node {parent} are not on consecutive lines",
                                  line=number)
            sizes.append(1)
            seen.add(parent)
        names.append(name)
        parents.append(parent)
    if not names:
        raise FormatError(path, "no nodes: not a Darknet .tree file")
    return WordTree(str(source or Path(path)), tuple(names), tuple(parents), tuple(sizes))


def node_names(tree, path):
    """The nodes' display names from a names file of one line per node (``9k.names``), in tree order;
    a name shared by several nodes (WordNet has two "food"s) gets the node's id from the tree:
    ``"food (n07555863)"``, so every class name is unique."""
    lines = [line.strip() for line in read_text(path).splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) != tree.size:
        raise FormatError(path, f"{len(lines)} names for the {tree.size} nodes of {tree.source}")
    counts = Counter(lines)
    return [f"{name} ({node})" if counts[name] > 1 else name
            for name, node in zip(lines, tree.names, strict=True)]


def tree_depth(tree):
    """The number of nodes on the longest path from a root to a leaf."""
    depth = np.zeros(tree.size, int)
    for node, parent in enumerate(tree.parents):
        depth[node] = 1 + (depth[parent] if parent >= 0 else 0)
    return int(depth.max())


def hierarchy_probabilities(conditional, tree):
    """P(node) from P(node | parent) (..., N) (a tensor): the product along each node's path to its
    root (Darknet's ``hierarchy_predictions``)."""
    import tensorflow as tf  # only here: parsing a cfg needs no TensorFlow

    parents = np.where(np.asarray(tree.parents) < 0, tree.size, tree.parents)  # a root's parent: 1
    absolute = conditional
    ones = tf.ones_like(conditional[..., :1])
    for _ in range(tree_depth(tree) - 1):
        absolute = conditional * tf.gather(tf.concat([absolute, ones], axis=-1), parents, axis=-1)
    return absolute
