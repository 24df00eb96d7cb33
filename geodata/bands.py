"""Open a set of reflectance bands and read it block by block as float32 reflectance.

A :class:`BandSet` is a list of band *sources* (file, band number, scale, offset, nodata) on one
grid, plus an optional cloud mask. It holds paths only, so it pickles and each dask task can
open the files itself. Reading a window gives float32 surface reflectance per band name with
NaN wherever any band is nodata / NaN or the cloud mask flags the pixel, so memory is bounded by
the block size.

Band names are the spectral roles ``blue, green, red, nir, swir1, swir2`` when they can be told
(from the sensor's band ids or role words in band descriptions, or in the file names of
single-band files), or the user's own names (``bands={"red": 3, "nir": 4}``).

Sensors (``sensor=``):

* ``"sentinel2"``: B3 green, B4 red, B8 NIR, B11 SWIR1 (B2 blue, B12 SWIR2). Level-2A
  reflectance = (DN + BOA_ADD_OFFSET) / 10000 with BOA_ADD_OFFSET = -1000 from processing
  baseline 04.00 (25 January 2022) on, 0 before it: pass ``boa_add_offset=True`` for such
  products. DN 0 is the product's NO_DATA value.
* ``"landsat89"``: Landsat 8/9 Collection 2 Level-2 surface reflectance, SR_B3 green, SR_B4
  red, SR_B5 NIR, SR_B6 SWIR1 (SR_B2 blue, SR_B7 SWIR2); reflectance = DN x 0.0000275 - 0.2;
  DN 0 is fill (USGS Landsat 8-9 Collection 2 Level-2 Science Product Guide).
* ``"custom"``: band roles from descriptions or the user's mapping; scale and offset from the
  user or from the file (GDAL scale/offset, or a ``SCALE`` / ``scale_factor`` tag).

Integer bands without a declared or stated scale are refused: the scale is never guessed.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import rasterio
from rasterio.windows import Window

from geodata.crs import require_crs
from geodata.errors import CRSMismatchError, DataError, GridError, NoDataError
from geodata.rasters import RasterInfo, nodata_mask, read_info

ROLES: tuple[str, ...] = ("blue", "green", "red", "nir", "swir1", "swir2")
Sensor = Literal["sentinel2", "landsat89", "custom"]

_NODATA_AUTO = "auto"


@dataclass(frozen=True)
class SensorSpec:
    """Band ids and the DN -> reflectance rule of one sensor product."""

    name: str
    band_ids: Mapping[str, tuple[str, ...]]  # role -> regexes of the sensor's band ids
    scale: float | None
    offset: float
    nodata: float | None  # the product's documented fill value
    source: str


def _ids(*names: str) -> tuple[str, ...]:
    return tuple(names)


SENSORS: dict[str, SensorSpec] = {
    "sentinel2": SensorSpec(
        name="sentinel2",
        band_ids={
            "blue": _ids("b0?2"), "green": _ids("b0?3"), "red": _ids("b0?4"),
            "nir": _ids("b0?8"), "swir1": _ids("b11"), "swir2": _ids("b12"),
        },
        scale=1e-4,
        offset=0.0,
        nodata=0.0,
        source="ESA Sentinel-2 L2A product specification: BOA = (DN + BOA_ADD_OFFSET) / "
        "QUANTIFICATION_VALUE (10000); BOA_ADD_OFFSET = -1000 from processing baseline 04.00; NO_DATA = 0",
    ),
    "landsat89": SensorSpec(
        name="landsat89",
        band_ids={
            "blue": _ids("(?:sr_)?b2"), "green": _ids("(?:sr_)?b3"), "red": _ids("(?:sr_)?b4"),
            "nir": _ids("(?:sr_)?b5"), "swir1": _ids("(?:sr_)?b6"), "swir2": _ids("(?:sr_)?b7"),
        },
        scale=2.75e-5,
        offset=-0.2,
        nodata=0.0,
        source="USGS Landsat 8-9 Collection 2 Level-2 Science Product Guide: SR = DN x 0.0000275 - 0.2; fill 0",
    ),
    "custom": SensorSpec(name="custom", band_ids={}, scale=None, offset=0.0, nodata=None, source="user"),
}
S2_BOA_ADD_OFFSET_DN = -1000.0
S2_QUANTIFICATION = 10_000.0

# Role words accepted in band descriptions and file names for every sensor.
_ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "blue": ("blue",), "green": ("green",), "red": ("red(?![ _-]*edge)",), "nir": ("nir",),
    "swir1": ("swir1", "swir16"), "swir2": ("swir2", "swir22"),
}


def _token_regex(pattern: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])")


@dataclass(frozen=True)
class BandSource:
    """One band of a band set: where it is and how DN become reflectance."""

    name: str
    path: Path
    index: int  # 1-based band number in ``path``
    scale: float
    offset: float
    nodata: float | None
    dtype: str
    description: str
    scale_origin: str  # "user", "file", "sensor <name>", "float data"


@dataclass(frozen=True)
class CloudMask:
    """Pixels of band ``index`` of ``path`` equal to one of ``values`` are masked."""

    path: Path
    index: int
    values: tuple[float, ...]


@dataclass(frozen=True)
class BandBlock:
    """Reflectance of one window: float32 arrays per band name, NaN where invalid.

    With ``halo > 0`` the arrays extend ``halo`` pixels beyond ``window`` on each side (NaN
    outside the image); ``core`` slices the window itself out of them.
    """

    window: Window
    halo: int
    arrays: Mapping[str, np.ndarray]
    valid: np.ndarray

    @property
    def core(self) -> tuple[slice, slice]:
        h, w = int(self.window.height), int(self.window.width)
        return (slice(self.halo, self.halo + h), slice(self.halo, self.halo + w))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]


@dataclass(frozen=True)
class BandSet:
    """Reflectance bands on one grid (see :func:`open_bands`)."""

    sources: tuple[BandSource, ...]
    grid: RasterInfo
    sensor: str
    cloud: CloudMask | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ description
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources)

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(s.path for s in self.sources))

    @property
    def label(self) -> str:
        """The file name(s), for messages."""
        return ", ".join(str(p) for p in self.paths)

    def source(self, name: str) -> BandSource:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def require(self, names: Sequence[str], *, purpose: str, hint: str = "") -> None:
        """Raise a :class:`DataError` naming the missing bands when ``names`` are not all here
        (``hint``: one more way out, appended to the fix)."""
        missing = [n for n in names if n not in self.names]
        if missing:
            raise DataError(
                self.label,
                f"{purpose} needs the band(s) {', '.join(missing)}, but the band set has only "
                f"{', '.join(self.names) or 'no named bands'}",
                "add the missing band file(s) on the same grid (e.g. Sentinel-2 B11 resampled to 10 m: "
                "gdalwarp -tr 10 10 -r bilinear B11.tif B11_10m.tif), name the bands with a band map "
                "(--band-map green=2,red=3,nir=4,swir1=5)" + (f", or {hint}" if hint else ""),
            )

    def describe(self) -> str:
        parts = [f"{s.name}=band {s.index} of {s.path.name} (x{s.scale:g}{s.offset:+g}, {s.scale_origin}; "
                 f"nodata {'none' if s.nodata is None else f'{s.nodata:g}'})" for s in self.sources]
        if self.cloud:
            parts.append(f"cloud mask: band {self.cloud.index} of {self.cloud.path.name} in {list(self.cloud.values)}")
        return "; ".join(parts)

    # ------------------------------------------------------------------ reading
    def windows(self, block_size: int = 512) -> list[Window]:
        """Row-major windows of at most ``block_size`` x ``block_size`` pixels covering the grid."""
        if block_size < 1:
            raise ValueError("block_size must be a positive number of pixels")
        h, w = self.shape
        return [
            Window(col, row, min(block_size, w - col), min(block_size, h - row))
            for row in range(0, h, block_size)
            for col in range(0, w, block_size)
        ]

    def read_window(self, window: Window, *, names: Sequence[str] | None = None, halo: int = 0) -> BandBlock:
        """Reflectance of ``window`` (+ ``halo`` pixels around it). Opens the files itself."""
        with ExitStack() as stack:
            opened = {p: stack.enter_context(rasterio.open(p)) for p in self._paths_for(names)}
            return self._read(opened, window, names=names, halo=halo)

    def iter_blocks(self, *, block_size: int = 512, names: Sequence[str] | None = None, halo: int = 0) -> Iterator[BandBlock]:
        """Yield :class:`BandBlock` for every window, keeping the files open meanwhile."""
        with ExitStack() as stack:
            opened = {p: stack.enter_context(rasterio.open(p)) for p in self._paths_for(names)}
            for w in self.windows(block_size):
                yield self._read(opened, w, names=names, halo=halo)

    def read_all(self, *, names: Sequence[str] | None = None) -> BandBlock:
        """The whole grid in one block (small rasters and tests only)."""
        h, w = self.shape
        return self.read_window(Window(0, 0, w, h), names=names)

    def to_dask(self, *, block_size: int = 512, names: Sequence[str] | None = None) -> dict:
        """Lazy dask arrays per band name, one task per window that opens the files by path."""
        import dask
        import dask.array as da

        names = tuple(names or self.names)
        h, w = self.shape
        rows = []
        for row in range(0, h, block_size):
            cols = []
            for col in range(0, w, block_size):
                win = Window(col, row, min(block_size, w - col), min(block_size, h - row))
                task = dask.delayed(_stack_window, pure=True)(self, win, names)
                cols.append(da.from_delayed(task, shape=(len(names), int(win.height), int(win.width)), dtype="float32"))
            rows.append(cols)
        stacked = da.block([[c for c in r] for r in rows])
        return {n: stacked[i] for i, n in enumerate(names)}

    def _paths_for(self, names: Sequence[str] | None) -> list[Path]:
        srcs = self._selected(names)
        paths = list(dict.fromkeys(s.path for s in srcs))
        if self.cloud is not None and self.cloud.path not in paths:
            paths.append(self.cloud.path)
        return paths

    def _selected(self, names: Sequence[str] | None) -> list[BandSource]:
        if names is None:
            return list(self.sources)
        self.require(list(names), purpose="this step")
        return [self.source(n) for n in names]

    def _read(self, opened: Mapping[Path, rasterio.DatasetReader], window: Window, *, names: Sequence[str] | None, halo: int) -> BandBlock:
        h, w = self.shape
        r0, c0 = int(window.row_off) - halo, int(window.col_off) - halo
        oh, ow = int(window.height) + 2 * halo, int(window.width) + 2 * halo
        # the part of the padded window that lies on the image
        rr0, cc0 = max(r0, 0), max(c0, 0)
        rr1, cc1 = min(r0 + oh, h), min(c0 + ow, w)
        inner = Window(cc0, rr0, max(cc1 - cc0, 0), max(rr1 - rr0, 0))
        dst = (slice(rr0 - r0, rr1 - r0), slice(cc0 - c0, cc1 - c0))
        valid = np.zeros((oh, ow), dtype=bool)
        valid[dst] = True
        srcs = self._selected(names)
        raw: dict[str, np.ndarray] = {}
        by_path: dict[Path, list[BandSource]] = {}
        for s in srcs:
            by_path.setdefault(s.path, []).append(s)
        for path, group in by_path.items():
            data = opened[path].read([s.index for s in group], window=inner)
            for s, band in zip(group, data):
                raw[s.name] = band
                valid[dst] &= ~nodata_mask(band, s.nodata)
        if self.cloud is not None:
            m = opened[self.cloud.path].read(self.cloud.index, window=inner)
            valid[dst] &= ~np.isin(m, np.asarray(self.cloud.values, dtype=m.dtype if m.dtype.kind == "f" else "float64"))
        arrays: dict[str, np.ndarray] = {}
        for s in srcs:
            out = np.full((oh, ow), np.nan, dtype="float32")
            band = raw[s.name].astype("float32")
            if s.scale != 1.0 or s.offset != 0.0:
                band = band * np.float32(s.scale) + np.float32(s.offset)
            out[dst] = band
            out[~valid] = np.nan
            arrays[s.name] = out
        return BandBlock(window=window, halo=halo, arrays=arrays, valid=valid)


def _stack_window(bandset: BandSet, window: Window, names: Sequence[str]) -> np.ndarray:
    block = bandset.read_window(window, names=names)
    return np.stack([block.arrays[n] for n in names])


# ---------------------------------------------------------------------------- opening


@dataclass(frozen=True)
class _Candidate:
    path: Path
    index: int
    description: str
    single: bool  # the only band of its file (its file name may say what it is)

    @property
    def text(self) -> str:
        t = self.description.lower()
        if self.single:
            t += " " + self.path.stem.lower()
        return t

    @property
    def label(self) -> str:
        d = f" '{self.description}'" if self.description else ""
        return f"band {self.index}{d} of {self.path.name}"


def _matches(c: _Candidate, role: str, patterns: Sequence[str]) -> bool:
    return any(_token_regex(p).search(c.text) for p in patterns)


def _detect(cands: list[_Candidate], spec: SensorSpec) -> dict[str, _Candidate]:
    """Roles by the sensor's band ids first, then by role words (``red``, ``nir``, ...)."""
    found: dict[str, _Candidate] = {}
    for role in ROLES:
        hits: list[_Candidate] = []
        for patterns in (spec.band_ids.get(role, ()), _ROLE_WORDS[role]):
            hits = [c for c in cands if patterns and _matches(c, role, patterns)]
            if hits:
                break
        if len(hits) > 1:
            raise DataError(
                ", ".join(dict.fromkeys(str(c.path) for c in hits)),
                f"several bands look like {role}: {'; '.join(c.label for c in hits)}",
                f"say which one with a band map, e.g. --band-map {role}=<band number> (bands={{'{role}': n}})",
            )
        if hits:
            found[role] = hits[0]
    for role, c in found.items():
        others = [r for r, d in found.items() if d is c and r != role]
        if others:
            raise DataError(c.path, f"{c.label} matches several roles ({role}, {', '.join(others)})",
                            "give a band map (--band-map green=1,red=2,nir=3,swir1=4)")
    return found


