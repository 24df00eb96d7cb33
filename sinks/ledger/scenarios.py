"""Scenarios the user edits (TOML), the GDP series and dual-control targets (CSV): loaders and rates.

A :class:`Scenario` holds the assumptions of one projection: yearly change rates per sector and
of GDP, the carbon-intensity target per five-year-plan period, and the planting and restoration
plans that add removals. Every number in a scenario file is a *policy assumption* unless its
comment cites a source; the demo file (``data/ledger/scenarios_illustrative.toml``) says which.

Rates may be piecewise: a number (the same rate every year) or a list of ``[from_year, pct]``
steps, sorted by year: ``[[2026, 0.5], [2031, -3.0]]`` is +0.5 %/yr for the years 2026-2030 and
-3 %/yr from 2031 on. Years before the first step take the first step's rate. A rate for year
``y`` is the change from ``y - 1`` to ``y`` (compounded: 100 t at -10 %/yr for 2 years = 81 t).

The loaders raise :class:`geodata.errors.SchemaError` naming the file, the key and the fix; the
functions here read no file otherwise.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError, SchemaError
from geodata.tables import read_csv, to_number

SECTORS: tuple[str, ...] = ("industry", "energy", "buildings", "transport", "other")
RATE_LIMIT_PCT = 50.0            # |rate| above 50 %/yr (or per plan period) is a typing error, not a scenario
YEAR_MIN, YEAR_MAX = 2000, 2100  # scenario years (the base year may be any inventory year from 2000 on)
PLAN_PERIOD_YEARS = 5            # Chinese five-year plans: the 14th covers 2021-2025, the 15th 2026-2030, ...
PLAN_PERIOD_ORIGIN = 2021        # first year of the 14th Five-Year Plan; plan periods start at 2021 + 5k
FOREST_GAIN_TC_HA_YR = 0.58562   # data/coefficients/carbon_coefficients.csv, lucode 10 gain_tc_per_ha_yr
FOREST_GAIN_SOURCE = ("data/coefficients/carbon_coefficients.csv lucode 10 gain_tc_per_ha_yr: IPCC 2019 Refinement Vol.4 "
                      "Ch.4 Table 4.9 (Asia subtropical humid forest, secondary >20 yr, 1.0 t d.m./ha/yr) x (1 + R 0.246, "
                      "Table 4.4) x CF 0.47 (IPCC 2006 Table 4.3); unverified")
MAX_GAIN_TC_HA_YR = 20.0         # a gain above 20 t C/ha/yr is beyond any Tier 1 table: a unit error

Steps = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class Scenario:
    """One scenario (all rates in % per year unless stated; areas in ha; gains in t C/ha/yr).

    ``sector_change_pct_yr`` maps each sector to its steps (negative = reduction);
    ``intensity_target_change_pct`` is the change of carbon intensity (t CO2 per 10^4 CNY) over
    each five-year-plan period, as steps by period start year (2021, 2026, ...).
    ``afforestation_ha_yr`` hectares are planted every year from ``base_year + 1`` to
    ``afforestation_until``; likewise ``wetland_restoration_ha_yr``. ``wetland_gain_tc_ha_yr``
    None means no cited rate: restored wetland then adds no removals (a note says so).
    ``base_year`` None = the last inventory year.
    """

    id: str
    name_zh: str
    name_en: str
    base_year: int | None
    sector_change_pct_yr: dict[str, Steps]
    gdp_growth_pct_yr: Steps = ((0, 0.0),)
    intensity_target_change_pct: Steps = ()
    afforestation_ha_yr: float = 0.0
    afforestation_until: int | None = None
    wetland_restoration_ha_yr: float = 0.0
    wetland_restoration_until: int | None = None
    forest_gain_tc_ha_yr: float = FOREST_GAIN_TC_HA_YR
    forest_gain_source: str = FOREST_GAIN_SOURCE
    wetland_gain_tc_ha_yr: float | None = None
    wetland_gain_source: str = ""
    note: str = ""
    source: str = ""
    verified: bool = False
    path: str = field(default="", compare=False)


def constant(pct: float) -> Steps:
    """The steps of a rate that is the same every year."""
    return ((0, float(pct)),)


def rate_in_years(steps: Steps, years) -> np.ndarray:
    """The rate (%) in force in each of ``years``: the last step starting at or before the year,
    the first step's rate before the first step; 0 where there are no steps."""
    y = np.asarray(years, dtype=int)
    if not steps:
        return np.zeros(len(y))
    starts = np.array([s for s, _ in steps])
    pct = np.array([p for _, p in steps], dtype=float)
    i = np.searchsorted(starts, y, side="right") - 1
    return pct[np.clip(i, 0, None)]


