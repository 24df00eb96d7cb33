"""Coverage targets per unit and year (data, editable) and progress against them.

A targets table has ``unit_id, year, indicator, target_pct, source, verified, note``; the unit
``*`` is the default for every unit without its own row. Rows are accepted or rejected with a
reason, never dropped silently.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import SchemaError
from geodata.tables import read_csv, to_number

TARGET_COLUMNS = ("unit_id", "year", "indicator", "target_pct")
OPTIONAL_COLUMNS = ("source", "verified", "note")
ANY_UNIT = "*"


def target_indicators(park_radii_m) -> tuple[str, ...]:
    from sinks.greening.indicators import INDICATORS, park_indicator
    return INDICATORS + tuple(park_indicator(r) for r in sorted(park_radii_m))


_YES = {"yes", "true", "1", "是", "y"}
_NO = {"no", "false", "0", "否", "n", "", "nan", "none", "<na>"}


def parse_verified(values: pd.Series) -> pd.Series:
    """yes / no, true / false, 1 / 0, 是 / 否 (any case; empty = no) -> bool; anything else -> NA."""
    v = values.astype("string").str.strip().str.lower().fillna("")
    return pd.Series(np.where(v.isin(_YES), True, np.where(v.isin(_NO), False, None)), index=values.index, dtype="object").map(
        lambda x: pd.NA if x is None else bool(x)).astype("boolean")


def unmatched_units(targets: pd.DataFrame, unit_ids) -> list[str]:
    """Unit ids of target rows that match no unit of ``unit_ids`` (``*`` rows always match)."""
    ids = {str(u) for u in unit_ids}
    return sorted(set(targets["unit_id"].astype(str)) - ids - {ANY_UNIT})


def check_targets(df: pd.DataFrame, *, name: str, indicators) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a targets frame into (accepted, rejected with ``row``, ``reason`` and ``reason_code``:
    no_unit, bad_year, bad_indicator, bad_target, bad_verified, duplicate)."""
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise SchemaError(name, f"the targets table lacks column(s) {missing}", f"give columns {', '.join(TARGET_COLUMNS)} (+ {', '.join(OPTIONAL_COLUMNS)})")
    d = df.copy().reset_index(drop=True)
    for c in OPTIONAL_COLUMNS:
        if c not in d:
            d[c] = ""
    d["unit_id"] = d["unit_id"].astype("string").str.strip()
    d["indicator"] = d["indicator"].astype("string").str.strip()
    year = to_number(d["year"])
    target = to_number(d["target_pct"])
    reasons = pd.Series("", index=d.index, dtype=object)
    codes = pd.Series("", index=d.index, dtype=object)

    def flag(mask, code: str, text: str) -> None:
        mask = (mask.fillna(True) if hasattr(mask, "fillna") else mask) & (reasons == "")
        reasons[mask] = text
        codes[mask] = code

    flag(d["unit_id"].isna() | (d["unit_id"] == ""), "no_unit", "no unit_id")
    flag(year.isna() | (year != year.round()) | (year < 1900) | (year > 2100), "bad_year", "year is not a year between 1900 and 2100")
    flag(~d["indicator"].isin(list(indicators)), "bad_indicator", f"indicator is not one of {list(indicators)}")
    flag(target.isna() | (target < 0) | (target > 100), "bad_target", "target_pct is not a number between 0 and 100")
    verified = parse_verified(d["verified"])
    flag(verified.isna(), "bad_verified", "verified is not yes / no (是 / 否, true / false, 1 / 0, or empty = no)")
    d["year"] = year
    d["target_pct"] = target
    ok = reasons == ""
    dup = d[ok].duplicated(["unit_id", "year", "indicator"], keep="first")
    flag(dup.reindex(d.index, fill_value=False), "duplicate", "repeats an earlier row for the same unit, year and indicator")
    ok = reasons == ""
    acc = d[ok].assign(year=lambda x: x["year"].astype(int), verified=verified[ok].astype(bool))
    acc = acc[list(TARGET_COLUMNS) + list(OPTIONAL_COLUMNS)].reset_index(drop=True)
    rej = d[~ok].assign(row=lambda x: x.index + 2, reason=reasons[~ok], reason_code=codes[~ok])  # +2: header and 1-based
    return acc, rej[["row", *TARGET_COLUMNS, "reason", "reason_code"]].reset_index(drop=True)


