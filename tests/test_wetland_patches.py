"""Wetland patches (wetlands.patches): hand-worked tiny rasters, nodata, lon/lat, water index, errors, demo.

Arithmetic used throughout: a 30 m pixel is 900 m2 = 0.09 ha and has 30 m edges; a 100 m pixel
is 1 ha. Perimeters count the pixel edges between a patch and anything else.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Geod
from scipy import ndimage

from geodata.bands import open_bands
from geodata.errors import CRSMismatchError, DataError, GridError, MissingCRSError, SchemaError
from geodata.rasters import read_info, row_areas_m2
from tests.conftest import ORIGIN_X, ORIGIN_Y, PX, ROOT, UTM50, box_px, write_raster
from wetlands.patches import PatchRules, TYPES, edge_lengths_m, water_frequency, wetland_patches

# Two patches (8-connectivity): a 2x2 pond (0.36 ha) and a vegetated L + one diagonal pixel.
LC6 = np.array([
    [80, 80, 40, 40, 40, 40],
    [80, 80, 40, 90, 90, 40],
    [40, 40, 40, 40, 90, 40],
    [40, 40, 40, 40, 40, 90],
    [40, 40, 40, 40, 40, 40],
    [40, 40, 40, 40, 40, 0],   # nodata corner
], dtype="uint8")


def _frame(res) -> pd.DataFrame:
    return res.to_frame().set_index("patch_id")


@pytest.fixture
def lc6(tmp_path: Path) -> Path:
    return write_raster(tmp_path / "lc6.tif", LC6)


# ------------------------------------------------------------------------------ hand-worked


def test_two_patches_hand_worked(lc6):
    res = wetland_patches(lc6)
    df = _frame(res)
    assert list(df.index) == [1, 2]
    pond, marsh = df.loc[1], df.loc[2]
    # pond: 4 px x 0.09 ha = 0.36 ha; a 2 x 2 square has 8 outer edges x 30 m = 240 m;
    # Polsby-Popper 4 pi 3600 / 240^2 = pi / 4
    assert (pond.cover, pond.type, pond.n_px) == ("water", "pond", 4)
    assert pond.area_ha == pytest.approx(0.36, abs=1e-12)
    assert pond.perimeter_m == pytest.approx(240.0, abs=1e-9)
    assert pond.compactness == pytest.approx(math.pi / 4)
    assert (pond.row, pond.col) == (0, 0)
    # marsh: L of 3 px (8 edges) + 1 px joined at a corner (4 edges) = 12 x 30 m = 360 m; 0.36 ha
    assert (marsh.cover, marsh.type, marsh.n_px) == ("vegetated", "marsh", 4)
    assert marsh.area_ha == pytest.approx(0.36, abs=1e-12)
    assert marsh.perimeter_m == pytest.approx(360.0, abs=1e-9)
    assert (marsh.row, marsh.col) == (1, 3)
    assert pond.zone_id is None and not pond.touches_river and math.isnan(pond.water_frequency)
    # outlines follow pixel edges: their area and length are the same numbers
    gdf = res.to_geodataframe()
    assert gdf.crs == UTM50
    assert np.allclose(gdf.area / 1e4, gdf.area_ha) and np.allclose(gdf.length, gdf.perimeter_m)
    assert gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[0].equals(box_px(0, 0, 2, 2))
    assert gdf.geometry.iloc[1].geom_type == "MultiPolygon"  # two parts touching at one corner
    # totals: 35 valid px = 3.15 ha, 1 nodata px = 0.09 ha
    assert res.valid_ha == pytest.approx(3.15) and res.nodata_ha == pytest.approx(0.09)
    assert res.total_ha == pytest.approx(0.72)
    assert res.area_by_type() == pytest.approx({**dict.fromkeys(TYPES, 0.0), "pond": 0.36, "marsh": 0.36})
    assert res.connectivity == 8 and res.index is None and res.n_dates == 0


def test_four_connectivity_splits_the_corner_and_min_area_drops_it(lc6):
    res = wetland_patches(lc6, connectivity=4)
    df = _frame(res)
    # L of 3 px: 0.27 ha, 8 edges = 240 m; the corner pixel alone: 0.09 ha, 120 m
    assert list(df.n_px) == [4, 3, 1]
    assert list(df.perimeter_m) == pytest.approx([240.0, 240.0, 120.0])
    assert list(df.area_ha) == pytest.approx([0.36, 0.27, 0.09])
    kept = wetland_patches(lc6, connectivity=4, min_area_ha=0.1)
    assert [p.n_px for p in kept.patches] == [4, 3]
    assert kept.dropped_n == 1 and kept.dropped_ha == pytest.approx(0.09)
    # a patch of exactly min_area_ha stays
    assert len(wetland_patches(lc6, connectivity=4, min_area_ha=0.09).patches) == 3


@pytest.mark.parametrize("connectivity", [4, 8])
def test_strips_give_the_same_patches_as_one_pass(tmp_path, connectivity):
    """Random land cover: any strip height (1 row, 1 row + a bit, 10 rows, all) gives the same
    table and outlines; patch counts equal scipy's labelling of the whole array."""
    rng = np.random.default_rng(7)
    codes = np.array([0, 40, 80, 90, 30], dtype="uint8")
    lc = codes[rng.choice(5, size=(37, 53), p=[0.05, 0.45, 0.25, 0.2, 0.05])]
    path = write_raster(tmp_path / "rand.tif", lc)
    whole = wetland_patches(path, connectivity=connectivity, strip_px=10**9)
    structure = ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)
    n = sum(ndimage.label(lc == c, structure)[1] for c in (80, 90))
    assert len(whole.patches) == n
    assert whole.total_ha == pytest.approx(np.isin(lc, (80, 90)).sum() * 0.09)
    gdf = whole.to_geodataframe()
    assert np.allclose(gdf.area / 1e4, gdf.area_ha) and np.allclose(gdf.length, gdf.perimeter_m)
    for strip_px in (1, 60, 530):
        res = wetland_patches(path, connectivity=connectivity, strip_px=strip_px)
        pd.testing.assert_frame_equal(res.to_frame(), whole.to_frame())
        assert all(a.geometry.equals(b.geometry) for a, b in zip(res.patches, whole.patches))


