"""The emissions inventory import (sinks.ledger.inventory): units, encodings, Excel, every
rejection reason, notes, sources side by side, the sector map and the demo's two series.

Hand-worked numbers are in the comments. Real data under ../shared/data is read only to check
the embedded names and factors, and those tests skip with a printed reason when it is absent.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.errors import DataError, EmptyResultError, SchemaError
from sinks.ledger.inventory import (CEADS_SECTORS, PLAN_SECTORS, EmissionsInventory, compare_sources, load_emissions,
                                    load_sector_map, suggest_sector)
from sinks.notes import Note

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "emissions"
DEMO_CSV = ROOT / "data" / "inventory" / "jiangbei_emissions_illustrative.csv"
DEMO_ZONES = ["pukou", "liuhe", "baguazhou"]


def _write(tmp_path: Path, text: str, name: str = "inv.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _shared(name: str) -> Path:
    p = SHARED / name
    if not p.is_file():
        print(f"skipping: {p} not found (../shared/data is beside the repo only in development)")
        pytest.skip(f"{p} not found")
    return p


def _codes(inv: EmissionsInventory) -> dict[int, str]:
    return dict(zip(inv.rejected["row"], inv.rejected["reason_code"]))


def _note(inv: EmissionsInventory, code: str) -> Note:
    hits = [n for n in inv.notes if n.code == code]
    assert len(hits) == 1, [(n.code, str(n)) for n in inv.notes]
    return hits[0]


# --------------------------------------------------------------------------- units


def test_units_are_converted_to_tonnes_by_hand(tmp_path):
    p = _write(tmp_path, "year,sector,value,unit,source\n"
                         "2020,industry,1.5,万吨,s\n"     # 1.5 x 10,000 = 15,000 t
                         "2020,energy,2,kt,s\n"           # 2 x 1,000 = 2,000 t
                         "2020,transport,0.3,Mt,s\n"      # 0.3 x 1,000,000 = 300,000 t
                         "2020,buildings,5,Gg,s\n"        # Gg = kt: 5,000 t
                         "2020,other,0.01,Tg CO2,s\n"     # Tg = Mt: 10,000 t
                         "2021,industry,7,吨,s\n"          # 7 t
                         "2021,energy,12,tCO₂e,s\n"       # subscript folded: 12 t
                         "2021,transport,3,万吨二氧化碳,s\n"  # 30,000 t
                         "2021,buildings,4,ＫＴ,s\n")      # full width: 4,000 t
    inv = load_emissions(p)
    assert inv.rejected.empty
    assert inv.rows["emissions_tco2e"].tolist() == pytest.approx([15_000, 2_000, 300_000, 5_000, 10_000, 7, 12, 30_000, 4_000])
    assert inv.rows["unit_in"].tolist()[:3] == ["万吨", "kt", "Mt"]
    conv = _note(inv, "units_converted")
    assert conv.params["counts"] == {"万吨": 2, "kt": 2, "Mt": 1, "Gg": 1, "Tg": 1}
    assert "2 row(s) in 万吨 (x 10,000)" in conv
    assert set(_note(inv, "mixed_units").params["units"]) == {"t", "kt", "Mt", "Gg", "Tg", "万吨"}


def test_unit_in_the_header_and_tonnes_by_default(tmp_path):
    # 排放量（万吨）: 2.5 万吨 = 25,000 t; emissions_tco2e without a unit column is in t.
    inv = load_emissions(_write(tmp_path, "年份,部门,排放量（万吨）,来源\n2020,工业,2.5,统计\n"))
    assert inv.rows["emissions_tco2e"].tolist() == [25_000.0]
    inv = load_emissions(_write(tmp_path, "year,sector,emissions_tco2e,source\n2020,energy,25,s\n", "t.csv"))
    assert inv.rows["emissions_tco2e"].tolist() == [25.0] and not [n for n in inv.notes if n.code == "units_converted"]
    # the project's old column name is still read (t CO2)
    inv = load_emissions(_write(tmp_path, "year,sector,emissions_tco2,source\n2020,energy,25,s\n", "old.csv"))
    assert inv.rows["emissions_tco2e"].tolist() == [25.0]
    # a unit column beside emissions_tco2e: its blanks take the header's t; a cell saying t agrees;
    # a cell saying kt contradicts the header (t CO2e) and is rejected (unit_conflict), not obeyed
    inv = load_emissions(_write(tmp_path, "year,sector,emissions_tco2e,unit,source\n2020,energy,2,kt,s\n2021,energy,2,,s\n"
                                          "2022,energy,3,tCO2e,s\n", "u.csv"))
    assert inv.rows["emissions_tco2e"].tolist() == [2.0, 3.0]
    assert _codes(inv) == {2: "unit_conflict"}


def test_value_without_unit_and_missing_columns_are_schema_errors(tmp_path):
    with pytest.raises(SchemaError, match="has no unit"):
        load_emissions(_write(tmp_path, "year,sector,value,source\n2020,energy,1,s\n"))
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['source'\]"):
        load_emissions(_write(tmp_path, "year,sector,emissions_tco2e\n2020,energy,1\n", "b.csv"))
    with pytest.raises(SchemaError, match="two value columns"):
        load_emissions(_write(tmp_path, "year,sector,value,unit,emissions_tco2e,source\n2020,energy,1,t,1,s\n", "c.csv"))
    with pytest.raises(SchemaError, match="several columns mean the same thing"):
        load_emissions(_write(tmp_path, "year,部门,行业,emissions_tco2e,source\n2020,energy,energy,1,s\n", "d.csv"))
    with pytest.raises(SchemaError, match="unit 'furlongs'"):
        load_emissions(_write(tmp_path, "year,sector,emissions (furlongs),source\n2020,energy,1,s\n", "e.csv"))


# --------------------------------------------------------------------------- encodings and Excel


def test_gbk_csv_with_chinese_headers(tmp_path):
    text = ("年份,区域,数据集,部门,子部门,范围,燃料,排放量,单位,数据来源\n"
            "2020,浦口,统计局,工业（不含能源）,黑色金属冶炼及压延加工业,范围一,煤,1.2,万吨,南京统计年鉴\n"
            "2020,浦口,统计局,交通,,范围二,电力,300,吨,南京统计年鉴\n")
    p = _write(tmp_path, text, encoding="gbk")
    inv = load_emissions(p, zone_ids=["浦口"])
    assert inv.encoding == "gb18030" and _note(inv, "encoding_gbk").params["encoding"] == "gb18030"
    r = inv.rows
    assert r["sector"].tolist() == ["industry", "transport"]
    assert r["scope"].tolist() == ["scope1", "scope2"]
    assert r["dataset"].tolist() == ["统计局", "统计局"] and r["source"].iloc[0] == "南京统计年鉴"
    # the sub-sector names a CEADs sector of the same plan sector: it is recorded
    assert r["ceads_sector"].iloc[0] == "Smelting and Pressing of Ferrous Metals"
    assert r["emissions_tco2e"].tolist() == [12_000.0, 300.0]
    assert r["fuel"].tolist() == ["煤", "电力"]
    # UTF-8 with a BOM is told apart
    inv = load_emissions(_write(tmp_path, "\ufeffyear,sector,emissions_tco2e,source\n2020,energy,1,s\n", "bom.csv"))
    assert inv.encoding == "utf-8-sig" and inv.rows["year"].tolist() == [2020]


def test_xlsx_written_with_openpyxl(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["this sheet is notes"])
    data = wb.create_sheet("排放")
    data.append(["年份", "区域", "部门", "排放量", "单位", "来源"])
    data.append([2019, "pukou", "能源", 1.5, "万吨", "统计"])
    data.append([2020.0, "pukou", "能源", 2, "kt", "统计"])
    data.append([None] * 6)  # row 4: blank, skipped
    data.append([2021, "pukou", "能源", -1, "t", "统计"])  # row 5: negative
    p = tmp_path / "upload.bin"  # the name says nothing: the content decides
    wb.save(p)
    inv = load_emissions(p, sheet="排放", zone_ids=["pukou"])
    assert inv.encoding == "xlsx"
    assert inv.rows[["year", "emissions_tco2e"]].values.tolist() == [[2019, 15_000.0], [2020, 2_000.0]]
    assert _codes(inv) == {5: "negative"}
    assert _note(inv, "sheet").params == {"sheet": "排放", "sheets": ["说明", "排放"]}
    inv1 = load_emissions(p.read_bytes(), name="upload.xlsx", sheet=1, zone_ids=["pukou"])
    assert inv1.rows["emissions_tco2e"].tolist() == inv.rows["emissions_tco2e"].tolist()
    assert inv1.datasets == ("upload",)  # the default dataset id comes from the name
    with pytest.raises(DataError, match="no sheet 'x'"):
        load_emissions(p, sheet="x")


def test_old_xls_and_renamed_files_are_refused_with_the_fix(tmp_path):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    with pytest.raises(DataError, match=r"\.xls.*Fix: save it as \.xlsx or CSV"):
        load_emissions(ole2, name="old.xls")
    with pytest.raises(DataError, match="named like an Excel workbook but its content is neither"):
        load_emissions(b"\x00\x01binary\xff\xfe" * 10, name="fake.xlsx")
    with pytest.raises(DataError, match="not a readable .xlsx"):
        load_emissions(b"PK\x03\x04garbage", name="broken.xlsx")
    with pytest.raises(DataError, match="does not exist"):
        load_emissions(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- rejection reasons


def test_every_rejection_reason_one_row_each(tmp_path):
    text = ("year,zone_id,sector,value,unit,scope,uncertainty_pct,source\n"
            "2020,a,industry,10,t,scope1,,s\n"      # row 2: accepted
            "20x0,a,energy,1,t,scope1,,s\n"         # row 3: bad_year (text)
            "2020.5,a,energy,1,t,scope1,,s\n"       # row 4: bad_year (not whole)
            "1900,a,energy,1,t,scope1,,s\n"         # row 5: bad_year (outside 1950-2100)
            "2020,a,energy,,t,scope1,,s\n"          # row 6: bad_value (blank)
            "2020,a,energy,abc,t,scope1,,s\n"       # row 7: bad_value (text)
            "2020,a,energy,inf,t,scope1,,s\n"       # row 8: bad_value (infinite)
            "2020,a,energy,-5,t,scope1,,s\n"        # row 9: negative
            "2020,a,energy,5,lb,scope1,,s\n"        # row 10: bad_unit
            "2020,a,farming,5,t,scope1,,s\n"        # row 11: unknown_sector
            "2020,z,energy,5,t,scope1,,s\n"         # row 12: unknown_zone
            "2020,a,energy,5,t,scope9,,s\n"         # row 13: bad_scope
            "2020,a,energy,5,t,scope1,,\n"          # row 14: no_source
            "2020,a,energy,5,t,scope1,-3,s\n"       # row 15: bad_uncertainty
            "2021,a,energy,\"1,200\",t,scope1,10,s\n")  # row 16: accepted (thousands separator)
    inv = load_emissions(_write(tmp_path, text), zone_ids=["a"])
    assert _codes(inv) == {3: "bad_year", 4: "bad_year", 5: "bad_year", 6: "bad_value", 7: "bad_value", 8: "bad_value",
                           9: "negative", 10: "bad_unit", 11: "unknown_sector", 12: "unknown_zone", 13: "bad_scope",
                           14: "no_source", 15: "bad_uncertainty"}
    # accepted rows untouched, with their spreadsheet row numbers
    assert inv.rows[["year", "sector", "emissions_tco2e", "uncertainty_pct", "row"]].values.tolist() == [
        [2020, "industry", 10.0, pytest.approx(np.nan, nan_ok=True), 2], [2021, "energy", 1200.0, 10.0, 16]]
    assert len(inv.rows) + len(inv.rejected) == 15  # nothing dropped
    # the rejected rows are kept as read
    rej = inv.rejected.set_index("row")
    assert rej.loc[7, "value"] == "abc" and rej.loc[10, "unit"] == "lb" and rej.loc[12, "zone_id"] == "z"
    reason = rej.loc[9, "reason"]
    assert isinstance(reason, Note) and reason.code == "negative"
    assert "removals are not entered here" in reason and reason.params["value"] == "-5"
    assert rej.loc[12, "reason"].params == {"zone": "z", "zones": ["a"]}
    assert _note(inv, "rejected").params["counts"]["bad_year"] == 3


def test_unknown_sector_suggests_the_closest_alias(tmp_path):
    inv = load_emissions(_write(tmp_path, "year,sector,emissions_tco2e,source\n2020,enrgy,1,s\n2020,Transprt,1,s\n2020,energy,1,s\n"))
    rej = inv.rejected.set_index("row")["reason"]
    assert rej[2].params == {"sector": "enrgy", "suggestion": "energy"} and "did you mean 'energy'?" in rej[2]
    assert rej[3].params["suggestion"] in ("transport", "transportation")
    assert suggest_sector("xyzzy qqq", load_sector_map()) is None


def test_duplicates_identical_and_conflicting(tmp_path):
    text = ("year,zone_id,sector,value,unit,source\n"
            "2020,a,energy,1000,t,s1\n"   # row 2 } identical after conversion (1 kt = 1000 t):
            "2020,a,能源,1,kt,s2\n"        # row 3 } both rejected as duplicates, naming each other
            "2020,a,industry,5,t,s\n"     # row 4 } same key, other values:
            "2020,a,industry,6,t,s\n"     # row 5 } all three rejected as conflicts
            "2020,a,industry,7,t,s\n"     # row 6 }
            "2020,b,industry,5,t,s\n"     # row 7: another zone, accepted
            "2020,a,transport,-1,t,s\n"   # row 8: negative; a bad row is not a repeat
            "2020,a,transport,2,t,s\n")   # row 9: accepted
    inv = load_emissions(_write(tmp_path, text))
    assert _codes(inv) == {2: "duplicate", 3: "duplicate", 4: "conflict", 5: "conflict", 6: "conflict", 8: "negative"}
    rej = inv.rejected.set_index("row")["reason"]
    assert rej[2].params["rows"] == [3] and rej[3].params["rows"] == [2]
    assert rej[5].params["rows"] == [4, 6] and "which one is right is your call" in rej[5]
    assert inv.rows["row"].tolist() == [7, 9]


def test_blank_lines_are_skipped_and_row_numbers_stay_true(tmp_path):
    # line 3 is empty and line 4 holds only commas: the negative value is on line 5
    inv = load_emissions(_write(tmp_path, "year,sector,emissions_tco2e,source\n2019,energy,1,s\n\n , ,,\n2020,energy,-1,s\n"))
    assert _codes(inv) == {5: "negative"} and inv.rows["row"].tolist() == [2]
    assert _note(inv, "blank_rows").params == {"n": 2, "rows": [3, 4]}


def test_no_zone_column_means_the_whole_area(tmp_path):
    p = _write(tmp_path, "year,sector,emissions_tco2e,source\n2020,energy,1,s\n")
    assert load_emissions(p).rows["zone_id"].tolist() == ["all"]
    assert load_emissions(p, zone_ids=["all", "a"]).rows["zone_id"].tolist() == ["all"]
    with pytest.raises(EmptyResultError, match="no zone column"):
        load_emissions(p, zone_ids=["a"])


# --------------------------------------------------------------------------- notes


def test_missing_years_and_sector_gaps_are_noted(tmp_path):
    text = "year,zone_id,dataset,sector,emissions_tco2e,source\n" + "".join(
        f"{y},pukou,chen2020_county,{s},1,s\n" for y in (2010, 2011, 2012, 2014, 2015) for s in ("industry", "energy")
        if not (y == 2014 and s == "energy")) + "2010,liuhe,chen2020_county,industry,1,s\n2015,liuhe,chen2020_county,industry,1,s\n"
    inv = load_emissions(_write(tmp_path, text))
    missing = {(n.params["zone_id"], tuple(n.params["years"])): str(n) for n in inv.notes if n.code == "missing_years"}
    assert missing == {("pukou", (2013,)): "chen2020_county / pukou: 2013 missing",
                       ("liuhe", (2011, 2012, 2013, 2014)): "chen2020_county / liuhe: 2011-2014 missing"}
    gap = _note(inv, "sector_gaps")
    assert gap.params == {"dataset": "chen2020_county", "zone_id": "pukou", "sector": "energy", "years": [2014]}


def test_scope2_is_kept_but_left_out_of_totals(tmp_path):
    text = ("year,zone_id,sector,scope,emissions_tco2e,source\n"
            "2020,a,industry,scope1,100,s\n"
            "2020,a,industry,scope2,40,s\n"   # purchased power: not added to scope 1
            "2020,a,buildings,,10,s\n")      # blank scope = scope 1 (noted)
    inv = load_emissions(_write(tmp_path, text))
    assert inv.totals()["emissions_tco2e"].tolist() == [110.0]  # 100 + 10
    assert inv.totals(scopes=("scope1", "scope2"))["emissions_tco2e"].tolist() == [150.0]
    assert _note(inv, "scope2_excluded").params == {"n": 1}
    assert _note(inv, "scope_assumed").params == {"n": 1}
    s = inv.by_sector().set_index("sector")["emissions_tco2e"]
    assert s.to_dict() == {"buildings": 10.0, "industry": 100.0}


def test_uncertainty_is_combined_in_quadrature(tmp_path):
    text = ("year,zone_id,sector,emissions_tco2e,uncertainty_pct,source\n"
            "2020,a,industry,300,10,s\n"   # +/- 30 t
            "2020,a,energy,400,10,s\n"     # +/- 40 t  -> sqrt(30^2 + 40^2) = 50 t
            "2021,a,energy,100,,s\n")      # no uncertainty: the 2021 total's is unknown (NaN)
    t = load_emissions(_write(tmp_path, text)).totals().set_index("year")
    assert t.loc[2020, "uncertainty_tco2e"] == pytest.approx(50.0)
    assert math.isnan(t.loc[2021, "uncertainty_tco2e"])
    # without any uncertainty there is no column at all
    t = load_emissions(_write(tmp_path, "year,sector,emissions_tco2e,source\n2020,energy,1,s\n", "n.csv")).totals()
    assert list(t.columns) == ["zone_id", "year", "emissions_tco2e"]


def test_sector_cautions_aggregate_and_detail_and_unverified_names(tmp_path):
    text = ("year,sector,sub_sector,emissions_tco2e,source\n"
            "2020,Others,,1,s\n"                    # CEADs 'Others' is buildings: noted
            "2020,industry,,10,s\n"                 # a sector total ...
            "2020,industry,Construction,4,s\n"      # ... beside its own detail: noted
            "2020,煤炭开采和洗选业,,2,s\n")          # an unverified Chinese name: noted
    inv = load_emissions(_write(tmp_path, text))
    r = inv.rows.set_index("row")
    assert r.loc[2, "sector"] == "buildings" and r.loc[2, "ceads_sector"] == "Others"
    assert r.loc[4, "ceads_sector"] == "Construction" and r.loc[5, "ceads_sector"] == "Coal Mining and Dressing"
    assert "write 'other'" in [n for n in inv.notes if n.code == "sector_alias"][0]
    assert _note(inv, "aggregate_and_detail").params["n"] == 1
    assert _note(inv, "sector_unverified").params["aliases"] == ["煤炭开采和洗选业"]


# --------------------------------------------------------------------------- datasets side by side


TWO = ("year,zone_id,dataset,sector,emissions_tco2e,source\n"
       "2010,a,county,energy,10,s\n2010,b,county,energy,30,s\n"       # county 2010: 40
       "2011,a,county,energy,50,s\n"                                   # county 2011: 50
       "2010,a,city,energy,60,s\n2010,b,city,energy,40,s\n"           # city 2010: 100 (2.5x)
       "2011,a,city,energy,150,s\n2011,b,city,energy,0,s\n"           # city 2011: 150 (3x)
       "2012,a,city,energy,70,s\n")                                    # city only: county NaN, not 0


def test_compare_sources_by_hand(tmp_path):
    inv = load_emissions(_write(tmp_path, TWO))
    assert inv.datasets == ("county", "city") and inv.primary == "county"
    c = compare_sources(inv).set_index(["year", "dataset"])
    assert c.loc[(2010, "city"), "emissions_tco2e"] == 100 and c.loc[(2010, "county"), "emissions_tco2e"] == 40
    assert c.loc[(2010, "city"), "ratio_to_primary"] == pytest.approx(2.5)
    assert c.loc[(2011, "city"), "ratio_to_primary"] == pytest.approx(3.0)
    assert c.loc[(2010, "county"), "ratio_to_primary"] == 1.0
    assert c.loc[(2010, "county"), "max_min_factor"] == pytest.approx(2.5)
    assert math.isnan(c.loc[(2012, "county"), "emissions_tco2e"]) and c.loc[(2012, "county"), "n_zones"] == 0
    assert math.isnan(c.loc[(2012, "city"), "ratio_to_primary"]) and math.isnan(c.loc[(2012, "city"), "max_min_factor"])
    note = [n for n in compare_sources(inv).attrs["notes"] if n.code == "sources_differ"][0]
    # mean of 2.5 and 3.0 over the two common years
    assert str(note) == "city is 2.75x county on average over 2010-2011 (from 2.50x in 2010 to 3.00x in 2011)"
    assert note.params["mean_ratio"] == pytest.approx(2.75)
    assert [n.code for n in inv.notes if n.code in ("sources_differ", "zones_differ")] == ["sources_differ", "zones_differ"]
    # one zone only: 2010 a: city 60 / county 10 = 6x
    one = compare_sources(inv, zone_ids=["a"]).set_index(["year", "dataset"])
    assert one.loc[(2010, "city"), "ratio_to_primary"] == pytest.approx(6.0)
    # totals use one dataset only, never the sum of both
    assert inv.totals().groupby("year")["emissions_tco2e"].sum().to_dict() == {2010: 40.0, 2011: 50.0}
    assert inv.years() == [2010, 2011] and inv.years("city") == [2010, 2011, 2012]


def test_primary_is_chosen_and_checked(tmp_path):
    p = _write(tmp_path, TWO)
    inv = load_emissions(p, primary="city")
    assert inv.primary == "city" and inv.totals().groupby("year")["emissions_tco2e"].sum().to_dict() == {2010: 100.0, 2011: 150.0, 2012: 70.0}
    c = compare_sources(inv).set_index(["year", "dataset"])
    assert c.loc[(2010, "county"), "ratio_to_primary"] == pytest.approx(0.4)
    with pytest.raises(SchemaError, match=r"'nope' is not among its datasets \['county', 'city'\]") as e:
        load_emissions(p, primary="nope")
    assert str(p) in str(e.value) and "[inventory] primary" in str(e.value)
    with pytest.raises(ValueError, match="no dataset 'x'"):
        inv.totals("x")


def test_pipeline_uses_only_the_primary_dataset(tiny):
    from sinks.config import load_config, validate_config
    from sinks.pipeline import run_assessment

    inv = tiny["inventory"]
    base = inv.read_text()
    lines = base.splitlines()
    # a second, larger series beside the first (dataset column added)
    def row(ln: str, dataset: str, factor: float) -> str:
        year, zone, sector, value, *rest = ln.split(",")
        return ",".join([year, zone, dataset, sector, str(float(value) * factor), *rest])

    rows = [lines[0].replace("year,zone_id,", "year,zone_id,dataset,")]
    rows += [row(ln, "county", 1) for ln in lines[1:]] + [row(ln, "city", 10) for ln in lines[1:]]
    inv.write_text("\n".join(rows) + "\n")
    a = run_assessment(tiny["config"])
    assert a.inventory.datasets == ("county", "city") and a.inventory.primary == "county"
    assert set(a.emissions["dataset"]) == {"county"}
    assert a.kpis(2025, ["west", "east"]).emissions_tco2e == pytest.approx(270)  # 90 + 180, not the city's
    assert a.provenance["inputs"]["inventory"]["datasets"] == ["county", "city"]
    cfg = tiny["dir"] / "city.toml"
    cfg.write_text(tiny["config"].read_text().replace('path = "inventory.csv"', 'path = "inventory.csv"\nprimary = "city"'))
    assert load_config(cfg).inventory_primary == "city"
    assert run_assessment(cfg).emissions["dataset"].unique().tolist() == ["city"]
    cfg.write_text(tiny["config"].read_text().replace('path = "inventory.csv"', 'path = "inventory.csv"\nprimary = "nope"'))
    problems = validate_config(cfg)
    assert any("'nope' is not among its datasets ['county', 'city']" in p for p in problems), problems
    cfg.write_text(tiny["config"].read_text().replace('path = "inventory.csv"', 'path = "inventory.csv"\nprimary = 3'))
    with pytest.raises(SchemaError, match="primary must be the name of a dataset"):
        load_config(cfg)


# --------------------------------------------------------------------------- the sector map


def test_sector_map_is_complete_and_consistent():
    m = load_sector_map()
    assert set(m["plan_sector"]) == set(PLAN_SECTORS)
    assert not m["key"].duplicated().any() and (m["citation"] != "").all()
    # every CEADs sector is an alias of itself, English names verified
    own = m[m["alias"].isin(CEADS_SECTORS)]
    assert sorted(own["alias"]) == sorted(CEADS_SECTORS) and (own["alias"] == own["ceads_sector"]).all() and own["verified"].all()
    assert (m.groupby("ceads_sector").size().drop("", errors="ignore") >= 2).all()  # an English and a Chinese name each
    plan = dict(zip(own["alias"], own["plan_sector"]))
    assert plan["Urban"] == plan["Rural"] == "buildings" and plan["Construction"] == "industry"
    assert plan["Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy"] == "other"
    words = dict(zip(m["alias"], m["plan_sector"]))
    assert [words[w] for w in ("工业（不含能源）", "能源", "建筑", "交通", "其他")] == ["industry", "energy", "buildings", "transport", "other"]
    assert words["energy_supply"] == "energy" and words["buildings_residential_commercial"] == "buildings" and words["agriculture"] == "other"


def test_sector_map_matches_the_ceads_file():
    js = pd.read_csv(_shared("ceads_jiangsu_sectoral_co2_1997_2019.csv"))
    names = list(js.loc[js["year"] == 2019, "sector_ceads"])
    assert tuple(names) == CEADS_SECTORS
    group_to_plan = {"energy_supply": "energy", "industry": "industry", "transport": "transport",
                     "buildings_residential_commercial": "buildings", "agriculture": "other"}
    m = load_sector_map()
    plan = dict(zip(m["alias"], m["plan_sector"]))
    for name, group in zip(js["sector_ceads"], js["sector_group"]):
        assert plan[name] == group_to_plan[group], name


def test_matching_ignores_case_spaces_and_full_width(tmp_path):
    text = ("year,sector,emissions_tco2e,source\n"
            "2020,ＥＮＥＲＧＹ,1,s\n2020,  Transport ,1,s\n2020,工业(不含能源),1,s\n"
            "2020,coal mining and dressing,1,s\n2021,Energy_Supply,1,s\n")
    inv = load_emissions(_write(tmp_path, text))
    assert inv.rejected.empty
    assert inv.rows["sector"].tolist() == ["energy", "transport", "industry", "industry", "energy"]
    # two aliases of the same aggregate in the same year are one key: a repeat
    inv = load_emissions(_write(tmp_path, text.replace("2021,Energy_Supply", "2020,Energy_Supply"), "dup.csv"))
    assert _codes(inv) == {2: "duplicate", 6: "duplicate"}


def test_bad_sector_map_lists_every_problem(tmp_path):
    p = _write(tmp_path, "alias,plan_sector,ceads_sector,citation,verified,note\n"
                         "steel,industry,Steel,c,yes,\n"      # row 2: not a CEADs sector name
                         "Steel ,industry,,c,yes,\n"          # row 3: repeats 'steel' after folding
                         "farm,agriculture,,c,yes,\n"         # row 4: not a plan sector
                         "x,energy,,,maybe,\n", "map.csv")    # row 5: no citation, bad verified
    with pytest.raises(SchemaError) as e:
        load_sector_map(p)
    msg = str(e.value)
    for part in ("rows [2]: ceads_sector", "rows [2, 3]: the same alias", "rows [4]: plan_sector", "rows [5]: no citation", "rows [5]: verified"):
        assert part in msg, msg


# --------------------------------------------------------------------------- the demo inventory


def test_demo_inventory_two_series_nothing_dropped():
    raw = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    inv = load_emissions(DEMO_CSV, zone_ids=DEMO_ZONES)
    assert len(inv.rows) + len(inv.rejected) == len(raw) and inv.rejected.empty
    assert inv.datasets == ("chen2020_county", "ceads_city_scaled") and inv.primary == "chen2020_county"
    assert inv.years() == list(range(2010, 2026)) and inv.years("ceads_city_scaled") == list(range(2010, 2020))
    assert set(inv.rows["sector"]) == set(PLAN_SECTORS)
    c = compare_sources(inv)
    city = c[c["dataset"] == "ceads_city_scaled"].set_index("year")
    assert city.loc[2010:2019, "emissions_tco2e"].notna().all()
    assert city.loc[2020:2025, "emissions_tco2e"].isna().all() and (city.loc[2020:2025, "n_zones"] == 0).all()  # no data: NaN, not 0
    f = city.loc[2010:2019, "ratio_to_primary"]
    assert f.between(1.8, 2.6).all(), f
    note = _note(inv, "sources_differ")
    assert note.params["first_year"] == 2010 and note.params["last_year"] == 2019 and 2.0 < note.params["mean_ratio"] < 2.5


def test_demo_factor_equals_the_shared_files():
    """2010-2017: the zones' city/county factor = CEADs Nanjing / sum of Chen's eleven Nanjing series."""
    chen = pd.read_csv(_shared("chen2020_county_co2_nanjing_1997_2017.csv"))
    city = pd.read_csv(_shared("ceads_city_co2_jiangsu_and_neighbours_1997_2019.csv"))
    nj = city[city["city_en"] == "Nanjing"].set_index("year")["co2_mt"]
    county = chen.groupby("year")["co2_mt"].sum()
    c = compare_sources(load_emissions(DEMO_CSV, zone_ids=DEMO_ZONES))
    f = c[c["dataset"] == "ceads_city_scaled"].set_index("year")["ratio_to_primary"]
    for y in range(2010, 2018):
        # e.g. 2017: 178.4163 / 70.1719 = 2.543; 2010: 113.1689 / 61.7334 = 1.833 (whole-tonne rounding aside)
        assert f[y] == pytest.approx(nj[y] / county[y], rel=1e-5), y
    # 2018-2019: 2017 shares held against the county series' extrapolation: ~2.3-2.4x
    assert 2.2 < f[2018] < 2.5 and 2.2 < f[2019] < 2.5


# --------------------------------------------------------------------------- review fixes (hand-made tables)


HEAD = "year,zone_id,sector,value,unit,source\n"


def test_decimal_comma_is_not_a_thousands_separator(tmp_path):
    from geodata.tables import to_number

    got = to_number(pd.Series(["1,5", "1.234,5", "1,234", "-12,345.6", "1,2345", "1,234,567", "12", " 3 "])).tolist()
    assert got[:2] == [pytest.approx(np.nan, nan_ok=True)] * 2 and math.isnan(got[4])
    assert got[2:4] == [1234.0, -12345.6] and got[5:] == [1234567.0, 12.0, 3.0]
    text = (HEAD + '2020,a,energy,"1,5",t,s\n'      # row 2: a decimal comma, not 15 t
                   '2020,a,industry,"1.234,5",t,s\n'  # row 3: European 1234.5, not 1.2345 t
                   '2020,a,transport,"1,234.5",t,s\n')  # row 4: thousands separator: 1234.5 t
    inv = load_emissions(_write(tmp_path, text))
    assert _codes(inv) == {2: "bad_value", 3: "bad_value"}
    assert inv.rows["emissions_tco2e"].tolist() == [1234.5]
    rej = inv.rejected.set_index("row")["reason"]
    assert "decimal comma? write 1.5" in rej[2] and rej[2].params["suggestion"] == "1.5"
    assert "decimal comma? write 1234.5" in rej[3]
    inv = load_emissions(_write(tmp_path, 'year,sector,emissions_tco2e,uncertainty_pct,source\n2020,energy,1,"10,5",s\n2021,energy,1,,s\n', "u.csv"))
    assert _codes(inv) == {2: "bad_uncertainty"} and "decimal comma? write 10.5" in inv.rejected["reason"].iloc[0]


def test_header_unit_and_unit_column_conflict(tmp_path):
    # emissions (kt): a kt or Gg cell agrees (Gg = kt), a blank takes kt, Mt contradicts the header
    text = ("year,sector,emissions (kt),unit,source\n"
            "2020,energy,2,Mt,s\n"      # row 2: unit_conflict
            "2020,industry,2,Gg,s\n"    # row 3: 2,000 t
            "2020,transport,2,,s\n")    # row 4: 2,000 t
    inv = load_emissions(_write(tmp_path, text))
    assert _codes(inv) == {2: "unit_conflict"} and inv.rows["emissions_tco2e"].tolist() == [2000.0, 2000.0]
    reason = inv.rejected["reason"].iloc[0]
    assert reason.params["units"] == ["Mt", "kt"] and "'Mt'" in reason and "'kt'" in reason and "emissions (kt)" in reason


def test_aggregate_beside_its_detail_is_counted_once(tmp_path):
    text = ("year,zone_id,sector,emissions_tco2e,source\n"
            "2020,a,industry,100,s\n"                   # row 2: the sector total: kept
            "2020,a,Coal Mining and Dressing,60,s\n"    # row 3 } its CEADs detail: kept in rows,
            "2020,a,Food Processing,30,s\n"             # row 4 } left out of the sums (60 + 30 = 90)
            "2020,a,energy,5,s\n"                       # row 5: another sector
            "2020,b,Coal Mining and Dressing,7,s\n")    # row 6: detail without a total: counts
    inv = load_emissions(_write(tmp_path, text))
    assert inv.rejected.empty and len(inv.rows) == 5
    assert inv.rows.set_index("row")["in_totals"].to_dict() == {2: True, 3: False, 4: False, 5: True, 6: True}
    assert inv.totals().set_index("zone_id")["emissions_tco2e"].to_dict() == {"a": 105.0, "b": 7.0}  # not 195
    s = inv.by_sector().set_index(["zone_id", "sector"])["emissions_tco2e"]
    assert s[("a", "industry")] == 100.0 and s[("b", "industry")] == 7.0
    note = _note(inv, "aggregate_and_detail")
    assert note.params["n"] == 1 and note.params["n_detail_rows"] == 2 and note.params["kept"] == "aggregate"
    g = note.params["groups"][0]
    assert (g["zone_id"], g["year"], g["sector"]) == ("a", 2020, "industry")
    assert (g["aggregate_tco2e"], g["detail_tco2e"], g["difference_tco2e"]) == (100.0, 90.0, 10.0)
    assert g["aggregate_rows"] == [2] and g["detail_rows"] == [3, 4]
    assert "total 100 t (row(s) 2) kept, 2 detail row(s) (3, 4) summing to 90 t left out, difference 10 t" in note
    # two datasets: compare_sources sums the same way (a: 100, not 190)
    two = text.replace("zone_id,", "zone_id,dataset,").replace(",a,", ",a,x,").replace(",b,", ",b,x,") + "2020,a,y,energy,50,s\n"
    c = compare_sources(load_emissions(_write(tmp_path, two, "two.csv"))).set_index("dataset")
    assert c.loc["x", "emissions_tco2e"] == 112.0


def test_conversion_overflow_and_implausible_rows(tmp_path):
    text = (HEAD + "2020,a,energy,1e303,Mt,s\n"    # row 2: finite as written, inf in t: bad_value
                   "2020,a,industry,10001,Mt,s\n"  # row 3: 1.0001e10 t in one row: implausible
                   "2020,a,transport,10000,Mt,s\n")  # row 4: 1e10 t: at the limit, accepted
    inv = load_emissions(_write(tmp_path, text))
    assert _codes(inv) == {2: "bad_value", 3: "implausible"}
    assert np.isfinite(inv.rows["emissions_tco2e"]).all() and inv.rows["emissions_tco2e"].tolist() == [1e10]
    rej = inv.rejected.set_index("row")["reason"]
    assert "not a finite number of tonnes once converted" in rej[2]
    assert "check the unit" in rej[3] and rej[3].params["tco2e"] == pytest.approx(1.0001e10)


def test_repeated_column_header_is_a_schema_error(tmp_path):
    p = _write(tmp_path, "year,sector,emissions_tco2e,emissions_tco2e,source\n2020,energy,1,2,s\n", "rep.csv")
    with pytest.raises(SchemaError, match=r"rep\.csv: .*'emissions_tco2e'.*Fix: keep one column"):
        load_emissions(p)
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["year", "sector", "emissions_tco2e", "emissions_tco2e", "source"])
    wb.active.append([2020, "energy", 1, 2, "s"])
    x = tmp_path / "rep.xlsx"
    wb.save(x)
    with pytest.raises(SchemaError, match=r"rep\.xlsx: .*emissions_tco2e.*Fix: keep one column"):
        load_emissions(x)


def test_a_part_and_the_whole_of_a_plan_sector_are_summed(tmp_path):
    text = ("year,sector,emissions_tco2e,source\n"
            "2020,agriculture,5,s\n2020,其他,7,s\n"       # agriculture is part of other: 12
            "2020,居民生活,3,s\n2020,buildings,4,s\n"      # households are part of buildings: 7
            "2021,energy,1,s\n2021,能源,2,s\n"             # two names of the whole energy sector: a conflict
            "2021,agriculture,1,s\n2021,农业,1,s\n")       # two names of the same part: a repeat
    inv = load_emissions(_write(tmp_path, text))
    assert _codes(inv) == {6: "conflict", 7: "conflict", 8: "duplicate", 9: "duplicate"}
    s = inv.by_sector().set_index("sector")["emissions_tco2e"]
    assert s.to_dict() == {"buildings": 7.0, "other": 12.0}
    note = _note(inv, "sector_aliases_summed")
    assert note.params["n"] == 2 and note.params["aliases"] == {"buildings": ["居民生活", "buildings"], "other": ["agriculture", "其他"]}
    assert "'居民生活' 3 t + 'buildings' 4 t" in note and "'agriculture', '其他' -> other" in note


def test_full_width_digits_in_numeric_cells(tmp_path):
    text = ("year,sector,emissions_tco2e,uncertainty_pct,source\n"
            "２０２０,energy,１２３,１０％,s\n"   # row 2: 2020, 123 t, 10 %
            "2021,energy,１２．５,,s\n"         # row 3: 12.5 t
            "2022,energy,10⁴,,s\n")             # row 4: a superscript is not folded into 104
    inv = load_emissions(_write(tmp_path, text))
    assert inv.rows[["year", "emissions_tco2e", "uncertainty_pct"]].values.tolist()[0] == [2020, 123.0, 10.0]
    assert inv.rows["emissions_tco2e"].tolist() == [123.0, 12.5]
    assert _codes(inv) == {4: "bad_value"}


def test_unit_inside_the_value_cell(tmp_path):
    text = (HEAD + "2020,a,energy,12.5万吨,,s\n"   # row 2: 125,000 t
                   "2020,a,industry,3 kt,,s\n"      # row 3: 3,000 t
                   "2020,a,transport,1.2Mt,Mt,s\n"  # row 4: the unit column agrees: 1,200,000 t
                   "2020,a,other,3 kt,t,s\n"        # row 5: the unit column says t: unit_conflict
                   "2020,a,buildings,3 lb,,s\n")    # row 6: not a known unit: bad_value
    inv = load_emissions(_write(tmp_path, text))
    assert _codes(inv) == {5: "unit_conflict", 6: "bad_value"}
    assert inv.rows["emissions_tco2e"].tolist() == pytest.approx([125_000.0, 3_000.0, 1_200_000.0])
    assert inv.rows["unit_in"].tolist() == ["万吨", "kt", "Mt"]
    note = _note(inv, "unit_in_value")
    assert note.params == {"n": 3, "counts": {"万吨": 1, "kt": 1, "Mt": 1}}
    assert inv.rejected.set_index("row")["reason"][5].params["units"] == ["t", "kt"]
    # a bare value column whose cells carry the unit needs no unit column
    inv = load_emissions(_write(tmp_path, "年份,部门,排放量,来源\n2020,工业,2.5万吨,统计\n", "zh.csv"))
    assert inv.rows["emissions_tco2e"].tolist() == [25_000.0]
    # under emissions_tco2e (t) a cell in kt contradicts the header
    inv = load_emissions(_write(tmp_path, "year,sector,emissions_tco2e,source\n2020,energy,3 kt,s\n2020,industry,4,s\n", "t.csv"))
    assert _codes(inv) == {2: "unit_conflict"}


def test_trailing_comma_on_every_row_is_refused_not_shifted(tmp_path):
    from geodata.tables import read_csv

    p = _write(tmp_path, "year,sector,emissions_tco2e,source\n2020,energy,1,s,\n2021,energy,2,s,\n", "trail.csv")
    with pytest.raises(DataError, match=r"trail\.csv: line 2 has 5 fields but the header has 4.*Fix: remove the trailing commas"):
        load_emissions(p)
    with pytest.raises(DataError, match="line 3 has 5 fields"):
        read_csv(b"a,b,c,d\n1,2,3,4\n1,2,3,4,x\n")
    # a normal CSV, quotes, blank lines and short rows read as before
    df = read_csv(b'a,B ,c\n1,"x,y",3\n\n4,5\n', keep_blank_lines=True)
    assert list(df.columns) == ["a", "b", "c"] and df["b"].tolist()[0] == "x,y" and len(df) == 3


def test_semicolon_and_tab_separated_files_are_read_with_a_note(tmp_path):
    text = "year;sector;emissions_tco2e;source\n2020;energy;1,5;s\n2021;energy;2;s\n"
    inv = load_emissions(_write(tmp_path, text, "semi.csv"))
    assert _note(inv, "separator").params == {"separator": ";"}
    assert inv.rows["emissions_tco2e"].tolist() == [2.0] and _codes(inv) == {2: "bad_value"}  # 1,5: decimal comma
    inv = load_emissions(_write(tmp_path, text.replace(";", "\t").replace("1,5", "1.5"), "tab.txt"))
    assert _note(inv, "separator").params == {"separator": "\t"} and inv.rows["emissions_tco2e"].tolist() == [1.5, 2.0]


def test_excel_names_are_not_trusted_the_content_decides(tmp_path):
    csv_text = b"year,sector,emissions_tco2e,source\n2020,energy,1,s\n"
    inv = load_emissions(csv_text, name="export.xls")
    assert inv.rows["emissions_tco2e"].tolist() == [1.0] and _note(inv, "csv_named_excel").params == {"name": "export.xls"}
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    with pytest.raises(DataError, match=r"old binary Excel"):
        load_emissions(ole2, name="renamed.csv")
    with pytest.raises(DataError, match="HTML or XML"):
        load_emissions(b"<html><table><tr><td>year</td></tr></table></html>", name="report.xls")


def test_totals_uncertainty_covers_the_rows_that_give_one(tmp_path):
    text = ("year,zone_id,sector,emissions_tco2e,uncertainty_pct,source\n"
            "2020,a,industry,300,10,s\n"   # +/- 30 t
            "2020,a,energy,400,10,s\n"     # +/- 40 t -> 50 t over 700 of the 800 t: coverage 0.875
            "2020,a,transport,100,,s\n"    # no uncertainty: not NaN for the whole year any more
            "2021,a,energy,100,,s\n")      # no row with one: NaN, coverage 0
    t = load_emissions(_write(tmp_path, text)).totals().set_index("year")
    assert t.loc[2020, "emissions_tco2e"] == 800.0
    assert t.loc[2020, "uncertainty_tco2e"] == pytest.approx(50.0) and t.loc[2020, "uncertainty_coverage"] == pytest.approx(0.875)
    assert math.isnan(t.loc[2021, "uncertainty_tco2e"]) and t.loc[2021, "uncertainty_coverage"] == 0.0


def test_part_of_a_sector_beside_detail_rows_is_summed_not_a_total(tmp_path):
    # 居民生活 (households, part of buildings) beside a CEADs commercial sector: two parts, both counted
    p = tmp_path / "parts.csv"
    p.write_text("year,zone_id,sector,emissions_tco2e,source\n"
                 "2020,a,居民生活,30,s\n"
                 "2020,a,\"Wholesale, Retail Trade and Catering Services\",20,s\n", encoding="utf-8")
    inv = load_emissions(p)
    assert inv.rows["in_totals"].all()
    t = inv.totals()
    assert float(t["emissions_tco2e"].iloc[0]) == pytest.approx(50.0)
    # a whole-sector total beside them: the total counts with the part (households) summed to it,
    # the CEADs detail row is left out (it is inside the total)
    p.write_text(p.read_text(encoding="utf-8") + "2020,a,buildings,55,s\n", encoding="utf-8")
    inv = load_emissions(p)
    assert float(inv.totals()["emissions_tco2e"].iloc[0]) == pytest.approx(85.0)
    assert inv.rows.loc[~inv.rows["in_totals"], "emissions_tco2e"].tolist() == [20.0]
