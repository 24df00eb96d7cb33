"""Illustrative planning layers for the greening-coverage views: ``units`` and ``parks``.

Both layers are **synthetic**. They let the dashboard demonstrate per-street greening coverage
and a park-service-radius indicator on the demo; they are not street boundaries and not a park
inventory.

* ``units``: stand-ins for the 24 sub-district units (街道/镇/农场) of Jiangbei New Area. No
  public street polygons exist (``shared/data/admin/PROVENANCE.md``), so each district's land
  (district polygon minus the Yangtze) is split into as many cells as it has real units: Pukou
  11 (9 streets + 2 state farms), Liuhe 12 (11 streets + 1 town), Baguazhou 1 (the island). The
  cells are a centroidal Voronoi partition: seeds from farthest-point sampling of a 200 m lattice
  of land points (start drawn with the demo seed), moved by Lloyd iterations to the centroids of
  their lattice points, snapped to the nearest land point; Voronoi cells clipped to the land.
  Pieces of a cell cut off from it by the clipping go to the same-district unit with which they
  share the longest border (detached islands stay where they are). Names are deliberately
  generic ("浦口示意单元01"), never real street names.
* ``parks``: green patches of the 2025 synthetic land cover that sit in or next to towns: 4-connected
  components of tree, shrub and grass pixels of 2 to 200 ha within 1 km of a town (an
  8-connected built-up patch of at least 100 ha) whose 300 m ring is at least 30 % built-up
  (an urban setting, not open country). Each patch counts for its nearest town; a town of ``A``
  ha keeps its ``round(sqrt(A) / 12)`` (1 to 8) largest patches, at most 60 in all. Outlines
  follow pixel edges, holes under 5 pixels are filled, then simplified by 15 m and clipped to
  land (study area minus the Yangtze) and to the parks already kept (no overlaps).

All geometry is made in UTM 50N and written in EPSG:4326.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from rasterio import features
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from sinks.demo import constants as K
from sinks.demo.fields import rng_for
from sinks.demo.grid import geom_to_lonlat
from sinks.demo.landscape import Boundaries, Landscape

# --------------------------------------------------------------------------- units

# Number of real sub-district units per district (shared/data/admin/jiangbei_streets.csv):
# Pukou 9 streets + 2 state farms, Liuhe 11 streets + 1 town, Baguazhou 1 street.
UNIT_COUNTS: dict[str, int] = {"pukou": 11, "liuhe": 12, "baguazhou": 1}
UNIT_NAMES: dict[str, tuple[str, str, str]] = {  # id prefix, Chinese and English district name
    "pukou": ("PK", "浦口", "Pukou"),
    "liuhe": ("LH", "六合", "Liuhe"),
    "baguazhou": ("BG", "八卦洲", "Baguazhou"),
}
UNIT_LATTICE_M = 200.0  # spacing of the land points that stand for the district's area
UNIT_LLOYD_MAX_ITER = 200
UNIT_LLOYD_TOL_M = 1.0  # stop when no seed moves more than this
UNIT_NOTE = (
    "Synthetic partition of the district's land (Voronoi cells of seeded points), one cell per real "
    "sub-district unit; NOT street (街道) boundaries, which are not published."
)

# --------------------------------------------------------------------------- parks

GREEN_CLASSES = (K.TREE, K.SHRUB, K.GRASS)
PARK_MIN_HA = 2.0
PARK_MAX_HA = 200.0
PARK_TOWN_MIN_HA = 100.0  # a "town": 8-connected built-up patch of at least this size
PARK_NEAR_TOWN_M = 1_000.0
PARK_RING_M = 300.0  # ring used to rank a patch's urban setting (built-up share)
PARK_MIN_RING_BUILT = 0.3  # a park sits in an urban setting: >= 30 % built-up within 300 m
PARK_PER_TOWN_DIVISOR = 12.0  # a town of A ha keeps up to round(sqrt(A) / 12) parks ...
PARK_MAX_PER_TOWN = 8  # ... at least 1, at most this many
PARK_MAX_TOTAL = 60
PARK_SIMPLIFY_M = 15.0
PARK_NOTE = (
    "Synthetic: a tree/shrub/grass patch of the illustrative 2025 land cover next to a synthetic "
    "town; not a real park or a park inventory."
)


def district_land(boundaries: Boundaries) -> dict[str, BaseGeometry]:
    """Land of each district (zone minus the Yangtze), UTM.

    Where zone polygons overlap (Pukou and Baguazhou share ~50 m² in the Tianditu data), the
    later zone in :data:`constants.ZONE_IDS` order keeps the overlap, as on the raster (zones are
    burnt in that order), so the districts' land does not overlap.
    """
    out: dict[str, BaseGeometry] = {}
    for i, zone_id in enumerate(K.ZONE_IDS):
        land = boundaries.zones[zone_id].difference(boundaries.yangtze)
        later = [boundaries.zones[z] for z in K.ZONE_IDS[i + 1 :]]
        if later:
            land = land.difference(shapely.union_all(later))
        out[zone_id] = _polygonal(shapely.make_valid(land))
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygon parts of ``geom`` (drops points/lines an overlay may leave)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def _lattice(land: BaseGeometry, step: float) -> NDArray[np.float64]:
    """``(n, 2)`` points of a ``step`` lattice (aligned to multiples of ``step``) inside ``land``."""
    minx, miny, maxx, maxy = land.bounds
    xs = np.arange(math.floor(minx / step) * step + step / 2, maxx, step)
    ys = np.arange(math.floor(miny / step) * step + step / 2, maxy, step)
    xx, yy = np.meshgrid(xs, ys)
    shapely.prepare(land)
    inside = shapely.contains_xy(land, xx, yy)
    return np.column_stack([xx[inside], yy[inside]])


def unit_seeds(land: BaseGeometry, n: int, seed: int, zone_id: str) -> NDArray[np.float64]:
    """``n`` seed points spread over ``land`` (a centroidal Voronoi tessellation of its lattice).

    Farthest-point sampling from a seeded start gives well-spread initial seeds; Lloyd
    iterations (each seed to the centroid of the lattice points nearest to it) even out the
    cell sizes; each final seed is snapped to its nearest lattice point, so it lies on land.
    """
    pts = _lattice(land, UNIT_LATTICE_M)
    if len(pts) < n:
        raise ValueError(f"{zone_id}: only {len(pts)} land points for {n} units")
    rng = rng_for(seed, "units", zone_id)
    chosen = [int(rng.integers(len(pts)))]
    d = np.hypot(*(pts - pts[chosen[0]]).T)
    for _ in range(n - 1):
        i = int(np.argmax(d))
        chosen.append(i)
        np.minimum(d, np.hypot(*(pts - pts[i]).T), out=d)
    seeds = pts[chosen].copy()
    for _ in range(UNIT_LLOYD_MAX_ITER):
        _, nearest = cKDTree(seeds).query(pts)
        counts = np.bincount(nearest, minlength=n)
        new = np.column_stack(
            [np.bincount(nearest, weights=pts[:, k], minlength=n) for k in range(2)]
        ) / np.maximum(counts, 1)[:, None]
        new[counts == 0] = seeds[counts == 0]
        moved = float(np.max(np.hypot(*(new - seeds).T)))
        seeds = new
        if moved < UNIT_LLOYD_TOL_M:
            break
    _, snap = cKDTree(pts).query(seeds)
    if len(np.unique(snap)) < n:
        raise ValueError(f"{zone_id}: two unit seeds fell on the same land point")
    return pts[snap]


def _shared_border(a: BaseGeometry, b: BaseGeometry) -> float:
    """Length of the common boundary of two polygons (m)."""
    if not a.intersects(b):
        return 0.0
    return float(shapely.intersection(a.boundary, b.boundary).length)


def _reattach_fragments(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Move pieces cut off from their cell to the neighbour with the longest shared border.

    The largest part of each cell stays; every other part goes to the other cell whose geometry
    shares the longest border with it (if any: a detached island stays in its own cell).
    Repeated until nothing moves; the union of the cells is unchanged.
    """
    cells = list(cells)
    for _ in range(10):
        moved = False
        for i in range(len(cells)):
            parts = sorted(shapely.get_parts(cells[i]), key=lambda p: -p.area)
            if len(parts) < 2:
                continue
            keep = [parts[0]]
            for frag in parts[1:]:
                borders = [(_shared_border(frag, c) if j != i else 0.0) for j, c in enumerate(cells)]
                j = int(np.argmax(borders))
                if borders[j] > 1.0:
                    cells[j] = _polygonal(shapely.union(cells[j], frag))
                    moved = True
                else:
                    keep.append(frag)
            cells[i] = shapely.union_all(keep) if len(keep) > 1 else keep[0]
        if not moved:
            break
    return cells


