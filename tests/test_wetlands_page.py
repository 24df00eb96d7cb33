"""AppTest of the "Wetlands & red lines" page: what the public and an officer get, in both
languages, and the figures on screen against the core (sinks.wetland_inventory).

Each test runs the real app.py with its own workspace and accounts file (tmp_path). AppTest
cannot click on the map; tests/test_browser_wetlands.py draws in Chromium.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sinks.accounts import AccountStore
from tests.apptest_kit import login, map_args
from sinks.wetland_inventory import wetland_inventory
from ui import fmt

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
OFFICER, PASSWORD = "officer.li", "correct-horse-9"


def _login(at: AppTest, user: str = OFFICER, password: str = PASSWORD) -> AppTest:
    return login(at, user, password)


@pytest.fixture(params=["gpkg", "pg"])
def env(request, tmp_path, monkeypatch):
    """Accounts, a folder for the GeoPackage workspace, and the backend: ``gpkg`` (the default
    file) or ``pg`` (DATABASE_URL + a fresh schema of the test database, dropped afterwards)."""
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    accounts = tmp_path / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    monkeypatch.setenv("SINKS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("SINKS_ACCOUNTS", str(accounts))
    if request.param == "pg":
        import uuid

        import psycopg

        url = request.getfixturevalue("pg_url")
        schema = f"t_page_{uuid.uuid4().hex[:10]}"
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DATABASE_SCHEMA", schema)
        yield tmp_path
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        return
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield tmp_path


def _workspace():
    """The workspace the page wrote, on whichever backend the test runs."""
    from geodata.workspace import open_workspace

    return open_workspace(default=Path(os.environ["SINKS_WORKSPACE"]) / "workspace.gpkg")


def _open(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("app_pages/wetlands.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_view_is_read_only_and_offline(env, lang):
    at = _open(lang)
    args = map_args(at)
    assert all(u.startswith("/app/static/vendor/") for u in args["js_links"] + args["css_links"])
    assert "http://" not in args["script"] and "https://" not in args["script"]
    assert "L.Control.Draw" not in args["script"], "no drawing toolbar for the public"
    assert args["returned_objects"] == []
    assert len(at.get("file_uploader")) == 0
    labels = [b.label for b in at.button] + [b.label for b in at.get("form_submit_button")]
    assert not any(("保存" in x or "Save" in x or "恢复" in x or "Restore" in x) for x in labels), labels
    assert "2025" in at.metric[0].label and len(at.metric) == 5


def test_figures_on_screen_are_the_inventorys(env):
    at = _open("en")
    # the demo seeds its two illustrative sites as red lines (version 1, author "demo")
    ws = _workspace()
    red = ws.load("wetland_redlines")
    assert ws.history("wetland_redlines")[0].author == "demo" and len(red) == 2
    inv = wetland_inventory(DEMO, redlines=red)
    p = inv.patches[2025]
    by_type = p.area_by_type()
    values = {m.label: m.value for m in at.metric}
    assert values["Wetland patches 2025"] == f"{len(p.patches):,}"
    assert values["Vegetated wetland"] == fmt.hectares(by_type["riverbank"] + by_type["lakeshore"] + by_type["marsh"], "en")
    assert values["Open water"] == fmt.hectares(by_type["river"] + by_type["lake_reservoir"] + by_type["pond"], "en")
    assert values["Wetland red lines"] == "2"
    n_alerts = int((inv.alerts["period"] == "2020-2025").sum())
    assert n_alerts == 1  # the Baguazhou ring lost 26.55 ha to cropland (hand-checked in test_wetland_inventory)
    assert values["Red-line alerts 2020–2025"] == str(n_alerts)
    tables = {tuple(df.value.columns): df.value for df in at.dataframe}
    change = next(v for k, v in tables.items() if "Lost (ha)" in k and "Where" in k)
    study = change[change["Where"] == "Study area"].iloc[0]
    s = inv.change_summary[(inv.change_summary["scope"] == "study")].iloc[0]
    assert study["Lost (ha)"] == pytest.approx(round(s["lost_ha"], 2))
    inside, outside = (change[change["Where"] == w]["Lost (ha)"].iloc[0] for w in ("Inside red lines", "Outside red lines"))
    assert inside + outside == pytest.approx(study["Lost (ha)"], abs=0.011)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_officer_gets_the_drawing_tools_in_their_language(env, lang):
    at = _login(_open(lang))
    args = map_args(at)
    assert "L.Control.Draw" in args["script"]
    assert args["returned_objects"] == ["all_drawings"]
    zh_words = ("绘制多边形" in args["script"]) or (json.dumps("绘制多边形")[1:-1] in args["script"])  # Jinja's tojson escapes
    assert zh_words == (lang == "zh")
    assert all(u.startswith("/app/static/vendor/") for u in args["js_links"] + args["css_links"])
    assert len(at.get("file_uploader")) == 1
    submits = [b.label for b in at.get("form_submit_button")]
    assert any(("保存为新版本" if lang == "zh" else "Save red lines as a new version") in x for x in submits), submits


def test_wrong_password_gives_no_tools(env):
    at = _login(_open("en"), password="not-the-password")
    assert "L.Control.Draw" not in map_args(at)["script"]
    assert any("Wrong" in e.value or "wrong" in e.value or "incorrect" in e.value.lower() for e in at.error), [e.value for e in at.error]


def _geojson_square(lon: float, lat: float, d: float = 0.01) -> bytes:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                       "features": [{"type": "Feature", "properties": {"name_zh": "上传的红线"},
                                     "geometry": {"type": "Polygon", "coordinates": [ring]}}]}).encode()


def _save(at: AppTest, reason: str) -> AppTest:
    at.text_area[0].input(reason)
    submit = next(b for b in at.get("form_submit_button") if b.label == "Save red lines as a new version")
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_save_by_another_officer_meanwhile_is_a_conflict_and_nothing_is_lost(env):
    at = _login(_open("en"))
    ws = _workspace()
    assert ws.history("wetland_redlines")[-1].version == 1
    # officer B saves version 2 (removes one seeded line) while A is drafting an upload
    red = ws.load("wetland_redlines")
    ws.save("wetland_redlines", red.iloc[:1], author="officer.wang", reason="B's edit", id_field="redline_id", expected_parent=1)
    at.get("file_uploader")[0].upload("mine.geojson", _geojson_square(118.60, 32.05), "application/geo+json").run()
    assert any("Another officer saved v2" in w.value for w in at.warning), [w.value for w in at.warning]
    _save(at, "A's upload")
    assert any("Not saved" in e.value and "officer.wang" in e.value for e in at.error), [e.value for e in at.error]
    assert ws.history("wetland_redlines")[-1].version == 2  # nothing written
    # A builds on the latest version: the upload is still in the draft and saves as version 3
    next(b for b in at.button if b.label == "Build on the latest version").click().run()
    _save(at, "A's upload on top of B's edit")
    assert any("Saved as v3" in s.value for s in at.success), [s.value for s in at.success]
    v3 = ws.load("wetland_redlines")
    assert len(v3) == 2 and "上传的红线" in set(v3["name_zh"])
    new_id = v3[v3["name_zh"] == "上传的红线"]["redline_id"].iloc[0]
    assert new_id == "RL-001"
    # the uploader was reset: saving again for another reason does not add the upload twice
    assert at.get("file_uploader")[0].value is None


def test_an_officer_adds_a_wetland_site_and_the_inventory_lists_it(env):
    at = _login(_open("en"))
    ws = _workspace()
    assert len(ws.load("wetland_sites")) == 2  # the demo's sites, seeded as version 1
    at.get("segmented_control")[0].set_value("sites").run()
    at.get("file_uploader")[0].upload("duwei.geojson", _geojson_square(118.62, 32.04), "application/geo+json").run()
    at.text_area[0].input("Duwei wetland park (test outline)")
    next(b for b in at.get("form_submit_button") if b.label == "Save wetland sites as a new version").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved as v2" in s.value for s in at.success), [s.value for s in at.success]
    sites = ws.load("wetland_sites")
    assert list(sites["site_id"]) == ["lvshuiwan_wetland", "baguazhou_ring", "WS-001"]
    assert ws.history("wetland_redlines")[-1].version == 1  # red lines untouched
    site_table = next(df.value for df in at.dataframe if "Site" in df.value.columns)
    assert "WS-001" in set(site_table["Site"])  # no English name was given: the id stands in


def test_an_officer_edits_the_ecological_red_lines_the_protection_page_screens(env):
    at = _login(_open("en"))
    ws = _workspace()
    eco = ws.load("eco_redlines")  # the demo's four illustrative red-line sites, seeded as version 1
    assert sorted(eco["redline_id"]) == ["baguazhou_ring", "chu_river_corridor", "laoshan_nfp", "lvshuiwan_wetland"]
    assert len(ws.load("eco_space_areas")) == 3 and ws.history("eco_space_areas")[0].author == "demo"
    at.get("segmented_control")[0].set_value("eco_redlines").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.get("expander") if "Suggest" in e.label]  # wetland patches suggest wetland layers only
    assert "Ecological red lines" in json.dumps(map_args(at))  # the edited layer is drawn on the map
    at.get("file_uploader")[0].upload("yangzi.geojson", _geojson_square(118.62, 32.04), "application/geo+json").run()
    at.text_area[0].input("New red line from the 2026 notice (test)")
    next(b for b in at.get("form_submit_button") if b.label == "Save ecological red lines as a new version").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved as v2 (5 ecological red lines)" in s.value for s in at.success), [s.value for s in at.success]
    assert "ER-001" in set(ws.load("eco_redlines")["redline_id"])
    assert ws.history("wetland_redlines")[-1].version == 1  # the wetland red lines untouched
