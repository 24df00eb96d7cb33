"""Cloud-Optimized GeoTIFF writing (geodata.cog) and display reads served from its overviews.

The rasters are built so that an overview and a full-resolution sampling give different
pixels: each 2 x 2 block holds three pixels of one class A (constant over 16 x 16 patches) and
one pixel of class 200 at a random corner. The mode of every block is A, so the mode overviews
hold no 200 at all, while a nearest-neighbour sampling of the full resolution hits the 200
pixel in about a quarter of the blocks (it picks one fixed corner of each block).
"""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError

import geodata.cog as cog
from geodata.bands import open_bands
from geodata.cog import COGError, cog_writer, describe_layout, write_cog
from geodata.errors import DataError
from sinks.demo.grid import Grid
from sinks.demo.writers import write_bands, write_landcover
from sinks.landcover import indices as I
from tests.conftest import PX, UTM50, write_raster
from ui.imagery import read_bands_decimated, read_classes_decimated

H, W = 768, 1024  # with 256-px tiles: overviews 1/2 (384 x 512) and 1/4 (192 x 256), then one tile
TRANSFORM = Affine(PX, 0, 600000.0, 0, -PX, 3560000.0)
ODD = 200
COLOURS = {10: (0, 100, 0, 255), 40: (240, 150, 255, 255), 80: (0, 100, 200, 255), ODD: (255, 0, 0, 255)}


