"""pydeck maps that work offline, and the legend drawn beside them.

The deck's ``map_style`` is the local style served by Streamlit (``/app/static/map_style.json``,
see :mod:`ui.basemap`), so no request leaves the machine: no Mapbox or Carto token, no tiles.
"""
from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import pydeck as pdk
import streamlit as st

from sinks.pipeline import Assessment
from sinks.report import zone_summary
from ui import fmt
from ui.basemap import STYLE_URL
from ui.i18n import t, zone_names

# Diverging scale, the explorer's change map's hues (sinks.explorer.frames): sinks blue (RdBu
# #2166ac), sources (net emission, negative removals) orange-brown (PuOr #b35806). Blue against
# orange stays apart for all three dichromacies (Okabe & Ito 2008); red against green does not.
_SOURCE_END = (179, 88, 6)
_NEUTRAL = (247, 247, 247)
_SINK_END = (33, 102, 172)
_FILL_ALPHA = 205
MEASURES = ("total", "per_ha")


@dataclass(frozen=True)
class Legend:
    title: str
    vmin: float
    vmax: float
    stops: list[tuple[float, tuple[int, int, int]]]  # value -> colour, ascending
    tick_labels: list[tuple[float, str]]
    items: list[tuple[str, tuple[int, int, int], str]]  # zone name, colour, value text
    note: str


def _lerp(a: tuple[int, int, int], b: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * f)) for x, y in zip(a, b))  # type: ignore[return-value]


def colour_for(value: float, vmax_abs: float) -> tuple[int, int, int]:
    """Diverging colour: white at 0, blue towards +vmax_abs (sink), orange-brown towards -vmax_abs."""
    if vmax_abs <= 0 or math.isnan(value):
        return _NEUTRAL
    f = min(1.0, abs(value) / vmax_abs) ** 0.75
    # keep even the smallest non-zero value visibly tinted
    f = 0.2 + 0.8 * f if value != 0 else 0.0
    return _lerp(_NEUTRAL, _SINK_END if value > 0 else _SOURCE_END, f)


def _view(bounds: tuple[float, float, float, float], *, width_px: int = 760, height_px: int = 520) -> pdk.ViewState:
    minx, miny, maxx, maxy = bounds
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    span_x = max(maxx - minx, 1e-4) * 1.12
    span_y = max(maxy - miny, 1e-4) * 1.12 / math.cos(math.radians(lat))
    zoom = min(math.log2(width_px * 360 / (512 * span_x)), math.log2(height_px * 360 / (512 * span_y)))
    return pdk.ViewState(longitude=lon, latitude=lat, zoom=round(zoom, 2), pitch=0, bearing=0)


def _removals_frame(a: Assessment, year: int):
    s = zone_summary(a, year).set_index("zone_id")
    flows = a.flows_for_year(year)
    if flows is not None:
        area = flows.set_index("zone_id")[["stable_area_ha", "converted_area_ha"]].sum(axis=1)
        s["area_ha"] = area.reindex(s.index)
    else:
        s["area_ha"] = float("nan")
    s["per_ha"] = s["removals_tco2e_yr"] / s["area_ha"]
    return s


