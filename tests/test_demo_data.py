"""Tests of the embedded demo generator ``sinks.demo`` ("Jiangbei New Area (illustrative)").

The demo is built once per module into a temporary folder from the repository's boundaries
GeoPackage. Checks use hand-worked arithmetic where possible: one 30 m pixel is 0.09 ha, so
7650 ha of Laoshan tree cover is 85,000 pixels and 1680 ha of Lvshuiwan wetland 18,667 pixels.
Zone masks are rasterized here, independently of the generator, from the GeoPackage.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio import features
from scipy import ndimage

from sinks.demo import build_demo
from sinks.demo import constants as K
from sinks.demo.bands import indices
from sinks.demo.build import DemoPaths
from sinks.demo.inventory import inventory_csv_text
from sinks.demo.landscape import generate_landscape, load_boundaries

ROOT = Path(__file__).resolve().parents[1]
BOUNDARIES = ROOT / "data" / "boundaries" / "jiangbei_boundaries.gpkg"
SHARED = ROOT.parent / "shared" / "data"
PX_HA = 0.09  # 30 m x 30 m
SEED = 2025
WORLDCOVER_CODES = {0, 10, 20, 30, 40, 50, 60, 80, 90}


def _make_data_dir(root: Path) -> Path:
    """A data folder holding only a copy of the repository's boundaries GeoPackage."""
    if not BOUNDARIES.is_file():
        pytest.skip(f"{BOUNDARIES} not found: run scripts/extract_boundaries.py first")
    data = root / "data"
    (data / "boundaries").mkdir(parents=True)
    shutil.copy(BOUNDARIES, data / "boundaries" / BOUNDARIES.name)
    return data


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    data = _make_data_dir(tmp_path_factory.mktemp("demo"))
    return build_demo(data, seed=SEED)


@pytest.fixture(scope="module")
def lc(demo: DemoPaths) -> dict[int, np.ndarray]:
    out = {}
    for year in K.YEARS:
        with rasterio.open(demo.landcover(year)) as ds:
            out[year] = ds.read(1)
    return out


@pytest.fixture(scope="module")
def grid(demo: DemoPaths) -> dict:
    with rasterio.open(demo.landcover_2020) as ds:
        return {"transform": ds.transform, "shape": (ds.height, ds.width), "crs": ds.crs}


@pytest.fixture(scope="module")
def masks(grid: dict) -> dict[str, np.ndarray]:
    """Zone, zone-land (zone minus Yangtze) and study-area masks rasterized from the GeoPackage."""
    kw = {"out_shape": grid["shape"], "transform": grid["transform"], "fill": 0, "dtype": "uint8"}
    zones = gpd.read_file(BOUNDARIES, layer="zones").to_crs(K.CRS_UTM)
    river_geom = gpd.read_file(BOUNDARIES, layer="yangtze").to_crs(K.CRS_UTM).union_all()
    study_geom = gpd.read_file(BOUNDARIES, layer="study_area").to_crs(K.CRS_UTM).union_all()
    river = features.rasterize([(river_geom, 1)], **kw) == 1
    out = {"river": river, "study": features.rasterize([(study_geom, 1)], **kw) == 1}
    for zone_id in K.ZONE_IDS:
        geom = zones.loc[zones["zone_id"] == zone_id].union_all()
        z = features.rasterize([(geom, 1)], **kw) == 1
        out[zone_id] = z
        out[f"{zone_id}_land"] = z & ~river
    return out


@pytest.fixture(scope="module")
def sites(demo: DemoPaths) -> gpd.GeoDataFrame:
    return gpd.read_file(demo.sites, layer="sites")


def _site_mask(sites: gpd.GeoDataFrame, site_id: str, grid: dict) -> np.ndarray:
    geom = sites.loc[sites["site_id"] == site_id].to_crs(K.CRS_UTM).union_all()
    return features.rasterize([(geom, 1)], out_shape=grid["shape"], transform=grid["transform"], dtype="uint8") == 1


# --------------------------------------------------------------------------- grid and format


