"""Training a YOLOv2-family model: loss and metrics, YAD2K's two stages, checkpoints, resuming.

Stage 1 (optional, ``freeze_body_epochs``) trains only the final detector convolution on a frozen
body, as YAD2K's retraining does; stage 2 trains every layer. The run directory gets the shared
training files (:mod:`yad2k_style.training`: checkpoints, logs, history, resume) and, at the end,
``model.weights.h5``; :func:`train_on_dataset` makes it a model directory (:mod:`yad2k_style.artifacts`)
that ``detect --model RUN`` and ``evaluate --model RUN`` read, with ``final.keras`` beside it.
"""

from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from yad2k_style import artifacts, registry, training
from yad2k_style.assets import read_anchors, write_anchors, write_classes
from yad2k_style.detection.yolo.loss import PRIOR_IMAGES, RECIPES, PriorMatching, YoloLoss, YoloLossParts
from yad2k_style.errors import YadError
from yad2k_style.files import atomic_path
from yad2k_style.netspec import Region

STAGE1_WEIGHTS = "stage1.weights.h5"
FINAL_KERAS = "final.keras"


@dataclass(frozen=True)
class Recipe:
    """How the loss and optimiser behave. ``loss``: a name in :data:`~yad2k_style.detection.yolo.loss.RECIPES`
    (``"yad2k"`` or ``"darknet"``, the region layer's deltas); ``rescore`` adds Darknet's IoU target
    to either; ``prior_matching``: Darknet's pull of every prediction to its anchor for the first
    12,800 images (``batch_size`` images per step); ``ema``: the momentum of an exponential moving
    average of the weights (Keras' ``use_ema``), written as the final weights (None: off)."""

    loss: str = "yad2k"
    rescore: bool = False
    prior_matching: bool = False
    batch_size: int = 8
    ema: float | None = None

    def loss_options(self):
        if self.loss not in RECIPES:
            raise YadError(f"unknown loss {self.loss!r}; choose from {', '.join(RECIPES)}")
        return {**RECIPES[self.loss], **({"rescore": True} if self.rescore else {})}


def compile_for_training(model, anchors, num_classes, learning_rate=1e-3, recipe=Recipe()):
    """Compile ``model`` with :class:`YoloLoss`, Adam (with EMA if the recipe asks), and the loss
    parts as metrics."""
    options = recipe.loss_options()
    ema = {"use_ema": True, "ema_momentum": recipe.ema} if recipe.ema else {}
    loss = YoloLoss(anchors, num_classes, options=options)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, **ema), loss=loss,
                  metrics=[YoloLossParts(anchors, num_classes, options=options, loss=loss)])
    return model


class BurnIn(keras.optimizers.schedules.LearningRateSchedule):
    """Darknet's burn-in: ``schedule(step) · (step / steps)⁴`` for the first ``steps`` steps, then
    ``schedule(step)`` (a float is a constant schedule)."""

    def __init__(self, schedule, steps, power=4):
        self.schedule, self.steps, self.power = schedule, int(steps), power

    def __call__(self, step):
        base = self.schedule(step) if callable(self.schedule) else self.schedule
        warm = tf.minimum(tf.cast(step, tf.float32) / max(self.steps, 1), 1.0) ** self.power
        return base * warm

    def get_config(self):
        schedule = (keras.optimizers.schedules.serialize(self.schedule) if callable(self.schedule)
                    else self.schedule)
        return {"schedule": schedule, "steps": self.steps, "power": self.power}


def train(build_model, train_data, anchors, num_classes, out_dir, epochs, *, freeze_body_epochs=0,
          learning_rate=1e-3, validation_data=None, strategy=None, recipe=Recipe(), verbose=1):
    """Train the model that ``build_model()`` returns and return it with its final weights, which are
    also written to ``out_dir/model.weights.h5``.

    An interrupted run resumes where it stopped. A finished run in ``out_dir`` is refused, or, with
    more ``epochs`` than it had, trained on from its final weights (the optimizer starts afresh).

    ``train_data`` (and ``validation_data``) yield ``(images, y_true)`` batches: images float32 in
    [0, 1] of the model's input shape, ``y_true`` (batch, H, W, A, 6) from ``pack_y_true``.
    """
    out = Path(out_dir)
    finished = _finished_epochs(out, epochs)
    out.mkdir(parents=True, exist_ok=True)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_model()
    stage = _Stage(model, strategy, train_data, validation_data, anchors, num_classes, out, learning_rate,
                   recipe, verbose)
    stage1 = out / STAGE1_WEIGHTS
    freeze_body_epochs = min(freeze_body_epochs, epochs)
    if finished is not None:
        model.load_weights(out / artifacts.WEIGHTS_FILE)
    elif freeze_body_epochs and stage1.exists():
        model.load_weights(stage1)
    elif freeze_body_epochs:
        stage.fit("stage1", 0, freeze_body_epochs, trainable_from=-1)
        training.save_weights(model, stage1)
    stage.fit("stage2", finished or freeze_body_epochs, epochs, trainable_from=0)
    if recipe.ema:
        model.optimizer.finalize_variable_values(model.trainable_variables)  # the average becomes the weights
    training.save_weights(model, out / artifacts.WEIGHTS_FILE)
    return model


