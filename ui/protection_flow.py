"""The "Protection zones" screen's data: the screening, its map, tables, ledger, exports, points.

The numbers come from :func:`sinks.protection.protection_screening` (the CLI's ``python -m sinks
zones``), with the ecological red lines, ecological-space control areas and urban wetland red
lines the officers keep in the workspace (edited on the Wetlands page). One screening is kept per
set of inputs (the assessment's key, the protection input files and the content hash of each
workspace layer), shared by all sessions like :mod:`ui.cache` keeps assessments; the computation
runs outside any ``st.cache_*`` function so that its progress bar is never replayed.

What the public may see and what only officers get (intakes, flagged patches, point checks) is
decided by the page; the functions here only build what they are asked for.
"""
from __future__ import annotations

import logging
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geodata.crs import ANALYSIS_CRS, DISPLAY_CRS
from geodata.errors import DataError
from geodata.points import PointTable, read_points, safe_for_csv
from geodata.store import Workspace
from sinks.config import load_config
from sinks.protection import ProtectionAssessment, check_points, protection_screening
from ui import fmt, leaflet
from ui.leaflet import geojson, map_outlines
from ui.cache import KeyedLRU, file_stat
from ui.i18n import lc_name, step_text, t
from ui.wetlands_flow import EDIT_LAYERS, history, load_layer, seed_demo_layers, workspace
from wetlands.compliance import ZONE_TYPES

__all__ = ["DataError", "UploadFailed", "workspace", "seed_demo_layers"]  # what the page catches and calls
log = logging.getLogger(__name__)

# Okabe & Ito (2008) colour-blind-safe palette, one colour per zone type; the drinking-water
# levels share the blues/yellow family from strict (dark) to loose (light).
ZONE_HEX = {"redline": "#D55E00", "wetland_redline": "#CC79A7", "eco_space": "#009E73", "yangtze_belt": "#E69F00",
            "ws_level1": "#0072B2", "ws_level2": "#56B4E9", "ws_quasi": "#F0E442"}
ZONE_DASH = {"ws_quasi": "6 4", "yangtze_belt": "2 4"}  # a second cue besides colour
# drawn from the broadest to the narrowest, so small zones lie on top and keep their tooltips
DRAW_ORDER = ("yangtze_belt", "eco_space", "redline", "wetland_redline", "ws_quasi", "ws_level2", "ws_level1")
STATUS_HEX = {"non_conforming": "#000000", "review": "#7f7f7f", "ok": "#ffffff", "outside": "#ffffff"}
SELECTED_HEX = "#00e5ff"  # the selected patch's outline: apart from every zone and status colour
INTAKE_HEX = "#0072B2"
POINT_EDGE = "#D55E00"  # uploaded project points: vermillion ring, filled by status
STATUSES = ("non_conforming", "review")
POINT_STATUSES = ("non_conforming", "review", "ok", "outside")
EXPORT_CRS = (4490, 4326)  # CGCS2000 (default), WGS84
SELECTED_ZOOM = 16
# Ledger checks. One 30 m pixel is 0.09 ha: changes below it are classification noise, not a
# change on the ground. NDVI may drop by up to NDVI_TOL between dates (season, sensor) before
# the function counts as lowered. Both are screening choices of this dashboard, not rules.
AREA_TOL_HA = 0.01
NATURAL_TOL_HA = 0.09
NDVI_TOL = 0.02
MAX_POINT_BYTES = 5 * 2**20
MAX_POINT_ROWS = 20_000  # rows of an uploaded location list (the reader's own limit is 50,000)
MAX_MAP_POINTS = 2_000  # project points drawn on the map (flagged ones first); the tables list all
LAYER_KEYS = ("eco_redlines", "eco_space", "redlines")  # workspace layers screened here (keys of EDIT_LAYERS)


# ------------------------------------------------------------------------------ inputs and cache


@dataclass(frozen=True)
class ZoneInputs:
    """The workspace layers the screening uses, each with its version (0 = never saved: the
    configuration's layer is used instead)."""

    layers: dict  # key of LAYER_KEYS -> GeoDataFrame (lon/lat)
    versions: dict  # key -> int

    def use(self, key: str) -> gpd.GeoDataFrame | None:
        """The layer to pass to the core: ``None`` when never saved (the configuration's)."""
        return self.layers[key] if self.versions[key] else None

    def tag(self, key: str) -> str:
        return str(self.layers[key].attrs.get("store_sha256", "none")) if self.versions[key] else "config"


def zone_inputs(ws: Workspace) -> ZoneInputs:
    layers, versions = {}, {}
    for k in LAYER_KEYS:
        layers[k], versions[k] = load_layer(ws, EDIT_LAYERS[k])
    return ZoneInputs(layers, versions)


def _protection_files(config_path: str) -> tuple:
    """Size and mtime of every file the screening reads besides the assessment's own inputs."""
    try:
        cfg = load_config(config_path)
    except ValueError:
        return ()
    p = cfg.protection
    files = []
    if p is not None:
        files += [p.redlines, p.eco_space, p.river, p.rules, p.water_source_rules, p.intakes_path]
    if cfg.wetlands is not None:
        files.append(cfg.wetlands.river)
        if cfg.wetlands.water_index is not None:
            files += [f for fs in cfg.wetlands.water_index.bands.values() for f in fs]
    return tuple(file_stat(f) for f in files)


def screening_key(cache_key: str, config_path: str, inputs: ZoneInputs) -> str:
    """The assessment's key + the protection files + each workspace layer's content hash."""
    layers = "|".join(f"{k}:{inputs.tag(k)}" for k in LAYER_KEYS)
    return f"{cache_key}|prot:{hash(_protection_files(config_path)) & 0xFFFFFFFFFFFF:x}|{layers}"


