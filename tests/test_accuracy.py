"""Accuracy assessment and stratified area estimation (Olofsson et al. 2014), hand-worked.

Convention throughout: rows = map class, columns = reference class; areas in ha.
"""
from __future__ import annotations

import argparse
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geodata.errors import DataError, GeometryError, MissingCRSError, NoDataError, SchemaError, UnknownClassError
from geodata.rasters import read_info, row_areas_m2
from sinks.landcover.accuracy import (
    AreaEstimate,
    ConfusionMatrix,
    assess_map,
    confusion_matrix,
    load_mapping,
    mapped_area_ha,
    read_classes_at,
    stratified_area_estimate,
    write_accuracy_report,
)
from sinks.landcover.cli_accuracy import add_parsers
from sinks.landcover.sampling import design_sample
from tests.conftest import LC_T0, LC_T1, ORIGIN_X, ORIGIN_Y, PX, UTM50, shared_data, write_raster

# ---------------------------------------------------------------------------------------------
# A 3-class toy matrix, worked by hand
# ---------------------------------------------------------------------------------------------
#
#              reference 1   2   3 | n_i.
#   map 1              8   2   0 | 10
#   map 2              0   9   1 | 10
#   map 3              2   4  14 | 20
#   n_.j              10  15  15 | 40
#
# Sample counts:  OA = (8 + 9 + 14) / 40 = 31/40 = 0.775
#   p_e = (10*10 + 10*15 + 20*15) / 40^2 = 550/1600 = 0.34375
#   kappa = (0.775 - 0.34375) / (1 - 0.34375) = 0.43125 / 0.65625 = 23/35 = 0.657142...
#   UA = 8/10, 9/10, 14/20 = 0.8, 0.9, 0.7
#   PA = 8/10, 9/15, 14/15 = 0.8, 0.6, 0.9333
#   F1 = 2 UA PA / (UA + PA) = 0.8;  2*0.9*0.6/1.5 = 0.72;  (2*0.7*14/15)/(0.7 + 14/15) = 19.6/24.5 = 0.8
#
# Stratified (mapped areas 100, 300, 600 ha -> A = 1000 ha, W = 0.1, 0.3, 0.6):
#   q_ij = n_ij / n_i. : [0.8 0.2 0], [0 0.9 0.1], [0.1 0.2 0.7]
#   p_ij = W_i q_ij    : [0.08 0.02 0], [0 0.27 0.03], [0.06 0.12 0.42]
#   p_.j = 0.14, 0.41, 0.45 (sum 1)  ->  adjusted areas 140, 410, 450 ha
#   V(p_.1) = 0.1^2*0.8*0.2/9 + 0.3^2*0*1/9 + 0.6^2*0.1*0.9/19 = 0.0016/9 + 0.0324/19 = 0.00188304
#   V(p_.2) = 0.01*0.2*0.8/9 + 0.09*0.9*0.1/9 + 0.36*0.2*0.8/19 = 0.0016/9 + 0.0081/9 + 0.0576/19
#   V(p_.3) = 0 + 0.09*0.1*0.9/9 + 0.36*0.7*0.3/19 = 0.0081/9 + 0.0756/19
#   SE(A_1) = 1000 * sqrt(0.00188304) = 43.394 ha; CI = 1.96 * 43.394 = 85.05 ha
#   OA = 0.08 + 0.27 + 0.42 = 0.77;  V(OA) = 0.01*0.16/9 + 0.09*0.09/9 + 0.36*0.21/19
#   UA = 0.8, 0.9, 0.7 (as above); V(UA_i) = U(1-U)/(n_i.-1) = 0.16/9, 0.09/9, 0.21/19
#   PA = 0.08/0.14 = 0.5714, 0.27/0.41 = 0.6585, 0.42/0.45 = 0.9333
#   V(PA_1) (Eq. 7, N = 100, 300, 600, N_.1 = 140):
#     first  = 100^2 (1 - 4/7)^2 0.8*0.2/9          = 10000 * (9/49) * 0.16/9 = 32.653
#     others = 300^2 * 0 + 600^2 * 0.1*0.9/19       = 1705.263
#     V = (32.653 + (4/7)^2 * 1705.263) / 140^2    = (32.653 + 556.821) / 19600 = 0.030075

TOY = np.array([[8, 2, 0], [0, 9, 1], [2, 4, 14]])
TOY_AREA = {1: 100.0, 2: 300.0, 3: 600.0}