# ------------------------------------------------------------------------------ types


def test_river_layer_makes_river_and_riverbank(tmp_path):
    lc = np.array([
        [80, 80, 90, 40, 40, 40],
        [80, 80, 90, 40, 90, 40],
        [40, 40, 40, 40, 40, 40],
        [40, 40, 40, 40, 80, 40],
        [40, 40, 40, 40, 40, 40],
        [40, 40, 40, 40, 40, 40],
    ], dtype="uint8")
    path = write_raster(tmp_path / "lc.tif", lc)
    # a river polygon over the west half of column 0 (and beyond the raster), rows 0-1
    river = gpd.GeoSeries([shapely.box(ORIGIN_X - 100, ORIGIN_Y - 2 * PX, ORIGIN_X + 15, ORIGIN_Y + 100)], crs=UTM50)
    df = _frame(wetland_patches(path, river=river))
    by_rc = df.set_index(["row", "col"])
    assert by_rc.loc[(0, 0), "type"] == "river" and by_rc.loc[(0, 0), "touches_river"]
    # the marsh strip next to the river patch is riverbank (it does not touch the layer itself)
    assert by_rc.loc[(0, 2), "type"] == "riverbank" and not by_rc.loc[(0, 2), "touches_river"]
    assert by_rc.loc[(1, 4), "type"] == "marsh"  # alone in the crop
    assert by_rc.loc[(3, 4), "type"] == "pond"
    # without the layer the 2 x 2 water is a pond and its neighbour a marsh
    plain = _frame(wetland_patches(path)).set_index(["row", "col"])
    assert plain.loc[(0, 0), "type"] == "pond" and plain.loc[(0, 2), "type"] == "marsh"
    # with 4-connectivity adjacency is by edges only: (0,2) still shares an edge with (0,1)
    assert _frame(wetland_patches(path, river=river, connectivity=4)).set_index(["row", "col"]).loc[(0, 2), "type"] == "riverbank"


