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
