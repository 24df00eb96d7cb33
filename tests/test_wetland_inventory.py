"""Wetland inventory (sinks.wetland_inventory) and ``python -m sinks wetlands``.

The synthetic grid: 10 x 10 pixels of 30 m (900 m2 = 0.09 ha each), UTM 50N, cropland (40)
everywhere except (row, col):

    (0..1, 0..1)  90 -> 50   vegetated wetland built over      inside R1        lost 0.36 to built_up
    (2, 0)        90 -> 80   marsh became water                inside R1        became_water 0.09
    (3, 3)        40 -> 90   new marsh                         inside R1 and R2 gained 0.09 (once in the union)
    (5, 5..6)     80 -> 40   pond filled for crops             inside R2        lost 0.18 to cropland
    (8..9, 8..9)  80 -> 60   pond drained to bare              outside          lost 0.36 to bare
    (9, 0)        40 -> 90   new marsh                         outside          gained 0.09
    (6, 9)        90 -> 0    wetland, then nodata              outside          left out of the change
    (0, 9)         0 -> 0    nodata on both dates

Red lines: R1 = columns 0-4 x rows 0-4, R2 = columns 3-7 x rows 3-7 (they share 4 pixels).
Districts: west = columns 0-4, east = columns 5-9 (study area = the whole grid).
Sites: S1 = columns 0-2 x rows 0-2 (inside R1), S2 = columns 7-9 x rows 7-9 (one pixel in R2).

Carbon (t C/ha, total of the pools): crop 40 = 33, built-up 50 = 21, bare 60 = 5, water 80 = 0,
wetland 90 = 65 (its removal factor "source required").
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from geodata.crs import wgs84_to_gcj02
from geodata.errors import DataError, MissingCRSError
from sinks.config import load_config, validate_config
from sinks.pipeline import run_assessment
from sinks.units import C_TO_CO2
from sinks.wetland_inventory import loss_polygons, wetland_inventory
from tests.conftest import ROOT, UTM50, box_px, write_raster

HA = 0.09  # one pixel

LC0 = np.full((10, 10), 40, dtype="uint8")
LC1 = np.full((10, 10), 40, dtype="uint8")
for (r, c), (a, b) in {
    (0, 0): (90, 50), (0, 1): (90, 50), (1, 0): (90, 50), (1, 1): (90, 50),
    (2, 0): (90, 80), (3, 3): (40, 90), (5, 5): (80, 40), (5, 6): (80, 40),
    (8, 8): (80, 60), (8, 9): (80, 60), (9, 8): (80, 60), (9, 9): (80, 60),
    (9, 0): (40, 90), (6, 9): (90, 0), (0, 9): (0, 0),
}.items():
    LC0[r, c], LC1[r, c] = a, b


def _redlines(crs="EPSG:4326") -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame({"redline_id": ["R1", "R2"], "name_zh": ["红线一", "红线二"]},
                           geometry=[box_px(0, 0, 5, 5), box_px(3, 3, 8, 8)], crs=UTM50)
    return gdf.to_crs(crs)


@pytest.fixture
def grid(tmp_path: Path) -> dict:
    write_raster(tmp_path / "lc_2020.tif", LC0)
    write_raster(tmp_path / "lc_2025.tif", LC1)
    gpd.GeoDataFrame({"zone_id": ["west", "east"], "name_en": ["West", "East"]},
                     geometry=[box_px(0, 0, 5, 10), box_px(5, 0, 10, 10)], crs=UTM50).to_crs(4326).to_file(tmp_path / "districts.gpkg", layer="zones")
    gpd.GeoDataFrame({"site_id": ["S1", "S2", "F"], "name_en": ["Marsh", "Pond corner", "Field"], "kind": ["wetland", "wetland", "farm"]},
                     geometry=[box_px(0, 0, 3, 3), box_px(7, 7, 10, 10), box_px(4, 0, 6, 2)], crs=UTM50).to_crs(4326).to_file(tmp_path / "sites.gpkg", layer="sites")
    # a river just below the grid that overlaps the bottom row by 1 m: it touches row 9 only
    x0, y_bottom, x1, _ = box_px(0, 9, 10, 10).bounds
    gpd.GeoDataFrame({"name": ["river"]}, geometry=[shapely.box(x0, y_bottom - 100, x1, y_bottom + 1)],
                     crs=UTM50).to_file(tmp_path / "river.gpkg", layer="river")
    rows = [(40, "crop", (2, 1, 30, 0, 0)), (50, "built", (1, 0, 20, 0, 0)), (60, "bare", (0, 0, 5, 0, 0)),
            (80, "water", (0, 0, 0, 0, 0)), (90, "wetland", (3, 2, 60, 0, None))]
    text = "lucode,lulc_name,quantity,value,unit,uncertainty_pct,source,verified,note\n"
    for code, name, vals in rows:
        for q, v in zip(("c_above", "c_below", "c_soil", "c_dead", "gain_tc_per_ha_yr"), vals):
            unit = "t C/ha/yr" if q.startswith("gain") else "t C/ha"
            note = "source required" if v is None else ""
            text += f"{code},{name},{q},{'' if v is None else v},{unit},50,test source,false,{note}\n"
    (tmp_path / "coef.csv").write_text(text, encoding="utf-8")
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        '[zones]\npath = "districts.gpkg"\nlayer = "zones"\n'
        '[landcover.years]\n2020 = "lc_2020.tif"\n2025 = "lc_2025.tif"\n'
        '[coefficients]\npath = "coef.csv"\n'
        '[wetlands]\nsites_path = "sites.gpkg"\nsites_layer = "sites"\nsites_kinds = ["wetland"]\n'
        'river_path = "river.gpkg"\nriver_layer = "river"\nalert_min_loss_ha = 0.3\n'
        '[engine]\nblock_size = 16\n', encoding="utf-8")
    return {"dir": tmp_path, "config": cfg}


def _flows(inv, scope, redline_id=None) -> dict:
    c = inv.change[inv.change["scope"] == scope]
    if redline_id is not None:
        c = c[c["redline_id"] == redline_id]
    return {(r.flow, r.other_class): round(r.area_ha, 9) for r in c.itertuples()}


# ------------------------------------------------------------------------------ hand-worked


def test_change_inside_outside_by_hand(grid):
    inv = wetland_inventory(grid["config"], redlines=_redlines())
    assert inv.periods == ("2020-2025",)
    # R1: 4 px built over, 1 px became water (not a loss), the shared new-marsh pixel
    assert _flows(inv, "redline", "R1") == {("lost", "built_up"): 0.36, ("became_water", "water"): 0.09, ("gained", "cropland"): 0.09}
    assert _flows(inv, "redline", "R2") == {("lost", "cropland"): 0.18, ("gained", "cropland"): 0.09}
    # the union counts the shared pixel once: gained 0.09, not 0.18
    assert _flows(inv, "inside_redlines") == {("lost", "built_up"): 0.36, ("lost", "cropland"): 0.18,
                                              ("gained", "cropland"): 0.09, ("became_water", "water"): 0.09}
    assert _flows(inv, "outside_redlines") == {("lost", "bare"): 0.36, ("gained", "cropland"): 0.09}
    # study: the (6, 9) pixel that turned nodata is in no flow
    assert _flows(inv, "study") == {("lost", "built_up"): 0.36, ("lost", "cropland"): 0.18, ("lost", "bare"): 0.36,
                                    ("gained", "cropland"): 0.18, ("became_water", "water"): 0.09}
    s = inv.change_summary.set_index(["scope", "redline_id"], drop=False)
    rows = {(r.scope, r.redline_id if isinstance(r.redline_id, str) else None): r for r in inv.change_summary.itertuples()}
    # wetland (80 + 90) at t0 / t1: R1 5 px -> 2 px; union 7 -> 2; study 12 -> 3; outside 5 -> 1
    assert (rows[("redline", "R1")].wetland_t0_ha, rows[("redline", "R1")].wetland_t1_ha) == pytest.approx((0.45, 0.18))
    assert (rows[("inside_redlines", None)].wetland_t0_ha, rows[("inside_redlines", None)].wetland_t1_ha) == pytest.approx((0.63, 0.18))
    assert (rows[("study", None)].wetland_t0_ha, rows[("study", None)].wetland_t1_ha) == pytest.approx((1.08, 0.27))
    assert (rows[("outside_redlines", None)].wetland_t0_ha, rows[("outside_redlines", None)].wetland_t1_ha) == pytest.approx((0.45, 0.09))
    st = rows[("study", None)]
    assert (st.lost_ha, st.gained_ha, st.net_change_ha, st.became_water_ha) == pytest.approx((0.90, 0.18, -0.72, 0.09))
    assert len(s) == 5


@pytest.mark.parametrize("threshold, expected", [(0.3, {"R1"}), (0.5, set()), (0.1, {"R1", "R2"}), (0.36, {"R1"})])
def test_alert_threshold(grid, threshold, expected):
    inv = wetland_inventory(grid["config"], redlines=_redlines(), alert_min_loss_ha=threshold)
    assert set(inv.alerts["redline_id"]) == expected
    assert inv.alert_min_loss_ha == threshold
    assert set(inv.alert_polygons["redline_id"]) == expected


def test_alert_row_and_loss_outline_by_hand(grid):
    inv = wetland_inventory(grid["config"], redlines=_redlines())  # threshold 0.3 ha from the config
    al = inv.alerts.set_index("redline_id").loc["R1"]
    # 0.36 ha lost, all to built-up, of 0.45 ha wetland at t0 -> 80 %
    assert (al["period"], al["main_destination"], al["name_zh"]) == ("2020-2025", "built_up", "红线一")
    assert al["lost_ha"] == pytest.approx(0.36) and al["main_destination_ha"] == pytest.approx(0.36)
    assert al["wetland_t0_ha"] == pytest.approx(0.45) and al["lost_share"] == pytest.approx(0.8)
    assert al["name_en"] == "R1"  # no name_en column: the id
    p = inv.alert_polygons
    assert len(p) == 1 and p.crs.to_epsg() == 4326
    assert (p["destination"].iloc[0], p["code_t1"].iloc[0]) == ("built_up", 50)
    assert p["area_ha"].iloc[0] == pytest.approx(0.36)
    # the outline is the 2 x 2 pixel square at the top-left corner
    assert p.to_crs(UTM50).geometry.iloc[0].symmetric_difference(box_px(0, 0, 2, 2)).area < 1e-3
    # the function alone, on R2 (two pixels side by side -> one polygon of 0.18 ha, to cropland)
    lp = loss_polygons(grid["dir"] / "lc_2020.tif", grid["dir"] / "lc_2025.tif", box_px(3, 3, 8, 8))
    assert list(lp["destination"]) == ["cropland"] and lp["area_ha"].sum() == pytest.approx(0.18)


def test_sites_by_hand(grid):
    inv = wetland_inventory(grid["config"], redlines=_redlines())
    s = inv.sites.set_index(["site_id", "year"])
    assert set(inv.sites["site_id"]) == {"S1", "S2"}  # sites_kinds keeps the wetland kind only
    s1a, s1b = s.loc[("S1", 2020)], s.loc[("S1", 2025)]
    # S1 2020: 5 marsh px (0.45 ha) + 4 crop px; stock 0.45 x 65 + 0.36 x 33 = 41.13 t C
    assert (s1a.water_ha, s1a.vegetated_wetland_ha, s1a.wetland_ha, s1a.other_ha) == pytest.approx((0.0, 0.45, 0.45, 0.36))
    assert s1a.stock_tc == pytest.approx(41.13) and s1a.mapped_ha == pytest.approx(0.81)
    assert np.isnan(s1a.wetland_change_ha) and np.isnan(s1a.net_removals_tco2e_yr) and s1a.removals_period == ""
    # S1 2025: 1 water px, 4 built-up, 4 crop; stock 0.36 x 21 + 0.36 x 33 = 19.44 t C
    assert (s1b.water_ha, s1b.vegetated_wetland_ha, s1b.wetland_ha, s1b.other_ha) == pytest.approx((0.09, 0.0, 0.09, 0.72))
    assert s1b.stock_tc == pytest.approx(19.44) and s1b.wetland_change_ha == pytest.approx(-0.36)
    # conversions lose (21 - 65) x 0.36 + (0 - 65) x 0.09 = -21.69 t C over 5 years
    assert s1b.net_removals_tco2e_yr == pytest.approx(-21.69 / 5 * C_TO_CO2) and s1b.removals_period == "2020-2025"
    assert s1a.protected_share == pytest.approx(1.0)
    s2a, s2b = s.loc[("S2", 2020)], s.loc[("S2", 2025)]
    # S2: the 4 px pond (0.36 ha water) + 5 crop px; drained to bare: 0.36 x 5 + 0.45 x 33 = 16.65 t C
    assert (s2a.water_ha, s2a.wetland_ha, s2a.stock_tc) == pytest.approx((0.36, 0.36, 14.85))
    assert (s2b.wetland_ha, s2b.stock_tc, s2b.wetland_change_ha) == pytest.approx((0.0, 16.65, -0.36))
    assert s2b.net_removals_tco2e_yr == pytest.approx(0.36 * 5 / 5 * C_TO_CO2)
    assert s2a.protected_share == pytest.approx(1 / 9)  # one of its nine pixels is in R2
    # without red lines there is no protection status and no alert
    bare = wetland_inventory(grid["config"])
    assert bare.sites["protected_share"].isna().all() and bare.alerts.empty and bare.redlines is None
    assert set(bare.change_summary["scope"]) == {"study"}
    # sites given as polygons replace the configured ones; a site of one class only (4 crop px)
    field = gpd.GeoDataFrame({"plot": ["F"]}, geometry=[box_px(4, 0, 6, 2)], crs=UTM50)
    f = wetland_inventory(grid["config"], sites=field, sites_id_field="plot").sites.set_index("year")
    assert list(f["site_id"]) == ["F", "F"] and (f["wetland_ha"] == 0).all()
    assert f["other_ha"].tolist() == pytest.approx([0.36, 0.36]) and f["stock_tc"].tolist() == pytest.approx([0.36 * 33] * 2)


def test_patches_per_year_by_hand(grid):
    inv = wetland_inventory(grid["config"], redlines=_redlines())
    p0, p1 = inv.patches[2020], inv.patches[2025]
    # 2020: marsh of 5 px (block + (2, 0)), pond (5, 5..6), pond 2 x 2 at the corner, marsh (6, 9)
    assert len(p0.patches) == 4 and p0.total_ha == pytest.approx(1.08)
    # the corner pond touches the river layer -> river; the other pond is a pond
    assert p0.area_by_type()["river"] == pytest.approx(0.36) and p0.area_by_type()["pond"] == pytest.approx(0.18)
    assert p0.area_by_type()["marsh"] == pytest.approx(0.54)
    # 2025: water (2, 0), marsh (3, 3), marsh (9, 0) (beside the river layer -> riverbank)
    assert len(p1.patches) == 3 and p1.total_ha == pytest.approx(0.27)
    assert p1.area_by_type()["riverbank"] == pytest.approx(0.09)
    summ = inv.patch_summary
    assert summ[summ["year"] == 2020].set_index(["zone_id", "type"])["area_ha"].to_dict() == pytest.approx(
        {("west", "marsh"): 0.45, ("east", "pond"): 0.18, ("east", "river"): 0.36, ("east", "marsh"): 0.09})
    # the patch total equals the study area's wetland at each date
    cs = inv.change_summary[inv.change_summary["scope"] == "study"].iloc[0]
    assert (p0.total_ha, p1.total_ha) == pytest.approx((cs.wetland_t0_ha, cs.wetland_t1_ha))
    assert inv.patch_geodataframe(2020).crs.to_epsg() == 4326
    assert inv.patch_table()["year"].tolist().count(2025) == 3


def test_min_patch_ha_drops_small_patches(grid):
    inv = wetland_inventory(grid["config"], min_patch_ha=0.2)
    p0 = inv.patches[2020]
    # kept: marsh 0.45 and corner pond 0.36; dropped: pond 0.18 and marsh 0.09
    assert len(p0.patches) == 2 and p0.dropped_n == 2 and p0.dropped_ha == pytest.approx(0.27)


def test_run_assessment_with_given_zones_equals_config_zones(tiny):
    a = run_assessment(tiny["config"])
    zones = gpd.read_file(tiny["zones"], layer="zones")
    b = run_assessment(tiny["config"], zones=zones)
    pd.testing.assert_frame_equal(a.stock_totals, b.stock_totals)
    pd.testing.assert_frame_equal(a.change, b.change)
    assert list(b.zones["name_en"]) == ["West", "East", "Centre"]
    assert b.emissions is None and a.emissions is not None  # the inventory is per configured zone
    assert b.provenance["inputs"]["zones"]["replaced_config_zones"] is True
    # any id column; names fall back to the id
    c = run_assessment(tiny["config"], zones=zones[["zone_id", "geometry"]].rename(columns={"zone_id": "site"}), zone_id_field="site")
    assert list(c.zones["name_zh"]) == ["west", "east", "centre"]
    assert c.stock_totals["stock_tc"].sum() == pytest.approx(a.stock_totals["stock_tc"].sum())


# ------------------------------------------------------------------------------- bad input


def test_redline_without_crs_is_refused(grid):
    rl = _redlines(UTM50).set_crs(None, allow_override=True)
    with pytest.raises(MissingCRSError) as e:
        wetland_inventory(grid["config"], redlines=rl)
    assert "red lines" in str(e.value)


def test_gcj02_redlines_are_converted(grid):
    rl = _redlines()
    lon, lat = wgs84_to_gcj02(*shapely.get_coordinates(np.asarray(rl.geometry.values)).T)
    gcj = rl.set_geometry(shapely.set_coordinates(np.asarray(rl.geometry.values).copy(), np.column_stack([lon, lat])), crs=4326)
    inv = wetland_inventory(grid["config"], redlines=gcj, coord_system="gcj02", alert_min_loss_ha=0.1)
    assert _flows(inv, "redline", "R1") == _flows(wetland_inventory(grid["config"], redlines=rl), "redline", "R1")
    assert inv.provenance["inputs"]["redlines"]["converted_from"] == "gcj02"
    # read raw as WGS84 they sit ~500 m away, off this 300 m grid: a clear error, no silent zero
    with pytest.raises(DataError, match="outside the study area"):
        wetland_inventory(grid["config"], redlines=gcj)


def test_empty_and_outside_redlines(grid):
    with pytest.raises(DataError, match="no polygons"):
        wetland_inventory(grid["config"], redlines=_redlines().iloc[0:0])
    far = _redlines(UTM50)
    far.loc[1, "geometry"] = shapely.affinity.translate(far.geometry.iloc[1], 5000, 0)
    with pytest.raises(DataError) as e:
        wetland_inventory(grid["config"], redlines=far.to_crs(4326))
    assert "['R2']" in e.value.problem and "outside the study area" in e.value.problem and "GCJ-02" in e.value.fix


def test_wetlands_section_is_validated(grid):
    cfg = grid["config"]
    assert load_config(cfg).wetlands.alert_min_loss_ha == 0.3
    assert validate_config(cfg) == []
    bad = grid["dir"] / "bad.toml"
    bad.write_text(cfg.read_text().replace("alert_min_loss_ha = 0.3", "alert_min_loss_ha = -1"))
    with pytest.raises(DataError, match="alert_min_loss_ha must be a number of hectares >= 0"):
        load_config(bad)
    bad.write_text(cfg.read_text().replace('river_layer = "river"', 'river_layer = "river"\nriver_buffer = 3'))
    with pytest.raises(DataError, match="unknown keys \\['river_buffer'\\]"):
        load_config(bad)
    bad.write_text(cfg.read_text().replace('sites_kinds = ["wetland"]', 'sites_kinds = ["swamp"]').replace('layer = "river"', 'layer = "rivers"'))
    problems = validate_config(bad)
    assert any("no site has a kind in ['swamp']" in p for p in problems)
    assert any("no layer 'rivers'" in p for p in problems)
    # the demo configuration names its sites and the Yangtze
    demo = load_config(ROOT / "configs" / "jiangbei_demo.toml").wetlands
    assert demo.sites.name == "jiangbei_sites_illustrative.gpkg" and demo.river_layer == "yangtze"
    # and refines its patches with MNDWI on the demo bands (index-wet cropland not counted)
    assert demo.water_index.index == "mndwi" and demo.water_index.paddy_as_wetland is False
    assert {y: [f.name for f in fs] for y, fs in demo.water_index.bands.items()} == {
        2020: ["jiangbei_bands_2020.tif"], 2025: ["jiangbei_bands_2025.tif"]}


# ------------------------------------------------------------------------------------- demo


DEMO = ROOT / "configs" / "jiangbei_demo.toml"


def _demo_redlines() -> gpd.GeoDataFrame:
    """Illustrative red lines: the two wetland sites and a 1 km belt along the Yangtze."""
    sites = gpd.read_file(ROOT / "data" / "rasters" / "jiangbei_sites_illustrative.gpkg", layer="sites")
    river = gpd.read_file(ROOT / "data" / "boundaries" / "jiangbei_boundaries.gpkg", layer="yangtze").to_crs(UTM50)
    belt = river.buffer(1000).union_all().difference(river.union_all())
    w = sites[sites["kind"].str.contains("wetland")][["site_id", "name_zh", "name_en", "geometry"]].rename(columns={"site_id": "redline_id"})
    b = gpd.GeoDataFrame({"redline_id": ["yangtze_belt_1km"], "name_en": ["Yangtze 1 km belt"]}, geometry=[belt], crs=UTM50).to_crs(4326)
    return gpd.GeoDataFrame(pd.concat([w, b], ignore_index=True), geometry="geometry", crs=4326)


@pytest.fixture(scope="module")
def demo():
    if not (ROOT / "data" / "rasters" / "jiangbei_landcover_2025.tif").exists():
        pytest.skip("demo rasters missing: run python -m sinks.demo --data-dir data")
    return wetland_inventory(DEMO, redlines=_demo_redlines())


def test_demo_inventory_is_consistent(demo):
    inv = demo
    a = inv.assessment
    for y in inv.years:
        p = inv.patches[y]
        assert len(p.patches) > 100
        study_wet = a.areas[(a.areas["zone_id"] == "study") & (a.areas["year"] == y) & a.areas["lucode"].isin([80, 90, 95])]["area_ha"].sum()
        assert p.total_ha == pytest.approx(study_wet)  # every wetland pixel of the study area is in one patch
        assert p.area_by_type()["river"] > 10_000  # the Yangtze
    lv = inv.sites.set_index(["site_id", "year"]).loc[("lvshuiwan_wetland", 2025)]
    assert lv["wetland_ha"] > 1000 and lv["vegetated_wetland_ha"] > lv["water_ha"]
    assert lv["stock_tc"] > 0 and lv["protected_share"] == pytest.approx(1.0)
    assert set(inv.sites["site_id"]) == {"lvshuiwan_wetland", "baguazhou_ring"}
    # inside + outside = study for every period, flow and class
    c = inv.change.pivot_table(index=["period", "flow", "other_class"], columns="scope", values="area_ha", aggfunc="sum", fill_value=0.0)
    assert np.allclose(c["inside_redlines"] + c["outside_redlines"], c["study"])
    assert (c["outside_redlines"] >= -1e-9).all()
    # per-red-line losses are at least the union's (overlaps counted once in the union)
    lost = inv.change[inv.change["flow"] == "lost"].groupby("scope")["area_ha"].sum()
    assert lost["redline"] >= lost["inside_redlines"] - 1e-9 and lost["study"] > lost["inside_redlines"] > 0
    # alerts: each outline set adds up to the alert's loss
    assert len(inv.alerts) >= 1
    for _, al in inv.alerts.iterrows():
        assert al["lost_ha"] >= inv.alert_min_loss_ha
        polys = inv.alert_polygons[(inv.alert_polygons["redline_id"] == al["redline_id"]) & (inv.alert_polygons["period"] == al["period"])]
        assert polys["area_ha"].sum() == pytest.approx(al["lost_ha"])
    assert inv.provenance["thresholds"]["alert_min_loss_ha"]["source"].startswith("policy choice")
    # MNDWI on the demo bands adds no water (no grass / shrub / bare pixel reads as water) and the
    # index-wet cropland (about 500 ha of flooded rice a year) stays out: the patch totals above
    # still equal the land-cover wetland of the change tables
    assert inv.provenance["water_index"]["index"] == "mndwi"
    assert inv.index_added_ha() == {2020: 0.0, 2025: 0.0}
    assert all(inv.patches[y].n_dates == 1 for y in inv.years)


# -------------------------------------------------------------------------------------- CLI


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sinks", *map(str, args)], cwd=ROOT, capture_output=True, text=True)


def test_cli_on_the_demo_with_workspace_redlines(demo, tmp_path):
    from geodata.store import Workspace

    ws = Workspace(tmp_path / "ws.gpkg")
    ws.save("wetland_redlines", _demo_redlines(), author="test", reason="demo red lines", id_field="redline_id")
    out = tmp_path / "out"
    r = _cli("wetlands", DEMO, "--out", out, "--workspace", tmp_path / "ws.gpkg")
    assert r.returncode == 0, r.stderr
    assert "[100%] done" in r.stderr
    names = {p.name for p in out.iterdir()}
    assert {"patches.gpkg", "sites.csv", "wetland_change.csv", "alerts.csv", "alerts.gpkg", "wetland_inventory.json"} <= names
    assert f"2020: {len(demo.patches[2020].patches):,} patches" in r.stdout
    alerts = pd.read_csv(out / "alerts.csv")
    assert sorted(alerts["redline_id"]) == sorted(demo.alerts["redline_id"])
    assert alerts["lost_ha"].sum() == pytest.approx(demo.alerts["lost_ha"].sum(), rel=1e-6)
    sites = pd.read_csv(out / "sites.csv")
    assert sites["stock_tc"].sum() == pytest.approx(demo.sites["stock_tc"].sum(), rel=1e-9)
    p = gpd.read_file(out / "patches.gpkg", layer="patches_2025")
    assert len(p) == len(demo.patches[2025].patches) and p.crs.to_epsg() == 4326
    lp = gpd.read_file(out / "alerts.gpkg", layer="alert_losses")
    assert lp["area_ha"].sum() == pytest.approx(demo.alert_polygons["area_ha"].sum(), rel=1e-6)


def test_cli_errors_leave_nothing_written(grid, tmp_path):
    out = tmp_path / "inv"
    rl = tmp_path / "rl.geojson"
    _redlines().to_file(rl, driver="GeoJSON")
    r = _cli("wetlands", grid["config"], "--out", out, "--redlines", rl, "--alert-ha", "0.1")
    assert r.returncode == 0, r.stderr
    assert "2 alert(s) at >= 0.1 ha" in r.stdout and "R1 2020-2025: 0.36 ha lost (80.0% of its wetland), mostly to built_up" in r.stdout
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    far = tmp_path / "far.geojson"
    g = _redlines(UTM50)
    g["geometry"] = g.translate(5000, 0)
    g.to_crs(4326).to_file(far, driver="GeoJSON")
    r = _cli("wetlands", grid["config"], "--out", out, "--redlines", far)
    assert r.returncode == 1 and "outside the study area" in r.stderr and "fix:" in r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # the earlier inventory is intact
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".inv.")]
    fresh = tmp_path / "fresh"
    r = _cli("wetlands", grid["config"], "--out", fresh, "--workspace", tmp_path / "missing.gpkg")
    assert r.returncode == 1 and "workspace file does not exist" in r.stderr
    assert not fresh.exists() and not (tmp_path / "missing.gpkg").exists()


# ------------------------------------------------------------------------- parameter and CLI checks


@pytest.mark.parametrize("name", ["min_patch_ha", "alert_min_loss_ha"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1.0, "lots"])
def test_hectare_parameters_must_be_finite_and_not_negative(grid, name, value):
    with pytest.raises(DataError) as e:
        wetland_inventory(grid["config"], **{name: value})
    assert e.value.source == name and "hectares" in e.value.problem and e.value.fix


def _main(*args) -> int:
    from sinks.cli import main

    return main([str(a) for a in args])


def test_cli_min_patch_inf_is_a_clear_error_not_a_traceback(grid, tmp_path, capsys):
    out = tmp_path / "out"
    assert _main("wetlands", grid["config"], "--out", out, "--min-patch-ha", "inf") == 1
    err = capsys.readouterr().err
    assert "error: min_patch_ha" in err and "finite number of hectares >= 0, got inf" in err and "fix:" in err
    assert "Traceback" not in err and not out.exists()


@pytest.fixture
def no_inventory(monkeypatch):
    """wetland_inventory must not be called: the CLI refuses its arguments first."""
    import sinks.wetland_inventory as wi

    def refuse(*a, **k):
        raise AssertionError("the inventory was computed before the arguments were checked")

    monkeypatch.setattr(wi, "wetland_inventory", refuse)


@pytest.mark.parametrize("below", ["sub", "sub/deeper"])
def test_cli_out_below_a_file_fails_before_computing(grid, tmp_path, capsys, no_inventory, below):
    a_file = tmp_path / "report.txt"
    a_file.write_text("not a folder")
    out = a_file / below
    assert _main("wetlands", grid["config"], "--out", out) == 1
    err = capsys.readouterr().err
    assert f"error: {out}" in err and "cannot be created" in err and "is a file, not a folder" in err and "fix:" in err
    assert "%]" not in err  # no progress line: nothing was computed
    assert a_file.read_text() == "not a folder"


def test_cli_out_that_is_a_file_or_a_foreign_folder_fails_before_computing(grid, tmp_path, capsys, no_inventory):
    a_file = tmp_path / "report.txt"
    a_file.write_text("x")
    assert _main("wetlands", grid["config"], "--out", a_file) == 1
    assert "is a file" in capsys.readouterr().err
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "letter.odt").write_text("x")
    assert _main("wetlands", grid["config"], "--out", docs) == 1
    assert "not an earlier output of this command" in capsys.readouterr().err and (docs / "letter.odt").exists()


def test_cli_refuses_a_plain_geopackage_as_workspace_and_leaves_it_unchanged(grid, tmp_path, capsys):
    from geodata.files import sha256_file

    plain = tmp_path / "plain.gpkg"
    _redlines().to_file(plain, layer="wetland_redlines", driver="GPKG", engine="pyogrio")
    before = sha256_file(plain)
    out = tmp_path / "out"
    assert _main("wetlands", grid["config"], "--out", out, "--workspace", plain) == 1
    err = capsys.readouterr().err
    assert f"error: {plain}" in err and "is not a workspace (no store tables)" in err
    assert "--redlines" in err and "fix:" in err
    assert sha256_file(plain) == before and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("plain")) == ["plain.gpkg"]


# ------------------------------------------------------------------------------- water index
#
# A 5 x 5 grid of 30 m pixels (0.09 ha each), the same land cover in 2020 and 2025:
#
#     30 30 30 40 40      30 grass, 40 cropland, 50 built-up, 80 water (land cover)
#     40 40 40 40 40
#     40 40 40 30 40
#     40 40 40 40 40
#     80 50 40 40 40
#
# Two band files (dates) for 2025 only. MNDWI is water (+0.67) on
#   date 1: grass (0,0) (0,1) (0,2) (2,3), crop (2,0), built-up (4,1)
#   date 2: grass (0,0) (0,1) (0,2),       crop (2,0), built-up (4,1)
# elsewhere land (-0.52). Frequency: the three top grass pixels 2/2, grass (2,3) 1/2, crop 2/2.
# min_water_frequency 0.5: 4 grass px become water = 0.36 ha (a pond of 3 px and one of 1 px);
# 1.0: 3 px = 0.27 ha. The crop pixel becomes paddy only with paddy_as_wetland = true; the
# built-up pixel never. The land-cover water (4,0) is a 0.09 ha pond in every case.

LC_WI = np.array([
    [30, 30, 30, 40, 40],
    [40, 40, 40, 40, 40],
    [40, 40, 40, 30, 40],
    [40, 40, 40, 40, 40],
    [80, 50, 40, 40, 40],
], dtype="uint8")
BAND_NAMES = ["green", "red", "nir", "swir1"]


def _band_stack(wet_cells) -> np.ndarray:
    """green, red, nir, swir1: water (MNDWI and NDWI 0.67) on ``wet_cells``, land elsewhere."""
    wet = np.zeros(LC_WI.shape, bool)
    for rc in wet_cells:
        wet[rc] = True
    g = np.where(wet, 0.10, 0.08)
    return np.stack([g, np.full(wet.shape, 0.06), np.where(wet, 0.02, 0.30), np.where(wet, 0.02, 0.25)]).astype("float32")


DATE1 = [(0, 0), (0, 1), (0, 2), (2, 3), (2, 0), (4, 1)]
DATE2 = [(0, 0), (0, 1), (0, 2), (2, 0), (4, 1)]


def _wi_config(d: Path, water_index: str = "", name: str = "run.toml") -> Path:
    cfg = d / name
    cfg.write_text(
        '[landcover.years]\n2020 = "lc_2020.tif"\n2025 = "lc_2025.tif"\n'
        '[coefficients]\npath = "coef.csv"\n'
        '[wetlands]\nmin_patch_ha = 0.0\n' + water_index + '[engine]\nblock_size = 16\n', encoding="utf-8")
    return cfg


WI_BANDS = '[wetlands.water_index.bands]\n2025 = ["b/d1.tif", "b/d2.tif"]\n'


@pytest.fixture
def wi(tmp_path: Path) -> dict:
    write_raster(tmp_path / "lc_2020.tif", LC_WI)
    write_raster(tmp_path / "lc_2025.tif", LC_WI)
    (tmp_path / "b").mkdir()
    write_raster(tmp_path / "b" / "d1.tif", _band_stack(DATE1), nodata=None, descriptions=BAND_NAMES)
    write_raster(tmp_path / "b" / "d2.tif", _band_stack(DATE2), nodata=None, descriptions=BAND_NAMES)
    text = "lucode,lulc_name,quantity,value,unit,uncertainty_pct,source,verified,note\n"
    for code, name, soil in ((30, "grass", 40), (40, "crop", 30), (50, "built", 20), (80, "water", 0)):
        for q in ("c_above", "c_below", "c_soil", "c_dead", "gain_tc_per_ha_yr"):
            unit = "t C/ha/yr" if q.startswith("gain") else "t C/ha"
            text += f"{code},{name},{q},{soil if q == 'c_soil' else 0},{unit},50,test source,false,\n"
    (tmp_path / "coef.csv").write_text(text, encoding="utf-8")
    return {"dir": tmp_path, "config": lambda body="", name="run.toml": _wi_config(tmp_path, body, name)}


def _by_cover(p) -> dict:
    df = p.to_frame()
    return {c: round(float(g["area_ha"].sum()), 9) for c, g in df.groupby("cover")}


@pytest.mark.parametrize("freq, added, n_added", [(0.5, 0.36, 4), (1.0, 0.27, 3)])
def test_water_index_from_the_config_by_hand(wi, freq, added, n_added):
    cfg = wi["config"](f"[wetlands.water_index]\nindex = \"mndwi\"\nmin_water_frequency = {freq}\n" + WI_BANDS)
    c = load_config(cfg).wetlands.water_index
    assert c.index == "mndwi" and c.threshold is None and c.min_water_frequency == freq and c.paddy_as_wetland is False
    assert c.bands == {2025: ((wi["dir"] / "b" / "d1.tif").resolve(), (wi["dir"] / "b" / "d2.tif").resolve())}
    assert validate_config(cfg) == []
    inv = wetland_inventory(cfg)
    assert inv.index_added_ha() == pytest.approx({2020: 0.0, 2025: added})
    p20, p25 = inv.patches[2020], inv.patches[2025]
    # 2020 has no band files: the land-cover pond only
    assert p20.n_dates == 0 and p20.total_ha == pytest.approx(0.09) and p20.index is None
    # 2025: the pond + the index water, all of it water (the crop stays out, the built-up never joins)
    assert p25.n_dates == 2 and p25.index == "mndwi" and p25.index_threshold == 0.0
    assert p25.total_ha == pytest.approx(0.09 + added) and _by_cover(p25) == pytest.approx({"water": 0.09 + added})
    assert sum(p.n_px for p in p25.patches) == 1 + n_added
    assert p25.area_by_type()["paddy"] == 0.0
    # the change tables stay on the land cover: 0.09 ha of wetland at both dates, no change
    st = inv.change_summary[inv.change_summary["scope"] == "study"].iloc[0]
    assert (st.wetland_t0_ha, st.wetland_t1_ha, st.lost_ha, st.gained_ha) == pytest.approx((0.09, 0.09, 0.0, 0.0))
    prov = inv.provenance["water_index"]
    assert prov["index"] == "mndwi" and prov["threshold"]["value"] == 0.0 and prov["threshold"]["verified"] is False
    assert prov["min_water_frequency"]["value"] == freq and prov["min_water_frequency"]["verified"] is False
    assert prov["files"] == {"2025": [str(f) for f in c.bands[2025]]} and prov["n_dates"] == {"2025": 2}
    assert prov["years_without_bands"] == [2020] and prov["index_added_ha"]["2025"] == pytest.approx(added)
    assert prov["index_paddy_codes"] == [] and "patch layer" in prov["scope"] and "change" in prov["scope"]


def test_water_index_paddy_override_and_off(wi):
    cfg = wi["config"]("[wetlands.water_index]\npaddy_as_wetland = true\n" + WI_BANDS)
    inv = wetland_inventory(cfg)
    # the crop pixel wet on 2/2 dates joins as paddy: 0.36 water + 0.09 paddy added
    assert inv.index_added_ha()[2025] == pytest.approx(0.45)
    assert _by_cover(inv.patches[2025]) == pytest.approx({"water": 0.45, "paddy": 0.09})
    assert inv.provenance["water_index"]["index_paddy_codes"] == [40]
    # "none" turns it off; NDWI (green, NIR) reads the same bands the same way here
    off = wetland_inventory(cfg, water_index="none")
    assert off.index_added_ha() == {2020: 0.0, 2025: 0.0} and off.provenance["water_index"] is None
    assert off.patches[2025].total_ha == pytest.approx(0.09)
    nd = wetland_inventory(cfg, water_index="NDWI")
    assert nd.patches[2025].index == "ndwi" and nd.index_added_ha()[2025] == pytest.approx(0.45)
    assert nd.provenance["water_index"]["overridden_by_caller"] is True
    with pytest.raises(DataError, match="must be one of"):
        wetland_inventory(cfg, water_index="ndvi")
    # an index asked for without band files in the configuration
    plain = wi["config"]("", name="plain.toml")
    assert load_config(plain).wetlands.water_index is None
    with pytest.raises(DataError, match="names no band files"):
        wetland_inventory(plain, water_index="mndwi")
    assert wetland_inventory(plain).provenance["water_index"] is None


def test_cli_water_index_flag(wi, tmp_path, capsys):
    import json

    cfg = wi["config"]("[wetlands.water_index]\nmin_water_frequency = 0.5\n" + WI_BANDS)
    assert _main("wetlands", cfg, "--out", tmp_path / "on") == 0
    out = capsys.readouterr().out
    assert "refined with MNDWI > 0 on >= 0.5 of the dates" in out and "index-wet cropland not counted" in out
    assert "2025: 3 patches, 0.4 ha (pond 0.4); index_added_ha 0.36 (2 date(s))" in out  # 0.45 ha at one decimal
    assert "2020: 1 patches, 0.1 ha (pond 0.1); no band files for the index" in out
    doc = json.loads((tmp_path / "on" / "wetland_inventory.json").read_text(encoding="utf-8"))
    assert doc["patches"]["2025"]["index_added_ha"] == pytest.approx(0.36) and doc["patches"]["2020"]["index_added_ha"] == 0
    assert doc["provenance"]["water_index"]["index"] == "mndwi"
    assert _main("wetlands", cfg, "--out", tmp_path / "off", "--water-index", "none") == 0
    out = capsys.readouterr().out
    assert "no water index" in out and "index_added_ha" not in out and "2025: 1 patches, 0.1 ha" in out
    assert _main("wetlands", cfg, "--out", tmp_path / "nd", "--water-index", "ndwi") == 0
    assert "refined with NDWI" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse refuses other names
        _main("wetlands", cfg, "--out", tmp_path / "x", "--water-index", "ndvi")
    capsys.readouterr()


@pytest.mark.parametrize("body, match", [
    ('[wetlands.water_index.bands]\n2019 = ["b/d1.tif"]\n', r"bands year 2019 has no land-cover map \(land-cover years: \[2020, 2025\]\)"),
    ('[wetlands.water_index]\nmin_water_frequency = 0\n' + WI_BANDS, r"min_water_frequency must lie in \(0, 1\]"),
    ('[wetlands.water_index]\nmin_water_frequency = 1.5\n' + WI_BANDS, r"min_water_frequency must lie in \(0, 1\]"),
    ('[wetlands.water_index]\nindex = "ndvi"\n' + WI_BANDS, r"index must be one of \['mndwi', 'ndwi'\]"),
    ('[wetlands.water_index]\nthreshold = 2\n' + WI_BANDS, r"threshold must be a number within \[-1, 1\]"),
    ('[wetlands.water_index]\npaddy_as_wetland = "no"\n' + WI_BANDS, "paddy_as_wetland must be true or false"),
    ('[wetlands.water_index]\nindex = "mndwi"\n', "names no band files"),
    ('[wetlands.water_index]\nfrequency = 0.5\n' + WI_BANDS, r"unknown keys \['frequency'\]"),
    ('[wetlands.water_index.bands]\n2025 = []\n', "2025 must be a non-empty list of file paths"),
    ('[wetlands.water_index.bands]\nlast = ["b/d1.tif"]\n', "key 'last' is not a year"),
])
def test_water_index_config_values_are_checked(wi, body, match):
    cfg = wi["config"](body)
    with pytest.raises(DataError, match=match) as e:
        load_config(cfg)
    assert e.value.source == str(cfg) and "[wetlands.water_index]" in e.value.problem and e.value.fix
    assert any("[wetlands.water_index]" in p for p in validate_config(cfg))


def test_water_index_band_files_are_checked(wi):
    from affine import Affine

    from geodata.errors import GridError
    from tests.conftest import ORIGIN_X, ORIGIN_Y, PX

    d = wi["dir"]
    write_raster(d / "b" / "shifted.tif", _band_stack(DATE1), nodata=None, descriptions=BAND_NAMES,
                 transform=Affine(PX, 0, ORIGIN_X + 15, 0, -PX, ORIGIN_Y))
    cfg = wi["config"]('[wetlands.water_index.bands]\n2025 = ["b/d1.tif", "b/shifted.tif"]\n')
    with pytest.raises(GridError) as e:
        wetland_inventory(cfg)
    assert "shifted.tif" in e.value.source and "band file for 2025 in [wetlands.water_index]" in e.value.problem
    assert str(cfg) in e.value.problem and "lc_2025.tif" in e.value.fix
    assert [p for p in validate_config(cfg) if "shifted.tif" in p and "for 2025" in p]
    # a missing file, and bands without SWIR1 for MNDWI (NDWI works on them)
    cfg = wi["config"]('[wetlands.water_index.bands]\n2025 = ["b/missing.tif"]\n', name="missing.toml")
    with pytest.raises(DataError, match="does not exist.*band file for 2025") as e:
        wetland_inventory(cfg)
    assert str(cfg) in str(e.value)
    write_raster(d / "b" / "gnir.tif", _band_stack(DATE1)[[0, 2]], nodata=None, descriptions=["green", "nir"])
    cfg = wi["config"]('[wetlands.water_index.bands]\n2025 = ["b/gnir.tif"]\n', name="gnir.toml")
    with pytest.raises(DataError, match="swir1.*band file for 2025"):
        wetland_inventory(cfg)
    # one date: frequency 0 or 1, the four grass pixels of date 1
    assert wetland_inventory(cfg, water_index="ndwi").index_added_ha()[2025] == pytest.approx(0.36)
