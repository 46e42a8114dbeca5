"""Running the segmenters on images of any size: :class:`SemanticSegmenter` (a class per pixel) and
:class:`InstanceSegmenter` (Mask R-CNN: boxes, classes, scores and a mask per object; also a detector,
so ``detect`` and ``evaluate`` run it as they run the others)."""

from typing import NamedTuple

import numpy as np
import tensorflow as tf

from yad2k_style.detection.detector import SceneDetector
from yad2k_style.detection.results import annotate
from yad2k_style.detection.synthetic import SCENE_SIZE
from yad2k_style.drawing import get_colors_for_classes, overlay_masks
from yad2k_style.images import resize_image, to_rgb
from yad2k_style.segmentation.mask_rcnn import paste_masks


class Instances(NamedTuple):
    """One image's objects, best score first: ``boxes`` float32 (K, 4) ``xyxy`` pixels of the image,
    ``scores`` (K,), ``classes`` int32 (K,), ``masks`` bool (K, H, W) at the image's size."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    masks: np.ndarray


def draw_instances(image, found, class_names, alpha=0.55):
    """A copy of PIL ``image`` with the :class:`Instances` ``found``: each mask blended in a colour of
    its own (two objects of one class differ), each box outlined in its class's colour with its class
    and score as a label kept inside the image (:func:`~yad2k_style.drawing.draw_boxes`)."""
    count = len(found.classes)
    drawn = overlay_masks(image, found.masks, get_colors_for_classes(max(count, 1))[:count], alpha=alpha)
    return annotate(drawn, found, class_names)


def _batches(images, batch_size, input_size):
    """PIL images → ``(uint8 (B, S, S, 3) stretched to the input, sizes int32 (B, 2) (height, width))``
    batches of at most ``batch_size``."""
    size = (input_size, input_size)
    for start in range(0, len(images), batch_size):
        chunk = [to_rgb(image) for image in images[start:start + batch_size]]
        yield (np.stack([np.asarray(image if image.size == size else resize_image(image, size), np.uint8)
                         for image in chunk]),
               np.array([(image.height, image.width) for image in chunk], np.int32))


class SemanticSegmenter:
    """Runs a per-pixel classifier ``network`` (float32 images (B, S, S, 3) in [0, 1] → logits (B, S, S,
    C + 1)) on images of any size: each is stretched to S×S, its logits resized back (bilinear) and
    the best class taken per pixel."""

    def __init__(self, network, class_names, input_size=SCENE_SIZE):
        self.network, self.class_names, self.input_size = network, list(class_names), input_size
        self._run = tf.function(lambda images: self.network(images, training=False))

    def segment(self, images, batch_size=8):
        """PIL images → their class maps, uint8 (H, W) each at its image's size: 0 background, ``c + 1``
        for class ``c``."""
        maps = []
        for batch, sizes in _batches(images, batch_size, self.input_size):
            logits = self._run(tf.constant(batch.astype(np.float32) / 255.0))
            for one, (height, width) in zip(logits, sizes, strict=True):
                if (height, width) != (self.input_size, self.input_size):
                    one = tf.image.resize(one, (int(height), int(width)), "bilinear")
                maps.append(np.asarray(tf.argmax(one, -1), np.uint8))
        return maps


class InstanceSegmenter(SceneDetector):
    """Runs Mask R-CNN (:func:`~yad2k_style.segmentation.mask_rcnn.mask_rcnn_model`, whose outputs are its
    detections and their 28×28 masks) on images of any size; :meth:`segment` gives :class:`Instances`,
    the detector's methods (``detect``, ``detect_files``) its boxes alone."""

    def __init__(self, network, class_names, input_size=SCENE_SIZE):
        super().__init__(network, lambda *outputs: outputs, class_names, input_size)

    def segment(self, images, batch_size=8):
        """PIL images → list of :class:`Instances`, one per image."""
        found = []
        for batch, sizes in _batches(images, batch_size, self.input_size):
            outputs = [np.asarray(t) for t in self._run(self.inputs(batch))]
            boxes = self.to_image_pixels(outputs[0], sizes)
            for k, (height, width) in enumerate(sizes):
                n = int(outputs[3][k])
                found.append(Instances(boxes[k, :n], outputs[1][k, :n].astype(np.float32),
                                       outputs[2][k, :n].astype(np.int32),
                                       paste_masks(outputs[4][k, :n], boxes[k, :n], int(height), int(width))))
        return found
