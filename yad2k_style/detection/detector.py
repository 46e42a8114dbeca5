"""This domain's detectors behind the interface of YOLO's :class:`~yad2k_style.yolo.detector.Detector`
that evaluation uses: ``class_names`` and ``detect(images) → [Detections]``."""

import numpy as np
import tensorflow as tf
from PIL import Image

from yad2k_style.detection.selective_search import selective_search
from yad2k_style.images import to_rgb
from yad2k_style.yolo.detector import Detections
from yad2k_style.yolo.synthetic import SCENE_SIZE


class SceneDetector:
    """Runs ``network`` and ``decode(*outputs) → (boxes (B, K, 4) xyxy input pixels, scores (B, K),
    classes (B, K), valid (B,))`` on images of any size, stretched to S×S (float32 in [0, 1]); boxes come
    back in each image's own pixels, clipped to it.

    ``propose``: None for a network of images alone; else the most selective-search proposals per
    image, and the network takes ``(images, proposals (B, propose, 4), valid (B,))``.
    """

    def __init__(self, network, decode, class_names, input_size=SCENE_SIZE, propose=None):
        self.network, self.decode, self.class_names = network, decode, list(class_names)
        self.input_size, self.propose = input_size, propose
        self._run = tf.function(lambda inputs: self.decode(*self.network(inputs, training=False)))

    def detect(self, images, batch_size=8):
        """Detections for PIL images (any mode and size) → one :class:`Detections` per image."""
        results = []
        size = (self.input_size, self.input_size)
        for start in range(0, len(images), batch_size):
            chunk = [to_rgb(image) for image in images[start:start + batch_size]]
            resized = [image.resize(size, Image.BILINEAR) if image.size != size else image for image in chunk]
            batch = np.stack([np.asarray(image, np.float32) / 255.0 for image in resized])
            outputs = self._run(self.inputs(batch, resized))
            boxes, scores, classes, valid = (np.asarray(t) for t in outputs)
            for k, image in enumerate(chunk):
                n = int(valid[k])
                limits = np.array([image.width, image.height] * 2, np.float32)
                kept = np.clip(boxes[k, :n] * limits / self.input_size, 0, limits)
                results.append(Detections(kept.astype(np.float32), scores[k, :n].astype(np.float32),
                                          classes[k, :n].astype(np.int32)))
        return results

    def inputs(self, batch, images):
        """The network's inputs for ``batch`` (B, S, S, 3): the images, with their proposals if any."""
        if self.propose is None:
            return tf.constant(batch)
        proposals = np.zeros((len(images), self.propose, 4), np.float32)
        counts = np.zeros(len(images), np.int32)
        for k, image in enumerate(images):
            found = selective_search(np.asarray(image))[:self.propose]
            proposals[k, :len(found)], counts[k] = found, len(found)
        return tf.constant(batch), tf.constant(proposals), tf.constant(counts)
