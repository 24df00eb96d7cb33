"""Read CSV tables the way users produce them (Excel in China: GBK, BOM, blanks)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from geodata.errors import DataError, SchemaError

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
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    if isinstance(source, bytes):
        raw = source
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(path, "the file does not exist", "check the path in the configuration")
        raw = path.read_bytes()
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


def _records(text: str, sep: str):
    """(line number, fields) of each non-empty record, by the csv module (quotes honoured)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    for fields in reader:
        if fields:
            yield reader.line_num, fields


def _check_fields(text: str, label: str) -> str:
    """The separator (``,``, or ``;`` / tab sniffed from a one-column header), after checking the
    header repeats no column and no row has more fields than the header."""
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
        seen: dict[str, int] = {}
        for i, h in enumerate(header):
            if h and h in seen:
                raise SchemaError(label, f"the header repeats the column {h!r} (columns {seen[h] + 1} and {i + 1}); "
                                         "the second copy would be renamed and ignored", "keep one column")
            seen.setdefault(h, i)
        for line, fields in records:
            if len(fields) > len(header):
                extra = fields[len(header):]
                what = "empty " if all(not f.strip() for f in extra) else ""
                raise DataError(label, f"line {line} has {len(fields)} fields but the header has {len(header)} "
                                       f"({len(extra)} {what}extra field(s) after the last column)",
                                "remove the trailing commas or add a header for the extra column")
    except csv.Error:
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
