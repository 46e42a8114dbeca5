"""Winograd's minimal filtering for 3×3 convolutions, F(m×m, 3×3) (Lavin & Gray 2016), in TensorFlow ops.

A stride-1 "same" 3×3 convolution is computed on tiles of m×m output pixels: each (m+2)×(m+2) input
tile ``d`` and each filter ``g`` are transformed (``Bᵀ d B``, ``G g Gᵀ``), multiplied elementwise —
for all channels at once that is (m+2)² matrix products (tiles × C_in) @ (C_in × C_out) — and
transformed back (``Aᵀ M A``). The products cost (m+2)²/(9m²) of the direct convolution's
multiply-adds: 0.44 for m = 2, 0.25 for m = 4, 0.20 for m = 6; the transforms are additions over the
activations. The matrices come from the Toom–Cook construction on the points of :data:`POINTS` (and
infinity); round-off grows with m (relative error about 1e-6, 1e-5 and 1e-4 of the output's scale).

Shapes are channels-last: activations (B, H, W, C), kernels (3, 3, C_in, C_out) as Keras stores them.
"""

import numpy as np
import tensorflow as tf

#: Interpolation points per output tile size m (the last point, infinity, is implicit).
POINTS = {2: (0, 1, -1), 4: (0, 1, -1, 2, -2), 6: (0, 1, -1, 2, -2, 0.5, -0.5)}
KERNEL_SIZE = 3


def winograd_matrices(m):
    """``(Aᵀ (m, α), G (α, 3), Bᵀ (α, α))`` float64 for F(m×m, 3×3), α = m + 2.

    One dimension: for inputs ``d`` (α,) and filter ``g`` (3,), ``Aᵀ[(G g) ⊙ (Bᵀ d)]`` is the correlation
    ``y_i = Σ_k g_k d_(i+k)``, i < m. Built as polynomial multiplication by evaluation at the points
    (``Aᵀ``, ``G``) and interpolation (``Bᵀ``), with infinity as the last point.
    """
    if m not in POINTS:
        raise ValueError(f"Winograd tile size {m} not supported; choose from {sorted(POINTS)}")
    points = np.array(POINTS[m], np.float64)
    alpha = m + KERNEL_SIZE - 1

    def vandermonde(columns):  # rows: the points, then infinity (the leading coefficient)
        rows = np.zeros((alpha, columns))
        rows[:-1] = points[:, None] ** np.arange(columns)[None, :]
        rows[-1, -1] = 1.0
        return rows

    scale = np.ones(alpha)  # the interpolation denominators Π(p_j − p_l), moved from Bᵀ to G
    scale[:-1] = [np.prod([p - q for q in np.delete(points, j)]) for j, p in enumerate(points)]
    transposed_a = vandermonde(m).T
    g = vandermonde(KERNEL_SIZE) / scale[:, None]
    transposed_b = np.linalg.inv(vandermonde(alpha)).T * scale[:, None]
    return transposed_a, g, transposed_b


def transform_kernel(kernel, m):
    """Keras kernel (3, 3, C_in, C_out) → ``G g Gᵀ`` as float32 (α², C_in, C_out), α = m + 2."""
    kernel = np.asarray(kernel, np.float32)
    if kernel.shape[:2] != (KERNEL_SIZE, KERNEL_SIZE):
        raise ValueError(f"Winograd F({m}x{m}, 3x3) needs a 3x3 kernel, got {kernel.shape[:2]}")
    g = winograd_matrices(m)[1].astype(np.float32)
    rows = np.einsum("ai,ijcd->ajcd", g, kernel)  # one axis at a time: 0.05 s for 3×3×1024×1024
    return np.einsum("bj,ajcd->abcd", g, rows).reshape(-1, *kernel.shape[2:])


def _combine(tensors, coefficients):
    """Σ cᵢ tᵢ over the nonzero coefficients (the transforms are sparse, mostly ±1)."""
    terms = [t if c == 1 else -t if c == -1 else float(c) * t
             for t, c in zip(tensors, coefficients, strict=True) if c != 0]
    return tf.add_n(terms)


def tile_counts(height, width, m):
    """Tiles of m×m output pixels that cover a (height, width) output."""
    return -(-height // m), -(-width // m)


def input_transform(x, m):
    """``Bᵀ d B`` of every (m+2)² input tile of a "same"-padded x (B, H, W, C) → (α², B·th·tw, C)."""
    _, _, transposed_b = winograd_matrices(m)
    alpha = m + KERNEL_SIZE - 1
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    tiles_h, tiles_w = tile_counts(height, width, m)
    x = tf.pad(x, [[0, 0], [1, tiles_h * m + 1 - height], [1, tiles_w * m + 1 - width], [0, 0]])
    rows = [x[:, s:s + m * tiles_h:m] for s in range(alpha)]                      # (B, th, Wp, C)
    transformed = []
    for row in (_combine(rows, coefficients) for coefficients in transposed_b):
        columns = [row[:, :, t:t + m * tiles_w:m] for t in range(alpha)]           # (B, th, tw, C)
        transformed.extend(_combine(columns, coefficients) for coefficients in transposed_b)
    return tf.reshape(tf.stack(transformed), [alpha * alpha, -1, channels])


def output_transform(products, m, batch, height, width):
    """``Aᵀ M A`` of the products (α², B·th·tw, C_out) → the convolution's output (B, H, W, C_out)."""
    transposed_a, _, _ = winograd_matrices(m)
    alpha = m + KERNEL_SIZE - 1
    tiles_h, tiles_w = tile_counts(height, width, m)
    channels = products.shape[-1]
    products = tf.reshape(products, [alpha, alpha, batch, tiles_h, tiles_w, channels])
    rows = [_combine([products[i] for i in range(alpha)], coefficients) for coefficients in transposed_a]
    pixels = tf.stack([tf.stack([_combine([row[j] for j in range(alpha)], coefficients)
                                 for coefficients in transposed_a]) for row in rows])  # (m, m, B, th, tw, C)
    pixels = tf.transpose(pixels, [2, 3, 0, 4, 1, 5])
    pixels = tf.reshape(pixels, [batch, tiles_h * m, tiles_w * m, channels])
    return pixels[:, :height, :width]


def winograd_conv2d(x, transformed_kernel, m):
    """A stride-1 "same" 3×3 convolution of x (B, H, W, C_in) with a kernel from :func:`transform_kernel`
    → (B, H, W, C_out); H and W must be known, B may be dynamic."""
    products = tf.linalg.matmul(input_transform(x, m), transformed_kernel)
    return output_transform(products, m, tf.shape(x)[0], x.shape[1], x.shape[2])
