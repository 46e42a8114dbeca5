"""Random but well-conditioned Darknet weights, for tests and benchmarks (no download needed).

He-scaled kernels (std ``sqrt(2 / fan_in)``), small biases and means (std 0.1), batch-norm scales in
[0.5, 1.5) and variances in [0.5, 2): activations stay of order one through deep networks.
"""

import numpy as np

from yad2k_style.darknet.weights import ConvWeights, conv_layouts


def random_convs(cfg, seed=0):
    """One random :class:`~yad2k_style.darknet.weights.ConvWeights` per convolutional layer of ``cfg``."""
    rng = np.random.default_rng(seed)
    convs = []
    for _, spec, channels in conv_layouts(cfg):
        n, fan_in = spec.filters, channels * spec.size * spec.size
        kernel = rng.standard_normal((n, channels, spec.size, spec.size), np.float32)
        kernel *= np.float32(np.sqrt(2.0 / fan_in))
        biases = (0.1 * rng.standard_normal(n)).astype(np.float32)
        if not spec.batch_normalize:
            convs.append(ConvWeights(biases, kernel))
            continue
        convs.append(ConvWeights(
            biases, kernel, rng.uniform(0.5, 1.5, n).astype(np.float32),
            (0.1 * rng.standard_normal(n)).astype(np.float32), rng.uniform(0.5, 2.0, n).astype(np.float32)))
    return convs