class _Store(KeyedLRU):
    """The last few screenings, shared by all sessions, and map layers made from them."""

    def __init__(self, size: int = 4) -> None:
        super().__init__(size, on_evict=self._drop)
        self.extras: dict[tuple, object] = {}

    def _drop(self, key: str) -> None:
        self.extras = {k: v for k, v in self.extras.items() if k[0] != key}

    def extra(self, key: tuple, make):
        got = self.extras.get(key)
        if got is None:
            got = make()
            with self.lock:
                if key[0] in self.items:
                    self.extras[key] = got
        return got


@st.cache_resource(show_spinner=False)
def _store() -> _Store:
    return _Store()


def cached_screening(key: str) -> ProtectionAssessment | None:
    return _store().get(key)


def load_screening(config_path: str, key: str, inputs: ZoneInputs, *, progress=None) -> ProtectionAssessment:
    """The screening of the configuration with the workspace layers (computed once per key)."""
    store = _store()
    pa = store.get(key)
    if pa is not None:
        return pa
    with store.key_lock(key):
        pa = store.get(key)
        if pa is None:
            pa = protection_screening(
                config_path, redlines=inputs.use("eco_redlines"), redlines_id_field=EDIT_LAYERS["eco_redlines"].id_field,
                wetland_redlines=inputs.use("redlines"), eco_space=inputs.use("eco_space"),
                eco_space_id_field=EDIT_LAYERS["eco_space"].id_field, progress=progress)
            store.put(key, pa)
    return pa


_STEPS = (  # the core's progress steps -> i18n keys (the regex group fills {what})
    (re.compile(r"^build zones$"), "prot.step.zones", None),
    (re.compile(r"^land cover inside zones (\d+)$"), "prot.step.classes", "what"),
    (re.compile(r"^flagged patches (\d+)$"), "prot.step.patches", "what"),
    (re.compile(r"^changes inside zones (\S+)$"), "prot.step.changes", "what"),
    (re.compile(r"^carbon stock and NDVI per zone$"), "prot.step.stock", None),
    (re.compile(r"^done$"), "prot.step.done", None),
)


def step_label(step: str, lang: str) -> str:
    """A progress step of the core in the reader's language (unknown ones pass through)."""
    return step_text(step, lang, _STEPS)


def pick_year(pa: ProtectionAssessment, year: int) -> int:
    """The sidebar's year when the screening has it, else its latest date."""
    return int(year) if int(year) in pa.years else int(pa.years[-1])


def previous_year(pa: ProtectionAssessment, year: int) -> int | None:
    earlier = [y for y in pa.years if y < year]
    return int(earlier[-1]) if earlier else None


# ------------------------------------------------------------------------------ words


def type_name(zone_type: str, lang: str) -> str:
    return t(f"prot.type.{zone_type}", lang)


def status_name(status: str, lang: str) -> str:
    return t(f"prot.status.{status}", lang) if status in POINT_STATUSES else str(status)


def class_names(codes: str | int, lang: str) -> str:
    """``"50,60"`` -> ``"建设用地、裸地"`` / ``"Built-up, Bare / sparse vegetation"``."""
    parts = [c for c in str(codes).split(",") if c.strip()]
    return ("、" if lang == "zh" else ", ").join(lc_name(int(c), lang) for c in parts)


def verified_mark(verified: str, lang: str) -> str:
    """A clear mark: verified, or unverified with the reason given in the rule table."""
    text = str(verified or "").strip()
    if text.lower().startswith("yes"):
        return t("prot.verified.yes", lang, note=text[3:].lstrip(" :;") or "—")
    return t("prot.verified.no", lang, note=text[2:].lstrip(" :;") if text.lower().startswith("no") else text or "—")


def _zone_names(pa: ProtectionAssessment, lang: str) -> dict[str, str]:
    col = "name_zh" if lang == "zh" else "name_en"
    return {str(z): str(n) for z, n in zip(pa.zones["zone_id"], pa.zones[col])}


def _rule_text(df: pd.DataFrame, lang: str) -> np.ndarray:
    return df["rule_zh" if lang == "zh" else "rule_en"].fillna("").astype(str).to_numpy()


def csv_bytes(df: pd.DataFrame) -> bytes:
    """A table as CSV for Excel / WPS: formula-like cells defused, UTF-8 with BOM."""
    return safe_for_csv(df).to_csv(index=False).encode("utf-8-sig")


# ------------------------------------------------------------------------------ KPIs


@dataclass(frozen=True)
class Kpis:
    year: int
    previous: int | None
    by_type: dict[str, int]
    n_zones: int
    union_ha: float
    sum_ha: float
    non_conforming_ha: float
    non_conforming_n: int
    review_ha: float
    review_n: int
    newly_flagged_ha: float | None


def union_area_ha(zones: gpd.GeoDataFrame) -> float:
    """Area of the union of the zones (overlaps counted once), ha."""
    if zones.empty:
        return 0.0
    return float(shapely.area(shapely.union_all(zones.to_crs(ANALYSIS_CRS).geometry.to_numpy())) / 1e4)


def kpis(pa: ProtectionAssessment, year: int) -> Kpis:
    led = pa.ledger[pa.ledger["year"] == year]
    p = pa.screening.patches
    p = p[p["year"] == year]
    prev = previous_year(pa, year)
    order = [z for z in ZONE_TYPES if z in set(pa.zones["zone_type"])]
    counts = pa.zones["zone_type"].value_counts()
    return Kpis(
        year=year, previous=prev, by_type={z: int(counts[z]) for z in order}, n_zones=len(pa.zones),
        union_ha=union_area_ha(pa.zones), sum_ha=float(pa.zones["area_ha"].sum()),
        non_conforming_ha=float(led["non_conforming_ha"].sum()), non_conforming_n=int((p["status"] == "non_conforming").sum()),
        review_ha=float(led["review_ha"].sum()), review_n=int((p["status"] == "review").sum()),
        newly_flagged_ha=float(led["newly_flagged_ha"].sum()) if prev is not None else None,
    )