def _pick(cands: list[_Candidate], key: int | str, name: str, spec: SensorSpec) -> _Candidate:
    label = ", ".join(dict.fromkeys(str(c.path) for c in cands))
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if not 1 <= int(key) <= len(cands):
            raise DataError(label, f"band {key} asked for '{name}', but there are only {len(cands)} bands", "number bands from 1, in the order the files are given")
        return cands[int(key) - 1]
    k = str(key).strip()
    if k.isdigit():
        return _pick(cands, int(k), name, spec)
    exact = [c for c in cands if c.description.lower() == k.lower()]
    if len(exact) == 1:
        return exact[0]
    rx = _token_regex(re.escape(k.lower()))
    hits = [c for c in cands if rx.search(c.text)]
    if len(hits) == 1:
        return hits[0]
    if k.lower() in ROLES:
        hits = [c for c in cands if _matches(c, k.lower(), tuple(spec.band_ids.get(k.lower(), ())) + _ROLE_WORDS[k.lower()])]
        if len(hits) == 1:
            return hits[0]
    for role, pats in spec.band_ids.items():  # "B4" for a file called ..._B04_...
        if any(re.fullmatch(p, k.lower()) for p in pats):
            hits = [c for c in cands if _matches(c, role, pats)]
            if len(hits) == 1:
                return hits[0]
    raise DataError(
        label,
        f"'{k}' (asked for '{name}') matches {len(hits)} bands; the bands are: " + "; ".join(c.label for c in cands),
        "give the band number instead (1-based, in file order), e.g. --band-map red=3",
    )


