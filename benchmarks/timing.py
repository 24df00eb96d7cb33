"""Shared by the benchmark scripts: the best wall time of a few repeats."""
from __future__ import annotations

import time


def best(fn, repeats: int):
    """(best wall time in s of ``repeats`` calls of ``fn``, the last call's result)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out
