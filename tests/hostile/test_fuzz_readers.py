"""Fuzzing every reader of files from the outside (hypothesis): arbitrary bytes or text, and inputs
shaped like the format with random values, give either a result or the package's own error
(:class:`~yad2k_style.errors.YadError`: one line naming the file), never another exception, and each
within the deadline.

The test run draws :data:`EXAMPLES` inputs per reader (derandomised: the same ones on every run);
``scripts/fuzz_readers.py`` runs the same properties for as long as one wants (the "long" profile,
random seeds).
"""

import io
import json
import os
import struct
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from yad2k_style.darknet.cfg import parse_cfg_text
from yad2k_style.darknet.weights import float_count, read_weights
from yad2k_style.detection.labels import parse_coco, parse_voc, parse_yolo_labels
from yad2k_style.errors import YadError
from yad2k_style.face.database import FaceDatabase
from yad2k_style.face.openface import read_openface_csv
from yad2k_style.segmentation.masks import decode_segmentation, read_class_map

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("suite", max_examples=EXAMPLES, deadline=timedelta(seconds=2), derandomize=True,
                          database=None, suppress_health_check=QUIET)
settings.register_profile("long", max_examples=EXAMPLES, deadline=timedelta(seconds=2),
                          suppress_health_check=QUIET)
settings.load_profile(os.environ.get("FUZZ_PROFILE", "suite"))

SCRATCH = Path(tempfile.mkdtemp(prefix="yad2k-fuzz-"))


def result_or_own_error(read, *args):
    """Call ``read(*args)``: a result, or a :class:`YadError` whose message is one line."""
    try:
        return read(*args)
    except YadError as exc:
        assert "\n" not in str(exc), str(exc)
        return None


def scratch_file(name, data):
    """Write ``data`` (bytes or text) to a scratch file ``name`` → its path."""
    path = SCRATCH / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


# ---- Darknet cfg -----------------------------------------------------------------------------------

SECTIONS = ("net", "network", "convolutional", "maxpool", "avgpool", "route", "reorg", "region",
            "shortcut", "softmax", "dropout", "upsample", "yolo", "connected", "crop")
KEYS = ("width", "height", "channels", "batch", "filters", "size", "stride", "pad", "padding",
        "activation", "batch_normalize", "layers", "from", "anchors", "num", "classes", "coords",
        "groups", "dilation", "probability", "bias_match", "softmax", "jitter", "random")
VALUES = st.one_of(st.integers(-5, 2000).map(str), st.sampled_from(["leaky", "linear", "relu", "-1", "-3,-1",
                                                                    "0.5,1,2,3", "", "1e9", "nan"]),
                   st.text(max_size=12))


@st.composite
def cfg_texts(draw):
    """A text shaped like a cfg: [net] first (mostly), sections of known keys with random values."""
    lines = ["[net]"] if draw(st.booleans()) or draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 12))):
        lines.append(f"[{draw(st.sampled_from(SECTIONS))}]")
        for _ in range(draw(st.integers(0, 6))):
            lines.append(f"{draw(st.sampled_from(KEYS))}={draw(VALUES)}")
    return "\n".join(lines)


def read_cfg(text):
    cfg = parse_cfg_text(text, "fuzz.cfg")
    float_count(cfg)  # the layer arithmetic the weights reader does: routes, channels
    cfg.layer_sizes()  # and the converter's: sizes
    return cfg


@given(st.one_of(st.text(max_size=400), cfg_texts()))
def test_fuzz_cfg_parser(text):
    result_or_own_error(read_cfg, text)


# ---- Darknet weights -------------------------------------------------------------------------------

WEIGHTS_CFG = parse_cfg_text("[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\n"
                             "filters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n[maxpool]\nsize=2\n"
                             "stride=2\n[convolutional]\nfilters=6\nsize=1\nstride=1\nactivation=linear\n",
                             "fuzz.cfg")
NEEDED = float_count(WEIGHTS_CFG)


@st.composite
def weights_files(draw):
    """A Darknet header (major, minor, revision, seen as 32 or 64 bits) and a float count near what the
    cfg needs, with any values (NaN, Inf, negative variances)."""
    major, minor = draw(st.sampled_from([(0, 1), (0, 2), (1, 0), (0, 0), (9, 9)]))
    header = struct.pack("<3i", major, minor, draw(st.integers(0, 10))) + (
        struct.pack("<q", 0) if major * 10 + minor >= 2 else struct.pack("<i", 0))
    count = NEEDED + draw(st.integers(-NEEDED, 8))
    floats = draw(st.lists(st.floats(width=32), min_size=count, max_size=count))
    return header + np.asarray(floats, "<f4").tobytes() + draw(st.binary(max_size=3))


@given(st.one_of(st.binary(max_size=600), weights_files()))
def test_fuzz_weights_reader(data):
    result_or_own_error(read_weights, scratch_file("fuzz.weights", data), WEIGHTS_CFG)


# ---- labels: VOC XML, COCO JSON, YOLO txt ----------------------------------------------------------

WORDS = st.one_of(st.integers(-10, 700).map(str), st.floats(allow_nan=True).map(str), st.text(max_size=8))


@st.composite
def voc_documents(draw):
    """An annotation shaped like VOC's, random values; sometimes with a DTD and entities."""
    prologue = draw(st.sampled_from(["", '<?xml version="1.0"?>',
                                     '<!DOCTYPE a [<!ENTITY e "x"><!ENTITY f "&e;&e;&e;">]>',
                                     '<!DOCTYPE a SYSTEM "file:///etc/passwd">']))
    objects = "".join(
        f"<object><name>{draw(WORDS)}</name><bndbox>"
        + "".join(f"<{k}>{draw(WORDS)}</{k}>" for k in ("xmin", "ymin", "xmax", "ymax"))
        + "</bndbox></object>"
        for _ in range(draw(st.integers(0, 3))))
    body = (f"<annotation><filename>{draw(WORDS)}</filename><size><width>{draw(WORDS)}</width>"
            f"<height>{draw(WORDS)}</height></size>{objects}</annotation>")
    return (prologue + body).encode("utf-8", "surrogatepass")


