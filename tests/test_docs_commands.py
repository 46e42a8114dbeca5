"""Every command of the README and of ``docs/`` runs as written.

The fenced ``bash`` blocks (every line a command) and ``console`` blocks (the ``$ `` lines) of each page
run in order, in a folder holding the files the commands name (made here, nothing downloaded). A block
preceded by ``<!-- slow: why -->`` runs in the slow tests (``pytest -m slow``); one preceded by
``<!-- long: why -->`` (a download, a service, hours of training) is not run. ``yad2k-style`` runs in
this process (``cli.main``): the exit code must be 0, or 2 where the page shows the error line that
follows. ``python`` runs in a subprocess. A pipe's right side (``| tail -2``) is shown, not run. The
output a page shows under a command is the command's: each line of it must be a line the command
printed (a line with "…" stands for what is left out, and is not compared).
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_cfg
from PIL import Image

from yad2k_style import artifacts, cli
from yad2k_style.assets import asset_path
from yad2k_style.darknet import Header, parse_cfg, write_weights
from yad2k_style.darknet.synthetic import random_convs
from yad2k_style.darknet.zoo import zoo_cfg
from yad2k_style.detection.labels import LabelledDataset, Sample, write_voc, write_yolo
from yad2k_style.detection.synthetic import SHAPE_CLASSES, scenes
from yad2k_style.detection.yolo import embedded
from yad2k_style.face.openface import export_openface_csv
from yad2k_style.face.samples import sample_paths

ROOT = Path(__file__).parents[1]
PAGES = ["README.md", *sorted(f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^(?:<!-- (long|slow): [^\n]*-->\n)?```(bash|console)\n(.*?)^```", re.S | re.M)
PROGRAMS = {"yad2k-style", ".venv/bin/yad2k-style"}
PYTHONS = {"python", "python3", ".venv/bin/python"}


def page_commands(page, tier=None):
    """``[(line number, command, expected exit code, output lines shown)]`` of the blocks of ``page``
    whose marker is ``tier`` (None: no marker; ``"slow"``)."""
    text = (ROOT / page).read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        if match.group(1) != tier:
            continue
        first = text.count("\n", 0, match.start(3)) + 1
        lines = match.group(3).splitlines()
        for number, line in enumerate(lines):
            if match.group(2) == "console" and not line.startswith("$ "):
                continue
            command = line.removeprefix("$ ")
            following = number + 1
            while command.endswith("\\"):
                command = command[:-1] + lines[following].strip()
                following += 1
            if not command.strip() or command.lstrip().startswith("#"):
                continue
            shown = []
            while match.group(2) == "console" and following < len(lines) and \
                    not lines[following].startswith("$ "):
                shown.append(lines[following].rstrip())
                following += 1
            failing = bool(shown) and "error:" in shown[0]
            compared = [line for line in shown if "…" not in line]
            found.append((first + number, command, 2 if failing else 0, compared))
    return found


def run_command(command, expected, shown, capsys):
    """Run one documented command line in the current folder; assert its exit code and that every line
    of ``shown`` is a line of its output (stdout and stderr)."""
    printed = ""
    for part in command.split("&&"):
        words = []
        for word in shlex.split(part.split(" | ")[0], comments=True):  # a shell's globbing
            words += (sorted(glob.glob(word)) or [word]) if "*" in word else [word]
        if words[:2] == ["mkdir", "-p"]:
            for folder in words[2:]:
                Path(folder).mkdir(parents=True, exist_ok=True)
        elif words[0] in PROGRAMS:
            try:
                code = cli.main(words[1:])
            except SystemExit as exit_:
                code = exit_.code
            output = capsys.readouterr()
            assert (code or 0) == expected, f"{command!r} exited {code}: {output.err[-2000:]}"
            printed = output.out + output.err
        elif words[0] in PYTHONS:
            result = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True, timeout=300)
            assert result.returncode == expected, f"{command!r}: {result.stderr[-2000:]}"
            printed = result.stdout + result.stderr
        else:
            pytest.fail(f"{command!r}: not a command this test runs; mark its block <!-- long: why -->")
    lines = {line.rstrip() for line in printed.splitlines()}
    missing = [line for line in shown if line and line not in lines]
    if os.environ.get("DOCS_SHOW"):  # DOCS_SHOW=1 pytest -s …: what each command printed, to copy
        absent = f"NOT PRINTED: {missing}\n" if missing else ""
        print(f"$ {command}\n{printed}{absent}", file=sys.__stdout__)
        return
    assert not missing, f"{command!r}: the page shows lines it did not print: {missing}"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A folder holding every file the pages' commands name."""
    folder = tmp_path_factory.mktemp("docs_files")
    drawn = scenes(seed=31, count=6)
    for name, scene in zip(("street.jpg", "photo.jpg", "photo.png", "starry_night.jpg"), drawn, strict=False):
        scene.image.resize((256, 256)).save(folder / name)
    (folder / "photos").mkdir()
    for index, scene in enumerate(drawn[4:]):
        scene.image.save(folder / "photos" / f"scene_{index}.png")
    cfg = write_cfg(folder, "yolov2", size=128)                      # yolov2.cfg, random weights
    write_weights(folder / "yolov2.weights", Header(), random_convs(parse_cfg(cfg), seed=1))
    for name, size in (("yolov3-tiny", 96), ("darknet9000", 64)):           # Darknet's, smaller, random
        text = re.sub(r"(?m)^(width|height)=\d+$", rf"\g<1>={size}", zoo_cfg(name).read_text())
        (folder / f"{name}.cfg").write_text(text)
        zoo = parse_cfg(folder / f"{name}.cfg")
        write_weights(folder / f"{name}.weights", Header(), random_convs(zoo, seed=1))
    shutil.copy(asset_path(embedded.CFG_FILE), folder / "mine.cfg")
    shutil.copy(asset_path(embedded.WEIGHTS_FILE), folder / "mine.weights")
    samples = []
    for index, scene in enumerate(drawn):
        path = folder / "images" / f"{index}.png"
        path.parent.mkdir(exist_ok=True)
        scene.image.save(path)
        samples.append(Sample(path, 128, 128, scene.boxes, scene.classes))
    dataset = LabelledDataset(samples, list(SHAPE_CLASSES))
    shutil.copytree(folder / "images", folder / "DATASET" / "images")
    write_yolo(dataset, folder / "DATASET")
    shutil.copytree(folder / "images", folder / "VOCDIR" / "JPEGImages")
    write_voc(dataset, folder / "VOCDIR")
    people = sample_paths()
    (folder / "faces").mkdir()
    for path in (path for paths in people.values() for path in paths):
        shutil.copy(path, folder / "faces" / path.name)
    first, second = list(people.values())[:2]
    for name, source in (("younes1.jpg", first[0]), ("younes2.jpg", first[1]), ("camera_0.jpg", first[2]),
                         ("camera_1.jpg", second[0])):
        Image.open(source).convert("RGB").save(folder / name)
    pairs = [(a, b, 1) for paths in people.values() for a, b in zip(paths, paths[1:], strict=False)]
    names = list(people)
    pairs += [(people[a][0], people[b][0], 0) for a, b in zip(names, names[1:], strict=False)]
    (folder / "pairs.txt").write_text("".join(f"{a} {b} {same}\n" for a, b, same in pairs))
    model = artifacts.load_artifact(asset_path("face")).model
    export_openface_csv(model, folder / "openface")                  # the packaged model, as OpenFace CSV
    return folder


