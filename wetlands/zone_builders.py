"""Protection zones drawn from rules: the Yangtze shoreline belt and drinking-water-source zones.

Yangtze shoreline belt
    The Yangtze River Protection Law (in force 2021-03-01), Art. 26, bans new or expanded
    chemical parks and projects within 1 km of the shoreline of the main stem and its
    tributaries. :func:`shoreline_belt` draws that belt as ``buffer(water, d) - water``: the land
    within ``d`` of the water polygon, on both banks and around every island (a hole in the
    river polygon), optionally clipped to a study area.

Drinking-water-source zones of a river intake
    HJ 338-2018 (Technical guideline for delineating source water protection areas) sets the
    method; Jiangsu applies the provincial NPC Standing Committee decision on drinking-water
    sources, as in 苏政复〔2009〕2号: level 1 is the water from 500 m upstream to 500 m downstream
    of the intake and 500 m toward the opposite bank, plus the land on the intake bank to 100 m
    beyond the landward toe of the levee; level 2 a further 1500 m upstream and 500 m downstream;
    quasi-protection a further 2000 m upstream and 1000 m downstream. The distances are
    editable, cited parameters (:class:`WaterSourceRules`, ``data/protection/water_source_rules.csv``);
    the levee position is unknown here, so the land width is a proxy (200 m inland of the bank).

    The zones follow the channel, not circles around the intake:

    1. :func:`river_centreline` approximates the medial axis of the water polygon: the boundary
       is densified, the Voronoi diagram of those points is taken (scipy), the Voronoi edges that
       lie inside the polygon form a graph, and the shortest path between the most upstream and
       the most downstream skeleton nodes (along the flow direction) is the centreline. Given an
       intake, the path is routed through the skeleton node nearest to it, so an intake on a side
       branch around an island gets the centreline of its own branch.
    2. The intake's station ``s0`` on the centreline gives each level's section, e.g.
       ``[s0 - 500, s0 + 500]`` for level 1 (stations grow downstream).
    3. The section's channel is the water inside the flat-capped corridor around the centreline
       section and inside the union of its maximal inscribed discs (centre on the centreline,
       radius = distance to the shore), so a tributary mouth or another reach of a meander is
       not taken. The intake bank is found by walking along the boundary ring that holds the
       intake's nearest shore point (the river's outer shore or an island's), upstream and
       downstream from the intake, over that channel's shore, until the ring's stations reach the
       section's ends or turn back (an island's head or tail, a river's end). So the bank is the
       intake's own shore past a bifurcation, never "whatever shore lies on the intake's side of
       the centreline" (which, upstream of an island's head, is the far bank of the main stem).
       Where the intake's shore ends inside the section (an intake on an island, a section past
       the island's head or tail), the water zone carries on beside the line drawn on from the
       island's tip parallel to the centreline (approximately the parting line of the two
       branches' waters), toward the opposite bank, with no land part; a note says so, as it
       does when the section passes an island's head or tail across the channel or the mouth of
       a side channel on the intake's bank.
    4. Water part = channel within ``water_width_m`` of the intake bank; land part = land within
       ``land_width_m`` of that bank inside the corridor. Level 2 is the same on its longer
       section minus level 1, quasi minus levels 1 and 2. A piece of a level not connected to
       the stricter levels' zone (nor, in a chain, to its connected pieces) is left out, with a
       note giving its area. Every note starts with its zone id ("BG-Q-land: ...").
    5. Several intakes: where zones of different levels overlap, the stricter level wins and the
       note says which part went where; same-level overlaps stay with both intakes, noted.

Accuracy: along a channel the centreline is within a fraction of the sampling step
(``spacing_m``) of the true medial axis. At a cut-off river end the skeleton runs into the
corners; that run is replaced by the axis carried straight on to the end, and the cut itself is
not taken as a bank. Zones that reach a river end stop there, with a note saying how many metres
were missing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, diags
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import Voronoi, cKDTree
from shapely import ops

from geodata.crs import ANALYSIS_CRS, require_crs
from geodata.errors import DataError, EmptyResultError, GeometryError, SchemaError

PROTECTION_DIR = Path(__file__).resolve().parents[1] / "data" / "protection"
WATER_SOURCE_RULES_CSV = PROTECTION_DIR / "water_source_rules.csv"

YANGTZE_LAW_ART26 = ("Yangtze River Protection Law of the PRC (2020, in force 2021-03-01), Art. 26: no new or "
                     "expanded chemical parks or projects within 1 km of the main-stem and tributary shorelines")
MAX_BELT_M = 50_000.0
MAX_RULE_M = 50_000.0

LEVEL_KEYS = ("level_1", "level_2", "quasi")
PARAMETERS = ("upstream_m", "downstream_m", "water_width_m", "land_width_m")
VERIFIED = ("yes", "no", "proxy")  # the status a parameter shows (dashboard labels exist for these)
VERIFIED_WORDS = ("yes", "secondary", "no", "proxy")  # how a `verified` cell may start; only "yes" is verified
ZONE_TYPES = {1: "ws_level1", 2: "ws_level2", 3: "ws_quasi"}
_LEVEL_WORDS = {1: "level 1", 2: "level 2", 3: "quasi-protection"}
_LEVEL_TAGS = {1: "L1", 2: "L2", 3: "Q"}
_CSV_COLUMNS = ("level", "parameter", "value", "unit", "citation", "verified", "note")

_JIANGSU = ("Jiangsu NPC Standing Committee decision on drinking-water-source protection, as applied in "
            "苏政复〔2009〕2号 (https://fx361.cc/page/2013/1005/21651485.shtml ; "
            "http://china-audit.com/lhd_7et8c5lfr605ej21u7tl_2.html)")
_JIANGSU_LAND = (f"{_JIANGSU}: land to 100 m beyond the landward toe of the levee; the 200 m is this dashboard's "
                 "proxy for it")
_ASSUMED = ("assumption of this dashboard: level 1's width (Jiangsu rule, secondary copy) is used; no width for this "
            "level was found in the Jiangsu text")
_SECONDARY = ("secondary: figures from a secondary copy of the 2009 Jiangsu text (magazine article, audit-site "
              "mirror), not checked against the official gazette")


@dataclass(frozen=True)
class LevelRule:
    """Distances of one zone level, in metres.

    ``upstream_m`` / ``downstream_m`` extend the section beyond the stricter level (level 2 starts
    where level 1 ends), as the rule is worded. ``water_width_m`` is measured from the intake bank
    toward the opposite bank, ``land_width_m`` inland from the bank; both from the bank itself.
    """

    key: str
    upstream_m: float
    downstream_m: float
    water_width_m: float
    land_width_m: float


@dataclass(frozen=True)
class RuleSource:
    """Where one parameter value comes from: citation, whether it is verified, a note."""

    level: str
    parameter: str
    value: float
    citation: str
    verified: str
    note: str = ""
    verification: str = ""

    @property
    def is_verified(self) -> bool:
        """Only a ``verified`` cell that starts with "yes" counts as verified."""
        return self.verified == "yes"

    def __post_init__(self) -> None:
        if not self.verification:
            object.__setattr__(self, "verification", self.verified)


def _default_sources() -> tuple[RuleSource, ...]:
    land = ("proxy: the rule is 100 m beyond the landward toe of the levee on the intake bank; the levee "
            "position is unknown, 200 m inland of the bank stands in for it")
    width = "verify: the rule gives no width for this level; level 1's is used"
    sec = _SECONDARY
    rows = [
        ("level_1", "upstream_m", 500.0, _JIANGSU, "no", "", sec),
        ("level_1", "downstream_m", 500.0, _JIANGSU, "no", "", sec),
        ("level_1", "water_width_m", 500.0, _JIANGSU, "no", "500 m toward the opposite bank", sec),
        ("level_1", "land_width_m", 200.0, _JIANGSU_LAND, "proxy", land, "proxy"),
        ("level_2", "upstream_m", 1500.0, _JIANGSU, "no", "beyond level 1", sec),
        ("level_2", "downstream_m", 500.0, _JIANGSU, "no", "beyond level 1", sec),
        ("level_2", "water_width_m", 500.0, _ASSUMED, "no", width, "no"),
        ("level_2", "land_width_m", 200.0, _ASSUMED, "proxy", width, "proxy"),
        ("quasi", "upstream_m", 2000.0, _JIANGSU, "no", "beyond level 2", sec),
        ("quasi", "downstream_m", 1000.0, _JIANGSU, "no", "beyond level 2", sec),
        ("quasi", "water_width_m", 500.0, _ASSUMED, "no", width, "no"),
        ("quasi", "land_width_m", 200.0, _ASSUMED, "proxy", width, "proxy"),
    ]
    return tuple(RuleSource(*r) for r in rows)


def _verified_status(cell: str) -> str | None:
    """The status of a ``verified`` cell: "yes" (verified) only when it starts with "yes";
    "proxy" for a proxy; "no" for "no..." and "secondary..." (a secondary copy is not
    verification). None when the cell starts with none of :data:`VERIFIED_WORDS`."""
    word = cell.strip().lower().split(":", 1)[0].strip()
    word = word.split()[0] if word else ""
    if word not in VERIFIED_WORDS:
        return None
    return {"secondary": "no"}.get(word, word)


@dataclass(frozen=True)
class WaterSourceRules:
    """The distances that define river drinking-water-source zones, with their citations.

    The defaults are the Jiangsu rule (see the module docstring); :meth:`from_csv` reads the
    editable copy in ``data/protection/water_source_rules.csv``.
    """

    level_1: LevelRule = LevelRule("level_1", 500.0, 500.0, 500.0, 200.0)
    level_2: LevelRule = LevelRule("level_2", 1500.0, 500.0, 500.0, 200.0)
    quasi: LevelRule = LevelRule("quasi", 2000.0, 1000.0, 500.0, 200.0)
    sources: tuple[RuleSource, ...] = field(default_factory=_default_sources)
    source: str = "built-in defaults (Jiangsu rule)"

    @property
    def levels(self) -> tuple[LevelRule, LevelRule, LevelRule]:
        return (self.level_1, self.level_2, self.quasi)

    @property
    def citations(self) -> tuple[str, ...]:
        """The distinct citation texts, in order of first use."""
        seen: dict[str, None] = {}
        for s in self.sources:
            seen.setdefault(s.citation, None)
        return tuple(seen)

    def unverified(self) -> tuple[RuleSource, ...]:
        """Parameters not verified: every ``verified`` cell that does not start with "yes"
        (no, proxy, secondary...)."""
        return tuple(s for s in self.sources if not s.is_verified)

    def describe(self) -> list[str]:
        """One line per parameter: value, verification (as written in the table, marked
        VERIFIED or NOT VERIFIED), citation and note."""
        lines = []
        for s in self.sources:
            note = f"; {s.note}" if s.note else ""
            state = "VERIFIED" if s.is_verified else "NOT VERIFIED"
            lines.append(f"{s.level} {s.parameter} = {s.value:g} m [{state}: {s.verification}] {s.citation}{note}")
        return lines

    @classmethod
    def from_csv(cls, path: str | Path = WATER_SOURCE_RULES_CSV) -> "WaterSourceRules":
        """Read the rules table; every problem raises :class:`DataError` naming the row and the fix.

        Columns: level (level_1, level_2, quasi), parameter (upstream_m, downstream_m,
        water_width_m, land_width_m), value, unit (m), citation (required), verified (starts with
        yes / secondary / no / proxy, optionally followed by ": why"; only "yes..." counts as
        verified), note. Exactly one row per level and parameter.
        """
        from geodata.tables import read_csv

        label = str(path)
        df = read_csv(path, name=label, required=_CSV_COLUMNS[:-1])
        if "note" not in df.columns:
            df["note"] = ""
        values: dict[tuple[str, str], float] = {}
        sources = []
        for i, row in enumerate(df.to_dict("records")):
            where = f"row {i + 1} (line {i + 2})"
            level, param = row["level"].strip(), row["parameter"].strip()
            if level not in LEVEL_KEYS:
                raise DataError(label, f"{where}: unknown level {level!r}", f"use one of {list(LEVEL_KEYS)}")
            if param not in PARAMETERS:
                raise DataError(label, f"{where}: unknown parameter {param!r} for {level}", f"use one of {list(PARAMETERS)}")
            if (level, param) in values:
                raise DataError(label, f"{where}: {level} {param} is given twice", "keep one row per level and parameter")
            text = row["value"].strip()
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise DataError(label, f"{where}: {level} {param} value {text!r} is not a number", "write the distance in metres, e.g. 500")
            if value < 0:
                raise DataError(label, f"{where}: {level} {param} is negative ({value:g} m)", "distances are >= 0 metres")
            if value > MAX_RULE_M:
                raise DataError(label, f"{where}: {level} {param} = {value:g} m is more than {MAX_RULE_M:g} m",
                                "write metres, not centimetres; the rule's distances are hundreds to thousands of metres")
            if row["unit"].strip() != "m":
                raise DataError(label, f"{where}: {level} {param} unit is {row['unit']!r}", "give the value in metres and write unit m")
            verification = row["verified"].strip()
            verified = _verified_status(verification)
            if verified is None:
                raise DataError(label, f"{where}: verified is {row['verified']!r}",
                                f"start it with one of {list(VERIFIED_WORDS)} (e.g. 'secondary: copied from ...'); "
                                "only 'yes' counts as verified")
            citation = row["citation"].strip()
            if not citation:
                raise DataError(label, f"{where}: {level} {param} has no citation",
                                "cite the document the value comes from (or 'local decision: who, when')")
            values[(level, param)] = value
            sources.append(RuleSource(level, param, value, citation, verified, row["note"].strip(), verification))
        missing = [f"{lv} {p}" for lv in LEVEL_KEYS for p in PARAMETERS if (lv, p) not in values]
        if missing:
            raise DataError(label, f"rows are missing for {missing}", "add one row per level and parameter (12 rows)")
        levels = {lv: LevelRule(lv, *(values[(lv, p)] for p in PARAMETERS)) for lv in LEVEL_KEYS}
        return cls(levels["level_1"], levels["level_2"], levels["quasi"], tuple(sources), label)


# ---------------------------------------------------------------------------------------------
# Input checks


def _analysis_series(obj: Any, source: str, what: str) -> gpd.GeoSeries:
    """A GeoDataFrame/GeoSeries with a CRS -> its geometries in the analysis CRS."""
    if isinstance(obj, gpd.GeoDataFrame):
        series = obj.geometry
    elif isinstance(obj, gpd.GeoSeries):
        series = obj
    elif isinstance(obj, shapely.Geometry):  # a bare geometry has no CRS: refused below
        series = gpd.GeoSeries([obj])
    else:
        raise DataError(source, f"the {what} is a {type(obj).__name__}, not a GeoDataFrame or GeoSeries",
                        "read it with geodata.vectors.read_vector (or geopandas) so it keeps its CRS")
    require_crs(series.crs, source)
    return series.to_crs(ANALYSIS_CRS)


def _water_geometry(water: Any, source: str) -> shapely.Geometry:
    series = _analysis_series(water, source, "water layer")
    geoms = series[series.notna() & ~series.is_empty]
    if geoms.empty:
        raise GeometryError(source, "the water layer has no geometry", "choose the river polygon layer")
    kinds = set(geoms.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise GeometryError(source, f"the water layer must hold polygons, found {sorted(kinds)}",
                            "use the river's water polygon, not its centreline or points")
    geom = shapely.union_all(shapely.make_valid(np.asarray(geoms.values)))
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    if not polys:
        raise GeometryError(source, "the water polygons have no area", "check the water layer")
    return shapely.union_all(polys)


def _check_azimuth(flow_azimuth_deg: Any, source: str) -> float:
    ok = isinstance(flow_azimuth_deg, (int, float)) and not isinstance(flow_azimuth_deg, bool)
    if not ok or not math.isfinite(flow_azimuth_deg) or not 0.0 <= flow_azimuth_deg <= 360.0:
        raise DataError(source, f"flow_azimuth_deg is {flow_azimuth_deg!r}, not a direction in degrees within [0, 360]",
                        "give the direction the river flows, clockwise from north (the Yangtze at Nanjing: about 45-60)")
    return float(flow_azimuth_deg)


def _clip_geometry(clip_to: Any, source: str) -> shapely.Geometry:
    """A study area: a GeoDataFrame/GeoSeries with a CRS, or a shapely geometry taken to be in
    the analysis CRS already."""
    if isinstance(clip_to, shapely.Geometry):
        return clip_to
    series = _analysis_series(clip_to, source, "study area (clip_to)")
    return shapely.union_all(np.asarray(series[series.notna()].values))


# ---------------------------------------------------------------------------------------------
# Yangtze shoreline belt


def shoreline_belt(water: Any, *, distance_m: float = 1000.0, clip_to: Any = None,
                   source: str = "water layer") -> gpd.GeoDataFrame:
    """The land within ``distance_m`` of the water: the Yangtze River Protection Law Art. 26 belt.

    Parameters
    ----------
    water
        GeoDataFrame/GeoSeries of the river's water polygons, any CRS (declared).
    distance_m
        Belt width in metres (1000 by Art. 26); must be > 0 and at most 50 km.
    clip_to
        Optional study area to clip the belt to: GeoDataFrame/GeoSeries with a CRS, or a shapely
        geometry in the analysis CRS.
    source
        Name of the water layer, for messages.

    Returns
    -------
    GeoDataFrame in the analysis CRS, one row per connected piece (each bank, each island),
    largest first: zone_id ("YB-1"...), zone_type "yangtze_belt", name, distance_m, source,
    geometry.
    """
    ok = isinstance(distance_m, (int, float)) and not isinstance(distance_m, bool)
    if not ok or not math.isfinite(distance_m) or not 0.0 < distance_m <= MAX_BELT_M:
        raise DataError(source, f"belt distance_m is {distance_m!r}; it must be > 0 and at most {MAX_BELT_M:g} m",
                        "use 1000 (Yangtze River Protection Law Art. 26: 1 km of the shoreline)")
    geom = _water_geometry(water, source)
    belt = shapely.difference(shapely.buffer(geom, float(distance_m)), geom)
    if clip_to is not None:
        belt = shapely.intersection(belt, _clip_geometry(clip_to, "study area (clip_to)"))
    parts = [p for p in shapely.get_parts(belt) if p.geom_type == "Polygon" and p.area > 1.0]
    if not parts:
        where = " inside the study area" if clip_to is not None else ""
        raise EmptyResultError(source, f"the {distance_m:g} m shoreline belt has no land{where}",
                               "check that the study area overlaps the river's banks and both share the right CRS")
    parts.sort(key=lambda p: -p.area)
    filled = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(geom)])
    shapely.prepare(filled)
    names = [f"{distance_m:g} m shoreline belt ({'island' if filled.contains(p.representative_point()) else 'bank'})"
             for p in parts]
    return gpd.GeoDataFrame({
        "zone_id": [f"YB-{i}" for i in range(1, len(parts) + 1)],
        "zone_type": "yangtze_belt",
        "name": names,
        "distance_m": float(distance_m),
        "source": f"{source}; {YANGTZE_LAW_ART26}",
    }, geometry=parts, crs=ANALYSIS_CRS)


# ---------------------------------------------------------------------------------------------
# Centreline (approximate medial axis)


class _Skeleton:
    """Voronoi skeleton of one water polygon, as a weighted graph of nodes inside the polygon."""

    def __init__(self, poly: shapely.Polygon, spacing_m: float | None, source: str) -> None:
        perimeter = poly.boundary.length
        self.spacing = float(spacing_m) if spacing_m else max(10.0, perimeter / 8000.0)
        if not math.isfinite(self.spacing) or self.spacing <= 0:
            raise DataError(source, f"spacing_m is {spacing_m!r}", "give a positive sampling step in metres, e.g. 25")
        samples = np.unique(shapely.get_coordinates(shapely.segmentize(poly.boundary, self.spacing)), axis=0)
        vor = Voronoi(samples)
        ridges = np.asarray(vor.ridge_vertices)
        ridges = ridges[(ridges >= 0).all(axis=1)]
        inside = shapely.contains_xy(poly, vor.vertices[:, 0], vor.vertices[:, 1])
        ridges = ridges[inside[ridges].all(axis=1)]
        segs = shapely.linestrings(vor.vertices[ridges])
        shapely.prepare(poly)
        ridges = ridges[shapely.within(segs, poly)]
        if len(ridges) == 0:
            raise GeometryError(source, "no centreline could be traced in the water polygon",
                                f"use a finer spacing_m than {self.spacing:g} m (narrower than the channel)")
        used, inverse = np.unique(ridges.ravel(), return_inverse=True)
        edges = inverse.reshape(-1, 2)
        self.xy = vor.vertices[used]
        length = np.hypot(*(self.xy[edges[:, 0]] - self.xy[edges[:, 1]]).T)
        n = len(self.xy)
        graph = coo_matrix((np.r_[length, length], (np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]])),
                           shape=(n, n)).tocsr()
        _, labels = connected_components(graph, directed=False)
        main = np.bincount(labels).argmax()
        self.graph = graph
        self.nodes = np.flatnonzero(labels == main)  # the largest connected piece of the skeleton
        self.tree = cKDTree(self.xy[self.nodes])
        self.radius = cKDTree(samples).query(self.xy)[0]  # distance to the shore (boundary samples)
        self.poly = poly

    def path(self, azimuth_deg: float, through: shapely.Point | None) -> shapely.LineString:
        """Upstream end -> (node nearest ``through``) -> downstream end, smoothed."""
        a = math.radians(azimuth_deg)
        along = self.xy[self.nodes] @ np.array([math.sin(a), math.cos(a)])
        start, end = self.nodes[along.argmin()], self.nodes[along.argmax()]
        if through is None:
            route = self._shortest(start, end)
        else:
            route = self._through(start, self.nodes[self.tree.query([through.x, through.y])[1]], end)
        xy, radius = self.xy[route], self.radius[route]
        xy, radius = self._square_end(xy, radius)
        xy, radius = self._square_end(xy[::-1], radius[::-1])
        return _smooth(xy[::-1], self.spacing)

    def _square_end(self, xy: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Replace the skeleton's run into a corner of a cut-off river end by the channel axis
        carried straight on to the end.

        On that run the shore distance grows with the distance s from the end (r = 0.71 s into a
        square corner) and s stays below 1.5 r; along the channel r stays about constant. The
        run ends where r - s / 2 peaks; from there the axis goes on along its own direction (over
        one channel half-width) to the polygon's boundary.
        """
        if len(xy) < 3:
            return xy, radius
        s = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
        candidates = np.flatnonzero(s <= 1.5 * radius)
        k = int(candidates[np.argmax(radius[candidates] - 0.5 * s[candidates])])
        j = min(int(np.searchsorted(s, s[k] + max(radius[k], self.spacing))), len(xy) - 1)
        if j <= k:
            return xy, radius
        direction = (xy[k] - xy[j]) / np.hypot(*(xy[k] - xy[j]))
        ray = shapely.LineString([xy[k], xy[k] + direction * (3.0 * radius[k] + 2.0 * self.spacing)])
        exits = shapely.get_coordinates(ray.intersection(self.poly.boundary))
        if len(exits) == 0:
            return xy, radius
        exit_xy = exits[np.argmin(np.hypot(*(exits - xy[k]).T))]
        return np.vstack([exit_xy, xy[k:]]), np.r_[0.0, radius[k:]]

    def _through(self, start: int, via: int, end: int) -> list[int]:
        """A simple path start -> via -> end.

        The second leg may not reuse the first leg's nodes, so a ``via`` on a side branch makes
        the path follow that whole branch. When ``via`` is on a dead end (a spur toward the bank,
        an arm), the path turns off where it can go on, as close to ``via`` as possible. Both
        orders are tried (first leg fixed, or second leg fixed): the one that turns off nearest
        ``via`` wins, then the shorter.
        """
        options = []
        first = self._shortest(start, via)
        for k in range(len(first) - 1, -1, -1):
            second = self._shortest(first[k], end, avoid=first[:k])
            if second:
                options.append((self._length(first[k:]), first[:k] + second))
                break
        second = self._shortest(via, end)
        for k in range(len(second)):
            first = self._shortest(start, second[k], avoid=second[k + 1:])
            if first:
                options.append((self._length(second[:k + 1]), first + second[k + 1:]))
                break
        return min(options, key=lambda o: (round(o[0], 3), self._length(o[1])))[1]

    def _length(self, route: list[int]) -> float:
        return float(np.hypot(*np.diff(self.xy[route], axis=0).T).sum()) if len(route) > 1 else 0.0

    def _shortest(self, i: int, j: int, avoid: list[int] | None = None) -> list[int]:
        """Node indices of the shortest path i -> j, [] if ``avoid`` (nodes) cuts them apart."""
        graph = self.graph
        if avoid:
            keep = np.ones(graph.shape[0])
            keep[avoid] = 0.0
            mask = diags(keep)
            graph = (mask @ graph @ mask).tocsr()
        dist, pred = dijkstra(graph, indices=i, return_predecessors=True)
        if not np.isfinite(dist[j]):
            return []
        route = [j]
        while route[-1] != i:
            route.append(pred[route[-1]])
        return route[::-1]


