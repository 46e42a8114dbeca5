"""What every domain's training shares: devices and strategy, the callback set, resuming, saving,
and starting from other weights with a report of what did not fit.

A run directory holds ``checkpoints/epoch_NNN.weights.h5`` (after each epoch), ``logs/`` (TensorBoard),
``history.csv`` (one row per epoch, appended across restarts), ``backup/STAGE/`` while a stage is in
progress (a rerun with the same directory resumes there, optimizer state included:
:class:`AtomicBackupAndRestore`) and ``state.json`` (the last finished stage). Every file is written
atomically.
"""

import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import h5py
import keras
import numpy as np
import tensorflow as tf

from yad2k_style.errors import FormatError, YadWarning, first_line
from yad2k_style.files import atomic_path, kill_point, read_text, write_text_atomically

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"


def select_strategy(devices=None):
    """``MirroredStrategy`` over ``devices`` or over all GPUs when there are several, else the default.

    The same training code runs unchanged under ``tf.distribute.MultiWorkerMirroredStrategy`` on
    several machines (set ``TF_CONFIG`` on each worker and pass that strategy to the domain's trainer).
    """
    if devices:
        return tf.distribute.MirroredStrategy(devices)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    return tf.distribute.get_strategy()


def standard_callbacks(run_dir, stage):
    """Resume (``backup/STAGE``), per-epoch weight checkpoints, TensorBoard logs and CSV history."""
    run = Path(run_dir)
    (run / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    return [
        AtomicBackupAndRestore(run / "backup" / stage),
        EpochWeights(run / CHECKPOINTS),
        keras.callbacks.TensorBoard(str(run / "logs")),
        keras.callbacks.CSVLogger(str(run / "history.csv"), append=True),
    ]


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' ``BackupAndRestore`` (resume an interrupted ``fit`` at its last finished epoch, optimizer
    state included), written atomically. Keras' own overwrites its weights file in place, then its
    epoch count: killed in between, or while writing, a run resumes from a wrong epoch or cannot resume.
    Here each backup is written whole into ``DIR/.staging`` and swapped in by renames (``latest`` →
    ``previous``, ``.staging`` → ``latest``); a run killed at any moment finds ``latest`` or, killed
    between the two renames, ``previous`` — a complete backup either way."""

    def __init__(self, backup_dir):
        self.root = Path(backup_dir)
        super().__init__(str(self.root / "latest"))

    def on_train_begin(self, logs=None):
        latest, previous, staging = (self.root / name for name in ("latest", "previous", ".staging"))
        if not latest.exists() and previous.exists():
            previous.rename(latest)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)
        super().on_train_begin(logs)

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.delete_checkpoint:  # the stage is finished: its backups go
            shutil.rmtree(self.root, ignore_errors=True)

    def _save_model(self):
        latest, previous, staging = (self.root / name for name in ("latest", "previous", ".staging"))
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        self.model.save_weights(str(staging / Path(self._weights_path).name))
        (staging / Path(self._training_metadata_path).name).write_text(
            json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}))
        kill_point("backup:staged")
        if latest.exists():
            shutil.rmtree(previous, ignore_errors=True)
            latest.rename(previous)
        kill_point("backup:swapping")
        staging.rename(latest)
        shutil.rmtree(previous, ignore_errors=True)


class EpochWeights(keras.callbacks.Callback):
    """After each epoch, the model's weights as ``DIR/epoch_NNN.weights.h5`` (1-based), written
    atomically (:func:`save_weights`)."""

    def __init__(self, directory):
        super().__init__()
        self.directory = Path(directory)

    def on_epoch_end(self, epoch, logs=None):
        save_weights(self.model, self.directory / f"epoch_{epoch + 1:03d}.weights.h5")


def write_state(run_dir, **state):
    """Record how far a run got (``state.json``, written atomically)."""
    write_text_atomically(Path(run_dir) / STATE_FILE, json.dumps(state) + "\n")


def read_state(run_dir):
    """What :func:`write_state` last recorded in ``run_dir`` (``{}`` for a new run)."""
    path = Path(run_dir) / STATE_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"not valid JSON ({exc.msg})") from None


def save_weights(model, path):
    """``model.save_weights`` to a temporary file beside ``path``, then rename: never half-written."""
    with atomic_path(path) as temporary:
        model.save_weights(temporary)


@dataclass(frozen=True)
class WeightsReport:
    """What :func:`load_matching_weights` did: ``loaded`` and ``kept`` (initialisation kept because
    the file had no weights of that shape for them) are layer names, in model order."""

    path: str
    loaded: tuple
    kept: tuple

    def summary(self):
        """One line: how many weighted layers were loaded and which kept their initialisation."""
        total = len(self.loaded) + len(self.kept)
        if not self.kept:
            return f"{self.path}: loaded all {total} weighted layers"
        return (f"{self.path}: loaded {len(self.loaded)} of {total} weighted layers; "
                f"{len(self.kept)} kept their initialisation (no weights of their shape): "
                f"{', '.join(self.kept)}")


def check_weights_file(path):
    """``path`` as a Keras weights file that exists and is HDF5; a one-line :class:`FormatError` naming
    it otherwise (before h5py's own message, which names neither the option nor the problem)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "not found" if not path.exists() else "not a file")
    if not h5py.is_hdf5(path):
        raise FormatError(path, "not a Keras weights file (HDF5, .weights.h5)")
    return path


def load_matching_weights(model, path):
    """Load a ``.weights.h5`` into ``model`` where shapes fit; layers that do not fit (a detector conv
    for another class count, say) keep their initialisation. Returns a :class:`WeightsReport` and
    warns (:class:`YadWarning`, one line) when some layers were kept.

    Every weight is set to NaN before loading, so a layer still NaN afterwards was not loaded: exact,
    whatever the file's layout, and restored to its initial values.
    """
    path = check_weights_file(path)
    weighted = [layer for layer in model.layers if layer.weights]
    initial = {layer.name: layer.get_weights() for layer in weighted}
    for layer in weighted:
        layer.set_weights([np.full_like(w, np.nan) for w in initial[layer.name]])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras lists the mismatches in a long warning; we report them
            model.load_weights(path, skip_mismatch=True)
    except Exception as exc:  # Keras raises many types for an unreadable file
        for layer in weighted:
            layer.set_weights(initial[layer.name])
        raise FormatError(path, f"cannot load weights ({first_line(exc)})") from None
    loaded, kept = [], []
    for layer in weighted:
        if any(np.isnan(w).any() for w in layer.get_weights()):
            layer.set_weights(initial[layer.name])
            kept.append(layer.name)
        else:
            loaded.append(layer.name)
    report = WeightsReport(str(path), tuple(loaded), tuple(kept))
    if kept:
        warnings.warn(report.summary(), YadWarning, stacklevel=2)
    return report


def load_weights_by_layer_name(model, path):
    """Load a Keras weights file into ``model`` matching layers by name, not by their place in the file:
    every weighted layer of ``model`` (nested models included) takes the arrays of the file's group whose
    ``name`` attribute is that layer's name (Keras writes it on each). For a file written by another
    arrangement of the same named layers (a subclassed model's, say). A :class:`FormatError` names the
    layers the file lacks."""

    arrays = {}

    def collect(_, item):
        if isinstance(item, h5py.Group) and "name" in item.attrs and len(item):
            arrays[str(item.attrs["name"])] = [item[key][()] for key in sorted(item, key=int)]

    try:
        with h5py.File(path, "r") as file:
            file.visititems(collect)
    except OSError as exc:
        raise FormatError(path, f"cannot read weights ({first_line(exc)})") from None
    layers = [layer for layer in _all_layers(model) if layer.weights and not isinstance(layer, keras.Model)
              and not isinstance(getattr(layer, "layer", None), keras.layers.Layer)]  # a wrapper: its inner's
    missing = [layer.name for layer in layers if layer.name not in arrays]
    if missing:
        raise FormatError(path, f"no weights for layers {', '.join(missing[:5])}"
                                + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    for layer in layers:
        layer.set_weights(arrays[layer.name])


def _all_layers(model):
    """Every layer of ``model``, nested models' (and wrapped layers') included, depth first."""
    for layer in model.layers:
        yield layer
        inner = getattr(layer, "layer", None)  # TimeDistributed and other wrappers
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        elif isinstance(inner, keras.Model):
            yield inner
            yield from _all_layers(inner)
        elif isinstance(inner, keras.layers.Layer):
            yield inner