def _patches(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(classes with one odd pixel per 2 x 2 block, the class A of each 2 x 2 block)."""
    rng = np.random.default_rng(seed)
    a = np.repeat(np.repeat(rng.choice(np.array([10, 40, 80], "uint8"), size=(H // 16, W // 16)), 16, 0), 16, 1)
    out = a.copy()
    bi, bj = np.meshgrid(np.arange(H // 2), np.arange(W // 2), indexing="ij")
    out[2 * bi + rng.integers(0, 2, bi.shape), 2 * bj + rng.integers(0, 2, bj.shape)] = ODD
    return out, a[::2, ::2]


def _landcover_gtiff(path, classes) -> None:
    profile = dict(driver="GTiff", width=W, height=H, count=1, dtype="uint8", nodata=0, crs=UTM50,
                   transform=TRANSFORM, tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(classes, 1)
        ds.write_colormap(1, COLOURS)
        ds.set_band_description(1, "landcover")
        ds.update_tags(LEGEND="ESA WorldCover", YEAR="2025")


@pytest.fixture
def lc_src(tmp_path):
    classes, block_class = _patches()
    src = tmp_path / "lc.tif"
    _landcover_gtiff(src, classes)
    return src, classes, block_class


# --------------------------------------------------------------------------- writing


def test_written_cog_is_valid_and_lossless(tmp_path, lc_src):
    src, classes, _ = lc_src
    before = describe_layout(src)
    assert before.tiled and before.overview_factors == () and not before.is_cog  # tiled, no overviews
    assert before.evidence == "heuristic"

    out = tmp_path / "lc_cog.tif"
    layout = write_cog(src, out, resampling="mode", blocksize=256)
    assert layout.is_cog and layout.gdal_layout == "COG" and layout.evidence == "gdal"
    # 1024 x 768 halves to 512 x 384, then 256 x 192, which fits in one 256-px tile: 2 levels
    assert layout.overview_factors == (2, 4) and layout.block_shape == (256, 256) and layout.tiled
    assert not layout.external_overviews and not list(tmp_path.glob("*.ovr"))
    assert describe_layout(out) == layout
    with rasterio.open(out) as ds:
        np.testing.assert_array_equal(ds.read(1), classes)  # full resolution: the same pixels
        assert ds.nodata == 0 and ds.crs.to_string() == UTM50 and ds.transform == TRANSFORM
        cmap = ds.colormap(1)
        assert all(cmap[c] == rgba for c, rgba in COLOURS.items())
        assert ds.descriptions == ("landcover",)
        assert ds.tags()["LEGEND"] == "ESA WorldCover" and ds.tags()["YEAR"] == "2025"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_average_overviews_of_a_continuous_raster(tmp_path):
    # A 4 x 4 NDVI pattern with NaN nodata, tiled 8 x 8 times (32 x 32) so that with 16-px tiles
    # GDAL builds one overview level (16 x 16); each overview pixel is the mean of the valid
    # pixels of its 2 x 2 block:
    a = np.array([
        [0.1, 0.3, 0.5, 0.5],
        [0.2, 0.2, 0.5, np.nan],
        [np.nan, np.nan, -0.4, 0.0],
        [np.nan, 0.8, 0.2, 0.2],
    ], dtype="float32")
    # (0.1 + 0.3 + 0.2 + 0.2) / 4 = 0.2;  (0.5 + 0.5 + 0.5) / 3 = 0.5 (NaN left out)
    # 0.8 / 1 = 0.8;                       (-0.4 + 0.0 + 0.2 + 0.2) / 4 = 0.0
    expected = np.array([[0.2, 0.5], [0.8, 0.0]], dtype="float32")
    big = np.tile(a, (8, 8))
    src = write_raster(tmp_path / "ndvi.tif", big, nodata=np.nan, descriptions=["ndvi"], tags={"UNITS": "unitless"})
    layout = write_cog(src, tmp_path / "ndvi_cog.tif", resampling="average", blocksize=16)
    assert layout.is_cog and layout.overview_factors == (2,) and layout.block_shape == (16, 16)
    with rasterio.open(layout.path, OVERVIEW_LEVEL="0only") as ds:
        ovr = ds.read(1)
    assert ovr.shape == (16, 16)
    np.testing.assert_allclose(ovr, np.tile(expected, (8, 8)), atol=1e-6)
    with rasterio.open(layout.path) as ds:
        np.testing.assert_array_equal(ds.read(1), big)  # lossless, NaN kept
        assert np.isnan(ds.nodata) and ds.descriptions == ("ndvi",) and ds.tags()["UNITS"] == "unitless"


def test_colour_mapped_classes_refuse_average(lc_src, tmp_path):
    src, _, _ = lc_src
    with pytest.raises(COGError, match="lc.tif.*colour table.*Fix: use resampling='mode'"):
        write_cog(src, tmp_path / "x.tif", resampling="average")
    with pytest.raises(ValueError, match="not supported"):
        write_cog(src, tmp_path / "x.tif", resampling="median-ish")
    assert not (tmp_path / "x.tif").exists()


def test_in_place_conversion(lc_src):
    src, classes, _ = lc_src
    layout = write_cog(src, src, resampling="mode", blocksize=256)
    assert layout.is_cog and layout.overview_factors == (2, 4)
    with rasterio.open(src) as ds:
        np.testing.assert_array_equal(ds.read(1), classes)
    assert sorted(p.name for p in src.parent.iterdir()) == ["lc.tif"]


# --------------------------------------------------------------------------- atomicity


def test_failing_write_leaves_no_dst_and_no_temp_file(tmp_path, lc_src, monkeypatch):
    src, _, _ = lc_src
    dst = tmp_path / "out.tif"
    dst.write_bytes(b"previous")
    seen = []

    def half_written(s, d, **options):
        d.write_bytes(b"II*\x00 half a COG")  # GDAL had started writing the temporary file
        d.with_name(d.name + ".ovr.tmp").write_bytes(b"overviews in progress")
        seen.append(d)
        raise RasterioIOError("simulated: No space left on device")

    monkeypatch.setattr(cog, "_gdal_copy", half_written)
    with pytest.raises(COGError, match=r"lc\.tif: GDAL could not write it .* out\.tif .*No space left"):
        write_cog(src, dst, resampling="mode")
    assert seen and seen[0].parent == tmp_path and seen[0] != dst  # it wrote beside dst, not onto it
    assert dst.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lc.tif", "out.tif"]


def test_unreadable_source_fails_cleanly_in_gdal(tmp_path):
    # A real GDAL failure: the header is intact, half the tiles are cut off.
    rng = np.random.default_rng(1)
    src = tmp_path / "cut.tif"
    profile = dict(driver="GTiff", width=1024, height=1024, count=1, dtype="uint8", nodata=0, crs=UTM50,
                   transform=TRANSFORM, tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    with rasterio.open(src, "w", **profile) as ds:
        ds.write(rng.integers(1, 255, (1024, 1024), dtype="uint8"), 1)
    with open(src, "r+b") as f:
        f.truncate(src.stat().st_size // 2)
    with pytest.raises(COGError, match=r"cut\.tif: GDAL could not write it .*nothing was written"):
        write_cog(src, tmp_path / "out.tif", resampling="mode")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.tif"]


def test_cog_writer_failure_leaves_nothing(tmp_path):
    dst = tmp_path / "classes.tif"
    profile = dict(width=64, height=64, count=1, dtype="uint8", nodata=0, crs=UTM50, transform=TRANSFORM)
    with pytest.raises(RuntimeError, match="mid-write"):
        with cog_writer(dst, resampling="mode", **profile) as ds:
            ds.write(np.ones((64, 64), "uint8"), 1)
            raise RuntimeError("failure mid-write")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(COGError, match="output folder does not exist"):
        with cog_writer(tmp_path / "nope" / "x.tif", resampling="mode", **profile):
            pass


# --------------------------------------------------------------------------- display reads


def test_display_read_of_a_cog_uses_the_overview(tmp_path, lc_src):
    src, classes, block_class = lc_src
    out = write_cog(src, tmp_path / "lc_cog.tif", resampling="mode", blocksize=256).path

    # at the overview's exact size (512 wide): the mode overview itself, class A of every block
    shown = read_classes_decimated(out, max_width=W // 2)
    assert shown.shape == (H // 2, W // 2)
    np.testing.assert_array_equal(shown, block_class)
    assert not (shown == ODD).any()
    with rasterio.open(out, OVERVIEW_LEVEL="0only") as ds:
        np.testing.assert_array_equal(shown, ds.read(1))
    # the same read of the source (no overviews) samples the full resolution: odd pixels appear
    sampled = read_classes_decimated(src, max_width=W // 2)
    assert 0.2 < (sampled == ODD).mean() < 0.3
    with rasterio.open(out, OVERVIEW_LEVEL="NONE") as ds:  # the COG with its overviews ignored
        np.testing.assert_array_equal(ds.read(1, out_shape=(H // 2, W // 2)), sampled)

    # between levels (300 wide, 1/3.4): GDAL samples the 1/2 level, the coarsest still finer
    shown = read_classes_decimated(out, max_width=300)
    assert shown.shape == (225, 300) and not (shown == ODD).any()
    with rasterio.open(out, OVERVIEW_LEVEL="0only") as ds:
        np.testing.assert_array_equal(shown, ds.read(1, out_shape=(225, 300), resampling=Resampling.nearest))


def test_band_preview_reads_the_average_overview(tmp_path):
    # 4 bands, reflectance x 10000; every 2 x 2 block holds DN 1000, 1000, 1000, 5000 -> average
    # overview 2000 (reflectance 0.2); the full resolution holds only 1000 or 5000.
    rng = np.random.default_rng(3)
    dn = np.full((4, 512, 512), 1000, dtype="uint16")
    bi, bj = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    dn[:, 2 * bi + rng.integers(0, 2, bi.shape), 2 * bj + rng.integers(0, 2, bj.shape)] = 5000
    src = write_raster(tmp_path / "b.tif", dn, nodata=0, tags={"SCALE": "0.0001"},
                       descriptions=["green", "red", "nir", "swir1"])
    out = write_cog(src, tmp_path / "b_cog.tif", resampling="average", blocksize=256).path
    preview = read_bands_decimated(open_bands(out), max_width=256)
    for name in ("green", "red", "nir", "swir1"):
        np.testing.assert_allclose(preview.bands[name], 0.2, rtol=1e-6)
    full = read_bands_decimated(open_bands(src), max_width=256)
    nir = full.bands["nir"]  # the source has no overviews: sampled pixels are 0.1 or 0.5
    assert np.all(np.isclose(nir, 0.1) | np.isclose(nir, 0.5)) and 0.2 < np.isclose(nir, 0.5).mean() < 0.3


# --------------------------------------------------------------------------- the project's writers


def test_demo_and_landcover_outputs_are_cogs(tmp_path):
    grid = Grid(left=600000.0, top=3560000.0, width=600, height=520)
    classes = np.where(np.arange(600)[None, :] < 300, 10, 40).astype("uint8").repeat(520, 0)
    classes[:4, :4] = 0
    write_landcover(tmp_path / "lc.tif", classes, grid, year=2025, seed=1)
    lay = describe_layout(tmp_path / "lc.tif")
    assert lay.is_cog and lay.overview_factors == (2, 4) and lay.overview_resampling == "mode"
    with rasterio.open(tmp_path / "lc.tif") as ds:
        np.testing.assert_array_equal(ds.read(1), classes)
        assert ds.colormap(1)[10][:3] == (0, 100, 0) and ds.tags()["YEAR"] == "2025" and ds.nodata == 0

    bands = np.stack([np.full((520, 600), v, "uint16") for v in (800, 600, 3000, 1500)])
    write_bands(tmp_path / "b.tif", bands, grid, ["green", "red", "nir", "swir1"], year=2025, seed=1, scale=1e-4)
    lay = describe_layout(tmp_path / "b.tif")
    assert lay.is_cog and lay.overview_factors and lay.overview_resampling == "average"

    res = I.write_indices(open_bands(tmp_path / "b.tif"), tmp_path / "idx.tif", indices=("ndvi",))
    lay = describe_layout(res.path)
    assert lay.is_cog and lay.overview_factors and lay.overview_resampling == "average"
    with rasterio.open(res.path) as ds:
        # NDVI = (0.30 - 0.06) / (0.30 + 0.06) = 0.666667 everywhere
        np.testing.assert_allclose(ds.read(1), 0.24 / 0.36, rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --------------------------------------------------------------------------- errors


def test_non_raster_file_is_a_data_error_naming_the_file(tmp_path):
    notes = tmp_path / "notes.tif"
    notes.write_text("not a raster, just text\n")
    with pytest.raises(DataError) as err:
        describe_layout(notes)
    assert "notes.tif" in str(err.value) and err.value.source == str(notes)
    assert "cannot read it as a raster" in err.value.problem and err.value.fix
    with pytest.raises(DataError, match="notes.tif: GDAL cannot read it as a raster"):
        write_cog(notes, tmp_path / "out.tif", resampling="mode")
    with pytest.raises(DataError, match="missing.tif: the file does not exist"):
        describe_layout(tmp_path / "missing.tif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.tif"]
