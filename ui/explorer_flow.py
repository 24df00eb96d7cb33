"""The sink explorer's logic (page ``app_pages/explorer.py``): areas to pick, the card of any area,
cached per geometry, the pick map, the card's words, CSV and pictures.

Cards come from :func:`sinks.explorer.card.area_card`, the same engine as every other page; this
module only caches them (one card per configuration fingerprint, protection-zone version and
geometry hash: two readers of one street, or one link opened twice, compute it once) and puts
them into words.
"""
from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry

from geodata.errors import DataError
from geodata.points import safe_for_csv
from sinks.config import load_config
from sinks.explorer import card as core
from sinks.notes import Note
from ui import fmt, leaflet
from ui.cache import KeyedLRU
from ui.i18n import lc_name, pool_name, t

KINDS = ("district", "unit", "site", "redline")
#: Okabe & Ito (2008) colours for the outlines of each kind of area (readable with colour-blindness)
KIND_HEX = {"district": "#000000", "unit": "#0072B2", "site": "#009E73", "redline": "#D55E00"}
SELECTED_HEX = "#CC79A7"
MAX_UPLOAD_BYTES = 20 * 2**20
MAP_WIDTH_PX = 900  # the pick map's width: outlines are simplified to about half a screen pixel


@st.cache_resource(show_spinner=False)
def _cards() -> KeyedLRU:
    return KeyedLRU(32)


@st.cache_resource(show_spinner=False)
def _peers() -> KeyedLRU:
    return KeyedLRU(8)


def inputs_key(config_path: str) -> str:
    """Everything a card reads: the configuration's files, the greening inputs (units, parks, bands,
    roles), the sites and red lines, and the equivalents table."""
    from sinks.explorer.equivalents import DEFAULT_PATH
    from ui.cache import file_stat
    from ui.greening_flow import config_key

    parts = [config_key(config_path), file_stat(DEFAULT_PATH)]
    try:
        cfg = load_config(config_path)
        parts.append(file_stat(cfg.wetlands.sites) if cfg.wetlands is not None else None)
    except (ValueError, AttributeError):
        pass
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def kind_name(kind: str, lang: str) -> str:
    return t(f"exp.kind.{kind}", lang)


def areas(config_path: str) -> dict[str, gpd.GeoDataFrame]:
    """The listed areas per kind (lon/lat; id, name_zh, name_en, geometry)."""
    key = f"areas|{inputs_key(config_path)}"
    return _peers().get_or_compute(key, lambda: core.peer_sets(load_config(config_path)))


def area_label(kind: str, row, lang: str) -> str:
    name = str(row["name_zh" if lang == "zh" else "name_en"] or row["id"])
    return f"{kind_name(kind, lang)} · {name}"


def area_options(sets: dict[str, gpd.GeoDataFrame], lang: str) -> dict[str, str]:
    """``"kind:id" -> label`` for the find-by-name box, districts first."""
    out: dict[str, str] = {}
    for kind in KINDS:
        gdf = sets.get(kind)
        if gdf is None:
            continue
        for _, row in gdf.sort_values("id").iterrows():
            out[f"{kind}:{row['id']}"] = area_label(kind, row, lang)
    return out


def feature_at(sets: dict[str, gpd.GeoDataFrame], kind: str, lon: float, lat: float) -> str | None:
    """The id of the ``kind`` area holding the clicked point (the smallest when they overlap)."""
    gdf = sets.get(kind)
    if gdf is None or not len(gdf):
        return None
    hit = gdf[gdf.geometry.contains(Point(lon, lat))]
    if not len(hit):
        return None
    return str(hit.iloc[int(np.argmin(hit.geometry.to_crs("EPSG:6933").area.to_numpy()))]["id"])  # equal-area


@dataclass(frozen=True)
class ViewFeatures:
    """Outlines sent to the browser for one view, with what was left out."""

    gdf: gpd.GeoDataFrame
    n_total: int
    n_sent: int
    vertices_total: int
    vertices_sent: int
    tolerance_m: float


def _vertices(geoms) -> int:
    import shapely

    return int(shapely.get_num_coordinates(np.asarray(geoms)).sum()) if len(geoms) else 0


