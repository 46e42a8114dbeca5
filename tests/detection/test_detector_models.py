"""The detectors and segmenters as functional Keras models: every layer named, the parameter counts, and
a ``.keras`` save that a fresh process reloads with ``safe_mode=True`` (the region layers are
registered) and runs to the same outputs."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.detection.fast_rcnn import fast_rcnn_model
from yad2k_style.detection.faster_rcnn import faster_rcnn_model
from yad2k_style.detection.rcnn import rcnn_model
from yad2k_style.detection.rfcn import rfcn_model
from yad2k_style.detection.ssd import ssd_model
from yad2k_style.segmentation.mask_rcnn import mask_rcnn_model
from yad2k_style.segmentation.semantic import unet_model

RELOAD = textwrap.dedent("""
    import sys
    import keras
    import numpy as np
    import yad2k_style.segmentation.mask_rcnn  # registers its layers and the region detectors'
    model = keras.saving.load_model(sys.argv[1], safe_mode=True)
    inputs = [np.load(path) for path in sys.argv[2].split(",")]
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    np.savez(sys.argv[3], *[np.asarray(t) for t in outputs])
""")
BUILDERS = {"ssd": (ssd_model, 2_172_112), "faster-rcnn": (faster_rcnn_model, 2_834_492),
            "rfcn": (rfcn_model, 1_167_988), "fast-rcnn": (fast_rcnn_model, 2_679_168),
            "rcnn": (rcnn_model, 622_576), "mask-rcnn": (mask_rcnn_model, 2_961_855),
            "semantic": (unet_model, 484_196)}


def example_inputs(model):
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(2, 128, 128, 3)).astype(np.float32)
    if len(model.inputs) == 1:
        return [image]
    corners = rng.uniform(0, 90, (2, 7, 2))
    proposals = np.concatenate([corners, corners + rng.uniform(8, 38, (2, 7, 2))], -1).astype(np.float32)
    return [image, proposals, np.array([7, 5], np.int32)]


@pytest.mark.parametrize("name", BUILDERS)
def test_detector_model_saves_and_reloads_safely(name, tmp_path):
    builder, params = BUILDERS[name]
    tf.keras.utils.set_random_seed(0)
    model = builder(3)
    assert model.count_params() == params
    names = [layer.name for layer in model.layers]
    assert len(set(names)) == len(names)
    assert not any(n.startswith(("dense", "conv2d", "lambda", "reshape")) for n in names)  # Keras' auto-names
    inputs = example_inputs(model)
    paths = []
    for k, array in enumerate(inputs):
        paths.append(str(tmp_path / f"in{k}.npy"))
        np.save(paths[-1], array)
    model.save(tmp_path / "model.keras")
    result = subprocess.run([sys.executable, "-c", RELOAD, str(tmp_path / "model.keras"), ",".join(paths),
                             str(tmp_path / "out.npz")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    with np.load(tmp_path / "out.npz") as reloaded:
        for k, want in enumerate(expected):
            np.testing.assert_array_equal(reloaded[f"arr_{k}"], np.asarray(want))
