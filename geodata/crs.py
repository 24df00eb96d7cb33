"""Coordinate reference systems: the analysis and display CRS, checks, and GCJ-02 / BD-09.

GCJ-02 ("Mars coordinates", used by Amap/Gaode, Tencent, Aliyun DataV) and BD-09 (Baidu) are
obfuscated lon/lat systems without an EPSG code. Data in them sits 0.5-1.2 km away from its
true WGS84 / CGCS2000 position, so it is converted on import and never overlaid raw. The forward
transform is the published GCJ-02 algorithm; the inverse is iterative (a fixed-point iteration on
the forward transform), accurate to well under a centimetre.
"""
from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Callable

import numpy as np
import shapely
from pyproj import CRS

from geodata.errors import CRSMismatchError, DataError, MissingCRSError

ANALYSIS_CRS = CRS.from_epsg(32650)  # WGS 84 / UTM zone 50N: metric, Nanjing at 118.8 E
DISPLAY_CRS = CRS.from_epsg(4326)  # WGS 84 lon/lat, what web maps draw

# Geographic CRSs that agree with WGS84 to under a metre at this scale.
CGCS2000 = CRS.from_epsg(4490)


class CoordSystem(str, Enum):
    """What system lon/lat numbers are really in, as the user tells us."""

    WGS84 = "wgs84"  # also CGCS2000 (EPSG:4490), Tianditu
    GCJ02 = "gcj02"  # Amap / Gaode / Tencent / DataV
    BD09 = "bd09"  # Baidu


# Krasovsky 1940 ellipsoid, used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward GCJ-02 obfuscation (degrees in, degrees out). Valid inside China."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray, *, tol_deg: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`wgs84_to_gcj02` by fixed-point iteration (converges in ~5 steps)."""
    glon = np.asarray(lon, dtype="float64")
    glat = np.asarray(lat, dtype="float64")
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlon, wlat


_BD_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to Baidu BD-09 (the published forward formula)."""
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray, *, tol_deg: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`gcj02_to_bd09`: the published closed form (~0.1 m off), then refined by
    fixed-point iteration on the forward formula to well under a millimetre."""
    blon = np.asarray(lon, dtype="float64")
    blat = np.asarray(lat, dtype="float64")
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(10):
        flon, flat = gcj02_to_bd09(glon, glat)
        elon, elat = flon - blon, flat - blat
        glon, glat = glon - elon, glat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return glon, glat


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[CoordSystem, Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    CoordSystem.GCJ02: gcj02_to_wgs84,
    CoordSystem.BD09: bd09_to_wgs84,
}


def to_wgs84_geometries(geoms: np.ndarray, system: CoordSystem | str) -> np.ndarray:
    """Convert shapely geometries whose lon/lat are in ``system`` to true WGS84 lon/lat."""
    system = CoordSystem(system)
    if system is CoordSystem.WGS84:
        return geoms
    convert = _TO_WGS84[system]

    def _xy(coords: np.ndarray) -> np.ndarray:
        lon, lat = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms), _xy)


def require_crs(crs: CRS | None, source: str | Path) -> CRS:
    """Return ``crs`` as a pyproj CRS, or raise: a layer without CRS is an error, never a guess."""
    if crs is None:
        raise MissingCRSError(
            source,
            "the layer has no coordinate reference system",
            "declare it: add the .prj file of a shapefile, or reproject and save with a CRS "
            "(common choices here: EPSG:4490 CGCS2000, EPSG:4326 WGS84, EPSG:4549 CGCS2000 / "
            "3-degree Gauss-Kruger CM 120E, EPSG:32650 UTM 50N)",
        )
    return CRS.from_user_input(crs)


def require_same_crs(a: CRS, b: CRS, *, source: str | Path, other: str) -> None:
    """Raise when two layers meant to be overlaid are in different CRSs (geopandas style)."""
    if CRS.from_user_input(a) != CRS.from_user_input(b):
        raise CRSMismatchError(
            source,
            f"CRS {CRS.from_user_input(a).to_string()} differs from {other}'s "
            f"{CRS.from_user_input(b).to_string()}",
            f"reproject it to {CRS.from_user_input(b).to_string()} first (gdalwarp -t_srs / "
            "GeoDataFrame.to_crs)",
        )


def check_lonlat_bounds(bounds: tuple[float, float, float, float], source: str | Path) -> None:
    """Refuse lon/lat data whose numbers cannot be degrees (projected metres labelled 4326)."""
    minx, miny, maxx, maxy = bounds
    if not (-180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0):
        raise DataError(
            source,
            f"coordinates {minx:.1f}, {miny:.1f} .. {maxx:.1f}, {maxy:.1f} are labelled as "
            "longitude/latitude but lie outside +/-180 / +/-90: they look like projected metres",
            "save the file with its real projected CRS (GeoJSON: reproject to EPSG:4326 before "
            "export), or choose the right CRS on import",
        )
