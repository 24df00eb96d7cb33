"""Read and validate vector zones: GeoPackage, GeoJSON, or a zipped shapefile from memory.

Every layer leaves here with a CRS, valid polygonal geometries (repaired with ``make_valid``
and reported), unique zone ids, and lon/lat in true WGS84 when the source system was GCJ-02 or
BD-09.
"""
from __future__ import annotations

import codecs
import io
import warnings
import zlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataSourceError, DataLayerError

from geodata.crs import CoordSystem, DISPLAY_CRS, check_lonlat_bounds, require_crs, to_wgs84_geometries
from geodata.errors import DataError, GeometryError, SchemaError, UnsafeInputError

# Limits for uploads read from memory (hostile input).
MAX_ZIP_MEMBERS = 64
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ID_CHARS = 200  # a zone id is a code shown in tables and titles, never a paragraph
# GDAL opens a zip archive by its content, whatever the file is called: the zip checks go by
# these magic bytes (a local file header; an end-of-central-directory record = an empty archive)
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
SQLITE_MAGIC = b"SQLite format 3\x00"
# Members a zipped shapefile may hold. Anything else is refused: GDAL follows what it finds, and
# a .vrt member (or a VRT sent as "area.geojson") would read any file the server can see.
SHAPEFILE_MEMBERS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".fix", ".qmd", ".xml", ".txt", ".md"}


def is_zip(head: bytes) -> bool:
    """The bytes (or their first four) start like a zip archive."""
    return bytes(head[:4]) in ZIP_MAGICS


@dataclass(frozen=True)
class ZoneLayer:
    """Zones ready for analysis, with what was done to them on the way in."""

    gdf: gpd.GeoDataFrame
    id_field: str
    source: str
    repaired_ids: tuple[str, ...] = field(default_factory=tuple)
    converted_from: str | None = None

    @property
    def zone_ids(self) -> list[str]:
        return [str(v) for v in self.gdf[self.id_field]]


def _check_zip(data: bytes | Path, name: str) -> None:
    """Refuse a hostile archive (too many members, zip bomb, paths out of the archive) before
    GDAL sees it. ``data`` is the archive's bytes or its path (only the directory is read)."""
    what = "" if name.lower().endswith(".zip") else " (the file is a zip archive whatever its name)"
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data)
    except zipfile.BadZipFile as exc:
        raise DataError(name, f"it is not a readable zip archive{what}", "upload the .zip again, or the .gpkg/.geojson") from exc
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise UnsafeInputError(name, f"the archive{what} has {len(infos)} members (limit {MAX_ZIP_MEMBERS})", "zip only the shapefile parts (.shp .shx .dbf .prj .cpg)")
    total = 0
    for info in infos:
        p = PurePosixPath(info.filename.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
            raise UnsafeInputError(name, f"archive{what} member '{info.filename}' has an absolute or parent-directory path", "zip the files without folders above them")
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise UnsafeInputError(name, f"archive{what} member '{info.filename}' expands {info.file_size / info.compress_size:.0f}x (limit {MAX_COMPRESSION_RATIO}x): a zip bomb", "upload the original shapefile parts")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnsafeInputError(name, f"the archive{what} expands to {total / 2**20:.0f} MiB (limit {MAX_UNCOMPRESSED_BYTES / 2**20:.0f} MiB)", "clip the layer to the area of interest first")
    odd = [i.filename for i in infos if not i.is_dir() and PurePosixPath(i.filename.lower()).suffix not in SHAPEFILE_MEMBERS]
    if odd:
        raise UnsafeInputError(name, f"the archive{what} holds {', '.join(repr(o) for o in odd[:5])}, which is not part of a shapefile",
                               "zip only the shapefile parts (.shp .shx .dbf .prj .cpg)")
    if not any(i.filename.lower().endswith(".shp") for i in infos):
        raise DataError(name, f"the archive{what} holds no .shp file", "zip the .shp with its .shx, .dbf and .prj")


def _dbf_encoding(dbf: bytes, cpg: bytes | None, name: str) -> str | None:
    """The encoding to read a shapefile's attributes with (None: let GDAL decide).

    GDAL takes the encoding from the .cpg file, else from the .dbf header's language driver byte,
    else assumes ISO-8859-1: a dBASE table written in UTF-8 or GBK with neither (common for
    exports of Chinese names) would arrive as garbled text, silently. So: with a .cpg or a
    language byte, GDAL knows; ASCII-only records need nothing; records that decode as UTF-8 are
    read as UTF-8; anything else is refused with the fix (a .cpg naming the encoding)."""
    if cpg is not None and cpg.strip():
        return None
    if len(dbf) < 32 or dbf[29] != 0:  # not a dBASE header (GDAL will say so), or a language driver byte
        return None
    header_len = int.from_bytes(dbf[8:10], "little")
    records = memoryview(dbf)[header_len:]
    decoder, ascii_only = codecs.getincrementaldecoder("utf-8")(), True
    try:
        for i in range(0, len(records), 1 << 20):  # in 1 MiB steps: no second copy of a large table
            chunk = bytes(records[i:i + (1 << 20)])
            ascii_only = ascii_only and chunk.isascii()
            decoder.decode(chunk, final=i + (1 << 20) >= len(records))
    except UnicodeDecodeError:
        pass
    else:
        return None if ascii_only else "UTF-8"
    raise DataError(name, "the shapefile's attribute table (.dbf) holds non-ASCII text that is not UTF-8 and no .cpg file says "
                    "its encoding, so names would read garbled (the text encoding is unknown; ArcGIS writes GBK)",
                    "put a .cpg file beside the .shp holding its encoding (e.g. the one word GBK) and zip it too, "
                    "or export the layer as GeoPackage / GeoJSON")


def _shapefile_encoding(source: bytes | Path, name: str) -> str | None:
    """:func:`_dbf_encoding` of a zipped shapefile (bytes or path, already checked) or a .shp path."""
    try:
        if isinstance(source, (bytes, bytearray)) or (isinstance(source, Path) and source.suffix.lower() != ".shp"):
            with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source) as zf:
                members = {PurePosixPath(i.filename).suffix.lower(): i for i in zf.infolist() if not i.is_dir()}
                if ".dbf" not in members:
                    return None
                cpg = zf.read(members[".cpg"]) if ".cpg" in members else None
                if cpg is not None and cpg.strip():
                    return None  # GDAL obeys the .cpg: the table need not be read here
                return _dbf_encoding(zf.read(members[".dbf"]), cpg, name)
        dbf, cpg = source.with_suffix(".dbf"), source.with_suffix(".cpg")
        if not dbf.is_file():
            return None
        if cpg.is_file():
            with open(cpg, "rb") as fh:
                if fh.read(256).strip():
                    return None
        return _dbf_encoding(dbf.read_bytes(), None, name)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError):
        return None  # a damaged, encrypted or oddly compressed member: GDAL reports the file itself


