"""Serving exports of a detector: a TensorFlow SavedModel with a serving signature, and a TFLite network.

- **SavedModel** (:func:`save_savedmodel`): the signature ``serving_default`` takes ``images`` uint8
  (B, H, W, 3) at the network's input size (resized as :meth:`Detector.prepare` does) and
  ``image_sizes`` int32 (B, 2), the original ``(height, width)``; it returns ``boxes`` float32
  (B, M, 4) in original pixels ``(x_min, y_min, x_max, y_max)``, ``scores`` (B, M), ``classes`` int32
  (B, M) and ``valid`` int32 (B,): :meth:`Detector.detect_batch` with the detector's settings baked in.
  It holds the plain Keras network (no XLA-compiled functions, which serving builds may lack).
- **TFLite** (:func:`save_tflite`): the network alone, float32 (1, H, W, 3) in [0, 1] → raw features
  (1, S, S, A·(5 + C)), for LiteRT (``ai_edge_litert``); :meth:`Detector.postprocess` decodes them.
  With calibration images it is quantised to int8 inside (float32 in and out).

Both are written to a temporary path and renamed into place.
"""

import tensorflow as tf

from yad2k_style.artifacts import check_new_directory
from yad2k_style.detection.yolo.detector import Detector
from yad2k_style.files import atomic_directory, atomic_write
from yad2k_style.quantize import tflite_bytes

SIGNATURE = "serving_default"
OUTPUTS = ("boxes", "scores", "classes", "valid")


class _Serving(tf.Module):
    """The detector's variables (through its Keras model) and its serving function."""

    def __init__(self, detector):
        super().__init__(name="yolo_detector")
        self.model = detector.model
        height, width = detector.input_size
        self.serve = tf.function(
            lambda images, image_sizes: dict(zip(OUTPUTS, detector.detect_batch(images, image_sizes),
                                                 strict=True)),
            input_signature=[tf.TensorSpec([None, height, width, 3], tf.uint8, name="images"),
                             tf.TensorSpec([None, 2], tf.int32, name="image_sizes")])


def plain_detector(detector):
    """The same detector around the plain Keras model (what the exports hold)."""
    return Detector(detector.model, detector.anchors, detector.class_names, heads=detector.heads, fast=False,
                    **detector.settings)


def save_savedmodel(detector, out_dir):
    """Write ``detector`` as a SavedModel directory ``out_dir`` (must not exist) with the
    :data:`SIGNATURE` serving signature."""
    check_new_directory(out_dir)
    module = _Serving(plain_detector(detector))
    with atomic_directory(out_dir) as staging:
        tf.saved_model.save(module, str(staging), signatures={SIGNATURE: module.serve})


def save_tflite(detector, out_path, calibration=None):
    """Write ``detector``'s network as the TFLite file ``out_path``: float32, or int8 calibrated on
    ``calibration`` (PIL images, prepared as the detector prepares its inputs)."""
    inputs = None if calibration is None else detector.calibration_inputs(calibration)
    flatbuffer = tflite_bytes(detector.model, inputs)
    with atomic_write(out_path) as file:
        file.write(flatbuffer)
