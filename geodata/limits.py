"""What one request may read, in one place: each limit with the reason for its value, and the
checks the readers call before the expensive step (GDAL, pandas, openpyxl).

A file over a limit raises :class:`~geodata.errors.UnsafeInputError` (a ``DataError``) naming
the file, its size, the limit and the fix; nothing is read past the check and nothing is written.

The limits are for a dashboard of one city district on a shared two-core server, not for a
province-wide batch job: they are generous for real inputs and stop hostile or accidental ones
(a raster header claiming 10^12 pixels, a zip bomb renamed .xlsx, a table of a million rows).
The two raster limits can be raised per server with the environment variables
:data:`ENV_MAX_RASTER_PIXELS` / :data:`ENV_MAX_RASTER_BYTES` (a machine with the memory and the
time for larger grids); the others are fixed, because no real input of this dashboard comes near.

Limits of other readers that live beside their code: the zipped-shapefile upload checks in
:mod:`geodata.vectors` (``MAX_ZIP_MEMBERS`` 64, ``MAX_UNCOMPRESSED_BYTES`` 512 MiB,
``MAX_COMPRESSION_RATIO`` 200).
"""
from __future__ import annotations

import io
import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from geodata.errors import DataError, UnsafeInputError

# ------------------------------------------------------------------------------------ rasters

# Pixels of one band of one raster. Nanjing at 10 m is 66 Mpx, the demo 6.9 Mpx (2348 x 2948),
# the benchmarks' largest grid 625 Mpx; Jiangsu province at 10 m (107,200 km2) is 1.07 Gpx. The
# engine counts a few hundred Mpx/s on two cores, so 2 Gpx is already tens of seconds per date;
# beyond it a request holds the server for minutes.
MAX_RASTER_PIXELS = 2_000_000_000
# Uncompressed bytes of a whole raster (width x height x bands x bytes per value): what one pass
# decodes. Four uint16 bands of Jiangsu at 10 m are 8.6 GB; the demo bands 55 MB.
MAX_RASTER_BYTES = 16 * 2**30
# One array read into memory at once (a display picture, a whole-raster layer): a quarter of a
# small server's memory, so two requests at once still fit.
MAX_READ_BYTES = 1 * 2**30
# The greening masks of one date, held whole (computed once per configuration and shared by every
# session): measured 1.1 GB peak for the demo's two dates of 6.9 Mpx, i.e. ~80 bytes per pixel
# and date at the peak. A third of a 24 GiB server: Nanjing at 10 m (66 Mpx) fits, Jiangsu does not.
GREENING_BYTES_PER_PX = 80
MAX_LAYER_BYTES = 8 * 2**30
ENV_MAX_RASTER_PIXELS = "SINKS_MAX_RASTER_PIXELS"
ENV_MAX_RASTER_BYTES = "SINKS_MAX_RASTER_BYTES"

# ------------------------------------------------------------------------------------- tables

# CSV / Excel tables (inventories, coefficient and rule tables, accuracy samples, targets).
# The biggest real table here is 1,081 rows (CEADs Jiangsu by sector, 1997-2019); a county series
# for all of China (2,700+ counties x 23 years) is 63,000 rows. pandas keeps every cell as a
# Python string, ~10x the file in memory.
MAX_TABLE_ROWS = 100_000
# ~360 bytes per inventory row (the demo inventory) x the row limit, rounded up.
MAX_TABLE_BYTES = 64 * 2**20
# The longest cell of our own tables is 1,159 characters (a citation with its note); a cell over
# 4,000 is a pasted document or hostile, and would bloat every page that shows the table.
MAX_CELL_CHARS = 4_000

# Point lists (reference points, projects, enterprises; geodata.points): uploaded from the page,
# so tighter. A cell over the limit rejects its row there, rather than the file.
POINTS_MAX_BYTES = 5 * 2**20
POINTS_MAX_ROWS = 50_000
POINTS_MAX_CELL_CHARS = 2_000

# ------------------------------------------------------------------------- Excel (.xlsx = zip)

# A workbook has ~10 parts plus one per sheet, image or comment block.
XLSX_MAX_MEMBERS = 500
# openpyxl writes ~800 bytes of sheet XML per inventory row (measured: 19,500 rows = 15.5 MB)
# and reads ~3 MB of it per second here: 100 MiB is the row limit's worth, about half a minute.
XLSX_MAX_UNPACKED_BYTES = 100 * 2**20
# Real workbooks compress 7-20x (measured on openpyxl and Excel files); a zip bomb 1,000x.
XLSX_MAX_RATIO = 200
_XLSX_XML = (".xml", ".rels", ".vml")
# No part of an Office Open XML package has a document type declaration; one in a workbook is an
# entity expansion ("billion laughs") or an external-entity attack, whatever the parser.
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")

# --------------------------------------------------------------------------------- configs

MAX_CONFIG_BYTES = 1 * 2**20  # a run configuration is a few KB (the demo's is 5 KB)
MAX_NAME_CHARS = 200  # an area name is a page title
MAX_BLOCK_SIZE = 16_384  # [engine] block_size: a strip of block_size**2 pixels is read at once
MAX_THREADS = 256  # [engine] threads


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = int(float(text))
    except ValueError:
        return default
    return value if value > 0 else default


