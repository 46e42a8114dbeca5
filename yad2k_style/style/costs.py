"""The course's style-transfer costs, with its names and definitions.

Activations are channels-last tensors ``(1, n_H, n_W, n_C)``; a model's *outputs* are the lists the
feature extractor returns: the style layers' activations in order, then the content layer's last.
Every cost is computed in float32, whatever the network's dtype (mixed precision).
"""

import tensorflow as tf

#: The course's style layers and their weights λ[l].
STYLE_LAYERS = [
    ("block1_conv1", 0.2),
    ("block2_conv1", 0.2),
    ("block3_conv1", 0.2),
    ("block4_conv1", 0.2),
    ("block5_conv1", 0.2),
]


def _float32(tensor):
    return tf.cast(tensor, tf.float32)


def compute_content_cost(content_output, generated_output):
    """``J_content = sum((a_C - a_G)²) / (4 n_H n_W n_C)`` on the last entry of each output list
    (the content layer). Returns a float32 scalar."""
    a_C, a_G = _float32(content_output[-1]), _float32(generated_output[-1])
    _, n_H, n_W, n_C = a_G.shape
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4.0 * n_H * n_W * n_C)


def gram_matrix(A):
    """The style (Gram) matrix ``A Aᵀ`` of ``A`` with shape ``(n_C, n_H·n_W)``: ``(n_C, n_C)``."""
    return tf.matmul(A, A, transpose_b=True)


def unroll(a):
    """Activations ``(1, n_H, n_W, n_C)`` → ``(n_C, n_H·n_W)``: row k holds channel k at every position.

    A reshape to ``(n_H·n_W, n_C)`` then a transpose; a bare reshape to ``(n_C, n_H·n_W)`` would mix
    channels and positions."""
    return tf.transpose(tf.reshape(_float32(a), [-1, a.shape[-1]]))


@tf.custom_gradient
def _channel_gram(a):
    def gradient(dG):
        F = tf.reshape(a, [-1, a.shape[-1]])  # (n_H·n_W, n_C): unroll(a)ᵀ without a transposed copy
        return tf.reshape(tf.matmul(F, dG + tf.transpose(dG)), tf.shape(a))

    return gram_matrix(unroll(a)), gradient


def activation_gram(a):
    """``gram_matrix(unroll(a))`` of activations ``(1, n_H, n_W, n_C)``, in float32, with a one-matmul
    gradient ``F (dG + dGᵀ)``, ``F = unroll(a)ᵀ``: half the work of differentiating ``A Aᵀ`` by its two
    factors (see ``bench/style_step_bench.py``). The Gram matrix of every style cost."""
    return _channel_gram(_float32(a))


def layer_style_cost_from_gram(GS, a_G):
    """:func:`compute_layer_style_cost` against the style image's Gram matrix ``GS`` already
    computed (the optimisation loop computes it once, not at every step)."""
    _, n_H, n_W, n_C = a_G.shape
    GG = activation_gram(a_G)
    return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C**2 * (n_H * n_W) ** 2)


def compute_layer_style_cost(a_S, a_G):
    """``J_style[l] = sum((G_S - G_G)²) / (4 n_C² (n_H n_W)²)`` of one layer's activations."""
    return layer_style_cost_from_gram(activation_gram(a_S), a_G)


def style_cost_from_grams(style_grams, generated_image_output, style_layers=STYLE_LAYERS):
    """:func:`compute_style_cost` against the style image's Gram matrices, one per style layer."""
    return tf.add_n([weight * layer_style_cost_from_gram(GS, a_G)
                     for GS, a_G, (_, weight) in zip(style_grams, generated_image_output, style_layers,
                                                      strict=False)])


def style_grams(style_image_output, style_layers=STYLE_LAYERS):
    """The style image's Gram matrices, one per style layer (the first ``len(style_layers)`` outputs)."""
    return [activation_gram(a_S) for a_S in style_image_output[:len(style_layers)]]


def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
    """``J_style = Σ_l λ[l] J_style[l]`` over the style layers: the outputs' entries before the last
    (the content layer), weighted as in ``STYLE_LAYERS`` (``(name, λ)`` pairs). The course's name
    for the argument is kept."""
    return style_cost_from_grams(style_grams(style_image_output, STYLE_LAYERS), generated_image_output,
                                 STYLE_LAYERS)


def total_cost(J_content, J_style, alpha=10, beta=40):
    """``J = alpha · J_content + beta · J_style``, a scalar tensor (float32 for Python numbers), as the
    course's ``tf.function`` returns it."""
    return tf.convert_to_tensor(alpha * J_content + beta * J_style)


def total_variation_cost(image):
    """Anisotropic total variation of images ``(batch, height, width, channels)``: the sum of the
    absolute differences between neighbouring pixels, summed over the batch (a smoothness prior)."""
    return tf.reduce_sum(tf.image.total_variation(_float32(image)))
