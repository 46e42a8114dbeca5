"""Random but well-conditioned Darknet weights, for tests and benchmarks (no download needed).

He-scaled kernels (std ``sqrt(2 / fan_in)``), small biases and means (std 0.1), batch-norm scales in
[0.5, 1.5) and variances in [0.5, 2): activations stay of order one through deep networks.
"""

import numpy as np

from yad2k_style.darknet.weights import LayerWeights, layouts


def random_convs(cfg, seed=0):
    """One random :class:`~yad2k_style.darknet.weights.LayerWeights` per weighted layer of ``cfg``."""
    rng = np.random.default_rng(seed)
    result = []
    for layout in layouts(cfg):
        shape = layout.kernel_shape
        fan_in = int(np.prod(shape[2:] if len(shape) == 5 else shape[1:]))
        kernel = rng.standard_normal(shape, np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        biases = (0.1 * rng.standard_normal(layout.biases)).astype(np.float32)
        if not layout.batch_normalize:
            result.append(LayerWeights(biases, kernel, norm_last=layout.norm_last))
            continue
        n = layout.outputs
        result.append(LayerWeights(
            biases, kernel, rng.uniform(0.5, 1.5, n).astype(np.float32),
            (0.1 * rng.standard_normal(n)).astype(np.float32), rng.uniform(0.5, 2.0, n).astype(np.float32),
            layout.norm_last))
    return result
