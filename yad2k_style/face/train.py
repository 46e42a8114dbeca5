"""Training the face embedding with batch triplet losses on batches of P identities × K images.

Two sources of identities: the synthetic stream (:mod:`yad2k_style.face.synthetic`, endless, used for
the shipped model) and a folder per identity on disk. After each epoch a validation report gives the
pair accuracy and ROC AUC on held-out identities. Runs use the shared training pieces
(checkpoints, TensorBoard, history, resume) and end as a model directory with a calibrated threshold.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from yad2k_style import artifacts, training
from yad2k_style.errors import FormatError, YadError, YadWarning
from yad2k_style.face import synthetic
from yad2k_style.face.calibration import calibrate
from yad2k_style.face.embedder import face_info
from yad2k_style.face.losses import BatchAllTripletLoss, BatchHardTripletLoss, SemiHardTripletLoss
from yad2k_style.face.model import face_reco_model
from yad2k_style.images import IMAGE_EXTENSIONS, read_image, resize_image

LOSSES = {"semi-hard": SemiHardTripletLoss, "batch-hard": BatchHardTripletLoss,
          "batch-all": BatchAllTripletLoss}
STAGE = "face"


def synthetic_batches(identities, images, pool=100_000, seed=synthetic.TRAIN_SEED):
    """An endless ``tf.data.Dataset`` of ``(images float32 (P·K, 96, 96, 3) in [0, 1], labels (P·K,))``:
    each batch ``identities`` (P) random identities of the first ``pool`` of stream ``seed``, each in
    ``images`` (K) fresh renderings."""

    def make(step):
        rng = np.random.default_rng([seed, int(step)])
        numbers = rng.choice(pool, identities, replace=False)
        starts = rng.integers(0, 1_000_000, identities)
        batch = np.stack([synthetic.render(seed, int(n), int(s) + k)
                          for n, s in zip(numbers, starts, strict=True) for k in range(images)])
        return batch.astype(np.float32) / 255.0, np.repeat(numbers, images).astype(np.int32)

    def load(step):
        batch, labels = tf.numpy_function(make, [step], [tf.float32, tf.int32])
        batch.set_shape((identities * images, synthetic.SIZE, synthetic.SIZE, 3))
        labels.set_shape((identities * images,))
        return batch, labels

    return tf.data.Dataset.range(2**62).map(load, num_parallel_calls=2).prefetch(2)


def validation_set(identities=100, images=3, seed=synthetic.VALIDATION_SEED):
    """``(images float32 (N·K, 96, 96, 3), labels)`` of held-out synthetic identities."""
    batch = synthetic.renderings(seed, range(identities), images)
    batch = batch.reshape(-1, synthetic.SIZE, synthetic.SIZE, 3)
    return batch.astype(np.float32) / 255.0, np.repeat(np.arange(identities), images)


def pair_distances(embeddings, labels, seed=0):
    """Plain distances and same-person flags of balanced pairs: every same-person pair ``i < j`` and as
    many different-person pairs, drawn with ``seed``."""
    rows, columns = np.triu_indices(len(labels), k=1)
    same = labels[rows] == labels[columns]
    different = np.random.default_rng(seed).choice(np.flatnonzero(~same), same.sum(), replace=False)
    chosen = np.concatenate([np.flatnonzero(same), different])
    distances = np.linalg.norm(embeddings[rows[chosen]] - embeddings[columns[chosen]], axis=1)
    return distances, same[chosen]


class PairValidation(keras.callbacks.Callback):
    """After each epoch: ``val_pair_accuracy`` (best threshold, 5-fold) and ``val_auc`` on held-out
    identities, into the logs (and so the history and TensorBoard)."""

    def __init__(self, images, labels):
        super().__init__()
        self.images, self.labels = images, labels

    def on_epoch_end(self, epoch, logs=None):
        embeddings = np.asarray(self.model.predict(self.images, batch_size=64, verbose=0))
        result = calibrate(*pair_distances(embeddings, self.labels), folds=5)
        if logs is not None:
            logs.update(val_pair_accuracy=result.accuracy, val_auc=result.auc, val_threshold=result.threshold)
        print(f"validation: pair accuracy {result.accuracy:.4f}, ROC AUC {result.auc:.4f}, "
              f"threshold {result.threshold:.4f}")


@dataclass(frozen=True, kw_only=True)
class FaceTrainingConfig:
    """``face train``'s settings: ``identities`` × ``images`` per batch, ``steps`` per epoch; the learning
    rate decays from ``learning_rate`` to 5 % of it over the run (cosine)."""

    out: str
    dataset: str | None = None
    epochs: int = 20
    steps: int = 500
    identities: int = 16
    images: int = 4
    learning_rate: float = 1e-3
    margin: float = 0.2
    loss: str = "semi-hard"
    validation_identities: int = 100
    seed: int = 0
    devices: tuple | None = None
    verbose: int = 1


def train_face(config):
    """Train the course's network; ``config.out`` becomes a model directory (threshold calibrated on
    the validation identities). An interrupted run resumes where it stopped. Returns the model."""
    out = Path(config.out)
    state = training.read_state(out)
    done = state.get("epochs_done", 0) if state.get("stage") == STAGE else 0
    if done >= config.epochs and (out / artifacts.WEIGHTS_FILE).exists():
        raise YadError(f"{out}: already trained for {done} epochs; give a new output directory, or more "
                       f"epochs to train on from there")
    if config.dataset is None:
        data = synthetic_batches(config.identities, config.images)
        val_images, val_labels = validation_set(config.validation_identities)
    else:
        data, (val_images, val_labels) = folder_batches(config.dataset, config.identities, config.images)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)  # the network's initialisation
    strategy = training.select_strategy(config.devices)
    with strategy.scope():
        model = face_reco_model()
        if done:  # a finished run trained on: its weights, before the optimizer exists
            model.load_weights(out / artifacts.WEIGHTS_FILE)
        schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, config.epochs * config.steps,
                                                          alpha=0.05)
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss=LOSSES[config.loss](margin=config.margin))
    validation = PairValidation(val_images, val_labels)
    model.fit(data, epochs=config.epochs, initial_epoch=done, steps_per_epoch=config.steps,
              callbacks=[validation, *training.standard_callbacks(out, STAGE)], shuffle=False,
              verbose=config.verbose)
    final = face_reco_model()  # uncompiled: the file holds the weights, not the optimizer's state
    final.set_weights(model.get_weights())
    training.save_weights(final, out / artifacts.WEIGHTS_FILE)
    result = calibrate(*pair_distances(np.asarray(model.predict(val_images, verbose=0)), val_labels))
    artifacts.write_info(out, face_info(model, result.threshold, provenance={
        "trained_on": config.dataset or f"synthetic identities (seed {synthetic.TRAIN_SEED})",
        "epochs": config.epochs, "steps_per_epoch": config.steps, "loss": config.loss}))
    training.write_state(out, stage=STAGE, epochs_done=config.epochs)
    return model


def read_identity_folders(path):
    """``(image paths, labels, names)`` of a folder with one subfolder of images per identity."""
    root = Path(path)
    if not root.is_dir():
        raise FormatError(root, "not a folder of identity folders")
    paths, labels, names = [], [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if images:
            names.append(folder.name)
            paths += images
            labels += [len(names) - 1] * len(images)
    if len(names) < 2:
        raise FormatError(root, f"{len(names)} identity folder(s) with images; training needs at least 2")
    return paths, np.array(labels), names


def folder_batches(path, identities, images, validation_share=0.1, seed=0):
    """Batches of P identities × K images from identity folders, with augmentation (crop, flip, colour,
    blur); a tenth of the identities with several images (at least 2) is held out for validation.
    Identities with a single image are negatives only (a warning says how many)."""
    paths, labels, names = read_identity_folders(path)
    rng = np.random.default_rng(seed)
    several = np.flatnonzero(np.bincount(labels) >= 2)  # validation needs same-person pairs
    held = max(2, int(len(names) * validation_share))
    if len(several) < held + 2:
        raise FormatError(path, f"{len(several)} identities have 2 or more images; training and validation "
                                f"need at least {held + 2}")
    held_out = set(rng.choice(several, held, replace=False).tolist())
    train = [i for i in range(len(paths)) if labels[i] not in held_out]
    counts = np.bincount(labels[train], minlength=len(names))
    singles = int(np.sum(counts == 1))
    if singles:
        warnings.warn(f"{path}: {singles} identities have a single image; they are used as negatives only",
                      YadWarning, stacklevel=2)
    anchors = [i for i in range(len(names)) if counts[i] >= 2]
    by_identity = {i: [j for j in train if labels[j] == i] for i in range(len(names))}
    negatives = [j for j in train if counts[labels[j]] == 1]

    def load(index):
        size = (synthetic.SIZE, synthetic.SIZE)
        return np.asarray(resize_image(read_image(paths[index]), size), np.float32)

    def make(step):
        r = np.random.default_rng([seed, int(step)])
        chosen = r.choice(anchors, min(identities, len(anchors)), replace=False)
        picks = [j for i in chosen
                 for j in r.choice(by_identity[i], images, replace=len(by_identity[i]) < images)]
        picks += list(r.choice(negatives, min(len(negatives), images), replace=False)) if negatives else []
        batch = np.stack([_augment(r, load(j)) for j in picks]) / 255.0
        return batch.astype(np.float32), labels[picks].astype(np.int32)

    def make_tensor(step):
        batch, batch_labels = tf.numpy_function(make, [step], [tf.float32, tf.int32])
        batch.set_shape((None, synthetic.SIZE, synthetic.SIZE, 3))
        batch_labels.set_shape((None,))
        return batch, batch_labels

    validation = [j for j in range(len(paths)) if labels[j] in held_out]
    val_images = np.stack([load(j) for j in validation]).astype(np.float32) / 255.0
    data = tf.data.Dataset.range(2**62).map(make_tensor, num_parallel_calls=2).prefetch(2)
    return data, (val_images, labels[validation])


def _augment(rng, image):
    """Random crop (90–100 %, resized back), horizontal flip, brightness/contrast/colour, slight blur."""
    from PIL import Image, ImageFilter

    size = synthetic.SIZE
    crop = int(size * rng.uniform(0.9, 1.0))
    top, left = rng.integers(0, size - crop + 1, 2)
    picture = Image.fromarray(image.astype(np.uint8)).crop((left, top, left + crop, top + crop))
    picture = picture.resize((size, size), Image.BILINEAR)
    if rng.uniform() < 0.5:
        picture = picture.transpose(Image.FLIP_LEFT_RIGHT)
    picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8)))
    pixels = np.asarray(picture, np.float32)
    pixels = (pixels - pixels.mean()) * rng.uniform(0.8, 1.2) + pixels.mean() * rng.uniform(0.8, 1.2)
    return np.clip(pixels * rng.uniform(0.9, 1.1, 3), 0, 255)