def view_features(gdf: gpd.GeoDataFrame, view_bounds: tuple[float, float, float, float], *, width_px: int = MAP_WIDTH_PX) -> ViewFeatures:
    """Only the areas that touch the view, simplified to about half a screen pixel at the zoom
    that fits it (so a street's outline is light when the whole New Area is in view and exact
    when the map zooms to it)."""
    west, south, east, north = view_bounds
    lat = (south + north) / 2
    m_per_px = (east - west) * 111_320 * math.cos(math.radians(lat)) / max(width_px, 1)
    tol = max(leaflet.SIMPLIFY_M, 0.5 * m_per_px)
    inside = gdf[gdf.geometry.intersects(box(*view_bounds))]
    out = leaflet.map_outlines(inside, simplify_m=tol)
    return ViewFeatures(out, len(gdf), len(inside), _vertices(gdf.geometry.values), _vertices(out.geometry.values), tol)


def padded_bounds(geom: BaseGeometry, *, factor: float = 1.6, min_deg: float = 0.01) -> tuple[float, float, float, float]:
    west, south, east, north = geom.bounds
    cx, cy = (west + east) / 2, (south + north) / 2
    hw, hh = max((east - west) * factor / 2, min_deg), max((north - south) * factor / 2, min_deg)
    return cx - hw, cy - hh, cx + hw, cy + hh


def pick_map(sets: dict[str, gpd.GeoDataFrame], *, shown: list[str], selected: BaseGeometry | None,
             view_bounds: tuple[float, float, float, float], lang: str, overlay: leaflet.Overlay | None = None,
             drawing: bool = True) -> tuple[folium.Map, dict[str, ViewFeatures]]:
    """The map to pick an area on: the listed areas of ``shown`` kinds (tooltips: kind and name),
    the selected area, the land cover underneath, Leaflet.draw to draw a new one."""
    m = leaflet.offline_map(view_bounds)
    if overlay is not None:
        leaflet.add_overlay(m, overlay, name=t("exp.layer.landcover", lang), opacity=0.5, show=True)
    sent: dict[str, ViewFeatures] = {}
    for kind in KINDS:
        gdf = sets.get(kind)
        if gdf is None or kind not in shown:
            continue
        vf = view_features(gdf, view_bounds)
        sent[kind] = vf
        if not len(vf.gdf):
            continue
        g = vf.gdf[["id", "geometry"]].copy()
        g["name"] = vf.gdf["name_zh" if lang == "zh" else "name_en"].fillna(vf.gdf["id"]).astype(str)
        g["kind"] = kind_name(kind, lang)
        colour = KIND_HEX[kind]
        folium.GeoJson(leaflet.geojson(g), name=kind_name(kind, lang),
                       style_function=lambda f, c=colour: {"color": c, "weight": 2 if c != "#000000" else 2.5,
                                                           "fillColor": c, "fillOpacity": 0.04},
                       highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.15},
                       tooltip=folium.GeoJsonTooltip(["kind", "name"], labels=False)).add_to(m)
    if selected is not None:
        folium.GeoJson({"type": "Feature", "properties": {"name": t("exp.selected", lang)}, "geometry": selected.__geo_interface__},
                       name=t("exp.selected", lang),
                       style_function=lambda f: {"color": SELECTED_HEX, "weight": 4, "fillColor": SELECTED_HEX, "fillOpacity": 0.12},
                       tooltip=folium.GeoJsonTooltip(["name"], labels=False), interactive=False).add_to(m)
    if drawing:
        leaflet.add_draw_control(m, lang)
    folium.LayerControl(collapsed=True).add_to(m)
    return m, sent


def legend_html(shown: list[str], lang: str) -> str:
    rows = "".join(f'<div><span style="display:inline-block;width:18px;height:0;border-top:3px solid {KIND_HEX[k]};'
                   f'margin-right:6px;vertical-align:middle"></span>{kind_name(k, lang)}</div>' for k in shown)
    rows += (f'<div><span style="display:inline-block;width:18px;height:10px;border:3px solid {SELECTED_HEX};'
             f'margin-right:6px;vertical-align:middle"></span>{t("exp.selected", lang)}</div>')
    return f'<div style="font-size:0.85rem;line-height:1.6">{rows}</div>'


def drawn_geometry(features: list[dict] | None) -> BaseGeometry | None:
    """The last polygon drawn on the map (lon/lat), or None."""
    for f in reversed(features or []):
        geom = (f or {}).get("geometry") or {}
        if geom.get("type") in ("Polygon", "MultiPolygon"):
            try:
                return shape(geom)
            except (ValueError, TypeError, AttributeError):
                return None
    return None


