"""Training this domain's detectors on fresh synthetic scenes, resumably.

Every epoch draws new scenes of :data:`~yad2k_style.detection.synthetic.TRAIN_SEED` (the evaluation stream is
never drawn), so a detector cannot overfit them. A detector brings its network, a function from one
scene's boxes and classes to its training targets (NumPy), and its loss; :func:`train_detector` runs
Keras' ``fit`` with the shared callbacks (:func:`yad2k_style.training.standard_callbacks`): rerunning
the same command resumes from the last finished epoch.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.detection.selective_search import scene_proposals
from yad2k_style.detection.synthetic import SCENE_SIZE, TRAIN_SEED, scene
from yad2k_style.files import atomic_path
from yad2k_style.training import (
    load_weights_by_layer_name,
    read_state,
    save_weights,
    standard_callbacks,
    write_state,
)

WEIGHTS_FILE = "network.weights.h5"


@dataclass(frozen=True)
class Schedule:
    """``epochs`` of ``scenes_per_epoch`` fresh scenes in batches of ``batch_size``; Adam from
    ``learning_rate`` with cosine decay to zero over the whole run."""

    epochs: int = 20
    scenes_per_epoch: int = 25_000
    batch_size: int = 32
    learning_rate: float = 2e-3

    @property
    def steps_per_epoch(self):
        return self.scenes_per_epoch // self.batch_size


class LossModel(keras.Model):
    """``network`` trained in ``fit`` by ``loss(network, images, targets) → (total, {name: term})``
    (it runs the network itself: a two-stage detector's training pass differs from its inference)."""

    def __init__(self, network, loss, **kwargs):
        super().__init__(name=f"{network.name}_training", **kwargs)
        self.network, self.loss_terms = network, loss

    def call(self, images, training=False):
        return self.network(images, training=training)

    def train_step(self, data):
        images, targets = data
        with tf.GradientTape() as tape:
            total, terms = self.loss_terms(self.network, images, targets)
        variables = self.network.trainable_variables
        self.optimizer.apply(tape.gradient(total, variables), variables)
        return {"loss": total, **terms}


def scene_batches(make_targets, target_signature, scenes, batch_size, seed=TRAIN_SEED):
    """A dataset of ``(images float32 (B, 128, 128, 3) in [0, 1], targets)`` over ``scenes`` new scenes of
    stream ``seed`` (random indices, redrawn on every pass). ``make_targets(drawn, rng)`` gives one
    :class:`~yad2k_style.detection.synthetic.Scene`'s targets as NumPy arrays matching ``target_signature``
    (a tuple of ``tf.TensorSpec``); ``rng`` is a NumPy Generator seeded by the scene, for sampling."""
    indices = (tf.data.Dataset.random(seed=0, rerandomize_each_iteration=True)
               .take(scenes).map(lambda r: r % 2**40))

    def make(index):
        drawn = scene(seed, int(index))
        rng = np.random.default_rng([seed, int(index), 1])
        return np.asarray(drawn.image, np.uint8), *make_targets(drawn, rng)

    def load(index):
        image, *targets = tf.numpy_function(make, [index], [tf.uint8, *(s.dtype for s in target_signature)])
        image.set_shape((SCENE_SIZE, SCENE_SIZE, 3))
        for target, spec in zip(targets, target_signature, strict=True):
            target.set_shape(spec.shape)
        return tf.cast(image, tf.float32) / 255.0, tuple(targets)

    return indices.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(2)


def proposal_cache(directory, scenes, max_proposals, seed=TRAIN_SEED, chunk=500, workers=2):
    """Selective-search proposals of scenes 0 … ``scenes`` − 1 of stream ``seed``, computed once in
    ``workers`` processes and kept in ``directory`` as ``proposals_NNNNNN.npz`` files of ``chunk`` scenes
    (each written atomically: an interrupted run resumes) → float32 (scenes, max_proposals, 4) ``xyxy``
    pixels, zero-padded, and int32 (scenes,) counts. Prints one line per chunk computed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    starts = range(0, scenes, chunk)
    missing = [start for start in starts if not (directory / f"proposals_{start:06d}.npz").exists()]
    if missing:
        context = multiprocessing.get_context("spawn")  # no fork of a process running TensorFlow
        jobs = [(seed, start, min(chunk, scenes - start), max_proposals) for start in missing]
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for start, (boxes, counts) in zip(missing, pool.map(scene_proposals, jobs), strict=True):
                with atomic_path(directory / f"proposals_{start:06d}.npz") as temporary:
                    np.savez(temporary, boxes=boxes, counts=counts)
                print(f"proposals of scenes {start}–{start + len(counts) - 1}: {counts.mean():.0f} per scene",
                      flush=True)
    boxes, counts = [], []
    for start in starts:
        with np.load(directory / f"proposals_{start:06d}.npz", allow_pickle=False) as stored:
            boxes.append(stored["boxes"])
            counts.append(stored["counts"])
    return np.concatenate(boxes)[:scenes], np.concatenate(counts)[:scenes]


def proposal_batches(proposals, counts, make_targets, target_signature, batch_size, seed=TRAIN_SEED):
    """A dataset over the scenes whose proposals are cached (:func:`proposal_cache`), reshuffled on
    every pass: ``((images, proposals (P, 4), valid), targets)`` batched; ``make_targets(boxes, classes,
    proposals, count, rng)`` samples one scene's targets (``rng`` fresh on every pass)."""
    scenes = len(counts)

    def make(index, draw):
        drawn = scene(seed, int(index))
        rng = np.random.default_rng([int(index), int(draw)])
        targets = make_targets(drawn.boxes.astype(np.float32), drawn.classes.astype(np.int32),
                               proposals[index, :counts[index]], counts[index], rng)
        return (np.asarray(drawn.image, np.uint8), proposals[index], counts[index], *targets)

    def load(index, draw):
        image, boxes, count, *targets = tf.numpy_function(
            make, [index, draw], [tf.uint8, tf.float32, tf.int32, *(s.dtype for s in target_signature)])
        image.set_shape((SCENE_SIZE, SCENE_SIZE, 3))
        boxes.set_shape(proposals.shape[1:])
        count.set_shape(())
        for target, spec in zip(targets, target_signature, strict=True):
            target.set_shape(spec.shape)
        return (tf.cast(image, tf.float32) / 255.0, boxes, count), tuple(targets)

    order = tf.data.Dataset.range(scenes).shuffle(scenes, seed=0, reshuffle_each_iteration=True)
    draws = tf.data.Dataset.random(seed=1, rerandomize_each_iteration=True)
    return (tf.data.Dataset.zip(order, draws).map(load, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size).prefetch(2))


def train_detector(network, data, loss, run_dir, schedule=Schedule(), example=None):
    """Train ``network`` on ``data`` (a dataset of ``(inputs, targets)`` batches, one epoch per pass)
    by ``loss`` in ``run_dir`` (created; resumed when it holds an unfinished run) and write its weights to
    ``run_dir/network.weights.h5``; returns the Keras ``History`` of this call's epochs. ``example``:
    inputs that build the network (default: one zero scene)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    example = tf.zeros((1, SCENE_SIZE, SCENE_SIZE, 3)) if example is None else example
    network(example)  # built, to load weights into
    if read_state(run_dir).get("finished"):
        load_weights_by_layer_name(network, run_dir / WEIGHTS_FILE)  # any arrangement of the same layers
        return None
    decay = keras.optimizers.schedules.CosineDecay(schedule.learning_rate,
                                                   schedule.epochs * schedule.steps_per_epoch)
    trainer = LossModel(network, loss)
    trainer(example)  # built: BackupAndRestore needs it
    trainer.compile(optimizer=keras.optimizers.Adam(decay, clipnorm=10.0))
    history = trainer.fit(data, epochs=schedule.epochs, callbacks=standard_callbacks(run_dir, "train"),
                          verbose=2)
    save_weights(network, run_dir / WEIGHTS_FILE)
    write_state(run_dir, finished=True, epochs=schedule.epochs)
    return history
