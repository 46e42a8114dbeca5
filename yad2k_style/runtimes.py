"""Other runtimes for our networks: ONNX and OpenVINO exports, and ONNX Runtime and OpenVINO as the
engine behind ``--runtime``.

- **ONNX** (:func:`onnx_bytes`, :func:`save_onnx`): the Keras network, traced as a ``tf.function`` and
  converted by tf2onnx at opset :data:`OPSET`. Inputs and outputs are the Keras model's, in its order,
  with a dynamic batch axis: float32 images (B, H, W, 3) in [0, 1] (NHWC, as everywhere here), plus the
  proposals and their counts for Fast R-CNN and R-CNN. **What the graph holds is the network** (the
  Keras model), nothing more: the YOLO family and SSD give raw features, decoded and suppressed by our
  Python post-processing (:meth:`Detector.postprocess`); the two-stage detectors keep the proposal
  suppression of their RPN inside (it feeds RoI pooling), as Mask R-CNN keeps its final per-class
  suppression (its mask head runs on the kept boxes).
- **OpenVINO IR** (:func:`save_openvino`): ``openvino.convert_model`` of that ONNX graph, saved as
  ``model.xml`` + ``model.bin`` with float32 weights. (OpenVINO's TensorFlow front end lacks
  ``CombinedNonMaxSuppression``; its ONNX front end reads every model here.)
- :class:`OnnxRuntimeNetwork` and :class:`OpenVinoNetwork` run those graphs called like the Keras model,
  inside or outside a ``tf.function`` (:class:`HostNetwork`). OpenVINO runs fp32 (its inference
  precision set to f32: on AMX CPUs its default is bf16), bf16, or int8 quantised by NNCF's
  post-training quantisation, calibrated on images the caller gives.

These need the ``deploy`` extra (``pip install 'yad2k-style[deploy]'``); without it each entry point
raises a one-line :class:`~yad2k_style.errors.YadError` naming it. Tested with tf2onnx 1.17.0, ONNX
Runtime 1.32, OpenVINO 2026.4 and NNCF 3.4. TensorFlow is imported where it is used, so that the CLI
can read :data:`RUNTIMES` without it.
"""

import contextlib
import importlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from yad2k_style.errors import YadError, first_line
from yad2k_style.files import atomic_directory, atomic_write

#: The ONNX opset of every export.
OPSET = 17
RUNTIMES = ("keras", "onnxruntime", "openvino")
EXTRA = "deploy"
#: The files of an OpenVINO IR directory.
IR_FILES = ("model.xml", "model.bin")
#: What each precision asks of OpenVINO's CPU plugin; int8 leaves its layers outside the quantised
#: convolutions to the plugin's default (bf16 on CPUs with AMX or AVX512-BF16, else f32), as OpenVINO's
#: own int8 does.
OPENVINO_PRECISIONS = {"fp32": "f32", "bf16": "bf16", "int8": None}


def require(module, purpose):
    """Import ``module`` of the deploy extra, or a one-line :class:`YadError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise YadError(f"{purpose} needs {module.split('.')[0]}, which is not installed: "
                       f"pip install 'yad2k-style[{EXTRA}]'") from None


def input_signature(model):
    """The ``tf.TensorSpec`` of each input of the Keras ``model`` (batch axis dynamic), named
    ``input_0``, ``input_1`` … in the model's order."""
    import tensorflow as tf

    return [tf.TensorSpec((None, *tensor.shape[1:]), tensor.dtype, name=f"input_{k}")
            for k, tensor in enumerate(model.inputs)]


def onnx_bytes(model):
    """The Keras ``model`` as a serialised ONNX graph (opset :data:`OPSET`): the model's inputs and
    outputs, in its order, with a dynamic batch axis."""
    import tensorflow as tf

    tf2onnx = require("tf2onnx", "ONNX export")
    signature = input_signature(model)
    several = len(signature) > 1

    @tf.function(input_signature=signature)
    def network(*inputs):
        outputs = model(list(inputs) if several else inputs[0], training=False)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    try:
        with _grouped_convolutions_split():
            proto, _ = tf2onnx.convert.from_function(network, input_signature=signature, opset=OPSET)
    except Exception as exc:  # tf2onnx raises many types for an operation it cannot convert
        raise YadError(f"{model.name}: tf2onnx cannot convert it ({first_line(exc)})") from None
    return proto.SerializeToString()


@contextlib.contextmanager
def _grouped_convolutions_split():
    """While tracing for export, a grouped convolution (ResNeXt's) is each group's convolution, then a
    concatenation: the same arithmetic. Keras computes it in an XLA-compiled function (TensorFlow's CPU
    kernels have none), which tf2onnx keeps as a call that ONNX Runtime cannot run."""
    import tensorflow as tf
    from keras.src.backend.tensorflow import nn as keras_nn

    keras_conv = keras_nn.conv

    def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        groups = inputs.shape[-1] // kernel.shape[-2]
        if data_format == "channels_first" or groups == 1:
            return keras_conv(inputs, kernel, strides, padding, data_format, dilation_rate)
        return tf.concat([tf.nn.convolution(part, weights, strides, padding.upper(), dilations=dilation_rate)
                          for part, weights in zip(tf.split(inputs, groups, -1), tf.split(kernel, groups, -1),
                                                   strict=True)], -1)

    keras_nn.conv = conv
    try:
        yield
    finally:
        keras_nn.conv = keras_conv


def save_onnx(model, out_path):
    """Write the Keras ``model`` as the ONNX file ``out_path`` (see :func:`onnx_bytes`)."""
    data = onnx_bytes(model)
    with atomic_write(out_path) as file:
        file.write(data)