def raster_limits() -> tuple[int, int]:
    """``(max pixels per band, max uncompressed bytes)`` of a raster, with the server's overrides."""
    return _env_int(ENV_MAX_RASTER_PIXELS, MAX_RASTER_PIXELS), _env_int(ENV_MAX_RASTER_BYTES, MAX_RASTER_BYTES)


def _size(n: float) -> str:
    for unit, k in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= k:
            return f"{n / k:,.1f} {unit}"
    return f"{int(n):,} bytes"


def _pixels(n: float) -> str:
    return f"{n / 1e9:,.2f} Gpx" if n >= 1e9 else f"{n / 1e6:,.1f} Mpx"


def check_raster_size(source: str | Path, *, width: int, height: int, count: int, dtype: str) -> None:
    """Refuse a raster larger than the pixel or byte budget, before any pixel is read.

    The header alone decides (a 40 KB GeoTIFF can claim 10^6 x 10^6 pixels)."""
    max_px, max_bytes = raster_limits()
    px = int(width) * int(height)
    nbytes = px * max(int(count), 1) * np.dtype(dtype).itemsize
    fix = ("clip it to the study area or resample it coarser first (gdalwarp -te <bounds> or -tr 30 30; "
           f"-r near for land-cover classes); on a server with the memory and time for it, raise "
           f"{ENV_MAX_RASTER_PIXELS} / {ENV_MAX_RASTER_BYTES}")
    if px > max_px:
        raise UnsafeInputError(source, f"it is {width:,} x {height:,} = {_pixels(px)} per band, over the limit of "
                                       f"{_pixels(max_px)} for one request", fix)
    if nbytes > max_bytes:
        raise UnsafeInputError(source, f"it holds {_size(nbytes)} uncompressed ({width:,} x {height:,} x {count} band(s) "
                                       f"of {dtype}), over the limit of {_size(max_bytes)} for one request", fix)


def check_read_bytes(source: str | Path, *, shape: tuple[int, ...], dtype: str, what: str = "the read",
                     limit: int = MAX_READ_BYTES) -> None:
    """Refuse an in-memory read of ``shape`` x ``dtype`` over ``limit`` (default
    :data:`MAX_READ_BYTES`; whole-array reads: pictures, layers; the zonal engine reads strips
    and never needs this)."""
    nbytes = int(np.prod([int(s) for s in shape], dtype=object)) * np.dtype(dtype).itemsize
    if nbytes > limit:
        raise UnsafeInputError(source, f"{what} would hold {_size(nbytes)} in memory ({' x '.join(f'{int(s):,}' for s in shape)} "
                                       f"of {dtype}), over the limit of {_size(limit)}",
                               "read it by windows, or clip / resample the raster first (gdalwarp -te ... / -tr ...)")


# ------------------------------------------------------------------------------------- tables


def check_file_size(source: str | Path, n_bytes: int, *, limit: int, fix: str) -> None:
    """Refuse a file of ``n_bytes`` over ``limit`` (checked on the size before reading it)."""
    if n_bytes > limit:
        raise UnsafeInputError(source, f"the file is {_size(n_bytes)}, over the limit of {_size(limit)}", fix)


def read_limited(source: str | Path, label: str, *, limit: int = MAX_TABLE_BYTES, what: str = "table") -> bytes:
    """The bytes of the file ``source``, refusing it by its size first (nothing is read past the limit)."""
    path = Path(source)
    fix = f"split the {what} into smaller files, or keep only the rows and columns needed"
    check_file_size(label, path.stat().st_size, limit=limit, fix=fix)
    with open(path, "rb") as fh:
        raw = fh.read(limit + 1)
    check_file_size(label, len(raw), limit=limit, fix=fix)  # it grew while we looked
    return raw


def too_many_rows(source: str | Path, *, limit: int = MAX_TABLE_ROWS, where: str = "") -> UnsafeInputError:
    """The error for a table over the row limit (``where``: e.g. "sheet 'x': ")."""
    return UnsafeInputError(source, f"{where}the table has more than {limit:,} data rows (the limit for one file)",
                            f"split it into files of at most {limit:,} rows, or keep only the years and zones needed")


def cell_too_long(source: str | Path, *, row: int, column: str | None, n_chars: int, limit: int = MAX_CELL_CHARS,
                  row_word: str = "line", at_least: bool = False) -> UnsafeInputError:
    """The error for a cell over ``limit`` characters (``row``: the line or spreadsheet row;
    ``column`` None and ``at_least`` when the parser gave up before knowing them)."""
    where = f"{row_word} {row}" + (f", column {column!r}" if column is not None else "")
    size = f"{'more than ' if at_least else ''}{n_chars:,}"
    return UnsafeInputError(source, f"{where}: a cell of {size} characters (limit {limit:,})",
                            "shorten that cell (keep long notes in a separate document and cite it), or check that the "
                            "file is the table you meant (an unclosed quote swallows the rest of a CSV file into one cell)")