def read_area_upload(data: bytes, name: str, coord_system: str) -> tuple[BaseGeometry, tuple[Note, ...]]:
    """An uploaded area (GeoJSON, zipped shapefile, GeoPackage; read from memory): one layer, its
    polygons merged into one area, GCJ-02 / BD-09 converted when the reader says so."""
    from geodata.crs import CoordSystem, check_lonlat_bounds, require_crs, to_wgs84_geometries
    from geodata.vectors import read_vector, vector_layers

    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(name, f"the file is {len(data) / 2**20:.1f} MiB (limit {MAX_UPLOAD_BYTES / 2**20:.0f} MiB)",
                        "upload only the area's outline (simplify or clip it first)")
    layers = vector_layers(data, name=name)
    if len(layers) > 1:
        raise DataError(name, f"the file has {len(layers)} layers ({', '.join(layers[:8])}{' ...' if len(layers) > 8 else ''})",
                        "export the one layer that holds the area (e.g. as GeoJSON) and upload that")
    gdf = read_vector(data, name=name)
    if gdf.empty:
        raise DataError(name, "the layer has no features", "upload a layer with the area's polygon")
    crs = require_crs(gdf.crs, name)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    kinds = set(gdf.geom_type)
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        raise DataError(name, f"an area must be a polygon; the layer has {', '.join(sorted(kinds)) or 'no geometry'}",
                        "upload the polygon layer (a park, a street, a site)")
    system = CoordSystem(coord_system)
    if crs.is_geographic:
        check_lonlat_bounds(tuple(gdf.total_bounds), name)
    if system is not CoordSystem.WGS84:
        if not crs.is_geographic:
            raise DataError(name, f"{system.value} was chosen but the layer is in a projected CRS ({crs.name})",
                            "GCJ-02 / BD-09 are lon/lat offsets: choose WGS84/CGCS2000 for projected layers")
        geoms = gpd.GeoSeries(to_wgs84_geometries(np.asarray(gdf.geometry.values), system), crs="EPSG:4326")
    else:
        geoms = gdf.geometry.to_crs("EPSG:4326")
    notes = []
    import shapely

    invalid = int((~shapely.is_valid(geoms.to_numpy())).sum())
    if invalid:
        notes.append(Note("repaired_upload", f"{invalid} invalid polygon(s) in {name} were repaired (polygon parts kept): "
                          "check the repaired shape is what was meant", n=invalid, file=name))
    if len(geoms) > 1:
        notes.append(Note("merged", f"the {len(geoms)} polygons of {name} were merged into one area", n=len(geoms), file=name))
    if system is not CoordSystem.WGS84:
        notes.append(Note("converted", f"{name}: {system.value} coordinates converted to WGS84", file=name, system=system.value))
    return shapely.union_all(shapely.make_valid(geoms.to_numpy())), tuple(notes)


def peer_table(config_path: str, kind: str, layers, *, progress=None) -> pd.DataFrame:
    key = f"peers|{inputs_key(config_path)}|{kind}"
    return _peers().get_or_compute(key, lambda: core.peer_table(load_config(config_path), kind, layers=layers, progress=progress))


def cached_card(key: str):
    return _cards().get(key)


def peer_kind(kind: str, sets: dict) -> str:
    """Whom an area is ranked against: its own kind; a drawn or uploaded area against the street
    units (the finest listed areas), else the districts."""
    return kind if kind in KINDS else "unit" if "unit" in sets else "district"


def prepared_card(config_path: str, cache_key: str, *, kind: str, area_id: str, geom: BaseGeometry, name_zh: str, name_en: str,
                  progress_box, lang: str):
    """The card, with what it needs (greening masks, the workspace's protection zones, the peers),
    each cached, and one progress bar over the steps that are not cached yet."""
    from ui import greening_flow, protection_flow

    from geodata.budget import TimeBudget

    bar = None
    budget = TimeBudget.from_env(t("exp.computing", "en"))  # one budget for all the steps not cached yet

    def step(label_key: str, frac: float):
        nonlocal bar
        budget.check(t(label_key, "en"))
        text = f"{t('exp.computing', lang)} · {t(label_key, lang)}"
        if bar is None:
            bar = progress_box.progress(0.0, text=text)
        bar.progress(min(max(frac, 0.0), 1.0), text=text)

    layers = greening_flow.cached_layers(config_path)
    if layers is None:
        step("exp.step.layers", 0.0)
        layers = greening_flow.load_layers(config_path, progress=lambda s, f: step("exp.step.layers", 0.3 * f))
    ws = protection_flow.workspace()
    protection_flow.seed_demo_layers(ws, config_path)
    inputs = protection_flow.zone_inputs(ws)
    pkey = protection_flow.screening_key(cache_key, config_path, inputs)
    pa = protection_flow.cached_screening(pkey)
    if pa is None:
        step("exp.step.protection", 0.3)
        pa = protection_flow.load_screening(config_path, pkey, inputs, progress=lambda s, f: step("exp.step.protection", 0.3 + 0.3 * f))
    pk = peer_kind(kind, areas(config_path))
    peers = _peers().get(f"peers|{inputs_key(config_path)}|{pk}")
    if peers is None:
        step("exp.step.peers", 0.6)
        peers = peer_table(config_path, pk, layers, progress=lambda s, f: step("exp.step.peers", 0.6 + 0.2 * f))
    key = card_key(config_path, pkey, kind, geom, area_id=area_id, names=(name_zh, name_en))
    card = cached_card(key)
    if card is None:
        step("exp.step.card", 0.8)
        card = load_card(key, config_path, geom, kind=kind, area_id=area_id, name_zh=name_zh, name_en=name_en, layers=layers,
                         protection=pa, peers=peers, progress=lambda s, f: step("exp.step.card", 0.8 + 0.2 * f))
    return card


