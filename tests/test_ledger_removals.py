"""Removals with Monte Carlo intervals and the net position, by hand on the tiny grid.

Tiny grid (conftest): 4 x 4 pixels of 30 m = 0.09 ha each; zones west (columns 0-1), east
(columns 2-3) and an overlapping centre square (columns 1-2, rows 1-2). Land cover:

    2020 (LC_T0)        2025 (LC_T1)
    10 10 40 40         10 10 10 40      crop (0,2) -> tree
    10 10 40 50         10 10 50 50      crop (1,2) -> built-up
    80 80 40 50         80 80 40 50
     0 80 90 90          0 80 90 50      wetland (3,3) -> built-up

Summed over west + east (the centre is left out so no pixel counts twice): tree 4 -> 5 px,
crop 4 -> 2 px, built-up 2 -> 4 px, wetland 2 -> 1 px. Periods are 5 years; 44/12 = C_TO_CO2.
The configurations here name no inventory: the emissions frames are written by hand.
"""
from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.errors import DataError, SchemaError
from sinks import carbon
from sinks.config import load_config
from sinks.ledger.removals import (
    COVERS,
    NEAREST,
    POSITION_COLUMNS,
    ROW_COLUMNS,
    SCOPE_RULES,
    RemovalSeries,
    period_for_year,
    position,
    removal_series,
)
from sinks.pipeline import run_assessment
from sinks.units import C_TO_CO2
from tests.conftest import LC_T0, LC_T1, ROOT, write_raster

PX_HA = 0.09
WE = ["west", "east"]
POOLS5 = ("c_above", "c_below", "c_soil", "c_dead", "gain_tc_per_ha_yr")
# the conftest table's values (t C/ha; gain t C/ha/yr); None = source required
VALUES = {10: (50, 10, 40, 5, 1.0), 40: (2, 1, 30, 0, 0), 50: (1, 0, 20, 0, 0), 80: (0, 0, 0, 0, 0), 90: (3, 2, 60, 0, None)}
NAMES = {10: "tree", 40: "crop", 50: "built", 80: "water", 90: "wetland"}


def _coef(path: Path, pct: dict[tuple[int, str], float]) -> Path:
    """The tiny table with uncertainties only where ``pct`` gives them (others blank)."""
    lines = ["lucode,lulc_name,quantity,value,unit,uncertainty_pct,source,verified,note\n"]
    for code, vals in VALUES.items():
        for q, v in zip(POOLS5, vals):
            unit = "t C/ha/yr" if q == "gain_tc_per_ha_yr" else "t C/ha"
            u = pct.get((code, q), "")
            lines.append(f"{code},{NAMES[code]},{q},{'' if v is None else v},{unit},{u},test source,false,"
                         f"{'source required' if v is None else ''}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _run(tiny: dict, name: str, *, maps: dict[int, np.ndarray] | None = None, pct: dict | None = None,
         accuracy: dict[int, dict[int, float]] | None = None):
    """Run the pipeline on the tiny grid with these maps, uncertainties and accuracy reports."""
    d: Path = tiny["dir"]
    maps = maps or {2020: LC_T0, 2025: LC_T1}
    text = ['[area]\nname_en = "Tiny"\nname_zh = "小"\n',
            '[zones]\npath = "zones.gpkg"\nlayer = "zones"\nid_field = "zone_id"\n', "[landcover.years]\n"]
    for y, arr in maps.items():
        write_raster(d / f"{name}_{y}.tif", arr, tags={"YEAR": str(y)})
        text.append(f'{y} = "{name}_{y}.tif"\n')
    if accuracy:
        text.append("[landcover.accuracy]\n")
        for y, per_class in accuracy.items():
            rep = d / f"{name}_acc{y}"
            rep.mkdir()
            # relative 95 % half-width = 100 x 1.96 x se / area: area 100 ha, se = pct / 1.96
            rows = [{"class": c, "adjusted_area_ha": 100.0, "se_ha": p / 1.96} for c, p in per_class.items()]
            (rep / "accuracy.json").write_text(json.dumps({"area_estimate": rows}), encoding="utf-8")
            text.append(f'{y} = "{rep.name}"\n')
    coef = "coef.csv" if pct is None else _coef(d / f"{name}_coef.csv", pct).name
    text.append(f'[coefficients]\npath = "{coef}"\n[engine]\nblock_size = 16\n')
    cfg = d / f"{name}.toml"
    cfg.write_text("".join(text), encoding="utf-8")
    return run_assessment(cfg)