def _smooth(xy: np.ndarray, step: float, half_window: int = 2) -> shapely.LineString:
    """Resample a polyline every ``step`` and take a moving average over 2 * half_window + 1
    points (ends kept): removes the Voronoi zigzag and moves a bend of radius R inward by only
    about ``(half_window * step) ** 2 / (6 R)`` (under 0.3 m for 20 m steps on a 1 km bend). The
    vertices stay ``step`` apart: coarser chords would shift stations projected from the banks."""
    line = shapely.LineString(xy)
    n = max(int(math.ceil(line.length / step)), 1)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n + 1)))
    width = 2 * half_window + 1
    if len(pts) > width:
        kernel = np.ones(width) / width
        inner = np.column_stack([np.convolve(pts[:, k], kernel, mode="valid") for k in (0, 1)])
        pts = np.vstack([pts[:half_window], inner, pts[-half_window:]])
    return shapely.LineString(pts)


def _polygon_part(geom: shapely.Geometry, near: shapely.Point | None) -> shapely.Polygon:
    parts = list(shapely.get_parts(geom))
    if near is None:
        return max(parts, key=lambda p: p.area)
    return min(parts, key=lambda p: p.distance(near))


def river_centreline(water_polygon: Any, *, flow_azimuth_deg: float, through: shapely.Point | None = None,
                     spacing_m: float | None = None, source: str = "water layer") -> shapely.LineString:
    """Approximate medial axis of a river polygon, oriented upstream -> downstream.

    Parameters
    ----------
    water_polygon
        A shapely (Multi)Polygon in the analysis CRS (metres), or a GeoDataFrame/GeoSeries in any
        declared CRS. Of a MultiPolygon, the part nearest ``through`` (else the largest) is used.
    flow_azimuth_deg
        Direction the river flows, degrees clockwise from north: the skeleton nodes farthest
        against / along it are the upstream / downstream ends.
    through
        Optional point (analysis CRS), e.g. an intake: the path goes through the skeleton node
        nearest to it, so a side branch around an island is followed when the point is there.
    spacing_m
        Boundary sampling step; default the perimeter / 8000, at least 10 m. It must be finer than
        the narrowest channel to follow.

    Returns
    -------
    shapely LineString in the analysis CRS.
    """
    azimuth = _check_azimuth(flow_azimuth_deg, source)
    if isinstance(water_polygon, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geom = _water_geometry(water_polygon, source)
    elif isinstance(water_polygon, (shapely.Polygon, shapely.MultiPolygon)) and not water_polygon.is_empty:
        geom = water_polygon
    else:
        raise GeometryError(source, f"the water is a {type(water_polygon).__name__}, not a polygon",
                            "pass the river's water polygon")
    return _Skeleton(_polygon_part(geom, through), spacing_m, source).path(azimuth, through)


# ---------------------------------------------------------------------------------------------
# Water-source zones


def _side(line: shapely.LineString, xy: np.ndarray) -> np.ndarray:
    """+1 where a point lies left of the line (looking downstream), -1 right, 0 on it."""
    pts = shapely.points(xy)
    s = shapely.line_locate_point(line, pts)
    step = min(1.0, line.length / 10.0)
    a = shapely.get_coordinates(shapely.line_interpolate_point(line, np.clip(s - step, 0.0, line.length)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(line, np.clip(s + step, 0.0, line.length)))
    c = shapely.get_coordinates(shapely.line_interpolate_point(line, s))
    t, v = b - a, xy - c
    return np.sign(t[:, 0] * v[:, 1] - t[:, 1] * v[:, 0])


@dataclass(frozen=True)
class _Intake:
    intake_id: str
    name: str
    point: shapely.Point  # on or in the water (snapped when it was on land)
    notes: tuple[str, ...]


def _read_intakes(intakes: Any, water: shapely.Geometry, id_field: str, name_field: str | None,
                  max_offset_m: float, source: str) -> list[_Intake]:
    if not isinstance(intakes, gpd.GeoDataFrame):
        raise DataError(source, f"the intakes are a {type(intakes).__name__}, not a GeoDataFrame",
                        "give a point layer with an id column (and a CRS)")
    for col in (id_field, name_field):
        if col is not None and col not in intakes.columns:
            raise SchemaError(source, f"the intakes have no column '{col}' (columns: {', '.join(map(str, intakes.columns))})",
                              "name the column that identifies each intake")
    if intakes.empty:
        raise DataError(source, "there are no intakes", "add at least one intake point")
    points = _analysis_series(intakes, source, "intake layer")
    ids = intakes[id_field].astype(str).str.strip()
    if (ids == "").any() or intakes[id_field].isna().any():
        raise SchemaError(source, f"column '{id_field}' has empty values", "give every intake an id")
    dup = sorted(set(ids[ids.duplicated()]))
    if dup:
        raise SchemaError(source, f"the intake ids {dup} are used more than once", "give every intake its own id")
    names = intakes[name_field].astype(str) if name_field else ids
    boundary = water.boundary
    out = []
    for iid, name, pt in zip(ids, names, points.values):
        if pt is None or pt.is_empty or pt.geom_type != "Point":
            kind = "nothing" if pt is None or pt.is_empty else pt.geom_type
            raise GeometryError(source, f"intake {iid!r} is a {kind}, not a point", "give each intake one point")
        notes: list[str] = []
        dist = water.distance(pt)
        if dist > max_offset_m:
            raise DataError(source, f"intake {iid!r} is {dist:,.0f} m from the water, farther than max_offset_m = "
                                    f"{max_offset_m:g} m",
                            "move the point onto the bank or into the river at the intake; if its coordinates come from "
                            "Amap/Gaode, Tencent or Baidu maps they are GCJ-02/BD-09 and sit 0.5-1 km off: convert them "
                            "to WGS84 (coord_system gcj02/bd09) instead of using them as WGS84")
        if dist > 0:
            pt = ops.nearest_points(boundary, pt)[0]
            notes.append(f"intake {iid} was {dist:.0f} m inland: snapped to the nearest bank point")
        out.append(_Intake(iid, str(name), pt, tuple(notes)))
    return out


_COMPASS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")


def _compass(vec: np.ndarray) -> str:
    """The 8-point compass word of a direction (dx east, dy north)."""
    bearing = math.degrees(math.atan2(vec[0], vec[1])) % 360.0
    return _COMPASS[int(round(bearing / 45.0)) % 8]


def _normal(line: shapely.LineString, s: float) -> np.ndarray:
    """Unit normal of the line at station s, pointing to its left (looking downstream)."""
    length = line.length
    step = min(max(line.length / 1000.0, 1.0), 50.0)
    p, q = (shapely.get_coordinates(line.interpolate(min(max(s + d, 0.0), length)))[0] for d in (-step, step))
    t = (q - p) / max(float(np.hypot(*(q - p))), 1e-9)
    return np.array([-t[1], t[0]])


def _offset_band(line: shapely.LineString, a: float, b: float, d0: float, d1: float, spacing: float) -> shapely.Geometry:
    """The band between the curves at signed distances d0 and d1 (left positive) from the line,
    stations a..b."""
    # vertices on a fixed grid of stations, so bands of different levels share their edges
    s = np.unique(np.r_[a, np.arange(math.ceil(a / spacing), math.floor(b / spacing) + 1) * spacing, b])
    s = s[(s >= a) & (s <= b)]
    c = shapely.get_coordinates(shapely.line_interpolate_point(line, s))
    normals = np.array([_normal(line, x) for x in s])
    ring = np.vstack([c + d0 * normals, (c + d1 * normals)[::-1]])
    return shapely.make_valid(shapely.Polygon(ring))


def _walk(st: np.ndarray, valid: np.ndarray, across: np.ndarray, i0: int, step: int, tol: float,
          target: float | None) -> tuple[list[int], float, str]:
    """Walk a ring's vertices from i0 in direction ``step`` (+1/-1).

    The walk keeps going while the stations of the vertices on the channel's shore (``valid``)
    move away from the intake's station; vertices off the channel (a tributary, the far side of
    an island, a cut-off river end) are passed over. It stops when the station reaches ``target``
    (when given), or when the stations turn back by more than ``tol`` (an island's head or
    tail, a river's end: the ring turns away), or at a channel-shore vertex ``across`` the
    centreline (the same ring come back as the far bank, round a river's end or a long stretch
    of shore off the channel). Returns the vertices walked up to the farthest station, that
    station, and why the walk stopped ("reached", "turned", "loop").
    """
    n = len(st)
    origin = st[i0]
    sign, ext, ext_k = 0.0, origin, 0
    for k in range(1, n):
        j = (i0 + step * k) % n
        if across[j]:
            break
        if not valid[j]:
            continue
        s = st[j]
        if sign == 0.0:
            if abs(s - origin) > tol:
                sign, ext, ext_k = float(np.sign(s - origin)), s, k
            continue
        if sign * (s - ext) >= 0.0:
            ext, ext_k = s, k
            if target is not None and sign * (s - target) >= 0.0:
                return [(i0 + step * m) % n for m in range(k + 1)], ext, "reached"
        elif sign * (ext - s) > tol:
            return [(i0 + step * m) % n for m in range(ext_k + 1)], ext, "turned"
    else:
        return [(i0 + step * m) % n for m in range(ext_k + 1)], ext, "loop"
    return [(i0 + step * m) % n for m in range(ext_k + 1)], ext, "turned"


def _section_zones(line: shapely.LineString, part: shapely.Polygon, water: shapely.Geometry, intake: shapely.Point,
                   up: float, down: float, rule: LevelRule, spacing: float) -> tuple[shapely.Geometry, shapely.Geometry, list[str]]:
    """Cumulative water and land zones of one section [s0 - up, s0 + down] of ``line``.

    The intake's bank is found by walking, from the intake's nearest shore point, along the
    boundary ring that holds it (the river's outer shore or an island's), upstream and downstream
    until the ring reaches the section's ends or turns away (an island's head or tail): the zone
    never jumps to the other bank where "the intake's side of the centreline" changes meaning
    past a bifurcation. Where the intake's own shore ends inside the section (intake on an
    island, section past its head or tail), the water zone carries on beside the line drawn on
    from the island's tip parallel to the centreline (the parting line of the two branches'
    waters, approximated), toward the opposite bank; that stretch has no land part. Notes say
    where a section passes an island's head or tail or a side channel's mouth.
    """
    notes = []
    length = line.length
    s0 = line.project(intake)
    a, b = s0 - up, s0 + down
    if a < 0:
        notes.append(f"only {s0:,.0f} m of the {up:,.0f} m upstream exist in the water layer: the zone stops at the river's end")
    if b > length:
        notes.append(f"only {length - s0:,.0f} m of the {down:,.0f} m downstream exist in the water layer: the zone stops at the river's end")
    a, b = max(a, 0.0), min(b, length)
    empty = shapely.Polygon()
    if b - a < 1.0:
        return empty, empty, notes
    section = shapely.segmentize(ops.substring(line, a, b), spacing)
    xy = shapely.get_coordinates(section)
    centres = shapely.points(xy)
    # disc radius = distance to the shore, but a vertex within a neighbour's radius (along the
    # line) takes that larger radius: near a cut-off river end the shore distance drops to the
    # cut, while the channel there is as wide as just upstream
    shore = shapely.distance(centres, part.boundary)
    station = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    reached = np.abs(station[:, None] - station[None, :]) <= shore[None, :]
    radius = np.where(reached, shore[None, :], 0.0).max(axis=1)
    tol = max(2.0 * spacing, 0.05 * radius.max())
    channel = shapely.buffer(shapely.union_all(shapely.buffer(centres, radius)), tol)
    reach = 2.0 * radius.max() + rule.land_width_m + rule.water_width_m + tol
    corridor = _corridor(line, a, b, reach)
    body = part.intersection(corridor).intersection(channel)
    if body.is_empty:
        return empty, empty, notes
    near_body = body.buffer(0.5)
    shapely.prepare(near_body)
    # shore vertices up to one step beyond the channel's cut ends count, so the bank reaches the cuts
    shore_body = body.buffer(spacing + 0.5)
    shapely.prepare(shore_body)

    # the ring that holds the intake's nearest shore point, sampled every `spacing`
    nearest = ops.nearest_points(part.boundary, intake)[0]
    rings = [part.exterior, *part.interiors]
    r_idx = min(range(len(rings)), key=lambda i: rings[i].distance(nearest))
    ring_xy = shapely.get_coordinates(shapely.segmentize(shapely.LineString(rings[r_idx].coords), spacing))[:-1]
    pts = shapely.points(ring_xy)
    st = shapely.line_locate_point(line, pts)
    # a cut-off end of the river polygon (shore that projects onto the centreline's very ends)
    # is no bank
    valid = shapely.intersects(shore_body, pts) & (st > spacing) & (st < length - spacing)
    i0 = int(np.argmin(np.hypot(*(ring_xy - [nearest.x, nearest.y]).T)))
    side = _side(line, np.array([[nearest.x, nearest.y]]))[0]
    if side == 0:  # intake right on the centreline: its nearest shore decides
        side = _side(line, np.array([[intake.x, intake.y]]))[0] or 1.0
    turn_tol = max(4.0 * spacing, 100.0)
    sides = _side(line, ring_xy)
    across = valid & (sides == -side)
    valid = valid & ~across
    # which way along the ring is upstream: the walk whose stations fall first
    walks = [_walk(st, valid, across, i0, step, turn_tol, None) for step in (1, -1)]
    up_step = 1 if walks[0][1] - st[i0] <= walks[1][1] - st[i0] else -1
    up_walk = _walk(st, valid, across, i0, up_step, turn_tol, a)
    down_walk = _walk(st, valid, across, i0, -up_step, turn_tol, b)
    chain = up_walk[0][::-1] + down_walk[0][1:]
    ok = valid[chain]
    seg = np.flatnonzero(ok[:-1] & ok[1:])
    island = r_idx > 0
    # side channels / tributary mouths passed on the intake's bank: a run of shore off the channel
    runs = np.flatnonzero(ok)
    for i, j in zip(runs[:-1], runs[1:]):
        off = (j - i) * spacing
        ds = abs(st[chain[j]] - st[chain[i]])
        if off > 3.0 * ds + 4.0 * spacing and a + spacing < st[chain[i]] < b - spacing:
            notes.append(f"at station {st[chain[i]] - s0:+,.0f} m the intake's bank passes the mouth of a side channel "
                         f"or tributary (a confluence; {off:,.0f} m of its shore is not taken as bank)")
    bank = shapely.Polygon() if len(seg) == 0 else ops.linemerge(
        shapely.union_all(shapely.linestrings(np.stack([ring_xy[chain][seg], ring_xy[chain][seg + 1]], axis=1))))
    wet = body.intersection(bank.buffer(rule.water_width_m)) if rule.water_width_m > 0 and not bank.is_empty else empty
    land = empty
    if rule.land_width_m > 0 and not bank.is_empty:
        strip = corridor.intersection(bank.buffer(rule.land_width_m)).difference(water)
        near_bank = bank.buffer(1.0)
        land = shapely.union_all([p for p in shapely.get_parts(strip) if p.intersects(near_bank)])

    # the intake's shore ends inside the section: carry the water zone on beside the parting line
    extra = []
    for walk, lo_hi, word in ((up_walk, (a, None), "upstream"), (down_walk, (None, b), "downstream")):
        stop = walk[1]
        lo, hi = (lo_hi[0], stop) if word == "upstream" else (stop, lo_hi[1])
        if walk[2] == "reached" or hi - lo <= turn_tol:
            continue
        tip = ring_xy[walk[0][-1]]
        tip_d = float(side) * line.distance(shapely.Point(tip))
        toward = _compass(-side * _normal(line, (lo + hi) / 2.0))
        end = ("head" if word == "upstream" else "tail") if island else "end"
        kind = "a bifurcation" if word == "upstream" else "a confluence"
        if rule.water_width_m > 0:
            extra.append(body.intersection(_offset_band(line, lo, hi, tip_d, tip_d - side * rule.water_width_m, spacing)))
        if island:
            where = f"{word} of station {stop - s0:+,.0f} m the section passes the {end} of the island the intake lies on ({kind})"
        else:
            where = f"{word} of station {stop - s0:+,.0f} m the intake's shore turns away ({kind} or the river's end)"
        notes.append(f"{where}: the intake's bank ends there; for the {hi - lo:,.0f} m beyond, the water zone continues "
                     f"{rule.water_width_m:g} m from the line carried on from that tip parallel to the centreline, toward the "
                     f"{toward} bank (the water that flows past the intake's side of the tip), with no land part")
    if extra:
        wet = shapely.union_all([wet, *extra])

    # islands across the channel whose head or tail lies in the section
    bank_word = _compass(side * _normal(line, s0))
    centre_dist = radius.max() * 1.5
    for i, other in enumerate(rings):
        if i == r_idx:
            continue
        oxy = shapely.get_coordinates(shapely.segmentize(shapely.LineString(other.coords), spacing))
        opts = shapely.points(oxy)
        near = shapely.intersects(near_body, opts)
        if not near.any():
            continue
        ost = shapely.line_locate_point(line, opts)
        close = shapely.distance(opts, line) <= centre_dist
        head, tail = ost[close].min(), ost[close].max()
        for s, end, kind in ((head, "head", "a bifurcation"), (tail, "tail", "a confluence")):
            if a + spacing < s < b - spacing:
                notes.append(f"at station {s - s0:+,.0f} m the section passes the {end} of an island across the channel "
                             f"({kind}): the zone stays on the intake's ({bank_word}) bank")
    return _polygonal(wet), _polygonal(land), notes


def _corridor(line: shapely.LineString, a: float, b: float, reach: float) -> shapely.Geometry:
    """The band within ``reach`` of the centreline between stations a and b, cut square to the
    channel at both ends (the cut's direction is the chord over +/- reach / 2, steadier than the
    last short segment a flat-capped buffer would use)."""
    length = line.length
    band = ops.substring(line, max(a - reach, 0.0), min(b + reach, length)).buffer(reach, cap_style="flat")
    for s, outward in ((a, -1.0), (b, 1.0)):
        if (outward < 0 and s <= 0.0) or (outward > 0 and s >= length):
            continue  # the river ends here: the buffer's own flat end is the cut
        p, q = (shapely.get_coordinates(line.interpolate(min(max(s + d, 0.0), length)))[0] for d in (-reach / 2, reach / 2))
        t = (q - p) / np.hypot(*(q - p)) * outward
        n = np.array([-t[1], t[0]])
        c = shapely.get_coordinates(line.interpolate(s))[0]
        w = 1.5 * reach
        beyond = shapely.Polygon([c - w * n, c + w * n, c + w * n + 2 * reach * t, c - w * n + 2 * reach * t])
        band = band.difference(beyond)
    return band


def _connected(geom: shapely.Geometry, seed: shapely.Geometry, gap: float = 1.0
               ) -> tuple[shapely.Geometry, list[tuple[float, float]]]:
    """The parts of ``geom`` within ``gap`` of ``seed`` or, in a chain, of parts kept; and the
    (area, distance) of each part left out. An empty seed keeps everything."""
    parts = [p for p in shapely.get_parts(geom) if not p.is_empty]
    if seed.is_empty or not parts:
        return geom, []
    kept, grown = [], seed
    rest = parts
    while True:
        near = [p for p in rest if p.distance(grown) <= gap]
        if not near:
            break
        kept += near
        rest = [p for p in rest if not any(p is q for q in near)]
        grown = shapely.union_all([grown, *near])
    core = shapely.union_all([seed, *kept])
    return _polygonal(shapely.union_all(kept)) if kept else shapely.Polygon(), \
        [(p.area, p.distance(core)) for p in rest if p.area > 0.01]


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0.01]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def water_source_zones(intakes: Any, water: Any, *, rules: WaterSourceRules, flow_azimuth_deg: float,
                       id_field: str = "intake_id", name_field: str | None = None, max_offset_m: float = 150.0,
                       centreline: shapely.LineString | None = None, clip_to: Any = None,
                       spacing_m: float | None = None, source: str = "intakes",
                       water_label: str = "water layer") -> gpd.GeoDataFrame:
    """Level 1, level 2 and quasi-protection zones of river intakes, following the channel.

    Parameters
    ----------
    intakes
        Point GeoDataFrame (declared CRS) with a unique ``id_field``. A point on land within
        ``max_offset_m`` of the water is snapped to the bank (noted); farther is an error.
    water
        River water polygons (GeoDataFrame/GeoSeries, declared CRS).
    rules
        The distances (:class:`WaterSourceRules`).
    flow_azimuth_deg
        Direction of flow, degrees clockwise from north, within [0, 360].
    centreline
        Optional centreline (LineString in the analysis CRS) used for every intake; reversed
        (and noted) if it runs against the flow azimuth. By default one is traced per intake,
        through it (:func:`river_centreline`).
    clip_to
        Optional study area to clip the zones to (after the levels are settled); as in
        :func:`shoreline_belt`.
    spacing_m
        Boundary sampling step of the centreline (see :func:`river_centreline`).
    source, water_label
        Names of the intake and water layers, for messages.

    Returns
    -------
    GeoDataFrame in the analysis CRS, one row per intake x level x part (possibly an empty
    geometry, then the note says why): zone_id ("QL-L1-water", "QL-L2-land", "QL-Q-water"),
    zone_type (ws_level1/ws_level2/ws_quasi), level (1/2/3), part (water/land), intake_id,
    intake_name, area_ha, note, geometry.
    """
    azimuth = _check_azimuth(flow_azimuth_deg, water_label)
    if not isinstance(rules, WaterSourceRules):
        raise DataError("water-source rules", f"rules is a {type(rules).__name__}",
                        "pass WaterSourceRules.from_csv('data/protection/water_source_rules.csv')")
    ok = isinstance(max_offset_m, (int, float)) and not isinstance(max_offset_m, bool)
    if not ok or not math.isfinite(max_offset_m) or max_offset_m < 0:
        raise DataError(source, f"max_offset_m is {max_offset_m!r}", "give a distance in metres >= 0, e.g. 150")
    geom = _water_geometry(water, water_label)
    points = _read_intakes(intakes, geom, id_field, name_field, float(max_offset_m), source)
    given_line, reversed_note = None, None
    if centreline is not None:
        if not isinstance(centreline, shapely.LineString) or centreline.is_empty:
            raise GeometryError("centreline", f"the centreline is a {type(centreline).__name__}, not a LineString",
                                "pass a shapely LineString in the analysis CRS (EPSG:32650), upstream to downstream")
        start, end = shapely.get_coordinates(centreline)[[0, -1]]
        a = math.radians(azimuth)
        given_line = centreline
        if (end - start) @ np.array([math.sin(a), math.cos(a)]) < 0:
            given_line = centreline.reverse()
            reversed_note = ("the given centreline ran against flow_azimuth_deg "
                             f"{azimuth:g}: it was reversed to run upstream -> downstream")

    unverified = {(s.level, s.parameter): s for s in rules.unverified()}
    skeletons: dict[int, _Skeleton] = {}
    parts = list(shapely.get_parts(geom))
    rings: dict[tuple[str, int, str], shapely.Geometry] = {}
    notes: dict[tuple[str, int, str], list[str]] = {}
    for it in points:
        k = min(range(len(parts)), key=lambda i: parts[i].distance(it.point))
        part = parts[k]
        if given_line is not None:
            line = given_line
        else:
            if k not in skeletons:
                skeletons[k] = _Skeleton(part, spacing_m, water_label)
            line = skeletons[k].path(azimuth, it.point)
        spacing = skeletons[k].spacing if k in skeletons else (spacing_m or 25.0)
        up = down = 0.0
        before = {"water": shapely.Polygon(), "land": shapely.Polygon()}
        for level, rule in enumerate(rules.levels, start=1):
            up, down = up + rule.upstream_m, down + rule.downstream_m
            wet, land, sect_notes = _section_zones(line, part, geom, it.point, up, down, rule, spacing)
            # a level's zone is one with the stricter ones: pieces not connected to them are dropped
            seed = before["water"] if not before["water"].is_empty else it.point.buffer(max(spacing, 1.0))
            wet, dropped_wet = _connected(wet, seed)
            land, dropped_land = _connected(land, shapely.union_all([wet, before["land"], before["water"]]))
            dropped = {"water": dropped_wet, "land": dropped_land}
            for part_name, cumulative in (("water", wet), ("land", land)):
                key = (it.intake_id, level, part_name)
                # levels of one intake nest: each ring is its level's zone minus the stricter ones
                rings[key] = _polygonal(cumulative.difference(shapely.union_all([before["water"], before["land"]])))
                before[part_name] = shapely.union_all([before[part_name], cumulative])
                msg = list(it.notes) + ([reversed_note] if reversed_note else []) + sect_notes
                width = "water_width_m" if part_name == "water" else "land_width_m"
                states: dict[str, list[str]] = {}
                for param in ("upstream_m", "downstream_m", width):
                    src = unverified.get((rule.key, param))
                    if src is not None:
                        word = src.verification.split(":")[0].strip().lower()
                        state = ("a proxy" if src.verified == "proxy" else
                                 "not verified (secondary source)" if word.startswith("secondary") else "not verified")
                        states.setdefault(state, []).append(f"{param} = {src.value:g} m")
                for state, params in states.items():
                    msg.append(f"{', '.join(params)} {'is' if len(params) == 1 else 'are'} {state}")
                for area, gap in dropped[part_name]:
                    msg.append(f"{area / 1e4:.2f} ha of {part_name}, {gap:,.0f} m from the intake's zone and not connected "
                               "to it, left out (it lies beyond a bend, island or confluence, not along the intake's bank)")
                if rings[key].is_empty:
                    msg.append(f"no {part_name} at this level for this intake")
                notes[key] = msg

    resolved = _resolve_overlaps(rings, notes)
    clip = _clip_geometry(clip_to, "study area (clip_to)") if clip_to is not None else None
    rows = []
    names = {it.intake_id: it.name for it in points}
    for (iid, level, part_name), g in resolved.items():
        if clip is not None and not g.is_empty:
            clipped = _polygonal(g.intersection(clip))
            if clipped.area < g.area - 1.0:
                notes[(iid, level, part_name)].append(f"{(g.area - clipped.area) / 1e4:.2f} ha outside the study area left out")
            g = clipped
        # a 1 mm grid: near-collinear slivers between levels would self-intersect once reprojected
        g = _polygonal(shapely.set_precision(g, 0.001))
        zone_id = f"{iid}-{_LEVEL_TAGS[level]}-{part_name}"
        rows.append({
            "zone_id": zone_id,
            "zone_type": ZONE_TYPES[level],
            "level": level,
            "part": part_name,
            "intake_id": iid,
            "intake_name": names[iid],
            "area_ha": g.area / 1e4,
            "note": "; ".join(f"{zone_id}: {n}" for n in notes[(iid, level, part_name)]),
            "geometry": g,
        })
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=ANALYSIS_CRS)


