"""AppTest of the "Protection zones" page: what the public and an officer get, in both languages,
and the figures on screen against the core (sinks.protection.protection_screening).

All tests share one workspace (seeded once with the demo's illustrative layers, never edited
here) so the app computes the screening once per process, and the expected figures are computed
once per module straight from the core with the same layers. AppTest cannot pan the map;
tests/test_browser_protection.py checks the zoom in Chromium.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from geodata.store import Workspace
from sinks.accounts import AccountStore
from tests.apptest_kit import login, map_args
from sinks.protection import protection_screening
from ui import fmt
from ui.i18n import EN, ZH
from wetlands import redlines as rl

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
OFFICER, PASSWORD = "officer.li", "correct-horse-9"
PAGE = "app_pages/protection.py"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A workspace seeded with the demo layers, an accounts file, and the core's screening of
    the demo with those layers (what the page must show)."""
    from ui.cache import missing_demo_files
    from ui.wetlands_flow import seed_demo_layers

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    root = tmp_path_factory.mktemp("protection_page")
    accounts = root / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    ws = Workspace(root / "ws" / "workspace.gpkg")
    seed_demo_layers(ws, str(DEMO))
    layers = {spec.layer: ws.load(spec.layer) for spec in (rl.ECO_REDLINES, rl.ECO_SPACE, rl.REDLINES)}
    pa = protection_screening(DEMO, redlines=layers[rl.ECO_REDLINES.layer], wetland_redlines=layers[rl.REDLINES.layer],
                              eco_space=layers[rl.ECO_SPACE.layer])
    mp = pytest.MonkeyPatch()
    mp.setenv("SINKS_WORKSPACE", str(root / "ws"))
    mp.setenv("SINKS_ACCOUNTS", str(accounts))
    yield {"root": root, "pa": pa}
    mp.undo()


