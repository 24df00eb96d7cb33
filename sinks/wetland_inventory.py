"""Wetland inventory: patches per date, named sites, change by destination inside and outside
ecological red lines, and loss alerts with their outlines.

Definitions (all areas in ha from pixel areas; a pixel belongs to a polygon when the polygon holds
its centre, the rule of the zonal engine)
------------------------------------------------------------------------------------------------
* **Wetland** (for change and alerts) is wetland in the broad, Ramsar sense: vegetated wetland
  (:data:`wetlands.extent.WETLAND_CODES`: WorldCover 90 herbaceous wetland, 95 mangroves) **and**
  open water (:data:`wetlands.extent.WATER_CODES`: 80). Rivers, lakes and ponds are wetland
  types in the Ramsar classification, and filling a pond is a loss of wetland. (The carbon
  tables of :mod:`wetlands.extent` keep water apart because the Yangtze channel is no carbon
  sink; here the question is extent, not carbon.)
* **lost**: wetland at t0, a valid non-wetland class at t1, reported by what it *became*
  (:data:`CLASS_GROUPS`: built_up, cropland, tree, grass_shrub, bare ...).
  **gained**: the reverse, by what it *came from*.
* **became_water**: vegetated wetland at t0, open water at t1 (a shoal drowned, a marsh dug
  into a pond); **became_vegetated**: the reverse. Both stay inside the wetland extent, so they
  are reported as transitions and never as loss or gain.
* Pixels that are nodata on either date are left out of the change (as in the pipeline).
* **Study area**: the union of the configured zones (districts), or the raster extent when the
  configuration has none. Red lines are clipped to it. **inside_redlines** is the dissolved
  union of the red lines (overlaps count once); **outside_redlines** = study area minus that
  union, computed as study total minus inside, per period, flow and class.
* **Alerts**: wetland lost inside one red-line polygon in one period of at least
  ``alert_min_loss_ha``. The threshold is a **policy choice, not science** (the default 1.0 ha
  is about 11 pixels of 30 m); set it to what the supervising office acts on.

Water index (optional, ``[wetlands.water_index]`` of the configuration)
------------------------------------------------------------------------
The **patch layer** (``patches``, ``patch_summary``) can be refined with MNDWI or NDWI over one
or more band files per land-cover year (:func:`wetlands.patches.wetland_patches`): pixels wet on
at least ``min_water_frequency`` of the dates are *added* as water on shrub, grass and bare land
(and as paddy on cropland only with ``paddy_as_wetland = true``). The index threshold and the
frequency are **unverified** defaults (see :data:`wetlands.patches.THRESHOLDS`). The index
refines the patch extent and types **only**: change, sites and alerts are counted on the
land-cover classes by the zonal engine, so with an index the patch total of a year can exceed
the study area's wetland in the change tables by ``index_added_ha``
(:meth:`WetlandInventory.index_added_ha`, also in the provenance).

The numbers come from one :func:`sinks.pipeline.run_assessment` pass with the sites, each red
line, the red-line union and the study area as (overlapping) zones, so stocks, removals and
change are those of the dashboard's engine.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
import shapely.geometry
from pyproj import CRS, Geod
from rasterio.features import geometry_window, rasterize, shapes
from rasterio.windows import transform as window_transform

from geodata.crs import DISPLAY_CRS, CoordSystem, require_crs
from geodata.errors import DataError
from geodata.rasters import check_categorical, read_info
from geodata.vectors import ZoneLayer, load_zones, read_vector
from sinks.config import WATER_INDICES, Config, load_config, open_water_index_bands
from sinks.pipeline import Assessment, as_zone_layer, config_zones, run_assessment
from wetlands.extent import WATER_CODES, WETLAND_CODES
from wetlands.patches import THRESHOLDS, PatchRules, WetlandPatches, wetland_patches

Progress = Callable[[str, float], None]
M2_PER_HA = 10_000.0

VEGETATED_CODES: tuple[int, ...] = tuple(WETLAND_CODES)
OPEN_WATER_CODES: tuple[int, ...] = tuple(WATER_CODES)
WET_CODES: tuple[int, ...] = VEGETATED_CODES + OPEN_WATER_CODES  # wetland in the broad (Ramsar) sense

# What a wetland pixel became / came from, by ESA WorldCover code; other codes read "code_<n>".
CLASS_GROUPS: dict[int, str] = {
    10: "tree", 20: "grass_shrub", 30: "grass_shrub", 40: "cropland", 50: "built_up", 60: "bare",
    70: "snow_ice", 80: "water", 90: "vegetated_wetland", 95: "vegetated_wetland", 100: "moss_lichen",
}
FLOWS: tuple[str, ...] = ("lost", "gained", "became_water", "became_vegetated")
DEFAULT_ALERT_MIN_LOSS_HA = 1.0

# internal zone ids of the one assessment pass
_STUDY, _UNION = "study", "redlines:union"
_SITE, _RL = "site:", "redline:"
_ID_CANDIDATES = ("zone_id", "id", "fid", "name")


def class_group(code: int) -> str:
    """Class group of a land-cover code (:data:`CLASS_GROUPS`), ``code_<n>`` when unlisted."""
    return CLASS_GROUPS.get(int(code), f"code_{int(code)}")


@dataclass(frozen=True)
class WetlandInventory:
    """Wetland patches, sites, change and alerts of one configuration (areas ha, stocks t C,
    flows t CO2e/yr; geometries for maps in EPSG:4326).

    Attributes
    ----------
    patches
        year -> :class:`WetlandPatches` (districts as zones, the river layer when configured).
    patch_summary
        ``year, zone_id, type, n_patches, area_ha`` (zone ``None``: outside every district).
    sites
        One row per site and year: ``site_id, name_zh, name_en, year, mapped_ha, nodata_ha,
        water_ha, vegetated_wetland_ha, wetland_ha`` (= water + vegetated), ``other_ha,
        stock_tc`` (every class inside the site), ``net_removals_tco2e_yr, removals_period``
        (the period ending at ``year``; empty on the first date), ``unestimated_area_ha``
        (unchanged land whose class has no sourced removal factor, e.g. wetland), and
        ``wetland_change_ha`` (since the previous date; NaN on the first) and
        ``protected_share`` (share of the site's area inside the red-line union, 0..1; NaN
        without red lines).
    change
        Long table ``period, scope, redline_id, flow, other_class, area_ha``; ``scope`` is
        ``study``, ``inside_redlines``, ``outside_redlines`` or ``redline`` (one polygon,
        ``redline_id`` set); ``flow`` one of :data:`FLOWS`; ``other_class`` what wetland became
        (lost, became_*) or came from (gained).
    change_summary
        ``period, scope, redline_id, wetland_t0_ha, wetland_t1_ha, lost_ha, gained_ha,
        net_change_ha, became_water_ha, became_vegetated_ha``.
    alerts
        ``redline_id, name_zh, name_en, period, lost_ha, main_destination, main_destination_ha,
        wetland_t0_ha, lost_share`` (of the polygon's wetland at t0), one row per red-line
        polygon and period with ``lost_ha >= alert_min_loss_ha``.
    alert_polygons
        The lost pixels of each alert, vectorised: ``redline_id, period, destination, code_t1,
        area_ha, geometry`` (EPSG:4326).
    redlines
        The red lines as analysed (clipped to the study area): ``redline_id, name_zh, name_en,
        geometry`` (EPSG:4326), or None.
    sites_geo
        ``site_id, name_zh, name_en, geometry`` (EPSG:4326).
    assessment
        The run behind the numbers, with internal zone ids ``site:<id>``, ``redline:<id>``,
        ``redlines:union`` and ``study``.
    """

    years: tuple[int, ...]
    periods: tuple[str, ...]
    patches: dict[int, WetlandPatches]
    patch_summary: pd.DataFrame
    sites: pd.DataFrame
    sites_geo: gpd.GeoDataFrame
    change: pd.DataFrame
    change_summary: pd.DataFrame
    alerts: pd.DataFrame
    alert_polygons: gpd.GeoDataFrame
    redlines: gpd.GeoDataFrame | None
    alert_min_loss_ha: float
    assessment: Assessment = field(repr=False)
    provenance: dict = field(default_factory=dict)

    def patch_table(self, year: int | None = None) -> pd.DataFrame:
        """Patches of one date (or all, with a ``year`` column), no geometry."""
        ys = self.years if year is None else (int(year),)
        frames = [self.patches[y].to_frame().assign(year=y) for y in ys]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def patch_geodataframe(self, year: int, crs=DISPLAY_CRS) -> gpd.GeoDataFrame:
        """Patches of one date with outlines, in ``crs`` (EPSG:4326 by default)."""
        return self.patches[int(year)].to_geodataframe(crs)

    def index_added_ha(self) -> dict[int, float]:
        """Year -> area (ha) the water index added to the land-cover wetland in the kept patches
        (0.0 for a year without band files or without an index)."""
        return {y: float(sum(p.index_added_ha for p in self.patches[y].patches)) for y in self.years}


# ------------------------------------------------------------------------------- inputs


def _named_layer(obj, *, what: str, id_field: str | None, coord_system: CoordSystem | str, prefer: str) -> ZoneLayer:
    """A validated ZoneLayer from a ZoneLayer or a GeoDataFrame (ids picked or numbered when
    ``id_field`` is None)."""
    if isinstance(obj, ZoneLayer):
        return obj
    if not isinstance(obj, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a ZoneLayer or a GeoDataFrame, got {type(obj).__name__}")
    if len(obj) == 0:
        raise DataError(what, "the layer has no polygons", "draw or import at least one polygon, or leave it out")
    if id_field is None:
        id_field = next((c for c in (prefer, *_ID_CANDIDATES) if c in obj.columns), None)
        if id_field is None:
            id_field = prefer
            obj = obj.assign(**{prefer: [str(i + 1) for i in range(len(obj))]})
    src = f"{what} ({obj.attrs['source']})" if obj.attrs.get("source") else what
    return as_zone_layer(obj, id_field=id_field, source=src, coord_system=coord_system)


def _names(gdf: gpd.GeoDataFrame, id_field: str) -> tuple[list[str], list[str]]:
    ids = gdf[id_field].astype(str)
    zh = gdf["name_zh"].fillna(ids).astype(str) if "name_zh" in gdf else ids
    en = gdf["name_en"].fillna(ids).astype(str) if "name_en" in gdf else ids
    return list(zh), list(en)


def _polygonal(geom) -> shapely.Geometry:
    """The polygon parts of a geometry (an intersection can add lines and points)."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def config_sites(cfg: Config) -> ZoneLayer | None:
    w = cfg.wetlands
    if w is None or w.sites is None:
        return None
    zl = load_zones(w.sites, id_field=w.sites_id_field, layer=w.sites_layer, coord_system=w.sites_coord_system)
    if not w.sites_kinds:
        return zl
    if w.sites_kind_field not in zl.gdf.columns:
        raise DataError(w.sites, f"[wetlands] sites_kinds is set but the layer has no column '{w.sites_kind_field}'",
                        "name the column with sites_kind_field, or remove sites_kinds")
    keep = zl.gdf[w.sites_kind_field].isin(w.sites_kinds)
    if not keep.any():
        found = sorted(map(str, zl.gdf[w.sites_kind_field].dropna().unique()))
        raise DataError(w.sites, f"no site has a {w.sites_kind_field} in {list(w.sites_kinds)} (found {found})",
                        "fix [wetlands] sites_kinds in the configuration")
    return ZoneLayer(gdf=zl.gdf[keep].reset_index(drop=True), id_field=zl.id_field, source=zl.source,
                     repaired_ids=zl.repaired_ids, converted_from=zl.converted_from)


def _config_river(cfg: Config) -> gpd.GeoDataFrame | None:
    w = cfg.wetlands
    if w is None or w.river is None:
        return None
    river = read_vector(w.river, layer=w.river_layer)
    require_crs(river.crs, f"{w.river}" + (f" layer {w.river_layer}" if w.river_layer else ""))
    return river


def _metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    return gdf.crs if gdf.crs.is_projected else gdf.estimate_utm_crs()


# ---------------------------------------------------------------------------- loss outlines


def _geodesic_area_m2(geom, crs: CRS) -> float:
    g = gpd.GeoSeries([geom], crs=crs).to_crs(4326).iloc[0]
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(g)[0])


