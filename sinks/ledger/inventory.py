"""The emissions inventory: import, validation, sector mapping and several sources side by side.

An inventory table (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030 as Chinese Excel saves it, or an
Excel ``.xlsx`` workbook) has one row per dataset, zone, year and sector (optionally sub-sector,
scope and fuel) with the emissions and their source. :func:`load_emissions` splits it into
accepted rows (typed, in t CO2e, sectors mapped to the plan's five and to CEADs' 47) and rejected
rows (as read, with the spreadsheet row number and a coded reason): nothing is dropped silently.
Several datasets (series) may sit side by side; :func:`compare_sources` shows where they
disagree, and totals only ever use one of them (``primary``), so two series are never added up.

Emissions are stored as non-negative magnitudes. Removals are not entered here: the land-cover
assessment estimates them, and :mod:`sinks.neutrality` is the one place where the two meet.
"""
from __future__ import annotations

import difflib
import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from geodata.errors import DataError, EmptyResultError, SchemaError
from geodata.limits import MAX_TABLE_BYTES, MAX_TABLE_ROWS, check_cells, check_file_size, check_xlsx, read_limited, too_many_rows
from geodata.tables import detect_encoding, read_csv, to_number
from sinks.notes import Note
from sinks.units import T_PER_KT, T_PER_MT, T_PER_WAN_T

PLAN_SECTORS = ("industry", "energy", "buildings", "transport", "other")
SCOPES = ("scope1", "scope2", "scope3")
LEDGER_DIR = Path(__file__).resolve().parents[2] / "data" / "ledger"
SECTOR_MAP_PATH = LEDGER_DIR / "sector_map.csv"
SECTOR_MAP_COLUMNS = ("alias", "plan_sector", "ceads_sector", "citation", "verified", "note")
# optional column: for an aggregate alias that names only part of its plan sector, the part
# (agriculture within other, households within buildings; aliases with the same part name the same
# part); blank = the whole plan sector (industry, 工业)
SECTOR_MAP_PART = "part"
YEAR_RANGE = (1950, 2100)
ALL_ZONES = "all"  # zone_id when the table has no zone column (the whole area)

# The 47 sectors of the CEADs provincial and city inventories, in CEADs' order (Shan et al. 2018
# Sci. Data 5:170201; 2020 Sci. Data 7:54; names as in the CEADs workbooks, checked against
# shared/data/emissions/ceads_jiangsu_sectoral_co2_1997_2019.csv by tests/test_ledger_inventory.py).
CEADS_SECTORS = (
    "Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy", "Coal Mining and Dressing",
    "Petroleum and Natural Gas Extraction", "Ferrous Metals Mining and Dressing", "Nonferrous Metals Mining and Dressing",
    "Nonmetal Minerals Mining and Dressing", "Other Minerals Mining and Dressing", "Logging and Transport of Wood and Bamboo",
    "Food Processing", "Food Production", "Beverage Production", "Tobacco Processing", "Textile Industry",
    "Garments and Other Fiber Products", "Leather, Furs, Down and Related Products",
    "Timber Processing, Bamboo, Cane, Palm Fiber & Straw Products", "Furniture Manufacturing",
    "Papermaking and Paper Products", "Printing and Record Medium Reproduction", "Cultural, Educational and Sports Articles",
    "Petroleum Processing and Coking", "Raw Chemical Materials and Chemical Products", "Medical and Pharmaceutical Products",
    "Chemical Fiber", "Rubber Products", "Plastic Products", "Nonmetal Mineral Products",
    "Smelting and Pressing of Ferrous Metals", "Smelting and Pressing of Nonferrous Metals", "Metal Products",
    "Ordinary Machinery", "Equipment for Special Purposes", "Transportation Equipment", "Electric Equipment and Machinery",
    "Electronic and Telecommunications Equipment", "Instruments, Meters, Cultural and Office Machinery",
    "Other Manufacturing Industry", "Scrap and waste", "Production and Supply of Electric Power, Steam and Hot Water",
    "Production and Supply of Gas", "Production and Supply of Tap Water", "Construction",
    "Transportation, Storage, Post and Telecommunication Services", "Wholesale, Retail Trade and Catering Services",
    "Others", "Urban", "Rural",
)

ROW_COLUMNS = ("year", "zone_id", "dataset", "sector", "sub_sector", "ceads_sector", "scope", "fuel", "emissions_tco2e",
               "uncertainty_pct", "unit_in", "source", "basis", "illustrative", "in_totals", "row")
# One row above this is rejected as implausible: 10 Gt CO2e is more than a quarter of the world's
# annual emissions (about 37 Gt CO2 from fossil fuels in 2023, Global Carbon Budget), so it is a unit
# or decimal-point slip, not a city, county or sector.
IMPLAUSIBLE_TCO2E = 1e10

# Column headers: canonical name -> accepted spellings (compared after _norm_header).
_HEADERS: dict[str, tuple[str, ...]] = {
    "year": ("year", "年份", "年", "年度"),
    "zone_id": ("zone_id", "zone", "区域", "分区"),
    "dataset": ("dataset", "series", "数据集"),
    "sector": ("sector", "部门", "行业", "领域"),
    "sub_sector": ("sub_sector", "subsector", "子部门", "子行业"),
    "scope": ("scope", "范围"),
    "fuel": ("fuel", "燃料", "能源品种"),
    "value": ("value", "emissions", "排放量", "排放"),
    "emissions_tco2e": ("emissions_tco2e", "tco2e", "emissions_tco2"),  # emissions_tco2: the project's old name
    "unit": ("unit", "单位"),
    "uncertainty_pct": ("uncertainty_pct", "不确定性", "不确定性_pct", "不确定性(%)", "不确定性_(%)"),
    "source": ("source", "来源", "数据来源"),
    "basis": ("basis", "依据", "方法"),
    "illustrative": ("illustrative", "示意"),
}
_REQUIRED = ("year", "sector", "source")

# Units: a mass prefix (t, kt = Gg, 万吨 = 1e4 t, Mt = Tg; English or Chinese) and an optional gas
# suffix (CO2, CO2e, 二氧化碳(当量)). Keys are compared after _norm (case, spaces, full width and
# subscripts folded: "tCO₂e" == "tco2e"). "MT" therefore reads as megatonnes, as in CEADs.
_UNIT_PREFIX: dict[str, tuple[str, float]] = {
    "t": ("t", 1.0), "tonne": ("t", 1.0), "tonnes": ("t", 1.0), "吨": ("t", 1.0),
    "kt": ("kt", T_PER_KT), "千吨": ("kt", T_PER_KT), "gg": ("Gg", T_PER_KT),
    "万吨": ("万吨", T_PER_WAN_T), "万t": ("万吨", T_PER_WAN_T),
    "mt": ("Mt", T_PER_MT), "百万吨": ("Mt", T_PER_MT), "tg": ("Tg", T_PER_MT),
}
_UNIT_SUFFIX = ("", "co2", "co2e", "co2eq", "co2当量", "二氧化碳", "二氧化碳当量")
_UNITS: dict[str, tuple[str, float]] = {p + s: v for p, v in _UNIT_PREFIX.items() for s in _UNIT_SUFFIX}
_UNIT_FACTOR = {k: f for k, (_, f) in _UNITS.items()}
# a number followed by a unit in the same cell: "12.5万吨", "3 kt", "1.2Mt", "2e3 tCO2e"
_VALUE_UNIT_RE = r"^(?P<num>[+-]?[\d.,]*\d(?:[eE][+-]?\d+)?)\s*(?P<unit>[^\d\s.,+-].*)$"

