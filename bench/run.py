"""Run the benchmarks, one after another, each in a process of its own: ``run.py [NAME ...]``.

Every script prints the same tables (``timing.print_table``: each path's median time, its ratio to
the peer's in the same process, its items per second). ``--quick`` gives each fewer rounds.

    .venv/bin/python bench/run.py                  # all: yolo, convert, face, style, sliding-window …
    .venv/bin/python bench/run.py face style --quick
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: name → (script, its arguments for --quick)
BENCHMARKS = {
    "yolo": ("yolo_inference.py", ["--runs", "3", "--no-memory", "--no-detect", "--json", "/dev/null"]),
    "convert": ("convert_bench.py", ["--runs", "3"]),
    "face": ("face_bench.py", ["--runs", "3"]),
    "style": ("style_step_bench.py", ["--runs", "3", "--size", "200"]),
    "sliding-window": ("sliding_window_bench.py", ["--runs", "3"]),
    "detectors": ("detectors.py", ["--scenes", "50", "--images", "10", "--plot", "", "--json", ""]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="fewer rounds each (a smoke run)")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    failed = []
    for name in args.names or BENCHMARKS:
        script, quick = BENCHMARKS[name]
        print(f"=== {name}: {script}", flush=True)
        cause = run_showing_stderr([sys.executable, str(HERE / script), *(quick if args.quick else [])])
        if cause is not None:
            failed.append(f"{name} ({cause})")
        print(flush=True)
    if failed:
        sys.exit("failed: " + "; ".join(failed))


def run_showing_stderr(argv):
    """Run ``argv``, passing its output on as it comes; None when it succeeds, else the last line it
    wrote to stderr (a traceback's last line names the cause)."""
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, errors="replace")
    last = ""
    for line in process.stderr:
        sys.stderr.write(line)
        last = line.strip() or last
    return None if process.wait() == 0 else last or f"exit code {process.returncode}"


if __name__ == "__main__":
    main()
