"""The course's face verification and recognition: ``img_to_encoding``, ``verify``, ``who_is_it``.

``database`` is the course's dictionary ``{name: encoding (1, 128)}`` or a
:class:`~yad2k_style.face.database.FaceDatabase` (several encodings per person: the nearest counts).
Distances are **plain** L2 norms ``||f(x) − f(y)||`` (not squared). ``verify`` opens the door when
``dist < threshold``; ``who_is_it`` answers "Not in the database." when ``min_dist > threshold``:
the course's two comparisons, kept as they are.
"""

import numpy as np

from yad2k_style.errors import YadError
from yad2k_style.face.database import FaceDatabase
from yad2k_style.images import read_image, resize_image

THRESHOLD = 0.7  # the course's
COURSE_INPUT_SIZE = (96, 96)  # nn4.small2's input, (height, width)


def images_to_array(paths, input_size):
    """Image files → float32 (N, height, width, 3) RGB in [0, 1], each resized (bicubic) to
    ``input_size = (height, width)``; unreadable files raise :class:`~yad2k_style.errors.FormatError`."""
    return np.stack([np.asarray(resize_image(read_image(path), input_size), np.float32) / 255.0
                     for path in paths])


def img_to_encoding(image_path, model):
    """The course's encoding of one image file: RGB, resized to the model's input (``model.input_shape``
    where it has one, else the course's 96×96), scaled to [0, 1], through ``model.predict_on_batch``
    → float32 (1, 128). Any object with ``predict_on_batch`` serves, as in the course."""
    shape = getattr(model, "input_shape", None)
    size = tuple(shape[1:3]) if isinstance(shape, tuple) and len(shape) == 4 and None not in shape[1:3] \
        else COURSE_INPUT_SIZE
    return np.asarray(model.predict_on_batch(images_to_array([image_path], size)), np.float32)


def _as_database(database):
    if isinstance(database, FaceDatabase):
        return database
    encodings = {name: np.asarray(encoding, np.float32).reshape(-1) for name, encoding in database.items()}
    size = len(next(iter(encodings.values()))) if encodings else 128
    return FaceDatabase(size, list(encodings), list(encodings.values()))


def verify(image_path, identity, database, model, threshold=THRESHOLD):
    """Is the person in ``image_path`` ``identity``? → ``(dist, door_open)``, printing the course's
    message; ``door_open`` when ``dist < threshold``. An unknown ``identity`` is a :class:`YadError`."""
    database = _as_database(database)
    if identity not in database:
        raise YadError(f"{identity!r} is not in the database")
    dist = float(database.distance_to(identity, img_to_encoding(image_path, model))[0])
    door_open = dist < threshold
    if door_open:
        print(f"It's {identity}, welcome in!")
    else:
        print(f"It's not {identity}, please go away")
    return dist, door_open


def who_is_it(image_path, database, model, threshold=THRESHOLD):
    """Who is in ``image_path``? → ``(min_dist, identity)`` of the nearest enrolled person, printing
    "Not in the database." when ``min_dist > threshold``, else the course's "it's NAME" line."""
    names, distances = _as_database(database).nearest(img_to_encoding(image_path, model))
    min_dist, identity = float(distances[0]), str(names[0])
    if min_dist > threshold:
        print("Not in the database.")
    else:
        print(f"it's {identity}, the distance is {min_dist}")
    return min_dist, identity