def types_text(k: Kpis, lang: str) -> str:
    sep = "；" if lang == "zh" else "; "
    return sep.join(f"{type_name(z, lang)} {n}" for z, n in k.by_type.items())


# ------------------------------------------------------------------------------ zone table and ledger


def zone_table(pa: ProtectionAssessment, year: int, lang: str) -> pd.DataFrame:
    """Per zone at ``year``: area (vector and mapped), non-conforming and review land, stock, natural land."""
    s = pa.summary(year)
    z = pa.zones.set_index("zone_id")
    order = {zt: i for i, zt in enumerate(ZONE_TYPES)}
    s = s.assign(_o=s["zone_type"].map(order)).sort_values(["_o", "zone_id"])
    return pd.DataFrame({
        t("prot.col.zone", lang): s["name_zh" if lang == "zh" else "name_en"].fillna(s["zone_id"]).to_numpy(),
        t("prot.col.zone_id", lang): s["zone_id"].to_numpy(),
        t("prot.col.type", lang): [type_name(x, lang) for x in s["zone_type"]],
        t("prot.col.area_vector", lang): z.loc[s["zone_id"], "area_ha"].round(2).to_numpy(),
        t("prot.col.mapped", lang): s["mapped_ha"].round(2).to_numpy(),
        t("prot.col.non_conforming", lang): s["non_conforming_ha"].round(2).to_numpy(),
        t("prot.col.nc_patches", lang): s["non_conforming_patches"].to_numpy(),
        t("prot.col.review", lang): s["review_ha"].round(2).to_numpy(),
        t("prot.col.stock", lang): s["stock_tc"].round(0).to_numpy(),
        t("prot.col.natural", lang): s["natural_ha"].round(2).to_numpy(),
    })


class AreaHistory(NamedTuple):
    """A workspace zone's area through the saved versions, ha. ``removed_in``: the version of
    the layer that no longer holds the id (it was deleted or renamed; its area now is 0), else
    ``None``; ``zone_type`` and the names are given for removed ids (the screening has no row)."""

    first_version: int
    first_ha: float
    now_ha: float
    removed_in: int | None = None
    zone_type: str = ""
    name_zh: str = ""
    name_en: str = ""


# workspace layer -> (zone-id prefix the screening gives it, zone type)
_HISTORY_LAYERS = (("eco_redlines", "", "redline"), ("eco_space", "", "eco_space"), ("redlines", "wetland:", "wetland_redline"))


def area_history(ws: Workspace) -> dict[str, AreaHistory]:
    """For every zone that comes from a workspace layer, by the zone id the screening gives it:
    the first version holding it, its area then and its area in the latest version (0 when
    an earlier version held the id and the latest does not)."""
    out: dict[str, AreaHistory] = {}
    for key, prefix, zone_type in _HISTORY_LAYERS:
        spec = EDIT_LAYERS[key]
        hist = history(ws, spec)
        if not hist:
            continue
        got = _area_history(ws, ws.identity, spec.layer, spec.id_field, hist[-1].version, hist[-1].sha256)
        out.update({f"{prefix}{i}": AreaHistory(*v[:4], zone_type, *v[4:]) for i, v in got.items()})
    return out


@st.cache_data(show_spinner=False, max_entries=16)
def _area_history(_ws, identity: str, layer: str, id_field: str, latest: int, sha: str) -> dict[str, tuple]:
    """id -> (first version, area then, area in ``latest`` (0 if gone), version it was gone in
    or None, name_zh, name_en (last known)); keyed by the workspace's identity, not the object."""
    ws = _ws
    first: dict[str, tuple[int, float]] = {}
    now: dict[str, float] = {}
    gone: dict[str, int] = {}
    names: dict[str, tuple[str, str]] = {}
    for v in range(1, latest + 1):
        g = ws.load(layer, v, verify=False)
        areas = g.to_crs(ANALYSIS_CRS).area.to_numpy() / 1e4 if len(g) else np.zeros(0)
        ids = g[id_field].astype(str).tolist() if len(g) else []
        zh = g["name_zh"].fillna("").astype(str).tolist() if "name_zh" in g.columns else [""] * len(ids)
        en = g["name_en"].fillna("").astype(str).tolist() if "name_en" in g.columns else [""] * len(ids)
        for i, a, nz, ne in zip(ids, areas, zh, en):
            first.setdefault(i, (v, float(a)))
            names[i] = (nz, ne)
            gone.pop(i, None)  # back again: judged by its area in the latest version
            if v == latest:
                now[i] = float(a)
        for i in set(first) - set(ids):
            gone.setdefault(i, v)
    out = {i: (first[i][0], first[i][1], now[i], None, *names[i]) for i in now}
    out.update({i: (first[i][0], first[i][1], 0.0, gone[i], *names[i]) for i in first if i not in now})
    return out


def _removed(version) -> bool:
    return version is not None and not (isinstance(version, float) and math.isnan(version))


def _check(value: bool | None, lang: str) -> str:
    return t("prot.check.na", lang) if value is None else t("prot.check.held" if value else "prot.check.not_held", lang)


