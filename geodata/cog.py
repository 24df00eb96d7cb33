"""Cloud-Optimized GeoTIFF: write rasters with internal overviews, and say how a file is laid out.

A display read asks GDAL for the whole raster at screen size (``ds.read(out_shape=...)``).
GDAL then reads the coarsest *internal overview* that is still at least as fine as the
request, so a 760-pixel-wide picture of a 10000 x 10000 raster decodes the 1/8 overview
(1250 x 1250 pixels) instead of all 100 million pixels. A plain tiled GeoTIFF has no overviews
and GDAL must decompress every tile (``benchmarks/display.py``: 13-15x the read time, 100 MB of
block cache instead of 3 MB). The COG layout (GDAL's ``COG`` driver) puts the overviews inside the
file, tiles every level and orders the directories first, so the same file also serves
partial reads over HTTP.

* :func:`write_cog` converts any GDAL raster into a COG with internal overviews, atomically:
  it writes a temporary file in the destination folder and moves it into place with
  :func:`os.replace` only when GDAL has finished and the result reads back as a COG.
* :func:`cog_writer` is the same for rasters written block by block: it yields a writable
  tiled GeoTIFF (a staging file next to the destination) and converts it on success.
* :func:`describe_layout` reports tiling, block shape, overview factors and whether a file has
  the COG layout (GDAL's ``LAYOUT=COG`` in the ``IMAGE_STRUCTURE`` metadata domain; without it,
  a heuristic: tiled GeoTIFF with internal overviews).

Overview resampling must suit the data: ``mode`` (or ``nearest``) for categorical rasters such as
land cover, where an average of class codes would invent classes; ``average`` for continuous
ones (reflectance, indices; nodata and NaN are left out of the average). Overviews are for
display only: statistics and areas are always computed at full resolution.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.enums import ColorInterp, Resampling
from rasterio._err import CPLE_BaseError  # GDAL errors raised outside RasterioError
from rasterio.errors import RasterioError

from geodata.errors import DataError

DEFAULT_BLOCKSIZE = 512  # GDAL's COG default; 256 suits small rasters and the demo
CATEGORICAL_RESAMPLING: frozenset[str] = frozenset({"nearest", "mode"})
_RESAMPLING: frozenset[str] = frozenset(
    {"nearest", "mode", "average", "rms", "bilinear", "cubic", "cubicspline", "lanczos", "gauss"}
)
# Files GDAL may leave beside a GeoTIFF it is writing (COG: temporary overview files).
_TMP_SIDECARS = (".ovr.tmp", ".msk.ovr.tmp", ".msk", ".ovr")
OVERVIEW_TAG = "OVERVIEW_RESAMPLING"


class COGError(DataError):
    """A raster that cannot be read, converted to a COG, or described."""

    kind = "cog"


@dataclass(frozen=True)
class RasterLayout:
    """How a raster file is laid out on disk, as far as reading it for display is concerned.

    Attributes
    ----------
    path
        The file.
    driver
        GDAL driver short name (``GTiff`` for GeoTIFF and COG).
    width, height, count, dtype
        Size in pixels, band count and data type of band 1.
    tiled
        True when band 1 is stored in square-ish tiles rather than strips (rows).
    block_shape
        ``(rows, cols)`` of one block of band 1.
    overview_factors
        Decimation factors of the overviews of band 1 (e.g. ``(2, 4, 8)``); empty without.
    external_overviews
        True when the overviews are in a separate ``.ovr`` file (not part of a COG).
    compression, interleave
        From the ``IMAGE_STRUCTURE`` metadata domain (``None`` when not reported).
    gdal_layout
        The ``LAYOUT`` item of ``IMAGE_STRUCTURE`` (``"COG"`` when GDAL found the COG header).
    overview_resampling
        The ``OVERVIEW_RESAMPLING`` tag written by :func:`cog_writer`, if any.
    """

    path: Path
    driver: str
    width: int
    height: int
    count: int
    dtype: str
    tiled: bool
    block_shape: tuple[int, int]
    overview_factors: tuple[int, ...]
    external_overviews: bool
    compression: str | None
    interleave: str | None
    gdal_layout: str | None
    overview_resampling: str | None

    @property
    def needs_overviews(self) -> bool:
        """True when the raster is larger than one block, so a display read benefits from them."""
        rows, cols = self.block_shape
        return self.width > cols or self.height > rows

    @property
    def is_cog(self) -> bool:
        """COG layout: GDAL says so (``LAYOUT=COG``), or, when GDAL does not report a layout,
        a tiled GeoTIFF with internal overviews (or too small to need any)."""
        if self.gdal_layout is not None:
            return self.gdal_layout.upper() == "COG"
        return (
            self.driver == "GTiff"
            and self.tiled
            and not self.external_overviews
            and (bool(self.overview_factors) or not self.needs_overviews)
        )

    @property
    def evidence(self) -> str:
        """How :attr:`is_cog` was decided: ``"gdal"`` (``LAYOUT`` metadata) or ``"heuristic"``
        (tiling and overviews only; the order of the directories is not checked)."""
        return "gdal" if self.gdal_layout is not None else "heuristic"

    def summary(self) -> str:
        """One line for logs and reports."""
        ovr = ",".join(map(str, self.overview_factors)) or "none"
        where = " (external .ovr)" if self.external_overviews else ""
        kind = "COG" if self.is_cog else ("tiled GeoTIFF" if self.tiled else "striped raster")
        return (
            f"{self.path.name}: {kind} ({self.evidence}), {self.width}x{self.height}x{self.count} {self.dtype}, "
            f"blocks {self.block_shape[1]}x{self.block_shape[0]}, overviews {ovr}{where}, "
            f"{(self.compression or 'uncompressed').lower()}"
        )


def _open_error(path: Path, exc: Exception) -> COGError:
    return COGError(
        path,
        f"GDAL cannot read it as a raster ({exc})",
        "supply a GeoTIFF (or another GDAL raster format); re-export it if it is damaged",
    )


def _require_file(path: Path) -> None:
    if not path.exists():
        raise COGError(path, "the file does not exist", "check the path")
    if path.is_dir():
        raise COGError(path, "this is a folder, not a raster file", "give the path of the .tif file")


def _is_tiled(rows: int, cols: int, width: int) -> bool:
    """Tiles, not strips: a strip spans the full width and is a few rows high; a tile is square
    (it may be wider than a raster narrower than one tile)."""
    return rows == cols or cols != width


def describe_layout(path: str | Path) -> RasterLayout:
    """Tiling, block shape, overviews and COG layout of a raster file.

    Parameters
    ----------
    path
        Any raster GDAL can open.

    Returns
    -------
    RasterLayout
        See its attributes; :attr:`RasterLayout.is_cog` says whether the file is a COG.

    Raises
    ------
    COGError
        (a :class:`~geodata.errors.DataError`) when the file is missing or not a raster.
    """
    path = Path(path)
    _require_file(path)
    try:
        with rasterio.open(path) as ds:
            structure = ds.tags(ns="IMAGE_STRUCTURE")
            rows, cols = ds.block_shapes[0]
            factors = tuple(int(f) for f in ds.overviews(1))
            files = [Path(f).name.lower() for f in (ds.files or [])]
            return RasterLayout(
                path=path,
                driver=ds.driver,
                width=ds.width,
                height=ds.height,
                count=ds.count,
                dtype=ds.dtypes[0],
                tiled=_is_tiled(int(rows), int(cols), ds.width),
                block_shape=(int(rows), int(cols)),
                overview_factors=factors,
                external_overviews=bool(factors) and any(f.endswith(".ovr") for f in files),
                compression=structure.get("COMPRESSION"),
                interleave=structure.get("INTERLEAVE"),
                gdal_layout=structure.get("LAYOUT"),
                overview_resampling=ds.tags().get(OVERVIEW_TAG),
            )
    except (RasterioError, CPLE_BaseError) as exc:
        raise _open_error(path, exc) from exc


def _resampling_name(resampling: str | Resampling) -> str:
    name = resampling.name if isinstance(resampling, Resampling) else str(resampling).strip().lower()
    if name not in _RESAMPLING:
        raise ValueError(
            f"overview resampling {resampling!r} is not supported; use one of {', '.join(sorted(_RESAMPLING))} "
            "('mode' for land cover, 'average' for reflectance and indices)"
        )
    return name


def _predictor(predictor: str | int | bool | None, resampling: str) -> str:
    if predictor is None:  # class codes compress better without differencing, measurements with it
        return "NO" if resampling in CATEGORICAL_RESAMPLING else "YES"
    if predictor is True or predictor in (2, 3, "2", "3"):
        return "YES"
    if predictor is False or predictor in (1, "1"):
        return "NO"
    return str(predictor).upper()


def _remove(paths: list[Path]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _sidecars(tmp: Path) -> list[Path]:
    return [tmp.with_name(tmp.name + s) for s in (*_TMP_SIDECARS, ".aux.xml")]


def _gdal_copy(src: Path, dst: Path, **options: object) -> None:
    """GDAL CreateCopy with the COG driver (a function of its own so tests can make it fail)."""
    rasterio.shutil.copy(str(src), str(dst), driver="COG", **options)


def write_cog(
    src: str | Path,
    dst: str | Path,
    *,
    resampling: str | Resampling,
    blocksize: int = DEFAULT_BLOCKSIZE,
    compress: str = "DEFLATE",
    level: int | None = None,
    predictor: str | int | bool | None = None,
    num_threads: int | str = "ALL_CPUS",
) -> RasterLayout:
    """Convert a raster into a Cloud-Optimized GeoTIFF with internal overviews.

    Pixels, grid, CRS, nodata, band descriptions, tags and the colour table are copied
    unchanged (lossless compression); overviews are computed anew with ``resampling`` (any
    overviews ``src`` has are ignored), halving the size until the smallest level fits in
    one block. ``dst`` may be ``src`` itself (conversion in place). A multi-band COG is
    pixel-interleaved (GDAL before 3.11 offers no other interleave for COGs).

    The COG is written to a temporary file in the folder of ``dst`` and moved onto ``dst``
    with :func:`os.replace` only after GDAL has finished and the file reads back with the COG
    layout; on any failure the temporary files are removed and ``dst`` is left as it was.

    Parameters
    ----------
    src
        Any raster GDAL can read (typically a tiled GeoTIFF).
    dst
        The ``.tif`` to write; its folder must exist.
    resampling
        Overview resampling: ``"mode"`` (or ``"nearest"``) for categorical rasters,
        ``"average"`` for continuous ones. A raster with a colour table (class codes) is
        refused any other method.
    blocksize
        Tile edge in pixels (a multiple of 16; 256 or 512).
    compress, level
        GDAL ``COMPRESS`` (``DEFLATE``, ``ZSTD``, ``LZW``, ...) and its ``LEVEL``.
    predictor
        ``None``: none for ``mode`` / ``nearest`` (class codes), the standard predictor
        otherwise (horizontal differencing for integers, floating-point for floats).
    num_threads
        Threads for compression and overview computation.

    Returns
    -------
    RasterLayout
        The layout of the written file (``is_cog`` is True).

    Raises
    ------
    COGError
        (a :class:`~geodata.errors.DataError`) ``src`` is missing or not a raster, the folder of
        ``dst`` is missing, the resampling does not suit a colour-mapped raster, or GDAL failed
        (the message names the file and GDAL's reason).
    ValueError
        an unknown resampling name or a block size that is not a positive multiple of 16.
    """
    src, dst = Path(src), Path(dst)
    method = _resampling_name(resampling)
    if blocksize <= 0 or blocksize % 16:
        raise ValueError(f"blocksize must be a positive multiple of 16 (256 or 512), not {blocksize}")
    _require_file(src)
    try:
        with rasterio.open(src) as ds:
            paletted = ds.count >= 1 and ds.colorinterp[0] == ColorInterp.palette
            integer = np.issubdtype(np.dtype(ds.dtypes[0]), np.integer)
    except (RasterioError, CPLE_BaseError) as exc:
        raise _open_error(src, exc) from exc
    if paletted and integer and method not in CATEGORICAL_RESAMPLING:
        raise COGError(
            src,
            f"it holds class codes (it has a colour table), and '{method}' overviews would blend codes into "
            "values that are no class",
            "use resampling='mode' (or 'nearest') for land cover",
        )
    if not dst.parent.is_dir():
        raise COGError(dst, "the output folder does not exist", f"create it first (mkdir -p {dst.parent})")

    options: dict[str, object] = {
        "BLOCKSIZE": int(blocksize),
        "COMPRESS": compress.upper(),
        "PREDICTOR": _predictor(predictor, method),
        "OVERVIEWS": "IGNORE_EXISTING",
        "OVERVIEW_RESAMPLING": method.upper(),
        "BIGTIFF": "IF_SAFER",
        "NUM_THREADS": str(num_threads),
    }
    if level is not None:
        options["LEVEL"] = int(level)
    if compress.upper() == "NONE":
        options.pop("PREDICTOR")
    tmp = dst.with_name(f".{dst.stem}.cog-{os.getpid()}-{secrets.token_hex(4)}.tif")
    try:
        try:
            _gdal_copy(src, tmp, **options)
        except (RasterioError, CPLE_BaseError) as exc:
            raise COGError(
                src,
                f"GDAL could not write it as a Cloud-Optimized GeoTIFF to {dst.name} ({exc})",
                "check free disk space in the output folder and that the source reads completely "
                f"(gdalinfo -checksum {src.name}); nothing was written",
            ) from exc
        layout = describe_layout(tmp)
        if not layout.is_cog:
            raise COGError(
                src,
                f"GDAL wrote {dst.name} but it does not read back as a COG ({layout.summary()})",
                "update GDAL (3.1 or later has the COG driver); nothing was written",
            )
        os.replace(tmp, dst)
    except BaseException:
        _remove([tmp, *_sidecars(tmp)])
        raise
    aux = tmp.with_name(tmp.name + ".aux.xml")  # metadata GDAL could not put in the file
    if aux.exists():
        os.replace(aux, dst.with_name(dst.name + ".aux.xml"))
    _remove(_sidecars(tmp))
    return describe_layout(dst)


@contextlib.contextmanager
def cog_writer(dst: str | Path, *, resampling: str | Resampling, **profile: object) -> Iterator[rasterio.io.DatasetWriter]:
    """Write a raster block by block and get a COG: ``with cog_writer(dst, resampling=..., **profile) as ds``.

    Yields a writable tiled GeoTIFF (a staging file with fast compression, in the folder of
    ``dst``) opened with ``profile``. Write pixels, colour table, descriptions and tags as
    usual. When the block ends without an exception, the staging file is tagged with
    ``OVERVIEW_RESAMPLING`` and converted with :func:`write_cog` (atomically); the staging file
    is always removed. On an exception nothing is written and ``dst`` is left as it was.

    Parameters
    ----------
    dst
        The COG to write; its folder must exist.
    resampling
        Overview resampling (``"mode"`` for categorical, ``"average"`` for continuous).
    **profile
        Creation profile, as for ``rasterio.open(path, "w", **profile)`` (``width``, ``height``,
        ``count``, ``dtype``, ``crs``, ``transform``, ``nodata``, ...). Its ``blockxsize``,
        ``compress``, ``zlevel``, ``predictor`` (continuous data only: class codes get none) and
        ``num_threads`` set the COG's; the rest of :func:`write_cog`'s defaults apply.

    Raises
    ------
    COGError
        the folder of ``dst`` is missing, or the conversion failed (see :func:`write_cog`).
    """
    dst = Path(dst)
    method = _resampling_name(resampling)
    if not dst.parent.is_dir():
        raise COGError(dst, "the output folder does not exist", f"create it first (mkdir -p {dst.parent})")
    profile = {k.lower(): v for k, v in profile.items()}
    cog = {
        "blocksize": int(profile.get("blockxsize") or DEFAULT_BLOCKSIZE),
        "compress": str(profile.get("compress") or "DEFLATE"),
        "level": int(profile["zlevel"]) if "zlevel" in profile else None,
        "predictor": None if method in CATEGORICAL_RESAMPLING else profile.get("predictor"),
        "num_threads": profile.get("num_threads", "ALL_CPUS"),
    }
    for key in ("driver", "compress", "zlevel", "tiled", "blockxsize", "blockysize", "bigtiff", "num_threads"):
        profile.pop(key, None)
    # ZSTD level 1: about 2x faster to write and re-read than DEFLATE level 1 at the same size
    # (a GDAL built without ZSTD warns and writes the staging file uncompressed).
    staging_profile = dict(
        profile, driver="GTiff", tiled=True, blockxsize=cog["blocksize"], blockysize=cog["blocksize"],
        compress="zstd", zstd_level=1, BIGTIFF="IF_SAFER",
    )
    fd, name = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=".staging.tif", dir=dst.parent)
    os.close(fd)
    staging = Path(name)
    try:
        with rasterio.open(staging, "w", **staging_profile) as ds:
            yield ds
            ds.update_tags(**{OVERVIEW_TAG: method})
        write_cog(staging, dst, resampling=method, **cog)
    finally:
        _remove([staging, *_sidecars(staging)])