_SCOPE_WORDS = {1: ("scope1", "s1", "1", "范围一", "范围1", "scopei"), 2: ("scope2", "s2", "2", "范围二", "范围2", "scopeii"),
                3: ("scope3", "s3", "3", "范围三", "范围3", "scopeiii")}
_SCOPES = {w: f"scope{k}" for k, words in _SCOPE_WORDS.items() for w in words}
_YES = {"true", "1", "yes", "y", "是"}
_VERIFIED = {"yes": True, "no": False, "是": True, "否": False, "true": True, "false": False}

_ZIP_MAGIC = b"PK\x03\x04"


def _xlsx_errors() -> tuple[type[BaseException], ...]:
    """What openpyxl / pandas raise on a damaged workbook that passed geodata.limits.check_xlsx (a
    part missing, malformed XML, a cell of the wrong type): reported as DataError. (openpyxl is
    imported only when a workbook is read.)"""
    from openpyxl.utils.exceptions import InvalidFileException

    return (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, AttributeError, OSError, EOFError,
            zlib.error, ElementTree.ParseError, InvalidFileException)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Excel (.xls)


def _norm(values: pd.Series) -> pd.Series:
    """Matching key: full width and subscripts folded (NFKC), lower case, no spaces, _ or -.

    Folded once per distinct value (a column of sector names has few)."""
    codes, uniques = pd.factorize(values.astype("string").fillna(""))
    keys = pd.Series(uniques, dtype="string").str.normalize("NFKC").str.lower().str.replace(r"[\s_\-]+", "", regex=True)
    return pd.Series(keys.to_numpy(dtype=object)[codes], index=values.index, dtype=object)


def _fold_numeric(values: pd.Series) -> pd.Series:
    """Numeric cells with full-width digits, points, signs and % (２０２０, １２．５％) folded to ASCII
    (NFKC). A cell with superscripts or subscripts (10⁴) is left as written, so it stays not a
    number instead of NFKC turning 10⁴ into 104."""
    def fold(v: str) -> str:
        if v.isascii() or any(unicodedata.decomposition(ch).startswith(("<super>", "<sub>")) for ch in v):
            return v
        return unicodedata.normalize("NFKC", v)

    codes, uniques = pd.factorize(values.astype("string").fillna(""))
    folded = np.array([fold(str(u)) for u in uniques], dtype=object)
    return pd.Series(folded[codes] if len(codes) else [], index=values.index, dtype=object)


def _decimal_comma_hint(text: str) -> str | None:
    """'1,5' -> '1.5', '1.234,5' -> '1234.5' (the number as it was probably meant), else None."""
    m = re.fullmatch(r"(?P<num>[+-]?[\d.,]*\d)(?P<rest>.*)", text.strip())
    if not m or "," not in m["num"]:
        return None
    num = m["num"]
    if "." in num and num.rfind(",") > num.rfind("."):
        fixed = num.replace(".", "").replace(",", ".")
    elif "." not in num and num.count(",") == 1:
        fixed = num.replace(",", ".")
    else:
        return None
    try:
        float(fixed)
    except ValueError:
        return None
    return fixed + m["rest"]


def _norm_header(name) -> str:
    s = pd.Series([str(name)]).str.normalize("NFKC").iloc[0].strip().lower()
    return re.sub(r"\s+", "_", s)


# --------------------------------------------------------------------------- sector map


