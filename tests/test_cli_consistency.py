"""What a new user met in a fresh clone (issue 35): one name per idea, descriptions, ``--version``,
model names, options that were silently ignored or nonsense accepted, inputs checked before output."""

import shutil

import pytest

from yad2k_style import __version__, cli
from yad2k_style.detection import evaluate as evaluation
from yad2k_style.face.samples import sample_paths


def subcommands(parser=None, prefix=()):
    """``[(("face", "enroll"), parser), …]``: every subcommand and face action."""
    parser = parser or cli.build_parser()
    found = []
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for name, sub in action.choices.items():
            found += subcommands(sub, (*prefix, name)) if sub._subparsers else [((*prefix, name), sub)]
    return found


def test_every_subcommand_has_a_description():
    assert [" ".join(path) for path, sub in subcommands() if not sub.description] == []
    assert len(subcommands()) >= 19


def test_the_top_level_help_names_every_face_action(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for path, _ in subcommands():
        if path[0] == "face":
            assert path[1] in help_text, path


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"yad2k-style {__version__}\n"


def test_one_option_name_per_idea():
    """Files are ``-o``/``--output``, folders ``--out``, network inputs ``--input-size H W``."""
    for path, sub in subcommands():
        options = {option: action for action in sub._actions for option in action.option_strings}
        if "--output" in options:
            assert options["--output"].option_strings[:2] == ["-o", "--output"], path
        if "--out" in options and "--output" not in options:
            assert options["--out"].metavar == "DIR", path       # --out alone is always a folder
        if "--input-size" in options:
            assert options["--input-size"].nargs == 2, path
        assert "--size" not in options or options["--size"].dest in ("input_size", "long_side"), path


@pytest.mark.parametrize("argv", [["detect", "--model", "yolov9"], ["export", "yolov9", "a.cfg", "b.weights"],
                                  ["face", "identify", "--model", "facenet-nothing"]])
def test_a_name_neither_a_file_nor_registered_is_an_unknown_model(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"unknown model {argv[argv.index('--model') + 1] if '--model' in argv else argv[1]!r}" in err
    assert "yolov2-shapes" in err or "facenet-synthetic" in err   # the names, listed


def test_the_face_default_is_a_name_the_face_commands_take(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["face", "identify", "--model", "facenet-synthetic"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("100% of 12 sample queries identified")


def test_face_identify_takes_folders_and_refuses_a_grid_it_would_not_draw(tmp_path, capsys):
    people = sample_paths()
    folder = tmp_path / "queries"
    folder.mkdir()
    for paths in people.values():
        shutil.copy(paths[1], folder / paths[1].name)
    db = str(tmp_path / "faces.npz")
    for name, paths in people.items():
        assert cli.main(["face", "enroll", name, str(paths[0]), "--db", db]) == 0
    capsys.readouterr()
    assert cli.main(["face", "identify", str(folder), "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(people)
    assert all(line.split(": ")[1].split(" ")[0] == line.split("/")[-1].split("_")[0] for line in lines)
    assert cli.main(["face", "identify", str(folder), "--db", db, "--grid", str(tmp_path / "g.png")]) == 2
    assert "--grid" in capsys.readouterr().err and not (tmp_path / "g.png").exists()


def test_receptive_field_layer_alone_prints_its_row_and_size_is_input_size(capsys):
    argv = ["receptive-field", "yolov2-tiny", "--layer", "conv2d_9"]
    assert cli.main([*argv, "--input-size", "320", "416"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].split()[:6] == ["conv2d_9", "Conv2D", "10×13", "32", "318", "32"]
    assert cli.main([*argv, "--size", "320", "416"]) == 0
    assert capsys.readouterr().out.splitlines() == lines                    # the old name, an alias
    assert cli.main(["receptive-field", "yolov2-tiny", "--layer", "nope"]) == 2


def test_calibrate_refuses_more_folds_than_pairs(tmp_path, capsys):
    people = list(sample_paths().values())
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(f"{people[0][0]} {people[0][1]} 1\n{people[0][0]} {people[1][0]} 0\n")
    assert cli.main(["face", "calibrate", str(pairs), "--model", "runs/none", "--folds", "100"]) == 2
    assert capsys.readouterr().err.strip().endswith("has 2 pairs, so at most 2 folds")


def test_evaluate_store_refuses_a_threshold_no_box_earns(tmp_path, monkeypatch, capsys):
    """With F1 0 everywhere the "best" threshold is 1.000: storing it would make detect find nothing."""
    model = tmp_path / "model"
    from yad2k_style.assets import asset_path

    assert cli.main(["convert", str(asset_path("shapes/yolov2-shapes.cfg")),
                     str(asset_path("shapes/yolov2-shapes.weights")), str(model),
                     "--classes", str(asset_path("shapes/classes.txt"))]) == 0
    before = (model / "model.json").read_text()
    nothing = evaluation.BestF1(threshold=1.0, f1=0.0, precision=0.0, recall=0.0)
    monkeypatch.setattr(evaluation, "best_f1", lambda *args, **kwargs: (nothing, {}))
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", str(model), "--scenes", "2", "--plot", "", "--store"]) == 2
    assert "best F1 0" in capsys.readouterr().err and (model / "model.json").read_text() == before


def test_summary_checks_its_reference_before_printing(tmp_path, capsys):
    assert cli.main(["summary", "yolov2", "--reference", str(tmp_path / "missing.tsv")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "missing.tsv" in captured.err
