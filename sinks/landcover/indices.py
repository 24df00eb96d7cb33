"""Spectral indices (NDVI, NDWI, MNDWI, NDBI) on numpy or dask arrays, and a blockwise writer.

All indices are normalised differences ``(a - b) / (a + b)`` of surface reflectance (unitless):

* NDVI = (NIR - red) / (NIR + red) (Rouse et al. 1974);
* NDWI = (green - NIR) / (green + NIR) (McFeeters 1996, "The use of the Normalized Difference
  Water Index (NDWI) in the delineation of open water features", IJRS 17(7));
* MNDWI = (green - SWIR1) / (green + SWIR1) (Xu 2006, "Modification of normalised difference
  water index (NDWI) to enhance open water features in remotely sensed imagery", IJRS 27(14));
* NDBI = (SWIR1 - NIR) / (SWIR1 + NIR) (Zha et al. 2003, IJRS 24(3)), used by the rules.

They are NaN where an input is NaN or the denominator is 0. With non-negative reflectance they
lie in [-1, 1]; a slightly negative reflectance (dark water after atmospheric correction, common
in Landsat Collection 2) can push them beyond, so they are clipped to [-1, 1].

Like ``xrspatial.multispectral.ndvi``: inputs are checked first, then the work is dispatched on
the array type (numpy directly, dask with ``map_blocks``), so the same numbers come out of both.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geodata.bands import BandSet, output_profile
from geodata.bands import normalized_difference as nd_numpy  # the numpy formula; this module adds dask
from geodata.cog import cog_writer
from geodata.errors import EmptyResultError

# index -> (a, b) of (a - b) / (a + b)
INDEX_BANDS: dict[str, tuple[str, str]] = {
    "ndvi": ("nir", "red"),
    "ndwi": ("green", "nir"),
    "mndwi": ("green", "swir1"),
    "ndbi": ("swir1", "nir"),
}
INDEX_DESCRIPTIONS: dict[str, str] = {
    "ndvi": "NDVI (nir - red) / (nir + red)",
    "ndwi": "NDWI McFeeters (green - nir) / (green + nir)",
    "mndwi": "MNDWI Xu (green - swir1) / (green + swir1)",
    "ndbi": "NDBI Zha (swir1 - nir) / (swir1 + nir)",
}

Progress = Callable[[str, float], None]


def _is_dask(a) -> bool:
    return type(a).__module__.startswith("dask.")




def normalized_difference(a, b):
    """``(a - b) / (a + b)`` as float32; NaN where an input is NaN or ``a + b == 0``.

    Parameters
    ----------
    a, b
        Reflectance arrays of one shape: numpy arrays, or dask arrays (the result is then a
        lazy dask array with the chunks of ``a``).
    """
    if tuple(np.shape(a)) != tuple(np.shape(b)):
        raise ValueError(f"the two bands differ in shape: {np.shape(a)} vs {np.shape(b)}")
    if _is_dask(a) or _is_dask(b):
        import dask.array as da

        ref = a if _is_dask(a) else b
        a = a if _is_dask(a) else da.from_array(np.asarray(a), chunks=ref.chunks)
        b = b if _is_dask(b) else da.from_array(np.asarray(b), chunks=ref.chunks)
        if a.chunks != b.chunks:
            b = b.rechunk(a.chunks)
        return da.map_blocks(nd_numpy, a, b, dtype="float32")
    return nd_numpy(a, b)


def ndvi(nir, red):
    """NDVI = (NIR - red) / (NIR + red), unitless, from surface reflectance."""
    return normalized_difference(nir, red)


def ndwi(green, nir):
    """NDWI (McFeeters 1996) = (green - NIR) / (green + NIR)."""
    return normalized_difference(green, nir)


def mndwi(green, swir1):
    """MNDWI (Xu 2006) = (green - SWIR1) / (green + SWIR1)."""
    return normalized_difference(green, swir1)


def ndbi(swir1, nir):
    """NDBI (Zha et al. 2003) = (SWIR1 - NIR) / (SWIR1 + NIR)."""
    return normalized_difference(swir1, nir)


def compute_indices(bands: Mapping[str, object], names: Sequence[str] = ("ndvi", "ndwi", "mndwi")) -> dict[str, object]:
    """Indices ``names`` from a mapping band name -> array (numpy or dask)."""
    out = {}
    for n in names:
        if n not in INDEX_BANDS:
            raise ValueError(f"unknown index {n!r}; known: {', '.join(INDEX_BANDS)}")
        a, b = INDEX_BANDS[n]
        out[n] = normalized_difference(bands[a], bands[b])
    return out


def required_bands(names: Sequence[str]) -> list[str]:
    """The bands the indices ``names`` need, in a stable order."""
    need: list[str] = []
    for n in names:
        if n not in INDEX_BANDS:
            raise ValueError(f"unknown index {n!r}; known: {', '.join(INDEX_BANDS)}")
        for b in INDEX_BANDS[n]:
            if b not in need:
                need.append(b)
    return need


@dataclass(frozen=True)
class IndexStats:
    """Statistics of one index over its valid pixels (unitless)."""

    name: str
    min: float
    mean: float
    max: float
    valid_px: int


@dataclass(frozen=True)
class IndexRasterResult:
    """What :func:`write_indices` wrote."""

    path: Path
    indices: tuple[str, ...]
    stats: tuple[IndexStats, ...]
    width: int
    height: int
    crs: str
    bands: str  # how the bands were read (BandSet.describe())

    def stat(self, name: str) -> IndexStats:
        for s in self.stats:
            if s.name == name:
                return s
        raise KeyError(name)


class _Acc:
    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.lo = math.inf
        self.hi = -math.inf

    def add(self, a: np.ndarray) -> None:
        v = a[np.isfinite(a)]
        if v.size:
            self.n += int(v.size)
            self.total += float(v.sum(dtype="float64"))
            self.lo = min(self.lo, float(v.min()))
            self.hi = max(self.hi, float(v.max()))

    def stats(self, name: str) -> IndexStats:
        if not self.n:
            return IndexStats(name, math.nan, math.nan, math.nan, 0)
        return IndexStats(name, self.lo, self.total / self.n, self.hi, self.n)


def write_indices(
    bandset: BandSet,
    out_path: str | Path,
    *,
    indices: Sequence[str] = ("ndvi", "ndwi", "mndwi"),
    block_size: int = 512,
    progress: Progress | None = None,
) -> IndexRasterResult:
    """Write the indices as a float32 Cloud-Optimized GeoTIFF on the band set's grid, block by block.

    One band per index (with its name as band description), NaN as nodata, average overviews
    for display (:mod:`geodata.cog`), written to a temporary file in the target folder and
    moved into place when complete.

    Parameters
    ----------
    bandset
        Reflectance bands (:func:`geodata.bands.open_bands`).
    out_path
        The GeoTIFF to write (replaced if it exists).
    indices
        Any of ``ndvi``, ``ndwi``, ``mndwi``, ``ndbi``.
    block_size
        Window edge in pixels; memory is about ``block_size**2 x (bands + indices) x 4`` bytes.
    progress
        ``progress(step, fraction)`` after each block.

    Returns
    -------
    IndexRasterResult
        The path and per-index min / mean / max and valid pixel count.

    Raises
    ------
    DataError
        a band an index needs is missing; ``EmptyResultError`` when no pixel is valid.
    """
    indices = tuple(dict.fromkeys(indices))
    if not indices:
        raise ValueError("ask for at least one index")
    need = required_bands(indices)
    possible = [n for n, (a, b) in INDEX_BANDS.items() if a in bandset.names and b in bandset.names]
    bandset.require(need, purpose=f"{', '.join(i.upper() for i in indices)}",
                    hint=f"ask only for the indices these bands allow (--indices {','.join(possible)})" if possible else "")
    out_path = Path(out_path)
    windows = bandset.windows(block_size)
    accs = {n: _Acc() for n in indices}
    profile = output_profile(bandset.grid, count=len(indices), dtype="float32", nodata=float("nan"))
    with cog_writer(out_path, resampling="average", **profile) as dst:
        for i, n in enumerate(indices, 1):
            dst.set_band_description(i, n)
            dst.update_tags(i, INDEX=n, FORMULA=INDEX_DESCRIPTIONS[n], UNITS="unitless")
        for k, block in enumerate(bandset.iter_blocks(block_size=block_size, names=need)):
            vals = compute_indices(block.arrays, indices)
            for i, n in enumerate(indices, 1):
                accs[n].add(vals[n])
                dst.write(vals[n], i, window=block.window)
            if progress is not None:
                progress("indices", (k + 1) / len(windows))
        stats = tuple(accs[n].stats(n) for n in indices)
        if all(s.valid_px == 0 for s in stats):
            raise EmptyResultError(bandset.label, "no pixel has valid data in every band needed", "check nodata, the cloud mask and the files")
        dst.update_tags(
            SOURCE_BANDS=bandset.describe(),
            INDICES=",".join(indices),
            UNITS="unitless (normalised difference of surface reflectance)",
        )
    return IndexRasterResult(
        path=out_path, indices=indices, stats=stats, width=bandset.grid.width, height=bandset.grid.height,
        crs=bandset.grid.crs.to_string(), bands=bandset.describe(),
    )
