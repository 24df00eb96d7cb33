"""folium (Leaflet) maps that work without the internet: the map for drawing and editing zones.

A default folium map loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs and, offline,
renders blank without a word (``../shared/RECIPES.md``). Here every map loads only Leaflet and
Leaflet.draw from this server: ``static/vendor/node_modules`` (npm packages pinned with their
integrity hashes in ``static/vendor/package-lock.json``, fetched by ``make``), served by
Streamlit at ``/app/static/vendor/node_modules``. The map has no tile layer: the land cover is a
locally rendered picture (:func:`landcover_overlay`) and everything else is GeoJSON.

:func:`resource_links` lists every URL the map would load; the tests check none leaves the
server.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import folium
import numpy as np
import rasterio
from branca.element import Template
from folium import plugins
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from ui.imagery import class_rgb, out_shape

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIR = ROOT / "static" / "vendor" / "node_modules"
VENDOR_URL = "/app/static/vendor/node_modules"
LEAFLET_JS = [("leaflet", f"{VENDOR_URL}/leaflet/dist/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{VENDOR_URL}/leaflet/dist/leaflet.css")]
DRAW_JS = [("leaflet_draw_js", f"{VENDOR_URL}/leaflet-draw/dist/leaflet.draw.js")]
DRAW_CSS = [("leaflet_draw_css", f"{VENDOR_URL}/leaflet-draw/dist/leaflet.draw.css")]
OVERLAY_MAX_WIDTH = 1200
_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'<>)]*""")


def missing_vendor_files() -> list[str]:
    """Vendored files that are not on disk (empty when the maps can load)."""
    need = [p for _, p in LEAFLET_JS + LEAFLET_CSS + DRAW_JS + DRAW_CSS]
    return [p for p in need if not (ROOT / "static" / p.removeprefix("/app/static/")).is_file()]


def stop_without_vendor_files(lang: str) -> None:
    """On a page with a Leaflet map: say which vendored files are missing (run ``make``) and stop."""
    import streamlit as st

    from ui.i18n import t

    missing = missing_vendor_files()
    if missing:
        st.error(t("wet.vendor_missing", lang, files=", ".join(missing)))
        st.stop()


def offline_map(bounds_lonlat: tuple[float, float, float, float]) -> folium.Map:
    """An empty Leaflet map fitted to ``(west, south, east, north)``, with a scale bar and only
    local resources."""
    west, south, east, north = bounds_lonlat
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True,
                   zoom_start=10, prefer_canvas=False)
    # instance attributes shadow folium's CDN lists (jQuery, Bootstrap, Font Awesome are unused)
    m.default_js = list(LEAFLET_JS)
    m.default_css = list(LEAFLET_CSS)
    m.fit_bounds([[south, west], [north, east]])
    return m


# Leaflet.draw's own words (L.drawLocal) in Chinese; English is the plugin's default
DRAW_ZH = {
    "draw.toolbar.buttons.polygon": "绘制多边形", "draw.toolbar.buttons.rectangle": "绘制矩形",
    "draw.toolbar.actions.title": "取消绘制", "draw.toolbar.actions.text": "取消",
    "draw.toolbar.finish.title": "完成绘制", "draw.toolbar.finish.text": "完成",
    "draw.toolbar.undo.title": "删除最后一个点", "draw.toolbar.undo.text": "删除最后一点",
    "draw.handlers.polygon.tooltip.start": "单击开始绘制。", "draw.handlers.polygon.tooltip.cont": "单击继续绘制。",
    "draw.handlers.polygon.tooltip.end": "单击第一个点闭合多边形。",
    "draw.handlers.polyline.error": "<strong>错误：</strong>边不能交叉！",
    "draw.handlers.rectangle.tooltip.start": "按住并拖动绘制矩形。",
    "draw.handlers.simpleshape.tooltip.end": "松开鼠标完成绘制。",
    "edit.toolbar.actions.save.title": "保存修改", "edit.toolbar.actions.save.text": "保存",
    "edit.toolbar.actions.cancel.title": "放弃修改", "edit.toolbar.actions.cancel.text": "取消",
    "edit.toolbar.actions.clearAll.title": "清除全部图形", "edit.toolbar.actions.clearAll.text": "全部清除",
    "edit.toolbar.buttons.edit": "编辑图形", "edit.toolbar.buttons.editDisabled": "没有可编辑的图形",
    "edit.toolbar.buttons.remove": "删除图形", "edit.toolbar.buttons.removeDisabled": "没有可删除的图形",
    "edit.handlers.edit.tooltip.text": "拖动节点或标记编辑图形。", "edit.handlers.edit.tooltip.subtext": "点击取消撤销修改。",
    "edit.handlers.remove.tooltip.text": "点击要删除的图形。",
}