def compound(base_value: float, steps: Steps, years) -> np.ndarray:
    """``base_value`` carried through ``years`` (consecutive, each the year after the one before,
    the first one year after the base): value(y) = value(y - 1) x (1 + rate(y) / 100)."""
    r = rate_in_years(steps, years)
    return base_value * np.cumprod(1.0 + r / 100.0)


def plan_periods(steps: Steps, *, to_year: int) -> list[tuple[int, int, float]]:
    """Five-year-plan periods ``(start, end, change_pct)`` from the first step's period to
    ``to_year``; a constant (year 0) starts with the 14th plan (2021)."""
    if not steps:
        return []
    first = steps[0][0] or PLAN_PERIOD_ORIGIN
    starts = np.arange(first, to_year + 1, PLAN_PERIOD_YEARS)
    pct = rate_in_years(steps, starts)
    return [(int(s), int(s) + PLAN_PERIOD_YEARS - 1, float(p)) for s, p in zip(starts, pct)]


# ---------------------------------------------------------------------------------------------
# TOML loader
# ---------------------------------------------------------------------------------------------

_TOP_KEYS = {"title", "illustrative", "scenario"}
_SCENARIO_KEYS = {"id", "name_zh", "name_en", "base_year", "sector_change_pct_yr", "gdp_growth_pct_yr",
                  "intensity_target_change_pct", "afforestation_ha_yr", "afforestation_until",
                  "wetland_restoration_ha_yr", "wetland_restoration_until", "forest_gain_tc_ha_yr", "forest_gain_source",
                  "wetland_gain_tc_ha_yr", "wetland_gain_source", "note", "source", "verified"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _num(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _steps(path: Path, where: str, key: str, v, *, lo_year: int, periods: bool = False) -> Steps:
    """A number or a list of [from_year, pct] pairs -> steps; SchemaError names the key."""
    lim = RATE_LIMIT_PCT
    unit = "% per plan period" if periods else "%/yr"
    example = f"{key} = -1.0   or   {key} = [[{lo_year + 1}, 0.5], [{lo_year + 6}, -3.0]]"
    if _num(v):
        if not -lim <= v <= lim:
            raise SchemaError(path, f"{where} {key} = {v!r} {unit} lies outside [-{lim:g}, +{lim:g}] {unit}",
                              f"give a rate in percent (e.g. -2.5 for a 2.5 {unit} reduction), not a fraction or a total")
        return constant(v)
    if not isinstance(v, list) or not v:
        raise SchemaError(path, f"{where} {key} must be a number or a list of [from_year, pct] steps, got {v!r}", f"write e.g. {example}")
    out: list[tuple[int, float]] = []
    for step in v:
        if not (isinstance(step, list) and len(step) == 2 and isinstance(step[0], int) and not isinstance(step[0], bool) and _num(step[1])):
            raise SchemaError(path, f"{where} {key} step {step!r} is not a [from_year, pct] pair", f"write e.g. {example}")
        y, p = int(step[0]), float(step[1])
        if not lo_year <= y <= YEAR_MAX:
            raise SchemaError(path, f"{where} {key} step year {y} lies outside {lo_year}..{YEAR_MAX}",
                              f"start steps between {lo_year} and {YEAR_MAX}")
        if periods and (y - PLAN_PERIOD_ORIGIN) % PLAN_PERIOD_YEARS:
            raise SchemaError(path, f"{where} {key} step year {y} is not the first year of a five-year plan",
                              "use plan start years: 2021 (14th), 2026 (15th), 2031 (16th), ...")
        if not -lim <= p <= lim:
            raise SchemaError(path, f"{where} {key} step {y} = {p!r} {unit} lies outside [-{lim:g}, +{lim:g}] {unit}",
                              "give a rate in percent (e.g. -2.5), not a fraction or a total")
        if out and y <= out[-1][0]:
            raise SchemaError(path, f"{where} {key} steps are not in increasing year order ({out[-1][0]} then {y})",
                              "list the steps by year, each year once")
        out.append((y, p))
    return tuple(out)


def _scenario(path: Path, i: int, s: object) -> Scenario:
    where = f"[[scenario]] #{i + 1}"
    if not isinstance(s, dict):
        raise SchemaError(path, f"{where} must be a table", "write each scenario as a [[scenario]] table")
    if isinstance(s.get("id"), str):
        where = f"[[scenario]] {s['id']!r}"
    unknown = sorted(set(s) - _SCENARIO_KEYS)
    if unknown:
        raise SchemaError(path, f"{where} has unknown key(s) {unknown}", f"use only {sorted(_SCENARIO_KEYS)}")

    def text(key: str, required: bool = False) -> str:
        v = s.get(key, "")
        if not isinstance(v, str) or (required and not v.strip()):
            raise SchemaError(path, f"{where} {key} must be a{' non-empty' if required else ''} text, got {v!r}", f'write e.g. {key} = "..."')
        return v.strip()

    sid = text("id", required=True)
    if not _ID.match(sid):
        raise SchemaError(path, f"{where} id {sid!r} is not a short lower-case identifier", 'use a-z, 0-9, "_" or "-", e.g. id = "plan_2030"')
    base = s.get("base_year")
    if base is not None and (isinstance(base, bool) or not isinstance(base, int) or not YEAR_MIN <= base <= YEAR_MAX):
        raise SchemaError(path, f"{where} base_year must be a year within {YEAR_MIN}..{YEAR_MAX}, got {base!r}",
                          "write e.g. base_year = 2025, or leave it out for the last inventory year")
    lo = base if base is not None else YEAR_MIN

    def year(key: str) -> int | None:
        v = s.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= YEAR_MAX:
            raise SchemaError(path, f"{where} {key} must be a year within {lo}..{YEAR_MAX}, got {v!r}", f"write e.g. {key} = 2035")
        return v

    def number(key: str, default: float | None, hi: float, unit: str) -> float | None:
        v = s.get(key, default)
        if v is None:
            return None
        if not _num(v) or not 0 <= v <= hi:
            raise SchemaError(path, f"{where} {key} must be a number of {unit} within [0, {hi:g}], got {v!r}",
                              f"write e.g. {key} = {default if default is not None else 0.5}")
        return float(v)

    sectors = s.get("sector_change_pct_yr")
    if not isinstance(sectors, dict) or not sectors:
        raise SchemaError(path, f"{where} sector_change_pct_yr must be a table of sector = rate, got {sectors!r}",
                          f"add [scenario.sector_change_pct_yr] with one line per sector of {list(SECTORS)}, e.g. energy = -2.0")
    bad = sorted(set(sectors) - set(SECTORS))
    if bad:
        raise SchemaError(path, f"{where} sector_change_pct_yr has unknown sector(s) {bad}", f"use only {list(SECTORS)}")
    sector_steps = {k: _steps(path, where, f"sector_change_pct_yr.{k}", v, lo_year=lo) for k, v in sectors.items()}
    gdp = _steps(path, where, "gdp_growth_pct_yr", s["gdp_growth_pct_yr"], lo_year=lo) if "gdp_growth_pct_yr" in s else constant(0.0)
    intensity = (_steps(path, where, "intensity_target_change_pct", s["intensity_target_change_pct"], lo_year=YEAR_MIN, periods=True)
                 if "intensity_target_change_pct" in s else ())
    aff, wet = number("afforestation_ha_yr", 0.0, 1e6, "ha/yr"), number("wetland_restoration_ha_yr", 0.0, 1e6, "ha/yr")
    aff_until, wet_until = year("afforestation_until"), year("wetland_restoration_until")
    for ha, until, key in ((aff, aff_until, "afforestation"), (wet, wet_until, "wetland_restoration")):
        if ha and until is None:
            raise SchemaError(path, f"{where} {key}_ha_yr = {ha:g} has no {key}_until year", f"add {key}_until = 2035 (the last planting year)")
    fgain = number("forest_gain_tc_ha_yr", FOREST_GAIN_TC_HA_YR, MAX_GAIN_TC_HA_YR, "t C/ha/yr")
    fsrc = text("forest_gain_source") or (FOREST_GAIN_SOURCE if "forest_gain_tc_ha_yr" not in s else "")
    if not fsrc:
        raise SchemaError(path, f"{where} forest_gain_tc_ha_yr is given without forest_gain_source",
                          'cite where the rate comes from: forest_gain_source = "..." (or leave the rate out for the coefficient table\'s)')
    wgain = number("wetland_gain_tc_ha_yr", None, MAX_GAIN_TC_HA_YR, "t C/ha/yr")
    wsrc = text("wetland_gain_source")
    if wgain is not None and not wsrc:
        raise SchemaError(path, f"{where} wetland_gain_tc_ha_yr is given without wetland_gain_source",
                          'cite where the rate comes from: wetland_gain_source = "..." (the coefficient table has no wetland gain rate)')
    verified = s.get("verified", False)
    if not isinstance(verified, bool):
        raise SchemaError(path, f"{where} verified must be true or false, got {verified!r}", "write verified = false")
    return Scenario(id=sid, name_zh=text("name_zh", True), name_en=text("name_en", True), base_year=base,
                    sector_change_pct_yr=sector_steps, gdp_growth_pct_yr=gdp, intensity_target_change_pct=intensity,
                    afforestation_ha_yr=aff, afforestation_until=aff_until, wetland_restoration_ha_yr=wet,
                    wetland_restoration_until=wet_until, forest_gain_tc_ha_yr=fgain, forest_gain_source=fsrc,
                    wetland_gain_tc_ha_yr=wgain, wetland_gain_source=wsrc, note=text("note"), source=text("source"),
                    verified=verified, path=str(path))


def parse_scenarios(text: str, *, name: str | Path = "<scenarios>") -> tuple[Scenario, ...]:
    """Scenarios from TOML text (``[[scenario]]`` tables); SchemaError names ``name`` and the key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(name, f"it is not valid TOML ({exc})", "check the quotes, brackets and '=' signs at the place named") from exc
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise SchemaError(name, f"unknown top-level key(s) {unknown}", f"use only {sorted(_TOP_KEYS)}; scenarios go in [[scenario]] tables")
    items = doc.get("scenario")
    if not isinstance(items, list) or not items:
        raise SchemaError(name, "no [[scenario]] table", "add at least one [[scenario]] (see data/ledger/scenarios_illustrative.toml)")
    out = tuple(_scenario(Path(str(name)), i, s) for i, s in enumerate(items))
    ids = [s.id for s in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise SchemaError(name, f"scenario id(s) {dup} appear more than once", "give every [[scenario]] its own id")
    return out


def load_scenarios(path: str | Path) -> tuple[Scenario, ...]:
    """Read and validate a scenarios TOML file (see the module docstring for the rules)."""
    p = Path(path)
    if not p.exists():
        raise DataError(p, "the file does not exist", "check the path (e.g. data/ledger/scenarios_illustrative.toml)")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(p, "the text is not UTF-8", "save the TOML file as UTF-8") from exc
    return parse_scenarios(text, name=p)


# ---------------------------------------------------------------------------------------------
# GDP and dual-control targets (CSV)
# ---------------------------------------------------------------------------------------------

_YES = {"yes", "true", "1", "是", "y"}
_NO = {"no", "false", "0", "否", "n", ""}


def _verified(df: pd.DataFrame, label: str) -> pd.Series:
    v = df["verified"].astype(str).str.strip().str.lower() if "verified" in df else pd.Series("", index=df.index)
    bad = ~v.isin(_YES | _NO)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SchemaError(label, f"row {i + 2}: verified = {df['verified'].iloc[i]!r} is not yes / no", "write yes or no (是 / 否, true / false)")
    return v.isin(_YES)


def load_gdp(source: str | Path | bytes, *, name: str | None = None) -> pd.DataFrame:
    """A GDP table ``zone_id, year, gdp_100m_cny`` (亿元, > 0) with ``source`` and ``verified``.

    Returns ``zone_id, year, gdp_100m_cny, price_basis, source, verified`` (extra columns kept).
    Raises SchemaError on the first bad row (row number, column, fix): GDP is a denominator, so
    a blank or zero is never passed on.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<gdp upload>")
    df = read_csv(source, name=label, required=("zone_id", "year", "gdp_100m_cny", "source"))
    year, gdp = to_number(df["year"]), to_number(df["gdp_100m_cny"])
    checks = ((year.isna() | (year % 1 != 0) | (year < 1900) | (year > YEAR_MAX), "year", "is not a year"),
              (gdp.isna() | (gdp <= 0), "gdp_100m_cny", "is not a positive number of 亿元 (10^8 CNY)"),
              (df["zone_id"].str.strip() == "", "zone_id", "is empty"),
              (df["source"].str.strip() == "", "source", "is empty: every GDP figure needs its source or method"))
    for bad, col, what in checks:
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SchemaError(label, f"row {i + 2}: {col} = {df[col].iloc[i]!r} {what}", f"correct {col} in row {i + 2}")
    out = df.assign(zone_id=df["zone_id"].str.strip(), year=year.astype(int), gdp_100m_cny=gdp.astype(float),
                    verified=_verified(df, label))
    dup = out.duplicated(["zone_id", "year"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise SchemaError(label, f"row {i + 2}: zone {out['zone_id'].iloc[i]!r} year {out['year'].iloc[i]} appears more than once",
                          "keep one GDP figure per zone and year")
    if "price_basis" not in out:
        out["price_basis"] = ""
    return out.reset_index(drop=True)


CONTROL_INDICATORS = ("total_tco2e", "intensity_t_per_10k_cny")


def load_control_targets(source: str | Path | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Dual-control targets ``zone_id, year, indicator, target, source, verified``.

    ``indicator`` is ``total_tco2e`` (a cap, t CO2e/yr) or ``intensity_t_per_10k_cny`` (t CO2 per
    10^4 CNY); ``zone_id`` ``*`` applies to any zone or zone group. SchemaError on the first bad row.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<targets upload>")
    df = read_csv(source, name=label, required=("zone_id", "year", "indicator", "target", "source"))
    year, target = to_number(df["year"]), to_number(df["target"])
    ind = df["indicator"].str.strip()
    checks = ((year.isna() | (year % 1 != 0) | (year < YEAR_MIN) | (year > YEAR_MAX), "year", f"is not a year within {YEAR_MIN}..{YEAR_MAX}"),
              (~ind.isin(CONTROL_INDICATORS), "indicator", f"is not one of {list(CONTROL_INDICATORS)}"),
              (target.isna() | (target < 0), "target", "is not a number >= 0"),
              (df["source"].str.strip() == "", "source", "is empty: cite the plan or say 'illustrative'"))
    for bad, col, what in checks:
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SchemaError(label, f"row {i + 2}: {col} = {df[col].iloc[i]!r} {what}", f"correct {col} in row {i + 2}")
    out = pd.DataFrame({"zone_id": df["zone_id"].str.strip().replace("", "*"), "year": year.astype(int), "indicator": ind,
                        "target": target.astype(float), "source": df["source"].str.strip(), "verified": _verified(df, label)})
    dup = out.duplicated(["zone_id", "year", "indicator"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise SchemaError(label, f"row {i + 2}: zone {out['zone_id'].iloc[i]!r}, {out['year'].iloc[i]}, {out['indicator'].iloc[i]} appears more than once",
                          "keep one target per zone, year and indicator")
    return out
