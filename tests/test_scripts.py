"""The scripts in ``scripts/`` as a user meets them: ``--help`` answers before TensorFlow is imported
(all but train_detectors.py, whose choices come from the detectors' table), shows the whole description,
and no script prints TensorFlow's start-up lines."""

import subprocess
import sys
from pathlib import Path

import pytest

from yad2k_style.tensorflow_logs import NOISE

SCRIPTS = sorted((Path(__file__).parents[1] / "scripts").glob("*.py"))
#: A script's --help, run as ``python SCRIPT --help``; then whether TensorFlow was imported.
PROBE = ("import runpy, sys\nsys.argv = [sys.argv[1], '--help']\ntry:\n"
         "    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit:\n    pass\n"
         "print('tensorflow imported:', 'tensorflow' in sys.modules)\n")


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.stem for path in SCRIPTS])
def test_help_is_whole_quiet_and_quick(script):
    result = subprocess.run([sys.executable, "-c", PROBE, str(script)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    first_paragraph = " ".join(script.read_text().split('"""')[1].split("\n\n")[0].split())
    assert first_paragraph in " ".join(result.stdout.split())          # not cut mid-sentence
    assert "(issue" not in result.stdout
    assert [line for line in result.stderr.splitlines() if NOISE.match(line)] == []
    imported = result.stdout.splitlines()[-1] == "tensorflow imported: True"
    assert imported == (script.stem == "train_detectors")
