"""A face model ready to use: the Keras embedding model, its input size and distance threshold, from
a model directory (``convert-openface`` or training) — and encoding image files in batches."""

from dataclasses import dataclass, field

import keras
import numpy as np

from yad2k_style import artifacts, registry
from yad2k_style.errors import YadError
from yad2k_style.face.recognition import THRESHOLD, images_to_array
from yad2k_style.inference import InferenceNetwork
from yad2k_style.runtimes import runtime_network

TASK = "face-embedding"
MODEL = "facenet-nn4-small2"  # the registry's name for the course's network
#: From this many images on, ``encode_files`` runs the model's inference form: its one-time build and
#: tracing (about 0.5 s) pays from about 200 (3.3x the Keras call's throughput at batch 32 on 2 cores:
#: bench/face_bench.py).
FAST_FROM = 256


@dataclass
class FaceEmbedder:
    """``model``: images (B, H, W, 3) in [0, 1] → embeddings (B, D) of unit norm; ``threshold``: the
    plain L2 distance below which two faces are one person. ``runtime``: ``"keras"``, or the model
    exported to ONNX and run by ``"onnxruntime"`` or ``"openvino"`` (:mod:`yad2k_style.runtimes`)."""

    model: keras.Model
    threshold: float = THRESHOLD
    source: str = ""
    runtime: str = "keras"
    _network: object = field(default=None, init=False, repr=False)

    @classmethod
    def load(cls, path=None, runtime="keras"):
        """The face model in a model directory (its ``threshold`` from ``model.json``) or of a registered
        name with packaged weights; without a path, the packaged default
        (:data:`~yad2k_style.registry.DEFAULT_FACE_MODEL`)."""
        path = artifacts.locate(path or registry.DEFAULT_FACE_MODEL, TASK)
        artifact = artifacts.load_artifact(path)
        if artifact.info and artifact.info.get("task") != TASK:
            raise YadError(f"{path}: a {artifact.info.get('task')} model, not a face-embedding model")
        return cls(artifact.model, float(artifact.info.get("threshold", THRESHOLD)), str(path), runtime)

    def inference_network(self):
        """What embeds batches, built on first use: the model's
        :class:`~yad2k_style.inference.InferenceNetwork`, or the runtime's network."""
        if self._network is None:
            self._network = (InferenceNetwork(self.model) if self.runtime == "keras"
                             else runtime_network(self.model, self.runtime))
        return self._network

    @property
    def embedding_size(self):
        return int(self.model.output_shape[-1])

    def encode_files(self, paths, batch_size=32):
        """Embeddings (N, D) float32 of image files (read, RGB, resized to the model's input); from
        :data:`FAST_FROM` files on by the model's inference form (batch norm folded; the same to ~1e-6);
        always by the runtime's network when ``runtime`` is another."""
        size = self.model.input_shape[1:3]
        fast = len(paths) >= FAST_FROM or self.runtime != "keras"
        network = self.inference_network() if fast else self.model
        batches = [np.asarray(network(images_to_array(paths[i:i + batch_size], size)))
                   for i in range(0, len(paths), batch_size)]
        return np.concatenate(batches).astype(np.float32) if batches else np.zeros((0, self.embedding_size),
                                                                                 np.float32)


def face_info(model, threshold=THRESHOLD, provenance=None):
    """The ``model.json`` of a face model built by the registry's :data:`MODEL` builder."""
    return artifacts.model_info(model, TASK, artifacts.registry_architecture(MODEL),
                                provenance=provenance, threshold=float(threshold))
