"""Forest land the map cannot see: shelterbelts (农田林网) and trees beside houses, roads and
water (四旁树) that forestry statistics count toward 森林覆盖率 as an area per unit.

A table ``unit_id, year, extra_forest_ha, kind, source`` (one or more rows per unit and year; a
forestry inventory's converted areas) is added to the mapped forest of that unit and date, and
shown apart (``forest_extra_ha``). Rows are accepted or rejected with a reason.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from geodata.errors import SchemaError
from geodata.tables import read_csv, to_number

EXTRA_COLUMNS = ("unit_id", "year", "extra_forest_ha")
OPTIONAL = ("kind", "source")


def check_forest_extra(df: pd.DataFrame, *, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into (accepted rows summed per unit and year, rejected rows with ``row`` and ``reason``)."""
    missing = [c for c in EXTRA_COLUMNS if c not in df.columns]
    if missing:
        raise SchemaError(name, f"the extra forest table lacks column(s) {missing}",
                          f"give columns {', '.join(EXTRA_COLUMNS)} (+ {', '.join(OPTIONAL)}): hectares of shelterbelts / 四旁树 per unit and year")
    d = df.copy().reset_index(drop=True)
    for c in OPTIONAL:
        if c not in d:
            d[c] = ""
    d["unit_id"] = d["unit_id"].astype("string").str.strip()
    year = to_number(d["year"])
    ha = to_number(d["extra_forest_ha"])
    reason = pd.Series("", index=d.index, dtype=object)
    reason[(d["unit_id"].isna() | (d["unit_id"] == "")).fillna(True)] = "no unit_id"
    bad_year = year.isna() | (year != year.round())
    reason[bad_year & (reason == "")] = "year is not a whole year"
    bad_ha = ha.isna() | (ha < 0)
    reason[bad_ha & (reason == "")] = "extra_forest_ha is not a number of hectares >= 0"
    ok = reason == ""
    acc = d[ok].assign(year=year[ok].astype(int), extra_forest_ha=ha[ok])
    acc["source"] = acc["source"].fillna("").astype(str)
    acc = acc.groupby(["unit_id", "year"], as_index=False).agg(
        forest_extra_ha=("extra_forest_ha", "sum"), forest_extra_source=("source", lambda s: "; ".join(dict.fromkeys(x for x in s if x))))
    rej = d[~ok].assign(row=lambda x: x.index + 2, reason=reason[~ok])
    return acc, rej[["row", *EXTRA_COLUMNS, "reason"]].reset_index(drop=True)


def load_forest_extra(source: str | Path | bytes, *, name: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read an extra forest CSV (path or bytes; UTF-8, BOM or GBK) -> (accepted, rejected)."""
    label = name or (str(source) if not isinstance(source, bytes) else "<extra forest upload>")
    return check_forest_extra(read_csv(source, name=label), name=label)