class _DrawLocale(folium.MacroElement):
    """Sets ``L.drawLocal`` before the toolbar is built (added to the map ahead of it)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var words = {{ this.words|tojson }};
          Object.keys(words).forEach(function (path) {
            var parts = path.split("."), obj = L.drawLocal;
            for (var i = 0; i < parts.length - 1; i++) { obj = obj[parts[i]] = obj[parts[i]] || {}; }
            obj[parts[parts.length - 1]] = words[path];
          });
        })();
        {% endmacro %}
    """)

    def __init__(self, words: dict[str, str]) -> None:
        super().__init__()
        self._name = "DrawLocale"
        self.words = words


def add_draw_control(m: folium.Map, lang: str = "en") -> plugins.Draw:
    """Leaflet.draw's toolbar (polygon and rectangle; edit and delete the new shapes), local files,
    in Chinese when ``lang`` is ``"zh"``.

    What is drawn comes back from ``st_folium`` as ``all_drawings`` (GeoJSON features, lon/lat).
    """
    if lang == "zh":
        _DrawLocale(DRAW_ZH).add_to(m)
    shape = {"allowIntersection": False, "showArea": True, "shapeOptions": {"color": "#c0392b", "weight": 3}}
    draw = plugins.Draw(
        draw_options={"polygon": shape, "rectangle": {"shapeOptions": shape["shapeOptions"]}, "polyline": False,
                      "circle": False, "marker": False, "circlemarker": False},
        edit_options={"edit": True, "remove": True},
        show_geometry_on_click=False,
    )
    draw.default_js = list(DRAW_JS)
    draw.default_css = list(DRAW_CSS)
    draw.add_to(m)
    return draw


def resource_links(m: folium.Map) -> list[str]:
    """Every URL the map loads or names in its scripts: the JS/CSS lists of the map and its
    elements, and any URL in the rendered page (attribution links included)."""
    links: list[str] = []

    def walk(el) -> None:
        links.extend(src for _, src in getattr(el, "default_js", []))
        links.extend(href for _, href in getattr(el, "default_css", []))
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    page = m.get_root().render()
    links.extend(_URL.findall(page))
    return list(dict.fromkeys(links))


@dataclass(frozen=True)
class Overlay:
    """A picture in Web Mercator and its corners in lon/lat (what Leaflet's ImageOverlay needs)."""

    rgba: np.ndarray  # H x W x 4 uint8, transparent where there is no data
    bounds_latlon: tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))
    codes: tuple[int, ...]  # classes present


def landcover_overlay(path: str | Path, *, max_width: int = OVERLAY_MAX_WIDTH) -> Overlay:
    """A land-cover raster warped to EPSG:3857 (nearest neighbour, at most ``max_width`` pixels
    wide, from the COG's overviews) and coloured with the WorldCover table; nodata transparent.

    Leaflet stretches an ImageOverlay linearly in Web Mercator between its corners, so the
    picture must be in 3857 for its pixels to land where they belong.
    """
    with rasterio.open(path) as ds:
        nod = ds.nodata
        with WarpedVRT(ds, crs="EPSG:3857", resampling=Resampling.nearest) as vrt:
            oh, ow = out_shape(vrt.height, vrt.width, max_width)
            codes = vrt.read(1, out_shape=(oh, ow), resampling=Resampling.nearest)
            # outside the source footprint the VRT fills with nodata (or 0 when none is declared)
            valid = codes != (nod if nod is not None else 0)
            west, south, east, north = transform_bounds(vrt.crs, "EPSG:4326", *vrt.bounds)
    rgb = class_rgb(codes)
    alpha = np.where(valid, 255, 0).astype("uint8")
    present = tuple(int(c) for c in np.unique(codes[valid]))
    return Overlay(rgba=np.dstack([rgb, alpha]), bounds_latlon=((south, west), (north, east)), codes=present)


def add_overlay(m: folium.Map, overlay: Overlay, *, name: str, opacity: float = 0.75, show: bool = True) -> None:
    folium.raster_layers.ImageOverlay(image=overlay.rgba, bounds=[list(overlay.bounds_latlon[0]), list(overlay.bounds_latlon[1])],
                                      name=name, opacity=opacity, show=show, interactive=False, zindex=1).add_to(m)


SIMPLIFY_M = 10.0  # outline simplification for the maps (a third of a 30 m pixel)


def geojson(gdf) -> dict:
    """A GeoDataFrame as a GeoJSON dict for ``folium.GeoJson`` (no feature ids)."""
    import json

    return json.loads(gdf.to_json(drop_id=True))


def map_outlines(gdf, *, simplify_m: float = SIMPLIFY_M):
    """Outlines for a map: simplified by ``simplify_m`` metres in the analysis CRS, then in lon/lat
    rounded to 1e-6 degree (0.1 m). Rounded, not snapped (``shapely.set_precision`` can raise a
    TopologyException): for display only."""
    import shapely

    from geodata.crs import ANALYSIS_CRS, DISPLAY_CRS

    out = gdf.to_crs(ANALYSIS_CRS)
    if len(out):
        out["geometry"] = out.geometry.simplify(simplify_m).to_numpy()
    out = out.to_crs(DISPLAY_CRS)
    if len(out):
        out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, 6))
    return out
