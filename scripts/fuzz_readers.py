"""Fuzz the file readers for a long time: the properties of tests/hostile/test_fuzz_readers.py
with random seeds and as many examples per reader as asked, failures kept in .hypothesis/ to replay:

    python scripts/fuzz_readers.py --examples 100000            # every reader
    python scripts/fuzz_readers.py --examples 20000 -k coco     # the readers whose test name has "coco"

Prints, per reader, the examples run and the time taken (pytest's hypothesis statistics).
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests" / "hostile" / "test_fuzz_readers.py"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100_000, help="examples per reader (default 100000)")
    parser.add_argument("-k", dest="select", help="only the readers whose test name matches (pytest's -k)")
    args = parser.parse_args()
    if args.examples < 1:
        parser.error("--examples must be at least 1")
    environment = {**os.environ, "FUZZ_PROFILE": "long", "FUZZ_EXAMPLES": str(args.examples)}
    command = [sys.executable, "-m", "pytest", str(TESTS), "-q", "-p", "no:cacheprovider",
               "--hypothesis-show-statistics", "--durations=0", *(["-k", args.select] if args.select else [])]
    return subprocess.call(command, env=environment)


if __name__ == "__main__":
    sys.exit(main())