@given(st.one_of(st.binary(max_size=400), voc_documents()))
def test_fuzz_voc_reader(data):
    result_or_own_error(parse_voc, data, "fuzz.xml")


JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 300) | st.floats() | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                  max_size=4), max_leaves=12)
NUMBERS = st.one_of(st.integers(-5, 300), st.floats(), st.text(max_size=3), st.none(), st.booleans())


@st.composite
def coco_documents(draw):
    """A COCO dictionary with the right keys and random values (or any JSON)."""
    images = [{"id": draw(NUMBERS), "file_name": draw(st.sampled_from(["a.jpg", "", "../x.png", 3])),
               "width": draw(NUMBERS), "height": draw(NUMBERS)} for _ in range(draw(st.integers(0, 3)))]
    annotations = [{"image_id": draw(NUMBERS), "category_id": draw(NUMBERS), "iscrowd": draw(NUMBERS),
                    "bbox": draw(st.one_of(st.lists(NUMBERS, max_size=5), JSON))}
                   for _ in range(draw(st.integers(0, 4)))]
    categories = [{"id": draw(NUMBERS), "name": draw(st.one_of(st.text(max_size=4), NUMBERS))}
                  for _ in range(draw(st.integers(0, 3)))]
    document = {"images": images, "annotations": annotations, "categories": categories}
    for key in draw(st.lists(st.sampled_from(list(document)), max_size=2)):
        document[key] = draw(JSON)
    return json.dumps(document)


@given(st.one_of(st.text(max_size=300), JSON.map(json.dumps), coco_documents()))
def test_fuzz_coco_reader(text):
    result_or_own_error(parse_coco, text, "fuzz.json", SCRATCH)


@given(st.one_of(st.text(max_size=300),
                 st.lists(st.lists(WORDS, max_size=6).map(" ".join), max_size=5).map("\n".join)))
def test_fuzz_yolo_label_reader(text):
    result_or_own_error(parse_yolo_labels, text, "fuzz.txt", 3, (100, 120))


# ---- masks: PNG class maps, COCO segmentations -----------------------------------------------------

@st.composite
def png_files(draw):
    """A PNG of random mode, size and pixels (sometimes with its bytes cut or flipped)."""
    mode = draw(st.sampled_from(["L", "P", "RGB", "RGBA", "I;16", "1", "LA"]))
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    pixels = np.frombuffer(draw(st.binary(min_size=width * height, max_size=width * height)), np.uint8)
    image = Image.fromarray(pixels.reshape(height, width)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8))
    return bytes(data)


@given(st.one_of(st.binary(max_size=300), png_files()))
def test_fuzz_class_map_reader(data):
    result_or_own_error(read_class_map, scratch_file("fuzz.png", data), 3, (20, 30))


SEGMENTATIONS = st.one_of(
    JSON,
    st.lists(st.lists(st.one_of(st.floats(), st.integers(-50, 100), st.text(max_size=2)), max_size=9),
             max_size=3),
    st.fixed_dictionaries({"size": st.one_of(st.just([20, 30]), st.lists(st.integers(-2, 40), max_size=3)),
                           "counts": st.one_of(st.text(max_size=30), st.binary(max_size=30),
                                               st.lists(st.integers(-5, 700), max_size=8))}))


@given(SEGMENTATIONS)
def test_fuzz_coco_segmentation_reader(segmentation):
    result_or_own_error(decode_segmentation, segmentation, 20, 30, "fuzz.json")


# ---- face: OpenFace CSV weights, face databases ----------------------------------------------------

@pytest.fixture(scope="module")
def openface_model():
    from yad2k_style.face.model import faceRecoModel

    return faceRecoModel((96, 96, 3))


CSV = st.one_of(st.text(max_size=300),
                st.lists(st.one_of(st.floats().map(repr), st.integers().map(str), st.text(max_size=4)),
                         max_size=40).map(",".join))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(CSV, st.sampled_from(["conv1_b", "bn1_v", "dense_w", "inception_3a_1x1_conv_w"]))
def test_fuzz_openface_csv_reader(openface_model, text, stem):
    folder = SCRATCH / "csv"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    scratch_file(f"csv/{stem}.csv", text)
    result_or_own_error(read_openface_csv, folder, openface_model)


@st.composite
def npz_files(draw):
    """An ``.npz`` with some of a database's keys, arrays of random shapes and kinds (or its bytes cut)."""
    arrays = {}
    for key in draw(st.lists(st.sampled_from(["format", "names", "embeddings", "other"]), max_size=4,
                             unique=True)):
        arrays[key] = draw(st.one_of(
            st.just(np.array("yad2k-style face database 1")), st.text(max_size=5).map(np.array),
            st.lists(st.text(max_size=3), max_size=3).map(lambda v: np.array(v, str)),
            st.tuples(st.integers(0, 3), st.integers(0, 4)).map(lambda s: np.ones(s, np.float32)),
            st.integers(0, 3).map(lambda n: np.zeros((n,), np.int64))))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    return data[:draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


@given(st.one_of(st.binary(max_size=300), npz_files()), st.sampled_from([None, 4, 128]))
def test_fuzz_face_database_reader(data, embedding_size):
    result_or_own_error(FaceDatabase.load, scratch_file("fuzz.npz", data), embedding_size)