def _resolve_overlaps(rings: dict[tuple[str, int, str], shapely.Geometry],
                      notes: dict[tuple[str, int, str], list[str]]) -> dict[tuple[str, int, str], shapely.Geometry]:
    """Stricter level wins between intakes (level 1 > level 2 > quasi); notes record every move.

    First each zone loses what lies in another intake's stricter zone; then overlaps of the
    settled zones at the same level are noted (kept with both intakes).
    """
    out = {}
    for key, geom in rings.items():
        iid, level, part_name = key
        for other, other_geom in rings.items():
            if other[0] == iid or other[1] >= level or geom.is_empty or other_geom.is_empty:
                continue
            shared = geom.intersection(other_geom)
            if shared.area >= 1.0:
                geom = geom.difference(other_geom)
                notes[key].append(f"{shared.area / 1e4:.2f} ha of {iid}'s {_LEVEL_WORDS[level]} {part_name} lies in "
                                  f"{other[0]}'s {_LEVEL_WORDS[other[1]]} {other[2]}: counted as {_LEVEL_WORDS[other[1]]}")
        out[key] = _polygonal(geom)
    for key, geom in out.items():
        for other, other_geom in out.items():
            if other[0] == key[0] or other[1] != key[1] or geom.is_empty or other_geom.is_empty:
                continue
            shared = geom.intersection(other_geom).area
            if shared >= 1.0:
                notes[key].append(f"{shared / 1e4:.2f} ha overlaps {other[0]}'s {_LEVEL_WORDS[key[1]]} {other[2]} "
                                  "(same level: kept with both intakes)")
    return out