def test_landcover_grid_and_format(demo: DemoPaths, lc: dict[int, np.ndarray], masks: dict) -> None:
    study_utm = gpd.read_file(BOUNDARIES, layer="study_area").to_crs(K.CRS_UTM).total_bounds
    for year in K.YEARS:
        with rasterio.open(demo.landcover(year)) as ds:
            t = ds.transform
            assert ds.crs.to_epsg() == 32650
            assert ds.count == 1 and ds.dtypes[0] == "uint8" and ds.nodata == 0
            assert (t.a, t.e, t.b, t.d) == (30.0, -30.0, 0.0, 0.0)  # square, north-up
            assert t.c % 30 == 0 and t.f % 30 == 0  # snapped to multiples of 30 m
            assert ds.block_shapes[0] == (256, 256) and ds.compression.name.lower() == "deflate"
            left, bottom, right, top = ds.bounds
            margins = (study_utm[0] - left, study_utm[1] - bottom, right - study_utm[2], top - study_utm[3])
            assert all(0 < m <= 2_000 for m in margins), margins
            cmap = ds.colormap(1)
            for code, rgb in K.WORLDCOVER_RGB.items():
                assert cmap[code][:3] == rgb
            assert cmap[10][:3] == (0, 100, 0) and cmap[80][:3] == (0, 100, 200)  # spot check
            tags = ds.tags()
            assert tags["ILLUSTRATIVE"] == "synthetic demo data, not a survey"
            assert tags["YEAR"] == str(year) and tags["SEED"] == str(SEED)
            assert tags["LEGEND"] == "ESA WorldCover"
            assert tags["GENERATOR"].startswith("sinks.demo ")
        a = lc[year]
        assert set(np.unique(a).tolist()) <= WORLDCOVER_CODES
        # nodata exactly outside the study area (allow a handful of edge pixels between the
        # union polygon and the per-zone rasterization).
        mismatch = np.count_nonzero((a > 0) != masks["study"])
        assert mismatch <= 1e-4 * a.size, mismatch


def test_bands_format(demo: DemoPaths, lc: dict[int, np.ndarray], grid: dict) -> None:
    for year in K.YEARS:
        with rasterio.open(demo.bands(year)) as ds:
            assert ds.count == 4 and set(ds.dtypes) == {"uint16"} and ds.nodata == 0
            assert ds.descriptions == ("green", "red", "nir", "swir1")
            assert ds.tags()["SCALE"] == "0.0001"
            assert ds.tags()["ILLUSTRATIVE"] == "synthetic demo data, not a survey"
            assert ds.transform == grid["transform"] and (ds.height, ds.width) == grid["shape"]
            assert ds.crs == grid["crs"] and ds.block_shapes[0] == (256, 256)
            b = ds.read()
        valid = lc[year] > 0
        assert np.all(b[:, ~valid] == 0)
        assert np.all(b[:, valid] > 0) and b.max() <= 10_000


def test_sites_layer(demo: DemoPaths, sites: gpd.GeoDataFrame) -> None:
    assert sites.crs.to_epsg() == 4326
    for col in ("site_id", "name_zh", "name_en", "kind", "target_area_ha", "illustrative", "note"):
        assert col in sites.columns
    assert sites["illustrative"].astype(bool).all()
    ids = set(sites["site_id"])
    assert {"laoshan_nfp", "lvshuiwan_wetland", "baguazhou_ring", "pukou_seat", "liuhe_seat",
            "riverside_industrial_strip"} <= ids
    assert (sites["note"].str.len() > 0).all()


# --------------------------------------------------------------------------- units and parks


UNIT_COUNTS = {"pukou": 11, "liuhe": 12, "baguazhou": 1}  # real sub-district units per district
UNIT_PREFIX = {"pukou": "PK", "liuhe": "LH", "baguazhou": "BG"}


@pytest.fixture(scope="module")
def units(demo: DemoPaths) -> gpd.GeoDataFrame:
    return gpd.read_file(demo.sites, layer="units")


@pytest.fixture(scope="module")
def parks(demo: DemoPaths) -> gpd.GeoDataFrame:
    return gpd.read_file(demo.sites, layer="parks")


