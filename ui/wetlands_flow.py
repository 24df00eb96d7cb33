"""The "Wetlands & red lines" screen's data: patches per date, the red-line workspace, the map.

Cached per input file fingerprint (path, size, mtime), like :mod:`ui.cache`; the red lines are
read from the workspace on every run (a save by another officer shows up at the next rerun).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geodata.errors import DataError
from geodata.store import STORE_CRS_CHOICES, ConflictError, Workspace
from sinks.config import load_config
from sinks.landcover.datasets import workspace_dir
from ui import fmt, leaflet
from ui.i18n import t
from wetlands import redlines as rl
from wetlands.patches import TYPES, wetland_patches

__all__ = ["DataError", "ConflictError"]  # what the page catches
WORKSPACE_FILE = "workspace.gpkg"
ID_FIELD = rl.ID_FIELD
EXPORT_CRS = STORE_CRS_CHOICES  # 4490 CGCS2000, 4326 WGS84
WATER_TYPES = ("river", "lake_reservoir", "pond")
VEGETATED_TYPES = ("riverbank", "lakeshore", "marsh")
MIN_PATCH_HA = 1.0  # patches below 1 ha are counted (dropped_n/ha) but not drawn or listed
SIMPLIFY_M = 10.0  # outline simplification for the map (a third of a 30 m pixel)
# patch types: blues for open water, greens for vegetated wetland, orange for paddy
TYPE_HEX = {"river": "#1f78b4", "lake_reservoir": "#41b6c4", "pond": "#a6cee3", "riverbank": "#1b7837",
            "lakeshore": "#5aae61", "marsh": "#a6dba0", "paddy": "#fdae61"}
REDLINE_HEX = "#c0392b"
MAX_UPLOAD_BYTES = 20 * 2**20  # red-line layers are small; server.maxUploadSize is 50 MB for rasters


def workspace() -> Workspace:
    """The officers' workspace: ``<workspace>/workspace.gpkg`` (CGCS2000 when created here)."""
    return Workspace(workspace_dir() / WORKSPACE_FILE)


def load_redlines(ws: Workspace) -> tuple[gpd.GeoDataFrame, int]:
    """The latest red lines in lon/lat and their version (0 = none saved yet)."""
    if rl.LAYER not in ws.layers():
        return rl.empty_layer(), 0
    gdf = ws.load(rl.LAYER)
    version = int(gdf.attrs["store_version"])
    out = gdf.to_crs(rl.DRAWN_CRS)
    out.attrs.update(gdf.attrs)
    return out, version


def _stat(path: Path) -> tuple[str, int, int]:
    s = path.stat()
    return str(path), s.st_size, s.st_mtime_ns


@dataclass(frozen=True)
class PatchLayer:
    gdf: gpd.GeoDataFrame  # lon/lat, simplified for the map; PATCH_COLUMNS + geometry
    n_dropped: int
    dropped_ha: float
    valid_ha: float
    rules: tuple[str, ...]


@st.cache_data(show_spinner=False, max_entries=8)
def _patches(lc: tuple[str, int, int], zones: tuple[str, int, int] | None, zones_layer: str | None, zone_id: str,
             river_layer: str | None, min_ha: float) -> PatchLayer:
    zgdf = gpd.read_file(zones[0], layer=zones_layer) if zones else None
    river = gpd.read_file(zones[0], layer=river_layer) if zones and river_layer else None
    p = wetland_patches(lc[0], zones=zgdf, zone_id_field=zone_id, river=river, min_area_ha=min_ha)
    gdf = p.to_geodataframe()
    utm = gdf.estimate_utm_crs() if len(gdf) else gdf.crs
    gdf = gdf.to_crs(utm)
    gdf["geometry"] = gdf.geometry.simplify(SIMPLIFY_M)
    return PatchLayer(gdf=gdf.to_crs(rl.DRAWN_CRS), n_dropped=p.dropped_n, dropped_ha=p.dropped_ha, valid_ha=p.valid_ha,
                      rules=p.rules.describe())