def loss_polygons(
    landcover_t0: str | Path,
    landcover_t1: str | Path,
    polygon: shapely.Geometry,
    *,
    wet_codes: tuple[int, ...] = WET_CODES,
) -> gpd.GeoDataFrame:
    """Outlines of the wetland lost inside ``polygon`` between two land-cover dates.

    Reads both rasters windowed to the polygon's bounds, keeps the pixels whose centre is in the
    polygon (the zonal engine's rule), and vectorises those that were wetland (``wet_codes``) at
    t0 and a valid other class at t1 (``rasterio.features.shapes``, 4-connected, one polygon
    per connected run of one destination class).

    Parameters
    ----------
    polygon
        A (Multi)Polygon in the rasters' CRS.

    Returns
    -------
    GeoDataFrame
        ``destination, code_t1, area_ha, geometry`` in EPSG:4326 (area from the pixel outlines:
        planar in a projected CRS, geodesic in a lon/lat one).
    """
    cols = ["destination", "code_t1", "area_ha"]
    with rasterio.open(landcover_t0) as d0, rasterio.open(landcover_t1) as d1:
        crs = CRS.from_user_input(d0.crs)
        try:
            win = geometry_window(d0, [polygon])
        except Exception:  # WindowError: the polygon lies off the raster
            return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=DISPLAY_CRS)
        if win.width < 1 or win.height < 1:
            return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=DISPLAY_CRS)
        a0, a1 = d0.read(1, window=win), d1.read(1, window=win)
        nod0, nod1 = d0.nodata, d1.nodata
        wt = window_transform(win, d0.transform)
    inside = rasterize([(polygon, 1)], out_shape=a0.shape, transform=wt, fill=0, all_touched=False, dtype="uint8").astype(bool)
    wet = np.isin(a0, wet_codes)
    lost = inside & wet & ~np.isin(a1, wet_codes) & (a0 != nod0) & (a1 != nod1)
    rows, geoms = [], []
    if lost.any():
        for gj, code in shapes(np.where(lost, a1, 0).astype(a1.dtype), mask=lost, transform=wt, connectivity=4):
            g = shapely.geometry.shape(gj)
            area = _geodesic_area_m2(g, crs) if crs.is_geographic else g.area
            rows.append({"destination": class_group(int(code)), "code_t1": int(code), "area_ha": area / M2_PER_HA})
            geoms.append(g)
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=crs)
    return gdf.to_crs(DISPLAY_CRS)


