"""Helpers the Chromium tests of the Leaflet pages share (not tests themselves)."""
from __future__ import annotations

FOLIUM = "iframe[title='streamlit_folium.st_folium']"


def one_map(page, timeout_ms: int = 180_000):
    """The folium iframe once Streamlit has settled on one copy of it, with features drawn (a
    rerun briefly shows the stale map beside the new one; a login or a returned drawing triggers
    one more rerun)."""
    page.wait_for_selector(FOLIUM, timeout=timeout_ms)
    one = f"document.querySelectorAll(\"{FOLIUM}\").length === 1"
    page.wait_for_function(one, timeout=60_000)
    page.wait_for_timeout(1500)
    page.wait_for_function(one, timeout=60_000)
    frame = page.frame_locator(FOLIUM).first
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    return frame


def metrics(page, n: int = 5) -> list[str]:
    """The texts of the page's ``n`` KPI values, once all are there."""
    page.wait_for_function(f"document.querySelectorAll(\"[data-testid='stMetricValue']\").length === {n}", timeout=60_000)
    return [e.inner_text().strip() for e in page.locator("[data-testid='stMetricValue']").all()]


def log_in(page, user: str, password: str, shown_name: str) -> None:
    """Log in through the sidebar panel and wait for the page to greet ``shown_name``."""
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_label("Username").fill(user)
    sidebar.get_by_role("textbox", name="Password").fill(password)
    sidebar.get_by_role("button", name="Log in").click()
    page.wait_for_selector(f"text={shown_name}", timeout=60_000)
