"""One model directory, written by ``convert`` and ``train`` and read by ``--model`` everywhere.

A directory holds:

- ``model.weights.h5``: the Keras weights;
- ``model.json``: what rebuilds the architecture without deserialising code, and what using the model
  needs: ``{"format", "name", "task", "architecture", "input_shape", "preprocessing", "class_names",
  "anchors", "provenance", …}``. ``architecture`` is ``{"kind": "registry", "model": NAME,
  "arguments": {…}}`` (a :mod:`yad2k_style.registry` builder) or ``{"kind": "darknet", "cfg":
  "model.cfg", "reorg": …, "header": {…}}``; domains add their own keys (a face model its distance
  threshold);
- ``model.cfg``: for Darknet models, the cfg the architecture is rebuilt from.

``model.json`` is written last, so a directory without it is not (yet) a model. A bare ``.keras`` file
is accepted too, loaded with ``safe_mode=True`` (no bytecode) and without its training configuration.
"""

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from yad2k_style import (
    layers,  # noqa: F401  (registers the Lambda functions a .keras file names)
    registry,
)
from yad2k_style.assets import asset_path
from yad2k_style.darknet import Header, build_keras, parse_cfg
from yad2k_style.errors import FormatError, YadError, first_line
from yad2k_style.files import atomic_directory, read_text, write_text_atomically
from yad2k_style.training import save_weights

FORMAT = "yad2k-style model 1"
INFO_FILE = "model.json"
WEIGHTS_FILE = "model.weights.h5"
CFG_FILE = "model.cfg"


@dataclass
class Artifact:
    """A loaded model directory (or ``.keras`` file): the Keras model and its ``model.json``."""

    model: keras.Model
    info: dict
    path: str

    @property
    def class_names(self):
        """Class names in output order, or None when the artifact does not say."""
        return self.info.get("class_names")

    @property
    def anchors(self):
        """float32 (A, 2) ``(width, height)`` in grid cells, or None."""
        anchors = self.info.get("anchors")
        return None if anchors is None else np.asarray(anchors, np.float32).reshape(-1, 2)

    @property
    def darknet_cfg(self):
        """The parsed ``model.cfg`` of a converted Darknet model (None for other models)."""
        return darknet_cfg(self.path, self.info)

    @property
    def darknet_header(self):
        """The Darknet weights header a converted model came with (None for other models)."""
        header = self.info.get("architecture", {}).get("header")
        return None if header is None else Header(**header)


def darknet_cfg(directory, info):
    """The parsed ``model.cfg`` of the model directory ``directory`` whose ``model.json`` is ``info``, or
    None when its architecture is not a Darknet cfg."""
    architecture = info.get("architecture", {})
    if architecture.get("kind") != "darknet":
        return None
    return parse_cfg(Path(directory) / architecture["cfg"])


def registry_architecture(name, **arguments):
    """``architecture`` for a model built by ``registry.create_model(name, **arguments)``."""
    plain = {key: list(value) if isinstance(value, tuple) else value for key, value in arguments.items()}
    return {"kind": "registry", "model": name, "arguments": plain}


def darknet_architecture(reorg, header):
    """``architecture`` for a model rebuilt from the directory's ``model.cfg``."""
    return {"kind": "darknet", "cfg": CFG_FILE, "reorg": reorg, "header": header}


def model_info(model, task, architecture, *, class_names=None, anchors=None, preprocessing=None,
               provenance=None, **extra):
    """The ``model.json`` dictionary for ``model`` (see the module docstring); ``input_shape`` is the
    image input's (a model's first input)."""
    image_shape = model.input_shape[0] if isinstance(model.input_shape, list) else model.input_shape
    return {
        "format": FORMAT, "name": model.name, "task": task, "architecture": architecture,
        "input_shape": list(image_shape[1:]),
        "preprocessing": (preprocessing or registry.Preprocessing()).to_json(),
        "class_names": None if class_names is None else list(class_names),
        "anchors": None if anchors is None else np.asarray(anchors, float).reshape(-1, 2).tolist(),
        "provenance": provenance or {}, **extra,
    }


def save_artifact(directory, model, info, cfg_path=None):
    """Write ``model`` and ``info`` into the existing ``directory`` (each file atomically, ``model.json``
    last); ``cfg_path`` is copied to ``model.cfg`` for a Darknet architecture."""
    save_weights(model, Path(directory) / WEIGHTS_FILE)
    finish_artifact(directory, info, cfg_path)


def finish_artifact(directory, info, cfg_path=None):
    """Write ``model.cfg`` (a copy of ``cfg_path``, for a Darknet architecture) and then ``model.json``
    into ``directory``, whose ``model.weights.h5`` is written."""
    if cfg_path is not None:
        write_text_atomically(Path(directory) / CFG_FILE, read_text(cfg_path))
    write_info(directory, info)


