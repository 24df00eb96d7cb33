"""Wetland patches: connected wetland and water areas from land cover, typed and placed in zones.

What counts (per pixel, from the land-cover legend; ESA WorldCover codes by default)
-----------------------------------------------------------------------------------
* **water**: permanent water 80, plus any ``seasonal_water_codes`` a legend has (WorldCover has
  none);
* **vegetated** wetland: herbaceous wetland 90 and mangroves 95 (none in Nanjing);
* **paddy**: ``paddy_codes`` a legend has (WorldCover has none: rice is inside cropland 40).

Optional refinement with a water index from one or more band sets on the land-cover grid: MNDWI
(Xu 2006) or NDWI (McFeeters 1996). A pixel is *water on a date* when the index is above the
threshold (default 0.0 for both, the sign convention of both papers: water positive, land
negative; **unverified** as a default here, SCIENCE.md gives no threshold, and turbid water,
shadow and mixed pixels shift it, so set it per scene). With several dates the *water frequency*
of a pixel is the fraction of its valid (non-NaN) dates that are water; with one date it is 0 or
1. A pixel is *wet* when its frequency is at least ``min_water_frequency`` (default 0.5, i.e.
water on at least half of the clear dates: a **heuristic**, unverified). Wet pixels are only
*added*, never removed, and only on the land-cover classes where an index is believable:

* shrub 20, grass 30, bare 60 become **water** (``index_water_codes``; bare includes river shoals
  and mudflats);
* cropland 40 becomes **paddy** (``index_paddy_codes``: flooded rice fields, rice-wheat rotation
  country);
* never tree 10 (canopy hides water), built-up 50 (shadows and dark roofs read as water, the
  noise MNDWI was designed against but does not remove), snow 70 (MNDWI is high on snow), or any
  nodata pixel: **nodata never becomes wetland**, whatever the bands say.

Patches
-------
Connected pixels of one cover (water, vegetated, paddy) form a patch; ``connectivity`` 8 (the
default: a channel one pixel wide that runs diagonally stays one patch, which matters for
narrow rivers and ditches at 30 m) or 4 (corner contacts do not join: more, smaller patches;
FRAGSTATS offers both rules).
An 8-connected patch whose parts touch only at a corner is stored as a (valid) MultiPolygon.

* ``area_ha``: sum of the pixel areas: the affine determinant for a projected grid (metres), the
  per-row geodesic cell area for a lon/lat grid (:func:`geodata.rasters.row_areas_m2`).
* ``perimeter_m``: total length of the pixel edges between the patch and anything else
  (another cover, dry land, nodata, the raster border), holes included (as FRAGSTATS PERIM).
  Projected: pixel width / height; lon/lat: the geodesic length of one pixel along its
  parallel (horizontal edges) and along the meridian (vertical edges). Staircase edges make it
  longer than a smooth outline (up to 4/pi for a disc, sqrt(2) for a diagonal line).
* ``compactness``: Polsby-Popper 4 pi A / P^2 (1 for a disc; about 0.785 for one pixel or any
  square, lower for long or ragged shapes).
* ``zone_id`` / ``street_id``: the zone of the ``zones`` layer (districts) and of the optional
  ``streets`` layer holding the largest part of the patch's area (pixel centres, as in the zonal
  engine; ties go to the zone listed first), with its share. ``None`` when the patch lies
  outside every zone. Zones of one layer should not overlap (a pixel counts for the last
  one drawn).

Types (heuristic rules, in this order; all thresholds are parameters of :class:`PatchRules`)
----------------------------------------------------------------------------------------
water patches:

1. ``river``: touches the ``river`` layer (the layer covers part of at least one of its
   pixels; GDAL ``all_touched`` rasterization), **or** its compactness is below
   ``channel_max_compactness`` = 0.1 (a **heuristic**: a straight channel one pixel wide and at
   least 30 pixels long, or a diagonal one 8 pixels long, falls below it; a pixelated disc is
   at 0.6 to 0.8). Dendritic reservoirs can also fall below it: check them by name.
2. ``lake_reservoir``: ``area_ha >= lake_min_ha`` = 8 ha, the size that separates lakes from
   ponds in the Ramsar Classification System for Wetland Type (Recommendation 4.7, amended by
   Resolutions VI.5 and VII.11): type O "permanent freshwater lakes (over 8 ha)" (read on the
   Australian government's copy of the list); the matching "ponds (below 8 ha)" (Tp) and the
   human-made reservoirs (6) vs ponds (2) split are quoted from memory: verify. Land cover
   cannot tell a natural lake from a reservoir (Liuhe's Jinniu Lake is a reservoir), so they
   share one type.
3. ``pond``: the rest (Ramsar Tp / human-made 2: farm and fish ponds, small reservoirs).

vegetated patches (read after the water types):

4. ``riverbank``: touches the ``river`` layer or is adjacent (same connectivity) to a ``river``
   patch: river shoal and floodplain wetland (Lvshuiwan, the Baguazhou ring);
5. ``lakeshore``: adjacent to a ``lake_reservoir`` patch;
6. ``marsh``: any other vegetated wetland (herbaceous wetland = marsh).

paddy patches: 7. ``paddy``.

Types are decided on all patches before ``min_area_ha`` drops the small ones, so a marsh next
to a dropped river fragment is still ``riverbank``.

Memory
------
The land cover (and the band sets) are read in full-width strips of about ``strip_px`` pixels
(default 1 Mpx); each strip is labelled and reduced to per-label sums at once, and labels are
joined across strip seams afterwards (connected components of the seam graph), so no label
array ever covers the whole raster. Strip temporaries take about 50 bytes per strip pixel
(~50 MB by default), whatever the raster size. What does scale with the raster is **one uint8
cover mask of the whole grid** (1 byte per pixel: 100 MB at 100 Mpx), kept for
``rasterio.features.shapes`` (GDAL polygonize) to draw the outlines, plus the polygons; pass
``geometry=False`` to skip both. Measured on this 2-core machine with the demo land cover tiled
4 x 4 (110.8 Mpx, 30 m): 10.9 s and +180 MB peak RSS without outlines, 21.8 s and +365 MB
with them. A land cover with millions of one-pixel patches makes millions of polygons before
``min_area_ha`` drops them: sieve such a map first.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
import shapely.geometry
from affine import Affine
from pyproj import CRS, Geod
from rasterio.features import rasterize, shapes
from rasterio.windows import Window
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geodata.bands import BandSet, normalized_difference
from geodata.crs import require_crs
from geodata.errors import SchemaError
from geodata.rasters import RasterInfo, check_categorical, check_same_grid, nodata_mask, read_info, row_areas_m2
from geodata.vectors import ZoneLayer

M2_PER_HA = 10_000.0

# cover codes in the mask (0 = not wetland)
WATER, VEGETATED, PADDY = 1, 2, 3
COVERS: dict[int, str] = {WATER: "water", VEGETATED: "vegetated", PADDY: "paddy"}
_OUTSIDE = 255  # beyond the raster edge, in the edge comparisons

TYPES: tuple[str, ...] = ("river", "lake_reservoir", "pond", "riverbank", "lakeshore", "marsh", "paddy")

# index -> the two bands of (a - b) / (a + b)
INDEX_BANDS: dict[str, tuple[str, str]] = {"mndwi": ("green", "swir1"), "ndwi": ("green", "nir")}


@dataclass(frozen=True)
class Threshold:
    """A rule's number with where it comes from."""

    value: float
    unit: str
    source: str
    verified: bool