def _open(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _expected_kpis(pa, lang: str) -> list[str]:
    year = pa.years[-1]
    led = pa.ledger[pa.ledger["year"] == year]
    union = shapely.area(shapely.union_all(pa.zones.geometry.to_numpy())) / 1e4  # EPSG:32650, metres
    return [str(len(pa.zones)), fmt.hectares(union, lang), fmt.hectares(led["non_conforming_ha"].sum(), lang),
            fmt.hectares(led["review_ha"].sum(), lang), fmt.hectares(led["newly_flagged_ha"].sum(), lang)]


def _in(script: str, text: str) -> bool:
    """``text`` in the map script, raw or as JSON escapes it (folium writes non-ASCII as \\uXXXX)."""
    return text in script or json.dumps(text)[1:-1] in script


def _intake_words(pa, lang: str) -> list[str]:
    d = ZH if lang == "zh" else EN
    return [f"{d['prot.intake.label']} {i}:" for i in pa.intakes["intake_id"]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_sees_the_core_figures_and_nothing_restricted(env, lang):
    pa, d = env["pa"], (ZH if lang == "zh" else EN)
    at = _open(lang)
    assert at.title[0].value == d["prot.title"]
    # the KPIs of the latest date equal the core's
    assert [m.value for m in at.metric] == _expected_kpis(pa, lang)
    assert str(pa.years[-1]) in at.metric[2].label
    # no flagged-patch list, no patch export, no point upload, no locations tab
    headers = [set(df.value.columns) for df in at.dataframe]
    assert not any(d["prot.col.patch"] in h for h in headers), headers
    labels = [b.label for b in at.get("download_button")]
    assert labels == [d["prot.zones.csv"]], labels
    assert len(at.get("file_uploader")) == 0
    assert [tab.label for tab in at.tabs] == [d["prot.tab.map"], d["prot.tab.zones"], d["prot.tab.ledger"], d["prot.tab.rules"]]
    # the map: offline, zones only (no intake marker, no patch outline, no zoom)
    args = map_args(at)
    assert all(u.startswith("/app/static/vendor/") for u in args["js_links"] + args["css_links"])
    assert "http://" not in args["script"] and "https://" not in args["script"]
    assert "circleMarker" not in args["script"]
    for word in _intake_words(pa, lang):
        assert not _in(args["script"], word)
    assert args["center"] is None and args["zoom"] is None and args["feature_group"] is None
    assert _in(args["script"], d["prot.type.ws_level1"])  # the water-source zones themselves are public


def test_zone_table_and_rules_follow_the_core(env):
    pa = env["pa"]
    at = _open("en")
    tables = {tuple(df.value.columns): df.value for df in at.dataframe}
    zones = next(v for k, v in tables.items() if EN["prot.col.mapped"] in k)
    assert len(zones) == len(pa.zones)
    s = pa.summary(pa.years[-1]).set_index("zone_id")
    for _, r in zones.iterrows():
        z = s.loc[r[EN["prot.col.zone_id"]]]
        assert r[EN["prot.col.non_conforming"]] == pytest.approx(round(z["non_conforming_ha"], 2))
        assert r[EN["prot.col.stock"]] == pytest.approx(round(z["stock_tc"], 0))
    rules = next(v for k, v in tables.items() if EN["prot.col.citation"] in k and EN["prot.col.rule"] in k)
    assert len(rules) == len(pa.screening.rules.rules)
    unverified = sum(not r.is_verified for r in pa.screening.rules.rules)
    assert rules[EN["prot.col.verified"]].str.startswith("⚠ unverified").sum() == unverified > 0
    recon = next(v for k, v in tables.items() if EN["prot.rec.centres"] in k)
    assert len(recon) == len(pa.zones)  # both raster areas, per zone
    ledger = next(v for k, v in tables.items() if EN["prot.led.area_check"] in k)
    assert set(ledger[EN["prot.col.type"]]) == {EN["prot.type.redline"], EN["prot.type.wetland_redline"], EN["prot.type.eco_space"]}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_officer_gets_patches_exports_intakes_and_zoom(env, lang):
    pa, d = env["pa"], (ZH if lang == "zh" else EN)
    at = login(_open(lang), OFFICER, PASSWORD)
    year = pa.years[-1]
    core = pa.screening.patches[pa.screening.patches["year"] == year]
    table = next(df.value for df in at.dataframe if d["prot.col.patch"] in df.value.columns)
    assert len(table) == len(core)
    assert set(table[d["prot.col.patch"]]) == set(core["patch_id"].astype(str))
    assert set(table[d["prot.col.status"]]) <= {d["prot.status.non_conforming"], d["prot.status.review"]}
    labels = [b.label for b in at.get("download_button")]
    assert d["prot.patch.csv"] in labels and d["prot.patch.gpkg"].format(crs=4490) in labels, labels
    assert d["prot.tab.points"] in [tab.label for tab in at.tabs]
    args = map_args(at)
    for word in _intake_words(pa, lang):
        assert _in(args["script"], word)
    assert "http://" not in args["script"] and "https://" not in args["script"]
    # the largest non-conforming patch: the map centres on it, zooms in and outlines it
    nc = core[core["status"] == "non_conforming"].sort_values("area_ha", ascending=False).iloc[0]
    at.selectbox(key="prot_patch").set_value(str(nc["patch_id"])).run()
    assert not at.exception, [e.value for e in at.exception]
    args = map_args(at)
    assert args["center"] == pytest.approx([nc["lat"], nc["lon"]])
    assert args["zoom"] == 16
    assert str(nc["patch_id"]) in args["feature_group"]


def test_officer_checks_project_locations(env):
    pa = env["pa"]
    at = login(_open("en"), OFFICER, PASSWORD)
    l1 = pa.zones[pa.zones["zone_type"] == "ws_level1"].to_crs(4326).geometry.iloc[0].representative_point()
    far = (118.30, 31.70)  # inside China, outside every zone
    csv = (f"id,name,lon,lat\nA1,Pump house,{l1.x:.6f},{l1.y:.6f}\nA2,Far away,{far[0]},{far[1]}\nA3,Broken,abc,32.1\n").encode()
    at.get("file_uploader")[0].upload("sites.csv", csv, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    pts = next(df.value for df in at.dataframe if EN["prot.pt.status"] in df.value.columns)
    status = dict(zip(pts[EN["prot.pt.id"]], pts[EN["prot.pt.status"]]))
    assert status == {"A1": EN["prot.status.non_conforming"], "A2": EN["prot.status.outside"]}
    rejected = next(df.value for df in at.dataframe if EN["prot.pt.reason"] in df.value.columns)
    assert list(rejected[EN["prot.pt.row"]]) == [4]
    assert EN["prot.pt.csv"] in [b.label for b in at.get("download_button")]
    # the points are on the map (officers only)
    assert "Pump house" in map_args(at)["script"]


def test_exports_are_safe_and_in_the_chosen_crs(env, tmp_path):
    from ui import protection_flow as flow

    pa = env["pa"]
    year = pa.years[-1]
    p = flow.filter_patches(pa, year=year, statuses=["non_conforming"])
    for crs in flow.EXPORT_CRS:
        out = tmp_path / f"x_{crs}.gpkg"
        out.write_bytes(flow.export_gpkg(pa, p, crs))
        assert {name for name, _ in pyogrio.list_layers(out)} == {"flagged_patches", "zones"}
        info = pyogrio.read_info(out, layer="flagged_patches")
        assert info["features"] == len(p) and str(crs) in info["crs"]
        back = gpd.read_file(out, layer="flagged_patches")
        assert back.to_crs(pa.zones.crs).area.sum() / 1e4 == pytest.approx(p.area.sum() / 1e4, rel=1e-6)
    text = flow.patch_csv(pa, p, "zh")
    assert text.startswith(b"\xef\xbb\xbf") and "斑块".encode() in text
    res = flow.check_upload(pa, b"name,lon,lat\n=HYPERLINK(1),118.62,32.05\n", "x.csv", "wgs84")
    assert b"'=HYPERLINK(1)" in flow.points_csv(pa, res, "en")


def test_ledger_checks(env):
    from ui import protection_flow as flow

    pa = env["pa"]
    zid = "laoshan_nfp"
    area = float(pa.zones.set_index("zone_id").at[zid, "area_ha"])
    led = flow.ledger_frame(pa, {zid: (1, area + 5.0, area)})  # 5 ha smaller than its first version
    row = led[(led["zone_id"] == zid)].iloc[-1]
    assert row["area_held"] is False and row["first_version"] == 1
    assert led[led["zone_id"] == "YB-1"]["area_held"].isna().all()  # built from the river: not tracked
    first = led[led["year"] == pa.years[0]]
    assert first["nature_held"].isna().all() and first["function_held"].isna().all()  # the baseline
    later = led[led["year"] == pa.years[-1]]
    assert (later["nature_held"] == (later["natural_lost_ha"] <= flow.NATURAL_TOL_HA)).all()


# ------------------------------------------------------------------------------ review fixes


def _csv_of(pa, n_far: int, *, chemical_belt: int = 0) -> bytes:
    """``n_far`` points outside every zone, one in a level-1 water-source zone (non-conforming)
    at the end, and ``chemical_belt`` points in the Yangtze belt named as chemical plants."""
    l1 = pa.zones[pa.zones["zone_type"] == "ws_level1"].to_crs(4326).geometry.iloc[0].representative_point()
    yb = pa.zones[pa.zones["zone_type"] == "yangtze_belt"].to_crs(4326).geometry.iloc[0].representative_point()
    rows = [f"F{i},far {i},{118.30 + (i % 100) * 1e-4:.6f},{31.70 + (i // 100) * 1e-4:.6f}" for i in range(n_far)]
    rows += [f"C{i},化工厂 {i},{yb.x:.6f},{yb.y:.6f}" for i in range(chemical_belt)]
    rows.append(f"L1,Pump house,{l1.x:.6f},{l1.y:.6f}")
    return ("id,name,lon,lat\n" + "\n".join(rows) + "\n").encode()


def test_many_points_one_table_and_a_capped_map(env, monkeypatch):
    """Defect 1: the points table is built in one pass and equals a per-point reading; the map
    draws at most MAX_MAP_POINTS points, flagged ones first; too many rows is refused."""
    from ui import protection_flow as flow

    pa = env["pa"]
    res = flow.check_upload(pa, _csv_of(pa, 30, chemical_belt=3), "many.csv", "wgs84")
    table = flow.points_table(pa, res, "en")
    assert len(table) == res.table.n_points == 34
    got = dict(zip(table[EN["prot.pt.id"]], table[EN["prot.pt.status"]]))
    for pid, status in res.worst().items():  # the worst status of each point, as the core gives it
        assert got[pid] == EN[f"prot.status.{status}"]
    assert got["L1"] == EN["prot.status.non_conforming"] and got["F0"] == EN["prot.status.outside"]
    l1 = table.set_index(EN["prot.pt.id"]).loc["L1"]
    assert l1[EN["prot.pt.types"]] == EN["prot.type.ws_level1"] and l1[EN["prot.col.rule"]]
    assert table.set_index(EN["prot.pt.id"]).loc["F0", EN["prot.pt.zones"]] == "—"
    # the map: flagged points first, at most the limit
    rank = {s: i for i, s in enumerate(flow.POINT_STATUSES)}
    every = flow.map_points(res, limit=10_000)
    assert len(every) == 34 and list(every["status"].map(rank)) == sorted(every["status"].map(rank))
    drawn = flow.map_points(res, limit=3)
    assert len(drawn) == 3 and set(drawn["status"]) <= {"non_conforming", "review"}
    assert "L1" in set(flow.map_points(res, limit=4)["point_id"])  # 4 flagged points: L1 and the 3 chemical plants
    monkeypatch.setattr(flow, "MAX_MAP_POINTS", 5)
    script = flow.build_map("k", pa, "en", types=[], year=pa.years[-1], points=res).get_root().render()
    assert "Pump house" in script and "far 29" not in script
    # the page's row limit
    with pytest.raises(flow.DataError) as err:
        flow.check_upload(pa, _csv_of(pa, 10), "big.csv", "wgs84", max_rows=5)
    assert flow.too_many_rows(err.value)
    assert flow.MAX_POINT_ROWS <= 20_000


def test_page_keeps_the_points_table_and_caps_the_map(env, monkeypatch):
    from ui import protection_flow as flow

    pa = env["pa"]
    at = login(_open("en"), OFFICER, PASSWORD)
    calls = []
    real = flow.points_table
    monkeypatch.setattr(flow, "points_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(flow, "MAX_MAP_POINTS", 4)
    at.get("file_uploader")[0].upload("sites.csv", _csv_of(pa, 12), "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(calls) == 1
    caption = EN["prot.map.points_drawn"].format(shown="4", n="13")
    assert caption in [c.value for c in at.caption]
    at.run()  # a rerun (any widget) neither checks nor builds the table again
    assert not at.exception and len(calls) == 1
    assert at.session_state["prot_points_table"][1].shape[0] == 13
    # above the page's row limit: a clear message, not a table
    monkeypatch.setattr(flow, "MAX_POINT_ROWS", 5)
    at.get("file_uploader")[0].upload("big.csv", _csv_of(pa, 12), "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    assert EN["prot.pt.too_many"].format(name="big.csv", rows="5") in [e.value for e in at.error]


def test_an_unexpected_upload_failure_is_a_message_not_a_traceback(env, monkeypatch):
    """Defect 2: a bug in the check (not a DataError) names the file; the rest of the page works."""
    from ui import protection_flow as flow

    pa = env["pa"]
    calls = []

    def broken(*a, **k):
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setattr(flow, "check_points", broken)
    at = login(_open("zh"), OFFICER, PASSWORD)
    at.get("file_uploader")[0].upload("sites.csv", _csv_of(pa, 2), "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("sites.csv" in e and "RuntimeError: boom" in e and e.startswith("核查 sites.csv") for e in errors), errors
    assert any(ZH["prot.col.mapped"] in df.value.columns for df in at.dataframe)  # the zone figures are still there
    assert [m.value for m in at.metric] == _expected_kpis(pa, "zh")
    at.run()
    assert not at.exception and len(calls) == 1  # not retried on every rerun


def test_a_red_line_removed_in_a_later_version_is_flagged(env, tmp_path):
    """Defect 3: an id of an earlier version missing from the latest is a row with area 0 and
    the area check failed (removed in vN)."""
    from ui import protection_flow as flow
    from ui.wetlands_flow import seed_demo_layers

    pa = env["pa"]
    ws = Workspace(tmp_path / "ws" / "workspace.gpkg")
    seed_demo_layers(ws, str(DEMO))
    g = ws.load(rl.ECO_REDLINES.layer)
    assert "laoshan_nfp" in set(g[rl.ECO_REDLINES.id_field])
    before = float(g[g[rl.ECO_REDLINES.id_field] == "laoshan_nfp"].to_crs(pa.zones.crs).area.sum() / 1e4)
    kept = g[g[rl.ECO_REDLINES.id_field] != "laoshan_nfp"].to_crs(4326)
    ws.save(rl.ECO_REDLINES.layer, kept, author="test", reason="drop Laoshan", id_field=rl.ECO_REDLINES.id_field,
            expected_parent=g.attrs["store_version"])
    latest = ws.load(rl.ECO_REDLINES.layer).attrs["store_version"]
    hist = flow.area_history(ws)
    h = hist["laoshan_nfp"]
    assert h.removed_in == latest and h.now_ha == 0.0 and h.first_ha == pytest.approx(before, rel=1e-6)
    assert h.zone_type == "redline" and h.name_en
    assert hist["lvshuiwan_wetland"].removed_in is None
    # the screening of the new layer has no Laoshan zone: the ledger still lists it, failed
    pa2 = dataclasses.replace(pa, screening=dataclasses.replace(pa.screening, zones=pa.zones[pa.zones["zone_id"] != "laoshan_nfp"]),
                              ledger=pa.ledger[pa.ledger["zone_id"] != "laoshan_nfp"])
    led = flow.ledger_frame(pa2, hist)
    rows = led[led["zone_id"] == "laoshan_nfp"]
    assert len(rows) == len(pa.years)
    assert (rows["area_held"] == False).all() and (rows["zone_area_ha"] == 0).all()  # noqa: E712
    for lang, d in (("en", EN), ("zh", ZH)):
        table = flow.ledger_table(led, lang)
        name = rows["name_zh" if lang == "zh" else "name_en"].iloc[0]
        cell = table[table[d["prot.col.zone"]] == name][d["prot.led.area_check"]]
        assert len(cell) == len(pa.years) and (cell == d["prot.check.removed"].format(v=latest)).all()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kpi_overlap_and_public_note_are_said_plainly(env, lang):
    """Defects 4 and 5: the KPIs' sum-over-zones is said under them, not only in a tooltip;
    the public note says the zones are public and show roughly where an intake is."""
    d = ZH if lang == "zh" else EN
    at = _open(lang)
    captions = [c.value for c in at.caption]
    assert d["prot.kpi.overlap_note"] in captions
    assert d["prot.public_note"] in captions
    assert ("取水口" in d["prot.public_note"] and "公开" in d["prot.public_note"]) if lang == "zh" else \
        ("public" in d["prot.public_note"] and "roughly where" in d["prot.public_note"])
    at = login(at, OFFICER, PASSWORD)
    assert d["prot.patch.sum_note"] in [c.value for c in at.caption]


def test_points_export_has_one_column_each_and_rejected_rows_download(env):
    """Defect 6: no name_x / lon_y; the rejected rows download, defused, UTF-8 with BOM."""
    import io

    import pandas as pd

    from ui import protection_flow as flow

    pa = env["pa"]
    res = flow.check_upload(pa, b"id,name,lon,lat\nA,=cmd,118.62,32.05\nB,bad,abc,32.1\n", "x.csv", "wgs84")
    out = pd.read_csv(io.BytesIO(flow.points_csv(pa, res, "en")), encoding="utf-8-sig")
    assert not [c for c in out.columns if c.endswith(("_x", "_y"))], list(out.columns)
    assert list(out.columns).count("name") == 1 and {"lon", "lat", "zone_name", "point_status"} <= set(out.columns)
    rej = flow.rejected_csv(res)
    assert rej.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(rej), encoding="utf-8-sig", dtype=str)
    assert list(back["row"]) == ["3"] and "reason" in back.columns
    evil = flow.check_upload(pa, b"id,name,lon,lat\n=1+1,x,abc,32.1\n", "y.csv", "wgs84")
    assert b"'=1+1" in flow.rejected_csv(evil)


def test_officer_page_offers_the_rejected_rows(env):
    at = login(_open("en"), OFFICER, PASSWORD)
    at.get("file_uploader")[0].upload("s.csv", b"id,lon,lat\nA,118.30,31.70\nB,abc,32.1\n", "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    assert EN["prot.pt.rejected_csv"] in [b.label for b in at.get("download_button")]


def test_geopackage_keeps_attributes_as_they_are(env, tmp_path):
    """Defect 7: the CSV defusing (a leading ') is not applied to GeoPackage attributes."""
    from ui import protection_flow as flow

    pa = env["pa"]
    p = flow.filter_patches(pa, year=pa.years[-1]).copy()
    p["rule_en"] = "-10 m from the bank"
    p["citation"] = "=see annex"
    out = tmp_path / "x.gpkg"
    out.write_bytes(flow.export_gpkg(pa, p, 4490))
    back = gpd.read_file(out, layer="flagged_patches")
    assert set(back["rule_en"]) == {"-10 m from the bank"} and set(back["citation"]) == {"=see annex"}
    zones = gpd.read_file(out, layer="zones")
    assert set(zones["name_zh"]) == set(pa.zones["name_zh"])


def test_zh_labels_english_text_and_chart_fields(env):
    """Defect 8: the reader's English reasons are labelled as English in zh; the ledger chart's
    fields (its tooltip) are in the reader's language."""
    from ui import protection_flow as flow

    pa = env["pa"]
    res = flow.check_upload(pa, b"id,lon,lat\nB,abc,32.1\n", "x.csv", "wgs84")
    cols = list(flow.rejected_table(res, "zh").columns)
    assert ZH["prot.pt.reason"] in cols and ZH["prot.pt.reason"].startswith("（英文）")
    assert "（英文）" in ZH["prot.method.notes_caption"]
    led = flow.ledger_frame(pa, {})
    led = led.assign(natural_lost_ha=led["natural_lost_ha"].fillna(0) + 1.0)  # something to chart
    for lang, d in (("zh", ZH), ("en", EN)):
        chart = flow.ledger_chart(led, pa.years[-1], lang)
        assert list(chart.columns) == [d["prot.col.zone"], d["prot.led.measure"], d["prot.col.area"]]
