"""A Keras network as a TFLite flatbuffer, float32 or int8, and the LiteRT interpreter as a network.

int8 is TFLite's full-integer post-training quantisation: weights per channel, activations per tensor
with ranges measured on calibration images the caller gives (a few dozen of the kind the network will
see); the model's input and output stay float32 (quantised inside). :class:`LiteRTNetwork` runs the
flatbuffer with LiteRT (``ai_edge_litert``, XNNPACK on CPU) and can stand in for a Keras model in a
``tf.function`` (through ``tf.numpy_function``).
"""

import contextlib
import io
import os
import warnings

import numpy as np
import tensorflow as tf

#: How many calibration images int8 quantisation uses at most.
CALIBRATION_IMAGES = 32


def tflite_bytes(model, calibration=None):
    """The Keras ``model`` (fixed input size) as a TFLite flatbuffer with batch 1: float32, or int8 when
    ``calibration`` (float32 (N, H, W, C) network inputs, the first :data:`CALIBRATION_IMAGES` used) is
    given. Keras prints the temporary SavedModel it converts through; that goes to a buffer."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration is not None:
        calibration = np.asarray(calibration, np.float32)[:CALIBRATION_IMAGES]
        if len(calibration) == 0:
            raise ValueError("int8 quantisation needs at least one calibration image")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[None]] for image in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        # the converter asks for input statistics that only an int8 *input* would need
        warnings.filterwarnings("ignore", "Statistics for quantized inputs", UserWarning)
        return converter.convert()


class LiteRTNetwork:
    """A TFLite flatbuffer run by LiteRT, called like the network: float32 (B, H, W, C) → float32
    outputs (B, …), one image at a time (the flatbuffer has batch 1). A network of several outputs
    (YOLOv3's heads) gives a list, in the order of ``output_shapes`` (each output's shape without the
    batch axis, all different: TFLite may order its outputs otherwise)."""

    def __init__(self, flatbuffer, output_shapes=None):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_content=flatbuffer, num_threads=os.cpu_count())
        self._interpreter.allocate_tensors()
        (self._input,) = self._interpreter.get_input_details()
        details = self._interpreter.get_output_details()
        by_shape = {tuple(int(n) for n in detail["shape"][1:]): detail for detail in details}
        if len(details) > 1:
            wanted = [tuple(shape) for shape in output_shapes or ()]
            if len(by_shape) != len(details) or sorted(wanted) != sorted(by_shape):
                raise ValueError(f"LiteRTNetwork: outputs of shapes {sorted(by_shape)} cannot be matched to "
                                 f"{wanted}")
            details = [by_shape[shape] for shape in wanted]
        self._outputs = details
        self.output_shapes = [tuple(int(n) for n in detail["shape"][1:]) for detail in details]

    def run(self, images):
        """NumPy float32 (B, H, W, C) → NumPy float32 (B, …), or a list of them."""
        outputs = [np.empty((len(images), *shape), np.float32) for shape in self.output_shapes]
        for index, image in enumerate(np.asarray(images, np.float32)):
            self._interpreter.set_tensor(self._input["index"], image[None])
            self._interpreter.invoke()
            for output, detail in zip(outputs, self._outputs, strict=True):
                output[index] = self._interpreter.get_tensor(detail["index"])[0]
        return outputs if len(outputs) > 1 else outputs[0]

    def __call__(self, images):
        """Inside or outside a ``tf.function``: a float32 tensor (B, H, W, C) → float32 tensor (B, …), or
        a list of them."""
        several = len(self.output_shapes) > 1
        outputs = tf.numpy_function(self.run, [images], [tf.float32] * len(self.output_shapes) if several
                                    else tf.float32, stateful=True)
        outputs = outputs if several else [outputs]
        for output, shape in zip(outputs, self.output_shapes, strict=True):
            output.set_shape([images.shape[0], *shape])
        return outputs if several else outputs[0]
