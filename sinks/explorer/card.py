"""The "any area" card of the public sink explorer: one call for a clicked or drawn polygon.

:func:`area_card` takes one polygon (a district, a planning unit, a wetland site, a red line, or
a polygon the user drew or uploaded) and gathers what the explorer shows about it from the
engine the rest of the dashboard uses, never a second implementation:

* land cover, carbon stocks, change and flows from :func:`sinks.pipeline.run_assessment` with
  the polygon as the only zone (a pixel counts when the polygon holds its centre, the rule of
  every zone table of the dashboard);
* annual removals with 95 % intervals from :func:`sinks.ledger.removals.removal_series` (IPCC
  Approach 2, Monte Carlo; the central value is the pipeline's flow);
* green and forest coverage from :func:`sinks.greening.assess.greening_assessment` (exact
  pixel coverage fractions), with intervals when the map has an accuracy report;
* overlap with the protection zones of :func:`sinks.protection.build_zones` (red lines,
  ecological-space control areas, the Yangtze belt, water-source zones), measured in the
  analysis CRS (EPSG:32650, UTM 50N: areas within 0.1 % of the geodesic area in Jiangbei);
* ranks among a peer set (:func:`peer_sets`, :func:`peer_table`: every district, unit, site or
  red line, measured with ONE run over the whole set, the same definitions as the card);
* plain-language equivalents (:mod:`sinks.explorer.equivalents`).

Input checks (:func:`check_area`): the polygon must be polygonal, in lon/lat degrees, at least
one pixel large, at most ``max_area_ha`` (default :data:`MAX_AREA_HA`) and at least partly on
the land-cover map; self-intersections are repaired with ``shapely.make_valid`` (a note says
so). Coordinates are taken as WGS84 / CGCS2000: GCJ-02 (Amap, DataV) or BD-09 (Baidu) input
must be converted before, with :func:`geodata.crs.to_wgs84_geometries` (the map widgets and
the upload reader do it).

Units in every column name: ``_ha``, ``_tc``, ``_tco2e``, ``_tco2e_yr``, ``_pct``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geodata.crs import ANALYSIS_CRS, DISPLAY_CRS, check_lonlat_bounds
from geodata.errors import DataError, EmptyResultError, GeometryError
from geodata.rasters import check_categorical, pixel_area_m2, read_info
from sinks.config import Config, load_config
from sinks.explorer.equivalents import equivalents as equivalents_table
from sinks.notes import Note
from sinks.units import C_TO_CO2, M2_PER_HA

Progress = Callable[[str, float], None]

# Largest polygon a card is computed for: 200,000 ha (2,000 km2), about the whole Jiangbei New
# Area (2,451 km2 is its official area; the demo map is ~2,900 km2 with its 1.5 km margin). A card
# holds the polygon's window of two 30 m land-cover dates plus the greening masks: at 2,000 km2
# that is ~2.2 million pixels per date, well inside a dashboard's memory, and a run of a few
# seconds. Bigger areas belong to a command-line run (``python -m sinks``).
MAX_AREA_HA = 200_000.0
HASH_DECIMALS = 7  # coordinates rounded to 1e-7 degree (~1 cm) before hashing
KINDS = ("district", "unit", "site", "redline", "drawn", "upload")
PEER_KINDS = ("district", "unit", "site", "redline")
RANK_METRICS = ("stock_tc_per_ha", "removals_tco2e_ha_yr", "forest_coverage_pct", "green_coverage_pct")
HEADLINE_METHOD = "gain_loss"
_GEOD = Geod(ellps="WGS84")
_OUTSIDE_NOTE_SHARE = 0.01  # the partly-outside note from 1 % of the area (boundary pixels aside)

PEER_COLUMNS = ("kind", "id", "name_zh", "name_en", "year", "area_ha", "mapped_ha", "stock_tc", "stock_tc_per_ha",
                "removals_tco2e_yr", "removals_tco2e_ha_yr", "forest_coverage_pct", "green_coverage_pct")
RANK_COLUMNS = ("metric", "year", "value", "rank", "n_peers", "peer_kind", "better_than_pct")
PROTECTION_COLUMNS = ("zone_kind", "zone_id", "name_zh", "name_en", "overlap_ha", "share_pct")


@dataclass(frozen=True)
class AreaCard:
    """Everything the explorer shows for one area. Tables are long-form with units in names.

    Attributes
    ----------
    kind, area_id, name_zh, name_en
        What the area is (``district`` | ``unit`` | ``site`` | ``redline`` | ``drawn`` | ``upload``).
    geometry, geometry_hash
        The repaired polygon actually used (lon/lat, EPSG:4326) and its :func:`geometry_hash`.
    area_ha
        Geodesic area of the polygon (WGS84 ellipsoid), ha.
    landcover
        ``year, lucode, lulc_name, area_ha, share_pct`` (share of the mapped area).
    coverage
        ``year, mapped_ha, nodata_ha, outside_map_ha``: mapped pixels (centre rule), nodata pixels,
        and the polygon's area beyond the raster's extent.
    stocks
        ``year, pool, stock_tc, stock_tco2e, uncertainty_pct`` (95 % half-width, NaN when unknown).
    stock_totals
        ``year, stock_tc, low_tc, high_tc, stock_tc_per_ha, coverage``: the 95 % interval from the
        Monte Carlo draws of :func:`~sinks.ledger.removals.removal_series` (coefficients without an
        uncertainty held fixed: ``coverage`` is the share of the stock that is drawn, and a note
        says when it is below 1); per ha of mapped land.
    removals
        ``period, year_t0, year_t1, method, removals_tco2e_yr, low_tco2e_yr, high_tco2e_yr,
        removals_tco2e_ha_yr, coverage`` (per ha of land mapped at both dates; ``coverage`` from
        :class:`~sinks.ledger.removals.RemovalSeries`).
    change
        ``period, lucode, lulc_name, area_t0_ha, area_t1_ha, change_ha`` on land mapped at both dates.
    transitions
        ``period, code_t0, code_t1, name_t0, name_t1, area_ha``: changed land, largest first.
    greening
        ``year, green_coverage_pct, forest_coverage_pct`` (+ ``*_low`` / ``*_high`` with an
        accuracy report).
    protection
        ``zone_kind, zone_id, name_zh, name_en, overlap_ha, share_pct`` (share of the card's area).
    ranks
        ``metric, year, value, rank, n_peers, peer_kind, better_than_pct`` (rank 1 = highest).
    equivalents
        :func:`sinks.explorer.equivalents.equivalents` of the headline removals.
    notes, provenance
        Partial coverage, repairs, unestimated classes ... ; inputs and rules.
    """

    kind: str
    area_id: str
    name_zh: str
    name_en: str
    geometry: BaseGeometry
    geometry_hash: str
    area_ha: float
    years: tuple[int, ...]
    landcover: pd.DataFrame
    coverage: pd.DataFrame
    stocks: pd.DataFrame
    stock_totals: pd.DataFrame
    removals: pd.DataFrame
    change: pd.DataFrame
    transitions: pd.DataFrame
    greening: pd.DataFrame
    protection: pd.DataFrame
    ranks: pd.DataFrame
    equivalents: pd.DataFrame
    notes: tuple[Note, ...] = ()
    provenance: dict = field(default_factory=dict)

    def headline(self, year: int | None = None) -> pd.Series | None:
        """The headline removal row (gain-loss) of the period ending at ``year`` (default: the
        latest period), or None when there is only one date."""
        r = self.removals[self.removals["method"] == HEADLINE_METHOD]
        if r.empty:
            return None
        if year is not None and (r["year_t1"] == year).any():
            return r[r["year_t1"] == year].iloc[0]
        return r.sort_values("year_t1").iloc[-1]


# --------------------------------------------------------------------------- geometry


def geometry_hash(geom: BaseGeometry) -> str:
    """SHA-256 (hex) of the geometry's normalized WKB, coordinates rounded to 1e-7 degree.

    ``shapely.normalize`` orders rings, parts and starting vertices and orients the rings the same
    way, so the same polygon drawn from another vertex or the other way round hashes the same; any
    other shape hashes differently. Use it as a cache key (with the configuration's path / mtime).
    """
    g = shapely.transform(geom, lambda xy: np.round(xy, HASH_DECIMALS))
    g = shapely.normalize(g)
    return hashlib.sha256(shapely.to_wkb(g, output_dimension=2, byte_order=1)).hexdigest()


def geodesic_area_ha(geom: BaseGeometry) -> float:
    """Area of a lon/lat (multi)polygon on the WGS84 ellipsoid, ha."""
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / M2_PER_HA


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _as_geometry(geom: Any, source: str) -> BaseGeometry:
    if isinstance(geom, BaseGeometry):
        return geom
    if isinstance(geom, Mapping) or hasattr(geom, "__geo_interface__"):
        try:
            return shapely.geometry.shape(geom)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise GeometryError(source, f"the shape cannot be read as a geometry ({exc})", "draw or upload a polygon") from exc
    raise GeometryError(source, f"expected a polygon, got {type(geom).__name__}", "draw or upload a polygon")


def _config(cfg: Config | str | Path) -> Config:
    return cfg if isinstance(cfg, Config) else load_config(cfg)


def check_area(geom: Any, *, cfg: Config | str | Path, source: str,
               max_area_ha: float | None = None) -> tuple[BaseGeometry, tuple[Note, ...]]:
    """Check and repair one lon/lat polygon for a card; returns (polygon, notes).

    Parameters
    ----------
    geom
        A shapely geometry or a GeoJSON-like mapping, lon/lat WGS84 (GCJ-02 / BD-09 converted
        before: :func:`geodata.crs.to_wgs84_geometries`).
    cfg
        The configuration (its first land-cover date gives the grid and pixel size).
    source
        What the polygon is, for messages ("drawn polygon", the upload's file name ...).
    max_area_ha
        Largest area accepted, ha (default :data:`MAX_AREA_HA` = 200,000 ha).

    Raises
    ------
    GeometryError
        Empty, not polygonal (points, lines), or nothing polygonal left after repair.
    DataError
        Coordinates outside +/-180 / +/-90 (projected numbers given as lon/lat), smaller than one
        pixel, larger than ``max_area_ha``.
    EmptyResultError
        Entirely outside the land-cover map.
    """
    cfg = _config(cfg)
    g = _as_geometry(geom, source)
    limit = MAX_AREA_HA if max_area_ha is None else float(max_area_ha)
    if g.is_empty:
        raise GeometryError(source, "the shape is empty", "draw or upload a polygon")
    if g.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise GeometryError(source, f"the shape is a {g.geom_type}, not an area", "draw or upload a polygon (points and lines have no area)")
    check_lonlat_bounds(tuple(g.bounds), source)
    notes: list[Note] = []
    if g.geom_type == "GeometryCollection":
        g = _polygonal(g)
        if g.is_empty:
            raise GeometryError(source, "the shape holds no polygon", "draw or upload a polygon")
    if not g.is_valid:
        before = geodesic_area_ha(g) if g.area > 0 else 0.0
        reason = shapely.is_valid_reason(g)
        g = _polygonal(shapely.make_valid(g))
        if g.is_empty or g.area == 0:
            raise GeometryError(source, f"the polygon is invalid ({reason}) and nothing polygonal is left after repair",
                                "redraw it without crossing edges")
        notes.append(Note("repaired", f"the polygon was invalid ({reason}) and was repaired (shapely make_valid, polygon parts kept); "
                          "check that the repaired shape is what was meant", reason=reason, area_before_ha=before))
    area_ha = geodesic_area_ha(g)
    info = check_categorical(read_info(cfg.landcover[cfg.years[0]]))
    px_ha = pixel_area_m2(info.transform) / M2_PER_HA
    if area_ha < px_ha:
        raise DataError(source, f"the area is {area_ha:.4f} ha, smaller than one {abs(info.transform.a):g} m pixel of the land-cover map "
                        f"({px_ha:.2f} ha)", f"draw an area of at least {px_ha:.2f} ha (a few pixels across gives a meaningful figure)")
    if area_ha > limit:
        raise DataError(source, f"the area is {area_ha:,.0f} ha, more than the {limit:,.0f} ha a card is computed for",
                        "draw a smaller area, or run the whole configuration from the command line (python -m sinks)")
    proj = gpd.GeoSeries([g], crs=DISPLAY_CRS).to_crs(info.crs).iloc[0]
    inside = shapely.clip_by_rect(proj, *info.bounds)
    share_in = inside.area / proj.area if proj.area > 0 else 0.0
    if inside.is_empty or share_in <= 0:
        raise EmptyResultError(source, f"the area lies entirely outside the land-cover map {Path(info.path).name}",
                               "pan to the study area; if the shape came from Amap / DataV / Baidu, convert GCJ-02 / BD-09 to WGS84 first")
    return g, tuple(notes)


# --------------------------------------------------------------------------- peers


def _frame(gdf: gpd.GeoDataFrame, id_field: str, zh: str, en: str) -> gpd.GeoDataFrame:
    d = gdf.to_crs(DISPLAY_CRS)
    ids = d[id_field].astype(str)
    return gpd.GeoDataFrame({
        "id": ids.to_numpy(),
        "name_zh": (d[zh].astype(str) if zh in d else ids).to_numpy(),
        "name_en": (d[en].astype(str) if en in d else ids).to_numpy(),
    }, geometry=d.geometry.to_numpy(), crs=DISPLAY_CRS)


def peer_sets(cfg: Config | str | Path) -> dict[str, gpd.GeoDataFrame]:
    """The configured peer sets: ``district`` (the zones), ``unit`` ([greening] units), ``site``
    ([wetlands] sites of ``sites_kinds``), ``redline`` ([protection] red lines of
    ``redlines_kinds``); each EPSG:4326 with ``id, name_zh, name_en, geometry``. A kind that is
    not configured is absent."""
    cfg = _config(cfg)
    from sinks.greening.assess import config_units
    from sinks.protection import config_layers
    from sinks.wetland_inventory import config_sites

    out: dict[str, gpd.GeoDataFrame] = {}
    if cfg.zones is not None:
        zl, (zh, en) = config_units(cfg, "zones")
        out["district"] = _frame(zl.gdf, zl.id_field, zh, en)
    if cfg.greening.units is not None:
        zl, (zh, en) = config_units(cfg, "units")
        out["unit"] = _frame(zl.gdf, zl.id_field, zh, en)
    sites = config_sites(cfg)
    if sites is not None:
        out["site"] = _frame(sites.gdf, sites.id_field, "name_zh", "name_en")
    red, _space = config_layers(cfg)
    if red is not None:
        out["redline"] = _frame(red.gdf, red.id_field, "name_zh", "name_en")
    return out


def _measures(a, ids: list[str]) -> pd.DataFrame:
    """Per zone and year from one Assessment: mapped_ha, stock_tc, stock_tc_per_ha,
    removals_tco2e_yr (gain-loss, of the period ending at the year) and per ha."""
    rows = []
    mapped = a.nodata.set_index(["zone_id", "year"])["valid_ha"]
    st = a.stock_totals.set_index(["zone_id", "year"])["stock_tc"]
    both = a.change.groupby(["zone_id", "period"])["area_ha"].sum()
    fl = a.flows.set_index(["zone_id", "year_t1"]) if not a.flows.empty else None
    for z in ids:
        for y in a.years:
            m = float(mapped.get((z, y), 0.0))
            s = float(st.get((z, y), np.nan)) if m > 0 else float("nan")
            rem = rem_ha = float("nan")
            if fl is not None and (z, y) in fl.index:
                r = fl.loc[(z, y)]
                r = r.iloc[0] if isinstance(r, pd.DataFrame) else r
                rem = float(r["net_removals_tco2e_yr"])
                den = float(both.get((z, r["period"]), 0.0))
                rem_ha = rem / den if den > 0 else float("nan")
            rows.append({"id": z, "year": int(y), "mapped_ha": m, "stock_tc": s,
                         "stock_tc_per_ha": s / m if m > 0 else float("nan"),
                         "removals_tco2e_yr": rem, "removals_tco2e_ha_yr": rem_ha})
    return pd.DataFrame(rows)


def _greening_values(cfg: Config, gdf: gpd.GeoDataFrame, layers) -> tuple[pd.DataFrame, Any]:
    from sinks.greening.assess import greening_assessment

    units = gpd.GeoDataFrame({"unit_id": gdf["id"].astype(str).to_numpy(), "name_zh": gdf["name_zh"].to_numpy(),
                              "name_en": gdf["name_en"].to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    g = greening_assessment(cfg, units=units, layers=layers)
    ind = g.indicators.reset_index() if "unit_id" not in g.indicators.columns else g.indicators
    ind = ind[["unit_id", "year", "green_coverage_pct", "forest_coverage_pct"]].rename(columns={"unit_id": "id"})
    ind = ind.assign(id=ind["id"].astype(str), year=ind["year"].astype(int))
    return ind, g


def peer_table(cfg: Config | str | Path, kind: str, *, layers=None, progress: Progress | None = None) -> pd.DataFrame:
    """Every feature of one peer set, every land-cover year, measured as the card measures.

    One :func:`~sinks.pipeline.run_assessment` over the whole set (zones may overlap) and one
    :func:`~sinks.greening.assess.greening_assessment` (``layers`` from
    :func:`~sinks.greening.assess.build_layers`, reused when given).

    Returns
    -------
    DataFrame
        ``kind, id, name_zh, name_en, year, area_ha`` (geodesic polygon area), ``mapped_ha``,
        ``stock_tc, stock_tc_per_ha`` (per ha mapped), ``removals_tco2e_yr,
        removals_tco2e_ha_yr`` (gain-loss of the period ending at ``year``, NaN for the first
        date; per ha of land mapped at both dates), ``forest_coverage_pct, green_coverage_pct``.

    Raises ``DataError`` when ``kind`` is not a configured peer set.
    """
    from sinks.pipeline import run_assessment

    cfg = _config(cfg)
    say = progress or (lambda s, f: None)
    sets = peer_sets(cfg)
    if kind not in sets:
        raise DataError(cfg.source or "configuration", f"no peer set '{kind}' (configured: {sorted(sets)})",
                        f"choose one of {sorted(sets)}, or configure the layer for '{kind}'")
    gdf = sets[kind]
    zones = gpd.GeoDataFrame({"zone_id": gdf["id"], "name_zh": gdf["name_zh"], "name_en": gdf["name_en"]},
                             geometry=gdf.geometry.to_numpy(), crs=DISPLAY_CRS)
    a = run_assessment(cfg, zones=zones, progress=lambda s, f: say(s, 0.5 * f))
    m = _measures(a, list(gdf["id"]))
    say("greening", 0.5)
    if layers is None:
        from sinks.greening.assess import build_layers
        layers = build_layers(cfg, progress=lambda s, f: say(s, 0.5 + 0.25 * f))
    green, _ = _greening_values(cfg, gdf, layers)
    out = m.merge(green, on=["id", "year"], how="left")
    names = gdf.assign(area_ha=[geodesic_area_ha(g) for g in gdf.geometry])[["id", "name_zh", "name_en", "area_ha"]]
    out = names.merge(out, on="id", how="right").assign(kind=kind)
    say("done", 1.0)
    return out[list(PEER_COLUMNS)].reset_index(drop=True)


def rank_against(values: pd.DataFrame, peers: pd.DataFrame, *, kind: str, area_id: str) -> pd.DataFrame:
    """Rank the card's ``values`` (``metric, year, value``) among ``peers`` (a :func:`peer_table`).

    The pool is the peers (the card itself left out when it is one of them) plus the card; rank 1
    is the highest value; ties share the better rank; NaN values are not ranked.
    ``better_than_pct`` = share of the other ranked members with a lower value.
    """
    rows = []
    peer_kind = str(peers["kind"].iloc[0]) if len(peers) else ""
    others_all = peers[~((peers["kind"] == kind) & (peers["id"].astype(str) == str(area_id)))] if len(peers) else peers
    for r in values.itertuples(index=False):
        v = float(r.value)
        o = others_all[others_all["year"] == r.year][r.metric].to_numpy(dtype=float) if r.metric in others_all else np.array([])
        o = o[np.isfinite(o)]
        if not np.isfinite(v) or len(peers) == 0:
            rows.append({"metric": r.metric, "year": int(r.year), "value": v, "rank": np.nan, "n_peers": int(len(o)),
                         "peer_kind": peer_kind, "better_than_pct": np.nan})
            continue
        n = len(o) + 1
        rows.append({"metric": r.metric, "year": int(r.year), "value": v, "rank": int(1 + (o > v).sum()), "n_peers": n,
                     "peer_kind": peer_kind, "better_than_pct": 100.0 * (o < v).sum() / (n - 1) if n > 1 else np.nan})
    return pd.DataFrame(rows, columns=list(RANK_COLUMNS))


# --------------------------------------------------------------------------- the card


def _protection_zones(cfg: Config, protection) -> gpd.GeoDataFrame | None:
    if protection is None:
        if cfg.protection is None and cfg.wetlands is None:
            return None
        from sinks.protection import build_zones
        return build_zones(cfg)[0]
    if isinstance(protection, gpd.GeoDataFrame):
        return protection
    return protection.zones  # a ProtectionAssessment


def _protection_overlap(geom_proj: BaseGeometry, zones: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if zones is None or zones.empty:
        return pd.DataFrame(columns=list(PROTECTION_COLUMNS))
    z = zones.to_crs(ANALYSIS_CRS)
    hit = z[z.geometry.intersects(geom_proj)]
    rows = []
    for r in hit.itertuples(index=False):
        ov = shapely.intersection(geom_proj, r.geometry).area / M2_PER_HA
        if ov > 0:
            rows.append({"zone_kind": r.zone_type, "zone_id": str(r.zone_id), "name_zh": r.name_zh, "name_en": r.name_en,
                         "overlap_ha": ov, "share_pct": 100.0 * ov * M2_PER_HA / geom_proj.area})
    out = pd.DataFrame(rows, columns=list(PROTECTION_COLUMNS))
    return out.sort_values("overlap_ha", ascending=False).reset_index(drop=True)


def area_card(cfg: Config | str | Path, geom_lonlat: Any, *, kind: str, area_id: str, name_zh: str = "", name_en: str = "",
              year: int | None = None, layers=None, protection=None, peers: pd.DataFrame | None = None,
              n_draws: int = 2000, progress: Progress | None = None, max_area_ha: float | None = None) -> AreaCard:
    """The explorer's card for one polygon (see the module docstring).

    Parameters
    ----------
    cfg
        A :class:`~sinks.config.Config` or its path.
    geom_lonlat
        The polygon, lon/lat WGS84 (shapely or GeoJSON-like); checked by :func:`check_area`.
    kind, area_id, name_zh, name_en
        What the area is (one of :data:`KINDS`) and its id and names (names default to the id).
    year
        The date whose removals give the equivalents (the period ending at it; default the latest).
    layers
        Greening masks from :func:`sinks.greening.assess.build_layers` (built when None, ~4 s).
    protection
        A :class:`~sinks.protection.ProtectionAssessment` or its zones (any CRS, columns
        ``zone_id, zone_type, name_zh, name_en``); built with :func:`sinks.protection.build_zones`
        when None (~15 s on the demo: pass it from a cache).
    peers
        A :func:`peer_table` to rank against (no ranks when None).
    n_draws
        Monte Carlo draws of the removal intervals (seed 0: the same card gives the same interval).
    max_area_ha
        Largest area accepted (default :data:`MAX_AREA_HA`).

    Raises ``DataError`` (or a subclass) naming the area, the problem and the fix; never returns
    an empty card.
    """
    from sinks.ledger.removals import removal_series
    from sinks.pipeline import run_assessment

    cfg = _config(cfg)
    say = progress or (lambda s, f: None)
    if kind not in KINDS:
        raise DataError(f"{kind} {area_id}", f"unknown area kind {kind!r}", f"use one of {list(KINDS)}")
    source = f"{kind} {area_id}" if kind not in ("drawn", "upload") else (f"drawn polygon {area_id}" if kind == "drawn" else f"uploaded polygon {area_id}")
    say("check the area", 0.0)
    geom, notes0 = check_area(geom_lonlat, cfg=cfg, source=source, max_area_ha=max_area_ha)
    notes: list[Note] = list(notes0)
    area_ha = geodesic_area_ha(geom)
    area_id = str(area_id) or f"area-{geometry_hash(geom)[:10]}"  # a drawn area has no id of its own
    name_zh = name_zh or area_id
    name_en = name_en or area_id
    zid = area_id
    zone = gpd.GeoDataFrame({"zone_id": [zid], "name_zh": [name_zh], "name_en": [name_en]}, geometry=[geom], crs=DISPLAY_CRS)

    say("land cover and carbon", 0.05)
    try:
        a = run_assessment(cfg, zones=zone, progress=lambda s, f: say(s, 0.05 + 0.35 * f))
    except EmptyResultError as exc:
        raise EmptyResultError(source, "the area holds no mapped land-cover pixel (it lies on the map's no-data margin, outside the study area)",
                               "pan to the study area; if the shape came from Amap / DataV / Baidu, convert GCJ-02 / BD-09 to WGS84 first") from exc
    years = tuple(int(y) for y in a.years)
    names = a.coefficients.names()
    ref = check_categorical(read_info(cfg.landcover[years[0]]))
    geom_proj = gpd.GeoSeries([geom], crs=DISPLAY_CRS).to_crs(ref.crs).iloc[0]
    outside_ha = max(area_ha * (1.0 - shapely.clip_by_rect(geom_proj, *ref.bounds).area / geom_proj.area), 0.0)

    # land cover and coverage
    lc = a.areas.groupby(["year", "lucode"], as_index=False)["area_ha"].sum()
    mapped = a.nodata.set_index("year")["valid_ha"]
    lc["lulc_name"] = lc["lucode"].map(names)
    lc["share_pct"] = 100.0 * lc["area_ha"] / lc["year"].map(mapped)
    landcover = lc[["year", "lucode", "lulc_name", "area_ha", "share_pct"]].sort_values(["year", "area_ha"], ascending=[True, False]).reset_index(drop=True)
    coverage = pd.DataFrame({"year": a.nodata["year"].astype(int), "mapped_ha": a.nodata["valid_ha"],
                             "nodata_ha": a.nodata["nodata_ha"], "outside_map_ha": outside_ha}).reset_index(drop=True)
    for r in coverage.itertuples(index=False):
        off = r.nodata_ha + r.outside_map_ha
        if area_ha > 0 and off / area_ha >= _OUTSIDE_NOTE_SHARE:
            notes.append(Note("partly_outside", f"{int(r.year)}: {100 * off / area_ha:.1f} % of the area ({off:,.1f} ha) lies off the "
                              f"land-cover map or on no-data pixels; the figures cover the mapped {r.mapped_ha:,.1f} ha only",
                              year=int(r.year), share_pct=100 * off / area_ha, off_ha=off, mapped_ha=float(r.mapped_ha)))

    # stocks, with Monte Carlo intervals from the same coefficient draws as the removals
    say("removal intervals", 0.45)
    series = removal_series(a, n_draws=n_draws, seed=0)
    stocks = a.stocks[["year", "pool", "stock_tc", "uncertainty_pct"]].copy()
    stocks.insert(3, "stock_tco2e", stocks["stock_tc"] * C_TO_CO2)
    stocks = stocks.reset_index(drop=True)
    tot = series.stocks.set_index("year").reindex(years)
    stock_totals = pd.DataFrame({"year": [int(y) for y in years], "stock_tc": tot["stock_tc"].to_numpy(),
                                 "low_tc": tot["low_tc"].to_numpy(), "high_tc": tot["high_tc"].to_numpy(),
                                 "stock_tc_per_ha": tot["stock_tc"].to_numpy() / np.array([mapped[y] for y in years]),
                                 "coverage": tot["coverage"].to_numpy()})
    partial = stock_totals[stock_totals["coverage"] < 0.999]
    if len(partial):
        notes.append(Note("stock_interval_partial", f"the stock interval is too narrow: {100 * (1 - partial['coverage'].min()):.0f} % of "
                          "the stock lies in pools whose coefficients carry no uncertainty and are held fixed",
                          share_fixed_pct=100 * (1 - float(partial["coverage"].min()))))

    # removals
    rem_cols = ["period", "year_t0", "year_t1", "method", "removals_tco2e_yr", "low_tco2e_yr", "high_tco2e_yr",
                "removals_tco2e_ha_yr", "coverage"]
    if len(years) > 1:
        rem = series.table.copy()
        both = a.change.groupby("period")["area_ha"].sum()
        rem["removals_tco2e_ha_yr"] = rem["removals_tco2e_yr"] / rem["period"].map(both).where(lambda s: s > 0)
        removals = rem[rem_cols].reset_index(drop=True)
        unest = rem[(rem["method"] == HEADLINE_METHOD) & (rem["unestimated_area_ha"] > 0)]
        for r in unest.itertuples(index=False):
            codes = _codes(a.flows.loc[a.flows["period"] == r.period, "unestimated_codes"])
            notes.append(Note("unestimated_classes", f"{r.period}: {r.unestimated_area_ha:,.1f} ha of land remaining in a class without a gain "
                              f"rate ({', '.join(names.get(c, str(c)) for c in codes)}) is not estimated by gain-loss (neither a removal nor zero)",
                              period=r.period, area_ha=float(r.unestimated_area_ha), codes=codes))
        if (removals["coverage"] < 1).any():
            notes.append(Note("interval_partial", "the removal intervals are too narrow: some coefficients carry no uncertainty and are "
                              "held fixed (column coverage = share of the estimate whose coefficients are drawn)"))
    else:
        removals = pd.DataFrame(columns=rem_cols)
        notes.append(Note("one_date", "one land-cover date only: no removals (they need two dates)"))

    # change and transitions
    ch = a.change
    change_rows, trans = [], []
    for p, g in ch.groupby("period", sort=False):
        t0 = g.groupby("code_t0")["area_ha"].sum()
        t1 = g.groupby("code_t1")["area_ha"].sum()
        for c in sorted(set(t0.index) | set(t1.index)):
            a0, a1 = float(t0.get(c, 0.0)), float(t1.get(c, 0.0))
            change_rows.append({"period": p, "lucode": int(c), "lulc_name": names.get(int(c), str(c)), "area_t0_ha": a0,
                                "area_t1_ha": a1, "change_ha": a1 - a0})
        moved = g[g["code_t0"] != g["code_t1"]]
        for r in moved.itertuples(index=False):
            trans.append({"period": p, "code_t0": int(r.code_t0), "code_t1": int(r.code_t1), "name_t0": names.get(int(r.code_t0), ""),
                          "name_t1": names.get(int(r.code_t1), ""), "area_ha": float(r.area_ha)})
    change = pd.DataFrame(change_rows, columns=["period", "lucode", "lulc_name", "area_t0_ha", "area_t1_ha", "change_ha"])
    transitions = pd.DataFrame(trans, columns=["period", "code_t0", "code_t1", "name_t0", "name_t1", "area_ha"])
    transitions = transitions.sort_values(["period", "area_ha"], ascending=[True, False]).reset_index(drop=True)

    # greening
    say("greening", 0.6)
    if layers is None:
        from sinks.greening.assess import build_layers
        layers = build_layers(cfg, progress=lambda s, f: say(s, 0.6 + 0.15 * f))
    gdf = gpd.GeoDataFrame({"id": [zid], "name_zh": [name_zh], "name_en": [name_en]}, geometry=[geom], crs=DISPLAY_CRS)
    green, gres = _greening_values(cfg, gdf, layers)
    greening = green.drop(columns="id").sort_values("year").reset_index(drop=True)
    if gres.intervals is not None and len(gres.intervals):
        iv = gres.intervals
        for ind in ("green_coverage_pct", "forest_coverage_pct"):
            sub = iv[iv["indicator"] == ind].set_index("year")
            greening[f"{ind}_low"] = greening["year"].map(sub["ci_low_pct"]) if len(sub) else np.nan
            greening[f"{ind}_high"] = greening["year"].map(sub["ci_high_pct"]) if len(sub) else np.nan

    # protection
    say("protection zones", 0.8)
    zones = _protection_zones(cfg, protection)
    prot = _protection_overlap(gpd.GeoSeries([geom], crs=DISPLAY_CRS).to_crs(ANALYSIS_CRS).iloc[0], zones)

    # ranks and equivalents
    say("ranks and equivalents", 0.9)
    m = _measures(a, [zid]).merge(green, on=["id", "year"], how="left")
    values = m.melt(id_vars=["year"], value_vars=list(RANK_METRICS), var_name="metric", value_name="value")[["metric", "year", "value"]]
    if peers is not None and len(peers):
        ranks = rank_against(values, peers, kind=kind, area_id=zid)
    else:
        ranks = pd.DataFrame(columns=list(RANK_COLUMNS))
    head = None
    if len(removals):
        gl = removals[removals["method"] == HEADLINE_METHOD].sort_values("year_t1")
        head = gl[gl["year_t1"] == year].iloc[0] if year is not None and (gl["year_t1"] == year).any() else gl.iloc[-1]
    if head is not None:
        eq = equivalents_table(float(head["removals_tco2e_yr"]), float(head["low_tco2e_yr"]), float(head["high_tco2e_yr"]))
    else:
        eq = equivalents_table(float("nan")).iloc[0:0]

    provenance = {
        "run_at_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": str(cfg.source) if cfg.source else None,
        "illustrative": cfg.illustrative,
        "kind": kind, "area_id": zid, "geometry_hash": geometry_hash(geom),
        "area_rule": "area_ha is geodesic (WGS84 ellipsoid); land cover, stocks and removals count the pixels whose centre the polygon holds",
        "greening_rule": "exact pixel coverage fractions (sinks.greening)",
        "protection_crs": ANALYSIS_CRS.to_string(),
        "removals": {"method_headline": HEADLINE_METHOD, "n_draws": int(n_draws), "seed": 0,
                     "notes": [str(n) for n in series.notes] if series is not None else []},
        "headline_year": int(head["year_t1"]) if head is not None else None,
        "peers": {"kind": str(peers["kind"].iloc[0]), "n": int(peers["id"].nunique())} if peers is not None and len(peers) else None,
        "assessment": a.provenance,
        "greening": gres.provenance,
    }
    say("done", 1.0)
    return AreaCard(kind=kind, area_id=zid, name_zh=name_zh, name_en=name_en, geometry=geom, geometry_hash=geometry_hash(geom),
                    area_ha=area_ha, years=years, landcover=landcover, coverage=coverage, stocks=stocks, stock_totals=stock_totals,
                    removals=removals, change=change, transitions=transitions, greening=greening, protection=prot, ranks=ranks,
                    equivalents=eq, notes=tuple(notes), provenance=provenance)


def _codes(values: pd.Series) -> list[int]:
    """Class codes from the flows' ``unestimated_codes`` texts (``"90"``, ``"90,95"``, empty)."""
    out = set()
    for v in values:
        for c in str(v).replace(";", ",").split(","):
            c = c.strip()
            if c.lstrip("-").isdigit():
                out.add(int(c))
    return sorted(out)