def test_lake_reservoir_from_eight_hectares_and_lakeshore(tmp_path):
    """100 m pixels (1 ha each): 3 x 3 water = 9 ha >= 8 ha (Ramsar) is a lake; 2 x 2 = 4 ha a pond."""
    lc = np.array([
        [80, 80, 80, 90, 40, 40],
        [80, 80, 80, 90, 40, 40],
        [80, 80, 80, 40, 40, 40],
        [40, 40, 40, 40, 40, 40],
        [80, 80, 40, 40, 40, 40],
        [80, 80, 90, 40, 40, 40],
    ], dtype="uint8")
    t = Affine(100, 0, ORIGIN_X, 0, -100, ORIGIN_Y)
    path = write_raster(tmp_path / "lc100.tif", lc, transform=t)
    df = _frame(wetland_patches(path)).set_index(["row", "col"])
    lake = df.loc[(0, 0)]
    assert lake.type == "lake_reservoir" and lake.area_ha == pytest.approx(9.0) and lake.perimeter_m == pytest.approx(1200.0)
    assert df.loc[(0, 3), "type"] == "lakeshore" and df.loc[(0, 3), "area_ha"] == pytest.approx(2.0)
    assert df.loc[(4, 0), "type"] == "pond" and df.loc[(4, 0), "area_ha"] == pytest.approx(4.0)
    assert df.loc[(5, 2), "type"] == "marsh"  # next to a pond, not a lake
    # the 8 ha threshold is a parameter: at 10 ha the 9 ha water is a pond and its shore a marsh
    strict = _frame(wetland_patches(path, rules=PatchRules(lake_min_ha=10))).set_index(["row", "col"])
    assert strict.loc[(0, 0), "type"] == "pond" and strict.loc[(0, 3), "type"] == "marsh"


def test_long_thin_water_is_a_river_channel(tmp_path):
    """A 1 x 40 px channel: A = 40 px, P = 82 edges, 4 pi 40 / 82^2 = 0.0748 < 0.1 -> river;
    a 1 x 10 px ditch: 4 pi 10 / 22^2 = 0.260 -> pond."""
    lc = np.full((5, 42), 40, dtype="uint8")
    lc[1, 1:41] = 80
    lc[3, 1:11] = 80
    df = _frame(wetland_patches(write_raster(tmp_path / "chan.tif", lc))).set_index(["row", "col"])
    assert df.loc[(1, 1), "compactness"] == pytest.approx(4 * math.pi * 40 / 82**2)
    assert df.loc[(1, 1), "type"] == "river" and df.loc[(1, 1), "perimeter_m"] == pytest.approx(82 * 30)
    assert df.loc[(3, 1), "compactness"] == pytest.approx(4 * math.pi * 10 / 22**2)
    assert df.loc[(3, 1), "type"] == "pond"


def test_paddy_and_seasonal_codes_of_another_legend(tmp_path):
    """A legend with seasonal water (81) and paddy (41): 81 joins the water, 41 is paddy."""
    lc = np.array([[80, 81, 40], [40, 40, 40], [41, 41, 40]], dtype="uint8")
    rules = PatchRules(seasonal_water_codes=(81,), paddy_codes=(41,))
    df = _frame(wetland_patches(write_raster(tmp_path / "leg.tif", lc), rules=rules))
    assert list(zip(df.cover, df.type, df.n_px)) == [("water", "pond", 2), ("paddy", "paddy", 2)]
    with pytest.raises(ValueError, match="already wetland"):
        PatchRules(index_water_codes=(80, 30))
    with pytest.raises(ValueError, match="both"):
        PatchRules(paddy_codes=(90,))


# ------------------------------------------------------------------------------ zones


def test_zone_and_street_holding_most_of_the_area(tmp_path):
    lc = np.full((6, 6), 40, dtype="uint8")
    lc[0, 1:6] = 80  # 5 px: 2 in the west zone (cols 0-2), 3 in the east (cols 3-5)
    lc[4, 0] = 90    # west only
    path = write_raster(tmp_path / "lc.tif", lc)
    zones = gpd.GeoDataFrame({"zone_id": ["west", "east"]}, geometry=[box_px(0, 0, 3, 6), box_px(3, 0, 6, 6)],
                             crs=UTM50).to_crs("EPSG:4326")  # another CRS on purpose
    streets = gpd.GeoDataFrame({"name": ["s1"]}, geometry=[box_px(4, 0, 6, 1)], crs=UTM50)
    water, marsh = wetland_patches(path, zones=zones, streets=streets, street_id_field="name").patches
    assert water.zone_id == "east" and water.zone_share == pytest.approx(0.6)  # 3 of 5 px
    assert water.street_id == "s1" and water.street_share == pytest.approx(0.4)  # 2 of 5 px
    assert marsh.zone_id == "west" and marsh.zone_share == pytest.approx(1.0)
    assert marsh.street_id is None and marsh.street_share == 0.0
    with pytest.raises(SchemaError, match="no column 'code'"):
        wetland_patches(path, zones=zones, zone_id_field="code")
    with pytest.raises(MissingCRSError):
        wetland_patches(path, zones=gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[box_px(0, 0, 6, 6)]))