def load_sector_map(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the sector map (default ``data/ledger/sector_map.csv``).

    Returns ``alias, plan_sector, ceads_sector, citation, verified (bool), note, part, key``
    (``key`` = the alias folded for matching; ``part``: the optional column, the part of its plan
    sector an aggregate alias names, such as ``agriculture`` within other, blank for the whole
    sector: rows under a part and under the whole are summed, whereas two names of the same part,
    or of the whole, are one sector and repeat each other). Every problem is listed in one
    ``SchemaError``: a missing column, an alias that is blank or repeated after folding, a plan
    sector outside :data:`PLAN_SECTORS`, a CEADs sector that is not one of :data:`CEADS_SECTORS`,
    no citation, ``verified`` not yes / no, a ``part`` given for a CEADs sector (it is for
    aggregates).
    """
    path = Path(path) if path is not None else SECTOR_MAP_PATH
    return _check_sector_map(read_csv(path, name=str(path)), name=str(path))


def _check_sector_map(df: pd.DataFrame, *, name: str) -> pd.DataFrame:
    missing = [c for c in SECTOR_MAP_COLUMNS if c not in df.columns]
    if missing:
        raise SchemaError(name, f"the sector map lacks column(s) {missing}", f"give columns {', '.join(SECTOR_MAP_COLUMNS)}")
    d = df[list(SECTOR_MAP_COLUMNS)].copy()
    d[SECTOR_MAP_PART] = df[SECTOR_MAP_PART] if SECTOR_MAP_PART in df.columns else ""
    for c in (*SECTOR_MAP_COLUMNS, SECTOR_MAP_PART):
        d[c] = d[c].astype("string").fillna("").str.strip().astype(object)
    d["key"] = _norm(d["alias"])
    verified = d["verified"].str.lower().map(_VERIFIED)
    part = _norm(d[SECTOR_MAP_PART])
    problems = []
    rows = lambda mask: [int(i) + 2 for i in d.index[mask]]  # noqa: E731  (spreadsheet rows)
    checks = [
        (d["alias"] == "", "no alias"),
        (d["key"].duplicated(keep=False) & (d["key"] != ""), "the same alias (ignoring case, spaces and full width) repeats"),
        (~d["plan_sector"].isin(PLAN_SECTORS), f"plan_sector is not one of {list(PLAN_SECTORS)}"),
        (~d["ceads_sector"].isin(("",) + CEADS_SECTORS), "ceads_sector is not one of the 47 CEADs sector names (or blank for an aggregate)"),
        (d["citation"] == "", "no citation"),
        (verified.isna(), "verified is not yes / no"),
        ((part != "") & (d["ceads_sector"] != ""), "a part is for aggregates (blank ceads_sector) only"),
    ]
    for mask, text in checks:
        if mask.any():
            problems.append(f"rows {rows(mask)}: {text}")
    if problems:
        raise SchemaError(name, "the sector map is not usable: " + "; ".join(problems), "fix those rows (see data/ledger/README.md)")
    d["verified"] = verified.astype(bool)
    d["part_key"] = part
    return d.reset_index(drop=True)


def suggest_sector(text: str, sector_map: pd.DataFrame) -> str | None:
    """The alias of ``sector_map`` closest to ``text`` (difflib), or None when none is close."""
    key = _norm(pd.Series([text])).iloc[0]
    if not key:
        return None
    hit = difflib.get_close_matches(key, list(sector_map["key"]), n=1, cutoff=0.6)
    return str(sector_map.loc[sector_map["key"] == hit[0], "alias"].iloc[0]) if hit else None


# --------------------------------------------------------------------------- the inventory


@dataclass(frozen=True)
class EmissionsInventory:
    """Accepted rows (typed, t CO2e), rejected rows (as read, with reasons) and notes.

    ``rows``: ``year`` (int), ``zone_id``, ``dataset``, ``sector`` (one of :data:`PLAN_SECTORS`),
    ``sub_sector``, ``ceads_sector`` (one of :data:`CEADS_SECTORS` or blank), ``scope``
    (``scope1`` / ``scope2`` / ``scope3``), ``fuel``, ``emissions_tco2e`` (t CO2e, >= 0),
    ``uncertainty_pct`` (95 % half-width in % of the value; NaN when not given), ``unit_in`` (the
    unit as given), ``source``, ``basis``, ``illustrative`` (bool), ``in_totals`` (bool: False for
    detail rows left out of the sums because their sector total is in the table too, see the
    ``aggregate_and_detail`` note), ``row`` (spreadsheet row, the header being row 1).
    ``rejected``: the rows as read + ``row``, ``reason`` (a :class:`Note`) and ``reason_code``. ``datasets``: in file order; ``primary``: the dataset that totals, KPIs
    and the reconciliation use (the others are shown beside it, never added to it).
    """

    rows: pd.DataFrame
    rejected: pd.DataFrame
    notes: tuple[Note, ...]
    path: str
    sha256: str
    encoding: str  # utf-8, utf-8-sig, gb18030 or xlsx
    datasets: tuple[str, ...]
    primary: str

    def _select(self, dataset: str | None, scopes) -> pd.DataFrame:
        ds = self.primary if dataset is None else dataset
        if ds not in self.datasets:
            raise ValueError(f"no dataset {ds!r} in {self.path}; datasets are {list(self.datasets)}")
        r = self.rows[self.rows["dataset"] == ds]
        return r if scopes is None else r[r["scope"].isin(tuple(scopes))]

    def years(self, dataset: str | None = None) -> list[int]:
        """Years with accepted rows in ``dataset`` (default: the primary dataset)."""
        return sorted(int(y) for y in self._select(dataset, None)["year"].unique())

    def totals(self, dataset: str | None = None, *, by=("zone_id", "year"), scopes=("scope1",)) -> pd.DataFrame:
        """Emissions of ``dataset`` (default primary) summed over everything not in ``by``.

        Returns ``*by, emissions_tco2e`` (t CO2e). When any row carries an uncertainty, also
        ``uncertainty_tco2e`` (95 % half-width of the rows that give one, combined in quadrature,
        i.e. assumed independent; NaN for a group where no row gives one) and
        ``uncertainty_coverage`` (the share of the group's emissions in rows with an uncertainty,
        0-1; the share of rows when the group's emissions are 0): an uncertainty covering half
        the emissions is read with that in mind. Only ``scopes`` count (default scope 1: adding
        scope 2 to scope 1 double counts the power plants' emissions), and only rows
        ``in_totals`` (detail rows beside their own sector total are left out).
        """
        r = self._select(dataset, scopes)
        r = r[r["in_totals"]]
        by = list(by)
        has_u = r["uncertainty_pct"].notna()
        r = r.assign(_u2=(r["emissions_tco2e"] * r["uncertainty_pct"] / 100.0) ** 2,
                     _e_u=r["emissions_tco2e"].where(has_u, 0.0), _has_u=has_u.astype(float))
        g = r.groupby(by, sort=True)
        out = g["emissions_tco2e"].sum().to_frame()
        if has_u.any():
            out["uncertainty_tco2e"] = g["_u2"].sum(min_count=1) ** 0.5
            share = g["_e_u"].sum() / out["emissions_tco2e"].where(out["emissions_tco2e"] > 0)
            out["uncertainty_coverage"] = share.fillna(g["_has_u"].mean())
        return out.reset_index()

    def by_sector(self, dataset: str | None = None, *, scopes=("scope1",)) -> pd.DataFrame:
        """``zone_id, year, sector, emissions_tco2e`` (+ ``uncertainty_tco2e``) of ``dataset`` (default primary)."""
        return self.totals(dataset, by=("zone_id", "year", "sector"), scopes=scopes)


def _raw_bytes(source: str | Path | bytes, label: str) -> bytes:
    """The file's bytes, refused by size first (``MAX_TABLE_BYTES``, for CSV and .xlsx alike)."""
    if isinstance(source, (bytes, bytearray)):
        check_file_size(label, len(source), limit=MAX_TABLE_BYTES, fix="split the inventory into smaller files (by years or datasets)")
        return bytes(source)
    path = Path(source)
    if not path.is_file():
        raise DataError(path, "the file does not exist", "check the path (in the configuration: [inventory] path)")
    return read_limited(path, label, what="inventory")


def _read_xlsx(raw: bytes, label: str, sheet: str | int | None) -> tuple[pd.DataFrame, list[Note]]:
    """The sheet as text cells. The workbook is checked before openpyxl opens it
    (:func:`geodata.limits.check_xlsx`: zip bomb, paths, XML entity declarations); at most
    ``MAX_TABLE_ROWS`` rows are parsed, and a longer sheet or a cell over ``MAX_CELL_CHARS`` is
    refused naming the row."""
    check_xlsx(raw, label)
    fix = "open it in Excel and save it again as .xlsx, or as CSV (UTF-8)"
    try:
        book = pd.ExcelFile(io.BytesIO(raw), engine="openpyxl")
        names = list(book.sheet_names)
    except _xlsx_errors() as exc:
        raise DataError(label, f"it looks like a zip file but is not a readable .xlsx workbook ({exc})", fix) from exc
    if not names:
        raise DataError(label, "the workbook has no sheet", fix)
    if sheet is None:
        pick = names[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(names):
            raise DataError(label, f"the workbook has no sheet number {sheet} (it has {len(names)}: {names})", "pick a sheet by name or number from 0")
        pick = names[sheet]
    else:
        if str(sheet) not in names:
            raise DataError(label, f"the workbook has no sheet {sheet!r} (sheets: {names})", "pick one of those sheets")
        pick = str(sheet)
    try:
        head = pd.read_excel(book, sheet_name=pick, dtype=object, header=None, nrows=1)
        df = pd.read_excel(book, sheet_name=pick, dtype=object, header=0, nrows=MAX_TABLE_ROWS + 1)
    except _xlsx_errors() as exc:
        raise DataError(label, f"sheet '{pick}' cannot be read ({type(exc).__name__}: {exc})", fix) from exc
    names_read = [str(v).strip().lower() for v in (head.iloc[0].tolist() if len(head) else []) if pd.notna(v) and str(v).strip()]
    repeated = sorted({h for h in names_read if names_read.count(h) > 1})
    if repeated:  # pandas would rename the second copy (x.1) and the inventory ignore it
        raise SchemaError(label, f"sheet '{pick}': the header repeats the column(s) {repeated}", "keep one column")
    if len(df) > MAX_TABLE_ROWS:
        raise too_many_rows(label, limit=MAX_TABLE_ROWS, where=f"sheet '{pick}': ")
    check_cells(df, f"{label} (sheet '{pick}')")
    df = df.astype("string").fillna("").astype(object)
    # Excel stores whole numbers typed as 2010.0 in some files: to_number reads them the same.
    notes = []
    if len(names) > 1:
        notes.append(Note("sheet", f"read sheet '{pick}' of the {len(names)} sheets {names}", sheet=pick, sheets=names))
    return df, notes


def _read_table(raw: bytes, label: str, sheet) -> tuple[pd.DataFrame, str, list[Note]]:
    """The table as text cells, its encoding (or ``xlsx``) and notes on how it was read.

    The content decides, not the name: a zip is an .xlsx workbook, the OLE2 signature an old
    binary .xls (refused with the fix), anything else is read as CSV text (noted when the name
    says Excel)."""
    lower = label.lower()
    if raw.startswith(_ZIP_MAGIC):
        df, notes = _read_xlsx(raw, label, sheet)
        return df, "xlsx", notes
    if raw.startswith(_OLE2_MAGIC):
        raise DataError(label, "it is an old binary Excel workbook (.xls), which is not read", "save it as .xlsx or CSV in Excel and upload that")
    excel_name = lower.endswith((".xls", ".xlsx", ".xlsm"))
    enc = detect_encoding(raw)
    if enc is None or b"\x00" in raw[:8192]:
        if excel_name:
            raise DataError(label, "it is named like an Excel workbook but its content is neither a workbook nor CSV text (damaged, or another file renamed)",
                            "open it in Excel and save it as .xlsx or CSV (UTF-8)")
        if enc is not None:
            raise DataError(label, "it is a binary file, not CSV text nor an .xlsx workbook",
                            "save it from Excel as .xlsx or 'CSV UTF-8'")
    head = raw[:512].decode(enc or "utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    if head.startswith(("<html", "<!doctype", "<table", "<?xml")):
        raise DataError(label, "it is an HTML or XML page, not CSV text (some systems export tables this way and name them .xls)",
                        "open it in Excel and save it as .xlsx or CSV (UTF-8)")
    df = read_csv(raw, name=label, keep_blank_lines=True)
    notes = []
    if excel_name:
        notes.append(Note("csv_named_excel", f"{Path(label).name} is named like an Excel workbook but holds CSV text: read as CSV",
                          name=Path(label).name))
    sep = df.attrs.get("sep", ",")
    if sep != ",":
        word = "semicolon" if sep == ";" else "tab"
        notes.append(Note("separator", f"the columns are separated by {word}s ({sep!r}), not commas: read that way", separator=sep))
    if enc == "gb18030":
        notes.append(Note("encoding_gbk", "read as GBK/GB18030 (a CSV saved by Chinese Excel)", encoding=enc))
    return df, enc or "", notes


def _map_columns(columns, label: str) -> tuple[dict[str, str], str | None, list[str]]:
    """canonical -> column as read, the unit written in the value column's header, ignored columns."""
    lookup = {_norm_header(a): canon for canon, names in _HEADERS.items() for a in names}
    found: dict[str, list[str]] = {}
    header_unit = None
    ignored = []
    for col in columns:
        h = _norm_header(col)
        canon = lookup.get(h)
        if canon is None:  # "排放量（万吨）", "emissions (kt)": the unit in the header
            m = re.fullmatch(r"(?P<base>.+?)_?\((?P<unit>[^()]+)\)", h)
            if m and lookup.get(m["base"]) in ("value", "emissions_tco2e"):
                key = _norm(pd.Series([m["unit"]])).iloc[0]
                if key not in _UNITS:
                    raise SchemaError(label, f"the unit {m['unit']!r} in the header {col!r} is not known",
                                      "use t, kt (Gg), 万吨 or Mt (Tg), optionally with CO2 / CO2e, or give a unit column")
                canon, header_unit = "value", m["unit"].strip()
            elif m and lookup.get(m["base"]) == "uncertainty_pct":
                canon = "uncertainty_pct"
        if canon is None:
            ignored.append(str(col))
        else:
            found.setdefault(canon, []).append(str(col))
    twice = {c: cols for c, cols in found.items() if len(cols) > 1}
    if twice:
        raise SchemaError(label, f"several columns mean the same thing: {twice}", "keep one column of each")
    m = {c: cols[0] for c, cols in found.items()}
    if "value" in m and "emissions_tco2e" in m:
        raise SchemaError(label, f"two value columns: {m['value']!r} and {m['emissions_tco2e']!r}", "keep one (emissions_tco2e in t CO2e, or value + unit)")
    missing = [c for c in _REQUIRED if c not in m]
    if "value" not in m and "emissions_tco2e" not in m:
        missing.append("emissions_tco2e (or value + unit)")
    if missing:
        raise SchemaError(label, f"missing column(s) {missing} (found {list(map(str, columns))})",
                          "add them to the header row: year, sector, emissions_tco2e, source (Chinese headers such as 年份, 部门, 排放量, 单位, 来源 work too)")
    return m, header_unit, ignored


def _dataset_id(label: str) -> str:
    stem = Path(label).stem if label and not label.startswith("<") else "upload"
    return re.sub(r"\W+", "_", stem.lower()).strip("_")[:40] or "inventory"


def _reason_note(code: str, r: dict, cols: dict[str, str]) -> Note:
    """The English reason with its code and the values, for one rejected row."""
    v = cols.get("value", "the value")
    if code == "bad_year":
        return Note(code, f"{cols['year']} {r['year']!r} is not a whole year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}", value=r["year"])
    if code == "bad_value":
        if r.get("overflow"):
            return Note(code, f"{v} {r['value']!r} in {r['unit']} is not a finite number of tonnes once converted: check the value and the unit",
                        value=r["value"], unit=r["unit"])
        hint = _decimal_comma_hint(str(r.get("value_fold", r["value"])))
        if hint is not None:
            return Note(code, f"{v} {r['value']!r} is not a number (a comma is read only between groups of three digits, as in 1,234.5): "
                              f"decimal comma? write {hint}", value=r["value"], suggestion=hint)
        return Note(code, f"{v} {r['value']!r} is blank, text or infinite: give a number", value=r["value"])
    if code == "unit_conflict":
        return Note(code, f"{r['clash_a']} says {r['clash_ua']!r} but {r['clash_b']} says {r['clash_ub']!r}: which is right is your call; "
                          "make them agree (or leave the unit cell blank to use the header's unit)",
                    units=[r["clash_ua"], r["clash_ub"]], where=[r["clash_a"], r["clash_b"]], value=r["value"])
    if code == "implausible":
        return Note(code, f"{v} {r['value']!r} {r['unit']} is {r['tco2e']:.3g} t CO2e in one row, more than {IMPLAUSIBLE_TCO2E:.0e} t (10 Gt, over a "
                          "quarter of world emissions): check the unit (t, kt, 万吨, Mt) and the decimal point",
                    value=r["value"], unit=r["unit"], tco2e=float(r["tco2e"]), limit=IMPLAUSIBLE_TCO2E)
    if code == "negative":
        return Note(code, f"{v} is negative ({r['value']}): enter emissions as non-negative magnitudes; removals are not entered "
                          "here (the land-cover assessment estimates them)", value=r["value"])
    if code == "bad_unit":
        text = f"unit {r['unit']!r} is not known" if r["unit"] else "no unit"
        return Note(code, f"{text}: use t, kt (Gg), 万吨 or Mt (Tg), optionally with CO2 / CO2e", unit=r["unit"])
    if code == "unknown_sector":
        hint = f"; did you mean '{r['suggestion']}'?" if r["suggestion"] else ""
        return Note(code, f"sector {r['sector']!r} is not in the sector map (data/ledger/sector_map.csv){hint}",
                    sector=r["sector"], suggestion=r["suggestion"])
    if code == "unknown_zone":
        if not cols.get("zone_id"):
            return Note(code, f"the table has no zone column, so the row is for the whole area ('{ALL_ZONES}'), which is not one of the zones "
                              f"{r['zones']}: add a zone_id column", zone=ALL_ZONES, zones=r["zones"])
        text = "no zone_id" if not r["zone"] else f"zone_id {r['zone']!r} is not one of the zones {r['zones']}"
        return Note(code, text, zone=r["zone"], zones=r["zones"])
    if code == "bad_scope":
        return Note(code, f"scope {r['scope']!r} is not scope 1, 2 or 3 (scope1, s1, 范围一, ...)", scope=r["scope"])
    if code == "no_source":
        return Note(code, "no source: every row needs the publication or dataset it comes from")
    if code == "bad_uncertainty":
        hint = _decimal_comma_hint(r["uncertainty"])
        tail = f": decimal comma? write {hint}" if hint is not None else ""
        return Note(code, f"uncertainty_pct {r['uncertainty']!r} is not a non-negative number (or blank){tail}", value=r["uncertainty"])
    if code in ("duplicate", "conflict"):
        others = ", ".join(map(str, r["others"]))
        what = ("repeats" if code == "duplicate" else "has the same dataset, zone, year, sector, sub-sector, scope and fuel as")
        tail = ": keep one" if code == "duplicate" else " with a different value: which one is right is your call"
        return Note(code, f"{what} row(s) {others}{tail}", rows=list(r["others"]))
    raise ValueError(code)


def load_emissions(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    zone_ids: list[str] | None = None,
    sector_map: pd.DataFrame | None = None,
    sheet: str | int | None = None,
    primary: str | None = None,
) -> EmissionsInventory:
    """Read and validate an emissions inventory (CSV or .xlsx; path or uploaded bytes).

    Parameters
    ----------
    source
        A file path or the file's bytes. The content decides, not the name: a zip is an .xlsx
        workbook, an old binary ``.xls`` (OLE2) is refused with the fix (save as .xlsx or CSV),
        anything else is read as CSV text (a note says so when the name ends in .xls / .xlsx).
        Comma-separated; a file whose header splits only on ``;`` or tabs is read with that
        separator (noted). A repeated column header is a ``SchemaError``; a row with more fields
        than the header (trailing commas) a ``DataError``.
    name
        The name shown in messages (default: the path, or ``<upload>``); also the default dataset id.
    zone_ids
        When given, rows whose zone is not one of them are rejected.
    sector_map
        Default :func:`load_sector_map`.
    sheet
        Excel sheet name or 0-based number (default the first; a note names it when there are several).
    primary
        The dataset totals use (default: the first in the file). Must be one of the datasets.

    Columns (headers are case-insensitive; Chinese headers work too): ``year`` (年份), ``zone_id``
    (区域; optional, default ``all``), ``dataset`` (数据集; optional, default an id from the file
    name), ``sector`` (部门 / 行业), ``sub_sector``, ``scope`` (范围; blank = scope 1), ``fuel``,
    the value: ``emissions_tco2e`` (t CO2e) or ``value`` (排放量) with a ``unit`` (单位) column or
    the unit in its header (``排放量（万吨）``), ``uncertainty_pct``, ``source`` (来源), ``basis``,
    ``illustrative``. Units t, kt (Gg), 万吨 and Mt (Tg) are converted to t CO2e; a unit written
    in the value cell (``12.5万吨``, ``3 kt``) is used when the unit column is blank or agrees
    (``unit_in_value`` note). Numbers: full-width digits are folded (２０２０); a comma only
    separates thousands in groups of three (``1,234.5``), so ``1,5`` is rejected with the hint
    rather than read as 15.

    Rows are rejected, each with a coded reason (``reason_code``): ``bad_year``, ``bad_value``
    (also a value that overflows once converted, and a decimal comma, with the fix),
    ``negative``, ``bad_unit``, ``unit_conflict`` (the unit column, the value cell and the
    header's unit, ``emissions_tco2e`` = t or ``emissions (kt)``, disagree: both named),
    ``implausible`` (more than :data:`IMPLAUSIBLE_TCO2E` t CO2e in one row), ``unknown_sector``
    (with the closest alias), ``unknown_zone``, ``bad_scope``, ``no_source``,
    ``bad_uncertainty``, and among the remaining rows ``duplicate`` (identical) and ``conflict``
    (same dataset, zone, year, sector, sub-sector, scope and fuel, another value): every copy is
    rejected, naming the other rows. The sector is the CEADs sector for a row naming one, the
    plan sector for the names of a whole plan sector (``energy`` = ``能源``), and the part for an
    alias naming part of one (``agriculture`` within other, see the map's ``part`` column): a part
    and the whole are both kept and summed (``sector_aliases_summed`` note).

    A sector total beside its own detail rows (CEADs sectors, sub-sectors or fuels of the same
    plan sector, dataset, zone, year and scope) would count twice: the total is kept in the sums
    and the detail rows stay in ``rows`` with ``in_totals`` False (``aggregate_and_detail`` note,
    with the total, the detail sum and their difference per group).

    Raises ``DataError`` for an unreadable file, ``SchemaError`` for missing columns or an unknown
    ``primary``, ``EmptyResultError`` when no row is usable.
    """
    label = name or (str(source) if not isinstance(source, (bytes, bytearray)) else "<upload>")
    raw = _raw_bytes(source, label)
    smap = load_sector_map() if sector_map is None else _check_sector_map(sector_map, name="sector_map")
    df, encoding, notes = _read_table(raw, label, sheet)
    df = df.reset_index(drop=True)
    # wholly blank lines are not records: skipped (and counted), keeping index + 2 = the row number
    blank = (df.astype("string").fillna("").apply(lambda c: c.str.strip()) == "").all(axis=1)
    if blank.any():
        notes.append(Note("blank_rows", f"{int(blank.sum())} blank row(s) skipped", n=int(blank.sum()), rows=[int(i) + 2 for i in df.index[blank]]))
        df = df[~blank]
    cols, header_unit, ignored = _map_columns(df.columns, label)
    n = len(df)
    empty = pd.Series("", index=df.index, dtype=object)

    def text(canon: str) -> pd.Series:
        return df[cols[canon]].astype("string").fillna("").str.strip().astype(object) if canon in cols else empty

    value_col = cols.get("value") or cols.get("emissions_tco2e")
    # the unit the value column's header states: "(万吨)" in it, or t for emissions_tco2e; none for a bare value column
    head_unit = header_unit or ("t" if "emissions_tco2e" in cols else "")
    head_where = f"the header {value_col!r}"
    year_txt, value_txt, unit_txt = text("year"), df[value_col].astype("string").fillna("").str.strip().astype(object), text("unit")
    year = to_number(_fold_numeric(year_txt))
    value_fold = _fold_numeric(value_txt)
    value = to_number(value_fold)
    # a unit written in the value cell ("12.5万吨", "3 kt"): used when the unit column and header agree or say nothing
    parts = value_fold.astype("string").str.extract(_VALUE_UNIT_RE).astype(object).fillna("")
    cell_unit = parts["unit"].str.strip()
    in_value = value.isna() & (cell_unit != "") & _norm(cell_unit).isin(list(_UNIT_FACTOR))
    value = value.where(~in_value, to_number(parts["num"]))
    in_value &= value.notna()
    if "value" in cols and header_unit is None and "unit" not in cols and not in_value.any():
        raise SchemaError(label, f"the value column {value_col!r} has no unit", "add a unit column (t, kt, 万吨, Mt), put the unit in the header (排放量（万吨）), or name the column emissions_tco2e (t CO2e)")
    value_unit = cell_unit.where(in_value, "")
    f_col = _norm(unit_txt).map(_UNIT_FACTOR).astype(float)    # NaN: blank or unknown
    f_val = _norm(value_unit).map(_UNIT_FACTOR).astype(float)
    f_head = float(_UNIT_FACTOR[_norm(pd.Series([head_unit])).iloc[0]]) if head_unit else np.nan
    unit_given = unit_txt.where(unit_txt != "", value_unit.where(value_unit != "", head_unit))
    unit_key = _norm(unit_given)
    unit_label = unit_key.map({k: u for k, (u, _) in _UNITS.items()})
    factor = unit_key.map(_UNIT_FACTOR).astype(float)  # NaN: unknown unit (or none given)
    # two statements of the unit that disagree: which is right is the user's call
    clash = pd.DataFrame({"a": "", "ua": "", "b": "", "ub": ""}, index=df.index, dtype=object)
    for mask, a, ua, b, ub in (
        (f_col.notna() & f_val.notna() & (f_col != f_val), "the unit column", unit_txt, "the value cell", value_unit),
        (f_col.notna() & (f_col != f_head) & bool(head_unit), "the unit column", unit_txt, head_where, head_unit),
        (f_col.isna() & f_val.notna() & (f_val != f_head) & bool(head_unit), "the value cell", value_unit, head_where, head_unit),
    ):
        mask = mask & (clash["a"] == "")
        clash.loc[mask, "a"], clash.loc[mask, "b"] = a, b
        clash.loc[mask, "ua"] = ua[mask] if isinstance(ua, pd.Series) else ua
        clash.loc[mask, "ub"] = ub[mask] if isinstance(ub, pd.Series) else ub

    sector_txt, sub_txt = text("sector"), text("sub_sector")
    by_key = smap.set_index("key")
    sector_key, sub_key = _norm(sector_txt), _norm(sub_txt)
    plan = sector_key.map(by_key["plan_sector"])
    ceads = sector_key.map(by_key["ceads_sector"]).fillna("")
    sub_plan = sub_key.map(by_key["plan_sector"])
    sub_ceads = sub_key.map(by_key["ceads_sector"]).fillna("")

    scope_txt = text("scope")
    scope_key = _norm(scope_txt)
    scope = scope_key.map(_SCOPES).where(scope_key != "", "scope1")
    zone = text("zone_id") if "zone_id" in cols else pd.Series(ALL_ZONES, index=df.index, dtype=object)
    dataset = text("dataset").where(text("dataset") != "", _dataset_id(label))
    source_txt = text("source")
    unc_txt = text("uncertainty_pct")
    unc = to_number(_fold_numeric(unc_txt).str.replace("%", "", regex=False))
    tco2e = value * factor
    overflow = value.notna() & factor.notna() & ~np.isfinite(tco2e)

    code = pd.Series("", index=df.index, dtype=object)

    def flag(mask: pd.Series, c: str) -> None:
        code[mask.fillna(True).astype(bool) & (code == "")] = c

    flag(year.isna() | (year % 1 != 0) | (year < YEAR_RANGE[0]) | (year > YEAR_RANGE[1]), "bad_year")
    flag(value.isna(), "bad_value")
    flag(value < 0, "negative")
    flag(factor.isna(), "bad_unit")
    flag(clash["a"] != "", "unit_conflict")
    flag(overflow, "bad_value")  # finite as written, infinite once converted (1e303 Mt)
    flag(tco2e > IMPLAUSIBLE_TCO2E, "implausible")
    flag(plan.isna(), "unknown_sector")
    if zone_ids is not None:
        flag(~zone.isin([str(z) for z in zone_ids]), "unknown_zone")
    else:
        flag(zone == "", "unknown_zone")
    flag(scope.isna(), "bad_scope")
    flag(source_txt == "", "no_source")
    flag((unc_txt != "") & (unc.isna() | (unc < 0)), "bad_uncertainty")

    # sub-sector: its CEADs sector when the sector itself names none and the plan sectors agree
    ceads = ceads.where(ceads != "", sub_ceads.where(sub_plan == plan, ""))
    fuel_txt = text("fuel")
    # repeats among the otherwise usable rows: every copy rejected, naming the others. A row naming
    # a CEADs sector is that sector whatever it is called, and the names of a whole plan sector
    # (energy, 能源) are one sector; an alias naming part of one (agriculture within other, 居民生活
    # within buildings) is keyed by the part (农业 = agriculture), so it and the whole are summed (noted).
    part_key = sector_key.map(by_key["part_key"]).fillna("")
    alias = part_key.where(ceads == "", "")
    ok = code == ""
    key = pd.DataFrame({"d": dataset, "z": zone, "y": year, "p": plan, "c": ceads, "a": alias, "s": sub_key, "sc": scope,
                        "f": _norm(fuel_txt)})[ok]
    dup = key.duplicated(keep=False)
    others: dict[int, list[int]] = {}
    if dup.any():
        gid = key[dup].groupby(list(key.columns), dropna=False, sort=False).ngroup()
        spread = tco2e[dup.index[dup]].groupby(gid).transform(lambda s: s.max() - s.min())
        identical = spread <= 1e-9 * tco2e[dup.index[dup]].abs().clip(lower=1.0)
        members = gid.groupby(gid).groups
        for i, g in gid.items():
            others[i] = [int(j) + 2 for j in members[g] if j != i]
        code[identical.index[identical]] = "duplicate"
        code[identical.index[~identical]] = "conflict"

    ok = code == ""
    # a sector total beside its own detail rows (CEADs sectors, sub-sectors or fuels of the same
    # plan sector, same dataset, zone, year and scope): the total counts, the detail is kept but
    # left out of the sums (in_totals False), or the sector would count twice
    # (a name for part of a sector, such as 居民生活 within buildings, is neither the sector's total
    # nor its detail: it is always summed with the sector, as the sector_aliases_summed note says)
    is_part = part_key != ""
    total_row = (ceads == "") & (sub_txt == "") & (fuel_txt == "") & ~is_part
    grp = pd.DataFrame({"d": dataset, "z": zone, "y": year, "sc": scope, "p": plan, "t": total_row, "part": is_part})[ok]
    has_total = grp.groupby(["d", "z", "y", "sc", "p"], sort=False)["t"].transform("any").astype(bool)
    in_totals = (grp["t"] | grp["part"] | ~has_total).astype(bool)
    rows = pd.DataFrame({
        "year": year[ok].astype(int),
        "zone_id": zone[ok],
        "dataset": dataset[ok],
        "sector": plan[ok].astype(object),
        "sub_sector": sub_txt[ok],
        "ceads_sector": ceads[ok],
        "scope": scope[ok].astype(object),
        "fuel": fuel_txt[ok],
        "emissions_tco2e": tco2e[ok].astype(float),
        "uncertainty_pct": unc[ok].astype(float),
        "unit_in": unit_given[ok],
        "source": source_txt[ok],
        "basis": text("basis")[ok],
        "illustrative": text("illustrative")[ok].str.lower().isin(_YES),
        "in_totals": in_totals,
        "row": (df.index[ok] + 2).astype(int),
    }, columns=list(ROW_COLUMNS)).reset_index(drop=True)

    # rejected rows as read, each with its reason
    bad = df.index[~ok]
    zones_list = sorted(map(str, zone_ids)) if zone_ids is not None else []
    reason_cols = {k: str(cols[k]) for k in ("year", "zone_id") if k in cols} | {"value": str(value_col)}
    suggestions = {}
    for s in sorted(set(sector_txt[bad][code[bad] == "unknown_sector"])):
        suggestions[s] = suggest_sector(s, smap)
    ctx = pd.DataFrame({"code": code, "year": year_txt, "value": value_txt, "value_fold": value_fold, "unit": unit_given,
                        "sector": sector_txt, "zone": zone, "scope": scope_txt, "uncertainty": unc_txt, "overflow": overflow,
                        "tco2e": tco2e, "clash_a": clash["a"], "clash_ua": clash["ua"], "clash_b": clash["b"],
                        "clash_ub": clash["ub"]}).loc[bad]
    reasons = [
        _reason_note(r["code"], r | {"suggestion": suggestions.get(r["sector"]), "zones": zones_list, "others": others.get(i, [])}, reason_cols)
        for i, r in zip(bad, ctx.to_dict("records"))
    ]
    rejected = df.loc[bad].assign(row=(bad + 2).astype(int), reason=pd.Series(reasons, index=bad, dtype=object),
                                  reason_code=code[bad]).reset_index(drop=True)

    if rows.empty:
        first = str(rejected["reason"].iloc[0]) if len(rejected) else "the table has no rows"
        raise EmptyResultError(label, f"no usable rows ({len(rejected)} rejected; first, row {rejected['row'].iloc[0] if len(rejected) else '-'}: {first})",
                               "correct the rows listed as rejected")
    datasets = tuple(str(d) for d in pd.unique(rows["dataset"]))
    if primary is not None and primary not in datasets:
        raise SchemaError(label, f"the primary dataset {primary!r} is not among its datasets {list(datasets)}",
                          "set [inventory] primary to one of them, or leave it out to use the first dataset in the file")
    primary = primary or datasets[0]

    if ignored:
        notes.append(Note("ignored_columns", f"column(s) {ignored} are not inventory columns and were ignored", columns=ignored))
    n_in_value = int((in_value & ok).sum())
    if n_in_value:
        counts = {str(u): int(c) for u, c in unit_label[in_value & ok].value_counts(sort=False).items()}
        notes.append(Note("unit_in_value", f"{n_in_value} row(s) give the unit inside the value cell "
                                           f"({', '.join(f'{c} in {u}' for u, c in counts.items())}, e.g. {value_txt[in_value & ok].iloc[0]!r}): "
                                           "read as that unit and converted; a separate unit column is clearer", n=n_in_value, counts=counts))
    notes += _row_notes(rows, n, code, unit_label[ok], scope_key[ok] == "", plan, sub_plan, sector_key, smap, ok)
    notes += _alias_notes(rows, sector_txt[ok], alias[ok])
    inv = EmissionsInventory(rows=rows, rejected=rejected, notes=(), path=label, sha256=hashlib.sha256(raw).hexdigest(),
                             encoding=encoding, datasets=datasets, primary=primary)
    if len(datasets) > 1:
        notes += list(compare_sources(inv).attrs["notes"])
    return EmissionsInventory(rows=rows, rejected=rejected, notes=tuple(notes), path=label, sha256=inv.sha256,
                              encoding=encoding, datasets=datasets, primary=primary)


def _fmt_factor(f: float) -> str:
    return f"{f:,.0f}"


def years_text(years, *, dash: str = "-", sep: str = ", ") -> str:
    """Years with consecutive runs collapsed: ``2013, 2015-2017`` (the UI passes its own dash and
    separator, e.g. ``2013、2015–2017``)."""
    ys = sorted({int(y) for y in years})
    runs, start = [], None
    for i, y in enumerate(ys):
        if start is None:
            start = y
        if i + 1 == len(ys) or ys[i + 1] != y + 1:
            runs.append(str(start) if start == y else f"{start}{dash}{y}")
            start = None
    return sep.join(runs)


def _t(x: float) -> str:
    return f"{x:,.6g} t"


def _aggregate_notes(rows: pd.DataFrame) -> list[Note]:
    """The ``aggregate_and_detail`` note: which groups hold a sector total and its detail rows,
    the total kept, the detail rows left out of the sums, and the total minus the detail sum."""
    keys = ["dataset", "zone_id", "year", "scope", "sector"]
    out = rows[~rows["in_totals"]]
    if out.empty:
        return []
    groups = []
    for k, d in rows.groupby(keys, sort=True):
        if d["in_totals"].all():
            continue
        kept, left = d[d["in_totals"]], d[~d["in_totals"]]
        agg, det = float(kept["emissions_tco2e"].sum()), float(left["emissions_tco2e"].sum())
        groups.append({"dataset": str(k[0]), "zone_id": str(k[1]), "year": int(k[2]), "scope": str(k[3]), "sector": str(k[4]),
                       "aggregate_tco2e": agg, "detail_tco2e": det, "difference_tco2e": agg - det,
                       "aggregate_rows": [int(x) for x in kept["row"]], "detail_rows": [int(x) for x in left["row"]]})
    ex = groups[:3]
    shown = "; ".join(f"{g['dataset']} / {g['zone_id']} {g['year']} {g['sector']}: total {_t(g['aggregate_tco2e'])} (row(s) "
                      f"{', '.join(map(str, g['aggregate_rows']))}) kept, {len(g['detail_rows'])} detail row(s) "
                      f"({', '.join(map(str, g['detail_rows']))}) summing to {_t(g['detail_tco2e'])} left out, "
                      f"difference {_t(g['difference_tco2e'])}" for g in ex)
    more = f"; and {len(groups) - len(ex)} more group(s)" if len(groups) > len(ex) else ""
    return [Note("aggregate_and_detail",
                 f"{len(groups)} dataset/zone/year/sector group(s) hold both a sector total and its own detail rows (CEADs sectors, "
                 f"sub-sectors or fuels): the total is kept and {len(out)} detail row(s) are left out of the totals (kept in the rows "
                 f"with in_totals = False), or the sector would count twice. {shown}{more}",
                 n=len(groups), n_detail_rows=int(len(out)), kept="aggregate", groups=groups)]


def _alias_notes(rows: pd.DataFrame, sector_txt: pd.Series, alias: pd.Series) -> list[Note]:
    """``sector_aliases_summed``: rows of one plan sector under its own name and under the name of
    a part of it (or of several parts), none a CEADs sector, summed into it; listed so that two
    names of the same emissions are caught. ``alias``: the part's folded name, blank for the whole."""
    r = rows.assign(_alias=alias.to_numpy(), _txt=sector_txt.to_numpy())
    r = r[r["in_totals"] & (r["ceads_sector"] == "")]
    keys = ["dataset", "zone_id", "year", "scope", "sector", "sub_sector", "fuel"]
    if r.empty:
        return []
    r = r[r.groupby(keys, sort=False)["_alias"].transform("nunique") >= 2]  # only groups under two or more names
    groups = []
    for k, d in r.groupby(keys, sort=True):
        names = list(dict.fromkeys(d.groupby("_alias", sort=False)["_txt"].first()))
        groups.append({"dataset": str(k[0]), "zone_id": str(k[1]), "year": int(k[2]), "sector": str(k[4]), "aliases": names,
                       "values_tco2e": [float(d.loc[d["_alias"] == a, "emissions_tco2e"].sum()) for a in pd.unique(d["_alias"])],
                       "rows": [int(x) for x in d["row"]]})
    if not groups:
        return []
    by_sector: dict[str, list[str]] = {}
    for g in groups:
        by_sector.setdefault(g["sector"], [])
        by_sector[g["sector"]] += [a for a in g["aliases"] if a not in by_sector[g["sector"]]]
    g = groups[0]
    listed = "; ".join(f"{', '.join(repr(a) for a in names)} -> {sec}" for sec, names in by_sector.items())
    ex = " + ".join(f"{a!r} {_t(v)}" for a, v in zip(g["aliases"], g["values_tco2e"]))
    return [Note("sector_aliases_summed",
                 f"{len(groups)} dataset/zone/year group(s) hold rows under different names of one plan sector, summed into it ({listed}; "
                 f"e.g. {g['dataset']} / {g['zone_id']} {g['year']}: {ex}): if two names stand for the same emissions, keep one",
                 n=len(groups), aliases=by_sector, groups=groups)]


def _row_notes(rows, n_read, code, unit_label, scope_blank, plan, sub_plan, sector_key, smap, ok) -> list[Note]:
    notes: list[Note] = []
    # units
    counts = unit_label.value_counts(sort=False)
    factors = {label: f for label, f in _UNITS.values()}
    converted = {u: int(c) for u, c in counts.items() if factors[u] != 1.0}
    if converted:
        parts = ", ".join(f"{c} row(s) in {u} (x {_fmt_factor(factors[u])})" for u, c in converted.items())
        notes.append(Note("units_converted", f"converted to t CO2e: {parts}", counts=converted))
    if len(counts) > 1:
        notes.append(Note("mixed_units", f"the table mixes units ({', '.join(counts.index)}): each row was converted by its own unit",
                          units=list(counts.index)))
    # scopes
    n_blank = int(scope_blank.sum())
    if n_blank:
        notes.append(Note("scope_assumed", f"{n_blank} row(s) give no scope and are taken as scope 1 (territorial, as in CEADs)", n=n_blank))
    n2 = int((rows["scope"] == "scope2").sum())
    if n2:
        notes.append(Note("scope2_excluded", f"{n2} scope-2 row(s) (purchased electricity and heat) are kept but left out of the totals: "
                                             "that power is already scope 1 where it is generated, so adding it double counts", n=n2))
    n3 = int((rows["scope"] == "scope3").sum())
    if n3:
        notes.append(Note("scope3_excluded", f"{n3} scope-3 row(s) are kept but left out of the totals (other places' emissions)", n=n3))
    # missing years inside each dataset's span, per zone
    for ds, r in rows.groupby("dataset", sort=False):
        span = set(range(int(r["year"].min()), int(r["year"].max()) + 1))
        for z, rz in r.groupby("zone_id", sort=True):
            gap = sorted(span - set(rz["year"]))
            if gap:
                notes.append(Note("missing_years", f"{ds} / {z}: {years_text(gap)} missing", dataset=ds, zone_id=z, years=gap))
            zy = set(rz["year"])
            for s, rs in rz.groupby("sector", sort=True):
                lack = sorted(zy - set(rs["year"]))
                if lack:
                    notes.append(Note("sector_gaps", f"{ds} / {z}: no {s} rows in {years_text(lack)} (present in other years)",
                                      dataset=ds, zone_id=z, sector=s, years=lack))
    # a sector total beside its own detail rows: the total kept, the detail left out of the sums
    notes += _aggregate_notes(rows)
    mismatch = ok & sub_plan.notna() & (sub_plan != plan)
    if mismatch.any():
        notes.append(Note("sub_sector_mismatch", f"{int(mismatch.sum())} row(s) have a sub-sector that the sector map files under another plan "
                                                 "sector; they are kept under the row's sector", n=int(mismatch.sum())))
    # aliases the sector map has a caution for
    cautions = smap[smap["note"] != ""].set_index("key")
    used = sector_key[ok].value_counts()
    for k, c in used.items():
        if k in cautions.index:
            alias, text = cautions.loc[k, "alias"], cautions.loc[k, "note"]
            notes.append(Note("sector_alias", f"'{alias}' ({int(c)} row(s)): {text}", alias=alias, n=int(c), note=text))
    # unverified mappings in use
    unverified = smap[~smap["verified"]].set_index("key")
    hits = sorted(set(sector_key[ok]) & set(unverified.index))
    if hits:
        names = [str(unverified.loc[k, "alias"]) for k in hits]
        notes.append(Note("sector_unverified", f"the sector map's mapping of {names} is not verified (see data/ledger/README.md)", aliases=names))
    n_rej = int((code != "").sum())
    if n_rej:
        by = {c: int(k) for c, k in code[code != ""].value_counts().items()}
        notes.append(Note("rejected", f"{n_rej} of {n_read} row(s) rejected ({', '.join(f'{k} {c}' for c, k in by.items())}): see the rejected rows",
                          n=n_rej, n_read=n_read, counts=by))
    return notes


# --------------------------------------------------------------------------- sources side by side


def compare_sources(inv: EmissionsInventory, *, zone_ids: list[str] | None = None) -> pd.DataFrame:
    """Each dataset's scope-1 total per year over the zones, against the primary dataset.

    Returns one row per year and dataset (datasets in file order): ``year, dataset,
    emissions_tco2e`` (NaN where the dataset has no row that year, never 0), ``n_zones`` (zones
    with rows), ``ratio_to_primary`` (dataset / primary, NaN where either is missing or the
    primary is 0), ``max_min_factor`` (largest / smallest total that year among the datasets with
    data; NaN with fewer than two). ``.attrs["notes"]`` holds a :class:`Note` per non-primary
    dataset summarising the ratio (``sources_differ``: mean, range and years), and one when the
    datasets cover different numbers of zones in a year (``zones_differ``).
    """
    r = inv.rows[(inv.rows["scope"] == "scope1") & inv.rows["in_totals"]]
    if zone_ids is not None:
        r = r[r["zone_id"].isin([str(z) for z in zone_ids])]
    t = r.groupby(["dataset", "year"]).agg(emissions_tco2e=("emissions_tco2e", "sum"), n_zones=("zone_id", "nunique"))
    years = sorted(int(y) for y in r["year"].unique())
    idx = pd.MultiIndex.from_product([list(inv.datasets), years], names=["dataset", "year"])
    t = t.reindex(idx)
    t["n_zones"] = t["n_zones"].fillna(0).astype(int)
    prim = t.xs(inv.primary, level="dataset")["emissions_tco2e"]
    base = t.index.get_level_values("year").map(prim).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["ratio_to_primary"] = np.where(base > 0, t["emissions_tco2e"].to_numpy() / base, np.nan)
    e = t["emissions_tco2e"].unstack("dataset")
    lo, hi, cnt = e.min(axis=1), e.max(axis=1), e.notna().sum(axis=1)
    factor = (hi / lo).where((cnt >= 2) & (lo > 0))
    t["max_min_factor"] = t.index.get_level_values("year").map(factor).to_numpy(dtype=float)
    out = t.reset_index().sort_values(["year"], kind="stable")
    order = {d: i for i, d in enumerate(inv.datasets)}
    out = out.sort_values(["year", "dataset"], key=lambda s: s.map(order) if s.name == "dataset" else s).reset_index(drop=True)
    out = out[["year", "dataset", "emissions_tco2e", "n_zones", "ratio_to_primary", "max_min_factor"]]

    notes = []
    for ds in inv.datasets:
        if ds == inv.primary:
            continue
        x = out[(out["dataset"] == ds) & out["ratio_to_primary"].notna()]
        if x.empty:
            notes.append(Note("sources_no_overlap", f"{ds} and {inv.primary} share no year with data: they cannot be compared",
                              dataset=ds, primary=inv.primary))
            continue
        lo_i, hi_i = x["ratio_to_primary"].idxmin(), x["ratio_to_primary"].idxmax()
        mean = float(x["ratio_to_primary"].mean())
        y0, y1 = int(x["year"].min()), int(x["year"].max())
        notes.append(Note("sources_differ",
                          f"{ds} is {mean:.2f}x {inv.primary} on average over {years_text(x['year'])} "
                          f"(from {x.loc[lo_i, 'ratio_to_primary']:.2f}x in {x.loc[lo_i, 'year']} to {x.loc[hi_i, 'ratio_to_primary']:.2f}x in {x.loc[hi_i, 'year']})",
                          dataset=ds, primary=inv.primary, mean_ratio=mean, min_ratio=float(x.loc[lo_i, "ratio_to_primary"]),
                          max_ratio=float(x.loc[hi_i, "ratio_to_primary"]), first_year=y0, last_year=y1))
    have = out[out["n_zones"] > 0]
    uneven = have.groupby("year")["n_zones"].nunique()
    uneven = sorted(int(y) for y in uneven[uneven > 1].index)
    if uneven:
        notes.append(Note("zones_differ", f"the datasets cover different numbers of zones in {years_text(uneven)}: their totals are not like for like there",
                          years=uneven))
    out.attrs["notes"] = tuple(notes)
    return out