THRESHOLDS: dict[str, Threshold] = {
    "index_threshold_mndwi": Threshold(
        0.0, "unitless",
        "sign convention of Xu 2006 (IJRS 27(14)): water > 0; not checked against the paper here, "
        "and the right cut varies by scene (turbidity, shadow, mixed pixels)", False),
    "index_threshold_ndwi": Threshold(
        0.0, "unitless",
        "sign convention of McFeeters 1996 (IJRS 17(7)): water > 0; not checked against the paper here", False),
    "min_water_frequency": Threshold(0.5, "fraction of valid dates", "heuristic: water on at least half of the clear dates", False),
    "lake_min_ha": Threshold(
        8.0, "ha",
        "Ramsar Classification System for Wetland Type (Rec. 4.7, Res. VI.5, VII.11): O permanent freshwater "
        "lakes 'over 8 ha' (read on environment.gov.au's copy of the list; the Tp 'ponds below 8 ha' "
        "side is quoted from memory)", True),
    "channel_max_compactness": Threshold(
        0.1, "Polsby-Popper 4 pi A / P^2",
        "heuristic: a one-pixel channel >= 30 px straight or >= 8 px diagonal falls below; compact ponds are > 0.5", False),
}


@dataclass(frozen=True)
class PatchRules:
    """Which land-cover codes are wetland, where an index may add water, and the type thresholds.

    Codes are those of the land-cover legend (ESA WorldCover by default). ``lake_min_ha`` in ha,
    ``channel_max_compactness`` is Polsby-Popper 4 pi A / P^2 (see the module docstring for the
    sources and which values are heuristic).
    """

    water_codes: tuple[int, ...] = (80,)
    seasonal_water_codes: tuple[int, ...] = ()
    wetland_codes: tuple[int, ...] = (90, 95)
    paddy_codes: tuple[int, ...] = ()
    index_water_codes: tuple[int, ...] = (20, 30, 60)
    index_paddy_codes: tuple[int, ...] = (40,)
    lake_min_ha: float = THRESHOLDS["lake_min_ha"].value
    channel_max_compactness: float = THRESHOLDS["channel_max_compactness"].value

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name.endswith("_codes"):
                object.__setattr__(self, f.name, tuple(int(c) for c in getattr(self, f.name)))
        groups = {
            "water_codes": self.water_codes + self.seasonal_water_codes,
            "wetland_codes": self.wetland_codes,
            "paddy_codes": self.paddy_codes,
        }
        seen: dict[int, str] = {}
        for name, codes in groups.items():
            for c in codes:
                if c in seen and seen[c] != name:
                    raise ValueError(f"land-cover code {c} is in both {seen[c]} and {name}")
                seen[c] = name
        wet = set(seen)
        both = wet & (set(self.index_water_codes) | set(self.index_paddy_codes))
        if both:
            raise ValueError(f"codes {sorted(both)} are already wetland; an index can only add other classes")
        if set(self.index_water_codes) & set(self.index_paddy_codes):
            raise ValueError("index_water_codes and index_paddy_codes overlap")
        if self.lake_min_ha < 0 or not 0 <= self.channel_max_compactness <= 1:
            raise ValueError("lake_min_ha must be >= 0 and channel_max_compactness within [0, 1]")

    def describe(self) -> tuple[str, ...]:
        """One line per rule, for reports."""
        return (
            f"water: codes {list(self.water_codes + self.seasonal_water_codes)}; vegetated wetland: "
            f"{list(self.wetland_codes)}; paddy: {list(self.paddy_codes)}",
            f"index water may be added on codes {list(self.index_water_codes)} (as water) and "
            f"{list(self.index_paddy_codes)} (as paddy); never on nodata",
            "river: water touching the river layer or with compactness < "
            f"{self.channel_max_compactness:g} (heuristic)",
            f"lake_reservoir: other water >= {self.lake_min_ha:g} ha (Ramsar O/Tp 8 ha); pond: smaller",
            "riverbank: vegetated touching the river layer or a river patch; lakeshore: touching a "
            "lake_reservoir patch; marsh: other vegetated; paddy: paddy",
        )


