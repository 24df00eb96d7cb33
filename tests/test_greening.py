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
    # (0,3) and (2,2) -> shelterbelt; no bare land
    assert east["candidate_greening_ha"] == pytest.approx(2 * PX_HA)
    assert east["candidate_shelterbelt_ha"] == pytest.approx(2 * PX_HA)
    assert east["candidate_afforestation_ha"] == pytest.approx(0.0)
    # tree gain 1.0 t C/ha/yr in the test table: 4 px x 0.09 ha x 1.0 x 44/12
    assert east["candidate_removals_tco2e_yr"] == pytest.approx(4 * PX_HA * 1.0 * C_TO_CO2)
    # stock at maturity: crop 33 -> tree 105 (x2 px), built-up 21 -> tree 105 (x2 px)
    assert east["candidate_stock_gain_tc"] == pytest.approx(2 * PX_HA * 72 + 2 * PX_HA * 84)
    assert east["forest_coverage_potential_pct"] == pytest.approx(100 * 5 / 8)
    # the centre unit overlaps both halves: reported, and counted in each
    assert len(res.overlaps) == 2 and "overlap" in " ".join(res.notes)


def test_exact_fractions_for_part_pixels(green_cfg):
    # a unit over the western half of pixel (0, 0) (tree) and the whole of pixel (0, 1) (tree)
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


def test_served_masks_distance_by_hand():
    from geodata.rasters import read_info
    parks = np.zeros((4, 4), bool)
    parks[0, 0] = True

    class _Info:  # only transform and is_geographic are used
        from affine import Affine
        transform = Affine(30, 0, 0, 0, -30, 0)
        is_geographic = False
        shape = (4, 4)
    s = served_masks(parks, _Info, (30.0, 45.0))
    assert s[30.0].sum() == 3  # itself and two edge neighbours
    assert s[45.0].sum() == 4  # plus the diagonal at 42.4 m
    del read_info


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
    inside = gpd.sjoin(p[["patch_id", "geometry"]], red.gdf.to_crs(p.crs)[["geometry"]], predicate="within")
    assert inside.empty
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