@pytest.fixture(scope="module")
def district_land() -> dict:
    """Each district's land (zone minus the Yangtze) and the study-area land, UTM, from the GeoPackage."""
    zones = gpd.read_file(BOUNDARIES, layer="zones").to_crs(K.CRS_UTM)
    river = gpd.read_file(BOUNDARIES, layer="yangtze").to_crs(K.CRS_UTM).union_all()
    study = gpd.read_file(BOUNDARIES, layer="study_area").to_crs(K.CRS_UTM).union_all()
    out = {z: zones.loc[zones["zone_id"] == z].union_all().difference(river) for z in K.ZONE_IDS}
    return out | {"_river": river, "_study": study}


def test_gpkg_layers(demo: DemoPaths) -> None:
    import pyogrio

    assert [str(n) for n, _ in pyogrio.list_layers(demo.sites)] == ["sites", "eco_space", "units", "parks"]


def test_units_partition_district_land(units: gpd.GeoDataFrame, district_land: dict) -> None:
    assert units.crs.to_epsg() == 4326
    for col in ("unit_id", "name_zh", "name_en", "district_id", "illustrative", "note"):
        assert col in units.columns
    assert units["unit_id"].is_unique and units["name_zh"].is_unique and units["name_en"].is_unique
    assert units["illustrative"].astype(bool).all()
    assert units["note"].str.contains("NOT street").all()
    assert units["district_id"].value_counts().to_dict() == UNIT_COUNTS  # 24 units, as in reality
    for r in units.itertuples():
        n = int(r.unit_id[2:])
        assert r.unit_id == f"{UNIT_PREFIX[r.district_id]}{n:02d}" and 1 <= n <= UNIT_COUNTS[r.district_id]
        assert r.name_zh.endswith(f"示意单元{n:02d}") and r.name_en.endswith(f"illustrative unit {n:02d}")
    utm = units.to_crs(K.CRS_UTM)
    assert utm.is_valid.all() and set(utm.geom_type) <= {"Polygon", "MultiPolygon"}
    for zone_id in K.ZONE_IDS:
        land = district_land[zone_id]
        mine = utm.loc[utm["district_id"] == zone_id]
        union = mine.union_all()
        # No gaps: the units cover the district's land ...
        assert abs(union.area - land.area) <= 1e-6 * land.area, (zone_id, union.area, land.area)
        assert union.symmetric_difference(land).area <= 1e-6 * land.area
        # ... and no overlaps: their areas add up to the area of their union.
        assert abs(mine.area.sum() - union.area) <= 1e-6 * land.area
        # Comparable sizes (a centroidal Voronoi partition): largest / smallest < 2.
        mains = mine.geometry.apply(lambda g: max((p.area for p in getattr(g, "geoms", [g]))))
        assert mains.max() / mains.min() < 2.0, (zone_id, mains.round(-4).tolist())
        # Each unit is one piece of mainland plus at most some detached river islands.
        for g in mine.geometry:
            parts = sorted((p.area for p in getattr(g, "geoms", [g])), reverse=True)
            assert sum(parts[1:]) <= 0.15 * parts[0]
    geoms = utm.geometry.to_numpy()
    overlap = sum(geoms[i].intersection(geoms[j]).area for i in range(len(geoms)) for j in range(i + 1, len(geoms)))
    assert overlap <= 1.0, overlap  # m2, all pairs, also across districts


def test_units_do_not_borrow_real_street_names(units: gpd.GeoDataFrame) -> None:
    streets = SHARED / "admin" / "jiangbei_streets.csv"
    if not streets.is_file():
        pytest.skip(f"{streets} not found")
    real = pd.read_csv(streets)
    counts = real.groupby("district_cn").size().to_dict()
    district_cn = {"pukou": "浦口区", "liuhe": "六合区", "baguazhou": "栖霞区"}  # Baguazhou street is in Qixia
    assert counts == {district_cn[z]: n for z, n in UNIT_COUNTS.items()}
    for name in real["unit_cn"]:
        assert not units["name_zh"].str.contains(name, regex=False).any(), name
    assert units["name_zh"].str.fullmatch(r"(浦口|六合|八卦洲)示意单元\d{2}").all()


