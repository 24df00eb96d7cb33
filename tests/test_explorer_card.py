"""The explorer's "any area" card (sinks.explorer.card) and its equivalents (sinks.explorer.equivalents).

Hand-worked numbers on a block of known pixels of the demo raster (rows 119-124, columns
910-914 of the 30 m grid, EPSG:32650), read with rasterio in the test; the arithmetic is in the
comments. The demo rasters must exist (``make demo``).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geodata.errors import DataError, EmptyResultError, GeometryError
from sinks.config import load_config
from sinks.explorer.card import (
    MAX_AREA_HA, PEER_COLUMNS, area_card, check_area, geodesic_area_ha, geometry_hash, peer_sets, peer_table,
)
from sinks.explorer.equivalents import COLUMNS, equivalents, load_equivalents
from sinks.pipeline import run_assessment
from sinks.units import C_TO_CO2

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "jiangbei_demo.toml"
LC = {y: ROOT / "data" / "rasters" / f"jiangbei_landcover_{y}.tif" for y in (2020, 2025)}
COEF = ROOT / "data" / "coefficients" / "carbon_coefficients.csv"
ROW, COL, NROWS, NCOLS = 119, 910, 6, 5  # a block with tree cover, cropland and built-up, 15 px converted
PX_HA = 0.09  # 30 m x 30 m
NO_ZONES = gpd.GeoDataFrame({"zone_id": [], "zone_type": [], "name_zh": [], "name_en": []}, geometry=[], crs="EPSG:32650")

pytestmark = pytest.mark.skipif(not all(p.exists() for p in LC.values()), reason="demo rasters missing: run `make demo`")


@pytest.fixture(scope="module")
def cfg():
    return load_config(CONFIG)


@pytest.fixture(scope="module")
def layers(cfg):
    from sinks.greening.assess import build_layers
    return build_layers(cfg)


def _grid():
    with rasterio.open(LC[2020]) as ds:
        return ds.transform, ds.crs, ds.bounds


def _block_lonlat(row: int, col: int, nrows: int, ncols: int) -> Polygon:
    """The polygon following the edges of pixels [row, row + nrows) x [col, col + ncols), lon/lat."""
    t, crs, _ = _grid()
    x0, y0 = t.c + col * t.a, t.f + row * t.e
    b = box(x0, y0 + nrows * t.e, x0 + ncols * t.a, y0)
    return gpd.GeoSeries([b], crs=crs).to_crs(4326).iloc[0]


def _block_codes(year: int) -> np.ndarray:
    with rasterio.open(LC[year]) as ds:
        return ds.read(1, window=((ROW, ROW + NROWS), (COL, COL + NCOLS)))


def _densities() -> tuple[dict[int, float], dict[int, float]]:
    """Total density (sum of the four pools, t C/ha) and gain rate (t C/ha/yr) per class, read
    from the coefficient CSV itself (not through the package)."""
    t = pd.read_csv(COEF)
    pools = t[t["quantity"].isin(["c_above", "c_below", "c_soil", "c_dead"])].groupby("lucode")["value"].sum()
    gain = t[t["quantity"] == "gain_tc_per_ha_yr"].set_index("lucode")["value"]
    return pools.to_dict(), gain.to_dict()


@pytest.fixture(scope="module")
def block_card(cfg, layers):
    return area_card(cfg, _block_lonlat(ROW, COL, NROWS, NCOLS), kind="drawn", area_id="block", layers=layers,
                     protection=NO_ZONES, n_draws=500)


# --------------------------------------------------------------------------- hand-worked block


def test_block_landcover_and_stock_by_hand(block_card):
    # 2020 block: 2 tree (10), 15 cropland (40), 13 built-up (50); 2025: 2 tree, 28 built-up.
    # Densities (t C/ha, sum of pools): tree 121.448 + 29.876 + 88 + 13 = 252.324; crop 5 + 0 + 96.8 + 0
    # = 101.8; built-up 0 + 0 + 88 + 0 = 88. Stock 2020 = 0.09 x (2 x 252.324 + 15 x 101.8 + 13 x 88)
    # = 0.09 x 3175.648 = 285.808 t C; 2025 = 0.09 x (2 x 252.324 + 28 x 88) = 267.178 t C.
    dens, _ = _densities()
    c = block_card
    assert c.area_ha == pytest.approx(NROWS * NCOLS * PX_HA, rel=2e-3)  # geodesic vs UTM: UTM scale ~0.9996^2
    for y in (2020, 2025):
        codes, counts = np.unique(_block_codes(y), return_counts=True)
        lc = c.landcover[c.landcover["year"] == y].set_index("lucode")
        assert sorted(lc.index) == sorted(int(k) for k in codes)
        for k, n in zip(codes, counts):
            assert lc.loc[int(k), "area_ha"] == pytest.approx(n * PX_HA)
            assert lc.loc[int(k), "share_pct"] == pytest.approx(100 * n / (NROWS * NCOLS))
        expected = sum(n * PX_HA * dens[int(k)] for k, n in zip(codes, counts))
        st = c.stock_totals.set_index("year").loc[y]
        assert st["stock_tc"] == pytest.approx(expected)
        assert st["stock_tc_per_ha"] == pytest.approx(expected / (NROWS * NCOLS * PX_HA))
        assert c.stocks[c.stocks["year"] == y]["stock_tc"].sum() == pytest.approx(expected)
        cov = c.coverage.set_index("year").loc[y]
        assert cov["mapped_ha"] == pytest.approx(30 * PX_HA) and cov["nodata_ha"] == 0 and cov["outside_map_ha"] == pytest.approx(0, abs=1e-6)
    assert c.stock_totals.set_index("year").loc[2020, "stock_tc"] == pytest.approx(285.80832)
    assert c.stock_totals.set_index("year").loc[2025, "stock_tc"] == pytest.approx(267.17832)
    s = c.stocks
    np.testing.assert_allclose(s["stock_tco2e"], s["stock_tc"] * 44 / 12)
    # change: cropland 15 px -> 0, built-up 13 -> 28 px; the one transition is 40 -> 50, 15 px = 1.35 ha
    ch = c.change.set_index("lucode")
    assert ch.loc[40, "change_ha"] == pytest.approx(-15 * PX_HA) and ch.loc[50, "change_ha"] == pytest.approx(15 * PX_HA)
    assert ch.loc[10, "change_ha"] == pytest.approx(0.0)
    tr = c.transitions
    assert len(tr) == 1 and (tr.iloc[0]["code_t0"], tr.iloc[0]["code_t1"]) == (40, 50)
    assert tr.iloc[0]["area_ha"] == pytest.approx(1.35)
    assert c.years == (2020, 2025) and c.kind == "drawn" and c.geometry_hash == geometry_hash(c.geometry)


def test_block_removals_by_hand_and_interval(cfg, block_card):
    # Gain-loss over 2020-2025 (5 yr): stable tree 2 px x 0.09 ha x 0.58562 t C/ha/yr = 0.10541 t C/yr;
    # stable built-up (gain 0) adds 0; conversion cropland -> built-up 15 px x 0.09 ha x (88 - 101.8) t C/ha
    # / 5 yr = -3.726 t C/yr. Net = (0.10541 - 3.726) x 44/12 = -13.275 t CO2e/yr: a small net SOURCE.
    # Stock difference: (267.17832 - 285.80832) / 5 x 44/12 = -13.662 t CO2e/yr.
    dens, gain = _densities()
    c0, c1 = _block_codes(2020).ravel(), _block_codes(2025).ravel()
    growth = sum(PX_HA * gain[int(a)] for a, b in zip(c0, c1) if a == b and np.isfinite(gain[int(a)]))
    conv = sum(PX_HA * (dens[int(b)] - dens[int(a)]) for a, b in zip(c0, c1) if a != b) / 5
    hand_gl = (growth + conv) * C_TO_CO2
    assert hand_gl == pytest.approx(-13.275, abs=1e-3)
    r = block_card.removals.set_index("method")
    assert r.loc["gain_loss", "removals_tco2e_yr"] == pytest.approx(hand_gl)
    assert r.loc["stock_difference", "removals_tco2e_yr"] == pytest.approx((267.17832 - 285.80832) / 5 * 44 / 12)
    # the same polygon through the pipeline directly gives the same central value
    z = gpd.GeoDataFrame({"zone_id": ["block"]}, geometry=[block_card.geometry], crs=4326)
    flows = run_assessment(cfg, zones=z).flows
    assert r.loc["gain_loss", "removals_tco2e_yr"] == pytest.approx(float(flows["net_removals_tco2e_yr"].iloc[0]))
    for m in ("gain_loss", "stock_difference"):
        assert r.loc[m, "low_tco2e_yr"] <= r.loc[m, "removals_tco2e_yr"] <= r.loc[m, "high_tco2e_yr"]
        assert r.loc[m, "removals_tco2e_ha_yr"] == pytest.approx(r.loc[m, "removals_tco2e_yr"] / (30 * PX_HA))
    # equivalents of the headline (gain-loss): negative counts for a net source, count = removals / factor
    eq = block_card.equivalents.set_index("key")
    assert (eq["count"] < 0).all()
    assert eq.loc["passenger_car_epa", "count"] == pytest.approx(hand_gl / 4.6)
    assert eq.loc["jiangbei_resident", "low"] == pytest.approx(r.loc["gain_loss", "low_tco2e_yr"] / 11.35)


def test_block_stock_interval_by_hand(block_card):
    # 2025: the block is 2 px tree cover + 28 px built-up. Only soil carbon carries an uncertainty
    # (90 %, one shared relative error for the pool: correlate="same_quantity"): soil 30 px x 0.09 ha
    # x 88 t C/ha = 237.6 t C is drawn x N(1, 0.9/1.96) truncated at 0, the other 29.578 t C fixed.
    from scipy.stats import norm

    st = block_card.stock_totals.set_index("year").loc[2025]
    soil, fixed = 30 * PX_HA * 88.0, 267.17832 - 30 * PX_HA * 88.0
    sd = 0.9 / 1.96
    p0 = norm.cdf(-1 / sd)  # the mass below 0 that truncation removes
    lo_f, hi_f = (1 + sd * norm.ppf(p0 + q * (1 - p0)) for q in (0.025, 0.975))
    assert st["low_tc"] == pytest.approx(fixed + soil * lo_f, rel=0.08)
    assert st["high_tc"] == pytest.approx(fixed + soil * hi_f, rel=0.05)
    assert st["coverage"] == pytest.approx(soil / 267.17832)
    assert "stock_interval_partial" in [n.code for n in block_card.notes]


# --------------------------------------------------------------------------- geometry hash and checks


def test_geometry_hash_invariant_to_ring_start_and_orientation():
    ring = [(118.70, 32.10), (118.72, 32.10), (118.72, 32.12), (118.70, 32.12)]
    a = Polygon(ring)
    b = Polygon(ring[2:] + ring[:2])  # another starting vertex
    c = Polygon(ring[::-1])  # the other orientation
    d = Polygon([(x + 1e-9, y) for x, y in ring])  # below the 1e-7 degree rounding
    assert geometry_hash(a) == geometry_hash(b) == geometry_hash(c) == geometry_hash(d)
    assert len(geometry_hash(a)) == 64
    assert geometry_hash(a) != geometry_hash(Polygon([(118.70, 32.10), (118.73, 32.10), (118.72, 32.12), (118.70, 32.12)]))
    assert geometry_hash(a) != geometry_hash(shapely.affinity.translate(a, 0.001, 0))


def test_bowtie_is_repaired_with_a_note(cfg):
    # a self-intersecting "bow tie" around the hand-worked block: make_valid gives two triangles
    b = _block_lonlat(ROW, COL, NROWS * 10, NCOLS * 10).bounds
    bowtie = Polygon([(b[0], b[1]), (b[2], b[3]), (b[2], b[1]), (b[0], b[3])])
    assert not bowtie.is_valid
    geom, notes = check_area(bowtie, cfg=cfg, source="drawn polygon bowtie")
    assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
    assert [n.code for n in notes] == ["repaired"] and "repaired" in str(notes[0])
    assert geom.area == pytest.approx(shapely.box(*b).area / 2, rel=1e-6)  # two triangles = half the box


@pytest.mark.parametrize("geom, error, words", [
    (Polygon(), GeometryError, "draw or upload a polygon"),
    (Point(118.7, 32.1), GeometryError, "draw or upload a polygon"),
    (LineString([(118.7, 32.1), (118.8, 32.2)]), GeometryError, "draw or upload a polygon"),
    (box(654240, 3607200, 654390, 3607380), DataError, "projected metres"),  # UTM numbers given as lon/lat
    (box(118.70, 32.10, 118.7001, 32.1001), DataError, "smaller than one 30 m pixel"),  # ~0.01 ha
    (box(117.0, 31.0, 119.5, 33.0), DataError, "draw a smaller area"),  # ~5.5 million ha
    (box(100.0, 30.0, 100.05, 30.05), EmptyResultError, "pan to the study area"),  # Sichuan
    (Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]).buffer(0).boundary, GeometryError, "draw or upload a polygon"),
])
def test_bad_input_raises_naming_the_source(cfg, geom, error, words):
    with pytest.raises(error) as exc:
        check_area(geom, cfg=cfg, source="drawn polygon P7")
    assert "drawn polygon P7" in str(exc.value) and words in str(exc.value)


def test_max_area_argument_and_default(cfg):
    assert MAX_AREA_HA == 200_000.0
    with pytest.raises(DataError, match="more than the 1 ha"):
        check_area(_block_lonlat(ROW, COL, NROWS, NCOLS), cfg=cfg, source="upload x.geojson", max_area_ha=1.0)


def test_polygon_on_the_nodata_margin_is_an_empty_result(cfg, layers):
    # rows 0-40 at column 1128 lie on the 1.5 km no-data margin: inside the raster, no mapped pixel
    geom = _block_lonlat(5, 1128, 20, 20)
    with pytest.raises(EmptyResultError) as exc:
        area_card(cfg, geom, kind="upload", area_id="margin.geojson", layers=layers, protection=NO_ZONES, n_draws=100)
    assert "uploaded polygon margin.geojson" in str(exc.value) and "GCJ-02" in str(exc.value)


def test_partly_outside_the_map_gives_a_note(cfg, layers):
    # columns 1128-1147, rows -60 .. 69: the top 60 rows lie beyond the raster's edge (20 x 60 px x 0.09
    # = 108 ha), rows 0-49 are the no-data margin, the rest mapped land.
    geom = _block_lonlat(-60, 1128, 130, 20)
    c = area_card(cfg, geom, kind="drawn", area_id="edge", layers=layers, protection=NO_ZONES, n_draws=100)
    cov = c.coverage.set_index("year").loc[2020]
    assert cov["outside_map_ha"] == pytest.approx(108.0, rel=3e-3)
    assert cov["mapped_ha"] + cov["nodata_ha"] == pytest.approx(70 * 20 * PX_HA, rel=1e-9)
    with rasterio.open(LC[2020]) as ds:
        valid = int((ds.read(1, window=((0, 70), (1128, 1148))) != 0).sum())
    assert cov["mapped_ha"] == pytest.approx(valid * PX_HA)
    notes = [n for n in c.notes if n.code == "partly_outside"]
    assert len(notes) == 2  # one per date
    share = 100 * (cov["outside_map_ha"] + cov["nodata_ha"]) / c.area_ha
    assert notes[0].params["share_pct"] == pytest.approx(share)
    assert f"{share:.1f} %" in str(notes[0])


# --------------------------------------------------------------------------- protection overlap


def test_protection_overlap_by_hand(cfg, layers):
    # the block is 150 m x 180 m in UTM; zone A covers its western 60 m (2 columns): 60 x 180 m = 1.08 ha,
    # 40 % of the block; zone B lies 1 km away and does not overlap.
    t, crs, _ = _grid()
    x0, y0 = t.c + COL * 30, t.f - ROW * 30
    zones = gpd.GeoDataFrame({"zone_id": ["A", "B"], "zone_type": ["redline", "eco_space"], "name_zh": ["甲", "乙"],
                              "name_en": ["A", "B"]},
                             geometry=[box(x0 - 500, y0 - 180, x0 + 60, y0), box(x0 + 1000, y0 - 180, x0 + 1100, y0)], crs=crs)
    c = area_card(cfg, _block_lonlat(ROW, COL, NROWS, NCOLS), kind="drawn", area_id="block", layers=layers,
                  protection=zones, n_draws=100)
    p = c.protection
    assert list(p["zone_id"]) == ["A"] and p.iloc[0]["zone_kind"] == "redline"
    assert p.iloc[0]["overlap_ha"] == pytest.approx(1.08, rel=1e-5)
    assert p.iloc[0]["share_pct"] == pytest.approx(40.0, rel=1e-5)


# --------------------------------------------------------------------------- peers and ranks


def test_peer_sets(cfg):
    ps = peer_sets(cfg)
    assert set(ps) == {"district", "unit", "site", "redline"}
    assert len(ps["district"]) == 3 and len(ps["unit"]) == 24 and len(ps["site"]) == 2 and len(ps["redline"]) == 4
    for g in ps.values():
        assert list(g.columns) == ["id", "name_zh", "name_en", "geometry"] and g.crs.to_epsg() == 4326


@pytest.fixture(scope="module")
def districts(cfg, layers):
    return peer_table(cfg, "district", layers=layers)


def test_rank_of_a_district_matches_a_sort_of_the_peer_table(cfg, layers, districts):
    assert list(districts.columns) == list(PEER_COLUMNS) and len(districts) == 3 * 2
    d = peer_sets(cfg)["district"].set_index("id").loc["liuhe"]
    c = area_card(cfg, d.geometry, kind="district", area_id="liuhe", name_zh=d.name_zh, name_en=d.name_en,
                  layers=layers, protection=NO_ZONES, peers=districts, n_draws=200)
    assert c.area_ha == pytest.approx(districts.set_index(["id", "year"]).loc[("liuhe", 2020), "area_ha"])
    ranked = c.ranks.dropna(subset=["rank"])
    assert set(ranked["metric"]) == {"stock_tc_per_ha", "removals_tco2e_ha_yr", "forest_coverage_pct", "green_coverage_pct"}
    for r in ranked.itertuples(index=False):
        peers = districts[districts["year"] == r.year].set_index("id")[r.metric]
        assert r.value == pytest.approx(peers["liuhe"])  # the card measures as the peer table does
        order = list(peers.sort_values(ascending=False).index)
        assert r.rank == order.index("liuhe") + 1 and r.n_peers == 3 and r.peer_kind == "district"
        assert r.better_than_pct == pytest.approx(100 * (peers.drop("liuhe") < peers["liuhe"]).sum() / 2)
    # removals per ha = gain-loss removals / land mapped at both dates
    row = districts[(districts["id"] == "liuhe") & (districts["year"] == 2025)].iloc[0]
    gl = c.removals[c.removals["method"] == "gain_loss"].iloc[0]
    assert gl["removals_tco2e_yr"] == pytest.approx(row["removals_tco2e_yr"])
    assert row["removals_tco2e_ha_yr"] == pytest.approx(row["removals_tco2e_yr"] / row["mapped_ha"])
    assert np.isnan(districts[districts["year"] == 2020]["removals_tco2e_yr"]).all()


def test_unknown_peer_kind(cfg):
    with pytest.raises(DataError, match="no peer set 'streets'"):
        peer_table(cfg, "streets")


# --------------------------------------------------------------------------- equivalents


def test_equivalents_by_hand():
    t = load_equivalents()
    assert tuple(t.columns) == COLUMNS and t["key"].is_unique
    assert (t["factor_tco2e_per_yr"] > 0).all() and (t["source"].str.len() > 20).all()
    f = t.set_index("key")["factor_tco2e_per_yr"]
    # Jiangbei resident: (9.9624 + 10.5154) Mt / (1,171,603 + 633,200) = 11.346 t -> 11.35
    assert f["jiangbei_resident"] == pytest.approx((9.9624 + 10.5154) * 1e6 / (1_171_603 + 633_200), abs=0.005)
    assert f["jiangbei_household"] == pytest.approx(f["jiangbei_resident"] * 2.48, abs=0.02)
    assert not t.set_index("key").loc["passenger_car_china_derived", "verified"]
    # 72,135 t CO2e/yr (Pukou's 2020-2025 gain-loss) / 4.6 t per car = 15,681.6 cars
    eq = equivalents(72_135.0, 64_000.0, 80_000.0, table=t).set_index("key")
    assert eq.loc["passenger_car_epa", "count"] == pytest.approx(72_135.0 / 4.6)
    assert eq.loc["passenger_car_epa", "low"] == pytest.approx(64_000.0 / 4.6)
    assert eq.loc["jiangbei_resident", "high"] == pytest.approx(80_000.0 / 11.35)
    src = equivalents(-23.0, table=t).set_index("key")
    assert src.loc["china_resident_ghg", "count"] == pytest.approx(-23.0 / 11.0)  # a net source: negative
    assert np.isnan(src["low"]).all()


def _write(tmp_path, rows: list[dict]) -> Path:
    base = {"key": "car", "name_zh": "车", "name_en": "car", "factor_tco2e_per_yr": "4.6", "unit_zh": "辆", "unit_en": "cars",
            "derivation": "given", "source": "US EPA", "verified": "false"}
    p = tmp_path / "eq.csv"
    pd.DataFrame([{**base, **r} for r in rows]).to_csv(p, index=False)
    return p


@pytest.mark.parametrize("row, words", [
    ({"factor_tco2e_per_yr": "four"}, "row 2 (car): column 'factor_tco2e_per_yr' holds 'four', not a number"),
    ({"factor_tco2e_per_yr": "0"}, "a factor must be a finite number above 0"),
    ({"factor_tco2e_per_yr": "-1.5"}, "a factor must be a finite number above 0"),
    ({"source": " "}, "row 2 (car): column 'source' is empty (every factor needs a citation)"),
    ({"verified": "maybe"}, "column 'verified'"),
])
def test_equivalents_csv_validation(tmp_path, row, words):
    p = _write(tmp_path, [row])
    with pytest.raises(DataError) as exc:
        load_equivalents(p)
    assert str(p) in str(exc.value) and words in str(exc.value)


def test_equivalents_csv_schema(tmp_path):
    p = _write(tmp_path, [{}, {}])
    with pytest.raises(DataError, match="used more than once"):
        load_equivalents(p)
    q = tmp_path / "short.csv"
    pd.read_csv(p).drop(columns=["source"]).to_csv(q, index=False)
    with pytest.raises(DataError, match=r"columns \['source'\] are missing"):
        load_equivalents(q)
    ok = _write(tmp_path, [{"key": "a"}, {"key": "b", "factor_tco2e_per_yr": "2"}])
    assert list(load_equivalents(ok)["factor_tco2e_per_yr"]) == [4.6, 2.0]


def test_block_forest_coverage_interval_by_hand(cfg, layers, tmp_path):
    """With an accuracy report for 2025 the card's forest coverage carries Olofsson's interval.
    Block 2025: 2 tree px (0.18 ha), 28 built-up px (2.52 ha), all land (2.7 ha). Sample rows:
    map tree -> 18 tree, 2 built-up; map built-up -> 1 tree, 29 built-up. True tree area =
    0.18 x 18/20 + 2.52 x 1/30 = 0.162 + 0.084 = 0.246 ha = 9.1111 % of 2.7 ha.
    Var = 0.18^2 x 0.9 x 0.1 / 19 + 2.52^2 x (1/30)(29/30) / 29 = 0.00015347 + 0.00705600
    = 0.00720947 ha^2, SE 0.084909 ha = 3.14477 %; 95 %: 9.1111 -/+ 1.95996 x 3.14477 =
    2.9475 .. 15.2747 %. 2020 has no report: no interval for it."""
    from dataclasses import replace

    from sinks.landcover.accuracy import ConfusionMatrix, MapAssessment, stratified_area_estimate, write_accuracy_report

    classes = (10, 20, 30, 40, 50, 60, 80, 90)
    counts = np.diag([20] * len(classes))
    i10, i50 = classes.index(10), classes.index(50)
    counts[i10, i10], counts[i10, i50] = 18, 2
    counts[i50, i50], counts[i50, i10] = 29, 1
    cm = ConfusionMatrix(classes=classes, counts=counts)
    area = {c: 100.0 for c in classes}
    write_accuracy_report(MapAssessment(map_path=tmp_path / "map.tif", reference_source="ref.gpkg", class_field="ref",
                                        map_crs="EPSG:32650", confusion=cm, area=stratified_area_estimate(cm, area),
                                        nodata_ha=0.0, points=pd.DataFrame({"point_index": [0]})), tmp_path / "acc")
    card = area_card(replace(cfg, accuracy={2025: tmp_path / "acc"}), _block_lonlat(ROW, COL, NROWS, NCOLS), kind="drawn",
                     area_id="block", layers=layers, protection=NO_ZONES, n_draws=100)
    g = card.greening.set_index("year")
    assert g.loc[2025, "forest_coverage_pct"] == pytest.approx(100 * 2 / 30)  # mapped: 6.67 %
    assert g.loc[2025, "forest_coverage_pct_low"] == pytest.approx(2.9475, abs=5e-4)
    assert g.loc[2025, "forest_coverage_pct_high"] == pytest.approx(15.2747, abs=5e-4)
    assert np.isnan(g.loc[2020, "forest_coverage_pct_low"]) and np.isnan(g.loc[2020, "forest_coverage_pct_high"])