# ---------------------------------------------------------------------------------- tables


def _classify_change(change: pd.DataFrame) -> pd.DataFrame:
    """Rows of the change table that touch wetland, with ``flow`` and ``other_class``."""
    c0, c1 = change["code_t0"], change["code_t1"]
    w0, w1 = c0.isin(WET_CODES), c1.isin(WET_CODES)
    flow = pd.Series(None, index=change.index, dtype=object)
    flow[w0 & ~w1] = "lost"
    flow[~w0 & w1] = "gained"
    flow[c0.isin(VEGETATED_CODES) & c1.isin(OPEN_WATER_CODES)] = "became_water"
    flow[c0.isin(OPEN_WATER_CODES) & c1.isin(VEGETATED_CODES)] = "became_vegetated"
    other = np.where(flow == "gained", c0, c1)
    out = change.assign(flow=flow, other_class=[class_group(c) for c in other])
    return out[out["flow"].notna()]


def _flow_table(classified: pd.DataFrame, zone_id: str) -> pd.DataFrame:
    z = classified[classified["zone_id"] == zone_id]
    return z.groupby(["period", "flow", "other_class"], as_index=False)["area_ha"].sum()


def _change_tables(a: Assessment, periods: list[str], redline_ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    classified = _classify_change(a.change)
    parts = [_flow_table(classified, _STUDY).assign(scope="study", redline_id=None)]
    if redline_ids:
        inside = _flow_table(classified, _UNION)
        study = parts[0].drop(columns=["scope", "redline_id"])
        keys = ["period", "flow", "other_class"]
        outside = study.merge(inside, on=keys, how="outer", suffixes=("_s", "_i")).fillna({"area_ha_s": 0.0, "area_ha_i": 0.0})
        outside = outside.assign(area_ha=outside["area_ha_s"] - outside["area_ha_i"])[keys + ["area_ha"]]
        parts += [inside.assign(scope="inside_redlines", redline_id=None), outside.assign(scope="outside_redlines", redline_id=None)]
        parts += [_flow_table(classified, _RL + r).assign(scope="redline", redline_id=r) for r in redline_ids]
    cols = ["period", "scope", "redline_id", "flow", "other_class", "area_ha"]
    change = pd.concat([p[cols] for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else pd.DataFrame(columns=cols)
    change = change[change["area_ha"].abs() > 1e-9].reset_index(drop=True)

    wet = a.areas[a.areas["lucode"].isin(WET_CODES)].groupby(["zone_id", "year"])["area_ha"].sum()
    scopes = [("study", None, _STUDY)] + ([("inside_redlines", None, _UNION), ("outside_redlines", None, None)] if redline_ids else [])
    scopes += [("redline", r, _RL + r) for r in redline_ids]
    rows = []
    for period in periods:
        y0, y1 = (int(v) for v in period.split("-"))
        for scope, rid, zid in scopes:
            if zid is None:  # outside = study - union
                w0 = wet.get((_STUDY, y0), 0.0) - wet.get((_UNION, y0), 0.0)
                w1 = wet.get((_STUDY, y1), 0.0) - wet.get((_UNION, y1), 0.0)
            else:
                w0, w1 = wet.get((zid, y0), 0.0), wet.get((zid, y1), 0.0)
            sel = change[(change["period"] == period) & (change["scope"] == scope)]
            if rid is not None:
                sel = sel[sel["redline_id"] == rid]
            by = sel.groupby("flow")["area_ha"].sum()
            lost, gained = float(by.get("lost", 0.0)), float(by.get("gained", 0.0))
            rows.append({"period": period, "scope": scope, "redline_id": rid, "wetland_t0_ha": float(w0), "wetland_t1_ha": float(w1),
                         "lost_ha": lost, "gained_ha": gained, "net_change_ha": gained - lost,
                         "became_water_ha": float(by.get("became_water", 0.0)), "became_vegetated_ha": float(by.get("became_vegetated", 0.0))})
    return change, pd.DataFrame(rows)


def _sites_table(a: Assessment, site_ids: list[str], names: tuple[list[str], list[str]], protected: dict[str, float]) -> pd.DataFrame:
    cols = ["site_id", "name_zh", "name_en", "year", "mapped_ha", "nodata_ha", "water_ha", "vegetated_wetland_ha", "wetland_ha",
            "other_ha", "stock_tc", "net_removals_tco2e_yr", "removals_period", "unestimated_area_ha", "wetland_change_ha", "protected_share"]
    rows = []
    areas = a.areas.set_index(["zone_id", "year"]).sort_index()
    nod = a.nodata.set_index(["zone_id", "year"])
    stock = a.stock_totals.set_index(["zone_id", "year"])["stock_tc"]
    flows = a.flows.set_index(["zone_id", "year_t1"]) if not a.flows.empty else None
    for sid, zh, en in zip(site_ids, *names):
        z = _SITE + sid
        prev = None
        for y in a.years:
            ar = areas.loc[[(z, y)]] if (z, y) in areas.index else areas.iloc[0:0]  # [[key]]: always a frame
            water = float(ar.loc[ar["lucode"].isin(OPEN_WATER_CODES), "area_ha"].sum())
            veg = float(ar.loc[ar["lucode"].isin(VEGETATED_CODES), "area_ha"].sum())
            valid = float(ar["area_ha"].sum())
            nd = float(nod.loc[(z, y), "nodata_ha"]) if (z, y) in nod.index else 0.0
            rem, period, unest = float("nan"), "", float("nan")
            if flows is not None and (z, y) in flows.index:
                f = flows.loc[(z, y)]
                f = f.iloc[0] if isinstance(f, pd.DataFrame) else f
                rem, period, unest = float(f["net_removals_tco2e_yr"]), str(f["period"]), float(f["unestimated_area_ha"])
            wet = water + veg
            rows.append({"site_id": sid, "name_zh": zh, "name_en": en, "year": y, "mapped_ha": valid + nd, "nodata_ha": nd,
                         "water_ha": water, "vegetated_wetland_ha": veg, "wetland_ha": wet, "other_ha": valid - wet,
                         "stock_tc": float(stock.get((z, y), 0.0)), "net_removals_tco2e_yr": rem, "removals_period": period,
                         "unestimated_area_ha": unest, "wetland_change_ha": float("nan") if prev is None else wet - prev,
                         "protected_share": protected.get(sid, float("nan"))})
            prev = wet
    return pd.DataFrame(rows, columns=cols)


def _alerts(change: pd.DataFrame, summary: pd.DataFrame, redline_ids: list[str], names: tuple[list[str], list[str]],
            threshold_ha: float) -> pd.DataFrame:
    cols = ["redline_id", "name_zh", "name_en", "period", "lost_ha", "main_destination", "main_destination_ha", "wetland_t0_ha", "lost_share"]
    rows = []
    lost = change[(change["scope"] == "redline") & (change["flow"] == "lost")]
    summ = summary[summary["scope"] == "redline"].set_index(["redline_id", "period"])
    for rid, zh, en in zip(redline_ids, *names):
        for period, g in lost[lost["redline_id"] == rid].groupby("period", sort=True):
            total = float(g["area_ha"].sum())
            # at least the threshold, with a tolerance for sums of pixel areas (4 x 0.09 != 0.36 in binary)
            if total <= 0 or total < threshold_ha - 1e-9:
                continue
            main = g.sort_values(["area_ha", "other_class"], ascending=[False, True]).iloc[0]
            w0 = float(summ.loc[(rid, period), "wetland_t0_ha"])
            rows.append({"redline_id": rid, "name_zh": zh, "name_en": en, "period": period, "lost_ha": total,
                         "main_destination": main["other_class"], "main_destination_ha": float(main["area_ha"]),
                         "wetland_t0_ha": w0, "lost_share": total / w0 if w0 > 0 else float("nan")})
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------- entry


def _hectares(value: object, name: str, what: str, fix: str) -> float:
    """``value`` as a finite number of hectares >= 0, else a :class:`DataError` naming ``name``."""
    try:
        ha = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(name, f"{what} must be a number of hectares, got {value!r}", fix) from None
    if not (math.isfinite(ha) and ha >= 0):
        raise DataError(name, f"{what} must be a finite number of hectares >= 0, got {value!r}", fix)
    return ha


def wetland_inventory(
    config: Config | str | Path,
    *,
    sites: ZoneLayer | gpd.GeoDataFrame | None = None,
    sites_id_field: str | None = None,
    redlines: ZoneLayer | gpd.GeoDataFrame | None = None,
    redlines_id_field: str | None = None,
    coord_system: CoordSystem | str = CoordSystem.WGS84,
    alert_min_loss_ha: float | None = None,
    min_patch_ha: float | None = None,
    water_index: str | None = None,
    patch_geometry: bool = True,
    progress: Progress | None = None,
) -> WetlandInventory:
    """Wetland patches, sites, change inside / outside red lines and loss alerts.

    Parameters
    ----------
    config
        A :class:`Config` or the path of a TOML run configuration (its ``[wetlands]`` section
        names the sites, the river layer and the defaults below).
    sites
        Named wetland sites (any polygons, overlapping allowed). Default: the configuration's
        sites (only those of ``sites_kinds``); none when it names none.
    sites_id_field, redlines_id_field
        Id column of a GeoDataFrame given as ``sites`` / ``redlines``; None picks the first of
        ``site_id`` (sites) or ``redline_id`` (red lines), ``zone_id, id, fid, name`` present,
        else numbers the polygons 1..n.
    redlines
        Ecological red-line (or any protection) polygons: drawn, uploaded or loaded from the
        workspace store. Clipped to the study area; each must overlap it.
    coord_system
        Source system of GeoDataFrame inputs given in lon/lat: ``wgs84`` (also CGCS2000),
        ``gcj02`` (Amap, DataV) or ``bd09`` (Baidu); converted to WGS84 before any overlay.
    alert_min_loss_ha
        Least wetland lost (ha) inside one red-line polygon in one period that raises an alert.
        A **policy choice, not a scientific threshold**. Default: the configuration's, else 1.0.
    min_patch_ha
        Patches smaller than this (ha) are dropped from the patch tables (counted in
        ``dropped_n`` / ``dropped_ha``). Default: the configuration's, else 0.
    water_index
        ``None``: as the configuration's ``[wetlands.water_index]`` (no index without it);
        ``"mndwi"`` / ``"ndwi"``: that index on the configured band files; ``"none"``: no index.
        The index refines the patches only, not change, sites or alerts (module docstring).
    patch_geometry
        Draw patch outlines (False: figures only, faster).
    progress
        ``progress(step, fraction)``, fraction in [0, 1].

    Raises
    ------
    DataError
        Any unusable input: layers without a CRS, empty layers, red lines outside the study
        area, sites off the raster, band files missing, unreadable or off the land-cover grid
        (the message names the configuration and the year), an index asked for without band
        files, and everything :func:`run_assessment` refuses.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    say = progress or (lambda step, frac: None)
    w = cfg.wetlands
    threshold = _hectares(alert_min_loss_ha if alert_min_loss_ha is not None else (w.alert_min_loss_ha if w else DEFAULT_ALERT_MIN_LOSS_HA),
                          "alert_min_loss_ha", "the alert threshold", "give e.g. 1.0 (hectares lost per red line and period)")
    min_ha = _hectares(min_patch_ha if min_patch_ha is not None else (w.min_patch_ha if w else 0.0),
                       "min_patch_ha", "the least patch area", "give e.g. 0.0 to keep every patch")

    wi = w.water_index if w is not None else None
    choice = None if water_index is None else str(water_index).strip().lower()
    if choice is not None and choice not in (*WATER_INDICES, "none"):
        raise DataError("water_index", f"the water index must be one of {[*WATER_INDICES, 'none']}, got {water_index!r}",
                        "give mndwi, ndwi, or none to use no index")
    if choice in WATER_INDICES and wi is None:
        raise DataError(cfg.source or "the configuration", f"the {choice.upper()} water index was asked for, but the configuration "
                        "names no band files ([wetlands.water_index] with a [wetlands.water_index.bands] table)",
                        'add e.g. [wetlands.water_index.bands] 2025 = ["bands_2025.tif"], or use no index')
    use_index = wi is not None and choice != "none"
    index_name = (choice if choice in WATER_INDICES else wi.index) if use_index else None

    say("read layers", 0.0)
    years = cfg.years
    infos = {y: check_categorical(read_info(cfg.landcover[y])) for y in years}
    # the band files are opened and checked before the (long) counting pass
    band_sets = {y: open_water_index_bands(cfg, y, index_name) for y in wi.bands} if use_index else {}
    rules = PatchRules() if (use_index and wi.paddy_as_wetland) else PatchRules(index_paddy_codes=())
    ref = infos[years[0]]
    districts = config_zones(cfg, ref)
    study = shapely.union_all(np.asarray(districts.gdf.to_crs(ref.crs).geometry.values))
    raster_box = shapely.box(*ref.bounds)
    study_label = f"the study area ({'the zones of ' + str(cfg.zones) if cfg.zones is not None else 'the raster extent'})"

    site_layer = (_named_layer(sites, what="sites", id_field=sites_id_field, coord_system=coord_system, prefer="site_id")
                  if sites is not None else config_sites(cfg))
    rl_layer = (_named_layer(redlines, what="red lines", id_field=redlines_id_field, coord_system=coord_system, prefer="redline_id")
                if redlines is not None else None)

    zone_rows: list[dict] = []
    site_ids: list[str] = []
    site_names: tuple[list[str], list[str]] = ([], [])
    sites_geo = gpd.GeoDataFrame({"site_id": [], "name_zh": [], "name_en": []}, geometry=[], crs=DISPLAY_CRS)
    if site_layer is not None:
        sg = site_layer.gdf.to_crs(ref.crs)
        site_ids = [str(v) for v in sg[site_layer.id_field]]
        site_names = _names(sg, site_layer.id_field)
        off = [i for i, g in zip(site_ids, sg.geometry) if not g.intersects(raster_box)]
        if off:
            raise DataError(site_layer.source, f"sites {off} lie outside the land-cover raster {cfg.landcover[years[0]]}",
                            "check the sites' CRS / coordinate system (GCJ-02?) or remove them")
        for sid, zh, en, g in zip(site_ids, *site_names, sg.geometry):
            zone_rows.append({"zone_id": _SITE + sid, "name_zh": zh, "name_en": en, "geometry": g})
        sites_geo = gpd.GeoDataFrame({"site_id": site_ids, "name_zh": site_names[0], "name_en": site_names[1]},
                                     geometry=list(sg.geometry), crs=ref.crs).to_crs(DISPLAY_CRS)

    redline_ids: list[str] = []
    rl_names: tuple[list[str], list[str]] = ([], [])
    redlines_geo = None
    union = None
    clipped_ids: list[str] = []
    if rl_layer is not None:
        rg = rl_layer.gdf.to_crs(ref.crs)
        redline_ids = [str(v) for v in rg[rl_layer.id_field]]
        rl_names = _names(rg, rl_layer.id_field)
        clipped = [_polygonal(shapely.intersection(g, study)) for g in rg.geometry]
        outside = [i for i, g in zip(redline_ids, clipped) if g.is_empty or g.area <= 0]
        if outside:
            raise DataError(rl_layer.source, f"red lines {outside} lie outside {study_label}",
                            "check the layer's CRS and coordinate system (GCJ-02 / BD-09 data must be declared as such), "
                            "or use red lines of this area")
        clipped_ids = [i for i, g, c in zip(redline_ids, rg.geometry, clipped) if c.area < g.area * (1 - 1e-6)]
        for rid, zh, en, g in zip(redline_ids, *rl_names, clipped):
            zone_rows.append({"zone_id": _RL + rid, "name_zh": zh, "name_en": en, "geometry": g})
        union = shapely.union_all(clipped)
        zone_rows.append({"zone_id": _UNION, "name_zh": "生态保护红线（合并）", "name_en": "Red lines (union)", "geometry": union})
        redlines_geo = gpd.GeoDataFrame({"redline_id": redline_ids, "name_zh": rl_names[0], "name_en": rl_names[1]},
                                        geometry=clipped, crs=ref.crs).to_crs(DISPLAY_CRS)
    zone_rows.append({"zone_id": _STUDY, "name_zh": "研究区", "name_en": "Study area", "geometry": study})
    zl = ZoneLayer(gdf=gpd.GeoDataFrame(zone_rows, geometry="geometry", crs=ref.crs), id_field="zone_id",
                   source="wetland inventory zones (sites, red lines, their union, the study area)")

    a = run_assessment(cfg, zones=zl, progress=lambda s, f: say("stocks and change counted" if s == "done" else s, 0.6 * f))
    periods = [f"{y0}-{y1}" for y0, y1 in zip(years, years[1:])]

    protected: dict[str, float] = {}
    if union is not None and site_layer is not None:
        sg = site_layer.gdf.to_crs(ref.crs)
        metric = _metric_crs(sg)
        s_m = sg.to_crs(metric).geometry
        u_m = gpd.GeoSeries([union], crs=ref.crs).to_crs(metric).iloc[0]
        protected = {sid: min(1.0, float(g.intersection(u_m).area / g.area)) if g.area > 0 else float("nan") for sid, g in zip(site_ids, s_m)}
    sites_table = _sites_table(a, site_ids, site_names, protected)
    change, summary = _change_tables(a, periods, redline_ids)
    alerts = _alerts(change, summary, redline_ids, rl_names, threshold)

    river = _config_river(cfg)
    patches: dict[int, WetlandPatches] = {}
    for i, y in enumerate(years):
        say(f"wetland patches {y}", 0.6 + 0.3 * i / len(years))
        idx_kw = (dict(bands=band_sets[y], index=index_name, index_threshold=wi.threshold,
                       min_water_frequency=wi.min_water_frequency) if y in band_sets else {})
        patches[y] = wetland_patches(cfg.landcover[y], zones=districts if cfg.zones is not None else None,
                                     zone_id_field=districts.id_field, river=river, min_area_ha=min_ha, geometry=patch_geometry,
                                     rules=rules, **idx_kw)
    patch_summary = pd.concat([p.summary().assign(year=y) for y, p in patches.items()], ignore_index=True)
    patch_summary = patch_summary[["year", "zone_id", "type", "n_patches", "area_ha"]] if len(patch_summary) else pd.DataFrame(columns=["year", "zone_id", "type", "n_patches", "area_ha"])

    polys = []
    geoms_by_id = dict(zip(redline_ids, [r["geometry"] for r in zone_rows if str(r["zone_id"]).startswith(_RL)]))
    for k, (_, al) in enumerate(alerts.iterrows()):
        say(f"outline losses in {al['redline_id']}", 0.9 + 0.1 * k / max(len(alerts), 1))
        y0, y1 = (int(v) for v in al["period"].split("-"))
        lp = loss_polygons(cfg.landcover[y0], cfg.landcover[y1], geoms_by_id[al["redline_id"]])
        polys.append(lp.assign(redline_id=al["redline_id"], period=al["period"]))
    pcols = ["redline_id", "period", "destination", "code_t1", "area_ha"]
    alert_polygons = (gpd.GeoDataFrame(pd.concat(polys, ignore_index=True)[pcols + ["geometry"]], geometry="geometry", crs=DISPLAY_CRS)
                      if polys else gpd.GeoDataFrame({c: [] for c in pcols}, geometry=[], crs=DISPLAY_CRS))

    water_prov = None
    if use_index:
        used = {y: patches[y] for y in band_sets}
        thr_key = f"index_threshold_{index_name}"
        water_prov = {
            "index": index_name,
            "bands": {"mndwi": "green, swir1", "ndwi": "green, nir"}[index_name],
            "threshold": {"value": next(iter(used.values())).index_threshold, "unit": "unitless",
                          "source": THRESHOLDS[thr_key].source if wi.threshold is None else "set in the configuration",
                          "verified": False},
            "min_water_frequency": {"value": wi.min_water_frequency, "unit": "fraction of valid dates",
                                    "source": THRESHOLDS["min_water_frequency"].source, "verified": False},
            "paddy_as_wetland": wi.paddy_as_wetland,
            "index_water_codes": list(rules.index_water_codes),
            "index_paddy_codes": list(rules.index_paddy_codes),
            "files": {str(y): [str(f) for f in wi.bands[y]] for y in band_sets},
            "n_dates": {str(y): p.n_dates for y, p in used.items()},
            "years_without_bands": [y for y in years if y not in band_sets],
            "index_added_ha": {str(y): float(sum(q.index_added_ha for q in p.patches)) for y, p in used.items()},
            "overridden_by_caller": choice in WATER_INDICES and choice != wi.index,
            "scope": "refines the patch layer (extent and types) only; change, sites and alerts use the land-cover "
                     "classes, so a year's patch total can exceed the study area's wetland by index_added_ha",
            "verified": False,
        }

    ap = a.provenance
    provenance = {
        "run_at_utc": ap["run_at_utc"],
        "config": ap["config"],
        "area": ap["area"],
        "inputs": {
            **{k: v for k, v in ap["inputs"].items() if k.startswith("landcover_") or k == "coefficients"},
            "districts": {"path": str(cfg.zones), "layer": cfg.zones_layer} if cfg.zones is not None else "raster extent",
            "sites": None if site_layer is None else {"source": site_layer.source, "ids": site_ids,
                                                      "kinds": list(w.sites_kinds) if (w and sites is None) else None,
                                                      "converted_from": site_layer.converted_from, "repaired": list(site_layer.repaired_ids)},
            "redlines": None if rl_layer is None else {"source": rl_layer.source, "ids": redline_ids, "converted_from": rl_layer.converted_from,
                                                       "repaired": list(rl_layer.repaired_ids), "clipped_to_study_area": clipped_ids},
            "river": None if river is None else {"path": str(w.river), "layer": w.river_layer},
        },
        "water_index": water_prov,
        "thresholds": {
            "alert_min_loss_ha": {"value": threshold, "unit": "ha", "source": "policy choice, not science: the loss a supervising office acts on", "verified": False},
            "min_patch_ha": {"value": min_ha, "unit": "ha", "source": "reporting choice", "verified": False},
            **{k: asdict(v) for k, v in THRESHOLDS.items() if k in ("lake_min_ha", "channel_max_compactness")},
        },
        "definitions": {
            "wetland_codes": list(WET_CODES),
            "vegetated_wetland_codes": list(VEGETATED_CODES),
            "open_water_codes": list(OPEN_WATER_CODES),
            "wetland": "Ramsar sense: vegetated wetland and open water (rivers, lakes, ponds are wetland types)",
            "lost": "wetland at t0, a valid non-wetland class at t1 (by what it became)",
            "gained": "a valid non-wetland class at t0, wetland at t1 (by what it came from)",
            "became_water": "vegetated wetland at t0, open water at t1: a change inside the wetland extent, not a loss",
            "became_vegetated": "open water at t0, vegetated wetland at t1: not a gain",
            "class_groups": {str(k): v for k, v in CLASS_GROUPS.items()},
            "study_area": "union of the configured zones (or the raster extent)",
            "inside_redlines": "dissolved union of the red lines clipped to the study area (overlaps count once)",
            "outside_redlines": "study area total minus inside_redlines",
            "pixel_rule": ap["zone_coverage_rule"],
            "nodata": "pixels nodata on either date are left out of the change",
            "site_removals": "net removals of the land-cover period ending at the row's year (gain-loss, t CO2e/yr); none on the first date",
            "protected_share": "share of the site's polygon area inside the red-line union (planar, in a metric CRS)",
            "alert": "wetland lost in one red-line polygon and period >= alert_min_loss_ha",
        },
        "analysis_crs": ap["analysis_crs"],
        "pixel_size_m": ap["pixel_size_m"],
        "coefficient_table": ap["coefficient_table"],
        "patch_rules": {"connectivity": 8, "min_area_ha": min_ha, "rules": list(rules.describe())},
        "versions": ap["versions"],
    }
    say("done", 1.0)
    return WetlandInventory(years=tuple(years), periods=tuple(periods), patches=patches, patch_summary=patch_summary,
                            sites=sites_table, sites_geo=sites_geo, change=change, change_summary=summary, alerts=alerts,
                            alert_polygons=alert_polygons, redlines=redlines_geo, alert_min_loss_ha=threshold,
                            assessment=a, provenance=provenance)
