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
    return h.count(zone, code)


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
    assert h.area_m2_of("east", 40) == pytest.approx(4 * 900.0)
    assert h.count("east", 30) == 0 and h.area_m2_of("east", 30) == 0.0  # absent code


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
    assert h.codes.tolist() == [10] and h.counts_px[0, 0] == 12
    assert h.area_m2[0, 0] == pytest.approx(abs(footprint), rel=1e-9)


# ---------------------------------------------------------------- the runs engine at scale

from geodata import zonal as Z  # noqa: E402
from geodata._kernels import label_runs  # noqa: E402
from tests.conftest import ORIGIN_X, ORIGIN_Y, PX, UTM50  # noqa: E402


def test_label_runs_hand_worked():
    lab = np.array([[-1, 3, 3, -1, 3], [5, 5, 2, 2, 2]], dtype="int32")
    rows, starts, ends, values = label_runs(lab, 10, -1)
    # row 10: [1,3) zone 3, [4,5) zone 3 ; row 11: [0,2) zone 5, [2,5) zone 2
    assert rows.tolist() == [10, 10, 11, 11]
    assert list(zip(starts.tolist(), ends.tolist(), values.tolist())) == [(1, 3, 3), (4, 5, 3), (0, 2, 5), (2, 5, 2)]
    assert [len(a) for a in label_runs(np.full((3, 3), -1, dtype="int32"), 0, -1)] == [0, 0, 0, 0]


@pytest.fixture
def many_classes(tmp_path):
    """96 x 80 px, 40 classes per date (up to 1,600 pairs: more than the first 256 slots),
    three zones of which two overlap, off the pixel grid."""
    rng = np.random.default_rng(7)
    t0 = rng.integers(0, 40, size=(96, 80), dtype="uint8")
    t1 = rng.integers(0, 40, size=(96, 80), dtype="uint8")
    p0 = write_raster(tmp_path / "m0.tif", t0)
    p1 = write_raster(tmp_path / "m1.tif", t1)
    x, y = ORIGIN_X, ORIGIN_Y
    geoms = [
        shapely.box(x + 3.3 * PX, y - 60.2 * PX, x + 70.6 * PX, y - 1.4 * PX),
        shapely.Point(x + 40 * PX, y - 50 * PX).buffer(30 * PX),  # overlaps the first
        shapely.box(x + 10 * PX, y - 95.5 * PX, x + 20.2 * PX, y - 70 * PX),
    ]
    zones = gpd.GeoDataFrame({"zone_id": ["a", "b", "c"]}, geometry=geoms, crs=UTM50)
    return {"t0": t0, "t1": t1, "paths": [p0, p1], "zones": zones}


def _reference_pairs(fx) -> dict:
    """Independent path: each zone rasterized whole by rasterio's geometry_mask, numpy counting."""
    from rasterio.features import geometry_mask

    info = read_info(fx["paths"][0])
    pair = fx["t0"].astype("int64") * 256 + fx["t1"]
    out = {}
    for zid, g in zip(fx["zones"]["zone_id"], fx["zones"].geometry):
        inside = ~geometry_mask([g], out_shape=info.shape, transform=info.transform)
        k, n = np.unique(pair[inside], return_counts=True)
        out[zid] = dict(zip(k.tolist(), n.tolist()))
    return out


def _as_dict(h) -> dict:
    return {z: {int(c): int(n) for c, n in zip(h.codes, row) if n} for z, row in zip(h.zone_ids, h.counts_px)}


@pytest.mark.parametrize("threads,block", [(1, 8), (2, 8), (2, 512), (3, 16)])
def test_change_with_many_pairs_matches_reference(many_classes, threads, block):
    infos = [read_info(p) for p in many_classes["paths"]]
    h = zonal_histogram(infos, many_classes["zones"], id_field="zone_id", block_size=block, threads=threads)
    ref = _reference_pairs(many_classes)
    assert _as_dict(h) == ref
    assert len(h.codes) > 256  # the slot table had to grow past its first 256 columns
    assert list(h.codes) == sorted(h.codes)