def period_text(card, year: int, lang: str) -> str:
    """The period the removals and the change map of ``year`` are of."""
    r = removal_row(card, year)
    return fmt.period(str(r["period"]), lang) if r is not None else fmt.DASH


def density_text(v: float, lang: str) -> str:
    if v is None or not np.isfinite(v):
        return fmt.DASH
    return f"{v:,.1f} {'吨碳/公顷' if lang == 'zh' else 't C/ha'}"


def label_value(label: str, value: str, lang: str) -> str:
    return f"{label}：{value}" if lang == "zh" else f"{label}: {value}"


def card_key(config_path: str, protection_key: str, kind: str, geom: BaseGeometry, *, area_id: str = "", names: tuple[str, str] = ("", "")) -> str:
    """A card per inputs, protection-zone version, kind, id, names and geometry hash (the same
    shape as a district and as a drawn area, or uploaded under two names, are two cards)."""
    ident = hashlib.sha256(repr((kind, area_id, names)).encode()).hexdigest()[:12]
    return f"{inputs_key(config_path)}|{protection_key}|{ident}|{core.geometry_hash(geom)}"


def load_card(key: str, config_path: str, geom: BaseGeometry, *, kind: str, area_id: str, name_zh: str, name_en: str,
              layers, protection, peers: pd.DataFrame | None, progress=None):
    return _cards().get_or_compute(key, lambda: core.area_card(
        load_config(config_path), geom, kind=kind, area_id=area_id, name_zh=name_zh, name_en=name_en,
        layers=layers, protection=protection, peers=peers, progress=progress))


# ---- words ----------------------------------------------------------------------------------

_OWN_NOTE_VALUES = {"system", "param"}  # note values the code sets, not the reader (besides kind and period)


def note_text(note: str, lang: str) -> str:
    """A coded note of the explorer (card, upload, link) in the reader's language. Values that
    came from outside (a link's parameters, a file name, a decoder's complaint about them) are
    shown as inline code, so a crafted link cannot put a link or an image into the page's own
    message; the engine's own values (a period, a coordinate system, a parameter name) read as text."""
    from ui.i18n import DICTS

    code = getattr(note, "code", None)
    key = f"exp.note.{code}"
    if not code or key not in DICTS[lang]:
        return md_literal(str(note))
    fields = {}
    for k, v in note.params.items():
        if k == "kind" and v in KINDS:
            v = kind_name(v, lang)
        elif k == "period":
            v = fmt.period(str(v), lang)
        elif k in _OWN_NOTE_VALUES:
            v = str(v)
        elif isinstance(v, (list, tuple)):
            v = ", ".join(map(str, v))
        elif isinstance(v, str):
            v = md_literal(v)
        fields[k] = _num(v)
    try:
        return t(key, lang, **fields)
    except (KeyError, IndexError, ValueError):
        return md_literal(str(note))


def md_literal(text: str) -> str:
    """``text`` as Markdown inline code (backticks removed): no link, image or emphasis in it."""
    return "`" + str(text).replace("`", "'").replace("\n", " ") + "`"


def _num(v):
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 1 else f"{v:.2g}"
    return v


def interval(value: float, low: float, high: float, kind: str, lang: str) -> str:
    """``83,857 t CO₂e/yr (95 % interval 57,982–106,749)`` with one unit for the three numbers;
    negative bounds with a true minus and "to" / "至" between them."""
    centre = fmt.tonnes(value, kind, lang, ref=value).replace("-", "\u2212")
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return f"{centre} {t('exp.no_interval', lang)}"
    lo, _ = fmt.tonnes_parts(low, kind, lang, ref=value)
    hi, _ = fmt.tonnes_parts(high, kind, lang, ref=value)
    if low < 0 or high < 0:
        text = t("exp.ci_to", lang, low=lo.replace("-", "\u2212"), high=hi.replace("-", "\u2212"))
    else:
        text = t("exp.ci", lang, low=lo, high=hi)
    return f"{centre}{'' if lang == 'zh' else ' '}{text}"


