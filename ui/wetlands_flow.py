"""The "Wetlands & red lines" screen's data: patches per date, the red-line workspace, the map.

The numbers come from :func:`sinks.wetland_inventory.wetland_inventory` (the CLI's ``python -m
sinks wetlands``), kept per input fingerprint and red-line version like :mod:`ui.cache` keeps
assessments; the red lines are read from the workspace on every run (a save by another officer
shows up at the next rerun).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geodata.crs import ANALYSIS_CRS
from geodata.errors import DataError
from geodata.store import STORE_CRS_CHOICES, ConflictError, Workspace
from geodata.workspace import open_workspace
from sinks.config import load_config
from sinks.landcover.datasets import workspace_dir
from ui import fmt, leaflet
from ui.cache import KeyedLRU
from ui.i18n import ZH, t
from wetlands import redlines as rl
from sinks.wetland_inventory import WetlandInventory, wetland_inventory
from wetlands.patches import TYPES

__all__ = ["DataError", "ConflictError"]  # what the page catches
WORKSPACE_FILE = "workspace.gpkg"
ID_FIELD = rl.ID_FIELD
REDLINES, SITES = rl.REDLINES, rl.SITES
# what an officer can edit on the page: the wetland layers, and the protection-zone layers the
# "Protection zones" page screens (ecological red lines, ecological-space control areas)
EDIT_LAYERS = {"redlines": REDLINES, "sites": SITES, "eco_redlines": rl.ECO_REDLINES, "eco_space": rl.ECO_SPACE}
WETLAND_TARGETS = ("redlines", "sites")  # the layers the wetland inventory uses (and patches suggest)
EXPORT_CRS = STORE_CRS_CHOICES  # 4490 CGCS2000, 4326 WGS84
WATER_TYPES = ("river", "lake_reservoir", "pond")
VEGETATED_TYPES = ("riverbank", "lakeshore", "marsh")
SIMPLIFY_M = 10.0  # outline simplification for the map (a third of a 30 m pixel)
# patch types: blues for open water, greens for vegetated wetland, orange for paddy
TYPE_HEX = {"river": "#1f78b4", "lake_reservoir": "#41b6c4", "pond": "#a6cee3", "riverbank": "#1b7837",
            "lakeshore": "#5aae61", "marsh": "#a6dba0", "paddy": "#fdae61"}
REDLINE_HEX = "#c0392b"
SITE_HEX = "#00441b"  # named wetland sites: dark green outline
PROTECTION_HEX = "#7b3294"  # an edited protection-zone layer: purple
ALERT_HEX = "#e7298a"  # wetland lost inside a red line: magenta, apart from every type colour
MAX_UPLOAD_BYTES = 20 * 2**20  # red-line layers are small (server.maxUploadSize, a little above, stops larger files)


def workspace() -> Workspace:
    """The officers' workspace: ``<workspace>/workspace.gpkg`` (CGCS2000 when created here)."""
    return open_workspace(default=workspace_dir() / WORKSPACE_FILE)  # DATABASE_URL: PostGIS


def _layers(ws: Workspace) -> tuple[str, ...]:
    return ws.layers()


def load_layer(ws: Workspace, spec: rl.EditLayer = REDLINES) -> tuple[gpd.GeoDataFrame, int]:
    """The latest version of an edited layer in lon/lat and its number (0 = none saved yet)."""
    if spec.layer not in _layers(ws):
        return rl.empty_layer(spec=spec), 0
    gdf = ws.load(spec.layer)
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
    min_area_ha: float


class _Store(KeyedLRU):
    """The last few inventories (one per set of inputs and red-line / site versions), shared by
    all sessions, and the map layers made from them (dropped with their inventory)."""

    def __init__(self, size: int = 4) -> None:
        super().__init__(size, on_evict=self._drop_layers)
        self.layers: dict[tuple[str, int], PatchLayer] = {}

    def _drop_layers(self, key: str) -> None:
        self.layers = {k: v for k, v in self.layers.items() if k[0] != key}


@st.cache_resource(show_spinner=False)
def _store() -> _Store:
    return _Store()


def load_redlines(ws: Workspace) -> tuple[gpd.GeoDataFrame, int]:
    return load_layer(ws, REDLINES)


def inventory_key(cache_key: str, redlines: gpd.GeoDataFrame, sites: gpd.GeoDataFrame | None = None) -> str:
    """Inputs (the assessment's key: config and file fingerprints) + the red-line and site versions."""
    site_sha = sites.attrs.get("store_sha256", "none") if sites is not None else "config"
    return f"{cache_key}|redlines:{redlines.attrs.get('store_sha256', 'none')}|sites:{site_sha}"


def cached_inventory(key: str) -> WetlandInventory | None:
    return _store().get(key)