def removals_map(a: Assessment, year: int, lang: str, *, measure: str = "total") -> tuple[pdk.Deck, Legend]:
    """The zones coloured by annual net removals (gain-loss), with tooltips and labels.

    ``measure``: ``"total"`` (t CO2e/yr per zone) or ``"per_ha"`` (t CO2e/ha/yr).
    """
    s = _removals_frame(a, year)
    names = zone_names(a, lang)
    column = "removals_tco2e_yr" if measure == "total" else "per_ha"
    values = s[column].astype(float)
    finite = values[values.notna()]
    vmax_abs = float(finite.abs().max()) if len(finite) else 0.0
    vmin = min(0.0, float(finite.min())) if len(finite) else 0.0
    vmax = max(0.0, float(finite.max())) if len(finite) else 0.0
    show = (lambda v: fmt.tonnes(v, "co2e_yr", lang, ref=vmax_abs)) if measure == "total" else (lambda v: fmt.per_hectare(v, lang))

    zones = a.zones.copy()
    utm = zones.estimate_utm_crs()
    zones["geometry"] = zones.to_crs(utm).simplify(20).to_crs(zones.crs)
    features, labels, items = [], [], []
    for _, z in zones.iterrows():
        zid = z["zone_id"]
        row = s.loc[zid] if zid in s.index else None
        v = float(row[column]) if row is not None else float("nan")
        rgb = colour_for(v, vmax_abs)
        props = {
            "zone_id": zid,
            "name": names.get(zid, zid),
            "fill": [*rgb, _FILL_ALPHA],
            "removals": fmt.tonnes(row["removals_tco2e_yr"], "co2e_yr", lang) if row is not None else fmt.DASH,
            "per_ha": fmt.per_hectare(row["per_ha"], lang) if row is not None else fmt.DASH,
            "stock": fmt.tonnes(row["total_stock_tc"], "c", lang) if row is not None else fmt.DASH,
            "emissions": fmt.tonnes(row["emissions_tco2e"], "co2", lang) if row is not None else fmt.DASH,
            "offset": fmt.pct(row["offset_ratio"], lang) if row is not None else fmt.DASH,
        }
        features.append({"type": "Feature", "properties": props, "geometry": json.loads(json.dumps(z.geometry.__geo_interface__))})
        p = z.geometry.representative_point()
        labels.append({"position": [round(p.x, 5), round(p.y, 5)], "text": props["name"]})
        items.append((props["name"], rgb, show(v)))

    zones_layer = pdk.Layer(
        "GeoJsonLayer",
        data={"type": "FeatureCollection", "features": features},
        id="zones",
        filled=True,
        stroked=True,
        pickable=True,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 70],
        get_fill_color="properties.fill",
        get_line_color=[60, 60, 60, 230],
        line_width_min_pixels=1.5,
    )
    label_layer = pdk.Layer(
        "TextLayer",
        data=labels,
        id="zone-labels",
        get_position="position",
        get_text="text",
        get_size=16,
        size_units=pdk.types.String("pixels"),
        get_color=[20, 30, 25, 255],
        get_text_anchor=pdk.types.String("middle"),
        get_alignment_baseline=pdk.types.String("center"),
        font_family=pdk.types.String("'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"),
        font_weight=700,
        character_set=pdk.types.String("auto"),
        background=True,
        get_background_color=[255, 255, 255, 215],
        background_padding=[6, 3, 6, 3],
    )
    tooltip = {
        "html": (
            "<b>{name}</b><br/>"
            f"{html.escape(t('map.tip.removals', lang))}: {{removals}}<br/>"
            f"{html.escape(t('map.tip.per_ha', lang))}: {{per_ha}}<br/>"
            f"{html.escape(t('map.tip.stock', lang))}: {{stock}}<br/>"
            f"{html.escape(t('map.tip.emissions', lang))}: {{emissions}}<br/>"
            f"{html.escape(t('map.tip.offset', lang))}: {{offset}}"
        ),
        "style": {"backgroundColor": "#1f2a24", "color": "white", "fontSize": "13px", "padding": "8px 10px"},
    }
    deck = pdk.Deck(
        layers=[zones_layer, label_layer],
        initial_view_state=_view(tuple(zones.total_bounds)),
        map_provider=None,
        map_style=STYLE_URL,
        tooltip=tooltip,
    )
    stops = [(vmin, colour_for(vmin, vmax_abs)), (0.0, _NEUTRAL), (vmax, colour_for(vmax, vmax_abs))]
    stops = [s_ for s_ in stops if vmin <= s_[0] <= vmax]
    ticks = [(x, show(x) if x != 0 else "0") for x in sorted({vmin, 0.0, vmax})]
    legend = Legend(
        title=t("map.legend.total" if measure == "total" else "map.legend.per_ha", lang),
        vmin=vmin, vmax=vmax, stops=stops, tick_labels=ticks, items=items,
        note=t("map.legend.note", lang, period=fmt.period(str(a.kpis(year).removals_period), lang)),
    )
    return deck, legend


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def legend_html(legend: Legend) -> str:
    """The legend as a small HTML block (gradient bar, ticks, one swatch per zone)."""
    span = (legend.vmax - legend.vmin) or 1.0
    grad = ", ".join(f"{_hex(c)} {100 * (v - legend.vmin) / span:.1f}%" for v, c in legend.stops) or _hex(_NEUTRAL)
    if len(legend.stops) == 1:
        grad = f"{_hex(legend.stops[0][1])}, {_hex(legend.stops[0][1])}"
    ticks = "".join(
        f'<span style="position:absolute;left:{100 * (v - legend.vmin) / span:.1f}%;transform:translateX(-{100 * (v - legend.vmin) / span:.0f}%);white-space:nowrap">{html.escape(label)}</span>'
        for v, label in legend.tick_labels
    )
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:8px;margin:4px 0">'
        f'<span style="width:16px;height:16px;border:1px solid #555;border-radius:3px;background:{_hex(c)};flex:none"></span>'
        f'<span style="flex:1">{html.escape(name)}</span><span style="font-variant-numeric:tabular-nums">{html.escape(val)}</span></div>'
        for name, c, val in legend.items
    )
    return (
        '<div data-testid="map-legend" style="font-size:0.86rem;line-height:1.35;color:#1f2a24">'
        f'<div style="font-weight:600;margin-bottom:6px">{html.escape(legend.title)}</div>'
        f'<div style="height:14px;border:1px solid #888;border-radius:3px;background:linear-gradient(to right, {grad})"></div>'
        f'<div style="position:relative;height:1.3em;margin:2px 4px 10px 4px;font-size:0.75rem;color:#444">{ticks}</div>'
        f"{rows}"
        f'<div style="margin-top:8px;font-size:0.75rem;color:#555">{html.escape(legend.note)}</div>'
        "</div>"
    )


def draw_legend(legend: Legend) -> None:
    st.html(legend_html(legend))
