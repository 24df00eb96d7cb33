"""Carbon stocks and annual removals from land-cover areas and a coefficient table.

* Stocks (t C) per zone and pool: area_ha x density (t C/ha), summed over classes, as InVEST's
  carbon model does.
* Stock-difference sequestration (IPCC 2006 Vol.4 Eq. 2.8): (stock_t1 - stock_t0) / (t1 - t0),
  what InVEST reports as sequestration.
* Gain-loss (IPCC 2006 Vol.4 Eq. 2.7): annual gain of land that stays in its class (area x
  ``gain_tc_per_ha_yr``) plus the stock change of converted land spread over the period. With the
  static densities of a pools table the conversion part equals the stock difference, so
  ``gain-loss net = stock-difference + growth on unchanged land``; tests check that identity.

Stocks (t C) and flows (t CO2e/yr) never share a column; flows are non-negative magnitudes and
the one net figure is computed here. Uncertainties follow IPCC Approach 1 (2006 Vol.1 Ch.3
Eq. 3.1): for a sum of independent terms, U = sqrt(sum((U_i x_i)^2)) / |sum x_i|.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sinks.coefficients import POOLS, CoefficientTable
from sinks.units import C_TO_CO2


def _approach1_pct(values: np.ndarray, pct: np.ndarray) -> float:
    """Combined +/- % of a sum of terms with independent +/- % uncertainties (NaN if any unknown)."""
    total = float(np.sum(values))
    if total == 0:
        return 0.0
    if np.isnan(pct[values != 0]).any():
        return float("nan")
    return float(np.sqrt(np.sum((np.nan_to_num(pct) * values) ** 2)) / abs(total))


def stocks_by_pool(areas: pd.DataFrame, table: CoefficientTable, *, area_uncertainty_pct: Mapping[int, float] | None = None) -> pd.DataFrame:
    """Carbon stock per zone and pool.

    Parameters
    ----------
    areas
        ``zone_id, lucode, area_ha`` for valid (non-nodata) pixels.
    area_uncertainty_pct
        Optional +/- % (95 %) of each class's area, from the map's accuracy assessment
        (Olofsson et al. 2014 adjusted-area intervals). Each term area x density then carries
        sqrt(U_area^2 + U_density^2) (IPCC 2006 Vol.1 Ch.3 Eq. 3.2, a product).

    Returns
    -------
    DataFrame
        ``zone_id, pool, stock_tc, uncertainty_pct, area_uncertainty_pct`` (one row per zone x
        pool): the combined uncertainty, and the part that comes from the map's areas alone
        (NaN when no accuracy report was given).
    """
    table.require_codes(list(areas["lucode"].unique()), raster="land-cover areas")
    dens = table.values[table.values["quantity"].isin(POOLS)]
    m = areas.merge(dens[["lucode", "quantity", "value", "uncertainty_pct"]], on="lucode")
    m["stock_tc"] = m["area_ha"] * m["value"]
    if area_uncertainty_pct is not None:
        ua = m["lucode"].map(dict(area_uncertainty_pct)).astype(float)
        m["area_unc"] = ua
        m["term_unc"] = np.sqrt(ua ** 2 + m["uncertainty_pct"] ** 2)
    else:
        m["area_unc"] = np.nan
        m["term_unc"] = m["uncertainty_pct"]
    rows = []
    for (zone, pool), g in m.groupby(["zone_id", "quantity"], sort=True):
        st = g["stock_tc"].to_numpy()
        rows.append({"zone_id": zone, "pool": pool, "stock_tc": float(st.sum()),
                     "uncertainty_pct": _approach1_pct(st, g["term_unc"].to_numpy()),
                     "area_uncertainty_pct": _approach1_pct(st, g["area_unc"].to_numpy()) if area_uncertainty_pct is not None else float("nan")})
    out = pd.DataFrame(rows, columns=["zone_id", "pool", "stock_tc", "uncertainty_pct", "area_uncertainty_pct"])
    full = pd.MultiIndex.from_product([sorted(areas["zone_id"].unique()), list(POOLS)], names=["zone_id", "pool"])
    out = out.set_index(["zone_id", "pool"]).reindex(full).reset_index()
    out["stock_tc"] = out["stock_tc"].fillna(0.0)
    return out


def total_stocks(stocks: pd.DataFrame) -> pd.DataFrame:
    """``zone_id, stock_tc, uncertainty_pct, area_uncertainty_pct`` summed over pools.

    Pools are combined as independent terms (Approach 1). The area part is the same map error in
    every pool, so it is fully correlated across pools: its % is the stock-weighted mean.
    """
    rows = []
    for zone, g in stocks.groupby("zone_id", sort=True):
        st = g["stock_tc"].to_numpy()
        au = g["area_uncertainty_pct"].to_numpy() if "area_uncertainty_pct" in g else np.full(len(g), np.nan)
        area_pct = float(np.sum(st * au) / st.sum()) if st.sum() > 0 and not np.isnan(au[st != 0]).any() else float("nan")
        rows.append({"zone_id": zone, "stock_tc": float(st.sum()),
                     "uncertainty_pct": _approach1_pct(st, g["uncertainty_pct"].to_numpy()),
                     "area_uncertainty_pct": area_pct})
    return pd.DataFrame(rows, columns=["zone_id", "stock_tc", "uncertainty_pct", "area_uncertainty_pct"])


def stock_difference(stock_t0: pd.DataFrame, stock_t1: pd.DataFrame, *, years: float) -> pd.DataFrame:
    """Stock-difference sequestration per zone (IPCC 2006 Vol.4 Eq. 2.8; InVEST's output).

    ``stock_t0`` / ``stock_t1``: ``zone_id, stock_tc`` totals. Positive = sink.
    Returns ``zone_id, stock_t0_tc, stock_t1_tc, change_tc, sequestration_tc_yr,
    sequestration_tco2e_yr``.
    """
    if years <= 0:
        raise ValueError(f"the period must be positive, got {years} years")
    m = stock_t0[["zone_id", "stock_tc"]].merge(stock_t1[["zone_id", "stock_tc"]], on="zone_id", suffixes=("_t0", "_t1"), how="outer").fillna(0.0)
    m = m.rename(columns={"stock_tc_t0": "stock_t0_tc", "stock_tc_t1": "stock_t1_tc"})
    m["change_tc"] = m["stock_t1_tc"] - m["stock_t0_tc"]
    m["sequestration_tc_yr"] = m["change_tc"] / years
    m["sequestration_tco2e_yr"] = m["sequestration_tc_yr"] * C_TO_CO2
    return m


def gain_loss(change: pd.DataFrame, table: CoefficientTable, *, years: float) -> pd.DataFrame:
    """Gain-loss annual flows per zone over one period (IPCC 2006 Vol.4 Eq. 2.7).

    Parameters
    ----------
    change
        ``zone_id, code_t0, code_t1, area_ha`` (valid pixels on both dates).
    years
        Length of the period, t1 - t0.

    Returns
    -------
    DataFrame, one row per zone
        ``stable_area_ha`` (same class on both dates), ``converted_area_ha``,
        ``growth_tco2e_yr`` (gain of unchanged land with a known rate), ``conversion_gain_tco2e_yr``
        and ``conversion_loss_tco2e_yr`` (stock change of converted land / years, as magnitudes),
        ``net_removals_tco2e_yr`` = growth + conversion gain - conversion loss,
        ``unestimated_area_ha`` (unchanged land whose class has no sourced gain rate) and
        ``unestimated_codes``; plus ``growth_uncertainty_pct`` (Approach 1).
    """
    if years <= 0:
        raise ValueError(f"the period must be positive, got {years} years")
    codes = sorted(set(change["code_t0"]) | set(change["code_t1"]))
    table.require_codes(codes, raster="land-cover change")
    density = table.total_density_tc_per_ha()
    gain = table.gain_rates()
    gain_unc = table.values[table.values["quantity"] == "gain_tc_per_ha_yr"].set_index("lucode")["uncertainty_pct"]
    c = change.copy()
    stable = c["code_t0"] == c["code_t1"]
    c["d_tc"] = (c["code_t1"].map(density) - c["code_t0"].map(density)) * c["area_ha"]
    c.loc[stable, "d_tc"] = 0.0
    c["rate"] = c["code_t0"].map(gain)
    c["growth_tc_yr"] = np.where(stable & c["rate"].notna(), c["area_ha"] * c["rate"].fillna(0.0), 0.0)
    c["rate_unc"] = c["code_t0"].map(gain_unc)
    rows = []
    for zone, g in c.groupby("zone_id", sort=True):
        st = g[g["code_t0"] == g["code_t1"]]
        unknown = st[st["rate"].isna()]
        d = g["d_tc"].to_numpy()
        growth = float(g["growth_tc_yr"].sum())
        conv_gain = float(d[d > 0].sum()) / years
        conv_loss = float(-d[d < 0].sum()) / years
        rows.append({
            "zone_id": zone,
            "stable_area_ha": float(st["area_ha"].sum()),
            "converted_area_ha": float(g.loc[g["code_t0"] != g["code_t1"], "area_ha"].sum()),
            "growth_tco2e_yr": growth * C_TO_CO2,
            "growth_uncertainty_pct": _approach1_pct(st["growth_tc_yr"].to_numpy(), st["rate_unc"].to_numpy()),
            "conversion_gain_tco2e_yr": conv_gain * C_TO_CO2,
            "conversion_loss_tco2e_yr": conv_loss * C_TO_CO2,
            "net_removals_tco2e_yr": (growth + conv_gain - conv_loss) * C_TO_CO2,
            "unestimated_area_ha": float(unknown["area_ha"].sum()),
            "unestimated_codes": ",".join(str(int(x)) for x in sorted(unknown["code_t0"].unique())),
        })
    return pd.DataFrame(rows)