def load_inventory(config_path: str, key: str, redlines: gpd.GeoDataFrame, sites: gpd.GeoDataFrame | None = None, *,
                   progress=None) -> WetlandInventory:
    """The wetland inventory (patches, sites, change, alerts) of the configuration with these
    red lines and sites (the workspace's saved sites replace the configuration's; none saved:
    the configuration's): :func:`sinks.wetland_inventory.wetland_inventory`, as the CLI calls it."""
    store = _store()
    inv = store.get(key)
    if inv is not None:
        return inv
    with store.key_lock(key):
        inv = store.get(key)
        if inv is None:
            use_sites = sites if sites is not None and len(sites) else None
            inv = wetland_inventory(config_path, redlines=redlines if len(redlines) else None, sites=use_sites,
                                    sites_id_field=SITES.id_field if use_sites is not None else None, progress=progress)
            store.put(key, inv)
    return inv


def patch_layer(inv: WetlandInventory, key: str, year: int) -> PatchLayer:
    """The patches of ``year`` for the map: lon/lat, outlines simplified by :data:`SIMPLIFY_M`."""
    store = _store()
    got = store.layers.get((key, year))
    if got is not None:
        return got
    p = inv.patches[year]
    gdf = p.to_geodataframe()
    if len(gdf):
        gdf["geometry"] = gdf.to_crs(gdf.estimate_utm_crs()).geometry.simplify(SIMPLIFY_M).to_crs(gdf.crs).values
    layer = PatchLayer(gdf=gdf.to_crs(rl.DRAWN_CRS), n_dropped=p.dropped_n, dropped_ha=p.dropped_ha, valid_ha=p.valid_ha, rules=p.rules.describe(),
                       min_area_ha=p.min_area_ha)
    with store.lock:
        store.layers[(key, year)] = layer
    return layer


@st.cache_data(show_spinner=False, max_entries=8)
def _overlay(lc: tuple[str, int, int]) -> leaflet.Overlay:
    return leaflet.landcover_overlay(lc[0])


def overlay(config_path: str, year: int) -> leaflet.Overlay:
    return _overlay(_stat(Path(load_config(config_path).landcover[year])))


def class_label(group: str, lang: str) -> str:
    """A land-cover class group (:data:`sinks.wetland_inventory.CLASS_GROUPS`) in words; a code
    outside the legend stays as ``code_<n>``."""
    key = f"wet.class.{group}"
    return t(key, lang) if key in ZH else str(group)


def type_name(code: str, lang: str) -> str:
    return t(f"wet.type.{code}", lang)