def _finished_epochs(out, epochs):
    """Epochs of a finished run in ``out`` (its final weights written), else None; a
    :class:`YadError` when it has already had ``epochs`` or more."""
    state = training.read_state(out)
    if state.get("stage") != "stage2" or not (out / artifacts.WEIGHTS_FILE).exists():
        return None
    finished = int(state["epochs_done"])
    if epochs <= finished:
        plural = "s" if finished != 1 else ""
        raise YadError(f"{out}: already trained for {finished} epoch{plural}; give a new output directory, "
                       f"or more than {finished} epoch{plural} to train on from there")
    return finished


@dataclass
class _Stage:
    model: keras.Model
    strategy: object
    train_data: object
    validation_data: object
    anchors: object
    num_classes: int
    out: Path
    learning_rate: object
    recipe: Recipe
    verbose: int

    def fit(self, name, first_epoch, last_epoch, trainable_from):
        """Fit epochs ``[first_epoch, last_epoch)`` with weight layers before ``trainable_from`` frozen."""
        weighted = [layer for layer in self.model.layers if layer.weights]
        boundary = len(weighted) + trainable_from if trainable_from < 0 else trainable_from
        for index, layer in enumerate(weighted):
            layer.trainable = index >= boundary
        with self.strategy.scope():
            compile_for_training(self.model, self.anchors, self.num_classes, self.learning_rate, self.recipe)
        callbacks = training.standard_callbacks(self.out, name)
        if self.recipe.prior_matching:
            # A resumed stage counts from its first epoch: past the first, Darknet's 12,800 images are over.
            seen = 0 if first_epoch == 0 else PRIOR_IMAGES
            callbacks.append(PriorMatching(self.model.loss, self.recipe.batch_size, initial_images=seen))
        if last_epoch > first_epoch:
            self.model.fit(self.train_data, validation_data=self.validation_data, epochs=last_epoch,
                           initial_epoch=first_epoch, callbacks=callbacks,
                           shuffle=False, verbose=self.verbose)  # the pipeline shuffles
        training.write_state(self.out, stage=name, epochs_done=last_epoch)


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """``yad2k-style train``'s settings. ``model``: a registered detection architecture; ``input_size``
    ``(height, width)`` multiples of 32 (default: the model's); ``anchors``: an anchors file, else
    k-means with ``kmeans`` clusters on the training boxes; ``weights``: a ``.weights.h5`` or a model
    directory to start from (layers of another shape keep their initialisation, reported);
    ``devices``: names for ``MirroredStrategy``. ``loss``, ``rescore``, ``prior_matching`` and
    ``ema``: the :class:`Recipe`; ``burn_in``: steps of Darknet's learning-rate burn-in (0: none);
    ``multi_scale``: Darknet's ``random=1``, the input size redrawn every 10 batches
    (:func:`~yad2k_style.detection.yolo.pipeline.scale_sizes`)."""

    dataset: str
    out: str
    model: str = "yolov2-tiny"
    input_size: tuple | None = None
    anchors: str | None = None
    kmeans: int = 5
    weights: str | None = None
    epochs: int = 30
    freeze_body_epochs: int = 0
    batch_size: int = 8
    learning_rate: float = 1e-3
    validation: str | None = None
    augment: bool = True
    devices: tuple | None = None
    loss: str = "yad2k"
    rescore: bool = False
    prior_matching: bool = False
    ema: float | None = None
    burn_in: int = 0
    multi_scale: bool = False
    verbose: int = 1


