"""The net-neutrality screen in a real browser: the headline cards and the Altair charts render
(vega-embed draws a canvas or an SVG in each), every tab opens, no raw i18n key is shown, and
nothing leaves 127.0.0.1. Saves test-artifacts/screenshot_neutrality_{zh,en}.png.
"""
from __future__ import annotations

import pytest

from sinks.accounts import AccountStore
from tests.test_browser import ARTIFACTS, Recorder, _full_page_screenshot, browser, demo_ready, streamlit_server, sync_playwright  # noqa: F401 (fixtures)
from tests.browser_kit import metrics
from ui.i18n import EN, ZH

pytestmark = pytest.mark.browser
OFFICER, PASSWORD = "officer.li", "correct-horse-9"
CHART = "[data-testid='stVegaLiteChart']"
DRAWN = f"{CHART} canvas, {CHART} svg.marks"
TABS = ("position", "inventory", "trajectories", "warning", "projects")


@pytest.fixture(scope="module")
def site(demo_ready, tmp_path_factory):
    root = tmp_path_factory.mktemp("neutrality_browser")
    accounts = root / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    env = {"SINKS_WORKSPACE": str(root / "ws"), "SINKS_ACCOUNTS": str(accounts)}
    with streamlit_server(root, env_extra=env) as base:
        yield base


def _wait_page(page, d: dict) -> list[str]:
    """The six cards and the first tab's charts, drawn (the first visit computes the ledger)."""
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=300_000)
    values = metrics(page, 6)
    page.wait_for_selector(DRAWN, state="attached", timeout=120_000)
    page.wait_for_function(f"document.querySelectorAll(\"{CHART}\").length >= 2", timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator("h1").first.inner_text().strip() == d["neut.title"]
    return values


def _drawn_charts(page) -> int:
    """Charts of the visible tab whose vega-embed has drawn its marks."""
    return page.evaluate(
        f"""[...document.querySelectorAll("{CHART}")].filter(c => c.offsetParent !== null
             && c.querySelector('canvas, svg.marks')).length""")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_draws_its_cards_and_charts_offline(site, browser, lang):
    d = ZH if lang == "zh" else EN
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, site)
    try:
        page.goto(f"{site}/neutrality" + ("?lang=en" if lang == "en" else ""))
        values = _wait_page(page, d)
        assert values[4] == d["neut.peak.rising"], values  # the demo's emissions are still rising
        labels = [e.inner_text().strip() for e in page.locator("[data-testid='stMetricLabel']").all()]
        assert labels[0].startswith("2025") if lang == "zh" else labels[0].startswith(d["neut.kpi.emissions"].split("{")[0])
        deltas = [e.inner_text().strip() for e in page.locator("[data-testid='stMetricDelta']").all()]
        assert any(d["neut.iv"].split("{")[0].strip() in x for x in deltas), deltas
        assert _drawn_charts(page) >= 2
        texts = [page.locator("[data-testid=stMain]").inner_text()]
        for name in TABS[1:]:
            page.get_by_role("tab", name=d[f"neut.tab.{name}"]).click()
            page.wait_for_timeout(2500)
            if name != "projects":  # the project view is a table
                page.wait_for_function(
                    f"""[...document.querySelectorAll("{CHART}")].some(c => c.offsetParent !== null && c.querySelector('canvas, svg.marks'))""",
                    timeout=60_000)
            texts.append(page.locator("[data-testid=stMain]").inner_text())
        raw = [ln for tx in texts for ln in tx.splitlines() if "neut." in ln]
        assert raw == [], raw[:5]
        # the warning matrix carries its symbols, not colour alone
        assert d["neut.w.caption"][:12] in texts[3]
        page.get_by_role("tab", name=d["neut.tab.position"]).click()
        page.wait_for_timeout(2500)
        _full_page_screenshot(page, ARTIFACTS / f"screenshot_neutrality_{lang}.png")
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()


def test_switching_the_method_keeps_the_reader_on_the_page_and_changes_the_removals(site, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    rec = Recorder(page, site)
    try:
        page.goto(f"{site}/neutrality?lang=en")
        before = _wait_page(page, EN)
        page.locator("[data-testid=stSidebar]").get_by_text(EN["neut.method.stock_difference"], exact=True).click()
        page.wait_for_function(
            f"document.querySelectorAll(\"[data-testid='stMetricValue']\")[1]?.innerText.trim() !== {before[1]!r}", timeout=120_000)
        after = metrics(page, 6)
        assert after[0] == before[0] and after[1] != before[1]
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()
