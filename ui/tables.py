"""Tables for the screens: core frames reshaped, labelled in the reader's language, with CSV export.

Every builder returns a :class:`Table`. Its frame keeps the raw numbers and headers that carry
their units (that is what the CSV download holds, unrounded); the on-screen label may be shorter
(the unit is then in the section caption) and the on-screen format comes from :mod:`ui.fmt`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from sinks.coefficients import GAIN, POOLS
from sinks.pipeline import Assessment
from ui import fmt
from ui.i18n import lc_name, pool_name, quantity_name, t, zone_names


@dataclass(frozen=True)
class Table:
    df: pd.DataFrame
    file_name: str
    column_config: dict = field(default_factory=dict)

    def csv(self) -> bytes:
        """UTF-8 with BOM, so Excel opens the Chinese headers correctly."""
        return self.df.to_csv(index=False).encode("utf-8-sig")


def _num(label: str, fmt_str: str, help_: str | None = None):
    return st.column_config.NumberColumn(label, format=fmt_str, help=help_)


def _zone_col(df: pd.DataFrame, a: Assessment, ids, lang: str) -> None:
    names = zone_names(a, lang)
    df[t("col.zone", lang)] = [names.get(z, z) for z in ids]


def stocks_by_pool(a: Assessment, year: int, lang: str) -> Table:
    """Zone x pool carbon stock (t C) for ``year``, with the total and its ± uncertainty."""
    s = a.stocks[a.stocks["year"] == year]
    wide = s.pivot(index="zone_id", columns="pool", values="stock_tc").reindex(columns=list(POOLS)).reindex(a.zone_ids)
    tot = a.stock_totals[a.stock_totals["year"] == year].set_index("zone_id").reindex(a.zone_ids)
    unit = t("unit.tc", lang)
    df = pd.DataFrame()
    _zone_col(df, a, wide.index, lang)
    cfg = {}
    for p in POOLS:
        col = fmt.with_unit(pool_name(p, lang), unit, lang)
        df[col] = wide[p].to_numpy()
        cfg[col] = _num(pool_name(p, lang), fmt.COL_TONNES)
    total = fmt.with_unit(t("col.total", lang), unit, lang)
    df[total] = tot["stock_tc"].to_numpy()
    cfg[total] = _num(t("col.total", lang), fmt.COL_TONNES)
    unc = t("col.uncertainty_pct", lang)
    df[unc] = tot["uncertainty_pct"].to_numpy()
    cfg[unc] = _num(unc, fmt.COL_PCT, t("col.uncertainty_help", lang))
    return Table(df, f"carbon_stocks_by_pool_{year}.csv", cfg)


# flows column -> (label key, help key or None)
_FLOW_COLUMNS = {
    "sequestration_tco2e_yr": ("col.stock_difference", "col.stock_difference_help"),
    "net_removals_tco2e_yr": ("col.gain_loss", "col.gain_loss_help"),
    "growth_tco2e_yr": ("col.growth", None),
    "conversion_gain_tco2e_yr": ("col.conversion_gain", None),
    "conversion_loss_tco2e_yr": ("col.conversion_loss", None),
}


def flows(a: Assessment, year: int, lang: str) -> Table | None:
    """Per zone: stock-difference and gain-loss annual flows side by side (t CO2e/yr)."""
    f = a.flows_for_year(year)
    if f is None:
        return None
    f = f.set_index("zone_id").reindex([z for z in a.zone_ids if z in set(f["zone_id"])])
    df = pd.DataFrame()
    _zone_col(df, a, f.index, lang)
    df[t("col.period", lang)] = f["period"].to_numpy()
    cfg = {}
    unit = t("unit.tco2e_yr", lang)
    for src, (label_key, help_key) in _FLOW_COLUMNS.items():
        col = fmt.with_unit(t(label_key, lang), unit, lang)
        df[col] = f[src].to_numpy()
        cfg[col] = _num(t(label_key, lang), fmt.COL_TONNES, t(help_key, lang) if help_key else None)
    ha = fmt.with_unit(t("col.unestimated_area", lang), t("unit.ha", lang), lang)
    df[ha] = f["unestimated_area_ha"].to_numpy()
    cfg[ha] = _num(ha, fmt.COL_HA, t("col.unestimated_help", lang))
    df[t("col.unestimated_classes", lang)] = [codes_to_names(c, lang) for c in f["unestimated_codes"]]
    return Table(df, f"carbon_flows_{str(f['period'].iloc[0])}.csv", cfg)


def codes_to_names(codes: str, lang: str) -> str:
    """``"90,95"`` as ``"草本湿地 (90)、红树林 (95)"``."""
    parts = [c for c in str(codes).split(",") if c.strip() and c.strip() != "nan"]
    sep = "、" if lang == "zh" else ", "
    return sep.join(f"{lc_name(int(c), lang)} ({int(c)})" for c in parts)


def areas_by_class(a: Assessment, year: int, lang: str) -> Table:
    """Zone x land-cover class area (ha) for ``year``, plus nodata and the valid total."""
    ar = a.areas[a.areas["year"] == year]
    wide = ar.pivot_table(index="zone_id", columns="lucode", values="area_ha", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(a.zone_ids).fillna(0.0)
    nod = a.nodata[a.nodata["year"] == year].set_index("zone_id").reindex(a.zone_ids)
    ha = t("unit.ha", lang)
    df = pd.DataFrame()
    _zone_col(df, a, wide.index, lang)
    cfg = {}
    for code in sorted(wide.columns):
        label = f"{lc_name(int(code), lang)} ({int(code)})"
        col = fmt.with_unit(label, ha, lang)
        df[col] = wide[code].to_numpy()
        cfg[col] = _num(label, fmt.COL_HA)
    for src, key in (("nodata_ha", "col.nodata"), ("valid_ha", "col.valid")):
        col = fmt.with_unit(t(key, lang), ha, lang)
        df[col] = nod[src].to_numpy()
        cfg[col] = _num(t(key, lang), fmt.COL_HA)
    return Table(df, f"land_cover_area_ha_{year}.csv", cfg)


_QORDER = {q: i for i, q in enumerate((*POOLS, GAIN))}


def coefficients(a: Assessment, lang: str) -> Table:
    """The coefficient table with its sources and an 'unverified' flag per value."""
    v = a.coefficients.values.assign(_q=lambda d: d["quantity"].map(_QORDER)).sort_values(["lucode", "_q"])
    df = pd.DataFrame({
        t("col.lucode", lang): v["lucode"].astype(int).to_numpy(),
        t("col.class", lang): [lc_name(int(c), lang) for c in v["lucode"]],
        t("col.quantity", lang): [quantity_name(q, lang) for q in v["quantity"]],
        t("col.value", lang): v["value"].to_numpy(dtype=float),
        t("col.unit", lang): v["unit"].to_numpy(),
        t("col.uncertainty_pct", lang): pd.to_numeric(v["uncertainty_pct"], errors="coerce").to_numpy(),
        t("col.unverified", lang): (~v["verified"].astype(bool)).to_numpy(),
        t("col.status", lang): [t("coef.source_required", lang) if pd.isna(x) else "" for x in v["value"]],
        t("col.source", lang): v["source"].to_numpy(),
        t("col.note", lang): v["note"].to_numpy(),
    })
    cfg = {
        t("col.value", lang): _num(t("col.value", lang), fmt.COL_DENSITY),
        t("col.uncertainty_pct", lang): _num(t("col.uncertainty_pct", lang), fmt.COL_PCT),
        t("col.unverified", lang): st.column_config.CheckboxColumn(t("col.unverified", lang), help=t("col.unverified_help", lang)),
        t("col.source", lang): st.column_config.TextColumn(t("col.source", lang), width="large"),
        t("col.note", lang): st.column_config.TextColumn(t("col.note", lang), width="large"),
    }
    return Table(df, "carbon_coefficients.csv", cfg)


def show(table: Table, *, key: str, lang: str, height: int | str = "auto") -> None:
    """Draw a table and its CSV download button (missing values show as a dash)."""
    st.dataframe(table.df, hide_index=True, column_config=table.column_config, height=height, placeholder=fmt.DASH)
    st.download_button(
        t("download.csv", lang), data=table.csv(), file_name=table.file_name, mime="text/csv",
        key=f"dl_{key}", on_click="ignore", icon=":material/download:",
    )
