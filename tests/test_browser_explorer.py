"""The sink explorer's journey in a real browser (issue 9 part 6): open a shared link, draw an
area, read the card, change the year, download, share the link, swipe between two dates.

Runs against ``streamlit run app.py`` with its own workspace and accounts file, fully offline (no
request leaves 127.0.0.1), the console clean. The figures a reader sees are checked against an
independent path: the whole assessment's Pukou stock (``sinks.pipeline.run_assessment``), the
geodesic area of the square actually clicked, the CSV and PNG the page hands out. Saves
test-artifacts/screenshot_explorer_en.png and screenshot_explorer_zh.png. Timings are printed
(run with ``-s``), never asserted.
"""
from __future__ import annotations

import math
import re
import time
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from shapely.geometry import Polygon

from tests.browser_kit import FOLIUM, one_map
from tests.test_browser import ARTIFACTS, Recorder, _full_page_screenshot, browser, demo_ready, own_site, sync_playwright  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

LINK = "area=district:pukou&year=2020&layer=stock"
CENTRE = (118.63, 32.057)  # lon, lat inside Pukou: the drawn square's centre
HALF_M = 750  # the square is 1.5 km across
CARD_TIMEOUT_MS = 600_000  # a cold card computes greening layers, protection zones and peers first
FOLIUM_JS = FOLIUM.replace('"', '\\"')  # the selector inside a JS string
IDLE = "() => document.querySelector('[data-testid=stStatusWidget]') === null"
_UNITS = {"Mt": 1e6, "kt": 1e3, "t": 1.0, "亿吨": 1e8, "万吨": 1e4, "吨": 1.0}


@pytest.fixture(scope="module")
def site(demo_ready, tmp_path_factory):
    with own_site(tmp_path_factory, "explorer_browser") as base:
        yield base


@pytest.fixture(scope="module")
def pukou_stock(demo_ready) -> dict[int, float]:
    """Pukou's carbon stock by year from the whole assessment (its own run over all districts)."""
    from sinks.pipeline import run_assessment

    a = run_assessment(str(demo_ready))
    s = a.stock_totals[a.stock_totals["zone_id"] == "pukou"]
    return {int(y): float(v) for y, v in zip(s["year"], s["stock_tc"])}


# ---- reading the page --------------------------------------------------------------------------

def _number(text: str) -> float:
    return float(re.search(r"-?[\d,]+\.?\d*", text).group(0).replace(",", ""))


def _tonnes(text: str) -> float:
    """``10.59 Mt C`` / ``1,059 万吨碳`` -> tonnes."""
    m = re.fullmatch(r"\s*(-?[\d,]+\.?\d*)\s*(Mt|kt|t|亿吨|万吨|吨)\s*(C|碳)\s*", text)
    assert m, f"not a carbon tonnage: {text!r}"
    return float(m.group(1).replace(",", "")) * _UNITS[m.group(2)]


def _metrics(page) -> dict[str, str]:
    """label -> value of every KPI card on the page."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-testid=stMetric]')].map(m => [
        m.querySelector('[data-testid=stMetricLabel]').innerText.trim(),
        m.querySelector('[data-testid=stMetricValue]').innerText.trim()]))""")


def _wait_card(page, heading: str, stock_label: str, timeout_ms: int = CARD_TIMEOUT_MS) -> dict[str, str]:
    """Wait until the card's subheader contains ``heading``, a metric is labelled ``stock_label``
    and the script run is over; returns the metrics."""
    page.wait_for_function(
        """([heading, label]) => document.querySelector('[data-testid=stException]') !== null
           || ([...document.querySelectorAll('h3')].some(h => h.innerText.includes(heading))
               && [...document.querySelectorAll('[data-testid=stMetricLabel]')].some(e => e.innerText.trim() === label))""",
        arg=[heading, stock_label], timeout=timeout_ms)
    exc = page.locator("[data-testid=stException]")
    assert exc.count() == 0, f"the page raised: {exc.first.inner_text()[:1500]}"
    page.wait_for_function(IDLE, timeout=timeout_ms)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stMetricValue]').length === 4", timeout=60_000)
    return _metrics(page)


def _subheaders(page) -> list[str]:
    return [h.inner_text().strip() for h in page.locator("h3").all()]


def _query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _map_picture_loaded(page) -> None:
    page.wait_for_function("""() => { const img = document.querySelector('[data-testid=stImage] img');
                                      return img !== null && img.complete && img.naturalWidth > 0; }""", timeout=120_000)


