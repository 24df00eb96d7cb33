"""Exact coverage fractions (geodata.coverage): hand-worked grids, exactextract on the demo."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from geodata.coverage import class_areas, class_transitions, zone_coverage, zone_means, zone_patches
from geodata.errors import CRSMismatchError, DataError, GeometryError, GridError, SchemaError
from geodata.rasters import read_info
from tests.conftest import LC_T0, LC_T1, ORIGIN_X, ORIGIN_Y, PX, UTM50, box_px, write_raster

ROOT = Path(__file__).resolve().parents[1]
DEMO_LC = ROOT / "data" / "rasters" / "jiangbei_landcover_2020.tif"
BOUNDARIES = ROOT / "data" / "boundaries" / "jiangbei_boundaries.gpkg"

# A 10 x 10 grid of 10 m pixels, top-left corner at (X0, Y0): pixel (r, c) spans
# x in [X0 + 10c, X0 + 10c + 10], y in [Y0 - 10r - 10, Y0 - 10r]; 100 m2 = 0.01 ha each.
X0, Y0 = 600000.0, 3550100.0
T10 = Affine(10, 0, X0, 0, -10, Y0)


def _zones(geoms, ids=None, crs=UTM50) -> gpd.GeoDataFrame:
    ids = ids or [f"z{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"zone_id": ids}, geometry=list(geoms), crs=crs)


@pytest.fixture
def grid10(tmp_path: Path):
    return read_info(write_raster(tmp_path / "g10.tif", np.full((10, 10), 30, "uint8"), transform=T10))


# ---------------------------------------------------------------- fractions by hand

def test_half_pixels_triangle_and_hole_by_hand(grid10):
    # x from X0+5 (half of column 0) to X0+30, rows 0-1: column 0 half, columns 1-2 whole
    cov = zone_coverage(grid10, shapely.box(X0 + 5, Y0 - 20, X0 + 30, Y0))
    assert (cov.window.col_off, cov.window.row_off, cov.window.width, cov.window.height) == (0, 0, 3, 2)
    np.testing.assert_array_equal(cov.fraction, [[0.5, 1, 1], [0.5, 1, 1]])
    assert cov.fraction.dtype == np.float32
    assert cov.covered_m2 == pytest.approx(25 * 20)

    # right triangle with legs 20 m along the top and left edges, hypotenuse x + y' = 20
    # (y' = metres below Y0): pixel (0,0) lies wholly under it -> 1; pixels (0,1) and (1,0)
    # are cut along their diagonal -> 0.5; pixel (1,1) only touches it at a corner -> 0
    cov = zone_coverage(grid10, shapely.Polygon([(X0, Y0), (X0 + 20, Y0), (X0, Y0 - 20)]))
    np.testing.assert_array_equal(cov.fraction, [[1, 0.5], [0.5, 0]])

    # a triangle inside one pixel: legs 10 and 4 m -> 20 m2 of pixel (4, 6) = 0.2
    cov = zone_coverage(grid10, shapely.Polygon([(X0 + 60, Y0 - 50), (X0 + 70, Y0 - 50), (X0 + 60, Y0 - 46)]))
    np.testing.assert_allclose(cov.fraction, [[0.2]], rtol=1e-7)
    assert (cov.window.row_off, cov.window.col_off) == (4, 6)

    # the whole grid minus a hole x in [12, 38], y' in [12, 88]: pixel (1,1) keeps the 10 x 10
    # square less the 8 x 8 of the hole in it = 36 m2 -> 0.36; (1,2) keeps 10 x 2 -> 0.2;
    # (2,2) is wholly in the hole -> 0; total 10000 - 26 * 76 = 8024 m2
    ring = shapely.box(X0 - 50, Y0 - 150, X0 + 150, Y0 + 50).difference(
        shapely.box(X0 + 12, Y0 - 88, X0 + 38, Y0 - 12))
    cov = zone_coverage(grid10, ring)
    assert cov.fraction.shape == (10, 10)  # clipped to the raster
    np.testing.assert_allclose(cov.fraction[1, 1:4], [0.36, 0.2, 0.36], rtol=1e-6)
    np.testing.assert_allclose(cov.fraction[2:8, 1:4], [[0.2, 0, 0.2]] * 6, rtol=1e-6)
    assert cov.fraction[0].tolist() == [1.0] * 10 and cov.fraction[:, 9].tolist() == [1.0] * 10
    assert cov.covered_m2 == pytest.approx(8024, rel=1e-7)  # float32 fractions (0.2 -> 0.2000000030)

    # a ring wound the other way round and a MultiPolygon give the same fractions
    flipped = shapely.Polygon(list(ring.exterior.coords)[::-1], [list(ring.interiors[0].coords)[::-1]])
    np.testing.assert_array_equal(zone_coverage(grid10, flipped).fraction, cov.fraction)
    multi = shapely.MultiPolygon([shapely.box(X0, Y0 - 10, X0 + 5, Y0), shapely.box(X0 + 95, Y0 - 100, X0 + 100, Y0 - 95)])
    f = zone_coverage(grid10, multi).fraction
    assert f.shape == (10, 10) and f[0, 0] == 0.5 and f[9, 9] == 0.25 and f.sum() == 0.75


@pytest.mark.parametrize("top, truth_rows, centres_ha", [
    # pixel rows of 30 m: row 1 spans y' in [30, 60], its centres at y' = 45
    (37.5, {1: 0.5}, 0.90),  # strip y' in [37.5, 52.5] holds the row-1 centres: 10 px counted = 2x
    (29.0, {0: 1 / 30, 1: 14 / 30}, 0.0),  # strip y' in [29, 44] holds no centre: counted as 0
])
def test_thin_strip_centres_wrong_coverage_exact(tmp_path, top, truth_rows, centres_ha):
    info = read_info(write_raster(tmp_path / "s.tif", np.full((4, 10), 50, "uint8")))
    strip = shapely.box(ORIGIN_X, ORIGIN_Y - top - 15, ORIGIN_X + 10 * PX, ORIGIN_Y - top)
    cov = zone_coverage(info, strip)
    for row, frac in truth_rows.items():
        np.testing.assert_allclose(cov.fraction[row - cov.window.row_off], frac, rtol=1e-6)
    df = class_areas(info, _zones([strip]), "zone_id").set_index("code")
    # truth: 300 m x 15 m = 4500 m2 = 0.45 ha whatever the offset
    assert df.loc[50, "area_ha"] == pytest.approx(0.45, rel=1e-7)
    assert df.loc[50, "area_ha_centres"] == pytest.approx(centres_ha)
    assert df.loc[50, "zone_area_ha"] == pytest.approx(0.45)


# ---------------------------------------------------------------- against exactextract on the demo

@pytest.fixture(scope="module")
def demo_zones():
    river = gpd.read_file(BOUNDARIES, layer="yangtze").to_crs(UTM50).geometry[0]
    zones = gpd.read_file(BOUNDARIES, layer="zones").to_crs(UTM50).set_index("zone_id").geometry
    bank = river.boundary.intersection(zones["pukou"])  # 77 km of Pukou's Yangtze bank
    info = read_info(DEMO_LC)
    left, bottom, right, top = info.bounds
    return {
        "bank": bank,
        "zones": _zones([
            bank.buffer(50),  # a 100 m riparian belt
            zones["baguazhou"],
            shapely.MultiPolygon([zones["baguazhou"], shapely.box(650000, 3570000, 652345.6, 3571234.5)]),
            zones["pukou"],
            shapely.box(left - 1000.5, top - 2000.25, left + 1500.75, top + 500),  # sticks out of the raster
        ], ["belt100", "baguazhou", "multi", "pukou", "corner"]),
    }


def test_class_areas_match_exactextract_on_demo(demo_zones):
    exactextract = pytest.importorskip("exactextract")
    zones = demo_zones["zones"]
    info = read_info(DEMO_LC)
    ours = class_areas(info, zones, "zone_id")
    ee = exactextract.exact_extract(str(DEMO_LC), zones, ["unique", "frac", "count"],
                                    include_cols=["zone_id"], output="pandas").set_index("zone_id")
    n_checked = 0
    for zid, row in ee.iterrows():
        # exactextract: frac = share of the covered (non-nodata) area per class, count = sum of
        # coverage fractions of the non-nodata pixels -> class area = frac x count x 900 m2
        theirs = dict(zip(np.asarray(row["unique"]).astype(int), np.asarray(row["frac"]) * row["count"] * 900 / 1e4))
        mine = ours[(ours.zone_id == zid) & ~ours.is_nodata].set_index("code")["area_ha"]
        assert set(mine[mine > 0].index) == set(theirs)
        for code, ha in theirs.items():
            assert mine[code] == pytest.approx(ha, rel=1e-6, abs=1e-9), (zid, code)
            n_checked += 1
    assert n_checked > 25


def test_cell_fractions_match_exactextract_on_belt(demo_zones):
    exactextract = pytest.importorskip("exactextract")
    info = read_info(DEMO_LC)
    belt = demo_zones["zones"].iloc[[0]]
    ee = exactextract.exact_extract(str(DEMO_LC), belt, ["cell_id", "coverage"], output="pandas")
    cells, frac = np.asarray(ee["cell_id"][0]), np.asarray(ee["coverage"][0])
    cov = zone_coverage(info, belt.geometry.iloc[0])
    w = cov.window
    full = np.zeros(info.shape, "float32")
    full[w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width] = cov.fraction
    with rasterio.open(DEMO_LC) as ds:
        data = ds.read(1)
    # exactextract lists the covered cells that hold data; so must we, with the same fraction
    assert set(np.flatnonzero((full > 0) & (data != 0)).tolist()) == set(cells.tolist())
    assert len(cells) > 10_000
    np.testing.assert_allclose(full.ravel()[cells], frac, rtol=0, atol=1e-6)


def test_areas_add_up_to_the_vector_and_centres_are_bounded(demo_zones):
    info = read_info(DEMO_LC)
    zones = demo_zones["zones"]
    seen = []
    df = class_areas(info, zones, "zone_id", progress=seen.append)
    assert seen == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    for zid, geom in zip(zones.zone_id, zones.geometry):
        z = df[df.zone_id == zid]
        assert z.is_nodata.sum() == 1  # the nodata row is always there
        # classes + nodata = vector area of the part inside the raster (float32 fractions)
        assert z.area_ha.sum() == pytest.approx(z.zone_inside_ha.iloc[0], rel=1e-8)
        assert z.zone_area_ha.iloc[0] == pytest.approx(geom.area / 1e4)
        # centre counting differs only on boundary pixels: at most one pixel area each
        frac = zone_coverage(info, geom).fraction
        n_boundary = int(((frac > 0) & (frac < 1)).sum())
        assert (z.area_ha - z.area_ha_centres).abs().sum() <= n_boundary * 0.09
    corner = df[df.zone_id == "corner"].iloc[0]
    # the corner box is 2501.25 x 2500.25 m, of which 1500.75 x 2000.25 m lie inside the raster
    assert corner.zone_area_ha == pytest.approx(2501.25 * 2500.25 / 1e4)
    assert corner.zone_inside_ha == pytest.approx(1500.75 * 2000.25 / 1e4)
    belt = df[df.zone_id == "belt100"]
    # 100 m x 77.2 km belt: the two rules differ by hectares on single classes
    assert (belt.area_ha - belt.area_ha_centres).abs().max() > 0.5


def test_one_km_belt_along_80_km_of_river_with_many_vertices(demo_zones):
    # speed is measured in benchmarks/ (timed tests are flaky on shared machines); here: exactness
    info = read_info(DEMO_LC)
    belt = shapely.segmentize(demo_zones["bank"].buffer(500), 20.0)  # ~9,000 vertices
    assert demo_zones["bank"].length > 75_000 and shapely.get_num_coordinates(belt) > 5_000
    cov = zone_coverage(info, belt)
    assert cov.covered_m2 == pytest.approx(shapely.clip_by_rect(belt, *info.bounds).area, rel=1e-8)


# ---------------------------------------------------------------- transitions

def test_transitions_by_hand_and_totals_match_class_areas(tmp_path):
    a = read_info(write_raster(tmp_path / "a.tif", LC_T0))
    b = read_info(write_raster(tmp_path / "b.tif", LC_T1))
    # zone "half": x from 15 to 75 m (half of column 0 .. half of column 2), rows 0-1.
    #   t0 [[10 10 40] [10 10 40]] -> t1 [[10 10 10] [10 10 50]], fractions [.5 1 .5] per row
    #   10->10: (0.5 + 1) x 2 = 3 px = 0.27 ha; 40->10 and 40->50: 0.5 px = 0.045 ha each
    half = shapely.box(ORIGIN_X + 15, ORIGIN_Y - 60, ORIGIN_X + 75, ORIGIN_Y)
    # zone "tri": legs 60 m along the bottom and 30 m up the left edge of row 3; under the
    #   hypotenuse pixel (3,0) (nodata) keeps 675 m2 (0.75) and (3,1) (water 80) 225 m2 (0.25)
    tri = shapely.Polygon([(ORIGIN_X, ORIGIN_Y - 120), (ORIGIN_X + 60, ORIGIN_Y - 120), (ORIGIN_X, ORIGIN_Y - 90)])
    zones = _zones([half, tri], ["half", "tri"])
    tr = class_transitions(a, b, zones, "zone_id")
    got = {(r.zone_id, r.from_code, r.to_code): r.area_ha for r in tr.itertuples()}
    assert got == pytest.approx({
        ("half", 10, 10): 0.27, ("half", 40, 10): 0.045, ("half", 40, 50): 0.045,
        ("tri", 0, 0): 0.0675, ("tri", 80, 80): 0.0225,
    })
    for info, side in ((a, "from_code"), (b, "to_code")):
        areas = class_areas(info, zones, "zone_id")
        areas = areas[areas.area_ha > 0].set_index(["zone_id", "code"])["area_ha"].sort_index()
        totals = tr.groupby(["zone_id", side])["area_ha"].sum().rename_axis(["zone_id", "code"]).sort_index()
        np.testing.assert_allclose(totals.to_numpy(), areas.to_numpy(), rtol=1e-12)
        assert list(totals.index) == list(areas.index)
    nodata = class_areas(a, zones, "zone_id").query("zone_id == 'tri' and is_nodata").iloc[0]
    assert (nodata.code, nodata.area_ha) == (0, pytest.approx(0.0675))


def test_transitions_refuse_another_grid(tmp_path):
    a = read_info(write_raster(tmp_path / "a.tif", LC_T0))
    shifted = read_info(write_raster(tmp_path / "b.tif", LC_T1, transform=Affine(PX, 0, ORIGIN_X + PX, 0, -PX, ORIGIN_Y)))
    with pytest.raises(GridError) as e:
        class_transitions(a, shifted, _zones([box_px(0, 0, 2, 2)]), "zone_id")
    msg = str(e.value)
    assert "b.tif" in msg and "a.tif" in msg and "origin 600030.000" in msg and "resample" in msg



# int16 land cover with a negative nodata (-1) and a code above 255 (300), as national LUCC
# rasters are sometimes delivered; 30 m pixels = 0.09 ha. The zone leaves out the left half
# of column 0 (fractions 0.5 there, 1 elsewhere): 3.5 x 4 = 14 px.
LC16_A = np.array([
    [30, 30, 300, 300],
    [30, 30, 300, -1],
    [-1, 30, 30, 30],
    [-1, -1, 30, 30],
], dtype="int16")
LC16_B = np.array([
    [30, -1, 300, 30],
    [300, 30, 300, -1],
    [-1, 30, 30, 300],
    [-1, -1, 30, 30],
], dtype="int16")
HALF_COL0 = shapely.box(ORIGIN_X + 15, ORIGIN_Y - 4 * PX, ORIGIN_X + 4 * PX, ORIGIN_Y)


def test_transitions_and_areas_with_negative_nodata_and_code_300(tmp_path):
    a = read_info(write_raster(tmp_path / "a16.tif", LC16_A, nodata=-1))
    b = read_info(write_raster(tmp_path / "b16.tif", LC16_B, nodata=-1))
    assert (a.dtype, a.nodata) == ("int16", -1)
    zones = _zones([HALF_COL0], ["Z"])
    tr = class_transitions(a, b, zones, "zone_id")
    got = {(r.from_code, r.to_code): r.area_ha for r in tr.itertuples()}
    # pixel by pixel (px): 30->30 .5+1 (row 0) +1 (row 1) +1+1 (row 2) +1+1 (row 3) = 5.5;
    # 30->-1 1; 300->300 2; 300->30 1; 30->300 .5 (row 1) + 1 (row 2) = 1.5;
    # -1->-1 1 (row 1) + .5 (row 2) + 1.5 (row 3) = 3
    assert got == pytest.approx({
        (30, 30): 5.5 * 0.09, (30, -1): 0.09, (300, 300): 0.18, (300, 30): 0.09,
        (30, 300): 1.5 * 0.09, (-1, -1): 0.27,
    })
    assert tr.from_code.dtype == np.int64 and tr.to_code.dtype == np.int64
    assert tr.area_ha.sum() == pytest.approx(14 * 0.09)

    ca = class_areas(a, zones, "zone_id").set_index("code")
    assert sorted(ca.index) == [-1, 30, 300]
    assert ca.area_ha.to_dict() == pytest.approx({30: 0.72, 300: 0.27, -1: 0.27})
    assert ca.is_nodata.to_dict() == {-1: True, 30: False, 300: False}
    cb = class_areas(b, zones, "zone_id").set_index("code")
    assert cb.area_ha.to_dict() == pytest.approx({30: 6.5 * 0.09, 300: 3.5 * 0.09, -1: 4 * 0.09})
    # the transitions still add up to each date's class areas
    for areas, side in ((ca, "from_code"), (cb, "to_code")):
        totals = tr.groupby(side)["area_ha"].sum()
        np.testing.assert_allclose(totals.sort_index().to_numpy(), areas.area_ha.sort_index().to_numpy(), rtol=1e-12)

    # a raster with no nodata pixel still gets its (negative) nodata row, with no area
    full = read_info(write_raster(tmp_path / "f16.tif", np.full((4, 4), 300, "int16"), nodata=-1))
    row = class_areas(full, zones, "zone_id").set_index("code")
    assert row.area_ha.to_dict() == pytest.approx({-1: 0.0, 300: 14 * 0.09}) and row.is_nodata[-1]


def test_transitions_between_uint8_and_uint16_dates(tmp_path):
    # date 1 uint8 (nodata 0), date 2 uint16 (nodata 65535) with codes 256 and 300: a key built
    # on 256 values would read 40 -> 256 as 41 -> 0 and 40 -> 300 as 41 -> 44
    b16 = LC_T1.astype("uint16")
    b16[0, 3], b16[1, 2], b16[3, 0] = 300, 256, 65535
    a = read_info(write_raster(tmp_path / "a8.tif", LC_T0))
    b = read_info(write_raster(tmp_path / "b16.tif", b16, nodata=65535))
    assert (a.dtype, b.dtype) == ("uint8", "uint16")
    # "all": the whole grid; "top": rows 0-1 without the left half of column 0
    zones = _zones([box_px(0, 0, 4, 4), shapely.box(ORIGIN_X + 15, ORIGIN_Y - 2 * PX, ORIGIN_X + 4 * PX, ORIGIN_Y)],
                   ["all", "top"])
    tr = class_transitions(a, b, zones, "zone_id")
    got = {(r.zone_id, r.from_code, r.to_code): r.area_ha for r in tr.itertuples()}
    px = 0.09
    assert got == pytest.approx({
        ("all", 10, 10): 4 * px, ("all", 40, 10): px, ("all", 40, 300): px, ("all", 40, 256): px,
        ("all", 40, 40): px, ("all", 50, 50): 2 * px, ("all", 80, 80): 3 * px, ("all", 0, 65535): px,
        ("all", 90, 90): px, ("all", 90, 50): px,
        ("top", 10, 10): 3 * px, ("top", 40, 10): px, ("top", 40, 300): px, ("top", 40, 256): px,
        ("top", 50, 50): px,
    })
    cb = class_areas(b, zones, "zone_id").query("zone_id == 'all'").set_index("code")
    assert cb.loc[300, "area_ha"] == pytest.approx(px) and cb.loc[256, "area_ha"] == pytest.approx(px)
    assert cb.loc[65535, "is_nodata"] and cb.loc[65535, "area_ha"] == pytest.approx(px)
    # and the other way round (uint16 first), which a key sized on the uint8 date cannot hold
    back = class_transitions(b, a, zones, "zone_id")
    assert {(r.zone_id, r.to_code, r.from_code): r.area_ha for r in back.itertuples()} == pytest.approx(got)


def test_fractional_nodata_on_an_integer_raster_is_refused(tmp_path):
    path = write_raster(tmp_path / "half.tif", np.full((4, 4), 30, "uint8"))
    with rasterio.open(path, "r+") as ds:
        ds.nodata = 0.5  # no uint8 pixel can hold it: int(0.5) would make class 0 "nodata"
    info = read_info(path)
    assert info.nodata == 0.5
    with pytest.raises(DataError, match="nodata value 0.5 is not a uint8 class code"):
        class_areas(info, _zones([box_px(0, 0, 2, 2)]), "zone_id")
    good = read_info(write_raster(tmp_path / "ok.tif", np.full((4, 4), 30, "uint8")))
    with pytest.raises(DataError, match="nodata value 0.5"):
        class_transitions(good, info, _zones([box_px(0, 0, 2, 2)]), "zone_id")


# ---------------------------------------------------------------- patches

@pytest.fixture
def patch_raster(tmp_path):
    lc = np.full((10, 10), 30, "uint8")
    lc[1:4, 0:3] = 50  # blob A, 3 x 3 ...
    lc[2, 1] = 60  # ... with one bare pixel in it
    lc[6:8, 4:6] = 50  # blob B, 2 x 2
    lc[1, 7] = lc[2, 8] = 50  # a diagonal pair
    lc[9, 9] = 0  # nodata
    return read_info(write_raster(tmp_path / "p.tif", lc, transform=T10))


def test_patches_connectivity_areas_and_geometry(patch_raster):
    # the zone leaves out the left half of column 0: blob A keeps 3 x 0.5 + 6 = 7.5 px
    zone = shapely.box(X0 + 5, Y0 - 100, X0 + 100, Y0)
    res = zone_patches(patch_raster, zone, [50, 60], zone_id="Z")
    p = res.patches.set_index("patch_id")
    assert list(p.index) == ["Z-P001", "Z-P002", "Z-P003"] and res.dropped_n == 0
    # A: 7.5 px = 750 m2; B: 4 px; the diagonal pair is one patch of 2 px with 8-connectivity
    np.testing.assert_allclose(p.area_ha, [0.075, 0.04, 0.02], rtol=1e-7)
    assert p.n_pixels.tolist() == [9, 4, 2]
    assert p.code.tolist() == [50, 50, 50] and p.codes.tolist() == [(50, 60), (50,), (50,)]
    # A's centroid: x of column centres 5, 15, 25 m weighted 1.5, 3, 3 px -> 127.5 / 7.5 = 17
    assert (p.centroid_x["Z-P001"], p.centroid_y["Z-P001"]) == pytest.approx((X0 + 17, Y0 - 25))
    assert (p.centroid_x["Z-P002"], p.centroid_y["Z-P002"]) == pytest.approx((X0 + 50, Y0 - 70))
    for g, ha in zip(p.geometry, p.area_ha):
        assert g.is_valid and g.difference(zone).area == 0  # never leaks out of the zone
        assert g.area == pytest.approx(ha * 1e4, rel=1e-6)
    areas = class_areas(patch_raster, _zones([zone]), "zone_id").set_index("code").area_ha
    assert p.area_ha.sum() == pytest.approx(areas[50] + areas[60])
    assert p.crs == patch_raster.crs

    four = zone_patches(patch_raster, zone, [50, 60], zone_id="Z", connectivity=4, min_area_ha=0.015)
    # with 4-connectivity the pair splits into two 1-px (0.01 ha) patches, both under 0.015 ha
    assert len(four.patches) == 2 and four.dropped_n == 2 and four.dropped_ha == pytest.approx(0.02)
    only_bare = zone_patches(patch_raster, zone, [60], zone_id="Z")
    assert only_bare.patches.area_ha.tolist() == pytest.approx([0.01])
    none = zone_patches(patch_raster, zone, [90], zone_id="Z")
    assert len(none.patches) == 0 and none.dropped_n == 0 and "patch_id" in none.patches.columns



def test_patches_with_negative_and_16_bit_codes(tmp_path):
    # int16, nodata -1, a (negative) class -2 beside class 300; the zone leaves out the left
    # half of column 0
    lc = np.array([
        [300, 300, -2, 30],
        [300, -2, -2, 30],
        [30, 30, 30, 30],
        [-1, -1, 30, 300],
    ], dtype="int16")
    info = read_info(write_raster(tmp_path / "p16.tif", lc, nodata=-1))
    res = zone_patches(info, HALF_COL0, [300, -2, -1], zone_id="Z")  # nodata is never a patch
    p = res.patches.set_index("patch_id")
    assert list(p.index) == ["Z-P001", "Z-P002"] and res.dropped_n == 0
    # P001: 300 at (0,0) .5 (0,1) 1 (1,0) .5 = 2 px; -2 at (0,2) (1,1) (1,2) = 3 px -> 5 px
    np.testing.assert_allclose(p.area_ha, [5 * 0.09, 0.09], rtol=1e-7)
    assert p.n_pixels.tolist() == [6, 1]
    assert p.code.tolist() == [-2, 300] and p.codes.tolist() == [(-2, 300), (300,)]
    assert p.area_ha.sum() == pytest.approx(
        class_areas(info, _zones([HALF_COL0]), "zone_id").set_index("code").area_ha[[-2, 300]].sum())
    assert len(zone_patches(info, HALF_COL0, [], zone_id="Z").patches) == 0


# ---------------------------------------------------------------- means of a float raster

def test_zone_means_match_exactextract(tmp_path):
    exactextract = pytest.importorskip("exactextract")
    rng = np.random.default_rng(0)
    vals = rng.uniform(-1, 1, (10, 10)).astype("float32")
    vals[3, 3], vals[5, 5] = np.nan, -9999
    path = write_raster(tmp_path / "ndvi.tif", vals, transform=T10, nodata=-9999)
    zones = _zones([shapely.Polygon([(X0 + 3, Y0 - 2), (X0 + 77, Y0 - 9), (X0 + 31, Y0 - 91)]),
                    shapely.box(X0 + 2, Y0 - 57.5, X0 + 98, Y0 - 52.5)])
    ours = zone_means(path, zones, "zone_id")
    theirs = exactextract.exact_extract(str(path), zones, ["mean"], output="pandas")
    np.testing.assert_allclose(ours["mean"], theirs["mean"], rtol=1e-6)
    # the strip (96 x 5 m = 480 m2) crosses the nodata pixel (5, 5): 50 m2 of it are left out
    assert ours.valid_ha[1] == pytest.approx(0.043)


# ---------------------------------------------------------------- bad input

def test_bad_input(grid10):
    z = _zones([shapely.box(X0, Y0 - 20, X0 + 20, Y0)])
    with pytest.raises(CRSMismatchError) as e:
        class_areas(grid10, z.to_crs("EPSG:4326"), "zone_id", source="belts.gpkg")
    msg = str(e.value)
    assert "belts.gpkg" in msg and "EPSG:4326" in msg and "EPSG:32650" in msg and "to_crs" in msg
    with pytest.raises(SchemaError, match="no zone id column 'name'"):
        class_areas(grid10, z, "name")
    empty = _zones([shapely.box(X0, Y0 - 20, X0 + 20, Y0), shapely.Polygon()], ["ok", "hollow"])
    with pytest.raises(GeometryError, match="zone.s. hollow have an empty geometry"):
        class_areas(grid10, empty, "zone_id")
    with pytest.raises(GeometryError, match="Polygon or MultiPolygon.*LineString"):
        zone_coverage(grid10, shapely.LineString([(X0, Y0), (X0 + 50, Y0 - 50)]))
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 20, Y0 - 20), (X0 + 20, Y0), (X0, Y0 - 20)])
    with pytest.raises(GeometryError, match="invalid.*make_valid"):
        zone_coverage(grid10, bowtie)
    with pytest.raises(CRSMismatchError):
        zone_coverage(grid10, shapely.box(0, 0, 1, 1), crs="EPSG:4326")
    # an empty geometry or a zone off the raster is empty coverage here; class_areas reports a
    # zone off the raster as its nodata row with no area
    assert zone_coverage(grid10, shapely.Polygon()).is_empty
    away = shapely.box(X0 + 500, Y0, X0 + 600, Y0 + 100)
    assert zone_coverage(grid10, away).fraction.shape == (0, 0)
    row = class_areas(grid10, _zones([away]), "zone_id")
    assert len(row) == 1 and row.is_nodata[0] and row.area_ha[0] == 0 and row.zone_inside_ha[0] == 0
    assert row.zone_area_ha[0] == pytest.approx(1.0)
    assert class_transitions(grid10, grid10, _zones([away]), "zone_id").empty


def test_geographic_grid_fractions_match_exactextract(tmp_path):
    exactextract = pytest.importorskip("exactextract")
    # 0.01 degree pixels near Nanjing: fractions are planar shares of each lon/lat cell (as in
    # exactextract), areas use the geodesic cell area of each row
    t = Affine(0.01, 0, 118.5, 0, -0.01, 32.3)
    path = write_raster(tmp_path / "geo.tif", np.full((8, 8), 40, "uint8"), crs="EPSG:4326", transform=t)
    info = read_info(path)
    tri = shapely.Polygon([(118.503, 32.297), (118.571, 32.281), (118.529, 32.222)])
    zones = _zones([tri], crs="EPSG:4326")
    ee = exactextract.exact_extract(str(path), zones, ["cell_id", "coverage"], output="pandas")
    cov = zone_coverage(info, tri)
    w = cov.window
    full = np.zeros(info.shape, "float32")
    full[w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width] = cov.fraction
    np.testing.assert_allclose(full.ravel()[np.asarray(ee["cell_id"][0])], ee["coverage"][0], atol=1e-6)
    assert np.count_nonzero(full) == len(ee["cell_id"][0])
    df = class_areas(info, zones, "zone_id").set_index("code")
    assert df.loc[40, "area_ha"] == pytest.approx(cov.covered_m2 / 1e4)
    # and that is the geodesic area of the triangle to well under 0.1 % (cells are small)
    assert df.loc[40, "area_ha"] == pytest.approx(df.loc[40, "zone_area_ha"], rel=1e-3)
