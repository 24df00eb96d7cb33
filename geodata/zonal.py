"""The zonal engine: pixel counts and areas per zone x class in one pass over the rasters.

The class histogram is an associative reduction: counts per (zone, code) summed over strips
of rows. The zones are rasterized once per grid (GDAL, pixel centres) into *runs* of pixels
per row (:class:`ZoneRuns`), cached by the hash of the zone layer and the grid, in memory and
optionally on disk. Counting then reads each strip of the rasters once, only across the columns
its zones span, and walks the runs in a compiled loop (:mod:`geodata._kernels`) that releases
the GIL, so the reading and the counting of several strips run side by side in threads.
Memory is bounded by the strip size and the count table, not by the raster size.

Overlapping zones (a red line that overlaps a district) are rasterized in groups of mutually
disjoint zones, and their runs overlap, so a pixel counts once for every zone whose polygon
holds its centre.

Land-cover change is the same histogram over the pair code ``t0 * n_codes + t1``; only the
codes (or pairs) that occur get a column.

The same per-strip function runs in a thread pool (:func:`zonal_histogram`) or as dask tasks
(:func:`zonal_histogram_dask`, any scheduler including ``distributed``), and
:func:`class_histogram` is the in-memory reference that tests compare both against.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from geodata._kernels import count_runs, label_runs
from geodata.errors import DataError, EmptyResultError
from geodata.rasters import RasterInfo, check_same_grid, row_areas_m2

M2_PER_HA = 10_000.0
ENGINE_VERSION = "runs-1"  # part of the zone-runs cache key: bump when rasterizing changes
_MAX_KEYS = 1 << 16  # code (or pair code) space of the slot lookup table
GDAL_CACHE_BYTES = 64 * 2**20  # each tile is read once; a bigger block cache only costs memory

def n_codes_for(dtype: str) -> int:
    """Number of possible codes of an integer raster type (256 for uint8)."""
    dt = np.dtype(dtype)
    if dt.kind not in "ui" or dt.itemsize > 2:
        raise ValueError(f"class codes must be 8 or 16-bit integers, got {dtype}")
    return 1 << (8 * dt.itemsize)


def class_histogram(
    codes: np.ndarray,
    labels: np.ndarray,
    *,
    n_labels: int,
    n_codes: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Count (or sum ``weights``) per label x code.

    Parameters
    ----------
    codes
        Integer class codes in ``[0, n_codes)``.
    labels
        Zone index per pixel: ``0..n_labels-1`` inside a zone, ``-1`` outside every zone.
    weights
        Optional per-pixel weight (pixel area in m2 for geographic grids).

    Returns
    -------
    ndarray, shape (n_labels, n_codes)
        int64 counts, or float64 weight sums when ``weights`` is given.
    """
    codes = np.asarray(codes).ravel().astype("int64", copy=False)
    labels = np.asarray(labels).ravel().astype("int64", copy=False)
    inside = labels >= 0
    key = labels[inside] * n_codes + codes[inside]
    w = None if weights is None else np.asarray(weights, dtype="float64").ravel()[inside]
    out = np.bincount(key, weights=w, minlength=n_labels * n_codes)
    return out.reshape(n_labels, n_codes)


def disjoint_groups(geoms: Sequence[shapely.Geometry]) -> list[list[int]]:
    """Split zone indices into groups whose members do not overlap (greedy colouring).

    Zones that merely touch share no pixel centre and can go in one group.
    """
    geoms = list(geoms)
    tree = shapely.STRtree(geoms)
    colour = [-1] * len(geoms)
    for i, g in enumerate(geoms):
        taken = set()
        for j in tree.query(g, predicate="intersects"):
            j = int(j)
            if j != i and colour[j] >= 0 and shapely.area(shapely.intersection(g, geoms[j])) > 0:
                taken.add(colour[j])
        c = 0
        while c in taken:
            c += 1
        colour[i] = c
    groups: list[list[int]] = [[] for _ in range(max(colour) + 1)] if geoms else []
    for i, c in enumerate(colour):
        groups[c].append(i)
    return groups


