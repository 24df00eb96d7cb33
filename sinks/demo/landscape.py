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

from sinks.demo import constants as K
from sinks.demo.fields import (
    BoolArray,
    FloatArray,
    mode_filter,
    point_blobs,
    rng_for,
    smooth_field,
    top_k,
    voronoi_values,
)
from sinks.demo.grid import Grid, geom_to_utm, lonlat_to_utm

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


def _edt_m(background: BoolArray, res: float) -> FloatArray:
    """Distance (m) from every pixel to the nearest ``background == False`` pixel."""
    return (ndimage.distance_transform_edt(background) * res).astype(np.float32)


def _largest_component(mask: BoolArray) -> BoolArray:
    """Largest 4-connected component of ``mask`` with interior holes filled."""
    labels, n = ndimage.label(mask)
    if n <= 1:
        return ndimage.binary_fill_holes(mask)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(labels == int(np.argmax(sizes)))


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
    mouth = shapely.ops.nearest_points(boundaries.yangtze, shapely.Point(pts[-1]))[0]
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
        Optional callback ``(message, fraction)``.

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
    land0 = inside & ~river  # zone land (denominator of the share targets)
    d_river = _edt_m(~river, res)  # distance to the Yangtze (m)
    d_bank = _edt_m(river, res)  # distance of river pixels to the nearest non-river pixel (m)

    lc = np.zeros(shape, dtype=np.uint8)
    lc[inside & river] = K.WATER
    fixed = ~inside | river  # pixels never touched by the allocation or the mode filter

    # ------------------------------------------------------------------ water features
    say("drawing the synthetic Chu River and Jinniu Lake", 0.06)
    chu = _chu_river(grid, boundaries, seed) & land0
    dxj, dyj = frame.rel(*K.JINNIU_LAKE_CENTRE)
    r_j = np.sqrt(dxj * dxj + dyj * dyj)
    lake_noise = smooth_field(rng_for(seed, "jinniu"), shape, 9.0)
    jinniu = _largest_component(
        _lowest(r_j / 1_500.0 + 0.45 * lake_noise, land0 & (zone == 2) & (r_j < 5_000), _ha_to_px(K.JINNIU_LAKE_HA, grid))
    ) & land0
    lc[chu | jinniu] = K.WATER
    fixed |= chu | jinniu

    # ------------------------------------------------------------------ Laoshan forest park
    say("shaping the Laoshan ridge forest", 0.10)
    u, v = frame.along_across(*K.LAOSHAN_CENTRE, K.LAOSHAN_BEARING_DEG)
    rng = rng_for(seed, "laoshan")
    half_len = K.LAOSHAN_LENGTH_M / 2.0
    wobble = 1.0 + 0.28 * np.sin(2 * np.pi * u / 9_000.0 + rng.uniform(0, 6.3)) + 0.12 * np.sin(
        2 * np.pi * u / 3_700.0 + rng.uniform(0, 6.3)
    )
    half_w = np.float32(K.LAOSHAN_MEAN_HALF_WIDTH_M) * wobble.astype(np.float32)
    q = np.sqrt((np.abs(u) / np.float32(half_len)) ** 6 + (v / half_w) ** 2)  # ~1 at the park edge
    q += 0.16 * smooth_field(rng, shape, 14.0)
    pukou_land = land0 & (zone == 1) & ~fixed
    park = _largest_component(_lowest(q, pukou_land & (q < 3), _ha_to_px(K.LAOSHAN_PARK_HA, grid))) & pukou_land
    ridge = np.exp(-np.clip(q - 0.6, 0.0, None) * 1.6).astype(np.float32)  # 1 on the ridge, decays outside
    tree_core = smooth_field(rng, shape, 3.0)
    laoshan_tree = _lowest(-(2.0 - q + 0.35 * tree_core), park, _ha_to_px(K.LAOSHAN_TREE_HA, grid))
    lc[laoshan_tree] = K.TREE
    del u, v, half_w, wobble

    # ------------------------------------------------------------------ Lvshuiwan wetland strip
    say("laying the Lvshuiwan wetland strip", 0.14)
    ax, ay = lonlat_to_utm(*K.LVSHUIWAN_UPSTREAM)
    bx, by = lonlat_to_utm(*K.LVSHUIWAN_DOWNSTREAM)
    chord = math.hypot(bx - ax, by - ay)
    bearing = math.degrees(math.atan2(bx - ax, by - ay))
    t, _n = frame.along_across(*K.LVSHUIWAN_UPSTREAM, bearing)
    rng = rng_for(seed, "lvshuiwan")
    along = np.clip(t / np.float32(chord), 0.0, 1.0)
    taper = np.clip(np.sin(np.pi * along), 0.05, 1.0) ** 0.35
    vary = 1.0 + 0.22 * np.sin(2 * np.pi * t / 3_100.0 + rng.uniform(0, 6.3))
    pukou_any = (zone == 1) & ~fixed | ((zone == 1) & river)
    in_reach = (t >= 0) & (t <= chord)
    score = np.where(
        river,
        d_bank / np.float32(K.LVSHUIWAN_SHOAL_WIDTH_M) / taper,
        d_river / (np.float32(K.LVSHUIWAN_LAND_WIDTH_M) * vary * taper),
    ).astype(np.float32)
    score += 0.08 * smooth_field(rng, shape, 6.0)
    cand = pukou_any & in_reach & (score < 3) & ~laoshan_tree & ~park
    lvshuiwan = _largest_component(_lowest(score, cand, _ha_to_px(K.LVSHUIWAN_SITE_HA, grid))) & cand
    lvs_wet = _lowest(score + 0.6 * smooth_field(rng, shape, 2.0), lvshuiwan, _ha_to_px(K.LVSHUIWAN_WETLAND_HA, grid))
    lc[lvs_wet] = K.WETLAND
    lc[lvshuiwan & river & ~lvs_wet] = K.WATER
    fixed |= lvshuiwan & river
    del t, _n, score, along, taper, vary

    # ------------------------------------------------------------------ Baguazhou ring
    say("drawing the Baguazhou shoal-wetland ring", 0.18)
    rng = rng_for(seed, "baguazhou")
    bagua_land = land0 & (zone == 3) & ~fixed
    ring_score = d_river / (1.0 + 0.35 * smooth_field(rng, shape, 20.0))
    ring = _lowest(ring_score, bagua_land, _ha_to_px(K.BAGUAZHOU_RING_HA, grid))
    ring_wet = _lowest(ring_score + 120.0 * smooth_field(rng, shape, 3.0), ring, _ha_to_px(K.BAGUAZHOU_RING_HA * K.BAGUAZHOU_RING_WETLAND_SHARE, grid))
    lc[ring_wet] = K.WETLAND
    del ring_score

    # ------------------------------------------------------------------ built-up potential
    say("building urban, village and industrial potentials", 0.24)
    rng = rng_for(seed, "built")
    core = np.zeros(shape, dtype=np.float32)
    seed_masks: dict[str, BoolArray] = {}
    for site_id, *_names, lon, lat, a, b, brg, weight in K.BUILT_SEEDS:
        uu, vv = frame.along_across(lon, lat, brg)
        rho2 = (uu / np.float32(a)) ** 2 + (vv / np.float32(b)) ** 2
        np.maximum(core, np.float32(weight) * np.exp(-0.5 * rho2 * 0.6), out=core)
        seed_masks[site_id] = (rho2 <= 1.0) & inside & ~river
    xs = [lonlat_to_utm(lon, 32.22)[0] for lon in K.INDUSTRIAL_STRIP_LON]
    xgrid = np.broadcast_to(frame.rel(K.INDUSTRIAL_STRIP_LON[0], 32.22)[0] + np.float32(xs[0]), shape)
    window = np.clip(np.minimum(xgrid - xs[0], xs[1] - xgrid) / 1_500.0 + 1.0, 0.0, 1.0)
    strip_pot = (np.exp(-0.5 * (d_river / np.float32(K.INDUSTRIAL_STRIP_DEPTH_M)) ** 2) * window).astype(np.float32)
    strip_pot *= zone == 2
    strip_seed = _lowest(-strip_pot, land0 & (zone == 2) & ~fixed & (strip_pot > 0.05), _ha_to_px(K.INDUSTRIAL_STRIP_HA, grid))
    np.maximum(core, 0.95 * strip_pot, out=core)
    del xgrid, window

    towns = np.zeros(shape, dtype=np.float32)
    for r0, c0, _z in _town_points(grid, zone, land0 & ~fixed & ~park, seed):
        sig = rng.uniform(14.0, 24.0)
        rr = (np.arange(shape[0], dtype=np.float32)[:, None] - r0) / sig
        cc = (np.arange(shape[1], dtype=np.float32)[None, :] - c0) / sig
        np.maximum(towns, np.exp(-0.5 * (rr * rr + cc * cc)), out=towns)
    villages = point_blobs(rng, shape, K.VILLAGES_PER_KM2 * (res * res) / 1e6, 2.3)
    urban_holes = smooth_field(rng, shape, 2.5)
    built_pot = (
        1.5 * core * (1.0 + 0.45 * urban_holes)
        + 0.9 * towns * (1.0 + 0.4 * urban_holes)
        + 0.85 * np.minimum(villages, 1.3)
        + 0.12 * smooth_field(rng, shape, 10.0)
    ).astype(np.float32)
    urban = np.clip(core + towns, 0.0, 1.0)

    # ------------------------------------------------------------------ other potentials
    say("building vegetation and water potentials", 0.32)
    rng = rng_for(seed, "vegetation")
    hills = smooth_field(rng, shape, 55.0)
    y_lo = lonlat_to_utm(118.9, 32.40)[1]
    y_hi = lonlat_to_utm(118.9, 32.58)[1]
    north = np.clip((grid.y_centres() - y_lo) / (y_hi - y_lo), 0.0, 1.0).astype(np.float32)
    north = np.broadcast_to(north, shape) * (zone == 2)
    jinniu_near = np.exp(-r_j / 4_000.0).astype(np.float32)
    village_halo = ndimage.gaussian_filter(np.minimum(villages, 1.0), 3.0)
    tree_pot = (
        1.6 * ridge
        + 0.45 * hills
        + 0.9 * north * (1.0 + 0.5 * hills)
        + 0.6 * jinniu_near
        + 0.35 * smooth_field(rng, shape, 3.0)
        + 0.35 * urban
        + 0.4 * village_halo
    ).astype(np.float32)
    shrub_pot = (0.8 * ridge + 0.4 * hills + 0.6 * smooth_field(rng, shape, 4.0) + 0.5 * north).astype(np.float32)
    grass_pot = (
        0.7 * urban
        + 0.6 * np.exp(-d_river / 700.0)
        + 0.6 * smooth_field(rng, shape, 5.0)
        + 0.3 * ridge
    ).astype(np.float32)
    bare_pot = (0.9 * urban + 0.6 * smooth_field(rng, shape, 3.0) + 0.4 * np.exp(-d_river / 400.0)).astype(np.float32)

    parcels, n_parcels = voronoi_values(rng_for(seed, "parcels"), shape, 70.0)
    parcel_val = rng_for(seed, "parcel_values").random(n_parcels, dtype=np.float32)[parcels]
    water_now = lc == K.WATER
    d_water = _edt_m(~water_now, res)
    lowland = smooth_field(rng, shape, 80.0)
    pond_pot = (
        1.0 * parcel_val
        + 0.25 * smooth_field(rng, shape, 1.5)
        + 0.9 * np.exp(-d_water / 2_500.0)
        + 0.35 * lowland
        - 1.2 * urban
        - 0.8 * ridge
    ).astype(np.float32)
    wet_pot = (np.exp(-d_water / 300.0) + 0.35 * smooth_field(rng, shape, 4.0) - 0.6 * urban).astype(np.float32)

    # ------------------------------------------------------------------ allocation 2020
    say("allocating land cover 2020 to the zone targets", 0.40)
    order = (
        (K.WATER, pond_pot),
        (K.WETLAND, wet_pot),
        (K.BUILT, built_pot),
        (K.TREE, tree_pot),
        (K.SHRUB, shrub_pot),
        (K.BARE, bare_pot),
        (K.GRASS, grass_pot),
    )
    for code, zone_id in enumerate(K.ZONE_IDS, start=1):
        zland = land0 & (zone == code)
        n_land = int(zland.sum())
        targets = K.LAND_SHARE_TARGETS[zone_id]
        for cls, pot in order:
            want = int(round(targets[cls] * n_land)) - int((lc[zland] == cls).sum())
            free = zland & (lc == 0)
            lc[top_k(pot, free, want)] = cls
        lc[zland & (lc == 0)] = K.CROP
    lc = mode_filter(lc, 3, fixed | laoshan_tree | lvs_wet)
    lc2020 = lc

    # ------------------------------------------------------------------ change to 2025
    say("applying the 2020 -> 2025 changes", 0.52)
    lc2025 = _change(
        lc2020,
        grid=grid,
        seed=seed,
        zone=zone,
        land0=land0,
        built_pot=built_pot,
        core=core,
        ridge=ridge,
        north=north,
        d_water=d_water,
        protected=lvshuiwan | laoshan_tree,
    )

    # ------------------------------------------------------------------ sites
    sites = [
        Site(
            "laoshan_nfp", "老山国家森林公园（示意范围）", "Laoshan National Forest Park (illustrative extent)",
            "forest_park", park, K.LAOSHAN_PARK_HA,
            "Illustrative ridge polygon (SW-NE, ~30 km) in central Pukou; area = the published 80 km² "
            "figure, tree cover inside = the published 76.5 km² (7650 ha); not a surveyed boundary.",
        ),
        Site(
            "lvshuiwan_wetland", "绿水湾湿地（西江口湿地公园，示意范围）", "Lvshuiwan / Xijiangkou wetland strip (illustrative)",
            "wetland_park", lvshuiwan, K.LVSHUIWAN_SITE_HA,
            "Illustrative strip on the north (Pukou) bank, ~11 km from the Third Yangtze Bridge corridor "
            "toward opposite the Youth Olympic Park, land up to ~1.2 km inland plus ~250 m of shoal; "
            "area = the pre-2017 17.23 km², wetland inside = the revised 1679 ha.",
        ),
        Site(
            "baguazhou_ring", "八卦洲沿江滩涂湿地环（示意）", "Baguazhou riverside shoal wetland ring (illustrative)",
            "wetland_ring", ring, K.BAGUAZHOU_RING_HA,
            "Ring inside the GSHHG island shoreline, ~240 m wide on average; 82 % herbaceous wetland.",
        ),
    ]
    for site_id, name_zh, name_en, *_rest in K.BUILT_SEEDS:
        sites.append(
            Site(site_id, name_zh, name_en, "built_up_seed", seed_masks[site_id],
                 round(float(seed_masks[site_id].sum()) * grid.pixel_ha, 1),
                 "Centre of a built-up potential (ellipse shown); built-up extent itself comes from rank allocation."))
    sites.append(
        Site("riverside_industrial_strip", "大厂—长芦沿江工业带（示意）", "Riverside industrial strip, Dachang / Changlu (illustrative)",
             "built_up_seed", strip_seed, float(K.INDUSTRIAL_STRIP_HA),
             "Liuhe land within ~2 km of the Yangtze between 118.745 E and 118.875 E; centre of an industrial built-up potential.")
    )
    return Landscape(
        grid=grid,
        zone=zone,
        river=river,
        landcover={2020: lc2020, 2025: lc2025},
        sites=tuple(sites),
        parcels=parcels,
        n_parcels=n_parcels,
    )


