"""The house's rules: which rooms of the package may import which, and a command line that answers
``--help`` without importing TensorFlow."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "yad2k_style"
SHARED = {"errors", "files", "assets", "images", "boxes", "drawing", "layers", "netspec", "summary",
          "progress", "plotting", "winograd", "inference", "quantize", "weights_file", "tensorflow_logs",
          "runtimes"}
DOMAINS = {"detection", "detection.yolo", "classification", "segmentation", "face", "style", "foundations"}
#: room → the rooms it may import (besides itself). Arrows point one way:
#: cli → zoo → domains → registry / training / artifacts / darknet (the format) → shared utilities.
#: Inside detection: the YOLO family (``detection.yolo``) → the detection room's shared pieces; nothing
#: but the command line imports the YOLO family, and nothing at all imports ``yolo``, the course's names
#: re-exported for users.
ALLOWED = {
    "__main__": {"cli"},
    "__init__": set(),
    # __init__: __version__
    "cli": {"__init__", "registry", "artifacts", "zoo", "exports"} | DOMAINS | SHARED,
    "exports": {"registry", "artifacts", "detection.yolo"} | SHARED,
    "zoo": {"registry", "artifacts", "training", "detection", "segmentation"} | SHARED,
    "yolo": {"detection.yolo"},
    "detection.yolo": {"registry", "training", "artifacts", "darknet", "detection"} | SHARED,
    "detection": {"registry", "training", "artifacts"} | SHARED,
    "segmentation": {"registry", "training", "artifacts", "detection"} | SHARED,
    "style": {"registry"} | SHARED,
    "classification": {"registry", "artifacts", "darknet"} | SHARED,
    "foundations": {"registry", "training", "artifacts", "darknet", "detection"} | SHARED,
    "face": {"registry", "training", "artifacts"} | SHARED,
    "artifacts": {"registry", "training", "darknet"} | SHARED,
    "training": SHARED,
    "registry": {"errors"},
    "darknet": SHARED,
    **{room: SHARED for room in SHARED},
}


def room(module):
    """``yad2k_style.detection.yolo.model`` → ``detection.yolo``; ``yad2k_style.detection.ssd`` →
    ``detection``; ``yad2k_style.files`` → ``files``."""
    parts = module.split(".")
    if parts[1:3] == ["detection", "yolo"]:
        return "detection.yolo"
    return parts[1] if len(parts) > 1 else "__init__"


def violations(imports):
    """The imports of ``(importing file, importing room, imported module)`` that break :data:`ALLOWED`."""
    return [f"{path}: {own} imports {name}" for path, own, name in imports
            if room(name) != own and room(name) not in ALLOWED[own]]


def package_imports(package=PACKAGE):
    """``(importing file, importing room, imported module)`` for every ``yad2k_style`` import in the
    package, at module level or inside functions."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).with_suffix("")
        own = room(".".join(relative.parts))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}: use absolute imports"
                names = [node.module] if node.module != "yad2k_style" else [  # a module, or the package's own
                    f"yad2k_style.{alias.name}" if (package / alias.name).is_dir()
                    or (package / f"{alias.name}.py").is_file() else "yad2k_style" for alias in node.names]
            else:
                continue
            found += [(relative, own, name) for name in names if name.startswith("yad2k_style")]
    return found


def test_every_room_is_in_the_table():
    rooms = {room(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
             for p in PACKAGE.rglob("*.py")}
    assert rooms - {"data"} <= set(ALLOWED), "add the new room to ALLOWED"


def test_imports_point_one_way():
    found = package_imports()
    assert violations(found) == []
    assert any(own == "cli" and room(name) == "detection.yolo" for _, own, name in found)  # not vacuous
    assert any(own == "foundations" and room(name) == "detection" for _, own, name in found)


@pytest.mark.parametrize(("importer", "imported"), [
    ("yad2k_style/foundations/objects.py", "yad2k_style.yolo"),
    ("yad2k_style/detection/evaluate.py", "yad2k_style.detection.yolo.embedded"),
    ("yad2k_style/detection/ssd.py", "yad2k_style.yolo.postprocess"),
    ("yad2k_style/segmentation/segmenter.py", "yad2k_style.detection.yolo.detector"),
    ("yad2k_style/zoo.py", "yad2k_style.detection.yolo"),
    ("yad2k_style/detection/detector.py", "yad2k_style.segmentation.masks"),
    ("yad2k_style/cli/detection.py", "yad2k_style.yolo"),
])
def test_an_injected_import_fails(tmp_path, importer, imported):
    """The check reads the package's files: a copy with one forbidden import added fails it."""
    import shutil

    copy = tmp_path / "yad2k_style"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / Path(importer).relative_to("yad2k_style")
    target.write_text(f"import {imported}\n" + target.read_text())
    wrong = violations(package_imports(copy))
    own = room(importer.removesuffix(".py").replace("/", "."))
    assert wrong == [f"{Path(importer).with_suffix('')}: {own} imports {imported}"]


def test_darknet_knows_nothing_of_detection():
    assert [name for _, own, name in package_imports() if own == "darknet" and room(name) != "darknet"
            and room(name) not in SHARED] == []
    assert "coco" not in "".join(p.read_text().lower() for p in (PACKAGE / "darknet").glob("*.py"))


@pytest.mark.parametrize("argv", [["--help"], ["detect", "--help"], ["train", "--help"],
                                  ["stylize", "--help"], ["models"]])
def test_command_line_without_tensorflow(argv):
    """``--help`` of the command and its subcommands, and ``models``, never import TensorFlow."""
    script = ("import sys\nfrom yad2k_style.cli import main\ntry:\n    code = main(sys.argv[1:])\n"
              "except SystemExit as exit:\n    code = exit.code\n"
              "print('tensorflow' in sys.modules, 'keras' in sys.modules, code)\n")
    result = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == "False False 0", result.stderr[-2000:]
    assert "usage: yad2k-style" in result.stdout or argv == ["models"]
