"""Style transfer from files to files: read and size the images, build the extractor, run the loop,
write the generated image, the intermediate images and a plot of the costs (all atomically).

Sizes: the generated image has the content image's aspect ratio and ``size`` pixels on its longer
side; each style image is resized (stretched) to that size, as the course does.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from yad2k_style import plotting
from yad2k_style.errors import YadError
from yad2k_style.images import image_format, read_image, resize_image, save_image
from yad2k_style.style import color
from yad2k_style.style.features import COURSE_SIZE, style_feature_extractor
from yad2k_style.style.transfer import COSTS, StyleSettings, StyleTransfer

MIN_SIZE = 32  # pixels on each side: VGG halves the image five times


@dataclass(frozen=True)
class StylizeJob:
    """What :func:`stylize` makes. ``weights``: ``"imagenet"``, a file, or None (random: tests only).
    ``save_every``: steps between intermediate images (0: none). ``plot``: the costs' PNG (None: none).
    ``keep_colors``: luminance-only transfer keeping the content's colours. ``mixed_precision``: VGG in
    float16 (the costs stay float32)."""

    content: str
    styles: tuple
    out: str
    style_weights: tuple | None = None
    backbone: str = "vgg16"
    weights: str | None = "imagenet"
    steps: int = 2500
    size: int = COURSE_SIZE
    save_every: int = 250
    plot: str | None = None
    keep_colors: bool = False
    mixed_precision: bool = False
    seed: int | None = 0
    settings: StyleSettings = field(default_factory=StyleSettings)


def generated_size(image_size, size):
    """``(height, width)`` with ``size`` pixels on the longer side and ``image_size``'s aspect ratio."""
    height, width = image_size
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def load_images(content_path, style_paths, size):
    """The content image at :func:`generated_size` and every style image stretched to it: float32
    ``(h, w, 3)`` arrays in [0, 1]."""
    content = read_image(content_path)
    shape = generated_size((content.height, content.width), size)
    if min(shape) < MIN_SIZE:
        raise YadError(f"{content_path}: at {size} pixels on its longer side the image would be "
                       f"{shape[1]}×{shape[0]}; VGG needs {MIN_SIZE} on each side, give a larger size")
    return _pixels(resize_image(content, shape)), [_pixels(resize_image(read_image(path), shape))
                                                   for path in style_paths]


def _pixels(image):
    return np.asarray(image, np.float32) / 255.0


def _to_pil(pixels):
    return Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))


def intermediate_path(out, step, steps):
    """``out``'s name with the step number: ``dir/name_0250.png`` for ``dir/name.png``."""
    out = Path(out)
    return out.with_name(f"{out.stem}_{step:0{len(str(steps))}d}{out.suffix}")


def plot_costs(history, path, title):
    """The three costs over the steps, on a log scale, into a PNG (written atomically)."""
    figure, axes = plotting.subplots(figsize=(6, 4))
    steps = np.arange(1, len(history["total"]) + 1)
    for name in COSTS:
        axes.plot(steps, history[name], label=f"J_{name}: {history[name][-1]:.4g}" if name != "total"
                  else f"J: {history[name][-1]:.4g}")
    axes.set(xlabel="step", ylabel="cost", yscale="log", title=title)
    axes.title.set_fontsize(9)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(COSTS), frameon=False)
    plotting.save_figure(figure, path)


def stylize(job, callback=None):
    """Run ``job``: returns ``(image, history)``, the final RGB float32 image (h, w, 3) in [0, 1] (also
    written to ``job.out``) and the costs per step. ``callback(step, costs)`` follows each step.

    Everything is checked (images, weights) before the first file is written."""
    image_format(job.out)
    content, styles = load_images(job.content, job.styles, job.size)
    if job.style_weights is not None and len(job.style_weights) != len(styles):
        raise YadError(f"{len(job.style_weights)} style weights for {len(styles)} style images")
    rgb_content = content
    if job.keep_colors:
        content = color.as_grey_rgb(color.luminance(rgb_content))
        styles = [color.as_grey_rgb(color.matched_luminance(style, rgb_content)) for style in styles]
    extractor = style_feature_extractor(
        job.backbone, content.shape, job.weights, style_layers=job.settings.style_layers,
        dtype_policy="mixed_float16" if job.mixed_precision else None)
    transfer = StyleTransfer(extractor, content, styles, job.style_weights, job.settings, seed=job.seed)

    def result():
        image = transfer.image()
        return color.with_content_colors(image, rgb_content) if job.keep_colors else image

    def after_step(step, costs):
        if job.save_every and step % job.save_every == 0 and step < job.steps:
            save_image(_to_pil(result()), intermediate_path(job.out, step, job.steps))
        if callback is not None:
            callback(step, costs)

    history = transfer.run(job.steps, after_step)
    image = result()
    save_image(_to_pil(image), job.out)
    if job.plot:
        plot_costs(history, job.plot, f"{job.backbone}, {job.steps} steps, alpha {job.settings.alpha:g}, "
                                      f"beta {job.settings.beta:g}")
    return image, history