def _change(
    lc2020: NDArray[np.uint8],
    *,
    grid: Grid,
    seed: int,
    zone: NDArray[np.uint8],
    land0: BoolArray,
    built_pot: FloatArray,
    core: FloatArray,
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
    built = lc2020 == K.BUILT
    near_built = ndimage.binary_dilation(built, iterations=2)
    growth_pot = (built_pot + 1.2 * core + 0.5 * near_built + 0.1 * smooth_field(rng, shape, 4.0)).astype(np.float32)
    forest_noise = smooth_field(rng, shape, 5.0)
    for code, zone_id in enumerate(K.ZONE_IDS, start=1):
        zland = land0 & (zone == code)
        crop = zland & (lc2020 == K.CROP)
        n = int(round(K.URBAN_GROWTH_OF_CROP[zone_id] * crop.sum()))
        lc[top_k(growth_pot, crop & ~protected, n)] = K.BUILT
        n_aff = _ha_to_px(K.AFFORESTATION_HA[zone_id], grid)
        if n_aff:
            open_land = zland & np.isin(lc, (K.CROP, K.GRASS)) & ~protected
            aff_pot = (ridge if zone_id == "pukou" else north) + 0.15 * forest_noise
            lc[top_k(aff_pot.astype(np.float32), open_land, n_aff)] = K.TREE

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