# ---- drawing on the folium map -------------------------------------------------------------------

def _leaflet(page):
    return page.locator(FOLIUM).first.element_handle().content_frame()


def _square_lonlat() -> list[tuple[float, float]]:
    lon, lat = CENTRE
    dlat = HALF_M / 110_900
    dlon = HALF_M / (111_320 * math.cos(math.radians(lat)))
    return [(lon - dlon, lat + dlat), (lon + dlon, lat + dlat), (lon + dlon, lat - dlat), (lon - dlon, lat - dlat)]


def _click_district(page) -> None:
    """The reader clicks the map where Pukou is, with "District" as the pick kind: the card stays
    Pukou's, and the map is not rebuilt (a rebuilt map would lose a drawing begun next)."""
    leaflet = _leaflet(page)
    leaflet.evaluate("window.__beforeFirstClick = true")
    x, y = leaflet.evaluate(f"(() => {{ const p = window.map.latLngToContainerPoint([{CENTRE[1]}, {CENTRE[0]}]); return [p.x, p.y]; }})()")
    box = page.locator(FOLIUM).first.bounding_box()
    page.mouse.click(round(box["x"] + x), round(box["y"] + y))
    page.wait_for_timeout(1500)  # a rerun, if the click caused one, has begun
    page.wait_for_function(IDLE, timeout=120_000)
    assert any("Pukou" in h for h in _subheaders(page)), _subheaders(page)
    assert page.evaluate(f"""() => {{ const f = document.querySelectorAll("{FOLIUM_JS}");
        return f.length === 1 && !!f[0].contentWindow.__beforeFirstClick; }}"""), "the map was rebuilt after a click"