def openvino_model(onnx):
    """An ``openvino.Model`` of serialised ONNX bytes (``convert_model`` reads them from a temporary file)."""
    openvino = require("openvino", "OpenVINO")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        path.write_bytes(onnx)
        try:
            return openvino.convert_model(str(path))
        except Exception as exc:  # OpenVINO's front ends raise their own types
            raise YadError(f"OpenVINO cannot convert the network ({first_line(exc)})") from None


def save_openvino(model, out_dir):
    """Write the Keras ``model`` as an OpenVINO IR directory ``out_dir`` (must not exist):
    :data:`IR_FILES`, float32 weights."""
    openvino = require("openvino", "OpenVINO export")
    converted = openvino_model(onnx_bytes(model))
    with atomic_directory(out_dir) as staging:
        openvino.save_model(converted, str(Path(staging) / IR_FILES[0]), compress_to_fp16=False)


class HostNetwork:
    """A network run outside TensorFlow, called like the Keras model it stands for: the model's inputs
    (a tensor, or a list of them) → its outputs (a tensor, or a list), inside or outside a
    ``tf.function`` (through ``tf.numpy_function``). Subclasses give :meth:`run`, NumPy in and out."""

    def __init__(self, model):
        import tensorflow as tf

        self.outputs = [(tuple(tensor.shape[1:]), tf.as_dtype(tensor.dtype)) for tensor in model.outputs]
        self.name = model.name

    def run(self, *inputs):
        """NumPy inputs, in the model's order → the list of NumPy outputs, in the model's order."""
        raise NotImplementedError

    def __call__(self, inputs, training=False):
        import tensorflow as tf

        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        dtypes = [dtype for _, dtype in self.outputs]
        outputs = tf.numpy_function(
            lambda *arrays: tuple(np.asarray(array, dtype.as_numpy_dtype) for array, dtype
                                  in zip(self.run(*arrays), dtypes, strict=True)),
            inputs, dtypes, stateful=True)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]  # eager: one is unlisted
        for output, (shape, _) in zip(outputs, self.outputs, strict=True):
            output.set_shape([inputs[0].shape[0], *shape])
        return outputs if len(outputs) > 1 else outputs[0]


class OnnxRuntimeNetwork(HostNetwork):
    """The Keras ``model`` exported to ONNX and run by ONNX Runtime's CPU provider (float32)."""

    def __init__(self, model):
        super().__init__(model)
        onnxruntime = require("onnxruntime", "--runtime onnxruntime")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(onnx_bytes(model), options,
                                                    providers=["CPUExecutionProvider"])
        self._names = [tensor.name for tensor in self.session.get_inputs()]

    def run(self, *inputs):
        return self.session.run(None, dict(zip(self._names, inputs, strict=True)))


class OpenVinoNetwork(HostNetwork):
    """The Keras ``model`` exported through ONNX to OpenVINO and compiled for the CPU: ``precision``
    ``"fp32"``, ``"bf16"`` (a :class:`YadError` where the CPU has no bfloat16) or ``"int8"``, quantised
    by NNCF on ``calibration`` (the model's inputs: float32 (N, H, W, 3) images, the first
    :data:`~yad2k_style.quantize.CALIBRATION_IMAGES` used)."""

    def __init__(self, model, precision="fp32", calibration=None):
        super().__init__(model)
        openvino = require("openvino", "--runtime openvino")
        if precision not in OPENVINO_PRECISIONS:
            raise YadError(f"unknown precision {precision!r}; choose from {', '.join(OPENVINO_PRECISIONS)}")
        if (calibration is None) != (precision != "int8"):
            raise YadError("int8 precision needs calibration images, and only int8 uses them")
        core = openvino.Core()
        if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise YadError("precision bf16: this CPU has no bfloat16 (OpenVINO lists no BF16 capability)")
        converted = openvino_model(onnx_bytes(model))
        if precision == "int8":
            converted = quantize_openvino(converted, calibration)
        hint = OPENVINO_PRECISIONS[precision]
        self.compiled = core.compile_model(converted, "CPU",
                                           {"INFERENCE_PRECISION_HINT": hint} if hint else {})
        self._request = self.compiled.create_infer_request()
        self.precision = precision

    def run(self, *inputs):
        # the request reads the arrays in place (no copy); the outputs are copied out of its buffers
        results = self._request.infer([np.ascontiguousarray(array) for array in inputs], share_inputs=True)
        return [np.array(results[output]) for output in self.compiled.outputs]


def quantize_openvino(converted, calibration):
    """An ``openvino.Model`` quantised to int8 by NNCF's post-training quantisation, calibrated on
    ``calibration`` (float32 (N, …) inputs of a single-input network, the first
    :data:`~yad2k_style.quantize.CALIBRATION_IMAGES`, one at a time)."""
    from yad2k_style.quantize import CALIBRATION_IMAGES

    nncf = require("nncf", "OpenVINO int8")
    samples = np.asarray(calibration, np.float32)[:CALIBRATION_IMAGES]
    if len(samples) == 0:
        raise YadError("int8 calibration needs at least one image")
    logging.getLogger("nncf").setLevel(logging.ERROR)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        return nncf.quantize(converted, nncf.Dataset([sample[None] for sample in samples]),
                             subset_size=len(samples))


def runtime_network(model, runtime, precision="fp32", calibration=None):
    """The network that runs ``model`` on ``runtime`` (:data:`RUNTIMES`, not ``"keras"``) at
    ``precision``; ONNX Runtime runs fp32 only."""
    if runtime == "onnxruntime":
        if precision != "fp32":
            raise YadError(f"--runtime onnxruntime runs fp32; --precision {precision} runs with "
                           "--runtime keras or openvino")
        return OnnxRuntimeNetwork(model)
    if runtime == "openvino":
        return OpenVinoNetwork(model, precision, calibration)
    raise YadError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES[1:])}")