# ------------------------------------------------------------------------------ nodata


def test_nodata_is_never_wetland(tmp_path):
    lc = np.full((6, 6), 40, dtype="uint8")
    lc[0:3, 0:3] = 80
    lc[1, 1] = 0  # a nodata hole in the water
    lc[4, 4] = 0  # nodata alone in the crop
    path = write_raster(tmp_path / "lc.tif", lc)
    # bands that call every pixel water (MNDWI = (0.1 - 0.02) / 0.12 = 0.67)
    bands = write_raster(tmp_path / "b.tif", _bands(np.ones((6, 6), bool)), nodata=None,
                         descriptions=["green", "red", "nir", "swir1"])
    for kw in ({}, {"bands": open_bands(bands), "rules": PatchRules(index_water_codes=(30,), index_paddy_codes=())}):
        res = wetland_patches(path, **kw)
        assert len(res.patches) == 1
        p = res.patches[0]
        # 8 px = 0.72 ha; perimeter 12 outer + 4 hole edges = 16 x 30 m = 480 m
        assert p.n_px == 8 and p.area_ha == pytest.approx(0.72) and p.perimeter_m == pytest.approx(480.0)
        assert len(p.geometry.interiors) == 1
        assert res.nodata_ha == pytest.approx(0.18)
    # with the index on crop (paddy) every crop pixel joins, but neither nodata pixel does
    res = wetland_patches(path, bands=open_bands(bands))
    paddy = [p for p in res.patches if p.cover == "paddy"]
    assert sum(p.n_px for p in paddy) == 36 - 9 - 1
    assert all(p.geometry.intersection(box_px(4, 4, 5, 5)).area == 0 for p in res.patches)
    # a nodata value that is a wetland code: those pixels are nodata, not water
    odd = write_raster(tmp_path / "odd.tif", lc, nodata=80)
    assert [p.cover for p in wetland_patches(odd).patches] == []


# ------------------------------------------------------------------------------ lon/lat


def test_geographic_grid_uses_geodesic_row_areas(tmp_path):
    """EPSG:4326, 0.0003 deg pixels at 32.1 N: about 28.3 m (east) x 33.3 m (north), ~942 m2."""
    t = Affine(0.0003, 0, 118.60, 0, -0.0003, 32.10)
    path = write_raster(tmp_path / "ll.tif", LC6, crs="EPSG:4326", transform=t)
    res = wetland_patches(path)
    pond = res.patches[0]
    info = read_info(path)
    rows = row_areas_m2(info)
    assert pond.area_ha == pytest.approx(2 * (rows[0] + rows[1]) / 1e4, rel=1e-12)
    assert pond.area_ha == pytest.approx(4 * 942 / 1e4, rel=0.01)
    # independent check: the geodesic area and perimeter of the 2 x 2 outline (60 m: geodesic
    # edges and parallels differ by far less than 1e-6)
    geod = Geod(ellps="WGS84")
    lons = [118.60, 118.6006, 118.6006, 118.60]
    lats = [32.10, 32.10, 32.0994, 32.0994]
    area, perim = geod.polygon_area_perimeter(lons, lats)
    assert pond.area_ha == pytest.approx(abs(area) / 1e4, rel=1e-6)
    assert pond.perimeter_m == pytest.approx(perim, rel=1e-6)
    h, v = edge_lengths_m(info)
    assert h[0] == pytest.approx(28.3, abs=0.1) and v[0] == pytest.approx(33.3, abs=0.1)
    assert pond.perimeter_m == pytest.approx(2 * (h[0] + h[2]) + 2 * (v[0] + v[1]))
    # the outline is in degrees, in the raster CRS
    assert res.to_geodataframe().crs == "EPSG:4326"
    assert res.patches[1].type == "marsh" and res.patches[1].n_px == 4


# ------------------------------------------------------------------------------ water index


