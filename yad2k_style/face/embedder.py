"""A face model ready to use: the Keras embedding model, its input size and distance threshold, from
a model directory (``convert-openface`` or training) — and encoding image files in batches."""

from dataclasses import dataclass

import keras
import numpy as np

from yad2k_style import artifacts, registry
from yad2k_style.assets import asset_path
from yad2k_style.errors import YadError
from yad2k_style.face.recognition import THRESHOLD, images_to_array

TASK = "face-embedding"
MODEL = "facenet-nn4-small2"  # the registry's name for the course's network


@dataclass
class FaceEmbedder:
    """``model``: images (B, H, W, 3) in [0, 1] → embeddings (B, D) of unit norm; ``threshold``: the
    plain L2 distance below which two faces are one person."""

    model: keras.Model
    threshold: float = THRESHOLD
    source: str = ""

    @classmethod
    def load(cls, path=None):
        """The face model in a model directory (its ``threshold`` from ``model.json``); without a path,
        the packaged default (:data:`~yad2k_style.registry.DEFAULT_FACE_MODEL`)."""
        if path is None:
            path = asset_path(registry.get(registry.DEFAULT_FACE_MODEL).weights.files[0])
        artifact = artifacts.load_artifact(path)
        if artifact.info and artifact.info.get("task") != TASK:
            raise YadError(f"{path}: a {artifact.info.get('task')} model, not a face-embedding model")
        return cls(artifact.model, float(artifact.info.get("threshold", THRESHOLD)), str(path))

    @property
    def embedding_size(self):
        return int(self.model.output_shape[-1])

    def encode_files(self, paths, batch_size=32):
        """Embeddings (N, D) float32 of image files (read, RGB, resized to the model's input)."""
        size = self.model.input_shape[1:3]
        batches = [np.asarray(self.model(images_to_array(paths[i:i + batch_size], size), training=False))
                   for i in range(0, len(paths), batch_size)]
        return np.concatenate(batches).astype(np.float32) if batches else np.zeros((0, self.embedding_size),
                                                                                 np.float32)


def face_info(model, threshold=THRESHOLD, provenance=None):
    """The ``model.json`` of a face model built by the registry's :data:`MODEL` builder."""
    return artifacts.model_info(model, TASK, artifacts.registry_architecture(MODEL),
                                provenance=provenance, threshold=float(threshold))
