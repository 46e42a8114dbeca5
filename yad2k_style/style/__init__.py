"""Neural style transfer (Gatys et al., as in the course): the VGG16/VGG19 feature extractor, the
content, Gram-matrix style and total costs, colour-preserving transfer, and the optimisation of the
generated image's pixels under ``tf.function``. See docs/style.md."""