def build_map(*, zones: gpd.GeoDataFrame, patch_layer: PatchLayer, redlines: gpd.GeoDataFrame, lc: leaflet.Overlay | None,
              lang: str, suggestions: gpd.GeoDataFrame | None = None, alerts: gpd.GeoDataFrame | None = None,
              carried: list[dict] | None = None, sites: gpd.GeoDataFrame | None = None,
              protection: gpd.GeoDataFrame | None = None, protection_spec: rl.EditLayer | None = None) -> folium.Map:
    """Land cover (picture), districts, wetland patches by type, red lines, wetland lost inside
    red lines (alerts), suggested patches; ``protection``: a protection-zone layer being edited
    (ecological red lines or control areas, outlined in :data:`PROTECTION_HEX`)."""
    west, south, east, north = zones.total_bounds
    m = leaflet.offline_map((west, south, east, north))
    if lc is not None:
        leaflet.add_overlay(m, lc, name=t("wet.layer.landcover", lang), opacity=0.55, show=False)
    z = zones[["zone_id", "geometry"]].copy()
    z["name"] = zones["name_zh" if lang == "zh" else "name_en"]
    folium.GeoJson(leaflet.geojson(z), name=t("wet.layer.districts", lang),
                   style_function=lambda f: {"color": "#555555", "weight": 1.5, "fill": False, "dashArray": "4 3"},
                   tooltip=folium.GeoJsonTooltip(["name"], labels=False)).add_to(m)
    p = patch_layer.gdf[["patch_id", "type", "area_ha", "zone_id", "geometry"]].copy()
    if len(p):
        p["type_label"] = [type_name(x, lang) for x in p["type"]]
        p["area"] = [fmt.hectares(v, lang) for v in p["area_ha"]]
        p["fill"] = [TYPE_HEX.get(x, "#999999") for x in p["type"]]
        folium.GeoJson(leaflet.geojson(p[["patch_id", "type_label", "area", "fill", "geometry"]]), name=t("wet.layer.patches", lang),
                       style_function=lambda f: {"color": f["properties"]["fill"], "weight": 0.6, "fillColor": f["properties"]["fill"], "fillOpacity": 0.7},
                       tooltip=folium.GeoJsonTooltip(["patch_id", "type_label", "area"],
                                                     aliases=[t("wet.col.patch", lang), t("wet.col.type", lang), t("wet.col.area", lang)])).add_to(m)
    if suggestions is not None and len(suggestions):
        s = suggestions[["patch_id", "area_ha", "geometry"]].copy()
        s["area"] = [fmt.hectares(v, lang) for v in s["area_ha"]]
        folium.GeoJson(leaflet.geojson(s[["patch_id", "area", "geometry"]]), name=t("wet.layer.suggestions", lang),
                       style_function=lambda f: {"color": "#6a3d9a", "weight": 2, "dashArray": "6 4", "fill": False},
                       tooltip=folium.GeoJsonTooltip(["patch_id", "area"], aliases=[t("wet.col.patch", lang), t("wet.col.area", lang)])).add_to(m)
    if sites is not None and len(sites):
        w = sites[[SITES.id_field, "geometry"]].copy()
        w["name"] = [str(v or "") for v in sites.get("name_zh" if lang == "zh" else "name_en", pd.Series([""] * len(w)))]
        folium.GeoJson(leaflet.geojson(w), name=t("wet.layer.sites", lang),
                       style_function=lambda f: {"color": SITE_HEX, "weight": 2, "dashArray": "2 4", "fill": False},
                       tooltip=folium.GeoJsonTooltip([SITES.id_field, "name"], aliases=[t("wet.site.name", lang), t("wet.col.name", lang)])).add_to(m)
    if len(redlines):
        r = redlines[[rl.ID_FIELD, "geometry"]].copy()
        r["name"] = [str(v or "") for v in redlines.get("name_zh" if lang == "zh" else "name_en", pd.Series([""] * len(r)))]
        folium.GeoJson(leaflet.geojson(r), name=t("wet.layer.redlines", lang),
                       style_function=lambda f: {"color": REDLINE_HEX, "weight": 3, "fillColor": REDLINE_HEX, "fillOpacity": 0.08},
                       tooltip=folium.GeoJsonTooltip([rl.ID_FIELD, "name"], aliases=[t("wet.col.redline", lang), t("wet.col.name", lang)])).add_to(m)
    if protection is not None and protection_spec is not None and len(protection):
        e = protection[[protection_spec.id_field, "geometry"]].copy()
        e["name"] = [str(v or "") for v in protection.get("name_zh" if lang == "zh" else "name_en", pd.Series([""] * len(e)))]
        folium.GeoJson(leaflet.geojson(e), name=t(f"wet.edit.{target_of(protection_spec)}", lang),
                       style_function=lambda f: {"color": PROTECTION_HEX, "weight": 2.5, "fillColor": PROTECTION_HEX, "fillOpacity": 0.06},
                       tooltip=folium.GeoJsonTooltip([protection_spec.id_field, "name"],
                                                     aliases=[t("wet.col.id", lang), t("wet.col.name", lang)])).add_to(m)
    if carried:
        folium.GeoJson({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": f.get("geometry")}
                                                                  for f in carried if f and f.get("geometry")]},
                       name=t("wet.layer.carried", lang),
                       style_function=lambda f: {"color": REDLINE_HEX, "weight": 2, "dashArray": "5 5", "fillOpacity": 0.05}).add_to(m)
    if alerts is not None and len(alerts):
        al = alerts[["redline_id", "destination", "area_ha", "geometry"]].copy()
        al["became"] = [class_label(d, lang) for d in al["destination"]]
        al["area"] = [fmt.hectares(v, lang) for v in al["area_ha"]]
        folium.GeoJson(leaflet.geojson(al[["redline_id", "became", "area", "geometry"]]), name=t("wet.layer.alerts", lang),
                       style_function=lambda f: {"color": ALERT_HEX, "weight": 1.5, "fillColor": ALERT_HEX, "fillOpacity": 0.85},
                       tooltip=folium.GeoJsonTooltip(["redline_id", "became", "area"],
                                                     aliases=[t("wet.col.redline", lang), t("wet.alert.became", lang), t("wet.col.area", lang)])).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def target_of(spec: rl.EditLayer) -> str:
    """The page's name (a key of :data:`EDIT_LAYERS`) of an edited layer."""
    return next(k for k, v in EDIT_LAYERS.items() if v == spec)


def legend_html(lang: str) -> str:
    """Swatches for the patch types and the red line (drawn under the map)."""
    items = [(TYPE_HEX[c], type_name(c, lang), "fill") for c in TYPES if c in TYPE_HEX]
    items.append((REDLINE_HEX, t("wet.layer.redlines", lang), "line"))
    items.append((SITE_HEX, t("wet.layer.sites", lang), "line"))
    items.append((ALERT_HEX, t("wet.layer.alerts", lang), "fill"))
    cells = []
    for colour, label, kind in items:
        box = (f"background:{colour};opacity:.8" if kind == "fill" else f"border:3px solid {colour}")
        cells.append(f"<span style='display:inline-flex;align-items:center;margin-right:14px'>"
                     f"<span style='display:inline-block;width:14px;height:14px;{box};margin-right:5px'></span>{label}</span>")
    return "<div style='font-size:0.85rem;line-height:1.9'>" + "".join(cells) + "</div>"