def _row(rs: RemovalSeries, method: str, period: str = "2020-2025") -> pd.Series:
    t = rs.table
    return t[(t["method"] == method) & (t["period"] == period)].iloc[0]


# ------------------------------------------------------------------ central values


def test_central_values_are_the_pipelines_flows(tiny):
    a = _run(tiny, "base")
    rs = removal_series(a, zone_ids=WE)
    assert list(rs.table.columns) == list(ROW_COLUMNS)
    # per zone: exactly the flows (not the Monte Carlo mean)
    z = rs.by_zone.set_index(["zone_id", "method"])
    f = a.flows.set_index("zone_id")
    for zone in WE:
        assert z.loc[(zone, "stock_difference"), "removals_tco2e_yr"] == f.loc[zone, "sequestration_tco2e_yr"]
        assert z.loc[(zone, "gain_loss"), "removals_tco2e_yr"] == f.loc[zone, "net_removals_tco2e_yr"]
    # and the flows are carbon.stock_difference / gain_loss of the same inputs
    st = a.stock_totals
    sd = carbon.stock_difference(st[st["year"] == 2020], st[st["year"] == 2025], years=5).set_index("zone_id")
    gl = carbon.gain_loss(a.change, a.coefficients, years=5).set_index("zone_id")
    assert _row(rs, "stock_difference")["removals_tco2e_yr"] == pytest.approx(sd.loc[WE, "sequestration_tco2e_yr"].sum(), rel=1e-12)
    assert _row(rs, "gain_loss")["removals_tco2e_yr"] == pytest.approx(gl.loc[WE, "net_removals_tco2e_yr"].sum(), rel=1e-12)
    # by hand (test_carbon): west 1.32 + east 1.056 (stock difference) / 1.32 + (1.056 + 0) gain-loss
    assert _row(rs, "stock_difference")["removals_tco2e_yr"] == pytest.approx(0.288 * C_TO_CO2)
    assert _row(rs, "gain_loss")["removals_tco2e_yr"] == pytest.approx(1.32 + 0.288 * C_TO_CO2)
    for r in rs.table.itertuples():
        assert r.low_tco2e_yr <= r.removals_tco2e_yr <= r.high_tco2e_yr
        assert r.low_a1_tco2e_yr <= r.removals_tco2e_yr <= r.high_a1_tco2e_yr
    assert rs.table["areas_drawn"].eq("none").all()
    # the unchanged wetland pixel of east has no gain rate: reported, not estimated
    assert _row(rs, "gain_loss")["unestimated_area_ha"] == pytest.approx(PX_HA)
    assert np.isnan(_row(rs, "stock_difference")["unestimated_area_ha"])


def test_without_any_uncertainty_every_draw_is_the_central_value(tiny):
    """All coefficients blank and no accuracy report: the draws reproduce the pipeline exactly."""
    a = _run(tiny, "fixed", pct={})
    rs = removal_series(a, zone_ids=WE, n_draws=200)
    for r in rs.table.itertuples():
        assert r.low_tco2e_yr == pytest.approx(r.removals_tco2e_yr, rel=1e-12)
        assert r.high_tco2e_yr == pytest.approx(r.removals_tco2e_yr, rel=1e-12)
        assert r.sd_tco2e_yr == pytest.approx(0.0, abs=1e-12)
        assert r.coverage == 0.0  # no term carries an uncertainty
    codes = {n.code for n in rs.notes}
    assert {"approach2", "truncated", "fixed_coefficients", "areas_fixed"} <= codes
    # tree carries the whole stock difference's wood: its pools are listed with their shares
    m = rs.missing_uncertainty.set_index(["lucode", "quantity"])
    assert m.loc[(10, "c_above"), "value"] == 50
    # stock at 2025 over west + east: tree 5 px x 105 + crop 2 x 33 + built 4 x 21 + wetland 1 x 65 = 740 px.t/ha
    assert m.loc[(10, "c_above"), "stock_share"] == pytest.approx(5 * 50 / 740)
    assert m["gain_loss_share"].sum() == pytest.approx(1.0)


