"""The headline figures (``Assessment.kpis``) as metric cards, and the methods note under the map."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from sinks.pipeline import Assessment, Kpis
from ui import fmt
from ui.i18n import lc_name, quantity_name, t, zone_names
from ui.tables import codes_to_names


@dataclass(frozen=True)
class Card:
    key: str  # stable id: stock, removals, emissions, offset
    label: str
    value: str
    delta: str | None
    help: str


def kpi_cards(k: Kpis, lang: str) -> list[Card]:
    """Four cards: total stock (± uncertainty), net removals (gain-loss), emissions, offset ratio.

    The unit goes into the label (``碳储量总量（万吨碳）``) so the value is a bare number that
    fits the card; four significant digits keep it within 0.05 % of the computed figure.
    """
    stock, stock_unit = fmt.tonnes_parts(k.total_stock_tc, "c", lang)
    rem, rem_unit = fmt.tonnes_parts(k.removals_tco2e_yr, "co2e_yr", lang)
    em, em_unit = fmt.tonnes_parts(k.emissions_tco2e, "co2", lang)
    unc = fmt.plus_minus_pct(k.stock_uncertainty_pct)
    area_unc = fmt.plus_minus_pct(k.stock_area_uncertainty_pct)
    if not unc:  # coefficients lack uncertainties; the map's area part may still be known
        unc = t("kpi.area_uncertainty_only", lang, pm=area_unc) if area_unc else t("kpi.uncertainty_unknown", lang)
    return [
        Card("stock", fmt.with_unit(t("kpi.stock", lang), stock_unit, lang), stock,
             unc, t("kpi.stock_help", lang, year=fmt.year(k.year, lang))),
        Card("removals", fmt.with_unit(t("kpi.removals", lang), rem_unit, lang), rem,
             t("kpi.removals_delta", lang, period=fmt.period(k.removals_period, lang)), t("kpi.removals_help", lang)),
        Card("emissions", fmt.with_unit(t("kpi.emissions", lang), em_unit, lang), em,
             fmt.year(k.emissions_year, lang) if k.emissions_year else t("kpi.no_inventory", lang), t("kpi.emissions_help", lang)),
        Card("offset", t("kpi.offset", lang), fmt.pct(k.offset_ratio, lang),
             t("kpi.offset_delta", lang), t("kpi.offset_help", lang)),
    ]


def draw_kpis(cards: list[Card]) -> None:
    for col, c in zip(st.columns(len(cards)), cards):
        col.metric(c.label, c.value, delta=c.delta, delta_color="gray", delta_arrow="off", help=c.help, border=True)


def methods_note(a: Assessment, year: int, lang: str) -> str:
    """Markdown: stock-difference vs gain-loss for this year, unverified and source-required values."""
    parts = [t("methods.intro", lang)]
    f = a.flows_for_year(year)
    if f is not None:
        sd = float(f["sequestration_tco2e_yr"].sum())
        gl = float(f["net_removals_tco2e_yr"].sum())
        parts.append(t("methods.compare", lang, period=fmt.period(str(f["period"].iloc[0]), lang),
                       sd=fmt.tonnes(sd, "co2e_yr", lang), gl=fmt.tonnes(gl, "co2e_yr", lang),
                       growth=fmt.tonnes(float(f["growth_tco2e_yr"].sum()), "co2e_yr", lang)))
    v = a.coefficients.values
    unverified = a.coefficients.unverified()
    present = set(int(c) for c in a.areas["lucode"].unique())
    sep = "、" if lang == "zh" else ", "
    per_class = unverified[unverified["lucode"].astype(int).isin(present)].groupby("lucode").size()
    all_per_class = v.groupby("lucode").size()
    classes = sep.join(f"{lc_name(int(c), lang)} {n}/{int(all_per_class[c])}" for c, n in per_class.items())
    parts.append(t("methods.unverified", lang, n=len(unverified), total=len(v), classes=classes or fmt.DASH))
    required = v[v["value"].isna() & v["lucode"].astype(int).isin(present)]
    if len(required):
        items = "、".join if lang == "zh" else ", ".join
        parts.append(t("methods.source_required", lang, items=items(
            f"{lc_name(int(r.lucode), lang)} ({int(r.lucode)}) · {quantity_name(r.quantity, lang)}" for r in required.itertuples())))
    return "\n\n".join(parts)


def unestimated_table(a: Assessment, year: int, lang: str) -> pd.DataFrame:
    """Per zone: land whose annual gain is not counted (no sourced rate), with its classes."""
    f = a.flows_for_year(year)
    cols = [t("col.zone", lang), t("col.unestimated_area", lang), t("col.unestimated_classes", lang)]
    if f is None:
        return pd.DataFrame(columns=cols)
    names = zone_names(a, lang)
    f = f.set_index("zone_id").reindex([z for z in a.zone_ids if z in set(f["zone_id"])]).reset_index()
    rows = [(names.get(r.zone_id, r.zone_id), fmt.hectares(r.unestimated_area_ha, lang),
             codes_to_names(r.unestimated_codes, lang) or fmt.DASH) for r in f.itertuples()]
    rows.append((t("col.all_zones", lang), fmt.hectares(float(f["unestimated_area_ha"].sum()), lang), ""))
    return pd.DataFrame(rows, columns=cols)