def check_cells(df: pd.DataFrame, source: str | Path, *, first_row: int = 2, limit: int = MAX_CELL_CHARS,
                row_word: str = "row") -> None:
    """Refuse a table with a cell longer than ``limit`` characters; names the first such cell
    (``first_row``: the spreadsheet row of ``df``'s first row, 2 under a header row)."""
    for pos, col in enumerate(df.columns):
        lengths = df.iloc[:, pos].astype("string").str.len()
        over = np.flatnonzero((lengths > limit).fillna(False).to_numpy())
        if len(over):
            i = int(over[0])
            raise cell_too_long(source, row=first_row + i, column=str(col), n_chars=int(lengths.iloc[i]), limit=limit,
                                row_word=row_word)
    for col in df.columns:
        if len(str(col)) > limit:
            raise cell_too_long(source, row=first_row - 1, column=str(col)[:40] + "...", n_chars=len(str(col)), limit=limit,
                                row_word=row_word)


# ------------------------------------------------------------------------------ Excel (.xlsx)


def check_xlsx(raw: bytes, source: str | Path) -> None:
    """Check an .xlsx workbook (a zip of XML parts) before openpyxl opens it.

    Refuses: an unreadable archive; more than :data:`XLSX_MAX_MEMBERS` parts; parts with absolute
    or ``..`` paths; a part expanding more than :data:`XLSX_MAX_RATIO` times or a total over
    :data:`XLSX_MAX_UNPACKED_BYTES` (zip bombs, judged on the declared sizes, then on the bytes as
    they inflate, so a lying header gains nothing); XML parts with a document type declaration
    (``<!DOCTYPE`` / ``<!ENTITY``: entity expansion and external entities; no genuine part has
    one), or not in UTF-8 (the only encoding Excel writes, and the one the scan can read).

    ``defusedxml`` is not installed here; openpyxl then parses with the standard library's expat
    (2.4+ limits entity amplification and never fetches external entities). This scan refuses
    the attack before any parser runs, whichever parser openpyxl picks.
    """
    fix = "open it in Excel and save it again as .xlsx, or save it as CSV (UTF-8)"
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise DataError(source, f"it looks like a zip file but is not a readable .xlsx workbook: the archive is damaged or cut short ({exc})",
                        fix) from exc
    if len(infos) > XLSX_MAX_MEMBERS:
        raise UnsafeInputError(source, f"the workbook has {len(infos):,} parts (limit {XLSX_MAX_MEMBERS:,})", fix)
    total = 0
    for info in infos:
        p = PurePosixPath(info.filename.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
            raise UnsafeInputError(source, f"workbook part '{info.filename}' has an absolute or parent-directory path", fix)
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > XLSX_MAX_RATIO:
            raise UnsafeInputError(source, f"workbook part '{info.filename}' expands {info.file_size / info.compress_size:,.0f}x "
                                           f"(limit {XLSX_MAX_RATIO}x): a zip bomb", "upload the workbook as Excel saved it, or as CSV (UTF-8)")
    if total > XLSX_MAX_UNPACKED_BYTES:
        raise UnsafeInputError(source, f"the workbook expands to {_size(total)} (limit {_size(XLSX_MAX_UNPACKED_BYTES)})",
                               f"split it, or save the sheet as CSV (UTF-8; up to {_size(MAX_TABLE_BYTES)} and {MAX_TABLE_ROWS:,} rows)")
    seen = 0
    for info in infos:
        if info.is_dir():
            continue
        seen += _scan_part(zf, info, source, XLSX_MAX_UNPACKED_BYTES - seen, fix)


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source, budget: int, fix: str) -> int:
    """Inflate one part in chunks (counting the real bytes against ``budget``); EVERY part is
    scanned for a DTD (a part's name does not decide how openpyxl reads it: [Content_Types].xml
    does), and none may start as UTF-16/32 text (which would hide the markers from the scan).
    Returns the bytes inflated."""
    is_xml = info.filename.lower().endswith(_XLSX_XML)
    n, tail, first = 0, b"", True
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                n += len(chunk)
                if n > budget:
                    raise UnsafeInputError(source, f"workbook part '{info.filename}' inflates past the limit of "
                                                   f"{_size(XLSX_MAX_UNPACKED_BYTES)} (its header understates its size): a zip bomb", fix)
                if first:
                    first = False
                    head = chunk[:4]
                    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (is_xml and b"\x00" in head):
                        raise UnsafeInputError(source, f"workbook part '{info.filename}' is not UTF-8 XML", fix)
                window = tail + chunk
                for marker in _DTD_MARKERS:
                    if marker in window:
                        raise UnsafeInputError(source, f"workbook part '{info.filename}' declares a document type or entities "
                                                       f"({marker.decode()}): an XML entity attack, never written by Excel", fix)
                tail = window[-16:]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise DataError(source, f"workbook part '{info.filename}' cannot be unpacked ({exc}): the file is damaged or cut short", fix) from exc
    return n
