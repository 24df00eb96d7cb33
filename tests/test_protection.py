"""Protection zones end to end: the screening against hand-worked rasters, the demo against the
existing pixel-centre engine (sinks.pipeline.run_assessment) and the coefficient arithmetic, the
CLI, project points, and bad input.

Hand-worked grid (``tiny``): 10 x 10 pixels of 10 m (1 pixel = 0.01 ha), EPSG:32650, all grass
(30) except a built-up block (50) of 3 x 2 pixels at rows 2-3, cols 2-4 in 2025 (cropland, 40,
in 2020) and a bare pixel (60) at row 7, col 7 on both dates.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geodata.errors import DataError, EmptyResultError, SchemaError
from geodata.points import read_points
from geodata.rasters import read_info
from sinks.carbon import stocks_by_pool, total_stocks
from sinks.coefficients import load_coefficients
from sinks.config import load_config
from sinks.pipeline import run_assessment
from sinks.protection import check_points, protection_screening
from wetlands.compliance import load_zone_rules, screen_zones

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
RULES = ROOT / "data" / "protection" / "zone_rules.csv"
X0, Y0 = 600_000.0, 3_500_000.0


@pytest.fixture(scope="module")
def demo():
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    return protection_screening(DEMO)


def _write(path: Path, arr: np.ndarray) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="uint8",
                       crs="EPSG:32650", transform=from_origin(X0, Y0, 10, 10), nodata=0) as ds:
        ds.write(arr, 1)
    return path


@pytest.fixture()
def tiny(tmp_path):
    a = np.full((10, 10), 30, dtype="uint8")
    a[7, 7] = 60
    b = a.copy()
    a[2:4, 2:5] = 40
    b[2:4, 2:5] = 50
    return {2020: read_info(_write(tmp_path / "lc2020.tif", a)), 2025: read_info(_write(tmp_path / "lc2025.tif", b))}


def _box(c0, r0, c1, r1):
    """Box over pixel columns c0..c1 and rows r0..r1 (fractions allowed) of the tiny grid."""
    return shapely.box(X0 + 10 * c0, Y0 - 10 * r1, X0 + 10 * c1, Y0 - 10 * r0)


def _zones(rows):
    return gpd.GeoDataFrame([{"zone_id": z, "zone_type": t, "name_zh": z, "name_en": z, "geometry": g} for z, t, g in rows],
                            geometry="geometry", crs="EPSG:32650")


def test_screening_by_hand(tiny):
    # A red line over the whole grid; a level-1 water-source zone over cols 1.4-3.4, rows 2-4: it
    # covers built-up pixel col 2 wholly and col 3 by 0.4, grass col 1 by 0.6.
    zones = _zones([("RL", "redline", _box(0, 0, 10, 10)), ("L1", "ws_level1", _box(1.4, 2, 3.4, 4))])
    res = screen_zones(zones, tiny, load_zone_rules(RULES))
    p = res.patches
    rl25 = p[(p["zone_id"] == "RL") & (p["year"] == 2025)].set_index("code")
    # red line 2025: built-up 6 px = 0.06 ha (non-conforming), bare 1 px = 0.01 ha (review)
    assert rl25.loc[50, "area_ha"] == pytest.approx(0.06) and rl25.loc[50, "status"] == "non_conforming"
    assert rl25.loc[60, "area_ha"] == pytest.approx(0.01) and rl25.loc[60, "status"] == "review"
    assert "生态保护红线" in rl25.loc[50, "rule_zh"] and rl25.loc[50, "citation"]
    # level 1 2025: built-up (1 + 0.4) px x 2 rows = 2.8 px = 0.028 ha, one patch, non-conforming
    l1 = p[(p["zone_id"] == "L1") & (p["year"] == 2025)]
    assert len(l1) == 1 and l1["area_ha"].iloc[0] == pytest.approx(0.028) and l1["status"].iloc[0] == "non_conforming"
    # 2020 there: the same pixels were cropland, which level 1 lists for review
    l1_20 = p[(p["zone_id"] == "L1") & (p["year"] == 2020)]
    assert list(l1_20["code"]) == [40] and l1_20["status"].iloc[0] == "review"
    assert l1_20["area_ha"].iloc[0] == pytest.approx(0.028)
    led = res.ledger.set_index(["zone_id", "year"])
    # L1: area 2 x 2 px = 0.04 ha; natural = grass 0.6 px x 2 = 0.012 ha; crop -> built-up is not
    # newly flagged (crop was flagged for review already). RL: crop is not flagged there, so 0.06 ha
    # is newly flagged; crop -> built-up loses no natural land.
    assert led.loc[("L1", 2025), "zone_area_ha"] == pytest.approx(0.04)
    assert led.loc[("L1", 2025), "natural_ha"] == pytest.approx(0.012)
    assert led.loc[("L1", 2025), "newly_flagged_ha"] == pytest.approx(0.0)
    assert led.loc[("RL", 2025), "newly_flagged_ha"] == pytest.approx(0.06)
    assert led.loc[("RL", 2025), "natural_lost_ha"] == pytest.approx(0.0)
    # but the escalation is there: in level 1, cropland (review) became built-up (banned)
    assert led.loc[("L1", 2025), "newly_non_conforming_ha"] == pytest.approx(0.028)
    assert led.loc[("RL", 2025), "newly_non_conforming_ha"] == pytest.approx(0.06)
    # pixel centres see only col 2 of the built-up block (centre x 2.5; col 3's centre 3.5 is out):
    # 2 px = 0.02 ha against the true 0.028 ha
    ca = res.class_areas[(res.class_areas["zone_id"] == "L1") & (res.class_areas["year"] == 2025)].set_index("code")
    assert ca.loc[50, "area_ha"] == pytest.approx(0.028)
    assert ca.loc[50, "area_ha_centres"] == pytest.approx(0.02)


def test_overlapping_zone_types_are_each_screened(tiny):
    zones = _zones([("RL", "redline", _box(0, 0, 5, 5)), ("ES", "eco_space", _box(0, 0, 5, 5))])
    res = screen_zones(zones, tiny, load_zone_rules(RULES))
    p = res.patches[res.patches["year"] == 2025]
    assert set(p.loc[p["zone_id"] == "RL", "status"]) == {"non_conforming"}
    assert set(p.loc[p["zone_id"] == "ES", "status"]) == {"review"}  # control areas: built-up is checked, not banned


def test_bad_zones(tiny):
    rules = load_zone_rules(RULES)
    far = _zones([("FAR", "redline", shapely.box(0, 0, 100, 100))])
    with pytest.raises(EmptyResultError, match="FAR.*do not overlap the land-cover map.*GCJ-02"):
        screen_zones(far, tiny, rules)
    bow = _zones([("BOW", "redline", shapely.Polygon([(X0, Y0), (X0 + 50, Y0 - 50), (X0 + 50, Y0), (X0, Y0 - 50)]))])
    res = screen_zones(bow, tiny, rules)
    assert any("BOW" in n and "repaired" in n for n in res.notes)
    assert res.zones["area_ha"].iloc[0] == pytest.approx(0.125)  # two triangles, base 50 m, height 25 m: 2 x 625 m2
    with pytest.raises(SchemaError, match="unknown zone types"):
        screen_zones(_zones([("X", "nature_reserve", _box(0, 0, 2, 2))]), tiny, rules)
    nocrs = gpd.GeoDataFrame({"zone_id": ["A"], "zone_type": ["redline"], "name_zh": ["A"], "name_en": ["A"]},
                             geometry=[_box(0, 0, 2, 2)])
    with pytest.raises(DataError, match="CRS"):
        screen_zones(nocrs, tiny, rules)


def test_rule_table_is_strict(tmp_path):
    bad = tmp_path / "rules.csv"
    bad.write_text(RULES.read_text(encoding="utf-8") + "ws_level9,50,built-up,banned,x,x,x,no\nredline,50,built-up,review,x,x,x,no\n"
                   "redline,abc,x,review,x,x,x,no\n", encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        load_zone_rules(bad)
    msg = str(e.value)
    assert "ws_level9" in msg and "listed twice for redline" in msg and "'abc'" in msg and "rules.csv" in msg
    rules = load_zone_rules(RULES)
    assert all(r.citation for r in rules.rules)
    assert {r.zone_type for r in rules.rules} >= {"redline", "eco_space", "yangtze_belt", "ws_level1", "ws_level2", "ws_quasi"}


def test_demo_zones_and_reconciliation(demo):
    z = demo.zones
    counts = z["zone_type"].value_counts().to_dict()
    assert counts["redline"] == 4 and counts["eco_space"] == 3
    assert counts["ws_level1"] == 4 and counts["ws_level2"] == 4 and counts["ws_quasi"] == 4  # 2 intakes x water, land
    assert counts["yangtze_belt"] >= 2
    led = demo.ledger
    for _, r in led.iterrows():  # coverage areas add up to the vector area of the part inside the raster
        inside = demo.screening.class_areas[(demo.screening.class_areas["zone_id"] == r["zone_id"])
                                            & (demo.screening.class_areas["year"] == r["year"])]["zone_inside_ha"].iloc[0]
        assert r["mapped_ha"] + r["nodata_ha"] == pytest.approx(inside, rel=1e-9, abs=1e-9)
    # the thin belt and water-source land strips: centres and coverage differ, by at most the boundary pixels
    for zid in ("QL-L1-land", "YB-1"):
        g = z.loc[z["zone_id"] == zid, "geometry"].iloc[0]
        r = led[(led["zone_id"] == zid) & (led["year"] == 2025)].iloc[0]
        boundary_px = g.length / 30.0 * 2 + 4
        assert abs(r["mapped_ha"] - r["mapped_ha_centres"]) <= boundary_px * 0.09


def test_demo_stock_matches_the_pixel_centre_pipeline(demo):
    # An independent path: the assessment pipeline (pixel-centre zonal engine) over the same red
    # lines. Stocks differ only by the boundary pixels: |diff| <= boundary px x 0.09 ha x the
    # largest density.
    red = demo.zones[demo.zones["zone_type"] == "redline"].to_crs(4326)
    a = run_assessment(DEMO, zones=red, zone_id_field="zone_id")
    table = load_coefficients(load_config(DEMO).coefficients)
    dmax = float(table.total_density_tc_per_ha().max())
    for zid in red["zone_id"]:
        ours = demo.ledger[(demo.ledger["zone_id"] == zid) & (demo.ledger["year"] == 2025)]["stock_tc"].iloc[0]
        theirs = float(a.stock_totals[(a.stock_totals["zone_id"] == zid) & (a.stock_totals["year"] == 2025)]["stock_tc"].sum())
        perim = demo.zones.loc[demo.zones["zone_id"] == zid, "geometry"].iloc[0].length
        assert abs(ours - theirs) <= (perim / 30.0 * 2 + 4) * 0.09 * dmax, zid
    # and by hand from the coverage areas: sum(area x density)
    ca = demo.screening.class_areas
    one = ca[(ca["zone_id"] == "laoshan_nfp") & (ca["year"] == 2025) & ~ca["is_nodata"]]
    dens = table.total_density_tc_per_ha()
    by_hand = float(sum(r["area_ha"] * dens[int(r["code"])] for _, r in one.iterrows()))
    got = demo.ledger[(demo.ledger["zone_id"] == "laoshan_nfp") & (demo.ledger["year"] == 2025)]["stock_tc"].iloc[0]
    assert got == pytest.approx(by_hand, rel=1e-9)
    again = total_stocks(stocks_by_pool(one.rename(columns={"code": "lucode"})[["zone_id", "lucode", "area_ha"]], table))
    assert again["stock_tc"].iloc[0] == pytest.approx(got, rel=1e-12)


def test_demo_patches_are_inside_their_zones_and_sum_to_class_areas(demo):
    p = demo.screening.patches
    z = demo.zones.set_index("zone_id")
    assert len(p) > 0 and set(p["status"]) <= {"non_conforming", "review"}
    for zid, g in p[p["year"] == 2025].groupby("zone_id"):
        zone = z.loc[zid, "geometry"]
        assert all(zone.buffer(0.01).contains(geom) for geom in g.geometry)
        ca = demo.screening.class_areas
        flagged = ca[(ca["zone_id"] == zid) & (ca["year"] == 2025) & ca["code"].isin(g["codes"].str.split(",").explode().astype(int))]
        assert g["area_ha"].sum() == pytest.approx(flagged["area_ha"].sum(), rel=1e-6)
    assert (p["lon"].between(118.3, 119.2) & p["lat"].between(31.8, 32.7)).all()
    assert set(p["district"]) <= {"pukou", "liuhe", "baguazhou", ""}
    assert (p["district"] != "").mean() > 0.9


def test_points_against_zones(demo, tmp_path):
    z = demo.zones_lonlat().set_index("zone_id")
    l1 = z.loc["QL-L1-land", "geometry"].representative_point()
    others = shapely.union_all(z.loc[z.index != "YB-1", "geometry"].to_numpy())
    belt = z.loc["YB-1", "geometry"].difference(others).representative_point()  # in the belt only
    rows = [("A", "水厂旁仓库", "仓储", "", l1), ("B", "某化工厂", "化工", "新建", belt), ("C", "某化工厂二期", "化工", "", belt),
            ("E", "江浦文化工作室", "文化", "新建", belt)]
    csv = "编号,企业名称,行业,建设性质,经度,纬度\n" + "".join(f"{i},{n},{k},{st},{p.x:.7f},{p.y:.7f}\n" for i, n, k, st, p in rows)
    csv += "F,江心船,航运,,118.0,32.0\nD,坏行,制造,,abc,32.1\n"
    table = read_points(csv.encode("gb18030"), name="enterprises.csv")
    assert table.n_points == 5 and table.n_rejected == 1 and "abc" in table.rejected["reason"].iloc[0]
    hits = check_points(table.points, demo.screening)
    first = hits.drop_duplicates("point_id").set_index("point_id")
    worst = first["point_status"]
    assert worst["A"] == "non_conforming"  # a project in level 1 land (built-up use is banned there)
    assert worst["B"] == "non_conforming"  # a NEW chemical plant within 1 km of the shore (Art. 26)
    assert worst["C"] == "review" and "check whether new or expanded" in first.loc["C", "finding"]  # existing: checked
    assert worst["E"] == "review" and not first.loc["E", "chemical"]  # 文化工作室 holds 化工 but is no chemical plant
    assert worst["F"] == "outside"
    assert first.loc["A", "name"] == "水厂旁仓库" and first.loc["A", "lon"] == pytest.approx(l1.x, abs=1e-6)


def test_cli_writes_reports_atomically(tmp_path):
    out = tmp_path / "zones"
    pts = tmp_path / "p.csv"
    pts.write_text("id,lon,lat\nP1,118.70,32.20\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sinks", "zones", str(DEMO), "--out", str(out), "--points", str(pts)],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "zones screened on 2020, 2025" in r.stdout and "wrote" in r.stdout
    doc = json.loads((out / "sinks_zones_report.json").read_text(encoding="utf-8"))
    assert doc["zones"] > 20 and doc["provenance"]["illustrative"] is True and doc["points"]["accepted"] == 1
    summary = pd.read_csv(out / "summary.csv")
    assert {"zone_id", "year", "non_conforming_ha", "review_ha", "stock_tc", "ndvi_mean"} <= set(summary.columns)
    index = pd.read_csv(out / "per_zone" / "index.csv")
    assert len(index) == doc["zones"] == len(list((out / "per_zone").glob("*.csv"))) - 1
    assert sum(doc["zone_area_ha_by_type"].values()) == pytest.approx(summary[summary["year"] == 2025]["zone_area_ha"].sum())
    layers = {name for name, _ in __import__("pyogrio").list_layers(out / "zones.gpkg")}
    assert {"zones", "flagged_patches", "intakes"} <= layers
    assert (out / "points.csv").exists()
    # a failing run leaves the earlier output intact
    before = sorted(p.name for p in out.iterdir())
    bad = subprocess.run([sys.executable, "-m", "sinks", "zones", str(DEMO), "--out", str(out), "--redlines", str(tmp_path / "nope.gpkg")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert bad.returncode == 1 and "nope.gpkg" in bad.stderr and "does not exist" in bad.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_config_errors_name_the_key(tmp_path):
    text = DEMO.read_text(encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text(text.replace("flow_azimuth_deg = 45.0", "").replace('../data', str(ROOT / "data")), encoding="utf-8")
    with pytest.raises(SchemaError, match="flow_azimuth_deg"):
        load_config(cfg)
    cfg.write_text(text.replace("lon = 118.58174", "lon = 118.3").replace('../data', str(ROOT / "data")), encoding="utf-8")
    with pytest.raises(DataError, match="QL"):  # now several km inland: the message names the intake
        protection_screening(cfg)
    from sinks.config import validate_config

    cfg.write_text(text.replace("lon = 118.58174", "lon = 118.3").replace('../data', str(ROOT / "data")), encoding="utf-8")
    problems = validate_config(cfg)  # the same problem, listed before any screening
    assert len(problems) == 1 and "QL" in problems[0]
    cfg.write_text(text.replace("belt_distance_m = 1000.0", "belt_distance_m = -5").replace('../data', str(ROOT / "data")), encoding="utf-8")
    with pytest.raises(SchemaError, match="belt_distance_m"):
        load_config(cfg)


def test_uploaded_red_lines_in_gcj02_or_another_crs_give_the_same_screening(demo, tmp_path):
    from geodata.crs import wgs84_to_gcj02

    red = demo.zones[demo.zones["zone_type"] == "redline"][["zone_id", "name_zh", "name_en", "geometry"]]
    red = red.rename(columns={"zone_id": "redline_id"})
    utm = tmp_path / "red_utm.gpkg"
    red.to_file(utm, driver="GPKG", engine="pyogrio")  # EPSG:32650, metres
    gcj = red.to_crs(4326)
    gcj["geometry"] = shapely.transform(gcj.geometry.to_numpy(), lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    gcj_path = tmp_path / "red_gcj.geojson"
    gcj.to_file(gcj_path, driver="GeoJSON", engine="pyogrio")  # Amap-style numbers labelled WGS84
    outs = {}
    for name, path, cs in (("utm", utm, "wgs84"), ("gcj", gcj_path, "gcj02")):
        out = tmp_path / name
        r = subprocess.run([sys.executable, "-m", "sinks", "zones", str(DEMO), "--out", str(out), "--redlines", str(path),
                            "--coord-system", cs], capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert r.returncode == 0, r.stderr
        s = pd.read_csv(out / "summary.csv")
        outs[name] = s[s["zone_type"] == "redline"].set_index(["zone_id", "year"]).sort_index()
    ref = demo.summary_all()
    ref = ref[ref["zone_type"] == "redline"].set_index(["zone_id", "year"]).sort_index()
    # the same polygons: areas agree to float precision (UTM) and to the GCJ-02 inversion's
    # centimetres (about 1e-6 relative) after conversion
    assert np.allclose(outs["utm"]["non_conforming_ha"], ref["non_conforming_ha"], rtol=1e-9)
    assert np.allclose(outs["gcj"]["zone_area_ha"], ref["zone_area_ha"], rtol=1e-5)
    assert np.allclose(outs["gcj"]["non_conforming_ha"], ref["non_conforming_ha"], rtol=1e-3, atol=0.01)


def test_cli_ids_in_any_script_and_formula_text_are_safe(demo, tmp_path):
    red = demo.zones[demo.zones["zone_type"] == "redline"][["zone_id", "geometry"]].to_crs(4326).reset_index(drop=True)
    red["redline_id"] = ["老山红线", "绿水湾红线", "八卦洲红线", '=HYPERLINK("http://evil.example","x")']
    red["name_zh"] = ["=cmd|' /c calc'!A1", "b", "c", "d"]
    path = tmp_path / "red.geojson"
    red.drop(columns="zone_id").to_file(path, driver="GeoJSON", engine="pyogrio")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "sinks", "zones", str(DEMO), "--out", str(out), "--redlines", str(path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    index = pd.read_csv(out / "per_zone" / "index.csv")
    assert {"老山红线", "绿水湾红线", "八卦洲红线"} <= set(index["zone_id"]) and index["file"].is_unique
    assert all((out / "per_zone" / f).exists() for f in index["file"])
    text = (out / "summary.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'=cmd" in text
    assert not any(line.startswith("=") or ',=' in line for line in text.splitlines())


def test_cli_refuses_a_folder_that_is_not_its_own_output(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zones.json").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    (docs / "letter.odt").write_bytes(b"keep me")
    r = subprocess.run([sys.executable, "-m", "sinks", "zones", str(DEMO), "--out", str(docs)],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1 and "not an earlier output of this command" in r.stderr
    assert (docs / "letter.odt").read_bytes() == b"keep me"


def test_uploaded_columns_named_like_zone_columns_do_not_confuse_the_check(demo):
    z = demo.zones_lonlat().set_index("zone_id")
    p = z.loc["QL-L1-water", "geometry"].representative_point()
    csv = f"id,lon,lat,zone_id,zone_type,index_right\nA,{p.x:.7f},{p.y:.7f},x,y,z\n".encode()
    hits = check_points(read_points(csv, name="odd.csv").points, demo.screening)
    assert "QL-L1-water" in set(hits["zone_id"]) and hits["point_status"].iloc[0] == "non_conforming"


def test_an_id_shared_by_two_layers_is_screened_apart_with_a_note(demo):
    red = demo.zones[demo.zones["zone_type"] == "redline"][["zone_id", "geometry"]].rename(columns={"zone_id": "redline_id"})
    space = red.iloc[:1].rename(columns={"redline_id": "area_id"})  # a control area reusing a red line's id
    space["geometry"] = space.geometry.buffer(300).difference(space.geometry.iloc[0])
    res = protection_screening(DEMO, redlines=red, eco_space=space)
    rid = red["redline_id"].iloc[0]
    assert {rid, f"eco_space:{rid}"} <= set(res.zones["zone_id"])
    assert any(n.startswith(f"eco_space:{rid}:") and "own id" in n for n in res.builder_notes)
