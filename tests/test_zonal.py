"""The zonal engine on hand-worked 4 x 4 grids: in-memory = blockwise = dask."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Geod

from geodata.rasters import read_info, row_areas_m2
from geodata.zonal import class_histogram, disjoint_groups, zonal_histogram, zonal_histogram_dask
from tests.conftest import LC_T0, write_raster


def _counts(h, zone, code):
    return int(h.counts_px[h.zone_ids.index(zone), code])


def test_class_histogram_in_memory_hand_worked():
    codes = np.array([[1, 1, 2], [2, 2, 0]])
    labels = np.array([[0, 0, 0], [1, 1, -1]])  # -1 = outside every zone
    h = class_histogram(codes, labels, n_labels=2, n_codes=3)
    # zone 0 holds codes 1,1,2 ; zone 1 holds 2,2 ; the 0 at bottom right is outside
    assert h.tolist() == [[0, 2, 1], [0, 0, 2]]


def test_overlapping_zones_each_count_their_pixels(tiny):
    zones = gpd.read_file(tiny["zones"])
    h = zonal_histogram([read_info(tiny["t0"])], zones, id_field="zone_id", block_size=2)
    # west = columns 0-1: tree 4, water 3, nodata(0) 1
    assert (_counts(h, "west", 10), _counts(h, "west", 80), _counts(h, "west", 0)) == (4, 3, 1)
    # east = columns 2-3: crop 4, built-up 2, wetland 2
    assert (_counts(h, "east", 40), _counts(h, "east", 50), _counts(h, "east", 90)) == (4, 2, 2)
    # centre square (rows 1-2, cols 1-2) overlaps both: tree 1, crop 2, water 1
    assert (_counts(h, "centre", 10), _counts(h, "centre", 40), _counts(h, "centre", 80)) == (1, 2, 1)
    assert h.counts_px.sum() == 8 + 8 + 4
    # 30 m pixels: 900 m2 each, from the affine determinant
    assert h.area_m2[h.zone_ids.index("east"), 40] == pytest.approx(4 * 900.0)


@pytest.mark.parametrize("block", [1, 2, 3, 512])
def test_blockwise_equals_in_memory_equals_dask(tiny, block):
    zones = gpd.read_file(tiny["zones"])
    infos = [read_info(tiny["t0"]), read_info(tiny["t1"])]
    whole = zonal_histogram(infos[:1], zones, id_field="zone_id", block_size=512)
    blocks = zonal_histogram(infos[:1], zones, id_field="zone_id", block_size=block)
    dasked = zonal_histogram_dask(infos[:1], zones, id_field="zone_id", block_size=block)
    np.testing.assert_array_equal(whole.counts_px, blocks.counts_px)
    np.testing.assert_array_equal(whole.counts_px, dasked.counts_px)
    # the change histogram too (pair code t0 * 256 + t1)
    c1 = zonal_histogram(infos, zones, id_field="zone_id", block_size=block)
    c2 = zonal_histogram_dask(infos, zones, id_field="zone_id", block_size=block)
    np.testing.assert_array_equal(c1.counts_px, c2.counts_px)
    east = c1.to_frame().query("zone_id == 'east'").set_index(["code_t0", "code_t1"])["count_px"]
    assert east[(40, 10)] == 1 and east[(40, 50)] == 1 and east[(90, 50)] == 1 and east[(40, 40)] == 2


def test_in_memory_reference_matches_engine(tiny):
    """An independent path: rasterize each zone whole with rasterio.features and count with numpy."""
    from rasterio.features import geometry_mask

    zones = gpd.read_file(tiny["zones"]).to_crs("EPSG:32650")
    info = read_info(tiny["t0"])
    h = zonal_histogram([info], zones.to_crs(4326), id_field="zone_id", block_size=2)
    for zid, geom in zip(zones["zone_id"], zones.geometry):
        inside = ~geometry_mask([geom], out_shape=info.shape, transform=info.transform)
        vals, counts = np.unique(LC_T0[inside], return_counts=True)
        for v, c in zip(vals, counts):
            assert _counts(h, zid, int(v)) == c


def test_disjoint_groups_touching_share_a_group():
    a, b, c = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0.5, 0, 1.5, 1)
    groups = disjoint_groups([a, b, c])
    assert sorted(map(sorted, groups)) == [[0, 1], [2]]


def test_geographic_raster_uses_geodesic_row_areas(tmp_path):
    # 0.001 degree cells at 32 N: about 111 m (north-south) x 94 m (east-west) ~ 1.04 ha each,
    # shrinking northward; never res**2 in degrees.
    t = Affine(0.001, 0, 118.6, 0, -0.001, 32.003)
    arr = np.full((3, 4), 10, dtype="uint8")
    path = write_raster(tmp_path / "geo.tif", arr, crs="EPSG:4326", transform=t)
    info = read_info(path)
    rows = row_areas_m2(info)
    assert rows[0] < rows[1] < rows[2]  # rows further south are larger
    geod = Geod(ellps="WGS84")
    # the sum of the cells equals the geodesic area of the whole raster footprint
    footprint, _ = geod.polygon_area_perimeter([118.6, 118.604, 118.604, 118.6], [32.003, 32.003, 32.0, 32.0])
    assert rows.sum() * 4 == pytest.approx(abs(footprint), rel=1e-9)
    # spherical sanity check: 111195 m/deg x 0.001 x cos(32.0015) x 111195 x 0.001 = 10485 m2
    assert rows[1] == pytest.approx(10485, rel=0.01)
    zones = gpd.GeoDataFrame({"zone_id": ["z"]}, geometry=[shapely.box(118.6, 32.0, 118.604, 32.003)], crs=4326)
    h = zonal_histogram([info], zones, id_field="zone_id", block_size=2)
    assert h.counts_px[0, 10] == 12
    assert h.area_m2[0, 10] == pytest.approx(abs(footprint), rel=1e-9)
