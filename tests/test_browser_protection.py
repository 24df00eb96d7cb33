"""The protection-zone screen in a real browser: the public sees zones, figures and rules but no
intake, patch list or export; an officer logs in, picks the largest non-conforming patch and the
Leaflet map (``window.map`` in the folium iframe) centres on it and zooms in. Runs against
``streamlit run app.py`` with its own workspace and accounts file, fully offline (no request
leaves 127.0.0.1). Saves test-artifacts/screenshot_protection_en.png.
"""
from __future__ import annotations

import math

import pytest

from geodata.store import Workspace
from sinks.accounts import AccountStore
from tests.test_browser import ARTIFACTS, DEMO, Recorder, _full_page_screenshot, browser, demo_ready, streamlit_server, sync_playwright  # noqa: F401 (fixtures)
from tests.browser_kit import FOLIUM, log_in, metrics, one_map  # noqa: F401
from ui.i18n import EN

pytestmark = pytest.mark.browser
OFFICER, PASSWORD = "officer.li", "correct-horse-9"
INTAKE = "path[stroke='#ffffff'][fill='#0072B2']"  # intake markers: blue dots with a white ring
SELECTED = "path[stroke='#00e5ff']"  # the selected patch's outline


@pytest.fixture(scope="module")
def site(demo_ready, tmp_path_factory):
    root = tmp_path_factory.mktemp("protection_browser")
    accounts = root / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    env = {"SINKS_WORKSPACE": str(root / "ws"), "SINKS_ACCOUNTS": str(accounts)}
    with streamlit_server(root, env_extra=env) as base:
        yield base, root / "ws" / "workspace.gpkg"


def _core(ws_path):
    """The core's screening with the layers the server seeded into its workspace."""
    from sinks.protection import protection_screening
    from wetlands import redlines as rl

    ws = Workspace(ws_path)
    return protection_screening(DEMO, redlines=ws.load(rl.ECO_REDLINES.layer), wetland_redlines=ws.load(rl.REDLINES.layer),
                                eco_space=ws.load(rl.ECO_SPACE.layer))


def test_public_sees_zones_without_restricted_layers(site, browser):
    base, ws_path = site
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, base)
    try:
        page.goto(f"{base}/protection?lang=en")
        frame = one_map(page)
        assert page.locator("h1").first.inner_text().strip() == EN["prot.title"]
        values = metrics(page)
        pa = _core(ws_path)
        assert values[0] == str(len(pa.zones))
        assert frame.locator("path.leaflet-interactive").count() >= len(pa.zones)
        assert frame.locator(INTAKE).count() == 0, "no intake marker for the public"
        assert page.get_by_text(EN["prot.patch.pick"]).count() == 0
        assert page.get_by_role("tab", name=EN["prot.tab.points"]).count() == 0
        assert page.get_by_role("button", name=EN["prot.patch.csv"]).count() == 0
        assert page.locator("[data-testid='prot-legend']").count() == 1
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()


def test_officer_zooms_to_the_largest_non_conforming_patch(site, browser):
    base, ws_path = site
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, base)
    try:
        page.goto(f"{base}/protection?lang=en")
        one_map(page)
        log_in(page, OFFICER, PASSWORD, "Li Wei")
        page.wait_for_selector(f"text={EN['prot.patch.pick']}", timeout=60_000)
        frame = one_map(page)
        pa = _core(ws_path)
        frame.locator(INTAKE).first.wait_for(timeout=30_000)
        assert frame.locator(INTAKE).count() == len(pa.intakes)

        year = pa.years[-1]
        p = pa.screening.patches
        nc = p[(p["year"] == year) & (p["status"] == "non_conforming")].sort_values("area_ha", ascending=False).iloc[0]
        pick = page.locator("[data-testid=stSelectbox]").filter(has_text=EN["prot.patch.pick"])
        pick.locator("input").click()
        page.keyboard.type(str(nc["patch_id"]))
        page.get_by_role("option").filter(has_text=str(nc["patch_id"])).first.click()

        leaflet = page.locator(FOLIUM).first.element_handle().content_frame()
        leaflet.wait_for_function("() => window.map && window.map.getZoom() === 16", timeout=60_000)
        lat, lon = leaflet.evaluate("() => { const c = window.map.getCenter(); return [c.lat, c.lng]; }")
        # within ~50 m of the patch centroid the core reports
        assert math.isclose(lat, nc["lat"], abs_tol=5e-4) and math.isclose(lon, nc["lon"], abs_tol=5e-4), (lat, lon, nc["lat"], nc["lon"])
        frame.locator(SELECTED).first.wait_for(timeout=30_000)
        assert frame.locator(SELECTED).count() >= 1

        # the officer's table lists that year's patches; the downloads are there
        assert page.get_by_role("button", name=EN["prot.patch.csv"]).count() == 1
        assert page.get_by_role("button", name=EN["prot.patch.gpkg"].format(crs=4490)).count() == 1
        page.wait_for_timeout(1500)
        _full_page_screenshot(page, ARTIFACTS / "screenshot_protection_en.png")
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()
