"""Synthetic land cover of Jiangbei New Area for 2020 and 2025 (ESA WorldCover codes).

The landscape is built in three layers:

1. **Fixed features** from real geometry or cited facts: the Yangtze (``yangtze`` layer of the
   boundaries GeoPackage), a synthetic Chu River, Jinniu Lake, the Laoshan forest park, the
   Lvshuiwan wetland strip and the Baguazhou shoal-wetland ring (see :mod:`sinks.demo.constants`).
2. **Rank allocation** of the remaining land of each zone to hit the class-share targets: for
   each class in turn, the unassigned pixels with the highest *potential* (a weighted sum of
   smooth random fields and distance terms) are taken until the target count is reached. This
   yields coherent patches, no salt-and-pepper, and exact shares.
3. **Change 2020 -> 2025**: urban growth on cropland at the fronts of the built-up seeds,
   afforestation at the Laoshan margins and in the northern Liuhe hills, wetland loss outside the
   Lvshuiwan park and a little wetland restoration near water.

All coordinates are UTM 50N metres; every random draw comes from
:func:`sinks.demo.fields.rng_for` so the result is a pure function of ``(boundaries, seed)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from numpy.typing import NDArray
from scipy import ndimage
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from sinks.demo import constants as K
from sinks.demo.fields import (
    BoolArray,
    FloatArray,
    mode_filter,
    point_blobs,
    rng_for,
    smooth_field,
    top_k,
    upsample_linear,
    voronoi_values,
)
from sinks.demo.grid import Grid, lonlat_to_utm

Progress = Callable[[str, float], None]

REQUIRED_LAYERS = ("zones", "yangtze", "study_area")


class BoundariesError(ValueError):
    """The boundaries GeoPackage is missing or does not have the expected layers/zones."""


@dataclass(frozen=True)
class Boundaries:
    """Study-area geometry in UTM 50N (m).

    Attributes
    ----------
    path
        The GeoPackage read.
    zones
        Zone polygons keyed by ``zone_id`` (``pukou``, ``liuhe``, ``baguazhou``).
    yangtze
        Yangtze water surface (islands are holes).
    study_area
        Union of the zones.
    """

    path: Path
    zones: dict[str, BaseGeometry]
    yangtze: BaseGeometry
    study_area: BaseGeometry


def load_boundaries(path: Path) -> Boundaries:
    """Read ``jiangbei_boundaries.gpkg`` and project it to UTM 50N.

    Parameters
    ----------
    path
        GeoPackage with layers ``zones`` (column ``zone_id``), ``yangtze`` and ``study_area``.

    Returns
    -------
    Boundaries

    Raises
    ------
    BoundariesError
        If the file, a layer, a CRS or one of the three zones is missing.
    """
    if not path.is_file():
        raise BoundariesError(
            f"{path}: boundaries GeoPackage not found; run scripts/extract_boundaries.py first"
        )
    layers = {name for name, _ in pyogrio.list_layers(path)}
    missing = [name for name in REQUIRED_LAYERS if name not in layers]
    if missing:
        raise BoundariesError(f"{path}: missing layer(s) {', '.join(missing)}")
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name in REQUIRED_LAYERS:
        gdf = gpd.read_file(path, layer=name, engine="pyogrio")
        if gdf.crs is None:
            raise BoundariesError(f"{path}: layer {name} has no CRS")
        frames[name] = gdf.to_crs(K.CRS_UTM)
    zones_gdf = frames["zones"]
    if "zone_id" not in zones_gdf.columns:
        raise BoundariesError(f"{path}: layer zones has no zone_id column")
    zones: dict[str, BaseGeometry] = {}
    for zone_id in K.ZONE_IDS:
        rows = zones_gdf[zones_gdf["zone_id"] == zone_id]
        if rows.empty:
            raise BoundariesError(f"{path}: zone {zone_id!r} missing from layer zones")
        zones[zone_id] = shapely.make_valid(shapely.union_all(rows.geometry.to_numpy()))
    yangtze = shapely.make_valid(shapely.union_all(frames["yangtze"].geometry.to_numpy()))
    study = shapely.make_valid(shapely.union_all(frames["study_area"].geometry.to_numpy()))
    return Boundaries(path=path, zones=zones, yangtze=yangtze, study_area=study)


@dataclass(frozen=True)
class Site:
    """An illustrative site used to shape the landscape (written to the ``sites`` layer)."""

    site_id: str
    name_zh: str
    name_en: str
    kind: str
    mask: BoolArray
    target_area_ha: float
    note: str


@dataclass(frozen=True)
class Landscape:
    """The generated land cover and everything the band synthesis needs.

    Attributes
    ----------
    grid
        Raster grid.
    zone
        uint8 zone codes: 0 outside the study area, 1..3 in :data:`constants.ZONE_IDS` order.
    river
        Pixels inside the Yangtze polygon (whole grid, also outside the study area).
    landcover
        uint8 WorldCover codes by year, 0 outside the study area.
    sites
        The illustrative sites.
    parcels
        int32 Voronoi label image (about 6 ha per cell) used for field and pond texture.
    n_parcels
        Number of parcels.
    """

    grid: Grid
    zone: NDArray[np.uint8]
    river: BoolArray
    landcover: dict[int, NDArray[np.uint8]]
    sites: tuple[Site, ...]
    parcels: NDArray[np.int32]
    n_parcels: int


def _noop(_msg: str, _frac: float) -> None:
    return None


class _Frame:
    """Pixel-centre coordinates relative to a point, as float32 broadcastable arrays (m)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self._x = grid.x_centres()
        self._y = grid.y_centres()

    def rel(self, lon: float, lat: float) -> tuple[FloatArray, FloatArray]:
        """``(dx, dy)`` in metres from a WGS84 point; shapes ``(1, cols)`` and ``(rows, 1)``."""
        x0, y0 = lonlat_to_utm(lon, lat)
        return (self._x - x0).astype(np.float32), (self._y - y0).astype(np.float32)

    def along_across(self, lon: float, lat: float, bearing_deg: float) -> tuple[FloatArray, FloatArray]:
        """Coordinates along and across an axis through a point with a bearing (deg from north)."""
        dx, dy = self.rel(lon, lat)
        s, c = math.sin(math.radians(bearing_deg)), math.cos(math.radians(bearing_deg))
        u = dx * np.float32(s) + dy * np.float32(c)
        v = dx * np.float32(c) - dy * np.float32(s)
        return u, v


