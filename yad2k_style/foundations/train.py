"""Training and held-out evaluation of the foundations' three small models on generated images:
``localization-shapes`` (classification with localisation), ``landmarks-triangles`` (landmark
detection) and ``window-classifier`` (the notes' sliding-window classifier). Each trains in a few
minutes on 2 CPU cores; ``scripts/train_foundations.py`` makes the packaged weights.
"""

from dataclasses import dataclass

import keras
import numpy as np

from yad2k_style import registry
from yad2k_style.boxes import pairwise_iou
from yad2k_style.foundations import objects
from yad2k_style.foundations.landmarks import evaluate_landmarks, landmark_loss, landmark_target
from yad2k_style.foundations.localization import evaluate_localization, localization_loss, localization_target
from yad2k_style.foundations.sliding_windows import convolutional_classifier, detect
from yad2k_style.progress import fit_verbosity


@dataclass(frozen=True)
class Recipe:
    """How a model trains: its images (``make``), targets, loss, and schedule (Adam, cosine decay)."""

    make: object
    target: object
    loss: object
    images: int
    epochs: int
    batch_size: int = 64
    learning_rate: float = 1e-3


def _label(record):
    return record.label


RECIPES = {
    "localization-shapes": Recipe(objects.object_image, localization_target, localization_loss, 12_000, 30),
    "landmarks-triangles": Recipe(objects.landmark_image, landmark_target, landmark_loss, 12_000, 30),
    "window-classifier": Recipe(objects.window_crop, _label, "sparse_categorical_crossentropy", 20_000, 30,
                                batch_size=128),
}
EVALUATION_IMAGES = 1000
DETECTION_SCENES = 50


def dataset(name, seed, count):
    """``(images float32 (count, h, w, 3) in [0, 1], targets)`` of model ``name`` from stream ``seed``."""
    recipe = RECIPES[name]
    images, records = objects.batch(recipe.make, seed, count)
    return images, np.stack([np.asarray(recipe.target(record), np.float32) for record in records])


def train(name, epochs=None, images=None, seed=0):
    """Train registered model ``name`` from a seeded initialisation on its recipe's images (fewer
    ``epochs`` or ``images`` for a quick run). Returns ``(model, history)``, the model uncompiled."""
    recipe = RECIPES[name]
    epochs, images = epochs or recipe.epochs, images or recipe.images
    x, y = dataset(name, objects.TRAIN_SEED, images)
    keras.utils.set_random_seed(seed)
    model = registry.create_model(name)
    steps = epochs * -(-images // recipe.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule), recipe.loss)
    history = model.fit(x, y, batch_size=recipe.batch_size, epochs=epochs, shuffle=True,
                        validation_data=dataset(name, objects.VALIDATION_SEED, images // 10),
                        verbose=fit_verbosity())
    trained = registry.create_model(name)  # uncompiled: its weights file holds no optimizer state
    trained.set_weights(model.get_weights())
    return trained, history.history


def evaluate(name, model, count=EVALUATION_IMAGES):
    """Held-out figures (stream :data:`~yad2k_style.foundations.objects.EVALUATION_SEED`): presence,
    class accuracy and mean IoU (localisation); presence and point errors in pixels (landmarks);
    window accuracy, and recall and precision of the sliding-window detector on
    :data:`DETECTION_SCENES` scenes at IoU 0.5 (window classifier)."""
    x, y = dataset(name, objects.EVALUATION_SEED, count)
    predicted = model.predict(x, batch_size=256, verbose=0)
    if name == "localization-shapes":
        return evaluate_localization(y, predicted)
    if name == "landmarks-triangles":
        return evaluate_landmarks(y, predicted)
    return {"window_accuracy": float(np.mean(np.argmax(predicted, -1) == y)), **detection_figures(model)}


def detection_figures(classifier, scenes=DETECTION_SCENES):
    """Recall (objects matched by a detection of their class with IoU ≥ 0.5) and precision
    (detections matching an object) of the convolutional sliding-window detector."""
    convolutional = convolutional_classifier(classifier)
    objects_found = objects_total = detections_right = detections_total = 0
    for index in range(scenes):
        scene = objects.window_scene(objects.EVALUATION_SEED, index)
        boxes, _, classes = detect(np.asarray(scene.image, np.float32) / 255.0, convolutional=convolutional)
        match = (pairwise_iou(scene.boxes, boxes) >= 0.5) & (scene.classes[:, None] == classes[None])
        objects_found += int(match.any(1).sum())
        detections_right += int(match.any(0).sum())
        objects_total += len(scene.boxes)
        detections_total += len(boxes)
    return {"recall": objects_found / max(objects_total, 1),
            "precision": detections_right / max(detections_total, 1)}