def partition(land: BaseGeometry, seeds: NDArray[np.float64]) -> list[BaseGeometry]:
    """Voronoi cells of ``seeds`` clipped to ``land``, in seed order (UTM)."""
    if len(seeds) == 1:
        return [land]
    frame = shapely.box(*land.buffer(10_000.0).bounds)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=frame, ordered=True)
    clipped = [_polygonal(shapely.make_valid(c.intersection(land))) for c in shapely.get_parts(cells)]
    return _reattach_fragments(clipped)


def units_frame(boundaries: Boundaries, seed: int) -> gpd.GeoDataFrame:
    """The ``units`` layer (EPSG:4326): a synthetic partition of each district's land."""
    records = []
    for zone_id, land in district_land(boundaries).items():
        n = UNIT_COUNTS[zone_id]
        seeds = unit_seeds(land, n, seed, zone_id)
        # Number the cells north to south, then west to east.
        order = sorted(range(n), key=lambda k: (-round(seeds[k, 1], 3), round(seeds[k, 0], 3)))
        cells = partition(land, seeds)
        prefix, zh, en = UNIT_NAMES[zone_id]
        for rank, k in enumerate(order, start=1):
            geom = shapely.normalize(cells[k])
            records.append(
                {
                    "unit_id": f"{prefix}{rank:02d}",
                    "name_zh": f"{zh}示意单元{rank:02d}",
                    "name_en": f"{en} illustrative unit {rank:02d}",
                    "district_id": zone_id,
                    "area_km2": round(geom.area / 1e6, 3),
                    "illustrative": True,
                    "note": UNIT_NOTE,
                    "geometry": geom_to_lonlat(geom),
                }
            )
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")