def test_dask_strip_tasks_match_threads(many_classes):
    infos = [read_info(p) for p in many_classes["paths"]]
    a = zonal_histogram(infos, many_classes["zones"], id_field="zone_id", block_size=8)
    b = zonal_histogram_dask(infos, many_classes["zones"], id_field="zone_id", block_size=8, strips_per_task=1)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.counts_px, b.counts_px)


def test_zone_runs_cached_on_disk_and_keyed_by_zones_and_grid(many_classes, tmp_path, monkeypatch):
    info = read_info(many_classes["paths"][0])
    zones = many_classes["zones"]
    ids = list(zones["zone_id"])
    cache = tmp_path / "cache"
    Z._RUNS_MEMO.clear()
    first = Z.zone_runs(info, zones.geometry, ids, cache_dir=cache)
    files = list(cache.glob("zone_runs_*.npz"))
    assert len(files) == 1 and not list(cache.glob("*.tmp*"))
    Z._RUNS_MEMO.clear()

    def no_rasterizing(*a, **k):
        raise AssertionError("runs should come from the cache file")

    monkeypatch.setattr(Z, "build_zone_runs", no_rasterizing)
    again = Z.zone_runs(info, zones.geometry, ids, cache_dir=cache)
    np.testing.assert_array_equal(first.starts, again.starts)
    np.testing.assert_array_equal(first.labels, again.labels)
    monkeypatch.undo()
    # another zone layer (one polygon moved by one pixel) is another key, another file
    moved = zones.geometry.translate(xoff=PX)
    assert Z.zone_runs_key(info, moved, ids) != first.key
    # a damaged cache file is rebuilt, not trusted
    Z._RUNS_MEMO.clear()
    files[0].write_bytes(b"not a zip")
    rebuilt = Z.zone_runs(info, zones.geometry, ids, cache_dir=cache)
    np.testing.assert_array_equal(first.ends, rebuilt.ends)


def test_only_strips_and_columns_holding_zones_are_read(many_classes):
    """A zone in one corner: the plan reads the strips it touches, across its columns only."""
    info = read_info(many_classes["paths"][0])
    x, y = ORIGIN_X, ORIGIN_Y
    corner = gpd.GeoDataFrame({"zone_id": ["nw"]}, geometry=[shapely.box(x + 2 * PX, y - 9 * PX, x + 12 * PX, y - 3 * PX)], crs=UTM50)
    runs = Z.zone_runs(info, corner.geometry, ["nw"])
    plan = Z._plan(info, runs, 8)  # strips of 8 * 8 // 80 = 0 -> 1 row (the file is one strip)
    rows = sorted({r for r0, r1, _ in plan for r in range(r0, r1)})
    assert rows == list(range(3, 9))  # the zone's pixel centres lie in rows 3..8, nothing else is read
    assert {(s[4], s[5]) for _, _, s in plan} == {(2, 12)}  # columns 2..11 only
    h = zonal_histogram([info], corner, id_field="zone_id", block_size=8)
    assert h.counts_px.sum() == 10 * 6


def test_distributed_local_cluster_gives_identical_results(many_classes):
    """The dask path on a real dask.distributed LocalCluster (two worker processes)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is a runtime requirement")
    infos = [read_info(p) for p in many_classes["paths"]]
    local = zonal_histogram(infos, many_classes["zones"], id_field="zone_id", block_size=8)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = zonal_histogram_dask(infos, many_classes["zones"], id_field="zone_id", block_size=8, scheduler=client)
            assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(local.codes, remote.codes)
    np.testing.assert_array_equal(local.counts_px, remote.counts_px)
    np.testing.assert_array_equal(local.area_m2, remote.area_m2)


def test_progress_rises_to_one_through_rasterizing_then_counting(many_classes):
    infos = [read_info(p) for p in many_classes["paths"]]
    Z._RUNS_MEMO.clear()  # the zones must be rasterized: first half of the bar
    seen: list[float] = []
    zonal_histogram(infos, many_classes["zones"], id_field="zone_id", block_size=8, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert any(0 < f <= 0.5 for f in seen) and any(0.5 < f < 1 for f in seen)
    seen.clear()  # cached runs: the counting has the whole bar
    zonal_histogram(infos, many_classes["zones"], id_field="zone_id", block_size=8, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and seen[0] < 0.5