def _edt_m(background: BoolArray, res: float, factor: int = 2) -> FloatArray:
    """Distance (m) from every pixel to the nearest ``background == False`` pixel.

    Computed on a grid ``factor`` times coarser (a coarse cell is a target if any of its pixels
    is) and bilinearly upsampled: errors are below about one coarse cell, which is plenty for
    potentials and rank-selected bands, and the cost drops by ~``factor**2``.
    """
    rows, cols = background.shape
    pr, pc = -rows % factor, -cols % factor
    padded = np.pad(background, ((0, pr), (0, pc)), mode="edge")
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    coarse_bg = blocks.all(axis=(1, 3))
    dist = ndimage.distance_transform_edt(coarse_bg).astype(np.float32) * np.float32(res * factor)
    return upsample_linear(dist, factor, background.shape)


def _largest_component(mask: BoolArray) -> BoolArray:
    """Largest 4-connected component of ``mask`` with interior holes filled."""
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask.copy()
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = int(np.argmax(sizes))
    box = ndimage.find_objects(labels)[keep - 1]
    out = np.zeros_like(mask)
    out[box] = ndimage.binary_fill_holes(labels[box] == keep)
    return out


def _lowest(score: FloatArray, candidates: BoolArray, n: int) -> BoolArray:
    """The ``n`` candidate pixels with the lowest score."""
    return top_k(-score, candidates, n)


def _ha_to_px(ha: float, grid: Grid) -> int:
    return int(round(ha / grid.pixel_ha))


