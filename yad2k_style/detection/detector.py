"""This domain's detectors behind YOLO's interface (:class:`~yad2k_style.yolo.detector.ImageDetector`):
``detect`` on PIL images, ``detect_files`` on files, ``detect_batch`` on a prepared batch — so
``evaluate``, ``detect`` and the comparison run them as they run YOLO."""

import numpy as np
import tensorflow as tf

from yad2k_style.detection.selective_search import selective_search
from yad2k_style.images import resize_image
from yad2k_style.yolo.detector import ImageDetector
from yad2k_style.yolo.synthetic import SCENE_SIZE


class SceneDetector(ImageDetector):
    """Runs ``network`` and ``decode(*outputs) → (boxes (B, K, 4) xyxy input pixels, scores (B, K),
    classes (B, K), valid (B,), …)`` (what follows is a subclass's); images of any size are stretched to
    S×S (bicubic, as YOLO's detector does) and the network sees float32 in [0, 1]; boxes come back in
    each image's own pixels.

    ``propose``: None for a network of images alone; else the most selective-search proposals per
    image, and the network takes ``(images, proposals (B, propose, 4), valid (B,))``.
    """

    def __init__(self, network, decode, class_names, input_size=SCENE_SIZE, propose=None):
        self.network, self.decode, self.class_names = network, decode, list(class_names)
        self.input_size, self.propose = input_size, propose
        self._run = tf.function(lambda inputs: self.decode(*self.network(inputs, training=False)))

    def prepare(self, image):
        """An RGB PIL image → uint8 (S, S, 3)."""
        size = (self.input_size, self.input_size)
        return np.asarray(image if image.size == size else resize_image(image, size), np.uint8)

    def detect_batch(self, images, image_sizes):
        """Padded detections of a prepared batch, in the original images' pixels (see the base class)."""
        outputs = self._run(self.inputs(np.asarray(images)))
        boxes, scores, classes, valid = (np.asarray(t) for t in outputs[:4])
        return (self.to_image_pixels(boxes, image_sizes), scores.astype(np.float32), classes.astype(np.int32),
                valid)

    def to_image_pixels(self, boxes, image_sizes):
        """Boxes (B, K, 4) ``xyxy`` in input pixels → in the pixels of the images of ``image_sizes``
        (B, 2) (height, width), clipped to them; float32."""
        heights, widths = (np.asarray(image_sizes, np.float32)[:, k, None] for k in (0, 1))
        limits = np.stack([widths, heights, widths, heights], -1)                    # (B, 1, 4)
        return np.clip(np.asarray(boxes) * limits / self.input_size, 0, limits).astype(np.float32)

    def inputs(self, images):
        """The network's inputs for a prepared uint8 batch: the images in [0, 1], with their proposals
        when the network takes them."""
        batch = tf.constant(images.astype(np.float32) / 255.0)
        if self.propose is None:
            return batch
        proposals = np.zeros((len(images), self.propose, 4), np.float32)
        counts = np.zeros(len(images), np.int32)
        for k, image in enumerate(images):
            found = selective_search(image)[:self.propose]
            proposals[k, :len(found)], counts[k] = found, len(found)
        return batch, tf.constant(proposals), tf.constant(counts)
