"""The course's style-transfer costs against NumPy and against the course's own seeded values."""

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.style.costs import (
    STYLE_LAYERS,
    activation_gram,
    compute_content_cost,
    compute_layer_style_cost,
    compute_style_cost,
    gram_matrix,
    total_cost,
    total_variation_cost,
    unroll,
)


def activations(rng, *shape):
    return rng.normal(1.0, 4.0, size=(1, *shape)).astype(np.float32)


def numpy_gram(a):
    """G[k, k'] = Σ_ij a_ijk a_ijk' of one image's activations (n_H, n_W, n_C): the notes' formula."""
    return np.einsum("ijk,ijl->kl", a.astype(np.float64), a.astype(np.float64))


def test_content_cost_against_numpy():
    rng = np.random.default_rng(0)
    a_C, a_G = activations(rng, 3, 5, 4), activations(rng, 3, 5, 4)
    expected = ((a_C.astype(np.float64) - a_G) ** 2).sum() / (4 * 3 * 5 * 4)
    assert compute_content_cost([a_C], [a_G]).numpy() == pytest.approx(expected, rel=1e-5)
    assert compute_content_cost([a_G, a_C], [a_C, a_C]).numpy() == 0  # only the last entry counts


def test_gram_matrix_and_unrolling_with_a_transpose():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(4, 15)).astype(np.float32)
    np.testing.assert_allclose(gram_matrix(A).numpy(), A.astype(np.float64) @ A.T, rtol=1e-5)

    # A non-square layer (3×5 positions, 4 channels) where a bare reshape to (n_C, n_H·n_W) mixes
    # channels and positions and gives another Gram matrix.
    a_S, a_G = activations(rng, 3, 5, 4), activations(rng, 3, 5, 4)
    bare = a_S.reshape(4, 15).astype(np.float64)
    assert not np.allclose(bare @ bare.T, numpy_gram(a_S[0]), rtol=1e-3)
    G_S, G_G = numpy_gram(a_S[0]), numpy_gram(a_G[0])
    expected = ((G_S - G_G) ** 2).sum() / (4 * 4**2 * (3 * 5) ** 2)
    assert compute_layer_style_cost(a_S, a_G).numpy() == pytest.approx(expected, rel=1e-5)
    assert compute_layer_style_cost(a_G, a_G).numpy() == 0


def test_style_cost_is_the_weighted_sum_over_layers():
    rng = np.random.default_rng(2)
    shapes = [(8, 6, 2), (4, 3, 5), (2, 2, 7)]
    style = [activations(rng, *shape) for shape in shapes] + [activations(rng, 2, 2, 3)]
    generated = [activations(rng, *shape) for shape in shapes] + [activations(rng, 2, 2, 3)]
    layers = [("a", 0.5), ("b", 0.3), ("c", 0.2)]
    expected = sum(weight * ((numpy_gram(s[0]) - numpy_gram(g[0])) ** 2).sum() / (4 * (np.prod(shape)) ** 2)
                   for (_, weight), s, g, shape in zip(layers, style, generated, shapes, strict=False))
    assert compute_style_cost(style, generated, layers).numpy() == pytest.approx(expected, rel=1e-5)
    assert compute_style_cost(style, style, layers).numpy() == 0


def test_the_course_values():
    """The course's public tests, float32 on CPU."""
    tf.random.set_seed(1)
    a_C = tf.random.normal([1, 1, 4, 4, 3], mean=1, stddev=4)
    a_G = tf.random.normal([1, 1, 4, 4, 3], mean=1, stddev=4)
    assert np.isclose(compute_content_cost(a_C, a_G), 7.0568767)

    tf.random.set_seed(1)
    GA = gram_matrix(tf.random.normal([3, 2], mean=1, stddev=4))
    assert np.allclose(GA[0, :], [63.1888, -26.721275, -7.7320204])

    tf.random.set_seed(1)
    a_S = tf.random.normal([1, 4, 4, 3], mean=1, stddev=4)
    a_G = tf.random.normal([1, 4, 4, 3], mean=1, stddev=4)
    assert np.isclose(compute_layer_style_cost(a_S, a_G), 14.017805)

    assert total_cost(0.2, 0.8) == 34
    assert np.isclose(total_cost(0.3, 0.5, alpha=3, beta=8), 4.9)
    assert STYLE_LAYERS == [("block1_conv1", 0.2), ("block2_conv1", 0.2), ("block3_conv1", 0.2),
                            ("block4_conv1", 0.2), ("block5_conv1", 0.2)]


def test_half_precision_activations_give_float32_costs():
    rng = np.random.default_rng(3)
    a_S, a_G = activations(rng, 3, 5, 4), activations(rng, 3, 5, 4)
    half = compute_layer_style_cost(tf.constant(a_S, tf.float16), tf.constant(a_G, tf.float16))
    assert half.dtype == tf.float32
    assert half.numpy() == pytest.approx(compute_layer_style_cost(a_S, a_G).numpy(), rel=1e-2)


def test_total_variation_against_numpy():
    image = np.random.default_rng(4).uniform(size=(2, 5, 7, 3)).astype(np.float32)
    expected = np.abs(np.diff(image, axis=1)).sum() + np.abs(np.diff(image, axis=2)).sum()
    assert total_variation_cost(image).numpy() == pytest.approx(expected, rel=1e-5)


def test_activation_gram_and_its_gradient_equal_the_course_formula():
    """The loop's Gram (Fᵀ F with a hand-written gradient) against ``gram_matrix(unroll(a))`` under
    autodiff, with a non-symmetric upstream gradient."""
    rng = np.random.default_rng(5)
    a = tf.constant(activations(rng, 3, 5, 4))
    weights = tf.constant(rng.normal(size=(4, 4)).astype(np.float32))  # not symmetric
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(a)
        fast, course = activation_gram(a), gram_matrix(unroll(a))
        fast_sum, course_sum = tf.reduce_sum(weights * fast), tf.reduce_sum(weights * course)
    np.testing.assert_allclose(fast, numpy_gram(a.numpy()[0]), rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(fast_sum, a), tape.gradient(course_sum, a), rtol=1e-5, atol=1e-4)