# ------------------------------------------------------------------ the crucial correlation


def test_unchanged_areas_give_a_stock_difference_of_zero_width(tiny):
    """The same coefficient draw serves both dates: no area change, no stock-difference spread."""
    a = _run(tiny, "same", maps={2020: LC_T0, 2025: LC_T0})  # the conftest table: 50 % pools, 90 % tree gain
    rs = removal_series(a, zone_ids=WE)
    sd = _row(rs, "stock_difference")
    assert sd["removals_tco2e_yr"] == 0.0
    assert sd["low_tco2e_yr"] == 0.0 and sd["high_tco2e_yr"] == 0.0 and sd["sd_tco2e_yr"] == 0.0
    assert np.isnan(sd["coverage"])  # every term is zero
    gl = _row(rs, "gain_loss")
    # growth only: 4 tree px x 0.09 ha x 1.0 t C/ha/yr x 44/12 = 1.32 t CO2e/yr, +/- 90 %
    assert gl["removals_tco2e_yr"] == pytest.approx(1.32)
    assert gl["high_tco2e_yr"] - gl["low_tco2e_yr"] > 1.0


def test_single_linear_term_matches_approach1(tiny):
    """One term, area x rate with +/-30 %: the 95 % interval is 1.32 x (1 -/+ 0.30).

    Approach 1 is exact here (a linear term, truncation at 0 is 6.5 sd away). Monte Carlo error of
    a 2.5 % percentile with 100 000 draws: sqrt(0.025 x 0.975 / 1e5) / phi(1.96) x sd =
    0.00049 / 0.0584 x (1.32 x 0.3 / 1.96 = 0.202) = 0.0017; the tolerance 0.01 is ~6 of those.
    """
    a = _run(tiny, "one", maps={2020: LC_T0, 2025: LC_T0}, pct={(10, "gain_tc_per_ha_yr"): 30})
    rs = removal_series(a, zone_ids=WE, n_draws=100_000, seed=1)
    gl = _row(rs, "gain_loss")
    assert gl["removals_tco2e_yr"] == pytest.approx(1.32)
    assert gl["low_a1_tco2e_yr"] == pytest.approx(1.32 * 0.7, rel=1e-9)
    assert gl["high_a1_tco2e_yr"] == pytest.approx(1.32 * 1.3, rel=1e-9)
    assert gl["low_tco2e_yr"] == pytest.approx(1.32 * 0.7, abs=0.01)
    assert gl["high_tco2e_yr"] == pytest.approx(1.32 * 1.3, abs=0.01)
    assert gl["sd_tco2e_yr"] == pytest.approx(1.32 * 0.3 / 1.96, rel=0.02)
    assert gl["coverage"] == 1.0  # the only non-zero term carries an uncertainty


def test_shared_default_versus_independent_coefficients(tiny):
    """Crop and built-up soil carbon (30 and 20 t C/ha, both +/-50 %), everything else fixed.

    Over west + east crop loses 2 px and built-up gains 2 px (0.18 ha each); the soil terms of the
    stock change are -0.18 x 30 = -5.4 t C and +0.18 x 20 = +3.6 t C.
    * same_quantity (one SOCref error): half-width |(-5.4 + 3.6)| x 0.5 = 0.9 t C
    * independent: sqrt((5.4 x 0.5)^2 + (3.6 x 0.5)^2) = sqrt(10.53) = 3.245 t C
    both / 5 yr x 44/12 in t CO2e/yr.
    """
    a = _run(tiny, "soil", pct={(40, "c_soil"): 50, (50, "c_soil"): 50})
    k = C_TO_CO2 / 5
    shared = removal_series(a, zone_ids=WE, n_draws=50_000)
    indep = removal_series(a, zone_ids=WE, n_draws=50_000, correlate="independent")
    for rs, hw in ((shared, 0.9 * k), (indep, np.sqrt(10.53) * k)):
        r = _row(rs, "stock_difference")
        c = r["removals_tco2e_yr"]
        assert r["high_a1_tco2e_yr"] - c == pytest.approx(hw, rel=1e-9)
        # Monte Carlo agrees with the linear (exact) Approach 1 to a few %
        assert (r["high_tco2e_yr"] - r["low_tco2e_yr"]) / 2 == pytest.approx(hw, rel=0.04)
    assert any(n.code == "shared_defaults" for n in shared.notes)
    assert any(n.code == "independent_coefficients" for n in indep.notes)
    # the gain-loss conversion part is the same stock change of converted land: same width
    assert (_row(shared, "gain_loss")["high_a1_tco2e_yr"] - _row(shared, "gain_loss")["removals_tco2e_yr"]) == pytest.approx(0.9 * k)


