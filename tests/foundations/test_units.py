"""Seeing units: the patches are the true strongest activations (brute force), cropped to the exact
receptive field; grids and filters are drawn; wrong layers and units are one-line errors."""

import keras
import numpy as np
import pytest
from PIL import Image

from yad2k_style.errors import YadError
from yad2k_style.foundations import units


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(1)
    image = keras.Input((24, 20, 3), name="image")
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(image)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(5, 3, activation="relu", name="conv2")(x)
    return keras.Model(image, keras.layers.GlobalAveragePooling2D(name="gap")(x), name="tiny")


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(2).uniform(size=(7, 24, 20, 3)).astype(np.float32)


def test_patches_are_the_brute_force_argmax_windows(model, images, tmp_path):
    patches = units.top_patches(model, "conv2", [0, 3], images, top=5)
    submodel = keras.Model(model.input, model.get_layer("conv2").output)
    maps = [np.asarray(submodel(images[i:i + 1]))[0] for i in range(7)]  # one image at a time
    for unit, found in patches.items():
        # brute force: every image and position, sorted by activation
        values = [(float(maps[i][r, c, unit]), i, r, c)
                  for i in range(7) for r in range(10) for c in range(8)]
        best = sorted(values, key=lambda v: -v[0])[:5]
        assert [(p.image, p.row, p.col) for p in found] == [(i, r, c) for _, i, r, c in best]
        np.testing.assert_allclose([p.activation for p in found], [v for v, *_ in best], rtol=1e-5)
        # conv2 (3×3 valid) after a 2×2 pool after a 3×3 same conv: an 8×8 window at (2r − 1, 2c − 1)
        for p in found:
            y0, x0 = 2 * p.row - 1, 2 * p.col - 1
            assert p.window == (max(y0, 0), max(x0, 0), min(y0 + 8, 24), min(x0 + 8, 20))
    grid = units.draw_patch_grid(images, patches, tmp_path / "units.png")
    assert Image.open(tmp_path / "units.png").size == grid.size == (64 + 5 * 50, 2 * 50)
    first = patches[0][0]
    tile = np.asarray(grid)[0:48, 64:112]
    expected = units.crop(images[first.image], first.window)
    resized = np.asarray(Image.fromarray(expected).resize((48, 48), Image.NEAREST))
    np.testing.assert_array_equal(tile, resized)


def test_first_layer_filters(model, tmp_path):
    filters = units.first_layer_filters(model)
    assert filters.shape == (6, 3, 3, 3) and filters.min() == 0
    assert np.allclose(filters.max(axis=(1, 2, 3)), 1)
    units.draw_filters(filters, tmp_path / "filters.png", columns=4, size=24)
    assert Image.open(tmp_path / "filters.png").size == (4 * 26, 2 * 26)
    units.draw_filters(np.concatenate([filters] * 3)[:16], tmp_path / "square.png")  # 16: 4 × 4, not a strip
    assert Image.open(tmp_path / "square.png").size == (4 * (units.PATCH + 2), 4 * (units.PATCH + 2))


def test_wrong_layer_or_unit(model, images):
    with pytest.raises(YadError, match="no layer 'gap' with a spatial output; its layers: conv1, pool1, con"):
        units.top_patches(model, "gap", [0], images)
    with pytest.raises(YadError, match="layer conv2 has units 0 to 4, not 5, -1"):
        units.top_patches(model, "conv2", [0, 5, -1], images)
