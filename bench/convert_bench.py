"""Benchmark: convert the 608×608 YOLOv2 Darknet weights (50,983,561 random floats) to a model directory.

Times, in this one process and in alternation (medians of ``--runs`` rounds after a warm-up): ``convert``
(parse the cfg, build a skeleton model, stream the weights into its Keras weights file, write the
directory), ``np.fromfile`` of the same file, and ``np.fromfile`` plus writing the floats with h5py —
the floor of any conversion. Then each one's peak resident memory during one run, in a fresh child
process apiece; the converter's imports (TensorFlow included) are measured apart as a baseline.

    .venv/bin/python bench/convert_bench.py [--runs 7]

Not a test: numbers depend on the machine. Uses ~0.6 GB in the temporary directory.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_seconds

MB = 1024 * 1024
FLOATS = 50_983_561


def read(weights):
    import numpy as np

    floats = np.fromfile(weights, np.float32, offset=20)
    assert floats.size == FLOATS
    return floats


def read_and_write(weights, out):
    """The floor of a conversion: read the file, write its floats to HDF5."""
    import h5py

    with h5py.File(out, "w") as file:
        file.create_dataset("floats", data=read(weights))
    os.remove(out)


def convert_once(cfg, weights, out):
    from yad2k_style.detection.yolo.convert import convert

    convert(cfg, weights, out)
    shutil.rmtree(out)


def peak_rss_kb():
    """This process's peak resident set: Linux's VmHWM (reset at exec, unlike ``ru_maxrss``, which a
    child inherits from its parent), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_mb(what, cfg, weights, workdir):
    """Peak RSS (MB) of a fresh process that does ``what`` once: ``baseline`` (import the converter),
    ``convert`` (import it and convert) or ``fromfile`` (NumPy alone)."""
    steps = {"baseline": ["import yad2k_style.detection.yolo.convert"],
             "convert": ["import yad2k_style.detection.yolo.convert",
                         f"b.convert_once({str(cfg)!r}, {str(weights)!r}, {str(Path(workdir) / 'm')!r})"],
             "fromfile": [f"b.read({str(weights)!r})"]}[what]
    script = "; ".join([f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})",
                        "import convert_bench as b", *steps, "print(b.peak_rss_kb())"])
    output = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout
    return int(output.strip().splitlines()[-1]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    from yad2k_style.assets import asset_path
    from yad2k_style.darknet import Header, parse_cfg, write_weights
    from yad2k_style.darknet.synthetic import random_convs

    with tempfile.TemporaryDirectory() as workdir:
        cfg = asset_path("yolov2.cfg")
        weights = Path(workdir) / "yolov2.weights"
        write_weights(weights, Header(), random_convs(parse_cfg(cfg)))
        size_mb = weights.stat().st_size / MB
        print(f"yolov2.weights: {size_mb:.1f} MB of random floats; medians of {args.runs} interleaved rounds")
        read_s, floor_s, convert_s = median_seconds(
            [lambda: read(weights), lambda: read_and_write(weights, Path(workdir) / "floats.h5"),
             lambda: convert_once(cfg, weights, Path(workdir) / "model")], args.runs)
        peaks = {what: peak_mb(what, cfg, weights, workdir) for what in ("baseline", "fromfile", "convert")}
    above = (peaks["convert"] - peaks["baseline"]) / size_mb
    print(f"np.fromfile:                     {read_s:.3f} s")
    print(f"np.fromfile + h5py write (floor): {floor_s:.3f} s")
    print(f"convert:                         {convert_s:.3f} s = {convert_s / floor_s:.2f}× the floor, "
          f"{convert_s / read_s:.1f}× np.fromfile")
    print(f"peak RSS: convert {peaks['convert']:.0f} MB, imports alone {peaks['baseline']:.0f} MB: "
          f"{above:.2f}× the file above the imports (np.fromfile in NumPy alone: {peaks['fromfile']:.0f} MB)")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"file_mb": size_mb, "runs": args.runs, "fromfile_s": read_s, "floor_s": floor_s,
             "convert_s": convert_s, "peak_mb": peaks, "peak_above_imports_x_file": above}, indent=1) + "\n")


if __name__ == "__main__":
    main()