def test_area_draws_from_accuracy_reports(tiny):
    """Unchanged maps, all coefficients fixed, tree area +/-19.6 % on both dates, drawn apart.

    West + east hold 4 tree px = 0.36 ha x 105 t C/ha = 37.8 t C on each date. Stock difference =
    37.8 x (f25 - f20) / 5 x 44/12 with independent factors: half-width
    sqrt(2) x 37.8 x 0.196 / 5 x 44/12 = 7.683 t CO2e/yr (linear, so Approach 1 is exact).
    """
    rep = {10: 19.6}
    a = _run(tiny, "acc", maps={2020: LC_T0, 2025: LC_T0}, pct={}, accuracy={2020: rep, 2025: rep})
    rs = removal_series(a, zone_ids=WE, n_draws=50_000)
    sd = _row(rs, "stock_difference")
    hw = np.sqrt(2) * 37.8 * 0.196 / 5 * C_TO_CO2
    assert sd["removals_tco2e_yr"] == 0.0
    assert sd["high_a1_tco2e_yr"] == pytest.approx(hw, rel=1e-9)
    assert (sd["high_tco2e_yr"] - sd["low_tco2e_yr"]) / 2 == pytest.approx(hw, rel=0.04)
    assert sd["areas_drawn"] == "both"
    # gain-loss growth takes the start date's factor: 1.32 x 0.196 half-width
    gl = _row(rs, "gain_loss")
    assert gl["high_a1_tco2e_yr"] - gl["removals_tco2e_yr"] == pytest.approx(1.32 * 0.196, rel=1e-9)
    # the other mapped classes are not in the report: held fixed, and said so
    lacking = [n for n in rs.notes if n.code == "area_class_not_in_report"]
    assert lacking and lacking[0].params["codes"] == [40, 50, 80, 90]
    assert any(n.code == "areas_drawn" for n in rs.notes)


def test_assumed_uncertainty_widens_intervals_and_is_stated(tiny):
    a = _run(tiny, "assume", pct={(10, "gain_tc_per_ha_yr"): 30})
    plain = removal_series(a, zone_ids=WE)
    assumed = removal_series(a, zone_ids=WE, assumed_uncertainty_pct=50)
    for m in ("stock_difference", "gain_loss"):
        p, q = _row(plain, m), _row(assumed, m)
        assert q["removals_tco2e_yr"] == p["removals_tco2e_yr"]
        assert q["high_tco2e_yr"] - q["low_tco2e_yr"] > p["high_tco2e_yr"] - p["low_tco2e_yr"]
        assert q["coverage"] == 1.0
    # without the policy the stock difference has no coefficient with an uncertainty: zero width
    assert _row(plain, "stock_difference")["sd_tco2e_yr"] == 0.0
    assert assumed.assumed_uncertainty_pct == 50.0
    assert (assumed.missing_uncertainty["assumed_pct"] == 50.0).all()
    note = [n for n in assumed.notes if n.code == "assumed_uncertainty"]
    assert note and note[0].params["pct"] == 50.0
    assert not any(n.code == "fixed_coefficients" for n in assumed.notes)


