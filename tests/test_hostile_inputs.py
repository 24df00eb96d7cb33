"""Every reader fed broken, hostile and edge-case input (issue 10), as one table.

A row is (reader, case, variant, how the input is made, what must happen). Every row asserts
the same things:

1. the reader raises the expected :class:`~geodata.errors.DataError` subclass (any other
   exception, a bare ``ValueError`` or ``TypeError`` included, fails the row), or, where the
   reader's documented outcome is a rejected row rather than an error (point lists), returns
   with those rows rejected under the expected code;
2. the message names the file, its problem holds the expected words, a fix is given, no
   traceback is embedded and it stays short (an enormous field is never echoed back);
3. nothing is left behind: the input folder and a private temporary folder (``TMPDIR``,
   GDAL's ``CPL_TMPDIR``) hold the same files, with the same sizes and times, before and after.

Cases that no reader can decide alone (GCJ-02 coordinates not declared: without a reference,
GCJ-02 lon/lat look like any other lon/lat) are covered by the declared-coordinates choice:
:func:`test_gcj02_is_converted_only_when_declared` checks both branches of that choice.

Rows marked ``xfail(strict=True)`` are defects found in readers owned elsewhere: they fail
today and will flag themselves (XPASS -> failure) once fixed, so the row can lose its mark.

The number of cases per reader is written to ``test-artifacts/hostile_inputs.json``.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from geodata.bands import open_bands
from geodata.errors import (DataError, EmptyResultError, GeometryError, MissingCRSError, SchemaError,
                            UnsafeInputError)
from geodata.points import read_points
from geodata.rasters import check_categorical, read_info
from geodata.vectors import load_zones
from sinks.config import load_config
from sinks.landcover.classify import extract_samples
from sinks.ledger.inventory import load_emissions
from tests.conftest import LC_T0, ORIGIN_X, ORIGIN_Y, PX, ROOT, UTM50, write_raster

ARTIFACT = ROOT / "test-artifacts" / "hostile_inputs.json"
pytestmark = [
    pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning"),  # building the no-CRS inputs
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),  # shapely on the NaN vertices
]

# --------------------------------------------------------------------------- building inputs


@dataclass(frozen=True)
class Input:
    """What a reader is given: a path or bytes, the name it is told (bytes only) and extras."""

    source: Path | bytes
    name: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name if self.name is not None else Path(self.source).name


def _file(tmp: Path, name: str, data: bytes | str) -> Input:
    p = tmp / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Input(p)


def _cut(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


ZEROS = b"\0" * (2 * 2**20)  # deflates ~1000x: a zip bomb's member
SQUARE = shapely.box(118.60, 32.05, 118.62, 32.07)  # in Pukou, lon/lat
HTML = b"<!DOCTYPE html><html><body>404 Not Found</body></html>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
VRT = b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>'


def _zones(geoms=(SQUARE,), crs=4326, ids=None) -> gpd.GeoDataFrame:
    ids = ids or [f"z{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"zone_id": ids}, geometry=list(geoms), crs=crs)


def _gpkg(tmp: Path, gdf: gpd.GeoDataFrame, name: str = "layer.gpkg") -> Path:
    p = tmp / name
    gdf.to_file(p, layer="zones", driver="GPKG")
    return p


def _shp_parts(tmp: Path, gdf: gpd.GeoDataFrame, **kw) -> dict[str, bytes]:
    d = Path(tempfile.mkdtemp(dir=tmp, prefix="shp"))
    gdf.to_file(d / "zones.shp", **kw)
    parts = {f.name: f.read_bytes() for f in sorted(d.iterdir())}
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    return parts


def _geojson(features: str) -> bytes:
    return ('{"type": "FeatureCollection", "features": [%s]}' % features).encode()


def _feature(coords: str, zone_id: str = "a") -> str:
    return '{"type": "Feature", "properties": {"zone_id": "%s"}, "geometry": {"type": "Polygon", "coordinates": %s}}' % (zone_id, coords)


def _sparse_tif(path: Path, *, width: int, height: int, count: int = 1, dtype: str = "uint8") -> Input:
    """A GeoTIFF header claiming ``width`` x ``height`` pixels with no block written (a few KB)."""
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=count, dtype=dtype, crs=UTM50,
                       transform=Affine(10, 0, 600000, 0, -10, 3600000), nodata=0, tiled=True, blockxsize=16384,
                       blockysize=16384, sparse_ok=True, compress="deflate", bigtiff="YES"):
        pass
    assert path.stat().st_size < 200_000
    return Input(path)


def _tif_bytes(tmp: Path) -> bytes:
    rng = np.random.default_rng(0)
    arr = rng.choice(np.array([10, 40, 50, 80], dtype="uint8"), size=(256, 256))
    p = write_raster(tmp / "whole.tif", arr)
    data = p.read_bytes()
    p.unlink()
    return data


# Inventory tables
INV_HEADER = "year,sector,emissions_tco2e,source\n"
INV_ROW = "2020,industry,1,statistical yearbook\n"


def _xlsx(tmp: Path, rows: list[list], *, extra: dict[str, bytes] | None = None,
          replace: dict[str, bytes | None] | None = None) -> bytes:
    """A workbook written by openpyxl, then parts added (``extra``), replaced or removed (None)."""
    import openpyxl

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    if not extra and not replace:
        return buf.getvalue()
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    parts = {i.filename: src.read(i) for i in src.infolist()}
    for k, v in (replace or {}).items():
        if v is None:
            parts.pop(k)
        else:
            parts[k] = v
    parts.update(extra or {})
    return _zip(parts)


INV_ROWS = [["year", "sector", "emissions_tco2e", "source"], [2020, "industry", 1.0, "yearbook"]]
SHEET = "xl/worksheets/sheet1.xml"
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
          + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
          + b'<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
XXE = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
       b'<c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>')


# Training samples: 4 reflectance bands on a 10 x 10 grid, points at pixel centres
def _bands(tmp: Path) -> Path:
    rng = np.random.default_rng(1)
    dn = rng.integers(100, 3000, size=(4, 10, 10)).astype("uint16")
    return write_raster(tmp / "bands.tif", dn, nodata=0, tags={"SCALE": "0.0001"}, descriptions=["green", "red", "nir", "swir1"])


def _samples(tmp: Path, gdf: gpd.GeoDataFrame | None = None, *, name: str = "samples.gpkg", data: bytes | None = None) -> Input:
    bands = _bands(tmp)
    p = tmp / name
    if data is not None:
        p.write_bytes(data)
    else:
        if gdf is None:
            xs = ORIGIN_X + (np.arange(6) + 0.5) * PX
            gdf = gpd.GeoDataFrame({"cls": [10, 10, 40, 40, 80, 80]}, geometry=gpd.points_from_xy(xs, np.full(6, ORIGIN_Y - 45)), crs=UTM50)
        gdf.to_file(p, layer="samples", driver="GPKG")
    return Input(p, extra={"bands": bands})


def _sample_points(xy, crs=UTM50, cls=(10,)) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"cls": list(cls) * len(xy)}, geometry=[shapely.Point(x, y) for x, y in xy], crs=crs)


# Run configurations
CFG = 'landcover.years = {2020 = "lc_2020.tif"}\n[coefficients]\npath = "coef.csv"\n'

# ----------------------------------------------------------------------------------- readers


def _read_samples(inp: Input):
    return extract_samples(open_bands(inp.extra.get("bands_override", inp.extra["bands"])), inp.source, class_field="cls", min_per_class=1)


READERS: dict[str, Callable[[Input], object]] = {
    "raster (land cover)": lambda i: check_categorical(read_info(i.source)),
    "vector file (GeoPackage / GeoJSON / zip on disk)": lambda i: load_zones(i.source, id_field="zone_id", **i.extra),
    "zipped shapefile upload": lambda i: load_zones(i.source, id_field="zone_id", name=i.name, **i.extra),
    "GeoPackage upload": lambda i: load_zones(i.source, id_field="zone_id", name=i.name),
    "GeoJSON upload": lambda i: load_zones(i.source, id_field="zone_id", name=i.name, **i.extra),
    "CSV inventory": lambda i: load_emissions(i.source, name=i.name),
    "Excel inventory": lambda i: load_emissions(i.source, name=i.name),
    "training samples": _read_samples,
    "reference points (CSV)": lambda i: read_points(i.source, name=i.name, **i.extra),
    "run configuration (TOML)": lambda i: load_config(i.source),
}


@dataclass(frozen=True)
class Case:
    reader: str
    case: str  # the kind of bad input, as the issue lists them
    variant: str
    build: Callable[[Path], Input]
    error: type[DataError] | None  # None: the rows are rejected (``words`` = the reason code)
    words: str  # must appear in the problem (or be the rejection code)
    patch: tuple[tuple[str, str, object], ...] = ()  # (module, attribute, value) for the case
    defect: str | None = None  # a known defect of a reader owned elsewhere: xfail(strict)


R, V, Z, G, J = ("raster (land cover)", "vector file (GeoPackage / GeoJSON / zip on disk)", "zipped shapefile upload",
                 "GeoPackage upload", "GeoJSON upload")
C, X, T, P, F = "CSV inventory", "Excel inventory", "training samples", "reference points (CSV)", "run configuration (TOML)"

NAN_SQUARE = "[[[118.6, 32.0], [NaN, 32.0], [118.7, 32.1], [118.6, 32.0]]]"
LINE_SQUARE = "[[[118.6, 32.0], [118.7, 32.0], [118.8, 32.0], [118.6, 32.0]]]"  # no area: make_valid leaves a line
SQUARE_COORDS = "[[[118.6, 32.05], [118.62, 32.05], [118.62, 32.07], [118.6, 32.07], [118.6, 32.05]]]"
CASES: list[Case] = [
    # --------------------------------------------------------------- rasters
    Case(R, "huge dimensions", "10^6 x 10^6 px header", lambda t: _sparse_tif(t / "huge.tif", width=10**6, height=10**6),
         UnsafeInputError, "over the limit"),
    Case(R, "huge dimensions", "1.6 Gpx x 2 float64 bands (bytes)",
         lambda t: _sparse_tif(t / "heavy.tif", width=40_000, height=40_000, count=2, dtype="float64"), UnsafeInputError, "uncompressed"),
    Case(R, "truncated", "GeoTIFF cut in half", lambda t: _file(t, "half.tif", _cut(_tif_bytes(t))), DataError, "cut short"),
    Case(R, "truncated", "header only (200 bytes)", lambda t: _file(t, "stub.tif", _tif_bytes(t)[:200]), DataError, "cannot read"),
    Case(R, "wrong magic bytes", "HTML error page saved as .tif", lambda t: _file(t, "page.tif", HTML), DataError, "cannot read"),
    Case(R, "wrong magic bytes", "empty file", lambda t: _file(t, "empty.tif", b""), DataError, "cannot read"),
    Case(R, "zip bomb", "zip bomb renamed .tif (never unpacked)", lambda t: _file(t, "bomb.tif", _zip({"zeros.bin": ZEROS})),
         DataError, "cannot read"),
    Case(R, "no CRS", "GeoTIFF without CRS", lambda t: Input(write_raster(t / "nocrs.tif", LC_T0, crs=None)), MissingCRSError,
         "no coordinate reference system"),
    Case(R, "wrong CRS", "UTM metres labelled EPSG:4326", lambda t: Input(write_raster(t / "metres_4326.tif", LC_T0, crs="EPSG:4326")),
         DataError, "projected metres"),
    Case(R, "NaN/inf", "float land cover holding NaN and inf",
         lambda t: Input(write_raster(t / "nan.tif", np.array([[np.nan, np.inf], [10, 40]], dtype="float32"), nodata=None)),
         DataError, "integer class codes"),
    # --------------------------------------------------------------- vector files on disk
    Case(V, "truncated", "GeoPackage cut in half", lambda t: _file(t, "cut.gpkg", _cut(_gpkg(t, _zones(), "w.gpkg").read_bytes())),
         DataError, "cannot read"),
    Case(V, "wrong magic bytes", "CSV text saved as .gpkg", lambda t: _file(t, "text.gpkg", "zone_id,x\na,1\n"), DataError, "cannot read"),
    Case(V, "zip-slip", "../ member in a zip on disk", lambda t: _file(t, "slip.zip", _zip({**_shp_parts(t, _zones()), "../../evil.shp": b"x"})),
         UnsafeInputError, "parent-directory"),
    Case(V, "zip bomb", "zip bomb on disk named .geojson", lambda t: _file(t, "bomb.geojson", _zip({**_shp_parts(t, _zones()), "z.dbf.bak": ZEROS})),
         UnsafeInputError, "zip bomb"),
    Case(V, "no CRS", "GeoPackage without CRS", lambda t: Input(_gpkg(t, _zones(crs=None), "nocrs.gpkg")), MissingCRSError,
         "no coordinate reference system"),
    Case(V, "wrong CRS", "metres labelled EPSG:4326", lambda t: Input(_gpkg(t, _zones([shapely.box(660000, 3550000, 661000, 3551000)]), "m.gpkg")),
         DataError, "projected metres"),
    Case(V, "GCJ-02 not declared", "GCJ-02 declared for projected data",
         lambda t: Input(_gpkg(t, _zones([SQUARE]).to_crs(UTM50), "utm.gpkg"), extra={"coord_system": "gcj02"}), DataError, "lon/lat systems"),
    Case(V, "invalid geometries", "polygon with no area", lambda t: _file(t, "flat.geojson", _geojson(_feature(LINE_SQUARE))),
         GeometryError, "no area left"),
    Case(V, "invalid geometries", "null geometry", lambda t: Input(_gpkg(t, _zones([SQUARE, None]), "null.gpkg")), GeometryError, "no geometry"),
    Case(V, "invalid geometries", "points instead of zones", lambda t: Input(_gpkg(t, _zones([shapely.Point(118.6, 32.0)]), "pts.gpkg")),
         GeometryError, "must be polygons"),
    Case(V, "empty layers", "GeoPackage layer with no features", lambda t: Input(_gpkg(t, _zones([]), "empty.gpkg")), DataError, "no features"),
    Case(V, "NaN/inf", "NaN vertex", lambda t: _file(t, "nan.geojson", _geojson(_feature(NAN_SQUARE))), GeometryError, "zones",
         ),
    # --------------------------------------------------------------- zipped shapefile uploads
    Case(Z, "zip-slip", "../ member", lambda t: Input(_zip({**_shp_parts(t, _zones()), "../../../tmp/evil.shp": b"x"}), "slip.zip"),
         UnsafeInputError, "parent-directory"),
    Case(Z, "zip-slip", "absolute member", lambda t: Input(_zip({**_shp_parts(t, _zones()), "/etc/cron.d/evil": b"x"}), "abs.zip"),
         UnsafeInputError, "absolute"),
    Case(Z, "zip-slip", "drive-letter member", lambda t: Input(_zip({**_shp_parts(t, _zones()), "C:/evil.shp": b"x"}), "drive.zip"),
         UnsafeInputError, "absolute"),
    Case(Z, "zip bomb", "one member expanding 1000x", lambda t: Input(_zip({**_shp_parts(t, _zones()), "zeros.txt": ZEROS}), "bomb.zip"),
         UnsafeInputError, "zip bomb"),
    Case(Z, "zip bomb", "65 members", lambda t: Input(_zip({f"m{i}.txt": b"x" for i in range(65)}), "many.zip"), UnsafeInputError, "members"),
    Case(Z, "truncated", "zip cut in half", lambda t: Input(_cut(_zip(_shp_parts(t, _zones()))), "cut.zip"), DataError, "not a readable zip"),
    Case(Z, "wrong magic bytes", "gzip named .zip", lambda t: Input(b"\x1f\x8b\x08\x00" + b"\0" * 60, "gz.zip"), DataError, "not a readable zip"),
    Case(Z, "wrong magic bytes", "VRT inside the zip", lambda t: Input(_zip({**_shp_parts(t, _zones()), "x.vrt": VRT}), "vrt.zip"),
         UnsafeInputError, "not part of a shapefile"),
    Case(Z, "no CRS", "no .prj", lambda t: Input(_zip({k: v for k, v in _shp_parts(t, _zones()).items() if not k.endswith(".prj")}), "noprj.zip"),
         MissingCRSError, "no coordinate reference system"),
    Case(Z, "empty layers", "archive without .shp", lambda t: Input(_zip({"readme.txt": b"zones"}), "noshp.zip"), DataError, "no .shp"),
    Case(Z, "GBK/wrong encodings", ".dbf in GBK without .cpg",
         lambda t: Input(_zip({k: v for k, v in _shp_parts(t, _zones(ids=["浦口区"]), encoding="gbk").items() if not k.endswith(".cpg")}), "gbk.zip"),
         DataError, "encoding"),
    # --------------------------------------------------------------- GeoPackage uploads
    Case(G, "truncated", "cut at 90 %", lambda t: Input(_cut(_gpkg(t, _zones()).read_bytes(), 0.9), "cut.gpkg"), DataError, "cannot read"),
    Case(G, "wrong magic bytes", "HTML page named .gpkg", lambda t: Input(HTML, "page.gpkg"), UnsafeInputError, "not a GeoPackage"),
    Case(G, "wrong magic bytes", "VRT named .gpkg", lambda t: Input(VRT, "vrt.gpkg"), UnsafeInputError, "not a GeoPackage"),
    Case(G, "zip bomb", "zip bomb named .gpkg", lambda t: Input(_zip({"zeros.shp": ZEROS}), "bomb.gpkg"), UnsafeInputError, "zip bomb"),
    Case(G, "no CRS", "no CRS", lambda t: Input(_gpkg(t, _zones(crs=None)).read_bytes(), "nocrs.gpkg"), MissingCRSError, "no coordinate"),
    Case(G, "wrong CRS", "metres labelled EPSG:4326", lambda t: Input(_gpkg(t, _zones([shapely.box(660000, 3550000, 661000, 3551000)])).read_bytes(), "m.gpkg"),
         DataError, "projected metres"),
    Case(G, "empty layers", "no features", lambda t: Input(_gpkg(t, _zones([])).read_bytes(), "empty.gpkg"), DataError, "no features"),
    # --------------------------------------------------------------- GeoJSON uploads
    Case(J, "truncated", "cut in half", lambda t: Input(_cut(_geojson(_feature("[[[118.6, 32.0], [118.7, 32.0], [118.7, 32.1], [118.6, 32.0]]]"))), "cut.geojson"),
         DataError, "cannot read"),
    Case(J, "wrong magic bytes", "VRT named .geojson", lambda t: Input(VRT, "vrt.geojson"), UnsafeInputError, "not a GeoPackage, GeoJSON"),
    Case(J, "GBK/wrong encodings", "UTF-16 GeoJSON", lambda t: Input(_geojson(_feature("[[[118.6, 32.0], [118.7, 32.0], [118.7, 32.1], [118.6, 32.0]]]")).decode().encode("utf-16"), "u16.geojson"),
         UnsafeInputError, "not a GeoPackage, GeoJSON"),
    Case(J, "wrong CRS", "projected numbers", lambda t: Input(_geojson(_feature("[[[660000, 3550000], [661000, 3550000], [661000, 3551000], [660000, 3550000]]]")), "proj.geojson"),
         DataError, "projected metres"),
    Case(J, "NaN/inf", "NaN vertex", lambda t: Input(_geojson(_feature(NAN_SQUARE)), "nan.geojson"), GeometryError, "zones"),
    Case(J, "NaN/inf", "1e400 (inf) vertex", lambda t: Input(_geojson(_feature("[[[118.6, 32.0], [1e400, 32.0], [118.7, 32.1], [118.6, 32.0]]]")), "inf.geojson"),
         DataError, "cannot read"),
    Case(J, "invalid geometries", "polygon with no area", lambda t: Input(_geojson(_feature(LINE_SQUARE)), "flat.geojson"), GeometryError, "no area left"),
    Case(J, "empty layers", "empty FeatureCollection", lambda t: Input(_geojson(""), "empty.geojson"), DataError, "no features"),
    Case(J, "enormous text fields", "a 5,000-character zone id", lambda t: Input(_geojson(_feature(SQUARE_COORDS, "z" * 5000)), "long.geojson"),
         SchemaError, "longer than 200"),
    Case(J, "wrong magic bytes", "empty upload", lambda t: Input(b"", "nothing.geojson"), UnsafeInputError, "not a GeoPackage, GeoJSON"),
    # --------------------------------------------------------------- CSV inventories
    Case(C, "huge dimensions", "100,001 rows", lambda t: Input((INV_HEADER + INV_ROW * 100_001).encode(), "rows.csv"),
         UnsafeInputError, "more than 100,000 data rows"),
    Case(C, "huge dimensions", "65 MiB file (refused by its size, unread)", lambda t: _sparse_file(t / "big.csv", 65 * 2**20),
         UnsafeInputError, "over the limit"),
    Case(C, "enormous text fields", "5,000-character source", lambda t: Input((INV_HEADER + "2020,industry,1," + "s" * 5000 + "\n").encode(), "long.csv"),
         UnsafeInputError, "line 2, column 'source'"),
    Case(C, "enormous text fields", "200,000-character quoted cell", lambda t: Input((INV_HEADER + '2020,industry,1,"' + "s" * 200_000 + '"\n').encode(), "huge.csv"),
         UnsafeInputError, "more than 131,072"),
    Case(C, "truncated", "cut inside a quoted cell", lambda t: _file(t, "cut.csv", INV_HEADER + '2020,industry,1,"yearbook, vol'),
         DataError, "cannot be parsed"),
    Case(C, "wrong magic bytes", "PDF saved as .csv", lambda t: Input(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n\x00\x01", "report.csv"), DataError, "binary"),
    Case(C, "wrong magic bytes", "HTML table saved as .xls", lambda t: Input(b"<html><table><tr><td>year</td></tr></table></html>", "export.xls"),
         DataError, "HTML"),
    Case(C, "zip bomb", "zip bomb saved as .csv (read as a workbook, by content)", lambda t: Input(_zip({"zeros.xml": ZEROS}), "bomb.csv"),
         UnsafeInputError, "zip bomb"),
    Case(C, "GBK/wrong encodings", "UTF-16 (Excel 'Unicode Text')", lambda t: Input((INV_HEADER + INV_ROW).encode("utf-16"), "u16.csv"),
         DataError, "neither UTF-8 nor GBK"),
    Case(C, "GBK/wrong encodings", "Latin-1 bytes invalid in GB18030", lambda t: Input((INV_HEADER + "2020,industry,1,caf\xe9\xff\n").encode("latin-1"), "l1.csv"),
         DataError, "neither UTF-8 nor GBK"),
    Case(C, "NaN/inf", "every value nan or inf", lambda t: Input((INV_HEADER + "2020,industry,nan,s\n2021,energy,inf,s\n2022,energy,-inf,s\n").encode(), "nan.csv"),
         EmptyResultError, "no usable rows"),
    Case(C, "empty layers", "header only", lambda t: Input(INV_HEADER.encode(), "header.csv"), EmptyResultError, "no usable rows"),
    Case(C, "empty layers", "0-byte file", lambda t: _file(t, "zero.csv", b""), EmptyResultError, "empty"),
    # --------------------------------------------------------------- Excel inventories
    Case(X, "zip-slip", "../ part", lambda t: Input(_xlsx(t, INV_ROWS, extra={"../../evil.xml": b"<x/>"}), "slip.xlsx"),
         UnsafeInputError, "parent-directory"),
    Case(X, "zip bomb", "part expanding 1000x", lambda t: Input(_xlsx(t, INV_ROWS, extra={"xl/media/zeros.bin": ZEROS}), "bomb.xlsx"),
         UnsafeInputError, "zip bomb"),
    Case(X, "zip bomb", "501 parts", lambda t: Input(_xlsx(t, INV_ROWS, extra={f"xl/p{i}.xml": b"<p/>" for i in range(501)}), "parts.xlsx"),
         UnsafeInputError, "parts"),
    Case(X, "zip bomb", "entity declarations in a part not named .xml", lambda t: Input(_xlsx(t, INV_ROWS, extra={"xl/media/evil.dat": LAUGHS}), "dat.xlsx"),
         UnsafeInputError, "entities"),
    Case(X, "zip bomb", "XML entity expansion (billion laughs)", lambda t: Input(_xlsx(t, INV_ROWS, replace={SHEET: LAUGHS}), "laughs.xlsx"),
         UnsafeInputError, "entit"),
    Case(X, "zip bomb", "XML external entity (XXE)", lambda t: Input(_xlsx(t, INV_ROWS, replace={SHEET: XXE}), "xxe.xlsx"),
         UnsafeInputError, "entit"),
    Case(X, "huge dimensions", "more rows than the limit", lambda t: Input(_xlsx(t, INV_ROWS + [[2020, "energy", 2.0, "x"]] * 6), "rows.xlsx"),
         UnsafeInputError, "more than 5 data rows", patch=(("sinks.ledger.inventory", "MAX_TABLE_ROWS", 5),)),
    Case(X, "truncated", "workbook cut in half", lambda t: Input(_cut(_xlsx(t, INV_ROWS)), "cut.xlsx"), DataError, "not a readable .xlsx"),
    Case(X, "truncated", "sheet XML cut off", lambda t: Input(_xlsx(t, INV_ROWS, replace={SHEET: b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c'}), "xmlcut.xlsx"),
         DataError, "not a readable .xlsx"),
    Case(X, "truncated", "sheet part missing", lambda t: Input(_xlsx(t, INV_ROWS, replace={SHEET: None}), "nosheet.xlsx"), DataError, "no sheet"),
    Case(X, "wrong magic bytes", "old binary .xls (OLE2)", lambda t: Input(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "old.xls"), DataError, ".xls"),
    Case(X, "GBK/wrong encodings", "UTF-16 sheet XML", lambda t: Input(_xlsx(t, INV_ROWS, replace={SHEET: XXE.replace(b"<!DOCTYPE w [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>", b"").decode().encode("utf-16")}), "u16.xlsx"),
         UnsafeInputError, "not UTF-8"),
    Case(X, "enormous text fields", "5,000-character cell", lambda t: Input(_xlsx(t, INV_ROWS[:1] + [[2020, "industry", 1.0, "s" * 5000]]), "long.xlsx"),
         UnsafeInputError, "row 2, column 'source'"),
    Case(X, "NaN/inf", "every value nan or inf", lambda t: Input(_xlsx(t, INV_ROWS[:1] + [[2020, "industry", "nan", "s"], [2021, "energy", "inf", "s"]]), "nan.xlsx"),
         EmptyResultError, "no usable rows"),
    Case(X, "empty layers", "header only", lambda t: Input(_xlsx(t, INV_ROWS[:1]), "header.xlsx"), EmptyResultError, "no usable rows"),
    # --------------------------------------------------------------- training samples
    Case(T, "zip-slip", "../ member", lambda t: _samples(t, name="samples.zip", data=_zip({**_shp_parts(t, _sample_points([(ORIGIN_X + 15, ORIGIN_Y - 15)])), "../x.shp": b"x"})),
         UnsafeInputError, "parent-directory"),
    Case(T, "zip bomb", "member expanding 1000x", lambda t: _samples(t, name="samples.zip", data=_zip({**_shp_parts(t, _sample_points([(ORIGIN_X + 15, ORIGIN_Y - 15)])), "z.txt": ZEROS})),
         UnsafeInputError, "zip bomb"),
    Case(T, "huge dimensions", "bands raster header of 10^6 x 10^6 px",
         lambda t: Input(_samples(t).source, "huge_bands.tif", extra={"bands": _sparse_tif(t / "huge_bands.tif", width=10**6, height=10**6, count=4, dtype="uint16").source}),
         UnsafeInputError, "over the limit"),
    Case(T, "truncated", "GeoPackage cut in half", lambda t: _samples(t, name="cut.gpkg", data=_cut(_gpkg(t, _sample_points([(ORIGIN_X + 15, ORIGIN_Y - 15)]), "full.gpkg").read_bytes())),
         DataError, "cannot read"),
    Case(T, "wrong magic bytes", "CSV text named .gpkg", lambda t: _samples(t, name="text.gpkg", data=b"x,y,cls\n1,2,10\n"), DataError, "cannot read"),
    Case(T, "no CRS", "points without CRS", lambda t: _samples(t, _sample_points([(ORIGIN_X + 15, ORIGIN_Y - 15)], crs=None)), MissingCRSError, "no coordinate"),
    Case(T, "wrong CRS", "lon/lat numbers labelled UTM", lambda t: _samples(t, _sample_points([(118.6, 32.05)])), DataError, "outside the image"),
    Case(T, "invalid geometries", "lines", lambda t: _samples(t, gpd.GeoDataFrame({"cls": [10]}, geometry=[shapely.LineString([(ORIGIN_X, ORIGIN_Y - 10), (ORIGIN_X + 100, ORIGIN_Y - 10)])], crs=UTM50)),
         GeometryError, "points or polygons"),
    Case(T, "empty layers", "no samples", lambda t: _samples(t, _sample_points([])), EmptyResultError, "no samples"),
    Case(T, "NaN/inf", "NaN class", lambda t: _samples(t, _sample_points([(ORIGIN_X + 15, ORIGIN_Y - 15)], cls=(float("nan"),))), SchemaError, "no value"),
    Case(T, "enormous text fields", "a 5,000-character class name", lambda t: _samples(t, _sample_points([(ORIGIN_X + 15, ORIGIN_Y - 15)], cls=("x" * 5000,))),
         DataError, "not"),
    # --------------------------------------------------------------- reference points
    Case(P, "huge dimensions", "50,001 rows", lambda t: Input(b"id,lon,lat\n" + b"1,118.6,32.1\n" * 50_001, "rows.csv"), UnsafeInputError, "50,000"),
    Case(P, "huge dimensions", "6 MiB upload", lambda t: Input(b"id,lon,lat\n" + b" " * (6 * 2**20), "big.csv"), UnsafeInputError, "over the limit"),
    Case(P, "enormous text fields", "200,000-character cell", lambda t: Input(b'id,lon,lat,note\n1,118.6,32.1,"' + b"x" * 200_000 + b'"\n', "huge.csv"),
         UnsafeInputError, "longer than"),
    Case(P, "enormous text fields", "3,000-character cell (row rejected)", lambda t: Input(b"id,lon,lat,note\n1,118.6,32.1," + b"x" * 3000 + b"\n", "long.csv"),
         None, "too_long"),
    Case(P, "truncated", "unclosed quote", lambda t: Input(b'id,lon,lat,name\n1,118.6,32.1,"Laoshan\n2,118.7,32.2,x\n', "cut.csv"), DataError, "cannot be parsed"),
    Case(P, "wrong magic bytes", "xlsx workbook", lambda t: Input(_xlsx(t, [["id", "lon", "lat"], [1, 118.6, 32.1]]), "pts.xlsx"), DataError, "zip archive"),
    Case(P, "wrong magic bytes", "binary with NUL bytes", lambda t: Input(b"id,lon,lat\n\x00\x01\x02", "bin.csv"), DataError, "NUL"),
    Case(P, "zip bomb", "zip bomb (refused before unpacking)", lambda t: Input(_zip({"zeros.csv": ZEROS}), "bomb.csv"), DataError, "zip archive"),
    Case(P, "GBK/wrong encodings", "UTF-16", lambda t: Input("id,lon,lat\n1,118.6,32.1\n".encode("utf-16"), "u16.csv"), DataError, "UTF-16"),
    Case(P, "GBK/wrong encodings", "Latin-1 bytes invalid in GB18030", lambda t: Input("id,lon,lat,name\n1,118.6,32.1,caf\xe9\xff\n".encode("latin-1"), "l1.csv"),
         DataError, "neither UTF-8 nor GBK"),
    Case(P, "wrong CRS", "projected metres as degrees", lambda t: Input(b"id,lon,lat\n1,660000,3550000\n2,661000,3551000\n", "m.csv"), DataError, "projected metres"),
    Case(P, "GCJ-02 not declared", "a CRS and GCJ-02 at once", lambda t: Input(b"id,x,y\n1,660000,3550000\n", "both.csv", extra={"crs": 32650, "coord_system": "gcj02"}),
         DataError, "GCJ-02/BD-09 are lon/lat"),
    Case(P, "NaN/inf", "nan and inf coordinates (rows rejected)", lambda t: Input(b"id,lon,lat\n1,nan,32.1\n2,118.6,inf\n3,118.6,32.1\n", "nan.csv"),
         None, "not_finite"),
    Case(P, "empty layers", "header only", lambda t: Input(b"id,lon,lat\n", "header.csv"), EmptyResultError, "no data rows"),
    # --------------------------------------------------------------- run configurations
    Case(F, "truncated", "cut inside a table header", lambda t: _file(t, "cut.toml", CFG + "[engine\nblock"), DataError, "not valid TOML"),
    Case(F, "wrong magic bytes", "PNG saved as .toml", lambda t: _file(t, "img.toml", PNG), DataError, "not valid TOML"),
    Case(F, "zip bomb", "zip given as configuration", lambda t: _file(t, "bomb.toml", _zip({"zeros": ZEROS})), DataError, "not valid TOML"),
    Case(F, "GBK/wrong encodings", "GBK text", lambda t: _file(t, "gbk.toml", (CFG + '[area]\nname_zh = "江北新区"\n').encode("gbk")), DataError, "not valid TOML"),
    Case(F, "huge dimensions", "2 MiB configuration", lambda t: _file(t, "big.toml", CFG + "# " + "x" * (2 * 2**20) + "\n"), UnsafeInputError, "over the limit"),
    Case(F, "huge dimensions", "block_size = 10^9", lambda t: _file(t, "block.toml", CFG + "[engine]\nblock_size = 1000000000\n"), SchemaError, "block_size"),
    Case(F, "enormous text fields", "10,000-character area name", lambda t: _file(t, "name.toml", CFG + '[area]\nname_zh = "' + "江" * 10_000 + '"\n'),
         SchemaError, "name_zh is 10,000 characters"),
    Case(F, "NaN/inf", "block_size = nan", lambda t: _file(t, "nan.toml", CFG + "[engine]\nblock_size = nan\n"), SchemaError, "block_size"),
    Case(F, "NaN/inf", "threads = inf", lambda t: _file(t, "inf.toml", CFG + "[engine]\nthreads = inf\n"), SchemaError, "threads"),
    Case(F, "wrong value types", "a section that is not a table", lambda t: _file(t, "area.toml", "area = 5\n" + CFG), SchemaError, "[area] must be a table"),
    Case(F, "wrong value types", "a path that is a number", lambda t: _file(t, "num.toml", CFG + "[zones]\npath = 5\n"), SchemaError, "file path"),
    Case(F, "wrong value types", "a NUL byte in a path", lambda t: _file(t, "nul.toml", 'landcover.years = {2020 = "lc\\u0000.tif"}\n[coefficients]\npath = "c.csv"\n'),
         SchemaError, "file path"),
    Case(F, "wrong value types", "a year that is not a year", lambda t: _file(t, "year.toml", 'landcover.years = {99999999999999999999 = "lc.tif"}\n[coefficients]\npath = "c.csv"\n'),
         SchemaError, "four-digit year"),
    Case(F, "GCJ-02 not declared", "unknown coordinate system", lambda t: _file(t, "cs.toml", CFG + '[zones]\npath = "z.gpkg"\ncoord_system = "amap"\n'),
         SchemaError, "coord_system"),
    Case(F, "empty layers", "0-byte file", lambda t: _file(t, "empty.toml", b""), SchemaError, "no [landcover.years]"),
]


def _sparse_file(path: Path, size: int) -> Input:
    with open(path, "wb") as fh:
        fh.truncate(size)  # sparse: no disk used, and the reader must refuse it by its size alone
    return Input(path)


# ------------------------------------------------------------------------------------ checks


def _snapshot(*folders: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for folder in folders:
        for p in folder.rglob("*"):
            st = p.lstat()
            out[str(p)] = (st.st_size, st.st_mtime_ns) if p.is_file() else (-1, 0)
    return out


def _param(c: Case):
    marks = [pytest.mark.xfail(strict=True, reason=c.defect)] if c.defect else []
    return pytest.param(c, id=f"{c.reader.split(' (')[0]}: {c.case}: {c.variant}", marks=marks)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """A temporary folder of this test alone, for Python and GDAL, so the snapshot is exact."""
    d = tmp_path / "_tmp"
    d.mkdir()
    monkeypatch.setenv("TMPDIR", str(d))
    monkeypatch.setenv("CPL_TMPDIR", str(d))
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path, private_tmp: Path, monkeypatch):
    inputs = tmp_path / "in"
    inputs.mkdir()
    inp = case.build(inputs)
    for module, attr, value in case.patch:
        monkeypatch.setattr(f"{module}.{attr}", value)
    before = _snapshot(inputs, private_tmp)
    read = READERS[case.reader]
    if case.error is None:  # the documented outcome is a rejected row, not an error
        result = read(inp)
        assert case.words in set(result.rejected["code"]), result.rejected
    else:
        with pytest.raises(DataError) as ei:
            read(inp)
        err = ei.value
        assert isinstance(err, case.error), f"{type(err).__name__} instead of {case.error.__name__}: {err}"
        text = str(err)
        assert inp.label in text, f"the message does not name {inp.label}: {text}"
        assert case.words in err.problem, f"{case.words!r} not in the problem: {err.problem}"
        assert len(err.fix) > 10 and err.fix != err.problem, f"no real fix: {err.fix!r}"
        assert "Traceback" not in text and len(text) < 2_000, f"message of {len(text)} characters"
    assert _snapshot(inputs, private_tmp) == before, "a file was written, changed or left behind"


def test_every_reader_meets_every_kind_of_case_it_can_and_counts_are_reported():
    """The table covers every reader; the counts go to test-artifacts/hostile_inputs.json."""
    assert set(READERS) == {c.reader for c in CASES}
    kinds = ["zip-slip", "zip bomb", "huge dimensions", "truncated", "wrong magic bytes", "no CRS", "wrong CRS",
             "GCJ-02 not declared", "invalid geometries", "empty layers", "NaN/inf", "GBK/wrong encodings", "enormous text fields",
             "wrong value types"]
    assert {c.case for c in CASES} <= set(kinds)
    per_reader = {r: sum(c.reader == r for c in CASES) for r in READERS}
    report = {
        "cases_tried": len(CASES),
        "per_reader": per_reader,
        "known_defects_xfail": {f"{c.reader}: {c.variant}": c.defect for c in CASES if c.defect},
        "per_reader_and_kind": {r: {k: n for k in kinds if (n := sum(c.reader == r and c.case == k for c in CASES))} for r in READERS},
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    tmp = ARTIFACT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, ARTIFACT)
    print(f"\nhostile inputs: {len(CASES)} cases tried; " + ", ".join(f"{r}: {n}" for r, n in per_reader.items()))
    assert all(n >= 5 for n in per_reader.values()), per_reader


# ------------------------------------------------------------------- GCJ-02: the declared choice


def test_gcj02_is_converted_only_when_declared(tmp_path):
    """No reader can tell GCJ-02 lon/lat from WGS84 lon/lat by the numbers alone: the user says
    which system the file is in. Declared GCJ-02 moves a zone in Pukou by the ~0.5 km offset (the
    published algorithm); the same file undeclared is read as WGS84, unchanged."""
    from pyproj import Geod

    from geodata.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(np.array([118.60, 118.62]), np.array([32.05, 32.07]))  # a WGS84 square as Amap shows it
    amap = shapely.box(lon[0], lat[0], lon[1], lat[1])
    data = _zones([amap]).to_json().encode()
    as_given = load_zones(data, id_field="zone_id", name="amap.geojson")
    declared = load_zones(data, id_field="zone_id", name="amap.geojson", coord_system="gcj02")
    assert as_given.converted_from is None and declared.converted_from == "gcj02"
    c0, c1 = as_given.gdf.geometry.iloc[0].centroid, declared.gdf.geometry.iloc[0].centroid
    _, _, moved_m = Geod(ellps="WGS84").inv(c0.x, c0.y, c1.x, c1.y)
    assert 400 < moved_m < 700  # about 530 m at Pukou
    # back where it truly is, to ~1 m (the box corners were shifted by their own offsets, which
    # differ by ~1e-5 degrees across 2 km)
    np.testing.assert_allclose(declared.gdf.geometry.iloc[0].bounds, SQUARE.bounds, atol=2e-5)
    pts = b"id,lon,lat\n1,%.7f,%.7f\n" % (lon[0], lat[0])
    assert read_points(pts, name="p.csv").points.geometry.iloc[0].x == pytest.approx(lon[0])
    assert read_points(pts, name="p.csv", coord_system="gcj02").points.geometry.iloc[0].x == pytest.approx(118.60, abs=1e-7)


def test_raster_limits_can_be_raised_per_server_and_whole_reads_have_a_budget(tmp_path, monkeypatch):
    """The pixel limit is an environment setting (a server with the memory for bigger grids);
    a whole-array read is refused over MAX_READ_BYTES, naming the file and the size."""
    from geodata.limits import ENV_MAX_RASTER_PIXELS, MAX_READ_BYTES, check_read_bytes

    path = _sparse_tif(tmp_path / "wide.tif", width=60_000, height=40_000).source  # 2.4 Gpx: over the default
    with pytest.raises(UnsafeInputError, match=ENV_MAX_RASTER_PIXELS):
        read_info(path)
    monkeypatch.setenv(ENV_MAX_RASTER_PIXELS, "3_000_000_000")
    assert read_info(path).width == 60_000
    with pytest.raises(UnsafeInputError) as ei:
        check_read_bytes(path, shape=(40_000, 60_000), dtype="uint8", what="the display picture")
    assert "wide.tif" in str(ei.value) and "2.2 GiB" in ei.value.problem and "windows" in ei.value.fix
    check_read_bytes(path, shape=(1, MAX_READ_BYTES), dtype="uint8")  # at the budget: allowed


@pytest.mark.parametrize("encoding, cpg", [("utf-8", None), ("gbk", b"GBK"), ("utf-8", b"UTF-8")], ids=["utf8-no-cpg", "gbk-with-cpg", "utf8-with-cpg"])
def test_chinese_names_in_a_zipped_shapefile_arrive_intact(tmp_path, encoding, cpg):
    """The other side of the ".dbf in GBK without .cpg" case: a UTF-8 table without .cpg is read
    as UTF-8 (GDAL alone would assume Latin-1), a .cpg is obeyed; the names are never garbled."""
    from geodata.vectors import read_vector

    parts = {k: v for k, v in _shp_parts(tmp_path, _zones(ids=["浦口区"]), encoding=encoding).items() if not k.endswith(".cpg")}
    if cpg is not None:
        parts["zones.cpg"] = cpg
    for source in (_zip(parts), tmp_path / "zones.zip"):
        if isinstance(source, Path):
            source.write_bytes(_zip(parts))
        gdf = read_vector(source, name="zones.zip")
        assert list(gdf["zone_id"]) == ["浦口区"], (encoding, cpg, list(gdf["zone_id"]))


def test_a_member_python_cannot_inflate_is_left_to_gdal(tmp_path):
    """The .dbf encoding sniff inflates the table with Python's zipfile; a member it cannot
    inflate (labelled Deflate64 here) must not escape as NotImplementedError / zlib.error: the
    sniff steps aside and GDAL reads (or refuses with a DataError) as before."""
    import struct

    from geodata.vectors import read_vector

    data = bytearray(_zip({k: v for k, v in _shp_parts(tmp_path, _zones()).items() if not k.endswith(".cpg")}))
    for sig, name_len_at, name_at, method_at in ((b"PK\x03\x04", 26, 30, 8), (b"PK\x01\x02", 28, 46, 10)):
        k = data.find(sig)
        while k >= 0:
            n = struct.unpack("<H", data[k + name_len_at:k + name_len_at + 2])[0]
            if data[k + name_at:k + name_at + n].endswith(b".dbf"):
                data[k + method_at:k + method_at + 2] = struct.pack("<H", 9)
            k = data.find(sig, k + 4)
    try:
        gdf = read_vector(bytes(data), name="deflate64.zip")
    except DataError as exc:  # GDAL may refuse it: then with the usual message
        assert "deflate64.zip" in str(exc)
    else:
        assert list(gdf["zone_id"]) == ["z0"]


def test_greening_masks_past_the_memory_budget_are_refused_before_reading(tmp_path):
    """A 400 Mpx land-cover map passes the raster limits (2 Gpx) but its greening masks would
    hold ~32 GB (80 bytes a pixel, measured): refused by size before a pixel is read."""
    from geodata.limits import GREENING_BYTES_PER_PX, MAX_LAYER_BYTES
    from geodata.rasters import read_info
    from sinks.greening.layers import year_layers

    info = read_info(_sparse_tif(tmp_path / "big.tif", width=20_000, height=20_000).source)
    assert 20_000 * 20_000 * GREENING_BYTES_PER_PX > MAX_LAYER_BYTES
    with pytest.raises(UnsafeInputError, match="the greening masks of 2025 would hold 29.8 GiB") as ei:
        year_layers(2025, info, roles=None, gcfg=None)
    assert "big.tif" in ei.value.source and "clip" in ei.value.fix