def _toy_pairs():
    m, r = [], []
    for i, c_map in enumerate((1, 2, 3)):
        for j, c_ref in enumerate((1, 2, 3)):
            m += [c_map] * TOY[i, j]
            r += [c_ref] * TOY[i, j]
    return m, r


def test_confusion_matrix_toy_by_hand():
    m, r = _toy_pairs()
    cm = confusion_matrix(m, r)
    assert isinstance(cm, ConfusionMatrix) and cm.classes == (1, 2, 3)
    np.testing.assert_array_equal(cm.counts, TOY)
    assert cm.n_samples == 40
    assert cm.overall_accuracy == pytest.approx(0.775)
    assert cm.kappa == pytest.approx(23 / 35)
    t = cm.per_class()
    assert list(t.columns) == ["class", "n_map", "n_reference", "n_correct", "user_accuracy", "producer_accuracy", "f1"]
    np.testing.assert_allclose(t["user_accuracy"], [0.8, 0.9, 0.7])
    np.testing.assert_allclose(t["producer_accuracy"], [0.8, 0.6, 14 / 15])
    np.testing.assert_allclose(t["f1"], [0.8, 0.72, 0.8])
    np.testing.assert_array_equal(t["n_map"], [10, 10, 20])
    np.testing.assert_array_equal(t["n_reference"], [10, 15, 15])
    # frozen: neither the object nor its array can be changed
    with pytest.raises(Exception):
        cm.counts[0, 0] = 99
    with pytest.raises(Exception):
        cm.classes = (9,)


def test_confusion_matrix_rows_are_map_and_unknown_classes():
    cm = confusion_matrix([1, 1], [1, 2])  # one unit mapped 1 but really 2
    assert cm.to_frame().loc[1, 2] == 1 and cm.to_frame().loc[2, 1] == 0
    assert cm.to_frame().index.name == "map_class" and cm.to_frame().columns.name == "reference_class"
    # a class that is never mapped and never in the reference: NaN accuracies, not an error
    cm = confusion_matrix([1, 2], [1, 2], classes=[1, 2, 3])
    assert np.isnan(cm.user_accuracy[2]) and np.isnan(cm.producer_accuracy[2])
    with pytest.raises(UnknownClassError, match=r"\[7\]"):
        confusion_matrix([1, 7], [1, 1], classes=[1, 2])
    with pytest.raises(DataError, match="2 map labels but 1"):
        confusion_matrix([1, 2], [1])


