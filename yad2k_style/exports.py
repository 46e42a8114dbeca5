"""``export MODEL --format …`` for a network of any kind: the YOLO family, SSD, the R-CNN family, R-FCN,
Mask R-CNN, the U-Net, the face embedding, the classifiers.

Each format holds the Keras network alone, inputs and outputs as the model has them (float32 images
(B, H, W, 3) in [0, 1] first): decoding, suppression, embedding distances stay in this package's Python
(see :mod:`yad2k_style.runtimes` for what that leaves inside the two-stage detectors). The YOLO family's
``savedmodel`` and ``tflite`` have richer forms (:mod:`yad2k_style.detection.yolo.serving`); these are
the other models'.

- ``onnx``: a file, opset :data:`~yad2k_style.runtimes.OPSET` (tf2onnx).
- ``openvino``: an IR directory, ``model.xml`` + ``model.bin`` (``openvino.convert_model``).
- ``savedmodel``: a directory whose signature ``serving_default`` maps ``input_0``, ``input_1`` … to
  ``output_0``, ``output_1`` … in the model's order.
- ``tflite``: a file (batch 1), or a one-line error naming the operation and layer TFLite lacks.
"""

import re
from pathlib import Path

from yad2k_style import artifacts, registry
from yad2k_style.errors import YadError, first_line
from yad2k_style.files import atomic_directory, atomic_write
from yad2k_style.runtimes import input_signature, save_onnx, save_openvino

#: What each format writes: a file or a directory.
FORMATS = {"onnx": "file", "openvino": "directory", "savedmodel": "directory", "tflite": "file"}


def load_network(model):
    """The Keras network that ``model`` names: a model directory or ``.keras`` file of any kind, or a
    registered name with packaged weights (a model directory, or the embedded detector's Darknet
    files)."""
    if not Path(model).exists() and model in registry.MODELS:
        weights = registry.get(model).weights
        if weights is not None and weights.format != "model-directory":
            from yad2k_style.detection.yolo.sources import ModelSource, load_detection_model

            return load_detection_model(ModelSource(model=model)).model
    return artifacts.load_artifact(artifacts.locate(model)).model


def export_network(model, out, form):
    """Write the Keras ``model`` to ``out`` in format ``form`` (:data:`FORMATS`); the output is built
    beside ``out`` and renamed into place."""
    if form == "onnx":
        save_onnx(model, out)
    elif form == "openvino":
        save_openvino(model, out)
    elif form == "savedmodel":
        save_savedmodel(model, out)
    elif form == "tflite":
        save_tflite(model, out)
    else:
        raise YadError(f"unknown format {form!r}; choose from {', '.join(FORMATS)}")


def save_savedmodel(model, out_dir):
    """The network as a SavedModel directory whose ``serving_default`` maps ``input_k`` → ``output_k``."""
    import tensorflow as tf

    signature = input_signature(model)
    several = len(signature) > 1

    @tf.function(input_signature=signature)
    def serve(*inputs):
        outputs = model(list(inputs) if several else inputs[0], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return {f"output_{k}": output for k, output in enumerate(outputs)}

    module = tf.Module()
    module.model = model
    with atomic_directory(out_dir) as staging:
        tf.saved_model.save(module, str(staging), signatures={"serving_default": serve})


def save_tflite(model, out_path):
    """The network as a float32 TFLite file, or a :class:`YadError` naming the operation (and layer)
    that TFLite's builtin operations lack."""
    from yad2k_style.quantize import tflite_bytes

    try:
        flatbuffer = tflite_bytes(model)
    except Exception as exc:  # the converter raises its own error types, with MLIR diagnostics
        raise YadError(f"{model.name}: {_tflite_problem(str(exc), model.name)}; export it as onnx, "
                       "openvino or savedmodel") from None
    with atomic_write(out_path) as file:
        file.write(flatbuffer)


def _tflite_problem(message, model_name):
    """The converter's diagnostics → "TFLite has no OP (layer NAME)", or their first line."""
    found = re.search(r"'tf\.(\w+)' op is neither a custom op nor a flex op", message)
    if not found:
        return f"TFLite cannot convert it ({first_line(message)})"
    layer = re.search(rf"{re.escape(model_name)}_\d+/(\w+?)_\d+/", message)
    return f"TFLite has no {found.group(1)}" + (f" (layer {layer.group(1)})" if layer else "")
