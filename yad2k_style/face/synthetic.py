"""Synthetic identities: parametric faces drawn with Pillow, for training and testing face recognition
with no download.

An identity is a pure function of ``(seed, identity)``: face shape, skin and hair colour, hairline
and hair style, eye spacing, size and colour, brows, nose, mouth, glasses or not. A rendering of it is
a pure function of ``(seed, identity, index)`` and adds nuisance variation that changes the pixels
more than identity does: pose shift and rotation, scale, lighting direction and colour, expression
(mouth curve, brow raise), partial occlusion, background clutter, noise and blur. Images are
96×96 RGB (uint8). Training uses :data:`TRAIN_SEED`; evaluation draws from :data:`EVALUATION_SEED`
and :data:`CALIBRATION_SEED`, which training never sees.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 96
SCALE = 2  # drawn at twice the size, then reduced: smooth edges
TRAIN_SEED = 10
VALIDATION_SEED = 11
CALIBRATION_SEED = 12
EVALUATION_SEED = 13
SAMPLE_SEED = 14  # the few faces packaged for `yad2k-style face identify` with no arguments
SAMPLE_NAMES = ("ada", "ben", "cleo", "dev", "eva", "finn")
SAMPLE_IMAGES = 3  # per identity: the first is enrolled, the others are queries

SKIN = np.array([[255, 224, 196], [241, 194, 160], [224, 172, 128], [198, 134, 96], [141, 85, 54],
                 [92, 58, 40]], float)
HAIR = np.array([[20, 16, 14], [70, 45, 30], [120, 80, 45], [190, 150, 90], [225, 205, 150],
                 [150, 60, 30], [160, 160, 160]], float)
EYES = np.array([[60, 40, 25], [40, 90, 140], [70, 110, 60], [100, 70, 40], [30, 30, 30]], float)


@dataclass(frozen=True)
class Identity:
    """A person's fixed features; lengths are fractions of the image size."""

    face_width: float
    face_height: float
    jaw: float
    skin: tuple
    hair: tuple
    hairline: float
    hair_style: int
    eye_spacing: float
    eye_size: float
    eye_height: float
    eye_colour: tuple
    brow_thickness: float
    brow_tilt: float
    nose_length: float
    nose_width: float
    mouth_width: float
    mouth_height: float
    lips: tuple
    glasses: bool
    frame: tuple


def _mix(rng, palette, spread=18.0):
    """A colour between two neighbours of ``palette``, jittered."""
    index = rng.uniform(0, len(palette) - 1)
    low = int(index)
    colour = palette[low] + (palette[min(low + 1, len(palette) - 1)] - palette[low]) * (index - low)
    return tuple(int(v) for v in np.clip(colour + rng.normal(0, spread, 3), 0, 255))


def identity(seed, number):
    """Identity ``number`` of stream ``seed`` (both non-negative ints)."""
    rng = np.random.default_rng([seed, number, 0])
    skin = _mix(rng, SKIN)
    return Identity(
        face_width=rng.uniform(0.46, 0.62), face_height=rng.uniform(0.62, 0.78), jaw=rng.uniform(0.45, 0.9),
        skin=skin, hair=_mix(rng, HAIR), hairline=rng.uniform(0.18, 0.34), hair_style=int(rng.integers(4)),
        eye_spacing=rng.uniform(0.15, 0.25), eye_size=rng.uniform(0.04, 0.075),
        eye_height=rng.uniform(0.40, 0.48), eye_colour=_mix(rng, EYES, 10),
        brow_thickness=rng.uniform(0.012, 0.035), brow_tilt=rng.uniform(-0.04, 0.04),
        nose_length=rng.uniform(0.10, 0.18), nose_width=rng.uniform(0.05, 0.10),
        mouth_width=rng.uniform(0.14, 0.26), mouth_height=rng.uniform(0.66, 0.74),
        lips=tuple(int(v) for v in np.clip(np.array(skin) * rng.uniform(0.55, 0.8, 3), 0, 255)),
        glasses=bool(rng.uniform() < 0.3), frame=_mix(rng, HAIR, 30))


