"""Shared fixtures: tiny rasters with hand-worked numbers, and where the real data lives."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_MAIN_MODULE = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Put pytest's own ``__main__`` back after every test.

    Streamlit's AppTest installs the app script as ``__main__`` and leaves it there. Processes
    started with "spawn" (multiprocessing, dask.distributed workers) re-run the parent's
    ``__main__``, and app.py cannot run outside Streamlit, so those children would die.
    """
    yield
    sys.modules["__main__"] = _MAIN_MODULE


UTM50 = "EPSG:32650"
# A 4 x 4 grid of 30 m pixels whose top-left corner is at (600000, 3550120) in UTM 50N.
ORIGIN_X, ORIGIN_Y, PX = 600000.0, 3550120.0, 30.0


def shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a printed reason when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real test data not found at {p} (../shared/data is beside the repo in CI)")
    return p


def write_raster(path: Path, array: np.ndarray, *, crs=UTM50, transform=None, nodata=0, tags=None, descriptions=None) -> Path:
    """Write a GeoTIFF; ``array`` is (rows, cols) or (bands, rows, cols)."""
    arr = array if array.ndim == 3 else array[None]
    transform = transform or Affine(PX, 0, ORIGIN_X, 0, -PX, ORIGIN_Y)
    profile = dict(driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0], dtype=arr.dtype, transform=transform)
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(arr)
        if tags:
            ds.update_tags(**tags)
        if descriptions:
            for i, d in enumerate(descriptions, 1):
                ds.set_band_description(i, d)
    return path


def box_px(col0: int, row0: int, col1: int, row1: int):
    """A polygon covering pixel columns [col0, col1) and rows [row0, row1) of the 4 x 4 grid."""
    return shapely.box(ORIGIN_X + col0 * PX, ORIGIN_Y - row1 * PX, ORIGIN_X + col1 * PX, ORIGIN_Y - row0 * PX)


# Land cover of the tiny grid (codes: 10 tree, 40 crop, 50 built-up, 80 water, 0 nodata):
LC_T0 = np.array([
    [10, 10, 40, 40],
    [10, 10, 40, 50],
    [80, 80, 40, 50],
    [0, 80, 90, 90],
], dtype="uint8")
LC_T1 = np.array([
    [10, 10, 10, 40],   # one crop pixel afforested
    [10, 10, 50, 50],   # one crop pixel built over
    [80, 80, 40, 50],
    [0, 80, 90, 50],    # one wetland pixel built over
], dtype="uint8")


@pytest.fixture
def tiny(tmp_path: Path) -> dict:
    """Two land-cover dates, zones (west half, east half, and an overlapping centre square) and a
    small coefficient table, on the 4 x 4 grid (pixel = 900 m2 = 0.09 ha)."""
    t0 = write_raster(tmp_path / "lc_2020.tif", LC_T0, tags={"YEAR": "2020"})
    t1 = write_raster(tmp_path / "lc_2025.tif", LC_T1, tags={"YEAR": "2025"})
    zones = gpd.GeoDataFrame(
        {"zone_id": ["west", "east", "centre"], "name_zh": ["西", "东", "中"], "name_en": ["West", "East", "Centre"]},
        geometry=[box_px(0, 0, 2, 4), box_px(2, 0, 4, 4), box_px(1, 1, 3, 3)], crs=UTM50,
    ).to_crs("EPSG:4326")
    zpath = tmp_path / "zones.gpkg"
    zones.to_file(zpath, layer="zones", driver="GPKG")
    coef = tmp_path / "coef.csv"
    coef.write_text(
        "lucode,lulc_name,quantity,value,unit,uncertainty_pct,source,verified,note\n"
        + "".join(
            f"{c},{n},{q},{v},{'t C/ha/yr' if q == 'gain_tc_per_ha_yr' else 't C/ha'},{u},test source,false,{note}\n"
            for c, n, vals in [
                (10, "tree", (50, 10, 40, 5, 1.0)),
                (40, "crop", (2, 1, 30, 0, 0)),
                (50, "built", (1, 0, 20, 0, 0)),
                (80, "water", (0, 0, 0, 0, 0)),
                (90, "wetland", (3, 2, 60, 0, None)),
            ]
            for q, v, u, note in zip(
                ("c_above", "c_below", "c_soil", "c_dead", "gain_tc_per_ha_yr"),
                ["" if x is None else x for x in vals],
                (50, 50, 50, 50, 90),
                ("", "", "", "", "source required" if vals[4] is None else ""),
            )
        ),
        encoding="utf-8",
    )
    inv = tmp_path / "inventory.csv"
    inv.write_text(
        "year,zone_id,sector,emissions_tco2e,scope,basis,source,illustrative\n"
        "2020,west,industry,100,scope1,test,test,true\n"
        "2020,east,energy,200,scope1,test,test,true\n"
        "2025,west,industry,90,scope1,test,test,true\n"
        "2025,east,transport,180,scope1,test,test,true\n",
        encoding="utf-8",
    )
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        '[area]\nname_en = "Tiny"\nname_zh = "小"\n'
        '[zones]\npath = "zones.gpkg"\nlayer = "zones"\nid_field = "zone_id"\n'
        '[landcover.years]\n2020 = "lc_2020.tif"\n2025 = "lc_2025.tif"\n'
        '[coefficients]\npath = "coef.csv"\n'
        '[inventory]\npath = "inventory.csv"\n'
        '[engine]\nblock_size = 16\n',
        encoding="utf-8",
    )
    return {"dir": tmp_path, "t0": t0, "t1": t1, "zones": zpath, "coef": coef, "inventory": inv, "config": cfg}


# ---------------------------------------------------------------------------------------------
# PostGIS, the workspace's server backend (tests/test_store*.py, the wetlands page)

PG_URL_ENV = "SINKS_TEST_DATABASE_URL"
PG_DEFAULT_URL = "postgresql://sinks:sinks@127.0.0.1:5432/sinks_test"


def _mask(url: str) -> str:
    from geodata.workspace import mask_url

    return mask_url(url)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test database (with PostGIS), or a skip that says why (a failure under CI=true)."""
    import psycopg

    url = os.environ.get(PG_URL_ENV, "").strip() or PG_DEFAULT_URL
    try:
        with psycopg.connect(url, connect_timeout=3) as con:
            if not con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
                raise RuntimeError("the database has no postgis extension (CREATE EXTENSION postgis)")
    except Exception as exc:  # noqa: BLE001 - any reason to skip is reported
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        why = f"PostGIS not reachable at {_mask(url)} (set {PG_URL_ENV}): {detail}"
        if in_ci():
            pytest.fail(f"{why}; CI must test the PostGIS backend (.ci/run starts it)", pytrace=False)
        pytest.skip(why)
    return url