def test_every_page_has_commands_or_none_marked():
    counted = {page: len(page_commands(page)) for page in PAGES}
    assert counted["README.md"] >= 8 and counted["docs/detection.md"] >= 5, counted


def run_page(page, tier, files, tmp_path, monkeypatch, capsys):
    """Run the commands of ``page``'s blocks of ``tier`` in order, in a copy of ``files``."""
    work = tmp_path / "work"
    shutil.copytree(files, work)
    monkeypatch.chdir(work)
    for number, command, expected, shown in page_commands(page, tier):
        try:
            run_command(command, expected, shown, capsys)
        except AssertionError as exc:
            raise AssertionError(f"{page}:{number}: {exc}") from None


@pytest.mark.parametrize("page", PAGES)
def test_page_commands_run(page, files, tmp_path, monkeypatch, capsys):
    run_page(page, None, files, tmp_path, monkeypatch, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("page", [page for page in PAGES if page_commands(page, "slow")])
def test_slow_page_commands_run(page, files, tmp_path, monkeypatch, capsys):
    run_page(page, "slow", files, tmp_path, monkeypatch, capsys)


def slug(heading):
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", PAGES)
def test_links_resolve(page):
    """Every relative link and image of a page names a file that exists, and an anchor that its page has."""
    text = (ROOT / page).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links or page.startswith("docs/benchmarks"), "a page links somewhere"
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        target, _, anchor = link.partition("#")
        path = (ROOT / page).parent / target if target else ROOT / page
        assert path.exists(), f"{page}: {link} does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.*)$", path.read_text(encoding="utf-8"), re.M)
            assert anchor in {slug(h) for h in headings}, f"{page}: {link}: no such heading"
