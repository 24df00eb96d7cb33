"""Per-date rasters behind the greening indicators, on the land-cover grid, in memory.

For one land-cover date: the built-up area (建成区), annual NDVI (greenest of the year's dates),
park service masks per radius and planting candidates. The indicators per unit are sums of
these masks weighted by exact coverage fractions (:mod:`sinks.greening.indicators`).

Memory: a few bytes per pixel per mask (the demo's 2.9 M pixels take ~60 MB in all; a
2,450 km2 area at 10 m, 24.5 M pixels, ~0.5 GB).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio import features
from scipy import ndimage

from geodata.bands import normalized_difference, open_bands
from geodata.errors import DataError
from geodata.rasters import RasterInfo, check_same_grid, row_areas_m2
from sinks.notes import Note
from sinks.greening.settings import ClassRoles, GreeningConfig

# candidate kinds (codes in YearLayers.candidates)
CANDIDATE_KINDS = {1: "afforestation", 2: "greening", 3: "shelterbelt"}  # by plant_rule all / ndvi_range / edge


@dataclass(frozen=True)
class YearLayers:
    """Masks of one land-cover date on its grid (all arrays have the raster's shape).

    ``valid``: not nodata; ``land``: valid and a land class (water excluded); ``builtup_area``:
    the built-up area (建成区); ``ndvi``: float32, NaN where unknown (None without band files);
    ``fvc``: fractional vegetation cover from NDVI (dimidiate pixel model, in [0, 1]);
    ``served[r]``: pixel centre within ``r`` metres of a park pixel (empty dict: no park layer); ``candidates``: planting
    candidate kind (``CANDIDATE_KINDS``; 0 = none).
    """

    year: int
    info: RasterInfo
    landcover: np.ndarray
    valid: np.ndarray
    land: np.ndarray
    builtup_area: np.ndarray
    builtup_source: str
    ndvi: np.ndarray | None
    ndvi_dates: int
    fvc: np.ndarray | None
    fvc_endpoints: tuple[float, float] | None
    served: dict[float, np.ndarray]
    candidates: np.ndarray
    excluded: np.ndarray
    builtup_codes: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def pixel_size_m(info: RasterInfo) -> float:
    """Mean pixel edge in metres (from the mean pixel area, so it also holds on lon/lat grids)."""
    return float(np.sqrt(row_areas_m2(info).mean()))


def _odd(n: float) -> int:
    k = max(1, int(round(n)))
    return k if k % 2 else k + 1


def grow_builtup_area(builtup: np.ndarray, land: np.ndarray, *, window_px: int, min_share: float) -> np.ndarray:
    """Pixels of land where at least ``min_share`` of the land in the ``window_px`` square
    window around them is built-up: the built-up area, parks and yards inside a town included.

    Water in the window is left out of the share (a town on the river stays a town). A method
    choice for when no official 建成区 boundary is given; its parameters are in ``[greening]``.
    """
    if window_px <= 1:
        return builtup & land
    b = ndimage.uniform_filter(builtup.astype("float32"), size=window_px, mode="constant", cval=0.0)
    ln = ndimage.uniform_filter(land.astype("float32"), size=window_px, mode="constant", cval=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(ln > 0, b / np.maximum(ln, 1e-12), 0.0)
    # uniform_filter sums in float: allow for rounding at exactly min_share
    return land & (share >= min_share - 1e-6)


def rasterize_mask(geoms, info: RasterInfo) -> np.ndarray:
    """Pixels whose centre lies in any of ``geoms`` (already in ``info.crs``)."""
    shapes = [g for g in geoms if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(info.shape, dtype=bool)
    return features.rasterize(((g, 1) for g in shapes), out_shape=info.shape, transform=info.transform,
                              fill=0, dtype="uint8", all_touched=False).astype(bool)


def pixel_edges_m(info: RasterInfo) -> tuple[float, float]:
    """(height, width) of a pixel in metres; on a lon/lat grid measured on the ellipsoid at the
    grid's centre row (width shrinks with latitude, so the two differ)."""
    if not info.is_geographic:
        return abs(info.transform.e), abs(info.transform.a)
    from pyproj import Geod
    e = info.crs.ellipsoid
    geod = Geod(a=e.semi_major_metre, b=e.semi_minor_metre)
    lon0, lat0 = info.transform * (info.width / 2, info.height / 2)
    _, _, dx = geod.inv(lon0, lat0, lon0 + abs(info.transform.a), lat0)
    _, _, dy = geod.inv(lon0, lat0, lon0, lat0 + abs(info.transform.e))
    return float(dy), float(dx)


def served_masks(parks, info: RasterInfo, radii_m) -> dict[float, np.ndarray]:
    """For each radius, pixels whose centre is within it of a park pixel's centre (Euclidean on
    the grid, per-axis pixel size in metres; ±half a pixel against a vector buffer).

    ``parks`` are polygons in ``info.crs``. They are burnt on the grid padded by the largest
    radius, so a park just beyond the map's edge still serves the pixels inside it; every park
    burns at least the pixel under its representative point, so a park smaller than a pixel
    is not lost.
    """
    geoms = [g for g in (parks if parks is not None else []) if g is not None and not g.is_empty]
    if not geoms:
        return {float(r): np.zeros(info.shape, dtype=bool) for r in radii_m}
    dy, dx = pixel_edges_m(info)
    r_max = max(float(r) for r in radii_m)
    py, px = int(np.ceil(r_max / dy)) + 1, int(np.ceil(r_max / dx)) + 1
    t = info.transform
    padded = t * t.translation(-px, -py)
    shape = (info.height + 2 * py, info.width + 2 * px)
    burn = features.rasterize(((g, 1) for g in geoms), out_shape=shape, transform=padded, fill=0, dtype="uint8",
                              all_touched=False).astype(bool)
    inv = ~padded
    for g in geoms:
        pt = g.representative_point()
        c, r = inv * (pt.x, pt.y)
        r, c = int(np.floor(r)), int(np.floor(c))
        if 0 <= r < shape[0] and 0 <= c < shape[1]:
            burn[r, c] = True
    if not burn.any():
        return {float(r): np.zeros(info.shape, dtype=bool) for r in radii_m}
    dist = ndimage.distance_transform_edt(~burn, sampling=(dy, dx))[py:py + info.height, px:px + info.width]
    return {float(r): dist <= float(r) + 1e-9 for r in radii_m}


def annual_ndvi(band_files, info: RasterInfo, *, year: int) -> tuple[np.ndarray | None, int]:
    """Greenest NDVI of the year's band files (one file per date) on the land-cover grid.

    The maximum over dates is the usual annual composite for vegetation cover (clouds and bare
    fields at one date do not hide vegetation). Returns (None, 0) without files.
    """
    best = None
    n = 0
    for f in band_files:
        f = Path(f)
        if not f.exists():
            raise DataError(f, f"the band file for {year} does not exist", "check [greening.bands] (or [wetlands.water_index.bands]), or run `make demo`")
        bs = open_bands(f)
        check_same_grid(bs.grid, info)
        bs.require(["red", "nir"], purpose="NDVI for the greening indicators")
        block = bs.read_all(names=["red", "nir"])
        v = normalized_difference(block["nir"], block["red"])
        best = v if best is None else np.fmax(best, v)
        n += 1
    return best, n


def fvc_endpoints(pairs, endpoints: tuple[float, float] | None) -> tuple[float, float] | None:
    """NDVI of bare soil and of full vegetation: ``endpoints`` when given, else the 5th and 95th
    percentiles of the land NDVI of ALL dates pooled (``pairs`` = (ndvi, land) per date), so
    one pair serves every date and a change of FVC between dates is a change of NDVI, not of
    each scene's own stretch. None when no date has NDVI."""
    if endpoints is not None:
        return endpoints
    vals = [nd[land & np.isfinite(nd)] for nd, land in pairs if nd is not None]
    vals = np.concatenate(vals) if vals else np.zeros(0)
    if vals.size < 2:
        return None
    lo, hi = (float(x) for x in np.percentile(vals, [5, 95]))
    return lo, hi


def fractional_cover(ndvi: np.ndarray, land: np.ndarray, endpoints: tuple[float, float] | None) -> tuple[np.ndarray, tuple[float, float]]:
    """Fractional vegetation cover per pixel, FVC = (NDVI - NDVI_soil) / (NDVI_veg - NDVI_soil),
    clipped to [0, 1] (the dimidiate pixel model; Gutman and Ignatov 1998, Int. J. Remote Sens.
    19(8):1533-1543). Without ``endpoints`` NDVI_soil and NDVI_veg are the 5th and 95th
    percentiles of the land pixels' NDVI, the common choice for a scene (a convention, not a
    measured constant). Returns (FVC float32 with NaN where NDVI is unknown, endpoints used).
    """
    if endpoints is None:
        v = ndvi[land & np.isfinite(ndvi)]
        if v.size < 2:
            return np.full(ndvi.shape, np.nan, dtype="float32"), (float("nan"), float("nan"))
        lo, hi = (float(x) for x in np.percentile(v, [5, 95]))
    else:
        lo, hi = endpoints
    if not hi > lo:
        raise DataError("NDVI", f"the fractional-cover endpoints are soil {lo:.3f} and vegetation {hi:.3f}; vegetation must be the larger",
                        "set [greening] fvc_ndvi_endpoints = [0.05, 0.8] (soil, full vegetation)")
    with np.errstate(invalid="ignore"):
        f = np.clip((ndvi - lo) / (hi - lo), 0.0, 1.0).astype("float32")
    return f, (lo, hi)


def planting_candidates(lc: np.ndarray, *, land: np.ndarray, ndvi: np.ndarray | None, excluded: np.ndarray,
                        roles: ClassRoles, ndvi_range: tuple[float, float]) -> np.ndarray:
    """Candidate kind per pixel (``CANDIDATE_KINDS``), outside ``excluded`` (red lines).

    The class-role table says which classes and pixels (``plant_rule``): ``all`` (bare land ->
    kind 1, afforestation), ``ndvi_range`` (built-up pixels whose annual NDVI lies in
    ``ndvi_range``, sparse vegetation on built-up land: vacant lots, sites -> kind 2, greening),
    ``edge`` (cropland pixels with a 4-neighbour of another land class -> kind 3, shelterbelt).
    """
    out = np.zeros(lc.shape, dtype="uint8")
    ok = land & ~excluded
    for code, (rule, _to) in roles.plant_rules().items():
        here = ok & (lc == code)
        if rule == "all":
            out[here] = 1
        elif rule == "ndvi_range":
            if ndvi is not None:
                lo, hi = ndvi_range
                out[here & (ndvi >= lo) & (ndvi < hi)] = 2
        else:  # edge
            other = land & (lc != code)
            edge = np.zeros_like(here)
            edge[1:, :] |= other[:-1, :]
            edge[:-1, :] |= other[1:, :]
            edge[:, 1:] |= other[:, :-1]
            edge[:, :-1] |= other[:, 1:]
            out[here & edge] = 3
    return out


def year_layers(year: int, info: RasterInfo, *, roles: ClassRoles, gcfg: GreeningConfig, band_files=(),
                parks: gpd.GeoSeries | None = None, builtup_polys: gpd.GeoSeries | None = None,
                excluded_polys: gpd.GeoSeries | None = None) -> YearLayers:
    """All masks of one date. Vector inputs must already be in ``info.crs``. Refused before
    reading when they would not fit the memory budget (:data:`geodata.limits.MAX_LAYER_BYTES`)."""
    from geodata.limits import GREENING_BYTES_PER_PX, MAX_LAYER_BYTES, check_read_bytes

    check_read_bytes(info.path, shape=(GREENING_BYTES_PER_PX, info.height, info.width), dtype="uint8",
                     what=f"the greening masks of {year}", limit=MAX_LAYER_BYTES)
    with rasterio.open(info.path) as ds:
        lc = ds.read(1)
    valid = lc != int(info.nodata)
    roles.require_codes(np.unique(lc[valid]), raster=str(info.path))
    land = valid & np.isin(lc, roles.land_codes)
    builtup = np.isin(lc, roles.built_up_codes) & valid
    notes = []
    if builtup_polys is not None:
        area = rasterize_mask(builtup_polys, info) & valid
        source = "given built-up area polygons (water inside them counts in the built-up area, as in GB/T 50563)"
    else:
        w = _odd(gcfg.builtup_window_m / pixel_size_m(info))
        area = grow_builtup_area(builtup, land, window_px=w, min_share=gcfg.builtup_min_share)
        source = f"grown from the built-up class: >= {gcfg.builtup_min_share:.0%} built-up in a {w} x {w} pixel window"
    ndvi, n_dates = annual_ndvi(band_files, info, year=year)
    if ndvi is None:
        notes.append(Note("no_bands", f"{year}: no band files, so no NDVI classes, no fractional cover and no built-up greening candidates", year=year))
    served = served_masks(parks, info, gcfg.park_radii_m) if parks is not None else {}
    excluded = rasterize_mask(excluded_polys, info) if excluded_polys is not None else np.zeros(info.shape, dtype=bool)
    cands = planting_candidates(lc, land=land, ndvi=ndvi, excluded=excluded, roles=roles, ndvi_range=gcfg.builtup_candidate_ndvi)
    return YearLayers(year=year, info=info, landcover=lc, valid=valid, land=land, builtup_area=area, builtup_source=source,
                      ndvi=ndvi, ndvi_dates=n_dates, fvc=None, fvc_endpoints=None, served=served, candidates=cands, excluded=excluded,
                      builtup_codes=roles.built_up_codes, notes=tuple(notes))
