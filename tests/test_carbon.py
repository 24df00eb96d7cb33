"""Carbon arithmetic by hand on the tiny grid (pixel = 30 m x 30 m = 0.09 ha).

Coefficients of the tiny table (t C/ha: above, below, soil, dead = total; gain t C/ha/yr):
tree 10: 50+10+40+5 = 105, gain 1.0 | crop 40: 2+1+30+0 = 33, gain 0 | built-up 50: 1+0+20+0 = 21,
gain 0 | water 80: 0 | wetland 90: 3+2+60+0 = 65, gain "source required".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.errors import SchemaError, UnknownClassError
from sinks.coefficients import load_coefficients
from sinks.pipeline import run_assessment
from sinks.units import C_TO_CO2


@pytest.fixture
def a(tiny):
    return run_assessment(tiny["config"])


def _stock(a, zone, year):
    t = a.stock_totals
    return float(t[(t["zone_id"] == zone) & (t["year"] == year)]["stock_tc"].iloc[0])


def _flow(a, zone, col):
    return float(a.flows.set_index("zone_id").loc[zone, col])


def test_stocks_by_hand(a):
    # west 2020: 4 tree px = 0.36 ha x 105 = 37.8 t C (water 0; the nodata pixel is not a class)
    assert _stock(a, "west", 2020) == pytest.approx(37.8)
    # east 2020: crop 0.36 x 33 = 11.88 ; built 0.18 x 21 = 3.78 ; wetland 0.18 x 65 = 11.7 -> 27.36
    assert _stock(a, "east", 2020) == pytest.approx(27.36)
    # east 2025: tree 0.09 x 105 = 9.45 ; crop 0.18 x 33 = 5.94 ; built 0.36 x 21 = 7.56 ; wetland 0.09 x 65 = 5.85 -> 28.8
    assert _stock(a, "east", 2025) == pytest.approx(28.8)
    # pools: east 2020 soil = 0.36 x 30 + 0.18 x 20 + 0.18 x 60 = 10.8 + 3.6 + 10.8 = 25.2
    s = a.stocks.set_index(["zone_id", "year", "pool"])["stock_tc"]
    assert s[("east", 2020, "c_soil")] == pytest.approx(25.2)
    # nodata: west has one 0.09 ha nodata pixel, reported, not counted
    nd = a.nodata.set_index(["zone_id", "year"])
    assert nd.loc[("west", 2020), "nodata_ha"] == pytest.approx(0.09)
    assert nd.loc[("west", 2020), "valid_ha"] == pytest.approx(0.63)


def test_stock_difference_and_gain_loss_by_hand(a):
    # east: (28.8 - 27.36) / 5 yr = 0.288 t C/yr x 44/12 = 1.056 t CO2e/yr
    assert _flow(a, "east", "sequestration_tco2e_yr") == pytest.approx(0.288 * 44 / 12)
    # conversions in east: crop->tree +72 x 0.09 = +6.48 ; crop->built -12 x 0.09 = -1.08 ;
    # wetland->built -44 x 0.09 = -3.96 ; gains 6.48/5 = 1.296, losses 5.04/5 = 1.008 t C/yr
    assert _flow(a, "east", "conversion_gain_tco2e_yr") == pytest.approx(1.296 * C_TO_CO2)
    assert _flow(a, "east", "conversion_loss_tco2e_yr") == pytest.approx(1.008 * C_TO_CO2)
    # unchanged wetland (1 px) has no sourced gain rate: reported, not counted as zero removal
    assert _flow(a, "east", "unestimated_area_ha") == pytest.approx(0.09)
    assert a.flows.set_index("zone_id").loc["east", "unestimated_codes"] == "90"
    # west: 4 unchanged tree px x 0.09 ha x 1.0 t C/ha/yr = 0.36 t C/yr = 1.32 t CO2e/yr
    assert _flow(a, "west", "growth_tco2e_yr") == pytest.approx(1.32)
    assert _flow(a, "west", "net_removals_tco2e_yr") == pytest.approx(1.32)
    assert _flow(a, "west", "sequestration_tco2e_yr") == pytest.approx(0.0)


def test_gain_loss_equals_stock_difference_plus_growth(a):
    """With static densities, gain-loss net = stock-difference + growth on unchanged land."""
    f = a.flows
    pd.testing.assert_series_equal(
        f["net_removals_tco2e_yr"], f["sequestration_tco2e_yr"] + f["growth_tco2e_yr"], check_names=False, rtol=1e-12
    )


def test_neutrality_and_kpis_by_hand(a):
    n = a.neutrality.set_index(["zone_id", "year"])
    # west 2025: emissions 90, removals 1.32 -> net 88.68, offset 1.32/90
    assert n.loc[("west", 2025), "net_emissions_tco2e"] == pytest.approx(88.68)
    assert n.loc[("west", 2025), "offset_ratio"] == pytest.approx(1.32 / 90)
    k = a.kpis(2025, ["west", "east"])
    assert k.total_stock_tc == pytest.approx(37.8 + 28.8)
    assert k.removals_tco2e_yr == pytest.approx(1.32 + 0.288 * 44 / 12)
    assert k.emissions_tco2e == pytest.approx(270)
    assert k.offset_ratio == pytest.approx((1.32 + 1.056) / 270)


def test_uncertainty_approach1_by_hand(a):
    # west 2025 tree growth 0.36 t C/yr +/-90 % is the only growth term -> 90 %
    assert _flow(a, "west", "growth_uncertainty_pct") == pytest.approx(90.0)
    # west stock: terms (t C) above 18, below 3.6, soil 14.4, dead 1.8, each +/-50 %:
    # 50 x sqrt(18^2 + 3.6^2 + 14.4^2 + 1.8^2) / 37.8 = 50 x 23.4 / 37.8 = 30.95 %
    t = a.stock_totals.set_index(["zone_id", "year"])
    assert t.loc[("west", 2020), "uncertainty_pct"] == pytest.approx(50 * 23.4 / 37.8, rel=1e-3)


def test_missing_code_is_an_error_listing_codes(tiny):
    text = tiny["coef"].read_text().splitlines()
    tiny["coef"].write_text("\n".join(l for l in text if not l.startswith(("90,", "50,"))) + "\n")
    with pytest.raises(UnknownClassError) as e:
        run_assessment(tiny["config"])
    msg = str(e.value)
    assert "[50, 90]" in msg and "lc_2020.tif" in msg and "add rows for lucode" in msg


def test_invest_pools_table_is_accepted(tmp_path):
    p = tmp_path / "pools.csv"
    p.write_text("lucode,LULC_Name,C_above,C_below,C_soil,C_dead\n10,tree,50,10,40,5\n40,crop,2,1,30,0\n")
    t = load_coefficients(p)
    assert t.form == "invest"
    assert t.total_density_tc_per_ha().to_dict() == {10: 105.0, 40: 33.0}
    assert not t.values["verified"].any()


def test_bad_coefficient_table_lists_every_problem(tmp_path):
    p = tmp_path / "pools.csv"
    p.write_text("lucode,c_above,c_below,c_soil,c_dead\n10,50,-1,abc,5\n10,1,1,1,1\n")
    with pytest.raises(SchemaError) as e:
        load_coefficients(p)
    msg = str(e.value)
    assert "c_below -1 is negative" in msg and "c_soil 'abc' is not a finite number" in msg and "repeat" in msg


def test_wetland_extent_and_change_by_hand(a):
    w = a.wetlands.set_index(["zone_id", "year"])
    # east: 2 wetland px (0.18 ha) in 2020, 1 px (0.09 ha) in 2025; water 0 in east, 0.27 ha in west
    assert w.loc[("east", 2020), "wetland_ha"] == pytest.approx(0.18)
    assert w.loc[("east", 2025), "wetland_ha"] == pytest.approx(0.09)
    assert w.loc[("west", 2020), "water_ha"] == pytest.approx(0.27)
    # east valid area 8 px = 0.72 ha -> share 0.18 / 0.72 = 25 %
    assert w.loc[("east", 2020), "wetland_share"] == pytest.approx(0.25)
    c = a.wetland_change.set_index("zone_id")
    assert c.loc["east", "wetland_lost_ha"] == pytest.approx(0.09)
    assert c.loc["east", "wetland_net_change_ha"] == pytest.approx(-0.09)


def test_map_area_uncertainty_flows_into_stock_uncertainty(tiny):
    """An accuracy report (Olofsson adjusted areas) adds the map's area error to the stocks."""
    import json

    rep = tiny["dir"] / "acc2020"
    rep.mkdir()
    # relative 95 % half-widths: 1.96 x se / area -> tree 1.96 x 10/100 = 19.6 %, crop 19.6 %,
    # built 9.8 %, water 0 %, wetland 39.2 %
    rows = [{"class": c, "adjusted_area_ha": a, "se_ha": se} for c, a, se in
            [(10, 100, 10), (40, 50, 5), (50, 20, 1), (80, 10, 0), (90, 5, 1)]]
    (rep / "accuracy.json").write_text(json.dumps({"area_estimate": rows}), encoding="utf-8")
    cfg = tiny["dir"] / "acc.toml"
    cfg.write_text(tiny["config"].read_text() + '\n[landcover.accuracy]\n2020 = "acc2020"\n', encoding="utf-8")
    # (TOML allows the sub-table after [engine]: it is [landcover.accuracy], a new table)
    a = run_assessment(cfg)
    t = a.stock_totals.set_index(["zone_id", "year"])
    # west 2020 holds only tree carbon: the area part is tree's 19.6 %
    assert t.loc[("west", 2020), "area_uncertainty_pct"] == pytest.approx(19.6)
    # each pool term: sqrt(19.6^2 + 50^2) = 53.704 %; pools as before: 53.704 x 23.4 / 37.8 = 33.245 %
    assert t.loc[("west", 2020), "uncertainty_pct"] == pytest.approx(53.704 * 23.4 / 37.8, rel=1e-3)
    # 2025 has no report: no area part
    assert np.isnan(t.loc[("west", 2025), "area_uncertainty_pct"])
    k = a.kpis(2020, ["west"])
    assert k.stock_area_uncertainty_pct == pytest.approx(19.6)


def test_accuracy_year_without_map_is_refused(tiny):
    cfg = tiny["dir"] / "acc.toml"
    cfg.write_text(tiny["config"].read_text() + '\n[landcover.accuracy]\n2019 = "x"\n', encoding="utf-8")
    from geodata.errors import SchemaError

    with pytest.raises(SchemaError, match=r"year\(s\) \[2019\]"):
        run_assessment(cfg)
