"""Pictures of imagery and land cover for the screens: decimated reads -> RGB arrays, a swipe.

Everything here works on small arrays (at most ``max_width`` pixels wide, default 1000), read
from the files with a decimated read (``out_shape``), so drawing a 2948 x 2348 scene costs a
fraction of a second. GDAL serves such a read from the coarsest internal overview that is
still at least as fine as the request and samples it by nearest neighbour (the demo rasters and
the classified maps are Cloud-Optimized GeoTIFFs, :mod:`geodata.cog`: mode overviews for classes,
average ones for reflectance); a file without overviews is sampled at full resolution, every
tile decoded.
No streamlit here; the cached wrappers are in :mod:`ui.landcover_flow`.

* false colour: NIR / red / green as R / G / B (vegetation red), each band stretched between its
  2nd and 98th percentile (the demo has no blue band, so no true colour is possible);
* NDVI: a diverging brown - white - green ramp centred on 0 over [-0.5, 0.9];
* classes: the ESA WorldCover colour table.
Pixels without data are drawn in a light grey (``NODATA_RGB``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling

from geodata.bands import BandSet, read_decimated
from sinks.landcover.classify import NODATA, WORLDCOVER_RGB
from sinks.landcover.indices import ndvi as ndvi_index

MAX_WIDTH = 1000
NODATA_RGB = (236, 238, 234)
# NDVI ramp (ColorBrewer BrBG, diverging at 0): value -> colour
NDVI_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (-0.5, (140, 81, 10)),
    (-0.2, (216, 179, 101)),
    (0.0, (245, 245, 245)),
    (0.2, (199, 234, 229)),
    (0.45, (90, 180, 172)),
    (0.7, (1, 102, 94)),
    (0.9, (0, 60, 48)),
)
NDVI_TICKS = (-0.5, 0.0, 0.3, 0.6, 0.9)


def out_shape(height: int, width: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """(rows, cols) of a decimated read at most ``max_width`` wide (aspect kept, never upsampled)."""
    if width <= max_width:
        return height, width
    f = max_width / width
    return max(1, round(height * f)), max_width


@dataclass(frozen=True)
class BandPreview:
    """Decimated reflectance of a band set (float32, NaN where invalid) and NDVI."""

    bands: dict[str, np.ndarray]
    valid: np.ndarray
    ndvi: np.ndarray | None
    full_shape: tuple[int, int]


def read_bands_decimated(bandset: BandSet, *, max_width: int = MAX_WIDTH) -> BandPreview:
    """Reflectance of every band of ``bandset`` on a grid at most ``max_width`` wide (nearest
    neighbour), scaled like :meth:`BandSet.read_window` (DN x scale + offset; nodata and the
    cloud mask give NaN)."""
    h, w = bandset.shape
    block, _ = read_decimated(bandset, out_shape=out_shape(h, w, max_width))
    valid = block.valid
    bands = {name: np.where(valid, arr, np.float32(np.nan)).astype("float32") for name, arr in block.arrays.items()}
    nd = ndvi_index(bands["nir"], bands["red"]) if {"nir", "red"} <= set(bands) else None
    return BandPreview(bands=bands, valid=valid, ndvi=nd, full_shape=(h, w))


def read_classes_decimated(path: str | Path, *, max_width: int = MAX_WIDTH) -> np.ndarray:
    """Band 1 of a categorical raster at most ``max_width`` wide (uint8 codes, for display only).

    Nearest-neighbour sampling of the coarsest overview still at least as fine as the request (of
    the full resolution when the file has none); with mode overviews every value is a class code.
    """
    with rasterio.open(path) as ds:
        oh, ow = out_shape(ds.height, ds.width, max_width)
        return ds.read(1, out_shape=(oh, ow), resampling=Resampling.nearest)


def _stretch(band: np.ndarray, valid: np.ndarray) -> np.ndarray:
    v = band[valid & np.isfinite(band)]
    if v.size == 0:
        return np.zeros(band.shape, dtype="uint8")
    lo, hi = np.percentile(v, [2, 98])
    if hi <= lo:
        hi = lo + 1e-6
    x = np.clip((np.nan_to_num(band, nan=lo) - lo) / (hi - lo), 0, 1)
    return (x * 255 + 0.5).astype("uint8")


def false_colour_rgb(preview: BandPreview) -> np.ndarray | None:
    """NIR / red / green false colour (H x W x 3 uint8), or None without those bands."""
    if not {"nir", "red", "green"} <= set(preview.bands):
        return None
    rgb = np.stack([_stretch(preview.bands[n], preview.valid) for n in ("nir", "red", "green")], axis=-1)
    rgb[~preview.valid] = NODATA_RGB
    return rgb


def ndvi_colour(values: np.ndarray) -> np.ndarray:
    """NDVI values -> RGB (..., 3) uint8 on :data:`NDVI_STOPS` (clamped; NaN -> ``NODATA_RGB``)."""
    xs = np.array([s[0] for s in NDVI_STOPS])
    cols = np.array([s[1] for s in NDVI_STOPS], dtype="float64")
    v = np.clip(np.nan_to_num(values, nan=0.0), xs[0], xs[-1])
    out = np.stack([np.interp(v, xs, cols[:, k]) for k in range(3)], axis=-1)
    out = (out + 0.5).astype("uint8")
    out[~np.isfinite(values)] = NODATA_RGB
    return out


def ndvi_rgb(preview: BandPreview) -> np.ndarray | None:
    return None if preview.ndvi is None else ndvi_colour(preview.ndvi)


def class_rgb(codes: np.ndarray) -> np.ndarray:
    """WorldCover codes -> RGB (H x W x 3 uint8); nodata and unknown codes in ``NODATA_RGB``."""
    lut = np.tile(np.array(NODATA_RGB, dtype="uint8"), (256, 1))
    for code, rgb in WORLDCOVER_RGB.items():
        lut[code] = rgb
    lut[NODATA] = NODATA_RGB
    return lut[codes]


def swipe(left: np.ndarray, right: np.ndarray, position_pct: float, *, line: bool = True) -> np.ndarray:
    """One image: columns left of ``position_pct`` % of the width from ``left``, the rest from
    ``right`` (same shape), with a 2-pixel white divider at the split."""
    if left.shape != right.shape:
        raise ValueError(f"the two views differ in shape: {left.shape} vs {right.shape}")
    w = left.shape[1]
    split = int(round(w * min(max(float(position_pct), 0.0), 100.0) / 100.0))
    out = right.copy()
    out[:, :split] = left[:, :split]
    if line and 0 < split < w:
        out[:, max(split - 1, 0):min(split + 1, w)] = (255, 255, 255)
    return out


def ndvi_stats(preview: BandPreview) -> dict[str, float]:
    """Min / mean / max of the decimated NDVI (for the caption; the written raster has exact ones)."""
    v = preview.ndvi[np.isfinite(preview.ndvi)] if preview.ndvi is not None else np.zeros(0)
    if v.size == 0:
        return {"min": float("nan"), "mean": float("nan"), "max": float("nan")}
    return {"min": float(v.min()), "mean": float(v.mean()), "max": float(v.max())}


def present_classes(codes: np.ndarray) -> list[int]:
    """WorldCover codes present in a (decimated) class map, in legend order."""
    seen = set(np.unique(codes).tolist())
    return [c for c in WORLDCOVER_RGB if c in seen]


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
