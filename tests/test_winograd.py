"""Winograd F(m×m, 3×3): the matrices' identity, and convolutions against ``tf.nn.conv2d``."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style import winograd

TILES = (2, 4, 6)
#: Round-off grows with the tile: max |error| / max |output| allowed per m.
TOLERANCE = {2: 1e-6, 4: 1e-5, 6: 3e-5}


@pytest.mark.parametrize("m", TILES)
def test_matrices_compute_the_one_dimensional_correlation(m):
    transposed_a, g, transposed_b = winograd.winograd_matrices(m)
    alpha = m + 2
    assert transposed_a.shape == (m, alpha) and g.shape == (alpha, 3) and transposed_b.shape == (alpha, alpha)
    rng = np.random.default_rng(m)
    d, kernel = rng.standard_normal(alpha), rng.standard_normal(3)
    want = [sum(kernel[k] * d[i + k] for k in range(3)) for i in range(m)]
    got = transposed_a @ ((g @ kernel) * (transposed_b @ d))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_f2_matrices_are_lavin_and_grays_up_to_row_signs():
    transposed_a, _, transposed_b = winograd.winograd_matrices(2)
    np.testing.assert_array_equal(transposed_a, [[1, 1, 1, 0], [0, 1, -1, 1]])
    lavin = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
    np.testing.assert_allclose(np.abs(transposed_b), np.abs(lavin))


@pytest.mark.parametrize("m", TILES)
@pytest.mark.parametrize("height, width", [(7, 9), (8, 8), (19, 19), (1, 5)])
def test_convolution_matches_tf_conv2d(m, height, width):
    rng = np.random.default_rng(height * width + m)
    x = rng.standard_normal((2, height, width, 5)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    want = tf.nn.conv2d(x, kernel, 1, "SAME").numpy()
    transformed = tf.constant(winograd.transform_kernel(kernel, m))
    got = winograd.winograd_conv2d(tf.constant(x), transformed, m).numpy()
    assert got.shape == want.shape == (2, height, width, 7)
    assert np.abs(got - want).max() <= TOLERANCE[m] * np.abs(want).max()
    compiled = tf.function(lambda x: winograd.winograd_conv2d(x, transformed, m), jit_compile=True)
    assert np.abs(compiled(x).numpy() - want).max() <= TOLERANCE[m] * np.abs(want).max()


def test_multiplications_per_output_are_as_stated():
    # (m + 2)² products per m² outputs against 9 for the direct convolution
    assert [round((m + 2) ** 2 / (9 * m * m), 2) for m in TILES] == [0.44, 0.25, 0.2]
    assert winograd.tile_counts(19, 20, 2) == (10, 10) and winograd.tile_counts(19, 19, 4) == (5, 5)


def test_bad_tile_and_kernel_sizes_are_refused():
    with pytest.raises(ValueError, match="tile size 3 not supported"):
        winograd.winograd_matrices(3)
    with pytest.raises(ValueError, match="needs a 3x3 kernel"):
        winograd.transform_kernel(np.zeros((1, 1, 4, 4)), 2)