@dataclass(frozen=True)
class ZonalHistogram:
    """Pixel counts and areas per zone x code (x code for change between dates).

    Only the codes that occur are kept: ``codes[j]`` is the code of column ``j`` of
    ``counts_px[z, j]`` and ``area_m2[z, j]``; for ``n_rasters == 2`` it is the pair code
    ``t0 * n_codes + t1``. Nodata is a code like any other here; callers split it off.
    """

    zone_ids: tuple[str, ...]
    n_codes: int
    n_rasters: int
    codes: np.ndarray
    counts_px: np.ndarray
    area_m2: np.ndarray

    def __post_init__(self) -> None:
        for a in (self.codes, self.counts_px, self.area_m2):
            a.setflags(write=False)

    def _cell(self, table: np.ndarray, zone_id: str, code: int):
        j = int(np.searchsorted(self.codes, code))
        if j == len(self.codes) or self.codes[j] != code:
            return table.dtype.type(0)
        return table[self.zone_ids.index(zone_id), j]

    def count(self, zone_id: str, code: int) -> int:
        """Pixels of ``code`` (a pair code for change) in one zone; 0 when it does not occur."""
        return int(self._cell(self.counts_px, zone_id, code))

    def area_m2_of(self, zone_id: str, code: int) -> float:
        """Area (m2) of ``code`` (a pair code for change) in one zone; 0 when it does not occur."""
        return float(self._cell(self.area_m2, zone_id, code))

    def to_frame(self) -> pd.DataFrame:
        """Long table of the non-empty cells: zone_id, code (or code_t0/code_t1), count_px, area_ha."""
        z, j = np.nonzero(self.counts_px)
        c = self.codes[j]
        df = pd.DataFrame({"zone_id": np.asarray(self.zone_ids, dtype=object)[z]})
        if self.n_rasters == 1:
            df["code"] = c
        else:
            df["code_t0"] = c // self.n_codes
            df["code_t1"] = c % self.n_codes
        df["count_px"] = self.counts_px[z, j]
        df["area_ha"] = self.area_m2[z, j] / M2_PER_HA
        return df


# ---------------------------------------------------------------- zones as cached runs

