"""Plain-language equivalents of annual removals: "as much CO2 as N residents / cars / households".

The public explorer says what an area's annual removals (t CO2e/yr) mean in everyday terms, the
carbon-inclusion (碳普惠) idea of the plan. Each equivalent divides the removals by one factor
(t CO2e per resident, car or household per year) from ``data/explorer/equivalents.csv``; every
factor carries its derivation and a citation, and ``verified`` says whether its numbers were read
in a stored source (see ``data/explorer/README.md``).

Counts keep the sign of the removals: a net source (negative removals) gives negative counts, and
the page says "emits as much as". The interval of a count is the removal interval divided by the
same factor (the factors are taken as exact: their own uncertainty is not propagated).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from geodata.errors import DataError, SchemaError

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "explorer" / "equivalents.csv"
COLUMNS = ("key", "name_zh", "name_en", "factor_tco2e_per_yr", "unit_zh", "unit_en", "derivation", "source", "verified")
OUT_COLUMNS = ("key", "name_zh", "name_en", "count", "low", "high", "factor_tco2e_yr", "unit_zh", "unit_en",
               "source", "verified", "derivation")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def load_equivalents(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the equivalents table (default ``data/explorer/equivalents.csv``).

    Returns the table with ``factor_tco2e_per_yr`` as float (t CO2e per unit per year) and
    ``verified`` as bool, in file order.

    Raises
    ------
    SchemaError
        A column is missing, or a key is empty or repeated.
    DataError
        A factor that is not a finite number > 0, an empty citation (``source``) or derivation,
        or a ``verified`` that is not true / false; the message names the file, the row (as in
        a spreadsheet: the header is row 1) and the column.
    """
    p = Path(path) if path is not None else DEFAULT_PATH
    if not p.exists():
        raise DataError(p, "the equivalents table does not exist", "restore data/explorer/equivalents.csv or pass the path of one")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(p, f"it cannot be read as a UTF-8 CSV ({exc})", "save it as UTF-8 CSV with a header row") from exc
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise SchemaError(p, f"columns {missing} are missing (found {list(df.columns)})", f"give the columns {list(COLUMNS)}")
    if df.empty:
        raise DataError(p, "the table has no rows", "add at least one equivalent")
    factors, verified = [], []
    for i, r in df.iterrows():
        row = i + 2  # spreadsheet row: header is row 1
        key = r["key"].strip()
        if not key:
            raise SchemaError(p, f"row {row}: column 'key' is empty", "give every equivalent a key")
        try:
            f = float(r["factor_tco2e_per_yr"])
        except ValueError:
            raise DataError(p, f"row {row} ({key}): column 'factor_tco2e_per_yr' holds {r['factor_tco2e_per_yr']!r}, not a number",
                            "write the factor in t CO2e per unit per year, e.g. 4.6") from None
        if not math.isfinite(f) or f <= 0:
            raise DataError(p, f"row {row} ({key}): column 'factor_tco2e_per_yr' is {f:g}; a factor must be a finite number above 0",
                            "write the positive t CO2e per unit per year")
        for col in ("source", "derivation", "name_en", "unit_en"):
            if not r[col].strip():
                raise DataError(p, f"row {row} ({key}): column '{col}' is empty" + (" (every factor needs a citation)" if col == "source" else ""),
                                "cite the publication or data set the factor comes from" if col == "source" else f"fill in '{col}'")
        v = r["verified"].strip().lower()
        if v not in _TRUE | _FALSE:
            raise DataError(p, f"row {row} ({key}): column 'verified' is {r['verified']!r}", "write true (read in a stored source) or false")
        factors.append(f)
        verified.append(v in _TRUE)
    dup = sorted(set(df["key"][df["key"].duplicated()]))
    if dup:
        raise SchemaError(p, f"keys {dup} are used more than once", "give every equivalent its own key")
    out = df.copy()
    out["key"] = out["key"].str.strip()
    out["factor_tco2e_per_yr"] = factors
    out["verified"] = verified
    out.attrs["source"] = str(p)
    return out[list(COLUMNS)]


def equivalents(removals_tco2e_yr: float, low: float = float("nan"), high: float = float("nan"),
                table: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """How many residents / cars / households emit as much CO2 per year as the removals.

    Parameters
    ----------
    removals_tco2e_yr
        Annual net removals, t CO2e/yr (negative: a net source).
    low, high
        The removal interval, t CO2e/yr (NaN when unknown).
    table
        The equivalents table (a frame from :func:`load_equivalents`, or a path; default the
        project's table).

    Returns
    -------
    DataFrame
        One row per factor: ``key, name_zh, name_en, count`` (= removals / factor, units of
        ``unit_*``; negative for a net source), ``low, high`` (the interval / factor),
        ``factor_tco2e_yr`` (t CO2e per unit per year), ``unit_zh, unit_en, source, verified,
        derivation``.
    """
    t = table if isinstance(table, pd.DataFrame) else load_equivalents(table)
    f = t["factor_tco2e_per_yr"].astype(float)
    out = pd.DataFrame({
        "key": t["key"], "name_zh": t["name_zh"], "name_en": t["name_en"],
        "count": float(removals_tco2e_yr) / f,
        "low": float(low) / f, "high": float(high) / f,
        "factor_tco2e_yr": f,
        "unit_zh": t["unit_zh"], "unit_en": t["unit_en"], "source": t["source"], "verified": t["verified"].astype(bool),
        "derivation": t["derivation"],
    })
    return out[list(OUT_COLUMNS)].reset_index(drop=True)