@dataclass(frozen=True)
class WetlandPatch:
    """One connected wetland or water patch (areas in ha, lengths in m)."""

    patch_id: int
    cover: str  # water | vegetated | paddy
    type: str  # one of TYPES
    area_ha: float
    perimeter_m: float
    compactness: float  # Polsby-Popper 4 pi A / P^2, unitless
    n_px: int
    zone_id: str | None
    zone_share: float  # share of the patch's area in that zone, 0..1
    street_id: str | None
    street_share: float
    touches_river: bool
    index_added_ha: float  # area the water index added to the land-cover wetland
    water_frequency: float  # mean over its pixels with a valid date; NaN without bands
    row: int  # its first pixel in raster order (top row, leftmost)
    col: int
    geometry: object = field(repr=False, compare=False)  # shapely (Multi)Polygon in the raster CRS, or None


PATCH_COLUMNS: tuple[str, ...] = (
    "patch_id", "cover", "type", "area_ha", "perimeter_m", "compactness", "n_px", "zone_id", "zone_share",
    "street_id", "street_share", "touches_river", "index_added_ha", "water_frequency", "row", "col",
)


@dataclass(frozen=True)
class WetlandPatches:
    """The patches of one land-cover raster and how they were made."""

    patches: tuple[WetlandPatch, ...]
    source: str
    crs: CRS
    connectivity: int
    min_area_ha: float
    rules: PatchRules
    index: str | None
    index_threshold: float | None
    min_water_frequency: float | None
    n_dates: int
    dropped_n: int  # patches below min_area_ha
    dropped_ha: float
    valid_ha: float  # land-cover pixels with data
    nodata_ha: float

    @property
    def total_ha(self) -> float:
        return float(sum(p.area_ha for p in self.patches))

    def area_by_type(self) -> dict[str, float]:
        """Area in ha per type (every type listed, 0.0 when absent)."""
        out = dict.fromkeys(TYPES, 0.0)
        for p in self.patches:
            out[p.type] += p.area_ha
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per patch, no geometry."""
        return pd.DataFrame([[getattr(p, c) for c in PATCH_COLUMNS] for p in self.patches], columns=list(PATCH_COLUMNS))

    def to_geodataframe(self, crs=None) -> gpd.GeoDataFrame:
        """One row per patch with its outline, in the raster CRS or reprojected to ``crs``."""
        gdf = gpd.GeoDataFrame(self.to_frame(), geometry=[p.geometry for p in self.patches], crs=self.crs)
        return gdf if crs is None else gdf.to_crs(crs)

    def summary(self) -> pd.DataFrame:
        """``zone_id, type, n_patches, area_ha`` (zone ``None`` = outside every zone)."""
        df = self.to_frame()
        if df.empty:
            return pd.DataFrame(columns=["zone_id", "type", "n_patches", "area_ha"])
        g = df.groupby(["zone_id", "type"], dropna=False).agg(n_patches=("patch_id", "size"), area_ha=("area_ha", "sum"))
        return g.reset_index()


# ---------------------------------------------------------------------------------- helpers


def _geod(info: RasterInfo) -> Geod:
    e = info.crs.ellipsoid
    return Geod(ellps="WGS84") if e is None else Geod(a=e.semi_major_metre, rf=e.inverse_flattening)


def edge_lengths_m(info: RasterInfo) -> tuple[np.ndarray, np.ndarray]:
    """Lengths of pixel edges in m: ``h[y]`` of one pixel width along row boundary ``y`` (0..H),
    and ``v[r]`` of one pixel height in row ``r`` (0..H-1).

    Projected grid: |a| and |e| (metres). Lon/lat grid: the geodesic across one pixel width on the
    boundary's parallel, and the meridian arc of the row.
    """
    t, H = info.transform, info.height
    if not info.is_geographic:
        row_areas_m2(info, 0, 1)  # refuses non-metre units
        return np.full(H + 1, abs(t.a)), np.full(H, abs(t.e))
    geod = _geod(info)
    lat = t.f + t.e * np.arange(H + 1, dtype="float64")
    _, _, h = geod.inv(np.zeros(H + 1), lat, np.full(H + 1, abs(t.a)), lat)
    _, _, v = geod.inv(np.zeros(H), lat[:-1], np.zeros(H), lat[1:])
    return np.asarray(h, dtype="float64"), np.asarray(v, dtype="float64")


def _prepare_layer(layer, id_field: str | None, info: RasterInfo, what: str) -> tuple[list, list[str], np.ndarray]:
    """Geometries in the raster CRS, ids, and their bounds."""
    if layer is None:
        return [], [], np.zeros((0, 4))
    if isinstance(layer, ZoneLayer):
        gdf, id_field, source = layer.gdf, layer.id_field, layer.source
    elif isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)):
        gdf, source = layer, what
    else:
        raise TypeError(f"{what} must be a GeoDataFrame, GeoSeries or ZoneLayer, not {type(layer).__name__}")
    require_crs(gdf.crs, source)
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if id_field is not None:
        if id_field not in gdf.columns:
            raise SchemaError(source, f"it has no column '{id_field}' (columns: {', '.join(map(str, gdf.columns))})",
                              f"name the column that identifies each {what[:-1] if what.endswith('s') else what}")
        ids = [str(v) for v in gdf[id_field]]
    else:
        ids = [str(i) for i in range(len(gdf))]
    geoms = list(gdf.to_crs(info.crs).geometry.values)
    keep = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    geoms, ids = [geoms[i] for i in keep], [ids[i] for i in keep]
    bounds = np.array([g.bounds for g in geoms]).reshape(-1, 4)
    return geoms, ids, bounds


def _rasterize_strip(geoms: list, bounds: np.ndarray, transform: Affine, shape: tuple[int, int], *,
                     all_touched: bool = False) -> np.ndarray:
    """1-based index of the geometry covering each pixel (0 = none), for one strip."""
    out = np.zeros(shape, dtype="uint16" if len(geoms) < 65535 else "uint32")
    if not geoms:
        return out
    x0, y1 = transform * (0, 0)
    x1, y0 = transform * (shape[1], shape[0])
    xmin, xmax, ymin, ymax = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    hit = (bounds[:, 0] <= xmax) & (bounds[:, 2] >= xmin) & (bounds[:, 1] <= ymax) & (bounds[:, 3] >= ymin)
    idx = np.flatnonzero(hit)
    if idx.size:
        rasterize(((geoms[i], int(i) + 1) for i in idx), out_shape=shape, transform=transform, fill=0,
                  out=out, all_touched=all_touched)
    return out


def _pairs(a: np.ndarray, b: np.ndarray, ca: np.ndarray, cb: np.ndarray, *, same: bool,
           add_a: int = 0, add_b: int = 0) -> np.ndarray:
    """Label pairs (a + add_a, b + add_b) of neighbouring pixels, both wetland, of the same (or of
    different) cover."""
    sel = (ca > 0) & (cb > 0) & ((ca == cb) if same else (ca != cb))
    if not sel.any():
        return np.zeros((0, 2), dtype="int64")
    pairs = np.stack([a[sel].astype("int64") + add_a, b[sel].astype("int64") + add_b], axis=1)
    return np.unique(pairs, axis=0)


def _neighbour_pairs(local: np.ndarray, cat: np.ndarray, base: int, top_lab: np.ndarray | None,
                     top_cat: np.ndarray | None, connectivity: int, *, same: bool) -> np.ndarray:
    """Global label pairs within a strip (strip labels ``local`` + ``base``), and between the
    strip's first row and the row above (global labels ``top_lab``)."""
    out = []
    k = dict(same=False, add_a=base, add_b=base)
    if not same:  # same-cover edge neighbours are already one label inside a strip
        out.append(_pairs(local[:, :-1], local[:, 1:], cat[:, :-1], cat[:, 1:], **k))
        out.append(_pairs(local[:-1], local[1:], cat[:-1], cat[1:], **k))
        if connectivity == 8:
            out.append(_pairs(local[:-1, :-1], local[1:, 1:], cat[:-1, :-1], cat[1:, 1:], **k))
            out.append(_pairs(local[:-1, 1:], local[1:, :-1], cat[:-1, 1:], cat[1:, :-1], **k))
    if top_lab is not None:
        row_l, row_c = local[0], cat[0]
        k = dict(same=same, add_b=base)
        out.append(_pairs(top_lab, row_l, top_cat, row_c, **k))
        if connectivity == 8:
            out.append(_pairs(top_lab[:-1], row_l[1:], top_cat[:-1], row_c[1:], **k))
            out.append(_pairs(top_lab[1:], row_l[:-1], top_cat[1:], row_c[:-1], **k))
    out = [p for p in out if len(p)]
    return np.unique(np.concatenate(out), axis=0) if out else np.zeros((0, 2), dtype="int64")


