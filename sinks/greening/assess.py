"""The greening orchestrator: one call serves the page, the CLI and the tests.

:func:`greening_assessment` reads the configuration's land cover (and band files for NDVI),
builds the per-date masks once (:func:`build_layers`), counts every planning unit exactly,
derives the indicators, the planting candidates (patches and per-unit gains), the intervals from
the classification accuracy where an accuracy report exists, and progress against targets.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features
from scipy import ndimage

from geodata.crs import CoordSystem, require_crs, to_wgs84_geometries
from geodata.errors import DataError, EmptyResultError
from geodata.files import sha256_file
from geodata.rasters import check_categorical, check_same_grid, read_info, row_areas_m2
from geodata.vectors import ZoneLayer, load_zones, prepare_zones, read_vector
from sinks.coefficients import CoefficientTable, load_coefficients
from sinks.config import Config, load_config
from sinks.greening.extra import check_forest_extra, load_forest_extra
from sinks.greening.indicators import indicator_table, unit_tables, unit_topology
from sinks.greening.layers import CANDIDATE_KINDS, YearLayers, fractional_cover, fvc_endpoints, rasterize_mask, year_layers
from sinks.notes import Note
from sinks.greening.settings import ClassRoles, load_class_roles
from sinks.greening.targets import load_targets, progress_table, target_indicators, unmatched_units
from sinks.units import C_TO_CO2, M2_PER_HA

DISPLAY_CRS = "EPSG:4326"
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class GreeningAssessment:
    """Greening indicators of one unit set over every land-cover date.

    ``units``: display CRS (unit_id, name_zh, name_en, geometry). ``indicators``: one row per unit
    and year (:func:`sinks.greening.indicators.indicator_table`). ``class_areas``: unit, year,
    code, in_builtup_area, area_ha. ``candidates``: per unit, year, present class and kind, with
    area, removals and stock gain. ``patches``: candidate patches of the latest date (display
    CRS), largest first. ``intervals``: coverage intervals from an accuracy report (None when
    no date has one). ``progress``: each unit against its targets. ``overlaps`` / ``gap_ha`` /
    ``outside_ha``: how the units tile the assessment area.
    """

    config: Config
    unit_set: str
    id_field: str
    units: gpd.GeoDataFrame
    indicators: pd.DataFrame
    class_areas: pd.DataFrame
    ndvi_areas: pd.DataFrame
    candidates: pd.DataFrame
    patches: gpd.GeoDataFrame
    patches_dropped: tuple[int, float]
    intervals: pd.DataFrame | None
    targets: pd.DataFrame
    targets_rejected: pd.DataFrame
    forest_extra_rejected: pd.DataFrame | None
    progress: pd.DataFrame
    overlaps: pd.DataFrame
    gap_ha: float
    outside_ha: float
    roles: ClassRoles
    builtup_source: str
    notes: tuple[Note, ...] = field(default_factory=tuple)  # English text + code and params for translation
    provenance: dict = field(default_factory=dict)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.indicators["year"].unique())


@dataclass(frozen=True)
class GreeningLayers:
    """The per-date masks (independent of the units), reusable across unit sets."""

    layers: dict[int, YearLayers]
    roles: ClassRoles
    parks: gpd.GeoDataFrame | None
    excluded_source: str
    notes: tuple[Note, ...] = ()


def _in_crs(gdf: gpd.GeoDataFrame | None, crs) -> gpd.GeoSeries | None:
    return None if gdf is None or gdf.empty else gdf.to_crs(crs).geometry


def config_parks(cfg: Config) -> gpd.GeoDataFrame | None:
    """The configured park polygons (EPSG:4326 as read; checked like zones), or None."""
    g = cfg.greening
    if g.parks is None:
        return None
    return load_zones(g.parks, id_field=g.parks_id_field, layer=g.parks_layer, coord_system=g.parks_coord_system).gdf


def config_units(cfg: Config, which: str) -> tuple[ZoneLayer, tuple[str, str]]:
    """The configuration's ``zones`` (districts) or ``[greening]`` ``units`` as a ZoneLayer and
    their name fields."""
    if which == "units":
        g = cfg.greening
        if g.units is None:
            raise DataError(cfg.source or "configuration", "[greening] names no units_path", 'add units_path = "units.gpkg" (and units_layer) to [greening], or use the zones')
        return load_zones(g.units, id_field=g.units_id_field, layer=g.units_layer, coord_system=g.units_coord_system), g.units_name_fields
    if cfg.zones is None:
        raise DataError(cfg.source or "configuration", "the configuration names no zones", "add a [zones] path, or upload units")
    return load_zones(cfg.zones, id_field=cfg.zone_id_field, layer=cfg.zones_layer, coord_system=cfg.zones_coord_system), cfg.zone_name_fields


def band_files(cfg: Config, year: int) -> tuple[Path, ...]:
    """Band files of ``year`` for NDVI: ``[greening.bands]``, else ``[wetlands.water_index.bands]``."""
    if year in cfg.greening.bands:
        return cfg.greening.bands[year]
    wi = cfg.wetlands.water_index if cfg.wetlands is not None else None
    return tuple(wi.bands.get(year, ())) if wi is not None else ()


def build_layers(cfg: Config, *, parks: gpd.GeoDataFrame | None = None, redlines: gpd.GeoDataFrame | None = None,
                 progress: Progress | None = None) -> GreeningLayers:
    """Masks of every land-cover date. ``parks`` / ``redlines`` replace the configured ones
    (any CRS); red lines (default: ``[protection]`` red lines) are left out of the candidates."""
    say = progress or (lambda s, f: None)
    g = cfg.greening
    roles = load_class_roles(g.roles)
    infos = {y: check_categorical(read_info(cfg.landcover[y])) for y in cfg.years}
    ref = infos[cfg.years[0]]
    if parks is None:
        parks = config_parks(cfg)
    builtup = None
    if g.builtup is not None:
        builtup = read_vector(g.builtup, layer=g.builtup_layer)
        require_crs(builtup.crs, g.builtup)
        if g.builtup_coord_system != CoordSystem.WGS84.value:
            builtup = builtup.to_crs(DISPLAY_CRS)
            builtup = builtup.set_geometry(to_wgs84_geometries(builtup.geometry.values, g.builtup_coord_system))
    notes = []
    excluded_source = "none"
    if redlines is None and cfg.protection is not None:
        from sinks.protection import config_layers  # the configured red lines
        red, _space = config_layers(cfg)
        redlines = red.gdf if red is not None else None
        excluded_source = "configured ecological red lines" if redlines is not None else "none"
    elif redlines is not None:
        excluded_source = "given red lines"
    if redlines is None:
        notes.append(Note("no_redlines", "no red lines given: planting candidates are not screened against them"))
    layers = {}
    for n, y in enumerate(cfg.years):
        say(f"masks {y}", n / len(cfg.years))
        layers[y] = year_layers(y, infos[y], roles=roles, gcfg=g, band_files=band_files(cfg, y),
                                parks=_in_crs(parks, ref.crs), builtup_polys=_in_crs(builtup, ref.crs),
                                excluded_polys=_in_crs(redlines, ref.crs))
        if y != cfg.years[0]:
            check_same_grid(infos[y], ref)
        notes.extend(layers[y].notes)
    ends = fvc_endpoints([(v.ndvi, v.land) for v in layers.values()], g.fvc_ndvi_endpoints)
    if ends is not None:
        for y, v in layers.items():
            if v.ndvi is not None:
                fvc, _ = fractional_cover(v.ndvi, v.land, ends)
                layers[y] = replace(v, fvc=fvc, fvc_endpoints=ends)
        how = "given" if g.fvc_ndvi_endpoints is not None else "5th / 95th percentile of land NDVI, all dates pooled"
        notes.append(Note("fvc", f"fractional vegetation cover: NDVI soil {ends[0]:.3f}, full vegetation {ends[1]:.3f} ({how})",
                          soil=ends[0], veg=ends[1], given=g.fvc_ndvi_endpoints is not None))
    if parks is None:
        notes.append(Note("no_parks", "no park layer: park service coverage is undefined (configure [greening] parks_path or upload parks)"))
    return GreeningLayers(layers=layers, roles=roles, parks=parks, excluded_source=excluded_source, notes=tuple(notes))


def candidate_patches(layers: YearLayers, units: gpd.GeoDataFrame, id_field: str, *, roles: ClassRoles,
                      coefficients: CoefficientTable, min_ha: float, kinds=("afforestation", "greening"),
                      max_patches: int = 2000) -> tuple[gpd.GeoDataFrame, tuple[int, float]]:
    """Connected candidate areas (8-neighbour) of the area kinds inside the units (pixel centres),
    at least ``min_ha``, as polygons
    (analysis CRS) with kind, area, present majority class, unit (by centroid), the removals
    and stock gain a planting would bring. Shelterbelts are lines along field edges and are
    reported per unit only. Returns (patches, (n dropped, ha dropped)); at most ``max_patches``
    largest of each kind are kept (the rest are counted as dropped)."""
    info = layers.info
    row_ha = row_areas_m2(info) / M2_PER_HA
    rules = roles.plant_rules()
    gain = coefficients.gain_rates()
    dens = coefficients.total_density_tc_per_ha()
    rows, geoms = [], []
    dropped_n, dropped_ha = 0, 0.0
    kind_code = {v: k for k, v in CANDIDATE_KINDS.items()}
    in_units = rasterize_mask(units.to_crs(info.crs).geometry, info)
    for kind in kinds:
        mask = (layers.candidates == kind_code[kind]) & in_units
        if not mask.any():
            continue
        lab, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
        rr = np.nonzero(mask)
        ids = lab[rr]
        area = np.bincount(ids, weights=row_ha[rr[0]], minlength=n + 1)
        keep = np.flatnonzero(area >= max(min_ha, 0.0))
        keep = keep[keep > 0]
        small = np.setdiff1d(np.arange(1, n + 1), keep)
        dropped_n += len(small)
        dropped_ha += float(area[small].sum())
        if len(keep) > max_patches:
            order = keep[np.argsort(-area[keep])]
            keep, extra = order[:max_patches], order[max_patches:]
            dropped_n += len(extra)
            dropped_ha += float(area[extra].sum())
        sel = np.where(np.isin(lab, keep), lab, 0).astype("int32")
        codes = layers.landcover
        for geom_json, val in features.shapes(sel, mask=sel > 0, transform=info.transform, connectivity=8):
            pid = int(val)
            geoms.append(shapely.geometry.shape(geom_json))
            rows.append({"label": pid, "kind": kind, "area_ha": float(area[pid])})
        # majority present class per kept label
        ids_k = lab[rr].astype("int64")  # label x 65536 overflows int32 past 32,767 labels
        keep_set = np.isin(ids_k, keep)
        cc = codes[rr][keep_set].astype("int64")
        lk = ids_k[keep_set]
        maj = {}
        if lk.size:
            key = lk * 65536 + cc
            u, cnt = np.unique(key, return_counts=True)
            best: dict[int, tuple[int, int]] = {}
            for k, c in zip(u, cnt):
                lbl, code = int(k // 65536), int(k % 65536)
                if c > best.get(lbl, (0, -1))[0]:
                    best[lbl] = (int(c), code)
            maj = {k: v[1] for k, v in best.items()}
        for r in rows:
            if r["kind"] == kind and "code" not in r:
                r["code"] = maj.get(r["label"], -1)
    cols = ["patch_id", "kind", "code", "plant_to", "area_ha", "unit_id", "removals_tco2e_yr", "stock_gain_tc", "lon", "lat"]
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=info.crs), (dropped_n, dropped_ha)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=info.crs)
    gdf = gdf.dissolve(by=["kind", "label"], aggfunc="first", as_index=False)  # a label may come back in pieces
    gdf["plant_to"] = gdf["code"].map(lambda c: rules.get(int(c), ("", np.nan))[1])
    gdf["removals_tco2e_yr"] = gdf["area_ha"] * gdf["plant_to"].map(gain) * C_TO_CO2
    gdf["stock_gain_tc"] = gdf["area_ha"] * (gdf["plant_to"].map(dens) - gdf["code"].map(dens))
    cent = gdf.geometry.representative_point()
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=cent, crs=info.crs), units[[id_field, "geometry"]].to_crs(info.crs), how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    gdf["unit_id"] = joined[id_field].reindex(gdf.index).astype("object").where(lambda s: s.notna(), "")
    ll = cent.to_crs(DISPLAY_CRS)
    gdf["lon"], gdf["lat"] = ll.x.round(6), ll.y.round(6)
    gdf = gdf.sort_values("area_ha", ascending=False).reset_index(drop=True)
    gdf["patch_id"] = [f"C{i + 1:04d}" for i in range(len(gdf))]
    return gdf[cols + ["geometry"]], (dropped_n, dropped_ha)


def _water_ha(layers: YearLayers, geom) -> float:
    """Mapped land-cover area of ``geom`` that is not land (water), in ha (exact fractions)."""
    from geodata.coverage import zone_coverage
    cov = zone_coverage(layers.info, geom, source="gap between units")
    if cov.is_empty:
        return 0.0
    w = cov.window
    sl = (slice(int(w.row_off), int(w.row_off + w.height)), slice(int(w.col_off), int(w.col_off + w.width)))
    water = layers.valid[sl] & ~layers.land[sl]
    return float(cov.pixel_area_m2()[water].sum() / M2_PER_HA)


def accuracy_intervals(cfg: Config, tables: dict[str, pd.DataFrame], indicators: pd.DataFrame, roles: ClassRoles) -> tuple[pd.DataFrame | None, list[str]]:
    """Forest and green coverage intervals per unit for the dates that have an accuracy report."""
    from sinks.greening.uncertainty import coverage_intervals, load_error_counts
    notes, frames = [], []
    g = cfg.greening
    for y in cfg.years:
        if y not in cfg.accuracy:
            notes.append(Note("no_accuracy", f"{y}: no accuracy report for this map, so no interval from the classification; use the point-sample check", year=y))
            continue
        counts = load_error_counts(cfg.accuracy[y])
        known = set(int(c) for c in counts.index) | set(int(c) for c in tables["classes"]["code"])

        def present(codes) -> list[int]:  # legend classes that neither the map nor the sample has (95) add nothing
            return [c for c in codes if c in known]
        ind = indicators[indicators["year"] == y].set_index("unit_id")
        ca = tables["classes"][tables["classes"]["year"] == y]
        land_codes = set(roles.land_codes)
        # forest over land: classes of the whole unit (land only: water is outside the denominator)
        fa = ca[ca["code"].isin(land_codes)].groupby(["unit_id", "code"], as_index=False)["area_ha"].sum()
        codes = present(roles.forest_codes(include_shrub=g.include_shrub_in_forest))
        if codes and len(fa):
            f = coverage_intervals(fa, counts, codes, denominator_ha=ind["land_ha"].to_dict())
            frames.append(f.assign(year=y, indicator="forest_coverage_pct"))
        ga = ca[ca["in_builtup_area"]].groupby(["unit_id", "code"], as_index=False)["area_ha"].sum()
        codes = present(roles.green_codes(include_cropland=g.include_cropland_in_green))
        if codes and len(ga):
            gr = coverage_intervals(ga, counts, codes, denominator_ha=ind["builtup_area_ha"].to_dict())
            frames.append(gr.assign(year=y, indicator="green_coverage_pct"))
    return (pd.concat(frames, ignore_index=True) if frames else None), notes


def greening_assessment(
    config: Config | str | Path,
    *,
    units: ZoneLayer | gpd.GeoDataFrame | str | None = None,
    unit_id_field: str = "unit_id",
    unit_coord_system: CoordSystem | str = CoordSystem.WGS84,
    unit_source: str = "<units>",
    layers: GreeningLayers | None = None,
    parks: gpd.GeoDataFrame | None = None,
    redlines: gpd.GeoDataFrame | None = None,
    targets: pd.DataFrame | str | Path | None = None,
    forest_extra: pd.DataFrame | str | Path | None = None,
    progress: Progress | None = None,
) -> GreeningAssessment:
    """Greening indicators, intervals, targets and candidates for one set of planning units.

    Parameters
    ----------
    units
        ``"zones"`` (the configuration's zones, e.g. districts), ``"units"`` (``[greening]``
        units_path, e.g. streets), a GeoDataFrame (an upload; ids in ``unit_id_field``, checked
        like zones: CRS, unique ids, polygons repaired, GCJ-02 / BD-09 converted per
        ``unit_coord_system``) or a ZoneLayer. Default: ``units`` when configured, else ``zones``.
    layers
        Masks from :func:`build_layers` (reuse them across unit sets); built when None, with
        ``parks`` and ``redlines`` replacing the configured layers.
    targets
        A targets frame or CSV (default ``[greening] targets_path``; none = no progress table).
    forest_extra
        Forest the map cannot see (shelterbelts, 四旁树), a frame or CSV of ``unit_id, year,
        extra_forest_ha[, kind, source]`` (default ``[greening] forest_extra_path``).

    Raises ``DataError`` with file, problem and fix for unusable input.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    say = progress or (lambda s, f: None)
    g = cfg.greening
    if units is None:
        units = "units" if g.units is not None else "zones"
    if isinstance(units, str):
        unit_set = units
        zl, (zh, en) = config_units(cfg, units)
    else:
        unit_set = "upload"
        zl = units if isinstance(units, ZoneLayer) else prepare_zones(units, source=unit_source, id_field=unit_id_field, coord_system=unit_coord_system)
        zh, en = "name_zh", "name_en"
    if layers is None:
        layers = build_layers(cfg, parks=parks, redlines=redlines, progress=lambda s, f: say(s, 0.4 * f))
    elif parks is not None or redlines is not None:
        raise ValueError("parks and redlines shape the masks: pass them to build_layers, not with layers=")
    lay = layers.layers
    ref = lay[cfg.years[0]].info
    units_a = zl.gdf.to_crs(ref.crs)
    zid = zl.id_field
    say("count units", 0.4)
    tables = unit_tables(lay, units_a, zid, breaks=g.ndvi_breaks, shelterbelt_width_m=g.shelterbelt_width_m,
                         progress=lambda f: say("count units", 0.4 + 0.4 * f))
    if tables["unit"]["covered_ha"].sum() <= 0:
        raise EmptyResultError(zl.source, f"none of the {len(units_a)} unit(s) overlaps the land-cover map {cfg.landcover[cfg.years[0]].name}",
                               "check that the units are in the right place (GCJ-02 / BD-09 coordinates need the coordinate-system "
                               "option) and that the map covers them")
    coefficients = load_coefficients(cfg.coefficients)
    extra = extra_rejected = None
    if forest_extra is None and g.forest_extra is not None:
        forest_extra = g.forest_extra
    if isinstance(forest_extra, pd.DataFrame):
        extra, extra_rejected = check_forest_extra(forest_extra, name="extra forest table")
    elif forest_extra is not None:
        extra, extra_rejected = load_forest_extra(forest_extra)
    ind = indicator_table(tables, roles=layers.roles, gcfg=g, coefficients=coefficients, parks_given=layers.parks is not None,
                          forest_extra=extra)
    notes = list(layers.notes)
    if zl.repaired_ids:
        notes.append(Note("repaired", f"units repaired (invalid geometry made valid): {', '.join(zl.repaired_ids)}", units=list(zl.repaired_ids)))
    if zl.converted_from:
        notes.append(Note("converted", f"unit coordinates converted from {zl.converted_from} to WGS84", system=zl.converted_from))
    empty = ind.loc[ind["unit_area_ha"] <= 0, "unit_id"].unique()
    if len(empty):
        notes.append(Note("outside_map", f"units outside the land-cover map (no figures): {', '.join(map(str, empty))}", units=[str(u) for u in empty]))

    say("candidate patches", 0.82)
    latest = cfg.years[-1]
    patches, dropped = candidate_patches(lay[latest], units_a, zid, roles=layers.roles, coefficients=coefficients, min_ha=g.min_candidate_ha)
    patches = patches.to_crs(DISPLAY_CRS)
    cand = tables["candidates"].copy()
    if len(cand):
        rules = layers.roles.plant_rules()
        cand["plant_to"] = cand["code"].map(lambda c: rules[int(c)][1])
        cand["removals_tco2e_yr"] = cand["area_ha"] * cand["plant_to"].map(coefficients.gain_rates()) * C_TO_CO2
        dens = coefficients.total_density_tc_per_ha()
        cand["stock_gain_tc"] = cand["area_ha"] * (cand["plant_to"].map(dens) - cand["code"].map(dens))

    say("intervals and targets", 0.9)
    intervals, acc_notes = accuracy_intervals(cfg, tables, ind, layers.roles)
    notes.extend(acc_notes)
    names = target_indicators(g.park_radii_m)
    rejected = pd.DataFrame(columns=["row", "unit_id", "year", "indicator", "target_pct", "reason"])
    if targets is None and g.targets is not None:
        targets = g.targets
    if targets is None:
        tgt = pd.DataFrame(columns=["unit_id", "year", "indicator", "target_pct", "source", "verified", "note"])
    elif isinstance(targets, pd.DataFrame):
        from sinks.greening.targets import check_targets
        tgt, rejected = check_targets(targets, name="targets table", indicators=names)
    else:
        tgt, rejected = load_targets(targets, indicators=names)
    prog = progress_table(ind, tgt)
    if extra_rejected is not None and len(extra_rejected):
        notes.append(Note("extra_rejected", f"{len(extra_rejected)} row(s) of the extra forest table could not be used: "
                          + "; ".join(f"row {r.row}: {r.reason}" for r in extra_rejected.head(5).itertuples()), n=len(extra_rejected)))
    if extra is not None and len(extra):
        lost = sorted(set(extra["unit_id"]) - set(ind["unit_id"].astype(str)))
        if lost:
            notes.append(Note("extra_unmatched", f"the extra forest table names units not in this unit set ({', '.join(lost[:8])})",
                              units=lost))
    unmatched = unmatched_units(tgt, ind["unit_id"])
    if unmatched:
        n_rows = int(tgt["unit_id"].isin(unmatched).sum())
        notes.append(Note("targets_unmatched", f"{n_rows} target row(s) name units not in this unit set "
                          f"({', '.join(unmatched[:8])}{' ...' if len(unmatched) > 8 else ''}): they apply when those units are shown",
                          n=n_rows, units=unmatched))

    extent = None
    if cfg.zones is not None:
        zones_all, _ = config_units(cfg, "zones")
        extent = shapely.union_all(list(zones_all.gdf.to_crs(ref.crs).geometry))
    overlaps, gap, outside = unit_topology(units_a, zid, extent)
    if len(overlaps):
        ov_ha = float(overlaps["overlap_ha"].sum())
        notes.append(Note("overlap", f"{len(overlaps)} pair(s) of units overlap ({ov_ha:.1f} ha): overlapping land counts in each unit",
                          n=len(overlaps), ha=ov_ha))
    if extent is not None and gap > 0.01 * extent.area / M2_PER_HA:
        water = _water_ha(lay[latest], shapely.difference(extent, shapely.union_all(list(units_a.geometry))))
        notes.append(Note("gap", f"the units leave {gap:.1f} ha of the assessment area uncovered, {water:.1f} ha of it water on the {latest} map",
                          ha=gap, water_ha=water, year=latest))
    if extent is not None and outside > 0.01:
        notes.append(Note("outside", f"{outside:.1f} ha of the units lie outside the assessment area", ha=outside))

    disp = zl.gdf.to_crs(DISPLAY_CRS)
    units_d = gpd.GeoDataFrame({
        "unit_id": disp[zid].astype(str),
        "name_zh": disp[zh].astype(str) if zh in disp else disp[zid].astype(str),
        "name_en": disp[en].astype(str) if en in disp else disp[zid].astype(str),
    }, geometry=disp.geometry.values, crs=DISPLAY_CRS)
    provenance = {
        "run_at_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": str(cfg.source) if cfg.source else None,
        "unit_set": unit_set, "units_source": zl.source,
        "landcover": {str(y): {"path": str(cfg.landcover[y]), "sha256": sha256_file(cfg.landcover[y])} for y in cfg.years},
        "class_roles": {"path": layers.roles.path, "sha256": sha256_file(layers.roles.path)},
        "coefficients": {"path": coefficients.path, "sha256": coefficients.sha256},
        "builtup_area": lay[latest].builtup_source,
        "ndvi_dates": {str(y): lay[y].ndvi_dates for y in cfg.years},
        "park_radii_m": list(g.park_radii_m),
        "parks": "given" if layers.parks is not None else "none",
        "fvc_ndvi_endpoints": list(lay[latest].fvc_endpoints) if lay[latest].fvc_endpoints else None,
        "shelterbelt_width_m": g.shelterbelt_width_m,
        "candidates_excluded": layers.excluded_source,
        "zone_coverage_rule": "exact coverage fraction of each pixel (overlapping units each count their share)",
    }
    say("done", 1.0)
    return GreeningAssessment(config=cfg, unit_set=unit_set, id_field=zid, units=units_d, indicators=ind,
                              class_areas=tables["classes"], ndvi_areas=tables["ndvi"], candidates=cand, patches=patches,
                              patches_dropped=dropped, intervals=intervals, targets=tgt, targets_rejected=rejected,
                              forest_extra_rejected=extra_rejected, progress=prog, overlaps=overlaps, gap_ha=gap, outside_ha=outside, roles=layers.roles,
                              builtup_source=lay[latest].builtup_source, notes=tuple(notes), provenance=provenance)
