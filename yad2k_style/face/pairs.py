"""The notes' binary-classification alternative to the triplet loss (DeepFace): a logistic unit on
features of a pair of embeddings, trained on same/different pairs, usable on precomputed embeddings.

``ŷ = σ(Σ_k w_k · φ(f_i, f_j)_k + b)`` with, per component,

- ``"abs"``: ``|f_i − f_j|`` (the notes' formula);
- ``"chi2"``: ``(f_i − f_j)² / (f_i + f_j)``. χ² needs non-negative features; it is applied to the
  embeddings mapped to ``(f + 1) / 2`` (an L2-normalised component lies in [−1, 1]), with a small
  epsilon in the denominator.
"""

import keras
from keras import ops

PACKAGE = "yad2k_style"
PAIR_FEATURES = ("abs", "chi2")
EPSILON = 1e-6


@keras.saving.register_keras_serializable(package=PACKAGE)
def absolute_difference(pair):
    """``|f_i − f_j|`` of a pair ``[f_i, f_j]`` (each (B, D))."""
    return ops.abs(pair[0] - pair[1])


@keras.saving.register_keras_serializable(package=PACKAGE)
def chi_squared(pair):
    """``(g_i − g_j)² / (g_i + g_j + ε)`` with ``g = (f + 1) / 2``, of a pair ``[f_i, f_j]``."""
    first, second = ((f + 1.0) / 2.0 for f in pair)
    return ops.square(first - second) / (first + second + EPSILON)


def pair_classifier(embedding_size=128, features="abs"):
    """``keras.Model([f_i, f_j]) → probability (B, 1)`` that the two embeddings show one person."""
    if features not in PAIR_FEATURES:
        raise ValueError(f"features must be one of {PAIR_FEATURES}, got {features!r}")
    first = keras.Input((embedding_size,), name="embedding_i")
    second = keras.Input((embedding_size,), name="embedding_j")
    function = absolute_difference if features == "abs" else chi_squared
    pair = keras.layers.Lambda(function, name=f"{features}_features")([first, second])
    same = keras.layers.Dense(1, activation="sigmoid", name="same_person")(pair)
    return keras.Model([first, second], same, name=f"pair_classifier_{features}")