def _float(value: str, path: Path, tag: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise DataError(path, f"its {tag} tag '{value}' is not a number", f"fix the tag: gdal_edit.py -mo {tag}=0.0001 {path.name}") from exc


def _file_scale(ds: rasterio.DatasetReader, index: int, path: Path) -> tuple[float, float] | None:
    """Scale and offset the file declares for a band, or None."""
    sc, off = ds.scales[index - 1], ds.offsets[index - 1]
    if (sc not in (None, 1.0)) or (off not in (None, 0.0)):
        return float(sc if sc is not None else 1.0), float(off if off is not None else 0.0)
    for tags in (ds.tags(index), ds.tags()):
        low = {k.lower(): (k, v) for k, v in tags.items()}
        for skey in ("scale", "scale_factor"):
            if skey in low:
                k, v = low[skey]
                s = _float(v, path, k)
                o = 0.0
                for okey in ("offset", "add_offset"):
                    if okey in low:
                        o = _float(low[okey][1], path, low[okey][0])
                return s, o
    return None


def _check_band_grid(info: RasterInfo, ref: RasterInfo, *, categorical: bool = False) -> None:
    """Every band (and the cloud mask) must be on the grid of the first band, exactly."""
    res = abs(ref.transform.a)
    left, bottom, right, top = ref.bounds
    epsg = ref.crs.to_epsg()
    srs = f"EPSG:{epsg}" if epsg else "<the CRS of the first band>"
    how = "near" if categorical else "bilinear"
    warp = (f"gdalwarp -t_srs {srs} -tr {res:g} {res:g} -te {left:.3f} {bottom:.3f} {right:.3f} {top:.3f} "
            f"-r {how} {info.path.name} {info.path.stem}_on_grid.tif")
    if info.crs != ref.crs:
        raise CRSMismatchError(
            info.path,
            f"its CRS {info.crs.to_string()} differs from {ref.crs.to_string()} of {ref.path}",
            f"reproject it onto the grid of {ref.path.name}: {warp}",
        )
    if not info.same_grid(ref):
        raise GridError(
            info.path,
            f"its grid ({info.width}x{info.height} px of {abs(info.transform.a):g} m, origin "
            f"{info.transform.c:.3f}, {info.transform.f:.3f}) differs from {ref.path} "
            f"({ref.width}x{ref.height} px of {res:g} m, origin {ref.transform.c:.3f}, {ref.transform.f:.3f}); "
            "bands must share one grid pixel for pixel",
            f"resample it onto the grid of {ref.path.name} ({'nearest neighbour for a mask' if categorical else 'bilinear for reflectance'}): {warp}",
        )


def _as_paths(paths: str | Path | Sequence[str | Path] | Mapping[str, str | Path]) -> tuple[list[Path], dict[str, int] | None]:
    """Paths in order, and for a name -> file mapping the band map it implies."""
    if isinstance(paths, Mapping):
        plist, bmap = [], {}
        for name, p in paths.items():
            plist.append(Path(p))
            bmap[str(name)] = len(plist)  # provisional: first band of that file, fixed below
        return plist, bmap
    if isinstance(paths, (str, Path)):
        return [Path(paths)], None
    return [Path(p) for p in paths], None


def open_bands(
    paths: str | Path | Sequence[str | Path] | Mapping[str, str | Path],
    *,
    sensor: Sensor = "custom",
    bands: Mapping[str, int | str] | None = None,
    scale: float | None = None,
    offset: float | None = None,
    boa_add_offset: bool = False,
    nodata: float | None | str = _NODATA_AUTO,
    cloud_mask: str | Path | None = None,
    cloud_band: int = 1,
    cloud_values: Sequence[float] | None = None,
    check_valid: bool = True,
) -> BandSet:
    """Open reflectance bands from one multiband file or several single-band files.

    Parameters
    ----------
    paths
        One file, several files (their bands are numbered 1.. in order, across files), or a
        mapping band name -> single-band file.
    sensor
        ``"sentinel2"``, ``"landsat89"`` or ``"custom"`` (see the module docstring).
    bands
        Band name -> 1-based band number or band id / description (``{"nir": "B08"}``).
        Default: detect the roles from descriptions / file names; if none is found, every
        band under its description.
    scale, offset
        Reflectance = DN x ``scale`` + ``offset`` (unitless reflectance). Overrides what the file
        declares and the sensor preset.
    boa_add_offset
        Sentinel-2 L2A of processing baseline >= 04.00: apply BOA_ADD_OFFSET = -1000 DN.
    nodata
        ``"auto"``: the value each file declares, else the sensor's documented fill value;
        a number: that value for every band; ``None``: the bands have no fill value.
    cloud_mask, cloud_band, cloud_values
        A raster on the same grid (may be one of ``paths``) whose band ``cloud_band`` flags
        pixels to drop where it equals one of ``cloud_values`` (e.g. Sentinel-2 SCL 3,8,9,10).
    check_valid
        Refuse a band set with no valid pixel (all nodata or all cloud).

    Raises
    ------
    DataError
        unreadable file or missing CRS; ``CRSMismatchError`` / ``GridError`` when bands or the
        mask are on different grids; integer bands without a scale; implausible reflectance;
        no nodata declared for integer bands; ``NoDataError`` when no pixel is valid.
    """
    if sensor not in SENSORS:
        raise ValueError(f"sensor must be one of {', '.join(SENSORS)}, not {sensor!r}")
    if boa_add_offset and sensor != "sentinel2":
        raise ValueError("boa_add_offset applies to Sentinel-2 L2A only (sensor='sentinel2')")
    spec = SENSORS[sensor]
    plist, implied = _as_paths(paths)
    if not plist:
        raise ValueError("give at least one band file")
    infos = [read_info(p) for p in plist]
    for info in infos[1:]:
        _check_band_grid(info, infos[0])

    cands: list[_Candidate] = []
    first_of: dict[Path, int] = {}
    for info in infos:
        with rasterio.open(info.path) as ds:
            first_of.setdefault(info.path, len(cands) + 1)
            for i, d in enumerate(ds.descriptions, 1):
                cands.append(_Candidate(info.path, i, (d or "").strip(), ds.count == 1))

    if implied is not None:  # name -> file: band 1 of each single-band file
        for name, k in implied.items():
            if infos[k - 1].count != 1 and not (bands and name in bands):
                raise DataError(plist[k - 1], f"'{name}' is given as this file, but it has {infos[k - 1].count} bands",
                                f"give single-band files, or say which band: bands={{'{name}': n}} / --band-map {name}=n")
        chosen = {name: cands[first_of[plist[k - 1]] - 1] for name, k in implied.items()}
        if bands:
            chosen.update({name: _pick(cands, key, name, spec) for name, key in bands.items()})
    elif bands:
        chosen = {str(name): _pick(cands, key, str(name), spec) for name, key in bands.items()}
    else:
        chosen = _detect(cands, spec)
        if not chosen:
            if sensor != "custom":
                raise DataError(
                    ", ".join(map(str, plist)),
                    f"no band could be recognised as a {sensor} band (descriptions: "
                    + "; ".join(c.label for c in cands) + ")",
                    "give a band map, e.g. --band-map green=1,red=2,nir=3,swir1=4",
                )
            chosen = {}
            for c in cands:
                name = c.description or (f"band{c.index}" if len(plist) == 1 else f"{c.path.stem}_band{c.index}")
                while name in chosen:
                    name += "_"
                chosen[name] = c
    seen: dict[tuple[Path, int], str] = {}
    for name, c in chosen.items():
        if (c.path, c.index) in seen:
            raise DataError(c.path, f"{c.label} is given both as '{seen[(c.path, c.index)]}' and as '{name}'", "map each name to a different band")
        seen[(c.path, c.index)] = name

    notes: list[str] = []
    sources: list[BandSource] = []
    # keep a stable order: the roles first in spectral order, then the rest as given
    order = sorted(chosen, key=lambda n: (ROLES.index(n) if n in ROLES else len(ROLES), list(chosen).index(n)))
    for name in order:
        c = chosen[name]
        with rasterio.open(c.path) as ds:
            dtype = ds.dtypes[c.index - 1]
            declared_nodata = ds.nodatavals[c.index - 1]
            file_pair = _file_scale(ds, c.index, c.path)
        is_int = np.issubdtype(np.dtype(dtype), np.integer)
        s, o, origin = _resolve_scale(c, spec, dtype, file_pair, scale, offset, boa_add_offset)
        nd = _resolve_nodata(c, spec, is_int, declared_nodata, nodata)
        if declared_nodata is None and nd is not None and isinstance(nodata, str):
            notes.append(f"{c.label}: no nodata declared; {nd:g} is the {spec.name} product's fill value")
        sources.append(BandSource(name=name, path=c.path, index=c.index, scale=s, offset=o, nodata=nd,
                                  dtype=dtype, description=c.description, scale_origin=origin))

    cloud = None
    if cloud_mask is not None:
        if not cloud_values:
            raise ValueError("cloud_values must list the mask values that mean cloud / shadow / invalid")
        minfo = read_info(cloud_mask)
        _check_band_grid(minfo, infos[0], categorical=True)
        if not 1 <= cloud_band <= minfo.count:
            raise DataError(minfo.path, f"it has {minfo.count} band(s), not band {cloud_band}", "give the mask's band number with --cloud-band")
        cloud = CloudMask(path=minfo.path, index=int(cloud_band), values=tuple(float(v) for v in cloud_values))

    bs = BandSet(sources=tuple(sources), grid=infos[0], sensor=sensor, cloud=cloud, notes=tuple(notes))
    sample, _ = _decimated(bs)
    _check_plausible(bs, sample)
    if check_valid and not sample.valid.any():
        _check_some_valid(bs)
    return bs


def _resolve_scale(c: _Candidate, spec: SensorSpec, dtype: str, file_pair, scale, offset, boa) -> tuple[float, float, str]:
    is_int = np.issubdtype(np.dtype(dtype), np.integer)
    sensor_pair = None
    if spec.scale is not None:
        sensor_pair = (spec.scale, S2_BOA_ADD_OFFSET_DN / S2_QUANTIFICATION if boa else spec.offset)
    if scale is not None:
        s = float(scale)
        if offset is not None:
            o = float(offset)
        elif file_pair is not None:
            o = file_pair[1]
        elif sensor_pair is not None:
            o = sensor_pair[1]
        else:
            o = 0.0
        return s, o, "user"
    if file_pair is not None:
        if sensor_pair is not None and not (math.isclose(file_pair[0], sensor_pair[0], rel_tol=1e-6)
                                            and math.isclose(file_pair[1], sensor_pair[1], rel_tol=1e-6, abs_tol=1e-9)):
            raise DataError(
                c.path,
                f"{c.label} declares reflectance = DN x {file_pair[0]:g} {file_pair[1]:+g}, but the {spec.name} "
                f"rule is DN x {sensor_pair[0]:g} {sensor_pair[1]:+g}",
                "say which is right: give --scale and --offset explicitly, or choose --sensor custom to use the file's values",
            )
        return file_pair[0], (float(offset) if offset is not None else file_pair[1]), "file"
    if sensor_pair is not None:
        return sensor_pair[0], (float(offset) if offset is not None else sensor_pair[1]), f"sensor {spec.name}"
    if is_int:
        raise DataError(
            c.path,
            f"{c.label} holds {dtype} integers and declares no scale, so reflectance cannot be known "
            "(DN x 0.0001 for Sentinel-2 L2A, x 0.0000275 - 0.2 for Landsat C2 L2, ...); it is never guessed",
            "state it: --sensor sentinel2 | landsat89, or --scale 0.0001 [--offset 0] "
            f"(scale=..., offset=...), or tag the file: gdal_edit.py -scale 0.0001 {c.path.name}",
        )
    return 1.0, (float(offset) if offset is not None else 0.0), "float data"


def _resolve_nodata(c: _Candidate, spec: SensorSpec, is_int: bool, declared, nodata) -> float | None:
    if nodata is None:
        return None
    if not (isinstance(nodata, str) and nodata == _NODATA_AUTO):
        return float(nodata)
    if declared is not None:
        return float(declared)
    if spec.nodata is not None:
        return spec.nodata
    if is_int:
        raise NoDataError(
            c.path,
            f"{c.label} is an integer band without a declared nodata value, so fill pixels (0, 65535, ...) "
            "would be read as reflectance",
            f"declare it (gdal_edit.py -a_nodata 0 {c.path.name}), state it (--nodata 0), or say there is none (--nodata none)",
        )
    return None  # float: NaN is the fill


_SAMPLE_PX = 512


def _decimated(bs: BandSet) -> tuple[BandBlock, np.ndarray]:
    """A nearest-neighbour sample of at most 512 x 512 pixels of the whole grid, and where it
    holds data (before the cloud mask)."""
    h, w = bs.shape
    return read_decimated(bs, out_shape=(min(h, _SAMPLE_PX), min(w, _SAMPLE_PX)))


def read_decimated(bs: BandSet, *, out_shape: tuple[int, int]) -> tuple[BandBlock, np.ndarray]:
    """The whole grid read at ``out_shape`` (nearest neighbour, GDAL overviews when present),
    scaled like :meth:`BandSet.read_window` (DN x scale + offset). Returns the block (its
    ``valid`` excludes nodata and clouds; arrays are not NaN-masked) and where it holds data
    before the cloud mask. For previews and plausibility checks, never for statistics."""
    oh, ow = out_shape
    valid = np.ones((oh, ow), dtype=bool)
    arrays = {}
    by_path: dict[Path, list[BandSource]] = {}
    for s in bs.sources:
        by_path.setdefault(s.path, []).append(s)
    raw = {}
    for path, group in by_path.items():
        with rasterio.open(path) as ds:
            data = ds.read([s.index for s in group], out_shape=(len(group), oh, ow))
        for s, band in zip(group, data):
            raw[s.name] = band
            valid &= ~nodata_mask(band, s.nodata)
    cloud_free = valid.copy()
    if bs.cloud is not None:
        with rasterio.open(bs.cloud.path) as ds:
            m = ds.read(bs.cloud.index, out_shape=(oh, ow))
        cloud_free &= ~np.isin(m, np.asarray(bs.cloud.values))
    for s in bs.sources:
        arrays[s.name] = raw[s.name].astype("float32") * np.float32(s.scale) + np.float32(s.offset)
    return BandBlock(window=Window(0, 0, ow, oh), halo=0, arrays=arrays, valid=cloud_free), valid


def _check_plausible(bs: BandSet, block: BandBlock) -> None:
    """Reflectance of the spectral bands must look like reflectance once scaled."""
    for s in bs.sources:
        if s.name not in ROLES:
            continue
        v = block.arrays[s.name][block.valid]
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        med = float(np.median(v))
        if not -0.5 <= med <= 1.5:
            raise DataError(
                s.path,
                f"band '{s.name}' ({s.description or 'band ' + str(s.index)}) has a median of {med:g} after scaling "
                f"(DN x {s.scale:g} {s.offset:+g}, {s.scale_origin}); surface reflectance lies between 0 and about 1",
                "state the right scale: --scale 0.0001 for reflectance x 10000 (Sentinel-2 L2A), or --sensor landsat89",
            )


def count_valid(bs: BandSet, *, block_size: int = 1024) -> tuple[int, int]:
    """Exact (valid pixels, pixels that are data but cloud-masked), one pass over the grid."""
    n_valid = n_cloud = 0
    for block in bs.iter_blocks(block_size=block_size):
        n_valid += int(block.valid.sum())
    if bs.cloud is not None:
        no_cloud = BandSet(sources=bs.sources, grid=bs.grid, sensor=bs.sensor)
        n_data = sum(int(b.valid.sum()) for b in no_cloud.iter_blocks(block_size=block_size))
        n_cloud = n_data - n_valid
    return n_valid, n_cloud


def _check_some_valid(bs: BandSet) -> None:
    """Exact check, run only when the decimated sample found no valid pixel."""
    n_valid, n_cloud = count_valid(bs)
    if n_valid:
        return
    if bs.cloud is not None and n_cloud:
        raise NoDataError(
            bs.cloud.path,
            f"every pixel with data is masked: band {bs.cloud.index} equals one of {list(bs.cloud.values)} "
            f"on all {n_cloud:,} of them (all cloud)",
            "choose a clearer scene, or check --cloud-values (e.g. Sentinel-2 SCL: 3 shadow, 8/9 cloud, 10 cirrus)",
        )
    nds = sorted({str(s.nodata) for s in bs.sources})
    raise NoDataError(
        bs.label,
        f"every pixel is nodata (nodata value(s) {', '.join(nds)} or NaN in at least one band)",
        "check that this is the right file and that the nodata value is right (gdalinfo -stats)",
    )


# ---------------------------------------------------------------------------- band math


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b) as float32, NaN where an input is NaN or a + b == 0, clipped to [-1, 1].

    The one formula behind NDVI, NDWI and MNDWI (``sinks.landcover.indices``) and the wetland
    water test (``wetlands.patches``).
    """
    a = np.asarray(a, dtype="float32")
    b = np.asarray(b, dtype="float32")
    den = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / den
    out[den == 0] = np.nan
    np.clip(out, -1.0, 1.0, out=out)  # NaN stays NaN
    return out


# ---------------------------------------------------------------------------- writing


def output_profile(grid: RasterInfo, *, count: int, dtype: str, nodata: float | None) -> dict:
    """GeoTIFF profile on ``grid``: tiled 256 x 256, DEFLATE with the matching predictor."""
    prof = dict(
        driver="GTiff", width=grid.width, height=grid.height, count=count, dtype=dtype,
        crs=require_crs(grid.crs, grid.path), transform=grid.transform, nodata=nodata,
        tiled=True, blockxsize=256, blockysize=256, compress="deflate",
        predictor=3 if np.dtype(dtype).kind == "f" else 2, BIGTIFF="IF_SAFER", interleave="band",
    )
    return prof
