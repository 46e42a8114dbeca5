"""The bad-input matrix (issue 22): one row per hostile or broken input a user can feed the package —
cfgs, weights, images, labels, masks, face files, style inputs, outputs — through the command line's
``main(argv)`` in-process. Each row states what must happen: exit code 2 and one line on stderr that
holds the documented message (no traceback, nothing left half-written), or the documented behaviour
(exit 0). A few rows run as a user runs them, in a subprocess. README's "Errors" section lists the
messages.
"""

import builtins
import errno
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from yad2k_style import cli
from yad2k_style.assets import asset_path
from yad2k_style.detection.yolo import embedded

SHAPES_CFG, SHAPES_WEIGHTS = (asset_path(name) for name in (embedded.CFG_FILE, embedded.WEIGHTS_FILE))
HEADER_BYTES = 20  # the shapes weights' header: major, minor, revision (int32), seen (int64)
NET = "[net]\nwidth=64\nheight=64\nchannels=3\n"
CONV = "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n"


def _laughs(level):
    """The entity that expands to 10 of the level below (10⁹ "lol"s at level 9)."""
    reference = f"&lol{level - 1};" if level > 1 else "&lol;"
    return f'<!ENTITY lol{level} "{reference * 10}">'


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(map(_laughs, range(1, 10)))
                  + ']><annotation><filename>&lol9;</filename></annotation>')