def ledger_frame(pa: ProtectionAssessment, hist: dict[str, tuple]) -> pd.DataFrame:
    """The core's ledger with the three checks as True / False / None (cannot tell):

    * area not reduced: the zone's area now vs its first saved version (workspace layers only);
      a zone an earlier version held and the latest does not (deleted, or its id renamed) gets
      rows of its own (area 0, ``removed_in`` the version, check failed);
    * nature not changed: natural land lost since the previous date <= NATURAL_TOL_HA;
    * function not lowered: carbon stock not down and NDVI not down by more than NDVI_TOL.

    ``hist``: :func:`area_history` (or plain tuples (first version, area then, area now)).
    """
    hist = {z: AreaHistory(*v) for z, v in hist.items()}
    led = pa.ledger.merge(pa.zones[["zone_id", "name_zh", "name_en"]], on="zone_id", how="left").copy()
    known = set(led["zone_id"].astype(str))
    removed = [(z, h) for z, h in hist.items() if h.removed_in is not None and z not in known]
    if removed:
        extra = pd.DataFrame([{"zone_id": z, "zone_type": h.zone_type, "year": y, "zone_area_ha": 0.0,
                               "name_zh": h.name_zh or z, "name_en": h.name_en or z}
                              for z, h in removed for y in pa.years])
        led = pd.concat([led, extra], ignore_index=True)
    led["removed_in"] = led["zone_id"].map(lambda z: hist[z].removed_in if z in hist else None)
    first = led["zone_id"].map(lambda z: hist[z][1] if z in hist else np.nan)
    version = led["zone_id"].map(lambda z: hist[z][0] if z in hist else np.nan)
    latest = led["zone_id"].map(lambda z: hist[z][2] if z in hist else np.nan)
    led["first_version"] = version
    led["first_area_ha"] = first
    led["area_held"] = [None if math.isnan(f) else bool(n >= f - AREA_TOL_HA) for f, n in zip(first, latest)]
    led["nature_held"] = [None if pd.isna(x) else bool(x <= NATURAL_TOL_HA) for x in led["natural_lost_ha"]]
    fn = []
    for sc, nd in zip(led["stock_change_tc"], led["ndvi_change"]):
        if pd.isna(sc):
            fn.append(None)
        else:
            fn.append(bool(sc >= 0 and (pd.isna(nd) or nd >= -NDVI_TOL)))
    led["function_held"] = fn
    return led


def ledger_table(led: pd.DataFrame, lang: str, types: list[str] | None = None) -> pd.DataFrame:
    """Per zone and date, in the reader's language; ``types``: the zone types kept."""
    if types is not None:
        led = led[led["zone_type"].isin(types)]
    order = {zt: i for i, zt in enumerate(ZONE_TYPES)}
    led = led.assign(_o=led["zone_type"].map(order)).sort_values(["_o", "zone_id", "year"])
    name = led["name_zh" if lang == "zh" else "name_en"].fillna(led["zone_id"])
    return pd.DataFrame({
        t("prot.col.zone", lang): name.to_numpy(),
        t("prot.col.type", lang): [type_name(x, lang) for x in led["zone_type"]],
        t("prot.col.year", lang): led["year"].astype(str).to_numpy(),
        t("prot.led.area_check", lang): [t("prot.check.removed", lang, v=int(r)) if _removed(r) else _check(v, lang)
                                         for v, r in zip(led["area_held"], led.get("removed_in", pd.Series(None, index=led.index)))],
        t("prot.led.nature_check", lang): [_check(v, lang) for v in led["nature_held"]],
        t("prot.led.function_check", lang): [_check(v, lang) for v in led["function_held"]],
        t("prot.col.area_vector", lang): led["zone_area_ha"].round(2).to_numpy(),
        t("prot.led.first_area", lang): led["first_area_ha"].round(2).to_numpy(),
        t("prot.col.natural", lang): led["natural_ha"].round(2).to_numpy(),
        t("prot.led.natural_lost", lang): led["natural_lost_ha"].round(2).to_numpy(),
        t("prot.led.natural_gained", lang): led["natural_gained_ha"].round(2).to_numpy(),
        t("prot.led.newly_flagged", lang): led["newly_flagged_ha"].round(2).to_numpy(),
        t("prot.col.stock", lang): led["stock_tc"].round(0).to_numpy(),
        t("prot.led.stock_change", lang): led["stock_change_tc"].round(0).to_numpy(),
        t("prot.led.ndvi", lang): led["ndvi_mean"].round(3).to_numpy(),
        t("prot.led.ndvi_change", lang): led["ndvi_change"].round(3).to_numpy(),
    })


def ledger_chart(led: pd.DataFrame, year: int, lang: str, types: list[str] | None = None) -> pd.DataFrame:
    """Natural land lost and land newly flagged per zone since the previous date (long form:
    zone, measure, area in ha, headers in the reader's language since the chart's tooltip shows
    them); zones with neither are left out."""
    d = led[(led["year"] == year) & led["natural_lost_ha"].notna()]
    if types is not None:
        d = d[d["zone_type"].isin(types)]
    d = d[(d["natural_lost_ha"] > 0.005) | (d["newly_flagged_ha"] > 0.005)]
    name = d["name_zh" if lang == "zh" else "name_en"].fillna(d["zone_id"])
    twice = name.duplicated(keep=False)  # e.g. a site that is both an ecological and a wetland red line
    name = [f"{n} · {type_name(zt, lang)}" if dup else n for n, zt, dup in zip(name, d["zone_type"], twice)]
    zone, what, area = t("prot.col.zone", lang), t("prot.led.measure", lang), t("prot.col.area", lang)
    rows = [pd.DataFrame({zone: name, what: t(f"prot.led.{w}", lang), area: d[f"{w}_ha"].to_numpy()})
            for w in ("natural_lost", "newly_flagged")]
    return pd.concat(rows, ignore_index=True) if len(d) else pd.DataFrame(columns=[zone, what, area])


