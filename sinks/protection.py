"""Protection zones and compliance screening for one configuration: the orchestrator.

:func:`protection_screening` gathers the zone layers (ecological red lines, urban wetland red
lines, ecological-space control areas, the Yangtze shoreline belt and drinking-water-source
zones built from intakes), screens them on every land-cover date
(:func:`wetlands.compliance.screen_zones`), adds carbon stock (coverage-weighted class areas x
the coefficient table) and mean NDVI (when band files are configured) to the per-zone ledger,
and checks uploaded project / enterprise locations against the zones. The dashboard page, the
CLI (``python -m sinks zones``) and the tests all call it.

Layers passed as arguments replace the configured ones (the dashboard passes the workspace's
edited red lines); ``None`` keeps the configuration's. Geometries are in the analysis CRS
(EPSG:32650); :meth:`ProtectionAssessment.zones_lonlat` gives them for maps and exports.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.bands import open_bands
from geodata.coverage import zone_coverage
from geodata.crs import ANALYSIS_CRS, DISPLAY_CRS, CoordSystem, require_crs, to_wgs84_geometries
from geodata.errors import DataError, SchemaError
from geodata.rasters import check_categorical, check_same_grid, read_info
from geodata.vectors import ZoneLayer, load_zones, read_vector
from sinks.carbon import stocks_by_pool, total_stocks
from sinks.coefficients import load_coefficients
from sinks.config import Config, ProtectionConfig, load_config
from sinks.landcover.classify import WORLDCOVER_CLASSES
from sinks.pipeline import config_zones
from wetlands.compliance import ZoneRules, ZoneScreening, load_zone_rules, screen_zones
from wetlands.zone_builders import WaterSourceRules, shoreline_belt, water_source_zones

Progress = Callable[[str, float], None]

# A project point counts as built-up land: the zone type's rule for code 50 decides its status.
BUILT_UP = 50
# Whole terms that name a chemical activity (Yangtze River Protection Law Art. 26); Chinese terms
# are matched as given (化工 alone would match 文化工作室), Latin ones at a word start.
CHEMICAL_TERMS = ("化工厂", "化工园", "化工企业", "化工项目", "化工公司", "化工有限", "化学品", "化学工业", "化学原料", "石化",
                  "石油化工", "农药", "chemical", "petrochemical")
# Columns that say whether a project is new or expanded, and the words that mean it.
STAGE_COLUMNS = ("stage", "project_stage", "建设性质", "项目性质", "性质", "新建扩建")
NEW_TERMS = ("新建", "扩建", "改扩建", "new", "expan")


@dataclass(frozen=True)
class ProtectionAssessment:
    """Zones, their screening, the ledger with stock and NDVI, intakes and point checks."""

    screening: ZoneScreening
    ledger: pd.DataFrame
    intakes: gpd.GeoDataFrame
    points: pd.DataFrame | None
    builder_notes: tuple[str, ...]
    water_source_rules: WaterSourceRules | None
    provenance: dict = field(default_factory=dict)

    @property
    def zones(self) -> gpd.GeoDataFrame:
        return self.screening.zones

    @property
    def years(self) -> list[int]:
        return sorted(self.ledger["year"].unique().tolist())

    def zones_lonlat(self) -> gpd.GeoDataFrame:
        return self.screening.zones.to_crs(DISPLAY_CRS)

    def summary(self, year: int | None = None) -> pd.DataFrame:
        """Per zone (one date, the latest by default): area, flagged area, patches, stock."""
        year = self.years[-1] if year is None else year
        led = self.ledger[self.ledger["year"] == year]
        p = self.screening.patches
        p = p[p["year"] == year]
        counts = p.groupby(["zone_id", "status"]).size().unstack(fill_value=0)
        out = led.merge(self.screening.zones[["zone_id", "name_zh", "name_en"]], on="zone_id", how="left")
        for s in ("non_conforming", "review"):
            out[f"{s}_patches"] = out["zone_id"].map(counts[s] if s in counts else {}).fillna(0).astype(int)
        return out

    def summary_all(self) -> pd.DataFrame:
        """:meth:`summary` for every date, one table."""
        return pd.concat([self.summary(y) for y in self.years], ignore_index=True)

    def zone_tables(self) -> dict[str, pd.DataFrame]:
        """Per zone, its report table: class areas per date with each class's status there."""
        s = self.screening
        names = WORLDCOVER_CLASSES
        out = {}
        for zid, zt in zip(s.zones["zone_id"], s.zones["zone_type"]):
            rules = s.rules.for_type(zt)
            a = s.class_areas[s.class_areas["zone_id"] == zid].copy()
            a["class"] = a["code"].map(lambda c: names.get(int(c), "no data"))
            a["status"] = a["code"].map(lambda c: rules[int(c)].status if int(c) in rules else "")
            a["rule_en"] = a["code"].map(lambda c: rules[int(c)].rule_en if int(c) in rules else "")
            a.loc[a["is_nodata"], "class"] = "no data"
            out[zid] = a[["zone_id", "year", "code", "class", "area_ha", "area_ha_centres", "status", "rule_en"]]
        return out