def render(seed, number, index):
    """Rendering ``index`` of identity ``number`` of stream ``seed`` → uint8 (96, 96, 3)."""
    person = identity(seed, number)
    rng = np.random.default_rng([seed, number, index + 1])
    size = SIZE * SCALE
    image = _background(rng, size)
    face = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    _draw_face(ImageDraw.Draw(face), person, rng, size)
    angle, scale = rng.uniform(-12, 12), rng.uniform(0.85, 1.12)
    shift = rng.uniform(-0.08, 0.08, 2) * size
    face = face.rotate(angle, resample=Image.BICUBIC, center=(size / 2, size / 2))
    face = face.resize((int(size * scale),) * 2, Image.BICUBIC)
    offset = ((size - face.width) / 2 + shift[0], (size - face.height) / 2 + shift[1])
    image.alpha_composite(face, (int(offset[0]), int(offset[1])))
    image = image.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    pixels = _light(rng, np.asarray(image, float))
    if rng.uniform() < 0.4:
        pixels = _occlude(rng, pixels)
    image = Image.fromarray(np.clip(pixels + rng.normal(0, rng.uniform(2, 10), pixels.shape), 0, 255)
                            .astype(np.uint8))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2))))


def renderings(seed, numbers, count, start=0):
    """uint8 (len(numbers), count, 96, 96, 3): renderings ``start … start + count − 1`` of each identity."""
    return np.stack([np.stack([render(seed, n, i) for i in range(start, start + count)]) for n in numbers])


def write_samples(folder):
    """Write the sample faces as ``NAME_K.png`` (K = 1 … :data:`SAMPLE_IMAGES`) into ``folder`` (each
    atomically)."""
    from pathlib import Path

    from yad2k_style.images import save_image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for number, name in enumerate(SAMPLE_NAMES):
        for index in range(SAMPLE_IMAGES):
            face = Image.fromarray(render(SAMPLE_SEED, number, index))
            save_image(face, folder / f"{name}_{index + 1}.png")


def grid(path, identities=6, count=8, seed=EVALUATION_SEED):
    """An image file (format by extension) of ``identities`` rows (people) × ``count`` columns
    (renderings of each), written atomically."""
    from yad2k_style.images import save_image

    rows = renderings(seed, range(identities), count)
    sheet = np.concatenate([np.concatenate(list(row), axis=1) for row in rows], axis=0)
    save_image(Image.fromarray(sheet), path, quality=85)


