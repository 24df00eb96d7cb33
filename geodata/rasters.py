"""Open and validate rasters; pixel areas from the grid.

A categorical raster (land cover) must be an integer raster with a declared nodata value; a
continuous raster (reflectance, indices) must declare nodata or be float with NaN. Pixel areas
come from the affine determinant (projected CRS) or from per-row geodesic cell areas
(geographic CRS), never from ``res[0] ** 2``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS, Geod
from pyproj.exceptions import CRSError as ProjCRSError
from rasterio.errors import CRSError, RasterioError

from geodata.crs import check_lonlat_bounds, require_crs
from geodata.errors import DataError, GridError, NoDataError
from geodata.limits import check_raster_size

# Pixels whose sides differ by more than 0.1 % are refused. Areas never assume squareness (they
# come from the affine determinant); the check catches grids that were never meant to be
# square (e.g. 30 x 15 m). Real grids cut from a bounding box are often a few 1e-4 off square
# (the eo-learn Slovenia raster is 9.9948 x 9.9974 m) and are accepted.
_SQUARE_RTOL = 1e-3
# A GeoTIFF's block table is checked against the file's length (a copy cut short opens fine and
# fails only when the missing blocks are read). Up to this many blocks every one is checked;
# above it, every k-th and the whole last block row (where a cut usually falls).
_MAX_BLOCKS_CHECKED = 10_000  # ~4 us a block: at most ~80 ms per open


@dataclass(frozen=True)
class RasterInfo:
    """What the rest of the code needs to know about a raster, read once."""

    path: Path
    crs: CRS
    transform: Affine
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    band_names: tuple[str, ...]
    tags: dict

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def is_geographic(self) -> bool:
        return self.crs.is_geographic

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        left, top = self.transform.c, self.transform.f
        right = left + self.transform.a * self.width
        bottom = top + self.transform.e * self.height
        return (min(left, right), min(top, bottom), max(left, right), max(top, bottom))

    def same_grid(self, other: "RasterInfo") -> bool:
        return (
            self.crs == other.crs
            and self.shape == other.shape
            and self.transform.almost_equals(other.transform, precision=1e-9)
        )


def read_info(path: str | Path) -> RasterInfo:
    """Open ``path`` with GDAL and check what every raster must have: a CRS and a sane grid.

    Raises
    ------
    DataError
        unreadable or not a raster, or a GeoTIFF cut short; ``MissingCRSError`` without CRS;
        ``GridError`` for rotated or non-square pixels; ``UnsafeInputError`` over the size limits
        of :mod:`geodata.limits` (judged on the header, before any pixel is read); lon/lat
        bounds that cannot be degrees.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "the file does not exist", "check the path in the configuration")
    try:
        with rasterio.open(path) as ds:
            if ds.count < 1:
                raise DataError(path, "it holds no raster band", "supply a GeoTIFF with the land-cover or band values")
            info = RasterInfo(
                path=path,
                crs=require_crs(ds.crs, path),
                transform=ds.transform,
                width=ds.width,
                height=ds.height,
                count=ds.count,
                dtype=ds.dtypes[0],
                nodata=ds.nodata,
                band_names=tuple(d or f"band{i + 1}" for i, d in enumerate(ds.descriptions)),
                tags=dict(ds.tags()),
            )
            check_raster_size(path, width=info.width, height=info.height, count=info.count, dtype=info.dtype)
            _check_complete(ds, path)
    except (RasterioError, CRSError, ProjCRSError) as exc:
        raise DataError(
            path,
            f"GDAL cannot read it as a raster ({exc})",
            "supply a GeoTIFF (or another GDAL raster format); re-export it if it is damaged",
        ) from exc
    t = info.transform
    if t.b != 0 or t.d != 0:
        raise GridError(
            path,
            f"the grid is rotated (affine terms b={t.b}, d={t.d})",
            "warp it to a north-up grid first: gdalwarp -t_srs EPSG:32650 -tr 30 30 in.tif out.tif",
        )
    if not np.isclose(abs(t.a), abs(t.e), rtol=_SQUARE_RTOL, atol=0):
        raise GridError(
            path,
            f"pixels are not square ({abs(t.a)} x {abs(t.e)} {'degrees' if info.is_geographic else 'm'})",
            "resample to square pixels first: gdalwarp -tr 30 30 -r near in.tif out.tif "
            "(nearest neighbour for land-cover classes)",
        )
    if info.is_geographic:  # lon/lat labels on numbers that cannot be degrees (metres labelled 4326)
        left, bottom, right, top = info.bounds
        if not (max(abs(left), abs(right)) <= 180 + 1e-6 and max(abs(bottom), abs(top)) <= 90 + 1e-6):
            check_lonlat_bounds(info.bounds, path)
    return info


