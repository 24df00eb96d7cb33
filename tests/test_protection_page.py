"""AppTest of the "Protection zones" page: what the public and an officer get, in both languages,
and the figures on screen against the core (sinks.protection.protection_screening).

All tests share one workspace (seeded once with the demo's illustrative layers, never edited
here) so the app computes the screening once per process, and the expected figures are computed
once per module straight from the core with the same layers. AppTest cannot pan the map;
tests/test_browser_protection.py checks the zoom in Chromium.
"""
from __future__ import annotations

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