def load_targets(source: str | Path | bytes, *, indicators, name: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a targets CSV (path or uploaded bytes; UTF-8, BOM or GBK) -> (accepted, rejected)."""
    label = name or (str(source) if not isinstance(source, bytes) else "<targets upload>")
    return check_targets(read_csv(source, name=label), name=label, indicators=indicators)


def progress_table(indicators: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Each unit against each target that applies to it (its own rows, else the ``*`` rows).

    Per unit x indicator x target year: the latest mapped value up to the target year (none
    before the first map date: undefined), the first value and its change, the gap (target -
    value, percentage points; > 0 = below target), status (``met`` / ``below`` / ``undefined``
    when the value is undefined), the yearly gain needed to close the gap by the target year,
    and the rank of the unit among units with the same indicator and target year (1 = furthest
    below).
    """
    cols = ["unit_id", "indicator", "target_year", "target_pct", "value_year", "value_pct", "first_year", "first_pct",
            "change_pts", "gap_pts", "status", "needed_pts_per_yr", "rank", "target_source", "target_verified", "target_is_default"]
    if indicators.empty or targets.empty:
        return pd.DataFrame(columns=cols)
    ind = indicators.assign(unit_id=indicators["unit_id"].astype(str))
    units = pd.DataFrame({"unit_id": sorted(ind["unit_id"].unique())})
    t = targets.rename(columns={"year": "target_year", "source": "target_source", "verified": "target_verified"})
    own = t[t["unit_id"] != ANY_UNIT].merge(units, on="unit_id").assign(target_is_default=False)
    dflt = units.merge(t[t["unit_id"] == ANY_UNIT].drop(columns="unit_id"), how="cross").assign(target_is_default=True)
    dflt = dflt.merge(own[["unit_id", "indicator", "target_year"]], how="left", indicator="_m")
    applied = pd.concat([own, dflt[dflt["_m"] == "left_only"].drop(columns="_m")], ignore_index=True)
    names = [c for c in applied["indicator"].unique() if c in ind.columns]
    applied = applied[applied["indicator"].isin(names)]
    if applied.empty:
        return pd.DataFrame(columns=cols)
    long = ind.melt(id_vars=["unit_id", "year"], value_vars=names, var_name="indicator", value_name="value_pct")
    years = sorted(ind["year"].unique())
    first = years[0]
    # the latest map date at or before each target year (none before the first date)
    ty = np.array(sorted(applied["target_year"].unique()))
    vy = {int(y): max((d for d in years if d <= y), default=None) for y in ty}
    applied = applied.assign(value_year=applied["target_year"].map(vy).astype("Int64"), first_year=first)
    out = applied.merge(long.rename(columns={"year": "value_year"}).astype({"value_year": "Int64"}),
                        on=["unit_id", "indicator", "value_year"], how="left")
    out = out.merge(long[long["year"] == first].drop(columns="year").rename(columns={"value_pct": "first_pct"}),
                    on=["unit_id", "indicator"], how="left")
    out["value_pct"] = out["value_pct"].astype("float64")
    out["change_pts"] = (out["value_pct"] - out["first_pct"]).where(out["value_year"] != first)
    out["gap_pts"] = out["target_pct"] - out["value_pct"]
    out["status"] = np.where(out["value_pct"].isna(), "undefined", np.where(out["gap_pts"] <= 0, "met", "below"))
    span = (out["target_year"] - out["value_year"].astype("float64"))
    out["needed_pts_per_yr"] = (out["gap_pts"].clip(lower=0) / span).where(span > 0)
    out["rank"] = out.groupby(["indicator", "target_year"])["gap_pts"].rank(ascending=False, method="min")
    out["target_verified"] = out["target_verified"].astype(bool)
    return out[cols].sort_values(["indicator", "target_year", "rank", "unit_id"], na_position="last").reset_index(drop=True)
