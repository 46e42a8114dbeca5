"""Training a YOLOv2-family model: loss and metrics, YAD2K's two stages, checkpoints, resuming.

Stage 1 (optional, ``freeze_body_epochs``) trains only the final detector convolution on a frozen
body, as YAD2K's retraining does; stage 2 trains every layer. Under ``out_dir``:
``checkpoints/epoch_NNN.weights.h5`` after each epoch, ``logs/`` for TensorBoard, ``backup/`` while an
epoch is in progress (a rerun with the same ``out_dir`` resumes there, optimizer state included),
and ``final.weights.h5`` at the end.
"""

import json
from pathlib import Path

import keras
import tensorflow as tf

from yad2k_style.files import atomic_path, write_text_atomically
from yad2k_style.yolo.loss import YoloLoss, YoloLossParts

STAGE1_WEIGHTS = "stage1.weights.h5"
FINAL_WEIGHTS = "final.weights.h5"


def select_strategy(devices=None):
    """``MirroredStrategy`` over ``devices`` or over all GPUs when there are several, else the default.

    The same training code runs unchanged under ``tf.distribute.MultiWorkerMirroredStrategy`` on
    several machines (set ``TF_CONFIG`` on each worker and pass that strategy to :func:`train`).
    """
    if devices:
        return tf.distribute.MirroredStrategy(devices)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    return tf.distribute.get_strategy()


def compile_for_training(model, anchors, num_classes, learning_rate=1e-3, rescore=False):
    """Compile ``model`` with :class:`YoloLoss`, Adam, and the loss parts as metrics."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=YoloLoss(anchors, num_classes, rescore=rescore),
                  metrics=[YoloLossParts(anchors, num_classes, rescore=rescore)])
    return model


def train(build_model, train_data, anchors, num_classes, out_dir, epochs, freeze_body_epochs=0,
          learning_rate=1e-3, validation_data=None, strategy=None, rescore=False, verbose=1):
    """Train the model that ``build_model()`` returns and return it with its final weights.

    ``train_data`` (and ``validation_data``) yield ``(images, y_true)`` batches: images float32 in
    [0, 1] of the model's input shape, ``y_true`` (batch, H, W, A, 6) from ``pack_y_true``.
    """
    out = Path(out_dir)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_model()
    stage1 = out / STAGE1_WEIGHTS
    freeze_body_epochs = min(freeze_body_epochs, epochs)
    if freeze_body_epochs and stage1.exists():
        model.load_weights(stage1)
    elif freeze_body_epochs:
        _fit_stage(model, strategy, train_data, validation_data, anchors, num_classes, out, "stage1",
                   0, freeze_body_epochs, learning_rate, rescore, verbose, trainable_from=-1)
        _save_atomically(model, stage1)
    _fit_stage(model, strategy, train_data, validation_data, anchors, num_classes, out, "stage2",
               freeze_body_epochs, epochs, learning_rate, rescore, verbose, trainable_from=0)
    _save_atomically(model, out / FINAL_WEIGHTS)
    return model


def _fit_stage(model, strategy, train_data, validation_data, anchors, num_classes, out, stage,
               first_epoch, last_epoch, learning_rate, rescore, verbose, trainable_from):
    """Fit epochs ``[first_epoch, last_epoch)`` with weight layers before ``trainable_from`` frozen."""
    weighted = [layer for layer in model.layers if layer.weights]
    boundary = len(weighted) + trainable_from if trainable_from < 0 else trainable_from
    for index, layer in enumerate(weighted):
        layer.trainable = index >= boundary
    with strategy.scope():
        compile_for_training(model, anchors, num_classes, learning_rate, rescore)
    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "backup" / stage)),
        keras.callbacks.ModelCheckpoint(str(out / "checkpoints" / "epoch_{epoch:03d}.weights.h5"),
                                        save_weights_only=True),
        keras.callbacks.TensorBoard(str(out / "logs")),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
    ]
    if last_epoch > first_epoch:
        model.fit(train_data, validation_data=validation_data, epochs=last_epoch,
                  initial_epoch=first_epoch, callbacks=callbacks, verbose=verbose)
    write_text_atomically(out / "state.json", json.dumps({"stage": stage, "epochs_done": last_epoch}) + "\n")


def _save_atomically(model, path):
    with atomic_path(path) as temporary:
        model.save_weights(temporary)


def train_on_dataset(dataset_path, out_dir, model_name="yolov2-tiny", input_size=None, anchors=None,
                     kmeans=5, weights=None, epochs=30, freeze_body_epochs=0, batch_size=8,
                     learning_rate=1e-3, validation_path=None, augment=True, devices=None,
                     rescore=False, verbose=1):
    """Train a registered architecture on a labelled dataset folder/file (YOLO txt, VOC or COCO).

    ``anchors``: an anchors file, else k-means with ``kmeans`` clusters on the training boxes.
    ``weights``: a ``.weights.h5`` of the same family to start from, or a directory written by
    ``yad2k-style convert`` (converted Darknet weights); layers whose shapes differ, such as a
    detector conv for another class count, keep their fresh initialisation. Writes
    ``anchors.txt``, ``classes.txt``, ``training.json`` and ``final.keras`` besides :func:`train`'s files.
    """
    from yad2k_style.assets import read_anchors
    from yad2k_style.darknet.convert import WEIGHTS_FILE as CONVERTED_WEIGHTS
    from yad2k_style.yolo.anchors import kmeans_anchors
    from yad2k_style.yolo.labels import read_dataset
    from yad2k_style.yolo.model import create_model, default_input_shape
    from yad2k_style.yolo.pipeline import training_pipeline

    dataset = read_dataset(dataset_path)
    input_shape = (*input_size, 3) if input_size else default_input_shape(model_name)
    grid = (input_shape[0] // 32, input_shape[1] // 32)
    if anchors is not None:
        anchor_array = read_anchors(anchors)
    else:
        clusters = kmeans_anchors(dataset.box_sizes() * grid[::-1], k=kmeans)
        anchor_array = clusters.anchors
        print(f"k-means anchors (grid cells): mean IoU {clusters.mean_iou:.3f}")
    num_classes = len(dataset.class_names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out / "anchors.txt", ", ".join(f"{v:.5f}" for v in anchor_array.ravel()) + "\n")
    write_text_atomically(out / "classes.txt", "".join(f"{name}\n" for name in dataset.class_names))
    write_text_atomically(out / "training.json", json.dumps(
        {"model": model_name, "input_shape": list(input_shape), "num_classes": num_classes,
         "num_anchors": len(anchor_array), "dataset": str(dataset_path)}, indent=1) + "\n")

    def build():
        model = create_model(model_name, input_shape=tuple(input_shape), num_anchors=len(anchor_array),
                             num_classes=num_classes)
        if weights:
            start = Path(weights) / CONVERTED_WEIGHTS if Path(weights).is_dir() else weights
            model.load_weights(start, skip_mismatch=True)
        return model

    train_data = training_pipeline(dataset, input_shape, anchor_array, batch_size, augment=augment)
    validation = None
    if validation_path:
        validation = training_pipeline(read_dataset(validation_path), input_shape, anchor_array,
                                       batch_size, augment=False, shuffle=False)
    model = train(build, train_data, anchor_array, num_classes, out, epochs, freeze_body_epochs,
                  learning_rate, validation, strategy=select_strategy(devices), rescore=rescore,
                  verbose=verbose)
    with atomic_path(out / "final.keras") as temporary:
        model.save(temporary)
    return model
