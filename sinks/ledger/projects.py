"""Carbon-sink projects: an EX-ACT-style with / without-project balance for planting plans.

Plan item 19 asks for carbon-sink projects (碳汇项目) that could enter the carbon market. For each
activity (afforestation of bare land, shelterbelts on field edges, greening of grey built-up
land, wetland restoration, ...) this module compares, over a project duration ``T``:

* **without the project**: the land stays in its present class and grows at that class's Tier 1
  gain rate (zero for most non-forest classes);
* **with the project**: the land becomes the ``plant_to`` class:

  - living biomass (above + below ground) grows at the new class's gain rate, capped at the new
    class's mature biomass density (IPCC 2006 GL Vol.4 Ch.4 eq. 2.9 / Tier 1 gain-loss);
  - the present class's living biomass is cleared in year 1 (IPCC 2006 GL Vol.4 Ch.2 eq. 2.16,
    Tier 1: biomass immediately before conversion is lost);
  - dead organic matter and soil carbon move linearly toward the new class's densities over a
    transition period of ``D = 20`` years (IPCC 2006 GL Vol.4 Ch.2 sec. 2.3.2.2 and eq. 2.25:
    the Tier 1 default time dependence of stock change factors is 20 years);

and reports the balance (with - without) in t CO2e, as a total over ``T`` and per year, the way
FAO's EX-ACT tool lays out a project (Bernoux et al. 2010, FAO EX-ACT technical guidelines).

Sign: positive figures are **removals** (the project takes CO2 out of the air); a negative
balance is a net source. Densities and rates come from the coefficient table with their
citations; a class whose gain rate needs a source is reported as *not estimated*, never as 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sinks.carbon import C_TO_CO2
from sinks.coefficients import CoefficientTable
from sinks.notes import Note

TRANSITION_YEARS = 20  # IPCC 2006 GL Vol.4 Ch.2 eq. 2.25: default D for soil (and DOM) stock change
ACTIVITY_COLUMNS = ("activity", "code", "plant_to", "area_ha")
TABLE_COLUMNS = ("activity", "code", "plant_to", "area_ha", "years", "without_tco2e", "biomass_growth_tco2e",
                 "biomass_cleared_tco2e", "dom_change_tco2e", "soil_change_tco2e", "with_tco2e", "balance_tco2e",
                 "balance_tco2e_yr", "balance_tco2e_ha_yr", "growth_estimated", "upper_bound")


@dataclass(frozen=True)
class ProjectView:
    """The with / without-project table (one row per activity and present class, plus the total).

    ``table`` columns are :data:`TABLE_COLUMNS` (t CO2e; positive = removal); ``notes`` say
    which activities could not be estimated and what the balance leaves out.
    """

    table: pd.DataFrame
    years: int
    share: float
    notes: tuple[Note, ...]

    @property
    def total_balance_tco2e(self) -> float:
        t = self.table[self.table["activity"] != "total"]
        return float(t["balance_tco2e"].sum(min_count=1))


def project_view(activities: pd.DataFrame, coefficients: CoefficientTable, *, years: int = 20, share: float = 1.0,
                 upper_bound_activities: tuple[str, ...] = ("greening",)) -> ProjectView:
    """The EX-ACT-style balance of planting ``share`` of each activity's area for ``years``.

    Parameters
    ----------
    activities
        ``activity, code, plant_to, area_ha``: the area of each present land-cover ``code`` that
        the activity turns into ``plant_to`` (e.g. the greening assessment's candidates summed by
        kind and class, or a wetland-restoration plan).
    coefficients
        Pool densities and gain rates per class.
    years
        Project duration ``T`` (years, >= 1).
    share
        The share of the areas actually planted (0-1).
    upper_bound_activities
        Activities whose area is an upper bound (flagged in the table).
    """
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    missing = [c for c in ACTIVITY_COLUMNS if c not in activities.columns]
    if missing:
        raise ValueError(f"activities lack column(s) {missing}")
    acts = activities.groupby(["activity", "code", "plant_to"], as_index=False, sort=True)["area_ha"].sum()
    acts = acts[acts["area_ha"] > 0]
    pools = coefficients.pools()
    gain = coefficients.gain_rates()
    unknown = sorted({int(c) for c in pd.concat([acts["code"], acts["plant_to"]])} - set(coefficients.codes))
    if unknown:
        raise ValueError(f"classes {unknown} are not in the coefficient table {coefficients.path}")

    def pool(col: str, codes: pd.Series) -> np.ndarray:
        return codes.map(pools[col]).to_numpy(dtype=float)

    area = acts["area_ha"].to_numpy(dtype=float) * share
    frm, to = acts["code"].astype(int), acts["plant_to"].astype(int)
    live_to = pool("c_above", to) + pool("c_below", to)
    live_from = pool("c_above", frm) + pool("c_below", frm)
    g_to = to.map(gain).to_numpy(dtype=float)
    g_from = frm.map(gain).to_numpy(dtype=float)
    phase = min(years, TRANSITION_YEARS) / TRANSITION_YEARS
    growth_tc = area * np.minimum(g_to * years, live_to)  # NaN where the new class has no rate
    without_tc = area * g_from * years
    cleared_tc = area * live_from
    dom_tc = area * (pool("c_dead", to) - pool("c_dead", frm)) * phase
    soil_tc = area * (pool("c_soil", to) - pool("c_soil", frm)) * phase
    with_tc = growth_tc - cleared_tc + dom_tc + soil_tc
    table = pd.DataFrame({
        "activity": acts["activity"].to_numpy(), "code": frm.to_numpy(), "plant_to": to.to_numpy(), "area_ha": area,
        "years": years, "without_tco2e": without_tc * C_TO_CO2, "biomass_growth_tco2e": growth_tc * C_TO_CO2,
        "biomass_cleared_tco2e": -cleared_tc * C_TO_CO2, "dom_change_tco2e": dom_tc * C_TO_CO2,
        "soil_change_tco2e": soil_tc * C_TO_CO2, "with_tco2e": with_tc * C_TO_CO2,
    })
    table["balance_tco2e"] = table["with_tco2e"] - table["without_tco2e"]
    table["balance_tco2e_yr"] = table["balance_tco2e"] / years
    with np.errstate(divide="ignore", invalid="ignore"):
        table["balance_tco2e_ha_yr"] = np.where(area > 0, table["balance_tco2e_yr"] / area, np.nan)
    table["growth_estimated"] = np.isfinite(g_to) & np.isfinite(g_from)
    table["upper_bound"] = table["activity"].isin(upper_bound_activities)
    notes: list[Note] = []
    if len(table):
        total = {c: table[c].sum(min_count=1) for c in TABLE_COLUMNS if c.endswith("tco2e") or c == "area_ha"}
        total_row = {**{c: np.nan for c in TABLE_COLUMNS}, **total, "activity": "total", "years": years,
                     "growth_estimated": bool(table["growth_estimated"].all()), "upper_bound": bool(table["upper_bound"].any())}
        total_row["balance_tco2e_yr"] = total_row["balance_tco2e"] / years
        total_row["balance_tco2e_ha_yr"] = total_row["balance_tco2e_yr"] / total_row["area_ha"] if total_row["area_ha"] > 0 else np.nan
        table = pd.concat([table, pd.DataFrame([total_row])], ignore_index=True)
        bad = table[(table["activity"] != "total") & ~table["growth_estimated"]]
        if len(bad):
            codes = sorted({int(c) for c in pd.concat([bad["code"], bad["plant_to"]]) if not np.isfinite(gain.get(int(c), np.nan))})
            notes.append(Note("growth_not_estimated",
                              f"no gain rate for class(es) {codes}: biomass growth of {', '.join(sorted(set(bad['activity'])))} is not estimated "
                              "(the balance holds only the soil and dead-organic-matter terms); add a cited rate to the coefficient table",
                              codes=codes, activities=sorted(set(bad["activity"]))))
        parts = table[table["activity"] != "total"]
        soil_share = parts["soil_change_tco2e"].abs() / parts[["biomass_growth_tco2e", "biomass_cleared_tco2e", "dom_change_tco2e",
                                                                "soil_change_tco2e"]].abs().sum(axis=1)
        big = parts[soil_share > 0.5]
        if len(big):
            notes.append(Note("soil_dominates",
                              f"the soil term is more than half of the carbon moved (by magnitude) in {', '.join(sorted(set(big['activity'])))}: it is the "
                              "difference of the coefficient table's soil carbon between the classes, which at Tier 1 should come from the "
                              "land-use factors alone; if the two classes' soil values differ by soil type (e.g. sandy soil under bare land), "
                              "the soil gain is overstated: check c_soil of the present class", activities=sorted(set(big["activity"]))))
    else:
        table = pd.DataFrame(columns=list(TABLE_COLUMNS))
        notes.append(Note("no_activities", "no planting or restoration area was given: the project view is empty"))
    if years > TRANSITION_YEARS:
        notes.append(Note("beyond_transition", f"soil and dead organic matter reach the new class's densities after {TRANSITION_YEARS} years and stop changing",
                          years=TRANSITION_YEARS))
    notes.append(Note("scope", "the balance counts CO2 in biomass, dead organic matter and soil only: no CH4 or N2O, no emissions from "
                      "planting work, no leakage or permanence buffer (a carbon-market methodology would deduct these)"))
    table = table[list(TABLE_COLUMNS)].astype({"code": "Int64", "plant_to": "Int64"})
    return ProjectView(table=table, years=years, share=share, notes=tuple(notes))


def activities_from_candidates(candidates: pd.DataFrame, *, year: int | None = None, unit_ids: list[str] | None = None) -> pd.DataFrame:
    """``activity, code, plant_to, area_ha`` from a greening assessment's ``candidates`` (the
    latest date unless ``year`` is given; all units unless ``unit_ids``): the activity is the
    candidate kind (afforestation / greening / shelterbelt)."""
    if candidates.empty:
        return pd.DataFrame(columns=list(ACTIVITY_COLUMNS))
    c = candidates[candidates["year"] == (candidates["year"].max() if year is None else year)]
    if unit_ids is not None:
        c = c[c["unit_id"].astype(str).isin([str(u) for u in unit_ids])]
    c = c.dropna(subset=["plant_to"])
    out = c.rename(columns={"kind": "activity"}).groupby(["activity", "code", "plant_to"], as_index=False)["area_ha"].sum()
    return out.astype({"code": int, "plant_to": int})[list(ACTIVITY_COLUMNS)]
