"""Read CSV tables the way users produce them (Excel in China: GBK, BOM, blanks)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from geodata.errors import DataError, EmptyResultError, SchemaError
from geodata.limits import MAX_CELL_CHARS, MAX_TABLE_BYTES, MAX_TABLE_ROWS, cell_too_long, check_file_size, read_limited, too_many_rows

ENCODINGS = ("utf-8-sig", "gb18030")
# a number with thousands separators in strict groups of three: 1,234 / -12,345.6 (and nothing else with a comma)
_GROUPED = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"


def read_csv(source: str | Path | bytes, *, name: str | None = None, required: tuple[str, ...] = (),
             keep_blank_lines: bool = False) -> pd.DataFrame:
    """Read a CSV as strings, trying UTF-8 (with or without BOM) then GB18030 (a superset of GBK).

    Every cell is read as text so the caller decides, row by row, what is a number; nothing is
    coerced or dropped here. Column names are stripped and lower-cased. Empty lines are skipped
    unless ``keep_blank_lines`` (then they are rows of blanks, so index + 2 stays the line number).

    The separator is a comma; a file whose header only splits on ``;`` or a tab (European Excel,
    "text (tab delimited)") is read with that separator instead, and ``df.attrs["sep"]`` says which
    (the caller notes it). A header that repeats a column raises ``SchemaError``; a row with more
    fields than the header (a trailing comma on every row, say) raises ``DataError`` naming the
    line, rather than letting the first column slide into the index or the extra field be lost.

    Limits (:mod:`geodata.limits`): a file over ``MAX_TABLE_BYTES`` (judged on its size, before
    reading), more than ``MAX_TABLE_ROWS`` records, or a cell over ``MAX_CELL_CHARS`` characters
    raises ``UnsafeInputError`` naming the line and the column.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    if isinstance(source, bytes):
        raw = source
        check_file_size(label, len(raw), limit=MAX_TABLE_BYTES, fix="split the table into smaller files, or keep only the rows and columns needed")
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(path, "the file does not exist", "check the path in the configuration")
        if not path.is_file():
            raise DataError(path, "it is a folder, not a file", "give the path of the CSV file itself")
        raw = read_limited(path, label)
    if not raw.strip():
        raise EmptyResultError(label, "the file is empty", "save the table with its header row and one row per record")
    enc = detect_encoding(raw)
    if enc is None:
        raise DataError(label, "the text is neither UTF-8 nor GBK/GB18030", "save it from Excel as 'CSV UTF-8'")
    text = raw.decode(enc)
    sep = _check_fields(text, label)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True,
                         skip_blank_lines=not keep_blank_lines, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(label, f"it cannot be parsed as CSV ({exc})", "check the separators (commas) and quotes; one header row, then one row per record") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    df.attrs["sep"] = sep
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(label, f"missing column(s) {missing} (found {list(df.columns)})", f"add the column(s) {missing} to the header row")
    return df


class _CsvError(Exception):
    """The csv module gave up at ``line``."""

    def __init__(self, line: int, text: str) -> None:
        super().__init__(text)
        self.line = line


def _records(text: str, sep: str):
    """(line number, fields) of each non-empty record, by the csv module (quotes honoured)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    try:
        for fields in reader:
            if fields:
                yield reader.line_num, fields
    except csv.Error as exc:
        raise _CsvError(reader.line_num, str(exc)) from exc


def _check_record(label: str, line: int, fields: list[str], header: list[str]) -> None:
    if fields and max(map(len, fields)) > MAX_CELL_CHARS:
        i = next(i for i, f in enumerate(fields) if len(f) > MAX_CELL_CHARS)
        column = header[i] if i < len(header) else f"field {i + 1}"
        raise cell_too_long(label, row=line, column=column[:60], n_chars=len(fields[i]))


def _check_fields(text: str, label: str) -> str:
    """The separator (``,``, or ``;`` / tab sniffed from a one-column header), after checking the
    header repeats no column, no row has more fields than the header, the rows are not more than
    ``MAX_TABLE_ROWS`` and no cell is longer than ``MAX_CELL_CHARS``."""
    try:
        records = _records(text, ",")
        first = next(records, None)
        if first is None:
            return ","  # empty: pandas says so
        sep = ","
        if len(first[1]) == 1:
            cell = first[1][0]
            counts = {s: cell.count(s) for s in (";", "\t")}
            best = max(counts, key=counts.get)
            if counts[best]:
                sep = best
                records = _records(text, sep)
                first = next(records)
        header = [f.strip().lower() for f in first[1]]
        _check_record(label, first[0], first[1], [f"header {i + 1}" for i in range(len(header))])
        seen: dict[str, int] = {}
        for i, h in enumerate(header):
            if h and h in seen:
                raise SchemaError(label, f"the header repeats the column {h!r} (columns {seen[h] + 1} and {i + 1}); "
                                         "the second copy would be renamed and ignored", "keep one column")
            seen.setdefault(h, i)
        for n, (line, fields) in enumerate(records, start=1):
            if n > MAX_TABLE_ROWS:
                raise too_many_rows(label, limit=MAX_TABLE_ROWS)
            _check_record(label, line, fields, header)
            if len(fields) > len(header):
                extra = fields[len(header):]
                what = "empty " if all(not f.strip() for f in extra) else ""
                raise DataError(label, f"line {line} has {len(fields)} fields but the header has {len(header)} "
                                       f"({len(extra)} {what}extra field(s) after the last column)",
                                "remove the trailing commas or add a header for the extra column")
    except _CsvError as exc:
        if "field larger than field limit" in str(exc):  # the csv module's own cap, far above ours
            raise cell_too_long(label, row=exc.line, column=None, n_chars=csv.field_size_limit(), at_least=True) from None
        return ","  # pandas reports what it cannot parse
    return sep


def detect_encoding(raw: bytes) -> str | None:
    """``utf-8-sig`` (with a BOM), ``utf-8``, ``gb18030`` (GBK from Chinese Excel) or None when none decodes."""
    for enc in ENCODINGS:
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "utf-8-sig" and not raw.startswith(b"\xef\xbb\xbf"):
            return "utf-8"
        return enc
    return None


def to_number(values: pd.Series) -> pd.Series:
    """Parse text to float; blanks, text, inf become NaN (the caller reports them).

    A comma is read only as a thousands separator in strict groups of three (``1,234``,
    ``-12,345.6``); any other comma (``1,5``, ``1.234,5``: a decimal comma) makes the cell not a
    number rather than silently a different one."""
    s = values.astype(str).str.strip()
    ok = ~s.str.contains(",", regex=False) | s.str.fullmatch(_GROUPED)
    out = pd.to_numeric(s.str.replace(",", "", regex=False).where(ok, ""), errors="coerce")
    return out.where(~out.isin([float("inf"), float("-inf")]))
