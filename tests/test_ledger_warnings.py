"""Early warning: thresholds (a policy table, checked strictly) and a status per indicator, zone and year."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.errors import SchemaError
from sinks.ledger.scenarios import load_gdp
from sinks.ledger.trajectory import detect_peak, inventory_history
from sinks.ledger.warnings import (INDICATORS, STATUSES, WARNING_COLUMNS, classify, early_warning, latest_status,
                                   load_warning_rules)

ROOT = Path(__file__).resolve().parents[1]
RULES_PATH = ROOT / "data" / "ledger" / "warning_rules.csv"
HEADER = "indicator,direction,amber,red,unit,meaning_zh,meaning_en,basis,source\n"


@pytest.fixture
def rules():
    return load_warning_rules(RULES_PATH)


def _st(w: pd.DataFrame, ind: str, zone: str = "z") -> dict[int, str]:
    r = w[(w["indicator"] == ind) & (w["zone_id"] == zone)]
    return dict(zip(r["year"], r["status"]))


def _val(w: pd.DataFrame, ind: str, year: int, zone: str = "z") -> float:
    return float(w[(w["indicator"] == ind) & (w["zone_id"] == zone) & (w["year"] == year)]["value"].iloc[0])


# --- the rules table --------------------------------------------------------------------------

def test_demo_rules_cover_every_indicator_as_policy(rules):
    assert sorted(rules["indicator"]) == sorted(INDICATORS)
    assert (rules["basis"] == "policy").all() and rules["source"].str.contains("item 17").all()
    assert ((rules["direction"] == "above") & (rules["amber"] <= rules["red"])).all()


@pytest.mark.parametrize("row, key", [
    ("emissions_growth_pct,above,3,1,%/yr,a,b,policy,x", "amber 3 and red 1"),          # order against direction
    ("emissions_growth_pct,below,1,3,%/yr,a,b,policy,x", "wrong order"),                # below: red must be lower
    ("co2_vibes,above,1,3,%/yr,a,b,policy,x", "co2_vibes"),                              # unknown indicator
    ("emissions_growth_pct,sideways,1,3,%/yr,a,b,policy,x", "direction"),
    ("emissions_growth_pct,above,one,3,%/yr,a,b,policy,x", "amber"),                     # not a number
    ("emissions_growth_pct,above,1,3,fraction,a,b,policy,x", "unit"),                    # unit is not the indicator's
    ("emissions_growth_pct,above,1,3,%/yr,a,b,gut,x", "basis"),
    ("emissions_growth_pct,above,1,3,%/yr,a,b,policy,", "source"),
])
def test_rules_loader_errors_name_file_row_and_column(tmp_path, row, key):
    f = tmp_path / "rules.csv"
    f.write_text(HEADER + row + "\n", encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        load_warning_rules(f)
    assert "rules.csv" in str(e.value) and "row 2" in str(e.value) and key in str(e.value) and e.value.fix


def test_rules_loader_rejects_repeats_and_missing_columns(tmp_path):
    f = tmp_path / "rules.csv"
    row = "emissions_growth_pct,above,1,3,%/yr,a,b,policy,x\n"
    f.write_text(HEADER + row + row, encoding="utf-8")
    with pytest.raises(SchemaError, match="more than once"):
        load_warning_rules(f)
    f.write_text("indicator,direction,amber\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="missing column"):
        load_warning_rules(f)


def test_classify_every_status():
    v = pd.Series([0.5, 1.0, 2.9, 3.0, np.nan])
    assert classify(v, direction="above", amber=1.0, red=3.0).tolist() == ["ok", "amber", "amber", "red", "no_data"]
    assert classify(v, direction="below", amber=1.0, red=0.6).tolist() == ["red", "amber", "ok", "ok", "no_data"]


# --- indicators -------------------------------------------------------------------------------

def _hist(emissions, years=None, **cols):
    years = list(years or range(2018, 2018 + len(emissions)))
    return pd.DataFrame({"zone_id": "z", "year": years, "emissions_tco2e": emissions, **cols})


def test_growth_indicators(rules):
    # 100 -> 100 (0 %) -> 102 (+2 %) -> 110 (+7.84 %) -> 110 (0 %)
    w = early_warning(_hist([100.0, 100.0, 102.0, 110.0, 110.0]), rules=rules)
    assert _st(w, "emissions_growth_pct") == {2018: "no_data", 2019: "ok", 2020: "amber", 2021: "red", 2022: "ok"}
    assert _val(w, "emissions_growth_pct", 2021) == pytest.approx((110 / 102 - 1) * 100)
    # 3-year CAGR 2021: (110/100)^(1/3) - 1 = 3.23 %/yr -> red; 2022: (110/100)^(1/3) - 1 again
    st3 = _st(w, "emissions_growth_3yr_pct")
    assert st3[2018] == st3[2019] == st3[2020] == "no_data" and st3[2021] == "red"
    assert _val(w, "emissions_growth_3yr_pct", 2021) == pytest.approx((1.1 ** (1 / 3) - 1) * 100)
    first = w[(w["indicator"] == "emissions_growth_pct") & (w["year"] == 2018)].iloc[0]
    assert np.isnan(first["value"]) and first["note"].code == "warn_no_data" and "year before" in first["note"]
    assert list(w.columns) == list(WARNING_COLUMNS)


def test_no_data_is_never_zero(rules):
    w = early_warning(_hist([100.0, 100.0, 100.0, 100.0]), rules=rules)
    nd = w[w["status"] == "no_data"]
    assert nd["value"].isna().all() and len(nd) > 0
    # growth of exactly 0 is a value (ok), not no_data
    assert _val(w, "emissions_growth_pct", 2019) == 0.0 and _st(w, "emissions_growth_pct")[2019] == "ok"


def test_intensity_off_track(rules):
    # anchor I(2020) = 0.2; target 2021 = 0.2 x 0.82^(1/5) = 0.192316; actual 0.195:
    # (0.195 - 0.192316) / 0.2 = +1.34 pp behind the path -> amber (0 .. 3); 2022 on the path -> ok; 2023 7 pp behind -> red
    t21, t22, t23 = (0.2 * 0.82 ** (k / 5) for k in (1, 2, 3))
    h = _hist([1.0, 1.0, 1.0, 1.0], years=range(2020, 2024),
              intensity_t_per_10k_cny=[0.2, 0.195, t22 - 0.001, t23 + 0.014],
              intensity_target_t_per_10k_cny=[np.nan, t21, t22, t23], intensity_anchor_t_per_10k_cny=[np.nan, 0.2, 0.2, 0.2])
    w = early_warning(h, rules=rules)
    assert _st(w, "intensity_change_vs_target_pct") == {2020: "no_data", 2021: "amber", 2022: "ok", 2023: "red"}
    assert _val(w, "intensity_change_vs_target_pct", 2021) == pytest.approx((0.195 - t21) / 0.2 * 100)
    note = w[(w["indicator"] == "intensity_change_vs_target_pct") & (w["year"] == 2020)]["note"].iloc[0]
    assert "no intensity target" in note


def test_offset_ratio_drop(rules):
    # offset ratio 5 % -> 4 %: a drop of 1 pp -> red (amber 0.1, red 0.5); 4 % -> 3.95 %: 0.05 pp -> ok
    w = early_warning(_hist([100.0, 100.0, 100.0], offset_ratio=[0.05, 0.04, 0.0395]), rules=rules)
    assert _st(w, "offset_ratio_drop_pp") == {2018: "no_data", 2019: "red", 2020: "ok"}
    assert _val(w, "offset_ratio_drop_pp", 2019) == pytest.approx(1.0)
    # computed from removals when the ratio column is absent: 10/100 -> 9.7/100 = 0.3 pp -> amber
    w2 = early_warning(_hist([100.0, 100.0], removals_tco2e_yr=[10.0, 9.7]), rules=rules)
    assert _st(w2, "offset_ratio_drop_pp")[2019] == "amber"


def test_sink_loss_between_land_cover_dates(rules):
    h = _hist([1.0] * 3, years=[2015, 2020, 2025])
    rbp = pd.DataFrame({"zone_id": "z", "year": [2015, 2020, 2025], "removals_tco2e_yr": [1000.0, 980.0, 900.0]})
    w = early_warning(h, rules=rules, removals_by_period=rbp)
    # 2020: (1000 - 980) / 1000 = 2 % -> amber (1 .. 5); 2025: 80 / 980 = 8.16 % -> red; 2015: the first date
    assert _st(w, "sink_loss_pct") == {2015: "no_data", 2020: "amber", 2025: "red"}
    assert _val(w, "sink_loss_pct", 2025) == pytest.approx(80 / 980 * 100)
    # stocks only: 2 000 000 -> 1 990 000 t C = 0.5 % -> ok, the note says it is the stock
    stock = pd.DataFrame({"zone_id": "z", "year": [2015, 2020], "stock_tc": [2e6, 1.99e6]})
    w2 = early_warning(h, rules=rules, removals_by_period=stock)
    row = w2[(w2["indicator"] == "sink_loss_pct") & (w2["year"] == 2020)].iloc[0]
    assert row["status"] == "ok" and row["value"] == pytest.approx(0.5) and "carbon stock" in row["note"]
    # a net source before: no % loss
    src = pd.DataFrame({"zone_id": "z", "year": [2015, 2020], "removals_tco2e_yr": [-5.0, -8.0]})
    assert _st(early_warning(h, rules=rules, removals_by_period=src), "sink_loss_pct")[2020] == "no_data"
    # none given: no_data for every year
    assert set(_st(early_warning(h, rules=rules), "sink_loss_pct").values()) == {"no_data"}


def test_net_rising_after_a_peak(rules):
    e = [10, 20, 30, 40, 30, 20, 10, 12, 14, 16, 18]
    h = _hist([float(x) for x in e], years=range(2010, 2021), net_emissions_tco2e=[float(x) for x in e])
    pk = detect_peak(pd.Series(e, index=range(2010, 2021), dtype=float))
    assert pk.status == "peaked" and pk.peak_year == 2013
    w = early_warning(h, rules=rules, peak=pk)
    st = _st(w, "net_emissions_rising_after_peak")
    # trailing 3-year means: 2017 14, 2018 12, 2019 14, 2020 16; rise 2019 = +2 = 6 % of the peak 33.3 -> red
    assert st[2013] == "no_data" and st[2018] == "ok" and st[2019] == "red" and st[2020] == "red"
    assert _val(w, "net_emissions_rising_after_peak", 2019) == pytest.approx(2 / (100 / 3) * 100)
    # default: the peak as known each year; in 2014 the smoothed series still rose (no confirmed peak)
    w2 = early_warning(h, rules=rules)
    st2 = _st(w2, "net_emissions_rising_after_peak")
    assert st2[2014] == "no_data" and st2[2019] == "red"
    note = w2[(w2["indicator"] == "net_emissions_rising_after_peak") & (w2["year"] == 2014)]["note"].iloc[0]
    assert "no confirmed peak as of 2014" in note


def test_history_checks(rules):
    h = _hist([1.0, 2.0]).drop(columns="zone_id")
    assert set(early_warning(h, rules=rules)["zone_id"]) == {"all"}
    two = pd.concat([_hist([1.0, 2.0]).assign(scenario="a"), _hist([1.0, 2.0]).assign(scenario="b")])
    with pytest.raises(ValueError, match="one scenario"):
        early_warning(two, rules=rules)


def test_demo_inventory_warnings(rules):
    em = pd.read_csv(ROOT / "data" / "inventory" / "jiangbei_emissions_illustrative.csv")
    if "dataset" in em:
        em = em[em["dataset"] == em["dataset"].iloc[0]]
    gdp = load_gdp(ROOT / "data" / "ledger" / "gdp_illustrative.csv")
    rem = pd.DataFrame({"zone_id": ["pukou", "liuhe", "baguazhou"] * 2, "year": [2020] * 3 + [2025] * 3,
                        "removals_tco2e_yr": [72135.4, 11367.2, 354.4] * 2})
    hist = inventory_history(em, removals_tco2e_yr=rem, gdp=gdp, intensity_target_change_pct=((2021, -18.0),))
    w = early_warning(hist, rules=rules)
    assert set(w["status"]) <= set(STATUSES) and set(w["zone_id"]) == {"pukou", "liuhe", "baguazhou", "all"}
    last = latest_status(w)
    assert len(last) == len(INDICATORS) * 4
    # 2025 year-on-year growth of the sum: 21,558,684 / 21,509,...; every 2025 growth value is below 1 %/yr
    g = w[(w["indicator"] == "emissions_growth_pct") & (w["year"] == 2025)]
    assert (g["value"].abs() < 1).all() and (g["status"] == "ok").all()


def test_an_incomplete_year_is_no_data_never_a_fall(rules):
    """Transport missing in 2025 for both zones: the 2025 total is unknown, not 100 + 50 without
    transport (which would show a -9 % 'fall'). Every emissions indicator of 2025 (and 2026's
    year-on-year growth) is no_data with the reason; 2024 is computed as usual."""
    rows = [(z, y, s, v * (1.01 ** (y - 2018))) for y in range(2018, 2027) for z, s, v in
            (("a", "energy", 100.0), ("a", "transport", 10.0), ("b", "energy", 50.0), ("b", "transport", 5.0))
            if not (y == 2025 and s == "transport")]
    em = pd.DataFrame(rows, columns=["zone_id", "year", "sector", "emissions_tco2e"])
    rem = pd.DataFrame({"zone_id": ["a", "b"], "year": 2020, "removals_tco2e_yr": [1.0, 1.0]})
    hist = inventory_history(em, removals_tco2e_yr=rem)
    w = early_warning(hist, rules=rules)
    for zone in ("a", "b", "all"):
        for ind in ("emissions_growth_pct", "emissions_growth_3yr_pct", "offset_ratio_drop_pp"):
            r = w[(w["indicator"] == ind) & (w["zone_id"] == zone) & (w["year"] == 2025)].iloc[0]
            assert r["status"] == "no_data" and np.isnan(r["value"]), (zone, ind)
            assert "incomplete this year" in r["note"] and "transport" in r["note"]
        nxt = w[(w["indicator"] == "emissions_growth_pct") & (w["zone_id"] == zone) & (w["year"] == 2026)].iloc[0]
        assert nxt["status"] == "no_data" and "incomplete the year before" in nxt["note"]
        assert _val(w, "emissions_growth_pct", 2024, zone) == pytest.approx(1.0)
