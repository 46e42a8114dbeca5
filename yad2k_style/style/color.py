"""Colour-preserving style transfer (Gatys et al. 2016, "Preserving color in neural artistic style
transfer"): transfer the style of the luminance only, in the YIQ colour space, and keep the content's
colours (its I and Q channels).

Images are float arrays ``(..., 3)`` of RGB in [0, 1].
"""

import numpy as np

#: RGB → YIQ (the NTSC transform); its rows are the Y (luminance), I and Q weights.
RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114],
                       [0.595716, -0.274453, -0.321263],
                       [0.211456, -0.522591, 0.311135]])
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)


def rgb_to_yiq(rgb):
    return np.asarray(rgb, np.float64) @ RGB_TO_YIQ.T


def yiq_to_rgb(yiq):
    return np.asarray(yiq, np.float64) @ YIQ_TO_RGB.T


def luminance(rgb):
    """Y of RGB images: ``(..., 3)`` → ``(..., 1)``."""
    return rgb_to_yiq(rgb)[..., :1]


def as_grey_rgb(y):
    """A luminance channel ``(..., 1)`` as a grey RGB image ``(..., 3)`` (what VGG sees)."""
    return np.clip(np.repeat(y, 3, axis=-1), 0, 1).astype(np.float32)


def matched_luminance(style_rgb, content_rgb):
    """The style's luminance shifted and scaled to the content's mean and standard deviation (the
    paper's luminance matching), as ``(..., 1)``."""
    style_y, content_y = luminance(style_rgb), luminance(content_rgb)
    spread = style_y.std()
    scaled = (style_y - style_y.mean()) * (content_y.std() / spread if spread > 0 else 1.0)
    return scaled + content_y.mean()


def with_content_colors(generated_rgb, content_rgb):
    """The generated image's luminance with the content image's I and Q, as RGB in [0, 1] (float32)."""
    yiq = rgb_to_yiq(content_rgb)
    yiq[..., :1] = luminance(generated_rgb)
    return np.clip(yiq_to_rgb(yiq), 0, 1).astype(np.float32)