def removal_row(card, year: int, method: str = "gain_loss") -> pd.Series | None:
    """The removals row of the period ending at ``year`` (else the first starting at it)."""
    r = card.removals[card.removals["method"] == method]
    if not len(r):
        return None
    ending = r[r["year_t1"] == year]
    pick = ending if len(ending) else r[r["year_t0"] == year]
    return pick.iloc[0] if len(pick) else r.iloc[-1]


def year_equivalents(card, year: int) -> pd.DataFrame:
    """The equivalents of the removals shown for ``year`` (the period ending at it, else the first
    starting at it): the card's own are of its headline period only."""
    from sinks.explorer.equivalents import equivalents

    r = removal_row(card, year)
    if r is None:
        return card.equivalents.iloc[0:0]
    return equivalents(float(r["removals_tco2e_yr"]), float(r["low_tco2e_yr"]), float(r["high_tco2e_yr"]))


def equivalent_sentences(card, year: int, lang: str) -> tuple[str, list[str]]:
    """Plain equivalents of the annual removals: an intro line and one line per factor, each with
    its factor and whether it was verified (the table's order: the local ones first). The range is
    signed: an interval that crosses zero says the area could be a sink or a source."""
    eq = year_equivalents(card, year)
    items = []
    sign = 1.0
    for _, e in eq.iterrows():
        count, low, high = float(e["count"]), float(e["low"]), float(e["high"])
        sign = 1.0 if count >= 0 else -1.0
        if math.isnan(low) or math.isnan(high):
            rng = ""
        elif low < 0 < high:
            rng = t("exp.eq.range_both", lang, low=_count(low), high=_count(high))
        else:
            lo, hi = sorted((abs(low), abs(high)))
            rng = t("exp.eq.range", lang, low=_count(lo), high=_count(hi))
        items.append(t("exp.eq.item", lang, n=_count(abs(count)), range=rng, what=e["name_zh" if lang == "zh" else "name_en"],
                       factor=f"{float(e['factor_tco2e_yr']):g}", unit=e["unit_zh" if lang == "zh" else "unit_en"],
                       verified=t("exp.verified" if bool(e["verified"]) else "exp.unverified", lang)))
    return t("exp.eq.sink" if sign >= 0 else "exp.eq.source", lang), items


def equivalent_sources(card, lang: str) -> str:  # the factors do not depend on the year
    """Each factor's value, derivation and source (markdown), for the page's expander."""
    return "\n".join("- " + t("exp.eq.source_line", lang, what=e["name_zh" if lang == "zh" else "name_en"],
                               factor=f"{float(e['factor_tco2e_yr']):g}", unit=e["unit_zh" if lang == "zh" else "unit_en"],
                               verified=t("exp.verified" if bool(e["verified"]) else "exp.unverified", lang),
                               derivation=str(e["derivation"]).replace("\n", " "), source=e["source"])
                      for _, e in card.equivalents.iterrows())


def _count(v: float) -> str:
    """A count: whole numbers from 10, two significant digits below (0.0034, not 0.0); a true minus."""
    if v == 0:
        return "0"
    text = f"{v:,.0f}" if abs(v) >= 10 else fmt.sig(v, 2)
    return text.replace("-", "\u2212")


def card_lines(card, year: int, lang: str) -> list[str]:
    """The card's figures as short lines (for the PNG)."""
    lines = [label_value(t("exp.card.area", lang), fmt.hectares(card.area_ha, lang), lang)]
    st_ = card.stock_totals[card.stock_totals["year"] == year]
    if len(st_):
        s = st_.iloc[0]
        lines.append(label_value(f"{t('exp.card.stock', lang)} ({fmt.year(year, lang)})", interval(s["stock_tc"], s["low_tc"], s["high_tc"], "c", lang), lang))
    r = removal_row(card, year)
    if r is not None:
        lines.append(label_value(f"{t('exp.card.removals', lang)} ({fmt.period(r['period'], lang)})",
                                 interval(r["removals_tco2e_yr"], r["low_tco2e_yr"], r["high_tco2e_yr"], "co2e_yr", lang), lang))
    g = card.greening[card.greening["year"] == year] if len(card.greening) else card.greening
    if len(g):
        lines.append(label_value(t("exp.card.forest", lang), f"{g.iloc[0]['forest_coverage_pct']:.1f}%", lang) + " · "
                     + label_value(t("exp.card.green", lang), f"{g.iloc[0]['green_coverage_pct']:.1f}%", lang))
    intro, items = equivalent_sentences(card, year, lang)
    if items:
        lines += [intro] + [i.replace('**', '') for i in items[:2]]
    return lines


