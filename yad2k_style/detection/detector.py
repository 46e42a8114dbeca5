"""What every detector offers: :class:`ImageDetector` (``detect`` on PIL images, ``detect_files`` on
files, ``detect_batch`` on a prepared batch) and its :class:`Detections`; :class:`SceneDetector`, the
region detectors and SSD behind it, so that ``evaluate``, ``detect`` and the comparison run every
family as they run YOLO (:class:`yad2k_style.detection.yolo.Detector`)."""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from yad2k_style.detection.selective_search import selective_search
from yad2k_style.detection.synthetic import SCENE_SIZE
from yad2k_style.errors import FormatError
from yad2k_style.images import read_image, resize_image, to_rgb


class Detections(NamedTuple):
    """One image's detections, best score first.

    ``boxes``: float32 (K, 4) pixels of the original image, ``(x_min, y_min, x_max, y_max)``, clipped
    to the image; ``scores``: float32 (K,) = confidence × class probability; ``classes``: int32 (K,).
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray


#: The course's score threshold (``yolo_eval``'s 0.6), the default where a model stores none.
COURSE_SCORE_THRESHOLD = 0.6


class ImageDetector:
    """What every detector offers on images of any size: :meth:`detect` on PIL images and
    :meth:`detect_files` on files. A subclass gives ``class_names``, ``prepare(image)`` (an RGB PIL image
    → the uint8 array its batch holds) and ``detect_batch(images uint8 (B, H, W, 3), image_sizes int32
    (B, 2) (height, width))`` → padded ``(boxes (B, K, 4) xyxy pixels of each original image, scores
    (B, K), classes (B, K), valid (B,))``."""

    def detect(self, images, batch_size=8):
        """Detections for PIL images (any mode and size) → list of :class:`Detections`, one per image."""
        results = []
        for start in range(0, len(images), batch_size):
            chunk = [to_rgb(image) for image in images[start:start + batch_size]]
            batch = np.stack([self.prepare(image) for image in chunk])
            sizes = np.array([(image.height, image.width) for image in chunk], dtype=np.int32)
            results.extend(unpad(self.detect_batch(batch, sizes)))
        return results

    def detect_files(self, paths, batch_size=8, keep_images=False):
        """Detect in image files, a batch at a time, reading and resizing each batch in threads.

        Yields ``(path, result, image)`` per path in order: ``result`` is :class:`Detections`, or the
        :class:`FormatError` that made the file unreadable; ``image`` is the upright RGB PIL image
        when ``keep_images`` (for drawing), else None. On a CPU the next batch is read after the
        network has run, not beside it: the network uses every core, and reading beside it slowed the
        whole by a third (``bench/yolo_inference.py``); with a GPU, the next batch is read meanwhile.
        """
        paths = [str(path) for path in paths]
        batches = [paths[start:start + batch_size] for start in range(0, len(paths), batch_size)]
        read_ahead = bool(tf.config.list_physical_devices("GPU"))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
            pending = workers.map(self._load, batches[0]) if batches else None
            for number, batch in enumerate(batches):
                loaded = list(pending)
                if number + 1 < len(batches) and read_ahead:
                    pending = workers.map(self._load, batches[number + 1])
                readable = [entry for entry in loaded if not isinstance(entry[0], FormatError)]
                found = iter(unpad(self.detect_batch(
                    np.stack([prepared for _, prepared, _ in readable]),
                    np.array([size for _, _, size in readable], np.int32)))) if readable else iter(())
                for path, (image, _, _) in zip(batch, loaded, strict=True):
                    if isinstance(image, FormatError):
                        yield path, image, None
                    else:
                        yield path, next(found), image if keep_images else None
                if number + 1 < len(batches) and not read_ahead:
                    pending = workers.map(self._load, batches[number + 1])

    def _load(self, path):
        """A file → ``(PIL image, uint8 input array, (height, width))``, or ``(FormatError, None, None)``."""
        try:
            image = read_image(path)
        except FormatError as exc:
            return exc, None, None
        return image, self.prepare(image), (image.height, image.width)


def unpad(outputs):
    """Padded batch outputs of :meth:`Detector.detect_batch` → list of :class:`Detections`."""
    boxes, scores, classes, valid = (np.asarray(t) for t in outputs)
    return [Detections(boxes[i, :n], scores[i, :n], classes[i, :n]) for i, n in enumerate(valid)]

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