def _bands(wet: np.ndarray, *, nan: np.ndarray | None = None) -> np.ndarray:
    """green, red, nir, swir1 reflectance: water (MNDWI 0.67, NDWI 0.67) where ``wet``, else
    land (MNDWI (0.08 - 0.25) / 0.33 = -0.52)."""
    g = np.where(wet, 0.10, 0.08)
    r = np.full(wet.shape, 0.06)
    n = np.where(wet, 0.02, 0.30)
    s = np.where(wet, 0.02, 0.25)
    out = np.stack([g, r, n, s]).astype("float32")
    if nan is not None:
        out[:, nan] = np.nan
    return out


LC_IDX = np.array([
    [80, 80, 30, 40, 40, 40],
    [80, 80, 40, 40, 50, 40],
    [40, 40, 40, 40, 40, 40],
    [40, 40, 40, 40, 40, 40],
    [40, 40, 40, 0, 40, 40],
    [40, 40, 40, 40, 40, 10],
], dtype="uint8")


def _wet(*cells) -> np.ndarray:
    w = np.zeros((6, 6), bool)
    for rc in cells:
        w[rc] = True
    return w


def test_mndwi_refinement_adds_water_and_paddy(tmp_path):
    lc = write_raster(tmp_path / "lc.tif", LC_IDX)
    # water per MNDWI: three of the four land-cover water pixels ((1,1) reads as land), the grass
    # (0,2), the crop (3,1), the built-up (1,4), the nodata (4,3) and the tree (5,5)
    wet = _wet((0, 0), (0, 1), (1, 0), (0, 2), (3, 1), (1, 4), (4, 3), (5, 5))
    b = write_raster(tmp_path / "b.tif", _bands(wet), nodata=None, descriptions=["green", "red", "nir", "swir1"])
    res = wetland_patches(lc, bands=open_bands(b))
    df = _frame(res)
    assert list(zip(df.cover, df.type, df.n_px)) == [("water", "pond", 5), ("paddy", "paddy", 1)]
    pond, paddy = df.loc[1], df.loc[2]
    # pond: 4 land-cover px + grass (0,2) = 0.45 ha; 2x2 square + 1 px on its side: 10 edges = 300 m
    assert pond.area_ha == pytest.approx(0.45) and pond.perimeter_m == pytest.approx(300.0)
    assert pond.index_added_ha == pytest.approx(0.09)
    assert pond.water_frequency == pytest.approx(4 / 5)  # (1,1) is water in land cover but dry in MNDWI
    assert (paddy.row, paddy.col) == (3, 1) and paddy.index_added_ha == pytest.approx(0.09)
    assert res.index == "mndwi" and res.index_threshold == 0.0 and res.n_dates == 1
    # without bands: the land cover's 2 x 2 pond only
    assert [p.n_px for p in wetland_patches(lc).patches] == [4]
    # a stricter threshold (0.7 > 0.67) adds nothing
    assert [p.n_px for p in wetland_patches(lc, bands=open_bands(b), index_threshold=0.7).patches] == [4]
    # NDWI (green, nir) gives the same here
    assert _frame(wetland_patches(lc, bands=open_bands(b), index="ndwi")).n_px.tolist() == [5, 1]


def test_water_frequency_over_dates(tmp_path):
    lc = write_raster(tmp_path / "lc.tif", LC_IDX)
    desc = ["green", "red", "nir", "swir1"]
    d1 = write_raster(tmp_path / "d1.tif", _bands(_wet((0, 0), (0, 1), (1, 0), (0, 2), (3, 1))), nodata=None, descriptions=desc)
    # date 2: the grass (0,2) is dry, the crop (3,1) is cloud (NaN): its frequency is 1/1
    d2 = write_raster(tmp_path / "d2.tif", _bands(_wet((0, 0), (0, 1), (1, 0)), nan=_wet((3, 1))), nodata=None,
                      descriptions=desc)
    dates = [open_bands(d1), open_bands(d2)]
    freq = water_frequency(dates)
    assert freq[0, 0] == 1.0 and freq[1, 1] == 0.0 and freq[0, 2] == 0.5 and freq[3, 1] == 1.0
    res = wetland_patches(lc, bands=dates, min_water_frequency=0.5)
    df = _frame(res)
    assert df.n_px.tolist() == [5, 1]
    # pond frequency: 3 px at 1, (1,1) at 0, (0,2) at 0.5 -> 3.5 / 5 = 0.7
    assert df.loc[1, "water_frequency"] == pytest.approx(0.7)
    strict = _frame(wetland_patches(lc, bands=dates, min_water_frequency=0.75))
    assert strict.n_px.tolist() == [4, 1]  # the grass at 0.5 stays out, the crop at 1.0 joins
    assert strict.loc[1, "water_frequency"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="min_water_frequency"):
        wetland_patches(lc, bands=dates, min_water_frequency=0)