def write_info(directory, info):
    """Write ``model.json`` (atomically): the step that makes ``directory`` a model directory."""
    write_text_atomically(Path(directory) / INFO_FILE, json.dumps(info, indent=1) + "\n")


def check_new_directory(out_dir):
    """:class:`YadError` unless ``out_dir`` can be created: it must not exist, its parent must."""
    out = Path(out_dir)
    if out.exists():
        raise YadError(f"{out}: already exists; give a new output directory")
    if not out.parent.is_dir():
        raise YadError(f"{out.parent}: no such directory")


def create_artifact(out_dir, model, info, cfg_path=None):
    """Write a new model directory ``out_dir`` (which must not exist): built beside it, then renamed
    into place, so a failure leaves nothing."""
    with new_directory(out_dir) as staging:
        save_artifact(staging, model, info, cfg_path)


@contextlib.contextmanager
def new_directory(out_dir):
    """Yield the directory to fill in place of ``out_dir`` (which must not exist; its parent must):
    renamed to ``out_dir`` when the block ends, removed if it fails."""
    check_new_directory(out_dir)
    with atomic_directory(out_dir) as staging:
        yield staging


def update_info(directory, **changes):
    """Change keys of a model directory's ``model.json`` (a face model's ``threshold``, say)."""
    write_info(directory, {**read_info(directory), **changes})


def read_info(directory):
    """The ``model.json`` of a model directory, checked; :class:`FormatError` naming it otherwise."""
    info_path = Path(directory) / INFO_FILE
    if not info_path.is_file():
        raise FormatError(info_path, "not found: not a model directory (written by convert or train)")
    try:
        info = json.loads(read_text(info_path))
    except json.JSONDecodeError as exc:
        raise FormatError(info_path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise FormatError(info_path, f"not a {FORMAT!r} file")
    return info


def locate(model, task=None):
    """The model directory or ``.keras`` file that ``model`` names: itself when it exists, else the
    packaged model directory of a registered name (of ``task``, when given). A registered name whose
    weights are not packaged, a path that does not exist and a name that is not registered are each a
    one-line :class:`YadError`; the last lists the registered names."""
    path = Path(model)
    if path.exists():
        return path
    if path.suffix or len(path.parts) > 1:
        raise FormatError(path, "file not found")
    names = registry.names(task)
    if model not in names:
        kind = f"{task} " if task else ""
        raise YadError(f"unknown model {model!r}: neither a file nor a registered {kind}model "
                       f"({', '.join(names)})")
    weights = registry.get(model).weights
    if weights is None or weights.source != "packaged" or weights.format != "model-directory":
        where = f"; they are published at {weights.files[-1]}" if weights and weights.source == "url" else ""
        raise YadError(f"{model}: its weights are not packaged as a model directory{where}")
    return asset_path(weights.files[0])


def load_artifact(path, input_shape=None):
    """The :class:`Artifact` in a model directory, or of a ``.keras`` file (empty ``info``).

    ``input_shape`` (height, width, channels) rebuilds a directory's weights at another input size.
    """
    path = Path(path)
    if not path.is_dir():
        return Artifact(load_keras_file(path), {}, str(path))
    info = read_info(path)
    architecture = info["architecture"]
    shape = tuple(input_shape or info["input_shape"])
    if architecture["kind"] == "darknet":
        model = build_keras(parse_cfg(path / architecture["cfg"]), architecture["reorg"], shape, info["name"])
    elif architecture["kind"] == "registry":
        model = registry.create_model(architecture["model"], **{**architecture["arguments"],
                                                                 "input_shape": shape})
    else:
        raise FormatError(path / INFO_FILE, f"unknown architecture kind {architecture['kind']!r}")
    try:
        model.load_weights(path / WEIGHTS_FILE)
    except Exception as exc:  # Keras raises many types for a missing or mismatched file
        raise FormatError(path / WEIGHTS_FILE, f"cannot load weights ({first_line(exc)})") from None
    return Artifact(model, info, str(path))


def load_keras_file(path):
    """A ``.keras`` model loaded with ``safe_mode=True`` (no bytecode) and ``compile=False`` (a saved
    loss or optimizer is not needed to run it); one-line :class:`FormatError` when it cannot be."""
    if not Path(path).is_file():
        raise FormatError(path, "file not found")
    if Path(path).suffix != ".keras":
        raise FormatError(path, "not a .keras file or a model directory")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file; all mean "not loadable"
        raise FormatError(path, f"not a loadable Keras model ({first_line(exc)})") from None