def _check_upload(source: bytes, name: str) -> None:
    """Let GDAL see only what an upload may be: a zipped shapefile (checked), a GeoPackage or
    GeoJSON text. GDAL picks its driver by content, and some formats (VRT, and the /vsicurl/ or
    file paths they name) would make the server read files or URLs of the uploader's choosing."""
    if is_zip(source) or name.lower().endswith(".zip"):
        _check_zip(source, name)
        return
    if bytes(source[:16]) == SQLITE_MAGIC:
        return
    head = bytes(source[:64]).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return
    raise UnsafeInputError(name, f"the content is not a GeoPackage, GeoJSON or zipped shapefile (it starts with {bytes(source[:12])!r})",
                           "upload the area as .gpkg, .geojson or a .zip of the shapefile parts")


def vector_layers(source: bytes, *, name: str) -> list[str]:
    """The layer names of an uploaded vector file (read from memory; checked as
    :func:`read_vector` checks bytes first). Raises ``DataError`` when GDAL cannot open it."""
    _check_upload(source, name)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*non conformant file extension", category=RuntimeWarning)
            return [str(r[0]) for r in pyogrio.list_layers(io.BytesIO(source))]
    except (DataSourceError, DataLayerError) as exc:
        raise DataError(name, f"GDAL cannot read it as a vector layer ({exc})", "supply a GeoPackage, GeoJSON or zipped shapefile") from exc