@dataclass(frozen=True)
class ZoneRuns:
    """The zones rasterized once onto a grid, stored as runs of pixels per row.

    ``starts[j]:ends[j]`` (raster columns, end exclusive) of row ``r`` belong to zone
    ``labels[j]`` for ``j`` in ``row_ptr[r]:row_ptr[r + 1]``. Overlapping zones give
    overlapping runs, so a pixel counts once for every zone whose polygon holds its centre.
    ``key`` identifies the zones and the grid (see :func:`zone_runs_key`).
    """

    key: str
    height: int
    width: int
    n_zones: int
    row_ptr: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        for a in (self.row_ptr, self.starts, self.ends, self.labels):
            a.setflags(write=False)

    @property
    def n_runs(self) -> int:
        return int(len(self.starts))

    def strip(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
        """Runs of rows ``r0:r1``: (row_ptr from 0, starts, ends, labels, first col, end col)."""
        j0, j1 = int(self.row_ptr[r0]), int(self.row_ptr[r1])
        ptr = np.asarray(self.row_ptr[r0:r1 + 1] - j0)
        st, en = self.starts[j0:j1], self.ends[j0:j1]
        lo, hi = (int(st.min()), int(en.max())) if j1 > j0 else (0, 0)
        return ptr, st, en, self.labels[j0:j1], lo, hi

    def save(self, path: Path) -> None:
        """Write atomically (temporary file in the same folder, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".tmp.npz", dir=path.parent)
        os.close(fd)
        try:
            np.savez(tmp, key=np.array(self.key), shape=np.array([self.height, self.width, self.n_zones]),
                     row_ptr=self.row_ptr, starts=self.starts, ends=self.ends, labels=self.labels)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path, key: str) -> "ZoneRuns | None":
        """The runs saved at ``path`` if they are for ``key``; None if missing, stale or unreadable."""
        try:
            with np.load(path, allow_pickle=False) as f:
                if str(f["key"]) != key:
                    return None
                h, w, n = (int(v) for v in f["shape"])
                return cls(key, h, w, n, f["row_ptr"], f["starts"], f["ends"], f["labels"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None


def zone_runs_key(ref: RasterInfo, zones_r: gpd.GeoSeries, zone_ids: Sequence[str]) -> str:
    """Hash of the engine version, the grid (CRS, transform, shape) and every zone (id, WKB)."""
    h = hashlib.sha256()
    h.update(f"{ENGINE_VERSION}|{ref.crs.to_wkt()}|{tuple(ref.transform)[:6]}|{ref.width}x{ref.height}".encode())
    for zid, wkb in zip(zone_ids, shapely.to_wkb(np.asarray(zones_r.values), hex=False)):
        h.update(str(zid).encode() + b"\0" + wkb)
    return h.hexdigest()


def _strip_rows(info: RasterInfo, block_size: int) -> int:
    """Rows per strip: about ``block_size**2`` pixels, a whole number of the file's block rows."""
    with rasterio.open(info.path) as ds:
        bh = int(ds.block_shapes[0][0])
    rows = max(1, (block_size * block_size) // max(info.width, 1))
    if bh > 1 and bh < info.height:
        rows = max(bh, (rows // bh) * bh)
    return min(rows, info.height)


def build_zone_runs(ref: RasterInfo, zones_r: gpd.GeoSeries, *, key: str, strip_px: int = 1 << 22,
                    progress: Callable[[float], None] | None = None) -> ZoneRuns:
    """Rasterize the zones (pixel centres, GDAL) strip by strip and keep their runs.

    Each disjoint group of zones is burnt separately (a pixel can belong to several zones);
    in each strip (about ``strip_px`` pixels, so memory does not grow with the raster) only the
    zones whose bounding box meets the strip are given to GDAL.
    """
    strip_rows = max(1, strip_px // max(ref.width, 1))
    geoms = np.asarray(zones_r.values)
    groups = disjoint_groups(list(geoms))
    tree = shapely.STRtree(geoms)
    rows_l, starts_l, ends_l, labels_l = [], [], [], []
    n_strips = (ref.height + strip_rows - 1) // strip_rows
    group_of = np.empty(len(geoms), dtype=np.int64)
    for gi, g in enumerate(groups):
        group_of[g] = gi
    for k, r0 in enumerate(range(0, ref.height, strip_rows)):
        h = min(strip_rows, ref.height - r0)
        win = Window(0, r0, ref.width, h)
        t = window_transform(win, ref.transform)
        left, top = t.c, t.f
        right, bottom = left + t.a * ref.width, top + t.e * h
        box = shapely.box(min(left, right), min(top, bottom), max(left, right), max(top, bottom))
        hits = tree.query(box)
        for gi in np.unique(group_of[hits]) if len(hits) else ():
            members = hits[group_of[hits] == gi]
            lab = rasterize([(geoms[i], int(i)) for i in members], out_shape=(h, ref.width), transform=t,
                            fill=-1, dtype="int32", all_touched=False)
            rr, ss, ee, ll = label_runs(lab, r0, -1)
            for parts, new in ((rows_l, rr), (starts_l, ss), (ends_l, ee), (labels_l, ll)):
                parts.append(new)
        if progress is not None:
            progress((k + 1) / n_strips)
    cat = (lambda parts, dt: np.concatenate(parts).astype(dt, copy=False) if parts else np.empty(0, dt))
    rows, starts = cat(rows_l, np.int64), cat(starts_l, np.int32)
    ends, labels = cat(ends_l, np.int32), cat(labels_l, np.int32)
    order = np.lexsort((starts, rows))
    rows, starts, ends, labels = rows[order], starts[order], ends[order], labels[order]
    row_ptr = np.zeros(ref.height + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=ref.height), out=row_ptr[1:])
    return ZoneRuns(key, ref.height, ref.width, len(geoms), row_ptr, starts, ends, labels)


_RUNS_MEMO: "OrderedDict[str, ZoneRuns]" = OrderedDict()
_RUNS_MEMO_SIZE = 8
_RUNS_LOCK = threading.Lock()


def zone_runs(ref: RasterInfo, zones_r: gpd.GeoSeries, zone_ids: Sequence[str], *, cache_dir: Path | None = None,
              progress: Callable[[float], None] | None = None) -> ZoneRuns:
    """The zones' runs on ``ref``'s grid: from memory, from ``cache_dir``, or rasterized now.

    Rasterizing is paid once per (zones, grid): the runs are kept in memory (last few) and,
    with ``cache_dir``, in ``zone_runs_<key>.npz`` files that later processes reuse.
    """
    key = zone_runs_key(ref, zones_r, zone_ids)
    with _RUNS_LOCK:
        if key in _RUNS_MEMO:
            _RUNS_MEMO.move_to_end(key)
            return _RUNS_MEMO[key]
    path = None if cache_dir is None else Path(cache_dir) / f"zone_runs_{key[:40]}.npz"
    runs = ZoneRuns.load(path, key) if path is not None and path.exists() else None
    if runs is None:
        runs = build_zone_runs(ref, zones_r, key=key, progress=progress)
        if path is not None:
            try:
                runs.save(path)
            except OSError:
                pass  # a read-only cache folder only costs the rasterizing next time
    with _RUNS_LOCK:
        _RUNS_MEMO[key] = runs
        while len(_RUNS_MEMO) > _RUNS_MEMO_SIZE:
            _RUNS_MEMO.popitem(last=False)
    return runs


# ---------------------------------------------------------------- counting

class _Counts:
    """One thread's (or task's) counts: per zone x slot, slots assigned to keys as they occur."""

    def __init__(self, n_zones: int, n_keys: int, weighted: bool):
        self.n_zones, self.n_keys = n_zones, n_keys
        self.lut = np.full(n_keys, -1, dtype=np.int32)
        cap = min(n_keys, 256)
        self.keys = np.zeros(cap, dtype=np.int64)
        self.n_used = np.zeros(1, dtype=np.int64)
        self.hist = np.zeros((n_zones, cap), dtype=np.int64)
        self.weighted = weighted
        self.area = np.zeros((n_zones, cap) if weighted else (1, 1), dtype=np.float64)

    def _grow(self) -> None:
        cap = min(self.n_keys, 2 * self.hist.shape[1])
        grow = lambda a: np.concatenate([a, np.zeros(a.shape[:-1] + (cap - a.shape[-1],), a.dtype)], axis=-1)
        self.keys, self.hist = grow(self.keys), grow(self.hist)
        if self.weighted:
            self.area = grow(self.area)

    def add(self, a: np.ndarray, b: np.ndarray, mul: int, strip, row_area: np.ndarray) -> None:
        ptr, starts, ends, labels, col0, _ = strip
        for runs in (starts, ends, labels):  # read-only, as in ZoneRuns, even after pickling
            runs.setflags(write=False)  # (numba compiles and caches one kernel per array type)
        pos = (0, int(ptr[0]), -1)
        while True:
            pos = count_runs(a, b, mul, ptr, starts, ends, labels, col0, self.lut, self.keys, self.n_used,
                             self.hist, self.area, row_area, *pos)
            if pos[0] < 0:
                return
            self._grow()

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        n = int(self.n_used[0])
        return self.keys[:n].copy(), self.hist[:, :n].copy(), self.area[:, :n].copy() if self.weighted else None


Part = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]


def merge_parts(*parts: Part) -> Part:
    """Sum partial results whose columns are different key sets (an associative reduction)."""
    keys = np.unique(np.concatenate([p[0] for p in parts]))
    n_zones = parts[0][1].shape[0]
    hist = np.zeros((n_zones, len(keys)), dtype=np.int64)
    area = None if parts[0][2] is None else np.zeros((n_zones, len(keys)), dtype=np.float64)
    for k, h, a in parts:
        cols = np.searchsorted(keys, k)
        hist[:, cols] += h
        if area is not None:
            area[:, cols] += a
    return keys, hist, area


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs for a list of strips; pickles (paths, not datasets)."""

    paths: tuple[str, ...]
    n_zones: int
    n_codes: int
    geographic: RasterInfo | None
    strips: tuple[tuple[int, int, tuple], ...]  # (r0, r1, runs of the strip)


def _read_strip(datasets, r0: int, r1: int, strip) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = strip[4], strip[5]
    win = Window(lo, r0, hi - lo, r1 - r0)
    blocks = [ds.read(1, window=win) for ds in datasets]
    return blocks[0], blocks[-1]


def _row_area(job: _Job, r0: int, r1: int) -> np.ndarray:
    if job.geographic is None:
        return np.empty(0, dtype=np.float64)
    return row_areas_m2(job.geographic, r0, r1 - r0)


def count_strips(job: _Job) -> Part:
    """Count a list of strips (a dask task: opens the rasters by path)."""
    counts = _Counts(job.n_zones, job.n_codes ** len(job.paths), job.geographic is not None)
    mul = job.n_codes if len(job.paths) == 2 else 0
    # Our workers are the parallelism: GDAL's own decoding threads (GDAL_NUM_THREADS) would only
    # compete with them (measured: 0.54 s instead of 0.35 s for 100 Mpx on 2 cores).
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES, GDAL_NUM_THREADS=1):
        datasets = [rasterio.open(p) for p in job.paths]
        try:
            for r0, r1, strip in job.strips:
                a, b = _read_strip(datasets, r0, r1, strip)  # the same block twice for one date (mul 0)
                counts.add(a, b, mul, strip, _row_area(job, r0, r1))
        finally:
            for ds in datasets:
                ds.close()
    return counts.result()


def _prepare(rasters: Sequence[RasterInfo], zones: gpd.GeoDataFrame, id_field: str, *, cache_dir: Path | None,
             progress: Callable[[float], None] | None = None) -> tuple[ZoneRuns, int, tuple[str, ...]]:
    if not 1 <= len(rasters) <= 2:
        raise ValueError("one raster (classes) or two (change between dates)")
    for r in rasters[1:]:
        check_same_grid(r, rasters[0])
    ref = rasters[0]
    n_codes = n_codes_for(ref.dtype)
    if n_codes ** len(rasters) > _MAX_KEYS:
        raise DataError(ref.path, f"change between 16-bit land-cover codes needs {n_codes}^2 pair codes",
                        "recode the land cover to codes below 256 (uint8) for change between dates")
    zones_r = zones.to_crs(ref.crs)
    left, bottom, right, top = ref.bounds
    if not zones_r.intersects(shapely.box(left, bottom, right, top)).any():
        raise EmptyResultError(ref.path, "no zone overlaps the raster", "check that the zones and the raster cover the same area (and the zones' CRS)")
    zone_ids = tuple(str(z) for z in zones[id_field])
    return zone_runs(ref, zones_r.geometry, zone_ids, cache_dir=cache_dir, progress=progress), n_codes, zone_ids


def _plan(ref: RasterInfo, runs: ZoneRuns, block_size: int) -> list[tuple[int, int, tuple]]:
    """Strips that hold runs, each with the column window its runs span (rows without zones are never read)."""
    rows = _strip_rows(ref, block_size)
    out = []
    for r0 in range(0, ref.height, rows):
        r1 = min(ref.height, r0 + rows)
        if runs.row_ptr[r1] > runs.row_ptr[r0]:
            out.append((r0, r1, runs.strip(r0, r1)))
    return out


def _finish(ref: RasterInfo, part: Part, zone_ids, n_codes: int, k: int) -> ZonalHistogram:
    keys, counts, areas = part
    order = np.argsort(keys)  # columns in code order, however the workers met them
    keys, counts = keys[order], counts[:, order]
    areas = None if areas is None else areas[:, order]
    if areas is None:
        areas = counts * row_areas_m2(ref, 0, 1)[0]
    return ZonalHistogram(zone_ids=zone_ids, n_codes=n_codes, n_rasters=k, codes=keys, counts_px=counts,
                          area_m2=areas.astype("float64"))


def _empty_part(n_zones: int, weighted: bool) -> Part:
    return np.empty(0, np.int64), np.zeros((n_zones, 0), np.int64), np.zeros((n_zones, 0)) if weighted else None


def zonal_histogram(
    rasters: Sequence[RasterInfo],
    zones: gpd.GeoDataFrame,
    *,
    id_field: str,
    block_size: int = 512,
    threads: int | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> ZonalHistogram:
    """Per zone x code histogram of one raster (or of the change between two).

    The zones are rasterized once into runs (:func:`zone_runs`, cached by zone-layer hash and
    grid); strips of about ``block_size**2`` pixels (whole block rows of the file) are then
    read and counted by ``threads`` workers (default: every core), each with its own datasets
    and counts, merged at the end. Strips without zones are not read, and each strip is read
    only across the columns its zones span. ``progress(fraction)`` runs on the caller's thread;
    when the zones have to be rasterized first, that takes the first half of the bar.
    """
    start = [0.0]  # where the counting starts on the progress bar

    def rasterizing(f: float) -> None:
        start[0] = 0.5
        progress(0.5 * f)

    runs, n_codes, zone_ids = _prepare(rasters, zones, id_field, cache_dir=cache_dir,
                                       progress=None if progress is None else rasterizing)
    if progress is not None:
        outer, progress = progress, (lambda f: outer(start[0] + (1.0 - start[0]) * f))
    ref = rasters[0]
    geo = ref if ref.is_geographic else None
    plan = _plan(ref, runs, block_size)
    n_threads = max(1, min(threads or os.cpu_count() or 1, len(plan) or 1))
    paths = tuple(str(r.path) for r in rasters)
    # one job per worker, strips dealt round-robin so the workers move down the file together
    jobs = [_Job(paths, len(zone_ids), n_codes, geo, tuple(plan[i::n_threads])) for i in range(n_threads)]
    if progress is None or len(plan) < 2:
        parts = _run_jobs(jobs)
    else:
        parts = _run_jobs_with_progress(jobs, len(plan), progress)
    part = merge_parts(*parts) if parts else _empty_part(len(zone_ids), geo is not None)
    if progress is not None:
        progress(1.0)
    return _finish(ref, part, zone_ids, n_codes, len(rasters))


def _run_jobs(jobs: list[_Job]) -> list[Part]:
    if len(jobs) == 1:
        return [count_strips(jobs[0])]
    with ThreadPoolExecutor(len(jobs), thread_name_prefix="zonal") as ex:
        return list(ex.map(count_strips, jobs))


def _run_jobs_with_progress(jobs: list[_Job], n_strips: int, progress: Callable[[float], None]) -> list[Part]:
    """Split each worker's strips into a few rounds so the caller's thread can report progress
    (Streamlit's progress bar must be updated from the thread that runs the page)."""
    rounds = min(20, max(1, n_strips // len(jobs)))
    parts: list[Part] = []
    done = 0
    for k in range(rounds):
        batch = [_Job(j.paths, j.n_zones, j.n_codes, j.geographic, j.strips[k::rounds]) for j in jobs]
        batch = [j for j in batch if j.strips]
        parts.extend(_run_jobs(batch))
        done += sum(len(j.strips) for j in batch)
        progress(min(0.999, done / n_strips))
    return parts


def zonal_histogram_dask(
    rasters: Sequence[RasterInfo],
    zones: gpd.GeoDataFrame,
    *,
    id_field: str,
    block_size: int = 512,
    strips_per_task: int = 4,
    cache_dir: Path | None = None,
    scheduler="threads",
) -> ZonalHistogram:
    """The same histogram as dask tasks of a few strips each, reduced with a tree sum.

    Tasks carry file paths and their strips' runs, and open the rasters themselves, so the
    graph pickles and runs on any dask scheduler: ``"threads"``, ``"processes"``, or a
    ``distributed.Client`` (a ``LocalCluster`` or a real cluster's scheduler) whose workers
    see the same paths.
    """
    import dask

    runs, n_codes, zone_ids = _prepare(rasters, zones, id_field, cache_dir=cache_dir)
    ref = rasters[0]
    geo = ref if ref.is_geographic else None
    plan = _plan(ref, runs, block_size)
    paths = tuple(str(r.path) for r in rasters)
    task = dask.delayed(count_strips, pure=True)
    parts = [task(_Job(paths, len(zone_ids), n_codes, geo, tuple(plan[i:i + strips_per_task])))
             for i in range(0, len(plan), strips_per_task)]
    merge = dask.delayed(merge_parts, pure=True)
    while len(parts) > 1:  # tree reduction keeps partial sums few
        parts = [merge(*parts[i:i + 4]) for i in range(0, len(parts), 4)]
    part = parts[0].compute(scheduler=scheduler) if parts else _empty_part(len(zone_ids), geo is not None)
    return _finish(ref, part, zone_ids, n_codes, len(rasters))
