"""Trajectories, scenarios and dual control: hand-worked arithmetic (written in the comments)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.errors import DataError, SchemaError
from sinks.ledger.scenarios import (FOREST_GAIN_TC_HA_YR, Scenario, compound, constant, load_control_targets, load_gdp,
                                    load_scenarios, parse_scenarios, plan_periods, rate_in_years)
from sinks.ledger.trajectory import (detect_peak, dual_control, emission_table, intensity_target_path, inventory_history,
                                     neutrality_year, peak_table, project, smooth)

ROOT = Path(__file__).resolve().parents[1]
T_CO2_PER_HA = 0.58562 * 44 / 12  # 2.1472733 t CO2/ha/yr


def _inv(values: dict[int, float], *, zone="z", sector="energy") -> pd.DataFrame:
    return pd.DataFrame({"zone_id": zone, "year": list(values), "sector": sector, "emissions_tco2e": list(values.values())})


def _scen(**kw) -> Scenario:
    base = dict(id="s", name_zh="情景", name_en="scenario", base_year=None, sector_change_pct_yr={"energy": constant(0.0)})
    base.update(kw)
    return Scenario(**base)


# --- rates -----------------------------------------------------------------------------------

def test_compounding_100_t_at_minus_10_pct_for_two_years_is_81_t():
    # 100 x 0.9 = 90; 90 x 0.9 = 81
    assert compound(100.0, constant(-10.0), [2021, 2022]) == pytest.approx([90.0, 81.0])
    p = project(_inv({2020: 100.0}), _scen(sector_change_pct_yr={"energy": constant(-10.0)}), removals_tco2e_yr=0.0, to_year=2022)
    assert p["emissions_tco2e"].tolist() == pytest.approx([100.0, 90.0, 81.0])
    assert p["energy_tco2e"].tolist() == pytest.approx([100.0, 90.0, 81.0])
    assert p["kind"].tolist() == ["inventory", "projection", "projection"]


def test_piecewise_rates():
    steps = ((2021, 10.0), (2023, -50.0))
    # before the first step: the first step's rate; 2021-2022: +10 %; from 2023: -50 %
    assert rate_in_years(steps, [2019, 2021, 2022, 2023, 2030]).tolist() == [10.0, 10.0, 10.0, -50.0, -50.0]
    # 100 -> 110 (2021) -> 121 (2022) -> 60.5 (2023) -> 30.25 (2024)
    assert compound(100.0, steps, [2021, 2022, 2023, 2024]) == pytest.approx([110.0, 121.0, 60.5, 30.25])


def test_plan_periods_repeat_the_last_step():
    assert plan_periods(((2021, -18.0),), to_year=2032) == [(2021, 2025, -18.0), (2026, 2030, -18.0), (2031, 2035, -18.0)]
    assert plan_periods(constant(-10.0), to_year=2026)[0] == (2021, 2025, -10.0)
    assert plan_periods((), to_year=2030) == []


def test_sectors_compound_separately_and_add_up():
    inv = pd.concat([_inv({2020: 100.0}, sector="energy"), _inv({2020: 50.0}, sector="transport")])
    s = _scen(sector_change_pct_yr={"energy": constant(-10.0), "transport": constant(20.0)})
    p = project(inv, s, removals_tco2e_yr=0.0, to_year=2021)
    # 2021: energy 90, transport 60 -> 150
    assert p.loc[1, ["energy_tco2e", "transport_tco2e", "emissions_tco2e"]].tolist() == pytest.approx([90.0, 60.0, 150.0])


def test_a_sector_without_a_rate_is_an_error_naming_it():
    inv = pd.concat([_inv({2020: 100.0}, sector="energy"), _inv({2020: 5.0}, sector="other")])
    with pytest.raises(SchemaError) as e:
        project(inv, _scen(), removals_tco2e_yr=0.0, to_year=2021)
    assert "other" in str(e.value) and "other = 0.0" in e.value.fix


def test_several_datasets_are_refused_never_added():
    inv = pd.concat([_inv({2020: 1.0}).assign(dataset="a"), _inv({2020: 2.0}).assign(dataset="b")])
    with pytest.raises(SchemaError, match="several datasets"):
        emission_table(inv)
    # the old column name is accepted
    assert emission_table(_inv({2020: 3.0}).rename(columns={"emissions_tco2e": "emissions_tco2"}))["emissions_tco2e"].tolist() == [3.0]


def test_base_year_without_inventory_is_an_error():
    with pytest.raises(DataError, match="base year 2015"):
        project(_inv({2020: 1.0}), _scen(base_year=2015), removals_tco2e_yr=0.0)


# --- intensity, GDP ---------------------------------------------------------------------------

def test_intensity_is_t_per_10k_cny():
    # 1e6 t / (500 亿元 x 10^4 万元/亿元) = 0.2 t per 10^4 CNY
    gdp = pd.DataFrame({"zone_id": "z", "year": [2020], "gdp_100m_cny": [500.0]})
    p = project(_inv({2020: 1e6}), _scen(), removals_tco2e_yr=0.0, gdp=gdp, to_year=2020)
    assert p["intensity_t_per_10k_cny"].iloc[0] == pytest.approx(0.2)


def test_gdp_after_its_last_year_follows_the_scenario():
    gdp = pd.DataFrame({"zone_id": "z", "year": [2020], "gdp_100m_cny": [500.0]})
    p = project(_inv({2020: 1e6}), _scen(gdp_growth_pct_yr=constant(10.0)), removals_tco2e_yr=0.0, gdp=gdp, to_year=2022)
    # 500 -> 550 -> 605; intensity 2022 = 1e6 / 605e4 = 0.165289
    assert p["gdp_100m_cny"].tolist() == pytest.approx([500.0, 550.0, 605.0])
    assert p["intensity_t_per_10k_cny"].iloc[2] == pytest.approx(1e6 / 605e4)
    assert any(n.code == "proj_gdp_extended" for n in p.attrs["notes"])


def test_gdp_of_several_zones_needs_every_zone():
    inv = pd.concat([_inv({2019: 1.0, 2020: 1.0}, zone="a"), _inv({2019: 1.0, 2020: 1.0}, zone="b")])
    gdp = pd.DataFrame({"zone_id": ["a", "b", "a"], "year": [2019, 2019, 2020], "gdp_100m_cny": [1.0, 2.0, 5.0]})
    p = project(inv, _scen(), removals_tco2e_yr=0.0, gdp=gdp, to_year=2020)
    # 2019: 1 + 2 = 3; 2020: b is missing -> no partial sum; GDP then grows from 2019 at 0 %/yr (held)
    assert p["gdp_100m_cny"].tolist() == [3.0, 3.0]
    assert p["zone_id"].iloc[0] == "a+b"


def test_intensity_target_path_anchored_then_chained():
    # I(2020) = 0.2 (inventory); 14th plan -18 %: target 2025 = 0.2 x 0.82 = 0.164; 2023 = 0.2 x 0.82^(3/5)
    # 2026-2030 anchors on 2025: a projection year -> chained on the 2025 target: 2030 = 0.164 x 0.82 = 0.13448
    inten = pd.Series({2020: 0.2, 2025: 0.15, 2030: 0.1})
    t = intensity_target_path(inten, ((2021, -18.0),), inventory_last_year=2020, to_year=2030).set_index("year")
    assert t.loc[2025, "intensity_target_t_per_10k_cny"] == pytest.approx(0.164)
    assert t.loc[2023, "intensity_target_t_per_10k_cny"] == pytest.approx(0.2 * 0.82 ** 0.6)
    assert t.loc[2030, "intensity_target_t_per_10k_cny"] == pytest.approx(0.164 * 0.82)
    assert t.loc[2030, "intensity_anchor_year"] == 2025 and t.loc[2030, "intensity_anchor_t_per_10k_cny"] == pytest.approx(0.164)
    # with 2025 an inventory year the second period anchors on the actual 0.15: 2030 = 0.15 x 0.82 = 0.123
    t2 = intensity_target_path(inten, ((2021, -18.0),), inventory_last_year=2025, to_year=2030).set_index("year")
    assert t2.loc[2030, "intensity_target_t_per_10k_cny"] == pytest.approx(0.123)


# --- removals ---------------------------------------------------------------------------------

def test_added_removals_from_planting_start_the_year_after():
    s = _scen(afforestation_ha_yr=100.0, afforestation_until=2025)
    p = project(_inv({2020: 1e6}), s, removals_tco2e_yr=1000.0, to_year=2027).set_index("year")
    # planted 100 ha in each of 2021..2025; a hectare removes 0.58562 x 44/12 = 2.14727 t CO2/yr from the next year
    assert p.loc[2021, "added_forest_tco2e_yr"] == 0.0
    assert p.loc[2022, "added_forest_tco2e_yr"] == pytest.approx(100 * T_CO2_PER_HA)   # 214.727
    assert p.loc[2023, "added_forest_tco2e_yr"] == pytest.approx(200 * T_CO2_PER_HA)   # 429.455
    assert p.loc[2026, "added_forest_tco2e_yr"] == pytest.approx(500 * T_CO2_PER_HA)   # 1073.64
    assert p.loc[2027, "added_forest_tco2e_yr"] == pytest.approx(500 * T_CO2_PER_HA)   # planting ended in 2025
    assert p.loc[2021, "planted_forest_ha"] == 100 and p.loc[2027, "planted_forest_ha"] == 500
    assert p.loc[2026, "removals_tco2e_yr"] == pytest.approx(1000 + 500 * T_CO2_PER_HA)
    assert p.loc[2020, "added_removals_tco2e_yr"] == 0.0
    assert FOREST_GAIN_TC_HA_YR == 0.58562


def test_forest_gain_default_is_the_coefficient_table_value():
    t = pd.read_csv(ROOT / "data" / "coefficients" / "carbon_coefficients.csv")
    v = t[(t["lucode"] == 10) & (t["quantity"] == "gain_tc_per_ha_yr")]["value"].astype(float)
    assert v.iloc[0] == FOREST_GAIN_TC_HA_YR


def test_wetland_restoration_without_a_rate_adds_nothing_and_says_so():
    s = _scen(wetland_restoration_ha_yr=50.0, wetland_restoration_until=2030)
    p = project(_inv({2020: 1e6}), s, removals_tco2e_yr=0.0, to_year=2025)
    assert (p["added_wetland_tco2e_yr"] == 0).all() and p["restored_wetland_ha"].iloc[-1] == 250
    assert any(n.code == "proj_wetland_no_rate" for n in p.attrs["notes"])
    s2 = _scen(wetland_restoration_ha_yr=50.0, wetland_restoration_until=2030, wetland_gain_tc_ha_yr=0.22, wetland_gain_source="x")
    p2 = project(_inv({2020: 1e6}), s2, removals_tco2e_yr=0.0, to_year=2022)
    # 2022: 50 ha restored in 2021 x 0.22 x 44/12 = 40.333 t CO2
    assert p2["added_wetland_tco2e_yr"].iloc[-1] == pytest.approx(50 * 0.22 * 44 / 12)


def test_removals_frame_interpolated_held_and_summed_over_zones():
    inv = pd.concat([_inv({2019: 10.0, 2020: 10.0}, zone="a"), _inv({2019: 10.0, 2020: 10.0}, zone="b")])
    rem = pd.DataFrame({"zone_id": ["a", "b", "a", "b"], "year": [2019, 2019, 2021, 2021],
                        "removals_tco2e_yr": [1.0, 2.0, 3.0, 4.0], "low_tco2e_yr": [0.5, 1.0, 1.5, 2.0], "high_tco2e_yr": [2.0, 3.0, 4.0, 5.0]})
    p = project(inv, _scen(), removals_tco2e_yr=rem, to_year=2023).set_index("year")
    # sums: 2019 central 3 (low 1.5, high 5); 2021 central 7 (3.5, 9); 2020 linear: 5 (2.5, 7); 2022-2023 held at 7
    assert p["removals_tco2e_yr"].tolist() == pytest.approx([3.0, 5.0, 7.0, 7.0, 7.0])
    assert p.loc[2020, ["removals_low_tco2e_yr", "removals_high_tco2e_yr"]].tolist() == pytest.approx([2.5, 7.0])
    # net = 20 - removals; net_emissions_low_tco2e uses the high removals
    assert p.loc[2019, ["net_emissions_tco2e", "net_emissions_low_tco2e", "net_emissions_high_tco2e"]].tolist() == pytest.approx([17.0, 15.0, 18.5])
    assert p.loc[2019, "offset_ratio"] == pytest.approx(3 / 20)


# --- neutrality -------------------------------------------------------------------------------

def test_neutrality_year_with_interval():
    # energy 100 t halving every year: 2021 50, 2022 25, 2023 12.5, 2024 6.25, 2025 3.125
    # removals 20 (low 10, high 30): central net 2022 5, 2023 -7.5 -> 2023;
    # with high removals (net_emissions_low_tco2e) 2022 -5 -> 2022; with low removals (net_emissions_high_tco2e) 2023 2.5, 2024 -3.75 -> 2024
    s = _scen(sector_change_pct_yr={"energy": constant(-50.0)})
    rem = pd.DataFrame({"year": [2020], "removals_tco2e_yr": [20.0], "low_tco2e_yr": [10.0], "high_tco2e_yr": [30.0]})
    p = project(_inv({2020: 100.0}), s, removals_tco2e_yr=rem, to_year=2030)
    n = neutrality_year(p)
    assert (n.early, n.central, n.late) == (2022, 2023, 2024)
    assert n.early <= n.central <= n.late and n.reached_by_target and n.horizon == 2030
    assert n.note.code == "neutral_year"


def test_neutrality_must_stay_below_zero():
    p = pd.DataFrame({"year": range(2020, 2026), "net_emissions_tco2e": [5, -1, 2, -1, -2, -3],
                      "net_emissions_low_tco2e": [-1, -1, -1, -1, -1, -1], "net_emissions_high_tco2e": [5, 5, 5, 5, 5, -1]})
    n = neutrality_year(p)
    # central dips below zero in 2021 but comes back: the year is 2023; early = the first year; late = 2025
    assert (n.early, n.central, n.late) == (2020, 2023, 2025)


def test_never_neutral_is_none_with_a_note():
    p = project(_inv({2020: 100.0}), _scen(), removals_tco2e_yr=10.0, to_year=2060)
    n = neutrality_year(p)
    assert n.central is None and n.early is None and n.late is None and not n.reached_by_target
    assert n.note.code == "neutral_none" and "2060" in n.note and n.net_at_target_tco2e == pytest.approx(90.0)


def test_neutrality_after_2060_is_not_reached_by_target():
    s = _scen(sector_change_pct_yr={"energy": constant(-10.0)})
    # 100 x 0.9^n <= 1 needs n >= 43.7 -> 2064 from 2020
    p = project(_inv({2020: 100.0}), s, removals_tco2e_yr=1.0, to_year=2070)
    n = neutrality_year(p)
    assert n.central == 2064 and not n.reached_by_target


# --- peak -------------------------------------------------------------------------------------

PEAKED = pd.Series([10, 20, 30, 40, 30, 20, 10], index=range(2010, 2017), dtype=float)


def test_smoothing_edges_shrink():
    sm = smooth(PEAKED, 3)
    # 2010: (10+20)/2 = 15; 2013: (30+40+30)/3 = 33.33; 2016: (20+10)/2 = 15
    assert sm[2010] == 15 and sm[2013] == pytest.approx(100 / 3) and sm[2016] == 15
    with pytest.raises(ValueError):
        smooth(PEAKED, 2)


def test_peak_peaked_with_evidence_and_theil_sen():
    p = detect_peak(PEAKED)
    assert p.status == "peaked" and p.peak_year == 2013 and p.peak_value_tco2e == pytest.approx(100 / 3)
    assert p.change_since_peak_pct == pytest.approx((15 / (100 / 3) - 1) * 100)  # -55 %
    assert p.before_target is True
    # from the peak 2013-2016: 40, 30, 20, 10 -> slope -10/yr, tau -1, exact p = 2/4! = 0.0833
    assert p.slope_tco2e_yr == pytest.approx(-10.0) and p.kendall_tau == pytest.approx(-1.0)
    assert p.kendall_p == pytest.approx(2 / 24)
    codes = {n.code for n in p.evidence}
    assert {"peak_max", "peak_since", "peak_growth3", "peak_target_met", "peak_status_peaked", "peak_trend", "peak_trend_weak"} <= codes
    weak = next(n for n in p.evidence if n.code == "peak_trend_weak")
    assert weak.params["p_min"] == pytest.approx(2 / 24)
    # growth of the last 3 years: (10/40)^(1/3) - 1 = -37.0 %/yr
    assert p.growth_last_3yr_pct_yr == pytest.approx((0.25 ** (1 / 3) - 1) * 100)


def test_peak_rising_plateau_and_slope_sign():
    r = detect_peak(pd.Series([1, 2, 3, 4, 5, 6], index=range(2010, 2016), dtype=float))
    # rising: no peak (its smoothed maximum, the last year, is kept apart as max_year)
    assert r.status == "rising" and r.peak_year is None and r.max_year == 2015 and r.before_target is None and r.slope_tco2e_yr > 0
    assert r.peak_value_tco2e is None and r.plateau_until is None and r.change_since_peak_pct is None
    pl = detect_peak(pd.Series([10, 20, 30, 40, 40, 40, 40], index=range(2010, 2017), dtype=float))
    # smoothed 2014-2016 = 40, 40, 40: the last 3 within 1 % of the maximum (first at 2014)
    assert pl.status == "plateau" and pl.peak_year == 2014 and pl.plateau_until == 2016


def test_a_slow_steady_rise_is_rising_not_a_plateau():
    # +0.3 %/yr: every smoothed value within 1 % of the maximum, but still increasing at the end
    s = pd.Series(100 * 1.003 ** np.arange(10), index=range(2016, 2026))
    assert detect_peak(s).status == "rising"
    # flat with noise: within 1 % and not increasing throughout -> plateau
    flat = pd.Series([90, 95, 100, 100.4, 99.8, 100.3, 100.1], index=range(2019, 2026), dtype=float)
    assert detect_peak(flat).status == "plateau"


def test_a_rising_series_has_no_peak_year_and_says_why():
    # +0.3 %/yr 2016-2025: the maximum is the last year; growth of the last 3 years = +0.30 %/yr; 2030 - 2025 = 5 years left
    s = pd.Series(100 * 1.003 ** np.arange(10), index=range(2016, 2026))
    p = detect_peak(s)
    assert p.status == "rising" and p.peak_year is None and p.plateau_until is None and p.change_since_peak_pct is None
    assert p.max_year == 2025 and p.max_value_tco2e == pytest.approx(float(smooth(s).iloc[-1]))
    codes = [n.code for n in p.evidence]
    # no "from 2025 to 2025 ... +0.0 %" and no "peak" at the last year
    assert "peak_since" not in codes and "peak_max" not in codes and "peak_flat_top" not in codes
    none = next(n for n in p.evidence if n.code == "peak_none")
    assert none.startswith("no peak yet: the smoothed series is highest in its last year 2025")
    assert "growing +0.30 %/yr over the last 3 years (2022-2025)" in none and "5 year(s) remain before 2030" in none
    assert none.params["years_left"] == 5
    tab, _ = peak_table(pd.DataFrame({"zone_id": "z", "year": s.index, "sector": "energy", "emissions_tco2e": s.to_numpy()}))
    assert tab["peak_year"].isna().all() and tab["max_year"].tolist() == [2025]


def test_peak_flat_top_then_decline_counts():
    # smoothed: ..., 2013 (30+40+39.8)/3=36.6, 2014 (40+39.8+39.7)/3=39.83, 2015 (39.8+39.7+20)/3=33.2, ...
    s = pd.Series([10, 20, 30, 40, 39.8, 39.7, 20, 10, 5], index=range(2010, 2019), dtype=float)
    p = detect_peak(s)
    assert p.status == "peaked" and p.peak_year == p.plateau_until


def test_peak_undetermined_cases():
    few = detect_peak(pd.Series([1, 2, 3, 4], index=range(2010, 2014), dtype=float))
    assert few.status == "undetermined" and few.evidence[0].code == "peak_too_few" and few.peak_year is None
    gap = detect_peak(pd.Series([1, 2, 3, 5, 6, 7], index=[2010, 2011, 2012, 2014, 2015, 2016], dtype=float))
    assert gap.status == "undetermined" and gap.evidence[0].code == "peak_gaps" and gap.evidence[0].params["years"] == [2013]
    nan = detect_peak(pd.Series([1, 2, np.nan, 5, 6, 7, 8], index=range(2010, 2017), dtype=float))
    assert nan.status == "undetermined"
    # max too recent to confirm (confirm 3): smoothed 2015 = (50+60+80)/3 = 63.3 is the max, the last year 2017
    recent = detect_peak(pd.Series([10, 20, 30, 40, 50, 60, 80, 20], index=range(2010, 2018), dtype=float), confirm_years=3)
    assert recent.status == "undetermined" and recent.peak_year is None and recent.max_year == 2015
    none = next(n for n in recent.evidence if n.code == "peak_none")
    assert "no confirmed peak" in none and "highest in 2015" in none and none.params["max_year"] == 2015
    assert not {"peak_max", "peak_since", "peak_flat_top"} & {n.code for n in recent.evidence}
    # as_of: only 2010-2013 known -> 4 years < 3 + 2
    assert detect_peak(PEAKED, as_of=2013).status == "undetermined"
    with pytest.raises(ValueError):
        detect_peak(PEAKED, window=4)


def test_peak_after_the_target_year():
    s = pd.Series(np.r_[np.arange(1, 12), np.arange(10, 0, -1)].astype(float), index=range(2025, 2046))
    p = detect_peak(s)
    # maximum 11 in 2035
    assert p.status == "peaked" and p.peak_year == 2035 and p.before_target is False
    assert any(n.code == "peak_target_missed" for n in p.evidence)


def test_peak_table_per_zone_and_sum():
    inv = pd.concat([_inv(dict(zip(range(2010, 2017), PEAKED)), zone="a"), _inv({y: 5.0 for y in range(2010, 2017)}, zone="b")])
    tab, peaks = peak_table(inv)
    assert list(tab["zone_id"]) == ["a", "b", "all"]
    assert peaks["a"].status == "peaked" and peaks["b"].status == "plateau"
    assert peaks["all"].peak_year == 2013  # a + 5 has the same shape as a


# --- dual control ----------------------------------------------------------------------------

def _dual_projection():
    # base 2020: 1e6 t, GDP 500 亿元 -> intensity 0.2; emissions constant, GDP +10 %/yr
    # 2025: GDP 500 x 1.1^5 = 805.255, intensity 0.124184; target 0.2 x 0.82 = 0.164 -> met
    gdp = pd.DataFrame({"zone_id": "z", "year": [2020], "gdp_100m_cny": [500.0]})
    s = _scen(gdp_growth_pct_yr=constant(10.0), intensity_target_change_pct=((2021, -18.0),))
    return project(_inv({2020: 1e6}), s, removals_tco2e_yr=0.0, gdp=gdp, to_year=2035)


def test_dual_control_scenario_intensity_target():
    d = dual_control(_dual_projection()).set_index(["year", "indicator"])
    r = d.loc[(2025, "intensity_t_per_10k_cny")]
    assert r["value"] == pytest.approx(1e6 / (500 * 1.1 ** 5 * 1e4)) and r["target"] == pytest.approx(0.164)
    assert r["status"] == "met" and r["target_basis"] == "scenario" and r["gap"] == pytest.approx(r["value"] - 0.164)
    assert d.loc[(2030, "intensity_t_per_10k_cny"), "target"] == pytest.approx(0.164 * 0.82)
    # no cap for the total -> undefined, never met
    assert d.loc[(2025, "total_tco2e"), "status"] == "undefined"
    assert sorted({y for y, _ in d.index}) == [2025, 2030, 2035]


def test_dual_control_targets_table_statuses(tmp_path):
    f = tmp_path / "targets.csv"
    f.write_text("zone_id,year,indicator,target,source,verified\n"
                 "z,2025,total_tco2e,1100000,illustrative,no\n"
                 "*,2030,total_tco2e,900000,illustrative,no\n"
                 "z,2030,intensity_t_per_10k_cny,0.05,illustrative,no\n", encoding="utf-8")
    d = dual_control(_dual_projection(), targets=load_control_targets(f)).set_index(["year", "indicator"])
    assert d.loc[(2025, "total_tco2e"), "status"] == "met" and d.loc[(2025, "total_tco2e"), "gap"] == pytest.approx(-1e5)
    # 1e6 against a cap of 0.9e6: over by 1e5 = 11.1 %
    r = d.loc[(2030, "total_tco2e")]
    assert r["status"] == "over" and r["gap"] == pytest.approx(1e5) and r["gap_pct"] == pytest.approx(100 / 9)
    # the table's intensity overrides the scenario's: 1e6 / (500 x 1.1^10 x 1e4) = 0.0771 > 0.05 -> over
    r = d.loc[(2030, "intensity_t_per_10k_cny")]
    assert r["target_basis"] == "table" and r["status"] == "over" and not bool(r["target_verified"])


def test_dual_control_without_gdp_is_undefined():
    p = project(_inv({2020: 1e6}), _scen(intensity_target_change_pct=((2021, -18.0),)), removals_tco2e_yr=0.0, to_year=2025)
    d = dual_control(p)
    assert (d["status"] == "undefined").all()


# --- loaders ----------------------------------------------------------------------------------

GOOD = """
[[scenario]]
id = "a"
name_zh = "甲"
name_en = "A"
base_year = 2020
gdp_growth_pct_yr = [[2021, 5.0], [2026, 4.0]]
intensity_target_change_pct = [[2021, -18.0]]
{extra}
[scenario.sector_change_pct_yr]
energy = {energy}
"""


def _write(tmp_path, extra="", energy="-1.0", name="scen.toml"):
    f = tmp_path / name
    f.write_text(GOOD.format(extra=extra, energy=energy), encoding="utf-8")
    return f


def test_scenario_loader_reads_a_good_file(tmp_path):
    (s,) = load_scenarios(_write(tmp_path, energy="[[2021, 1.0], [2026, -2.5]]"))
    assert s.id == "a" and s.base_year == 2020 and s.sector_change_pct_yr == {"energy": ((2021, 1.0), (2026, -2.5))}
    assert s.gdp_growth_pct_yr == ((2021, 5.0), (2026, 4.0)) and s.intensity_target_change_pct == ((2021, -18.0),)
    assert s.forest_gain_tc_ha_yr == FOREST_GAIN_TC_HA_YR and "lucode 10" in s.forest_gain_source and s.verified is False


@pytest.mark.parametrize("extra, energy, key", [
    ('colour = "red"', "-1.0", "colour"),                                   # unknown key
    ('afforestation_ha_yr = "lots"', "-1.0", "afforestation_ha_yr"),        # wrong type
    ("", "-80.0", "sector_change_pct_yr.energy"),                           # rate out of [-50, 50]
    ("", "[[1999, 1.0]]", "sector_change_pct_yr.energy"),                   # step year before the base year
    ("", "[[2030, 1.0], [2025, 2.0]]", "sector_change_pct_yr.energy"),      # steps out of order
    ("", '"fast"', "sector_change_pct_yr.energy"),                          # wrong type
    ("afforestation_ha_yr = 100.0", "-1.0", "afforestation_until"),         # an area without an end year
    ("afforestation_ha_yr = 100.0\nafforestation_until = 2200", "-1.0", "afforestation_until"),  # year beyond 2100
    ("wetland_gain_tc_ha_yr = 0.2", "-1.0", "wetland_gain_source"),         # a rate without a citation
    ("verified = 1", "-1.0", "verified"),
])
def test_scenario_loader_errors_name_file_and_key(tmp_path, extra, energy, key):
    with pytest.raises(SchemaError) as e:
        load_scenarios(_write(tmp_path, extra=extra, energy=energy))
    assert "scen.toml" in str(e.value) and key in str(e.value) and e.value.fix


def test_scenario_loader_other_errors(tmp_path):
    with pytest.raises(SchemaError, match="steel"):
        parse_scenarios(GOOD.format(extra="", energy="1.0") + "steel = 1.0\n", name="x.toml")
    bad_period = GOOD.format(extra="", energy="1.0").replace("[[2021, -18.0]]", "[[2022, -18.0]]")
    with pytest.raises(SchemaError, match="five-year plan"):
        parse_scenarios(bad_period, name="x.toml")
    with pytest.raises(SchemaError, match="more than once"):
        parse_scenarios(GOOD.format(extra="", energy="1.0") * 2, name="x.toml")
    with pytest.raises(SchemaError, match="unknown top-level"):
        parse_scenarios("foo = 1\n" + GOOD.format(extra="", energy="1.0"), name="x.toml")
    with pytest.raises(SchemaError, match="not valid TOML"):
        parse_scenarios("[[scenario]\n", name="x.toml")
    with pytest.raises(DataError, match="does not exist"):
        load_scenarios(tmp_path / "missing.toml")


def test_demo_scenarios_and_gdp_load():
    scs = load_scenarios(ROOT / "data" / "ledger" / "scenarios_illustrative.toml")
    assert [s.id for s in scs] == ["baseline", "plan", "accelerated"]
    assert not any(s.verified for s in scs)
    assert all(s.intensity_target_change_pct == ((2021, -18.0),) for s in scs)
    gdp = load_gdp(ROOT / "data" / "ledger" / "gdp_illustrative.csv")
    assert set(gdp["zone_id"]) == {"pukou", "liuhe", "baguazhou"} and len(gdp) == 48
    assert not gdp["verified"].any() and (gdp["gdp_100m_cny"] > 0).all()


def test_gdp_and_target_loader_errors(tmp_path):
    f = tmp_path / "gdp.csv"
    f.write_text("zone_id,year,gdp_100m_cny,source,verified\nz,2020,0,x,no\n", encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        load_gdp(f)
    assert "gdp.csv" in str(e.value) and "row 2" in str(e.value) and "gdp_100m_cny" in str(e.value)
    f.write_text("zone_id,year,gdp_100m_cny,source,verified\nz,2020,5,x,maybe\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="verified"):
        load_gdp(f)
    t = tmp_path / "t.csv"
    t.write_text("zone_id,year,indicator,target,source\nz,2030,tonnes,1,x\n", encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        load_control_targets(t)
    assert "t.csv" in str(e.value) and "indicator" in str(e.value)


# --- the demo chain ---------------------------------------------------------------------------

def _demo_inventory() -> pd.DataFrame:
    em = pd.read_csv(ROOT / "data" / "inventory" / "jiangbei_emissions_illustrative.csv")
    if "dataset" in em:
        em = em[em["dataset"] == em["dataset"].iloc[0]]  # the primary (first) series only
    return em


def test_demo_chain():
    em = _demo_inventory()
    gdp = load_gdp(ROOT / "data" / "ledger" / "gdp_illustrative.csv")
    rem = pd.DataFrame({"zone_id": ["pukou", "liuhe", "baguazhou"], "year": 2025, "removals_tco2e_yr": [72135.4, 11367.2, 354.4]})
    res = {}
    for s in load_scenarios(ROOT / "data" / "ledger" / "scenarios_illustrative.toml"):
        p = project(em, s, removals_tco2e_yr=rem, gdp=gdp, label="all")
        assert p["year"].min() == 2010 and p["year"].max() == 2060 and p["gdp_100m_cny"].notna().all()
        res[s.id] = (p, neutrality_year(p))
    assert res["baseline"][1].central is None
    assert res["accelerated"][1].reached_by_target
    plan = res["plan"][0].set_index("year")["emissions_tco2e"]
    assert detect_peak(plan).peak_year <= 2030
    hist = inventory_history(em, gdp=gdp, intensity_target_change_pct=((2021, -18.0),))
    assert set(hist["zone_id"]) == {"pukou", "liuhe", "baguazhou", "all"} and (hist["kind"] == "inventory").all()
    assert math.isnan(hist["net_emissions_tco2e"].iloc[0])  # no removals given: empty, never 0


# --- a sector missing in a year is a gap, never 0 -------------------------------------------

def _two_zones(drop=()) -> pd.DataFrame:
    """Zones a and b, 2018-2025: energy 100 (a) / 50 (b) and transport 10 (a) / 5 (b) every year;
    b has no industry at all (a sector a zone never reports is its 0). ``drop``: (zone, year, sector)."""
    rows = [(z, y, s, v) for y in range(2018, 2026) for z, s, v in
            (("a", "energy", 100.0), ("a", "transport", 10.0), ("b", "energy", 50.0), ("b", "transport", 5.0), ("a", "industry", 1.0))]
    df = pd.DataFrame(rows, columns=["zone_id", "year", "sector", "emissions_tco2e"])
    for z, y, sec in drop:
        df = df[~((df["zone_id"] == z) & (df["year"] == y) & ((df["sector"] == sec) if sec else True))]
    return df.reset_index(drop=True)


def _transport_rates(**kw) -> Scenario:
    return _scen(sector_change_pct_yr={"energy": constant(0.0), "transport": constant(10.0), "industry": constant(0.0)}, **kw)


def test_incomplete_years_and_totals():
    inv = _two_zones(drop=[("a", 2025, "transport"), ("b", 2025, "transport")])
    from sinks.ledger.trajectory import emission_totals, incomplete_years
    g = incomplete_years(inv)
    assert g.values.tolist() == [["a", 2025, ("transport",)], ["b", 2025, ("transport",)]]
    t = emission_totals(inv).set_index(["zone_id", "year"])["emissions_tco2e"]
    # 2025 has no total (not 101 and 50: transport is missing, not 0); b's industry is not a gap
    assert math.isnan(t[("a", 2025)]) and math.isnan(t[("b", 2025)]) and t[("b", 2024)] == 55.0 and t[("a", 2024)] == 111.0


def test_a_missing_sector_is_not_projected_as_zero():
    # transport missing in 2025 in every zone: the base is 2024 (the last complete year), never 2025 with transport 0
    inv = _two_zones(drop=[("a", 2025, "transport"), ("b", 2025, "transport")])
    p = project(inv, _transport_rates(), removals_tco2e_yr=0.0, to_year=2030).set_index("year")
    assert not (p["transport_tco2e"] == 0).any()
    assert p.loc[2024, "kind"] == "inventory" and p.loc[2025, "kind"] == "projection"
    # transport 15 t in 2024, +10 %/yr: 16.5 in 2025, 15 x 1.1^6 in 2030
    assert p.loc[2025, "transport_tco2e"] == pytest.approx(16.5) and p.loc[2030, "transport_tco2e"] == pytest.approx(15 * 1.1 ** 6)
    assert p.loc[2025, "emissions_tco2e"] == pytest.approx(151.0 + 16.5)
    note = next(n for n in p.attrs["notes"] if n.code == "proj_base_incomplete")
    assert note.params["base"] == 2024 and note.params["skipped"] == [2025]
    assert "2025" in note and "transport" in note and "a 2025 (transport)" in note
    # a base year that is incomplete is refused, naming the year, the sector and the fix
    with pytest.raises(DataError) as e:
        project(inv, _transport_rates(base_year=2025), removals_tco2e_yr=0.0, to_year=2030)
    assert "2025" in e.value.problem and "transport" in e.value.problem and "2024" in e.value.fix
    # an interior incomplete year: left empty in the inventory part, the base stays 2025
    inv2 = _two_zones(drop=[("a", 2022, "transport")])
    p2 = project(inv2, _transport_rates(), removals_tco2e_yr=0.0, to_year=2026).set_index("year")
    assert math.isnan(p2.loc[2022, "emissions_tco2e"]) and math.isnan(p2.loc[2022, "transport_tco2e"])
    assert p2.loc[2022, "energy_tco2e"] == 150.0 and p2.loc[2025, "kind"] == "inventory"
    assert any(n.code == "sector_year_incomplete" for n in p2.attrs["notes"])


def test_history_never_projects_and_leaves_incomplete_years_empty():
    # a lacks transport in 2025; b does not report 2025 at all
    inv = _two_zones(drop=[("a", 2025, "transport"), ("b", 2025, None)])
    h = inventory_history(inv)
    assert (h["kind"] == "inventory").all() and (h["scenario"] == "inventory").all()
    a = h[h["zone_id"] == "a"].set_index("year")
    assert math.isnan(a.loc[2025, "emissions_tco2e"]) and a.loc[2025, "energy_tco2e"] == 100.0 and math.isnan(a.loc[2025, "transport_tco2e"])
    assert a.loc[2024, "emissions_tco2e"] == 111.0
    tot = h[h["zone_id"] == "all"]
    # the sum: only the years every zone reports (no 2025 "projection" carried at 0 %)
    assert tot["year"].max() == 2024 and tot["emissions_tco2e"].notna().all()
    codes = {n.code for n in h.attrs["notes"]}
    assert "proj_base" not in codes and "sector_year_incomplete" in codes and "proj_years_incomplete" in codes
    # every zone reports 2025 but a's is incomplete: the sum of 2025 is there, with no total
    h2 = inventory_history(_two_zones(drop=[("a", 2025, "transport")]))
    t2 = h2[h2["zone_id"] == "all"].set_index("year")
    assert math.isnan(t2.loc[2025, "emissions_tco2e"]) and t2.loc[2025, "kind"] == "inventory"


def test_peak_treats_an_incomplete_year_as_missing():
    inv = _two_zones(drop=[("a", 2025, "transport"), ("b", 2025, "transport")])
    _, peaks = peak_table(inv)
    assert peaks["all"].last_year == 2024 and peaks["a"].last_year == 2024
    assert any(n.code == "peak_last_missing" and n.params["years"] == [2025] for n in peaks["all"].evidence)
    _, peaks2 = peak_table(_two_zones(drop=[("a", 2022, "transport")]))
    assert peaks2["a"].status == "undetermined" and any(n.code == "peak_gaps" for n in peaks2["a"].evidence)
    assert peaks2["all"].status == "undetermined" and peaks2["b"].status != "undetermined"


def test_zones_without_a_common_year():
    inv = pd.DataFrame({"zone_id": ["a", "b"], "year": [2020, 2021], "sector": "energy", "emissions_tco2e": [1.0, 2.0]})
    h = inventory_history(inv)
    assert set(h["zone_id"]) == {"a", "b"} and any(n.code == "history_no_common_year" for n in h.attrs["notes"])
    with pytest.raises(DataError, match="no inventory year is reported by every zone"):
        project(inv, _scen(), removals_tco2e_yr=0.0, to_year=2025)
