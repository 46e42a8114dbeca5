"""The checks every model gets in a line: parameter count, input and output shapes, names, and a
``.keras`` save that reloads with ``safe_mode=True`` in a fresh process, bit-identical.

Use beside the independent NumPy references the tests already have::

    check_model(yolov2_shapes(), params=1_298_968, output_shape=(4, 4, 40), tmp_path=tmp_path)
"""

import subprocess
import sys
import textwrap

import numpy as np

RELOAD_SCRIPT = textwrap.dedent("""
    import sys
    import keras
    import numpy as np
    import yad2k_style.layers  # registers the package's Lambda functions, as the package's loaders do
    model = keras.saving.load_model(sys.argv[1], safe_mode=True)
    np.save(sys.argv[3], np.asarray(model(np.load(sys.argv[2]), training=False)))
""")


def check_model(model, *, params, output_shape, tmp_path, input_shape=None, reload=True, seed=0):
    """Assert ``model``'s parameter count, shapes (``output_shape``: of the last output) and layer
    names; with ``reload``, save it as
    ``.keras`` and check that a new Python process loads it with ``safe_mode=True`` and computes
    exactly the same output on a seeded input."""
    assert model.count_params() == params
    last_output = model.output_shape[-1] if isinstance(model.output_shape, list) else model.output_shape
    assert tuple(last_output[1:]) == tuple(output_shape)
    if input_shape is not None:  # a model's first input (the image, for detectors given proposals)
        first_input = model.input_shape[0] if isinstance(model.input_shape, list) else model.input_shape
        assert tuple(first_input[1:]) == tuple(input_shape)
    names = [layer.name for layer in model.layers]
    assert len(set(names)) == len(names)
    if not reload:
        return
    path, inputs, outputs = (tmp_path / f"{model.name}{suffix}"
                             for suffix in (".keras", ".in.npy", ".out.npy"))
    model.save(path)
    x = np.random.default_rng(seed).uniform(size=(2, *model.input_shape[1:])).astype(np.float32)
    np.save(inputs, x)
    result = subprocess.run([sys.executable, "-c", RELOAD_SCRIPT, str(path), str(inputs), str(outputs)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = np.asarray(model(x, training=False))
    np.testing.assert_array_equal(np.load(outputs), expected)
    assert np.isfinite(expected).all() and expected.std() > 0
