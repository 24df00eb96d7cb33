"""Protection-zone compliance: what land lies inside each zone, and what does not fit its rules.

A *zone* is a polygon with a ``zone_type`` (:data:`ZONE_TYPES`): an ecological red line, an
urban wetland red line, a Jiangsu ecological-space control area, the Yangtze shoreline belt, or a
level 1 / level 2 / quasi drinking-water-source zone. Which land-cover classes do not conform in
which zone type is data (:func:`load_zone_rules`, ``data/protection/zone_rules.csv``): each rule
has a status (``non_conforming``: the rule bans it; ``review``: land cover alone cannot tell, an
officer must check), the rule text in Chinese and English, a citation and whether it was verified.

:func:`screen_zones` measures, per zone and land-cover date, with exact coverage fractions
(:mod:`geodata.coverage`; a 1 km belt or a 100 m strip is not counted by pixel centres):

* area by class (coverage-weighted, and by pixel centres for comparison), and the zone's
  vector area, so raster and vector figures can be reconciled;
* flagged patches: connected pixels of a flagged class inside the zone, with area, centroid,
  district, the rule broken and its citation;
* class transitions between consecutive dates inside the zone, and a per-zone ledger ("area not
  reduced, nature not changed, function not lowered"): natural land, flagged land, natural land
  lost, land newly flagged and land newly non-conforming (escalations from ``review`` included)
  since the previous date.

Carbon stock and NDVI per zone are added by the orchestrator (:mod:`sinks.protection`), which
knows the coefficients and band files.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.coverage import class_areas, class_transitions, zone_patches
from geodata.crs import ANALYSIS_CRS, DISPLAY_CRS, require_crs
from geodata.errors import DataError, EmptyResultError, GeometryError, SchemaError
from geodata.rasters import RasterInfo
from geodata.tables import read_csv

# Zone types, from the most to the least restrictive regime within each family.
ZONE_TYPES: tuple[str, ...] = ("redline", "wetland_redline", "eco_space", "yangtze_belt", "ws_level1", "ws_level2", "ws_quasi")
STATUSES: tuple[str, ...] = ("non_conforming", "review")
# ESA WorldCover classes counted as natural land in the ledger (tree, shrub, grass, water,
# herbaceous wetland, mangrove, moss/lichen); cropland, built-up and bare are not.
NATURAL_CODES: tuple[int, ...] = (10, 20, 30, 80, 90, 95, 100)
RULE_COLUMNS: tuple[str, ...] = ("zone_type", "code", "class_en", "status", "rule_zh", "rule_en", "citation", "verified")
ZONE_COLUMNS: tuple[str, ...] = ("zone_id", "zone_type", "name_zh", "name_en")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ZoneRule:
    """One land-cover class that does not (or may not) conform in one zone type."""

    zone_type: str
    code: int
    class_en: str
    status: str
    rule_zh: str
    rule_en: str
    citation: str
    verified: str

    @property
    def is_verified(self) -> bool:
        return self.verified.strip().lower().startswith("yes")


@dataclass(frozen=True)
class ZoneRules:
    """The rule table: which classes are flagged in which zone type, and why."""

    rules: tuple[ZoneRule, ...]
    source: str

    def for_type(self, zone_type: str) -> dict[int, ZoneRule]:
        return {r.code: r for r in self.rules if r.zone_type == zone_type}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.__dict__ for r in self.rules], columns=list(RULE_COLUMNS))


def load_zone_rules(path: str | Path) -> ZoneRules:
    """Read and check the rule table; every problem is listed in one ``SchemaError``.

    Columns :data:`RULE_COLUMNS`; ``zone_type`` one of :data:`ZONE_TYPES`, ``code`` an integer
    class code (once per zone type), ``status`` one of :data:`STATUSES`, and non-empty rule
    texts, citation and ``verified`` (``yes...`` or ``no: why``).
    """
    df = read_csv(path, required=RULE_COLUMNS)
    problems: list[str] = []
    rules: list[ZoneRule] = []
    seen: set[tuple[str, int]] = set()
    for i, r in df.iterrows():
        row = int(i) + 2  # the header is line 1
        zt, code_text, status = r["zone_type"].strip(), r["code"].strip(), r["status"].strip()
        if zt not in ZONE_TYPES:
            problems.append(f"row {row}: zone_type {zt!r} is not one of {list(ZONE_TYPES)}")
            continue
        if not code_text.isdigit() or not 0 < int(code_text) < 256:
            problems.append(f"row {row}: code {code_text!r} is not a land-cover class code (1-255)")
            continue
        code = int(code_text)
        if (zt, code) in seen:
            problems.append(f"row {row}: code {code} is listed twice for {zt}")
            continue
        seen.add((zt, code))
        if status not in STATUSES:
            problems.append(f"row {row}: status {status!r} is not one of {list(STATUSES)}")
            continue
        empty = [c for c in ("class_en", "rule_zh", "rule_en", "citation", "verified") if not r[c].strip()]
        if empty:
            problems.append(f"row {row}: empty {empty} (every rule needs its text, a citation and whether it was verified)")
            continue
        rules.append(ZoneRule(zt, code, r["class_en"].strip(), status, r["rule_zh"].strip(), r["rule_en"].strip(),
                              r["citation"].strip(), r["verified"].strip()))
    if problems:
        raise SchemaError(path, "; ".join(problems), "fix those rows (see data/protection/README.md for the columns)")
    if not rules:
        raise EmptyResultError(path, "the rule table has no rows", "add at least one rule, or use data/protection/zone_rules.csv")
    return ZoneRules(tuple(rules), str(path))


def prepare_zone_frame(zones: gpd.GeoDataFrame, *, source: str) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """Check a zone frame and bring it to the analysis CRS; returns it and notes on repairs.

    Needs the columns :data:`ZONE_COLUMNS` and a CRS; ids unique; ``zone_type`` known; invalid
    geometry is repaired (``make_valid``, polygonal part kept) and said so; empty or
    non-polygonal zones are refused with their ids.
    """
    missing = [c for c in ZONE_COLUMNS if c not in zones.columns]
    if missing:
        raise SchemaError(source, f"the zones have no column(s) {missing} (found {list(zones.columns)})",
                          f"give every zone {list(ZONE_COLUMNS)}")
    require_crs(zones.crs, source)
    if zones.empty:
        raise EmptyResultError(source, "there are no zones to screen", "add red lines, control areas, the belt or intakes")
    ids = zones["zone_id"].astype(str)
    dup = sorted(ids[ids.duplicated()].unique())
    if dup:
        raise SchemaError(_sources(zones, dup, source), f"zone ids {dup} are used more than once",
                          "give every zone its own id (an uploaded layer may reuse an id of another layer)")
    bad = sorted(set(zones["zone_type"]) - set(ZONE_TYPES))
    if bad:
        raise SchemaError(source, f"unknown zone types {bad}", f"use {list(ZONE_TYPES)}")
    out = zones.to_crs(ANALYSIS_CRS).copy()
    if "source" not in out.columns:
        out["source"] = source
    out["zone_id"] = ids.to_numpy()
    notes: list[str] = []
    geoms = out.geometry.to_numpy()
    for k, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        if not g.is_valid:
            reason = shapely.is_valid_reason(g)
            g = shapely.make_valid(g)
            notes.append(f"zone {out['zone_id'].iat[k]}: invalid geometry ({reason}) repaired")
        if g.geom_type == "GeometryCollection":
            g = shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")])
        geoms[k] = g
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=ANALYSIS_CRS))
    empty = out.geometry.isna() | out.geometry.is_empty | ~out.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if empty.any():
        raise GeometryError(source, f"zones {sorted(out.loc[empty, 'zone_id'])} have no polygon area",
                            "draw them again as polygons, or remove them")
    out["area_ha"] = out.geometry.area / 1e4
    return out, tuple(notes)


def _sources(zones: pd.DataFrame, ids: Sequence[str], default: str) -> str:
    """The layer(s) the zones ``ids`` came from (``source`` column), for an error message."""
    if "source" not in zones.columns:
        return default
    found = zones.loc[zones["zone_id"].astype(str).isin(ids), "source"].astype(str).unique()
    return "; ".join(sorted(found)) or default


@dataclass(frozen=True)
class ZoneScreening:
    """What lies inside each zone, per land-cover date (areas in ha, analysis CRS geometries).

    ``zones``: the zones screened, with ``area_ha`` (vector). ``class_areas``: ``zone_id, year,
    code, area_ha, area_ha_centres`` (coverage-weighted and by pixel centres). ``patches``:
    flagged patches ``zone_id, zone_type, year, patch_id, code, status, area_ha, n_pixels,
    lon, lat, district, rule_en, rule_zh, citation, verified``. ``dropped``: flagged patches
    below ``min_patch_ha``, counted per zone and year. ``transitions``: ``zone_id, period,
    from_code, to_code, area_ha``. ``ledger``: per zone and year.
    """

    zones: gpd.GeoDataFrame
    class_areas: pd.DataFrame
    patches: gpd.GeoDataFrame
    dropped: pd.DataFrame
    transitions: pd.DataFrame
    ledger: pd.DataFrame
    rules: ZoneRules
    min_patch_ha: float
    notes: tuple[str, ...]


def _districts_of(points: gpd.GeoSeries, districts: gpd.GeoDataFrame | None, field: str) -> list[str]:
    if districts is None or points.empty:
        return [""] * len(points)
    d = districts.to_crs(points.crs)[[field, "geometry"]].reset_index(drop=True)
    hits = gpd.sjoin(gpd.GeoDataFrame(geometry=points.reset_index(drop=True)), d, how="left", predicate="within")
    hits = hits[~hits.index.duplicated(keep="first")]
    return [str(v) if isinstance(v, str) else "" for v in hits[field].reindex(range(len(points)))]


def screen_zones(
    zones: gpd.GeoDataFrame,
    landcover: Mapping[int, RasterInfo],
    rules: ZoneRules,
    *,
    districts: gpd.GeoDataFrame | None = None,
    district_field: str = "zone_id",
    min_patch_ha: float = 0.0,
    progress: Progress | None = None,
    source: str = "<zones>",
) -> ZoneScreening:
    """Screen every zone on every land-cover date (see the module docstring).

    ``zones`` needs :data:`ZONE_COLUMNS` (checked by :func:`prepare_zone_frame`); ``landcover``
    maps a year to its raster (all on one grid). Zones wholly outside the rasters are refused
    (nothing could be said about them); partly outside ones report their ``nodata_ha``.
    """
    say = progress or (lambda step, frac: None)
    if min_patch_ha < 0 or not np.isfinite(min_patch_ha):
        raise DataError(source, f"min_patch_ha must be >= 0, got {min_patch_ha}", "use 0 to list every patch")
    zf, notes = prepare_zone_frame(zones, source=source)
    years = sorted(landcover)
    if not years:
        raise EmptyResultError(source, "no land-cover date to screen against", "add a [landcover.years] entry")
    ref = landcover[years[0]]
    zr = zf.to_crs(ref.crs)
    n_steps = 2 * len(years) + max(len(years) - 1, 0)
    done = 0

    def sub(label: str) -> Callable[[float], None]:
        s = done
        return lambda f: say(label, (s + f) / n_steps)

    area_frames = []
    for y in years:
        a = class_areas(landcover[y], zr, "zone_id", progress=sub(f"land cover inside zones {y}"))
        done += 1
        area_frames.append(a.assign(year=y))
    areas = pd.concat(area_frames, ignore_index=True)
    nod = int(ref.nodata) if ref.nodata is not None else None
    valid = areas[~areas["is_nodata"]]
    mapped = valid.groupby("zone_id")["area_ha"].sum()
    outside = sorted(set(zf["zone_id"]) - set(mapped[mapped > 0].index))
    if outside:
        raise EmptyResultError(_sources(zf, outside, source), f"zones {outside} do not overlap the land-cover map (no mapped pixel inside)",
                               "check their CRS and coordinates (GCJ-02 vs WGS84?), or remove them")

    patch_frames, dropped_rows = [], []
    types = dict(zip(zf["zone_id"], zf["zone_type"]))
    geoms = dict(zip(zr["zone_id"], zr.geometry))
    for y in years:
        step = sub(f"flagged patches {y}")
        for k, (zid, zt) in enumerate(types.items()):
            step(k / max(len(types), 1))
            zrules = rules.for_type(zt)
            if not zrules:
                continue
            res = zone_patches(landcover[y], geoms[zid], tuple(zrules), zone_id=zid, min_area_ha=min_patch_ha)
            dropped_rows.append({"zone_id": zid, "year": y, "dropped_n": res.dropped_n, "dropped_ha": res.dropped_ha})
            if res.patches.empty:
                continue
            p = res.patches.copy()
            p["codes"] = [",".join(map(str, c)) for c in p["codes"]]
            p["year"] = y
            p["zone_type"] = zt
            p["status"] = [zrules[int(c)].status for c in p["code"]]
            for col in ("rule_en", "rule_zh", "citation", "verified"):
                p[col] = [getattr(zrules[int(c)], col) for c in p["code"]]
            patch_frames.append(p)
        done += 1
    patches = _finish_patches(patch_frames, ref, districts, district_field)

    trans_frames = []
    for y0, y1 in zip(years, years[1:]):
        t = class_transitions(landcover[y0], landcover[y1], zr, "zone_id")
        trans_frames.append(t.assign(period=f"{y0}-{y1}", year_from=y0, year_to=y1))
        done += 1
        say(f"changes inside zones {y0}-{y1}", done / n_steps)
    transitions = (pd.concat(trans_frames, ignore_index=True) if trans_frames
                   else pd.DataFrame(columns=["zone_id", "from_code", "to_code", "area_ha", "period", "year_from", "year_to"]))
    ledger = _ledger(zf, valid, areas, transitions, rules, years, nod)
    dropped = pd.DataFrame(dropped_rows, columns=["zone_id", "year", "dropped_n", "dropped_ha"])
    say("done", 1.0)
    return ZoneScreening(zones=zf, class_areas=areas, patches=patches, dropped=dropped, transitions=transitions,
                         ledger=ledger, rules=rules, min_patch_ha=float(min_patch_ha), notes=notes)


_PATCH_COLUMNS = ["zone_id", "zone_type", "year", "patch_id", "code", "codes", "status", "area_ha", "n_pixels", "lon", "lat",
                  "district", "rule_en", "rule_zh", "citation", "verified"]


def _finish_patches(frames: Sequence[gpd.GeoDataFrame], ref: RasterInfo, districts: gpd.GeoDataFrame | None,
                    district_field: str) -> gpd.GeoDataFrame:
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in _PATCH_COLUMNS}, geometry=gpd.GeoSeries([], crs=ANALYSIS_CRS), crs=ANALYSIS_CRS)
    p = pd.concat(frames, ignore_index=True)
    p = gpd.GeoDataFrame(p, geometry="geometry", crs=ref.crs).to_crs(ANALYSIS_CRS)
    centres = gpd.GeoSeries(gpd.points_from_xy(p["centroid_x"], p["centroid_y"]), crs=ref.crs)
    ll = centres.to_crs(DISPLAY_CRS)
    p["lon"], p["lat"] = ll.x.to_numpy(), ll.y.to_numpy()
    p["district"] = _districts_of(centres.to_crs(ANALYSIS_CRS), districts, district_field)
    order = {s: i for i, s in enumerate(STATUSES)}
    p = p.sort_values(["year", "status", "area_ha"], key=lambda s: s.map(order) if s.name == "status" else s,
                      ascending=[True, True, False]).reset_index(drop=True)
    return p[_PATCH_COLUMNS + ["geometry"]]


def _ledger(zf: gpd.GeoDataFrame, valid: pd.DataFrame, areas: pd.DataFrame, transitions: pd.DataFrame,
            rules: ZoneRules, years: list[int], nod: int | None) -> pd.DataFrame:
    """One row per zone and year: areas that say whether the zone held its nature."""
    rows = []
    for zid, zt, area in zip(zf["zone_id"], zf["zone_type"], zf["area_ha"]):
        zrules = rules.for_type(zt)
        nc = [c for c, r in zrules.items() if r.status == "non_conforming"]
        rv = [c for c, r in zrules.items() if r.status == "review"]
        prev_year = None
        for y in years:
            v = valid[(valid["zone_id"] == zid) & (valid["year"] == y)]
            a = areas[(areas["zone_id"] == zid) & (areas["year"] == y)]
            row = {
                "zone_id": zid, "zone_type": zt, "year": y, "zone_area_ha": float(area),
                "mapped_ha": float(v["area_ha"].sum()),
                "mapped_ha_centres": float(v["area_ha_centres"].sum()),
                "nodata_ha": float(a.loc[a["is_nodata"], "area_ha"].sum()),
                "natural_ha": float(v.loc[v["code"].isin(NATURAL_CODES), "area_ha"].sum()),
                "non_conforming_ha": float(v.loc[v["code"].isin(nc), "area_ha"].sum()),
                "review_ha": float(v.loc[v["code"].isin(rv), "area_ha"].sum()),
                "natural_lost_ha": np.nan, "natural_gained_ha": np.nan, "newly_flagged_ha": np.nan,
                "newly_non_conforming_ha": np.nan,
            }
            if prev_year is not None:
                t = transitions[(transitions["zone_id"] == zid) & (transitions["year_to"] == y)]
                if nod is not None:  # pixels without data on either date are neither lost nor gained
                    t = t[(t["from_code"] != nod) & (t["to_code"] != nod)]
                nat0, nat1 = t["from_code"].isin(NATURAL_CODES), t["to_code"].isin(NATURAL_CODES)
                flag = list(zrules)
                row["natural_lost_ha"] = float(t.loc[nat0 & ~nat1, "area_ha"].sum())
                row["natural_gained_ha"] = float(t.loc[~nat0 & nat1, "area_ha"].sum())
                row["newly_flagged_ha"] = float(t.loc[~t["from_code"].isin(flag) & t["to_code"].isin(flag), "area_ha"].sum())
                # escalations count too: cropland (review) that became built-up (banned) in level 1
                row["newly_non_conforming_ha"] = float(t.loc[~t["from_code"].isin(nc) & t["to_code"].isin(nc), "area_ha"].sum())
            rows.append(row)
            prev_year = y
    return pd.DataFrame(rows)
