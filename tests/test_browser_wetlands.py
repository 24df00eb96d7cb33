"""The red-line journey in a real browser: the public sees red lines read-only; an officer logs
in, draws a polygon with Leaflet.draw, saves it with a reason, downloads the export, reloads
(a new, logged-out session) and finds it. Runs against ``streamlit run app.py`` with its own workspace and accounts
file (never the developer's), fully offline (no request leaves 127.0.0.1).
"""
from __future__ import annotations

import pyogrio
import pytest
import shapely

from geodata.store import Workspace
from sinks.accounts import AccountStore
from tests.browser_kit import FOLIUM, log_in, metrics, one_map  # noqa: F401
from tests.test_browser import ARTIFACTS, Recorder, _full_page_screenshot, browser, demo_ready, streamlit_server, sync_playwright  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
OFFICER, PASSWORD = "officer.li", "correct-horse-9"
POINT = (118.62, 32.05)  # lon, lat inside Pukou, where the officer draws


@pytest.fixture(scope="module")
def site(demo_ready, tmp_path_factory):
    root = tmp_path_factory.mktemp("wetlands_browser")
    accounts = root / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    env = {"SINKS_WORKSPACE": str(root / "ws"), "SINKS_ACCOUNTS": str(accounts)}
    with streamlit_server(root, env_extra=env) as base:
        yield base, root / "ws" / "workspace.gpkg"


def test_public_sees_red_lines_without_edit_controls(site, browser):
    base, ws_path = site
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, base)
    try:
        page.goto(f"{base}/wetlands?lang=en")
        frame = one_map(page)
        seeded = Workspace(ws_path).load("wetland_redlines")  # the demo's illustrative red lines
        assert len(seeded) == 2 and set(seeded.attrs) >= {"store_version"}
        assert metrics(page)[3] == "2"
        frame.locator("path[stroke='#c0392b']").first.wait_for(timeout=30_000)
        assert frame.locator("path[stroke='#c0392b']").count() == 2
        assert frame.locator(".leaflet-draw").count() == 0, "the public map has no drawing toolbar"
        assert page.get_by_role("button", name="Save red lines as a new version").count() == 0
        assert page.get_by_text("Upload red lines").count() == 0
        assert page.get_by_role("button", name="Prepare the export file").count() == 0
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()


def test_officer_draws_saves_reloads_finds_and_exports(site, browser, tmp_path):
    base, ws_path = site
    page = browser.new_page(viewport={"width": 1440, "height": 1100}, accept_downloads=True)
    rec = Recorder(page, base)
    try:
        page.goto(f"{base}/wetlands?lang=en")
        one_map(page)
        log_in(page, OFFICER, PASSWORD, "Li Wei")
        frame = one_map(page)
        frame.locator(".leaflet-draw-draw-polygon").wait_for(timeout=60_000)
        # a small square around POINT, placed with Leaflet's own projection, measured just before
        # clicking (the page above the map settles after the login rerun)
        frame.locator(".leaflet-draw-draw-polygon").click()
        page.wait_for_timeout(1000)
        leaflet = page.locator(FOLIUM).first.element_handle().content_frame()
        x, y = leaflet.evaluate(f"(() => {{ const p = window.map.latLngToContainerPoint([{POINT[1]}, {POINT[0]}]); return [p.x, p.y]; }})()")
        box = page.locator(FOLIUM).first.bounding_box()
        cx, cy = box["x"] + x, box["y"] + y
        corners = [(cx - 15, cy - 15), (cx + 15, cy - 15), (cx + 15, cy + 15), (cx - 15, cy + 15)]
        for px, py in corners + corners[:1]:
            page.mouse.click(px, py)
            page.wait_for_timeout(250)
        page.get_by_label("Reason for the change (required; kept in the version history)").fill("browser test: a red line in Pukou")
        page.get_by_role("button", name="Save red lines as a new version").click()
        page.wait_for_selector("text=Saved as v2", timeout=60_000)

        # the store holds it: version 2 by the officer, the drawn square around POINT
        ws = Workspace(ws_path)
        latest = ws.history("wetland_redlines")[-1]
        assert (latest.version, latest.author, latest.feature_count) == (2, OFFICER, 3)
        red = ws.load("wetland_redlines").to_crs(4326)
        drawn = red[red["redline_id"] == "RL-001"]
        assert len(drawn) == 1 and drawn.geometry.iloc[0].contains(shapely.Point(POINT))

        # the officer exports the new version (export is an officer action)
        page.get_by_role("tab", name="Red lines, sites, history and export").click()
        page.get_by_role("button", name="Prepare the export file").click()
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name="Download wetland_redlines_v2_epsg4490.gpkg").click()
        out = tmp_path / "export.gpkg"
        dl.value.save_as(out)
        info = pyogrio.read_info(out)
        assert info["features"] == 3 and "4490" in info["crs"]
        page.get_by_role("tab", name="Map").click()

        # a reload starts a new session (logged out): the red line is there for everyone
        page.reload()
        frame = one_map(page)
        assert metrics(page)[3] == "3"
        frame.locator("path[stroke='#c0392b']").nth(2).wait_for(timeout=30_000)
        assert frame.locator("path[stroke='#c0392b']").count() == 3
        assert frame.locator(".leaflet-draw").count() == 0
        _full_page_screenshot(page, ARTIFACTS / "screenshot_wetlands_en.png")

        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()