def _draw_square(page) -> list[tuple[float, float]]:
    """Draw the square around CENTRE with Leaflet.draw's polygon tool; returns the lon/lat of the
    points actually clicked (read back through Leaflet's own projection)."""
    frame = one_map(page)
    leaflet = _leaflet(page)
    # the reader zooms to the place (a wheel zoom around CENTRE, done through Leaflet's API so the
    # square is ~350 px across and a pixel is ~4 m)
    leaflet.evaluate(f"window.map.setView([{CENTRE[1]}, {CENTRE[0]}], 15, {{animate: false}})")
    frame.locator(".leaflet-draw-draw-polygon").click()
    page.wait_for_timeout(500)  # Leaflet.draw adds its mouse marker on the next frame
    box = page.locator(FOLIUM).first.bounding_box()
    origin = leaflet.evaluate("(() => { const r = window.map.getContainer().getBoundingClientRect(); return [r.left, r.top]; })()")
    clicks, corners = [], []
    for lon, lat in _square_lonlat():
        x, y = leaflet.evaluate(f"(() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
        px, py = round(box["x"] + origin[0] + x), round(box["y"] + origin[1] + y)
        clicks.append((px, py))
        back = leaflet.evaluate(f"(() => {{ const q = window.map.containerPointToLatLng([{px - box['x'] - origin[0]}, {py - box['y'] - origin[1]}]);"
                                " return [q.lng, q.lat]; })()")
        corners.append((float(back[0]), float(back[1])))
    leaflet.evaluate("window.__drawing = true")
    for i, (px, py) in enumerate(clicks):
        page.mouse.click(px, py)
        page.wait_for_timeout(400)  # a reader's pace
        alive = page.evaluate(f"""() => {{ const f = document.querySelector("{FOLIUM_JS}");
            return !!(f && f.contentWindow && f.contentWindow.__drawing); }}""")
        assert alive, (f"the map was re-mounted after vertex {i + 1} of the drawing: the polygon being drawn is lost "
                       "(a map click must not rerun the page while the reader draws)")
    page.mouse.click(*clicks[0])  # closing the ring finishes the polygon
    return corners


# ---- the journey -------------------------------------------------------------------------------

def test_shared_link_draw_year_download_share_swipe(site, browser, pukou_stock, tmp_path):
    from PIL import Image

    from sinks.explorer.card import geodesic_area_ha
    from ui.share import decode_polyline

    base = site
    timings: dict[str, float] = {}
    context = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    rec = Recorder(page, base)
    try:
        # 1. the shared link opens Pukou in 2020 with the carbon-density layer
        t0 = time.monotonic()
        page.goto(f"{base}/explorer?{LINK}&lang=en")
        cards = _wait_card(page, "Pukou", "Carbon stock (2020)")
        timings["link card (cold)"] = time.monotonic() - t0
        assert any(h.startswith("District") and "Pukou" in h for h in _subheaders(page)), _subheaders(page)
        stock = _tonnes(cards["Carbon stock (2020)"])
        assert cards["Carbon stock (2020)"].endswith("Mt C"), cards
        assert stock == pytest.approx(pukou_stock[2020], rel=5e-4), (cards, pukou_stock)
        captions = [c.inner_text() for c in page.locator("[data-testid=stCaptionContainer]").all()]
        assert sum("95 % interval" in c for c in captions) >= 2, captions  # the stock and the removals
        slider = page.get_by_role("slider", name="Year (land-cover date)")
        assert slider.get_attribute("aria-valuetext") == "2020"
        assert page.locator("[data-testid=stSlider] [data-testid=stSliderThumbValue]").inner_text().strip() == "2020"
        assert page.get_by_role("radio", name="Carbon density").is_checked()
        _map_picture_loaded(page)
        q = _query(page)
        assert (q.get("area"), q.get("year"), q.get("layer")) == ("district:pukou", "2020", "stock"), page.url

        # 2. draw a square inside Pukou: the card becomes the drawn area's
        one_map(page)
        _click_district(page)
        t0 = time.monotonic()
        corners = _draw_square(page)
        cards = _wait_card(page, "Drawn area", "Carbon stock (2020)")
        timings["drawn card"] = time.monotonic() - t0
        page.wait_for_function("() => new URL(location.href).searchParams.get('area') === 'drawn'", timeout=60_000)
        clicked_ha = geodesic_area_ha(Polygon(corners))
        assert 150 < clicked_ha < 300, corners  # ~1.5 km x 1.5 km
        area_ha = _number(cards["Area"])
        assert cards["Area"].endswith(" ha") and area_ha == pytest.approx(clicked_ha, rel=0.05), (cards, clicked_ha)
        q = _query(page)
        assert q["area"] == "drawn" and q.get("shape"), page.url
        shape = decode_polyline(q["shape"])
        assert len(shape) == 4, shape
        for (lon, lat), (clon, clat) in zip(sorted(shape), sorted(corners)):
            assert abs(lon - clon) < 5e-5 and abs(lat - clat) < 5e-5, (shape, corners)  # 1e-5° rounding + a pixel
        assert area_ha == pytest.approx(geodesic_area_ha(Polygon(shape)), abs=0.5), (cards, shape)

        # 3. move the year slider to 2025 with the keyboard
        t0 = time.monotonic()
        slider = page.get_by_role("slider", name="Year (land-cover date)")
        slider.focus()
        page.keyboard.press("End")
        cards = _wait_card(page, "Drawn area", "Carbon stock (2025)")
        page.wait_for_function("() => new URL(location.href).searchParams.get('year') === '2025'", timeout=60_000)
        timings["year change"] = time.monotonic() - t0
        assert page.get_by_role("slider", name="Year (land-cover date)").get_attribute("aria-valuetext") == "2025"
        shown_stock = _tonnes(cards["Carbon stock (2025)"])
        assert shown_stock > 0, cards
        _map_picture_loaded(page)

        # 6. the swipe between two dates: its divider moves with the keyboard
        swipe = page.frame_locator("[data-testid=stIFrame]").first
        rng = swipe.locator("input[type=range]")
        rng.wait_for(timeout=60_000)
        clip = "() => getComputedStyle(document.querySelector('.swp-top')).clipPath"
        swipe_frame = page.locator("[data-testid=stIFrame]").first.element_handle().content_frame()
        before = (rng.input_value(), swipe_frame.evaluate(clip))
        rng.focus()
        for _ in range(10):
            page.keyboard.press("ArrowLeft")
        after = (rng.input_value(), swipe_frame.evaluate(clip))
        assert before[0] == "50" and after[0] == "40", (before, after)
        assert after[1] != before[1], (before, after)
        assert rng.get_attribute("aria-valuetext").startswith("40%"), rng.get_attribute("aria-valuetext")

        swipe_frame.evaluate("document.activeElement.blur()")  # no focus ring in the screenshot
        sender_sha = _fingerprint(page)

        # 4. downloads: the CSV holds the stock shown; the PNG is 1000 px wide
        with page.expect_download(timeout=120_000) as dl:
            page.get_by_role("button", name="Download the card's data (CSV)").click()
        csv_path = tmp_path / "card.csv"
        dl.value.save_as(csv_path)
        csv = pd.read_csv(csv_path, encoding="utf-8-sig", dtype={"year_or_period": str})
        row = csv[(csv["section"] == "stock_total") & (csv["year_or_period"] == "2025")]
        assert len(row) == 1, csv[csv["section"] == "stock_total"]
        assert float(row["value"].iloc[0]) == pytest.approx(shown_stock, rel=5e-4), (row, cards)
        assert float(row["low"].iloc[0]) <= float(row["value"].iloc[0]) <= float(row["high"].iloc[0]), row
        area_row = csv[(csv["section"] == "area") & (csv["item"] == "area")]
        assert float(area_row["value"].iloc[0]) == pytest.approx(area_ha, abs=0.5), area_row
        page.wait_for_function(IDLE, timeout=120_000)  # a download button reruns the page
        with page.expect_download(timeout=120_000) as dl:
            page.get_by_role("button", name="Download the card (PNG)").click()
        png_path = tmp_path / "card.png"
        dl.value.save_as(png_path)
        with Image.open(png_path) as img:
            assert img.format == "PNG" and img.width == 1000, (img.format, img.size)

        page.wait_for_function(IDLE, timeout=120_000)  # a download button reruns the page
        page.mouse.move(2, 2)  # no map tooltip in the screenshot
        _full_page_screenshot(page, ARTIFACTS / "screenshot_explorer_en.png")
        link = page.url
        assert rec.external() == [], f"requests left the machine: {rec.external()}"
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        context.close()

    # 5. the link in a fresh session (a new browser context) opens the same card
    context = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="en-US")
    shared = context.new_page()
    rec2 = Recorder(shared, base)
    try:
        t0 = time.monotonic()
        shared.goto(link)
        again = _wait_card(shared, "Drawn area", "Carbon stock (2025)")
        timings["shared link (warm)"] = time.monotonic() - t0
        shared_sha = _fingerprint(shared)
        why = (f"the sender's card and the link's card differ: geometry fingerprints {sender_sha} (drawn) vs {shared_sha} "
               "(from the link); both must be computed on the shape the link carries (ui.share.link_shape)")
        assert shared_sha == sender_sha, why
        assert again["Area"] == cards["Area"], (why, again["Area"], cards["Area"])
        assert again["Carbon stock (2025)"] == cards["Carbon stock (2025)"], (why, again["Carbon stock (2025)"], cards["Carbon stock (2025)"])
        assert shared.get_by_role("slider", name="Year (land-cover date)").get_attribute("aria-valuetext") == "2025"
        assert shared.get_by_role("radio", name="Carbon density").is_checked()
        assert _query(shared)["shape"] == _query_of(link)["shape"]
        assert rec2.external() == [], f"requests left the machine: {rec2.external()}"
        assert rec2.unexpected_errors() == [], rec2.unexpected_errors()
    finally:
        context.close()
        print("explorer timings (informational): " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def _fingerprint(page) -> str:
    """The card's geometry fingerprint from the provenance line (``SHA-256 72dd95034711…``)."""
    text = " ".join(c.inner_text() for c in page.locator("[data-testid=stCaptionContainer]").all())
    m = re.search(r"SHA-256 ([0-9a-f]{12})", text)
    assert m, f"no geometry fingerprint on the page: {text[-600:]!r}"
    return m.group(1)


def _query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_the_link_in_chinese(site, browser, pukou_stock):
    """The same link without ``lang=en``: the card in Chinese (the default), the same figure."""
    context = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="zh-CN")
    page = context.new_page()
    rec = Recorder(page, site)
    try:
        t0 = time.monotonic()
        page.goto(f"{site}/explorer?{LINK}")
        cards = _wait_card(page, "浦口", "碳储量（2020年）")
        print(f"explorer (zh) link card {time.monotonic() - t0:.1f} s")
        value = cards["碳储量（2020年）"]
        assert value.endswith("万吨碳"), cards
        assert _tonnes(value) == pytest.approx(pukou_stock[2020], rel=5e-4), (cards, pukou_stock)
        assert all(re.search(r"[\u4e00-\u9fff]", label) for label in cards), cards
        cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid=stMetricValue]')]
            .filter(v => [v, ...v.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1)).map(v => v.innerText)""")
        assert cut == [], f"figures cut off by their card (ellipsis): {cut}"
        assert page.get_by_role("radio", name="碳密度").is_checked()
        _map_picture_loaded(page)
        _full_page_screenshot(page, ARTIFACTS / "screenshot_explorer_zh.png")
        assert rec.external() == [], f"requests left the machine: {rec.external()}"
        assert rec.unexpected_errors() == [], rec.unexpected_errors()
    finally:
        context.close()
