"""The zonal engine: pixel counts and areas per zone x class in one blockwise pass.

The class histogram is an associative reduction: ``bincount(zone * K + code)`` per block,
summed over blocks. One per-window function (:func:`window_histogram`) does the work; it is
called in a plain loop over rasterio windows (:func:`zonal_histogram`) or as one dask task per
chunk (:func:`zonal_histogram_dask`), and :func:`class_histogram` is the same reduction over
in-memory arrays. Memory is bounded by the block size, not the raster size: neither the raster
nor the zone labels are ever held whole.

Overlapping zones (a red line that overlaps a district) are handled by splitting the zones into
groups of mutually disjoint zones and rasterizing each group separately, so a pixel counts once
for every zone whose polygon holds its centre.

Land-cover change is the same histogram over the pair code ``t0 * K + t1``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from geodata.errors import DataError, EmptyResultError
from geodata.rasters import RasterInfo, check_same_grid, row_areas_m2

M2_PER_HA = 10_000.0
_MAX_BINS = 1 << 26  # dense bincount limit: 64 Mi bins x 8 bytes

ZoneGroups = list[list[tuple[shapely.Geometry, int]]]


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


def zone_groups(zones: gpd.GeoSeries) -> ZoneGroups:
    """(geometry, zone index) pairs, grouped so that no two in a group overlap."""
    geoms = list(zones.values)
    return [[(geoms[i], i) for i in g] for g in disjoint_groups(geoms)]


def label_block(groups_member: list[tuple[shapely.Geometry, int]], out_shape: tuple[int, int], transform) -> np.ndarray:
    """Rasterize one disjoint group onto a block: zone index at pixel centres, -1 elsewhere."""
    shapes = [(g, i) for g, i in groups_member if not g.is_empty]
    if not shapes:
        return np.full(out_shape, -1, dtype="int32")
    return rasterize(shapes, out_shape=out_shape, transform=transform, fill=-1, dtype="int32", all_touched=False)


@dataclass(frozen=True)
class ZonalHistogram:
    """Pixel counts and areas per zone x code (x code for change between dates).

    ``counts_px[z, c]`` and ``area_m2[z, c]``; for ``n_rasters == 2`` the column is
    ``t0 * n_codes + t1``. Nodata is a code like any other here; callers split it off.
    """

    zone_ids: tuple[str, ...]
    n_codes: int
    n_rasters: int
    counts_px: np.ndarray
    area_m2: np.ndarray

    def __post_init__(self) -> None:
        self.counts_px.setflags(write=False)
        self.area_m2.setflags(write=False)

    def to_frame(self) -> pd.DataFrame:
        """Long table of the non-empty cells: zone_id, code (or code_t0/code_t1), count_px, area_ha."""
        z, c = np.nonzero(self.counts_px)
        df = pd.DataFrame({"zone_id": np.asarray(self.zone_ids, dtype=object)[z]})
        if self.n_rasters == 1:
            df["code"] = c
        else:
            df["code_t0"] = c // self.n_codes
            df["code_t1"] = c % self.n_codes
        df["count_px"] = self.counts_px[z, c]
        df["area_ha"] = self.area_m2[z, c] / M2_PER_HA
        return df


def _windows(info: RasterInfo, block_size: int) -> list[Window]:
    return [
        Window(col, row, min(block_size, info.width - col), min(block_size, info.height - row))
        for row in range(0, info.height, block_size)
        for col in range(0, info.width, block_size)
    ]


def window_histogram(
    paths: Sequence[str],
    window: Window,
    groups: ZoneGroups,
    *,
    n_zones: int,
    n_codes: int,
    geographic_info: RasterInfo | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts and weighted areas for one window of one or two co-registered rasters.

    Opens the files itself (rasterio datasets cannot be pickled), so it runs as a dask task
    as well as in a loop. Returns ``(counts_px, area_m2 or None)``; areas are only summed here
    for geographic grids, where each row has its own pixel area.
    """
    blocks = []
    transform = None
    for p in paths:
        with rasterio.open(p) as ds:
            blocks.append(ds.read(1, window=window))
            transform = window_transform(window, ds.transform)
    code = blocks[0].astype("int64")
    for b in blocks[1:]:
        code = code * n_codes + b
    n_bins = n_codes ** len(paths)
    weights = None
    if geographic_info is not None:
        rows = row_areas_m2(geographic_info, int(window.row_off), int(window.height))
        weights = np.repeat(rows, int(window.width)).reshape(code.shape)
    counts = np.zeros((n_zones, n_bins), dtype="int64")
    areas = np.zeros((n_zones, n_bins), dtype="float64") if weights is not None else None
    for group in groups:
        labels = label_block(group, code.shape, transform)
        counts += class_histogram(code, labels, n_labels=n_zones, n_codes=n_bins)
        if areas is not None:
            areas += class_histogram(code, labels, n_labels=n_zones, n_codes=n_bins, weights=weights)
    return counts, areas


