"""Checks on data/coefficients/carbon_coefficients.csv (long-form carbon coefficient table).

The table is the single source of the carbon densities (InVEST pools) and the per-class
annual removal rates used by the gain-loss method. These tests guard its structure, its
provenance columns, and re-do the documented arithmetic by hand.
"""

import re
from pathlib import Path

import pandas as pd
import pytest

CSV = Path(__file__).resolve().parents[1] / "data" / "coefficients" / "carbon_coefficients.csv"

COLUMNS = ["lucode", "lulc_name", "quantity", "value", "unit", "uncertainty_pct",
           "source", "verified", "note"]
CODES = [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
POOLS = ["c_above", "c_below", "c_soil", "c_dead"]
GAIN = "gain_tc_per_ha_yr"
UNITS = {"c_above": "t C/ha", "c_below": "t C/ha", "c_soil": "t C/ha", "c_dead": "t C/ha",
         GAIN: "t C/ha/yr"}
CF = 0.47  # IPCC 2006 Vol.4 Table 4.3 carbon fraction, the factor named in the notes


@pytest.fixture(scope="module")
def table():
    # Read everything as text so "true"/"false" and empty cells are seen exactly as written.
    df = pd.read_csv(CSV, dtype=str, keep_default_na=False, encoding="utf-8")
    df["lucode"] = df["lucode"].astype(int)
    return df


def _value(df, code, quantity):
    row = df[(df.lucode == code) & (df.quantity == quantity)]
    assert len(row) == 1, f"expected one row for {code}/{quantity}, got {len(row)}"
    return float(row.iloc[0]["value"]), row.iloc[0]["note"]


def test_columns_exact(table):
    assert list(table.columns) == COLUMNS


def test_quantities_known_and_unique(table):
    assert set(table.quantity) <= set(POOLS) | {GAIN}
    dup = table.duplicated(["lucode", "quantity"])
    assert not dup.any(), table[dup][["lucode", "quantity"]]


def test_all_classes_have_all_four_numeric_nonnegative_pools(table):
    assert set(table.lucode) == set(CODES)
    for code in CODES:
        for pool in POOLS:
            rows = table[(table.lucode == code) & (table.quantity == pool)]
            assert len(rows) == 1, f"class {code} missing pool {pool}"
            v = rows.iloc[0]["value"]
            assert v != "", f"class {code} pool {pool} has no value (pools must be numeric)"
            x = float(v)
            assert x >= 0, f"class {code} pool {pool} negative: {x}"


def test_tree_cover_has_positive_gain(table):
    g, _ = _value(table, 10, GAIN)
    assert g > 0


def test_every_row_has_source(table):
    empty = table[table.source.str.strip() == ""]
    assert empty.empty, empty[["lucode", "quantity"]]


def test_verified_is_true_or_false(table):
    assert set(table.verified) <= {"true", "false"}


def test_verified_rows_say_where_they_were_read(table):
    for _, r in table[table.verified == "true"].iterrows():
        assert "VERIFIED" in r.note and "http" in r.note, (r.lucode, r.quantity)


def test_units_match_quantity(table):
    for _, r in table.iterrows():
        assert r.unit == UNITS[r.quantity], (r.lucode, r.quantity, r.unit)


def test_empty_values_carry_source_required(table):
    for _, r in table[table.value.str.strip() == ""].iterrows():
        assert "source required" in r.note, (r.lucode, r.quantity)
        assert r.verified == "false"


def test_numeric_values_and_uncertainty_parse(table):
    for _, r in table.iterrows():
        if r.value != "":
            float(r.value)
        if r.uncertainty_pct != "":
            assert float(r.uncertainty_pct) > 0


def test_wetland_gain_is_source_required(table):
    row = table[(table.lucode == 90) & (table.quantity == GAIN)].iloc[0]
    assert row.value == "" and "source required" in row.note


# ---- hand-worked derivations (numbers re-read from the notes, then recomputed) ----

def test_tree_cover_below_equals_above_times_R_in_note(table):
    c_above, _ = _value(table, 10, "c_above")
    c_below, note = _value(table, 10, "c_below")
    m = re.search(r"R\s*=?\s*(0\.\d+)", note)
    assert m, "c_below note must state R"
    r = float(m.group(1))
    assert r == pytest.approx(0.246)
    # 258.4 t d.m./ha > 125, so the '>125' row of Table 4.4 applies
    assert c_above / CF > 125
    # 121.448 x 0.246 = 29.876208
    assert c_below == pytest.approx(c_above * r, abs=1e-3)
    assert c_below == pytest.approx(29.876, abs=1e-3)


def test_tree_cover_above_is_agb_times_cf(table):
    c_above, note = _value(table, 10, "c_above")
    assert "258.4" in note and "0.47" in note
    # 258.4 x 0.47 = 121.448
    assert c_above == pytest.approx(258.4 * 0.47, abs=1e-6)
    assert c_above == pytest.approx(121.448, abs=1e-6)


def test_tree_cover_gain_derivation(table):
    gain, note = _value(table, 10, GAIN)
    # 1.0 t d.m./ha/yr x (1 + 0.246) x 0.47 = 0.58562 t C/ha/yr
    assert gain == pytest.approx(1.0 * (1 + 0.246) * 0.47, abs=1e-6)
    # x 44/12 = 2.147 t CO2/ha/yr, the worked example in SCIENCE.md
    assert gain * 44 / 12 == pytest.approx(2.147, abs=1e-3)
    assert "2.147" in note


def test_grassland_proxy_biomass(table):
    for code in (20, 30, 90):
        above, _ = _value(table, code, "c_above")
        below, _ = _value(table, code, "c_below")
        # Table 6.4 warm temperate wet: 2.7 above, 13.5 total t d.m./ha
        assert above == pytest.approx(2.7 * 0.47, abs=1e-6)            # 1.269
        assert below == pytest.approx((13.5 - 2.7) * 0.47, abs=1e-6)   # 5.076


def test_cropland_soil_is_socref_times_factors(table):
    soil, note = _value(table, 40, "c_soil")
    assert "1.10" in note and "88" in note
    # 88 x 1.10 x 1.0 x 1.0 = 96.8
    assert soil == pytest.approx(88 * 1.10 * 1.0 * 1.0, abs=1e-6)


def test_non_forest_dom_is_zero(table):
    for code in (20, 30, 40, 50, 60, 70, 80, 90, 100):
        v, _ = _value(table, code, "c_dead")
        assert v == 0.0


def test_invest_pivot_is_complete(table):
    pools = table[table.quantity.isin(POOLS)].copy()
    pools["value"] = pools["value"].astype(float)
    invest = (pools.pivot(index="lucode", columns="quantity", values="value")
              .reindex(columns=POOLS).reset_index())
    assert list(invest.columns) == ["lucode"] + POOLS
    assert len(invest) == len(CODES)
    assert not invest[POOLS].isna().any().any()
    total_10 = invest.set_index("lucode").loc[10, POOLS].sum()
    # 121.448 + 29.876 + 88 + 13 = 252.324 t C/ha
    assert total_10 == pytest.approx(252.324, abs=1e-3)
