"""Exact pixel coverage fractions of zones, and the class areas, changes and patches they give.

The zonal engine (:mod:`geodata.zonal`) counts a pixel for a zone when the zone holds the
pixel's centre. That is unbiased for big zones but wrong for thin ones: a 100 m riparian belt
on a 30 m grid is 3.3 pixels wide, and whether a row of boundary pixels counts in full or not
at all depends on where the belt falls against the grid (a 15 m strip counts as 0 or 30 m).
Here every pixel gets the *share of its area the polygon covers*, in [0, 1], as exactextract
does (Baston 2022), and areas are coverage x pixel area.

Method. The fraction of pixel (r, c) covered by a polygon P is, by Green's theorem, a line
integral over P's boundary: with ``g_r(v) = clamp(r + 1 - v, 0, 1)`` in pixel coordinates
(``u`` to the right, ``v`` down), ``area(P n row r n column c) = sum over edges in column c of
integral g_r(v) du`` (edges on the column's sides have du = 0 and drop out). Every ring edge is
split where it crosses a grid line; a piece lying in row r' adds ``du * (r' + 1 - v_mid)`` to
pixel (r', c) (exact: the integrand is linear along the piece) and a full ``du`` to every pixel
below it in the column, which is one cumulative sum down the rows. Pixels wholly inside get
exactly 1 from that sum, pixels outside 0; only the ``O(vertices + boundary pixels)`` pieces
are ever made, with numpy, so a 1 km belt with thousands of vertices along 80 km of river is
as fast as a square. Holes count negatively; ring orientation is read from the data.
Geometries must be valid (no self-overlap), as :mod:`geodata.vectors` leaves them.

On a geographic grid the fractions are planar shares of each lon/lat cell (as exactextract)
and areas use the per-row geodesic cell area from :func:`geodata.rasters.row_areas_m2`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS, Geod
from rasterio.features import rasterize, shapes
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from scipy import ndimage

from geodata.crs import require_crs, require_same_crs
from geodata.errors import DataError, GeometryError, SchemaError
from geodata.rasters import (
    RasterInfo,
    check_categorical,
    check_continuous,
    check_same_grid,
    nodata_mask,
    read_info,
    row_areas_m2,
)

M2_PER_HA = 10_000.0
# Fractions within this of 0 or 1 (float noise of the cumulative sum, < 1e-6 m2 on a 30 m
# pixel) are snapped, so pixels outside are exactly 0 and pixels inside exactly 1.
_SNAP = 1e-9


@dataclass(frozen=True)
class ZoneCoverage:
    """The share of each pixel of a zone's window that the zone covers.

    ``window`` is the zone's bounding box on the grid, clipped to the raster (zero-size when
    the zone misses the raster); ``fraction[i, j]`` (float32, in [0, 1]) belongs to raster
    pixel ``(window.row_off + i, window.col_off + j)``; ``row_area_m2[i]`` is the area of one
    pixel in row ``i`` of the window.
    """

    window: Window
    fraction: np.ndarray
    row_area_m2: np.ndarray

    def __post_init__(self) -> None:
        for a in (self.fraction, self.row_area_m2):
            a.setflags(write=False)

    @property
    def is_empty(self) -> bool:
        return self.fraction.size == 0

    def pixel_area_m2(self) -> np.ndarray:
        """Covered area of each window pixel in m2 (float64): fraction x pixel area."""
        return self.fraction.astype("float64") * self.row_area_m2[:, None]

    @property
    def covered_m2(self) -> float:
        """Area of the zone inside the raster extent, from the fractions."""
        return float(self.pixel_area_m2().sum())


@dataclass(frozen=True)
class PatchResult:
    """Patches of a zone (see :func:`zone_patches`) and what ``min_area_ha`` dropped."""

    patches: gpd.GeoDataFrame
    dropped_n: int
    dropped_ha: float


# ---------------------------------------------------------------- checks

def _check_geom(geom, source: str) -> None:
    if geom is None or shapely.is_empty(geom):
        return
    if shapely.get_type_id(geom) not in (3, 6):  # Polygon, MultiPolygon
        raise GeometryError(
            source,
            f"a zone must be a Polygon or MultiPolygon, this one is a {geom.geom_type}",
            "buffer lines or points into polygons first (e.g. a riparian belt: line.buffer(50))",
        )
    if not shapely.is_valid(geom):
        raise GeometryError(
            source,
            f"the zone geometry is invalid ({shapely.is_valid_reason(geom)}), so overlapping parts "
            "would be counted twice",
            "repair it with shapely.make_valid / geodata.vectors, which repairs uploads",
        )


def _check_zones(info: RasterInfo, zones: gpd.GeoDataFrame, id_field: str, source: str) -> None:
    require_same_crs(require_crs(zones.crs, source), info.crs, source=source, other=info.path.name)
    if id_field not in zones.columns:
        raise SchemaError(
            source,
            f"there is no zone id column '{id_field}' (columns: {', '.join(map(str, zones.columns))})",
            "choose the column that names the zones",
        )
    geoms = np.asarray(zones.geometry.values, dtype=object)
    empty = [str(z) for z, g in zip(zones[id_field], geoms) if g is None or shapely.is_empty(g)]
    if empty:
        raise GeometryError(
            source,
            f"zone(s) {', '.join(empty)} have an empty geometry, so they have no area to measure",
            "drop these rows or give them their polygons",
        )


# ---------------------------------------------------------------- coverage fractions

def _segments(geom, info: RasterInfo, col_off: int, row_off: int):
    """Every ring edge in window pixel coordinates, with +1/-1 so that the integral is +area
    for exteriors and -area for holes whatever the ring orientation."""
    t = info.transform
    polys = shapely.get_parts(geom)
    rings, poly_idx = shapely.get_rings(polys, return_index=True)
    exterior = np.r_[True, poly_idx[1:] != poly_idx[:-1]]
    xy, ring_idx = shapely.get_coordinates(rings, return_index=True)
    u = (xy[:, 0] - t.c) / t.a - col_off
    v = (xy[:, 1] - t.f) / t.e - row_off
    same = ring_idx[1:] == ring_idx[:-1]
    u0, v0, u1, v1 = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
    seg_ring = ring_idx[:-1][same]
    shoelace = np.bincount(seg_ring, weights=u0 * v1 - u1 * v0, minlength=len(rings))
    sign = np.where(shoelace > 0, 1.0, -1.0) * np.where(exterior, 1.0, -1.0)
    return u0, v0, u1, v1, sign[seg_ring]


def _crossings(a0: np.ndarray, a1: np.ndarray, n_lines: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid lines ``k`` in ``[0, n_lines]`` strictly between ``a0`` and ``a1``, per segment:
    (segment index, k) for each crossing."""
    lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
    k0 = np.maximum(np.floor(lo) + 1, 0).astype("int64")
    k1 = np.minimum(np.ceil(hi) - 1, n_lines).astype("int64")
    n = np.maximum(k1 - k0 + 1, 0)
    seg = np.repeat(np.arange(len(a0)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    return seg, np.repeat(k0, n) + (np.arange(len(seg)) - first)


def _fractions(geom, info: RasterInfo, window: Window) -> np.ndarray:
    """Coverage fractions (float64) of ``window`` by ``geom`` (see the module docstring)."""
    n_rows, n_cols = int(window.height), int(window.width)
    u0, v0, u1, v1, w = _segments(geom, info, int(window.col_off), int(window.row_off))
    du, dv = u1 - u0, v1 - v0
    sx, kx = _crossings(u0, u1, n_cols)  # vertical grid lines u = k
    sy, ky = _crossings(v0, v1, n_rows)  # horizontal grid lines v = k
    tx = (kx - u0[sx]) / du[sx]
    ty = (ky - v0[sy]) / dv[sy]
    n = len(u0)
    ends = np.arange(n)
    seg = np.concatenate([ends, ends, sx, sy])
    tt = np.concatenate([np.zeros(n), np.ones(n), tx, ty])
    pu = np.concatenate([u0, u1, kx.astype("float64"), u0[sy] + ty * du[sy]])
    pv = np.concatenate([v0, v1, v0[sx] + tx * dv[sx], ky.astype("float64")])
    order = np.lexsort((tt, seg))
    seg, pu, pv = seg[order], pu[order], pv[order]
    piece_du = pu[1:] - pu[:-1]
    um = 0.5 * (pu[1:] + pu[:-1])
    vm = 0.5 * (pv[1:] + pv[:-1])
    col = np.floor(um)
    keep = (seg[1:] == seg[:-1]) & (piece_du != 0) & (col >= 0) & (col < n_cols) & (vm < n_rows)
    piece_du, vm, col = piece_du[keep] * w[seg[1:][keep]], vm[keep], col[keep].astype("int64")
    row = np.floor(vm).astype("int64")
    inside = row >= 0
    # a piece in row r' adds du * (r' + 1 - v_mid) to (r', c) and du to every row below it
    partial = np.bincount(row[inside] * n_cols + col[inside],
                          weights=piece_du[inside] * (row[inside] + 1 - vm[inside]),
                          minlength=n_rows * n_cols).reshape(n_rows, n_cols)
    carry_row = np.where(inside, row + 1, 0)  # pieces above the window carry into its row 0
    carry = np.bincount(carry_row * n_cols + col, weights=piece_du,
                        minlength=(n_rows + 1) * n_cols).reshape(n_rows + 1, n_cols)
    frac = partial + np.cumsum(carry[:n_rows], axis=0)
    frac[np.abs(frac) < _SNAP] = 0.0
    frac[np.abs(frac - 1.0) < _SNAP] = 1.0
    return np.clip(frac, 0.0, 1.0)


def _window(info: RasterInfo, geom) -> Window:
    t = info.transform
    minx, miny, maxx, maxy = geom.bounds
    us = ((minx - t.c) / t.a, (maxx - t.c) / t.a)
    vs = ((miny - t.f) / t.e, (maxy - t.f) / t.e)
    c0, c1 = max(math.floor(min(us)), 0), min(math.ceil(max(us)), info.width)
    r0, r1 = max(math.floor(min(vs)), 0), min(math.ceil(max(vs)), info.height)
    if c1 <= c0 or r1 <= r0:
        return Window(0, 0, 0, 0)
    return Window(c0, r0, c1 - c0, r1 - r0)


def zone_coverage(info: RasterInfo, geom, *, crs=None, source: str = "zone") -> ZoneCoverage:
    """Exact share of each pixel covered by a (multi)polygon in the raster's CRS.

    Parameters
    ----------
    info
        The grid.
    geom
        A valid shapely Polygon or MultiPolygon in ``info.crs``.
    crs
        The CRS ``geom`` is in, if known; it must equal ``info.crs``.
    source
        Name of the zone (layer) for error messages.

    Returns
    -------
    ZoneCoverage
        Zero-size window when ``geom`` is empty or misses the raster (not an error here: the
        caller decides how to report it).

    Raises
    ------
    CRSMismatchError, GeometryError
    """
    if crs is not None:
        require_same_crs(crs, info.crs, source=source, other=info.path.name)
    _check_geom(geom, source)
    window = Window(0, 0, 0, 0) if geom is None or shapely.is_empty(geom) else _window(info, geom)
    if window.width == 0:
        return ZoneCoverage(window, np.zeros((0, 0), dtype="float32"), np.zeros(0))
    return ZoneCoverage(
        window,
        _fractions(geom, info, window).astype("float32"),
        row_areas_m2(info, int(window.row_off), int(window.height)),
    )


# ---------------------------------------------------------------- areas per zone

def _geod(crs: CRS) -> Geod:
    e = crs.ellipsoid
    return Geod(ellps="WGS84") if e is None else Geod(a=e.semi_major_metre, rf=e.inverse_flattening)


def _vector_area_m2(info: RasterInfo, geom) -> float:
    """Planar area in a projected CRS, geodesic area on the CRS ellipsoid in a geographic one."""
    if info.is_geographic:
        return abs(_geod(info.crs).geometry_area_perimeter(geom)[0])
    return float(shapely.area(geom))


def _read(ds, cov: ZoneCoverage) -> np.ndarray:
    return ds.read(1, window=cov.window)


def _centres(info: RasterInfo, geom, window: Window) -> np.ndarray:
    """Pixels whose centre the zone holds (the zonal engine's rule), as a bool array."""
    return rasterize([(geom, 1)], out_shape=(int(window.height), int(window.width)),
                     transform=window_transform(window, info.transform), fill=0,
                     all_touched=False, dtype="uint8").astype(bool)


def _nodata_code(info: RasterInfo) -> int:
    """The declared nodata of a categorical raster as an integer class code.

    A value no pixel of the raster's integer type can hold (NaN, 0.5, -1 on uint8) is refused:
    truncating it would name a real class (0.5 -> 0) as nodata.
    """
    nd = float(info.nodata)
    lim = np.iinfo(np.dtype(info.dtype))
    if not (nd.is_integer() and lim.min <= nd <= lim.max):
        raise DataError(
            info.path,
            f"its nodata value {info.nodata} is not a {info.dtype} class code, so no pixel can hold it",
            "declare the fill value the classes use, e.g. gdal_edit.py -a_nodata 0 file.tif",
        )
    return int(nd)


def _sum_by(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inv = np.unique(keys, return_inverse=True)
    return uniq, np.bincount(inv.ravel(), weights=weights, minlength=len(uniq))


def class_areas(
    info: RasterInfo,
    zones: gpd.GeoDataFrame,
    id_field: str,
    *,
    progress: Callable[[float], None] | None = None,
    source: str = "zone layer",
) -> pd.DataFrame:
    """Area of every land-cover class in every zone, coverage-weighted and by pixel centres.

    Parameters
    ----------
    info
        A categorical raster (integer codes, declared nodata).
    zones
        Polygons in ``info.crs``; zones may overlap (each is measured on its own).
    id_field
        Column naming the zones.
    progress
        Called with the fraction of zones done.
    source
        Name of the zone layer for error messages.

    Returns
    -------
    DataFrame
        One row per zone x code present, plus always one row per zone for the nodata code
        (``is_nodata`` True, area 0 when there is none), so nothing is dropped silently.
        Columns: ``zone_id``, ``code``, ``is_nodata``, ``area_ha`` (sum of coverage x pixel
        area), ``area_ha_centres`` (pixels whose centre is in the zone, as the zonal engine
        counts), ``zone_area_ha`` (the vector's area) and ``zone_inside_ha`` (vector area of the
        part inside the raster extent; ``area_ha`` over a zone's rows sums to it, to float
        precision on a projected grid and to ~1e-4 on a 0.01 degree geographic grid, where the
        vector area is geodesic). A zone that misses the raster has only its nodata row, with
        ``zone_inside_ha`` 0.

    Raises
    ------
    CRSMismatchError, SchemaError, GeometryError (empty, non-polygonal or invalid zones),
    NoDataError (no declared nodata), DataError (a nodata value no pixel can hold)
    """
    check_categorical(info)
    nodata = _nodata_code(info)
    _check_zones(info, zones, id_field, source)
    frames = []
    with rasterio.open(info.path) as ds:
        for i, (zid, geom) in enumerate(zip(zones[id_field], zones.geometry.values)):
            cov = zone_coverage(info, geom, source=f"{source}, zone {zid}")
            codes = np.array([nodata], dtype="int64")
            area = centres = np.zeros(1)
            if not cov.is_empty:
                data = _read(ds, cov).astype("int64")
                px = np.broadcast_to(cov.row_area_m2[:, None], data.shape)
                centre = _centres(info, geom, cov.window)
                used = (cov.fraction > 0) | centre
                keys = np.concatenate([data[used], [nodata]])
                codes, area = _sum_by(keys, np.append(cov.pixel_area_m2()[used], 0.0))
                _, centres = _sum_by(keys, np.append(np.where(centre, px, 0.0)[used], 0.0))
            frames.append(pd.DataFrame({
                "zone_id": str(zid),
                "code": codes,
                "is_nodata": codes == nodata,
                "area_ha": area / M2_PER_HA,
                "area_ha_centres": centres / M2_PER_HA,
                "zone_area_ha": _vector_area_m2(info, geom) / M2_PER_HA,
                "zone_inside_ha": _vector_area_m2(info, shapely.clip_by_rect(geom, *info.bounds)) / M2_PER_HA,
            }))
            if progress is not None:
                progress((i + 1) / len(zones))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["zone_id", "code", "is_nodata", "area_ha", "area_ha_centres", "zone_area_ha", "zone_inside_ha"])


def class_transitions(
    info_a: RasterInfo,
    info_b: RasterInfo,
    zones: gpd.GeoDataFrame,
    id_field: str,
    *,
    source: str = "zone layer",
) -> pd.DataFrame:
    """Coverage-weighted area of every class change ``from_code -> to_code`` per zone.

    The two rasters must share one grid (:func:`geodata.rasters.check_same_grid`). Nodata is
    kept as a code on either side, so for each zone the rows sum by ``from_code`` to
    :func:`class_areas` of ``info_a`` and by ``to_code`` to that of ``info_b``.

    Returns
    -------
    DataFrame
        ``zone_id``, ``from_code``, ``to_code``, ``area_ha``; pairs with no area are left out,
        and a zone that misses the raster has no rows.

    Raises
    ------
    GridError, CRSMismatchError, SchemaError, GeometryError, NoDataError, DataError (as
    :func:`class_areas`)
    """
    for info in (info_a, info_b):
        check_categorical(info)
        _nodata_code(info)
    check_same_grid(info_b, info_a)
    _check_zones(info_a, zones, id_field, source)
    frames = []
    with rasterio.open(info_a.path) as da, rasterio.open(info_b.path) as db:
        for zid, geom in zip(zones[id_field], zones.geometry.values):
            cov = zone_coverage(info_a, geom, source=f"{source}, zone {zid}")
            if cov.is_empty:
                continue
            used = cov.fraction > 0
            if not used.any():
                continue
            a = _read(da, cov).astype("int64")[used]
            b = _read(db, cov).astype("int64")[used]
            # one key per (a, b) pair over the codes of both dates, whatever their types and
            # signs (int16 nodata -1, a uint8 date beside a uint16 one): offset by the lowest
            # code, base n = the span of both; codes are at most 16 bits, so n * n fits int64
            lo = min(int(a.min()), int(b.min()))
            n = max(int(a.max()), int(b.max())) - lo + 1
            pairs, area = _sum_by((a - lo) * n + (b - lo), cov.pixel_area_m2()[used])
            frames.append(pd.DataFrame({"zone_id": str(zid), "from_code": pairs // n + lo,
                                        "to_code": pairs % n + lo, "area_ha": area / M2_PER_HA}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"zone_id": pd.Series(dtype=object), "from_code": pd.Series(dtype="int64"),
         "to_code": pd.Series(dtype="int64"), "area_ha": pd.Series(dtype="float64")})
    return out[out["area_ha"] > 0].reset_index(drop=True)


# ---------------------------------------------------------------- patches

_PATCH_COLUMNS = ["patch_id", "zone_id", "code", "codes", "area_ha", "n_pixels", "centroid_x", "centroid_y"]


def _polygonal(g):
    """The polygonal part of an overlay result (drops touching lines and points)."""
    if shapely.get_type_id(g) in (3, 6):
        return g
    parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()


def zone_patches(
    info: RasterInfo,
    geom,
    codes: Iterable[int],
    *,
    zone_id: str,
    min_area_ha: float = 0.0,
    connectivity: int = 8,
    crs=None,
) -> PatchResult:
    """Connected patches of the classes ``codes`` inside one zone.

    A pixel belongs to a patch when its class is in ``codes`` and the zone covers part of it;
    patches are the ``connectivity`` (4 or 8) connected components of those pixels.

    Parameters
    ----------
    info
        A categorical raster.
    geom
        The zone, a valid (multi)polygon in ``info.crs`` (checked against ``crs`` if given).
    codes
        The classes that make up patches (e.g. ``[90]`` for wetland, ``[50]`` for built-up).
    zone_id
        Prefix of the patch ids.
    min_area_ha
        Patches with less coverage-weighted area are dropped (and counted).

    Returns
    -------
    PatchResult
        ``patches``: GeoDataFrame in ``info.crs``, largest first, with ``patch_id``
        (``f"{zone_id}-P{n:03d}"``), ``zone_id``, ``code`` (the class with most area),
        ``codes`` (tuple of the classes present), ``area_ha`` (coverage-weighted),
        ``n_pixels``, ``centroid_x``/``centroid_y`` (coverage-area-weighted pixel centres) and
        ``geometry`` (the patch's pixels cut to the zone, so its area is ``area_ha`` on a
        projected grid). Patches under ``min_area_ha`` are left out and counted in
        ``dropped_n`` / ``dropped_ha``.
    """
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    wanted = np.asarray(sorted({int(c) for c in codes}), dtype="int64")
    cov = zone_coverage(info, geom, crs=crs, source=f"zone {zone_id}")
    empty = PatchResult(gpd.GeoDataFrame({c: [] for c in _PATCH_COLUMNS}, geometry=[], crs=info.crs), 0, 0.0)
    if cov.is_empty:
        return empty
    with rasterio.open(info.path) as ds:
        data = _read(ds, cov)
    mask = np.isin(data, wanted) & (cov.fraction > 0) & ~nodata_mask(data, info.nodata)
    structure = np.ones((3, 3), bool) if connectivity == 8 else ndimage.generate_binary_structure(2, 1)
    labels, n = ndimage.label(mask, structure=structure)
    if n == 0:
        return empty
    lab = labels[mask]
    w = cov.pixel_area_m2()[mask]
    code = data[mask].astype("int64")
    wt = window_transform(cov.window, info.transform)
    rows, cols = np.nonzero(mask)
    xs, ys = wt * (cols + 0.5, rows + 0.5)
    area = np.bincount(lab, weights=w, minlength=n + 1)[1:]
    n_px = np.bincount(lab, minlength=n + 1)[1:]
    cx = np.bincount(lab, weights=w * xs, minlength=n + 1)[1:] / area
    cy = np.bincount(lab, weights=w * ys, minlength=n + 1)[1:] / area
    # key on the code's index in ``wanted`` (codes may be negative or above 255)
    k = len(wanted)
    pairs, pair_area = _sum_by(lab * k + np.searchsorted(wanted, code), w)
    p_lab, p_code = pairs // k, wanted[pairs % k]
    by = np.lexsort((p_code, -pair_area, p_lab))  # per label: most area first, then lowest code
    first = np.r_[True, p_lab[by][1:] != p_lab[by][:-1]]
    dominant = p_code[by][first]
    present = [tuple(int(c) for c in grp) for grp in np.split(p_code, np.flatnonzero(np.diff(p_lab)) + 1)]

    area_ha = area / M2_PER_HA
    keep = area_ha >= min_area_ha
    order = [i for i in np.argsort(-area_ha, kind="stable") if keep[i]]
    if not order:
        return PatchResult(empty.patches, int(n), float(area_ha.sum()))
    # pixels polygonised with 4-connectivity, gathered per label (diagonal neighbours give
    # parts touching at a corner), then cut to the zone where a patch has partial pixels
    parts, part_lab = [], []
    for g, value in shapes(labels.astype("int32"), mask=mask, connectivity=4, transform=wt):
        parts.append(shapely.geometry.shape(g))
        part_lab.append(int(value) - 1)
    part_lab = np.asarray(part_lab)
    part_order = np.argsort(part_lab, kind="stable")
    pix = shapely.multipolygons(np.asarray(parts, dtype=object)[part_order], indices=part_lab[part_order])
    partial = np.bincount(lab, weights=(cov.fraction[mask] < 1), minlength=n + 1)[1:] > 0
    geoms = [_polygonal(shapely.intersection(pix[i], geom)) if partial[i] else pix[i] for i in order]
    patches = gpd.GeoDataFrame({
        "patch_id": [f"{zone_id}-P{j + 1:03d}" for j in range(len(order))],
        "zone_id": str(zone_id),
        "code": dominant[order],
        "codes": [present[i] for i in order],
        "area_ha": area_ha[order],
        "n_pixels": n_px[order],
        "centroid_x": cx[order],
        "centroid_y": cy[order],
    }, geometry=geoms, crs=info.crs)
    return PatchResult(patches, int((~keep).sum()), float(area_ha[~keep].sum()))


# ---------------------------------------------------------------- means of a continuous raster

def zone_means(
    path: str | Path,
    zones: gpd.GeoDataFrame,
    id_field: str,
    *,
    nodata: float | None = None,
    source: str = "zone layer",
) -> pd.DataFrame:
    """Coverage-weighted mean of a single-band continuous raster (e.g. NDVI) per zone.

    Pixels holding nodata (``nodata`` if given, else the file's) or NaN are left out. Weights
    are coverage x pixel area (exactextract's ``mean`` weights by coverage only; the two agree
    on a projected grid).

    Returns
    -------
    DataFrame
        ``zone_id``, ``mean`` (NaN when no valid pixel is covered), ``valid_ha`` (covered area
        of the valid pixels).
    """
    info = check_continuous(read_info(path))
    if info.count != 1:
        raise DataError(info.path, f"it has {info.count} bands, one is needed",
                        "extract the band first: gdal_translate -b N in.tif out.tif")
    nodata = info.nodata if nodata is None else nodata
    _check_zones(info, zones, id_field, source)
    rows = []
    with rasterio.open(info.path) as ds:
        for zid, geom in zip(zones[id_field], zones.geometry.values):
            cov = zone_coverage(info, geom, source=f"{source}, zone {zid}")
            total = weight = 0.0
            if not cov.is_empty:
                data = _read(ds, cov).astype("float64")
                w = np.where(nodata_mask(data, nodata), 0.0, cov.pixel_area_m2())
                weight = float(w.sum())
                total = float((np.where(w > 0, data, 0.0) * w).sum())
            rows.append({"zone_id": str(zid), "mean": total / weight if weight > 0 else float("nan"),
                         "valid_ha": weight / M2_PER_HA})
    return pd.DataFrame(rows, columns=["zone_id", "mean", "valid_ha"])