def test_parks_layer(parks: gpd.GeoDataFrame, lc: dict[int, np.ndarray], grid: dict, district_land: dict) -> None:
    assert parks.crs.to_epsg() == 4326
    for col in ("park_id", "name_zh", "name_en", "kind", "area_ha", "illustrative", "note"):
        assert col in parks.columns
    assert 10 <= len(parks) <= 60
    assert parks["park_id"].is_unique and parks["name_zh"].is_unique
    assert parks["park_id"].tolist() == [f"PA{i:02d}" for i in range(1, len(parks) + 1)]
    assert (parks["kind"] == "park").all() and parks["illustrative"].astype(bool).all()
    assert (parks["note"].str.len() > 0).all()
    utm = parks.to_crs(K.CRS_UTM)
    assert utm.is_valid.all()
    assert np.allclose(utm.area / 1e4, parks["area_ha"], atol=0.01)
    assert parks["area_ha"].min() >= 2.0 and parks["area_ha"].max() <= 200.0
    study, river = district_land["_study"], district_land["_river"]
    assert utm.difference(study).area.sum() <= 1.0  # m2: inside the study area
    assert utm.intersection(river).area.sum() <= 1.0  # m2: nothing in the Yangtze
    geoms = utm.geometry.to_numpy()
    assert sum(geoms[i].intersection(geoms[j]).area for i in range(len(geoms)) for j in range(i + 1, len(geoms))) <= 1.0
    # Mostly tree / shrub / grass in the 2025 land cover, and next to built-up land.
    built = lc[2025] == 50
    d_built = ndimage.distance_transform_edt(~built) * 30.0
    for r, g in zip(parks.itertuples(), geoms, strict=True):
        m = features.rasterize([(g, 1)], out_shape=grid["shape"], transform=grid["transform"], dtype="uint8") == 1
        green = np.isin(lc[2025][m], (10, 20, 30)).mean()
        assert green >= 0.8, (r.park_id, green)
        assert d_built[m].min() <= 1_000.0, r.park_id


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_bytes(demo: DemoPaths, tmp_path: Path) -> None:
    again = build_demo(_make_data_dir(tmp_path), seed=SEED)
    for a, b in zip(demo.raster_outputs(), again.raster_outputs(), strict=True):
        assert _sha(a) == _sha(b), a.name
    with rasterio.open(demo.bands_2025) as d1, rasterio.open(again.bands_2025) as d2:
        assert hashlib.sha256(d1.read().tobytes()).digest() == hashlib.sha256(d2.read().tobytes()).digest()


def test_different_seed_gives_different_landscape(lc: dict[int, np.ndarray]) -> None:
    other = generate_landscape(load_boundaries(BOUNDARIES), seed=SEED + 1)
    assert other.landcover[2020].shape == lc[2020].shape
    differ = np.count_nonzero(other.landcover[2020] != lc[2020]) / np.count_nonzero(lc[2020])
    assert differ > 0.05  # the layout changes; the fixed features (river, sites' areas) do not
    assert np.array_equal(other.landcover[2020] == 0, lc[2020] == 0)


def test_second_build_is_skipped(demo: DemoPaths) -> None:
    before = {p: p.stat().st_mtime_ns for p in demo.raster_outputs()}
    messages: list[str] = []
    build_demo(demo.manifest.parents[1], seed=SEED, progress=lambda m, f: messages.append(m))
    assert any("up to date" in m for m in messages)
    assert {p: p.stat().st_mtime_ns for p in demo.raster_outputs()} == before


def test_cli_reports_up_to_date(demo: DemoPaths) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "sinks.demo", "--data-dir", str(demo.manifest.parents[1])],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "up to date" in res.stdout


# --------------------------------------------------------------------------- calibration