def test_the_same_seed_gives_the_same_draws(tiny):
    a = _run(tiny, "seed")
    one = removal_series(a, zone_ids=WE, seed=7)
    two = removal_series(a, zone_ids=WE, seed=7)
    other = removal_series(a, zone_ids=WE, seed=8)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert np.array_equal(one.draws[("2020-2025", "gain_loss")], two.draws[("2020-2025", "gain_loss")])
    assert not np.array_equal(one.draws[("2020-2025", "gain_loss")], other.draws[("2020-2025", "gain_loss")])
    with pytest.raises(ValueError):
        one.draws[("2020-2025", "gain_loss")][0] = 1.0  # read-only
    back = pickle.loads(pickle.dumps(one))  # the UI caches it (Streamlit pickles)
    pd.testing.assert_frame_equal(back.table, one.table)
    assert back.notes[0].code == one.notes[0].code
    # coefficient draws do not depend on the zones chosen: west alone is the west row of the pair
    west = removal_series(a, zone_ids=["west"], seed=7)
    pair = one.by_zone.set_index(["zone_id", "method"])
    assert _row(west, "gain_loss")["low_tco2e_yr"] == pytest.approx(pair.loc[("west", "gain_loss"), "low_tco2e_yr"], rel=1e-12)


# ------------------------------------------------------------------ scope and errors


def test_scope_rules_name_overlaps_and_unestimated_classes(tiny):
    a = _run(tiny, "scope")
    assert {n.code for n in SCOPE_RULES} == {"flows_not_stocks", "managed_land", "configured_zones", "scope1_co2",
                                            "co2_removals_only", "zone_overlap", "unestimated_classes"}
    assert all(str(n) for n in SCOPE_RULES)
    every = removal_series(a, n_draws=100)  # west, east and the centre square that overlaps both
    over = {n.code: n for n in every.scope}["zone_overlap"]
    assert {frozenset(p) for p in over.params["overlapping_pairs"]} == {frozenset({"west", "centre"}), frozenset({"east", "centre"})}
    assert "contains its centre" in over.params["rule"]
    apart = {n.code: n for n in removal_series(a, zone_ids=WE, n_draws=100).scope}
    assert apart["zone_overlap"].params["overlapping_pairs"] == []
    # wetland (90) has no gain rate in the table; 1 px of it stays wetland in east
    assert apart["unestimated_classes"].params["codes"] == [90]
    assert apart["unestimated_classes"].params["unestimated_area_ha"] == {"2020-2025": pytest.approx(PX_HA)}


def test_bad_arguments_are_data_errors(tiny):
    a = _run(tiny, "bad")
    with pytest.raises(DataError, match="unknown zone"):
        removal_series(a, zone_ids=["nowhere"])
    with pytest.raises(DataError, match="n_draws"):
        removal_series(a, n_draws=5)
    with pytest.raises(DataError, match="assumed uncertainty"):
        removal_series(a, assumed_uncertainty_pct=-1)
    with pytest.raises(DataError, match="correlation"):
        removal_series(a, correlate="some")
    rs = removal_series(a, zone_ids=WE, n_draws=100)
    with pytest.raises(SchemaError, match="emissions_tco2e"):
        position(pd.DataFrame({"zone_id": ["west"], "year": [2020]}), rs)
    with pytest.raises(SchemaError, match="negative"):
        position(pd.DataFrame({"zone_id": ["west"], "year": [2020], "emissions_tco2e": [-1.0]}), rs)


def test_one_date_has_no_period(tiny):
    a = _run(tiny, "single", maps={2020: LC_T0})
    rs = removal_series(a, n_draws=100)
    assert rs.table.empty and rs.by_zone.empty and not rs.draws
    assert any(n.code == "one_date" for n in rs.notes)
    p = position(pd.DataFrame({"zone_id": ["west"], "year": [2020], "emissions_tco2e": [10.0]}), rs)
    assert p["removals_tco2e_yr"].isna().all() and p["net_emissions_tco2e"].isna().all()


# ------------------------------------------------------------------ position


