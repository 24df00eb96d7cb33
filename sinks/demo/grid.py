"""The demo raster grid (UTM 50N, 30 m, snapped) and vector <-> raster helpers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import Transformer
from rasterio import features
from shapely.geometry.base import BaseGeometry

from sinks.demo.constants import CRS_UTM, GRID_MARGIN_M, PIXEL_M

_TO_UTM = Transformer.from_crs("EPSG:4326", CRS_UTM, always_xy=True)
_TO_LONLAT = Transformer.from_crs(CRS_UTM, "EPSG:4326", always_xy=True)


def lonlat_to_utm(lon: float, lat: float) -> tuple[float, float]:
    """Project a WGS84 point (degrees) to UTM 50N easting/northing (m)."""
    x, y = _TO_UTM.transform(lon, lat)
    return float(x), float(y)


def geom_to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Project a UTM 50N geometry (m) to WGS84 (degrees)."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1]))
    )


@dataclass(frozen=True)
class Grid:
    """A north-up square-pixel grid in UTM 50N.

    Attributes
    ----------
    left, top
        Outer corner coordinates of the top-left pixel, in metres (multiples of ``res``).
    width, height
        Size in pixels.
    res
        Pixel size in metres.
    """

    left: float
    top: float
    width: int
    height: int
    res: float = PIXEL_M

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], margin_m: float = GRID_MARGIN_M) -> Grid:
        """Smallest snapped grid covering ``bounds`` (m, UTM) plus ``margin_m`` on every side."""
        res = PIXEL_M
        minx, miny, maxx, maxy = bounds
        left = math.floor((minx - margin_m) / res) * res
        bottom = math.floor((miny - margin_m) / res) * res
        right = math.ceil((maxx + margin_m) / res) * res
        top = math.ceil((maxy + margin_m) / res) * res
        return cls(left=left, top=top, width=int(round((right - left) / res)), height=int(round((top - bottom) / res)), res=res)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (self.height, self.width)

    @property
    def transform(self) -> Affine:
        """Affine transform from pixel (col, row) to UTM (x, y)."""
        return Affine(self.res, 0.0, self.left, 0.0, -self.res, self.top)

    @property
    def pixel_ha(self) -> float:
        """Area of one pixel on the projected grid, in hectares."""
        return self.res * self.res / 1e4

    def x_centres(self) -> NDArray[np.float64]:
        """Easting of each column centre (m), shape ``(1, cols)``."""
        return (self.left + (np.arange(self.width) + 0.5) * self.res)[None, :]

    def y_centres(self) -> NDArray[np.float64]:
        """Northing of each row centre (m), shape ``(rows, 1)``."""
        return (self.top - (np.arange(self.height) + 0.5) * self.res)[:, None]

    def rowcol(self, x: float, y: float) -> tuple[float, float]:
        """Fractional (row, col) of a UTM point."""
        return ((self.top - y) / self.res - 0.5, (x - self.left) / self.res - 0.5)

    def rasterize(self, shapes: Iterable[tuple[BaseGeometry, int]], *, all_touched: bool = False) -> NDArray[np.uint8]:
        """Burn ``(geometry, value)`` pairs (UTM) into a uint8 array (0 where nothing is burnt)."""
        pairs = [(g, v) for g, v in shapes if g is not None and not g.is_empty]
        if not pairs:
            return np.zeros(self.shape, dtype=np.uint8)
        return features.rasterize(
            pairs, out_shape=self.shape, transform=self.transform, fill=0, dtype="uint8", all_touched=all_touched
        )

    def vectorize(self, mask: NDArray[np.bool_]) -> BaseGeometry:
        """Polygon (UTM) of the True pixels of ``mask``, following pixel edges exactly."""
        polys = [
            shapely.geometry.shape(geom)
            for geom, val in features.shapes(mask.astype(np.uint8), mask=mask, transform=self.transform, connectivity=4)
            if val == 1
        ]
        return shapely.union_all(polys) if polys else shapely.Polygon()
