"""Sample design: sample size (Olofsson et al. 2014 Eq. 13), allocation, stratified random points."""
from __future__ import annotations

import argparse

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.io

from geodata.errors import DataError
from sinks.landcover.accuracy import assess_map, read_classes_at
from sinks.landcover.cli_accuracy import add_parsers
from sinks.landcover.sampling import allocate_sample, design_sample, sample_size
from tests.conftest import ORIGIN_X, ORIGIN_Y, PX, UTM50, shared_data, write_raster

# Olofsson et al. (2014) Sect. 5 strata: mapped pixels and expected user's accuracies
PAPER_PX = {"Deforestation": 200_000, "Forest gain": 150_000, "Stable forest": 3_200_000, "Stable non-forest": 6_450_000}
PAPER_U = {"Deforestation": 0.70, "Forest gain": 0.60, "Stable forest": 0.90, "Stable non-forest": 0.95}


def test_sample_size_by_hand():
    # Two equal strata, U = 0.9 each: S_i = sqrt(0.9 * 0.1) = 0.3, sum W_i S_i = 0.3,
    # n = (0.3 / 0.01)^2 = 900; with SE(O) = 0.02: (0.3 / 0.02)^2 = 225.
    assert sample_size({1: 50.0, 2: 50.0}, 0.9) == 900
    assert sample_size({1: 50.0, 2: 50.0}, 0.9, target_se_overall=0.02) == 225
    # The paper's example: W = 0.02, 0.015, 0.32, 0.645;
    # S = sqrt(.7*.3) = 0.45826, sqrt(.6*.4) = 0.48990, sqrt(.9*.1) = 0.3, sqrt(.95*.05) = 0.21794
    # sum W S = 0.0091652 + 0.0073485 + 0.096 + 0.1405733 = 0.2530870
    # n = (0.2530870 / 0.01)^2 = 640.53 -> 641 (the paper's n = 641)
    mapped_ha = {k: v * 0.09 for k, v in PAPER_PX.items()}
    assert sample_size(mapped_ha, PAPER_U, target_se_overall=0.01) == 641
    with pytest.raises(DataError, match="no expected user's accuracy"):
        sample_size(mapped_ha, {"Deforestation": 0.7})
    with pytest.raises(DataError, match="fractions"):
        sample_size({1: 1.0}, 85)


def test_allocation_by_hand():
    # proportional, 641 points: 12.82, 9.615, 205.12, 413.445 -> floors 12, 9, 205, 413 (639);
    # the 2 left go to the largest remainders (.82, .615): 13, 10, 205, 413
    assert allocate_sample(PAPER_PX, n_total=641, allocation="proportional") == {
        "Deforestation": 13, "Forest gain": 10, "Stable forest": 205, "Stable non-forest": 413}
    assert allocate_sample(PAPER_PX, n_total=100, allocation="equal") == dict.fromkeys(PAPER_PX, 25)
    # olofsson with 75 per rare class: 641 - 150 = 491 shared 3.2 : 6.45 -> 162.82, 328.18 -> 163, 328
    assert allocate_sample(PAPER_PX, n_total=641, allocation="olofsson", min_per_class=75) == {
        "Deforestation": 75, "Forest gain": 75, "Stable forest": 163, "Stable non-forest": 328}
    # a class smaller than its share gives all its pixels; the rest goes to the others
    assert allocate_sample({1: 3, 2: 1000, 3: 1000}, n_total=30, allocation="equal") == {1: 3, 2: 14, 3: 13}
    assert allocate_sample({1: 3, 2: 1000}, n_total=60, allocation="olofsson", min_per_class=50) == {1: 3, 2: 57}
    with pytest.raises(DataError, match="need 100 points, more than the 60"):
        allocate_sample({1: 500, 2: 1000}, n_total=60, allocation="olofsson", min_per_class=50)
    with pytest.raises(DataError, match="only 20 classified pixels"):
        allocate_sample({1: 10, 2: 10}, n_total=21, allocation="equal")
    with pytest.raises(ValueError, match="allocation"):
        allocate_sample({1: 10}, n_total=5, allocation="random")


# A 20 x 30 map of 30 m pixels: class 1 in the first 3 columns, class 3 in a 5 x 10 corner,
# one pixel of class 4, one nodata pixel, class 2 elsewhere.
#   class 1: 60 - 1 = 59 px; class 3: 50; class 4: 1; nodata: 1; class 2: 600 - 111 = 489
# olofsson, n = 100, min 20: class 4 gives its 1 pixel, classes 1 and 3 get 20 each, class 2 the
# remaining 59 (its proportional share 100 * 489 / 599 = 81.6 would leave the others below 20).
STRATA = np.full((20, 30), 2, dtype="uint8")
STRATA[:, :3] = 1
STRATA[15:, 20:] = 3
STRATA[19, 0] = 4
STRATA[0, 29] = 0


@pytest.fixture
def strata_map(tmp_path):
    return write_raster(tmp_path / "strata.tif", STRATA)


