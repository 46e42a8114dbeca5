"""The mistakes a new user makes, through ``main(argv)`` in-process: each gets exit code 2 and one line
on stderr that says what is wrong (and, where it helps, what to do), and leaves no output behind."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from yad2k_style import cli
from yad2k_style.assets import asset_path
from yad2k_style.detection.yolo import embedded

SHAPES_CFG, SHAPES_WEIGHTS = (str(asset_path(name)) for name in (embedded.CFG_FILE, embedded.WEIGHTS_FILE))


@pytest.fixture(scope="module")
def files(tmp_path_factory, shapes_dataset):
    """An image, a labelled dataset, an empty one (layout but no images), a plain file, a folder."""
    root = tmp_path_factory.mktemp("mistakes")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 80, 3), np.uint8)).save(root / "img.png")
    shapes_dataset(root / "ds", count=4)
    (root / "empty" / "images").mkdir(parents=True)
    (root / "empty" / "labels").mkdir()
    (root / "empty" / "classes.txt").write_text("a\n")
    (root / "file.txt").write_text("not a folder\n")
    (root / "folder").mkdir()
    (root / "huge.png").write_bytes(png_header(12000, 8000))
    return root


def png_header(width, height):
    """A PNG that says it has ``width``×``height`` pixels (a 1×1 PNG with its header rewritten): Pillow
    reads the size, and would fail only when decoding."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    chunk = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = chunk
    data[29:33] = struct.pack(">I", zlib.crc32(chunk))
    return bytes(data)


def fails(argv, files, capsys, message):
    """``main(argv)`` (``F/`` is the files folder) exits 2 with one stderr line ending in ``message``."""
    code = cli.main([arg.replace("F/", f"{files}/") for arg in argv])
    captured = capsys.readouterr()
    message = message.replace("F/", f"{files}/")
    lines = captured.err.splitlines()
    assert code == 2 and len(lines) == 1, captured.err
    assert lines[0].startswith("yad2k-style: error: ") and lines[0].endswith(message), lines[0]
    return captured.out


@pytest.mark.parametrize("argv, message", [
    (["export", SHAPES_CFG, "F/out.cfg", "F/out.weights"],
     f"{SHAPES_CFG}: is a file; export needs a model directory (written by convert or train)"),
    (["export", "yolov2-shapes", "F/out.cfg"],
     "export --format darknet writes CFG and WEIGHTS: give 2 output paths, got 1"),
    (["export", "yolov2-shapes", "--format", "tflite", "F/a", "F/b"],
     "export --format tflite writes FILE: give 1 output path, got 2"),
    (["export", "yolov2-shapes", "--format", "savedmodel", "F/folder"],
     "F/folder: already exists; give a new output directory"),
    (["export", "yolov2-shapes", "--format", "tflite", "F/no/x.tflite"],
     "tflite F/no/x.tflite: directory F/no does not exist"),
    (["export", "yolov2-shapes", "--format", "savedmodel", "F/new", "--max-boxes", "0"],
     "--max-boxes must be at least 1, got 0"),
    (["export", "yolov2-shapes", "--format", "savedmodel", "F/new", "--calibration", "F/ds"],
     "--calibration goes with --format tflite (int8)"),
    (["detect", "F/img.png", "--calibration", "F/ds"], "--calibration goes with --precision int8"),
    (["evaluate", "F/ds", "--precision", "int8"],
     "--precision int8 needs --calibration PATH: images like the dataset's"),
    (["detect", "--model", "yolov2-shapes", "--precision", "int8"],
     "--precision int8 needs --calibration PATH: images like those the model will see"),
    (["train", "F/empty", "--out", "F/run"], "F/empty: no labelled images in this dataset"),
    (["anchors", "F/empty"], "F/empty: no labelled images in this dataset"),
    (["anchors", "F/ds", "-k", "500"], "clustering 500 anchors needs at least 500 boxes with positive size; "
                                       "the dataset has 15"),
    (["anchors", "F/ds", "-k", "0"], "-k must be at least 1, got 0"),
    (["anchors", "F/ds", "--input-size", "100", "100"], "--input-size must be two positive multiples of 32 "
                                                        "(height width), got 100 100"),
    (["train", "F/ds", "--out", "F/run", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["train", "F/ds", "--out", "F/run", "--model", "yolov2-shapes", "--input-size", "100", "100"],
     "--input-size must be two positive multiples of 32 (height width), got 100 100"),
    (["train", "F/ds", "--out", "F/run", "--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["train", "F/ds", "--out", "F/run", "--learning-rate", "-1"],
     "--learning-rate must be positive, got -1.0"),
    (["train", "F/ds", "--out", "F/file.txt"], "--out F/file.txt: exists and is not a directory"),
    (["detect", "F/img.png", "--out", "F/file.txt"], "--out F/file.txt: exists and is not a directory"),
    (["detect", "F/img.png", "--json", "F/folder"], "--json F/folder: is a directory; give a file name"),
    (["evaluate", "--json", "F/folder"], "--json F/folder: is a directory; give a file name"),
    (["evaluate", "--scenes", "0"], "--scenes must be at least 1, got 0"),
    (["detect", "F/img.png", "--model", "yolov2-tiny.cfg"],
     "yolov2-tiny.cfg: a Darknet file goes with --cfg FILE --weights FILE; --model takes a model directory, "
     "a .keras file or a registered name"),
    (["detect", "F/img.png", "--model", "yolov2"], "convert them with `yad2k-style convert`"),
    (["convert", SHAPES_WEIGHTS, SHAPES_CFG, "F/converted"],  # where the UTF-8 decoding fails: the weights'
     "; is it a .weights file? are the cfg and weights swapped?"),
])
def test_mistake_is_one_line_and_exit_2(files, capsys, argv, message):
    fails(argv, files, capsys, message)
    assert not (files / "run").exists() and not (files / "converted").exists()
    assert sorted(p.name for p in files.iterdir()) == ["ds", "empty", "file.txt", "folder", "huge.png",
                                                        "img.png"]


def test_huge_image_is_one_clean_line(files, capsys, recwarn):
    """No Pillow warning before the error, and no claim that annotated images were written."""
    out = fails(["detect", "F/huge.png", "--out", "F/annotated"], files, capsys,
                "F/huge.png: image too large: 12000×8000 pixels (limit 89,478,485)")
    assert "annotated images" not in out and not (files / "annotated").exists()  # not even the folder
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]


def test_weights_given_first_suggests_swapping(files, capsys):
    classes = str(asset_path(embedded.CLASSES_FILE))
    fails(["convert", SHAPES_CFG, SHAPES_CFG, "F/converted", "--classes", classes], files, capsys,
          "it looks like a .cfg: are the cfg and weights swapped?")


def test_class_names_messages_name_what_to_do(files, capsys, tmp_path):
    from yad2k_style.detection.yolo.sources import read_yolo_darknet
    from yad2k_style.errors import YadError

    with pytest.raises(YadError, match=r"has 3 classes, which have no default names; give a class-names file "
                                       r"\(--classes FILE on the command line, classes_path in Python\)"):
        read_yolo_darknet(SHAPES_CFG, SHAPES_WEIGHTS)
    (files / "ds" / "classes.txt").write_text("disc\nbox\nwedge\n")
    try:
        fails(["evaluate", "F/ds", "--plot", ""], files, capsys,
              "if they are the same classes under other names, give the dataset's names as the model's "
              "(--classes FILE)")
    finally:
        (files / "ds" / "classes.txt").write_text("circle\nsquare\ntriangle\n")
