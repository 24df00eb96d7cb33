"""The carbon coefficient table: data with a citation for every value.

Two forms are read:

* the project's long table (``data/coefficients/carbon_coefficients.csv``): one row per value,
  ``lucode, lulc_name, quantity, value, unit, uncertainty_pct, source, verified, note``, where
  ``quantity`` is a pool (``c_above``, ``c_below``, ``c_soil``, ``c_dead``, t C/ha) or the annual
  gain rate of land that stays in its class (``gain_tc_per_ha_yr``);
* an InVEST carbon pools table (``lucode, c_above, c_below, c_soil, c_dead``, t C/ha), as users of
  InVEST's carbon model have it.

Like InVEST's ``validate``, :func:`validate_table` returns a list of problems rather than raising
at the first, so a UI can show all of them; :func:`load_coefficients` raises with all of them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import SchemaError, UnknownClassError
from geodata.tables import read_csv, to_number

POOLS = ("c_above", "c_below", "c_soil", "c_dead")
GAIN = "gain_tc_per_ha_yr"
QUANTITIES = POOLS + (GAIN,)
UNITS = {**{p: "t C/ha" for p in POOLS}, GAIN: "t C/ha/yr"}
LONG_COLUMNS = ("lucode", "lulc_name", "quantity", "value", "unit", "uncertainty_pct", "source", "verified", "note")
INVEST_COLUMNS = ("lucode",) + POOLS
SOURCE_REQUIRED = "source required"


@dataclass(frozen=True)
class CoefficientTable:
    """Pool densities (t C/ha) and gain rates (t C/ha/yr) per land-cover code, with sources.

    ``values`` is the long table, one row per (lucode, quantity), with numeric ``value``
    (NaN where a source is still required) and boolean ``verified``.
    """

    values: pd.DataFrame
    path: str
    sha256: str
    form: str  # "long" or "invest"

    @property
    def codes(self) -> list[int]:
        return sorted(int(c) for c in self.values["lucode"].unique())

    def pools(self) -> pd.DataFrame:
        """lucode x pool densities in t C/ha (InVEST's carbon pools table)."""
        p = self.values[self.values["quantity"].isin(POOLS)]
        return p.pivot(index="lucode", columns="quantity", values="value").reindex(columns=list(POOLS))

    def total_density_tc_per_ha(self) -> pd.Series:
        return self.pools().sum(axis=1)

    def gain_rates(self) -> pd.Series:
        """Annual carbon gain of land that stays in its class, t C/ha/yr; NaN = source required."""
        g = self.values[self.values["quantity"] == GAIN].set_index("lucode")["value"]
        return g.reindex(self.codes)

    def names(self) -> dict[int, str]:
        return dict(self.values.groupby("lucode")["lulc_name"].first())

    def unverified(self) -> pd.DataFrame:
        return self.values[~self.values["verified"]]

    def to_invest_frame(self) -> pd.DataFrame:
        out = self.pools().reset_index()
        out.insert(1, "lulc_name", out["lucode"].map(self.names()))
        return out

    def require_codes(self, codes: list[int], *, raster: str) -> None:
        """Raise listing every land-cover code of ``raster`` the table lacks: never a silent zero."""
        missing = sorted(set(int(c) for c in codes) - set(self.codes))
        if missing:
            raise UnknownClassError(
                raster,
                f"land-cover code(s) {missing} are not in the coefficient table {Path(self.path).name} "
                f"(column 'lucode' has {self.codes})",
                f"add rows for lucode {missing} with c_above, c_below, c_soil and c_dead (t C/ha) and "
                "their sources, or recode the raster",
            )


def _as_bool(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().isin(["true", "1", "yes", "y"])


def validate_table(df: pd.DataFrame, *, name: str) -> list[str]:
    """Problems with a coefficient table, one sentence each (empty list = usable)."""
    problems: list[str] = []
    cols = set(df.columns)
    if "quantity" in cols:
        missing = [c for c in LONG_COLUMNS if c not in cols]
        if missing:
            return [f"{name}: missing column(s) {missing}; the long form needs {list(LONG_COLUMNS)}"]
        codes = to_number(df["lucode"])
        for i in np.flatnonzero(codes.isna() | (codes % 1 != 0)):
            problems.append(f"{name} row {i + 2}: lucode '{df['lucode'].iloc[i]}' is not an integer")
        bad_q = sorted(set(df["quantity"]) - set(QUANTITIES))
        if bad_q:
            problems.append(f"{name}: unknown quantity {bad_q}; use one of {list(QUANTITIES)}")
        vals = to_number(df["value"])
        for i in range(len(df)):
            row = df.iloc[i]
            where = f"{name} row {i + 2} (lucode {row['lucode']}, {row['quantity']})"
            raw = str(row["value"]).strip()
            if raw == "":
                if SOURCE_REQUIRED not in str(row["note"]).lower():
                    problems.append(f"{where}: value is empty; mark the note '{SOURCE_REQUIRED}' or give a value")
                if row["quantity"] in POOLS:
                    problems.append(f"{where}: a pool density cannot be empty (stocks need it)")
            elif np.isnan(vals.iloc[i]):
                problems.append(f"{where}: value '{raw}' is not a finite number")
            elif vals.iloc[i] < 0:
                problems.append(f"{where}: value {vals.iloc[i]} is negative; densities and gain rates are non-negative")
            if not str(row["source"]).strip():
                problems.append(f"{where}: no source; every value needs a citation")
            if row["quantity"] in UNITS and str(row["unit"]).strip() != UNITS[row["quantity"]]:
                problems.append(f"{where}: unit '{row['unit']}' should be '{UNITS[row['quantity']]}'")
        if not problems:
            dup = df.duplicated(["lucode", "quantity"])
            if dup.any():
                problems.append(f"{name}: repeated (lucode, quantity) rows {df.loc[dup, ['lucode', 'quantity']].values.tolist()}")
            have = df.assign(lucode=codes.astype(int)).groupby("lucode")["quantity"].apply(set)
            for code, qs in have.items():
                lacking = [p for p in POOLS if p not in qs]
                if lacking:
                    problems.append(f"{name}: lucode {code} lacks pool(s) {lacking}")
        return problems
    missing = [c for c in INVEST_COLUMNS if c not in cols]
    if missing:
        return [f"{name}: missing column(s) {missing}; an InVEST carbon pools table needs {list(INVEST_COLUMNS)}"]
    for col in INVEST_COLUMNS:
        vals = to_number(df[col])
        for i in np.flatnonzero(vals.isna()):
            problems.append(f"{name} row {i + 2}: {col} '{df[col].iloc[i]}' is not a finite number")
        for i in np.flatnonzero(vals < 0):
            problems.append(f"{name} row {i + 2}: {col} {vals.iloc[i]} is negative")
    codes = to_number(df["lucode"])
    if codes.duplicated().any():
        problems.append(f"{name}: lucode values repeat: {sorted(set(codes[codes.duplicated()].dropna().astype(int)))}")
    return problems


def load_coefficients(path: str | Path) -> CoefficientTable:
    """Read and validate a long coefficient table or an InVEST carbon pools table.

    Raises
    ------
    SchemaError
        listing every problem found.
    """
    path = Path(path)
    df = read_csv(path)
    problems = validate_table(df, name=path.name)
    if problems:
        raise SchemaError(path, "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else ""), "correct the table; every value needs a number, a unit and a source")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if "quantity" in df.columns:
        long = pd.DataFrame({
            "lucode": to_number(df["lucode"]).astype(int),
            "lulc_name": df["lulc_name"],
            "quantity": df["quantity"],
            "value": to_number(df["value"]),
            "unit": df["unit"],
            "uncertainty_pct": to_number(df["uncertainty_pct"]),
            "source": df["source"],
            "verified": _as_bool(df["verified"]),
            "note": df["note"],
        })
        form = "long"
    else:
        rows = []
        names = df["lulc_name"] if "lulc_name" in df.columns else df.get("lulc_desc", pd.Series([""] * len(df)))
        for i in range(len(df)):
            for p in POOLS:
                rows.append({
                    "lucode": int(to_number(df["lucode"]).iloc[i]), "lulc_name": str(names.iloc[i]), "quantity": p,
                    "value": float(to_number(df[p]).iloc[i]), "unit": UNITS[p], "uncertainty_pct": np.nan,
                    "source": f"user-supplied InVEST carbon pools table {path.name}", "verified": False,
                    "note": "from an InVEST table; no per-value citation given",
                })
        long = pd.DataFrame(rows)
        form = "invest"
    return CoefficientTable(values=long, path=str(path), sha256=sha, form=form)