def test_laoshan_tree_area(lc: dict[int, np.ndarray], sites: gpd.GeoDataFrame, grid: dict) -> None:
    park = _site_mask(sites, "laoshan_nfp", grid)
    # 7650 ha / 0.09 ha = 85,000 px; +/-10 % -> 76,500 .. 93,500 px.
    for year in K.YEARS:
        tree_px = np.count_nonzero(lc[year][park] == 10)
        assert 76_500 <= tree_px <= 93_500, (year, tree_px * PX_HA)
        assert tree_px / np.count_nonzero(park) > 0.85  # forest cover inside the park
    park_ha = np.count_nonzero(park) * PX_HA
    assert 7_000 <= park_ha <= 8_500  # published 7650 ha / 80 km2; 6700 ha in one source
    # SW-NE ridge of ~30 km: the long side of its minimum rotated rectangle.
    geom = sites.loc[sites.site_id == "laoshan_nfp"].to_crs(K.CRS_UTM).union_all()
    rect = np.asarray(geom.minimum_rotated_rectangle.exterior.coords)
    sides = np.hypot(*np.diff(rect, axis=0).T)
    assert 24_000 <= sides.max() <= 36_000


def test_lvshuiwan_wetland_area(lc: dict[int, np.ndarray], sites: gpd.GeoDataFrame, grid: dict, masks: dict) -> None:
    strip = _site_mask(sites, "lvshuiwan_wetland", grid)
    # 1680 ha / 0.09 ha = 18,667 px; +/-10 % -> 16,800 .. 20,533 px.
    for year in K.YEARS:
        wet_px = np.count_nonzero(lc[year][strip] == 90)
        assert 16_800 <= wet_px <= 20_533, (year, wet_px * PX_HA)
    assert np.count_nonzero(strip & ~masks["pukou"]) == 0  # on the Pukou side
    geom = sites.loc[sites.site_id == "lvshuiwan_wetland"].to_crs(K.CRS_UTM).union_all()
    rect = np.asarray(geom.minimum_rotated_rectangle.exterior.coords)
    assert 8_000 <= np.hypot(*np.diff(rect, axis=0).T).max() <= 14_000  # ~11 km long


def _land_shares(a: np.ndarray, land: np.ndarray) -> dict[int, float]:
    v = a[land]
    return {c: np.count_nonzero(v == c) / v.size for c in K.CLASSES}


def test_zone_land_shares_hit_targets(lc: dict[int, np.ndarray], masks: dict) -> None:
    for zone_id in K.ZONE_IDS:
        shares = _land_shares(lc[2020], masks[f"{zone_id}_land"])
        for cls, target in K.LAND_SHARE_TARGETS[zone_id].items():
            assert abs(shares[cls] - target) <= 0.015, (zone_id, cls, shares[cls], target)


def test_full_zone_shares_match_brief(lc: dict[int, np.ndarray], masks: dict) -> None:
    """Shares of the whole zone polygon (Yangtze included) against the brief's stated ranges."""
    a = lc[2020]
    pk = _land_shares(a, masks["pukou"])
    lh = _land_shares(a, masks["liuhe"])
    assert 0.20 <= pk[10] <= 0.25 and 0.27 <= pk[40] <= 0.34 and 0.19 <= pk[50] <= 0.25
    assert 0.13 <= pk[80] <= 0.18  # the Tianditu Pukou polygon holds ~124 km2 of river
    assert 0.65 <= lh[40] <= 0.75 and 0.10 <= lh[50] <= 0.14 and 0.04 <= lh[10] <= 0.08
    assert 0.04 <= lh[80] <= 0.08


def test_yangtze_is_water_except_shoal(lc: dict[int, np.ndarray], masks: dict, sites: gpd.GeoDataFrame, grid: dict) -> None:
    river_in = masks["river"] & masks["study"] & (lc[2020] > 0)
    shoal = _site_mask(sites, "lvshuiwan_wetland", grid)
    v = lc[2020][river_in & ~shoal]
    assert np.count_nonzero(v == 80) / v.size > 0.999


# --------------------------------------------------------------------------- change 2020 -> 2025


