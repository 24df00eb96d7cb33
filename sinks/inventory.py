"""The emissions inventory: rows by year, zone and sector, each with scope and source.

Rows that cannot be used are never dropped silently: :func:`load_inventory` splits the table
into accepted and rejected rows, each rejected row with the reason, and the caller shows both.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geodata.errors import EmptyResultError
from geodata.tables import read_csv, to_number

SECTORS = ("industry", "energy", "buildings", "transport")
COLUMNS = ("year", "zone_id", "sector", "emissions_tco2", "scope", "basis", "source", "illustrative")


@dataclass(frozen=True)
class Inventory:
    """Accepted rows (typed) and rejected rows (as read, with a ``reason``)."""

    rows: pd.DataFrame
    rejected: pd.DataFrame
    path: str
    sha256: str

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.rows["year"].unique())

    def totals(self) -> pd.DataFrame:
        """``zone_id, year, emissions_tco2`` summed over sectors."""
        return self.rows.groupby(["zone_id", "year"], as_index=False)["emissions_tco2"].sum()


def load_inventory(source: str | Path | bytes, *, name: str | None = None, zone_ids: list[str] | None = None) -> Inventory:
    """Read an emissions CSV (UTF-8 or GBK), validating every row.

    A row is rejected when its year is not a whole number, its emissions are blank, negative,
    infinite or text, its sector is not one of :data:`SECTORS`, its zone is unknown (when
    ``zone_ids`` is given), or it has no source. Repeated (year, zone, sector) rows are all
    rejected: which one is right is the user's call.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    raw = source if isinstance(source, bytes) else Path(source).read_bytes() if Path(source).exists() else None
    df = read_csv(source, name=label, required=("year", "zone_id", "sector", "emissions_tco2", "source"))
    for col in ("scope", "basis", "illustrative"):
        if col not in df.columns:
            df[col] = ""
    year = to_number(df["year"])
    value = to_number(df["emissions_tco2"])
    reason = pd.Series("", index=df.index, dtype=object)

    def flag(mask: pd.Series, text: str) -> None:
        reason.loc[mask & (reason == "")] = text

    flag(year.isna() | (year % 1 != 0), "year is not a whole number")
    flag(value.isna(), "emissions_tco2 is blank, text or infinite")
    flag(value < 0, "emissions_tco2 is negative (store magnitudes)")
    flag(~df["sector"].str.strip().str.lower().isin(SECTORS), f"sector is not one of {', '.join(SECTORS)}")
    if zone_ids is not None:
        flag(~df["zone_id"].str.strip().isin(zone_ids), f"zone_id is not one of {', '.join(zone_ids)}")
    flag(df["source"].str.strip() == "", "no source given")
    key = pd.DataFrame({"y": year, "z": df["zone_id"].str.strip(), "s": df["sector"].str.strip().str.lower()})
    usable = reason == ""
    dup = pd.Series(False, index=df.index)
    dup[usable] = key[usable].duplicated(keep=False)
    flag(dup, "the same year, zone and sector appear more than once")
    ok = reason == ""
    rows = pd.DataFrame({
        "year": year[ok].astype(int),
        "zone_id": df.loc[ok, "zone_id"].str.strip(),
        "sector": df.loc[ok, "sector"].str.strip().str.lower(),
        "emissions_tco2": value[ok].astype(float),
        "scope": df.loc[ok, "scope"],
        "basis": df.loc[ok, "basis"],
        "source": df.loc[ok, "source"],
        "illustrative": df.loc[ok, "illustrative"].str.strip().str.lower().isin(["true", "1", "yes"]),
    }).reset_index(drop=True)
    rejected = df.loc[~ok].assign(row=(df.index[~ok] + 2), reason=reason[~ok]).reset_index(drop=True)
    if rows.empty:
        raise EmptyResultError(label, f"no usable rows ({len(rejected)} rejected; first reason: {rejected['reason'].iloc[0] if len(rejected) else 'the table is empty'})", "correct the rows listed as rejected")
    sha = hashlib.sha256(raw).hexdigest() if raw is not None else ""
    return Inventory(rows=rows, rejected=rejected, path=label, sha256=sha)
