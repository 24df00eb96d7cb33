"""Compiled (numba) loops of the zonal engine. Pure array code: no files, no geometry.

Two kernels:

* :func:`label_runs` turns a block of rasterized zone labels into runs ``(row, start, end,
  label)`` of equal label, dropping the "outside every zone" value. Runs are how the engine
  caches zones: a district covers each raster row in a few runs, so the cache is tiny compared
  with a label raster and costs no decompression to use.
* :func:`count_runs` walks the runs of one strip of rows and counts, per zone, the class code
  of every pixel a run covers (``a * mul + b``: one date with ``mul = 0``, a change pair
  ``t0 * n_codes + t1`` with ``mul = n_codes``). Codes are mapped on the fly to compact slots
  (``lut[key]``) so a change matrix needs one column per pair that occurs, not ``n_codes**2``.
  When the slots run out the kernel stops and returns where it stopped; the caller grows the
  table and calls again from there, so no pixel is counted twice or skipped.

Both release the GIL (``nogil=True``): the engine runs them in threads beside GDAL's reads.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def label_runs(labels, row_offset, outside):  # pragma: no cover - compiled
    """Runs of equal label per row of a 2-D int array, skipping ``outside``.

    Returns ``(rows, starts, ends, values)``: ``rows`` absolute (``row_offset`` added),
    ``ends`` exclusive, in row-major order.
    """
    h, w = labels.shape
    n = 0
    for r in range(h):
        for c in range(w):
            v = labels[r, c]
            if v != outside and (c == 0 or v != labels[r, c - 1]):
                n += 1
    rows = np.empty(n, np.int64)
    starts = np.empty(n, np.int32)
    ends = np.empty(n, np.int32)
    values = np.empty(n, np.int32)
    k = 0
    for r in range(h):
        c = 0
        while c < w:
            v = labels[r, c]
            e = c + 1
            while e < w and labels[r, e] == v:
                e += 1
            if v != outside:
                rows[k] = r + row_offset
                starts[k] = c
                ends[k] = e
                values[k] = v
                k += 1
            c = e
    return rows, starts, ends, values


@njit(nogil=True, cache=True)
def count_runs(a, b, mul, row_ptr, starts, ends, labels, col0, lut, keys, n_used, hist, area_hist, row_area, r_from, j_from, c_from):  # pragma: no cover - compiled
    """Add the pixels of a strip's runs to ``hist[label, slot(key)]``.

    Parameters
    ----------
    a, b
        Code blocks of the strip (rows x window width); the key is ``a * mul + b``.
    row_ptr
        ``row_ptr[r]:row_ptr[r + 1]`` are the runs of strip row ``r`` in ``starts/ends/labels``.
    col0
        Raster column of the blocks' first column (runs hold raster columns).
    lut, keys, n_used
        Slot of each key (``-1`` unseen), key of each slot, and the number of slots in use
        (a one-element array, updated in place).
    hist, area_hist, row_area
        Counts per label x slot; when ``row_area`` is not empty, ``area_hist`` also sums the
        pixel area of the strip row (geographic grids).
    r_from, j_from, c_from
        Where to start (0, row_ptr[0], -1 for the beginning; a returned position to resume).

    Returns
    -------
    (r, j, c)
        ``r == -1`` when the strip is done; else the position of the first pixel not counted
        because every slot is taken.
    """
    cap = hist.shape[1]
    weighted = row_area.shape[0] > 0
    n_rows = a.shape[0]
    for r in range(r_from, n_rows):
        j0 = row_ptr[r] if r != r_from else j_from
        for j in range(j0, row_ptr[r + 1]):
            z = labels[j]
            c_start = starts[j] - col0
            if r == r_from and j == j_from and c_from >= 0:
                c_start = c_from
            for c in range(c_start, ends[j] - col0):
                key = np.int64(a[r, c]) * mul + np.int64(b[r, c])
                s = lut[key]
                if s < 0:
                    if n_used[0] == cap:
                        return r, j, c
                    s = n_used[0]
                    lut[key] = s
                    keys[s] = key
                    n_used[0] = s + 1
                hist[z, s] += 1
                if weighted:
                    area_hist[z, s] += row_area[r]
    return -1, 0, 0


def warm_up() -> None:
    """Load (or compile, the first time on a machine) both kernels for 8-bit land cover.

    numba compiles on the first call and caches the machine code beside this file; even a
    cached kernel takes a few tenths of a second to load in a new process. Long-running
    processes pay that once; benchmarks call this to time the work, not the loading.
    """
    label_runs(np.full((1, 2), -1, dtype=np.int32), 0, -1)
    a = np.zeros((1, 2), dtype=np.uint8)
    starts, ends, labels = np.array([0], np.int32), np.array([2], np.int32), np.array([0], np.int32)
    for r in (starts, ends, labels):  # as in ZoneRuns: read-only arrays are their own numba type
        r.setflags(write=False)
    count_runs(a, a, 0, np.array([0, 1]), starts, ends, labels, 0,
               np.full(256, -1, np.int32), np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros((1, 1), np.int64),
               np.zeros((1, 1)), np.empty(0), 0, 0, -1)