EXTERNAL_ENTITY = ('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   '<annotation><filename>&x;</filename></annotation>')


def png_with_size(width, height):
    """A PNG whose header says ``width`` × ``height`` pixels (its data is a 1×1 image)."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    chunk = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:33] = chunk + struct.pack(">I", zlib.crc32(chunk))
    return bytes(data)


def voc(name="circle", box=(10, 10, 40, 40), size=(128, 128), filename="a.png"):
    objects = "".join(f"<object><name>{name}</name><bndbox><xmin>{box[0]}</xmin><ymin>{box[1]}</ymin>"
                      f"<xmax>{box[2]}</xmax><ymax>{box[3]}</ymax></bndbox></object>")
    return (f"<annotation><filename>{filename}</filename><size><width>{size[0]}</width>"
            f"<height>{size[1]}</height></size>{objects}</annotation>")


def coco(**changes):
    document = {"images": [{"id": 1, "file_name": "a.png", "width": 128, "height": 128}],
                "annotations": [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30]}],
                "categories": [{"id": 1, "name": "circle"}]}
    for key, value in changes.items():
        if value is None:
            del document[key]
        else:
            document[key] = value
    return json.dumps(document)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Every file the rows need, made once: W/ in the rows."""
    root = tmp_path_factory.mktemp("world")
    rng = np.random.default_rng(22)
    scene = Image.fromarray(rng.integers(0, 256, (128, 128, 3), np.uint8))
    scene.save(root / "scene.png")
    weights = SHAPES_WEIGHTS.read_bytes()
    files = {
        "empty.cfg": b"", "garbage.cfg": bytes(rng.integers(0, 256, 3000, np.uint8)),
        "unknown.cfg": (NET + "[transformer]\nheads=8\n").encode(),
        "no_filters.cfg": (NET + CONV.replace("filters=4\n", "")).encode(),
        "letters.cfg": (NET + CONV.replace("filters=4", "filters=four")).encode(),
        "zero_size.cfg": (NET + CONV.replace("size=3", "size=0")).encode(),
        "negative.cfg": (NET + CONV.replace("filters=4", "filters=-4")).encode(),
        "route_missing.cfg": (NET + CONV + "[route]\nlayers=-7\n").encode(),
        "route_later.cfg": (NET + CONV + "[route]\nlayers=2\n" + CONV).encode(),
        "deep.cfg": (NET + CONV * 10_000).encode(),
        "stride.cfg": SHAPES_CFG.read_text().replace("width=128", "width=100").encode(),
        "empty.weights": b"", "header.weights": weights[:HEADER_BYTES],
        "truncated.weights": weights[:len(weights) // 2], "extra.weights": weights + b"\0" * 40,
        "zero_bytes.png": b"", "truncated.jpg": _jpeg(scene)[:400], "bad_crc.png": _bad_crc(scene),
        "huge.png": png_with_size(40_000, 40_000),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    nan = np.frombuffer(weights, np.uint8).copy()
    nan[HEADER_BYTES + 4 * 100:HEADER_BYTES + 4 * 104] = np.frombuffer(np.float32([np.nan]).tobytes() * 4,
                                                                       np.uint8)
    (root / "nan.weights").write_bytes(nan.tobytes())
    variance = np.frombuffer(weights, np.uint8).copy()  # layer 1's rolling variances start after 3×16 floats
    variance[HEADER_BYTES + 4 * 48:HEADER_BYTES + 4 * 52] = np.frombuffer(np.float32([-1.0] * 4).tobytes(),
                                                                         np.uint8)
    (root / "variance.weights").write_bytes(variance.tobytes())
    with open(root / "sparse.weights", "wb") as sparse:  # 8 GB on paper, a few bytes on disk
        sparse.write(weights)
        sparse.truncate(8 << 30)
    _images(root, scene)
    _labels(root, scene)
    _face(root)
    return root


def _jpeg(image, mode="RGB"):
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, format="JPEG")
    return buffer.getvalue()


def _bad_crc(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[29] ^= 0xFF  # IHDR's CRC
    return bytes(data)


def _images(root, scene):
    Image.fromarray(np.asarray(scene.convert("L"), np.uint16) * 257).save(root / "deep16.png")
    (root / "cmyk.jpg").write_bytes(_jpeg(scene, "CMYK"))
    palette = scene.convert("P", palette=Image.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    palette.save(root / "palette.png", transparency=0)
    frames = [scene, scene.rotate(90)]
    frames[0].save(root / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    rotated = scene.resize((128, 96))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    rotated.save(root / "exif.jpg", exif=exif)
    (root / "no_images").mkdir()
    (root / "no_images" / "notes.txt").write_text("nothing to see\n")


def _labels(root, scene):
    for layout in ("voc_bomb", "voc_entity", "voc_outside", "voc_negative", "voc_unknown", "voc_garbage"):
        (root / layout / "Annotations").mkdir(parents=True)
        (root / layout / "JPEGImages").mkdir()
        scene.save(root / layout / "JPEGImages" / "a.png")
        (root / layout / "classes.txt").write_text("circle\nsquare\n")
    documents = {"voc_bomb": BILLION_LAUGHS, "voc_entity": EXTERNAL_ENTITY,
                 "voc_outside": voc(box=(100, 100, 400, 120)), "voc_negative": voc(box=(40, 40, 20, 60)),
                 "voc_unknown": voc(name="unicorn"), "voc_garbage": "<annotation><size>"}
    for layout, document in documents.items():
        (root / layout / "Annotations" / "a.xml").write_text(document)
    (root / "images").mkdir()
    scene.save(root / "images" / "a.png")
    cocos = {"coco_no_images": coco(images=None), "coco_bbox": coco(annotations=[
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3]}]),
        "coco_image_id": coco(annotations=[{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}]),
        "coco_category": coco(annotations=[{"image_id": 1, "category_id": 9, "bbox": [1, 2, 3, 4]}]),
        "coco_outside": coco(annotations=[{"image_id": 1, "category_id": 1, "bbox": [120, 0, 50, 10]}]),
        "coco_negative": coco(annotations=[{"image_id": 1, "category_id": 1, "bbox": [10, 10, -5, 10]}])}
    for name, text in cocos.items():
        (root / f"{name}.json").write_text(text)
    (root / "coco_garbage.json").write_text("{\"images\": [")
    for layout, line in (("yolo_columns", "0 0.5 0.5 0.1"), ("yolo_letters", "0 0.5 half 0.1 0.1"),
                         ("yolo_class", "7 0.5 0.5 0.1 0.1"), ("yolo_range", "0 0.5 0.5 1.5 0.1")):
        (root / layout / "images").mkdir(parents=True)
        (root / layout / "labels").mkdir()
        scene.save(root / layout / "images" / "a.png")
        (root / layout / "classes.txt").write_text("circle\nsquare\n")
        (root / layout / "labels" / "a.txt").write_text(line + "\n")


def _face(root):
    import keras

    from yad2k_style.artifacts import create_artifact
    from yad2k_style.face.database import FaceDatabase
    from yad2k_style.face.embedder import face_info
    from yad2k_style.face.model import face_reco_model

    keras.utils.set_random_seed(22)
    model = face_reco_model()
    create_artifact(root / "face_model", model, face_info(model))
    FaceDatabase(128, ["alice"], np.ones((1, 128)) / np.sqrt(128)).save(root / "faces.npz")
    FaceDatabase(4, ["alice"], np.ones((1, 4)) / 2).save(root / "small.npz")
    (root / "truncated.npz").write_bytes((root / "faces.npz").read_bytes()[:300])
    (root / "random.npz").write_bytes(bytes(range(256)) * 4)
    for name, text in (("csv_missing", None), ("csv_shape", "1,2,3"), ("csv_letters", "1,two,3")):
        (root / name).mkdir()
        if text is not None:
            (root / name / "conv1_b.csv").write_text(text)


@dataclass(frozen=True)
class Row:
    """One case: ``argv`` (``W/`` the world, ``T/`` the row's own folder) and ``message``, the error's
    text after ``yad2k-style: error: `` (``W/``, ``T/`` replaced); None: the command succeeds."""

    id: str
    argv: tuple
    message: str | None


def row(id, argv, message=None):
    return pytest.param(Row(id, tuple(argv.split()), message), id=id)


CONVERT = "convert {} {} T/out --classes " + str(asset_path("shapes/classes.txt"))
ROWS = [
    # cfg files
    row("cfg-empty", CONVERT.format("W/empty.cfg", "W/header.weights"),
        "W/empty.cfg: the first section must be"),
    row("cfg-binary", CONVERT.format("W/garbage.cfg", "W/header.weights"), "W/garbage.cfg: "),
    row("cfg-unknown-section", CONVERT.format("W/unknown.cfg", "W/header.weights"),
        "W/unknown.cfg:5: unsupported section [transformer]"),
    row("cfg-missing-filters", CONVERT.format("W/no_filters.cfg", "W/header.weights"),
        "missing key 'filters'"),
    row("cfg-not-a-number", CONVERT.format("W/letters.cfg", "W/header.weights"), "filters=four is not"),
    row("cfg-zero-size", CONVERT.format("W/zero_size.cfg", "W/header.weights"), "size=0: must be positive"),
    row("cfg-negative-filters", CONVERT.format("W/negative.cfg", "W/header.weights"),
        "filters=-4: must be positive"),
    row("cfg-route-missing", CONVERT.format("W/route_missing.cfg", "W/header.weights"),
        "refers to layer -7, which is not an earlier layer"),
    row("cfg-route-later", CONVERT.format("W/route_later.cfg", "W/header.weights"),
        "refers to layer 2, which is not an earlier layer"),
    row("cfg-10000-layers", CONVERT.format("W/deep.cfg", "W/header.weights"),
        "W/deep.cfg: 10,000 layers; this reader takes at most 1,000"),
    row("cfg-size-not-multiple-of-stride", CONVERT.format("W/stride.cfg", "W/header.weights"),
        "its input is 8×7, not a multiple of its stride 2"),
    row("cfg-and-weights-swapped", CONVERT.format(SHAPES_WEIGHTS, SHAPES_CFG), ""),
    # weights files
    row("weights-empty", CONVERT.format(SHAPES_CFG, "W/empty.weights"), "W/empty.weights: "),
    row("weights-header-only", CONVERT.format(SHAPES_CFG, "W/header.weights"), "W/header.weights: truncated"),
    row("weights-truncated", CONVERT.format(SHAPES_CFG, "W/truncated.weights"),
        "W/truncated.weights: truncated"),
    row("weights-extra-floats", CONVERT.format(SHAPES_CFG, "W/extra.weights"), "W/extra.weights: "),
    row("weights-nan", CONVERT.format(SHAPES_CFG, "W/nan.weights"),
        "W/nan.weights: layer 0 ([convolutional] at "),
    row("weights-variance", CONVERT.format(SHAPES_CFG, "W/variance.weights"), "W/variance.weights: "),
    row("weights-8-GB", CONVERT.format(SHAPES_CFG, "W/sparse.weights"), "W/sparse.weights: "),
    # images
    row("image-zero-bytes", "detect W/zero_bytes.png", "W/zero_bytes.png: not a readable image"),
    row("image-truncated-jpeg", "detect W/truncated.jpg", "W/truncated.jpg: not a readable image"),
    row("image-bad-crc", "detect W/bad_crc.png", "W/bad_crc.png: not a readable image"),
    row("image-16-bit-png", "detect W/deep16.png"),
    row("image-cmyk-jpeg", "detect W/cmyk.jpg"),
    row("image-palette-transparency", "detect W/palette.png"),
    row("image-animated-gif", "detect W/animated.gif"),
    row("image-exif-rotation", "detect W/exif.jpg --out T/drawn"),
    row("image-decompression-bomb", "detect W/huge.png",
        "W/huge.png: image too large, refused as a possible decompression bomb"),
    row("image-directory-without-images", "detect W/no_images", "W/no_images: no images"),
    row("image-missing", "detect W/nowhere.png", "W/nowhere.png: no such file or directory"),
    row("image-unreadable", "detect W/scene.png", "W/scene.png: permission denied"),
    # labels
    row("voc-billion-laughs", "anchors W/voc_bomb",
        "W/voc_bomb/Annotations/a.xml: refused: the XML declares"),
    row("voc-external-entity", "anchors W/voc_entity", "W/voc_entity/Annotations/a.xml: refused"),
    row("voc-box-outside", "anchors W/voc_outside", "lies outside the 128×128 image"),
    row("voc-negative-size", "anchors W/voc_negative", "has no area"),
    row("voc-unknown-class", "anchors W/voc_unknown", "class 'unicorn' is not in classes.txt"),
    row("voc-not-xml", "anchors W/voc_garbage", "not valid XML"),
    row("coco-missing-key", "anchors W/coco_no_images.json",
        "W/coco_no_images.json: missing COCO field 'images'"),
    row("coco-bbox-3-numbers", "anchors W/coco_bbox.json", "annotations[0]: bbox must be 4 numbers"),
    row("coco-unknown-image", "anchors W/coco_image_id.json", "image_id 7 is not among the images"),
    row("coco-unknown-category", "anchors W/coco_category.json", "category_id 9 is not among the categories"),
    row("coco-box-outside", "anchors W/coco_outside.json", "lies outside the 128×128 image"),
    row("coco-negative-size", "anchors W/coco_negative.json", "has no area"),
    row("coco-not-json", "anchors W/coco_garbage.json", "W/coco_garbage.json: not valid JSON"),
    row("yolo-4-columns", "anchors W/yolo_columns",
        "W/yolo_columns/labels/a.txt:1: expected 'class x y w h'"),
    row("yolo-not-numbers", "anchors W/yolo_letters", "W/yolo_letters/labels/a.txt:1: not numbers"),
    row("yolo-unknown-class", "anchors W/yolo_class", "class 7 outside 0..1"),
    row("yolo-out-of-range", "anchors W/yolo_range", "box values must be relative"),
    # face
    row("face-csv-missing-files", "face convert-openface W/csv_missing T/out",
        "W/csv_missing: OpenFace CSV weights"),
    row("face-csv-wrong-shape", "face convert-openface W/csv_shape T/out",
        "conv1_b.csv has 3 values, needs 64"),
    row("face-csv-not-numbers", "face convert-openface W/csv_letters T/out", "not numbers (conv1_b.csv)"),
    row("face-db-truncated", "face verify W/scene.png alice --db W/truncated.npz --model W/face_model",
        "W/truncated.npz: not a face database"),
    row("face-db-other-size", "face verify W/scene.png alice --db W/small.npz --model W/face_model",
        "W/small.npz: holds 4-dimensional embeddings; the model makes 128-dimensional ones"),
    row("face-db-not-a-database", "face verify W/scene.png alice --db W/random.npz --model W/face_model",
        "W/random.npz: not a face database"),
    row("face-enroll-unreadable-image", "face enroll bob W/bad_crc.png --db T/new.npz --model W/face_model",
        "W/bad_crc.png: not a readable image"),
    # style
    row("style-wrong-architecture", "stylize W/scene.png W/scene.png -o T/out.png --steps 1 --size 32 "
        "--weights "
        f"{asset_path('foundations/localization-shapes.weights.h5')}", "localization-shapes.weights.h5: "),
    row("style-size-zero", "stylize W/scene.png W/scene.png -o T/out.png --size 0", "--long-side must be"),
    row("style-unreadable-style-image", "stylize W/scene.png W/bad_crc.png -o T/out.png --weights none",
        "W/bad_crc.png: not a readable image"),
    # outputs
    row("output-exists", CONVERT.format(SHAPES_CFG, SHAPES_WEIGHTS).replace("T/out", "W/face_model"),
        "W/face_model: already exists"),
    row("output-folder-unwritable", "detect W/scene.png --out T/drawn",
        "T/drawn/scene.png: cannot write: permission denied"),
    row("output-disk-full", "detect W/scene.png --out T/drawn",
        "T/drawn/scene.png: cannot write: no space left on device"),
    row("output-json-is-a-folder", "detect W/scene.png --json W/no_images", "W/no_images: is a directory"),
    row("output-out-is-a-file", "detect W/scene.png --out W/scene.png", "exists and is not a directory"),
    # masks and segmentations, through the segment command's neighbours
    row("segment-semantic-model-with-instances", "segment W/scene.png --model semantic-shapes --instances",
        "semantic-shapes: not an instance segmentation model"),
]


def refuse_open(path):
    """A patch of ``open`` that refuses ``path`` (root ignores permissions: CI runs as root)."""
    real = builtins.open

    def patched(file, *args, **kwargs):
        if str(file) == str(path) or str(file).startswith(f"{path}{os.sep}"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    return patched


def disk_full(monkeypatch):
    """Every PNG written runs out of space after its first 100 bytes."""
    original = Image.Image.save

    def save(self, fp, *args, **kwargs):
        if hasattr(fp, "write"):
            fp.write(b"\x89PNG partial" * 10)
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)


@pytest.mark.parametrize("case", ROWS)
def test_bad_input(case, world, tmp_path, capsys, monkeypatch):
    argv = [a.replace("W/", f"{world}/").replace("T/", f"{tmp_path}/") for a in case.argv]
    if case.id == "image-unreadable":
        monkeypatch.setattr(builtins, "open", refuse_open(world / "scene.png"))
    elif case.id == "output-folder-unwritable":
        monkeypatch.setattr(builtins, "open", refuse_open(tmp_path / "drawn"))
    elif case.id == "output-disk-full":
        disk_full(monkeypatch)
    before = sorted(p.name for p in world.iterdir())
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if case.message is None:
        assert code == 0, captured.err
    else:
        message = case.message.replace("W/", f"{world}/").replace("T/", f"{tmp_path}/")
        lines = captured.err.splitlines()
        assert code == 2 and len(lines) == 1, captured.err
        assert lines[0].startswith("yad2k-style: error: ") and message in lines[0], lines[0]
    assert sorted(p.name for p in world.iterdir()) == before  # nothing new beside the inputs
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not [p for p in written if p.name.startswith(".")], written  # no temporary files left
    if case.message is not None:
        assert not (tmp_path / "out").exists() and not (tmp_path / "out.png").exists()
        assert not [p for p in written if p.suffix == ".png"], written  # no half-written image


def test_an_exif_rotated_image_is_detected_upright(world, tmp_path):
    """EXIF orientation 6: the file holds 128 × 96 pixels, shown as 96 × 128; the annotated copy and the
    boxes are in the upright frame (the copy enlarged 4 times, to at least 384 pixels)."""
    assert cli.main(["detect", str(world / "exif.jpg"), "--out", str(tmp_path)]) == 0
    with Image.open(tmp_path / "exif.jpg") as drawn:
        assert drawn.size == (4 * 96, 4 * 128)


def test_an_8_gb_weights_file_is_refused_without_reading_it(world, tmp_path, capsys):
    """The size check comes first: refusing the 8 GB file reads a few bytes, not the file."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert cli.main(["convert", str(SHAPES_CFG), str(world / "sparse.weights"), str(tmp_path / "out"),
                     "--classes", str(asset_path("shapes/classes.txt"))]) == 2
    assert "sparse.weights: 2,146,184,675 floats left over after the 1,298,968" in capsys.readouterr().err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # kB: under 0.5 GB


@pytest.mark.parametrize("argv, message", [
    (["detect", "{W}/zero_bytes.png"], "{W}/zero_bytes.png: not a readable image"),
    (["convert", "{W}/deep.cfg", "{W}/header.weights", "{T}/out"], "10,000 layers"),
    (["anchors", "{W}/voc_bomb"], "refused: the XML declares a DTD or entities"),
    (["segment", "{W}/nowhere.png"], "{W}/nowhere.png: no such file or directory"),
])
def test_as_a_user_sees_it(world, tmp_path, argv, message):
    """In a subprocess: exit code 2, one line on stderr, nothing on stdout."""
    argv = [a.format(W=world, T=tmp_path) for a in argv]
    result = subprocess.run([sys.executable, "-m", "yad2k_style", *argv], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert message.format(W=world, T=tmp_path) in result.stderr


def test_the_matrix_has_at_least_60_rows():
    assert len(ROWS) >= 60


def _api_call(argv):
    """The Python API's function for a row's command, or None: the converter's reader, the image reader,
    the dataset reader, the face database reader."""
    from yad2k_style.darknet import read_darknet
    from yad2k_style.detection.labels import read_dataset
    from yad2k_style.face.database import FaceDatabase
    from yad2k_style.images import read_image

    command = argv[0]
    if command == "convert":
        return lambda: read_darknet(argv[1], argv[2])
    if command == "detect" and len(argv) == 2 and Path(argv[1]).is_file():
        return lambda: read_image(argv[1])
    if command == "anchors":
        return lambda: read_dataset(argv[1])
    if argv[:2] == ["face", "verify"]:
        return lambda: FaceDatabase.load(argv[argv.index("--db") + 1], 128)
    return None


API_ROWS = [case for case in ROWS if case.values[0].message and case.values[0].id not in (
    "cfg-and-weights-swapped", "output-exists", "image-unreadable") and _api_call(list(case.values[0].argv))]


@pytest.mark.parametrize("case", API_ROWS)
def test_bad_input_through_the_python_api(case, world):
    """The same rows through the functions the commands call: the same one-line error, a YadError."""
    from yad2k_style.errors import YadError

    argv = [a.replace("W/", f"{world}/") for a in case.argv]
    with pytest.raises(YadError) as error:
        _api_call(argv)()
    assert case.message.replace("W/", f"{world}/") in str(error.value) and "\n" not in str(error.value)


def test_mask_readers_say_what_is_wrong(tmp_path):
    """Masks through the Python API: a class map of the wrong size or with unknown values, COCO
    segmentations that are malformed polygons or RLE — each a one-line :class:`FormatError`."""
    from yad2k_style.errors import FormatError
    from yad2k_style.segmentation.masks import decode_segmentation, read_class_map

    Image.fromarray(np.zeros((10, 12), np.uint8)).save(tmp_path / "small.png")
    Image.fromarray(np.full((20, 30), 9, np.uint8)).save(tmp_path / "values.png")
    cases = [(lambda: read_class_map(tmp_path / "small.png", 3, (20, 30)), "class map of 12×10 pixels"),
             (lambda: read_class_map(tmp_path / "values.png", 3, (20, 30)), "class value 9 in a map of 3"),
             (lambda: decode_segmentation([[1, 2, 3]], 20, 30, "l.json"), "at least 3 x, y pairs"),
             (lambda: decode_segmentation({"size": [20, 30], "counts": "zzzz"}, 20, 30, "l.json"),
              "do not cover the image")]
    for call, message in cases:
        with pytest.raises(FormatError, match=message) as error:
            call()
        assert "\n" not in str(error.value)
