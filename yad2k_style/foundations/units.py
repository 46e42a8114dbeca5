"""Seeing what units learn (Zeiler & Fergus 2013, as in the notes): for a layer and a unit (channel),
the image patches of a dataset that activate it most, each the unit's receptive field
(:mod:`~yad2k_style.foundations.receptive_field`); and the first layer's filters as images.

Images are float32 ``(N, h, w, 3)`` in [0, 1] at the model's input size. Windows are input pixels
``(y0, x0, y1, x1)``, end exclusive.
"""

import math
from dataclasses import dataclass

import keras
import numpy as np
from PIL import Image, ImageDraw

from yad2k_style.errors import YadError
from yad2k_style.foundations.receptive_field import receptive_fields
from yad2k_style.images import save_image

PATCH = 48  # pixels per patch in the grids


@dataclass(frozen=True)
class Patch:
    """One of a unit's strongest activations: ``image`` index, output position ``(row, col)``, the
    ``activation`` there and the input ``window`` it reads."""

    image: int
    row: int
    col: int
    activation: float
    window: tuple


def spatial_layers(model):
    """Names of the layers with a spatial output ``(batch, h, w, channels)``, in model order."""
    return [layer.name for layer in model.layers
            if len(layer.output.shape) == 4 and type(layer).__name__ != "InputLayer"]


def _layer(model, name):
    names = spatial_layers(model)
    if name not in names:
        raise YadError(f"{model.name} has no layer {name!r} with a spatial output; its layers: "
                       f"{', '.join(names)}")
    return model.get_layer(name)


def unit_activations(model, layer_name, images, batch_size=32):
    """The layer's output for every image: ``(N, h, w, channels)`` float32."""
    submodel = keras.Model(model.input, _layer(model, layer_name).output)
    return np.asarray(submodel.predict(images, batch_size=batch_size, verbose=0), np.float32)


def top_patches(model, layer_name, units, images, top=9, batch_size=32):
    """``{unit: [Patch, …]}``: each unit's ``top`` strongest activations over every image and
    position, strongest first (ties in image, row, column order)."""
    activations = unit_activations(model, layer_name, images, batch_size)
    channels = activations.shape[-1]
    bad = [unit for unit in units if not 0 <= unit < channels]
    if bad:
        raise YadError(f"layer {layer_name} has units 0 to {channels - 1}, not {', '.join(map(str, bad))}")
    field = next(f for f in receptive_fields(model) if f.name == layer_name)
    result = {}
    for unit in units:
        values = activations[..., unit]
        order = np.argsort(-values.ravel(), kind="stable")[:top]
        result[unit] = [Patch(int(i), int(r), int(c), float(values[i, r, c]), field.pixel_window(r, c))
                        for i, r, c in zip(*np.unravel_index(order, values.shape), strict=True)]
    return result


def crop(image, window):
    """The pixels of ``window`` in ``image`` (h, w, 3) float → uint8 (an empty window: one grey pixel)."""
    if window is None:
        return np.full((1, 1, 3), 128, np.uint8)
    y0, x0, y1, x1 = window
    return np.round(np.clip(image[y0:y1, x0:x1], 0, 1) * 255).astype(np.uint8)


def draw_patch_grid(images, patches, path, title_width=64):
    """``patches`` from :func:`top_patches` as a PNG: one row per unit, its patches left to right (each
    resized to :data:`PATCH` pixels, nearest), the unit number on the left. Written atomically."""
    step = PATCH + 2
    columns = max(len(row) for row in patches.values())
    grid = Image.new("RGB", (title_width + columns * step, len(patches) * step), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for r, (unit, row) in enumerate(patches.items()):
        draw.text((4, r * step + PATCH // 2 - 5), f"unit {unit}", fill=(0, 0, 0))
        for c, patch in enumerate(row):
            tile = Image.fromarray(crop(images[patch.image], patch.window))
            grid.paste(tile.resize((PATCH, PATCH), Image.NEAREST), (title_width + c * step, r * step))
    save_image(grid, path)
    return grid


def first_layer_filters(model):
    """The first convolution's kernels as images: ``(filters, kh, kw, 3)`` in [0, 1], each filter
    scaled from its own minimum to maximum."""
    conv = next((layer for layer in model.layers if type(layer).__name__ == "Conv2D"), None)
    if conv is None or conv.kernel.shape[2] != 3:
        raise YadError(f"{model.name}: no first convolution on an RGB image")
    kernels = np.moveaxis(np.asarray(conv.kernel), -1, 0)
    low = kernels.min(axis=(1, 2, 3), keepdims=True)
    spread = np.maximum(kernels.max(axis=(1, 2, 3), keepdims=True) - low, 1e-12)
    return (kernels - low) / spread


def draw_filters(filters, path, columns=None, size=PATCH):
    """A grid PNG of filters ``(n, kh, kw, 3)`` in [0, 1], each enlarged to ``size`` pixels (nearest),
    ``columns`` to a row (default: as many as make the grid about square)."""
    columns = columns or math.ceil(math.sqrt(len(filters)))
    rows = -(-len(filters) // columns)
    grid = Image.new("RGB", (columns * (size + 2), rows * (size + 2)), (255, 255, 255))
    for index, kernel in enumerate(filters):
        tile = Image.fromarray(np.round(kernel * 255).astype(np.uint8)).resize((size, size), Image.NEAREST)
        grid.paste(tile, ((index % columns) * (size + 2), (index // columns) * (size + 2)))
    save_image(grid, path)
    return grid
