"""Atomic writers for the demo outputs (Cloud-Optimized GeoTIFF, GeoPackage, text).

Every output is written to a temporary file in the destination folder and moved into place with
:func:`os.replace` only when complete, so an interrupted or failed build never leaves a
half-written file under its final name (and never leaves the temporary file behind either).
The rasters are Cloud-Optimized GeoTIFFs (:mod:`geodata.cog`) with internal overviews, so the
dashboard's screen-sized reads decode a small overview instead of every tile: mode overviews
for land cover (a class code is never averaged), average overviews for the reflectance bands.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
from numpy.typing import NDArray

from geodata.cog import cog_writer
from sinks.demo import constants as K
from sinks.demo.grid import Grid

# Fixed GeoPackage timestamp so reruns give byte-identical files (GDAL OGR_CURRENT_DATE).
GPKG_TIMESTAMP = "2025-01-01T00:00:00.000Z"
_SIDECARS = (".aux.xml", "-journal", "-wal", "-shm", ".ovr")


@contextlib.contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; move it onto ``final`` if the block succeeds.

    The temporary name keeps the suffix of ``final`` (GDAL picks formats by extension) and starts
    with a dot. On any exception the temporary file and its GDAL/SQLite sidecars are removed and
    the exception is re-raised; ``final`` is then untouched.

    Parameters
    ----------
    final
        Destination path; its folder is created if needed.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        for p in [tmp, *(tmp.with_name(tmp.name + s) for s in _SIDECARS)]:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        raise
    finally:
        for s in _SIDECARS:
            with contextlib.suppress(FileNotFoundError):
                tmp.with_name(tmp.name + s).unlink()


def write_text(path: Path, text: str) -> None:
    """Atomically write UTF-8 text with ``\\n`` line ends."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def _profile(grid: Grid, count: int, dtype: str) -> dict[str, object]:
    return {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": count,
        "dtype": dtype,
        "crs": K.CRS_UTM,
        "transform": grid.transform,
        "nodata": 0,
        "tiled": True,
        "blockxsize": K.TILE_PX,
        "blockysize": K.TILE_PX,
        "compress": "deflate",
        "predictor": 2,
        "zlevel": 6,
        "interleave": "band",
        "num_threads": 2,
    }


def _colormap() -> dict[int, tuple[int, int, int, int]]:
    cmap = {i: (0, 0, 0, 0) for i in range(256)}
    for code, (r, g, b) in K.WORLDCOVER_RGB.items():
        cmap[code] = (r, g, b, 255)
    return cmap


def base_tags(year: int, seed: int) -> dict[str, str]:
    """Tags shared by every demo raster."""
    return {
        "ILLUSTRATIVE": K.ILLUSTRATIVE_TAG,
        "YEAR": str(year),
        "SEED": str(seed),
        "GENERATOR": f"{K.GENERATOR_NAME} {K.GENERATOR_VERSION}",
        "DEMO": K.DEMO_NAME_EN,
    }


def _finish_tags(ds: rasterio.io.DatasetWriter, tags: Mapping[str, str]) -> None:
    """Write dataset tags (a separate function so tests can make it fail mid-write)."""
    ds.update_tags(**tags)


def write_landcover(path: Path, classes: NDArray[np.uint8], grid: Grid, *, year: int, seed: int) -> None:
    """Write a land-cover COG (uint8 WorldCover codes, nodata 0, colour map, mode overviews).

    Parameters
    ----------
    path
        Destination ``.tif``.
    classes
        ``(rows, cols)`` uint8 class codes.
    grid
        Grid of ``classes``.
    year, seed
        Written as tags.
    """
    tags = base_tags(year, seed) | {
        "LEGEND": "ESA WorldCover",
        "CLASSES": "; ".join(f"{c}={n}" for c, n in K.CLASSES.items()),
        "UNITS": "class code",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # mode overviews; the COG has no predictor (class codes compress better without differencing)
    with cog_writer(path, resampling="mode", **_profile(grid, 1, "uint8")) as ds:
        ds.write(classes, 1)
        ds.set_band_description(1, "landcover")
        ds.write_colormap(1, _colormap())
        _finish_tags(ds, tags)


def write_bands(
    path: Path, bands: NDArray[np.uint16], grid: Grid, names: Sequence[str], *, year: int, seed: int, scale: float
) -> None:
    """Write a reflectance COG (uint16, reflectance x 1/scale, nodata 0, named bands, average overviews).

    Parameters
    ----------
    path
        Destination ``.tif``.
    bands
        ``(count, rows, cols)`` uint16.
    grid
        Grid of the bands.
    names
        Band descriptions, in band order.
    year, seed
        Written as tags.
    scale
        Reflectance per DN (written as tag ``SCALE``).
    """
    tags = base_tags(year, seed) | {
        "SCALE": f"{scale:g}",
        "UNITS": "surface reflectance x 10000 (uint16); 0 = nodata",
        "BANDS": ",".join(names),
        "SENSOR_LIKE": "Sentinel-2 L2A B3 (green), B4 (red), B8 (nir), B11 (swir1), synthetic",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with cog_writer(path, resampling="average", **_profile(grid, bands.shape[0], "uint16")) as ds:
        ds.write(bands)
        for i, name in enumerate(names, start=1):
            ds.set_band_description(i, name)
        _finish_tags(ds, tags)


def write_gpkg(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Write GeoPackage layers atomically, with a fixed timestamp (byte-reproducible)."""
    with atomic_output(path) as tmp:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
        try:
            for name, gdf in layers.items():
                gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