def test_stratified_estimate_toy_by_hand():
    e = stratified_area_estimate(TOY, TOY_AREA, classes=(1, 2, 3))
    assert isinstance(e, AreaEstimate) and e.z == 1.96
    np.testing.assert_allclose(e.proportions, [[0.08, 0.02, 0], [0, 0.27, 0.03], [0.06, 0.12, 0.42]])
    np.testing.assert_allclose(e.area_proportion, [0.14, 0.41, 0.45])
    np.testing.assert_allclose(e.adjusted_area_ha, [140, 410, 450])
    assert e.adjusted_area_ha.sum() == pytest.approx(e.total_area_ha) == pytest.approx(1000)
    var = np.array([0.0016 / 9 + 0.0324 / 19, 0.0016 / 9 + 0.0081 / 9 + 0.0576 / 19, 0.0081 / 9 + 0.0756 / 19])
    np.testing.assert_allclose(e.area_proportion_se, np.sqrt(var))
    np.testing.assert_allclose(e.se_ha, 1000 * np.sqrt(var))
    assert e.se_ha[0] == pytest.approx(43.394, abs=1e-3)
    np.testing.assert_allclose(e.ci_ha, 1.96 * 1000 * np.sqrt(var))
    assert e.ci_ha[0] == pytest.approx(85.05, abs=0.01)
    assert e.overall_accuracy == pytest.approx(0.77)
    assert e.overall_accuracy_se == pytest.approx(math.sqrt(0.0016 / 9 + 0.0081 / 9 + 0.0756 / 19))
    np.testing.assert_allclose(e.user_accuracy, [0.8, 0.9, 0.7])
    np.testing.assert_allclose(e.user_accuracy_se, np.sqrt([0.16 / 9, 0.09 / 9, 0.21 / 19]))
    np.testing.assert_allclose(e.producer_accuracy, [0.08 / 0.14, 0.27 / 0.41, 0.42 / 0.45])
    assert e.producer_accuracy_se[0] == pytest.approx(math.sqrt((32.6531 + 556.8205) / 19600), rel=1e-4)
    t = e.to_frame()
    np.testing.assert_allclose(t["ci_low_ha"], t["adjusted_area_ha"] - t["ci_ha"])
    assert list(t["class"]) == [1, 2, 3] and t["n_samples"].tolist() == [10, 10, 20]
    # the same from a ConfusionMatrix, a DataFrame and with the areas as a sequence
    m, r = _toy_pairs()
    e2 = stratified_area_estimate(confusion_matrix(m, r), [100, 300, 600])
    np.testing.assert_allclose(e2.se_ha, e.se_ha)
    df = pd.DataFrame(TOY, index=[1, 2, 3], columns=[1, 2, 3])
    np.testing.assert_allclose(stratified_area_estimate(df, TOY_AREA).producer_accuracy_se, e.producer_accuracy_se)
    # another confidence level: the normal quantile
    e90 = stratified_area_estimate(TOY, TOY_AREA, classes=(1, 2, 3), confidence=0.90)
    assert e90.z == pytest.approx(1.644854, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# The worked example of Olofsson et al. (2014), Section 5
# ---------------------------------------------------------------------------------------------
# Strata (map classes) and their mapped pixel counts (30 m pixels, 0.09 ha each):
#   Deforestation 200,000; Forest gain 150,000; Stable forest 3,200,000; Stable non-forest 6,450,000
#   -> 10,000,000 px = 900,000 ha; W = 0.02, 0.015, 0.32, 0.645.
# Sample counts (rows map, columns reference), n_i. = 75, 75, 165, 325:
#   Deforestation       66   0    5    4
#   Forest gain          0  55    8   12
#   Stable forest        1   0  153   11
#   Stable non-forest    2   1    9  313
# The numbers were found in stored public code (an R script and a Python test suite that both
# reproduce the paper's example); the published results below come from that test suite, which
# quotes the paper's Table 9 and the areas/accuracies with their 95 % CIs.
PAPER_CLASSES = ("Deforestation", "Forest gain", "Stable forest", "Stable non-forest")
PAPER_COUNTS = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])
PAPER_PIXELS = np.array([200_000, 150_000, 3_200_000, 6_450_000])
HA_PER_PIXEL = 0.09


def test_olofsson_2014_worked_example():
    mapped_ha = dict(zip(PAPER_CLASSES, PAPER_PIXELS * HA_PER_PIXEL))
    cm = pd.DataFrame(PAPER_COUNTS, index=PAPER_CLASSES, columns=PAPER_CLASSES)
    e = stratified_area_estimate(cm, mapped_ha)
    # Table 9: estimated area proportions p_ij (4 decimals)
    table9 = np.array([
        [0.0176, 0.0000, 0.0013, 0.0011],
        [0.0000, 0.0110, 0.0016, 0.0024],
        [0.0019, 0.0000, 0.2967, 0.0213],
        [0.0040, 0.0020, 0.0179, 0.6212],
    ])
    np.testing.assert_allclose(e.proportions.round(4), table9, atol=0)
    # Areas (ha) with 95 % CI, as published: 21,158 +/- 6,158; 11,686 +/- 3,756;
    # 285,770 +/- 15,510; 581,386 +/- 16,282 (deforestation: 235,086 +/- 68,418 pixels)
    np.testing.assert_array_equal(e.adjusted_area_ha.round(), [21_158, 11_686, 285_770, 581_386])
    np.testing.assert_array_equal(e.ci_ha.round(), [6_158, 3_756, 15_510, 16_282])
    assert round(e.adjusted_area_ha[0] / HA_PER_PIXEL) == 235_086
    assert round(e.ci_ha[0] / HA_PER_PIXEL) == 68_418
    assert e.adjusted_area_ha.sum() == pytest.approx(900_000)
    # Accuracies with 95 % CI (2 decimals): user's 0.88 +/- 0.07, 0.73 +/- 0.10, 0.93 +/- 0.04,
    # 0.96 +/- 0.02; producer's 0.75 +/- 0.21, 0.85, 0.93 +/- 0.03, 0.96; overall 0.95 +/- 0.02
    t = e.to_frame()
    np.testing.assert_array_equal(t["user_accuracy"].round(2), [0.88, 0.73, 0.93, 0.96])
    np.testing.assert_array_equal(t["user_accuracy_ci"].round(2), [0.07, 0.10, 0.04, 0.02])
    np.testing.assert_array_equal(t["producer_accuracy"].round(2), [0.75, 0.85, 0.93, 0.96])
    assert round(t["producer_accuracy_ci"][0], 2) == 0.21 and round(t["producer_accuracy_ci"][2], 2) == 0.03
    # The paper prints +/- 0.23 (forest gain) and +/- 0.01 (stable non-forest) for the
    # producer's accuracy; Eq. 7 gives 0.254 and 0.018 (an independent implementation found the
    # same and dropped those two checks). We test Eq. 7 as written.
    assert t["producer_accuracy_ci"][1] == pytest.approx(0.2544, abs=5e-4)
    assert t["producer_accuracy_ci"][3] == pytest.approx(0.0184, abs=5e-4)
    assert round(e.overall_accuracy, 2) == 0.95 and round(e.overall_accuracy_ci, 2) == 0.02