def _index_name(index: str) -> str:
    key = index.lower()
    if key not in INDEX_BANDS:
        raise ValueError(f"index must be one of {', '.join(INDEX_BANDS)}, not {index!r}")
    return key


def _check_bandsets(bandsets: Sequence[BandSet], info: RasterInfo, index: str) -> None:
    for bs in bandsets:
        if not isinstance(bs, BandSet):
            raise TypeError(f"bands must be BandSet objects (geodata.bands.open_bands), not {type(bs).__name__}")
        check_same_grid(bs.grid, info)
        bs.require(list(INDEX_BANDS[index]), purpose=f"the {index.upper()} water refinement")


def _water_counts(bandsets: Sequence[BandSet], window: Window, index: str, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of ``window``: dates with a valid index, and of those the dates above ``threshold``."""
    a_name, b_name = INDEX_BANDS[index]
    shape = (int(window.height), int(window.width))
    n_obs = np.zeros(shape, dtype="uint16")
    n_water = np.zeros(shape, dtype="uint16")
    for bs in bandsets:
        blk = bs.read_window(window, names=[a_name, b_name])
        idx = normalized_difference(blk[a_name], blk[b_name])
        ok = np.isfinite(idx)
        n_obs += ok
        n_water += ok & (idx > threshold)
    return n_obs, n_water


def water_frequency(
    bands: BandSet | Sequence[BandSet],
    *,
    index: Literal["mndwi", "ndwi"] = "mndwi",
    threshold: float | None = None,
    window: Window | None = None,
) -> np.ndarray:
    """Fraction of dates on which a pixel is water (index > ``threshold``), over its valid dates.

    Parameters
    ----------
    bands
        One band set per date, all on one grid.
    index, threshold
        ``"mndwi"`` (green, SWIR1) or ``"ndwi"`` (green, NIR); threshold default 0.0 (unverified,
        see :data:`THRESHOLDS`).
    window
        The part of the grid to compute (default: all of it; float32, 4 bytes a pixel).

    Returns
    -------
    ndarray
        float32 in [0, 1]; NaN where no date is valid.
    """
    bandsets = [bands] if isinstance(bands, BandSet) else list(bands)
    if not bandsets:
        raise ValueError("give at least one band set")
    index = _index_name(index)
    thr = THRESHOLDS[f"index_threshold_{index}"].value if threshold is None else float(threshold)
    _check_bandsets(bandsets, bandsets[0].grid, index)
    if window is None:
        h, w = bandsets[0].shape
        window = Window(0, 0, w, h)
    n_obs, n_water = _water_counts(bandsets, window, index, thr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_obs > 0, n_water / np.maximum(n_obs, 1), np.nan).astype("float32")


# ---------------------------------------------------------------------------------- the pass


class _Parts:
    """Per provisional label sums, appended strip by strip."""

    def __init__(self) -> None:
        self.cover: list[np.ndarray] = []
        self.dense: dict[str, list[np.ndarray]] = {k: [] for k in ("n_px", "area", "perim", "added", "fsum", "fn", "river")}
        self.first: list[np.ndarray] = []
        self.extra_perim: list[tuple[np.ndarray, np.ndarray]] = []
        self.same: list[np.ndarray] = []
        self.adjacent: list[np.ndarray] = []
        self.zone: list[np.ndarray] = []  # rows (label, zone index, area m2)
        self.street: list[np.ndarray] = []


def _zone_triplets(local: np.ndarray, base: int, m: int, zone: np.ndarray, n_zones: int, w: np.ndarray) -> np.ndarray:
    key = local.astype("int64") * (n_zones + 1) + zone
    s = np.bincount(key.ravel(), weights=w.ravel(), minlength=(m + 1) * (n_zones + 1)).reshape(m + 1, n_zones + 1)
    s = s[1:, 1:]
    li, zi = np.nonzero(s)
    return np.column_stack([li + base + 1, zi, s[li, zi]])


def wetland_patches(
    landcover: str | Path,
    *,
    bands: BandSet | Sequence[BandSet] | None = None,
    index: Literal["mndwi", "ndwi"] = "mndwi",
    index_threshold: float | None = None,
    min_water_frequency: float = THRESHOLDS["min_water_frequency"].value,
    zones: gpd.GeoDataFrame | ZoneLayer | None = None,
    zone_id_field: str = "zone_id",
    streets: gpd.GeoDataFrame | ZoneLayer | None = None,
    street_id_field: str = "zone_id",
    river: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    connectivity: Literal[4, 8] = 8,
    min_area_ha: float = 0.0,
    rules: PatchRules | None = None,
    geometry: bool = True,
    strip_px: int = 1 << 20,
) -> WetlandPatches:
    """Connected wetland and water patches of a land-cover raster, typed and placed in zones.

    Parameters
    ----------
    landcover
        Integer land-cover GeoTIFF with a CRS and a declared nodata value.
    bands
        Optional band set(s) on the land-cover grid (:func:`geodata.bands.open_bands`), one per
        date: pixels whose water frequency is at least ``min_water_frequency`` are added on the
        classes ``rules.index_water_codes`` (as water) and ``rules.index_paddy_codes`` (as paddy).
    index, index_threshold
        ``"mndwi"`` or ``"ndwi"``; water where the index is above the threshold (default 0.0,
        unverified: see :data:`THRESHOLDS`).
    min_water_frequency
        Fraction of valid dates (0..1] a pixel must be water on to be added.
    zones, zone_id_field
        Districts (any CRS): each patch gets the zone holding most of its area.
    streets, street_id_field
        Optional second layer (streets / townships), likewise.
    river
        Optional river polygons (e.g. the Yangtze): water touching them is ``river``.
    connectivity
        8 (default) or 4.
    min_area_ha
        Patches smaller than this (ha) are dropped and counted in ``dropped_n`` / ``dropped_ha``.
    rules
        Codes and type thresholds (:class:`PatchRules`).
    geometry
        Draw the outlines (needs one uint8 mask of the whole grid); ``False`` for figures only.
    strip_px
        Pixels read per strip (full-width rows; at least one row). Results do not depend on it.

    Returns
    -------
    WetlandPatches
        Patches in raster order of their first pixel (``patch_id`` 1..n), with areas in ha and
        perimeters in m.

    Raises
    ------
    DataError
        unreadable raster, no CRS (``MissingCRSError``), no nodata, non-integer codes; a band
        set or layer on another grid / CRS (``GridError`` / ``CRSMismatchError``) or without the
        index bands; a zone layer without CRS or id column.
    """
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, not {connectivity!r}")
    if min_area_ha < 0 or not math.isfinite(min_area_ha):
        raise ValueError("min_area_ha must be a non-negative number of hectares")
    if strip_px < 1:
        raise ValueError("strip_px must be a positive number of pixels")
    rules = rules or PatchRules()
    info = check_categorical(read_info(landcover))
    H, W = info.shape
    t = info.transform

    bandsets: list[BandSet] = []
    if bands is not None:
        bandsets = [bands] if isinstance(bands, BandSet) else list(bands)
        if not bandsets:
            raise ValueError("bands is an empty list: give band sets or None")
    idx_name = _index_name(index) if bandsets else None
    thr = None
    if bandsets:
        if not 0 < min_water_frequency <= 1:
            raise ValueError("min_water_frequency must lie in (0, 1]")
        thr = THRESHOLDS[f"index_threshold_{idx_name}"].value if index_threshold is None else float(index_threshold)
        _check_bandsets(bandsets, info, idx_name)

    z_geoms, z_ids, z_bounds = _prepare_layer(zones, zone_id_field, info, "zones")
    s_geoms, s_ids, s_bounds = _prepare_layer(streets, street_id_field, info, "streets")
    r_geoms, _, r_bounds = _prepare_layer(river, None, info, "river")

    row_area = row_areas_m2(info)
    h_len, v_len = edge_lengths_m(info)
    water_codes = np.asarray(rules.water_codes + rules.seasonal_water_codes)
    strip_rows = max(1, strip_px // max(W, 1))
    structure = ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)

    mask = np.zeros((H, W), dtype="uint8") if geometry else None
    parts = _Parts()
    next_id = 1
    top_lab = top_cat = None
    valid_m2 = nodata_m2 = 0.0
    with rasterio.open(info.path) as ds:
        for r0 in range(0, H, strip_rows):
            n = min(strip_rows, H - r0)
            win = Window(0, r0, W, n)
            lc = ds.read(1, window=win)
            valid = ~nodata_mask(lc, info.nodata)
            ra = row_area[r0:r0 + n]
            px_area = np.broadcast_to(ra[:, None], (n, W))
            nv = valid.sum(axis=1)
            valid_m2 += float((nv * ra).sum())
            nodata_m2 += float(((W - nv) * ra).sum())

            cat = np.zeros((n, W), dtype="uint8")
            cat[np.isin(lc, water_codes)] = WATER
            cat[np.isin(lc, rules.wetland_codes)] = VEGETATED
            cat[np.isin(lc, rules.paddy_codes)] = PADDY
            added = np.zeros((n, W), dtype=bool)
            freq = None
            if bandsets:
                n_obs, n_water = _water_counts(bandsets, win, idx_name, thr)
                with np.errstate(divide="ignore", invalid="ignore"):
                    freq = np.where(n_obs > 0, n_water / np.maximum(n_obs, 1), np.nan)
                wet = (n_obs > 0) & (freq >= min_water_frequency - 1e-12) & (cat == 0) & valid
                for codes, cover in ((rules.index_water_codes, WATER), (rules.index_paddy_codes, PADDY)):
                    sel = wet & np.isin(lc, codes)
                    cat[sel] = cover
                    added |= sel
            cat[~valid] = 0  # nodata is never wetland
            if mask is not None:
                mask[r0:r0 + n] = cat

            # label each cover in the strip: labels 1..m here, global ids base + 1 .. base + m
            base = next_id - 1
            local = np.zeros((n, W), dtype="int32")
            covers = []
            for cover in (WATER, VEGETATED, PADDY):
                lbl, k = ndimage.label(cat == cover, structure=structure)
                if k:
                    sel = lbl > 0
                    local[sel] = lbl[sel] + (next_id - 1 - base)
                    covers.append(np.full(k, cover, dtype="uint8"))
                    next_id += k
                del lbl
            m = next_id - 1 - base
            parts.cover.append(np.concatenate(covers) if covers else np.zeros(0, dtype="uint8"))
            flat = local.ravel()

            def per_label(weights=None, labels=flat):
                w = None if weights is None else np.ravel(weights)
                return np.bincount(labels, weights=w, minlength=m + 1)[1:]

            parts.dense["n_px"].append(per_label())
            parts.dense["area"].append(per_label(px_area))
            parts.dense["added"].append(per_label(np.where(added, px_area, 0.0)) if bandsets else np.zeros(m))
            if freq is not None:
                has = np.isfinite(freq)
                parts.dense["fsum"].append(per_label(np.where(has, freq, 0.0)))
                parts.dense["fn"].append(per_label(has))
            else:
                parts.dense["fsum"].append(np.zeros(m))
                parts.dense["fn"].append(np.zeros(m))
            if r_geoms:
                near = _rasterize_strip(r_geoms, r_bounds, t * Affine.translation(0, r0), (n, W), all_touched=True) > 0
                parts.dense["river"].append(per_label(near))
            else:
                parts.dense["river"].append(np.zeros(m))
            # first pixel of each label in raster order: it starts a run (its left neighbour differs)
            starts = np.flatnonzero((local > 0) & (local != np.pad(local, ((0, 0), (1, 0)))[:, :-1]))
            uniq, at = np.unique(flat[starts], return_index=True)
            first_idx = np.zeros(m, dtype="int64")
            first_idx[uniq - 1] = starts[at] + r0 * W
            parts.first.append(first_idx)

            # perimeter: pixel edges between different covers (nodata and the border count as other)
            padded = np.pad(cat, ((0, 0), (1, 1)), constant_values=_OUTSIDE)
            vdiff = padded[:, :-1] != padded[:, 1:]  # (n, W + 1): edge j lies left of column j
            n_vert = vdiff[:, :-1].astype("int8") + vdiff[:, 1:]
            perim = per_label(n_vert * v_len[r0:r0 + n, None])
            above = np.vstack([top_cat[None] if top_cat is not None else np.full((1, W), _OUTSIDE, "uint8"), cat[:-1]])
            hdiff = above != cat  # top edge of each strip pixel
            htop = hdiff * h_len[r0:r0 + n, None]
            perim += per_label(htop)  # the pixel below the edge
            if n > 1:
                perim += per_label(htop[1:], labels=local[:-1].ravel())
            if top_lab is not None and hdiff[0].any():
                sel = hdiff[0] & (top_lab > 0)
                parts.extra_perim.append((top_lab[sel], np.full(int(sel.sum()), h_len[r0])))
            if r0 + n == H:  # bottom edge of the raster
                perim += per_label(np.vstack([np.zeros((n - 1, W)), (cat[-1] > 0) * h_len[H]]))
            parts.dense["perim"].append(perim)

            # joins across the seam, and neighbours of another cover
            if top_lab is not None:
                parts.same.append(_neighbour_pairs(local, cat, base, top_lab, top_cat, connectivity, same=True))
            parts.adjacent.append(_neighbour_pairs(local, cat, base, top_lab, top_cat, connectivity, same=False))

            if z_geoms:
                zr = _rasterize_strip(z_geoms, z_bounds, t * Affine.translation(0, r0), (n, W))
                parts.zone.append(_zone_triplets(local, base, m, zr, len(z_geoms), px_area))
            if s_geoms:
                sr = _rasterize_strip(s_geoms, s_bounds, t * Affine.translation(0, r0), (n, W))
                parts.street.append(_zone_triplets(local, base, m, sr, len(s_geoms), px_area))
            top_lab, top_cat = np.where(local[-1] > 0, local[-1].astype("int64") + base, 0), cat[-1].copy()

    n_labels = next_id - 1
    cover = np.concatenate(parts.cover) if parts.cover else np.zeros(0, "uint8")
    dense = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in parts.dense.items()}
    for ids, w in parts.extra_perim:
        dense["perim"] += np.bincount(ids - 1, weights=w, minlength=n_labels)
    first = np.concatenate(parts.first) if parts.first else np.zeros(0, "int64")

    # join provisional labels across seams: connected components of the seam graph
    same = np.concatenate(parts.same) if parts.same else np.zeros((0, 2), "int64")
    graph = coo_matrix((np.ones(len(same)), (same[:, 0] - 1, same[:, 1] - 1)), shape=(n_labels, n_labels))
    n_comp, comp = connected_components(graph, directed=False) if n_labels else (0, np.zeros(0, "int64"))

    def by_comp(values) -> np.ndarray:
        return np.bincount(comp, weights=values, minlength=n_comp)

    c_area = by_comp(dense["area"])
    c_n = by_comp(dense["n_px"]).round().astype("int64")
    c_perim = by_comp(dense["perim"])
    c_added = by_comp(dense["added"])
    c_fsum, c_fn = by_comp(dense["fsum"]), by_comp(dense["fn"])
    c_river = by_comp(dense["river"]) > 0
    c_cover = np.zeros(n_comp, dtype="uint8")
    c_cover[comp] = cover
    c_first = np.full(n_comp, np.iinfo("int64").max, dtype="int64")
    np.minimum.at(c_first, comp, first)
    with np.errstate(divide="ignore", invalid="ignore"):
        c_compact = np.where(c_perim > 0, 4 * np.pi * c_area / c_perim**2, np.nan)

    # types: water first, then vegetated by their neighbours
    c_area_ha = c_area / M2_PER_HA
    c_type = np.empty(n_comp, dtype=object)
    is_w = c_cover == WATER
    river_w = is_w & (c_river | (c_compact < rules.channel_max_compactness))
    c_type[river_w] = "river"
    c_type[is_w & ~river_w & (c_area_ha >= rules.lake_min_ha)] = "lake_reservoir"
    c_type[is_w & ~river_w & (c_area_ha < rules.lake_min_ha)] = "pond"
    c_type[c_cover == PADDY] = "paddy"
    adj = np.concatenate(parts.adjacent) if parts.adjacent else np.zeros((0, 2), "int64")
    adj = np.unique(comp[adj - 1], axis=0) if len(adj) else np.zeros((0, 2), "int64")
    adj = np.vstack([adj, adj[:, ::-1]])  # both directions
    next_river = np.zeros(n_comp, dtype=bool)
    next_lake = np.zeros(n_comp, dtype=bool)
    next_river[adj[c_type[adj[:, 1]] == "river", 0]] = True
    next_lake[adj[c_type[adj[:, 1]] == "lake_reservoir", 0]] = True
    is_v = c_cover == VEGETATED
    c_type[is_v & (c_river | next_river)] = "riverbank"
    c_type[is_v & ~(c_river | next_river) & next_lake] = "lakeshore"
    c_type[is_v & ~(c_river | next_river) & ~next_lake] = "marsh"

    def majority(triplets: list[np.ndarray], ids: list[str]) -> tuple[list, np.ndarray]:
        best: list = [None] * n_comp
        share = np.zeros(n_comp)
        if not triplets:
            return best, share
        tr = np.concatenate(triplets)
        if not len(tr):
            return best, share
        m = np.zeros((n_comp, len(ids)))
        np.add.at(m, (comp[tr[:, 0].astype("int64") - 1], tr[:, 1].astype("int64")), tr[:, 2])
        has = m.max(axis=1) > 0
        arg = m.argmax(axis=1)  # first maximum: ties go to the zone listed first
        for c in np.flatnonzero(has):
            best[c] = ids[arg[c]]
        share[has] = m[has, arg[has]] / c_area[has]
        return best, share

    z_best, z_share = majority(parts.zone, z_ids)
    s_best, s_share = majority(parts.street, s_ids)

    keep = c_area_ha >= min_area_ha * (1 - 1e-9)
    order = np.flatnonzero(keep)[np.argsort(c_first[keep], kind="stable")]
    key_to_comp = {int(c_first[c]): int(c) for c in order}

    outlines: dict[int, object] = {}
    if mask is not None and len(order):
        comps, geoms = [], []
        for geom, value in shapes(mask, mask=mask, connectivity=connectivity):
            ext = np.asarray(geom["coordinates"][0])
            ymin = ext[:, 1].min()
            xmin = ext[ext[:, 1] == ymin, 0].min()
            c = key_to_comp.get(int(round(ymin)) * W + int(round(xmin)))
            if c is None:
                continue  # a patch below min_area_ha
            if int(value) != int(c_cover[c]):  # pragma: no cover - would be a bug in the labelling
                raise RuntimeError(f"outline at row {ymin}, col {xmin} has cover {value}, the patch {c_cover[c]}")
            comps.append(c)
            geoms.append(shapely.geometry.shape(geom))
        if len(comps) != len(order):  # pragma: no cover - would be a bug in the matching
            raise RuntimeError(f"{len(order) - len(comps)} patches got no outline")
        arr = np.empty(len(geoms), dtype=object)
        arr[:] = geoms
        bad = ~shapely.is_valid(arr)
        if bad.any():  # 8-connected parts that touch at a corner
            arr[bad] = shapely.make_valid(arr[bad])
        # pixel (col, row) -> raster CRS, all outlines at once
        arr = shapely.transform(arr, lambda xy: np.column_stack([
            t.a * xy[:, 0] + t.b * xy[:, 1] + t.c, t.d * xy[:, 0] + t.e * xy[:, 1] + t.f]))
        outlines = dict(zip(comps, arr))

    patches = []
    for pid, c in enumerate(order, 1):
        fr = float(c_fsum[c] / c_fn[c]) if c_fn[c] > 0 else math.nan
        patches.append(WetlandPatch(
            patch_id=pid, cover=COVERS[int(c_cover[c])], type=str(c_type[c]), area_ha=float(c_area_ha[c]),
            perimeter_m=float(c_perim[c]), compactness=float(c_compact[c]), n_px=int(c_n[c]),
            zone_id=z_best[c], zone_share=float(z_share[c]), street_id=s_best[c], street_share=float(s_share[c]),
            touches_river=bool(c_river[c]), index_added_ha=float(c_added[c] / M2_PER_HA), water_frequency=fr,
            row=int(c_first[c] // W), col=int(c_first[c] % W), geometry=outlines.get(c),
        ))
    dropped = ~keep
    return WetlandPatches(
        patches=tuple(patches), source=str(info.path), crs=info.crs, connectivity=int(connectivity),
        min_area_ha=float(min_area_ha), rules=rules, index=idx_name, index_threshold=thr,
        min_water_frequency=float(min_water_frequency) if bandsets else None, n_dates=len(bandsets),
        dropped_n=int(dropped.sum()), dropped_ha=float(c_area_ha[dropped].sum()),
        valid_ha=valid_m2 / M2_PER_HA, nodata_ha=nodata_m2 / M2_PER_HA,
    )


__all__ = [
    "COVERS", "PATCH_COLUMNS", "THRESHOLDS", "TYPES", "PatchRules", "Threshold", "WetlandPatch", "WetlandPatches",
    "edge_lengths_m", "water_frequency", "wetland_patches",
]
