"""The optimisation of the generated image: gradient descent on its pixels under ``tf.function``.

``J(G) = alpha · J_content(C, G) + beta · Σ_k w_k J_style(S_k, G) + tv · TV(G)``, with Adam on a
``tf.Variable`` image, clipped to [0, 1] after every step (the course's loop, plus optional total
variation and several weighted style images). Runs on a GPU unchanged; ``jit_compile`` asks XLA.
"""

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.style.costs import (
    STYLE_LAYERS,
    compute_content_cost,
    style_cost_from_grams,
    style_grams,
    total_cost,
    total_variation_cost,
)

COSTS = ("total", "content", "style")


@dataclass(frozen=True)
class StyleSettings:
    """The loop's settings; the defaults are the course's. ``total_variation``: weight of the total
    variation term (0: none). ``noise``: the generated image starts as the content image plus uniform
    noise in ``[-noise, noise]``. ``vgg_preprocessing``: feed VGG ``vgg16.preprocess_input(255 · G)``
    (BGR, ImageNet mean subtracted) instead of the course's [0, 1] pixels."""

    alpha: float = 10.0
    beta: float = 40.0
    learning_rate: float = 0.01
    total_variation: float = 0.0
    noise: float = 0.25
    style_layers: tuple = tuple(STYLE_LAYERS)
    vgg_preprocessing: bool = False
    jit_compile: bool = False


def initial_image(content, noise, seed=None):
    """The course's start: ``content`` (h, w, 3) in [0, 1] plus uniform noise in [-noise, noise],
    clipped to [0, 1]; float32 ``(1, h, w, 3)``."""
    rng = np.random.default_rng(seed)
    noisy = content + rng.uniform(-noise, noise, size=np.shape(content))
    return np.clip(noisy, 0, 1)[None].astype(np.float32)


class StyleTransfer:
    """One optimisation: the content and style images' targets, the generated image variable and the
    optimiser.

    ``extractor``: a model from :func:`~yad2k_style.style.features.style_feature_extractor` whose
    style layers are ``settings.style_layers``. ``content``: float (h, w, 3) in [0, 1]; ``styles``: a
    list of the same shape; ``style_weights``: one per style image (default equal), normalised to sum
    to 1. ``generated`` is the ``tf.Variable`` (1, h, w, 3) being optimised.
    """

    def __init__(self, extractor, content, styles, style_weights=None, settings=StyleSettings(), seed=None):
        self.extractor = extractor
        self.settings = settings
        weights = np.ones(len(styles)) if style_weights is None else np.asarray(style_weights, np.float64)
        self.style_weights = [float(w) for w in weights / weights.sum()]
        self.content_target = self.features(tf.constant(content[None], tf.float32))
        self.style_targets = [style_grams(self.features(tf.constant(style[None], tf.float32)),
                                          settings.style_layers) for style in styles]
        self.generated = tf.Variable(initial_image(content, settings.noise, seed), name="generated_image")
        self.optimizer = keras.optimizers.Adam(learning_rate=settings.learning_rate)
        self.train_step = tf.function(self._train_step, jit_compile=settings.jit_compile)

    def features(self, images):
        """The extractor's outputs for float32 images in [0, 1] (VGG's preprocessing applied if set)."""
        if self.settings.vgg_preprocessing:
            images = keras.applications.vgg16.preprocess_input(images * 255.0)
        return self.extractor(images, training=False)

    def costs(self, image):
        """``{"total", "content", "style"}`` float32 scalars for a generated image (1, h, w, 3)."""
        settings = self.settings
        outputs = self.features(image)
        J_content = compute_content_cost(self.content_target, outputs)
        J_style = tf.add_n([weight * style_cost_from_grams(grams, outputs, settings.style_layers)
                            for weight, grams in zip(self.style_weights, self.style_targets, strict=True)])
        J = total_cost(J_content, J_style, alpha=settings.alpha, beta=settings.beta)
        if settings.total_variation:
            J += settings.total_variation * total_variation_cost(image)
        return {"total": J, "content": J_content, "style": J_style}

    def _train_step(self):
        """One step (the body of :attr:`train_step`, a ``tf.function``): the gradient of J with
        respect to the generated image, Adam's update, a clip to [0, 1]. Returns the costs before the
        update."""
        with tf.GradientTape() as tape:
            costs = self.costs(self.generated)
        gradient = tape.gradient(costs["total"], self.generated)
        self.optimizer.apply_gradients([(gradient, self.generated)])
        self.generated.assign(tf.clip_by_value(self.generated, 0.0, 1.0))
        return costs

    def image(self):
        """The generated image now: float32 (h, w, 3) in [0, 1]."""
        return self.generated.numpy()[0]

    def run(self, steps, callback=None):
        """``steps`` calls of :attr:`train_step`; ``callback(step, costs)`` after each (``step`` from 1,
        ``costs`` as floats). Returns the history: a dict of lists, one per cost."""
        history = {name: [] for name in COSTS}
        for step in range(1, steps + 1):
            costs = {name: float(value) for name, value in self.train_step().items()}
            for name in COSTS:
                history[name].append(costs[name])
            if callback is not None:
                callback(step, costs)
        return history