def test_position_by_hand(tiny):
    a = _run(tiny, "pos")
    rs = removal_series(a, zone_ids=WE, n_draws=20_000)
    r_gl = _row(rs, "gain_loss")["removals_tco2e_yr"]  # 1.32 + 1.056 = 2.376
    r_sd = _row(rs, "stock_difference")["removals_tco2e_yr"]  # 1.056
    em = pd.DataFrame({
        "zone_id": ["west", "east", "east", "west", "east", "centre"],
        "year": [2020, 2020, 2020, 2022, 2022, 2020],
        "sector": ["industry", "energy", "transport", "industry", "energy", "energy"],
        "emissions_tco2": [100.0, 150.0, 50.0, 0.0, 0.0, 999.0],  # the old column name is accepted
    })
    p = position(em, rs).set_index(["year", "method"])
    assert list(p.reset_index().columns) == list(POSITION_COLUMNS)
    # 2020: 100 + 150 + 50 = 300 t CO2 (the centre zone is not in the removals: left out, and said so)
    g = p.loc[(2020, "gain_loss")]
    assert g["emissions_tco2e"] == 300.0
    assert g["net_emissions_tco2e"] == pytest.approx(300.0 - 2.376)
    assert g["offset_ratio"] == pytest.approx(2.376 / 300.0)
    assert p.loc[(2020, "stock_difference"), "net_emissions_tco2e"] == pytest.approx(300.0 - 1.056)
    assert r_gl == pytest.approx(2.376) and r_sd == pytest.approx(1.056)
    assert g["removals_period"] == "2020-2025" and g["removals_basis"] == COVERS
    # emissions carry no uncertainty: their interval is NaN; net = 300 - the removals' interval
    assert np.isnan(g["emissions_low_tco2e"])
    assert g["net_emissions_low_tco2e"] == pytest.approx(300.0 - g["removals_high_tco2e_yr"], rel=1e-9)
    assert g["offset_ratio_low"] == pytest.approx(g["removals_low_tco2e_yr"] / 300.0, rel=1e-9)
    # 2022: zero emissions -> no offset ratio
    assert np.isnan(p.loc[(2022, "gain_loss"), "offset_ratio"])
    assert p.loc[(2022, "gain_loss"), "net_emissions_tco2e"] == pytest.approx(-2.376)
    assert any(n.code == "emissions_outside_zones" for n in p.attrs["notes"])
    # a year asked for without emissions: NaN emissions, every zone missing
    q = position(em, rs, years=[2024]).set_index("method")
    assert np.isnan(q.loc["gain_loss", "emissions_tco2e"]) and q.loc["gain_loss", "zones_missing_emissions"] == "west,east"


def test_position_with_emission_uncertainty(tiny):
    """300 t +/- 30 (95 %, one row) and 0 t: the emission interval is 300 +/- 30 to MC error
    (sd 15.3; the 2.5 % percentile of 20 000 draws is within ~0.6 of it)."""
    a = _run(tiny, "posu")
    rs = removal_series(a, zone_ids=WE, n_draws=20_000)
    em = pd.DataFrame({"zone_id": ["west", "east"], "year": [2020, 2020], "emissions_tco2e": [300.0, 0.0],
                       "uncertainty_tco2e": [30.0, np.nan]})
    g = position(em, rs).set_index("method").loc["gain_loss"]
    assert g["emissions_low_tco2e"] == pytest.approx(270.0, abs=1.5)
    assert g["emissions_high_tco2e"] == pytest.approx(330.0, abs=1.5)
    assert g["emissions_coverage"] == 1.0
    # net combines both sets of draws: wider than either alone, centred on 300 - 2.376
    assert g["net_emissions_tco2e"] == pytest.approx(300.0 - 2.376)
    assert g["net_emissions_high_tco2e"] - g["net_emissions_low_tco2e"] > g["emissions_high_tco2e"] - g["emissions_low_tco2e"]
    assert g["offset_ratio_low"] <= g["offset_ratio"] <= g["offset_ratio_high"]
    again = position(em, rs).set_index("method").loc["gain_loss"]
    assert again["net_emissions_low_tco2e"] == g["net_emissions_low_tco2e"]  # seeded


