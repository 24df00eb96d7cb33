"""Trajectories: the emissions peak with its evidence, projections under scenarios, the year of
neutrality and the dual-control (total and intensity) table.

Targets of the action plan (主要目标): emissions peak before 2030 and neutrality before 2060,
read here as "in 2030 at the latest" and "in 2060 at the latest" (2030年前 / 2060年前).

Units: emissions, removals and net in t CO2(e)/yr, stored as non-negative magnitudes (net =
emissions - removals); GDP in 亿元 (10^8 CNY); intensity in t CO2 per 10^4 CNY (万元) =
emissions / (GDP x 10^4). Every function is pure: frames in, frames or frozen results out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from geodata.errors import DataError, SchemaError
from sinks.ledger.scenarios import (PLAN_PERIOD_YEARS, SECTORS, Scenario, Steps, compound, constant, plan_periods)
from sinks.notes import Note
from sinks.units import C_TO_CO2

PEAK_TARGET_YEAR = 2030        # 主要目标: 2030年之前 ... 达到峰值
NEUTRALITY_TARGET_YEAR = 2060  # 主要目标: 2060年之前 ... 实现"碳中和"
TEN_K_CNY_PER_100M = 1e4       # 1 亿元 = 10^4 万元
PEAK_STATUSES = ("peaked", "plateau", "rising", "undetermined")
DUAL_CONTROL_YEARS = tuple(range(2025, 2061, PLAN_PERIOD_YEARS))  # five-year-plan ends 2025 (14th) ... 2060


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------

def emission_table(emissions: pd.DataFrame, zone_ids=None) -> pd.DataFrame:
    """``zone_id, year, sector, emissions_tco2e`` from an inventory frame (``emissions_tco2`` is
    accepted as the older name), restricted to ``zone_ids``; sectors must be in :data:`SECTORS`.
    Rows of one zone, year and sector (sub-sectors, fuels) are added up; a frame with several
    ``dataset`` or ``scope`` values is refused (series side by side are never added)."""
    e = emissions
    if "emissions_tco2e" not in e.columns and "emissions_tco2" in e.columns:
        e = e.rename(columns={"emissions_tco2": "emissions_tco2e"})
    missing = [c for c in ("zone_id", "year", "sector", "emissions_tco2e") if c not in e.columns]
    if missing:
        raise SchemaError("<emissions>", f"the emissions frame lacks column(s) {missing}", "give zone_id, year, sector, emissions_tco2e")
    for col, fix in (("dataset", "pass one series (EmissionsInventory.by_sector(dataset), or filter the dataset column)"),
                     ("scope", "pass scope 1 only (adding scope 2 to scope 1 double counts power plants)")):
        if col in e.columns and e[col].nunique() > 1:
            raise SchemaError("<emissions>", f"the emissions frame holds several {col}s {list(pd.unique(e[col]))}: they must not be added up", fix)
    e = e[["zone_id", "year", "sector", "emissions_tco2e"]].assign(
        zone_id=lambda d: d["zone_id"].astype(str), year=lambda d: d["year"].astype(int),
        sector=lambda d: d["sector"].astype(str).str.strip().str.lower(), emissions_tco2e=lambda d: d["emissions_tco2e"].astype(float))
    if zone_ids is not None:
        ids = [str(z) for z in ([zone_ids] if isinstance(zone_ids, str) else zone_ids)]
        unknown = sorted(set(ids) - set(e["zone_id"]))
        if unknown:
            raise DataError("<emissions>", f"zone(s) {unknown} have no emissions rows (zones: {sorted(e['zone_id'].unique())})", "choose zones of the inventory")
        e = e[e["zone_id"].isin(ids)]
    bad = sorted(set(e["sector"]) - set(SECTORS))
    if bad:
        raise SchemaError("<emissions>", f"unknown sector(s) {bad}", f"use only {list(SECTORS)}")
    if e.empty:
        raise DataError("<emissions>", "no emissions rows", "load an inventory first")
    return e.reset_index(drop=True)


def incomplete_years(emissions: pd.DataFrame, zone_ids=None) -> pd.DataFrame:
    """``zone_id, year, sectors``: the zone-years that lack a sector the zone reports in other years
    (``sectors``: the missing ones, a tuple in :data:`SECTORS` order). Such a year's total is
    unknown, never the sum of the sectors there are: a missing sector is not 0 (a sector without
    emissions is written as an explicit 0 row)."""
    em = emission_table(emissions, zone_ids)
    return _incomplete(em)


def _incomplete(em: pd.DataFrame) -> pd.DataFrame:
    reported = em.groupby("zone_id")["sector"].agg(set)
    rows = []
    for (z, y), secs in em.groupby(["zone_id", "year"], sort=True)["sector"].agg(set).items():
        lack = reported[z] - secs
        if lack:
            rows.append((str(z), int(y), tuple(s for s in SECTORS if s in lack)))
    return pd.DataFrame(rows, columns=["zone_id", "year", "sectors"]).astype({"zone_id": object, "year": "int64", "sectors": object})


def incomplete_text(gaps: pd.DataFrame) -> str:
    """``pukou 2025 (transport), liuhe 2024-2025 (other)``-style text of :func:`incomplete_years`."""
    parts = []
    for (z, secs), g in gaps.groupby(["zone_id", "sectors"], sort=True):
        ys = sorted(int(y) for y in g["year"])
        parts.append(f"{z} {_years(ys)} ({', '.join(secs)})")
    return "; ".join(parts)


def _years(ys: list[int]) -> str:
    runs, start = [], None
    for i, y in enumerate(ys):
        if start is None:
            start = y
        if i == len(ys) - 1 or ys[i + 1] != y + 1:
            runs.append(str(start) if start == y else f"{start}-{y}")
            start = None
    return ", ".join(runs)


def _incomplete_note(gaps: pd.DataFrame) -> Note:
    return Note("sector_year_incomplete", f"emissions left empty where a zone lacks a sector it reports in other years: {incomplete_text(gaps)}; "
                "a missing sector is never counted as 0 (write an explicit 0 row where a sector has no emissions)",
                items=[{"zone_id": z, "year": int(y), "sectors": list(s)} for z, y, s in gaps.itertuples(index=False)])


def emission_totals(emissions: pd.DataFrame, zone_ids=None) -> pd.DataFrame:
    """``zone_id, year, emissions_tco2e`` summed over sectors; NaN for a zone-year that lacks a
    sector the zone reports in other years (:func:`incomplete_years`)."""
    em = emission_table(emissions, zone_ids)
    tot = em.groupby(["zone_id", "year"], as_index=False)["emissions_tco2e"].sum()
    gaps = _incomplete(em)
    if len(gaps):
        bad = pd.MultiIndex.from_frame(gaps[["zone_id", "year"]])
        tot.loc[pd.MultiIndex.from_frame(tot[["zone_id", "year"]]).isin(bad), "emissions_tco2e"] = np.nan
    return tot


# ---------------------------------------------------------------------------------------------
# peak detection
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Peak:
    """The peak of an emissions series and the evidence for it.

    ``status``: ``peaked`` (the smoothed series has stayed more than ``plateau_pct`` % below its
    maximum for at least ``confirm_years`` years), ``rising`` (the maximum is the last year and
    the last ``confirm_years + 1`` smoothed values increase, however slowly), ``plateau`` (else,
    when the last ``confirm_years + 1`` smoothed values are all within ``plateau_pct`` % of the
    maximum), ``undetermined`` (too few years, gaps, or a maximum too recent to confirm).
    ``peak_year``, ``peak_value_tco2e``, ``change_since_peak_pct`` and ``plateau_until`` are set
    for ``peaked`` and ``plateau`` only: a rising or undetermined series has no peak (its
    smoothed maximum, when there is one, is ``max_year`` / ``max_value_tco2e``).
    Values in t CO2e/yr; ``smoothed`` is the centred moving average (see :func:`smooth`).
    ``slope_*`` are the Theil-Sen slope (t CO2e/yr per year) and its 95 % interval over
    ``trend_years``, ``kendall_p`` the Mann-Kendall (Kendall tau vs year) two-sided p-value.
    """

    status: str
    peak_year: int | None
    peak_value_tco2e: float | None
    last_year: int | None
    last_smoothed_tco2e: float | None
    change_since_peak_pct: float | None
    growth_last_3yr_pct_yr: float | None
    before_target: bool | None
    plateau_until: int | None
    slope_tco2e_yr: float | None
    slope_low_tco2e_yr: float | None
    slope_high_tco2e_yr: float | None
    kendall_tau: float | None
    kendall_p: float | None
    trend_years: tuple[int, int] | None
    window: int
    plateau_pct: float
    confirm_years: int
    smoothed: pd.Series = field(compare=False, repr=False)
    evidence: tuple[Note, ...] = field(compare=False, default=())
    max_year: int | None = None           # the year of the smoothed maximum (whatever the status)
    max_value_tco2e: float | None = None  # the smoothed maximum


def smooth(series: pd.Series, window: int = 3) -> pd.Series:
    """Centred moving average over ``window`` (odd) years. At the edges the window shrinks to the
    years there are (window 3: the first value is the mean of the first two years, the last the
    mean of the last two), so the edge values are less smoothed and the last one lags."""
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd number of years >= 1, got {window}")
    return series.rolling(window, center=True, min_periods=1).mean()


def _trend(y: pd.Series) -> dict:
    """Theil-Sen slope (95 % CI) and Kendall tau / p of ``y`` against its years (>= 3 points)."""
    x = y.index.to_numpy(dtype=float)
    v = y.to_numpy(dtype=float)
    ts = stats.theilslopes(v, x, alpha=0.95)
    kt = stats.kendalltau(x, v)
    return {"slope": float(ts[0]), "low": float(ts[2]), "high": float(ts[3]),
            "tau": float(kt.statistic), "p": float(kt.pvalue) if np.isfinite(kt.pvalue) else float("nan")}


def _undetermined(s: pd.Series, window: int, plateau_pct: float, confirm_years: int, notes: list[Note]) -> Peak:
    last = int(s.index.max()) if len(s) else None
    return Peak("undetermined", None, None, last, None, None, None, None, None, None, None, None, None, None, None,
                window, plateau_pct, confirm_years, smoothed=pd.Series(dtype=float), evidence=tuple(notes))


def detect_peak(series: pd.Series, *, window: int = 3, as_of: int | None = None, plateau_pct: float = 1.0,
                confirm_years: int = 2, target_year: int = PEAK_TARGET_YEAR) -> Peak:
    """The peak year of an emissions series (index = year, values t CO2e/yr) and its evidence.

    The series is smoothed (:func:`smooth`); the peak is the year of the smoothed maximum (the
    first one if tied). ``as_of`` drops later years (what was knowable then). The status rules
    are in :class:`Peak`; ``peaked`` is judged on the last year still within ``plateau_pct`` % of
    the maximum, so a flat top followed by a decline counts. The evidence notes cite the numbers:
    peak year and value, the smoothed change since, the last year, the growth of the last three
    years, whether the peak is before ``target_year``, and a Theil-Sen slope with a Mann-Kendall
    test over the years from the peak on (with few years that test is weak: with n years the
    smallest possible two-sided p is 2 / n!).
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd number of years >= 1, got {window}")
    if confirm_years < 1:
        raise ValueError(f"confirm_years must be at least 1, got {confirm_years}")
    s = pd.Series(series, dtype=float)
    s.index = pd.Index(s.index).astype(int)
    if s.index.has_duplicates:
        raise ValueError(f"the series repeats years {sorted(set(s.index[s.index.duplicated()]))}")
    s = s.sort_index()
    if as_of is not None:
        s = s[s.index <= as_of]
    notes: list[Note] = []
    have = s.dropna()
    if len(have) and int(s.index.max()) > int(have.index.max()):
        tail = [int(y) for y in s.index if y > have.index.max()]
        notes.append(Note("peak_last_missing", f"no value (missing or incomplete) for {tail}: the peak is judged on the years up to "
                          f"{int(have.index.max())}", years=tail, last=int(have.index.max())))
    need = window + confirm_years
    if len(have) < need:
        notes.append(Note("peak_too_few", f"only {len(have)} year(s) of data: at least {need} (window {window} + {confirm_years} "
                          "confirmation years) are needed to judge a peak", n=len(have), need=need))
        return _undetermined(have, window, plateau_pct, confirm_years, notes)
    full = range(int(have.index.min()), int(have.index.max()) + 1)
    gaps = sorted(set(full) - set(have.index))
    if gaps:
        notes.append(Note("peak_gaps", f"the series has no value for {gaps}: a moving average across gaps would mislead, fill or "
                          "explain the missing years first", years=gaps))
        return _undetermined(have, window, plateau_pct, confirm_years, notes)
    sm = smooth(have, window)
    years = sm.index.to_numpy()
    last = int(years[-1])
    max_year = int(sm.idxmax())
    max_val = float(sm.max())
    last_sm = float(sm.iloc[-1])
    half = window // 2
    notes.append(Note("peak_smoothing", f"smoothed with a centred {window}-year moving average; the first and last {half} year(s) "
                      "average fewer years (the window shrinks at the edges), so the last smoothed value lags", window=window, half=half))
    if max_val <= 0:
        notes.append(Note("peak_zero", "the series is zero throughout: there is nothing to peak"))
        return _undetermined(have, window, plateau_pct, confirm_years, notes)
    in_band = sm >= max_val * (1 - plateau_pct / 100.0) - 1e-9 * max_val
    band_until = int(sm.index[in_band.to_numpy()].max())
    recent = sm.iloc[-(confirm_years + 1):]
    recent_in_band = bool(in_band.iloc[-(confirm_years + 1):].all())
    still_rising = max_year == last and bool((recent.diff().iloc[1:] > 0).all())
    if band_until <= last - confirm_years:
        status = "peaked"
    elif recent_in_band and not still_rising:
        status = "plateau"
    elif max_year == last:
        status = "rising"
    else:
        status = "undetermined"
    is_peak = status in ("peaked", "plateau")
    # a rising or undetermined series has no peak: its maximum is kept apart (max_year), never called a peak
    peak_year = max_year if is_peak else None
    peak_val = max_val if is_peak else None
    plateau_until = band_until if is_peak else None
    change = (last_sm / max_val - 1) * 100.0
    g3 = None
    if len(have) >= 4 and have.iloc[-4] > 0:
        g3 = ((have.iloc[-1] / have.iloc[-4]) ** (1 / 3) - 1) * 100.0
    left = target_year - last
    remain = f"{left} year(s) remain before {target_year}" if left > 0 else f"the target year {target_year} is reached without a peak"
    if is_peak:
        notes.append(Note("peak_max", f"the smoothed series is highest in {peak_year}: {max_val:,.0f} t CO2e/yr", year=peak_year, value=max_val))
        notes.append(Note("peak_since", f"from {peak_year} to {last} the smoothed value changed by {change:+.1f}% to {last_sm:,.0f} t CO2e/yr; "
                          f"last year {last}: {have.iloc[-1]:,.0f} t CO2e", peak_year=peak_year, last_year=last, change_pct=change,
                          last_smoothed=last_sm, last_value=float(have.iloc[-1])))
    elif status == "rising":
        grow = f", {'growing' if g3 > 0 else 'changing'} {g3:+.2f} %/yr over the last 3 years ({last - 3}-{last})" if g3 is not None else ""
        notes.append(Note("peak_none", f"no peak yet: the smoothed series is highest in its last year {last} ({max_val:,.0f} t CO2e/yr)"
                          f"{grow}; {remain}", status=status, max_year=max_year, max_value=max_val, growth_pct_yr=g3,
                          years_left=max(left, 0), target=target_year))
    else:
        notes.append(Note("peak_none", f"no confirmed peak: the smoothed series is highest in {max_year} ({max_val:,.0f} t CO2e/yr) and "
                          f"{last} is {change:+.1f}% from it ({last_sm:,.0f} t CO2e/yr), {last - max_year} year(s) later; a peak needs "
                          f"{confirm_years} year(s) more than {plateau_pct:g}% below the maximum; {remain}", status=status, max_year=max_year,
                          max_value=max_val, change_pct=change, years_left=max(left, 0), target=target_year))
    if g3 is not None:
        notes.append(Note("peak_growth3", f"emissions changed {g3:+.2f} %/yr over the last three years ({last - 3}-{last})",
                          growth_pct_yr=g3, first=last - 3, last=last))
    if is_peak and plateau_until > peak_year:
        notes.append(Note("peak_flat_top", f"the smoothed series stays within {plateau_pct:g}% of its maximum until {plateau_until}",
                          plateau_pct=plateau_pct, until=plateau_until))
    before: bool | None
    if status == "peaked":
        before = peak_year <= target_year
        notes.append(Note("peak_target_met" if before else "peak_target_missed",
                          f"the peak year {peak_year} is {'in or before' if before else 'after'} {target_year} (target: peak before {target_year})",
                          year=peak_year, target=target_year))
    elif last >= target_year:
        before = False
        notes.append(Note("peak_target_missed_open", f"no confirmed peak by {last}: the target (peak before {target_year}) is missed",
                          last_year=last, target=target_year))
    else:
        before = None
        notes.append(Note("peak_target_open", f"no confirmed peak as of {last}: {target_year - last} year(s) remain to peak before {target_year}",
                          last_year=last, target=target_year, years_left=target_year - last))
    status_text = {
        "peaked": f"peaked: {last - band_until} year(s) after {band_until} the smoothed series stays more than {plateau_pct:g}% below its maximum "
                  f"(needed: {confirm_years})",
        "plateau": f"plateau: the last {confirm_years + 1} smoothed values are within {plateau_pct:g}% of the maximum",
        "rising": f"rising: the smoothed maximum is the last year and the last {confirm_years + 1} smoothed values increase",
        "undetermined": f"undetermined: the maximum ({max_year}) is too recent to confirm ({confirm_years} years below it needed) and the "
                        "recent years are not flat",
    }[status]
    notes.append(Note(f"peak_status_{status}", status_text, status=status, confirm_years=confirm_years, plateau_pct=plateau_pct))
    if status == "plateau" and peak_year == last:
        notes.append(Note("peak_plateau_still_rising", f"the smoothed maximum is the last year ({last}): the series is flat within "
                          f"{plateau_pct:g}% but has not turned down yet", last_year=last, plateau_pct=plateau_pct))
    first_t = max_year if last - max_year >= 2 else max(int(years[0]), last - 4)
    seg = have[have.index >= first_t]
    tr = _trend(seg) if len(seg) >= 3 else None
    if tr is not None:
        n = len(seg)
        label = ("from the peak" if is_peak else "from the maximum") if first_t == max_year else "over the last years"
        notes.append(Note("peak_trend", f"Theil-Sen slope {label} ({first_t}-{last}): {tr['slope']:+,.0f} t CO2e/yr per year (95% CI "
                          f"{tr['low']:+,.0f} to {tr['high']:+,.0f}); Mann-Kendall tau {tr['tau']:+.2f}, p = {tr['p']:.3f} (n = {n})",
                          first=first_t, last=last, slope=tr["slope"], low=tr["low"], high=tr["high"], tau=tr["tau"], p=tr["p"], n=n))
        if n < 10:
            pmin = 2.0 / math.factorial(n)
            notes.append(Note("peak_trend_weak", f"with only {n} years the Mann-Kendall test is weak (the smallest possible p is {pmin:.3g}): "
                              "a p above 0.05 does not show that there is no trend, read the slope as indicative", n=n, p_min=pmin))
    else:
        notes.append(Note("peak_trend_none", f"fewer than 3 years from {first_t} to {last}: no trend test", first=first_t, last=last))
    return Peak(status, peak_year, peak_val, last, last_sm, change if is_peak else None, g3, before, plateau_until,
                tr["slope"] if tr else None, tr["low"] if tr else None, tr["high"] if tr else None,
                tr["tau"] if tr else None, tr["p"] if tr else None, (first_t, last) if tr else None,
                window, plateau_pct, confirm_years, smoothed=sm, evidence=tuple(notes), max_year=max_year, max_value_tco2e=max_val)


