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


def check_targets(df: pd.DataFrame, *, name: str, indicators) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a targets frame into (accepted, rejected with ``row`` and ``reason``)."""
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

    def flag(mask, text):
        mask = mask.fillna(True) if hasattr(mask, "fillna") else mask
        reasons[mask & (reasons == "")] = text

    flag(d["unit_id"].isna() | (d["unit_id"] == ""), "no unit_id")
    flag(year.isna() | (year != year.round()) | (year < 1900) | (year > 2100), "year is not a year between 1900 and 2100")
    flag(~d["indicator"].isin(list(indicators)), f"indicator is not one of {list(indicators)}")
    flag(target.isna() | (target < 0) | (target > 100), "target_pct is not a number between 0 and 100")
    d["year"] = year
    d["target_pct"] = target
    ok = reasons == ""
    dup = d[ok].duplicated(["unit_id", "year", "indicator"], keep="first")
    reasons[dup[dup].index] = "repeats an earlier row for the same unit, year and indicator"
    ok = reasons == ""
    verified = d["verified"].astype(str).str.strip().str.lower().isin(["yes", "true", "1"])
    acc = d[ok].assign(year=lambda x: x["year"].astype(int), verified=verified[ok])
    acc = acc[list(TARGET_COLUMNS) + list(OPTIONAL_COLUMNS)].reset_index(drop=True)
    rej = d[~ok].assign(row=lambda x: x.index + 2, reason=reasons[~ok])  # +2: header and 1-based
    return acc, rej[["row", *TARGET_COLUMNS, "reason"]].reset_index(drop=True)


def load_targets(source: str | Path | bytes, *, indicators, name: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a targets CSV (path or uploaded bytes; UTF-8, BOM or GBK) -> (accepted, rejected)."""
    label = name or (str(source) if not isinstance(source, bytes) else "<targets upload>")
    return check_targets(read_csv(source, name=label), name=label, indicators=indicators)


def progress_table(indicators: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Each unit against each target that applies to it (its own rows, else the ``*`` rows).

    Per unit x indicator x target year: the latest mapped value (from the latest date up to the
    target year, else the latest date), the first value and its change, the gap (target - value,
    percentage points; > 0 = below target), status (``met`` / ``below`` / ``undefined`` when the
    value is undefined), the yearly gain needed to close the gap by the target year, and the rank
    of the unit among units with the same indicator and target year (1 = furthest below).
    """
    cols = ["unit_id", "indicator", "target_year", "target_pct", "value_year", "value_pct", "first_year", "first_pct",
            "change_pts", "gap_pts", "status", "needed_pts_per_yr", "rank", "target_source", "target_verified", "target_is_default"]
    if indicators.empty or targets.empty:
        return pd.DataFrame(columns=cols)
    units = sorted(indicators["unit_id"].astype(str).unique())
    own = targets[targets["unit_id"] != ANY_UNIT]
    default = targets[targets["unit_id"] == ANY_UNIT]
    years = sorted(indicators["year"].unique())
    rows = []
    for u in units:
        mine = own[own["unit_id"] == u]
        keys = set(zip(mine["indicator"], mine["year"]))
        applied = pd.concat([mine.assign(is_default=False),
                             default[[(i, y) not in keys for i, y in zip(default["indicator"], default["year"])]].assign(is_default=True)])
        iu = indicators[indicators["unit_id"].astype(str) == u].set_index("year")
        for t in applied.itertuples():
            if t.indicator not in iu.columns:
                continue
            upto = [y for y in years if y <= t.year] or years
            vy = upto[-1]
            v = float(iu.at[vy, t.indicator]) if vy in iu.index else np.nan
            fy = years[0]
            f = float(iu.at[fy, t.indicator]) if fy in iu.index else np.nan
            gap = t.target_pct - v
            status = "undefined" if np.isnan(v) else ("met" if gap <= 0 else "below")
            span = t.year - vy
            rows.append({"unit_id": u, "indicator": t.indicator, "target_year": int(t.year), "target_pct": float(t.target_pct),
                         "value_year": int(vy), "value_pct": v, "first_year": int(fy), "first_pct": f,
                         "change_pts": v - f if vy != fy else np.nan, "gap_pts": gap, "status": status,
                         "needed_pts_per_yr": max(gap, 0.0) / span if span > 0 and not np.isnan(gap) else np.nan,
                         "target_source": t.source, "target_verified": bool(t.verified), "target_is_default": bool(t.is_default)})
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "rank"])
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["rank"] = out.groupby(["indicator", "target_year"])["gap_pts"].rank(ascending=False, method="min")
    return out[cols].sort_values(["indicator", "target_year", "rank", "unit_id"], na_position="last").reset_index(drop=True)
