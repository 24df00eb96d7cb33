"""Band sets: band roles, DN -> reflectance, nodata and clouds, grids, blockwise reading."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from geodata.bands import open_bands
from geodata.errors import CRSMismatchError, DataError, GridError, MissingCRSError, NoDataError
from tests.conftest import ORIGIN_X, ORIGIN_Y, PX, shared_data, write_raster

# A 2 x 3 scene, DN = reflectance x 10000 (green, red, nir, swir1); pixel (1, 2) is nodata (0).
DN = np.array([
    [[600, 600, 800], [700, 0, 900]],        # green
    [[300, 500, 1200], [400, 0, 1300]],      # red
    [[3000, 2500, 1800], [2000, 0, 2100]],   # nir
    [[1500, 1900, 2200], [1000, 0, 2500]],   # swir1
], dtype="uint16")
NAMES = ["green", "red", "nir", "swir1"]


def _multiband(tmp_path: Path, **kw) -> Path:
    kw.setdefault("nodata", 0)
    kw.setdefault("tags", {"SCALE": "0.0001"})
    kw.setdefault("descriptions", NAMES)
    return write_raster(tmp_path / kw.pop("name", "bands.tif"), kw.pop("array", DN), **kw)


def test_multiband_with_descriptions_and_scale_tag(tmp_path):
    bs = open_bands(_multiband(tmp_path))
    assert bs.names == ("green", "red", "nir", "swir1")
    assert all(s.scale == pytest.approx(1e-4) and s.scale_origin == "file" for s in bs.sources)
    b = bs.read_all()
    # DN 3000 x 0.0001 = 0.30 reflectance; DN 600 -> 0.06
    assert b["nir"][0, 0] == pytest.approx(0.30) and b["green"][0, 0] == pytest.approx(0.06)
    assert b["nir"].dtype == np.float32
    # the nodata pixel is NaN in every band and not valid
    assert not b.valid[1, 1] and all(np.isnan(b[n][1, 1]) for n in NAMES)
    assert b.valid.sum() == 5


def test_sentinel2_single_band_files_named_by_band_id(tmp_path):
    # Sentinel-2 file names, no descriptions, no declared nodata: the L2A fill value 0 applies
    paths = {}
    for role, bid, k in (("green", "B03", 0), ("red", "B04", 1), ("nir", "B08", 2), ("swir1", "B11", 3)):
        paths[role] = write_raster(tmp_path / f"T50SPA_20240801_{bid}_10m.tif", DN[k] + 1000 * (DN[k] > 0), nodata=None)
    files = [paths[r] for r in ("swir1", "nir", "green", "red")]  # order does not matter
    bs = open_bands(files, sensor="sentinel2")
    assert bs.names == ("green", "red", "nir", "swir1")
    assert bs.source("nir").path.name == "T50SPA_20240801_B08_10m.tif"
    assert bs.source("red").nodata == 0.0 and bs.source("red").scale_origin == "sensor sentinel2"
    b = bs.read_all()
    # without the baseline-04.00 offset: (3000 + 1000) / 10000 = 0.40
    assert b["nir"][0, 0] == pytest.approx(0.40)
    assert np.isnan(b["nir"][1, 1])
    # with BOA_ADD_OFFSET = -1000: (4000 - 1000) / 10000 = 0.30
    b = open_bands(files, sensor="sentinel2", boa_add_offset=True).read_all()
    assert b["nir"][0, 0] == pytest.approx(0.30) and b["red"][0, 0] == pytest.approx(0.03)
    assert any("fill value" in n for n in bs.notes)
    # naming bands by their Sentinel-2 ids, or by file
    bs = open_bands(files, sensor="sentinel2", bands={"nir": "B08", "red": "b4"})
    assert bs.names == ("red", "nir") and bs.source("red").path == paths["red"]
    bs = open_bands({"red": paths["red"], "nir": paths["nir"]}, sensor="sentinel2")
    assert bs.names == ("red", "nir") and bs.source("nir").path == paths["nir"]


def test_landsat89_collection2_scale_and_offset(tmp_path):
    # SR = DN x 0.0000275 - 0.2: DN 10000 -> 0.075, DN 20000 -> 0.35, DN 8000 -> 0.02; DN 0 is fill
    arr = np.array([[10000, 20000], [8000, 0]], dtype="uint16")
    files = [write_raster(tmp_path / f"LC09_L2SP_120038_20240801_02_T1_SR_B{i}.TIF", arr, nodata=None) for i in (3, 4, 5, 6)]
    bs = open_bands(files, sensor="landsat89")
    assert bs.names == ("green", "red", "nir", "swir1")
    assert bs.source("nir").path.name.endswith("SR_B5.TIF")
    b = bs.read_all()
    np.testing.assert_allclose(b["red"][0], [0.075, 0.35], rtol=1e-5)
    assert b["red"][1, 0] == pytest.approx(0.02, abs=1e-6)
    assert np.isnan(b["red"][1, 1])


def test_custom_band_map_and_user_scale(tmp_path):
    p = write_raster(tmp_path / "nodesc.tif", DN, nodata=0)
    with pytest.raises(DataError) as e:  # integer, no scale anywhere: refused, never guessed
        open_bands(p)
    msg = str(e.value)
    assert "nodesc.tif" in msg and "declares no scale" in msg and "--scale 0.0001" in msg
    bs = open_bands(p, bands={"red": 2, "nir": 3}, scale=0.0001)
    assert bs.names == ("red", "nir") and bs.source("red").scale_origin == "user"
    assert bs.read_all()["red"][0, 1] == pytest.approx(0.05)


def test_integer_bands_without_nodata_are_refused_unless_stated(tmp_path):
    p = write_raster(tmp_path / "nofill.tif", DN, nodata=None, descriptions=NAMES)
    with pytest.raises(NoDataError) as e:
        open_bands(p, scale=1e-4)
    assert "nofill.tif" in str(e.value) and "--nodata" in e.value.fix
    assert open_bands(p, scale=1e-4, nodata=0).read_all().valid.sum() == 5
    assert open_bands(p, scale=1e-4, nodata=None).read_all().valid.sum() == 6  # "there is none"


def test_file_scale_that_contradicts_the_sensor(tmp_path):
    p = _multiband(tmp_path, tags={"SCALE": "0.001"})
    with pytest.raises(DataError) as e:
        open_bands(p, sensor="sentinel2", bands={"green": 1, "red": 2, "nir": 3, "swir1": 4})
    assert "bands.tif" in str(e.value) and "--scale" in e.value.fix


def test_float_dn_without_scale_is_implausible(tmp_path):
    p = write_raster(tmp_path / "float_dn.tif", DN.astype("float32"), nodata=0, descriptions=NAMES)
    with pytest.raises(DataError) as e:
        open_bands(p)
    assert "float_dn.tif" in str(e.value) and "median" in e.value.problem and "--scale" in e.value.fix
    assert open_bands(p, scale=1e-4).read_all()["nir"][0, 0] == pytest.approx(0.30)


def test_bands_in_different_crs(tmp_path):
    a = write_raster(tmp_path / "red.tif", DN[1], tags={"SCALE": "0.0001"}, descriptions=["red"])
    b = write_raster(tmp_path / "nir.tif", DN[2], tags={"SCALE": "0.0001"}, descriptions=["nir"], crs="EPSG:32651")
    with pytest.raises(CRSMismatchError) as e:
        open_bands([a, b])
    msg = str(e.value)
    assert "nir.tif" in msg and "red.tif" in msg and "EPSG:32651" in msg
    assert "gdalwarp -t_srs EPSG:32650" in e.value.fix and "-r bilinear" in e.value.fix


def test_bands_of_different_sizes(tmp_path):
    a = write_raster(tmp_path / "red.tif", DN[1], tags={"SCALE": "0.0001"}, descriptions=["red"])
    big = np.ones((4, 6), dtype="uint16")
    b = write_raster(tmp_path / "swir1_20m.tif", big, tags={"SCALE": "0.0001"}, descriptions=["swir1"],
                     transform=Affine(2 * PX, 0, ORIGIN_X, 0, -2 * PX, ORIGIN_Y))
    with pytest.raises(GridError) as e:
        open_bands([a, b])
    msg = str(e.value)
    assert "swir1_20m.tif" in msg and "red.tif" in msg and "6x4 px of 60 m" in msg
    assert "-tr 30 30" in e.value.fix and "-r bilinear" in e.value.fix


def test_missing_crs(tmp_path):
    p = write_raster(tmp_path / "nocrs.tif", DN, crs=None, descriptions=NAMES, tags={"SCALE": "0.0001"})
    with pytest.raises(MissingCRSError) as e:
        open_bands(p)
    assert "nocrs.tif" in str(e.value)


def test_cloud_mask_values_become_nan(tmp_path):
    p = _multiband(tmp_path)
    # SCL-like mask: 4 vegetation, 8 cloud medium, 9 cloud high, 3 shadow
    m = write_raster(tmp_path / "scl.tif", np.array([[4, 8, 4], [3, 4, 9]], dtype="uint8"), nodata=None)
    b = open_bands(p, cloud_mask=m, cloud_values=[3, 8, 9, 10]).read_all()
    assert b.valid.tolist() == [[True, False, True], [False, False, False]]
    assert np.isnan(b["nir"][0, 1]) and b["nir"][0, 2] == pytest.approx(0.18)


def test_all_cloud_and_all_nodata(tmp_path):
    p = _multiband(tmp_path)
    m = write_raster(tmp_path / "scl_all_cloud.tif", np.full((2, 3), 9, dtype="uint8"), nodata=None)
    with pytest.raises(NoDataError) as e:
        open_bands(p, cloud_mask=m, cloud_values=[8, 9])
    assert "scl_all_cloud.tif" in str(e.value) and "all cloud" in e.value.problem and "--cloud-values" in e.value.fix
    empty = _multiband(tmp_path, name="empty.tif", array=np.zeros_like(DN))
    with pytest.raises(NoDataError) as e:
        open_bands(empty)
    assert "empty.tif" in str(e.value) and "every pixel is nodata" in e.value.problem
    # a mask on another grid is refused like a band, with nearest-neighbour advice
    m2 = write_raster(tmp_path / "scl_20m.tif", np.zeros((1, 2), dtype="uint8"), nodata=None,
                      transform=Affine(2 * PX, 0, ORIGIN_X, 0, -2 * PX, ORIGIN_Y))
    with pytest.raises(GridError) as e:
        open_bands(p, cloud_mask=m2, cloud_values=[9])
    assert "scl_20m.tif" in str(e.value) and "-r near" in e.value.fix


def test_ambiguous_band_names(tmp_path):
    p = _multiband(tmp_path, descriptions=["green", "red", "nir", "nir"])
    with pytest.raises(DataError) as e:
        open_bands(p)
    assert "several bands look like nir" in e.value.problem and "--band-map nir=" in e.value.fix


def test_blocks_reassemble_the_whole_and_halo_pads_with_nan(tmp_path):
    rng = np.random.default_rng(3)
    arr = rng.integers(1, 5000, size=(4, 7, 5), dtype="uint16")
    arr[:, 2, 3] = 0
    bs = open_bands(_multiband(tmp_path, array=arr))
    whole = bs.read_all()
    out = {n: np.full((7, 5), -1.0, dtype="float32") for n in NAMES}
    blocks = list(bs.iter_blocks(block_size=3))
    assert len(blocks) == 3 * 2 and max(b["red"].size for b in blocks) <= 9  # memory bounded by the block
    for b in blocks:
        w = b.window
        for n in NAMES:
            out[n][w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width] = b[n]
    for n in NAMES:
        np.testing.assert_array_equal(out[n], whole[n])
    # halo: the first window with 1 extra pixel each side; outside the image is NaN
    h = bs.read_window(bs.windows(3)[0], halo=1)
    assert h["red"].shape == (5, 5) and np.isnan(h["red"][0]).all() and np.isnan(h["red"][:, 0]).all()
    np.testing.assert_array_equal(h["red"][1:5, 1:5], whole["red"][0:4, 0:4])
    np.testing.assert_array_equal(h["red"][h.core], whole["red"][0:3, 0:3])


def test_to_dask_equals_whole_read(tmp_path):
    rng = np.random.default_rng(4)
    arr = rng.integers(1, 5000, size=(4, 9, 7), dtype="uint16")
    bs = open_bands(_multiband(tmp_path, array=arr))
    lazy = bs.to_dask(block_size=4)
    whole = bs.read_all()
    for n in NAMES:
        assert lazy[n].chunks == ((4, 4, 1), (4, 3))
        np.testing.assert_array_equal(lazy[n].compute(), whole[n])


# ----------------------------------------------------------------------------- real data


def test_patagonia_sentinel2_bands_by_description():
    p = shared_data("imagery", "sentinel2_l2_patagonia_10m_b2348.tif")
    bs = open_bands(p, sensor="sentinel2")  # descriptions "B02 blue", "B03 green", "B04 red", "B08 nir"
    assert bs.names == ("blue", "green", "red", "nir")
    assert [s.index for s in bs.sources] == [1, 2, 3, 4]
    b = bs.read_all()
    assert b.valid.all()  # no DN 0 (the L2A fill value) in this clip
    assert 0.06 < float(np.median(b["nir"])) < 0.3  # steppe NIR reflectance
    with pytest.raises(DataError) as e:  # the file declares no scale: say the sensor or the scale
        open_bands(p)
    assert "declares no scale" in e.value.problem


def test_patagonia_20m_swir_is_on_another_grid():
    p10 = shared_data("imagery", "sentinel2_l2_patagonia_10m_b2348.tif")
    p20 = shared_data("imagery", "sentinel2_l2_patagonia_20m_b11b12.tif")
    with pytest.raises(GridError) as e:
        open_bands([p10, p20], sensor="sentinel2")
    msg = str(e.value)
    assert p20.name in msg and p10.name in msg and "of 20 m" in msg
    assert "-tr 10 10" in e.value.fix and "-r bilinear" in e.value.fix and "gdalwarp" in e.value.fix


def test_slovenia_ndvi_stack_as_custom_features():
    p = shared_data("imagery", "eolearn_slovenia_ndvi_cloudfree_10m.tif")
    bs = open_bands(p)  # float32 NDVI, no roles: every band under its description
    assert len(bs.names) == 29 and bs.names[0] == "NDVI 2015-07-11T10:00:08"
    assert bs.source(bs.names[0]).scale_origin == "float data"
    with rasterio.open(p) as ds:
        np.testing.assert_array_equal(bs.read_all()[bs.names[5]], ds.read(6))
