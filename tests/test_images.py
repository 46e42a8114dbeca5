"""Reading images (modes, EXIF orientation, bad files), course preprocessing, letterbox, atomic writes."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from yad2k_style.errors import FormatError
from yad2k_style.images import (
    LETTERBOX_FILL,
    image_size,
    letterbox_geometry,
    letterbox_image,
    list_images,
    preprocess_image,
    read_image,
    save_image,
)

EXIF_ORIENTATION = 0x0112


def _pattern(height, width, channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16"])
def test_read_image_converts_modes_to_rgb(tmp_path, mode):
    path = tmp_path / ("x.tiff" if mode in ("CMYK", "I;16") else "x.png")
    Image.fromarray(_pattern(6, 9)).convert(mode).save(path)
    image = read_image(path)
    assert image.mode == "RGB" and image.size == (9, 6)


def test_read_image_grayscale_values_repeat_in_three_channels(tmp_path):
    gray = _pattern(5, 7, 1)[..., 0]
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    np.testing.assert_array_equal(np.asarray(read_image(tmp_path / "g.png")), np.stack([gray] * 3, -1))


def test_read_image_composites_transparency_onto_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)   # opaque
    rgba[0, 1] = (10, 20, 30, 0)     # fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    pixels = np.asarray(read_image(tmp_path / "t.png"))
    assert tuple(pixels[0, 0]) == (10, 20, 30) and tuple(pixels[0, 1]) == (255, 255, 255)


def test_read_image_applies_exif_orientation(tmp_path):
    data = np.zeros((20, 40, 3), np.uint8)
    data[:, :20] = 255                       # left half white as stored
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6               # "rotate 90° clockwise to display"
    Image.fromarray(data).save(tmp_path / "r.jpg", exif=exif, quality=100)
    image = read_image(tmp_path / "r.jpg")
    assert image.size == (20, 40)            # upright: portrait
    pixels = np.asarray(image).mean(axis=(1, 2))
    assert pixels[:20].mean() > 200 and pixels[20:].mean() < 50   # stored left half is now on top


@pytest.mark.parametrize("orientation, size", [(1, (20, 40)), (3, (20, 40)), (6, (40, 20)), (8, (40, 20))])
def test_image_size_is_the_upright_size(tmp_path, orientation, size):
    """``image_size`` (height, width) from the header agrees with the image ``read_image`` returns."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(tmp_path / "r.jpg", exif=exif)
    upright = read_image(tmp_path / "r.jpg")
    assert image_size(tmp_path / "r.jpg") == size == (upright.height, upright.width)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(FormatError, match=r"bad\.png: not a readable image"):
        image_size(tmp_path / "bad.png")


def test_read_image_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 this is not a JPEG")
    with pytest.raises(FormatError, match=r"broken\.jpg: not a readable image"):
        read_image(broken)
    truncated = tmp_path / "truncated.png"
    Image.fromarray(_pattern(50, 50)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(FormatError, match=r"truncated\.png: not a readable image"):
        read_image(truncated)
    with pytest.raises(FormatError, match=r"missing\.png: no such file or directory"):
        read_image(tmp_path / "missing.png")
    Image.fromarray(_pattern(30, 40)).save(tmp_path / "big.png")
    with pytest.raises(FormatError, match=r"big\.png: image too large: 40×30 pixels \(limit 1,000\)"):
        read_image(tmp_path / "big.png", max_pixels=1000)


def test_preprocess_image_is_the_course_bicubic_resize(tmp_path):
    data = _pattern(30, 50)
    Image.fromarray(data).save(tmp_path / "p.png")
    image, image_data = preprocess_image(tmp_path / "p.png", model_image_size=(64, 96))
    assert image.size == (50, 30)
    assert image_data.shape == (1, 64, 96, 3) and image_data.dtype == np.float32
    expected = np.asarray(Image.fromarray(data).resize((96, 64), Image.BICUBIC), np.float32) / 255.0
    np.testing.assert_array_equal(image_data[0], expected)
    assert 0.0 <= image_data.min() and image_data.max() <= 1.0


@pytest.mark.parametrize("size, scaled, offset", [
    ((100, 200), (32, 64), (16, 0)),     # wide: width limits, centred vertically
    ((200, 100), (64, 32), (0, 16)),     # tall
    ((50, 50), (64, 64), (0, 0)),        # same aspect: no padding
    ((90, 61), (64, 43), (0, 10)),       # Darknet's integer rounding: 61·64 // 90 = 43, (64 − 43) // 2 = 10
])
def test_letterbox_geometry_is_darknets(size, scaled, offset):
    got_scaled, got_offset = letterbox_geometry(tf.constant([size]), (64, 64))
    assert tuple(got_scaled.numpy()[0]) == scaled and tuple(got_offset.numpy()[0]) == offset


def test_letterbox_geometry_non_square_input():
    scaled, offset = letterbox_geometry([[720, 1280], [1280, 720]], (320, 608))
    np.testing.assert_array_equal(scaled.numpy(), [[320, 568], [320, 180]])
    np.testing.assert_array_equal(offset.numpy(), [[0, 20], [0, 214]])


def test_letterbox_image_places_resized_image_centred():
    image = Image.fromarray(_pattern(100, 200))
    canvas = letterbox_image(image, (64, 64))
    assert canvas.shape == (64, 64, 3) and canvas.dtype == np.uint8
    assert np.all(canvas[:16] == LETTERBOX_FILL) and np.all(canvas[48:] == LETTERBOX_FILL)
    np.testing.assert_array_equal(canvas[16:48], np.asarray(image.resize((64, 32), Image.BICUBIC)))


def test_list_images_reads_directories_by_extension(tmp_path):
    for name in ["b.PNG", "a.jpg", "c.JpEg", "notes.txt", "d.webp"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.png").write_bytes(b"")
    found = list_images([tmp_path, tmp_path / "notes.txt"])
    assert [p.name for p in found] == ["a.jpg", "b.PNG", "c.JpEg", "d.webp", "notes.txt"]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list_images([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match=r"empty: no images"):
        list_images([tmp_path / "empty"])


def test_save_image_uses_extension_format(tmp_path):
    image = Image.fromarray(_pattern(8, 8))
    for name, image_format in [("a.png", "PNG"), ("b.JPG", "JPEG"), ("c.bmp", "BMP")]:
        save_image(image, tmp_path / name)
        with Image.open(tmp_path / name) as saved:
            assert saved.format == image_format and saved.size == (8, 8)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")), np.asarray(image))
    with pytest.raises(FormatError, match="unknown image file extension"):
        save_image(image, tmp_path / "x.unknown")
