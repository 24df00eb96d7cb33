"""The command line: same numbers as the pipeline, clear errors, exit codes 0 / 1 / 2."""
from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from sinks.config import validate_config
from sinks.pipeline import run_assessment
from tests.conftest import ROOT


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sinks", *map(str, args)], cwd=cwd, capture_output=True, text=True)


def test_run_writes_report_equal_to_pipeline(tiny):
    out = tiny["dir"] / "out"
    r = _cli("run", tiny["config"], "--out", out)
    assert r.returncode == 0, r.stderr
    assert "[100%] done" in r.stderr  # progress lines when not on a terminal
    a = run_assessment(tiny["config"])
    doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    k = a.kpis(2025)
    assert doc["kpis"]["2025"]["total_stock_tc"] == pytest.approx(k.total_stock_tc, rel=1e-12)
    assert doc["kpis"]["2025"]["removals_tco2e_yr"] == pytest.approx(k.removals_tco2e_yr, rel=1e-12)
    pd.testing.assert_frame_equal(pd.read_csv(out / "stock_totals.csv"), a.stock_totals, check_dtype=False)
    z = gpd.read_file(out / "zones.gpkg", layer="zones")
    assert set(z["zone_id"]) == {"west", "east", "centre"} and z.crs.to_epsg() == 4326
    prov = doc["provenance"]
    assert prov["analysis_crs"] == "EPSG:32650"
    assert len(prov["inputs"]["landcover_2020"]["sha256"]) == 64
    assert prov["coefficient_table"]["sha256"] and prov["versions"]["rasterio"]
    assert "nodata" in prov["nodata_treatment"]


def test_run_dask_scheduler_equals_blockwise(tiny):
    cfg = tiny["config"]
    text = cfg.read_text()
    dask_cfg = tiny["dir"] / "dask.toml"
    dask_cfg.write_text(text.replace("block_size = 16", 'block_size = 16\nscheduler = "dask"'))
    a, b = run_assessment(cfg), run_assessment(dask_cfg)
    pd.testing.assert_frame_equal(a.stock_totals, b.stock_totals)
    pd.testing.assert_frame_equal(a.flows, b.flows)


def test_run_on_a_dask_cluster_by_address_equals_blockwise(tiny):
    """``[engine] dask_address`` sends the work to a dask.distributed scheduler (a LocalCluster
    with two worker processes here, standing in for a real cluster that sees the same paths)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is a runtime requirement")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        cfg = tiny["dir"] / "cluster.toml"
        cfg.write_text(tiny["config"].read_text().replace(
            "block_size = 16", f'block_size = 16\nscheduler = "dask"\ndask_address = "{cluster.scheduler_address}"'))
        assert validate_config(cfg) == []
        b = run_assessment(cfg)
    a = run_assessment(tiny["config"])
    pd.testing.assert_frame_equal(a.stock_totals, b.stock_totals)
    pd.testing.assert_frame_equal(a.change, b.change)
    assert b.provenance["scheduler"] == "dask"


def test_engine_settings_are_validated(tiny):
    cfg = tiny["dir"] / "engine.toml"
    cfg.write_text(tiny["config"].read_text().replace("block_size = 16", 'block_size = 16\nthreads = -1\ndask_address = "tcp://10.0.0.1:8786"'))
    problems = validate_config(cfg)
    assert any("threads -1" in p for p in problems)
    assert any("dask_address is set but scheduler is 'blockwise'" in p for p in problems)


def test_validate_lists_every_problem_and_exit_codes(tiny):
    assert _cli("validate", tiny["config"]).returncode == 0
    # break two things at once: a land-cover path and an inventory row
    cfg = tiny["dir"] / "broken.toml"
    cfg.write_text(tiny["config"].read_text().replace("lc_2025.tif", "missing.tif"))
    with open(tiny["inventory"], "a", encoding="utf-8") as f:
        f.write("2025,west,industry,-3,scope1,test,test,true\n")
    r = _cli("validate", cfg)
    assert r.returncode == 1
    assert "missing.tif: the file does not exist" in r.stdout
    assert "row 6: emissions_tco2e is negative" in r.stdout
    assert "2 problem(s)" in r.stdout
    assert _cli("validate").returncode == 2  # usage error


def test_run_error_names_file_and_leaves_nothing_half_written(tiny):
    out = tiny["dir"] / "out"
    assert _cli("run", tiny["config"], "--out", out).returncode == 0
    before = sorted(p.name for p in out.iterdir())
    tiny["coef"].write_text(tiny["coef"].read_text().replace("test source", ""))
    r = _cli("run", tiny["config"], "--out", out)
    assert r.returncode == 1
    assert "coef.csv" in r.stderr and "no source" in r.stderr and "fix:" in r.stderr
    # the earlier report is intact and no temporary folder is left beside it
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tiny["dir"].iterdir() if p.name.startswith(".out.")] == []


def test_run_refuses_to_overwrite_a_foreign_folder(tiny):
    foreign = tiny["dir"] / "mydocs"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    r = _cli("run", tiny["config"], "--out", foreign)
    assert r.returncode == 1 and "not an earlier report" in r.stderr
    assert (foreign / "thesis.docx").read_text() == "precious"


def test_carbon_adhoc_with_invest_table_and_zones(tiny):
    pools = tiny["dir"] / "pools.csv"
    pools.write_text("lucode,c_above,c_below,c_soil,c_dead\n10,50,10,40,5\n40,2,1,30,0\n50,1,0,20,0\n80,0,0,0,0\n90,3,2,60,0\n")
    out = tiny["dir"] / "adhoc"
    r = _cli("carbon", "--lulc", tiny["t0"], "--lulc-alt", tiny["t1"], "--pools", pools, "--zones", tiny["zones"], "--out", out)
    assert r.returncode == 0, r.stderr
    s = pd.read_csv(out / "summary.csv").set_index(["zone_id", "date"])
    # hand-worked in test_carbon: east 27.36 -> 28.8 t C, change +1.44
    assert s.loc[("east", "base"), "total_stock_tc"] == pytest.approx(27.36)
    assert s.loc[("east", "alt"), "change_since_base_tc"] == pytest.approx(1.44)
    assert s.loc[("west", "base"), "nodata_px"] == 1
    assert "were excluded from every stock" in r.stdout
    # without zones: one row per date over the whole raster; 2020 = 37.8 + 27.36 (the nodata px excluded)
    out2 = tiny["dir"] / "adhoc2"
    r = _cli("carbon", "--lulc", tiny["t0"], "--pools", pools, "--out", out2)
    assert r.returncode == 0, r.stderr
    s2 = pd.read_csv(out2 / "summary.csv")
    assert len(s2) == 1 and s2.loc[0, "total_stock_tc"] == pytest.approx(37.8 + 27.36)


def test_carbon_adhoc_missing_code_exit_1(tiny):
    pools = tiny["dir"] / "pools.csv"
    pools.write_text("lucode,c_above,c_below,c_soil,c_dead\n10,50,10,40,5\n")
    r = _cli("carbon", "--lulc", tiny["t0"], "--pools", pools, "--out", tiny["dir"] / "x")
    assert r.returncode == 1
    assert "[40, 50, 80, 90]" in r.stderr and "lc_2020.tif" in r.stderr
    assert not (tiny["dir"] / "x").exists()
