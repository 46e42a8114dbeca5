"""Choosing the distance threshold from labelled pairs: ROC, the best-accuracy threshold by k-fold
cross-validation, and the threshold at a target false-accept rate.

Inputs are plain L2 distances (N,) between pairs of embeddings and ``same`` (N,) booleans: whether
each pair shows one person. A pair is *accepted* when its distance is **below** the threshold (the
course's ``dist < threshold``).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yad2k_style import plotting
from yad2k_style.errors import FormatError, YadError
from yad2k_style.files import read_text


@dataclass(frozen=True)
class Calibration:
    """``threshold`` (the k-fold best-accuracy one) and its mean held-out ``accuracy``;
    ``far_threshold`` at ``target_far`` and the ``tpr`` it gives; the ROC (``fpr``, ``tpr_curve``,
    ``thresholds``) and its ``auc``."""

    threshold: float
    accuracy: float
    target_far: float
    far_threshold: float
    tpr: float
    fpr: np.ndarray
    tpr_curve: np.ndarray
    thresholds: np.ndarray
    auc: float


def read_pairs(path):
    """Labelled pairs from a text file: lines ``IMAGE1 IMAGE2 SAME`` (``SAME`` 1 for one person, 0 for
    two; image paths relative to the file's folder; ``#`` starts a comment) → ``(firsts, seconds,
    same)``."""
    firsts, seconds, same = [], [], []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 3 or fields[2] not in ("0", "1"):
            raise FormatError(path, f"expected 'IMAGE1 IMAGE2 SAME' with SAME 0 or 1, found {line.strip()!r}",
                              line=number)
        firsts.append(Path(path).parent / fields[0])
        seconds.append(Path(path).parent / fields[1])
        same.append(fields[2] == "1")
    if not firsts:
        raise FormatError(path, "no pairs")
    return firsts, seconds, np.array(same)


def _checked(distances, same):
    distances, same = np.asarray(distances, np.float64).ravel(), np.asarray(same, bool).ravel()
    if len(distances) != len(same) or not same.any() or same.all():
        raise YadError("calibration needs pairs of both kinds, same person and different people")
    return distances, same


def _accepted_rates(distances, same, thresholds):
    """Fractions of different-person and same-person pairs with ``distance < threshold``, per threshold."""
    rates = [np.searchsorted(np.sort(distances[mask]), thresholds, side="left") / mask.sum()
             for mask in (~same, same)]
    return rates[0], rates[1]


def roc(distances, same):
    """``(fpr, tpr, thresholds)``: at each candidate threshold (every distance, and one above them all)
    the rates of different-person and same-person pairs accepted (``distance < threshold``)."""
    distances, same = _checked(distances, same)
    thresholds = np.concatenate([np.unique(distances), [np.inf]])
    fpr, tpr = _accepted_rates(distances, same, thresholds)
    return fpr, tpr, thresholds


def accuracy_at(distances, same, threshold):
    """The fraction of pairs classified right at ``threshold``."""
    return float(np.mean((np.asarray(distances) < threshold) == np.asarray(same, bool)))


def best_threshold(distances, same):
    """The threshold of highest accuracy (midway between neighbouring distances)."""
    distances, same = _checked(distances, same)
    values = np.unique(distances)
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    fpr, tpr = _accepted_rates(distances, same, candidates)
    accuracies = (tpr * same.sum() + (1 - fpr) * (~same).sum()) / len(same)
    return float(candidates[int(np.argmax(accuracies))])


def kfold_threshold(distances, same, folds=10, seed=0):
    """``(threshold, accuracy)``: the mean over folds of the best threshold on the other folds, and the
    mean accuracy on each held-out fold at its fold's threshold."""
    distances, same = _checked(distances, same)
    order = np.random.default_rng(seed).permutation(len(distances))
    thresholds, accuracies = [], []
    for test in np.array_split(order, min(folds, len(distances))):
        train = np.setdiff1d(order, test)
        if not same[train].any() or same[train].all():
            continue
        threshold = best_threshold(distances[train], same[train])
        thresholds.append(threshold)
        accuracies.append(accuracy_at(distances[test], same[test], threshold))
    return float(np.mean(thresholds)), float(np.mean(accuracies))


def threshold_at_far(distances, same, far=1e-3):
    """``(threshold, tpr)``: the largest threshold whose false-accept rate is at most ``far``."""
    fpr, tpr, thresholds = roc(distances, same)
    allowed = np.flatnonzero(fpr <= far)
    best = allowed[-1]
    return float(thresholds[best]), float(tpr[best])


def calibrate(distances, same, folds=10, far=1e-3):
    """Everything :class:`Calibration` holds, from labelled pair distances."""
    fpr, tpr, thresholds = roc(distances, same)
    threshold, accuracy = kfold_threshold(distances, same, folds)
    far_threshold, far_tpr = threshold_at_far(distances, same, far)
    auc = float(np.trapezoid(np.concatenate([[0.0], tpr]), np.concatenate([[0.0], fpr])))
    return Calibration(threshold, accuracy, far, far_threshold, far_tpr, fpr, tpr, thresholds, auc)


def plot_roc(calibration, path):
    """Draw the ROC curve with both thresholds marked into a PNG file (written atomically)."""
    figure, axes = plotting.subplots(figsize=(5, 5))
    axes.plot(calibration.fpr, calibration.tpr_curve, label=f"ROC (AUC {calibration.auc:.3f})")
    for threshold, marker, label in ((calibration.threshold, "o", "best accuracy"),
                                     (calibration.far_threshold, "s", f"FAR ≤ {calibration.target_far:g}")):
        index = int(np.searchsorted(calibration.thresholds, threshold))
        index = min(index, len(calibration.thresholds) - 1)
        axes.plot(calibration.fpr[index], calibration.tpr_curve[index], marker,
                  label=f"{label}: threshold {threshold:.3f}")
    axes.set(xlabel="false accepts (different people)", ylabel="true accepts (same person)",
             xlim=(0, 1), ylim=(0, 1.02), title="Face verification ROC")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    plotting.save_figure(figure, path)