def river_layer(zones_path: Path | None) -> str | None:
    """The demo boundaries carry the Yangtze as layer ``yangtze``; other zone files may not."""
    import pyogrio

    if zones_path is None or zones_path.suffix.lower() != ".gpkg":
        return None
    return "yangtze" if "yangtze" in [r[0] for r in pyogrio.list_layers(zones_path)] else None


def patches(config_path: str, year: int) -> PatchLayer:
    cfg = load_config(config_path)
    zones = cfg.zones
    return _patches(_stat(Path(cfg.landcover[year])), _stat(zones) if zones else None, cfg.zones_layer, cfg.zone_id_field,
                    river_layer(zones), MIN_PATCH_HA)


@st.cache_data(show_spinner=False, max_entries=8)
def _overlay(lc: tuple[str, int, int]) -> leaflet.Overlay:
    return leaflet.landcover_overlay(lc[0])


def overlay(config_path: str, year: int) -> leaflet.Overlay:
    return _overlay(_stat(Path(load_config(config_path).landcover[year])))


def type_name(code: str, lang: str) -> str:
    return t(f"wet.type.{code}", lang)


def _geojson(gdf: gpd.GeoDataFrame) -> dict:
    return json.loads(gdf.to_json(drop_id=True))


def build_map(*, zones: gpd.GeoDataFrame, patch_layer: PatchLayer, redlines: gpd.GeoDataFrame, lc: leaflet.Overlay | None,
              lang: str, suggestions: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Land cover (picture), districts, wetland patches by type, red lines, suggested patches."""
    west, south, east, north = zones.total_bounds
    m = leaflet.offline_map((west, south, east, north))
    if lc is not None:
        leaflet.add_overlay(m, lc, name=t("wet.layer.landcover", lang), opacity=0.55, show=False)
    z = zones[["zone_id", "geometry"]].copy()
    z["name"] = zones["name_zh" if lang == "zh" else "name_en"]
    folium.GeoJson(_geojson(z), name=t("wet.layer.districts", lang),
                   style_function=lambda f: {"color": "#555555", "weight": 1.5, "fill": False, "dashArray": "4 3"},
                   tooltip=folium.GeoJsonTooltip(["name"], labels=False)).add_to(m)
    p = patch_layer.gdf[["patch_id", "type", "area_ha", "zone_id", "geometry"]].copy()
    if len(p):
        p["type_label"] = [type_name(x, lang) for x in p["type"]]
        p["area"] = [fmt.hectares(v, lang) for v in p["area_ha"]]
        p["fill"] = [TYPE_HEX.get(x, "#999999") for x in p["type"]]
        folium.GeoJson(_geojson(p[["patch_id", "type_label", "area", "fill", "geometry"]]), name=t("wet.layer.patches", lang),
                       style_function=lambda f: {"color": f["properties"]["fill"], "weight": 0.6, "fillColor": f["properties"]["fill"], "fillOpacity": 0.7},
                       tooltip=folium.GeoJsonTooltip(["patch_id", "type_label", "area"],
                                                     aliases=[t("wet.col.patch", lang), t("wet.col.type", lang), t("wet.col.area", lang)])).add_to(m)
    if suggestions is not None and len(suggestions):
        s = suggestions[["patch_id", "area_ha", "geometry"]].copy()
        s["area"] = [fmt.hectares(v, lang) for v in s["area_ha"]]
        folium.GeoJson(_geojson(s[["patch_id", "area", "geometry"]]), name=t("wet.layer.suggestions", lang),
                       style_function=lambda f: {"color": "#6a3d9a", "weight": 2, "dashArray": "6 4", "fill": False},
                       tooltip=folium.GeoJsonTooltip(["patch_id", "area"], aliases=[t("wet.col.patch", lang), t("wet.col.area", lang)])).add_to(m)
    if len(redlines):
        r = redlines[[rl.ID_FIELD, "geometry"]].copy()
        r["name"] = [str(v or "") for v in redlines.get("name_zh" if lang == "zh" else "name_en", pd.Series([""] * len(r)))]
        folium.GeoJson(_geojson(r), name=t("wet.layer.redlines", lang),
                       style_function=lambda f: {"color": REDLINE_HEX, "weight": 3, "fillColor": REDLINE_HEX, "fillOpacity": 0.08},
                       tooltip=folium.GeoJsonTooltip([rl.ID_FIELD, "name"], aliases=[t("wet.col.redline", lang), t("wet.col.name", lang)])).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def legend_html(lang: str) -> str:
    """Swatches for the patch types and the red line (drawn under the map)."""
    items = [(TYPE_HEX[c], type_name(c, lang), "fill") for c in TYPES if c in TYPE_HEX]
    items.append((REDLINE_HEX, t("wet.layer.redlines", lang), "line"))
    cells = []
    for colour, label, kind in items:
        box = (f"background:{colour};opacity:.8" if kind == "fill" else f"border:3px solid {colour}")
        cells.append(f"<span style='display:inline-flex;align-items:center;margin-right:14px'>"
                     f"<span style='display:inline-block;width:14px;height:14px;{box};margin-right:5px'></span>{label}</span>")
    return "<div style='font-size:0.85rem;line-height:1.9'>" + "".join(cells) + "</div>"


# ------------------------------------------------------------------------------ red-line edits


def read_upload(upload, coord_system: str, *, existing_ids: list[str]) -> gpd.GeoDataFrame:
    """An uploaded red-line file (GeoPackage, GeoJSON, zipped shapefile; read from memory) as a
    draft with new ids. The CRS check (none, projected numbers labelled lon/lat) and the GCJ-02 /
    BD-09 conversion happen here, so the draft on the map is where the lines really are."""
    from geodata.crs import CoordSystem, check_lonlat_bounds, require_crs, to_wgs84_geometries
    from geodata.vectors import read_vector

    name = getattr(upload, "name", "<upload>")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise DataError(name, f"the file is {size / 2**20:.1f} MiB (limit {MAX_UPLOAD_BYTES / 2**20:.0f} MiB)",
                        "clip the layer to the study area or simplify it before uploading")
    gdf = read_vector(upload.getvalue(), name=name)
    if gdf.empty:
        raise DataError(name, "the layer has no features", "upload a layer with at least one polygon")
    crs = require_crs(gdf.crs, name)
    geoms = gdf.geometry.values
    system = CoordSystem(coord_system)
    if system is not CoordSystem.WGS84:
        if not crs.is_geographic:
            raise DataError(name, f"{system.value} was chosen but the layer is in a projected CRS ({crs.name})",
                            "GCJ-02 / BD-09 are lon/lat offsets: choose WGS84/CGCS2000 for projected layers")
        check_lonlat_bounds(tuple(gdf.total_bounds), name)
        geoms = to_wgs84_geometries(np.asarray(geoms), system)
        gdf = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
    elif crs.is_geographic:
        check_lonlat_bounds(tuple(gdf.total_bounds), name)
    gdf = gdf.to_crs(rl.DRAWN_CRS)
    kinds = set(gdf.geom_type.dropna())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise DataError(name, f"red lines must be polygons; the layer has {', '.join(sorted(kinds))}", "upload the polygon layer")
    ids = rl.next_ids(existing_ids, len(gdf))
    names = {c: gdf[c].fillna("").astype(str) if c in gdf else pd.Series([""] * len(gdf)) for c in ("name_zh", "name_en")}
    out = gpd.GeoDataFrame({rl.ID_FIELD: ids, "name_zh": names["name_zh"].to_numpy(), "name_en": names["name_en"].to_numpy(),
                            "note": [f"uploaded from {name}" + (f" ({system.value} converted)" if system is not CoordSystem.WGS84 else "")] * len(gdf)},
                           geometry=gdf.geometry.values, crs=rl.DRAWN_CRS)
    return out


def _area_ha(gdf: gpd.GeoDataFrame) -> np.ndarray:
    if gdf.empty:
        return np.zeros(0)
    return gdf.to_crs(gdf.estimate_utm_crs()).area.to_numpy() / 1e4


def cover_totals(p: gpd.GeoDataFrame) -> tuple[float, float]:
    """(open water ha, vegetated wetland ha) of the listed patches."""
    by_type = p.groupby("type")["area_ha"].sum() if len(p) else pd.Series(dtype=float)
    return (float(by_type.reindex(list(WATER_TYPES)).fillna(0).sum()), float(by_type.reindex(list(VEGETATED_TYPES)).fillna(0).sum()))


def total_area_ha(gdf: gpd.GeoDataFrame) -> float:
    return float(_area_ha(gdf).sum())


def redline_ids(redlines: gpd.GeoDataFrame) -> list[str]:
    return [str(v) for v in redlines[ID_FIELD]] if len(redlines) else []


def suggestions(p: gpd.GeoDataFrame, redlines: gpd.GeoDataFrame, min_ha: float) -> gpd.GeoDataFrame:
    return rl.suggest_from_patches(p, redlines, min_area_ha=min_ha)


def suggestion_labels(suggest: gpd.GeoDataFrame, lang: str) -> dict[int, str]:
    return {int(r.patch_id): f"#{r.patch_id} · {type_name(r.type, lang)} · {fmt.hectares(r.area_ha, lang)}" for r in suggest.itertuples()}


def draft_from_drawings(drawings, redlines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return rl.drawings_to_frame(drawings, existing_ids=redline_ids(redlines))


def _append(draft: gpd.GeoDataFrame, add: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat([draft, add.to_crs(draft.crs)], ignore_index=True), geometry="geometry", crs=draft.crs)


def add_patches_to_draft(draft: gpd.GeoDataFrame, redlines: gpd.GeoDataFrame, suggest: gpd.GeoDataFrame, patch_ids) -> gpd.GeoDataFrame:
    """The chosen patches' outlines as new red lines in the draft (note: which patch)."""
    chosen = suggest[suggest["patch_id"].isin(list(patch_ids))]
    ids = rl.next_ids(redline_ids(redlines) + list(draft[ID_FIELD]), len(chosen))
    add = gpd.GeoDataFrame({ID_FIELD: ids, "name_zh": [""] * len(ids), "name_en": [""] * len(ids),
                            "note": [f"outline of wetland patch #{i}" for i in chosen["patch_id"]]},
                           geometry=chosen.geometry.values, crs=chosen.crs)
    return _append(draft, add)


def add_upload_to_draft(draft: gpd.GeoDataFrame, redlines: gpd.GeoDataFrame, upload, coord_system: str) -> gpd.GeoDataFrame:
    return _append(draft, read_upload(upload, coord_system, existing_ids=redline_ids(redlines) + list(draft[ID_FIELD])))


def apply_draft_edits(draft: gpd.GeoDataFrame, edited: pd.DataFrame) -> gpd.GeoDataFrame:
    """Names and notes typed into the draft table, back onto the draft."""
    out = draft.copy()
    for col in ("name_zh", "name_en", "note"):
        out[col] = edited[col].fillna("").astype(str).to_numpy()
    return out


def history(ws: Workspace):
    return ws.history(rl.LAYER) if rl.LAYER in ws.layers() else ()


def restore(ws: Workspace, version: int, *, author: str, reason: str, expected_parent: int):
    return ws.restore(rl.LAYER, version, author=author, reason=reason, expected_parent=expected_parent)


def draft_table(draft: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame({rl.ID_FIELD: draft[rl.ID_FIELD].to_numpy(), "name_zh": draft["name_zh"].to_numpy(),
                         "name_en": draft["name_en"].to_numpy(), "note": draft["note"].to_numpy(), "area_ha": _area_ha(draft)})


def redline_table(redlines: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """The current red lines (no outline) with their area, headers in the reader's language."""
    heads = {ID_FIELD: "wet.col.redline", "name_zh": "wet.col.name_zh", "name_en": "wet.col.name_en", "note": "wet.col.note"}
    out = pd.DataFrame({t(heads[c], lang): redlines[c].to_numpy() for c in rl.COLUMNS if c in redlines})
    out[t("wet.col.area", lang)] = _area_ha(redlines).round(2)
    return out


def save_redlines(ws: Workspace, current: gpd.GeoDataFrame, draft: gpd.GeoDataFrame, *, remove: list[str], author: str, reason: str,
                  expected_parent: int, study_area: gpd.GeoDataFrame):
    """Save ``current`` minus ``remove`` plus ``draft`` as the next version (refused when another
    officer saved since ``expected_parent``; outlines outside the study area refused)."""
    layer = rl.merge_draft(current, draft, remove_ids=remove)
    return ws.save(rl.LAYER, layer, author=author, reason=reason, id_field=rl.ID_FIELD, expected_parent=expected_parent,
                   within=study_area, source="red-line editor")


def saved_message(res, lang: str) -> str:
    msg = t("wet.save.done", lang, v=res.info.version, n=res.info.feature_count)
    if res.repairs:
        msg += " " + t("wet.save.repaired", lang, ids=", ".join(f"{r.feature_id} ({r.problem})" for r in res.repairs))
    return msg


def history_table(hist, lang: str) -> pd.DataFrame:
    rows = [{t("wet.hist.version", lang): h.version, t("wet.hist.author", lang): h.author,
             t("wet.hist.when", lang): h.saved_at.strftime("%Y-%m-%d %H:%M:%S UTC"), t("wet.hist.reason", lang): h.reason,
             t("wet.hist.features", lang): h.feature_count,
             t("wet.hist.restored_from", lang): h.restored_from if h.restored_from is not None else fmt.DASH,
             "sha256": h.sha256[:12]} for h in reversed(hist)]
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False, max_entries=16)
def _export(ws_path: str, layer: str, version: int, fmt_: str, crs: int) -> tuple[bytes, str]:
    ext = {"gpkg": "gpkg", "geojson": "geojson", "shp.zip": "zip"}[fmt_]
    name = f"{layer}_v{version}_epsg{crs}.{ext}"
    out = Path(ws_path).parent / "exports" / name
    res = Workspace(ws_path).export(layer, out, version=version, fmt=fmt_, crs=crs)
    return res.path.read_bytes(), name


def export_bytes(ws: Workspace, fmt_: str, crs: int, version: int) -> tuple[bytes, str]:
    """The red lines of ``version`` as a file to download (written once per version, format and
    CRS into ``<workspace>/exports``, and recorded in the workspace's export log)."""
    return _export(str(ws.path), rl.LAYER, int(version), fmt_, int(crs))


# ------------------------------------------------------------------------------ inventory


def patch_summary(p: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """Patches and area per district and type."""
    names = dict(zip(zones["zone_id"], zones["name_zh" if lang == "zh" else "name_en"]))
    if p.empty:
        return pd.DataFrame(columns=[t("wet.col.district", lang), t("wet.col.type", lang), t("wet.col.n", lang), t("wet.col.area", lang)])
    g = p.groupby([p["zone_id"].fillna(""), "type"]).agg(n=("patch_id", "size"), area_ha=("area_ha", "sum")).reset_index()
    return pd.DataFrame({
        t("wet.col.district", lang): [names.get(z, t("wet.outside", lang)) for z in g["zone_id"]],
        t("wet.col.type", lang): [type_name(x, lang) for x in g["type"]],
        t("wet.col.n", lang): g["n"].to_numpy(),
        t("wet.col.area", lang): g["area_ha"].round(2).to_numpy(),
    })


def patch_csv(p: gpd.GeoDataFrame) -> bytes:
    """Every patch (no outline; centroid lon/lat), UTF-8 with BOM so Excel reads the Chinese."""
    df = pd.DataFrame(p.drop(columns="geometry"))
    c = p.to_crs(p.estimate_utm_crs()).centroid.to_crs(rl.DRAWN_CRS) if len(p) else gpd.GeoSeries([], crs=rl.DRAWN_CRS)
    df["centroid_lon"] = c.x.round(6).to_numpy()
    df["centroid_lat"] = c.y.round(6).to_numpy()
    return df.to_csv(index=False).encode("utf-8-sig")
