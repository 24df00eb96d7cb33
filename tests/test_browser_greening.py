"""The greening-coverage screen in a real browser: the choropleth of the planning units renders
(Leaflet paths, one per unit at least), the legend is there, and the tabs switch; fully offline
(no request leaves 127.0.0.1). Saves test-artifacts/screenshot_greening_en.png.
"""
from __future__ import annotations

import pyogrio
import pytest

from sinks.accounts import AccountStore
from tests.test_browser import ARTIFACTS, DEMO, Recorder, _full_page_screenshot, browser, demo_ready, streamlit_server, sync_playwright  # noqa: F401 (fixtures)
from tests.browser_kit import one_map
from ui.i18n import EN, ZH

pytestmark = pytest.mark.browser
OFFICER, PASSWORD = "officer.li", "correct-horse-9"
VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")


@pytest.fixture(scope="module")
def site(demo_ready, tmp_path_factory):
    root = tmp_path_factory.mktemp("greening_browser")
    accounts = root / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    env = {"SINKS_WORKSPACE": str(root / "ws"), "SINKS_ACCOUNTS": str(accounts)}
    with streamlit_server(root, env_extra=env) as base:
        yield base


def test_choropleth_and_legend_render(site, browser):
    from sinks.config import load_config

    base = site
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, base)
    try:
        page.goto(f"{base}/greening?lang=en")
        frame = one_map(page)
        assert page.locator("h1").first.inner_text().strip() == EN["green.title"]
        g = load_config(DEMO).greening
        n_units = len(pyogrio.read_dataframe(g.units, layer=g.units_layer, read_geometry=False))
        assert frame.locator("path.leaflet-interactive").count() >= n_units
        fills = [frame.locator("path.leaflet-interactive").nth(i).get_attribute("fill") for i in range(n_units)]
        assert sum(f in VIRIDIS for f in fills) >= 20, fills  # (nearly) every unit filled from the palette
        legend = page.locator("[data-testid='green-legend']")
        assert legend.count() == 1
        assert EN["green.legend.undefined"] in legend.inner_text()
        # the public gets no unit upload and no target editor
        assert page.get_by_text(EN["green.upload"]).count() == 0
        page.get_by_role("tab", name=EN["green.tab.targets"]).click()
        page.get_by_text(EN["green.tg.below"]).first.wait_for(timeout=30_000)
        assert page.get_by_text(EN["green.tg.edit"]).count() == 0
        page.get_by_role("tab", name=EN["green.tab.map"]).click()
        page.wait_for_timeout(1500)
        _full_page_screenshot(page, ARTIFACTS / "screenshot_greening_en.png")
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()


def test_drawing_sample_points_keeps_the_tab_and_numbers_them_on_the_map(site, browser):
    base = site
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, base)
    try:
        page.goto(f"{base}/greening?lang=en")
        one_map(page)
        page.get_by_role("tab", name=EN["green.tab.uncertainty"]).click()
        page.get_by_role("button", name=EN["green.pt.draw"]).click()
        page.get_by_text(EN["green.pt.editor_caption"]).wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        # the rerun keeps the reader on the tab they were using
        assert page.get_by_role("tab", selected=True).all_inner_texts() == [EN["green.tab.uncertainty"]]
        page.get_by_role("tab", name=EN["green.tab.map"]).click()
        frame = one_map(page)
        frame.locator(".leaflet-marker-icon").first.wait_for(state="attached", timeout=60_000)  # 0 x 0 anchors: "hidden"
        assert frame.locator(".leaflet-marker-icon").count() == 100
        # fitted to the unit in spite of being drawn in a hidden tab (Leaflet's fitBounds would give zoom 0)
        leaflet = page.locator("iframe[title='streamlit_folium.st_folium']").first.element_handle().content_frame()
        assert leaflet.evaluate("() => window.map.getZoom()") >= 10
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()


def test_chinese_page_has_no_raw_keys(site, browser):
    base = site
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, base)
    try:
        page.goto(f"{base}/greening?lang=zh")
        frame = one_map(page)
        assert page.locator("h1").first.inner_text().strip() == ZH["green.title"]
        fills = [frame.locator("path.leaflet-interactive").nth(i).get_attribute("fill") for i in range(24)]
        assert sum(f in VIRIDIS for f in fills) >= 20, fills
        texts = [page.locator("[data-testid=stMain]").inner_text()]
        for name in ("table", "targets", "plant", "uncertainty"):
            page.get_by_role("tab", name=ZH[f"green.tab.{name}"]).click()
            page.wait_for_timeout(1500)
            texts.append(page.locator("[data-testid=stMain]").inner_text())
        raw = [ln for tx in texts for ln in tx.splitlines() if "green." in ln]
        assert raw == [], raw[:5]
        page.get_by_role("tab", name=ZH["green.tab.map"]).click()
        page.wait_for_timeout(1500)
        _full_page_screenshot(page, ARTIFACTS / "screenshot_greening_zh.png")
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()
