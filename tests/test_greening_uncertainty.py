"""Coverage intervals per unit from the map's error matrix, hand-worked.

Rows = map class, columns = reference class; areas in ha.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.errors import DataError, SchemaError, UnknownClassError
from sinks.greening.uncertainty import coverage_intervals, error_counts_frame, load_error_counts
from sinks.landcover.accuracy import (
    ConfusionMatrix,
    MapAssessment,
    stratified_area_estimate,
    write_accuracy_report,
)

# ---------------------------------------------------------------------------------------------
# Two classes, worked by hand
# ---------------------------------------------------------------------------------------------
#
#              reference 1 (tree)  2 (other) | n_i.
#   map 1              45          5       | 50
#   map 2              10         40       | 50
#
# q_i = P(reference tree | map i) = 45/50 = 0.9, 10/50 = 0.2
# Unit "a": mapped 20 ha tree, 80 ha other.
#   A_hat = 20*0.9 + 80*0.2 = 18 + 16 = 34 ha  (mapped 20 ha)
#   Var   = 20^2*0.9*0.1/49 + 80^2*0.2*0.8/49 = (36 + 1024)/49 = 21.632653
#   SE    = 4.651092 ha; CI = 34 +/- 1.96*4.651092 = 34 +/- 9.116140 -> 24.883860 .. 43.116140
# Denominator 100 ha: mapped 20 %, adjusted 34 %, CI 24.88 .. 43.12 %.
# Unit "b": 5 ha tree, 5 ha other, denominator 20 ha:
#   A_hat = 4.5 + 1 = 5.5 ha; Var = (25*0.09 + 25*0.16)/49 = 6.25/49 = 0.127551, SE = 0.357143
#   CI 5.5 +/- 0.7 = 4.8 .. 6.2 ha -> 24 .. 31 %; adjusted 27.5 %, mapped 25 %.

TWO = pd.DataFrame([[45, 5], [10, 40]], index=[1, 2], columns=[1, 2])


def _units(rows):
    return pd.DataFrame(rows, columns=["unit_id", "code", "area_ha"])


def test_two_class_hand_worked():
    units = _units([("a", 1, 20.0), ("a", 2, 80.0), ("b", 1, 5.0), ("b", 2, 5.0)])
    out = coverage_intervals(units, TWO, [1], denominator_ha={"a": 100.0, "b": 20.0})
    assert list(out["unit_id"]) == ["a", "b"]
    a = out.iloc[0]
    assert a["total_mapped_ha"] == pytest.approx(100.0)
    assert a["mapped_target_ha"] == pytest.approx(20.0)
    assert a["adjusted_target_ha"] == pytest.approx(34.0)
    assert a["se_ha"] == pytest.approx(math.sqrt(1060 / 49))
    assert a["se_ha"] == pytest.approx(4.651092, abs=1e-6)
    assert (a["ci_low_ha"], a["ci_high_ha"]) == pytest.approx((24.883860, 43.116140), abs=1e-6)
    assert (a["mapped_pct"], a["adjusted_pct"]) == pytest.approx((20.0, 34.0))
    assert (a["ci_low_pct"], a["ci_high_pct"]) == pytest.approx((24.883860, 43.116140), abs=1e-6)
    assert a["notes"] == ""
    b = out.iloc[1]
    assert b["adjusted_target_ha"] == pytest.approx(5.5)
    assert b["se_ha"] == pytest.approx(0.357143, abs=1e-6)
    assert (b["ci_low_ha"], b["ci_high_ha"]) == pytest.approx((4.8, 6.2))
    assert (b["mapped_pct"], b["adjusted_pct"], b["ci_low_pct"], b["ci_high_pct"]) == pytest.approx((25.0, 27.5, 24.0, 31.0))
    assert out.attrs["target_codes"] == [1] and out.attrs["z"] == 1.96


def test_without_denominator_only_hectares():
    out = coverage_intervals(_units([("a", 1, 20.0), ("a", 2, 80.0)]), TWO, [1])
    assert list(out.columns) == ["unit_id", "total_mapped_ha", "mapped_target_ha", "adjusted_target_ha", "se_ha", "ci_low_ha", "ci_high_ha", "notes"]


def test_interval_is_clipped_to_the_unit():
    # Unit of 1 ha mapped as class 2: A_hat = 0.2 ha, SE = sqrt(1*0.16/49) = 0.057143,
    # 0.2 +/- 0.112 -> 0.088 .. 0.312 (inside); at 99.99 % z = 3.890592 -> 0.2 - 0.222 < 0 -> 0.
    out = coverage_intervals(_units([("c", 2, 1.0)]), TWO, [1], confidence=0.9999)
    assert out.loc[0, "ci_low_ha"] == 0.0
    assert out.loc[0, "ci_high_ha"] == pytest.approx(0.2 + 3.890592 * 0.057143, abs=1e-5)


# ---------------------------------------------------------------------------------------------
# Against Olofsson et al. (2014) over the whole map
# ---------------------------------------------------------------------------------------------
# The 3-class toy of tests/test_accuracy.py: rows map 1..3 = [8 2 0], [0 9 1], [2 4 14];
# mapped areas 100, 300, 600 ha. Olofsson: adjusted 140, 410, 450 ha; SE(A_1) = 43.394 ha.

TOY = np.array([[8, 2, 0], [0, 9, 1], [2, 4, 14]])
TOY_AREA = {1: 100.0, 2: 300.0, 3: 600.0}


def test_whole_map_unit_equals_olofsson():
    cm = ConfusionMatrix(classes=(1, 2, 3), counts=TOY)
    est = stratified_area_estimate(cm, TOY_AREA)
    units = _units([("map", c, a) for c, a in TOY_AREA.items()])
    for k, code in enumerate((1, 2, 3)):
        out = coverage_intervals(units, cm, [code])
        assert out.loc[0, "adjusted_target_ha"] == pytest.approx(est.adjusted_area_ha[k])
        assert out.loc[0, "se_ha"] == pytest.approx(est.se_ha[k])
        assert out.loc[0, "mapped_target_ha"] == pytest.approx(TOY_AREA[code])
    out = coverage_intervals(units, cm, [1])
    assert out.loc[0, "adjusted_target_ha"] == pytest.approx(140.0)
    assert out.loc[0, "se_ha"] == pytest.approx(43.394, abs=1e-3)


def test_set_of_targets_uses_the_union_indicator():
    # Target {1, 2}: q = (8+2)/10 = 1.0, (0+9)/10 = 0.9, (2+4)/20 = 0.3
    #   A_hat = 100*1 + 300*0.9 + 600*0.3 = 100 + 270 + 180 = 550 = 140 + 410 (Olofsson's sum)
    #   Var = 0 + 300^2*0.9*0.1/9 + 600^2*0.3*0.7/19 = 900 + 3978.947 = 4878.947, SE = 69.849
    # (not sqrt(SE_1^2 + SE_2^2): the two class estimates are negatively correlated)
    cm = ConfusionMatrix(classes=(1, 2, 3), counts=TOY)
    units = _units([("map", c, a) for c, a in TOY_AREA.items()])
    out = coverage_intervals(units, cm, [1, 2])
    est = stratified_area_estimate(cm, TOY_AREA)
    assert out.loc[0, "adjusted_target_ha"] == pytest.approx(est.adjusted_area_ha[0] + est.adjusted_area_ha[1])
    assert out.loc[0, "adjusted_target_ha"] == pytest.approx(550.0)
    assert out.loc[0, "se_ha"] == pytest.approx(math.sqrt(900 + 75600 / 19))
    assert out.loc[0, "se_ha"] == pytest.approx(69.849, abs=1e-3)
    assert out.loc[0, "mapped_target_ha"] == pytest.approx(400.0)


# ---------------------------------------------------------------------------------------------
# Input forms and special cases
# ---------------------------------------------------------------------------------------------


def test_dataframe_with_codes_as_text_and_shuffled_columns():
    # As read back from a CSV: string codes; columns in another order than rows.
    df = pd.DataFrame([[5, 45], [40, 10]], index=["10", "20"], columns=["20", "10"])
    fr = error_counts_frame(df)
    assert list(fr.index) == [10, 20] and list(fr.columns) == [10, 20]
    assert fr.loc[10, 10] == 45 and fr.loc[20, 10] == 10
    out = coverage_intervals(_units([("a", 10, 20.0), ("a", 20, 80.0)]), df, [10])
    assert out.loc[0, "adjusted_target_ha"] == pytest.approx(34.0)


def test_unsampled_class_is_kept_unadjusted_and_noted():
    # Class 3 is in the unit but not in the matrix: kept as mapped (not target -> q = 0; as a
    # target -> q = 1), no variance.
    units = _units([("a", 1, 20.0), ("a", 2, 80.0), ("a", 3, 50.0)])
    out = coverage_intervals(units, TWO, [1])
    assert out.loc[0, "adjusted_target_ha"] == pytest.approx(34.0)
    assert out.loc[0, "se_ha"] == pytest.approx(4.651092, abs=1e-6)
    assert out.loc[0, "total_mapped_ha"] == pytest.approx(150.0)
    assert "[3]" in out.loc[0, "notes"] and "unadjusted" in out.loc[0, "notes"]
    out = coverage_intervals(units, TWO, [1, 3])
    assert out.loc[0, "adjusted_target_ha"] == pytest.approx(84.0)
    assert out.loc[0, "mapped_target_ha"] == pytest.approx(70.0)
    # a class with a row of zeros in the matrix counts as unsampled too
    z = pd.DataFrame([[45, 5, 0], [10, 40, 0], [0, 0, 0]], index=[1, 2, 3], columns=[1, 2, 3])
    assert "[3]" in coverage_intervals(units, z, [1]).loc[0, "notes"]


def test_single_sample_stratum_gives_nan_se():
    # Map class 3 has one sample unit (reference 1): q_3 = 1, A_hat = 34 + 10 = 44, Var undefined.
    m = pd.DataFrame([[45, 5, 0], [10, 40, 0], [1, 0, 0]], index=[1, 2, 3], columns=[1, 2, 3])
    out = coverage_intervals(_units([("a", 1, 20.0), ("a", 2, 80.0), ("a", 3, 10.0)]), m, [1], denominator_ha={"a": 110.0})
    r = out.iloc[0]
    assert r["adjusted_target_ha"] == pytest.approx(44.0)
    assert math.isnan(r["se_ha"]) and math.isnan(r["ci_low_ha"]) and math.isnan(r["ci_high_pct"])
    assert "one sample unit" in r["notes"]
    # a unit without class 3 is unaffected
    ok = coverage_intervals(_units([("b", 1, 20.0), ("b", 2, 80.0)]), m, [1])
    assert ok.loc[0, "se_ha"] == pytest.approx(4.651092, abs=1e-6)


def test_bad_error_matrix():
    units = _units([("a", 1, 20.0)])
    with pytest.raises(SchemaError, match="square"):
        coverage_intervals(units, pd.DataFrame([[1, 2, 3], [4, 5, 6]], index=[1, 2], columns=[1, 2, 3]), [1])
    with pytest.raises(DataError, match="negative"):
        coverage_intervals(units, pd.DataFrame([[1, -2], [4, 5]], index=[1, 2], columns=[1, 2]), [1])
    with pytest.raises(SchemaError, match="columns hold"):
        coverage_intervals(units, pd.DataFrame([[1, 2], [4, 5]], index=[1, 2], columns=[1, 3]), [1])
    with pytest.raises(SchemaError, match="not integer"):
        coverage_intervals(units, pd.DataFrame([[1, 2], [4, 5]], index=["tree", "x"], columns=["tree", "x"]), [1])


def test_bad_unit_table_and_targets():
    with pytest.raises(SchemaError) as exc:
        coverage_intervals(pd.DataFrame({"unit_id": ["a"], "class": [1], "ha": [2.0]}), TWO, [1])
    assert "['code', 'area_ha']" in str(exc.value) and "unit_id, code, area_ha" in str(exc.value)
    with pytest.raises(DataError, match="non-negative"):
        coverage_intervals(_units([("a", 1, -1.0)]), TWO, [1])
    with pytest.raises(DataError, match=r"\(a, 1\)"):
        coverage_intervals(_units([("a", 1, 1.0), ("a", 1, 2.0)]), TWO, [1])
    with pytest.raises(UnknownClassError, match=r"\[10\]"):
        coverage_intervals(_units([("a", 1, 1.0)]), TWO, [10])
    with pytest.raises(DataError, match="no denominator for units b"):
        coverage_intervals(_units([("a", 1, 1.0), ("b", 1, 1.0)]), TWO, [1], denominator_ha={"a": 5.0})
    with pytest.raises(DataError, match="positive"):
        coverage_intervals(_units([("a", 1, 1.0)]), TWO, [1], denominator_ha={"a": 0.0})


# ---------------------------------------------------------------------------------------------
# Reading the counts from an accuracy report
# ---------------------------------------------------------------------------------------------


def test_load_error_counts_from_report(tmp_path: Path):
    cm = ConfusionMatrix(classes=(10, 30, 50), counts=TOY)
    area = {10: 100.0, 30: 300.0, 50: 600.0}
    result = MapAssessment(
        map_path=tmp_path / "map.tif",
        reference_source="ref.gpkg",
        class_field="ref",
        map_crs="EPSG:32650",
        confusion=cm,
        area=stratified_area_estimate(cm, area),
        nodata_ha=0.0,
        points=pd.DataFrame({"point_index": [0]}),
    )
    write_accuracy_report(result, tmp_path / "acc")
    for where in (tmp_path / "acc", tmp_path / "acc" / "accuracy.json"):
        fr = load_error_counts(where)
        assert list(fr.index) == [10, 30, 50] and list(fr.columns) == [10, 30, 50]
        assert np.array_equal(fr.to_numpy(), TOY)
    out = coverage_intervals(_units([("map", c, a) for c, a in area.items()]), load_error_counts(tmp_path / "acc"), [10])
    assert out.loc[0, "adjusted_target_ha"] == pytest.approx(140.0)


def test_load_error_counts_errors(tmp_path: Path):
    with pytest.raises(DataError, match="no accuracy report"):
        load_error_counts(tmp_path)
    bad = tmp_path / "accuracy.json"
    bad.write_text(json.dumps({"classes": [1, 2]}), encoding="utf-8")
    with pytest.raises(DataError, match="not an accuracy report"):
        load_error_counts(bad)