def reconciliation_table(pa: ProtectionAssessment, year: int, lang: str) -> pd.DataFrame:
    """Raster vs vector per zone: the zone's vector area, the mapped area by exact pixel
    coverage and by pixel centres, the area without data, and the two differences."""
    led = pa.ledger[pa.ledger["year"] == year].merge(pa.zones[["zone_id", "name_zh", "name_en"]], on="zone_id", how="left")
    order = {zt: i for i, zt in enumerate(ZONE_TYPES)}
    led = led.assign(_o=led["zone_type"].map(order)).sort_values(["_o", "zone_id"])
    v, cov, cen = led["zone_area_ha"], led["mapped_ha"], led["mapped_ha_centres"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(v > 0, (cen - v) / v * 100, np.nan)
    return pd.DataFrame({
        t("prot.col.zone", lang): led["name_zh" if lang == "zh" else "name_en"].fillna(led["zone_id"]).to_numpy(),
        t("prot.col.type", lang): [type_name(x, lang) for x in led["zone_type"]],
        t("prot.col.area_vector", lang): v.round(2).to_numpy(),
        t("prot.rec.coverage", lang): cov.round(2).to_numpy(),
        t("prot.rec.centres", lang): cen.round(2).to_numpy(),
        t("prot.rec.nodata", lang): led["nodata_ha"].round(2).to_numpy(),
        t("prot.rec.diff_coverage", lang): (cov - v).round(2).to_numpy(),
        t("prot.rec.diff_centres", lang): (cen - v).round(2).to_numpy(),
        t("prot.rec.diff_centres_pct", lang): np.round(rel, 1),
    })


def rules_table(pa: ProtectionAssessment, lang: str) -> pd.DataFrame:
    r = pa.screening.rules.to_frame()
    order = {zt: i for i, zt in enumerate(ZONE_TYPES)}
    r = r.assign(_o=r["zone_type"].map(order)).sort_values(["_o", "code"])
    return pd.DataFrame({
        t("prot.col.type", lang): [type_name(x, lang) for x in r["zone_type"]],
        t("prot.col.class", lang): [class_names(c, lang) for c in r["code"]],
        t("prot.col.status", lang): [status_name(s, lang) for s in r["status"]],
        t("prot.col.verified", lang): [verified_mark(v, lang) for v in r["verified"]],
        t("prot.col.rule", lang): _rule_text(r, lang),
        t("prot.col.citation", lang): r["citation"].to_numpy(),
    })


def water_source_table(pa: ProtectionAssessment, lang: str) -> pd.DataFrame | None:
    w = pa.water_source_rules
    if w is None:
        return None
    return pd.DataFrame({
        t("prot.ws.level", lang): [t(f"prot.ws.{s.level}", lang) for s in w.sources],
        t("prot.ws.parameter", lang): [t(f"prot.ws.{s.parameter}", lang) for s in w.sources],
        t("prot.ws.value", lang): [s.value for s in w.sources],
        t("prot.col.verified", lang): [t(f"prot.ws.verified_{s.verified}", lang) for s in w.sources],
        t("prot.col.citation", lang): [s.citation for s in w.sources],
        t("prot.ws.note", lang): [s.note for s in w.sources],
    })


def file_name(path) -> str:
    """A file the screening read, relative to the project folder when inside it."""
    if not path:
        return "—"
    root = Path(__file__).resolve().parents[1]
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def unverified_rules(pa: ProtectionAssessment) -> int:
    return int(sum(not r.is_verified for r in pa.screening.rules.rules))


# ------------------------------------------------------------------------------ flagged patches (officers)


def filter_patches(pa: ProtectionAssessment, *, year: int, types: list[str] | None = None,
                   statuses: list[str] | None = None) -> gpd.GeoDataFrame:
    p = pa.screening.patches
    keep = p["year"] == year
    if types is not None:
        keep &= p["zone_type"].isin(types)
    if statuses is not None:
        keep &= p["status"].isin(statuses)
    return p[keep].sort_values("area_ha", ascending=False, kind="stable")


def patch_table(pa: ProtectionAssessment, p: pd.DataFrame, lang: str, districts: dict[str, str] | None = None) -> pd.DataFrame:
    """The flagged patches for officers: zone, type, patch, class, status, area, lon/lat,
    district (``districts``: id -> name in the reader's language), the rule in the reader's
    language, citation, verified."""
    names = _zone_names(pa, lang)
    districts = districts or {}
    return pd.DataFrame({
        t("prot.col.zone", lang): [names.get(z, z) for z in p["zone_id"]],
        t("prot.col.type", lang): [type_name(x, lang) for x in p["zone_type"]],
        t("prot.col.patch", lang): p["patch_id"].astype(str).to_numpy(),
        t("prot.col.class", lang): [class_names(c, lang) for c in p["codes"]],
        t("prot.col.status", lang): [status_name(s, lang) for s in p["status"]],
        t("prot.col.area", lang): p["area_ha"].round(2).to_numpy(),
        t("prot.col.lon", lang): p["lon"].round(6).to_numpy(),
        t("prot.col.lat", lang): p["lat"].round(6).to_numpy(),
        t("prot.col.district", lang): [districts.get(d, d) for d in p["district"].fillna("").astype(str)],
        t("prot.col.rule", lang): _rule_text(p, lang),
        t("prot.col.citation", lang): p["citation"].to_numpy(),
        t("prot.col.verified", lang): [verified_mark(v, lang) for v in p["verified"]],
    })


def patch_csv(pa: ProtectionAssessment, p: pd.DataFrame, lang: str, districts: dict[str, str] | None = None) -> bytes:
    """The patch table (reader's language) plus the raw zone id, codes and status."""
    out = patch_table(pa, p, lang, districts)
    out.insert(1, "zone_id", p["zone_id"].to_numpy())
    out["code"] = p["codes"].astype(str).to_numpy()
    out["status_code"] = p["status"].to_numpy()
    out["year"] = p["year"].to_numpy()
    return csv_bytes(out)


def export_gpkg(pa: ProtectionAssessment, p: gpd.GeoDataFrame, crs: int) -> bytes:
    """A GeoPackage with the layers ``flagged_patches`` (the patches given) and ``zones``, in
    ``crs`` (4490 CGCS2000 or 4326 WGS84), written to a temporary file and read back."""
    if int(crs) not in EXPORT_CRS:
        raise DataError("export", f"EPSG:{crs} is not offered", "choose EPSG:4490 (CGCS2000) or EPSG:4326 (WGS84)")
    with tempfile.TemporaryDirectory(prefix="prot_export_") as tmp:
        path = Path(tmp) / "protection.gpkg"
        # the attributes as they are: safe_for_csv is for spreadsheets and would alter GIS values
        patches = gpd.GeoDataFrame(pd.DataFrame(p).copy(), geometry="geometry", crs=pa.screening.patches.crs)
        patches.to_crs(int(crs)).to_file(path, layer="flagged_patches", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        zones = gpd.GeoDataFrame(pd.DataFrame(pa.zones).copy(), geometry="geometry", crs=pa.zones.crs)
        zones.to_crs(int(crs)).to_file(path, layer="zones", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        return path.read_bytes()


def patch_choices(pa: ProtectionAssessment, p: pd.DataFrame, lang: str) -> dict[str, str]:
    """patch id -> label (largest first) for the patch picker."""
    names = _zone_names(pa, lang)
    return {str(r.patch_id): f"{r.patch_id} · {names.get(r.zone_id, r.zone_id)} · {class_names(r.codes, lang)} · "
                             f"{status_name(r.status, lang)} · {fmt.hectares(r.area_ha, lang)}"
            for r in p.itertuples()}


def patch_center(pa: ProtectionAssessment, patch_id: str, year: int) -> tuple[float, float] | None:
    """(lat, lon) of a flagged patch (its centroid, as the core gives it)."""
    p = pa.screening.patches
    hit = p[(p["patch_id"].astype(str) == str(patch_id)) & (p["year"] == year)]
    if hit.empty:
        return None
    return float(hit["lat"].iloc[0]), float(hit["lon"].iloc[0])


# ------------------------------------------------------------------------------ map


def _zones_lonlat(key: str, pa: ProtectionAssessment) -> gpd.GeoDataFrame:
    return _store().extra((key, "zones"), lambda: map_outlines(pa.zones))


def _patches_lonlat(key: str, pa: ProtectionAssessment, year: int) -> gpd.GeoDataFrame:
    return _store().extra((key, "patches", year), lambda: map_outlines(pa.screening.patches[pa.screening.patches["year"] == year]))


def zone_types_present(pa: ProtectionAssessment) -> list[str]:
    have = set(pa.zones["zone_type"])
    return [z for z in ZONE_TYPES if z in have]


def build_map(key: str, pa: ProtectionAssessment, lang: str, *, types: list[str], year: int,
              patches: pd.DataFrame | None = None, intakes: bool = False, points: "PointsResult | None" = None) -> folium.Map:
    """Zones of ``types`` coloured by type (tooltips: name, type, area); for officers only
    (the page decides): ``patches`` (the flagged patches listed, by status), the intakes and
    the checked project points."""
    zl = _zones_lonlat(key, pa)
    west, south, east, north = zl.total_bounds
    m = leaflet.offline_map((west, south, east, north))
    for zt in DRAW_ORDER:
        if zt not in types:
            continue
        z = zl[zl["zone_type"] == zt]
        if z.empty:
            continue
        g = gpd.GeoDataFrame({"name": z["name_zh" if lang == "zh" else "name_en"].astype(str).to_numpy(),
                              "type": type_name(zt, lang),
                              "area": [fmt.hectares(v, lang) for v in z["area_ha"]]}, geometry=z.geometry.to_numpy(), crs=DISPLAY_CRS)
        colour, dash = ZONE_HEX[zt], ZONE_DASH.get(zt)
        folium.GeoJson(geojson(g), name=type_name(zt, lang),
                       style_function=lambda f, c=colour, d=dash: {"color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.22,
                                                                   **({"dashArray": d} if d else {})},
                       tooltip=folium.GeoJsonTooltip(["name", "type", "area"],
                                                     aliases=[t("prot.col.zone", lang), t("prot.col.type", lang), t("prot.col.area_vector", lang)])
                       ).add_to(m)
    if patches is not None and len(patches):
        pl = _patches_lonlat(key, pa, year)
        pl = pl[pl["patch_id"].isin(set(patches["patch_id"]))]
        if len(pl):
            g = gpd.GeoDataFrame({"patch": pl["patch_id"].astype(str).to_numpy(),
                                  "status": [status_name(s, lang) for s in pl["status"]],
                                  "cls": [class_names(c, lang) for c in pl["codes"]],
                                  "area": [fmt.hectares(v, lang) for v in pl["area_ha"]],
                                  "fill": [STATUS_HEX[s] for s in pl["status"]],
                                  "dash": ["" if s == "non_conforming" else "3 3" for s in pl["status"]]},
                                 geometry=pl.geometry.to_numpy(), crs=DISPLAY_CRS)
            folium.GeoJson(geojson(g), name=t("prot.layer.patches", lang, year=year),
                           style_function=lambda f: {"color": f["properties"]["fill"] if f["properties"]["fill"] != "#7f7f7f" else "#404040",
                                                     "weight": 1.2, "fillColor": f["properties"]["fill"], "fillOpacity": 0.65,
                                                     "dashArray": f["properties"]["dash"] or None},
                           tooltip=folium.GeoJsonTooltip(["patch", "cls", "status", "area"],
                                                         aliases=[t("prot.col.patch", lang), t("prot.col.class", lang),
                                                                  t("prot.col.status", lang), t("prot.col.area", lang)])).add_to(m)
    if intakes and len(pa.intakes):
        fg = folium.FeatureGroup(name=t("prot.layer.intakes", lang))
        for r in pa.intakes.itertuples():
            name = r.name_zh if lang == "zh" else r.name_en
            hyp = t("prot.intake.hypothetical", lang) if bool(r.hypothetical) else ""
            folium.CircleMarker([r.geometry.y, r.geometry.x], radius=8, color="#ffffff", weight=2, fill=True, fill_color=INTAKE_HEX,
                                fill_opacity=1.0, tooltip=f"{t('prot.intake.label', lang)} {r.intake_id}: {name}{hyp}").add_to(fg)
        fg.add_to(m)
    if points is not None and len(points.table.points):
        drawn = map_points(points).to_crs(DISPLAY_CRS)
        # one GeoJSON layer of circle markers (plain SVG; folium's RegularPolygonMarker loads a
        # plugin from a CDN): thousands of separate markers would make the page megabytes long
        g = gpd.GeoDataFrame({"label": [f"{i}" + (f" · {n}" if n else "") + f" · {status_name(s, lang)}"
                                        for i, n, s in zip(drawn["point_id"], drawn["name"], drawn["status"])],
                              "fill": [STATUS_HEX.get(s, "#ffffff") for s in drawn["status"]]},
                             geometry=shapely.transform(drawn.geometry.to_numpy(), lambda xy: np.round(xy, 6)), crs=DISPLAY_CRS)
        folium.GeoJson(geojson(g), name=t("prot.layer.points", lang),
                       marker=folium.CircleMarker(radius=6, color=POINT_EDGE, weight=2.5, fill=True, fill_opacity=0.95),
                       style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": POINT_EDGE, "weight": 2.5,
                                                 "fillOpacity": 0.95, "radius": 6},
                       tooltip=folium.GeoJsonTooltip(["label"], labels=False)).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)  # the type pills above the map do the same, in the open
    return m


def selected_outline(pa: ProtectionAssessment, patch_id: str, year: int, lang: str) -> folium.FeatureGroup | None:
    """The selected patch's outline, as a feature group ``st_folium`` adds without reloading the map."""
    p = pa.screening.patches
    hit = p[(p["patch_id"].astype(str) == str(patch_id)) & (p["year"] == year)]
    if hit.empty:
        return None
    g = gpd.GeoDataFrame({"patch": [str(patch_id)]}, geometry=hit.geometry.to_numpy(), crs=p.crs).to_crs(DISPLAY_CRS)
    fg = folium.FeatureGroup(name=t("prot.layer.selected", lang))
    folium.GeoJson(geojson(g), style_function=lambda f: {"color": SELECTED_HEX, "weight": 4, "fill": False},
                   tooltip=folium.GeoJsonTooltip(["patch"], labels=False)).add_to(fg)
    return fg


def _swatch(colour: str, label: str, kind: str, dash: str | None = None) -> str:
    if kind == "fill":
        box = f"background:{colour};opacity:.75;border:1px solid #333"
    elif kind == "dot":
        box = f"background:{colour};border:2px solid #fff;outline:1px solid #333;border-radius:50%"
    elif kind == "ring":
        box = f"background:{colour};border:2.5px solid {POINT_EDGE};border-radius:50%"
    else:
        box = f"border:3px {'dashed' if dash else 'solid'} {colour}"
    return (f"<span style='display:inline-flex;align-items:center;margin-right:14px'>"
            f"<span style='display:inline-block;width:14px;height:14px;{box};margin-right:5px'></span>{label}</span>")


def legend_html(lang: str, types: list[str], *, officer: bool = False, points: bool = False) -> str:
    """Swatches for the zone types shown and, for officers, patches, intakes and points."""
    cells = [_swatch(ZONE_HEX[z], type_name(z, lang), "fill") for z in DRAW_ORDER if z in types]
    if officer:
        cells.append(_swatch(STATUS_HEX["non_conforming"], status_name("non_conforming", lang), "fill"))
        cells.append(_swatch(STATUS_HEX["review"], status_name("review", lang), "fill"))
        cells.append(_swatch(SELECTED_HEX, t("prot.layer.selected", lang), "line"))
        cells.append(_swatch(INTAKE_HEX, t("prot.layer.intakes", lang), "dot"))
        if points:
            cells.append(_swatch("#ffffff", t("prot.layer.points", lang), "ring"))
    return "<div data-testid='prot-legend' style='font-size:0.85rem;line-height:1.9'>" + "".join(cells) + "</div>"


# ------------------------------------------------------------------------------ project points (officers)


@dataclass(frozen=True)
class PointsResult:
    table: PointTable
    hits: pd.DataFrame  # check_points: one row per point and zone holding it

    def worst(self) -> dict[str, str]:
        if self.hits.empty:
            return {}
        return dict(zip(self.hits["point_id"].astype(str), self.hits["point_status"]))


@dataclass(frozen=True)
class UploadFailed:
    """An upload whose check failed for a reason that is not a :class:`DataError` (a bug): the
    page says so, naming the file, instead of a traceback, and keeps working."""

    name: str
    error: str  # the exception's type and text, for the officer to pass on


_EMPTY_HITS = ["point_id", "name", "lon", "lat", "zone_id", "zone_type", "status", "finding", "rule_en", "rule_zh",
               "citation", "point_status"]


def check_upload(pa: ProtectionAssessment, data: bytes, name: str, coord_system: str, *,
                 max_rows: int = MAX_POINT_ROWS) -> PointsResult:
    """An uploaded CSV of project / enterprise locations read (rejected rows kept with their
    reason) and checked against the zones; at most ``max_rows`` data rows."""
    if len(data) > MAX_POINT_BYTES:
        raise DataError(name, f"the file is {len(data) / 2**20:.1f} MiB (limit {MAX_POINT_BYTES / 2**20:.0f} MiB)",
                        "split the list into smaller files")
    table = read_points(data, name=name, coord_system=coord_system, max_rows=max_rows)
    if table.points.empty:
        return PointsResult(table, pd.DataFrame(columns=_EMPTY_HITS))
    hits = check_points(table.points, pa.screening)
    hits["point_id"] = hits["point_id"].astype(str)
    return PointsResult(table, hits)


def try_check_upload(pa: ProtectionAssessment, data: bytes, name: str, coord_system: str, *,
                     max_rows: int = MAX_POINT_ROWS) -> PointsResult | DataError | UploadFailed:
    """:func:`check_upload` that never raises: bad input comes back as its :class:`DataError`,
    anything else (a bug) as :class:`UploadFailed` (logged with its traceback)."""
    try:
        return check_upload(pa, data, name, coord_system, max_rows=max_rows)
    except DataError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - shown as a message naming the file, logged in full
        log.exception("checking the uploaded locations %r failed", name)
        return UploadFailed(name, f"{type(exc).__name__}: {exc}"[:500])


def too_many_rows(exc: DataError) -> bool:
    """The reader refused the file for having more rows than the page allows."""
    return "data rows (limit" in str(exc.as_dict().get("problem", ""))


def points_table(pa: ProtectionAssessment, res: PointsResult, lang: str) -> pd.DataFrame:
    """One row per accepted point: its zones, their types, the worst status and the rules
    (built with one group-by, not a filter per point: uploads may hold thousands of points)."""
    names = _zone_names(pa, lang)
    pts = res.table.points
    sep = "；" if lang == "zh" else "; "
    h = res.hits
    zid = h["zone_id"].fillna("").astype(str)
    inside = pd.DataFrame({"point_id": h["point_id"].astype(str).to_numpy(),
                           "zones": [names.get(z, z) for z in zid],
                           "types": [type_name(z, lang) if isinstance(z, str) and z else "" for z in h["zone_type"]],
                           "rule": _rule_text(h, lang) if len(h) else np.array([], dtype=object),
                           "citation": h["citation"].fillna("").astype(str).to_numpy()})[(zid != "").to_numpy()]

    def joined(col: str) -> pd.Series:
        d = inside[["point_id", col]]
        d = d[d[col] != ""].drop_duplicates()
        return d.groupby("point_id", sort=False)[col].agg(sep.join)

    worst = h.drop_duplicates("point_id").set_index("point_id")["point_status"] if len(h) else pd.Series(dtype=object)
    ids = pts["point_id"].astype(str)
    status = ids.map(worst).fillna("outside")
    return pd.DataFrame({
        t("prot.pt.id", lang): ids.to_numpy(),
        t("prot.pt.name", lang): pts["name"].fillna("").astype(str).to_numpy() if "name" in pts.columns else "",
        t("prot.pt.row", lang): pts["row"].astype(int).to_numpy(),
        t("prot.col.lon", lang): pts.geometry.x.round(6).to_numpy(),
        t("prot.col.lat", lang): pts.geometry.y.round(6).to_numpy(),
        t("prot.pt.zones", lang): ids.map(joined("zones")).fillna("—").to_numpy(),
        t("prot.pt.types", lang): ids.map(joined("types")).fillna("—").to_numpy(),
        t("prot.pt.status", lang): [status_name(x, lang) for x in status],
        t("prot.col.rule", lang): ids.map(joined("rule")).fillna("").to_numpy(),
        t("prot.col.citation", lang): ids.map(joined("citation")).fillna("").to_numpy(),
    })


def rejected_table(res: PointsResult, lang: str) -> pd.DataFrame:
    rej = res.table.rejected
    if rej.empty:
        return pd.DataFrame()
    out = pd.DataFrame({t("prot.pt.row", lang): rej["row"].to_numpy(), t("prot.pt.code", lang): rej["code"].astype(str).to_numpy(),
                        t("prot.pt.reason", lang): rej["reason"].astype(str).to_numpy()})
    for c in rej.columns:
        if c not in ("row", "reason", "code") and c not in out.columns:
            out[c] = rej[c].astype(str).to_numpy()
    return out


def rejected_csv(res: PointsResult) -> bytes:
    """The rejected rows as the reader gave them (row, reason, code, the raw values), for fixing
    in the source file: formula-like cells defused, UTF-8 with BOM."""
    return csv_bytes(res.table.rejected)


def points_csv(pa: ProtectionAssessment, res: PointsResult, lang: str) -> bytes:
    """Every point-zone pair (the core's check), with the point's name, lon/lat and zone name."""
    pts = res.table.points
    base = pd.DataFrame({"point_id": pts["point_id"].astype(str).to_numpy(),
                         "name": pts["name"].astype(str).to_numpy() if "name" in pts else "",
                         "row": pts["row"].to_numpy(), "lon": pts.geometry.x.round(6).to_numpy(), "lat": pts.geometry.y.round(6).to_numpy()})
    # the core's check carries name / lon / lat too: keep one of each (the point table's)
    hits = res.hits.drop(columns=[c for c in res.hits.columns if c in base.columns and c != "point_id"])
    out = base.merge(hits, on="point_id", how="left")
    names = _zone_names(pa, lang)
    out.insert(out.columns.get_loc("zone_id") + 1, "zone_name", [names.get(z, "") for z in out["zone_id"].fillna("")])
    return csv_bytes(out)


def map_points(res: PointsResult, limit: int | None = None) -> gpd.GeoDataFrame:
    """The points to draw (at most ``limit``, default MAX_MAP_POINTS): non-conforming first, then
    to review, no issue, outside; in file order within each status. Columns: point_id, name,
    status, geometry."""
    limit = MAX_MAP_POINTS if limit is None else int(limit)
    pts = res.table.points
    worst = res.worst()
    ids = pts["point_id"].astype(str)
    status = ids.map(worst).fillna("outside")
    rank = status.map({s: i for i, s in enumerate(POINT_STATUSES)}).fillna(len(POINT_STATUSES))
    order = np.argsort(rank.to_numpy(), kind="stable")[:limit]
    return gpd.GeoDataFrame({"point_id": ids.to_numpy()[order],
                             "name": (pts["name"].fillna("").astype(str).to_numpy()[order] if "name" in pts.columns
                                      else np.full(len(order), "", dtype=object)),
                             "status": status.to_numpy()[order]},
                            geometry=pts.geometry.to_numpy()[order], crs=pts.crs)


def point_counts(res: PointsResult) -> dict[str, int]:
    worst = res.worst()
    return {s: sum(1 for v in worst.values() if v == s) for s in POINT_STATUSES}

