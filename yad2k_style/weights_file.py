"""Keras' weights file (what ``model.save_weights`` writes), filled one variable at a time.

A converter need not hold a model's weights in memory: build the model as a skeleton (in a
:class:`keras.StatelessScope`, its variables have shapes but no values), let Keras' own
saver walk it to find where each variable goes in the file, then write each array there as it is read.
The file has the groups, attributes and datasets ``save_weights`` would write (tested), so
``model.load_weights`` reads it.

Layout (Keras 3): one group per saveable object, ``layers/<class name>[_<n>]/vars`` in ``model.layers``
order, its ``name`` attribute the layer's name, its datasets ``"0"``, ``"1"``, … the layer's variables
(trainable first).
"""

import functools

import h5py
import keras
import numpy as np
from keras.src.backend.common import global_state
from keras.src.saving import saving_lib  # the walk save_weights itself makes; there is no public one

from yad2k_style.errors import YadError
from yad2k_style.files import kill_point


class _Places(saving_lib.H5IOStore):
    """Stands in for Keras' HDF5 store in its saver's walk, recording where each variable goes instead of
    writing it: ``groups`` (HDF5 group → attributes) and ``places`` (variable path → (group, key))."""

    def __init__(self):  # no file: nothing is written
        self.groups, self.places, self._group = {}, {}, None

    def __bool__(self):
        return True

    def make(self, path, metadata=None):
        self._group = f"{path}/vars" if path else "vars"
        if metadata:  # as Keras does: a group with attributes is made even when it holds no variable
            self.groups[self._group] = dict(metadata)
        return self

    def __setitem__(self, key, variable):
        self.groups.setdefault(self._group, {})
        self.places[variable.path] = (self._group, key)


def build_skeleton(build):
    """``build()``'s model with variables that have shapes and no values (built in a
    :class:`keras.StatelessScope`): its names, shapes and parameter counts are right; running it raises
    :class:`YadError`. For :class:`WeightsFileWriter`. Its variables are taken off Keras' list of
    variables to initialise later, which the next model built anywhere would otherwise fill.
    """
    with keras.StatelessScope(initialize_variables=False):
        model = build()
    ours = {id(variable) for variable in model.weights}
    pending = global_state.get_global_attribute("uninitialized_variables") or []
    pending[:] = [variable for variable in pending if id(variable) not in ours]
    for variable in model.weights:  # Keras would draw an uninitialised variable's value afresh at each use
        variable._initializer = functools.partial(_no_value, variable.path)
    return model


def _no_value(path, *_, **__):
    raise YadError(f"{path}: a skeleton's variable has no value (load the weights file into a model "
                   f"built with values)")


class WeightsFileWriter:
    """Write ``model``'s weights file at ``path`` one variable at a time: ``write(variable, array)``
    for every variable, in any order; closing checks none is missing. A context manager. ``dtype``
    stores the arrays in another type (``"float16"``: half the size; Keras casts them back to the
    variables' type on loading); default: each variable's."""

    def __init__(self, model, path, dtype=None):
        places = _Places()
        saving_lib._save_state(model, weights_store=places, assets_store=None, inner_path="",
                               visited_saveables=set())
        self.path, self.places, self.written, self.dtype = str(path), places.places, set(), dtype
        self.file = h5py.File(path, "w")
        for group, attributes in places.groups.items():
            self.file.create_group(group).attrs.update(attributes)

    def write(self, variable, array):
        """Store ``array`` (the variable's shape; cast to the file's dtype) as ``variable``'s value."""
        array = np.asarray(array, self.dtype or variable.dtype)
        if tuple(array.shape) != tuple(variable.shape):
            raise YadError(f"{variable.path}: an array of shape {array.shape} for a variable of shape "
                           f"{tuple(variable.shape)}")
        group, key = self.places[variable.path]
        self.file[group][key] = array
        self.written.add(variable.path)
        kill_point("weights-file:variable")

    def close(self):
        self.file.close()
        missing = [path for path in self.places if path not in self.written]
        if missing:
            raise YadError(f"{self.path}: {len(missing)} variables not written: {', '.join(missing[:5])}")

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            self.close()
        else:
            self.file.close()
