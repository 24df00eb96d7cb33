"""A classified map saved as a dataset runs through the same pipeline."""
from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from geodata.errors import DataError
from sinks.landcover.datasets import save_classified_dataset
from sinks.pipeline import run_assessment
from tests.conftest import LC_T1, write_raster


def test_saved_dataset_replaces_one_year_and_runs(tiny, tmp_path):
    # a "classified" 2025 map equal to the tiny 2025 land cover except one crop pixel -> tree
    new = LC_T1.copy()
    new[2, 2] = 10
    m = write_raster(tmp_path / "rf_2025.tif", new)
    saved = save_classified_dataset(tiny["config"], m, year=2025, name="Tiny RF 2025", workspace=tmp_path / "ws")
    assert saved.config_path.name == "tiny-rf-2025.toml" and saved.years == (2020, 2025)
    a0, a1 = run_assessment(tiny["config"]), run_assessment(saved.config_path)
    s0 = a0.stock_totals.set_index(["zone_id", "year"])["stock_tc"]
    s1 = a1.stock_totals.set_index(["zone_id", "year"])["stock_tc"]
    # pixel (2,2) is in east and centre: crop 33 -> tree 105 t C/ha, x 0.09 ha = +6.48 t C
    assert s1[("east", 2025)] - s0[("east", 2025)] == pytest.approx(6.48)
    assert s1[("west", 2025)] == pytest.approx(s0[("west", 2025)])
    assert s1[("east", 2020)] == pytest.approx(s0[("east", 2020)])


def test_other_grid_gives_a_single_date_dataset(tiny, tmp_path):
    m = write_raster(tmp_path / "shifted.tif", LC_T1, transform=Affine(30, 0, 600030, 0, -30, 3550120))
    saved = save_classified_dataset(tiny["config"], m, year=2025, name="shifted", workspace=tmp_path / "ws")
    assert saved.years == (2025,)
    assert run_assessment(saved.config_path).years == [2025]


def test_bad_name_and_bad_map(tiny, tmp_path):
    m = write_raster(tmp_path / "m.tif", LC_T1)
    with pytest.raises(DataError, match="no letters or digits"):
        save_classified_dataset(tiny["config"], m, year=2025, name="江北", workspace=tmp_path / "ws")
    f = write_raster(tmp_path / "f.tif", LC_T1.astype(np.float32), nodata=None)
    with pytest.raises(DataError):
        save_classified_dataset(tiny["config"], f, year=2025, name="x", workspace=tmp_path / "ws")
    assert not list((tmp_path / "ws").glob("configs/*.toml"))


def test_saved_dataset_carries_the_accuracy_report(tiny, tmp_path):
    import json

    rep = tmp_path / "acc"
    rep.mkdir()
    (rep / "accuracy.json").write_text(json.dumps({"area_estimate": [{"class": c, "adjusted_area_ha": 10, "se_ha": 1} for c in (10, 40, 50, 80, 90)]}))
    m = write_raster(tmp_path / "rf_2025.tif", LC_T1)
    saved = save_classified_dataset(tiny["config"], m, year=2025, name="with-acc", accuracy_report=rep, workspace=tmp_path / "ws")
    t = run_assessment(saved.config_path).stock_totals.set_index(["zone_id", "year"])
    # every class 1.96 x 1/10 = 19.6 %. East 2025 (tree 0.09, crop 0.18, built 0.36, wetland
    # 0.09 ha), per pool 19.6 x sqrt(sum x^2) / sum x over class terms x (Approach 1):
    #   above 4.5, .36, .36, .27 -> 4.5367/5.49 = .82636 ; below .9, .18, 0, .18 -> .93531/1.26 = .74231
    #   soil 3.6, 5.4, 7.2, 5.4 -> 11.0959/21.6 = .51370 ; dead .45 -> 1
    # pools weighted by stock: (4.5367 + .93531 + 11.0959 + .45) / 28.8 = .59090 -> 11.58 %
    assert t.loc[("east", 2025), "area_uncertainty_pct"] == pytest.approx(19.6 * 0.59090, rel=1e-4)
    with pytest.raises(DataError, match="no accuracy report"):
        save_classified_dataset(tiny["config"], m, year=2025, name="bad", accuracy_report=tmp_path, workspace=tmp_path / "ws")