def test_a_year_with_a_zone_missing_has_no_emissions_net_or_ratio(tiny):
    """2021: only west reports (100 t); comparing 100 t with the removals of west + east would
    overstate the offset: emissions, net, offset ratio and their intervals are empty, the
    removals stay, and a note names the year and the zone. 2022: east lacks transport (reported
    in 2020): incomplete, the same."""
    a = _run(tiny, "posm")
    rs = removal_series(a, zone_ids=WE, n_draws=2_000)
    em = pd.DataFrame({"zone_id": ["west", "east", "west", "west", "east"], "year": [2020, 2020, 2021, 2022, 2022],
                       "emissions_tco2e": [100.0, 200.0, 100.0, 100.0, 150.0], "uncertainty_tco2e": [10.0, 20.0, 10.0, 10.0, 15.0]})
    inc = pd.DataFrame({"zone_id": ["east"], "year": [2022], "sectors": [("transport",)]})
    p = position(em, rs, incomplete=inc).set_index(["year", "method"])
    assert p.loc[(2020, "gain_loss"), "emissions_tco2e"] == 300.0
    for y, zones in ((2021, "east"), (2022, "east")):
        r = p.loc[(y, "gain_loss")]
        for col in ("emissions_tco2e", "emissions_low_tco2e", "emissions_high_tco2e", "net_emissions_tco2e", "net_emissions_low_tco2e",
                    "net_emissions_high_tco2e", "offset_ratio", "offset_ratio_low", "offset_ratio_high"):
            assert np.isnan(r[col]), (y, col)
        assert r["removals_tco2e_yr"] == pytest.approx(2.376) and r["zones_missing_emissions"] == zones
    notes = {n.code: n for n in p.attrs["notes"]}
    assert notes["zones_missing_emissions"].params["years"] == [2021] and "2021: east" in notes["zones_missing_emissions"]
    assert notes["emissions_incomplete"].params["years"] == [2022] and "east 2022 (transport)" in notes["emissions_incomplete"]
    # without the incomplete list 2022 is the sum of what is there (the caller's choice)
    assert position(em, rs).set_index(["year", "method"]).loc[(2022, "gain_loss"), "emissions_tco2e"] == 250.0


def test_position_takes_one_dataset_and_scope_1(tiny):
    """Rows as the inventory module keeps them: two series side by side, scopes, uncertainty in %."""
    a = _run(tiny, "posd")
    rs = removal_series(a, zone_ids=WE, n_draws=20_000)
    rows = pd.DataFrame({
        "zone_id": ["west", "east", "west", "west"],
        "year": 2020,
        "dataset": ["county", "county", "county", "city"],
        "scope": ["scope1", "scope1", "scope2", "scope1"],
        "emissions_tco2e": [100.0, 200.0, 40.0, 999.0],
        "uncertainty_pct": [10.0, 10.0, np.nan, np.nan],
    })
    with pytest.raises(SchemaError, match="several datasets"):
        position(rows, rs)
    with pytest.raises(SchemaError, match="no dataset"):
        position(rows, rs, dataset="province")
    p = position(rows, rs, dataset="county").set_index("method")
    g = p.loc["gain_loss"]
    # scope 2 is left out: 100 + 200 = 300; half-widths 10 and 20 t in quadrature = 22.36 t
    assert g["emissions_tco2e"] == 300.0
    assert g["emissions_high_tco2e"] - 300.0 == pytest.approx(np.hypot(10.0, 20.0), abs=1.0)
    assert any(n.code == "emissions_not_scope1" for n in p.attrs["notes"])