def test_stratified_estimate_refuses_bad_input():
    with pytest.raises(DataError, match=r"map classes \[2\] have mapped area but no sample unit"):
        stratified_area_estimate(np.array([[5, 0, 0], [0, 5, 0], [0, 0, 0]]), [1, 1, 1])
    with pytest.raises(DataError, match="no mapped area"):
        stratified_area_estimate(np.array([[5, 0], [0, 5]]), [1, 0])
    with pytest.raises(SchemaError, match=r"no mapped area given for classes \[2\]"):
        stratified_area_estimate(np.array([[5, 0], [0, 5]]), {0: 1.0}, classes=(0, 2))
    with pytest.raises(DataError, match="classes \\[9\\] have mapped area but no row"):
        stratified_area_estimate(np.array([[5, 0], [0, 5]]), {0: 1.0, 1: 1.0, 9: 5.0})
    with pytest.raises(DataError, match="negative, fractional"):
        stratified_area_estimate(np.array([[5, -1], [0, 5]]), [1, 1])
    with pytest.raises(SchemaError, match="square"):
        stratified_area_estimate(np.ones((2, 3)), [1, 1])
    # a class that nobody mapped but the reference found: a column, zero mapped area - fine
    e = stratified_area_estimate(np.array([[4, 0, 1], [0, 5, 0], [0, 0, 0]]), [10, 10, 0])
    # class 3: 10 ha * 1/5 = 2 ha found by the reference; never mapped, so no user's accuracy
    assert e.adjusted_area_ha.tolist() == pytest.approx([8, 10, 2]) and np.isnan(e.user_accuracy[2])
    assert e.producer_accuracy[2] == 0
    # one sample unit in a stratum: estimates stand, the variances are undefined (NaN) and noted
    e = stratified_area_estimate(np.array([[1, 0], [1, 4]]), [10, 10])
    assert e.adjusted_area_ha.tolist() == pytest.approx([12.0, 8.0])
    assert np.isnan(e.se_ha).all() and math.isnan(e.overall_accuracy_se)
    assert any("one sample unit" in n for n in e.notes)


# ---------------------------------------------------------------------------------------------
# A map raster against reference points (the 4 x 4 grid of conftest, 30 m pixels = 0.09 ha)
# ---------------------------------------------------------------------------------------------
# Map = LC_T0 and "truth" = LC_T1, one point on every valid pixel (a census):
#   map 10: 4 px, all reference 10            -> [4 0 0 0 0]
#   map 40: 4 px, reference 10, 40, 50, 40    -> [1 2 1 0 0]
#   map 50: 2 px, reference 50, 50            -> [0 0 2 0 0]
#   map 80: 3 px, reference 80 x 3            -> [0 0 0 3 0]
#   map 90: 2 px, reference 90, 50            -> [0 0 1 0 1]
#   OA = 12 / 15 = 0.8. Mapped areas 0.36, 0.36, 0.18, 0.27, 0.18 ha (+ 0.09 ha nodata).
#   With a census W_i / n_i. = 1/15 for every stratum, so p_.j = (column total) / 15 and the
#   adjusted areas are the reference (LC_T1) areas: 5, 2, 4, 3, 1 px = 0.45, 0.18, 0.36, 0.27, 0.09 ha.


def _px_centre(row: int, col: int) -> tuple[float, float]:
    return ORIGIN_X + (col + 0.5) * PX, ORIGIN_Y - (row + 0.5) * PX


