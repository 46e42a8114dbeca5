"""The house's rules: which rooms of the package may import which, and a command line that answers
``--help`` without importing TensorFlow."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "yad2k_style"
SHARED = {"errors", "files", "assets", "images", "boxes", "drawing", "layers", "netspec", "summary",
          "progress", "plotting", "winograd", "inference", "quantize", "weights_file"}
#: room → the rooms it may import (besides itself). Arrows point one way:
#: cli → domains → registry / training / artifacts / darknet (the format) → shared utilities.
ALLOWED = {
    "__main__": {"cli"},
    "__init__": set(),
    "cli": {"registry", "artifacts", "yolo", "detection", "face", "style", "foundations"} | SHARED,
    "style": {"registry"} | SHARED,
    "foundations": {"registry", "training", "artifacts", "yolo"} | SHARED,
    "face": {"registry", "training", "artifacts"} | SHARED,
    "yolo": {"registry", "training", "artifacts", "darknet"} | SHARED,
    "detection": {"registry", "training", "artifacts", "yolo"} | SHARED,
    "artifacts": {"registry", "training", "darknet"} | SHARED,
    "training": SHARED,
    "registry": {"errors"},
    "darknet": SHARED,
    **{room: SHARED for room in SHARED},
}


def room(module):
    """``yad2k_style.yolo.detector`` → ``yolo``; ``yad2k_style.files`` → ``files``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def package_imports():
    """``(importing file, importing room, imported module)`` for every ``yad2k_style`` import in the
    package, at module level or inside functions."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        own = room(".".join(relative.parts))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}: use absolute imports"
                names = [node.module] if node.module != "yad2k_style" else [
                    f"yad2k_style.{alias.name}" for alias in node.names]
            else:
                continue
            found += [(relative, own, name) for name in names if name.startswith("yad2k_style")]
    return found


def test_every_room_is_in_the_table():
    rooms = {room(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
             for p in PACKAGE.rglob("*.py")}
    assert rooms - {"data"} <= set(ALLOWED), "add the new room to ALLOWED"


def test_imports_point_one_way():
    wrong = [f"{path}: {own} imports {name}" for path, own, name in package_imports()
             if room(name) != own and room(name) not in ALLOWED[own]]
    assert wrong == []
    assert any(own == "cli" and room(name) == "yolo" for _, own, name in package_imports())  # not vacuous


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
