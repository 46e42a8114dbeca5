"""The ``yad2k-style`` command, run in-process through its ``main``."""

import argparse
import os

from yad2k_style import cli
from yad2k_style.summary import reference_table_path


def test_summary_yolov2_matches_course_table(capsys):
    assert cli.main(["summary", "yolov2"]) == 0
    out = capsys.readouterr().out
    assert "conv2d_23 (Conv2D)" in out
    assert out.rstrip().endswith("matches the course table: 75/75 layers, 50,983,561 params")


def test_summary_reports_altered_reference(tmp_path, capsys):
    text = reference_table_path().read_text().replace(
        "conv2d_22\tConv2D\t(None, 19, 19, 1024)\t11796480",
        "conv2d_22\tConv2D\t(None, 19, 19, 512)\t11796480")
    altered = tmp_path / "altered.tsv"
    altered.write_text(text)
    assert cli.main(["summary", "yolov2", "--reference", str(altered)]) == 1
    out = capsys.readouterr().out
    assert "layer conv2d_22: output_shape is (None, 19, 19, 1024), table has (None, 19, 19, 512)" in out
    assert "matches" not in out


def test_summary_leaves_the_environment_alone(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert cli.main(["summary", "darknet19"]) == 0
    assert "COLUMNS" not in os.environ
    monkeypatch.setenv("COLUMNS", "77")
    assert cli.main(["summary", "darknet19"]) == 0
    assert os.environ["COLUMNS"] == "77"
    capsys.readouterr()


def long_name(option_strings):
    """An option's first long name (``--output`` of ``-o, --output, --out``), else its only one."""
    return next((name for name in option_strings if name.startswith("--")), option_strings[0])


def help_entries(parser):
    """Each option's entry in ``parser``'s help output: ``{"--name": "its help text"}``."""
    entries, current = {}, None
    section = parser.format_help().split("\noptions:\n", 1)[1]
    for line in section.splitlines():
        if line.startswith("  -"):  # "  -o FILE, --output FILE, --out FILE  help": names, then the help
            head, _, text = line[2:].partition("  ")
            current = long_name([piece.split(" ")[0] for piece in head.split(", ")])
            entries[current] = text.strip()
        elif current:
            entries[current] += " " + line.strip()
    return entries


def all_parsers(parser, name="yad2k-style"):
    """``(name, parser)`` for the command and every subcommand, nested groups (``face enroll``) too."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child, subparser in action.choices.items():
                yield from all_parsers(subparser, f"{name} {child}")


def test_every_option_has_help_with_its_default():
    parser = cli.build_parser()
    assert "argument parsing" not in parser.format_help()       # a user's description, not a docstring
    for name, subparser in all_parsers(parser):
        entries = help_entries(subparser)
        options = {long_name(a.option_strings) for a in subparser._actions if a.option_strings}
        assert set(entries) == options, name
        for option, text in entries.items():
            if option not in ("--help", "--version"):
                assert "default" in text or "(required)" in text, f"{name} {option}: {text!r}"


def test_summary_without_reference(capsys):
    assert cli.main(["summary", "yolov2-tiny"]) == 0
    assert "yolov2-tiny: 32 layers, 11,237,145 params" in capsys.readouterr().out


def test_bad_reference_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("conv2d_1\tConv2D\n")
    assert cli.main(["summary", "yolov2", "--reference", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"yad2k-style: error: {bad}:1: expected 5 tab-separated fields, found 2"]


def test_closed_output_pipe_is_no_traceback():
    """`yad2k-style models | head -0`: the reader is gone before the first line; exit 141, stderr empty."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "yad2k_style", "models"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141 and err == b""
