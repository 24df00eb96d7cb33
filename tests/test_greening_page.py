"""AppTest of the "Greening coverage" page: what the public and an officer get, in both languages,
and the figures on screen against the core (sinks.greening.assess.greening_assessment).

The expected figures are computed once per module straight from the core; the app computes its
own assessment once per process (shared masks and assessments). AppTest cannot hover the map:
the choropleth's tooltips are read from the map script; tests/test_browser_greening.py draws
the map in Chromium.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from sinks.accounts import AccountStore
from sinks.greening.assess import greening_assessment
from tests.apptest_kit import login, map_args
from ui.i18n import EN, ZH

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
OFFICER, PASSWORD = "officer.li", "correct-horse-9"
PAGE = "app_pages/greening.py"
IND = "green_coverage_fvc_pct"  # the page's default indicator


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """An accounts file with one officer and the core's assessment of the demo's planning units."""
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    root = tmp_path_factory.mktemp("greening_page")
    accounts = root / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    ga = greening_assessment(DEMO, units="units")
    mp = pytest.MonkeyPatch()
    mp.setenv("SINKS_WORKSPACE", str(root / "ws"))
    mp.setenv("SINKS_ACCOUNTS", str(accounts))
    yield {"root": root, "ga": ga}
    mp.undo()


def _open(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _in(script: str, text: str) -> bool:
    """``text`` in the map script, raw or as JSON escapes it (folium writes non-ASCII as \\uXXXX)."""
    return text in script or json.dumps(text)[1:-1] in script


def _table(at: AppTest, column: str):
    hits = [df.value for df in at.dataframe if column in df.value.columns]
    assert hits, [list(df.value.columns) for df in at.dataframe]
    return hits[0]


def _pct(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:.1f}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_page_renders_with_the_core_figures(env, lang):
    ga, d = env["ga"], (ZH if lang == "zh" else EN)
    at = _open(lang)
    assert at.title[0].value == d["green.title"]
    assert [tab.label for tab in at.tabs] == [d["green.tab.map"], d["green.tab.table"], d["green.tab.targets"], d["green.tab.plant"],
                                              d["green.tab.uncertainty"]]
    # the unit table: one row per unit, the default indicator equals the core's at the latest date
    year = ga.years[-1]
    table = _table(at, d["green.col.unit_id"])
    assert len(table) == len(ga.units) == 24
    core = ga.indicators[ga.indicators["year"] == year].set_index("unit_id")[IND]
    col = next(c for c in table.columns if c.startswith(d[f"green.ind.{IND}"]))
    assert dict(zip(table[d["green.col.unit_id"]], table[col])) == {u: _pct(v) for u, v in core.items()}
    # the public: no unit upload, no target editor, no label upload; unit sets without "upload"
    assert len(at.get("file_uploader")) == 0
    assert all(df.editing_mode == "read_only" for df in at.dataframe)
    # ... also once points are drawn (the points' label editor is the only editable table)
    at.number_input(key="green_pt_n").set_value(10).run()
    at.button(key="green_pt_draw").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("file_uploader")) == 0
    editable = [df for df in at.dataframe if df.editing_mode != "read_only"]
    assert len(editable) == 1 and "point_id" in editable[0].value.columns, [list(df.value.columns) for df in editable]
    assert not any("target_pct" in df.value.columns for df in at.dataframe)
    assert at.selectbox(key="green_unit_set").options == [d["green.units.zones"], d["green.units.units"] + d["green.illustrative_tag"]]
    # no accuracy report in the demo: explained, with the way to the land-cover page
    assert any(i.value == d["green.iv.none"] for i in at.info)
    # offline map and a legend
    args = map_args(at)
    assert all(u.startswith("/app/static/vendor/") for u in args["js_links"] + args["css_links"])
    assert "http://" not in args["script"] and "https://" not in args["script"]
    assert any("green-legend" in h.proto.body for h in at.get("html"))


def test_choropleth_tooltips_carry_each_units_own_target_and_status(env):
    """Targets that differ per unit (an officer's upload): each unit's tooltip carries its own
    value, target and status, as the core's progress table has them."""
    from sinks.greening.targets import load_targets, progress_table, target_indicators

    ga = env["ga"]
    year = ga.years[-1]
    ind = ga.indicators[ga.indicators["year"] == year].set_index("unit_id")
    ids = list(ga.units["unit_id"])
    # targets around each unit's value: half the units just above (below target), half just under (met)
    rows = [f"{u},{year},{IND},{ind.at[u, IND] + (0.7 if k % 2 else -0.4):.1f},test,yes" for k, u in enumerate(ids)]
    csv = ("unit_id,year,indicator,target_pct,source,verified\n" + "\n".join(rows) + "\n").encode()
    acc, _ = load_targets(csv, indicators=target_indicators(ga.config.greening.park_radii_m))
    prog = progress_table(ga.indicators, acc)
    prog = prog[(prog["indicator"] == IND) & (prog["target_year"] == year)].set_index("unit_id")
    assert set(prog["status"]) == {"below", "met"}
    at = _open("en")
    login(at, OFFICER, PASSWORD)
    _uploader(at, "green_targets_file").upload("targets.csv", csv, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    names = dict(zip(ga.units["unit_id"], ga.units["name_en"]))
    feats = [f for f in _features(map_args(at)["script"]) if "status" in f.get("properties", {})]
    assert len(feats) == len(ga.units)
    by_name = {f["properties"]["name"]: f["properties"] for f in feats}
    for u in ids:
        got = by_name[names[u]]
        assert got["value"] == f"{ind.at[u, IND]:.1f} %", u
        assert got["target"] == f"{prog.at[u, 'target_pct']:.1f} % ({year})", u
        assert got["status"] == EN[f"green.status.{prog.at[u, 'status']}"], u
    assert len({f["properties"]["target"] for f in feats}) > 12  # the targets really differ


def _features(script: str) -> list[dict]:
    """GeoJSON features folium inlined in the map script (``geo_json_<id>_add({...})``)."""
    out, dec, i = [], json.JSONDecoder(), 0
    while (i := script.find('_add({"features"', i)) >= 0:
        i += len("_add(")
        try:
            obj, _ = dec.raw_decode(script[i:])
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            out.extend(obj.get("features", []))
    return out


def test_targets_below_count_follows_the_core(env):
    ga = env["ga"]
    at = _open("en")
    year = ga.years[-1]
    p = ga.progress[(ga.progress["indicator"] == IND) & (ga.progress["target_year"] == year)]
    values = {m.label: m.value for m in at.metric}
    assert values[EN["green.tg.below"]] == str(int((p["status"] == "below").sum()))
    assert values[EN["green.tg.met"]] == str(int((p["status"] == "met").sum()))
    ranks = _table(at, EN["green.col.rank"])
    assert len(ranks) == len(p)
    # targets of the demo are illustrative: flagged as unverified
    assert any(EN["green.verified.no"] in str(v) for v in ranks[EN["green.col.verified"]])
    assert any(w.value.startswith(f"{len(p)} of {len(p)} targets are illustrative") for w in at.warning)


def _units_geojson() -> bytes:
    g = gpd.GeoDataFrame({"sid": ["IN", "OUT"], "name_en": ["Inside", "Far away"], "name_zh": ["区内", "区外"]},
                         geometry=[shapely.box(118.60, 32.05, 118.63, 32.08), shapely.box(119.90, 33.50, 119.95, 33.55)], crs=4326)
    return g.to_json().encode()


def test_officer_uploads_units_and_an_undefined_ratio_shows_a_dash_with_its_reason(env):
    at = _open("en")
    login(at, OFFICER, PASSWORD)
    assert EN["green.units.upload"] in at.selectbox(key="green_unit_set").options
    at.selectbox(key="green_unit_set").select(EN["green.units.upload"]).run()
    at.get("file_uploader")[0].upload("streets.geojson", _units_geojson(), "application/geo+json").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="green_units_id").select("sid").run()
    assert not at.exception, [e.value for e in at.exception]
    table = _table(at, EN["green.col.unit_id"])
    assert list(table[EN["green.col.unit_id"]]) == ["IN", "OUT"]
    col = next(c for c in table.columns if c.startswith(EN[f"green.ind.{IND}"]))
    row = table.set_index(EN["green.col.unit_id"])
    assert row.at["OUT", col] == "—"
    assert EN["green.why.outside_map"] in row.at["OUT", EN["green.col.notes"]]
    assert row.at["IN", col] != "—"
    # the same numbers as the core for the uploaded units
    g = gpd.read_file(_units_geojson().decode())
    ga = greening_assessment(DEMO, units=g, unit_id_field="sid")
    v = ga.indicators[(ga.indicators["year"] == ga.years[-1]) & (ga.indicators["unit_id"] == "IN")][IND].iloc[0]
    assert row.at["IN", col] == f"{v:.1f}"
    assert any(EN["green.why.outside_map"] in w.value and "Far away" in w.value for w in at.warning)
    assert any(i.value.startswith("Units outside the land-cover map") for i in at.warning)
    # officers may edit targets (a data editor) and upload a targets CSV
    assert any(df.editing_mode != "read_only" for df in at.dataframe)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_point_sample_all_tree_gives_p_one(env, lang):
    d = ZH if lang == "zh" else EN
    at = _open(lang)
    at.button(key="green_pt_draw").click().run()
    assert not at.exception, [e.value for e in at.exception]
    gen = at.session_state["green_pt_gen"]
    editor = next(df for df in at.dataframe if df.editing_mode != "read_only")
    n = len(editor.value)
    assert n == 100
    at.session_state[f"green_pt_editor_{gen}"] = {"edited_rows": {i: {"label": d["green.label.tree"]} for i in range(n)},
                                                  "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value == d["green.pt.summary"].format(n=n, total=n, un=0) for m in at.markdown)
    est = _table(at, d["green.pt.category"]).set_index(d["green.pt.category"])
    assert est.at[d["green.label.tree"], "n"] == n
    assert est.at[d["green.label.tree"], "p (%)"] == "100.0"
    assert est.at[d["green.label.non_vegetation"], "p (%)"] == "0.0"
    # the points are numbered on the map
    assert "P001" in map_args(at)["script"]


def test_fill_button_labels_the_unlabelled_points(env):
    at = _open("en")
    at.number_input(key="green_pt_n").set_value(20).run()
    at.button(key="green_pt_draw").click().run()
    at.selectbox(key="green_pt_fill_label").select("non_vegetation").run()
    at.button(key="green_pt_fill").click().run()
    assert not at.exception, [e.value for e in at.exception]
    est = _table(at, EN["green.pt.category"]).set_index(EN["green.pt.category"])
    assert est.at[EN["green.label.non_vegetation"], "n"] == 20
    assert est.at[EN["green.label.non_vegetation"], "p (%)"] == "100.0"


def _uploader(at: AppTest, key_prefix: str):
    hits = [u for u in at.get("file_uploader") if (u.key or "").startswith(key_prefix)]
    assert len(hits) == 1, [u.key for u in at.get("file_uploader")]
    return hits[0]


def test_officer_uploads_targets_and_sees_the_rejected_rows(env):
    ga = env["ga"]
    at = _open("en")
    login(at, OFFICER, PASSWORD)
    csv = (b"unit_id,year,indicator,target_pct,source,verified\n"
           b"*,2025,green_coverage_fvc_pct,99,test,yes\n"
           b"PK01,2025,no_such_indicator,5,test,no\n")
    _uploader(at, "green_targets_file").upload("targets.csv", csv, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    values = {m.label: m.value for m in at.metric}
    defined = ga.indicators[(ga.indicators["year"] == ga.years[-1])][IND].notna().sum()
    assert values[EN["green.tg.below"]] == str(int(defined))  # 99 % is above every unit
    assert values[EN["green.tg.met"]] == "0"
    assert any(w.value == EN["green.tg.rejected"].format(n=1) for w in at.warning)
    rejected = next(df.value for df in at.dataframe if EN["green.col.reason"] in df.value.columns)
    assert list(rejected[EN["green.col.indicator"]]) == ["no_such_indicator"]
    assert list(rejected[EN["green.col.reason"]]) == [EN["green.tgr.bad_indicator"]]
    # verified targets are not flagged as illustrative
    tail = EN["green.tg.unverified"].split("}")[-1]
    assert not any(w.value.endswith(tail) for w in at.warning), [w.value for w in at.warning]
    # back to the configured targets
    at.button(key="green_tgt_reset").click().run()
    values = {m.label: m.value for m in at.metric}
    p = ga.progress[(ga.progress["indicator"] == IND) & (ga.progress["target_year"] == ga.years[-1])]
    assert values[EN["green.tg.below"]] == str(int((p["status"] == "below").sum()))


def test_officer_uploads_labelled_points(env):
    at = _open("en")
    login(at, OFFICER, PASSWORD)
    at.number_input(key="green_pt_n").set_value(10).run()
    at.button(key="green_pt_draw").click().run()
    editor = next(df for df in at.dataframe if df.editing_mode != "read_only" and "point_id" in df.value.columns)
    ids = list(editor.value["point_id"])
    rows = "\n".join(f"{i},{'树木' if k < 4 else 'non_vegetation'}" for k, i in enumerate(ids))
    _uploader(at, "green_pt_file").upload("labelled.csv", f"point_id,label\n{rows}\n".encode(), "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    est = _table(at, EN["green.pt.category"]).set_index(EN["green.pt.category"])
    assert est.at[EN["green.label.tree"], "n"] == 4
    assert est.at[EN["green.label.tree"], "p (%)"] == "40.0"
    assert est.at[EN["green.label.non_vegetation"], "n"] == 6


def _auto_id_geojson(*, shift: tuple[float, float] = (0.0, 0.0)) -> bytes:
    """Three units with GeoJSON's automatic feature ids (0, 1, 2), a text id ``sid`` and names."""
    dx, dy = shift
    g = gpd.GeoDataFrame({"sid": ["A", "B", "C"], "name": ["甲街道", "乙街道", "丙街道"]},
                         geometry=[shapely.box(118.60 + dx, 32.05 + dy, 118.63 + dx, 32.08 + dy),
                                   shapely.box(118.70 + dx, 32.15 + dy, 118.74 + dx, 32.18 + dy),
                                   shapely.box(118.78 + dx, 32.20 + dy, 118.81 + dx, 32.23 + dy)], crs=4326)
    data = g.to_json().encode()
    assert b'"id": "0"' in data  # geopandas writes the row numbers as feature ids
    return data


def _upload_units(at: AppTest, data: bytes, name: str = "streets.geojson") -> None:
    login(at, OFFICER, PASSWORD)
    at.selectbox(key="green_unit_set").select(EN["green.units.upload"] if at.session_state["lang"] == "en" else
                                              ZH["green.units.upload"]).run()
    at.get("file_uploader")[0].upload(name, data, "application/geo+json").run()
    assert not at.exception, [e.value for e in at.exception]


def test_upload_defaults_to_the_text_id_not_geojsons_row_numbers(env):
    at = _open("en")
    _upload_units(at, _auto_id_geojson())
    assert at.selectbox(key="green_units_id").value == "sid"
    assert at.selectbox(key="green_units_id").options[-1] == "id"
    table = _table(at, EN["green.col.unit_id"])
    assert list(table[EN["green.col.unit_id"]]) == ["A", "B", "C"]
    # names from the chosen name field; none shows the ids
    assert list(table[EN["green.col.unit"]]) == ["甲街道", "乙街道", "丙街道"]
    at.selectbox(key="green_units_name").select(EN["green.name_field.none"]).run()
    table = _table(at, EN["green.col.unit_id"])
    assert list(table[EN["green.col.unit"]]) == ["A", "B", "C"]
    # the uploaded units are the officer's: the banner calls only the parks and targets illustrative
    assert any(w.value == EN["green.illustrative_upload"] for w in at.warning)
    assert not any(w.value == EN["green.illustrative"] for w in at.warning)


def test_gcj02_upload_is_converted_and_says_so_in_chinese(env):
    at = _open("zh")
    data = _auto_id_geojson()
    _upload_units(at, data)
    wgs = _table(at, ZH["green.col.unit_id"]).set_index(ZH["green.col.unit_id"])
    at.radio(key="green_units_coord").set_value("gcj02").run()
    assert not at.exception, [e.value for e in at.exception]
    gcj = _table(at, ZH["green.col.unit_id"]).set_index(ZH["green.col.unit_id"])
    note = ZH["green.note.converted"].format(system=ZH["wet.coord.gcj02"])
    assert any(i.value == note for i in at.info), [i.value for i in at.info]
    assert not any("gcj02" in i.value for i in at.info)
    area = next(c for c in gcj.columns if c.startswith(ZH["green.col.unit_area"]))
    # the same file read as GCJ-02 lands some hundred metres away: other figures
    assert list(gcj.index) == ["A", "B", "C"]
    col = next(c for c in gcj.columns if c.startswith(ZH[f"green.ind.{IND}"]))
    assert any(gcj.at[u, col] != wgs.at[u, col] for u in gcj.index) or any(gcj.at[u, area] != wgs.at[u, area] for u in gcj.index)
    g = gpd.read_file(data.decode())
    core = greening_assessment(DEMO, units=g, unit_id_field="sid", unit_coord_system="gcj02")
    v = core.indicators[(core.indicators["year"] == core.years[-1])].set_index("unit_id")[IND]
    assert {u: gcj.at[u, col] for u in gcj.index} == {u: _pct(v[u]) for u in gcj.index}


def test_switching_unit_set_clears_uploaded_and_rejected_targets(env):
    ga = env["ga"]
    at = _open("en")
    login(at, OFFICER, PASSWORD)
    csv = (b"unit_id,year,indicator,target_pct,source,verified\n"
           b"*,2025,green_coverage_fvc_pct,99,test,\xe6\x98\xaf\n"
           b"PK01,2025,green_coverage_fvc_pct,5,test,maybe\n")
    _uploader(at, "green_targets_file").upload("targets.csv", csv, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    rejected = next(df.value for df in at.dataframe if EN["green.col.reason"] in df.value.columns)
    assert list(rejected[EN["green.col.reason"]]) == [EN["green.tgr.bad_verified"]]  # 是 is accepted, "maybe" is not
    assert at.session_state["green_targets"][2] == "targets.csv"
    at.selectbox(key="green_unit_set").select(EN["green.units.zones"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(EN["green.col.reason"] in df.value.columns for df in at.dataframe)
    assert not any(w.value == EN["green.tg.rejected"].format(n=1) for w in at.warning)
    assert at.session_state["green_targets"][2] == EN["green.tg.from_config"]
    assert "green_tgt_rejected_upload" not in at.session_state


def test_where_to_plant_totals_follow_the_core_at_half_share(env):
    from sinks.greening.indicators import candidate_gains
    from ui import fmt

    ga = env["ga"]
    year = ga.years[-1]
    at = _open("en")
    at.slider(key="green_share").set_value(50).run()
    assert not at.exception, [e.value for e in at.exception]
    g = candidate_gains(ga.indicators[ga.indicators["year"] == year], share=0.5)
    values = {m.label: m.value for m in at.metric}
    assert values[EN["green.plant.area"]] == fmt.hectares(float(g["candidate_ha"].sum()), "en")
    assert values[EN["green.plant.removals"]] == fmt.tonnes(float(g["removals_tco2e_yr"].sum()), "co2e_yr", "en")
    assert values[EN["green.plant.stock"]] == fmt.tonnes(float(g["stock_gain_tc"].sum()), "c", "en")
    cand = _table(at, EN["green.col.gain"].format(ind=EN[f"green.ind.{IND}"]))
    assert list(cand[EN["green.col.gain"].format(ind=EN[f"green.ind.{IND}"])]) == [_pct(v) for v in g["green_fvc_gain_pts"]]
    # the gain column follows the indicator
    at.selectbox(key="green_indicator").select(EN["green.ind.forest_coverage_pct"]).run()
    cand = _table(at, EN["green.col.gain"].format(ind=EN["green.ind.forest_coverage_pct"]))
    assert list(cand[EN["green.col.gain"].format(ind=EN["green.ind.forest_coverage_pct"])]) == [_pct(v) for v in g["forest_gain_pts"]]


def test_change_table_equals_the_core(env):
    ga = env["ga"]
    at = _open("en")
    first, last = ga.years[0], ga.years[-1]
    ch = next(df.value for df in at.dataframe if str(first) in df.value.columns)
    d = ga.indicators.pivot(index="unit_id", columns="year", values=IND)
    names = dict(zip(ga.units["unit_id"], ga.units["name_en"]))
    want = {names[u]: (_pct(d.at[u, first]), _pct(d.at[u, last]), _pct(d.at[u, last] - d.at[u, first])) for u in d.index}
    got = {r[EN["green.col.unit"]]: (r[str(first)], r[str(last)], r[EN["green.col.change"]]) for _, r in ch.iterrows()}
    want = {k: tuple("0.0" if x == "-0.0" else x for x in v) for k, v in want.items()}
    assert got == want