def _fill_small_holes(poly: BaseGeometry, max_area: float) -> BaseGeometry:
    """``poly`` without interior rings smaller than ``max_area`` (m²)."""
    out = []
    for p in shapely.get_parts(poly):
        holes = [r for r in p.interiors if shapely.Polygon(r).area >= max_area]
        out.append(shapely.Polygon(p.exterior, holes))
    return shapely.union_all(out) if len(out) > 1 else out[0]


def park_candidates(
    lc: NDArray[np.uint8], pixel_m: float
) -> tuple[NDArray[np.int32], dict[int, list[tuple[float, float, int]]], NDArray[np.float64]]:
    """Green patches that qualify as parks, grouped by the town they are nearest to.

    Returns
    -------
    labels, per_town, town_ha
        4-connected labels of the tree/shrub/grass pixels; ``{town label: [(ring built-up share,
        area ha, patch label), ...]}``; area (ha) of every 8-connected built-up patch by label.
    """
    px_ha = pixel_m * pixel_m / 1e4
    built = lc == K.BUILT
    blab, _ = ndimage.label(built, structure=np.ones((3, 3), dtype=bool))
    bsize = np.bincount(blab.ravel()) * px_ha
    bsize[0] = 0.0
    town_ids = np.flatnonzero(bsize >= PARK_TOWN_MIN_HA)
    towns = np.isin(blab, town_ids)
    dist, (ri, ci) = ndimage.distance_transform_edt(~towns, return_indices=True)
    dist *= pixel_m
    nearest_town = blab[ri, ci]
    del ri, ci

    green = np.isin(lc, GREEN_CLASSES)
    glab, n = ndimage.label(green)
    gsize = np.bincount(glab.ravel()) * px_ha
    ring_px = int(round(PARK_RING_M / pixel_m))
    per_town: dict[int, list[tuple[float, float, int]]] = {}
    for label, sl in enumerate(ndimage.find_objects(glab), start=1):
        if sl is None or not (PARK_MIN_HA <= gsize[label] <= PARK_MAX_HA):
            continue
        win = tuple(
            slice(max(0, s.start - ring_px), min(dim, s.stop + ring_px)) for s, dim in zip(sl, lc.shape, strict=True)
        )
        comp = glab[win] == label
        d = np.where(comp, dist[win], np.inf)
        k = np.unravel_index(int(np.argmin(d)), d.shape)
        if d[k] > PARK_NEAR_TOWN_M:
            continue
        ring = (ndimage.distance_transform_edt(~comp) <= ring_px) & ~comp & (lc[win] > 0)
        share = float(built[win][ring].mean()) if ring.any() else 0.0
        if share < PARK_MIN_RING_BUILT:
            continue
        per_town.setdefault(int(nearest_town[win][k]), []).append((share, float(gsize[label]), label))
    return glab, per_town, bsize