# ------------------------------------------------------------------------------ red-line edits


def read_upload(upload, coord_system: str, *, existing_ids: list[str], spec: rl.EditLayer = REDLINES) -> gpd.GeoDataFrame:
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
    ids = rl.next_ids(existing_ids, len(gdf), spec.prefix)
    names = {c: gdf[c].fillna("").astype(str) if c in gdf else pd.Series([""] * len(gdf)) for c in ("name_zh", "name_en")}
    out = gpd.GeoDataFrame({spec.id_field: ids, "name_zh": names["name_zh"].to_numpy(), "name_en": names["name_en"].to_numpy(),
                            "note": [f"上传自 / uploaded from {name}" + (f" ({system.value} → WGS84)" if system is not CoordSystem.WGS84 else "")] * len(gdf)},
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
    """Area of the union (overlaps counted once), ha."""
    if gdf.empty:
        return 0.0
    return float(shapely.area(shapely.union_all(gdf.to_crs(ANALYSIS_CRS).geometry.values)) / 1e4)


def ids_ever(ws: Workspace, spec: rl.EditLayer = REDLINES) -> list[str]:
    """Every id any version of the layer ever held: new ids never reuse a removed one, so an id
    means one outline across the whole history."""
    hist = history(ws, spec)
    if not hist:
        return []
    return list(_ids_ever(ws, ws.identity, spec.layer, spec.id_field, hist[-1].version, hist[-1].sha256))


@st.cache_data(show_spinner=False, max_entries=8)
def _ids_ever(_ws: Workspace, identity: str, layer: str, id_field: str, latest: int, sha: str) -> tuple[str, ...]:
    ws = _ws  # keyed by the workspace's identity (the object itself is not hashed)
    seen: dict[str, None] = {}
    for v in range(1, latest + 1):
        for i in ws.load(layer, v, verify=False)[id_field].astype(str):
            seen.setdefault(i, None)
    return tuple(seen)


NAME_COLUMNS = ("name_zh", "name_en", "note")


def apply_names(gdf: gpd.GeoDataFrame, names: dict[str, dict[str, str]], spec: rl.EditLayer = REDLINES) -> gpd.GeoDataFrame:
    """Names and notes typed into the table (kept by id across reruns) put onto ``gdf``; a name
    typed empty stays empty."""
    if gdf.empty or not names:
        return gdf
    out = gdf.copy()
    for col in NAME_COLUMNS:
        old = out[col] if col in out else pd.Series([""] * len(out), index=out.index)
        out[col] = [names[i][col] if i in names and col in names[i] else v for i, v in zip(out[spec.id_field].astype(str), old)]
    return out


def renamed_ids(current: gpd.GeoDataFrame, names: dict[str, dict[str, str]], spec: rl.EditLayer = REDLINES) -> list[str]:
    """Ids of saved features whose name or note was changed in the table."""
    out = []
    for _, r in current.iterrows():
        typed = names.get(str(r[spec.id_field]))
        if typed and any(typed.get(c, "") != ("" if pd.isna(r.get(c)) else str(r.get(c, ""))) for c in NAME_COLUMNS):
            out.append(str(r[spec.id_field]))
    return out


def feature_ids(gdf: gpd.GeoDataFrame, spec: rl.EditLayer = REDLINES) -> list[str]:
    return [str(v) for v in gdf[spec.id_field]] if len(gdf) else []


def redline_ids(redlines: gpd.GeoDataFrame) -> list[str]:
    return feature_ids(redlines, REDLINES)


def suggestions(p: gpd.GeoDataFrame, covered_by: gpd.GeoDataFrame, min_ha: float) -> gpd.GeoDataFrame:
    return rl.suggest_from_patches(p, covered_by, min_area_ha=min_ha)


def suggestion_labels(suggest: gpd.GeoDataFrame, lang: str) -> dict[int, str]:
    return {int(r.patch_id): f"#{r.patch_id} · {type_name(r.type, lang)} · {fmt.hectares(r.area_ha, lang)}" for r in suggest.itertuples()}


# A draft is a dict of items kept in the session, one per new outline, keyed by where it came
# from ("draw:<map>:<hash>", "patch:<id>", "upload:<file>:<n>"). Each item gets its id once, so
# names typed for it stay with it whatever is added or removed around it.


def _geom_key(geometry: dict) -> str:
    return hashlib.sha1(json.dumps(geometry, sort_keys=True).encode()).hexdigest()[:16]


def sync_drawings(items: dict, map_key: str, features: list[dict] | None) -> None:
    """Make the items drawn on map ``map_key`` equal to what that map reports (drawn, edited or
    deleted there); drawings of other maps (another year, language or an earlier version) stay."""
    now = {f"draw:{map_key}:{_geom_key(g)}": g for g in rl.polygon_geometries(features)}
    for k in [k for k in items if k.startswith(f"draw:{map_key}:") and k not in now]:
        del items[k]
    for k, geom in now.items():
        items.setdefault(k, {"geometry": geom, "name_zh": "", "name_en": "", "note": ""})


def carried_drawings(items: dict, map_key: str) -> list[dict]:
    """Drawings made on another map than ``map_key`` (drawn dashed, not editable there)."""
    return [{"type": "Feature", "properties": {}, "geometry": v["geometry"]}
            for k, v in items.items() if k.startswith("draw:") and not k.startswith(f"draw:{map_key}:")]


def add_patch_items(items: dict, suggest: gpd.GeoDataFrame, patch_ids) -> None:
    chosen = suggest[suggest["patch_id"].isin(list(patch_ids))].to_crs(rl.DRAWN_CRS)
    for pid, geom in zip(chosen["patch_id"], chosen.geometry):
        items.setdefault(f"patch:{pid}", {"geometry": json.loads(shapely.to_geojson(geom)), "name_zh": "", "name_en": "",
                                          "note": f"湿地斑块 #{pid} 的轮廓 / outline of wetland patch #{pid}"})


def add_upload_items(items: dict, upload, coord_system: str, spec: rl.EditLayer = REDLINES) -> int:
    """The features of an uploaded file as items (once per file); returns how many it holds."""
    tag = f"upload:{getattr(upload, 'file_id', None) or getattr(upload, 'name', 'upload')}:{coord_system}:"
    if any(k.startswith(tag) for k in items):
        return sum(k.startswith(tag) for k in items)
    up = read_upload(upload, coord_system, existing_ids=[], spec=spec)
    for n, (_, r) in enumerate(up.iterrows()):
        items[f"{tag}{n}"] = {"geometry": json.loads(shapely.to_geojson(r.geometry)), "name_zh": r["name_zh"],
                              "name_en": r["name_en"], "note": r["note"]}
    return len(up)


def draft_frame(items: dict, known: list[str], spec: rl.EditLayer = REDLINES, *, drop: set[str] = frozenset()) -> gpd.GeoDataFrame:
    """The items as a layer draft; items without an id get the next free ones (after every id
    the layer ever had and every id already handed out), once. ``drop``: ids left out."""
    taken = list(known) + [v["id"] for v in items.values() if "id" in v]
    fresh = iter(rl.next_ids(taken, sum("id" not in v for v in items.values()), spec.prefix))
    for v in items.values():
        if "id" not in v:
            v["id"] = next(fresh)
    rows = [v for v in items.values() if v["id"] not in drop]
    if not rows:
        return rl.empty_layer(spec=spec)
    return gpd.GeoDataFrame({spec.id_field: [v["id"] for v in rows], **{c: [v.get(c, "") for v in rows] for c in NAME_COLUMNS}},
                            geometry=[shapely.geometry.shape(v["geometry"]) for v in rows], crs=rl.DRAWN_CRS)


def history(ws: Workspace, spec: rl.EditLayer = REDLINES):
    return ws.history(spec.layer) if spec.layer in _layers(ws) else ()


def restore(ws: Workspace, version: int, *, by, reason: str, expected_parent: int, spec: rl.EditLayer = REDLINES):
    """Restore ``version`` as the next version, as the officer of session ``by``."""
    return ws.restore(spec.layer, version, author=editor(by), reason=reason, expected_parent=expected_parent)


def edit_table(current: gpd.GeoDataFrame, draft: gpd.GeoDataFrame, spec: rl.EditLayer = REDLINES,
               names: dict | None = None, delete: set[str] = frozenset()) -> pd.DataFrame:
    """The rows an officer names or deletes: the layer's features, then the new ones (``new``
    ticked), with ``names`` (typed changes, by id) applied and ``delete`` ticked."""
    rows = []
    for gdf, new in ((current, False), (draft, True)):
        if len(gdf):
            g = apply_names(gdf, names or {}, spec)
            ids = g[spec.id_field].astype(str).to_numpy()
            rows.append(pd.DataFrame({spec.id_field: ids,
                                      **{c: (g[c] if c in g else pd.Series([""] * len(g))).fillna("").astype(str).to_numpy()
                                         for c in NAME_COLUMNS},
                                      "area_ha": _area_ha(g).round(2), "new": new, "delete": [i in delete for i in ids]}))
    cols = [spec.id_field, *NAME_COLUMNS, "area_ha", "new", "delete"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def table_edits(base: pd.DataFrame, edited: pd.DataFrame, spec: rl.EditLayer = REDLINES) -> tuple[dict[str, dict[str, str]], set[str]]:
    """What the officer changed in the table: names / notes that differ from ``base`` (the table
    without their changes), by id and column, and the ids ticked for deletion."""
    changed: dict[str, dict[str, str]] = {}
    b = base.set_index(spec.id_field)
    for _, r in edited.iterrows():
        i = str(r[spec.id_field])
        for c in NAME_COLUMNS:
            v = "" if pd.isna(r[c]) else str(r[c])
            if i in b.index and v != str(b.at[i, c]):
                changed.setdefault(i, {})[c] = v
    return changed, {str(i) for i, d in zip(edited[spec.id_field], edited["delete"]) if bool(d)}


def layer_table(gdf: gpd.GeoDataFrame, lang: str, spec: rl.EditLayer = REDLINES) -> pd.DataFrame:
    """The layer's features (no outline) with their area, headers in the reader's language."""
    heads = {spec.id_field: "wet.col.id", "name_zh": "wet.col.name_zh", "name_en": "wet.col.name_en", "note": "wet.col.note"}
    out = pd.DataFrame({t(heads[c], lang): gdf[c].to_numpy() for c in spec.columns if c in gdf})
    out[t("wet.col.area", lang)] = _area_ha(gdf).round(2)
    return out


def clip_to_study_area(gdf: gpd.GeoDataFrame, study_area: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """``gdf`` cut to the study area, in the analysis CRS (EPSG:32650, metres: where the store
    checks containment; cutting in lon/lat leaves slivers of a few m2 outside once projected).
    Returns the clipped layer (features wholly outside dropped) and the ids of the changed ones."""
    if gdf.empty:
        return gdf, []
    metric = gdf.to_crs(ANALYSIS_CRS)
    area = shapely.union_all(study_area.to_crs(ANALYSIS_CRS).geometry.values)
    before = metric.geometry.values
    after = shapely.intersection(before, area)
    changed = np.abs(shapely.area(after) - shapely.area(before)) > 1.0
    ids = metric.iloc[:, 0].astype(str).to_numpy()
    out = metric.assign(geometry=after)
    out = out[~out.geometry.is_empty & (shapely.area(out.geometry.values) > 0)]
    return out.to_crs(gdf.crs), [str(i) for i in ids[changed]]


def editor(by) -> str:
    """The username of ``by`` when it may edit (a live officer or admin session,
    :class:`sinks.accounts.Session`); anything else is refused. The pages hide the tools from the
    public as well; this check makes a page that forgot to still unable to write."""
    if by is None or not getattr(by, "can_edit", False) or not getattr(by, "username", ""):
        raise DataError("<session>", "saving, restoring and exporting need an officer login", "log in as an officer (sidebar)")
    return str(by.username)


def save_edits(ws: Workspace, current: gpd.GeoDataFrame, draft: gpd.GeoDataFrame, *, remove: list[str], by, reason: str,
               expected_parent: int, study_area: gpd.GeoDataFrame, clip: bool = False, names: dict | None = None,
               spec: rl.EditLayer = REDLINES):
    """Save ``current`` (renamed by ``names``) minus ``remove`` plus ``draft`` as the next version
    of ``spec``'s layer (refused when another officer saved since ``expected_parent``). With
    ``clip`` the new outlines are first cut to the study area (``clipped`` lists them); without,
    outlines reaching outside are refused.

    Returns ``(SaveResult, clipped ids)``. ``by``: the officer's session (:func:`editor`)."""
    author = editor(by)
    clipped: list[str] = []
    if clip and len(draft):
        cut, clipped = clip_to_study_area(draft, study_area)
        gone = sorted(set(feature_ids(draft, spec)) - set(feature_ids(cut, spec)))
        if gone:
            raise DataError(f"{spec.layer} editor", f"{gone} lie wholly outside the study area", "draw them inside the districts of this assessment")
        draft = cut
    if names:
        current, draft = apply_names(current, names, spec), apply_names(draft, names, spec)
    layer = rl.merge_draft(current, draft, remove_ids=remove, spec=spec)
    res = ws.save(spec.layer, layer, author=author, reason=reason, id_field=spec.id_field, expected_parent=expected_parent,
                  within=study_area, source=f"{spec.layer} editor")
    return res, clipped


def save_redlines(ws: Workspace, current: gpd.GeoDataFrame, draft: gpd.GeoDataFrame, **kwargs):
    return save_edits(ws, current, draft, spec=REDLINES, **kwargs)


def saved_message(res, lang: str, clipped: list[str] | None = None, target: str = "redlines") -> str:
    msg = t(f"wet.save.done_{target}", lang, v=res.info.version, n=res.info.feature_count)
    if clipped:
        msg += " " + t("wet.save.clipped", lang, ids=", ".join(clipped))
    if res.repairs:
        # GEOS states the problem in English: shown in the English view only
        ids = ", ".join(r.feature_id if lang == "zh" else f"{r.feature_id} ({r.problem})" for r in res.repairs)
        msg += " " + t("wet.save.repaired", lang, ids=ids)
    return msg


def history_table(hist, lang: str, *, authors: bool = False) -> pd.DataFrame:
    """The versions, newest first. Login names only with ``authors`` (officers): the public sees
    "officer" (a login name is half of a login, and a target for locking an account out)."""
    def who(author: str) -> str:
        return author if authors or author == "demo" else t("auth.role.officer", lang)

    rows = [{t("wet.hist.version", lang): h.version, t("wet.hist.author", lang): who(h.author),
             t("wet.hist.when", lang): h.saved_at.strftime("%Y-%m-%d %H:%M:%S UTC"), t("wet.hist.reason", lang): h.reason,
             t("wet.hist.features", lang): h.feature_count,
             t("wet.hist.restored_from", lang): str(h.restored_from) if h.restored_from is not None else fmt.DASH,
             t("wet.hist.sha", lang): h.sha256[:12]} for h in reversed(hist)]
    return pd.DataFrame(rows)


def _export(ws: Workspace, layer: str, version: int, fmt_: str, crs: int) -> tuple[bytes, str]:
    ext = {"gpkg": "gpkg", "geojson": "geojson", "shp.zip": "zip"}[fmt_]
    name = f"{layer}_v{version}_epsg{crs}.{ext}"
    out = workspace_dir() / "exports" / name  # beside the workspace file (or the server's local folder for PostGIS)
    res = ws.export(layer, out, version=version, fmt=fmt_, crs=crs)
    return res.path.read_bytes(), name


def export_bytes(ws: Workspace, fmt_: str, crs: int, version: int, spec: rl.EditLayer = REDLINES, *, by) -> tuple[bytes, str]:
    """A version of the layer as a file to download (written into ``<workspace>/exports`` and
    recorded in the workspace's export log at each request; an unchanged earlier export of the
    same name is replaced). An officer action: ``by`` is their session (:func:`editor`)."""
    editor(by)
    return _export(ws, spec.layer, int(version), fmt_, int(crs))


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


# ------------------------------------------------------------------------------ sites, change, alerts


def seed_demo_layers(ws: Workspace, config_path: str) -> list[str]:
    """For an illustrative configuration only: a layer never saved yet starts as version 1 (author
    ``demo``) so the public demo has something to show: the wetland sites and the same outlines as
    wetland red lines (from ``[wetlands]``), the ecological red lines and control areas (from
    ``[protection]``). Real areas start empty. Returns the seeded layers."""
    cfg = load_config(config_path)
    if not cfg.illustrative:
        return []
    from sinks.pipeline import config_zones

    have = set(_layers(ws))
    sources = []
    if SITES.layer not in have or REDLINES.layer not in have:
        from sinks.wetland_inventory import config_sites

        sites = config_sites(cfg)
        if sites is not None and not sites.gdf.empty:
            for spec in (SITES, REDLINES):
                if spec.layer not in have:
                    sources.append((spec, sites, "the demo's wetland site outline"))
    p = cfg.protection
    if p is not None and (rl.ECO_REDLINES.layer not in have or rl.ECO_SPACE.layer not in have):
        from sinks.protection import config_layers

        eco, space = config_layers(cfg)
        for spec, zl, what in ((rl.ECO_REDLINES, eco, "the demo's illustrative red-line site"),
                               (rl.ECO_SPACE, space, "the demo's illustrative control area")):
            if zl is not None and spec.layer not in have and not zl.gdf.empty:
                sources.append((spec, zl, what))
    if not sources:
        return []
    study = config_zones(cfg).gdf
    done = []
    for spec, zl, what in sources:
        g, _ = clip_to_study_area(zl.gdf, study)
        g = g.to_crs(rl.DRAWN_CRS)
        seed = gpd.GeoDataFrame({spec.id_field: g[zl.id_field].astype(str).to_numpy(),
                                 "name_zh": g["name_zh"].to_numpy() if "name_zh" in g else "",
                                 "name_en": g["name_en"].to_numpy() if "name_en" in g else "",
                                 "note": f"illustrative: {what} clipped to the districts, not official"},
                                geometry=g.geometry.values, crs=rl.DRAWN_CRS)
        try:
            ws.save(spec.layer, seed, author="demo", reason=f"illustrative, seeded from {what}s (not official)",
                    id_field=spec.id_field, expected_parent=0, source=str(config_path))
            done.append(spec.layer)
        except ConflictError:
            pass  # another session seeded it first
    return done


def period_for(inv: WetlandInventory, year: int) -> str | None:
    """The change period ending at ``year`` (else the first one starting there)."""
    for p in inv.periods:
        if p.endswith(f"-{year}"):
            return p
    return next((p for p in inv.periods if p.startswith(f"{year}-")), None)


def _names(ids, df: pd.DataFrame, lang: str) -> list[str]:
    """The reader's-language name of each row, else its id."""
    col = "name_zh" if lang == "zh" else "name_en"
    names = df[col] if col in df else [None] * len(df)
    return [str(n) if isinstance(n, str) and n.strip() else str(i) for n, i in zip(names, ids)]


def sites_table(inv: WetlandInventory, year: int, lang: str) -> pd.DataFrame:
    """Per named site at ``year``: wetland, stock, removals (with the area they leave out),
    change since the previous date, share inside the red lines."""
    s = inv.sites[inv.sites["year"] == year]
    return pd.DataFrame({
        t("wet.site.name", lang): _names(s["site_id"], s, lang),
        t("wet.site.wetland", lang): s["wetland_ha"].round(2).to_numpy(),
        t("wet.site.vegetated", lang): s["vegetated_wetland_ha"].round(2).to_numpy(),
        t("wet.site.water", lang): s["water_ha"].round(2).to_numpy(),
        t("wet.site.change", lang): s["wetland_change_ha"].round(2).to_numpy(),
        t("wet.site.stock", lang): s["stock_tc"].round(0).to_numpy(),
        t("wet.site.removals", lang): s["net_removals_tco2e_yr"].round(1).to_numpy(),
        t("wet.site.unestimated", lang): s["unestimated_area_ha"].round(2).to_numpy(),
        t("wet.site.protected", lang): (s["protected_share"] * 100).round(1).to_numpy(),
    })


SCOPES = ("study", "inside_redlines", "outside_redlines")


def change_table(inv: WetlandInventory, period: str, lang: str) -> pd.DataFrame:
    """Wetland (water + vegetated) at both dates, lost, gained and net, for the study area,
    inside and outside the red lines, and each red line."""
    s = inv.change_summary[inv.change_summary["period"] == period]
    names = dict(zip(inv.redlines[ID_FIELD], _names(inv.redlines[ID_FIELD], inv.redlines, lang))) if inv.redlines is not None else {}
    where = [t(f"wet.scope.{sc}", lang) if sc != "redline" else names.get(r, str(r)) for sc, r in zip(s["scope"], s["redline_id"])]
    return pd.DataFrame({
        t("wet.chg.where", lang): where,
        t("wet.chg.t0", lang, year=period.split("-")[0]): s["wetland_t0_ha"].round(2).to_numpy(),
        t("wet.chg.t1", lang, year=period.split("-")[1]): s["wetland_t1_ha"].round(2).to_numpy(),
        t("wet.chg.lost", lang): s["lost_ha"].round(2).to_numpy(),
        t("wet.chg.gained", lang): s["gained_ha"].round(2).to_numpy(),
        t("wet.chg.net", lang): s["net_change_ha"].round(2).to_numpy(),
        t("wet.chg.became_water", lang): s["became_water_ha"].round(2).to_numpy(),
    })


def destination_frame(inv: WetlandInventory, period: str, lang: str) -> pd.DataFrame:
    """Wetland lost by what it became, inside and outside the red lines (the whole study area
    when there are none): where, became (headers in the reader's language), ``area_ha``."""
    c = inv.change[(inv.change["period"] == period) & (inv.change["flow"] == "lost")]
    scopes = ["inside_redlines", "outside_redlines"] if (c["scope"] == "inside_redlines").any() or inv.redlines is not None else ["study"]
    c = c[c["scope"].isin(scopes)]
    return pd.DataFrame({t("wet.chg.where", lang): [t(f"wet.scope.{s}", lang) for s in c["scope"]],
                         t("wet.chg.became_axis", lang): [class_label(k, lang) for k in c["other_class"]],
                         "area_ha": c["area_ha"].to_numpy()})


def alerts_table(inv: WetlandInventory, period: str, lang: str) -> pd.DataFrame:
    a = inv.alerts[inv.alerts["period"] == period]
    return pd.DataFrame({
        t("wet.col.redline", lang): a["redline_id"].to_numpy(),
        t("wet.col.name", lang): _names(a["redline_id"], a, lang),
        t("wet.alert.lost", lang): a["lost_ha"].round(2).to_numpy(),
        t("wet.alert.share", lang): (a["lost_share"] * 100).round(1).to_numpy(),
        t("wet.alert.became", lang): [class_label(k, lang) for k in a["main_destination"]],
    })


def alert_outlines(inv: WetlandInventory, period: str | None) -> gpd.GeoDataFrame | None:
    if period is None or inv.alert_polygons is None or inv.alert_polygons.empty:
        return None
    g = inv.alert_polygons[inv.alert_polygons["period"] == period]
    return g if len(g) else None