def test_change_2020_2025(lc: dict[int, np.ndarray], masks: dict) -> None:
    a, b = lc[2020], lc[2025]
    study = a > 0
    for zone_id in ("pukou", "liuhe"):
        z = masks[f"{zone_id}_land"]
        assert np.count_nonzero(b[z] == 50) > np.count_nonzero(a[z] == 50)
        crop_to_built = np.count_nonzero(z & (a == 40) & (b == 50)) / np.count_nonzero(z & (a == 40))
        assert 0.02 <= crop_to_built <= 0.04, (zone_id, crop_to_built)
    wet20, wet25 = np.count_nonzero(a[study] == 90), np.count_nonzero(b[study] == 90)
    assert 0.03 <= 1 - wet25 / wet20 <= 0.08, (wet20, wet25)
    tree_gain_ha = (np.count_nonzero(b[study] == 10) - np.count_nonzero(a[study] == 10)) * PX_HA
    assert 200 <= tree_gain_ha <= 1_000  # "a few hundred ha" of afforestation
    assert np.count_nonzero((a == 90) & (b != 90)) > 0 and np.count_nonzero((a != 90) & (b == 90)) > 0
    assert np.array_equal(a == 0, b == 0)


# --------------------------------------------------------------------------- bands


def test_band_indices_order_classes(demo: DemoPaths, lc: dict[int, np.ndarray]) -> None:
    with rasterio.open(demo.bands_2020) as ds:
        ix = indices(ds.read())
    a = lc[2020]
    ndvi = {c: float(np.nanmean(ix["ndvi"][a == c])) for c in (10, 40, 50, 80, 90)}
    mndwi = {c: float(np.nanmean(ix["mndwi"][a == c])) for c in (10, 40, 50, 80, 90)}
    assert ndvi[10] > ndvi[40] > ndvi[50] > ndvi[80]
    assert mndwi[80] > 0.3
    assert mndwi[90] > max(mndwi[10], mndwi[40], mndwi[50])  # wetland: wetter than dry land
    assert 0.35 <= ndvi[90] <= 0.65