def test_design_sample_counts_places_and_reproducibility(strata_map):
    g = design_sample(strata_map, n_total=100, allocation="olofsson", min_per_class=20, seed=7)
    assert g.attrs["allocation"] == {1: 20, 2: 59, 3: 20, 4: 1}
    assert g.attrs["class_pixels"] == {1: 59, 2: 489, 3: 50, 4: 1}
    assert g["map_class"].value_counts().sort_index().to_dict() == {1: 20, 2: 59, 3: 20, 4: 1}
    assert g.crs == UTM50 and g["point_id"].tolist() == list(range(1, 101))
    assert g["reference_class"].isna().all()
    # every point is the centre of a distinct pixel of its class
    assert not g.duplicated(["row", "col"]).any()
    np.testing.assert_array_equal(STRATA[g["row"], g["col"]], g["map_class"])
    np.testing.assert_allclose(g.geometry.x, ORIGIN_X + (g["col"] + 0.5) * PX)
    np.testing.assert_allclose(g.geometry.y, ORIGIN_Y - (g["row"] + 0.5) * PX)
    np.testing.assert_array_equal(read_classes_at(strata_map, g), g["map_class"])
    # reproducible with the seed, different with another, and independent of the strip size
    again = design_sample(strata_map, n_total=100, allocation="olofsson", min_per_class=20, seed=7, block_size=4)
    assert again.drop(columns="geometry").equals(g.drop(columns="geometry"))
    other = design_sample(strata_map, n_total=100, allocation="olofsson", min_per_class=20, seed=8)
    assert set(zip(other["row"], other["col"])) != set(zip(g["row"], g["col"]))
    # not sorted by class: the interpreter meets the strata mixed
    assert g["map_class"].tolist() != sorted(g["map_class"])


def test_design_sample_reads_in_strips(strata_map, monkeypatch):
    shapes = []
    original = rasterio.io.DatasetReader.read

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        shapes.append(out.shape)
        return out

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    design_sample(strata_map, n_total=30, allocation="proportional", seed=0, block_size=8)
    # strips of 8 * 8 // 30 = 2 whole rows, read twice (count, then pick)
    assert shapes and max(s[0] for s in shapes) == 2 and len(shapes) == 20


def test_design_sample_equal_and_proportional(strata_map):
    g = design_sample(strata_map, n_total=40, allocation="equal", seed=1)
    # 40 / 4 = 10 each, class 4 holds 1 pixel: 1 + 13 + 13 + 13 (largest remainders by order)
    assert sum(g.attrs["allocation"].values()) == 40 and g.attrs["allocation"][4] == 1
    assert sorted(g.attrs["allocation"].values()) == [1, 13, 13, 13]
    p = design_sample(strata_map, n_total=60, allocation="proportional", seed=1)
    # 60 * (59, 489, 50, 1) / 599 = 5.91, 48.98, 5.01, 0.10 -> 6, 49, 5, 0
    assert p.attrs["allocation"] == {1: 6, 2: 49, 3: 5, 4: 0}


def _parser():
    p = argparse.ArgumentParser(prog="python -m sinks")
    add_parsers(p.add_subparsers(dest="command", required=True))
    return p


def test_cli_sample_design_then_accuracy(strata_map, tmp_path, capsys):
    out = tmp_path / "points.gpkg"
    args = _parser().parse_args(["sample-design", "--map", str(strata_map), "--n", "60", "--min-per-class", "10", "--seed", "3", "--out", str(out)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "60 points, olofsson allocation, seed 3" in printed and "fill in 'reference_class'" in printed
    g = gpd.read_file(out, layer="sample_points")
    assert len(g) == 60 and g.crs == UTM50 and g["reference_class"].isna().all()
    assert list(out.parent.glob(".points.gpkg*")) == []  # no temporary file left
    with pytest.raises(DataError, match="the file exists"):
        args.func(args)
    # a user who agrees with the map everywhere: 100 % accuracy, adjusted areas = mapped areas
    g["reference_class"] = g["map_class"]
    ref = tmp_path / "labelled.gpkg"
    g.to_file(ref, layer="sample_points")
    r = assess_map(strata_map, ref, class_field="reference_class")
    assert r.confusion.overall_accuracy == 1.0 and r.area.overall_accuracy == pytest.approx(1.0)
    np.testing.assert_allclose(r.area.adjusted_area_ha, r.area.mapped_area_ha)
    np.testing.assert_allclose(r.area.mapped_area_ha, np.array([59, 489, 50, 1]) * 0.09)


def test_design_sample_refuses(strata_map, tmp_path):
    with pytest.raises(DataError, match="need"):
        design_sample(strata_map, n_total=30, allocation="olofsson", min_per_class=20)
    empty = write_raster(tmp_path / "empty.tif", np.zeros((4, 4), dtype="uint8"))
    with pytest.raises(DataError, match="nothing but nodata"):
        design_sample(empty, n_total=5, allocation="equal")
    no_nodata = write_raster(tmp_path / "nond.tif", STRATA, nodata=None)
    with pytest.raises(DataError, match="no nodata value"):
        design_sample(no_nodata, n_total=5, allocation="equal")


def test_real_worldcover_sample_design():
    m2020 = shared_data("landcover", "esa_worldcover_2020_N00E006_clip_saotome_10m.tif")
    g = design_sample(m2020, n_total=600, allocation="olofsson", min_per_class=50, seed=0, block_size=256)
    alloc = g.attrs["allocation"]
    print(f"\nWorldCover 2020 sample: {alloc}")
    assert sum(alloc.values()) == 600 and len(g) == 600
    assert set(alloc) == {10, 20, 30, 40, 50, 60, 80, 90, 95}
    assert min(alloc.values()) >= 50  # even mangroves (95: 92 pixels) get 50
    assert alloc[10] > alloc[80] > alloc[30]  # the rest goes proportionally to the big classes
    np.testing.assert_array_equal(read_classes_at(m2020, g), g["map_class"])
    with rasterio.open(m2020) as ds:
        assert g.crs == ds.crs
    same = design_sample(m2020, n_total=600, allocation="olofsson", min_per_class=50, seed=0)
    assert same.drop(columns="geometry").equals(g.drop(columns="geometry"))
