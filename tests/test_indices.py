"""Spectral indices: hand-worked values, invalid pixels, dask = numpy, the GeoTIFF writer, CLI."""
from __future__ import annotations

import argparse
import os

import dask.array as da
import numpy as np
import pytest
import rasterio

from geodata.bands import open_bands
from geodata.errors import DataError
from sinks.landcover import indices as I
from sinks.landcover.cli_imagery import add_parsers
from tests.conftest import shared_data, write_raster

NAMES = ["green", "red", "nir", "swir1"]


def test_hand_worked_indices():
    g, r, n, s = (np.array([x], dtype="float32") for x in (0.06, 0.03, 0.30, 0.15))
    # NDVI  = (0.30 - 0.03) / (0.30 + 0.03) = 0.27 / 0.33 = 0.818182
    # NDWI  = (0.06 - 0.30) / (0.06 + 0.30) = -0.24 / 0.36 = -0.666667
    # MNDWI = (0.06 - 0.15) / (0.06 + 0.15) = -0.09 / 0.21 = -0.428571
    # NDBI  = (0.15 - 0.30) / (0.15 + 0.30) = -0.15 / 0.45 = -0.333333
    assert I.ndvi(n, r)[0] == pytest.approx(0.818182, abs=1e-6)
    assert I.ndwi(g, n)[0] == pytest.approx(-0.666667, abs=1e-6)
    assert I.mndwi(g, s)[0] == pytest.approx(-0.428571, abs=1e-6)
    assert I.ndbi(s, n)[0] == pytest.approx(-0.333333, abs=1e-6)
    # open water: green 0.06, nir 0.02, swir1 0.01 -> NDWI 0.04/0.08 = 0.5, MNDWI 0.05/0.07 = 0.714286
    assert I.ndwi(np.float32([0.06]), np.float32([0.02]))[0] == pytest.approx(0.5)
    assert I.mndwi(np.float32([0.06]), np.float32([0.01]))[0] == pytest.approx(0.714286, abs=1e-6)
    assert I.ndvi(n, r).dtype == np.float32


def test_zero_denominator_nan_and_clipping():
    nir = np.array([0.0, np.nan, 0.3, 0.05, 0.2], dtype="float32")
    red = np.array([0.0, 0.1, np.nan, -0.01, -0.2], dtype="float32")
    out = I.ndvi(nir, red)
    # 0/0 -> NaN; NaN input -> NaN; (0.05 + 0.01) / (0.05 - 0.01) = 1.5 -> clipped to 1;
    # 0.2 + (-0.2) = 0 -> NaN
    assert np.isnan(out[[0, 1, 2, 4]]).all()
    assert out[3] == 1.0


def test_integer_inputs_do_not_wrap():
    # uint16 300 - 400 would wrap to 65436; as float: (300 - 400) / 700 = -0.142857
    out = I.ndvi(np.array([300], dtype="uint16"), np.array([400], dtype="uint16"))
    assert out[0] == pytest.approx(-0.142857, abs=1e-6)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="shape"):
        I.ndvi(np.zeros((2, 2)), np.zeros((2, 3)))


def test_dask_equals_numpy():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 0.5, (37, 29)).astype("float32")
    b = rng.uniform(0, 0.5, (37, 29)).astype("float32")
    a[0, :5] = 0
    b[0, :5] = 0  # zero denominators
    a[3, 3] = np.nan
    ref = I.ndvi(a, b)
    lazy = I.ndvi(da.from_array(a, chunks=(10, 8)), da.from_array(b, chunks=(10, 8)))
    assert isinstance(lazy, da.Array) and lazy.chunks == ((10, 10, 10, 7), (8, 8, 8, 5))
    np.testing.assert_array_equal(lazy.compute(), ref)
    mixed = I.mndwi(da.from_array(a, chunks=(16, 16)), b)  # one numpy input is chunked like the other
    np.testing.assert_array_equal(mixed.compute(), I.mndwi(a, b))
    both = I.compute_indices({"green": da.from_array(a, chunks=7), "nir": b, "red": a, "swir1": b}, ["ndwi", "ndvi"])
    np.testing.assert_array_equal(both["ndwi"].compute(), I.ndwi(a, b))


# ----------------------------------------------------------------------------- writer

