"""The Reports screen in a real browser: build the report, download the HTML and the PDF, see the
preview; nothing leaves 127.0.0.1. Saves test-artifacts/screenshot_reports_en.png."""
from __future__ import annotations

import pytest

from tests.test_browser import ARTIFACTS, Recorder, _full_page_screenshot, browser, demo_ready, own_site, sync_playwright  # noqa: F401 (fixtures)
from ui.i18n import EN

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(demo_ready, tmp_path_factory):
    with own_site(tmp_path_factory, "reports_browser") as base:
        yield base


def test_build_download_and_preview(site, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1440, "height": 1100}, accept_downloads=True)
    rec = Recorder(page, site)
    try:
        page.goto(f"{site}/reports?lang=en")
        page.get_by_role("button", name=EN["rep.build"]).click(timeout=300_000)
        page.wait_for_selector("[data-testid=stDownloadButton]", timeout=600_000)
        assert page.locator("h1").first.inner_text().strip() == EN["rep.title"]
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name=EN["rep.dl_html"].format(lang_name="English")).click()
        html = tmp_path / "r.html"
        dl.value.save_as(html)
        text = html.read_text(encoding="utf-8")
        assert "<svg" in text and "Net-neutrality report" in text
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name=EN["rep.dl_pdf"].format(lang_name="中文")).click()
        pdf = tmp_path / "r.pdf"
        dl.value.save_as(pdf)
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.read_bytes().count(b"/Type /Page") > 1
        frame = page.frame_locator("iframe").last
        frame.locator("h1").first.wait_for(timeout=60_000)
        assert "Net-neutrality report" in frame.locator("h1").first.inner_text()
        page.wait_for_timeout(1000)
        _full_page_screenshot(page, ARTIFACTS / "screenshot_reports_en.png")
        assert rec.external() == [], rec.external()
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        page.close()
