"""Image classification with a converted Darknet classifier (``darknet19``, ``darknet53``, ``resnet50``,
``densenet201``, ``extraction``, ``darknet9000`` …), as Darknet's ``predict_classifier`` runs one.

Each image is letterboxed to the network's input (aspect ratio kept, 0.5 grey padding), scaled to
[0, 1] and run through the network's inference form; for a WordTree classifier (a ``[softmax]`` with
``tree=``: darknet9000) the outputs, P(node | parent), become absolute probabilities and only the
leaves are ranked (Darknet's ``hierarchy_predictions`` with ``only_leaves``). The result is the
``top`` classes, most probable first.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from yad2k_style import artifacts
from yad2k_style.assets import read_classes
from yad2k_style.darknet.tree import hierarchy_probabilities
from yad2k_style.errors import FormatError, YadError
from yad2k_style.images import letterbox_image, letterbox_inputs, read_image
from yad2k_style.inference import InferenceNetwork
from yad2k_style.netspec import Softmax

TASK = "classification"


@dataclass(frozen=True)
class Classification:
    """One image's ``top`` classes: ``indices`` int (K,) into the class names and ``probabilities``
    float32 (K,), most probable first."""

    indices: np.ndarray
    probabilities: np.ndarray


class Classifier:
    """A classifier ``model`` (float32 images (B, H, W, 3) in [0, 1] → probabilities (B, N)) with its
    ``class_names`` (N, or empty: classes are then named by index) and, for a WordTree classifier, its
    ``tree`` (:class:`~yad2k_style.darknet.tree.WordTree`)."""

    def __init__(self, model, class_names=(), tree=None):
        self.model, self.tree = model, tree
        outputs = model.output_shape[-1]
        if len(model.output_shape) != 2:
            raise YadError(f"model {model.name!r}: output shape {model.output_shape} is not a vector of "
                           f"class probabilities: not a classifier")
        if class_names and len(class_names) != outputs:
            raise YadError(f"{len(class_names)} class names for a classifier of {outputs} classes")
        self.class_names = list(class_names) or [f"class {index}" for index in range(outputs)]
        self.input_size = tuple(int(n) for n in model.input_shape[1:3])
        self._network = InferenceNetwork(model)

    @classmethod
    def load(cls, model, labels=None):
        """The classifier in a model directory (from ``convert`` of a classifier cfg); ``labels`` a
        class-names file replacing the directory's own."""
        artifact = artifacts.load_artifact(artifacts.locate(model, TASK))
        task = artifact.info.get("task")
        if task != TASK:
            raise FormatError(model, f"a {task} model, not a classifier (classify takes a converted "
                                     f"classifier cfg: darknet19, darknet53, resnet50 …)")
        cfg = artifact.darknet_cfg
        softmax = [spec for spec in cfg.layers if isinstance(spec, Softmax)] if cfg else []
        tree = softmax[-1].tree if softmax else None
        names = read_classes(labels) if labels else artifact.class_names or []
        try:
            return cls(artifact.model, names, tree)
        except YadError as exc:
            raise FormatError(labels or model, str(exc)) from None

    def probabilities(self, images):
        """RGB PIL images → float32 (B, N): the network's outputs, absolute leaf probabilities for a
        WordTree classifier (other nodes 0)."""
        sizes = np.array([(image.height, image.width) for image in images], np.int32)
        batch = np.stack([letterbox_image(image, self.input_size) for image in images])
        outputs = self._network(letterbox_inputs(batch, sizes, self.input_size))
        if self.tree is not None:
            outputs = tf.where(self.tree.leaves, hierarchy_probabilities(outputs, self.tree), 0.0)
        return np.asarray(outputs, np.float32)

    def classify(self, images, top=5):
        """RGB PIL images → list of :class:`Classification`, each the ``top`` classes."""
        results = []
        for row in self.probabilities(images):
            order = np.argsort(-row, kind="stable")[:top]
            results.append(Classification(order, row[order]))
        return results

    def classify_files(self, paths, top=5, batch_size=8):
        """Yields ``(path, Classification or the FormatError of an unreadable file)`` for each path, in
        order, reading each batch's files in threads."""
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            with ThreadPoolExecutor() as workers:
                loaded = list(workers.map(_read, chunk))
            readable = [image for image in loaded if not isinstance(image, FormatError)]
            found = iter(self.classify(readable, top) if readable else ())
            for path, image in zip(chunk, loaded, strict=True):
                yield path, image if isinstance(image, FormatError) else next(found)


def _read(path):
    try:
        return read_image(Path(path))
    except FormatError as exc:
        return exc