def landcover_table(card, lang: str) -> pd.DataFrame:
    lc = card.landcover.copy()
    wide = lc.pivot_table(index="lucode", columns="year", values="area_ha", aggfunc="sum").fillna(0.0)
    share = lc.pivot_table(index="lucode", columns="year", values="share_pct", aggfunc="sum").fillna(0.0)
    out = pd.DataFrame({t("exp.col.class", lang): [lc_name(c, lang) for c in wide.index]})
    for y in wide.columns:
        out[fmt.with_unit(str(y), t("exp.unit.ha", lang), lang)] = wide[y].round(1).to_numpy()  # shown to 0.1
        out[fmt.with_unit(str(y), "%", lang)] = share[y].round(1).to_numpy()  # (the CSV keeps every digit)
    return out


def stock_table(card, year: int, lang: str) -> pd.DataFrame:
    s = card.stocks[card.stocks["year"] == year]
    return pd.DataFrame({
        t("exp.col.pool", lang): [pool_name(p, lang) for p in s["pool"]],
        t("exp.col.stock_tc", lang): s["stock_tc"].to_numpy(),
        t("exp.col.stock_tco2e", lang): s["stock_tco2e"].to_numpy(),
        t("exp.col.unc", lang): s["uncertainty_pct"].to_numpy(),
    })


def change_table(card, lang: str) -> pd.DataFrame:
    c = card.change
    return pd.DataFrame({
        t("exp.col.period", lang): [fmt.period(p, lang) for p in c["period"]],
        t("exp.col.class", lang): [lc_name(x, lang) for x in c["lucode"]],
        t("exp.col.area_t0", lang): c["area_t0_ha"].to_numpy(),
        t("exp.col.area_t1", lang): c["area_t1_ha"].to_numpy(),
        t("exp.col.change", lang): c["change_ha"].to_numpy(),
    })


def protection_table(card, lang: str) -> pd.DataFrame:
    p = card.protection
    return pd.DataFrame({
        t("exp.col.zone_kind", lang): [t(f"prot.type.{k}", lang) if _has(f"prot.type.{k}") else str(k) for k in p["zone_kind"]],
        t("exp.col.zone", lang): [str(a or b) for a, b in zip(p["name_zh" if lang == "zh" else "name_en"], p["zone_id"])],
        t("exp.col.overlap", lang): p["overlap_ha"].to_numpy(),
        t("exp.col.share", lang): p["share_pct"].to_numpy(),
    })


def _has(key: str) -> bool:
    from ui.i18n import DICTS

    return key in DICTS["zh"]


def rank_table(card, year: int, lang: str) -> pd.DataFrame:
    r = card.ranks[card.ranks["year"] == year] if "year" in card.ranks else card.ranks
    return pd.DataFrame({
        t("exp.col.metric", lang): [t(f"exp.metric.{m}", lang) for m in r["metric"]],
        t("exp.col.value", lang): r["value"].to_numpy(),
        t("exp.col.rank", lang): [t("exp.rank_none", lang) if not np.isfinite(k) else
                                  t("exp.rank_of", lang, rank=int(k), n=int(n), peers=kind_name(p, lang))
                                  for k, n, p in zip(r["rank"].astype(float), r["n_peers"], r["peer_kind"])],
    })


def _yr(v) -> str:
    """A year as ``2020`` (iterrows turns ints into floats), text as it is."""
    try:
        return str(int(v)) if float(v) == int(float(v)) else str(v)
    except (TypeError, ValueError):
        return str(v)


