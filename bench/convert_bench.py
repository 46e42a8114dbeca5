"""Benchmark: convert the 608×608 YOLOv2 Darknet weights (50,983,561 random floats) to Keras.

Reports the median wall time of ``yad2k_style.darknet.convert`` (parse, read, build, set weights,
write the directory), of ``np.fromfile`` on the same file and of that plus writing the floats with
h5py (a conversion's floor), the ratios, and each one's peak
resident memory during its first run (each in a fresh child process; the converter's imports,
TensorFlow included, are measured apart as a baseline).

    .venv/bin/python bench/convert_bench.py [--runs 3]

Not a test: numbers depend on the machine. Uses ~0.4 GB in the temporary directory.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024 * 1024


def measure(what, cfg, weights, runs, workdir):
    """In this (child) process: time ``what`` ``runs`` times; print seconds and peak RSS as JSON."""
    import numpy as np

    if what not in ("fromfile", "read+write"):
        import keras

        from yad2k_style.yolo.convert import convert
    seconds, peak_kb = [], peak_rss_kb()
    for run in range(runs if what != "baseline" else 0):
        start = time.perf_counter()
        if what in ("fromfile", "read+write"):
            floats = np.fromfile(weights, np.float32, offset=20)
            assert floats.size == 50_983_561
            if what == "read+write":  # the floor of a conversion: read the file, write its bytes to HDF5
                import h5py

                with h5py.File(Path(workdir) / "floats.h5", "w") as file:
                    file.create_dataset("floats", data=floats)
            del floats
        else:
            convert(cfg, weights, Path(workdir) / "out")
        seconds.append(time.perf_counter() - start)
        if run == 0:
            peak_kb = peak_rss_kb()  # one conversion's peak, not the runs' accumulated garbage
        if what == "convert":
            keras.backend.clear_session()
            shutil.rmtree(Path(workdir) / "out")
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb * 1024 / MB}))


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


def child(what, cfg, weights, runs, workdir):
    output = subprocess.run(
        [sys.executable, __file__, "--child", what, str(cfg), str(weights), str(runs), str(workdir)],
        check=True, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, cfg, weights, runs, workdir = args.child
        measure(what, cfg, weights, int(runs), workdir)
        return

    from yad2k_style.assets import asset_path
    from yad2k_style.darknet import Header, parse_cfg, write_weights
    from yad2k_style.darknet.synthetic import random_convs

    with tempfile.TemporaryDirectory() as workdir:
        cfg = asset_path("yolov2.cfg")
        weights = Path(workdir) / "yolov2.weights"
        write_weights(weights, Header(), random_convs(parse_cfg(cfg)))
        size_mb = weights.stat().st_size / MB
        print(f"yolov2.weights: {size_mb:.1f} MB of random floats; {args.runs} runs each")
        kinds = ("fromfile", "read+write", "baseline", "convert")
        results = {what: child(what, cfg, weights, args.runs, workdir) for what in kinds}
    fromfile, floor, baseline, convert = (results[k] for k in kinds)
    read_s, convert_s = statistics.median(fromfile["seconds"]), statistics.median(convert["seconds"])
    floor_s = statistics.median(floor["seconds"])
    print(f"np.fromfile: median {read_s:.3f} s, peak RSS {fromfile['peak_mb']:.0f} MB (NumPy only)")
    print(f"np.fromfile + h5py write of the same floats: median {floor_s:.3f} s")
    print(f"convert:     median {convert_s:.3f} s, peak RSS {convert['peak_mb']:.0f} MB "
          f"(imports alone: {baseline['peak_mb']:.0f} MB)")
    print(f"ratio convert / (read + h5py write): time {convert_s / floor_s:.2f}×")
    print(f"ratio convert / np.fromfile: time {convert_s / read_s:.1f}×, "
          f"peak memory above the imports {(convert['peak_mb'] - baseline['peak_mb']) / size_mb:.1f}× "
          f"the file size")


if __name__ == "__main__":
    main()