PEAK_TABLE_COLUMNS = ("zone_id", "status", "peak_year", "peak_value_tco2e", "last_year", "change_since_peak_pct",
                      "growth_last_3yr_pct_yr", "before_target", "slope_tco2e_yr", "kendall_p", "max_year", "max_value_tco2e")


def peak_table(emissions: pd.DataFrame, *, zone_ids=None, total_label: str | None = "all", **kw) -> tuple[pd.DataFrame, dict[str, Peak]]:
    """:func:`detect_peak` per zone and for the sum of the zones (``total_label``; None: no sum).

    Returns (table with :data:`PEAK_TABLE_COLUMNS`, {zone_id: Peak}). The sum uses only years
    every zone reports; a zone-year that lacks a sector the zone reports in other years has no
    total (:func:`emission_totals`): it is a gap, never a low value.
    """
    tot = emission_totals(emissions, zone_ids)
    wide = tot.pivot(index="year", columns="zone_id", values="emissions_tco2e").sort_index()
    series = {z: wide[z].loc[wide[z].first_valid_index():] if wide[z].notna().any() else wide[z].dropna() for z in wide.columns}
    if total_label is not None and wide.shape[1] > 1:
        s = wide.sum(axis=1, skipna=False)
        series[total_label] = s.loc[s.first_valid_index():] if s.notna().any() else s.dropna()
    peaks = {z: detect_peak(s, **kw) for z, s in series.items()}
    rows = [{"zone_id": z, "status": p.status, "peak_year": p.peak_year, "peak_value_tco2e": p.peak_value_tco2e, "last_year": p.last_year,
             "change_since_peak_pct": p.change_since_peak_pct, "growth_last_3yr_pct_yr": p.growth_last_3yr_pct_yr,
             "before_target": p.before_target, "slope_tco2e_yr": p.slope_tco2e_yr, "kendall_p": p.kendall_p,
             "max_year": p.max_year, "max_value_tco2e": p.max_value_tco2e} for z, p in peaks.items()]
    out = pd.DataFrame(rows, columns=list(PEAK_TABLE_COLUMNS))
    for c in ("peak_value_tco2e", "change_since_peak_pct", "growth_last_3yr_pct_yr", "slope_tco2e_yr", "kendall_p", "max_value_tco2e"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    for c in ("peak_year", "last_year", "max_year"):  # years stay whole numbers, empty where there is none
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
    return out, peaks


# ---------------------------------------------------------------------------------------------
# projection
# ---------------------------------------------------------------------------------------------

PROJECTION_COLUMNS = ("zone_id", "scenario", "year", "kind", "emissions_tco2e")  # + <sector>_tco2e, then TAIL_COLUMNS
TAIL_COLUMNS = ("removals_tco2e_yr", "removals_low_tco2e_yr", "removals_high_tco2e_yr", "added_removals_tco2e_yr", "added_forest_tco2e_yr",
                "added_wetland_tco2e_yr", "planted_forest_ha", "restored_wetland_ha", "net_emissions_tco2e", "net_emissions_low_tco2e", "net_emissions_high_tco2e",
                "offset_ratio", "gdp_100m_cny", "intensity_t_per_10k_cny", "intensity_target_t_per_10k_cny", "intensity_anchor_year",
                "intensity_anchor_t_per_10k_cny")


def _removals_by_year(removals, years: np.ndarray, zones: list[str], notes: list[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(central, low, high) t CO2e/yr per year from a number or a ``year, removals_tco2e_yr
    [, low_tco2e_yr, high_tco2e_yr] [, zone_id]`` frame: linear between the given years, the last
    value held after them, NaN before the first."""
    if isinstance(removals, (int, float, np.floating)) and not isinstance(removals, bool):
        v = np.full(len(years), float(removals))
        if not np.isfinite(removals):
            notes.append(Note("proj_no_removals", "no removals given: removals, net emissions and the offset ratio are left empty"))
            return v, v.copy(), v.copy()
        notes.append(Note("proj_removals_constant", f"removals of the land held at {float(removals):,.0f} t CO2e/yr in every year "
                          "(no interval given)", value=float(removals)))
        return v, v.copy(), v.copy()
    if not isinstance(removals, pd.DataFrame) or "year" not in removals or "removals_tco2e_yr" not in removals:
        raise SchemaError("<removals>", "removals must be a number (t CO2e/yr) or a frame with year, removals_tco2e_yr "
                          "[, low_tco2e_yr, high_tco2e_yr]", "pass e.g. removals_tco2e_yr=83857.0")
    r = removals
    if "zone_id" in r.columns:
        r = r[r["zone_id"].astype(str).isin(zones)]
        if len(zones) > 1:
            notes.append(Note("proj_removals_summed", "removal intervals of several zones are added bound to bound (as if fully correlated): "
                              "a wide, cautious interval"))
    r = r.assign(low_tco2e_yr=r["low_tco2e_yr"] if "low_tco2e_yr" in r else r["removals_tco2e_yr"],
                 high_tco2e_yr=r["high_tco2e_yr"] if "high_tco2e_yr" in r else r["removals_tco2e_yr"])
    if "low_tco2e_yr" not in removals.columns:
        notes.append(Note("proj_removals_no_interval", "the removals come without an interval: low = high = central"))
    g = r.groupby(r["year"].astype(int))[["removals_tco2e_yr", "low_tco2e_yr", "high_tco2e_yr"]].sum(min_count=1).sort_index()
    if g.empty:
        raise DataError("<removals>", f"no removal rows for zone(s) {zones}", "give removals for the zones projected")
    out = []
    for col in ("removals_tco2e_yr", "low_tco2e_yr", "high_tco2e_yr"):
        v = np.interp(years, g.index.to_numpy(dtype=float), g[col].to_numpy(dtype=float))
        v[years < g.index.min()] = np.nan
        out.append(v)
    first, last = int(g.index.min()), int(g.index.max())
    if years.max() > last:
        notes.append(Note("proj_removals_held", f"removals after {last} are held at the {last} value: the existing sink is assumed steady "
                          "(no saturation, no loss)", year=last))
    if years.min() < first:
        notes.append(Note("proj_removals_before", f"no removals before {first}: net emissions are left empty there", year=first))
    return out[0], out[1], out[2]


def _gdp_by_year(gdp: pd.DataFrame | None, years: np.ndarray, zones: list[str], steps: Steps, *, extend: bool,
                 notes: list[Note]) -> np.ndarray:
    """GDP (亿元) summed over ``zones`` for ``years``; years after the last GDP year compounded with
    ``steps`` when ``extend``; NaN where any zone lacks a figure."""
    if gdp is None:
        notes.append(Note("proj_no_gdp", "no GDP series: intensity (t CO2 per 10^4 CNY) cannot be computed"))
        return np.full(len(years), np.nan)
    g = gdp[gdp["zone_id"].astype(str).isin(zones)]
    counts = g.groupby("year")["zone_id"].nunique()
    total = g.groupby("year")["gdp_100m_cny"].sum()
    total = total[counts.reindex(total.index) == len(zones)]
    if total.empty:
        notes.append(Note("proj_no_gdp", f"no year has GDP for every zone of {zones}: intensity cannot be computed", zones=zones))
        return np.full(len(years), np.nan)
    total.index = total.index.astype(int)
    out = total.reindex(years).to_numpy(dtype=float, copy=True)
    last = int(total.index.max())
    later = years > last
    if extend and later.any():
        span = np.arange(last + 1, int(years.max()) + 1)
        grown = pd.Series(compound(float(total.loc[last]), steps, span), index=span)
        out[later] = grown.reindex(years[later]).to_numpy()
        notes.append(Note("proj_gdp_extended", f"GDP after {last} follows the scenario's growth rates", year=last))
    return out


def intensity_target_path(intensity: pd.Series, steps: Steps, *, inventory_last_year: int, to_year: int) -> pd.DataFrame:
    """The intensity target for every year of each five-year-plan period in ``steps``.

    Each period ``start..start+4`` has a change ``p`` % (e.g. -18). Its anchor is the intensity of
    the year before it (``start - 1``) when that year is an inventory year, else the previous
    period's target (a chained target path); the target in year ``y`` of the period is
    anchor x (1 + p/100) ^ ((y - start + 1) / 5) (pro-rated geometrically; at the period end:
    anchor x (1 + p/100)). Returns ``year, intensity_target_t_per_10k_cny, intensity_anchor_year,
    intensity_anchor_t_per_10k_cny`` (empty when there are no steps).
    """
    cols = ["year", "intensity_target_t_per_10k_cny", "intensity_anchor_year", "intensity_anchor_t_per_10k_cny"]
    rows = []
    prev_end, prev_target = None, None
    for start, end, pct in plan_periods(steps, to_year=to_year):
        a_year = start - 1
        if a_year <= inventory_last_year and np.isfinite(intensity.get(a_year, np.nan)):
            anchor = float(intensity[a_year])
        elif prev_end == a_year and prev_target is not None and np.isfinite(prev_target):
            anchor = prev_target
        else:
            anchor = float(intensity.get(a_year, np.nan))
        for y in range(start, min(end, to_year) + 1):
            rows.append((y, anchor * (1 + pct / 100.0) ** ((y - a_year) / PLAN_PERIOD_YEARS), a_year, anchor))
        prev_end, prev_target = end, anchor * (1 + pct / 100.0)
    return pd.DataFrame(rows, columns=cols).astype({"year": "int64", "intensity_target_t_per_10k_cny": "float64",
                                                    "intensity_anchor_year": "Int64", "intensity_anchor_t_per_10k_cny": "float64"})


def _planted(ha_yr: float, base: int, until: int | None, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(area planted by the end of each year, area removing in each year) in ha: ``ha_yr`` planted
    every year base+1..until; a hectare removes from the year after its planting."""
    if not ha_yr or until is None:
        z = np.zeros(len(years))
        return z, z.copy()
    last = until
    stand = ha_yr * np.clip(np.minimum(years, last) - base, 0, None)
    active = ha_yr * np.clip(np.minimum(years - 1, last) - base, 0, None)
    return stand.astype(float), active.astype(float)


def _sector_wide(em: pd.DataFrame, em_all: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(year x sector emissions summed over the zones, the incomplete zone-years): a sector that a
    zone reports in some year of ``em_all`` but not in a year of ``em`` makes that cell NaN, so the
    sum of the zones is NaN there too; a sector a zone never reports is that zone's 0."""
    reported = em_all.groupby("zone_id")["sector"].agg(set)
    pz = em.pivot_table(index="year", columns=["zone_id", "sector"], values="emissions_tco2e", aggfunc="sum")
    want = pd.MultiIndex.from_tuples([(z, s) for z in sorted(reported.index) for s in SECTORS if s in reported[z]],
                                     names=["zone_id", "sector"])
    pz = pz.reindex(columns=want).sort_index()
    sectors = [s for s in SECTORS if s in set(want.get_level_values("sector"))]
    wide = pd.DataFrame({s: pz.xs(s, axis=1, level="sector").sum(axis=1, skipna=False) for s in sectors}, index=pz.index)
    gaps = _incomplete(em_all)
    gaps = gaps[gaps["year"].isin(wide.index)].reset_index(drop=True)
    return wide, gaps


def _build(em: pd.DataFrame, scenario: Scenario, *, removals, gdp, to_year: int, label: str | None, extend_gdp: bool,
           kind_only_inventory: bool = False) -> pd.DataFrame:
    notes: list[Note] = []
    zones = sorted(em["zone_id"].unique())
    label = label or (zones[0] if len(zones) == 1 else "+".join(zones))
    n_zones = em.groupby("year")["zone_id"].nunique()
    ok_years = n_zones.index[n_zones == len(zones)]
    if len(ok_years) < len(n_zones):
        dropped = sorted(set(n_zones.index) - set(ok_years))
        notes.append(Note("proj_years_incomplete", f"years {dropped} are left out: not every zone of {zones} reports them", years=dropped))
    if not len(ok_years):
        raise DataError("<emissions>", f"no inventory year is reported by every zone of {zones}", "choose zones that report the same years")
    wide, gaps = _sector_wide(em[em["year"].isin(ok_years)], em)
    sectors = list(wide.columns)
    if len(gaps):
        notes.append(_incomplete_note(gaps))
    complete = wide.notna().all(axis=1)
    if kind_only_inventory:  # the inventory years as they are: no base, nothing projected
        base = int(wide.index.max())
        to_year = base
    elif scenario.base_year is not None:
        base = int(scenario.base_year)
        if base not in wide.index:
            raise DataError(scenario.path or scenario.id, f"scenario {scenario.id!r} base year {base} has no inventory for {zones} "
                            f"(inventory years {int(wide.index.min())}-{int(wide.index.max())})", "set base_year to an inventory year or leave it out")
        if not complete[base]:
            g = gaps[gaps["year"] == base]
            ok = [int(y) for y in wide.index[complete.to_numpy()]]
            raise DataError(scenario.path or scenario.id, f"scenario {scenario.id!r} base year {base} is incomplete: {incomplete_text(g)} "
                            "missing, although reported in other years (a missing sector is never counted as 0)",
                            f"add the missing rows for {base} (an explicit 0 where a sector has no emissions), or set base_year to a complete year"
                            + (f" (the last is {ok[-1]})" if ok else ""))
    else:
        if not complete.any():
            raise DataError(scenario.path or scenario.id, f"no inventory year of {zones} has every sector each zone reports: "
                            f"{incomplete_text(gaps)} missing", "add the missing sector rows (an explicit 0 where a sector has no emissions)")
        base = int(wide.index[complete.to_numpy()].max())
        skipped = [int(y) for y in wide.index if y > base]
        if skipped:
            g = gaps[gaps["year"].isin(skipped)]
            notes.append(Note("proj_base_incomplete", f"the projection starts from {base}, the last year in which every zone reports every "
                              f"sector it reports in other years: {_years(skipped)} left out ({incomplete_text(g)} missing)",
                              base=base, skipped=skipped, items=[{"zone_id": z, "year": int(y), "sectors": list(q)}
                                                                  for z, y, q in g.itertuples(index=False)]))
    if scenario.base_year is not None and not kind_only_inventory and wide.index.max() > base:
        notes.append(Note("proj_after_base_dropped", f"inventory years after the base year {base} are not shown: the projection starts at {base}",
                          base=base))
    hist = wide[wide.index <= base]
    missing = [s for s in sectors if s not in scenario.sector_change_pct_yr]
    if missing and not kind_only_inventory:
        raise SchemaError(scenario.path or scenario.id, f"scenario {scenario.id!r} gives no rate for sector(s) {missing}, which have emissions",
                          f"add e.g. {missing[0]} = 0.0 to [scenario.sector_change_pct_yr] to hold it constant")
    proj_years = np.arange(base + 1, to_year + 1)
    fut = pd.DataFrame({s: compound(float(hist.loc[base, s]), scenario.sector_change_pct_yr.get(s, constant(0.0)), proj_years)
                        for s in sectors}, index=proj_years)
    allw = pd.concat([hist, fut])
    years = allw.index.to_numpy(dtype=int)
    out = pd.DataFrame({"zone_id": label, "scenario": scenario.id, "year": years,
                        "kind": np.where(years <= base, "inventory", "projection")})
    out["emissions_tco2e"] = allw.sum(axis=1, skipna=False).to_numpy()  # an incomplete year has no total
    for s in sectors:
        out[f"{s}_tco2e"] = allw[s].to_numpy()
    if len(proj_years):
        notes.append(Note("proj_base", f"projection from {base} to {to_year}: each sector compounds at the scenario's yearly rate",
                          base=base, to_year=to_year))
    c, lo, hi = _removals_by_year(removals, years, zones, notes)
    f_stand, f_active = _planted(scenario.afforestation_ha_yr, base, scenario.afforestation_until, years)
    w_stand, w_active = _planted(scenario.wetland_restoration_ha_yr, base, scenario.wetland_restoration_until, years)
    f_rate = scenario.forest_gain_tc_ha_yr * C_TO_CO2
    w_rate = (scenario.wetland_gain_tc_ha_yr or 0.0) * C_TO_CO2
    added_f, added_w = f_active * f_rate, w_active * w_rate
    if scenario.afforestation_ha_yr:
        notes.append(Note("proj_afforestation", f"afforestation: {scenario.afforestation_ha_yr:,.0f} ha planted a year {base + 1}-"
                          f"{scenario.afforestation_until}; each hectare removes {scenario.forest_gain_tc_ha_yr:g} t C/ha/yr x 44/12 = "
                          f"{f_rate:.3f} t CO2/ha/yr from the year after planting, a constant Tier 1 rate (IPCC 2006 GL Vol.4 Ch.4, gain-loss): "
                          f"no ramp-up, no saturation, no harvest or loss; rate: {scenario.forest_gain_source}",
                          ha_yr=scenario.afforestation_ha_yr, until=scenario.afforestation_until, gain_tc=scenario.forest_gain_tc_ha_yr,
                          rate_tco2=f_rate))
    if scenario.wetland_restoration_ha_yr:
        if scenario.wetland_gain_tc_ha_yr is None:
            notes.append(Note("proj_wetland_no_rate", f"wetland restoration ({scenario.wetland_restoration_ha_yr:,.0f} ha a year) adds no removals: "
                              "the scenario gives no cited gain rate and the coefficient table has none for herbaceous wetland",
                              ha_yr=scenario.wetland_restoration_ha_yr))
        else:
            notes.append(Note("proj_wetland", f"wetland restoration: {scenario.wetland_restoration_ha_yr:,.0f} ha a year {base + 1}-"
                              f"{scenario.wetland_restoration_until}, {scenario.wetland_gain_tc_ha_yr:g} t C/ha/yr x 44/12 = {w_rate:.3f} t CO2/ha/yr "
                              f"from the year after restoration (constant; CH4 not counted); rate: {scenario.wetland_gain_source}",
                              ha_yr=scenario.wetland_restoration_ha_yr, gain_tc=scenario.wetland_gain_tc_ha_yr, rate_tco2=w_rate))
    added = added_f + added_w
    out["removals_tco2e_yr"] = c + added
    out["removals_low_tco2e_yr"] = lo + added
    out["removals_high_tco2e_yr"] = hi + added
    out["added_removals_tco2e_yr"] = added
    out["added_forest_tco2e_yr"] = added_f
    out["added_wetland_tco2e_yr"] = added_w
    out["planted_forest_ha"] = f_stand
    out["restored_wetland_ha"] = w_stand
    if added.any():
        notes.append(Note("proj_added_no_interval", "added removals carry no interval (the gain rates have none): the same amount is added to "
                          "low, central and high"))
    e = out["emissions_tco2e"]
    out["net_emissions_tco2e"] = e - out["removals_tco2e_yr"]
    out["net_emissions_low_tco2e"] = e - out["removals_high_tco2e_yr"]
    out["net_emissions_high_tco2e"] = e - out["removals_low_tco2e_yr"]
    out["offset_ratio"] = (out["removals_tco2e_yr"] / e).where(e > 0)
    out["gdp_100m_cny"] = _gdp_by_year(gdp, years, zones, scenario.gdp_growth_pct_yr, extend=extend_gdp, notes=notes)
    out["intensity_t_per_10k_cny"] = e / (out["gdp_100m_cny"] * TEN_K_CNY_PER_100M)
    path = intensity_target_path(pd.Series(out["intensity_t_per_10k_cny"].to_numpy(), index=years), scenario.intensity_target_change_pct,
                                 inventory_last_year=base, to_year=int(years.max()))
    out = out.merge(path, on="year", how="left")
    if len(path) and scenario.intensity_target_change_pct:
        notes.append(Note("proj_intensity_target", "intensity target per five-year-plan period: the change of the scenario applied to the "
                          "intensity of the year before the period (inventory) or to the previous period's target (chained), pro-rated "
                          "geometrically within the period"))
    cols = list(PROJECTION_COLUMNS) + [f"{s}_tco2e" for s in sectors] + list(TAIL_COLUMNS)
    out = out[cols]
    out.attrs["notes"] = tuple(notes)
    out.attrs["base_year"] = base
    return out


def project(emissions: pd.DataFrame, scenario: Scenario, *, removals_tco2e_yr: float | pd.DataFrame, gdp: pd.DataFrame | None = None,
            to_year: int = NEUTRALITY_TARGET_YEAR, zone_ids=None, label: str | None = None) -> pd.DataFrame:
    """The inventory years up to the base year and the projection to ``to_year`` under ``scenario``.

    Parameters
    ----------
    emissions
        ``zone_id, year, sector, emissions_tco2e`` (or ``emissions_tco2``), t CO2e/yr; the
        selected zones are summed (only years every zone reports). A year in which a zone lacks a
        sector it reports in other years is incomplete: its total and that sector stay empty
        (never 0), see :func:`incomplete_years`.
    scenario
        Rates and plans; ``base_year`` None = the last complete inventory year (later, incomplete
        years are left out with a ``proj_base_incomplete`` note); an incomplete ``base_year`` is a
        DataError naming the year and the sectors.
    removals_tco2e_yr
        The land's removals, t CO2e/yr: a number, or a frame ``year, removals_tco2e_yr
        [, low_tco2e_yr, high_tco2e_yr] [, zone_id]`` (linear between years, the last held).
    gdp
        ``zone_id, year, gdp_100m_cny`` (亿元); after its last year GDP follows the scenario.
    label
        The ``zone_id`` written in the output (default: the zone, or the zones joined by "+").

    Returns
    -------
    DataFrame
        One row per year: ``zone_id, scenario, year, kind`` (inventory | projection),
        ``emissions_tco2e``, ``<sector>_tco2e`` per sector present, and :data:`TAIL_COLUMNS`:
        removals (central, low, high; base + added), added removals from planting and their
        areas (ha), net (central; ``net_emissions_low_tco2e`` with high removals, ``net_emissions_high_tco2e`` with low),
        offset ratio (removals / emissions), GDP, intensity (t CO2 per 10^4 CNY) and the
        intensity target path. ``attrs["notes"]``: the assumptions as Notes.
    """
    em = emission_table(emissions, zone_ids)
    return _build(em, scenario, removals=removals_tco2e_yr, gdp=gdp, to_year=to_year, label=label, extend_gdp=True)


def inventory_history(emissions: pd.DataFrame, *, removals_tco2e_yr: float | pd.DataFrame | None = None, gdp: pd.DataFrame | None = None,
                      intensity_target_change_pct: Steps = (), zone_ids=None, total_label: str | None = "all") -> pd.DataFrame:
    """The inventory period per zone (and for the sum, ``total_label``) in the projection's columns
    (``kind`` = inventory, ``scenario`` = "inventory"): the frame :func:`early_warning` reads.
    Nothing is projected: a zone has a row for each year it reports, the sum only for the years
    every zone reports. A zone-year that lacks a sector the zone reports in other years has no
    total (``emissions_tco2e`` NaN; the sum of that year too), see :func:`incomplete_years`.
    GDP is not extended beyond its years; removals None leaves removals and net empty. A
    removals frame with ``zone_id`` is split per zone (a number applies to the sum only)."""
    em = emission_table(emissions, zone_ids)
    hold = Scenario(id="inventory", name_zh="清单", name_en="inventory", base_year=None,
                    sector_change_pct_yr={s: constant(0.0) for s in SECTORS}, intensity_target_change_pct=intensity_target_change_pct)
    groups = [([z], z) for z in sorted(em["zone_id"].unique())]
    if total_label is not None and len(groups) > 1:
        groups.append((sorted(em["zone_id"].unique()), total_label))
    frames, extra = [], []
    for zs, lab in groups:
        sub = em[em["zone_id"].isin(zs)]
        if len(zs) > 1 and sub.groupby("year")["zone_id"].nunique().max() < len(zs):
            extra.append(Note("history_no_common_year", f"no sum ({lab}): no year is reported by every zone of {zs}", zones=zs))
            continue
        rem = removals_tco2e_yr
        if rem is None or (not isinstance(rem, pd.DataFrame) and len(zs) == 1 and len(groups) > 1):
            rem = np.nan
        f = _build(sub, hold, removals=rem, gdp=gdp, to_year=int(sub["year"].max()), label=lab, extend_gdp=False, kind_only_inventory=True)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    # one note for the incomplete zone-years of every group (each group's own note repeats them)
    gaps = _incomplete(em)
    notes = extra + [n for f in frames for n in f.attrs.get("notes", ()) if getattr(n, "code", "") != "sector_year_incomplete"]
    if len(gaps):
        notes.append(_incomplete_note(gaps))
    out.attrs["notes"] = tuple(dict.fromkeys(notes))
    return out


# ---------------------------------------------------------------------------------------------
# neutrality year and dual control
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NeutralityYear:
    """The first year net emissions reach zero and stay at or below it to the end of the frame.

    ``early`` uses the high removals (``net_emissions_low_tco2e``), ``late`` the low removals (``net_emissions_high_tco2e``), so
    early <= central <= late where each is reached. None = not reached by ``horizon``.
    """

    central: int | None
    early: int | None
    late: int | None
    reached_by_target: bool
    horizon: int
    net_at_target_tco2e: float | None
    target_year: int = NEUTRALITY_TARGET_YEAR
    note: Note = field(default_factory=lambda: Note("neutral_none", ""), compare=False)


def _first_staying(years: np.ndarray, net: np.ndarray) -> int | None:
    ok = net <= 0  # NaN -> False
    if not len(ok) or not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    return int(years[bad[-1] + 1]) if len(bad) else int(years[0])


def neutrality_year(projection: pd.DataFrame, *, target_year: int = NEUTRALITY_TARGET_YEAR) -> NeutralityYear:
    """Year of neutrality (central, early, late) of one zone x scenario projection."""
    for col in ("zone_id", "scenario"):
        if col in projection and projection[col].nunique() > 1:
            raise ValueError(f"neutrality_year takes one {col} at a time, got {sorted(projection[col].unique())}")
    p = projection.sort_values("year")
    years = p["year"].to_numpy(dtype=int)
    central = _first_staying(years, p["net_emissions_tco2e"].to_numpy(dtype=float))
    early = _first_staying(years, p["net_emissions_low_tco2e"].to_numpy(dtype=float))
    late = _first_staying(years, p["net_emissions_high_tco2e"].to_numpy(dtype=float))
    horizon = int(years.max())
    at = p.loc[p["year"] == target_year, "net_emissions_tco2e"]
    net_t = float(at.iloc[0]) if len(at) else None
    reached = central is not None and central <= target_year
    if central is None:
        last_net = float(p["net_emissions_tco2e"].iloc[-1])
        note = Note("neutral_none", f"net emissions do not reach zero and stay there by {horizon} (net {horizon}: {last_net:,.0f} t CO2e/yr)"
                    + ("" if early is None else f"; with the high removals: {early}"), horizon=horizon, net=last_net, early=early)
    else:
        rng = f"{early if early is not None else '-'} to {late if late is not None else f'after {horizon}'}"
        note = Note("neutral_year", f"net emissions reach zero in {central} and stay at or below it to {horizon} (interval {rng}); "
                    f"{'in or before' if reached else 'after'} the target year {target_year}",
                    year=central, early=early, late=late, horizon=horizon, target=target_year, reached=reached)
    return NeutralityYear(central, early, late, reached, horizon, net_t, target_year, note)


DUAL_CONTROL_COLUMNS = ("zone_id", "scenario", "year", "kind", "indicator", "value", "target", "gap", "gap_pct", "status",
                        "target_basis", "target_source", "target_verified")


def dual_control(projection: pd.DataFrame, *, targets: pd.DataFrame | None = None, years=None) -> pd.DataFrame:
    """The 双控 table (plan item 18): total emissions against a cap and intensity against a target.

    Per zone x scenario x year (``years``: default the five-year-plan ends 2025-2060 in the
    frame, plus the target table's years) and indicator (``total_tco2e`` t CO2e/yr,
    ``intensity_t_per_10k_cny``): ``value``, ``target`` (from ``targets`` —
    ``zone_id, year, indicator, target, source, verified``, ``*`` = any zone — else, for
    intensity, the scenario's target path), ``gap`` = value - target (> 0: over), ``gap_pct``,
    ``status`` met (value <= target) / over / undefined (no value or no target).
    """
    p = projection
    want = set(DUAL_CONTROL_YEARS if years is None else years)
    if targets is not None and years is None:
        want |= set(targets["year"].astype(int))
    rows = []
    for (zone, scen), g in p.groupby(["zone_id", "scenario"], sort=False):
        g = g.set_index("year")
        for y in sorted(want & set(g.index)):
            r = g.loc[y]
            for ind, val in (("total_tco2e", r["emissions_tco2e"]), ("intensity_t_per_10k_cny", r["intensity_t_per_10k_cny"])):
                tgt, basis, src, ver = np.nan, "", "", pd.NA
                if targets is not None:
                    t = targets[(targets["year"] == y) & (targets["indicator"] == ind)]
                    t = t[t["zone_id"] == zone] if (t["zone_id"] == zone).any() else t[t["zone_id"] == "*"]
                    if len(t):
                        tgt, basis, src, ver = float(t["target"].iloc[0]), "table", str(t["source"].iloc[0]), bool(t["verified"].iloc[0])
                if not np.isfinite(tgt) and ind == "intensity_t_per_10k_cny" and np.isfinite(r.get("intensity_target_t_per_10k_cny", np.nan)):
                    tgt, basis, src, ver = float(r["intensity_target_t_per_10k_cny"]), "scenario", f"scenario {scen}", False
                rows.append((zone, scen, int(y), r["kind"], ind, float(val), tgt, basis, src, ver))
    out = pd.DataFrame(rows, columns=["zone_id", "scenario", "year", "kind", "indicator", "value", "target", "target_basis",
                                      "target_source", "target_verified"])
    out["gap"] = out["value"] - out["target"]
    out["gap_pct"] = (out["gap"] / out["target"] * 100.0).where(out["target"] > 0)
    defined = out["value"].notna() & out["target"].notna()
    out["status"] = np.where(~defined, "undefined", np.where(out["gap"] <= 0, "met", "over"))
    return out[list(DUAL_CONTROL_COLUMNS)]
