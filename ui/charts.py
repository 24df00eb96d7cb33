"""Altair charts (Vega-Lite ships inside Streamlit's frontend: nothing is fetched online)."""
from __future__ import annotations

import altair as alt
import pandas as pd

from sinks.coefficients import POOLS
from sinks.pipeline import Assessment
from ui.i18n import lc_name, pool_name, t, zone_names

# ESA WorldCover v200 colour table (the one embedded in every WorldCover tile).
WORLDCOVER_HEX = {
    10: "#006400", 20: "#ffbb22", 30: "#ffff4c", 40: "#f096ff", 50: "#fa0000", 60: "#b4b4b4",
    70: "#f0f0f0", 80: "#0064c8", 90: "#0096a0", 95: "#00cf75", 100: "#fae6a0",
}
POOL_HEX = {"c_above": "#2f7d4a", "c_below": "#8fbf6f", "c_soil": "#8c6239", "c_dead": "#c9b38a"}
_FONT = "'Source Sans Pro', 'Noto Sans CJK SC', sans-serif"


def _style(chart: alt.Chart) -> alt.Chart:
    return chart.configure_axis(labelFont=_FONT, titleFont=_FONT, labelFontSize=12, titleFontSize=12) \
        .configure_legend(labelFont=_FONT, titleFont=_FONT, orient="bottom", labelLimit=260) \
        .configure_view(strokeWidth=0)


def stocks_chart(a: Assessment, year: int, lang: str) -> alt.Chart:
    """Stacked bars: carbon stock per zone by pool (10^4 t C in Chinese, kt C in English)."""
    names = zone_names(a, lang)
    scale, unit = (1e4, t("unit.wan_tc", lang)) if lang == "zh" else (1e3, t("unit.kt_c", lang))
    s = a.stocks[a.stocks["year"] == year]
    df = pd.DataFrame({
        "zone": s["zone_id"].map(names).to_numpy(),
        "pool": [pool_name(p, lang) for p in s["pool"]],
        "order": [POOLS.index(p) for p in s["pool"]],
        "value": (s["stock_tc"] / scale).to_numpy(),
    })
    pools = [pool_name(p, lang) for p in POOLS]
    chart = alt.Chart(df).mark_bar().encode(
        y=alt.Y("zone:N", title=None, sort=[names.get(z, z) for z in a.zone_ids]),
        x=alt.X("sum(value):Q", title=f"{t('chart.stock', lang)} ({unit})"),
        color=alt.Color("pool:N", title=None, scale=alt.Scale(domain=pools, range=[POOL_HEX[p] for p in POOLS])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("zone:N", title=t("col.zone", lang)), alt.Tooltip("pool:N", title=t("chart.pool", lang)),
                 alt.Tooltip("value:Q", title=unit, format=",.2f")],
    ).properties(height=alt.Step(44))
    return _style(chart)


def methods_chart(a: Assessment, year: int, lang: str) -> alt.Chart | None:
    """Grouped bars per zone: stock-difference vs gain-loss annual flows."""
    f = a.flows_for_year(year)
    if f is None:
        return None
    names = zone_names(a, lang)
    scale, unit = (1e4, t("unit.wan_tco2e_yr", lang)) if lang == "zh" else (1e3, t("unit.kt_co2e_yr", lang))
    sd, gl = t("col.stock_difference", lang), t("col.gain_loss", lang)
    df = pd.concat([
        pd.DataFrame({"zone": f["zone_id"].map(names), "method": sd, "value": f["sequestration_tco2e_yr"] / scale}),
        pd.DataFrame({"zone": f["zone_id"].map(names), "method": gl, "value": f["net_removals_tco2e_yr"] / scale}),
    ], ignore_index=True)
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("zone:N", title=None, sort=[names.get(z, z) for z in a.zone_ids], axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("method:N", sort=[sd, gl]),
        y=alt.Y("value:Q", title=unit),
        color=alt.Color("method:N", title=None, sort=[sd, gl], scale=alt.Scale(domain=[sd, gl], range=["#9aa9b8", "#2f7d4a"])),
        tooltip=[alt.Tooltip("zone:N", title=t("col.zone", lang)), alt.Tooltip("method:N", title=t("chart.method", lang)),
                 alt.Tooltip("value:Q", title=unit, format=",.2f")],
    ).properties(height=300)
    rule = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#555").encode(y="y:Q")
    return _style(alt.layer(chart, rule))


def land_cover_chart(a: Assessment, year: int, lang: str) -> alt.Chart:
    """100 % stacked bars: land-cover shares per zone, WorldCover colours."""
    names = zone_names(a, lang)
    ar = a.areas[a.areas["year"] == year].groupby(["zone_id", "lucode"], as_index=False)["area_ha"].sum()
    codes = sorted(int(c) for c in ar["lucode"].unique())
    labels = [f"{lc_name(c, lang)} ({c})" for c in codes]
    df = pd.DataFrame({
        "zone": ar["zone_id"].map(names).to_numpy(),
        "cls": [f"{lc_name(int(c), lang)} ({int(c)})" for c in ar["lucode"]],
        "order": ar["lucode"].astype(int).to_numpy(),
        "ha": ar["area_ha"].to_numpy(),
    })
    chart = alt.Chart(df).mark_bar().encode(
        y=alt.Y("zone:N", title=None, sort=[names.get(z, z) for z in a.zone_ids]),
        x=alt.X("sum(ha):Q", stack="normalize", title=t("chart.share", lang), axis=alt.Axis(format="%")),
        color=alt.Color("cls:N", title=None, sort=labels,
                        scale=alt.Scale(domain=labels, range=[WORLDCOVER_HEX.get(c, "#999999") for c in codes])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("zone:N", title=t("col.zone", lang)), alt.Tooltip("cls:N", title=t("col.class", lang)),
                 alt.Tooltip("ha:Q", title=t("unit.ha", lang), format=",.0f")],
    ).properties(height=alt.Step(44))
    return _style(chart)