def _check_complete(ds, path: Path) -> None:
    """Refuse a GeoTIFF whose blocks lie past the end of the file (a copy or download cut short)."""
    if ds.driver != "GTiff":
        return
    size = path.stat().st_size
    bh, bw = ds.block_shapes[0]
    nx, ny = math.ceil(ds.width / bw), math.ceil(ds.height / bh)
    separate = ds.count > 1 and (ds.tags(ns="IMAGE_STRUCTURE").get("INTERLEAVE") or "").upper() == "BAND"
    bands = range(1, ds.count + 1) if separate else (1,)
    n_blocks = nx * ny * len(bands)
    step = max(1, n_blocks // _MAX_BLOCKS_CHECKED)
    blocks = [(b, k % nx, k // nx) for b in bands for k in range(0, nx * ny, step)]
    if step > 1:
        blocks += [(b, x, ny - 1) for b in bands for x in range(nx)]
    end = 0
    for b, x, y in blocks:
        off = ds.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=b)
        n = ds.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", bidx=b)
        if off and n:  # 0 / None: a sparse block, read as nodata
            end = max(end, int(off) + int(n))
    if end > size:
        raise DataError(path, f"the file is cut short: it is {size:,} bytes but its image data runs to byte {end:,} "
                              "(an interrupted copy or download)", "copy or download the file again, or re-export it")


def check_categorical(info: RasterInfo) -> RasterInfo:
    """A land-cover raster: integer codes with a declared nodata value."""
    if not np.issubdtype(np.dtype(info.dtype), np.integer):
        raise DataError(
            info.path,
            f"a land-cover raster must hold integer class codes, this one is {info.dtype}",
            "export the classes as an integer raster (uint8 for ESA WorldCover codes)",
        )
    if info.nodata is None:
        raise NoDataError(
            info.path,
            "no nodata value is declared, so fill pixels would be counted as a land-cover class",
            "declare it, e.g. gdal_edit.py -a_nodata 0 file.tif (0 is the ESA WorldCover fill)",
        )
    if np.dtype(info.dtype).itemsize > 2:
        raise DataError(
            info.path,
            f"class codes of type {info.dtype} are wider than the 16 bits the engine counts",
            "recode the classes to uint8 or uint16 (gdal_translate -ot UInt16)",
        )
    return info


def check_continuous(info: RasterInfo) -> RasterInfo:
    """A continuous raster: float with NaN, or any type with a declared nodata value."""
    if info.nodata is None and not np.issubdtype(np.dtype(info.dtype), np.floating):
        raise NoDataError(
            info.path,
            f"no nodata value is declared for this {info.dtype} raster, so fill values "
            "(0, -9999, ...) would be averaged as data",
            "declare it: gdal_edit.py -a_nodata <value> file.tif",
        )
    return info


def check_same_grid(info: RasterInfo, reference: RasterInfo) -> None:
    """Two rasters that are counted together must share one grid exactly."""
    if info.crs != reference.crs:
        from geodata.crs import require_same_crs

        require_same_crs(info.crs, reference.crs, source=info.path, other=reference.path.name)
    if not info.same_grid(reference):
        raise GridError(
            info.path,
            f"its grid ({info.width}x{info.height}, origin {info.transform.c:.3f}, "
            f"{info.transform.f:.3f}, pixel {info.transform.a}) differs from "
            f"{reference.path.name} ({reference.width}x{reference.height}, origin "
            f"{reference.transform.c:.3f}, {reference.transform.f:.3f}, pixel {reference.transform.a})",
            f"resample it onto the grid of {reference.path.name} (gdalwarp -te ... -tr ... -r near)",
        )


def pixel_area_m2(transform: Affine) -> float:
    """Area of one pixel of a projected grid, |det(A)| in square CRS units (metres)."""
    return abs(transform.a * transform.e - transform.b * transform.d)


def row_areas_m2(info: RasterInfo, row_off: int = 0, n_rows: int | None = None) -> np.ndarray:
    """Area of one pixel in each row, in m2.

    Projected CRS: the affine determinant, the same for every row (the CRS unit must be the
    metre). Geographic CRS: the geodesic area on the CRS ellipsoid of one cell in that row,
    which shrinks with the cosine of the latitude.
    """
    n_rows = info.height - row_off if n_rows is None else n_rows
    t = info.transform
    if not info.is_geographic:
        unit = info.crs.axis_info[0].unit_name if info.crs.axis_info else "metre"
        if unit not in ("metre", "meter"):
            raise GridError(
                info.path,
                f"the projected CRS uses '{unit}' units, not metres",
                "reproject to a metric CRS such as EPSG:32650",
            )
        return np.full(n_rows, pixel_area_m2(t), dtype="float64")
    geod = Geod(ellps="WGS84") if info.crs.ellipsoid is None else Geod(
        a=info.crs.ellipsoid.semi_major_metre, rf=info.crs.ellipsoid.inverse_flattening
    )
    rows = np.arange(row_off, row_off + n_rows, dtype="float64")
    lat_top = t.f + t.e * rows
    lat_bot = lat_top + t.e
    # Area of a lat-lon cell: 2 pi b^2-based zone area. Use the authalic form via pyproj on one
    # cell per row (exact on the ellipsoid, and rows are few).
    width_deg = abs(t.a)
    out = np.empty(n_rows, dtype="float64")
    for i, (la, lb) in enumerate(zip(lat_top, lat_bot)):
        lons = [0.0, width_deg, width_deg, 0.0]
        lats = [la, la, lb, lb]
        area, _ = geod.polygon_area_perimeter(lons, lats)
        out[i] = abs(area)
    return out


def nodata_mask(block: np.ndarray, nodata: float | None) -> np.ndarray:
    """True where ``block`` holds no data (the declared value, or NaN for floats)."""
    mask = np.zeros(block.shape, dtype=bool)
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        mask |= block == nodata
    if np.issubdtype(block.dtype, np.floating):
        mask |= np.isnan(block)
    return mask