def _census_points(crs=UTM50) -> gpd.GeoDataFrame:
    rows, cols = np.nonzero(LC_T0 != 0)
    xy = [_px_centre(r, c) for r, c in zip(rows, cols)]
    g = gpd.GeoDataFrame({"ref": LC_T1[rows, cols].astype(int)}, geometry=gpd.points_from_xy(*zip(*xy)), crs=UTM50)
    return g.to_crs(crs) if crs != UTM50 else g


@pytest.fixture
def tiny_map(tmp_path):
    return write_raster(tmp_path / "map.tif", LC_T0)


def test_assess_map_census_by_hand(tiny_map):
    r = assess_map(tiny_map, _census_points(), class_field="ref")
    assert r.confusion.classes == (10, 40, 50, 80, 90)
    np.testing.assert_array_equal(r.confusion.counts, [[4, 0, 0, 0, 0], [1, 2, 1, 0, 0], [0, 0, 2, 0, 0], [0, 0, 0, 3, 0], [0, 0, 1, 0, 1]])
    assert r.confusion.overall_accuracy == pytest.approx(0.8)
    np.testing.assert_allclose(r.area.mapped_area_ha, [0.36, 0.36, 0.18, 0.27, 0.18])
    assert r.nodata_ha == pytest.approx(0.09)
    np.testing.assert_allclose(r.area.adjusted_area_ha, [0.45, 0.18, 0.36, 0.27, 0.09])
    assert r.area.overall_accuracy == pytest.approx(0.8)
    assert r.notes == ()
    assert r.points["map_class"].tolist() == LC_T0[LC_T0 != 0].tolist()


def test_assess_map_reprojects_points_and_reads_in_small_windows(tiny_map):
    a = assess_map(tiny_map, _census_points(), class_field="ref")
    b = assess_map(tiny_map, _census_points("EPSG:4326"), class_field="ref", block_size=2)
    np.testing.assert_array_equal(a.confusion.counts, b.confusion.counts)
    np.testing.assert_allclose(a.area.se_ha, b.area.se_ha)
    assert any("reprojected from EPSG:4326 to the map CRS EPSG:32650" in n for n in b.notes)


def test_assess_map_with_a_mapping_table(tiny_map, tmp_path):
    names = {10: "林地 forest", 40: "cropland", 50: "built-up", 80: "water", 90: "wetland"}
    g = _census_points()
    g["label"] = [names[v] for v in g["ref"]]
    csv = tmp_path / "mapping.csv"
    csv.write_text("reference_class,map_code\n" + "".join(f"{v},{k}\n" for k, v in names.items()), encoding="gb18030")
    assert load_mapping(csv)["林地 forest"] == 10
    r = assess_map(tiny_map, g, class_field="label", mapping=csv)
    np.testing.assert_array_equal(r.confusion.counts, assess_map(tiny_map, g, class_field="ref").confusion.counts)
    assert "reference_label" in r.points.columns
    g.loc[0, "label"] = "orchard"
    with pytest.raises(UnknownClassError, match=r"\['orchard'\].*not in the mapping"):
        assess_map(tiny_map, g, class_field="label", mapping=csv)