def test_index_is_the_one_sinks_computes(tmp_path):
    """The layer rule keeps wetlands from importing sinks; the formula must still agree."""
    from sinks.landcover.indices import mndwi

    rng = np.random.default_rng(3)
    arr = rng.uniform(0.0, 0.5, size=(4, 7, 9)).astype("float32")
    b = write_raster(tmp_path / "r.tif", arr, nodata=None, descriptions=["green", "red", "nir", "swir1"])
    got = water_frequency(open_bands(b), threshold=0.1)
    want = (mndwi(arr[0], arr[3]) > 0.1).astype("float32")
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------ errors


def test_raster_without_crs_is_refused(tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", LC6, crs=None)
    with pytest.raises(MissingCRSError) as exc:
        wetland_patches(path)
    assert isinstance(exc.value, DataError)
    assert "nocrs.tif" in str(exc.value) and "coordinate reference system" in exc.value.problem
    assert "EPSG:32650" in exc.value.fix


def test_raster_without_nodata_is_refused(tmp_path):
    with pytest.raises(DataError, match="nodata"):
        wetland_patches(write_raster(tmp_path / "nond.tif", LC6, nodata=None))


def test_band_set_on_another_grid_is_refused(lc6, tmp_path):
    desc = ["green", "red", "nir", "swir1"]
    wet = np.zeros((6, 6), bool)
    shifted = write_raster(tmp_path / "shifted.tif", _bands(wet), nodata=None, descriptions=desc,
                           transform=Affine(PX, 0, ORIGIN_X + 15, 0, -PX, ORIGIN_Y))
    with pytest.raises(GridError) as exc:
        wetland_patches(lc6, bands=open_bands(shifted))
    assert "shifted.tif" in exc.value.source and "lc6.tif" in exc.value.fix
    other_crs = write_raster(tmp_path / "wgs.tif", _bands(wet), nodata=None, descriptions=desc, crs="EPSG:4326",
                             transform=Affine(0.0003, 0, 118.6, 0, -0.0003, 32.1))
    with pytest.raises(CRSMismatchError):
        wetland_patches(lc6, bands=open_bands(other_crs))
    no_swir = write_raster(tmp_path / "gnir.tif", _bands(wet)[[0, 2]], nodata=None, descriptions=["green", "nir"])
    with pytest.raises(DataError, match="swir1"):
        wetland_patches(lc6, bands=open_bands(no_swir))
    assert wetland_patches(lc6, bands=open_bands(no_swir), index="ndwi").n_dates == 1


def test_bad_arguments(lc6):
    with pytest.raises(ValueError, match="connectivity"):
        wetland_patches(lc6, connectivity=6)
    with pytest.raises(ValueError, match="min_area_ha"):
        wetland_patches(lc6, min_area_ha=-1)


# ------------------------------------------------------------------------------ demo

DEMO = ROOT / "data" / "rasters"
BOUNDARIES = ROOT / "data" / "boundaries" / "jiangbei_boundaries.gpkg"


@pytest.fixture(scope="module")
def demo():
    lc = DEMO / "jiangbei_landcover_2025.tif"
    need = [lc, DEMO / "jiangbei_sites_illustrative.gpkg", DEMO / "jiangbei_demo_manifest.json", BOUNDARIES]
    if not all(p.exists() for p in need):
        pytest.skip(f"demo data not built ({lc}); run `make demo`")
    zones = gpd.read_file(BOUNDARIES, layer="zones")
    res = wetland_patches(
        lc,
        zones=zones[zones.level == "district"],
        streets=zones[zones.level == "street"],
        river=gpd.read_file(BOUNDARIES, layer="yangtze"),
    )
    with rasterio.open(lc) as ds:
        codes = ds.read(1)
    sites = gpd.read_file(DEMO / "jiangbei_sites_illustrative.gpkg", layer="sites").to_crs(res.crs).set_index("site_id")
    manifest = json.loads((DEMO / "jiangbei_demo_manifest.json").read_text(encoding="utf-8"))
    return {"res": res, "codes": codes, "sites": sites, "manifest": manifest, "lc": lc}


def test_demo_totals_equal_pixel_counts(demo):
    res, codes, m = demo["res"], demo["codes"], demo["manifest"]
    df = res.to_frame()
    # min_area_ha = 0: every wetland pixel is in a patch, 0.09 ha each
    assert df[df.cover == "water"].area_ha.sum() == pytest.approx((codes == 80).sum() * 0.09)
    veg = df[df.cover == "vegetated"].area_ha.sum()
    assert veg == pytest.approx(np.isin(codes, (90, 95)).sum() * 0.09)
    # ... which is the generator's own wetland area of 2025, summed over the three zones
    assert veg == pytest.approx(sum(z["90_ha"] for z in m["class_areas"]["2025"].values()), abs=0.01)
    assert res.nodata_ha == pytest.approx((codes == 0).sum() * 0.09)


def test_demo_wetland_sites_are_riverbank_patches(demo):
    res, sites, m = demo["res"], demo["sites"], demo["manifest"]
    gdf = res.to_geodataframe()
    veg = gdf[gdf.cover == "vegetated"]
    for site_id in ("lvshuiwan_wetland", "baguazhou_ring"):
        site = sites.loc[site_id, "geometry"]
        inside = veg.intersection(site).area / 1e4
        # site outlines and patches both follow pixel edges: the vegetated area inside the site is
        # the generator's herbaceous wetland in the site (Lvshuiwan 1679.76 ha, ring 618.12 ha)
        assert inside.sum() == pytest.approx(m["sites"][site_id]["90_ha_2025"], abs=0.01)
        main = veg.loc[inside.idxmax()]
        assert main.type == "riverbank" and main.touches_river
        if site_id == "lvshuiwan_wetland":
            # one strip: the largest patch holds all but a pixel or so of the site's wetland
            assert inside.max() >= 0.99 * m["sites"][site_id]["90_ha_2025"]
            assert main.zone_id == "pukou" and main.zone_share == pytest.approx(1.0)
            assert main.area_ha == pytest.approx(inside.max(), rel=0.01)
        else:
            assert main.street_id == "baguazhou"
    # Baguazhou street holds wetland patches
    assert (gdf.street_id == "baguazhou").sum() > 0


def test_demo_water_types(demo):
    res = demo["res"]
    df = res.to_frame()
    water = df[df.cover == "water"].sort_values("area_ha", ascending=False)
    yangtze = water.iloc[0]
    # the largest water patch is the Yangtze reach along Pukou, typed by the river layer
    assert yangtze.type == "river" and yangtze.touches_river and yangtze.zone_id == "pukou"
    # the synthetic Chu River does not touch the Yangtze layer: the compactness rule makes it a river
    chu = water[(water.type == "river") & ~water.touches_river]
    assert len(chu) >= 1 and chu.area_ha.max() > 1000 and chu.compactness.max() < 0.1
    # the illustrative 7 km2 Jinniu Lake: a lake_reservoir in Liuhe
    lakes = water[water.type == "lake_reservoir"]
    assert lakes.area_ha.min() >= 8.0 and (lakes.zone_id == "liuhe").any()
    assert (water[water.type == "pond"].area_ha < 8.0).all()
    assert set(df.type) <= set(TYPES)


def test_demo_strips_and_refinement(demo):
    res = demo["res"]
    zones = gpd.read_file(BOUNDARIES, layer="zones")
    small = wetland_patches(demo["lc"], zones=zones[zones.level == "district"], streets=zones[zones.level == "street"],
                            river=gpd.read_file(BOUNDARIES, layer="yangtze"), strip_px=2348 * 97)
    pd.testing.assert_frame_equal(small.to_frame(), res.to_frame())
    bands = DEMO / "jiangbei_bands_2025.tif"
    if not bands.exists():
        pytest.skip(f"{bands} not built")
    ref = wetland_patches(demo["lc"], bands=open_bands(bands), min_area_ha=0.5)
    by_type = ref.area_by_type()
    plain = wetland_patches(demo["lc"], min_area_ha=0.5).area_by_type()
    # MNDWI > 0 adds flooded cropland as paddy (the generator floods some rice parcels) and leaves
    # the land-cover water and wetland as they are (no grass/shrub/bare pixel reads as water here)
    assert by_type["paddy"] > 0 and plain["paddy"] == 0
    for t in ("river", "lake_reservoir", "pond", "riverbank", "lakeshore", "marsh"):
        assert by_type[t] == pytest.approx(plain[t])