def read_vector(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer from a path or from bytes (uploads are never written to disk)."""
    label = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    try:
        if isinstance(source, bytes):
            _check_upload(source, label)  # by content: GDAL ignores the name
            with warnings.catch_warnings():
                # GDAL reads bytes through /vsimem/ under a name without ".gpkg" and says so
                warnings.filterwarnings("ignore", message=".*non conformant file extension", category=RuntimeWarning)
                enc = _shapefile_encoding(source, label) if is_zip(source) else None
                return gpd.read_file(io.BytesIO(source), layer=layer, engine="pyogrio", **({"encoding": enc} if enc else {}))
        path = Path(source)
        if not path.exists():
            raise DataError(path, "the file does not exist", "check the path in the configuration")
        enc = None
        if path.is_file():
            with open(path, "rb") as fh:
                if is_zip(fh.read(4)):
                    _check_zip(path, str(path))
                    enc = _shapefile_encoding(path, str(path))
            if path.suffix.lower() == ".shp":
                enc = _shapefile_encoding(path, str(path))
        if layer is not None and layer not in [row[0] for row in pyogrio.list_layers(path)]:
            raise SchemaError(path, f"it has no layer '{layer}' (layers: {', '.join(r[0] for r in pyogrio.list_layers(path))})", "name one of those layers")
        return gpd.read_file(path, layer=layer, engine="pyogrio", use_arrow=True, **({"encoding": enc} if enc else {}))
    except (DataSourceError, DataLayerError) as exc:
        raise DataError(label, f"GDAL cannot read it as a vector layer ({exc})", "supply a GeoPackage, GeoJSON or zipped shapefile") from exc


def prepare_zones(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    id_field: str,
    coord_system: CoordSystem | str = CoordSystem.WGS84,
) -> ZoneLayer:
    """Validate and clean a zone layer.

    Checks: a CRS, an id column with unique non-empty values, polygonal geometries, lon/lat
    bounds that are degrees. Repairs invalid geometries with ``make_valid`` (keeping polygon
    parts) and reports which. Converts GCJ-02 / BD-09 lon/lat to WGS84 when told so.
    """
    if len(gdf) == 0:  # first: an empty GeoJSON has no columns either
        raise DataError(source, "the layer has no features", "choose a layer with zones")
    if gdf.crs is None:
        require_crs(None, source)
    if id_field not in gdf.columns:
        raise SchemaError(source, f"it has no column '{id_field}' (columns: {', '.join(map(str, gdf.columns))})", "name the column that identifies each zone")
    ids = gdf[id_field].astype("str")
    if ids.isna().any() or (ids.str.strip() == "").any():
        raise SchemaError(source, f"column '{id_field}' has empty values", "give every zone an identifier")
    long_ids = ids[ids.str.len() > MAX_ID_CHARS]
    if len(long_ids):
        raise SchemaError(source, f"column '{id_field}' has {len(long_ids)} value(s) longer than {MAX_ID_CHARS} characters "
                          f"(the first is {len(long_ids.iloc[0]):,} characters: {long_ids.iloc[0][:40]!r}...)",
                          "use short identifiers (a code, not a description); put long text in another column")
    dup = sorted(set(ids[ids.duplicated()]))
    if dup:
        raise SchemaError(source, f"column '{id_field}' repeats the values {dup}", "make the zone identifiers unique, or dissolve the zones first")
    gdf = gdf.copy()
    gdf[id_field] = ids
    geoms = gdf.geometry.values
    if geoms.isna().any() or shapely.is_empty(np.asarray(geoms)).any():
        missing = list(ids[gdf.geometry.isna() | gdf.geometry.is_empty])
        raise GeometryError(source, f"zones {missing} have no geometry", "draw or remove them")
    kinds = set(gdf.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise GeometryError(source, f"zones must be polygons, found {sorted(kinds)}", "buffer points/lines into polygons or choose a polygon layer")
    xy, owner = shapely.get_coordinates(np.asarray(geoms), return_index=True)
    bad = np.unique(owner[~np.isfinite(xy).all(axis=1)])
    if len(bad):  # GEOS cannot test or repair them (it would raise mid-way)
        names = [str(ids.iloc[i])[:40] for i in bad[:10]]
        raise GeometryError(source, f"zones {names}{' ...' if len(bad) > 10 else ''} have coordinates that are not numbers (NaN or infinite)",
                            "fix or redraw those vertices in a GIS and export again")

    crs = require_crs(gdf.crs, source)
    converted = None
    if crs.is_geographic:
        check_lonlat_bounds(tuple(gdf.total_bounds), source)
    system = CoordSystem(coord_system)
    if system is not CoordSystem.WGS84:
        if not crs.is_geographic:
            raise DataError(source, f"it is in projected {crs.to_string()}, but GCJ-02/BD-09 are lon/lat systems", "choose 'WGS84/CGCS2000' as the source system for projected data")
        gdf = gdf.set_geometry(to_wgs84_geometries(np.asarray(gdf.geometry.values), system)).set_crs(DISPLAY_CRS, allow_override=True)
        converted = system.value

    invalid = ~gdf.geometry.is_valid
    repaired: tuple[str, ...] = ()
    if invalid.any():
        repaired = tuple(gdf.loc[invalid, id_field])
        fixed = shapely.make_valid(np.asarray(gdf.geometry.values[invalid.values]))
        fixed = [_polygonal_part(g) for g in fixed]
        gdf.loc[invalid, gdf.geometry.name] = fixed
        empty = [i for i, g in zip(repaired, fixed) if g.is_empty]
        if empty:
            raise GeometryError(source, f"zones {empty} have no area left after repair", "redraw them")
    return ZoneLayer(gdf=gdf, id_field=id_field, source=source, repaired_ids=repaired, converted_from=converted)


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygons of a repaired geometry (make_valid may add lines at a bow-tie's knot)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def load_zones(
    source: str | Path | bytes,
    *,
    id_field: str,
    layer: str | None = None,
    name: str | None = None,
    coord_system: CoordSystem | str = CoordSystem.WGS84,
) -> ZoneLayer:
    """Read and prepare a zone layer in one call (paths or uploaded bytes)."""
    label = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    gdf = read_vector(source, name=label, layer=layer)
    return prepare_zones(gdf, source=label, id_field=id_field, coord_system=coord_system)