def _background(rng, size):
    low, high = sorted(rng.integers(0, 256, 2))
    noise = rng.integers(low, high + 1, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(noise).resize((size, size), Image.BILINEAR).convert("RGBA")
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(2, 9)):
        box = sorted(rng.integers(0, size, 2)), sorted(rng.integers(0, size, 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.uniform() < 0.5:
            draw.line([box[0][0], box[1][0], box[0][1], box[1][1]], fill=colour,
                      width=int(rng.integers(2, 8)))
        else:
            draw.rectangle([box[0][0], box[1][0], box[0][1], box[1][1]], outline=colour,
                           width=int(rng.integers(2, 6)))
    return image


def _draw_face(draw, p, rng, size):
    def box(cx, cy, w, h):
        return [size * (cx - w / 2), size * (cy - h / 2), size * (cx + w / 2), size * (cy + h / 2)]

    top = 0.5 - p.face_height / 2
    if p.hair_style != 3:  # hair behind the head (3: short hair only)
        length = 0.35 if p.hair_style == 1 else 0.12
        draw.ellipse(box(0.5, top + p.face_height * 0.45, p.face_width * 1.25,
                         p.face_height * (0.9 + length)), fill=p.hair)
    draw.ellipse(box(0.5, 0.5, p.face_width, p.face_height), fill=p.skin)          # head
    chin = p.face_width * p.jaw
    draw.polygon([(size * (0.5 - p.face_width / 2), size * 0.5),
                  (size * (0.5 + p.face_width / 2), size * 0.5),
                  (size * (0.5 + chin / 2), size * (0.5 + p.face_height / 2 - 0.02)),
                  (size * (0.5 - chin / 2), size * (0.5 + p.face_height / 2 - 0.02))], fill=p.skin)
    for side in (-1, 1):                                                          # ears
        draw.ellipse(box(0.5 + side * p.face_width / 2, p.eye_height + 0.04, 0.06, 0.12), fill=p.skin)
    draw.chord(box(0.5, top + p.hairline / 2, p.face_width * 1.04, p.hairline * 2.2), 180, 360, fill=p.hair)
    if p.hair_style == 2:                                                         # a fringe
        draw.polygon([(size * 0.32, size * (top + 0.05)), (size * 0.62, size * (top + 0.05)),
                      (size * 0.40, size * (top + p.hairline + 0.08))], fill=p.hair)
    raise_ = rng.uniform(-0.02, 0.03)                                             # expression: brows
    for side in (-1, 1):
        cx = 0.5 + side * p.eye_spacing
        draw.ellipse(box(cx, p.eye_height, p.eye_size * 1.9, p.eye_size), fill=(250, 250, 250))
        draw.ellipse(box(cx, p.eye_height, p.eye_size * 0.9, p.eye_size * 0.9), fill=p.eye_colour)
        draw.ellipse(box(cx, p.eye_height, p.eye_size * 0.35, p.eye_size * 0.35), fill=(10, 10, 10))
        y = p.eye_height - p.eye_size - 0.035 - raise_
        inner, outer = cx - side * p.eye_size, cx + side * p.eye_size * 1.2
        draw.line([size * inner, size * (y + p.brow_tilt), size * outer, size * (y - p.brow_tilt)],
                  fill=p.hair, width=max(2, int(size * p.brow_thickness)))
        if p.glasses:
            draw.ellipse(box(cx, p.eye_height, p.eye_size * 2.6, p.eye_size * 2.0), outline=p.frame,
                         width=max(2, size // 60))
    if p.glasses:
        draw.line([size * (0.5 - p.eye_spacing + p.eye_size * 1.3), size * p.eye_height,
                   size * (0.5 + p.eye_spacing - p.eye_size * 1.3), size * p.eye_height], fill=p.frame,
                  width=max(2, size // 60))
    nose_top, nose_bottom = p.eye_height + 0.03, p.eye_height + 0.03 + p.nose_length
    shade = tuple(int(v * 0.75) for v in p.skin)
    draw.polygon([(size * 0.5, size * nose_top), (size * (0.5 + p.nose_width / 2), size * nose_bottom),
                  (size * (0.5 - p.nose_width / 2), size * nose_bottom)], fill=shade)
    curve = rng.uniform(-0.05, 0.06)                                              # expression: mouth
    half = p.mouth_width / 2
    points = [(size * (0.5 + x * half), size * (p.mouth_height - curve * (1 - x * x) + curve * 0.5))
              for x in np.linspace(-1, 1, 9)]
    draw.line(points, fill=p.lips, width=max(3, int(size * 0.025)), joint="curve")


def _light(rng, pixels):
    """A lighting gradient from a random direction and a colour cast."""
    angle = rng.uniform(0, 2 * np.pi)
    line = np.linspace(-1, 1, SIZE)
    ramp = np.cos(angle) * line[None, :] + np.sin(angle) * line[:, None]
    gain = 1 + rng.uniform(0.1, 0.45) * ramp / np.sqrt(2)
    cast = rng.uniform(0.8, 1.2, 3) * rng.uniform(0.7, 1.25)
    return pixels * gain[..., None] * cast


def _occlude(rng, pixels):
    """A patch of flat colour over part of the face (a hand, a scarf, a shadow)."""
    height, width = rng.integers(SIZE // 6, SIZE // 2.5, 2)
    top, left = rng.integers(SIZE // 6, SIZE - height), rng.integers(0, SIZE - width)
    pixels = pixels.copy()
    pixels[top:top + height, left:left + width] = rng.integers(0, 256, 3)
    return pixels