def _chu_river(grid: Grid, boundaries: Boundaries, seed: int) -> BoolArray:
    """Synthetic Chu River: a meandering, downstream-widening line to the Yangtze.

    The control points (:data:`constants.CHU_RIVER_POINTS`) are joined, resampled every 30 m and
    displaced sideways by a seeded meander (amplitude ~150-300 m, wavelength ~2-4 km); the last
    point is joined to the nearest point of the Yangtze polygon.
    """
    rng = rng_for(seed, "chu_river")
    pts = np.array([lonlat_to_utm(lon, lat) for lon, lat in K.CHU_RIVER_POINTS])
    mouth = nearest_points(boundaries.yangtze, shapely.Point(pts[-1]))[0]
    pts = np.vstack([pts, [mouth.x + 0.0, mouth.y + 0.0]])
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s_knots = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.arange(0.0, s_knots[-1], 30.0)
    x = np.interp(s, s_knots, pts[:, 0])
    y = np.interp(s, s_knots, pts[:, 1])
    # Smooth the polyline corners with a moving average (~1 km), keep the ends fixed.
    win = 33
    pad_x = np.pad(x, win // 2, mode="edge")
    pad_y = np.pad(y, win // 2, mode="edge")
    kern = np.ones(win) / win
    x = np.convolve(pad_x, kern, mode="valid")
    y = np.convolve(pad_y, kern, mode="valid")
    dx, dy = np.gradient(x), np.gradient(y)
    norm = np.hypot(dx, dy) + 1e-9
    nx, ny = -dy / norm, dx / norm
    wavelength = rng.uniform(2_000.0, 4_000.0)
    phase = 2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi)
    amp = rng.uniform(150.0, 300.0) * (1 + 0.4 * np.sin(2 * np.pi * s / (3.7 * wavelength) + rng.uniform(0, 6.3)))
    taper = np.clip(np.minimum(s, s[-1] - s) / 1_500.0, 0.0, 1.0)  # pinned ends
    off = amp * np.sin(phase) * taper
    x, y = x + off * nx, y + off * ny
    width = np.interp(s, [0.0, s[-1]], list(K.CHU_RIVER_WIDTH_M))
    pieces = []
    n_pieces = 6
    bounds = np.linspace(0, s.size - 1, n_pieces + 1).astype(int)
    for i in range(n_pieces):
        a, b = bounds[i], min(bounds[i + 1] + 1, s.size)
        line = shapely.LineString(np.column_stack([x[a:b], y[a:b]]))
        pieces.append(line.buffer(float(width[(a + b) // 2]) / 2.0, cap_style="round"))
    river = shapely.union_all(pieces)
    return grid.rasterize([(river, 1)]) == 1


def _town_points(grid: Grid, zone: NDArray[np.uint8], land: BoolArray, seed: int) -> list[tuple[float, float, str]]:
    """Seeded random synthetic town centres (row, col, zone_id) on zone land, spaced apart."""
    rng = rng_for(seed, "towns")
    seats = [lonlat_to_utm(s[3], s[4]) for s in K.BUILT_SEEDS]
    seats += [lonlat_to_utm(float(np.mean(K.INDUSTRIAL_STRIP_LON)), 32.225)]
    placed: list[tuple[float, float]] = list(seats)
    out: list[tuple[float, float, str]] = []
    for code, zone_id in enumerate(K.ZONE_IDS, start=1):
        rr, cc = np.nonzero(land & (zone == code))
        want = K.N_TOWNS[zone_id]
        tries = 0
        while want > 0 and tries < 2_000 and rr.size:
            tries += 1
            i = int(rng.integers(rr.size))
            x = grid.left + (cc[i] + 0.5) * grid.res
            y = grid.top - (rr[i] + 0.5) * grid.res
            if all(math.hypot(x - px, y - py) >= K.TOWN_MIN_SPACING_M for px, py in placed):
                placed.append((x, y))
                out.append((float(rr[i]), float(cc[i]), zone_id))
                want -= 1
    return out


def generate_landscape(boundaries: Boundaries, seed: int, progress: Progress | None = None) -> Landscape:
    """Generate the 2020 and 2025 land-cover maps.

    Parameters
    ----------
    boundaries
        Study-area geometry (see :func:`load_boundaries`).
    seed
        Build seed.
    progress
        Optional callback ``(message, fraction)``; fractions run from 0 to about 0.5.

    Returns
    -------
    Landscape
    """
    say = progress or _noop
    grid = Grid.covering(boundaries.study_area.bounds)
    shape = grid.shape
    res = grid.res
    frame = _Frame(grid)

    say("rasterizing zones and the Yangtze", 0.02)
    zone = grid.rasterize([(boundaries.zones[z], i) for i, z in enumerate(K.ZONE_IDS, start=1)])
    river = grid.rasterize([(boundaries.yangtze, 1)]) == 1
    inside = zone > 0
    land0 = inside & ~river  # zone land: the denominator of the share targets
    d_river = _edt_m(~river, res)  # distance to the Yangtze (m)

    lc = np.zeros(shape, dtype=np.uint8)
    lc[inside & river] = K.WATER
    fixed = ~inside | river  # never touched by the allocation or the mode filter

    # ------------------------------------------------------------------ water features
    say("drawing the synthetic Chu River and Jinniu Lake", 0.05)
    chu = _chu_river(grid, boundaries, seed) & land0
    dxj, dyj = frame.rel(*K.JINNIU_LAKE_CENTRE)
    r_j = np.sqrt(dxj * dxj + dyj * dyj)
    lake_score = r_j / np.float32(1_500.0) + 0.45 * smooth_field(rng_for(seed, "jinniu"), shape, 9.0)
    jinniu = _largest_component(
        _lowest(lake_score, land0 & (zone == 2) & (r_j < 5_000), _ha_to_px(K.JINNIU_LAKE_HA, grid))
    ) & land0
    jinniu_near = np.exp(-r_j / np.float32(4_000.0))
    del lake_score, r_j, dxj, dyj
    lc[chu | jinniu] = K.WATER
    fixed |= chu | jinniu

    # ------------------------------------------------------------------ Laoshan forest park
    say("shaping the Laoshan ridge forest", 0.08)
    park, laoshan_tree, ridge = _laoshan(grid, frame, seed, land0 & (zone == 1) & ~fixed)
    lc[laoshan_tree] = K.TREE

    # ------------------------------------------------------------------ Lvshuiwan wetland strip
    say("laying the Lvshuiwan wetland strip", 0.11)
    lvshuiwan, lvs_wet = _lvshuiwan(grid, frame, seed, zone, river, d_river, fixed | park)
    lc[lvs_wet] = K.WETLAND
    lc[lvshuiwan & river & ~lvs_wet] = K.WATER

    # ------------------------------------------------------------------ Baguazhou ring
    say("drawing the Baguazhou shoal-wetland ring", 0.14)
    rng = rng_for(seed, "baguazhou")
    ring_score = d_river * (1.0 + 0.35 * smooth_field(rng, shape, 20.0))
    # The island is every land component touching the Baguazhou zone (the Tianditu Qixia edge
    # may hand its west tip to Pukou/Liuhe); the mainland is the largest land component.
    labels, _n = ndimage.label(land0)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    mainland = labels == int(np.argmax(sizes))
    island_ids = np.unique(labels[(zone == 3) & land0])
    island = np.isin(labels, island_ids[island_ids > 0]) & ~fixed
    del labels
    ring = _lowest(ring_score, island, int(round(K.BAGUAZHOU_RING_SHARE * np.count_nonzero(island))))
    n_ring_wet = int(round(K.BAGUAZHOU_RING_WETLAND_SHARE * np.count_nonzero(ring)))
    ring_wet = _lowest(ring_score + 90.0 * smooth_field(rng, shape, 4.0), ring, n_ring_wet)
    lc[ring_wet] = K.WETLAND
    del ring_score

    # ------------------------------------------------------------------ built-up potential
    say("building urban, town, village and industrial potentials", 0.18)
    # Seats, strip and towns grow on the mainland only (not across the river onto the island).
    core, seed_masks = _seed_cores(frame, shape, mainland)
    core *= mainland
    strip_pot, strip_seed = _industrial_strip(grid, frame, zone, land0 & ~fixed & mainland, d_river)
    strip_pot *= mainland
    np.maximum(core, strip_pot, out=core)
    del strip_pot
    rng = rng_for(seed, "built")
    towns = _towns(grid, zone, mainland & ~fixed & ~park, seed)
    villages = np.minimum(point_blobs(rng, shape, K.VILLAGES_PER_KM2 * res * res / 1e6, 3.5), np.float32(1.3))
    # Urban green and water inside the cities: fine (~100 m) and park-sized (~300 m) holes.
    holes = 0.6 * smooth_field(rng, shape, 3.0) + 0.8 * smooth_field(rng, shape, 10.0)
    towns *= 1.0 + 0.35 * smooth_field(rng, shape, 12.0)
    built_pot = 1.6 * core * (1.0 + 0.6 * holes)
    built_pot += 1.0 * towns * (1.0 + 0.4 * holes)
    built_pot += 0.8 * villages
    built_pot += 0.15 * smooth_field(rng, shape, 10.0)
    urban = np.clip(core + towns, 0.0, 1.0)
    del holes, towns

    # ------------------------------------------------------------------ allocation 2020
    say("allocating land cover 2020 to the zone targets", 0.26)
    y_lo, y_hi = lonlat_to_utm(118.9, 32.40)[1], lonlat_to_utm(118.9, 32.58)[1]
    north = np.clip((grid.y_centres() - y_lo) / (y_hi - y_lo), 0.0, 1.0).astype(np.float32) * (zone == 2)
    hills = smooth_field(rng_for(seed, "hills"), shape, 55.0)
    water_now = lc == K.WATER
    d_water = _edt_m(~water_now, res)
    del water_now
    parcels, n_parcels = voronoi_values(rng_for(seed, "parcels"), shape, 70.0)

    def pond_pot() -> FloatArray:
        # Whole parcels become ponds (aquaculture blocks), clustered near water and in lowland.
        r = rng_for(seed, "pot", "water")
        bias = 0.9 * np.exp(-d_water / np.float32(2_500.0)) + 0.6 * smooth_field(r, shape, 25.0)
        bias += 0.35 * smooth_field(r, shape, 80.0) - 1.2 * urban - 0.8 * ridge
        per_parcel = np.bincount(parcels.ravel(), weights=bias.ravel(), minlength=n_parcels)
        per_parcel /= np.maximum(np.bincount(parcels.ravel(), minlength=n_parcels), 1)
        per_parcel += 0.5 * r.random(n_parcels)
        return per_parcel.astype(np.float32)[parcels]

    def wetland_pot() -> FloatArray:
        r = rng_for(seed, "pot", "wetland")
        return np.exp(-d_water / np.float32(300.0)) + 0.35 * smooth_field(r, shape, 5.0) - 0.6 * urban

    def tree_pot() -> FloatArray:
        r = rng_for(seed, "pot", "tree")
        halo = ndimage.gaussian_filter(np.minimum(villages, 1.0), 3.0, truncate=3.0)
        pot = 1.6 * ridge + 0.45 * hills + 0.9 * north * (1.0 + 0.5 * hills) + 0.6 * jinniu_near
        pot += 0.35 * smooth_field(r, shape, 4.0) + 0.35 * urban + 0.4 * halo
        return pot

    def shrub_pot() -> FloatArray:
        r = rng_for(seed, "pot", "shrub")
        return 0.8 * ridge + 0.4 * hills + 0.6 * smooth_field(r, shape, 5.0) + 0.5 * north

    def bare_pot() -> FloatArray:
        r = rng_for(seed, "pot", "bare")
        return 0.9 * urban + 0.6 * smooth_field(r, shape, 4.0) + 0.4 * np.exp(-d_river / np.float32(400.0))

    def grass_pot() -> FloatArray:
        r = rng_for(seed, "pot", "grass")
        pot = 0.7 * urban + 0.6 * np.exp(-d_river / np.float32(700.0)) + 0.3 * ridge
        pot += 0.6 * smooth_field(r, shape, 5.0)
        return pot

    order: tuple[tuple[int, Callable[[], FloatArray]], ...] = (
        (K.WATER, pond_pot),
        (K.WETLAND, wetland_pot),
        (K.BUILT, lambda: built_pot),
        (K.TREE, tree_pot),
        (K.SHRUB, shrub_pot),
        (K.BARE, bare_pot),
        (K.GRASS, grass_pot),
    )
    # Park clearings stay non-tree; the dry pixels of the wetland sites stay non-wetland.
    reserved = {K.TREE: park, K.WETLAND: lvshuiwan | ring}
    zone_land = [land0 & (zone == code) for code in range(1, len(K.ZONE_IDS) + 1)]
    for cls, make_pot in order:
        pot = make_pot()
        for zland, zone_id in zip(zone_land, K.ZONE_IDS, strict=True):
            want = int(round(K.LAND_SHARE_TARGETS[zone_id][cls] * int(zland.sum())))
            want -= int(np.count_nonzero(lc[zland] == cls))
            free = zland & (lc == 0)
            if cls in reserved:
                free &= ~reserved[cls]
            lc[top_k(pot, free, want)] = cls
        del pot
    lc[land0 & (lc == 0)] = K.CROP
    lc2020 = mode_filter(lc, fixed | laoshan_tree | lvs_wet | ring)
    del lc

    # ------------------------------------------------------------------ change to 2025
    say("applying the 2020 -> 2025 changes", 0.40)
    lc2025 = _change(
        lc2020,
        grid=grid,
        seed=seed,
        zone=zone,
        land0=land0,
        core=core,
        urban=urban,
        ridge=ridge,
        north=north,
        d_water=d_water,
        protected=lvshuiwan | laoshan_tree,
    )

    chu_corridor = (_edt_m(~chu, res) <= K.CHU_CORRIDOR_M) & inside
    sites = _sites(grid, park, lvshuiwan, ring, chu_corridor, seed_masks, strip_seed)
    return Landscape(
        grid=grid,
        zone=zone,
        river=river,
        landcover={2020: lc2020, 2025: lc2025},
        sites=sites,
        parcels=parcels,
        n_parcels=n_parcels,
    )


def _laoshan(grid: Grid, frame: _Frame, seed: int, candidates: BoolArray) -> tuple[BoolArray, BoolArray, FloatArray]:
    """Laoshan park polygon, its tree pixels and a ``ridge`` proximity field (1 on the axis).

    The park is the :data:`constants.LAOSHAN_PARK_HA` candidate pixels closest (in a
    super-elliptic metric with a wavy half-width and smooth noise) to a 30 km SW-NE axis; the tree
    cover inside is the :data:`constants.LAOSHAN_TREE_HA` pixels nearest the axis.
    """
    shape = grid.shape
    rng = rng_for(seed, "laoshan")
    u, v = frame.along_across(*K.LAOSHAN_CENTRE, K.LAOSHAN_BEARING_DEG)
    wobble = 1.0 + 0.28 * np.sin(2 * np.pi * u / 9_000.0 + rng.uniform(0, 6.3))
    wobble += 0.12 * np.sin(2 * np.pi * u / 3_700.0 + rng.uniform(0, 6.3))
    half_w = np.float32(K.LAOSHAN_MEAN_HALF_WIDTH_M) * wobble
    q = np.sqrt((np.abs(u) / np.float32(K.LAOSHAN_LENGTH_M / 2.0)) ** 6 + (v / half_w) ** 2)
    q = q + 0.16 * smooth_field(rng, shape, 14.0)  # ~1 at the park edge
    park = _largest_component(_lowest(q, candidates & (q < 3), _ha_to_px(K.LAOSHAN_PARK_HA, grid)))
    park &= candidates
    tree_score = q - 0.35 * smooth_field(rng, shape, 4.0)
    tree = _lowest(tree_score, park, _ha_to_px(K.LAOSHAN_TREE_HA, grid))
    ridge = np.exp(-np.clip(q - 0.6, 0.0, None) * 1.6)
    return park, tree, ridge


def _lvshuiwan(
    grid: Grid,
    frame: _Frame,
    seed: int,
    zone: NDArray[np.uint8],
    river: BoolArray,
    d_river: FloatArray,
    blocked: BoolArray,
) -> tuple[BoolArray, BoolArray]:
    """Lvshuiwan strip (land + shoal) along the Pukou bank and its wetland pixels.

    Pixels within the reach between the two end points and on the Pukou side of the river are
    ranked by ``distance to the bank / local width`` (land width ~1.15 km with a slow wave and
    tapered ends; shoal width 250 m into the GSHHG water), and the lowest
    :data:`constants.LVSHUIWAN_SITE_HA` are taken.
    """
    shape = grid.shape
    rng = rng_for(seed, "lvshuiwan")
    ax, ay = lonlat_to_utm(*K.LVSHUIWAN_UPSTREAM)
    bx, by = lonlat_to_utm(*K.LVSHUIWAN_DOWNSTREAM)
    chord = math.hypot(bx - ax, by - ay)
    bearing = math.degrees(math.atan2(bx - ax, by - ay))
    t, across = frame.along_across(*K.LVSHUIWAN_UPSTREAM, bearing)
    along = np.clip(t / np.float32(chord), 0.0, 1.0)
    taper = np.clip(np.sin(np.pi * along), 0.05, 1.0) ** 0.35
    vary = 1.0 + 0.22 * np.sin(2 * np.pi * t / 3_100.0 + rng.uniform(0, 6.3))
    pukou_land = (zone == 1) & ~river
    d_bank = _edt_m(~pukou_land, grid.res)  # river pixels: distance to the Pukou bank (m)
    score = np.where(
        river,
        d_bank / (np.float32(K.LVSHUIWAN_SHOAL_WIDTH_M) * taper),
        d_river / (np.float32(K.LVSHUIWAN_LAND_WIDTH_M) * vary * taper),
    )
    score += 0.08 * smooth_field(rng, shape, 6.0)
    # North (Pukou) bank only: the chord runs along that bank; the river lies on its right side.
    side = across < np.float32(1_000.0)
    reach = (t >= 0) & (t <= np.float32(chord)) & side
    cand = (zone == 1) & reach & (score < 3) & ~(blocked & ~river)
    strip = _largest_component(_lowest(score, cand, _ha_to_px(K.LVSHUIWAN_SITE_HA, grid))) & cand
    wet_score = score + 0.5 * smooth_field(rng, shape, 3.0)
    wet = _lowest(wet_score, strip, _ha_to_px(K.LVSHUIWAN_WETLAND_HA, grid))
    return strip, wet


def _seed_cores(frame: _Frame, shape: tuple[int, int], valid: BoolArray) -> tuple[FloatArray, dict[str, BoolArray]]:
    """Urban-core potential of the named seats (1 inside each ellipse, Gaussian fall-off ~1 km)."""
    core = np.zeros(shape, dtype=np.float32)
    masks: dict[str, BoolArray] = {}
    for site_id, _zh, _en, lon, lat, a, b, brg, weight in K.BUILT_SEEDS:
        uu, vv = frame.along_across(lon, lat, brg)
        rho = np.sqrt((uu / np.float32(a)) ** 2 + (vv / np.float32(b)) ** 2)
        pot = np.float32(weight) * np.exp(-((np.maximum(rho - 1.0, 0.0) / np.float32(0.45)) ** 2))
        np.maximum(core, pot, out=core)
        masks[site_id] = (rho <= 1.0) & valid
    return core, masks


def _industrial_strip(
    grid: Grid, frame: _Frame, zone: NDArray[np.uint8], candidates: BoolArray, d_river: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """Industrial built-up potential along the Liuhe bank and its seed polygon mask."""
    x0 = lonlat_to_utm(K.INDUSTRIAL_STRIP_LON[0], 32.22)[0]
    x1 = lonlat_to_utm(K.INDUSTRIAL_STRIP_LON[1], 32.22)[0]
    x = np.broadcast_to(grid.x_centres().astype(np.float32), grid.shape)
    window = np.clip(np.minimum(x - x0, x1 - x) / np.float32(1_500.0) + 1.0, 0.0, 1.0)
    depth = np.maximum(d_river - np.float32(300.0), 0.0) / np.float32(K.INDUSTRIAL_STRIP_DEPTH_M)
    pot = np.exp(-0.5 * depth * depth) * window * (zone == 2)
    seed_mask = _lowest(-pot, candidates & (zone == 2) & (pot > 0.05), _ha_to_px(K.INDUSTRIAL_STRIP_HA, grid))
    return (0.95 * pot).astype(np.float32), seed_mask


def _towns(grid: Grid, zone: NDArray[np.uint8], land: BoolArray, seed: int) -> FloatArray:
    """Potential of synthetic secondary towns (Gaussian, radius 0.5-0.9 km) at seeded places."""
    rng = rng_for(seed, "town_sizes")
    towns = np.zeros(grid.shape, dtype=np.float32)
    rows = np.arange(grid.shape[0], dtype=np.float32)[:, None]
    cols = np.arange(grid.shape[1], dtype=np.float32)[None, :]
    for r0, c0, _zone_id in _town_points(grid, zone, land, seed):
        sig = np.float32(rng.uniform(16.0, 30.0))
        # Evaluate only within 4 sigma of the centre.
        r_lo, r_hi = max(0, int(r0 - 4 * sig)), min(grid.shape[0], int(r0 + 4 * sig) + 1)
        c_lo, c_hi = max(0, int(c0 - 4 * sig)), min(grid.shape[1], int(c0 + 4 * sig) + 1)
        rr = (rows[r_lo:r_hi] - r0) / sig
        cc = (cols[:, c_lo:c_hi] - c0) / sig
        block = towns[r_lo:r_hi, c_lo:c_hi]
        np.maximum(block, np.exp(-0.5 * (rr * rr + cc * cc)), out=block)
    return towns


def _sites(
    grid: Grid,
    park: BoolArray,
    lvshuiwan: BoolArray,
    ring: BoolArray,
    chu_corridor: BoolArray,
    seed_masks: dict[str, BoolArray],
    strip_seed: BoolArray,
) -> tuple[Site, ...]:
    """The illustrative sites written to the ``sites`` layer."""
    sites = [
        Site(
            "laoshan_nfp", "老山国家森林公园（示意范围）", "Laoshan National Forest Park (illustrative extent)",
            "forest_park", park, K.LAOSHAN_PARK_HA,
            "Illustrative SW-NE ridge polygon (~30 km) in central Pukou. Area = the published 80 km² "
            "figure; tree cover inside = the published 76.5 km² (7650 ha). Not a surveyed boundary.",
        ),
        Site(
            "lvshuiwan_wetland", "绿水湾湿地（西江口湿地公园，示意范围）", "Lvshuiwan / Xijiangkou wetland strip (illustrative)",
            "wetland_park", lvshuiwan, K.LVSHUIWAN_SITE_HA,
            "Illustrative strip on the north (Pukou) bank, ~11 km from the Third Yangtze Bridge corridor "
            "toward opposite the Youth Olympic Park: land up to ~1.2 km inland plus ~250 m of shoal. "
            "Area = the pre-2017 17.23 km²; wetland inside = the revised 1679 ha.",
        ),
        Site(
            "baguazhou_ring", "八卦洲沿江滩涂湿地环（示意）", "Baguazhou riverside shoal wetland ring (illustrative)",
            "wetland_ring", ring, round(float(ring.sum()) * grid.pixel_ha, 1),
            "The 20 % of the island's land nearest the river (a ring ~200-250 m wide inside the GSHHG "
            "shoreline, whole island including any tip in the Pukou/Liuhe polygons); 82 % of it "
            "herbaceous wetland.",
        ),
        Site(
            "chu_river_corridor", "滁河生态廊道（示意）", "Chu River ecological corridor (illustrative)",
            "river_corridor", chu_corridor, round(float(chu_corridor.sum()) * grid.pixel_ha, 1),
            f"The synthetic Chu River channel plus the land within {K.CHU_CORRIDOR_M:.0f} m of it, inside "
            "Pukou and Liuhe. The real river is not in GSHHG; neither course nor corridor is surveyed.",
        ),
    ]
    for site_id, name_zh, name_en, *_rest in K.BUILT_SEEDS:
        mask = seed_masks[site_id]
        sites.append(
            Site(
                site_id, name_zh, name_en, "built_up_seed", mask, round(float(mask.sum()) * grid.pixel_ha, 1),
                "Ellipse at the centre of a built-up potential; the built-up extent itself comes from "
                "rank allocation to the zone target.",
            )
        )
    sites.append(
        Site(
            "riverside_industrial_strip", "大厂—长芦沿江工业带（示意）",
            "Riverside industrial strip, Dachang / Changlu (illustrative)",
            "built_up_seed", strip_seed, float(K.INDUSTRIAL_STRIP_HA),
            "Liuhe land within ~2 km of the Yangtze between 118.745 E and 118.875 E; centre of an "
            "industrial built-up potential.",
        )
    )
    return tuple(sites)


def _change(
    lc2020: NDArray[np.uint8],
    *,
    grid: Grid,
    seed: int,
    zone: NDArray[np.uint8],
    land0: BoolArray,
    core: FloatArray,
    urban: FloatArray,
    ridge: FloatArray,
    north: FloatArray,
    d_water: FloatArray,
    protected: BoolArray,
) -> NDArray[np.uint8]:
    """Apply the 2020 -> 2025 land-cover changes (see :mod:`sinks.demo.constants`).

    Returns
    -------
    numpy.ndarray
        The 2025 map (a new array).
    """
    rng = rng_for(seed, "change")
    shape = lc2020.shape
    lc = lc2020.copy()
    # Growth fronts around the seats and the industrial strip (the ``core`` field), lobed by
    # smooth noise; villages do not grow.
    cities = (lc2020 == K.BUILT) & ((core > 0.5) | (urban > 0.6))
    d_city = _edt_m(~cities, grid.res)
    growth_pot = np.exp(-d_city / np.float32(1_200.0)) * (1.0 + 0.5 * core) + 0.15 * smooth_field(rng, shape, 8.0)
    del d_city, cities
    forest_noise = smooth_field(rng, shape, 6.0)
    near_forest = np.exp(-_edt_m(lc2020 != K.TREE, grid.res) / np.float32(600.0))
    for code, zone_id in enumerate(K.ZONE_IDS, start=1):
        zland = land0 & (zone == code)
        crop = zland & (lc2020 == K.CROP)
        n = int(round(K.URBAN_GROWTH_OF_CROP[zone_id] * crop.sum()))
        lc[top_k(growth_pot, crop & ~protected, n)] = K.BUILT
        n_aff = _ha_to_px(K.AFFORESTATION_HA[zone_id], grid)
        if n_aff:
            open_land = zland & np.isin(lc, (K.CROP, K.GRASS)) & ~protected
            # New planting next to existing forest: the Laoshan margins (Pukou), the northern hills (Liuhe).
            aff_pot = near_forest * ((ridge if zone_id == "pukou" else north) + 0.2) * (1.0 + 0.6 * forest_noise)
            lc[top_k(aff_pot, open_land, n_aff)] = K.TREE

    wet = lc2020 == K.WETLAND
    n_wet = int(wet.sum())
    loss_pot = (smooth_field(rng, shape, 12.0) + 1.0 * core).astype(np.float32)
    loss = top_k(loss_pot, wet & ~protected, int(round(K.WETLAND_LOSS_SHARE * n_wet)))
    to_built = loss & (core > 0.25)
    lc[to_built] = K.BUILT
    lc[loss & ~to_built] = K.CROP
    restore_pot = (np.exp(-d_water / 200.0) + 0.3 * smooth_field(rng, shape, 6.0)).astype(np.float32)
    open_near_water = land0 & np.isin(lc, (K.CROP, K.GRASS)) & (lc2020 != K.WETLAND) & (d_water < 600) & ~protected
    lc[top_k(restore_pot, open_near_water, int(round(K.WETLAND_RESTORE_SHARE * n_wet)))] = K.WETLAND

    # Revert isolated single-pixel changes (no changed 8-neighbour): no salt-and-pepper change.
    changed = lc != lc2020
    nb = ndimage.correlate(changed.astype(np.uint8), np.ones((3, 3), dtype=np.uint8), mode="constant")
    lonely = changed & (nb <= 1)
    lc[lonely] = lc2020[lonely]
    return lc