def test_assess_map_refuses_bad_points(tiny_map):
    g = _census_points()
    outside = pd.concat([g, gpd.GeoDataFrame({"ref": [10]}, geometry=gpd.points_from_xy([ORIGIN_X - 100], [ORIGIN_Y - 10]), crs=UTM50)], ignore_index=True)
    with pytest.raises(DataError, match=r"1 reference point\(s\) lie outside the map map.tif: #15 \(599900"):
        assess_map(tiny_map, outside, class_field="ref")
    on_nodata = pd.concat([g, gpd.GeoDataFrame({"ref": [10]}, geometry=gpd.points_from_xy(*zip(_px_centre(3, 0))), crs=UTM50)], ignore_index=True)
    with pytest.raises(NoDataError, match=r"1 reference point\(s\) fall on nodata pixels \(value 0\).*#15"):
        assess_map(tiny_map, on_nodata, class_field="ref")
    bad = g.copy()
    bad.loc[3, "ref"] = 99
    with pytest.raises(UnknownClassError, match=r"reference classes \[99\] are not classes of the map"):
        assess_map(tiny_map, bad, class_field="ref")
    assess_map(tiny_map, bad, class_field="ref", legend=[99])  # unless the legend names it
    bad.loc[3, "ref"] = 0
    with pytest.raises(UnknownClassError, match="reference class 0 is the map's nodata value"):
        assess_map(tiny_map, bad, class_field="ref")
    with pytest.raises(MissingCRSError):
        assess_map(tiny_map, g.set_crs(None, allow_override=True), class_field="ref")
    with pytest.raises(SchemaError, match="no column 'lulc'"):
        assess_map(tiny_map, g, class_field="lulc")
    blank = g.astype({"ref": object})
    blank.loc[[2, 5], "ref"] = None
    with pytest.raises(SchemaError, match=r"column 'ref' is empty for points 2, 5"):
        assess_map(tiny_map, blank, class_field="ref")
    text = g.astype({"ref": object})
    text.loc[1, "ref"] = "forest"
    with pytest.raises(UnknownClassError, match="not integer map codes"):
        assess_map(tiny_map, text, class_field="ref")
    with pytest.raises(DataError, match=r"map classes \[90\] have mapped area but no sample unit"):
        assess_map(tiny_map, g[g["ref"].index.isin(np.flatnonzero(LC_T0[LC_T0 != 0] != 90))], class_field="ref")
    with pytest.raises(GeometryError, match="single points"):
        assess_map(tiny_map, g.set_geometry(g.buffer(1)), class_field="ref")


def test_read_classes_at_and_mapped_area(tiny_map):
    g = _census_points("EPSG:4326")
    np.testing.assert_array_equal(read_classes_at(tiny_map, g, block_size=3), LC_T0[LC_T0 != 0])
    area, nodata = mapped_area_ha(tiny_map)
    assert area == pytest.approx({10: 0.36, 40: 0.36, 50: 0.18, 80: 0.27, 90: 0.18}) and nodata == pytest.approx(0.09)


def test_write_accuracy_report_atomic(tiny_map, tmp_path):
    r = assess_map(tiny_map, _census_points(), class_field="ref")
    out = tmp_path / "report"
    files = write_accuracy_report(r, out)
    assert [f.name for f in files] == ["accuracy.json", "accuracy_by_class.csv", "area_estimate.csv", "confusion_matrix.csv", "error_matrix_area_proportions.csv", "sample_points.csv"]
    doc = json.loads((out / "accuracy.json").read_text(encoding="utf-8"))
    assert doc["sample"]["overall_accuracy"] == pytest.approx(0.8)
    assert doc["confusion_matrix_counts"][1] == [1, 2, 1, 0, 0]
    assert doc["area_estimate"][0]["adjusted_area_ha"] == pytest.approx(0.45)
    cm = pd.read_csv(out / "confusion_matrix.csv", index_col="map_class")
    np.testing.assert_array_equal(cm.to_numpy(), r.confusion.counts)
    pd.testing.assert_frame_equal(pd.read_csv(out / "area_estimate.csv"), r.area.to_frame(), check_dtype=False)
    # an earlier report is replaced, a foreign folder is refused, no temporary folder is left
    write_accuracy_report(r, out)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match=r"not an earlier report \(no accuracy.json\)"):
        write_accuracy_report(r, foreign)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign", "map.tif", "report"]


def _parser():
    p = argparse.ArgumentParser(prog="python -m sinks")
    add_parsers(p.add_subparsers(dest="command", required=True))
    return p


