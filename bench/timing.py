"""Timing shared by the benchmarks: medians of runs, the peers timed in alternation."""

import statistics
import time


def median_seconds(functions, runs):
    """The median seconds of each function in ``functions`` over ``runs`` calls, after one warm-up
    call each (tracing, caches); the functions take turns, so a change in the machine's load hits
    all of them alike."""
    for function in functions:
        function()
    times = [[] for _ in functions]
    for _ in range(runs):
        for function, spent in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def print_table(title, seconds, peer, *, items=None, extra=None):
    """Print one benchmark table, the same in every script: a line per path of ``seconds`` (path →
    median seconds; the first line is the package's path), its milliseconds, its ratio to the ``peer``
    path's time (below 1: faster), ``items / seconds`` per second when ``items`` (images, queries… per
    call) is given, and ``extra`` columns (``{column: {path: text}}``)."""
    extra = extra or {}
    print(f"\n{title}")
    print(f"  {'path':<26}{'ms':>10}{'vs ' + peer:>{max(12, len(peer) + 5)}}"
          + (f"{'per s':>10}" if items else "") + "".join(f"{column:>12}" for column in extra))
    for path, spent in seconds.items():
        print(f"  {path:<26}{spent * 1e3:>10.2f}{spent / seconds[peer]:>{max(12, len(peer) + 5) - 1}.2f}x"
              + (f"{items / spent:>10.1f}" if items else "")
              + "".join(f"{values.get(path, ''):>12}" for values in extra.values()))
