"""Read CSV tables the way users produce them (Excel in China: GBK, BOM, blanks)."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geodata.errors import DataError, SchemaError

ENCODINGS = ("utf-8-sig", "gb18030")


def read_csv(source: str | Path | bytes, *, name: str | None = None, required: tuple[str, ...] = (),
             keep_blank_lines: bool = False) -> pd.DataFrame:
    """Read a CSV as strings, trying UTF-8 (with or without BOM) then GB18030 (a superset of GBK).

    Every cell is read as text so the caller decides, row by row, what is a number; nothing is
    coerced or dropped here. Column names are stripped and lower-cased. Empty lines are skipped
    unless ``keep_blank_lines`` (then they are rows of blanks, so index + 2 stays the line number).
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
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=not keep_blank_lines)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(label, f"it cannot be parsed as CSV ({exc})", "check the separators (commas) and quotes; one header row, then one row per record") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(label, f"missing column(s) {missing} (found {list(df.columns)})", f"add the column(s) {missing} to the header row")
    return df


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
    """Parse text to float; blanks, text, inf become NaN (the caller reports them)."""
    out = pd.to_numeric(values.astype(str).str.strip().str.replace(",", "", regex=False), errors="coerce")
    return out.where(~out.isin([float("inf"), float("-inf")]))