def test_nearest_period_rule(tiny):
    """Three dates: 2020-2025 and 2025-2030. A year takes the period that covers it (the later one
    at 2025, as the pipeline does), else the nearest."""
    a = _run(tiny, "three", maps={2020: LC_T0, 2025: LC_T1, 2030: LC_T1})
    rs = removal_series(a, zone_ids=WE, n_draws=100)
    expected = {2018: ("2020-2025", NEAREST), 2020: ("2020-2025", COVERS), 2022: ("2020-2025", COVERS),
                2025: ("2025-2030", COVERS), 2027: ("2025-2030", COVERS), 2033: ("2025-2030", NEAREST)}
    for y, want in expected.items():
        assert period_for_year(rs.periods, y) == want
    em = pd.DataFrame({"zone_id": "west", "year": list(expected), "emissions_tco2e": 10.0})
    p = position(em, rs).set_index(["year", "method"])
    for y, (per, basis) in expected.items():
        assert p.loc[(y, "gain_loss"), "removals_period"] == per
        assert p.loc[(y, "gain_loss"), "removals_basis"] == basis
    # 2025-2030 has no change: gain-loss = growth of 5 tree px only = 0.45 ha x 1.0 x 44/12 = 1.65
    assert p.loc[(2027, "gain_loss"), "removals_tco2e_yr"] == pytest.approx(1.65)
    assert p.loc[(2027, "stock_difference"), "removals_high_tco2e_yr"] == 0.0  # no change, no spread


# ------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo_assessment():
    cfg_path = ROOT / "configs" / "jiangbei_demo.toml"
    if not (ROOT / "data" / "rasters" / "jiangbei_landcover_2025.tif").exists():
        pytest.skip("demo rasters not built (run `make demo`)")
    cfg = load_config(cfg_path)
    # the inventory is read by hand below (accepting either emissions column name)
    return cfg.inventory, run_assessment(dataclasses.replace(cfg, inventory=None))


def test_demo_removals_and_position(demo_assessment):
    inventory, a = demo_assessment
    rs = removal_series(a)
    f = a.flows
    for m, col in (("stock_difference", "sequestration_tco2e_yr"), ("gain_loss", "net_removals_tco2e_yr")):
        r = _row(rs, m)
        assert r["removals_tco2e_yr"] == pytest.approx(f[col].sum(), rel=1e-12)
        assert r["low_tco2e_yr"] <= r["removals_tco2e_yr"] <= r["high_tco2e_yr"]
        assert 0.0 <= r["coverage"] <= 1.0
        print(f"demo {m}: {r['removals_tco2e_yr']:,.0f} t CO2e/yr, 95 % [{r['low_tco2e_yr']:,.0f}, {r['high_tco2e_yr']:,.0f}] "
              f"(Approach 1 [{r['low_a1_tco2e_yr']:,.0f}, {r['high_a1_tco2e_yr']:,.0f}]), coverage {r['coverage']:.2f}")
    assert ((rs.by_zone["low_tco2e_yr"] <= rs.by_zone["removals_tco2e_yr"])
            & (rs.by_zone["removals_tco2e_yr"] <= rs.by_zone["high_tco2e_yr"])).all()
    # tree biomass and the tree gain rate carry no uncertainty in the table
    m = rs.missing_uncertainty.set_index(["lucode", "quantity"])
    assert {(10, "c_above"), (10, "gain_tc_per_ha_yr")} <= set(m.index)
    assert {n.code for n in rs.scope} == {n.code for n in SCOPE_RULES}
    # the inventory as a table, whichever name its emissions column has, one series of it
    inv = pd.read_csv(inventory)
    dataset = inv["dataset"].iloc[0] if "dataset" in inv.columns else None
    p = position(inv, rs, dataset=dataset)
    g = p[(p["method"] == "gain_loss") & (p["year"] == 2025)].iloc[0]
    col = "emissions_tco2e" if "emissions_tco2e" in inv.columns else "emissions_tco2"
    one = inv if dataset is None else inv[inv["dataset"] == dataset]
    e = one.loc[one["year"] == 2025, col].sum()
    print(f"demo 2025 ({dataset}): emissions {e:,.0f} t CO2, gain-loss offset ratio {g['offset_ratio']:.4f} "
          f"[{g['offset_ratio_low']:.4f}, {g['offset_ratio_high']:.4f}]")
    assert g["emissions_tco2e"] == pytest.approx(e)
    assert g["net_emissions_tco2e"] == pytest.approx(e - _row(rs, "gain_loss")["removals_tco2e_yr"])
    assert g["removals_basis"] == COVERS
    assert p.loc[p["year"] == 2010, "removals_basis"].eq(NEAREST).all()
