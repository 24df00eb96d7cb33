"""Pictures of the land-cover and carbon-sink maps for the public explorer: rasters -> RGBA frames.

A :class:`Frame` is a small RGBA array on a regular lon/lat grid (EPSG:4326) with its corners,
a label (usually the year) and a :class:`Legend`; :mod:`sinks.explorer.mapimage` turns frames into
PNG maps, cards and an animated GIF. Offline, no matplotlib: numpy, rasterio and Pillow only.

* :func:`landcover_frame`: the land-cover classes, WorldCover colours or a colour-blind-safe set
  (:data:`COLOURBLIND_RGB`);
* :func:`carbon_frame`: carbon density per pixel from the coefficient table, either the stock
  (sum of the four pools, t C/ha) or the gain rate of land that stays in its class
  (t CO2e/ha/yr = t C/ha/yr x 44/12), on a viridis ramp;
* :func:`change_frame`: the stock-change rate between two years,
  (density_t1 - density_t0) x 44/12 / years in t CO2e/ha/yr, in diverging blue (stock gained,
  a sink) / orange-brown (stock lost, a source) bins; pixels without change light grey.

The grid: the raster is warped with nearest neighbour (class codes are never averaged) onto a
lon/lat grid whose pixels are as many metres wide as high at the centre latitude (so the picture
is not stretched east-west the way square-degree pixels would be at 32 N), at most
``max_width`` pixels wide and never finer than the source. Pixels with no data (the raster's
nodata, or outside its footprint) are transparent. ``bounds_lonlat`` (or ``crop=True`` with an
``outline``) cuts the picture to an area plus a margin; an ``outline`` (shapely, lon/lat) rides
along in the frame so the map draws it, and with ``fade_outside`` the pixels outside it are
drawn half transparent.

Colours for missing coefficients: a class the table lacks, or whose gain rate is "source
required", is drawn in :data:`MISSING_RGB` and the legend says so (never a silent zero).

This module must not import ``ui`` (layering: geodata <- sinks <- ui).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from sinks.coefficients import CoefficientTable
from sinks.landcover.classify import NODATA, WORLDCOVER_CLASSES, WORLDCOVER_RGB
from sinks.ledger.svg import OKABE_ITO, VIRIDIS_5, nice_ticks
from sinks.units import C_TO_CO2

__all__ = [
    "Frame", "Legend", "GridSpec", "COLOURBLIND_RGB", "WORLDCOVER_NAMES_ZH", "MISSING_RGB", "UNCHANGED_RGB",
    "CHANGE_GAIN_RGB", "CHANGE_LOSS_RGB", "landcover_frame", "carbon_frame", "change_frame", "class_density",
    "change_edges", "change_stops",
    "ramp_colour", "bin_colour", "lonlat_grid", "metres_per_degree", "hex_rgb",
]

RGB = tuple[int, int, int]
MAX_WIDTH = 900
MARGIN_FRAC = 0.05  # margin added on each side of the crop bounds, as a share of their width / height
FADE_ALPHA = 90  # alpha of pixels outside the outline with fade_outside


def hex_rgb(h: str) -> RGB:
    """``"#0072B2" -> (0, 114, 178)``."""
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


_OI = {name: hex_rgb(h) for name, h in zip(
    ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow"), OKABE_ITO)}

#: WorldCover class names in Chinese (the same words as the dashboard's ``lc.*`` strings).
WORLDCOVER_NAMES_ZH: dict[int, str] = {
    10: "林地", 20: "灌木", 30: "草地", 40: "耕地", 50: "建设用地", 60: "裸地", 70: "冰雪", 80: "水体",
    90: "草本湿地", 95: "红树林", 100: "苔藓地衣",
}

#: A colour-blind-safe land-cover palette built on Okabe & Ito (2008), "Color Universal Design"
#: (https://jfly.uni-koeln.de/color/), ordered so the classes that matter in the Yangtze lowlands
#: differ in hue AND lightness under protanopia / deuteranopia / tritanopia (checked in
#: tests/test_explorer_frames.py with the Machado et al. 2009 simulation):
#:
#: ====  =====================  ==========================  ==========================
#: code  class                  colour                      why
#: ====  =====================  ==========================  ==========================
#: 10    tree cover             bluish green #009E73        dark-mid, the "green" of the set
#: 20    shrubland              orange #E69F00              grass/shrub family, darker than grass
#: 30    grassland              yellow #F0E442              grass/shrub family, the lightest
#: 40    cropland               reddish purple #CC79A7      WorldCover's pink, kept in spirit
#: 50    built-up               vermillion #D55E00          WorldCover's red, kept in spirit
#: 60    bare / sparse          light grey #BBBBBB          neutral, no hue
#: 70    snow and ice           near white #F4F4F4          neutral
#: 80    permanent water        blue #0072B2                the darkest blue
#: 90    herbaceous wetland     sky blue #56B4E9            water family, much lighter than water
#: 95    mangroves              black #000000               absent from Jiangbei
#: 100   moss and lichen        pale sand #E8D8B0           absent from Jiangbei
#: ====  =====================  ==========================  ==========================
COLOURBLIND_RGB: dict[int, RGB] = {
    10: _OI["bluish_green"], 20: _OI["orange"], 30: _OI["yellow"], 40: _OI["reddish_purple"],
    50: _OI["vermillion"], 60: (187, 187, 187), 70: (244, 244, 244), 80: _OI["blue"], 90: _OI["sky_blue"],
    95: _OI["black"], 100: (232, 216, 176),
}
PALETTES: dict[str, dict[int, RGB]] = {"worldcover": dict(WORLDCOVER_RGB), "colourblind": COLOURBLIND_RGB}

#: Pixels whose class has no coefficient (not in the table, or "source required").
MISSING_RGB: RGB = hex_rgb("#9e9e9e")
#: change_frame: pixels whose density did not change.
UNCHANGED_RGB: RGB = hex_rgb("#e4e4e4")
#: change_frame: stock gained (a sink), weak -> strong: ColorBrewer RdBu (9-class) blue arm
#: (Brewer, colorbrewer2.org, marked colour-blind safe); its palest step is skipped so the
#: weakest gain stands off the grey of "no change".
CHANGE_GAIN_RGB: tuple[RGB, ...] = (hex_rgb("#92c5de"), hex_rgb("#4393c3"), hex_rgb("#2166ac"))
#: change_frame: stock lost (a source), weak -> strong: ColorBrewer PuOr (9-class) orange-brown
#: arm. Blue against orange is the hue pair all three dichromacies keep apart (Okabe & Ito 2008).
CHANGE_LOSS_RGB: tuple[RGB, ...] = (hex_rgb("#fdb863"), hex_rgb("#e08214"), hex_rgb("#b35806"))

# WGS84 ellipsoid
_A_M = 6378137.0
_E2 = 6.69437999014e-3


# =============================================================================== data classes


@dataclass(frozen=True)
class Legend:
    """What a frame's colours mean, in both languages.

    ``kind``:

    * ``"classes"``: ``items`` are ``(label_zh, label_en, (r, g, b))`` swatches;
    * ``"ramp"``: a continuous ramp, ``stops`` are ``(value, (r, g, b))`` interpolated linearly
      in sRGB, ``ticks`` the values to label;
    * ``"bins"``: ``stops`` are ``(upper_edge, (r, g, b))`` in increasing order, each colour
      covering the values above the previous edge up to its own (``ticks`` are the edges).

    For ramps and bins ``items`` lists the extra swatches (no coefficient, no change) and
    ``unit`` the unit of the values (e.g. ``"t C/ha"``). ``note_zh`` / ``note_en`` is one short
    line under the legend (e.g. which way is a sink).
    """

    title_zh: str
    title_en: str
    kind: str
    items: tuple[tuple[str, str, RGB], ...] = ()
    stops: tuple[tuple[float, RGB], ...] = ()
    ticks: tuple[float, ...] = ()
    unit: str = ""
    note_zh: str = ""
    note_en: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("classes", "ramp", "bins"):
            raise ValueError(f"legend kind {self.kind!r}: use 'classes', 'ramp' or 'bins'")
        object.__setattr__(self, "items", tuple((str(a), str(b), tuple(int(v) for v in c)) for a, b, c in self.items))
        object.__setattr__(self, "stops", tuple((float(v), tuple(int(x) for x in c)) for v, c in self.stops))
        object.__setattr__(self, "ticks", tuple(float(t) for t in self.ticks))

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else self.note_en


@dataclass(frozen=True, eq=False)
class Frame:
    """One picture: ``rgba`` (H x W x 4 uint8, alpha 0 where there is no data) on a regular
    lon/lat grid spanning ``bounds_lonlat`` = (west, south, east, north) in degrees.

    ``values`` is the number behind each pixel on the same grid (class code for land cover,
    t C/ha, t CO2e/ha/yr; NaN where none), ``outline`` an optional shapely geometry in lon/lat
    for the map to draw, ``source`` the files it was drawn from (for the map's source line).
    """

    rgba: np.ndarray
    bounds_lonlat: tuple[float, float, float, float]
    label: str
    legend: Legend
    values: np.ndarray | None = None
    outline: object | None = None
    source: str = ""

    def __post_init__(self) -> None:
        a = np.asarray(self.rgba)
        if a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8:
            raise ValueError(f"rgba must be H x W x 4 uint8, got {a.shape} {a.dtype}")
        object.__setattr__(self, "bounds_lonlat", tuple(float(v) for v in self.bounds_lonlat))

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.rgba.shape[0]), int(self.rgba.shape[1])

    def pixel_of(self, lon: float, lat: float) -> tuple[int, int]:
        """(row, col) of the pixel holding ``(lon, lat)`` (may lie outside the frame)."""
        w, s, e, n = self.bounds_lonlat
        h, wd = self.shape
        return int(math.floor((n - lat) / (n - s) * h)), int(math.floor((lon - w) / (e - w) * wd))


@dataclass(frozen=True)
class GridSpec:
    """A regular lon/lat output grid: ``transform`` (EPSG:4326 degrees), ``width``, ``height``."""

    transform: Affine
    width: int
    height: int

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)


# =============================================================================== geometry


def metres_per_degree(lat_deg: float) -> tuple[float, float]:
    """(metres per degree of longitude, metres per degree of latitude) on the WGS84 ellipsoid at
    ``lat_deg``: the parallel's radius N cos(phi) and the meridian's radius of curvature M."""
    phi = math.radians(lat_deg)
    w = 1.0 - _E2 * math.sin(phi) ** 2
    n = _A_M / math.sqrt(w)
    m = _A_M * (1.0 - _E2) / w ** 1.5
    return n * math.cos(phi) * math.pi / 180.0, m * math.pi / 180.0


def _pad(bounds: Sequence[float], frac: float) -> tuple[float, float, float, float]:
    w, s, e, n = (float(v) for v in bounds)
    dx, dy = (e - w) * frac, (n - s) * frac
    if dx == 0 and dy == 0:  # a point: a small box around it
        dx = dy = 0.01
    return w - dx, s - dy, e + dx, n + dy


def lonlat_grid(bounds_lonlat: Sequence[float], *, pixel_m: float, max_width: int = MAX_WIDTH) -> GridSpec:
    """A lon/lat grid over ``bounds_lonlat`` whose pixels are square in metres at the centre
    latitude, ``pixel_m`` metres (the source's pixel) or coarser so it is at most ``max_width``
    pixels wide."""
    w, s, e, n = (float(v) for v in bounds_lonlat)
    if not (e > w and n > s):
        raise ValueError(f"empty bounds {bounds_lonlat}")
    mx, my = metres_per_degree((s + n) / 2.0)
    width_m, height_m = (e - w) * mx, (n - s) * my
    width = max(1, min(int(max_width), int(math.ceil(width_m / max(pixel_m, 1e-9) - 1e-9))))
    height = max(1, int(round(width * height_m / width_m)))
    return GridSpec(Affine((e - w) / width, 0.0, w, 0.0, -(n - s) / height, n), width, height)


def _source_pixel_m(ds) -> float:
    if ds.crs is not None and ds.crs.is_geographic:
        b = ds.bounds
        mx, my = metres_per_degree((b.bottom + b.top) / 2.0)
        return min(abs(ds.res[0]) * mx, abs(ds.res[1]) * my)
    return min(abs(ds.res[0]), abs(ds.res[1]))


def _grid_for(path: str | Path, bounds_lonlat, outline, crop: bool, margin_frac: float, max_width: int) -> GridSpec:
    with rasterio.open(path) as ds:
        if ds.crs is None:
            raise ValueError(f"{path}: the raster has no CRS; it cannot be placed on a map")
        if bounds_lonlat is not None:
            bounds = _pad(bounds_lonlat, margin_frac)
        elif crop and outline is not None:
            bounds = _pad(outline.bounds, margin_frac)
        else:
            bounds = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
        return lonlat_grid(bounds, pixel_m=_source_pixel_m(ds), max_width=max_width)


def _read_codes(path: str | Path, grid: GridSpec) -> tuple[np.ndarray, np.ndarray]:
    """Band 1 warped onto ``grid`` by nearest neighbour, and where it is valid."""
    with rasterio.open(path) as ds:
        nod = ds.nodata if ds.nodata is not None else NODATA
        with WarpedVRT(ds, crs="EPSG:4326", transform=grid.transform, width=grid.width, height=grid.height,
                       resampling=Resampling.nearest, nodata=nod) as vrt:
            codes = vrt.read(1)
    return codes, codes != codes.dtype.type(nod)


def _outside(grid: GridSpec, outline) -> np.ndarray | None:
    if outline is None:
        return None
    from rasterio.features import geometry_mask

    return geometry_mask([outline], out_shape=(grid.height, grid.width), transform=grid.transform, invert=False)


def _finish(rgb: np.ndarray, valid: np.ndarray, outside: np.ndarray | None, fade_outside: bool) -> np.ndarray:
    alpha = np.where(valid, 255, 0).astype("uint8")
    if outside is not None and fade_outside:
        alpha[outside & valid] = FADE_ALPHA
    rgba = np.dstack([rgb.astype("uint8"), alpha])
    rgba[~valid] = 0
    return rgba


# =============================================================================== colours


def ramp_colour(values: np.ndarray, stops: Sequence[tuple[float, RGB]]) -> np.ndarray:
    """Values -> RGB (..., 3) uint8, linear in sRGB between ``stops`` (clamped at both ends;
    NaN gives :data:`MISSING_RGB`)."""
    v = np.asarray(values, dtype="float64")
    xs = np.array([s[0] for s in stops], dtype="float64")
    cols = np.array([s[1] for s in stops], dtype="float64")
    vv = np.clip(np.nan_to_num(v, nan=xs[0]), xs[0], xs[-1])
    out = np.stack([np.interp(vv, xs, cols[:, k]) for k in range(3)], axis=-1)
    out = (out + 0.5).astype("uint8")
    out[~np.isfinite(v)] = MISSING_RGB
    return out


def bin_colour(values: np.ndarray, stops: Sequence[tuple[float, RGB]]) -> np.ndarray:
    """Values -> RGB by bins: ``stops`` are (upper edge, colour) increasing; a value takes the
    colour of the first edge at or above it (values above the last edge take the last colour;
    NaN gives :data:`MISSING_RGB`)."""
    v = np.asarray(values, dtype="float64")
    edges = np.array([s[0] for s in stops], dtype="float64")
    cols = np.array([s[1] for s in stops], dtype="uint8")
    idx = np.searchsorted(edges, np.nan_to_num(v, nan=0.0), side="left")
    out = cols[np.clip(idx, 0, len(stops) - 1)]
    out[~np.isfinite(v)] = MISSING_RGB
    return out


def _viridis_stops(vmin: float, vmax: float) -> tuple[tuple[float, RGB], ...]:
    n = len(VIRIDIS_5)
    return tuple((vmin + (vmax - vmin) * k / (n - 1), hex_rgb(h)) for k, h in enumerate(VIRIDIS_5))


# =============================================================================== frames


def _class_legend(codes_present: Sequence[int], palette: dict[int, RGB], name: str) -> Legend:
    items = tuple((WORLDCOVER_NAMES_ZH.get(c, f"#{c}"), WORLDCOVER_CLASSES.get(c, f"#{c}"), palette.get(c, MISSING_RGB))
                  for c in palette if c in set(codes_present))
    note_en = "Colour-blind-safe colours (Okabe-Ito)" if name == "colourblind" else "ESA WorldCover colours"
    note_zh = "色盲友好配色（Okabe-Ito）" if name == "colourblind" else "ESA WorldCover 配色"
    return Legend(title_zh="土地覆被", title_en="Land cover", kind="classes", items=items, note_zh=note_zh, note_en=note_en)


def landcover_frame(
    path: str | Path,
    *,
    bounds_lonlat: Sequence[float] | None = None,
    outline=None,
    crop: bool = False,
    fade_outside: bool = True,
    margin_frac: float = MARGIN_FRAC,
    max_width: int = MAX_WIDTH,
    palette: str = "worldcover",
    label: str = "",
    grid: GridSpec | None = None,
) -> Frame:
    """A land-cover raster (WorldCover codes) as a frame: warped to EPSG:4326 by nearest
    neighbour, coloured with ``palette`` (``"worldcover"``: the official table;
    ``"colourblind"``: :data:`COLOURBLIND_RGB`), nodata and unknown codes transparent.

    ``bounds_lonlat`` crops to those bounds plus ``margin_frac`` on each side; ``crop=True``
    crops to ``outline``'s bounds instead. ``grid`` forces the output grid (to put several
    years on the same pixels).
    """
    if palette not in PALETTES:
        raise ValueError(f"palette {palette!r}: use one of {sorted(PALETTES)}")
    pal = PALETTES[palette]
    grid = grid or _grid_for(path, bounds_lonlat, outline, crop, margin_frac, max_width)
    codes, valid = _read_codes(path, grid)
    lut = np.zeros((256, 3), dtype="uint8")
    known = np.zeros(256, dtype=bool)
    for c, rgb in pal.items():
        lut[c] = rgb
        known[c] = True
    valid &= known[codes]
    rgba = _finish(lut[codes], valid, _outside(grid, outline), fade_outside)
    present = sorted(int(c) for c in np.unique(codes[valid]))
    values = np.where(valid, codes.astype("float32"), np.float32(np.nan))
    return Frame(rgba=rgba, bounds_lonlat=grid.bounds_lonlat, label=label, legend=_class_legend(present, pal, palette),
                 values=values, outline=outline, source=Path(path).name)


def class_density(table: CoefficientTable, quantity: str = "stock_tc_ha") -> dict[int, float]:
    """Per land-cover code: ``"stock_tc_ha"`` the sum of the four pools (t C/ha), or
    ``"gain_tco2e_ha_yr"`` the gain rate of land that stays in its class x 44/12
    (t CO2e/ha/yr). NaN where the table gives no number (source required)."""
    if quantity == "stock_tc_ha":
        pools = table.pools()
        s = pools.sum(axis=1, min_count=len(pools.columns))  # any missing pool -> NaN, never a partial sum
    elif quantity == "gain_tco2e_ha_yr":
        s = table.gain_rates() * C_TO_CO2
    else:
        raise ValueError(f"quantity {quantity!r}: use 'stock_tc_ha' or 'gain_tco2e_ha_yr'")
    return {int(c): float(v) for c, v in s.items()}


def _density_lut(table: CoefficientTable, quantity: str) -> np.ndarray:
    lut = np.full(256, np.nan, dtype="float64")
    for c, v in class_density(table, quantity).items():
        if 0 <= c < 256:
            lut[c] = v
    return lut


_QTY_TEXT = {
    "stock_tc_ha": ("碳密度（四个碳库合计）", "Carbon density (four pools)", "t C/ha"),
    "gain_tco2e_ha_yr": ("年固碳速率（保持原地类）", "Annual gain (land staying in its class)", "t CO2e/ha/yr"),
}


def carbon_frame(
    path: str | Path,
    table: CoefficientTable,
    *,
    quantity: str = "stock_tc_ha",
    bounds_lonlat: Sequence[float] | None = None,
    outline=None,
    crop: bool = False,
    fade_outside: bool = True,
    margin_frac: float = MARGIN_FRAC,
    max_width: int = MAX_WIDTH,
    vmax: float | None = None,
    label: str = "",
    grid: GridSpec | None = None,
) -> Frame:
    """Carbon density per pixel from ``table`` on a viridis ramp (0 .. ``vmax``; by default the
    round number at or above the largest density of the classes present).

    ``quantity``: ``"stock_tc_ha"`` (c_above + c_below + c_soil + c_dead, t C/ha) or
    ``"gain_tco2e_ha_yr"`` (gain rate x 44/12, t CO2e/ha/yr). Classes without a number are
    drawn in :data:`MISSING_RGB` and listed in the legend; nodata is transparent.
    """
    zh, en, unit = _QTY_TEXT.get(quantity, (None, None, None))
    if zh is None:
        raise ValueError(f"quantity {quantity!r}: use one of {sorted(_QTY_TEXT)}")
    lut = _density_lut(table, quantity)
    grid = grid or _grid_for(path, bounds_lonlat, outline, crop, margin_frac, max_width)
    codes, valid = _read_codes(path, grid)
    dens = np.where(valid, lut[codes], np.nan)
    finite = dens[np.isfinite(dens)]
    top = float(vmax) if vmax is not None else (nice_ticks(0.0, float(finite.max()), 5)[-1] if finite.size and finite.max() > 0 else 1.0)
    stops = _viridis_stops(0.0, top)
    rgba = _finish(ramp_colour(dens, stops), valid, _outside(grid, outline), fade_outside)
    missing = sorted(int(c) for c in np.unique(codes[valid & ~np.isfinite(dens)]))
    items = ()
    if missing:
        names_zh = "、".join(WORLDCOVER_NAMES_ZH.get(c, f"#{c}") for c in missing)
        names_en = ", ".join(WORLDCOVER_CLASSES.get(c, f"#{c}") for c in missing)
        items = ((f"无系数：{names_zh}", f"No coefficient: {names_en}", MISSING_RGB),)
    legend = Legend(title_zh=zh, title_en=en, kind="ramp", stops=stops, ticks=tuple(nice_ticks(0.0, top, 5, extend=False)),
                    unit=unit, items=items)
    return Frame(rgba=rgba, bounds_lonlat=grid.bounds_lonlat, label=label, legend=legend,
                 values=dens.astype("float32"), outline=outline, source=f"{Path(path).name}; {Path(table.path).name}")


def change_edges(values: np.ndarray, n_bins: int = 3) -> tuple[float, ...]:
    """Upper edges of the positive bins for a diverging map of ``values``: round 1-2-5 steps from
    0 to at least the largest absolute value (at most ``n_bins`` bins; the last edge is open)."""
    v = np.abs(np.asarray(values, dtype="float64"))
    v = v[np.isfinite(v) & (v > 0)]
    top = float(v.max()) if v.size else 1.0
    ticks = [t for t in nice_ticks(0.0, top, n_bins) if t > 0]
    return tuple(ticks[:n_bins]) if ticks else (top,)


def change_stops(edges: Sequence[float]) -> tuple[tuple[float, RGB], ...]:
    """Bin stops (upper edge, colour) for :func:`bin_colour` from the positive ``edges``
    e0 < e1 < ... (at most three; the last one only closes the legend).

    Gains: (0, e0], (e0, e1], ..., (e[k-2], +inf) weak -> strong blue; losses mirrored
    orange-brown (a value exactly on a negative edge falls in the stronger bin); exactly 0 grey.
    """
    e = [float(x) for x in edges][: len(CHANGE_GAIN_RGB)]
    if not e or any(x <= 0 for x in e) or sorted(e) != e:
        raise ValueError(f"edges must be positive and increasing, got {edges}")
    k = len(e)
    gain, loss = CHANGE_GAIN_RGB[-k:], CHANGE_LOSS_RGB[-k:]
    stops: list[tuple[float, RGB]] = []
    for j in range(k - 1, 0, -1):  # strongest loss first: values <= -e[j-1]
        stops.append((-e[j - 1], loss[j]))
    stops.append((float(np.nextafter(0.0, -1.0)), loss[0]))  # (-e0, 0)
    stops.append((0.0, UNCHANGED_RGB))
    for j in range(k):
        stops.append((e[j] if j < k - 1 else math.inf, gain[j]))
    return tuple(stops)


def change_frame(
    path_t0: str | Path,
    path_t1: str | Path,
    table: CoefficientTable,
    years: float,
    *,
    bounds_lonlat: Sequence[float] | None = None,
    outline=None,
    crop: bool = False,
    fade_outside: bool = True,
    margin_frac: float = MARGIN_FRAC,
    max_width: int = MAX_WIDTH,
    edges_tco2e_ha_yr: Sequence[float] | None = None,
    label: str = "",
) -> Frame:
    """Stock-change rate per pixel between two land-cover maps on the same grid:
    (density_t1 - density_t0) x 44/12 / ``years`` in t CO2e/ha/yr, densities the four-pool sums
    of ``table``. Positive = stock gained (a sink, blues), negative = stock lost (a source,
    orange-browns), zero (class unchanged, or a change between equal densities) light grey;
    either year without a coefficient :data:`MISSING_RGB`; nodata in either year transparent.

    Bins: ``edges_tco2e_ha_yr`` (positive upper edges, mirrored for losses) or
    :func:`change_edges` of the values.
    """
    if not years or years <= 0:
        raise ValueError(f"years must be positive, got {years}")
    lut = _density_lut(table, "stock_tc_ha")
    grid = _grid_for(path_t0, bounds_lonlat, outline, crop, margin_frac, max_width)
    c0, v0 = _read_codes(path_t0, grid)
    c1, v1 = _read_codes(path_t1, grid)
    valid = v0 & v1
    rate = np.where(valid, (lut[c1] - lut[c0]) * C_TO_CO2 / float(years), np.nan)
    edges = tuple(edges_tco2e_ha_yr) if edges_tco2e_ha_yr is not None else change_edges(rate)
    stops = change_stops(edges)
    rgba = _finish(bin_colour(rate, stops), valid, _outside(grid, outline), fade_outside)
    items = [("无储量变化", "No stock change", UNCHANGED_RGB)]
    if np.any(valid & ~np.isfinite(rate)):
        items.append(("无系数（任一年）", "No coefficient (either year)", MISSING_RGB))
    legend = Legend(
        title_zh="碳储量年变化率", title_en="Stock change rate", kind="bins", stops=stops,
        ticks=tuple(sorted({-e for e in edges[:-1]} | {0.0} | set(edges[:-1]))), unit="t CO2e/ha/yr", items=tuple(items),
        note_zh="蓝色 = 储量增加（碳汇）；橙棕 = 储量减少（碳源）", note_en="Blue = stock gained (sink); orange-brown = lost (source)",
    )
    return Frame(rgba=rgba, bounds_lonlat=grid.bounds_lonlat, label=label, legend=legend, values=rate.astype("float32"),
                 outline=outline, source=f"{Path(path_t0).name}, {Path(path_t1).name}; {Path(table.path).name}")