def test_cli_accuracy(tiny_map, tmp_path, capsys):
    ref = tmp_path / "ref.gpkg"
    _census_points("EPSG:4326").to_file(ref, layer="refs", driver="GPKG")
    args = _parser().parse_args(["accuracy", "--map", str(tiny_map), "--reference", str(ref), "--class-field", "ref", "--layer", "refs", "--out", str(tmp_path / "acc")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "overall accuracy (sample counts) 80.0%" in out and "kappa" in out and "ci95_ha" in out
    assert "reprojected" in out and (tmp_path / "acc" / "accuracy.json").exists()
    args = _parser().parse_args(["accuracy", "--map", str(tiny_map), "--reference", str(ref), "--class-field", "nope", "--out", str(tmp_path / "acc2")])
    with pytest.raises(SchemaError):  # DataError propagates; sinks.cli.main turns it into exit 1
        args.func(args)


# ---------------------------------------------------------------------------------------------
# Real data (read in place from ../shared/data)
# ---------------------------------------------------------------------------------------------


def test_real_slovenia_map_against_its_polygons(tmp_path):
    raster = shared_data("landcover", "eolearn_slovenia_lulc_10m.tif")
    polygons = shared_data("landcover", "eolearn_slovenia_lulc_polygons.gpkg")
    # 9.9948 x 9.9974 m pixels: 0.03 % off square, accepted (areas come from the determinant)
    map_path = raster
    pts = design_sample(map_path, n_total=300, allocation="olofsson", min_per_class=50, seed=3)
    # 300 points, at least 50 per class (class 1 has only 11 pixels: all of them), rest proportional
    assert pts.attrs["allocation"] == {1: 11, 2: 139, 3: 50, 4: 50, 8: 50}
    poly = gpd.read_file(polygons)[["LULC_ID", "geometry"]]
    joined = gpd.sjoin(pts.drop(columns="reference_class"), poly, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    labelled = joined[joined["LULC_ID"].notna() & (joined["LULC_ID"] != 0)].drop(columns="index_right")
    assert len(labelled) >= 290  # nearly every pixel centre lies in a labelled polygon
    r = assess_map(map_path, labelled, class_field="LULC_ID")
    print(f"\nSlovenia: {r.confusion.n_samples} points, OA (sample) {r.confusion.overall_accuracy:.3f}, kappa {r.confusion.kappa:.3f}, "
          f"OA (stratified) {r.area.overall_accuracy:.3f} +/- {r.area.overall_accuracy_ci:.3f}")
    assert r.confusion.classes == (1, 2, 3, 4, 8)
    # the raster was rasterized from these polygons: they disagree only at edges
    assert r.confusion.overall_accuracy > 0.95 and r.area.overall_accuracy > 0.95
    assert r.area.adjusted_area_ha.sum() == pytest.approx(r.area.total_area_ha)
    info = read_info(map_path)
    px_ha = abs(info.transform.a * info.transform.e) / 1e4  # 9.9948 x 9.9974 m = 99.922 m2
    assert r.area.total_area_ha + r.nodata_ha == pytest.approx(info.width * info.height * px_ha)


def test_real_worldcover_2020_against_2021(tmp_path):
    m2020 = shared_data("landcover", "esa_worldcover_2020_N00E006_clip_saotome_10m.tif")
    m2021 = shared_data("landcover", "esa_worldcover_2021_N00E006_clip_saotome_10m.tif")
    pts = design_sample(m2020, n_total=600, allocation="olofsson", min_per_class=50, seed=0)
    pts["reference_class"] = read_classes_at(m2021, pts)
    r = assess_map(m2020, pts, class_field="reference_class")
    a = r.area
    t = a.to_frame().set_index("class")
    print(f"\nWorldCover 2020 vs 2021: OA (sample) {r.confusion.overall_accuracy:.3f}, kappa {r.confusion.kappa:.3f}, "
          f"OA (stratified) {a.overall_accuracy:.3f} +/- {a.overall_accuracy_ci:.3f}")
    print(t[["n_samples", "mapped_area_ha", "adjusted_area_ha", "ci_ha", "user_accuracy", "producer_accuracy"]].round(2).to_string())
    # geodesic pixel areas: the strata cover the grid exactly
    info = read_info(m2020)
    grid_ha = row_areas_m2(info).sum() * info.width / 1e4
    assert a.total_area_ha + r.nodata_ha == pytest.approx(grid_ha, rel=1e-9)
    assert 25_000 < grid_ha < 26_500  # 1680 x 1800 cells of 1/12000 deg near the equator
    # adjusted areas redistribute the mapped total, nothing is lost or created
    assert a.adjusted_area_ha.sum() == pytest.approx(a.total_area_ha, rel=1e-12)
    assert np.all(np.isfinite(a.ci_ha)) and np.all(a.ci_ha >= 0)
    assert np.all(a.ci_ha <= a.total_area_ha)
    # the 2021 map is known everywhere, so the true 2021 areas can be checked against the CIs
    true_2021, _ = mapped_area_ha(m2021)
    for c in (10, 80):  # tree cover and water: large strata, tight intervals
        assert abs(t.loc[c, "adjusted_area_ha"] - true_2021[c]) <= t.loc[c, "ci_ha"]
    assert a.overall_accuracy > 0.9 > r.confusion.overall_accuracy  # sample OA over-weights rare strata
