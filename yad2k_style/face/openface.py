"""OpenFace's weights as the course ships them: one CSV file per array, read into (and written from)
:func:`~yad2k_style.face.model.face_reco_model`.

For each of the 37 convolutions ``<name>_w.csv`` (the kernel in Torch's ``(out, in, kh, kw)`` order,
flattened) and ``<name>_b.csv``; for each of the 37 batch norms ``<name>_{w,b,m,v}.csv`` (gamma, beta,
moving mean, moving variance); ``dense_w.csv`` (``(128, 736)``, Torch's ``(out, in)``) and
``dense_b.csv``: 224 files. Numbers are comma-separated (line breaks allowed); other files in the
folder are ignored. The course's copies come from Keras-OpenFace, converted from OpenFace's
``nn4.small2.v1.t7``.
"""

from pathlib import Path

import keras
import numpy as np

from yad2k_style.errors import FormatError
from yad2k_style.files import read_text, write_text_atomically

DENSE = "dense_layer"
DENSE_FILE = "dense"
BATCH_NORM_SUFFIXES = ("w", "b", "m", "v")  # gamma, beta, moving mean, moving variance


def _arrays_by_file(model):
    """``{file stem: (layer name, index in get_weights(), Keras shape, to_keras)}`` for every CSV file,
    where ``to_keras`` turns the flat CSV numbers into the Keras array."""
    files = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel_shape = tuple(layer.kernel.shape)  # (kh, kw, in, out)
            torch_shape = (kernel_shape[3], kernel_shape[2], kernel_shape[0], kernel_shape[1])
            files[f"{layer.name}_w"] = (layer.name, 0, kernel_shape,
                                        lambda flat, s=torch_shape: flat.reshape(s).transpose(2, 3, 1, 0))
            files[f"{layer.name}_b"] = (layer.name, 1, tuple(layer.bias.shape), None)
        elif isinstance(layer, keras.layers.BatchNormalization):
            for index, suffix in enumerate(BATCH_NORM_SUFFIXES):
                files[f"{layer.name}_{suffix}"] = (layer.name, index, (layer.gamma.shape[0],), None)
        elif layer.name == DENSE:
            inputs, units = layer.kernel.shape
            files[f"{DENSE_FILE}_w"] = (layer.name, 0, (inputs, units),
                                        lambda flat, s=(units, inputs): flat.reshape(s).T)
            files[f"{DENSE_FILE}_b"] = (layer.name, 1, (units,), None)
    return files


def _read_numbers(path):
    """The comma- (or line-) separated numbers of a CSV file → float64 array, or None if not numbers."""
    fields = [field for field in read_text(path).replace("\n", ",").split(",") if field.strip()]
    try:
        return np.array(fields, dtype=np.float64)
    except ValueError:
        return None


def read_openface_csv(csv_dir, model):
    """``{layer name: [arrays in get_weights() order]}`` from an OpenFace CSV folder for ``model``.

    Every problem is collected and reported in one :class:`FormatError` naming the folder: the files
    missing, those with the wrong number of values (and how many they have and need), and those that
    are not numbers.
    """
    csv_dir = Path(csv_dir)
    if not csv_dir.is_dir():
        raise FormatError(csv_dir, "not a folder of OpenFace CSV weights")
    arrays, missing, wrong, not_numbers = {}, [], [], []
    for stem, (layer, index, shape, to_keras) in _arrays_by_file(model).items():
        path = csv_dir / f"{stem}.csv"
        if not path.is_file():
            missing.append(path.name)
            continue
        flat = _read_numbers(path)
        if flat is None:
            not_numbers.append(path.name)
        elif flat.size != int(np.prod(shape)):
            wrong.append(f"{path.name} has {flat.size:,} values, needs {int(np.prod(shape)):,}")
        else:
            array = flat if to_keras is None else to_keras(flat)
            arrays.setdefault(layer, {})[index] = array.reshape(shape).astype(np.float32)
    files = len(_arrays_by_file(model))
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {files} missing ({_examples(missing, ', ')})")
    if wrong:
        problems.append(f"{len(wrong)} mis-shaped ({_examples(wrong, '; ')})")
    if not_numbers:
        problems.append(f"{len(not_numbers)} not numbers ({_examples(not_numbers, ', ')})")
    if problems:
        raise FormatError(csv_dir, "OpenFace CSV weights: " + "; ".join(problems))
    return {layer: [by_index[i] for i in sorted(by_index)] for layer, by_index in arrays.items()}


def _examples(items, separator, shown=3):
    """The first ``shown`` of ``items`` joined, and how many more: a message stays one short line."""
    more = f"{separator}… {len(items) - shown} more" if len(items) > shown else ""
    return separator.join(items[:shown]) + more


def load_openface_csv(model, csv_dir):
    """Set ``model``'s weights from an OpenFace CSV folder (see :func:`read_openface_csv`)."""
    for layer, weights in read_openface_csv(csv_dir, model).items():
        model.get_layer(layer).set_weights(weights)
    return model


def convert_openface(csv_dir, out_dir):
    """Build the course's network, load an OpenFace CSV folder into it and write the new model
    directory ``out_dir`` (float32 weights, the course's threshold 0.7). Returns the model."""
    from yad2k_style import artifacts
    from yad2k_style.face.embedder import face_info
    from yad2k_style.face.model import face_reco_model

    artifacts.check_new_directory(out_dir)
    model = load_openface_csv(face_reco_model(), csv_dir)
    artifacts.create_artifact(out_dir, model, face_info(model, provenance={"openface_csv": str(csv_dir)}))
    return model


def export_openface_csv(model, out_dir):
    """Write ``model``'s weights as an OpenFace CSV folder (created if needed), one line per file, each
    float32 with 9 significant digits: reading it back gives the same float32 values."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stem, (layer, index, _, to_keras) in _arrays_by_file(model).items():
        array = model.get_layer(layer).get_weights()[index]
        if to_keras is not None:  # back to Torch's order
            array = array.transpose(3, 2, 0, 1) if array.ndim == 4 else array.T
        write_text_atomically(out_dir / f"{stem}.csv",
                              ",".join(f"{v:.9g}" for v in np.ravel(array).tolist()) + "\n")
