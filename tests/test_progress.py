"""Progress: a bar on a terminal only, and a failure never leaves a half-drawn line."""

import io
import sys

import pytest

from yad2k_style.progress import Progress, fit_verbosity, is_terminal


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_on_a_terminal_ends_its_line_when_the_work_fails(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert is_terminal() and fit_verbosity() == 1
    with pytest.raises(RuntimeError), Progress(10, "float") as bar:
        bar.update(3)
        raise RuntimeError("truncated file")
    written = terminal.getvalue()
    assert "3/10" in written and written.endswith("\n")


def test_nothing_but_plain_lines_elsewhere(monkeypatch):
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stdout", plain)
    assert not is_terminal() and fit_verbosity() == 2
    with pytest.raises(RuntimeError), Progress(10, "float") as bar:
        bar.update(3)
        bar.clear()
        raise RuntimeError("truncated file")
    assert plain.getvalue() == ""


def test_metrics_show_their_current_value(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    with Progress(2, "step", metrics=("J",)) as bar:
        bar.update(1, [("J", 5.0)])
        bar.update(2, [("J", 3.0)])
    last = terminal.getvalue().rsplit("\r", 1)[-1]
    assert "2/2" in last and "J: 3.0000" in last  # not the running mean, 4.0
