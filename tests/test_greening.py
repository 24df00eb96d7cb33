"""Greening indicators (sinks.greening): hand-worked 4 x 4 grids, targets, config, CLI, demo vs exactextract."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.errors import DataError, SchemaError
from sinks.cli import main as cli_main
from sinks.config import load_config
from sinks.greening.assess import build_layers, greening_assessment
from sinks.greening.layers import fractional_cover, grow_builtup_area, served_masks
from sinks.greening.settings import load_class_roles
from sinks.greening.targets import check_targets, progress_table, target_indicators
from sinks.units import C_TO_CO2
from tests.conftest import ORIGIN_X, ORIGIN_Y, PX, ROOT, UTM50, box_px, write_raster

PX_HA = 0.09  # a 30 m pixel

# NDVI per pixel of the tiny grid (2025 land cover in tests/conftest.py LC_T1):
#   [10, 10, 10, 40]      0.8  0.8  0.8  0.8
#   [10, 10, 50, 50]      0.8  0.8  0.1  0.1   <- grey built-up (greening candidates below 0.25)
#   [80, 80, 40, 50]     -.25 -.25  0.8  0.45
#   [ 0, 80, 90, 50]      nan -.25  0.8  0.45
NDVI = np.array([[0.8, 0.8, 0.8, 0.8], [0.8, 0.8, 0.1, 0.1], [-0.25, -0.25, 0.8, 0.45], [np.nan, -0.25, 0.8, 0.45]])


def _bands(ndvi: np.ndarray) -> np.ndarray:
    """green, red, nir, swir1 with NIR + red = 0.2, so NDVI = (nir - red) / 0.2."""
    red = np.where(np.isnan(ndvi), np.nan, 0.1 * (1 - np.nan_to_num(ndvi)))
    nir = np.where(np.isnan(ndvi), np.nan, 0.2 - red)
    return np.stack([np.full(ndvi.shape, 0.08), red, nir, np.full(ndvi.shape, 0.2)]).astype("float32")


@pytest.fixture
def green_cfg(tiny) -> Path:
    d = tiny["dir"]
    write_raster(d / "bands_2025.tif", _bands(NDVI), nodata=None, descriptions=["green", "red", "nir", "swir1"])
    write_raster(d / "bands_2020.tif", _bands(NDVI), nodata=None, descriptions=["green", "red", "nir", "swir1"])
    gpd.GeoDataFrame({"park_id": ["P1"]}, geometry=[box_px(3, 0, 4, 1)], crs=UTM50).to_crs("EPSG:4326").to_file(d / "parks.gpkg", layer="parks")
    (d / "targets.csv").write_text(
        "unit_id,year,indicator,target_pct,source,verified\n"
        "east,2025,forest_coverage_pct,20,test,no\n"
        "west,2025,forest_coverage_pct,50,test,yes\n"
        "*,2025,green_coverage_fvc_pct,30,test,no\n", encoding="utf-8")
    text = tiny["config"].read_text(encoding="utf-8")
    text += ('[greening]\nparks_path = "parks.gpkg"\nparks_id_field = "park_id"\npark_radii_m = [30, 60]\n'
             'builtup_window_m = 30\nfvc_ndvi_endpoints = [0.0, 0.8]\ntargets_path = "targets.csv"\nmin_candidate_ha = 0.0\n'
             '[greening.bands]\n2020 = ["bands_2020.tif"]\n2025 = ["bands_2025.tif"]\n')
    tiny["config"].write_text(text, encoding="utf-8")
    return tiny["config"]


def _row(res, unit: str, year: int = 2025) -> pd.Series:
    ind = res.indicators
    return ind[(ind["unit_id"] == unit) & (ind["year"] == year)].iloc[0]


def test_indicators_by_hand(green_cfg):
    res = greening_assessment(green_cfg, units="zones")
    west, east = _row(res, "west"), _row(res, "east")
    # west 2025 (columns 0-1): 4 tree, 3 water, 1 nodata pixel
    assert west["land_ha"] == pytest.approx(4 * PX_HA)
    assert west["water_ha"] == pytest.approx(3 * PX_HA)
    assert west["nodata_ha"] == pytest.approx(1 * PX_HA)
    assert west["forest_coverage_pct"] == pytest.approx(100.0)  # 4 / 4
    assert np.isnan(west["green_coverage_pct"]) and "no built-up area" in west["notes"]
    assert np.isnan(west["park_service_30m_pct"]) and "no residential land" in west["notes"]
    # east 2025 (columns 2-3): tree 1, crop 2, built-up 4, wetland 1 = 8 land pixels
    assert east["land_ha"] == pytest.approx(8 * PX_HA)
    assert east["forest_coverage_pct"] == pytest.approx(100 * 1 / 8)
    # built-up area with a 1-pixel window = the 4 built-up pixels; none is green by class
    assert east["builtup_area_ha"] == pytest.approx(4 * PX_HA)
    assert east["green_coverage_pct"] == pytest.approx(0.0)
    # by fractional cover with soil 0 and vegetation 0.8: 0.1 -> 0.125 (x2), 0.45 -> 0.5625 (x2)
    # = 1.375 green pixels of 4 -> 34.375 %
    assert east["green_coverage_fvc_pct"] == pytest.approx(100 * 1.375 / 4, rel=1e-5)
    # NDVI >= 0.2 on 6 of the 8 land pixels (the two 0.1 pixels are below)
    assert east["vegetation_share_pct"] == pytest.approx(75.0)
    assert east["ndvi_<0.2_ha"] == pytest.approx(2 * PX_HA)
    assert east["ndvi_0.4-0.6_ha"] == pytest.approx(2 * PX_HA)
    assert east["ndvi_>=0.6_ha"] == pytest.approx(4 * PX_HA)
    # park on pixel (0, 3); residential = the 4 built-up pixels (1,2) (1,3) (2,3) (3,3) at
    # 42.4, 30, 60, 90 m from the park pixel: 30 m serves 1, 60 m serves 3
    assert east["residential_ha"] == pytest.approx(4 * PX_HA)
    assert east["park_service_30m_pct"] == pytest.approx(25.0)
    assert east["park_service_60m_pct"] == pytest.approx(75.0)
    # candidates: grey built-up (NDVI 0.1 < 0.25) (1,2) (1,3) -> greening; crop on a field edge
    # (0,3) and (2,2) -> shelterbelt, counted as the planted 10 m strip of the 30 m pixel
    # (shelterbelt_width_m default 10: 0.09 ha x 1/3 each); no bare land
    belt_ha = 2 * PX_HA / 3
    assert east["candidate_greening_ha"] == pytest.approx(2 * PX_HA)
    assert east["candidate_shelterbelt_ha"] == pytest.approx(belt_ha)
    assert east["candidate_afforestation_ha"] == pytest.approx(0.0)
    # tree gain 1.0 t C/ha/yr in the test table: (0.18 + 0.06) ha x 1.0 x 44/12
    assert east["candidate_removals_tco2e_yr"] == pytest.approx((2 * PX_HA + belt_ha) * 1.0 * C_TO_CO2)
    # stock at maturity: crop 33 -> tree 105 on the belts, built-up 21 -> tree 105 on 2 px
    assert east["candidate_stock_gain_tc"] == pytest.approx(belt_ha * 72 + 2 * PX_HA * 84)
    # forest potential: the belts only (greening of built-up land is not forest land):
    # (0.09 + 0.06) / 0.72
    assert east["forest_coverage_potential_pct"] == pytest.approx(100 * (PX_HA + belt_ha) / (8 * PX_HA))
    # the centre unit overlaps both halves: reported, and counted in each
    assert len(res.overlaps) == 2 and "overlap" in " ".join(res.notes)


def test_exact_fractions_for_part_pixels(green_cfg):
    # a unit over the eastern half of pixel (0, 0) (tree) and the whole of pixel (0, 1) (tree)
    half = shapely.box(ORIGIN_X + 15, ORIGIN_Y - 30, ORIGIN_X + 60, ORIGIN_Y)
    units = gpd.GeoDataFrame({"unit_id": ["u"]}, geometry=[half], crs=UTM50)
    res = greening_assessment(green_cfg, units=units)
    r = _row(res, "u")
    assert r["unit_area_ha"] == pytest.approx(1.5 * PX_HA)
    assert r["forest_ha"] == pytest.approx(1.5 * PX_HA)
    assert res.unit_set == "upload"


def test_unit_outside_the_map_is_undefined_not_zero(green_cfg):
    far = shapely.box(ORIGIN_X + 10_000, ORIGIN_Y - 1000, ORIGIN_X + 11_000, ORIGIN_Y)
    units = gpd.GeoDataFrame({"unit_id": ["far", "in"]}, geometry=[far, box_px(0, 0, 2, 2)], crs=UTM50)
    res = greening_assessment(green_cfg, units=units)
    r = _row(res, "far")
    assert r["unit_area_ha"] == 0 and np.isnan(r["forest_coverage_pct"]) and "outside the land-cover map" in r["notes"]
    assert any("outside the land-cover map" in n for n in res.notes)
    assert res.outside_ha == pytest.approx(100.0, rel=1e-3)  # the 1 km x 1 km unit lies outside the zones


def test_targets_progress_by_hand(green_cfg):
    res = greening_assessment(green_cfg, units="zones")
    p = res.progress.set_index(["unit_id", "indicator"])
    e = p.loc[("east", "forest_coverage_pct")]
    assert e["gap_pts"] == pytest.approx(20 - 12.5) and e["status"] == "below" and not e["target_is_default"]
    assert p.loc[("west", "forest_coverage_pct"), "status"] == "met"
    # the '*' green target applies to every unit; west has no built-up area: undefined, not met
    assert p.loc[("west", "green_coverage_fvc_pct"), "status"] == "undefined"
    assert p.loc[("east", "green_coverage_fvc_pct"), "gap_pts"] == pytest.approx(30 - 34.375, rel=1e-5)
    assert bool(p.loc[("east", "green_coverage_fvc_pct"), "target_is_default"])


def test_targets_rows_are_accepted_or_rejected_with_reasons():
    names = target_indicators((300, 500))
    df = pd.DataFrame({"unit_id": ["a", "a", "b", "c", "d", ""], "year": [2025, 2025, "x", 2030, 2030, 2030],
                       "indicator": ["forest_coverage_pct", "forest_coverage_pct", "forest_coverage_pct", "foo",
                                     "park_service_500m_pct", "forest_coverage_pct"],
                       "target_pct": [30, 31, 30, 30, 150, 30]})
    acc, rej = check_targets(df, name="t.csv", indicators=names)
    assert list(acc["unit_id"]) == ["a"]
    reasons = dict(zip(rej["row"], rej["reason"]))
    assert "repeats" in reasons[3] and "year" in reasons[4] and "indicator" in reasons[5]
    assert "between 0 and 100" in reasons[6] and "no unit_id" in reasons[7]
    with pytest.raises(SchemaError, match="target_pct"):
        check_targets(df.drop(columns="target_pct"), name="t.csv", indicators=names)


def test_progress_needed_rate_and_rank():
    ind = pd.DataFrame({"unit_id": ["a", "a", "b", "b"], "year": [2020, 2025, 2020, 2025],
                        "forest_coverage_pct": [10.0, 12.0, 20.0, 19.0]})
    tgt = pd.DataFrame({"unit_id": ["*"], "year": [2030], "indicator": ["forest_coverage_pct"], "target_pct": [22.0],
                        "source": ["t"], "verified": [False], "note": [""]})
    p = progress_table(ind, tgt).set_index("unit_id")
    # a: 22 - 12 = 10 points over 2025..2030 -> 2 points a year; b: 3 points -> 0.6
    assert p.loc["a", "gap_pts"] == pytest.approx(10) and p.loc["a", "needed_pts_per_yr"] == pytest.approx(2.0)
    assert p.loc["b", "needed_pts_per_yr"] == pytest.approx(0.6)
    assert p.loc["a", "change_pts"] == pytest.approx(2.0) and p.loc["b", "change_pts"] == pytest.approx(-1.0)
    assert (p.loc["a", "rank"], p.loc["b", "rank"]) == (1, 2)


def test_grow_builtup_area_by_hand():
    built = np.zeros((5, 5), bool)
    built[1:4, 1:4] = True
    built[2, 2] = False  # a courtyard park inside the block
    land = np.ones((5, 5), bool)
    area = grow_builtup_area(built, land, window_px=3, min_share=0.5)
    # the courtyard has 8 built-up neighbours of 9 -> inside; corner (0, 0) sees 1 of 4 land
    # pixels in its clipped window (zeros outside) -> 1/4 < 0.5 -> outside; (0, 2) sees 3 of 6
    # (row 1, columns 1-3) -> exactly 0.5 -> inside (the threshold is inclusive)
    assert area[2, 2] and not area[0, 0] and area[0, 2]
    # the block's corners see 3 built-up pixels of 9 (their own, two edge neighbours; the
    # courtyard is not built-up) -> outside: the window trims the edges of small blocks and leaves
    # isolated built-up pixels (farmhouses) out of the built-up area
    assert area[1:4, 1:4].tolist() == [[False, True, False], [True, True, True], [False, True, False]]


def test_served_masks_distance_by_hand(tmp_path):
    from affine import Affine
    from geodata.rasters import read_info
    from sinks.greening.layers import pixel_edges_m

    info = read_info(write_raster(tmp_path / "g.tif", np.ones((4, 4), "uint8")))
    s = served_masks([box_px(0, 0, 1, 1)], info, (30.0, 45.0))
    assert s[30.0].sum() == 3  # the park pixel and its two edge neighbours
    assert s[45.0].sum() == 4  # plus the diagonal at 42.4 m
    # a park just beyond the east edge still serves the edge pixel (30 m) and its diagonal (42.4 m)
    s = served_masks([box_px(4, 0, 5, 1)], info, (30.0, 45.0))
    assert np.argwhere(s[30.0]).tolist() == [[0, 3]]
    assert np.argwhere(s[45.0]).tolist() == [[0, 3], [1, 3]]
    # a 5 m park that covers no pixel centre is not lost: it burns the pixel it lies in
    tiny_park = shapely.box(ORIGIN_X + 2 * PX + 1, ORIGIN_Y - 3 * PX + 1, ORIGIN_X + 2 * PX + 6, ORIGIN_Y - 3 * PX + 6)
    assert np.argwhere(served_masks([tiny_park], info, (1.0,))[1.0]).tolist() == [[2, 2]]
    # lon/lat grid at 32 N: a 0.0003 degree pixel is ~33.3 m tall and ~28.3 m wide
    # (111.3 km per degree of longitude x cos 32 = 94.4 km)
    geo = read_info(write_raster(tmp_path / "geo.tif", np.ones((4, 4), "uint8"), crs="EPSG:4326",
                                 transform=Affine(0.0003, 0, 118.6, 0, -0.0003, 32.0006)))
    dy, dx = pixel_edges_m(geo)
    assert dy == pytest.approx(33.27, rel=2e-3) and dx == pytest.approx(111_320 * np.cos(np.radians(32.0)) * 0.0003, rel=3e-3)


def test_fractional_cover_percentiles_and_bad_endpoints():
    ndvi = np.linspace(0, 1, 101).astype("float32").reshape(1, -1)
    f, (lo, hi) = fractional_cover(ndvi, np.ones_like(ndvi, bool), None)
    assert (lo, hi) == pytest.approx((0.05, 0.95))
    assert f[0, 50] == pytest.approx((0.5 - 0.05) / 0.9)
    assert f.min() == 0 and f.max() == 1
    with pytest.raises(DataError, match="vegetation must be the larger"):
        fractional_cover(ndvi, np.ones_like(ndvi, bool), (0.8, 0.1))


def test_class_roles_table_is_cited_and_checked(tmp_path):
    roles = load_class_roles()
    assert (roles.table["citation"].str.len() > 10).all()
    assert roles.forest_codes(include_shrub=False) == (10, 95)
    assert 20 in roles.forest_codes(include_shrub=True)
    assert 40 not in roles.green_codes(include_cropland=False) and 40 in roles.green_codes(include_cropland=True)
    bad = (ROOT / "data" / "greening" / "class_roles.csv").read_text(encoding="utf-8").replace("\n10,Tree cover,林地（乔木）,yes,yes", "\n10,Tree cover,林地（乔木）,maybe,yes")
    (tmp_path / "r.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(SchemaError, match="green_cover"):
        load_class_roles(tmp_path / "r.csv")


def test_missing_class_role_is_an_error(green_cfg, tmp_path):
    roles = (ROOT / "data" / "greening" / "class_roles.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "roles.csv").write_text("\n".join(r for r in roles if not r.startswith("90,")) + "\n", encoding="utf-8")
    text = green_cfg.read_text(encoding="utf-8").replace("[greening]\n", f'[greening]\nroles_path = "{tmp_path / "roles.csv"}"\n')
    green_cfg.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=r"code\(s\) \[90\]"):
        build_layers(load_config(green_cfg))


@pytest.mark.parametrize("line, match", [
    ("colour = 1", "unknown keys"),
    ("ndvi_breaks = [0.6, 0.2]", "increasing"),
    ("builtup_min_share = 2", "builtup_min_share"),
    ('units_layer = "x"', "units_layer is set without units_path"),
    ("include_shrub_in_forest = 1", "true or false"),
])
def test_greening_section_errors(tiny, line, match):
    tiny["config"].write_text(tiny["config"].read_text(encoding="utf-8") + f"[greening]\n{line}\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=match):
        load_config(tiny["config"])


def test_cli_writes_what_the_core_computes(green_cfg, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_main(["greening", str(green_cfg), "--units", "zones", "--out", str(out)]) == 0
    ind = pd.read_csv(out / "indicators.csv")
    core = greening_assessment(green_cfg, units="zones").indicators
    for col in ("forest_coverage_pct", "green_coverage_fvc_pct", "park_service_60m_pct", "candidate_removals_tco2e_yr"):
        a = ind.sort_values(["unit_id", "year"])[col].to_numpy()
        b = core.sort_values(["unit_id", "year"])[col].to_numpy()
        np.testing.assert_allclose(a, b, equal_nan=True)
    doc = json.loads((out / "sinks_greening_report.json").read_text(encoding="utf-8"))
    assert doc["tiling"]["overlapping_pairs"] == 2
    prog = pd.read_csv(out / "progress.csv")
    assert set(prog["status"]) >= {"below", "met", "undefined"}
    assert "below target" in capsys.readouterr().out
    # an output folder holding someone's files is refused before any work
    other = tmp_path / "docs"
    other.mkdir()
    (other / "x.txt").write_text("keep", encoding="utf-8")
    assert cli_main(["greening", str(green_cfg), "--out", str(other)]) == 1
    assert (other / "x.txt").read_text(encoding="utf-8") == "keep"


# ---------------------------------------------------------------- the demo, against exactextract

DEMO = ROOT / "configs" / "jiangbei_demo.toml"


@pytest.fixture(scope="module")
def demo_res():
    if not (ROOT / "data" / "rasters" / "jiangbei_landcover_2025.tif").exists():
        pytest.skip("demo rasters not built (run `make demo`)")
    return greening_assessment(DEMO, units="zones")


def test_demo_forest_area_matches_exactextract(demo_res):
    exactextract = pytest.importorskip("exactextract")
    cfg = load_config(DEMO)
    lc = cfg.landcover[2025]
    zones = gpd.read_file(cfg.zones, layer=cfg.zones_layer).to_crs(UTM50)
    ee = exactextract.exact_extract(str(lc), zones, ["unique", "frac", "count"], include_cols=["zone_id"], output="pandas").set_index("zone_id")
    for zid, row in ee.iterrows():
        areas = dict(zip(np.asarray(row["unique"]).astype(int), np.asarray(row["frac"]) * row["count"] * 900 / 1e4))
        r = _row(demo_res, zid)
        assert r["forest_ha"] == pytest.approx(areas.get(10, 0.0) + areas.get(95, 0.0), rel=1e-6)
        land = sum(v for k, v in areas.items() if k != 80)
        assert r["forest_coverage_pct"] == pytest.approx(100 * (areas.get(10, 0.0) + areas.get(95, 0.0)) / land, rel=1e-6)


def test_demo_candidates_avoid_red_lines(demo_res):
    cfg = load_config(DEMO)
    from sinks.protection import config_layers
    red, _ = config_layers(cfg)
    p = demo_res.patches
    assert len(p) > 0
    utm = p.to_crs(UTM50)
    red_u = shapely.union_all(list(red.gdf.to_crs(UTM50).geometry))
    # patches are pixel-edge polygons of pixels whose centres lie outside the red lines: they may
    # touch a red line's edge by less than half a pixel per boundary pixel, never cover it
    shared = utm.geometry.intersection(red_u).area
    assert (shared < 0.5 * 900 * (utm.geometry.length / 30 + 1)).all()
    assert shared.sum() < 0.01 * utm.geometry.area.sum()
    assert (p["area_ha"].diff().dropna() <= 1e-9).all()  # largest first


def test_accuracy_intervals_by_hand(green_cfg):
    # an error matrix (rows map, columns reference; classes 10 40 50 80 90): 5 of 50 tree points
    # are cropland, 10 of 50 cropland points are tree; the rest are right
    acc = green_cfg.parent / "acc"
    acc.mkdir()
    counts = [[45, 5, 0, 0, 0], [10, 40, 0, 0, 0], [0, 0, 50, 0, 0], [0, 0, 0, 50, 0], [0, 0, 0, 0, 50]]
    (acc / "accuracy.json").write_text(json.dumps({"classes": [10, 40, 50, 80, 90], "confusion_matrix_counts": counts,
                                                   "area_estimate": []}), encoding="utf-8")
    green_cfg.write_text(green_cfg.read_text(encoding="utf-8").replace("[greening]\n", '[landcover.accuracy]\n2025 = "acc"\n[greening]\n'), encoding="utf-8")
    res = greening_assessment(green_cfg, units="zones")
    iv = res.intervals
    e = iv[(iv["unit_id"] == "east") & (iv["year"] == 2025) & (iv["indicator"] == "forest_coverage_pct")].iloc[0]
    # east land 2025: tree 1 px, crop 2, built 4, wetland 1 (0.72 ha). True tree = 0.09 x 0.9 +
    # 0.18 x 0.2 = 0.117 ha -> 16.25 %; Var = (0.09^2 x 0.9 x 0.1 + 0.18^2 x 0.2 x 0.8) / 49
    # = 1.20673e-4 ha^2 -> SE 0.010985 ha = 1.5257 % of 0.72 ha
    assert e["mapped_pct"] == pytest.approx(12.5)
    assert e["adjusted_pct"] == pytest.approx(16.25)
    assert e["se_pct"] == pytest.approx(100 * (1.20673e-4 ** 0.5) / 0.72, rel=1e-4)
    assert e["ci_high_pct"] - e["adjusted_pct"] == pytest.approx(1.96 * e["se_pct"])
    assert not any(n.startswith("2025: no accuracy report") for n in res.notes)
    assert any(n.startswith("2020: no accuracy report") for n in res.notes)


def test_without_parks_or_bands_figures_are_undefined_not_zero(tiny):
    res = greening_assessment(tiny["config"], units="zones")  # no [greening]: no parks, no band files
    east = _row(res, "east")
    assert np.isnan(east["park_service_500m_pct"]) and np.isnan(east["served_500m_ha"])
    assert np.isnan(east["green_coverage_fvc_pct"]) and np.isnan(east["vegetation_share_pct"])
    assert np.isnan(east["candidate_greening_ha"]) and np.isnan(east["ndvi_<0.2_ha"])
    assert east["forest_coverage_pct"] == pytest.approx(12.5)  # the classes still count
    assert any("no park layer" in n and "undefined" in n for n in res.notes)
    assert any("no band files" in n for n in res.notes)


def test_units_outside_or_partly_outside_the_map(green_cfg):
    far = shapely.box(ORIGIN_X + 10_000, ORIGIN_Y - 1000, ORIGIN_X + 11_000, ORIGIN_Y)
    with pytest.raises(DataError, match="none of the 1 unit"):
        greening_assessment(green_cfg, units=gpd.GeoDataFrame({"unit_id": ["far"]}, geometry=[far], crs=UTM50))
    # columns 2-7 of rows 0-3: 24 pixels, 8 on the map -> 1.44 ha off the map, said so
    part = gpd.GeoDataFrame({"unit_id": ["part"]}, geometry=[box_px(2, 0, 8, 4)], crs=UTM50)
    r = _row(greening_assessment(green_cfg, units=part), "part")
    assert r["unit_area_ha"] == pytest.approx(8 * PX_HA) and r["outside_map_ha"] == pytest.approx(16 * PX_HA)
    assert "outside the land-cover map" in r["notes"]


def test_gcj02_parks_are_converted(green_cfg):
    from geodata.crs import wgs84_to_gcj02
    d = green_cfg.parent
    park = gpd.read_file(d / "parks.gpkg")
    x, y = park.geometry.iloc[0].exterior.coords.xy
    gx, gy = wgs84_to_gcj02(np.asarray(x), np.asarray(y))
    park.set_geometry([shapely.Polygon(zip(gx, gy))]).to_file(d / "parks_gcj.gpkg", layer="parks")
    base = _row(greening_assessment(green_cfg, units="zones"), "east")
    text = green_cfg.read_text(encoding="utf-8").replace('parks_path = "parks.gpkg"', 'parks_path = "parks_gcj.gpkg"')
    green_cfg.write_text(text.replace("[greening]\n", '[greening]\nparks_coord_system = "gcj02"\n'), encoding="utf-8")
    conv = _row(greening_assessment(green_cfg, units="zones"), "east")
    assert conv["park_service_30m_pct"] == base["park_service_30m_pct"] == pytest.approx(25.0)
    # read raw (as if WGS84) the park lands ~500 m away: it serves nothing
    green_cfg.write_text(text, encoding="utf-8")
    raw = _row(greening_assessment(green_cfg, units="zones"), "east")
    assert raw["park_service_60m_pct"] == 0.0


def test_targets_for_other_units_are_noted(green_cfg):
    d = green_cfg.parent
    with open(d / "targets.csv", "a", encoding="utf-8") as f:
        f.write("PK01,2025,forest_coverage_pct,20,test,no\n")
    res = greening_assessment(green_cfg, units="zones")
    assert any("name units not in this unit set (PK01)" in n for n in res.notes)
    assert "PK01" not in set(res.progress["unit_id"])


def test_patch_classes_past_32768_labels(tmp_path):
    # 40,000 one-pixel bare patches (every other row and column: apart under 8-connectivity) and one
    # 20 x 20 bare block: with labels in int32, label x 65536 overflowed and the block lost its class
    from geodata.rasters import read_info
    from sinks.coefficients import load_coefficients
    from sinks.greening.assess import candidate_patches
    from sinks.greening.layers import year_layers
    from sinks.greening.settings import GreeningConfig

    lc = np.full((420, 400), 30, dtype="uint8")
    lc[:400:2, ::2] = 60
    lc[400:, :20] = 60
    info = read_info(write_raster(tmp_path / "lc.tif", lc))
    roles = load_class_roles()
    layers = year_layers(2025, info, roles=roles, gcfg=GreeningConfig())
    grid = shapely.box(*info.bounds)
    units = gpd.GeoDataFrame({"unit_id": ["all"]}, geometry=[grid], crs=UTM50)
    patches, dropped = candidate_patches(layers, units, "unit_id", roles=roles,
                                         coefficients=load_coefficients(ROOT / "data" / "coefficients" / "carbon_coefficients.csv"), min_ha=1.0)
    assert len(patches) == 1 and dropped[0] == 40_000
    assert patches.iloc[0]["code"] == 60 and patches.iloc[0]["plant_to"] == 10
    assert patches.iloc[0]["area_ha"] == pytest.approx(400 * PX_HA)


def test_notes_carry_codes_for_translation(green_cfg):
    import pickle
    res = greening_assessment(green_cfg, units="zones")
    codes = {n.code for n in res.notes}
    assert {"overlap", "no_accuracy", "fvc"} <= codes
    ov = next(n for n in res.notes if n.code == "overlap")
    assert ov.params["n"] == 2 and str(ov).startswith("2 pair(s) of units overlap")
    back = pickle.loads(pickle.dumps(ov))  # Streamlit caches pickle results
    assert back == ov and back.code == "overlap" and back.params == ov.params


def test_listed_forest_adds_to_forest_coverage(green_cfg, tmp_path):
    extra = pd.DataFrame({"unit_id": ["east", "east", "west", "nowhere", "east"], "year": [2025, 2025, 2025, 2025, "x"],
                          "extra_forest_ha": [0.05, 0.04, 1.0, 1.0, 2.0], "source": ["forestry 2025", "forestry 2025", "t", "t", "t"]})
    res = greening_assessment(green_cfg, units="zones", forest_extra=extra)
    east, west = _row(res, "east"), _row(res, "west")
    # east 2025: 1 mapped tree pixel (0.09 ha) + 0.05 + 0.04 ha of shelterbelts = 0.18 ha of 0.72 ha land
    assert east["forest_mapped_ha"] == pytest.approx(PX_HA) and east["forest_extra_ha"] == pytest.approx(0.09)
    assert east["forest_coverage_pct"] == pytest.approx(25.0)
    assert "0.1 ha listed apart" in east["notes"] and "forestry 2025" in east["notes"]
    assert _row(res, "east", 2020)["forest_extra_ha"] == 0  # listed for 2025 only
    # west: 0.36 mapped + 1.0 listed > 0.36 ha of land: said, not hidden
    assert west["forest_coverage_pct"] > 100 and "exceed the land area" in west["notes"]
    codes = {n.code: n for n in res.notes}
    assert codes["extra_rejected"].params["n"] == 1 and codes["extra_unmatched"].params["units"] == ["nowhere"]


def test_reasons_gains_and_map_shares_by_hand(green_cfg):
    from sinks.greening.indicators import candidate_gains, map_shares, reason_applies, reasons
    res = greening_assessment(green_cfg, units="zones")
    west, east = _row(res, "west"), _row(res, "east")
    codes = [c for c, _ in reasons(west)]
    assert codes == ["nodata", "no_builtup", "no_residential"]  # 1 nodata pixel of 8 (> 1 %)
    assert reason_applies("no_builtup", "green_coverage_fvc_pct") and not reason_applies("no_builtup", "forest_coverage_pct")
    assert reasons(east) == []
    g = candidate_gains(res.indicators, share=0.5).set_index(["unit_id", "year"]).loc[("east", 2025)]
    # half the belts (0.06 ha) over 0.72 ha of land; half the grey built-up (0.18 ha) over 0.36 ha
    # of built-up area; by FVC the candidates already have 0.125 cover: (0.18 - 0.0225) x 0.5 / 0.36
    assert g["forest_gain_pts"] == pytest.approx(100 * 0.03 / 0.72)
    assert g["green_gain_pts"] == pytest.approx(25.0)
    assert g["green_fvc_gain_pts"] == pytest.approx(100 * (0.18 - 0.0225) * 0.5 / 0.36, rel=1e-5)
    assert g["removals_tco2e_yr"] == pytest.approx(0.5 * east["candidate_removals_tco2e_yr"])
    with pytest.raises(ValueError):
        candidate_gains(res.indicators, share=1.5)
    # east 2025: tree 1, crop 2 + wetland 1 (other vegetation), built-up 4 of 8 mapped pixels
    assert map_shares(res.class_areas, "east", 2025) == pytest.approx({"tree": 1 / 8, "other_vegetation": 3 / 8, "non_vegetation": 0.5})


def test_map_labels_at_points(green_cfg):
    from sinks.greening.sampling import map_labels_at_points
    layers = build_layers(load_config(green_cfg))
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(ORIGIN_X + 15, ORIGIN_Y - 15), shapely.Point(ORIGIN_X + 15, ORIGIN_Y - 105),
                                     shapely.Point(ORIGIN_X + 105, ORIGIN_Y - 45), shapely.Point(ORIGIN_X - 500, ORIGIN_Y)], crs=UTM50).to_crs("EPSG:4326")
    codes, labels = map_labels_at_points(layers.layers[2025], pts)
    # pixel (0,0) tree; (3,0) nodata; (1,3) built-up; a point off the grid
    assert codes == [10, None, 50, None] and labels == ["tree", None, "non_vegetation", None]


def test_verified_words_and_reason_codes():
    from sinks.greening.targets import unmatched_units
    names = target_indicators((500,))
    df = pd.DataFrame({"unit_id": ["a", "b", "c", "d"], "year": [2025] * 4, "indicator": ["forest_coverage_pct"] * 4,
                       "target_pct": [30, 30, 30, 30], "verified": ["是", "否", "", "maybe"]})
    acc, rej = check_targets(df, name="t.csv", indicators=names)
    assert list(acc["verified"]) == [True, False, False]
    assert list(rej["reason_code"]) == ["bad_verified"]
    assert unmatched_units(acc.assign(unit_id=["a", "zz", "*"]), ["a", "b"]) == ["zz"]
