"""The one-shot protocol, rerunnable by anyone: identities never seen in training, one image each
enrolled, other images as queries.

- **rank-1**: the fraction of queries whose nearest enrolled identity is their own;
- **verification**: accuracy on balanced same/different query–enrolled pairs at the threshold
  calibrated (best accuracy) on a *separate* set of unseen identities;
- **ROC AUC** of those pairs.

The same figures for baselines under the same protocol: raw pixels (L2-normalised) and the untrained
network (seeded initialisation).
"""

from dataclasses import dataclass

import numpy as np

from yad2k_style import plotting
from yad2k_style.face import synthetic
from yad2k_style.face.calibration import accuracy_at, best_threshold, roc


@dataclass(frozen=True)
class OneShotResult:
    """One method's figures (see the module docstring) and its pairs' ROC."""

    name: str
    rank1: float
    threshold: float
    verification: float
    auc: float
    fpr: np.ndarray
    tpr: np.ndarray


def _pairs(query_embeddings, query_labels, enrolled, seed):
    """Distances of every query to its own identity's enrolled image and to one other, drawn with
    ``seed``: balanced same/different pairs."""
    rng = np.random.default_rng(seed)
    count = len(enrolled)
    others = (query_labels + rng.integers(1, count, len(query_labels))) % count
    same = np.linalg.norm(query_embeddings - enrolled[query_labels], axis=1)
    different = np.linalg.norm(query_embeddings - enrolled[others], axis=1)
    return np.concatenate([same, different]), np.repeat([True, False], len(query_labels))


def _embed(encode, images):
    """``(enrolled (N, D), queries (N·M, D), each query's identity (N·M,))``."""
    enrolled_images, query_images = images
    queries = encode(query_images.reshape(-1, *query_images.shape[2:]))
    labels = np.repeat(np.arange(len(enrolled_images)), query_images.shape[1])
    return encode(enrolled_images), queries, labels


def one_shot(encode, name, evaluation, calibration):
    """The protocol for one ``encode`` (uint8 images (N, 96, 96, 3) → embeddings (N, D)). ``evaluation``
    and ``calibration`` are ``(enrolled images (N, …), query images (N, M, …))`` of different identities."""
    enrolled, queries, labels = _embed(encode, calibration)
    threshold = best_threshold(*_pairs(queries, labels, enrolled, seed=1))
    enrolled, queries, labels = _embed(encode, evaluation)
    squared = (np.sum(queries ** 2, axis=1)[:, None] - 2.0 * queries @ enrolled.T
               + np.sum(enrolled ** 2, axis=1)[None])  # (queries, enrolled); the nearest is the smallest
    rank1 = float(np.mean(np.argmin(squared, axis=1) == labels))
    pair_distances, same = _pairs(queries, labels, enrolled, seed=2)
    fpr, tpr, _ = roc(pair_distances, same)
    auc = float(np.trapezoid(np.concatenate([[0.0], tpr]), np.concatenate([[0.0], fpr])))
    return OneShotResult(name, rank1, threshold, accuracy_at(pair_distances, same, threshold), auc, fpr, tpr)


def protocol_images(identities, images, seed=synthetic.EVALUATION_SEED):
    """``(enrolled (N, 96, 96, 3), queries (N, images, 96, 96, 3))`` uint8 of ``identities`` unseen
    identities of stream ``seed``: rendering 0 enrolled, renderings 1 … ``images`` as queries."""
    rendered = synthetic.renderings(seed, range(identities), images + 1)
    return rendered[:, 0], rendered[:, 1:]


def raw_pixels(images):
    """The baseline: pixels as one vector per image, L2-normalised."""
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    return flat / np.linalg.norm(flat, axis=1, keepdims=True)


def network_encoder(network, batch_size=64):
    """``encode`` for an embedding network taking images in [0, 1]: a Keras model, or what runs one
    (:meth:`~yad2k_style.face.embedder.FaceEmbedder.inference_network`)."""
    def encode(images):
        images = np.asarray(images, np.float32) / 255.0
        return np.concatenate([np.asarray(network(images[start:start + batch_size]))
                               for start in range(0, len(images), batch_size)])
    return encode


def plot_results(results, path):
    """Each method's ROC in one PNG (written atomically)."""
    figure, axes = plotting.subplots(figsize=(5.5, 5))
    for result in results:
        axes.plot(result.fpr, result.tpr,
                  label=f"{result.name}: AUC {result.auc:.3f}, rank-1 {result.rank1:.3f}")
    axes.plot([0, 1], [0, 1], ":", color="grey")
    axes.set(xlabel="false accepts", ylabel="true accepts", xlim=(0, 1), ylim=(0, 1.02),
             title="One-shot verification on unseen identities")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    plotting.save_figure(figure, path)