def _zone_frame(zl: ZoneLayer | gpd.GeoDataFrame, zone_type: str, *, id_field: str, prefix: str = "",
                source: str | None = None) -> gpd.GeoDataFrame:
    gdf = zl.gdf if isinstance(zl, ZoneLayer) else zl
    label = source or (zl.source if isinstance(zl, ZoneLayer) else str(gdf.attrs.get("source", f"<{zone_type} layer>")))
    if id_field not in gdf.columns:
        raise SchemaError(label, f"no id column '{id_field}' (found {list(gdf.columns)})", "name the id column of the layer")
    ids = gdf[id_field].astype(str)
    names_zh = gdf["name_zh"].astype(str) if "name_zh" in gdf.columns else ids
    names_en = gdf["name_en"].astype(str) if "name_en" in gdf.columns else ids
    return gpd.GeoDataFrame({"zone_id": [f"{prefix}{i}" for i in ids], "zone_type": zone_type,
                             "name_zh": names_zh.to_numpy(), "name_en": names_en.to_numpy(), "source": label, "note": ""},
                            geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def _kinds(zl: ZoneLayer, kinds: Sequence[str], kind_field: str, source: Path) -> ZoneLayer:
    if not kinds:
        return zl
    if kind_field not in zl.gdf.columns:
        raise DataError(source, f"[protection] redlines_kinds is set but the layer has no column '{kind_field}'",
                        "name the column with redlines_kind_field, or remove redlines_kinds")
    keep = zl.gdf[kind_field].isin(kinds)
    if not keep.any():
        found = sorted(map(str, zl.gdf[kind_field].dropna().unique()))
        raise DataError(source, f"no feature has a {kind_field} in {list(kinds)} (found {found})", "fix [protection] redlines_kinds")
    return ZoneLayer(gdf=zl.gdf[keep].reset_index(drop=True), id_field=zl.id_field, source=zl.source)


def _river(cfg: Config, p: ProtectionConfig) -> tuple[gpd.GeoDataFrame, str] | None:
    path, layer = (p.river, p.river_layer) if p.river is not None else (
        (cfg.wetlands.river, cfg.wetlands.river_layer) if cfg.wetlands is not None else (None, None))
    if path is None:
        return None
    label = f"{path}" + (f" layer {layer}" if layer else "")
    river = read_vector(path, layer=layer)
    require_crs(river.crs, label)
    return river, label


def config_intakes(p: ProtectionConfig) -> gpd.GeoDataFrame:
    """The configured intakes as points in EPSG:4326 (GCJ-02 / BD-09 ones converted)."""
    rows = []
    for it in p.intakes:
        geom = to_wgs84_geometries(np.array([shapely.Point(it.lon, it.lat)]), CoordSystem(it.coord_system))[0]
        rows.append({"intake_id": it.intake_id, "name_zh": it.name_zh, "name_en": it.name_en,
                     "hypothetical": it.hypothetical, "coord_system": it.coord_system, "geometry": geom})
    if p.intakes_path is not None:
        gdf = read_vector(p.intakes_path, layer=p.intakes_layer)
        label = f"{p.intakes_path}" + (f" layer {p.intakes_layer}" if p.intakes_layer else "")
        require_crs(gdf.crs, label)
        if p.intakes_id_field not in gdf.columns:
            raise SchemaError(label, f"no column '{p.intakes_id_field}' (found {list(gdf.columns)})", "set intakes_id_field")
        if not gdf.geometry.geom_type.eq("Point").all():
            raise SchemaError(label, "intakes must be single points", "give one point per intake")
        g4326 = gdf.to_crs(DISPLAY_CRS)
        for _, r in g4326.iterrows():
            rows.append({"intake_id": str(r[p.intakes_id_field]), "name_zh": str(r.get("name_zh", r[p.intakes_id_field])),
                         "name_en": str(r.get("name_en", r[p.intakes_id_field])), "hypothetical": False,
                         "coord_system": "wgs84", "geometry": r.geometry})
    out = gpd.GeoDataFrame(rows, columns=["intake_id", "name_zh", "name_en", "hypothetical", "coord_system", "geometry"],
                           geometry="geometry", crs=DISPLAY_CRS)
    dup = sorted(out["intake_id"][out["intake_id"].duplicated()].unique())
    if dup:
        raise SchemaError(p.intakes_path or "[protection.water_sources]", f"intake ids {dup} are used twice", "give every intake its own id")
    return out


def config_layers(cfg: Config) -> tuple[ZoneLayer | None, ZoneLayer | None]:
    """The configured ecological red lines (filtered by ``redlines_kinds``) and control areas."""
    p = cfg.protection
    if p is None:
        return None, None
    red = space = None
    if p.redlines is not None:
        red = _kinds(load_zones(p.redlines, id_field=p.redlines_id_field, layer=p.redlines_layer), p.redlines_kinds,
                     p.redlines_kind_field, p.redlines)
    if p.eco_space is not None:
        space = load_zones(p.eco_space, id_field=p.eco_space_id_field, layer=p.eco_space_layer)
    return red, space


def build_zones(
    cfg: Config,
    *,
    redlines: ZoneLayer | gpd.GeoDataFrame | None = None,
    redlines_id_field: str = "redline_id",
    wetland_redlines: gpd.GeoDataFrame | None = None,
    wetland_redlines_id_field: str = "redline_id",
    eco_space: ZoneLayer | gpd.GeoDataFrame | None = None,
    eco_space_id_field: str = "area_id",
    intakes: gpd.GeoDataFrame | None = None,
    belt_distance_m: float | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, tuple[str, ...], WaterSourceRules | None]:
    """All zones of a configuration (see the module docstring); returns zones (analysis CRS),
    intakes (EPSG:4326), builder notes and the water-source rules used."""
    p = cfg.protection or ProtectionConfig()
    frames: list[gpd.GeoDataFrame] = []
    red_cfg, space_cfg = config_layers(cfg) if redlines is None or eco_space is None else (None, None)
    if redlines is not None:
        frames.append(_zone_frame(redlines, "redline", id_field=redlines_id_field))
    elif red_cfg is not None:
        frames.append(_zone_frame(red_cfg, "redline", id_field=red_cfg.id_field))
    if wetland_redlines is not None and not wetland_redlines.empty:
        frames.append(_zone_frame(wetland_redlines, "wetland_redline", id_field=wetland_redlines_id_field, prefix="wetland:"))
    if eco_space is not None:
        frames.append(_zone_frame(eco_space, "eco_space", id_field=eco_space_id_field))
    elif space_cfg is not None:
        frames.append(_zone_frame(space_cfg, "eco_space", id_field=space_cfg.id_field))
    study = config_zones(cfg).gdf if cfg.zones is not None else None
    clip = shapely.union_all(study.to_crs(ANALYSIS_CRS).geometry.to_numpy()) if study is not None else None
    notes: list[str] = []
    river = _river(cfg, p)
    intakes = config_intakes(p) if intakes is None else intakes
    ws_rules = None
    if river is not None:
        gdf, label = river
        belt = shoreline_belt(gdf, distance_m=belt_distance_m or p.belt_distance_m, clip_to=clip, source=label)
        frames.append(_belt_names(belt.assign(source=label)))
        if not intakes.empty:
            ws_rules = WaterSourceRules.from_csv(p.water_source_rules)
            ws = water_source_zones(intakes, gdf, rules=ws_rules, flow_azimuth_deg=p.flow_azimuth_deg,
                                    id_field="intake_id", name_field="name_en", max_offset_m=p.max_intake_offset_m, clip_to=clip)
            notes += [n for n in ws["note"].dropna().astype(str) if n]
            frames.append(_water_source_names(ws, intakes, f"intakes of {cfg.source or 'the configuration'} x {label}"))
    elif not intakes.empty:
        raise DataError(cfg.source or "<config>", "intakes are configured but there is no river layer to build their zones from",
                        "set [protection] river_path (or [wetlands] river_path) to the water polygon")
    if not frames:
        raise DataError(cfg.source or "<config>", "no protection zones: no red lines, control areas, river or intakes",
                        "add a [protection] section (see configs/jiangbei_demo.toml) or upload zones")
    zones = pd.concat([f.to_crs(ANALYSIS_CRS) for f in frames], ignore_index=True)
    # an id used by two layers (an officer reused a red line's id for a control area): the later
    # zone gets its type as a prefix and a note, so one layer's choice never stops the screening
    again = zones["zone_id"].duplicated(keep="first")
    for i in zones.index[again]:
        old_id = zones.at[i, "zone_id"]
        new_id = f"{zones.at[i, 'zone_type']}:{old_id}"
        zones.at[i, "zone_id"] = new_id
        notes.append(f"{new_id}: the id {old_id!r} of {zones.at[i, 'source']} is also used by another zone; "
                     f"screened as {new_id!r} (give it its own id)")
    if zones["zone_id"].duplicated().any():
        dup = sorted(zones.loc[zones["zone_id"].duplicated(), "zone_id"])
        raise SchemaError(cfg.source or "<config>", f"zone ids {dup} are used more than once within one layer", "give every zone its own id")
    for col in ("note", "part", "intake_id"):
        if col in zones.columns:
            zones[col] = zones[col].fillna("").astype(str)
    return gpd.GeoDataFrame(zones, geometry="geometry", crs=ANALYSIS_CRS), intakes, tuple(dict.fromkeys(notes)), ws_rules


_LEVEL_ZH = {1: "一级保护区", 2: "二级保护区", 3: "准保护区"}
_LEVEL_EN = {1: "level 1", 2: "level 2", 3: "quasi-protection"}
_PART_ZH = {"water": "水域", "land": "陆域"}


def _belt_names(belt: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The shoreline belt pieces with Chinese and English names."""
    out = belt.copy()
    d = out["distance_m"].astype(float)
    out["name_en"] = [f"Yangtze {n}" for n in out["name"]]  # e.g. "Yangtze 1000 m shoreline belt (bank)"
    out["name_zh"] = [f"长江岸线{dm:,.0f}米范围（{z}）" for dm, z in zip(d, out["zone_id"])]
    out["note"] = ""
    return out[["zone_id", "zone_type", "name_zh", "name_en", "source", "note", "geometry"]]


def _water_source_names(ws: gpd.GeoDataFrame, intakes: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Water-source zones with names, level, part, intake and notes; parts wholly inside a
    stricter level (empty) are left out of the screening (the builder notes say where the area
    went)."""
    out = ws[~(ws.geometry.is_empty | ws.geometry.isna())].copy()
    zh = dict(zip(intakes["intake_id"], intakes["name_zh"]))
    en = dict(zip(intakes["intake_id"], intakes["name_en"]))
    out["name_zh"] = [f"{zh.get(i, i)} {_LEVEL_ZH[int(lv)]}（{_PART_ZH.get(pt, pt)}）"
                      for i, lv, pt in zip(out["intake_id"], out["level"], out["part"])]
    out["name_en"] = [f"{en.get(i, i)}: {_LEVEL_EN[int(lv)]} ({pt})" for i, lv, pt in zip(out["intake_id"], out["level"], out["part"])]
    out["source"] = source
    out["note"] = out["note"].fillna("").astype(str)
    return out[["zone_id", "zone_type", "name_zh", "name_en", "source", "note", "level", "part", "intake_id", "geometry"]]


def _zone_ndvi(bandsets: list, info, geoms: dict[str, shapely.Geometry]) -> dict[str, float]:
    """Coverage-weighted mean NDVI per zone over the dates' band sets (NaN where none valid)."""
    out = {}
    for zid, g in geoms.items():
        cov = zone_coverage(info, g)
        if cov.fraction.size == 0 or not cov.fraction.any():
            out[zid] = float("nan")
            continue
        num = den = 0.0
        for bs in bandsets:
            blk = bs.read_window(cov.window, names=["red", "nir"])
            red, nir = blk["red"].astype("float64"), blk["nir"].astype("float64")
            with np.errstate(invalid="ignore", divide="ignore"):
                ndvi = (nir - red) / (nir + red)
            ok = np.isfinite(ndvi) & (cov.fraction > 0)  # band blocks are NaN where invalid
            w = cov.fraction * cov.row_area_m2[:, None]
            num += float((ndvi[ok] * w[ok]).sum())
            den += float(w[ok].sum())
        out[zid] = num / den if den > 0 else float("nan")
    return out


def _bands_by_year(cfg: Config, infos: dict) -> dict[int, list]:
    """The band files of ``[wetlands.water_index.bands]`` per year, checked: on that year's
    land-cover grid, with red and NIR (for NDVI)."""
    wi = cfg.wetlands.water_index if cfg.wetlands is not None else None
    if wi is None:
        return {}
    out = {}
    for y, files in wi.bands.items():
        out[y] = []
        for f in files:
            bs = open_bands(f)
            check_same_grid(bs.grid, infos[y])
            bs.require(["red", "nir"], purpose="the mean NDVI per protection zone")
            out[y].append(bs)
    return out


def protection_screening(
    config: Config | str | Path,
    *,
    redlines: ZoneLayer | gpd.GeoDataFrame | None = None,
    redlines_id_field: str = "redline_id",
    wetland_redlines: gpd.GeoDataFrame | None = None,
    eco_space: ZoneLayer | gpd.GeoDataFrame | None = None,
    eco_space_id_field: str = "area_id",
    intakes: gpd.GeoDataFrame | None = None,
    points: gpd.GeoDataFrame | None = None,
    belt_distance_m: float | None = None,
    rules: ZoneRules | None = None,
    min_patch_ha: float | None = None,
    progress: Progress | None = None,
) -> ProtectionAssessment:
    """Build and screen the zones of one configuration (see the module docstring)."""
    cfg = config if isinstance(config, Config) else load_config(config)
    say = progress or (lambda step, frac: None)
    p = cfg.protection or ProtectionConfig()
    say("build zones", 0.0)
    zones, intakes, notes, ws_rules = build_zones(
        cfg, redlines=redlines, redlines_id_field=redlines_id_field, wetland_redlines=wetland_redlines,
        eco_space=eco_space, eco_space_id_field=eco_space_id_field, intakes=intakes, belt_distance_m=belt_distance_m)
    rules = rules or load_zone_rules(p.rules)
    infos = {y: check_categorical(read_info(f)) for y, f in sorted(cfg.landcover.items())}
    ref = infos[min(infos)]
    for info in infos.values():
        check_same_grid(info, ref)
    districts = config_zones(cfg, ref).gdf if cfg.zones is not None else None
    screening = screen_zones(zones, infos, rules, districts=districts, district_field=cfg.zone_id_field,
                             min_patch_ha=p.min_patch_ha if min_patch_ha is None else min_patch_ha,
                             progress=lambda s, f: say(s, 0.1 + 0.75 * f), source=str(cfg.source or "<zones>"))
    say("carbon stock and NDVI per zone", 0.87)
    ledger = _add_stock_and_ndvi(cfg, screening, infos)
    point_hits = check_points(points, screening) if points is not None else None
    say("done", 1.0)
    return ProtectionAssessment(
        screening=screening, ledger=ledger, intakes=intakes, points=point_hits, builder_notes=notes,
        water_source_rules=ws_rules,
        provenance={
            "config": str(cfg.source) if cfg.source else None,
            "rules": rules.source,
            "rules_sha256": hashlib.sha256(Path(rules.source).read_bytes()).hexdigest() if Path(rules.source).exists() else None,
            "belt_distance_m": belt_distance_m or p.belt_distance_m,
            "water_source_rules": str(p.water_source_rules) if ws_rules is not None else None,
            "landcover": {y: str(f) for y, f in cfg.landcover.items()},
            "coefficients": str(cfg.coefficients),
            "illustrative": cfg.illustrative,
        },
    )


def _add_stock_and_ndvi(cfg: Config, s: ZoneScreening, infos: dict) -> pd.DataFrame:
    table = load_coefficients(cfg.coefficients)
    led = s.ledger.copy()
    stock_rows = []
    for y in sorted(infos):
        a = s.class_areas[(s.class_areas["year"] == y) & ~s.class_areas["is_nodata"]]
        a = a.rename(columns={"code": "lucode"})[["zone_id", "lucode", "area_ha"]]
        a = a[a["area_ha"] > 0]
        tot = total_stocks(stocks_by_pool(a, table)) if not a.empty else pd.DataFrame(columns=["zone_id", "stock_tc"])
        stock_rows.append(tot[["zone_id", "stock_tc"]].assign(year=y))
    stocks = pd.concat(stock_rows, ignore_index=True)
    led = led.merge(stocks, on=["zone_id", "year"], how="left")
    led["stock_tc"] = led["stock_tc"].fillna(0.0)
    bands = _bands_by_year(cfg, infos)
    geoms = dict(zip(s.zones["zone_id"], s.zones.to_crs(infos[min(infos)].crs).geometry))
    led["ndvi_mean"] = np.nan
    for y, bss in bands.items():
        nd = _zone_ndvi(bss, infos[y], geoms)
        sel = led["year"] == y
        led.loc[sel, "ndvi_mean"] = led.loc[sel, "zone_id"].map(nd).to_numpy()
    led = led.sort_values(["zone_id", "year"]).reset_index(drop=True)
    g = led.groupby("zone_id")
    led["stock_change_tc"] = g["stock_tc"].diff()
    led["ndvi_change"] = g["ndvi_mean"].diff()
    return led


def _has_term(text: str, terms: Sequence[str]) -> bool:
    low = text.lower()
    return any((t in low) if not t.isascii() else re.search(rf"\b{re.escape(t)}", low) is not None for t in terms)


def check_points(points: gpd.GeoDataFrame, s: ZoneScreening, *, id_field: str = "point_id") -> pd.DataFrame:
    """Which zones hold each project / enterprise point, and the status there.

    A listed project counts as built-up land: its status in a zone is the zone type's rule for
    built-up land (code 50). In the Yangtze belt, Art. 26 bans *new or expanded* chemical
    projects: a point whose text names a chemical activity (:data:`CHEMICAL_TERMS`, whole terms,
    so 文化工作室 is not one) is ``non_conforming`` only when a stage column
    (:data:`STAGE_COLUMNS`) says new or expanded (:data:`NEW_TERMS`), else ``review``; the
    ``finding`` column says which. Every point gets at least one row (``zone_id`` empty and
    status ``outside`` when it lies in no zone); ``point_status`` is its worst status.
    """
    require_crs(points.crs, "project points")
    pts = points.to_crs(ANALYSIS_CRS).reset_index(drop=True)
    ll = points.to_crs(DISPLAY_CRS).reset_index(drop=True)
    zones = s.zones[["zone_id", "zone_type", "geometry"]]
    # only the geometry takes part in the join: an uploaded column called zone_id, zone_type or
    # index_right must neither clash with the zones' nor be mistaken for them
    hits = gpd.sjoin(gpd.GeoDataFrame(geometry=pts.geometry), zones, how="left", predicate="within")
    text_cols = [c for c in pts.columns if c != "geometry" and pts[c].dtype == object and c not in STAGE_COLUMNS]
    stage_cols = [c for c in pts.columns if str(c).strip().lower() in STAGE_COLUMNS]
    rows = []
    for idx, r in hits.iterrows():
        zt = r.get("zone_type")
        inside = isinstance(zt, str)
        status, finding, rule_en, rule_zh, citation = ("outside", "", "", "", "") if not inside else ("ok", "", "", "", "")
        chemical = _has_term(" ".join(str(pts.at[idx, c]) for c in text_cols), CHEMICAL_TERMS)
        new = _has_term(" ".join(str(pts.at[idx, c]) for c in stage_cols), NEW_TERMS)
        if inside:
            rule = s.rules.for_type(zt).get(BUILT_UP)
            if rule:
                status, rule_en, rule_zh, citation = rule.status, rule.rule_en, rule.rule_zh, rule.citation
                finding = "built-up use"
            if zt == "yangtze_belt" and chemical:
                status = "non_conforming" if new else "review"
                finding = "new or expanded chemical project (Art. 26)" if new else "chemical activity: check whether new or expanded (Art. 26)"
        rows.append({id_field: pts.at[idx, id_field] if id_field in pts.columns else str(idx),
                     "name": str(pts.at[idx, "name"]) if "name" in pts.columns else "",
                     "lon": float(ll.geometry.iat[idx].x), "lat": float(ll.geometry.iat[idx].y),
                     "zone_id": r.get("zone_id") if inside else "", "zone_type": zt if inside else "",
                     "status": status, "finding": finding, "chemical": chemical, "new_or_expanded": new,
                     "rule_en": rule_en, "rule_zh": rule_zh, "citation": citation})
    out = pd.DataFrame(rows)
    order = {"non_conforming": 0, "review": 1, "ok": 2, "outside": 3}
    worst = out.groupby(id_field)["status"].agg(lambda v: min(v, key=lambda x: order.get(x, 9)))
    out["point_status"] = out[id_field].map(worst)
    return out