def card_csv(card) -> bytes:
    """Every table of the card in one long CSV (section, item, year or period, value, low, high,
    unit), formula-safe, UTF-8 with BOM for Excel."""
    rows = [("area", "area", "", card.area_ha, np.nan, np.nan, "ha")]
    for _, r in card.landcover.iterrows():
        rows.append(("landcover", f"lucode {int(r['lucode'])} {r['lulc_name']}", _yr(r["year"]), r["area_ha"], np.nan, np.nan, "ha"))
    for _, r in card.stocks.iterrows():
        rows.append(("stock", r["pool"], _yr(r["year"]), r["stock_tc"], np.nan, np.nan, "t C"))
    for _, r in card.stock_totals.iterrows():
        rows.append(("stock_total", "all pools", _yr(r["year"]), r["stock_tc"], r["low_tc"], r["high_tc"], "t C"))
    for _, r in card.removals.iterrows():
        rows.append(("removals", r["method"], r["period"], r["removals_tco2e_yr"], r["low_tco2e_yr"], r["high_tco2e_yr"], "t CO2e/yr"))
    for _, r in card.change.iterrows():
        rows.append(("change", f"lucode {int(r['lucode'])} {r['lulc_name']}", r["period"], r["change_ha"], np.nan, np.nan, "ha"))
    for _, r in card.greening.iterrows():
        for col in ("forest_coverage_pct", "green_coverage_pct"):
            if col in r:
                rows.append(("greening", col.removesuffix("_pct"), _yr(r["year"]), r[col], r.get(f"{col}_low", np.nan),
                             r.get(f"{col}_high", np.nan), "%"))
    for _, r in card.protection.iterrows():
        rows.append(("protection", f"{r['zone_kind']} {r['zone_id']}", "", r["overlap_ha"], np.nan, np.nan, "ha"))
    for _, r in card.ranks.iterrows():
        rows.append(("rank", f"{r['metric']} among {r['n_peers']} {r['peer_kind']}", _yr(r.get("year", "")), r["rank"], np.nan, np.nan, "rank"))
    for _, r in card.equivalents.iterrows():
        rows.append(("equivalent", f"{r['key']} ({r['factor_tco2e_yr']} t CO2e/yr each; {r['source']})", "", r["count"], r["low"], r["high"], "count"))
    df = pd.DataFrame(rows, columns=["section", "item", "year_or_period", "value", "low", "high", "unit"])
    head = pd.DataFrame([("area", "name", "", f"{card.name_zh} / {card.name_en} ({card.kind} {card.area_id})", np.nan, np.nan, ""),
                         ("area", "geometry_sha256", "", card.geometry_hash, np.nan, np.nan, "")], columns=df.columns)
    df = pd.concat([head, df], ignore_index=True)
    return safe_for_csv(df).to_csv(index=False).encode("utf-8-sig")


def greening_table(card, lang: str) -> pd.DataFrame:
    g = card.greening
    out = pd.DataFrame({t("exp.col.year", lang): g["year"].to_numpy()})
    for col in ("forest_coverage_pct", "green_coverage_pct"):
        out[t(f"exp.col.{col}", lang)] = g[col].to_numpy()
        lo, hi = f"{col}_low", f"{col}_high"
        if lo in g and hi in g:
            out[t("exp.col.ci95", lang, what=t(f"exp.col.{col}", lang))] = [
                fmt.DASH if (math.isnan(a) or math.isnan(b)) else f"{a:.1f}–{b:.1f}" for a, b in zip(g[lo], g[hi])]
    return out


# ---- pictures -----------------------------------------------------------------------------------

SWIPE_HEIGHT_PX = 760
_PICTURE_WIDTH_PX = 1000


@st.cache_resource(show_spinner=False)
def _pictures() -> KeyedLRU:
    return KeyedLRU(48)


def _frame(config_path: str, card, *, layer: str, year: int, palette: str):
    """The map frame of ``layer`` at ``year`` cropped around the card's area."""
    from sinks.coefficients import load_coefficients
    from sinks.explorer import frames

    cfg = load_config(config_path)
    bounds = padded_bounds(card.geometry, factor=1.3, min_deg=0.004)
    if layer == "landcover":
        return frames.landcover_frame(cfg.landcover[year], bounds_lonlat=bounds, palette=palette, outline=card.geometry,
                                      label=str(year))
    table = load_coefficients(cfg.coefficients)
    if layer == "stock":
        vmax = max(v for v in frames.class_density(table).values() if np.isfinite(v))  # one scale for every year and area
        return frames.carbon_frame(cfg.landcover[year], table, quantity="stock_tc_ha", bounds_lonlat=bounds, outline=card.geometry,
                                   label=str(year), vmax=vmax)
    ys = cfg.years
    i = ys.index(year)
    y0, y1 = (ys[i - 1], year) if i > 0 else (year, ys[min(i + 1, len(ys) - 1)])
    return frames.change_frame(cfg.landcover[y0], cfg.landcover[y1], table, y1 - y0, bounds_lonlat=bounds, outline=card.geometry,
                               label=f"{y0}–{y1}")


def _pic_key(card) -> str:
    return hashlib.sha256(repr((card.kind, card.area_id, card.name_zh, card.name_en, card.geometry_hash)).encode()).hexdigest()[:16]