# 2 x 3 pixels of float32 reflectance (x 10000 below); (1, 1) is NaN (no data); at (1, 2)
# green = swir1 = 0.0, a valid zero, so MNDWI is 0/0 -> NaN there only.
DN = np.array([
    [[600, 600, 800], [700, 0, 0]],          # green
    [[300, 500, 1200], [400, 0, 1300]],      # red
    [[3000, 2500, 1800], [2000, 0, 2100]],   # nir
    [[1500, 1900, 2200], [1000, 0, 0]],      # swir1
], dtype="uint16")
REFL = (DN / 1e4).astype("float32")
REFL[:, 1, 1] = np.nan


def _expected_ndvi() -> np.ndarray:
    g, r, n, s = REFL.astype("float64")
    return (n - r) / (n + r)


def test_write_indices_file_and_stats(tmp_path):
    src = write_raster(tmp_path / "b.tif", REFL, nodata=np.nan, descriptions=NAMES)
    res = I.write_indices(open_bands(src), tmp_path / "idx.tif", block_size=2)
    with rasterio.open(tmp_path / "idx.tif") as ds, rasterio.open(src) as s:
        assert ds.count == 3 and ds.dtypes == ("float32",) * 3
        assert ds.descriptions == ("ndvi", "ndwi", "mndwi")
        assert np.isnan(ds.nodata)
        assert ds.crs == s.crs and ds.transform == s.transform and ds.shape == s.shape
        ndvi, ndwi, mndwi = ds.read()
    np.testing.assert_allclose(ndvi, _expected_ndvi(), rtol=1e-6, equal_nan=True)
    # NDVI (0,0) = 0.27 / 0.33 = 0.818182; (0,2) = 0.06 / 0.30 = 0.2; (1,2) = 0.08 / 0.34 = 0.235294
    assert ndvi[0, 0] == pytest.approx(0.818182, abs=1e-6) and ndvi[0, 2] == pytest.approx(0.2, abs=1e-6)
    assert ndvi[1, 2] == pytest.approx(0.235294, abs=1e-6)
    # MNDWI (1,2): (0 - 0) / (0 + 0) -> NaN; (1,1) no data -> NaN
    assert np.isnan(mndwi[1, 2]) and np.isnan(mndwi[1, 1]) and not np.isnan(mndwi[0, 0])
    s = res.stat("ndvi")
    exp = _expected_ndvi()
    assert s.valid_px == 5 and s.min == pytest.approx(0.2, abs=1e-6)
    assert s.mean == pytest.approx(np.nanmean(exp), abs=1e-6) and s.max == pytest.approx(0.818182, abs=1e-6)
    assert res.stat("mndwi").valid_px == 4
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_write_indices_is_atomic_on_failure(tmp_path, monkeypatch):
    src = write_raster(tmp_path / "b.tif", REFL, nodata=np.nan, descriptions=NAMES)
    out = tmp_path / "idx.tif"
    out.write_bytes(b"previous")
    calls = {"n": 0}
    real = I.compute_indices

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*a, **k)

    monkeypatch.setattr(I, "compute_indices", failing)
    with pytest.raises(RuntimeError):
        I.write_indices(open_bands(src), out, block_size=1)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tif", "idx.tif"]


def test_sensor_scaling_reaches_the_indices(tmp_path):
    # Landsat C2 L2: red DN 8000 -> 0.02, NIR DN 20000 -> 0.35; NDVI = 0.33 / 0.37 = 0.891892
    red = write_raster(tmp_path / "LC08_SR_B4.TIF", np.full((2, 2), 8000, "uint16"), nodata=None)
    nir = write_raster(tmp_path / "LC08_SR_B5.TIF", np.full((2, 2), 20000, "uint16"), nodata=None)
    res = I.write_indices(open_bands([red, nir], sensor="landsat89"), tmp_path / "l.tif", indices=["ndvi"])
    assert res.stat("ndvi").mean == pytest.approx(0.891892, abs=1e-5)
    # Sentinel-2, baseline >= 04.00: red DN 1300 -> 0.03, NIR DN 4000 -> 0.30; NDVI = 0.818182.
    # Without the offset: 0.13 and 0.40 -> 0.27 / 0.53 = 0.509434.
    red = write_raster(tmp_path / "S2_B04.tif", np.full((2, 2), 1300, "uint16"), nodata=None)
    nir = write_raster(tmp_path / "S2_B08.tif", np.full((2, 2), 4000, "uint16"), nodata=None)
    res = I.write_indices(open_bands([red, nir], sensor="sentinel2", boa_add_offset=True), tmp_path / "s.tif", indices=["ndvi"])
    assert res.stat("ndvi").mean == pytest.approx(0.818182, abs=1e-5)
    res = I.write_indices(open_bands([red, nir], sensor="sentinel2"), tmp_path / "s0.tif", indices=["ndvi"])
    assert res.stat("ndvi").mean == pytest.approx(0.509434, abs=1e-5)


