"""Point-sample check of cover (i-Tree Canopy style), hand-worked.

i-Tree Canopy: p = n_k / N, SE = sqrt(p (1 - p) / N), 95 % interval p +/- 1.96 SE.
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geodata.errors import DataError, GeometryError, UnknownClassError
from sinks.greening.sampling import (
    DEFAULT_MAP_LABELS,
    LABELS,
    MAX_SAMPLE_POINTS,
    PointEstimate,
    agreement_table,
    compare_with_map,
    map_labels_at,
    normalize_labels,
    point_estimates,
    sample_points,
)

UTM50 = "EPSG:32650"


def _labels(tree: int, other: int, non: int, blank: int = 0) -> list:
    return ["tree"] * tree + ["other_vegetation"] * other + ["non_vegetation"] * non + [None] * blank


# ---------------------------------------------------------------------------------------------
# Estimates
# ---------------------------------------------------------------------------------------------


def test_point_estimates_hand_worked():
    # 100 points: 30 tree, 50 other vegetation, 20 non-vegetation.
    #   tree:  p = 30/100 = 0.30, SE = sqrt(0.3*0.7/100) = sqrt(0.0021) = 0.045826
    #          half = 1.96 * 0.045826 = 0.089818 -> CI 0.210182 .. 0.389818
    #   other: p = 0.50, SE = sqrt(0.25/100) = 0.05, half = 0.098 -> 0.402 .. 0.598
    #   vegetation = 30 + 50 = 80: p = 0.80, SE = sqrt(0.16/100) = 0.04, half = 0.0784
    #          -> 0.7216 .. 0.8784
    est = point_estimates(_labels(30, 50, 20))
    assert isinstance(est, PointEstimate)
    assert (est.n_points, est.n_labelled, est.n_unlabelled) == (100, 100, 0)
    assert list(est.table["label"]) == [*LABELS, "vegetation"]
    assert list(est.table.columns) == ["label", "n", "p", "se", "ci_low", "ci_high", "ci_half", "wilson_low", "wilson_high"]
    tree = est.row("tree")
    assert tree["n"] == 30
    assert tree["p"] == pytest.approx(0.30)
    assert tree["se"] == pytest.approx(0.045826, abs=1e-6)
    assert tree["ci_half"] == pytest.approx(0.089818, abs=1e-6)
    assert tree["ci_low"] == pytest.approx(0.210182, abs=1e-6)
    assert tree["ci_high"] == pytest.approx(0.389818, abs=1e-6)
    other = est.row("other_vegetation")
    assert (other["se"], other["ci_low"], other["ci_high"]) == pytest.approx((0.05, 0.402, 0.598))
    veg = est.row("vegetation")
    assert veg["n"] == 80
    assert (veg["p"], veg["se"], veg["ci_low"], veg["ci_high"]) == pytest.approx((0.80, 0.04, 0.7216, 0.8784))
    assert est.z == 1.96 and est.notes == ()


def test_unlabelled_points_are_left_out():
    # 30 tree + 70 non + 20 blanks (None, NaN, "", "  "): N = 100 labelled, p(tree) = 0.30 as
    # without the blanks, SE over 100 not 120.
    labels = _labels(30, 0, 70) + [None] * 5 + [float("nan")] * 5 + [""] * 5 + ["  "] * 5
    est = point_estimates(labels)
    assert (est.n_points, est.n_labelled, est.n_unlabelled) == (120, 100, 20)
    assert est.p("tree") == pytest.approx(0.30)
    assert est.row("tree")["se"] == pytest.approx(math.sqrt(0.21 / 100))
    assert any("20 of 120 points are not labelled" in n for n in est.notes)


def test_all_unlabelled_gives_nan_not_zero():
    est = point_estimates([None, float("nan"), ""])
    assert est.n_labelled == 0 and est.n_unlabelled == 3
    assert est.table["p"].isna().all()
    assert est.table["se"].isna().all() and est.table["wilson_low"].isna().all()
    assert (est.table["n"] == 0).all()
    assert any("NaN, not 0" in n for n in est.notes)


def test_chinese_and_mixed_case_labels():
    labels = ["Tree", " TREE ", "树木", "乔木", "其他植被", "Other Vegetation", "非植被", "non-vegetation"]
    assert normalize_labels(labels) == ["tree"] * 4 + ["other_vegetation"] * 2 + ["non_vegetation"] * 2
    est = point_estimates(labels)
    assert list(est.table["n"]) == [4, 2, 2, 6]
    assert est.p("tree") == pytest.approx(0.5)


def test_bad_labels_are_listed_with_the_allowed_ones():
    with pytest.raises(UnknownClassError) as exc:
        point_estimates(["tree", "grass", 3, "grass", "草地"])
    msg = str(exc.value)
    assert "4 point label(s)" in msg  # grass twice, 3, 草地
    assert "'grass'" in msg and "3" in msg and "'草地'" in msg
    assert "other_vegetation" in msg and "非植被" in msg


def test_wilson_interval_hand_worked():
    # Wilson: centre = (p + z^2/2n) / (1 + z^2/n), half = z/(1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)
    # n = 100, k = 30, z = 1.96: z^2 = 3.8416, 1 + z^2/n = 1.038416
    #   centre = (0.3 + 0.019208) / 1.038416 = 0.307399
    #   half = 1.96 / 1.038416 * sqrt(0.0021 + 0.00009604) = 1.887490 * 0.046862 = 0.088451
    #   -> 0.218948 .. 0.395850  (normal interval 0.210182 .. 0.389818)
    est = point_estimates(_labels(30, 0, 70))
    tree = est.row("tree")
    assert tree["wilson_low"] == pytest.approx(0.218948, abs=1e-6)
    assert tree["wilson_high"] == pytest.approx(0.395850, abs=1e-6)
    # n = 10, k = 0: normal interval collapses to [0, 0]; Wilson: 1 + z^2/n = 1.38416,
    #   centre = 0.19208 / 1.38416 = 0.138770, half = 1.96/1.38416 * sqrt(3.8416/400) = 0.138770
    #   -> 0 .. 0.277540
    est = point_estimates(_labels(0, 4, 6))
    tree = est.row("tree")
    assert (tree["ci_low"], tree["ci_high"]) == (0.0, 0.0)
    assert tree["wilson_low"] == pytest.approx(0.0, abs=1e-12)
    assert tree["wilson_high"] == pytest.approx(0.277540, abs=1e-6)
    assert any("Wilson" in n for n in est.notes)  # few points and p = 0


def test_wilson_matches_scipy():
    # statsmodels is not installed; scipy's binomtest has the Wilson interval (with the exact
    # z = 1.959964 rather than 1.96, so agreement to about 1e-5).
    from scipy.stats import binomtest

    for k, n in [(30, 100), (1, 20), (19, 20), (7, 400)]:
        est = point_estimates(["tree"] * k + ["non_vegetation"] * (n - k))
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert est.row("tree")["wilson_low"] == pytest.approx(ci.low, abs=1e-4)
        assert est.row("tree")["wilson_high"] == pytest.approx(ci.high, abs=1e-4)


def test_normal_interval_is_clipped_to_0_1():
    # n = 50, k = 1: p = 0.02, half = 1.96 * sqrt(0.02*0.98/50) = 1.96 * 0.019799 = 0.038806
    #   p - half = -0.0188 -> clipped to 0; p + half = 0.058806
    est = point_estimates(_labels(1, 0, 49))
    tree = est.row("tree")
    assert tree["ci_low"] == 0.0
    assert tree["ci_high"] == pytest.approx(0.058806, abs=1e-6)
    assert tree["ci_half"] == pytest.approx(0.038806, abs=1e-6)
    # non-vegetation 49/50 = 0.98: 0.98 + 0.038806 -> clipped to 1
    assert est.row("non_vegetation")["ci_high"] == 1.0


def test_confidence_level_changes_z():
    est = point_estimates(_labels(30, 0, 70), confidence=0.90)
    assert est.z == pytest.approx(1.644854, abs=1e-6)
    assert est.row("tree")["ci_half"] == pytest.approx(1.644854 * 0.045826, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Against the map
# ---------------------------------------------------------------------------------------------


def test_compare_with_map():
    # Sample (from the first test): tree 0.30 [0.2102, 0.3898], other 0.50 [0.402, 0.598],
    # vegetation 0.80 [0.7216, 0.8784].
    # Map: tree 0.35 -> inside, +5.0 pp; other 0.65 -> outside, +15.0 pp;
    # vegetation derived 0.35 + 0.65 = 1.00 -> outside, +20.0 pp.
    est = point_estimates(_labels(30, 50, 20))
    cmp = compare_with_map(est, {"tree": 0.35, "Other Vegetation": 0.65})
    assert list(cmp["label"]) == ["tree", "other_vegetation", "vegetation"]
    assert list(cmp["status"]) == ["agrees", "outside", "outside"]
    assert cmp["difference_pp"].tolist() == pytest.approx([5.0, 15.0, 20.0])
    assert cmp["map_share"].tolist() == pytest.approx([0.35, 0.65, 1.0])
    assert cmp["sample_p"].tolist() == pytest.approx([0.30, 0.50, 0.80])


def test_compare_with_map_p_zero_uses_wilson_too():
    # 0 of 10 tree: normal interval [0, 0], Wilson [0, 0.2775]; a map share of 0.05 is outside
    # the first and inside the second.
    est = point_estimates(_labels(0, 4, 6))
    cmp = compare_with_map(est, {"树木": 0.05})
    assert cmp.loc[0, "status"] == "outside"
    assert cmp.loc[0, "status_wilson"] == "agrees"


def test_compare_with_map_errors_and_no_sample():
    est = point_estimates(_labels(30, 50, 20))
    with pytest.raises(DataError, match="fractions in"):
        compare_with_map(est, {"tree": 35.0})
    with pytest.raises(UnknownClassError, match="'water'"):
        compare_with_map(est, {"water": 0.1})
    empty = point_estimates([None, None])
    cmp = compare_with_map(empty, {"tree": 0.3})
    assert cmp.loc[0, "status"] == "no_sample" and math.isnan(cmp.loc[0, "sample_p"])


def test_map_labels_at_worldcover_default():
    codes = np.array([10, 20, 30, 40, 50, 60, 80, 90, 95, 100, 0], dtype="uint8")
    got = map_labels_at(codes, nodata=0)
    assert got == [
        "tree", "other_vegetation", "other_vegetation", "other_vegetation", "non_vegetation",
        "non_vegetation", "non_vegetation", "other_vegetation", "tree", "other_vegetation", None,
    ]
    assert map_labels_at([10, None, float("nan")]) == ["tree", None, None]
    assert DEFAULT_MAP_LABELS[70] == "non_vegetation"


def test_map_labels_at_unknown_code_and_custom_roles():
    with pytest.raises(UnknownClassError) as exc:
        map_labels_at([10, 12, 0, 12])  # 0 is not declared nodata here
    assert "12" in str(exc.value) and "0" in str(exc.value) and "nodata=" in str(exc.value)
    roles = {1: "树木", 2: "Other Vegetation", 3: "non_vegetation"}
    assert map_labels_at([3, 1, 2, 255], roles, nodata=[255]) == ["non_vegetation", "tree", "other_vegetation", None]
    with pytest.raises(DataError, match="integer code with a label"):
        map_labels_at([1], {1: "forest"})


def test_agreement_table():
    # point:   1     2      3      4     5     6
    # sample: tree  tree   other  non   --    tree
    # map:    tree  other  other  non   tree  (nodata)
    # compared: 1-4 (5 unlabelled, 6 on nodata); agree: 1, 3, 4 -> 3/4 = 0.75
    sample = ["tree", "tree", "other_vegetation", "non_vegetation", None, "tree"]
    mapped = ["tree", "other_vegetation", "other_vegetation", "non_vegetation", "tree", None]
    agr = agreement_table(sample, mapped)
    assert (agr.n_points, agr.n_compared, agr.n_agree) == (6, 4, 3)
    assert agr.agreement == pytest.approx(0.75)
    t = agr.table
    assert t.shape == (3, 3) and t.index.name == "map" and t.columns.name == "sample"
    assert t.loc["tree", "tree"] == 1
    assert t.loc["other_vegetation", "tree"] == 1  # mapped other vegetation, really a tree
    assert t.loc["other_vegetation", "other_vegetation"] == 1
    assert t.loc["non_vegetation", "non_vegetation"] == 1
    assert int(t.to_numpy().sum()) == 4
    assert len(agr.notes) == 2
    with pytest.raises(DataError, match="3 sample labels but 2 map labels"):
        agreement_table(["tree"] * 3, ["tree"] * 2)
    assert math.isnan(agreement_table([None], ["tree"]).agreement)


# ---------------------------------------------------------------------------------------------
# Drawing points
# ---------------------------------------------------------------------------------------------

SQUARE = shapely.box(600_000, 3_550_000, 601_000, 3_551_000)  # 1 km x 1 km in UTM 50N


def test_points_lie_inside_and_are_deterministic():
    unit = shapely.Polygon([(0, 0), (1000, 0), (1000, 200), (200, 1000), (0, 1000)])
    a = sample_points(unit, 200, seed=7, crs=UTM50)
    b = sample_points(unit, 200, seed=7, crs=UTM50)
    c = sample_points(unit, 200, seed=8, crs=UTM50)
    assert isinstance(a, gpd.GeoDataFrame) and len(a) == 200
    assert list(a.columns) == ["point_id", "x", "y", "geometry"]
    assert a["point_id"].iloc[0] == "P001" and a["point_id"].iloc[-1] == "P200"
    assert a.crs == UTM50
    assert shapely.contains(unit, a.geometry.to_numpy()).all()
    assert np.allclose(a.geometry.x, a["x"]) and np.allclose(a.geometry.y, a["y"])
    assert a[["x", "y"]].equals(b[["x", "y"]])
    assert not np.allclose(a["x"], c["x"])


def test_no_points_in_a_hole():
    hole = shapely.box(600_200, 3_550_200, 600_800, 3_550_800)  # 36 % of the square
    unit = SQUARE.difference(hole)
    pts = sample_points(unit, 500, seed=1, crs=UTM50)
    assert shapely.contains(unit, pts.geometry.to_numpy()).all()
    assert not shapely.intersects(hole, pts.geometry.to_numpy()).any()


def test_multipolygon_parts_get_points_by_area():
    # Two parts 10 km apart: 1 km^2 and 0.25 km^2 -> expected 80 % / 20 % of 500 points.
    # A single bounding box would be filled to 1.25 / 11.5 = 11 %; per part it is 100 %.
    small = shapely.box(611_000, 3_550_000, 611_500, 3_550_500)
    unit = shapely.MultiPolygon([SQUARE, small])
    pts = sample_points(unit, 500, seed=3, crs=UTM50)
    in_small = int(shapely.contains(small, pts.geometry.to_numpy()).sum())
    in_big = int(shapely.contains(SQUARE, pts.geometry.to_numpy()).sum())
    assert in_small + in_big == 500
    # binomial(500, 0.2): mean 100, SD sqrt(500*0.2*0.8) = 8.9; 4 SD = 36
    assert abs(in_small - 100) < 36


def test_geodataframe_input_passes_crs():
    gdf = gpd.GeoDataFrame({"name": ["u"]}, geometry=[SQUARE], crs=UTM50)
    pts = sample_points(gdf, 10, seed=0)
    assert pts.crs == UTM50 and len(pts) == 10
    assert sample_points(SQUARE, 5).crs is None  # crs passed through, None stays None
    with pytest.raises(DataError, match="differs"):
        sample_points(gdf, 10, crs="EPSG:32651")


def test_bad_requests():
    with pytest.raises(DataError, match="0 points asked for"):
        sample_points(SQUARE, 0)
    with pytest.raises(DataError, match=f"1 to {MAX_SAMPLE_POINTS}"):
        sample_points(SQUARE, MAX_SAMPLE_POINTS + 1)
    with pytest.raises(DataError, match="whole number"):
        sample_points(SQUARE, 10.5)
    with pytest.raises(GeometryError, match="empty"):
        sample_points(shapely.Polygon(), 10)
    with pytest.raises(GeometryError, match="no area"):
        sample_points(shapely.LineString([(0, 0), (10, 10)]), 10)
    with pytest.raises(GeometryError, match="no area"):
        sample_points(shapely.Polygon([(0, 0), (10, 0), (20, 0)]), 10)  # collapsed to a line
    with pytest.raises(DataError, match="geographic CRS"):
        sample_points(shapely.box(118.6, 32.1, 118.7, 32.2), 10, crs="EPSG:4326")


def test_thin_polygon_is_refused():
    # A 1 m wide diagonal strip 10 km long: area about 10,000 m^2 in a 10 km x 10 km bounding
    # box, so it fills 1e-4 of it; 100 points need about 1e6 candidates > 200,000.
    strip = shapely.LineString([(0, 0), (10_000, 10_000)]).buffer(0.5, cap_style="flat")
    with pytest.raises(DataError) as exc:
        sample_points(strip, 100, crs=UTM50)
    msg = str(exc.value)
    assert "thin" in msg and "bigger" in msg
    # A thin strip along the axes fills its box and is fine.
    pts = sample_points(shapely.box(0, 0, 10_000, 1), 100, crs=UTM50)
    assert len(pts) == 100


def test_estimate_from_drawn_points_is_unbiased():
    # 400 points in a 100 m square; the left 30 % (x < 30) is "tree".
    # True p = 0.30, SE = sqrt(0.3*0.7/400) = 0.0229; the estimate must be within 3 SE.
    sq = shapely.box(0, 0, 100, 100)
    pts = sample_points(sq, 400, seed=11, crs=UTM50)
    labels = np.where(pts["x"] < 30, "tree", "non_vegetation")
    est = point_estimates(labels)
    se = math.sqrt(0.3 * 0.7 / 400)
    assert abs(est.p("tree") - 0.30) < 3 * se
    # and over several seeds the 95 % interval covers 0.30 in most draws
    covered = 0
    for seed in range(40):
        e = point_estimates(np.where(sample_points(sq, 400, seed=seed)["x"] < 30, "tree", "非植被"))
        r = e.row("tree")
        covered += r["ci_low"] <= 0.30 <= r["ci_high"]
    assert covered >= 33  # binomial(40, 0.95): mean 38, P(< 33) < 0.1 %