def title_text(kind: str, name: str, lang: str) -> str:
    """``区县 · 浦口区``; a drawn area is just "自绘区域" (its name is its kind)."""
    k = kind_name(kind, lang)
    return k if name in ("", k, t("exp.drawn_name", lang)) else t("exp.card.title", lang, kind=k, name=name)


def _title(card, lang: str) -> str:
    return title_text(card.kind, card.name_zh if lang == "zh" else card.name_en, lang)


def _study(config_path: str):
    """The study area's outline for the locator inset (the union of the first listed kind)."""
    import shapely

    sets = areas(config_path)
    return shapely.union_all(sets[next(iter(sets))].geometry.to_numpy())


def _height(png: bytes) -> int:
    from PIL import Image

    return Image.open(io.BytesIO(png)).height


def area_map_png(config_path: str, card, *, layer: str, year: int, palette: str, lang: str, min_height_px: int = 0) -> bytes:
    from sinks.explorer import mapimage

    key = f"map|{inputs_key(config_path)}|{_pic_key(card)}|{layer}|{year}|{palette}|{lang}|{min_height_px}"
    return _pictures().get_or_compute(key, lambda: mapimage.map_png(
        _frame(config_path, card, layer=layer, year=year, palette=palette), title=_title(card, lang), lang=lang,
        outline=card.geometry, locator_outline=_study(config_path), width_px=_PICTURE_WIDTH_PX, min_height_px=min_height_px))


def swipe(config_path: str, card, *, years: tuple[int, int], palette: str, lang: str) -> str:
    """The swipe between the land cover of two dates (HTML for ``components.html``)."""
    from ui.swipe import swipe_html

    a, b = (area_map_png(config_path, card, layer="landcover", year=y, palette=palette, lang=lang) for y in years)
    ha, hb = (_height(x) for x in (a, b))
    if ha != hb:  # different legends: pad the shorter so the two maps line up under the divider
        a, b = (area_map_png(config_path, card, layer="landcover", year=y, palette=palette, lang=lang, min_height_px=max(ha, hb))
                for y in years)
    return swipe_html(a, b, left_label=fmt.year(years[0], lang), right_label=fmt.year(years[1], lang), height_px=SWIPE_HEIGHT_PX)


def timelapse(config_path: str, card, *, layer: str, palette: str, lang: str) -> bytes:
    """An animated GIF of ``layer`` (land cover or carbon density; the stock change has one
    frame fewer than the dates and animates as density) at every date, cropped to the area."""
    layer = layer if layer in ("landcover", "stock") else "stock"
    from sinks.explorer import mapimage

    cfg = load_config(config_path)
    key = f"gif|{inputs_key(config_path)}|{_pic_key(card)}|{layer}|{palette}|{lang}"
    return _pictures().get_or_compute(key, lambda: mapimage.timelapse_gif(
        [_frame(config_path, card, layer=layer, year=y, palette=palette) for y in cfg.years], lang=lang,
        title=_title(card, lang), outline=card.geometry, locator_outline=_study(config_path)))


def card_png(config_path: str, card, *, year: int, layer: str, palette: str, lang: str) -> bytes:
    from sinks.explorer import mapimage

    key = f"card|{inputs_key(config_path)}|{_pic_key(card)}|{layer}|{year}|{palette}|{lang}"
    return _pictures().get_or_compute(key, lambda: mapimage.card_png(
        _frame(config_path, card, layer=layer, year=year, palette=palette), card_lines(card, year, lang),
        title=_title(card, lang), lang=lang, outline=card.geometry, locator_outline=_study(config_path)))


# ---- the link -------------------------------------------------------------------------------------

_VIEW_KEYS = ("area", "shape", "year", "layer", "cmp")


def set_link(params: dict[str, str]) -> None:
    """Put the view in the address bar (the language stays ``app.py``'s)."""
    for k in _VIEW_KEYS:
        if k in params:
            if st.query_params.get(k) != params[k]:
                st.query_params[k] = params[k]
        elif k in st.query_params:
            del st.query_params[k]


def link_text(params: dict[str, str], lang: str) -> str:
    """The address that opens this view (the server's address as the browser sees it)."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    q = dict(params)
    if lang == "en":
        q["lang"] = "en"
    try:
        base = urlsplit(st.context.url or "")
    except Exception:  # outside a browser session (tests): a relative link
        base = urlsplit("")
    return urlunsplit((base.scheme, base.netloc, base.path or "/explorer", urlencode(q), ""))