def test_missing_band_for_an_index(tmp_path):
    src = write_raster(tmp_path / "rgbn.tif", DN[:3], nodata=0, tags={"SCALE": "0.0001"}, descriptions=NAMES[:3])
    with pytest.raises(DataError) as e:
        I.write_indices(open_bands(src), tmp_path / "x.tif")
    assert "rgbn.tif" in str(e.value) and "swir1" in e.value.problem
    assert "B11" in e.value.fix and not (tmp_path / "x.tif").exists()


# ----------------------------------------------------------------------------- real data


def test_patagonia_ndvi_matches_provenance(tmp_path):
    p = shared_data("imagery", "sentinel2_l2_patagonia_10m_b2348.tif")
    res = I.write_indices(open_bands(p, sensor="sentinel2"), tmp_path / "pat.tif", indices=["ndvi", "ndwi"], block_size=128)
    s = res.stat("ndvi")
    # PROVENANCE.md: semi-arid steppe, NDVI -0.01 ... 0.31, mean 0.08 (measured -0.0103, 0.3112, 0.0771)
    assert s.valid_px == 300 * 200
    assert s.min == pytest.approx(-0.01, abs=0.005) and s.max == pytest.approx(0.31, abs=0.005)
    assert s.mean == pytest.approx(0.08, abs=0.005)
    # a cloud mask on the same grid: a 10 x 10 block flagged 9 (cloud high) becomes NaN
    with rasterio.open(p) as ds:
        mask = np.zeros((ds.height, ds.width), dtype="uint8")
        mask[50:60, 100:110] = 9
        transform, crs = ds.transform, ds.crs
    m = write_raster(tmp_path / "scl.tif", mask, crs=crs, transform=transform, nodata=None)
    res2 = I.write_indices(open_bands(p, sensor="sentinel2", cloud_mask=m, cloud_values=[8, 9, 10]), tmp_path / "pat2.tif", indices=["ndvi"])
    assert res2.stat("ndvi").valid_px == 300 * 200 - 100
    with rasterio.open(tmp_path / "pat2.tif") as ds:
        a = ds.read(1)
    assert np.isnan(a[50:60, 100:110]).all() and np.isfinite(a[:50]).all()


# ----------------------------------------------------------------------------- CLI


def _cli(argv):
    p = argparse.ArgumentParser()
    add_parsers(p.add_subparsers(dest="cmd", required=True))
    args = p.parse_args(argv)
    return args.func(args)


def test_cli_indices(tmp_path, capsys):
    src = write_raster(tmp_path / "b.tif", DN, nodata=0, tags={"SCALE": "0.0001"}, descriptions=NAMES)
    out = tmp_path / "idx.tif"
    assert _cli(["indices", "--bands", str(src), "--indices", "ndvi,mndwi", "--out", str(out), "--block-size", "16"]) == 0
    cap = capsys.readouterr()
    assert "ndvi" in cap.out and "valid 4 px" in cap.out and str(out) in cap.out
    assert "[100%] indices" in cap.err  # progress on stderr
    with rasterio.open(out) as ds:
        assert ds.descriptions == ("ndvi", "mndwi")
    # data problems propagate as DataError (sinks.cli.main turns them into exit 1)
    raw = write_raster(tmp_path / "raw.tif", DN, nodata=0, descriptions=NAMES)
    with pytest.raises(DataError):
        _cli(["indices", "--bands", str(raw), "--out", str(tmp_path / "r.tif")])
    assert _cli(["indices", "--bands", str(raw), "--sensor", "sentinel2", "--out", str(tmp_path / "r.tif")]) == 0
    # options that do not fit together: exit 2
    assert _cli(["indices", "--bands", str(src), "--cloud-mask", str(src), "--out", str(tmp_path / "c.tif")]) == 2
    assert _cli(["indices", "--bands", str(src), "--indices", "evi", "--out", str(tmp_path / "c.tif")]) == 2
    assert not (tmp_path / "c.tif").exists() and os.path.exists(tmp_path / "r.tif")