def _qda_accuracy(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """Overall accuracy of a Gaussian maximum-likelihood classifier (train/test halves)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    tr, te = order[: len(y) // 2], order[len(y) // 2 :]
    classes = np.unique(y[tr])
    scores = []
    for c in classes:
        xc = x[tr][y[tr] == c]
        mu, cov = xc.mean(axis=0), np.cov(xc, rowvar=False) + 1e-6 * np.eye(x.shape[1])
        inv, (_, logdet) = np.linalg.inv(cov), np.linalg.slogdet(cov)
        d = x[te] - mu
        scores.append(-0.5 * np.einsum("ij,jk,ik->i", d, inv, d) - 0.5 * logdet + math.log(len(xc) / len(tr)))
    pred = classes[np.argmax(np.stack(scores), axis=0)]
    return float(np.mean(pred == y[te]))


def test_classes_separable_but_not_perfectly(demo: DemoPaths, lc: dict[int, np.ndarray]) -> None:
    with rasterio.open(demo.bands_2020) as ds:
        b = ds.read()
    a = lc[2020]
    idx = np.flatnonzero(a.ravel() > 0)
    pick = np.random.default_rng(1).choice(idx, 40_000, replace=False)
    x = b.reshape(4, -1)[:, pick].T.astype(np.float64) / 1e4
    oa = _qda_accuracy(x, a.ravel()[pick])  # Gaussian ML on the 4 bands (~0.89 when written)
    assert 0.80 <= oa <= 0.95, oa


# --------------------------------------------------------------------------- inventory


def test_inventory_csv(demo: DemoPaths) -> None:
    df = pd.read_csv(demo.inventory_csv, dtype={"illustrative": str})
    assert list(df.columns) == ["year", "zone_id", "dataset", "sector", "emissions_tco2e", "scope", "basis", "source", "illustrative"]
    assert list(pd.unique(df["dataset"])) == ["chen2020_county", "ceads_city_scaled"]  # the county series first: the primary
    assert set(df["sector"]) == {"industry", "energy", "buildings", "transport", "other"}
    assert set(df["zone_id"]) == {"pukou", "liuhe", "baguazhou"}
    chen, city = df[df["dataset"] == "chen2020_county"], df[df["dataset"] == "ceads_city_scaled"]
    assert sorted(chen["year"].unique()) == list(range(2010, 2026))
    assert sorted(city["year"].unique()) == list(range(2010, 2020))  # no extrapolation of the city series
    assert len(df) == 16 * 3 * 5 + 10 * 3 * 5 and not df.duplicated(["dataset", "year", "zone_id", "sector"]).any()
    assert (df["emissions_tco2e"] >= 0).all()
    assert (df["illustrative"].str.lower() == "true").all()
    assert (df["source"].str.strip().str.len() > 0).all()
    assert ((chen["year"] > 2017) == (chen["basis"] == "extrapolated")).all()
    assert not (city["basis"] == "extrapolated").any()
    tot = chen.groupby(["zone_id", "year"])["emissions_tco2e"].sum()
    # Chen et al. 2020, 2017: Pukou 9.96 Mt, Liuhe 10.52 Mt (+/-0.5 %).
    assert abs(tot["pukou", 2017] / 9.96e6 - 1) <= 0.005
    assert abs(tot["liuhe", 2017] / 10.52e6 - 1) <= 0.005
    assert tot["pukou", 2017] == 9_962_400 and tot["liuhe", 2017] == 10_515_400  # 9.9624, 10.5154 Mt
    # Baguazhou = Qixia 7.4975 Mt x 33,000 / 988,000 = 0.25042 Mt.
    assert abs(tot["baguazhou", 2017] - 7.4975e6 * 33_000 / 988_000) <= 1
    # Energy share 2017 = 438.794 / (7.638 + 20.033 + 438.794 + 249.289 + 42.126 = 757.88) Mt;
    # other (agriculture) 7.638 / 757.88.
    energy = chen.query("zone_id == 'pukou' and year == 2017 and sector == 'energy'")["emissions_tco2e"].item()
    assert abs(energy - 9_962_400 * 438.794 / 757.88) <= 1
    other = chen.query("zone_id == 'pukou' and year == 2017 and sector == 'other'")["emissions_tco2e"].item()
    assert abs(other - 9_962_400 * 7.638 / 757.88) <= 1
    # 2018 = 2017 x (1 + g0 x 10/11), g0 = (9.9624 / 9.1336)^(1/5) - 1 (growth tapering to 2028).
    g0 = (9.9624 / 9.1336) ** 0.2 - 1
    assert abs(tot["pukou", 2018] - 9_962_400 * (1 + g0 * 10 / 11)) <= 1
    # City series: CEADs Nanjing 2017 178.4163 Mt x Pukou's share 9.9624 / 70.1719 of the county sum;
    # 2019: 170.3912 Mt x the same (2017) share.
    ctot = city.groupby(["zone_id", "year"])["emissions_tco2e"].sum()
    assert abs(ctot["pukou", 2017] - 178.4163e6 * 9.9624 / 70.1719) <= 1
    assert abs(ctot["pukou", 2019] - 170.3912e6 * 9.9624 / 70.1719) <= 1
    assert abs(ctot["baguazhou", 2010] - 113.1689e6 * 7.1766 / 61.7334 * 33_000 / 988_000) <= 1


def test_inventory_loads_in_the_app_loader(demo: DemoPaths) -> None:
    from sinks.ledger.inventory import load_emissions

    inv = load_emissions(demo.inventory_csv, zone_ids=list(K.ZONE_IDS))
    assert inv.rejected.empty and len(inv.rows) == 390 and inv.rows["illustrative"].all()
    assert inv.datasets == ("chen2020_county", "ceads_city_scaled") and inv.primary == "chen2020_county"
    assert [n.code for n in inv.notes] == ["sources_differ"]  # complete series, one unit: only the disagreement


def test_inventory_constants_match_the_shared_files() -> None:
    """The constants embedded in sinks/demo/inventory.py equal the shared real-data files."""
    from sinks.demo import inventory as I

    emissions = SHARED / "emissions"
    if not emissions.is_dir():
        print(f"skipping: {emissions} not found (../shared/data is beside the repo only in development)")
        pytest.skip(f"{emissions} not found")
    chen = pd.read_csv(emissions / "chen2020_county_co2_nanjing_1997_2017.csv")
    for zone, code in (("pukou", 320111), ("liuhe", 320116), ("qixia", 320113)):
        series = chen[chen["distcode"] == code].set_index("year")["co2_mt"]
        assert {y: series[y] for y in I.CHEN2020_MT[zone]} == pytest.approx(I.CHEN2020_MT[zone], abs=5e-5), zone
    total = chen[chen["year"].between(2010, 2017)].groupby("year")["co2_mt"].sum()
    assert chen["distcode"].nunique() == 11
    assert total.to_dict() == pytest.approx(I.CHEN2020_NANJING_SUM_MT, abs=5e-5)
    city = pd.read_csv(emissions / "ceads_city_co2_jiangsu_and_neighbours_1997_2019.csv")
    nj = city[city["city_en"] == "Nanjing"].set_index("year")["co2_mt"]
    assert {y: nj[y] for y in I.CEADS_NANJING_MT} == pytest.approx(I.CEADS_NANJING_MT, abs=5e-5)
    js = pd.read_csv(emissions / "ceads_jiangsu_sectoral_co2_1997_2019.csv")
    groups = js.groupby(["year", "sector_group"])["scope1_total_mt_co2"].sum().unstack()
    order = ["agriculture", "buildings_residential_commercial", "energy_supply", "industry", "transport"]
    for y, vals in I.CEADS_JIANGSU_GROUPS_MT.items():
        assert tuple(groups.loc[y, order]) == pytest.approx(vals, abs=5e-4), y


def test_committed_inventory_is_current() -> None:
    committed = ROOT / "data" / "inventory" / "jiangbei_emissions_illustrative.csv"
    if not committed.is_file():
        pytest.skip(f"{committed} not generated yet (python -m sinks.demo)")
    assert committed.read_text(encoding="utf-8") == inventory_csv_text()


# --------------------------------------------------------------------------- atomic writes


def test_failed_write_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _make_data_dir(tmp_path)

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("simulated failure mid-write")

    import sinks.demo.writers as writers

    monkeypatch.setattr(writers, "_finish_tags", boom)  # fails after the pixels were written
    with pytest.raises(RuntimeError, match="simulated failure"):
        build_demo(data, seed=SEED)
    rasters = data / "rasters"
    left = sorted(p.name for p in rasters.iterdir()) if rasters.exists() else []
    assert left == [], left  # no final file, no temporary file, no manifest


# --------------------------------------------------------------------------- real-data sanity


def test_shares_loosely_match_modis(lc: dict[int, np.ndarray], masks: dict) -> None:
    csv = SHARED / "landcover" / "modis_mcd12c1_2019_class_fractions_by_district.csv"
    if not csv.is_file():
        print(f"skipping: {csv} not found (../shared/data is beside the repo only in development)")
        pytest.skip(f"{csv} not found")
    m = pd.read_csv(csv)
    pct = {(int(r.adcode), int(r.igbp_class)): r.percent_of_district_area / 100 for r in m.itertuples()}
    pk = _land_shares(lc[2020], masks["pukou"])
    lh = _land_shares(lc[2020], masks["liuhe"])
    # Built-up vs MODIS urban (13): within 5 percentage points.
    assert abs(pk[50] - pct[(320111, 13)]) <= 0.05
    assert abs(lh[50] - pct[(320116, 13)]) <= 0.05
    # Liuhe is a cropland district in both (MODIS 85 % at 5 km; villages and ponds split it at 30 m).
    assert lh[40] > 0.6 and lh[40] < pct[(320116, 12)]
    # Pukou's savanna (9) + mosaic (14), 62 %, is mostly tree and crop at 30 m.
    assert abs((pk[10] + pk[40] + pk[30] + pk[20]) - (pct[(320111, 9)] + pct[(320111, 14)])) <= 0.10
