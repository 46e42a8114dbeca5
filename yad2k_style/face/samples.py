"""The packaged sample faces (``weights/face/samples/NAME_K.png``): one image per person is enrolled,
the others are identified — what ``yad2k-style face identify`` shows with no arguments."""

from collections import defaultdict

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from yad2k_style.assets import asset_path
from yad2k_style.face.database import FaceDatabase
from yad2k_style.files import atomic_path

SAMPLES = "face/samples"
CELL = 96
HEADING = 34  # pixels above the rows for the column headings


def sample_paths():
    """``{name: [image paths, in order]}`` of the packaged samples."""
    people = defaultdict(list)
    for path in sorted(asset_path(SAMPLES).glob("*.png")):
        people[path.stem.rsplit("_", 1)[0]].append(path)
    return dict(people)


def identify_samples(embedder):
    """Enroll each sample person's first image; identify the others → ``[(query path, true name,
    nearest name, distance, enrolled path of the nearest)]``."""
    people = sample_paths()
    database = FaceDatabase(embedder.embedding_size)
    enrolled = {name: paths[0] for name, paths in people.items()}
    for name, path in enrolled.items():
        database.enroll(name, embedder.encode_files([path]))
    queries = [(path, name) for name, paths in people.items() for path in paths[1:]]
    names, distances = database.nearest(embedder.encode_files([path for path, _ in queries]))
    return [(path, truth, str(found), float(distance), enrolled[str(found)])
            for (path, truth), found, distance in zip(queries, names, distances, strict=True)]


def draw_matches(rows, threshold, path):
    """A PNG grid under column headings: each row a query and the enrolled face it matched, with name
    and distance (green when the match is right and within the threshold, red otherwise). Written
    atomically."""
    sheet = Image.new("RGB", (2 * CELL + 150, HEADING + CELL * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    headings = ("query", "nearest enrolled", f"name, distance\n(threshold {threshold:.3f})")
    for column, heading in enumerate(headings):
        draw.text((column * CELL + 4, 5), heading, fill=(0, 0, 0), font=font)
    for index, (query, truth, found, distance, match) in enumerate(rows):
        top = HEADING + index * CELL
        for column, image_path in enumerate((query, match)):
            with Image.open(image_path) as image:
                sheet.paste(image.convert("RGB").resize((CELL, CELL)), (column * CELL, top))
        right = found == truth and distance <= threshold
        draw.text((2 * CELL + 6, top + 30), f"{found}\n{distance:.3f}",
                  fill=(0, 140, 0) if right else (200, 0, 0))
    with atomic_path(path) as temporary:
        sheet.save(temporary, format="PNG")
    return np.mean([found == truth and distance <= threshold for _, truth, found, distance, _ in rows])