def select_park_patches(lc: NDArray[np.uint8], pixel_m: float) -> tuple[NDArray[np.int32], list[int]]:
    """Label image of the green patches and the labels chosen as parks (see the module doc).

    Returns
    -------
    labels, chosen
        4-connected labels of the tree/shrub/grass pixels, and the chosen labels in ranking order.
    """
    glab, per_town, bsize = park_candidates(lc, pixel_m)
    ranked: list[tuple[float, float, int]] = []
    for town, cands in per_town.items():
        keep = max(1, min(PARK_MAX_PER_TOWN, round(math.sqrt(bsize[town]) / PARK_PER_TOWN_DIVISOR)))
        ranked += sorted(cands, key=lambda t: (-t[1], -t[0], t[2]))[:keep]  # largest first
    ranked.sort(key=lambda t: (-t[1], -t[0], t[2]))
    return glab, [label for _s, _a, label in ranked[:PARK_MAX_TOTAL]]


def parks_frame(landscape: Landscape, boundaries: Boundaries) -> gpd.GeoDataFrame:
    """The ``parks`` layer (EPSG:4326): illustrative parks from the 2025 land cover."""
    grid = landscape.grid
    glab, chosen = select_park_patches(landscape.landcover[2025], grid.res)
    sel = np.isin(glab, chosen)
    pieces: dict[int, list[BaseGeometry]] = {}
    for geom, val in features.shapes(
        np.where(sel, glab, 0).astype(np.int32), mask=sel, transform=grid.transform, connectivity=4
    ):
        pieces.setdefault(int(val), []).append(shapely.geometry.shape(geom))
    land = boundaries.study_area.difference(boundaries.yangtze)
    lands = district_land(boundaries)
    shapely.prepare(land)
    taken: list[BaseGeometry] = []
    parks = []
    for label in chosen:
        raw = shapely.union_all(pieces[label])
        geom = _fill_small_holes(raw, 5 * grid.res * grid.res)
        geom = geom.simplify(PARK_SIMPLIFY_M, preserve_topology=True).intersection(land)
        if taken:
            geom = geom.difference(shapely.union_all(taken))
        geom = _polygonal(shapely.make_valid(geom))
        if geom.is_empty or geom.area / 1e4 < PARK_MIN_HA:
            continue
        taken.append(geom)
        district = max(K.ZONE_IDS, key=lambda z: geom.intersection(lands[z]).area)
        parks.append((district, geom))
    # Number the parks by district, then north to south, then west to east.
    parks.sort(
        key=lambda t: (K.ZONE_IDS.index(t[0]), -round(t[1].centroid.y, 1), round(t[1].centroid.x, 1))
    )
    records = []
    for i, (district, geom) in enumerate(parks, start=1):
        geom = shapely.normalize(geom)
        records.append(
            {
                "park_id": f"PA{i:02d}",
                "name_zh": f"示意公园{i:02d}",
                "name_en": f"Illustrative park {i:02d}",
                "kind": "park",
                "district_id": district,
                "area_ha": round(geom.area / 1e4, 2),
                "illustrative": True,
                "note": PARK_NOTE,
                "geometry": geom_to_lonlat(geom),
            }
        )
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")
