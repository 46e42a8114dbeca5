"""Images: reading (EXIF orientation, modes → RGB, size guard), the course's preprocessing, resizing
(plain or Darknet letterbox) and atomic writes.

Sizes are written ``(height, width)`` unless a name says otherwise (PIL's ``image.size`` is
``(width, height)``). Pixel data is uint8 RGB; the network sees float32 in [0, 1].
"""

import contextlib
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import ExifTags, Image, ImageOps

from yad2k_style.errors import FormatError, first_line
from yad2k_style.files import atomic_write

#: Largest image accepted, in pixels (Pillow's own decompression-bomb limit).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS
#: File name extensions read from directories (compared in lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
#: The uint8 value stored in letterbox padding; the detector replaces it by exactly 0.5 (Darknet's grey).
LETTERBOX_FILL = 128
BACKGROUND = (255, 255, 255)  # what transparent pixels become
TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@contextlib.contextmanager
def _opened(path, max_pixels):
    """``Image.open(path)``, its size checked; any failure inside becomes a :class:`FormatError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the check below says it
            opened = Image.open(path)
        with opened:
            if opened.width * opened.height > max_pixels:
                raise FormatError(path, f"image too large: {opened.width}×{opened.height} pixels "
                                        f"(limit {max_pixels:,})")
            yield opened
    except FormatError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise FormatError(path, exc.strerror.lower()) from None
    except Image.DecompressionBombError as exc:
        raise FormatError(path, "image too large, refused as a possible decompression bomb "
                                f"({first_line(exc)})") from None
    except (OSError, EOFError, SyntaxError, ValueError) as exc:
        raise FormatError(path, f"not a readable image ({first_line(exc)})") from None


def read_image(path, max_pixels=MAX_PIXELS):
    """Open an image file as an upright RGB PIL image.

    EXIF orientation is applied (``ImageOps.exif_transpose``); grayscale, palette, CMYK … become RGB;
    transparent pixels are composited onto white. Animated files give their first frame. Raises
    :class:`FormatError` naming the file when it is not a readable image or has more than
    ``max_pixels`` pixels.
    """
    with _opened(path, max_pixels) as opened:
        image = ImageOps.exif_transpose(opened)
        image.load()
        return to_rgb(image)


def image_size(path, max_pixels=MAX_PIXELS):
    """``(height, width)`` of an image file as :func:`read_image` returns it (EXIF rotation applied),
    read from the header without decoding the pixels."""
    with _opened(path, max_pixels) as opened:
        orientation = opened.getexif().get(ExifTags.Base.Orientation, 1)
        width, height = opened.size
    return (width, height) if orientation in TRANSPOSING_ORIENTATIONS else (height, width)


def to_rgb(image):
    """A PIL image of any mode as RGB; transparent pixels are composited onto white."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def resize_image(image, size):
    """Bicubic resize of a PIL image to ``size = (height, width)`` (aspect ratio not kept)."""
    height, width = size
    return image.resize((width, height), Image.BICUBIC)


def letterbox_geometry(image_sizes, model_size):
    """Darknet's letterbox placement: scaled sizes and offsets of images inside the network input.

    ``image_sizes``: int tensor (..., 2) of ``(height, width)``; ``model_size``: ``(height, width)``.
    Returns int32 tensors ``(scaled, offset)``, each (..., 2) ``(height, width)`` / ``(top, left)``:
    the image keeps its aspect ratio, fills the input along its limiting side, and is centred (offsets
    rounded down), as in Darknet's ``letterbox_image``. Works eagerly and inside ``tf.function``.
    """
    sizes = tf.cast(image_sizes, tf.int64)
    model = tf.constant(model_size, tf.int64)
    # new_w = min(net_w, w * net_h // h) and new_h = min(net_h, h * net_w // w) is Darknet's choice
    # between "width limits" and "height limits", written without branches.
    scaled = tf.minimum(model, sizes * tf.reverse(model, [0]) // tf.reverse(sizes, [-1]))
    offset = (model - scaled) // 2
    return tf.cast(scaled, tf.int32), tf.cast(offset, tf.int32)


def letterbox_image(image, size):
    """Darknet's letterbox resize of a PIL image to ``size = (height, width)`` → uint8 array (h, w, 3).

    Bicubic resize keeping the aspect ratio, centred on a canvas of :data:`LETTERBOX_FILL` (the
    detector turns that padding into exactly 0.5 grey; see :func:`letterbox_geometry`).
    """
    scaled, offset = (t.numpy() for t in letterbox_geometry([image.height, image.width], size))
    canvas = np.full(tuple(size) + (3,), LETTERBOX_FILL, dtype=np.uint8)
    top, left = offset
    canvas[top:top + scaled[0], left:left + scaled[1]] = np.asarray(resize_image(image, scaled))
    return canvas


def letterbox_inputs(images, image_sizes, size):
    """The float32 batch a network sees from letterboxed uint8 ``images`` (B, H, W, 3) (of
    :func:`letterbox_image`) of originals of ``image_sizes`` (B, 2) ``(height, width)``: ``images / 255``
    with the padding exactly 0.5, as Darknet's ``letterbox_image`` fills it."""
    inputs = tf.cast(images, tf.float32) / 255.0
    scaled, offset = letterbox_geometry(image_sizes, size)
    height, width = size
    rows, columns = tf.range(height)[None, :], tf.range(width)[None, :]
    in_rows = (rows >= offset[:, :1]) & (rows < offset[:, :1] + scaled[:, :1])         # (B, H)
    in_columns = (columns >= offset[:, 1:]) & (columns < offset[:, 1:] + scaled[:, 1:])  # (B, W)
    content = in_rows[:, :, None, None] & in_columns[:, None, :, None]
    return tf.where(content, inputs, 0.5)


def preprocess_image(img_path, model_image_size):
    """The course's preprocessing: read, bicubic resize, scale to [0, 1], add a batch axis.

    ``model_image_size`` is ``(height, width)`` (the course passes ``(608, 608)``). Returns
    ``(image, image_data)``: the upright RGB PIL image at its original size, and float32
    ``(1, height, width, 3)``.
    """
    image = read_image(img_path)
    resized = resize_image(image, model_image_size)
    image_data = np.asarray(resized, dtype=np.float32) / 255.0
    return image, np.expand_dims(image_data, 0)


def list_images(paths):
    """Expand files and directories into a list of image files (as given, in order).

    A directory contributes its files with an extension in :data:`IMAGE_EXTENSIONS` (any case),
    sorted by name, not recursing into subdirectories. A file named explicitly is always taken.
    Raises ``FileNotFoundError`` for a path that does not exist, :class:`FormatError` for a
    directory without images.
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            images = sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not images:
                raise FormatError(path, f"no images ({', '.join(IMAGE_EXTENSIONS)}) in this directory")
            found.extend(images)
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return found


def image_format(path):
    """Pillow's format name for an output file name's extension (``"PNG"`` for ``x.png``); a
    :class:`FormatError` for an extension Pillow cannot write."""
    found = Image.registered_extensions().get(Path(path).suffix.lower())
    if found is None or found not in Image.SAVE:
        raise FormatError(path, "unknown image file extension")
    return found


def save_image(image, path, quality=95):
    """Write a PIL image atomically, in the format its file name's extension says."""
    file_format = image_format(path)
    options = {"quality": quality} if file_format in ("JPEG", "WEBP") else {}
    with atomic_write(path) as file:
        image.save(file, format=file_format, **options)