def _prepare(rasters: Sequence[RasterInfo], zones: gpd.GeoDataFrame, id_field: str) -> tuple[ZoneGroups, int, tuple[str, ...]]:
    if not 1 <= len(rasters) <= 2:
        raise ValueError("one raster (classes) or two (change between dates)")
    for r in rasters[1:]:
        check_same_grid(r, rasters[0])
    ref = rasters[0]
    n_codes = n_codes_for(ref.dtype)
    if (len(zones) + 1) * n_codes ** len(rasters) > _MAX_BINS:
        raise DataError(ref.path, f"{len(zones)} zones x {n_codes}^{len(rasters)} codes is too many bins to count", "recode land cover to uint8 (codes below 256) or use fewer zones per run")
    zones_r = zones.to_crs(ref.crs)
    left, bottom, right, top = ref.bounds
    if not zones_r.intersects(shapely.box(left, bottom, right, top)).any():
        raise EmptyResultError(ref.path, "no zone overlaps the raster", "check that the zones and the raster cover the same area (and the zones' CRS)")
    return zone_groups(zones_r.geometry), n_codes, tuple(str(z) for z in zones[id_field])


def _finish(ref: RasterInfo, counts: np.ndarray, areas: np.ndarray | None, zone_ids, n_codes, k) -> ZonalHistogram:
    if areas is None:
        areas = counts * row_areas_m2(ref, 0, 1)[0]
    return ZonalHistogram(zone_ids=zone_ids, n_codes=n_codes, n_rasters=k, counts_px=counts, area_m2=areas.astype("float64"))


def zonal_histogram(
    rasters: Sequence[RasterInfo],
    zones: gpd.GeoDataFrame,
    *,
    id_field: str,
    block_size: int = 512,
    progress: Callable[[float], None] | None = None,
) -> ZonalHistogram:
    """Per zone x code histogram by a loop over rasterio windows of ``block_size`` pixels."""
    groups, n_codes, zone_ids = _prepare(rasters, zones, id_field)
    ref = rasters[0]
    geo = ref if ref.is_geographic else None
    windows = _windows(ref, block_size)
    counts = np.zeros((len(zone_ids), n_codes ** len(rasters)), dtype="int64")
    areas = np.zeros(counts.shape, dtype="float64") if geo else None
    paths = [str(r.path) for r in rasters]
    for i, w in enumerate(windows):
        c, a = window_histogram(paths, w, groups, n_zones=len(zone_ids), n_codes=n_codes, geographic_info=geo)
        counts += c
        if areas is not None:
            areas += a
        if progress is not None:
            progress((i + 1) / len(windows))
    return _finish(ref, counts, areas, zone_ids, n_codes, len(rasters))


def zonal_histogram_dask(
    rasters: Sequence[RasterInfo],
    zones: gpd.GeoDataFrame,
    *,
    id_field: str,
    block_size: int = 512,
    scheduler: str | None = "threads",
) -> ZonalHistogram:
    """The same histogram, one dask task per window, reduced with a tree sum.

    Each task opens the files by path, so the graph pickles and runs on any dask scheduler
    (threads here; a ``distributed`` cluster elsewhere).
    """
    import dask

    groups, n_codes, zone_ids = _prepare(rasters, zones, id_field)
    ref = rasters[0]
    geo = ref if ref.is_geographic else None
    paths = [str(r.path) for r in rasters]
    task = dask.delayed(window_histogram, pure=True)
    parts = [task(paths, w, groups, n_zones=len(zone_ids), n_codes=n_codes, geographic_info=geo) for w in _windows(ref, block_size)]

    def _add(a, b):
        return (a[0] + b[0], None if a[1] is None else a[1] + b[1])

    while len(parts) > 1:  # tree reduction keeps partial sums few
        parts = [dask.delayed(_add)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    counts, areas = parts[0].compute(scheduler=scheduler)
    return _finish(ref, counts, areas, zone_ids, n_codes, len(rasters))
