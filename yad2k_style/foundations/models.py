"""Any model the foundations' commands look into: a registered name (with its packaged weights when it
has them, else random weights and a warning) or a model directory."""

import warnings
from pathlib import Path

from yad2k_style import artifacts, registry
from yad2k_style.assets import asset_path
from yad2k_style.errors import YadError, YadWarning


def load_model(name, trained=True):
    """The ``keras.Model`` that ``name`` (a registered name or a model directory) means. With
    ``trained``, a registered model gets its packaged weights, or random ones with a
    :class:`YadWarning` when its weights are published elsewhere; without, it is only built."""
    if Path(name).is_dir():
        return artifacts.load_artifact(name).model
    if name not in registry.MODELS:
        raise YadError(f"{name}: neither a model directory nor a registered model "
                       f"({', '.join(registry.MODELS)})")
    entry = registry.get(name)
    weights = entry.weights
    if not trained:
        return entry.build()
    if weights is None or weights.source != "packaged":
        warnings.warn(f"{name}: its weights are not packaged; using random weights", YadWarning, stacklevel=2)
        return entry.build()
    if weights.format == "darknet":
        from yad2k_style.darknet import read_darknet

        cfg, weights_path = (asset_path(file) for file in weights.files)
        return read_darknet(cfg, weights_path).model
    if weights.format == "model-directory":
        return artifacts.load_artifact(asset_path(weights.files[0])).model
    model = entry.build()
    model.load_weights(asset_path(weights.files[0]))
    return model