def _check_start_heads(directory):
    """A model directory to start from: a YOLOv2 detector or a classifier (its backbone), not another
    YOLO generation, whose layers would fit YOLOv2's only by accident."""
    cfg = artifacts.darknet_cfg(directory, artifacts.read_info(directory))
    heads = cfg.heads if cfg else []
    if heads and not (isinstance(heads[-1], Region) and heads[-1].tree is None):
        kind = {"Yolo": "YOLOv3's [yolo]", "Detection": "YOLOv1's [detection]", "Region": "YOLO9000's tree"}
        raise YadError(f"--weights {directory}: a network with {kind[type(heads[-1]).__name__]} heads; train "
                       f"starts YOLOv2 from a YOLOv2 detector or a classifier's backbone")


def train_on_dataset(config):
    """Train ``config.model`` on a labelled dataset (YOLO txt, VOC or COCO) into the model directory
    ``config.out`` (``model.weights.h5`` + ``model.json``, ``final.keras``, ``anchors.txt``,
    ``classes.txt`` and :func:`train`'s files). Returns the trained model."""
    from yad2k_style.detection.labels import read_dataset
    from yad2k_style.detection.yolo.anchors import dataset_anchors
    from yad2k_style.detection.yolo.pipeline import scale_sizes, training_pipeline

    entry = registry.get(config.model)
    if entry.task != "detection":
        raise YadError(f"{config.model} is a {entry.task} model; train takes a detection model")
    trainable = registry.names("detection", "detection.yolo")
    if config.model not in trainable:
        raise YadError(f"{config.model}: train trains YOLOv2's [region] models ({', '.join(trainable)})")
    _finished_epochs(Path(config.out), config.epochs)  # refuse a finished run before any work
    start = None
    if config.weights:
        start = Path(config.weights)
        if start.is_dir():
            _check_start_heads(start)
        start = training.check_weights_file(start / artifacts.WEIGHTS_FILE if start.is_dir() else start)
    dataset = read_dataset(config.dataset)
    input_shape = (*config.input_size, 3) if config.input_size else entry.input_shape
    if config.anchors is not None:
        anchors = read_anchors(config.anchors)
    else:
        clusters = dataset_anchors(dataset, input_shape, k=config.kmeans)
        anchors = clusters.anchors
        print(f"k-means anchors (grid cells): mean IoU {clusters.mean_iou:.3f}")
    arguments = {"input_shape": tuple(input_shape), "num_anchors": len(anchors),
                 "num_classes": len(dataset.class_names)}
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    write_anchors(out / "anchors.txt", anchors)
    write_classes(out / "classes.txt", dataset.class_names)

    def build():
        any_size = {"input_shape": (None, None, 3)} if config.multi_scale else {}
        model = registry.create_model(config.model, **{**arguments, **any_size})
        if start:
            training.load_matching_weights(model, start)
        return model

    sizes = scale_sizes(input_shape[:2]) if config.multi_scale else None
    train_data = training_pipeline(dataset, input_shape, anchors, config.batch_size, augment=config.augment,
                                   sizes=sizes)
    validation = None
    if config.validation:
        validation = training_pipeline(read_dataset(config.validation), input_shape, anchors,
                                       config.batch_size, augment=False, shuffle=False)
    recipe = Recipe(config.loss, config.rescore, config.prior_matching, config.batch_size, config.ema)
    learning_rate = BurnIn(config.learning_rate, config.burn_in) if config.burn_in else config.learning_rate
    model = train(build, train_data, anchors, len(dataset.class_names), out, config.epochs,
                  freeze_body_epochs=config.freeze_body_epochs, learning_rate=learning_rate,
                  validation_data=validation, strategy=training.select_strategy(config.devices),
                  recipe=recipe, verbose=config.verbose)
    provenance = {"trained_on": str(config.dataset), "epochs": config.epochs,
                  "started_from": None if config.weights is None else str(config.weights)}
    fixed = registry.create_model(config.model, **arguments)
    fixed.set_weights(model.get_weights())
    artifacts.write_info(out, artifacts.model_info(
        fixed, "detection", artifacts.registry_architecture(config.model, **arguments),
        class_names=dataset.class_names, anchors=anchors, preprocessing=entry.preprocessing,
        provenance=provenance))
    _save_keras(fixed, model, out / FINAL_KERAS)
    return fixed


def _save_keras(fresh, trained, path):
    """Save ``trained``'s weights in the uncompiled ``fresh`` copy of its architecture (at the model's
    input size) as a ``.keras`` file: no loss or optimizer inside, so it loads anywhere with
    ``safe_mode=True``."""
    fresh.set_weights(trained.get_weights())
    with atomic_path(path) as temporary:
        fresh.save(temporary)
