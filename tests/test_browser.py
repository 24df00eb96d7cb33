"""A real browser (Debian Chromium driven by Playwright) against a real ``streamlit run app.py``.

Checks what AppTest cannot: the map canvas draws from the local style, the KPI numbers a reader
sees equal the command line's numbers, no request leaves 127.0.0.1 (the app works offline), the
console stays clean, and the Carbon accounts tables render. Writes docs/screenshot_overview.png.
``test_page_switch_timing`` reports the time to the first map or table (cold, warm, sidebar switch)
against the app shell as baseline; it asserts no clock.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOT = ROOT / "docs" / "screenshot_overview.png"
CHROME_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-dev-shm-usage",
]
KPI_KEYS = ("total_stock_tc", "removals_tco2e_yr", "emissions_tco2e", "offset_ratio")

pytestmark = pytest.mark.browser


def _skip(reason: str) -> None:
    print(f"SKIP browser test: {reason}", file=sys.stderr)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_playwright():
    if not CHROMIUM.exists():
        _skip(f"{CHROMIUM} not found (apt-get install -y chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("the playwright Python package is not installed (pip install playwright; never 'playwright install')")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_ready() -> Path:
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    return DEMO


@contextlib.contextmanager
def own_site(tmp_path_factory, name: str):
    """A server with its own workspace and accounts file (nothing shared with other modules'
    servers); yields the base URL."""
    root = tmp_path_factory.mktemp(name)
    env = {"SINKS_WORKSPACE": str(root / "ws"), "SINKS_ACCOUNTS": str(root / "accounts.json")}
    with streamlit_server(root, env_extra=env) as base:
        yield base


@contextlib.contextmanager
def streamlit_server(log_dir: Path, *, env_extra: dict[str, str] | None = None):
    """``streamlit run app.py`` on a free port of 127.0.0.1 until the block ends; yields the base URL."""
    port = _free_port()
    log = log_dir / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if k != "SINKS_CONFIG_DIR"} | (env_extra or {})
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within 120 s:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(f"streamlit log: {log}")


@pytest.fixture(scope="module")
def server(demo_ready, tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("server")) as base:
        yield base


@pytest.fixture(scope="module")
def cli_kpis(demo_ready, tmp_path_factory) -> dict:
    """The KPIs of the latest date as the command line writes them (assessment.json)."""
    out = tmp_path_factory.mktemp("cli") / "report"
    r = subprocess.run([sys.executable, "-m", "sinks", "run", str(DEMO), "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    return doc["kpis"][str(doc["years"][-1])]


@pytest.fixture(scope="module")
def browser(sync_playwright):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            yield b
        finally:
            b.close()


class Recorder:
    """Every request and console message of one page."""

    def __init__(self, page, base: str) -> None:
        self.base = base
        self.requests: list[str] = []
        self.console: list[tuple[str, str, str]] = []
        self.failed: list[tuple[str, str]] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console.append((m.type, m.text, (m.location or {}).get("url", ""))))
        page.on("requestfailed", lambda r: self.failed.append((r.url, r.failure or "")))

    def external(self) -> list[str]:
        out = []
        for url in self.requests:
            u = urlparse(url)
            if u.scheme in ("data", "blob", "about"):
                continue
            if u.hostname != "127.0.0.1":
                out.append(url)
        return out

    def unexpected_errors(self) -> list[tuple[str, str, str]]:
        """Console errors other than the harmless ones listed in RECIPES.md."""
        bad = []
        for kind, text, url in self.console:
            if kind != "error":
                continue
            if "404" in text and (url.endswith("/_stcore/health") or url.endswith("/_stcore/host-config")):
                continue  # a page URL opened directly probes <page>/_stcore/... first
            if "net::ERR_ABORTED" in text:
                continue  # lazy chunks cancelled when navigating away early
            bad.append((kind, text[:500], url))
        return bad


def _settle(page, selector: str, timeout_ms: int = 120_000) -> None:
    page.wait_for_selector(selector, state="visible", timeout=timeout_ms)


def _wait_overview(page) -> None:
    _settle(page, "[data-testid='stDeckGlJsonChart'] canvas")
    _settle(page, "[data-testid='stMetricValue']")
    page.wait_for_function("document.querySelectorAll(\"[data-testid='stMetricValue']\").length === 4")
    _settle(page, "[data-testid='map-legend']")
    page.wait_for_timeout(2500)  # let deck.gl draw the style and the layers


def _full_page_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside its main block: grow the viewport to the content, then shoot."""
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMainBlockContainer]')]"
        ".map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": 1440, "height": int(height) + 40})
    page.wait_for_timeout(2000)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def _metric_cards(page) -> list[tuple[str, str]]:
    labels = [e.inner_text().strip() for e in page.query_selector_all("[data-testid='stMetricLabel']")]
    values = [e.inner_text().strip() for e in page.query_selector_all("[data-testid='stMetricValue']")]
    return list(zip(labels, values))


def _map_pixels(page) -> dict:
    """Share of basemap-background pixels and of sink-coloured pixels (the zone fill's blue,
    ui.maps: clearly bluer than red and not the basemap's water) in the map element."""
    from PIL import Image

    from ui.basemap import BACKGROUND, WATER

    png = page.locator("[data-testid='stDeckGlJsonChart']").screenshot()
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int).reshape(-1, 3)
    bg = np.array([int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)])
    near_bg = float((np.abs(px - bg) <= 4).all(axis=1).mean())
    r, g, b = px.T
    water = np.array([int(WATER[i:i + 2], 16) for i in (1, 3, 5)])
    sink = float(((b > r + 40) & (np.abs(px - water) > 12).any(axis=1)).mean())
    return {"background": near_bg, "sink": sink}


def test_first_visit_after_start_goes_straight_to_a_page(server, browser):
    """Runs first in this module, on a fresh server: a direct link to a page works at once
    (with a folder named pages/ Streamlit's legacy mode showed "Page not found" here)."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        page.goto(f"{server}/carbon-accounts?lang=en")
        _settle(page, "[data-testid=stDataFrame]")
        assert page.locator("text=Page not found").count() == 0
        assert page.locator("[data-testid=stDataFrame]").count() >= 1
    finally:
        page.close()


def test_overview_in_a_real_browser(server, browser, cli_kpis):
    from tests.test_app_pages import parse_metric

    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="en-US")
    rec = Recorder(page, server)
    t0 = time.monotonic()
    page.goto(f"{server}/overview?lang=en")
    _wait_overview(page)
    first_paint_s = time.monotonic() - t0

    # the numbers a reader sees equal the command line's, within display rounding (<= 0.05 %)
    cards = _metric_cards(page)
    assert len(cards) == 4, cards
    assert "carbon stock" in cards[0][0].lower(), cards
    for (label, value), key in zip(cards, KPI_KEYS):
        got, tol = parse_metric(label, value)
        want = cli_kpis[key]
        assert math.isclose(got, want, abs_tol=tol * 1.0001), f"{label} = {value}: {got} vs CLI {want}"
        assert abs(got - want) <= 0.005 * abs(want), f"{label}: {got} vs CLI {want} differs by more than 0.5 %"

    # the map drew the local basemap and coloured zones
    pixels = _map_pixels(page)
    assert pixels["background"] > 0.05, f"the local style's background is not drawn: {pixels}"
    assert pixels["sink"] > 0.05, f"no coloured zone on the map: {pixels}"
    assert any(u.endswith("/app/static/map_style.json") for u in rec.requests), "the local map style was not loaded"
    _full_page_screenshot(page, ARTIFACTS / "screenshot_overview_en.png")

    # Chinese (the default) in a fresh session: the screenshot for the docs
    zh = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    rec_zh = Recorder(zh, server)
    zh.goto(f"{server}/overview")
    _wait_overview(zh)
    zh_cards = _metric_cards(zh)
    assert "碳储量" in zh_cards[0][0], zh_cards
    for (label, value), key in zip(zh_cards, KPI_KEYS):
        got, tol = parse_metric(label, value)
        assert math.isclose(got, cli_kpis[key], abs_tol=tol * 1.0001), f"{label} = {value} vs CLI {cli_kpis[key]}"
    _full_page_screenshot(zh, ARTIFACTS / "screenshot_overview.png")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "screenshot_overview.png", SCREENSHOT)

    for r in (rec, rec_zh):
        assert r.external() == [], f"requests left the machine: {r.external()}"
        assert r.unexpected_errors() == [], r.unexpected_errors()
    print(f"overview first paint {first_paint_s:.1f} s; {len(rec.requests)} requests, all to 127.0.0.1")


def test_carbon_accounts_in_a_real_browser(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    rec = Recorder(page, server)
    page.goto(f"{server}/carbon-accounts")
    _settle(page, "[data-testid=stDataFrame]")
    page.wait_for_function("document.querySelectorAll('[data-testid=stDataFrame]').length === 4", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('[data-testid=stVegaLiteChart]').length === 3", timeout=60_000)
    assert page.locator("h1").first.inner_text().strip() == "碳账户"
    assert page.locator("[data-testid=stDownloadButton]").count() == 4
    page.wait_for_timeout(1500)
    _full_page_screenshot(page, ARTIFACTS / "screenshot_carbon_accounts.png")
    # navigate with the sidebar, as a reader would, and back
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.get_by_role("link", name="总览").click()
    _wait_overview(page)
    assert rec.external() == [], f"requests left the machine: {rec.external()}"
    assert rec.unexpected_errors() == [], rec.unexpected_errors()


# ---------------------------------------------------------------------------------------------
# Page switch timing (issue 4): measured and reported, never asserted against a clock

# Installed in every page before its own scripts. `window.__pageTiming` gets performance.now()
# (ms since the navigation started) the first time each probe matches a rendered element;
# `progress` is the app's own progress bar, drawn only while the assessment is computed
# (app.py), so it marks a recomputation. `window.__switchTo(path, selector)` clicks the sidebar
# link to `path` and records in `window.__switch` the ms from the click until an element matching
# `selector` that was not on the page before the click is rendered.
_TIMING_PROBES = {
    "shell": "[data-testid='stSidebarNav']",
    "map": "[data-testid='stDeckGlJsonChart'] canvas",
    "table": "[data-testid='stDataFrame']",
    "progress": "[data-testid='stProgress']",
}
_TIMING_SCRIPT = """
(() => {
  const probes = %s;
  const shown = (el) => el.getClientRects().length > 0;
  const marks = {};
  window.__pageTiming = marks;
  const check = () => {
    for (const [name, sel] of Object.entries(probes)) {
      if (name in marks) continue;
      const el = document.querySelector(sel);
      if (el && (name === "progress" || shown(el))) marks[name] = performance.now();
    }
    const sw = window.__switch;
    if (!sw) return;
    if (document.querySelector(probes.progress)) sw.progress = true;
    if (sw.ms === undefined) {
      for (const el of document.querySelectorAll(sw.selector)) {
        if (!sw.before.has(el) && shown(el)) { sw.ms = performance.now() - sw.t0; break; }
      }
    }
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true, attributes: true});
  setInterval(check, 10);
  window.__switchTo = (path, selector) => {
    const link = [...document.querySelectorAll("[data-testid=stSidebarNavLink]")]
      .find((a) => new URL(a.href).pathname.endsWith("/" + path));
    if (!link) throw new Error("no sidebar link to " + path);
    window.__switch = {selector, before: new WeakSet(document.querySelectorAll(selector)), progress: false,
                       t0: performance.now()};
    link.click();
  };
})();
""" % json.dumps(_TIMING_PROBES)
# label (= url path), the element that counts as "the page is there", a JS condition for "all drawn"
_TIMED_PAGES = {
    "overview": ("map", "document.querySelectorAll(\"[data-testid='stMetricValue']\").length === 4"
                        " && document.querySelector(\"[data-testid='map-legend']\") !== null"
                        " && document.querySelectorAll('[data-testid=stDataFrame]').length === 1"),
    "carbon-accounts": ("table", "document.querySelectorAll('[data-testid=stDataFrame]').length === 4"
                                 " && document.querySelectorAll('[data-testid=stVegaLiteChart]').length === 3"),
}
_REPEATS = 3  # warm visits and sidebar switches per page; the table shows their median


def _settle_run(page, label: str) -> None:
    """Wait until the page is fully drawn and the script run is over (no status widget)."""
    page.wait_for_function(f"() => {_TIMED_PAGES[label][1]}", timeout=300_000)
    page.wait_for_function("() => document.querySelector('[data-testid=stStatusWidget]') === null", timeout=120_000)


def _timed_visit(context, base: str, label: str) -> tuple[object, Recorder, dict]:
    """Open ``label`` in a new tab of ``context`` (a new Streamlit session) and wait until it is
    drawn: seconds from navigation start to the app shell and to the target element, and whether
    the progress bar showed. Returns the open page, its recorder and the timings."""
    target = _TIMED_PAGES[label][0]
    page = context.new_page()
    rec = Recorder(page, base)
    page.goto(f"{base}/{label}")
    _settle(page, _TIMING_PROBES[target], timeout_ms=300_000)  # generous: a cold visit computes the assessment
    _settle_run(page, label)
    page.wait_for_function(f"() => '{target}' in window.__pageTiming && 'shell' in window.__pageTiming")
    marks = page.evaluate("() => ({...window.__pageTiming})")
    assert page.locator("text=Page not found").count() == 0
    return page, rec, {"shell_s": marks["shell"] / 1000, "target_s": marks[target] / 1000,
                       "progress_bar": "progress" in marks}


def _timed_switch(page, label: str) -> dict:
    """Click the sidebar link to ``label`` in an open tab: seconds to its first map/table."""
    target = _TIMED_PAGES[label][0]
    page.evaluate("([path, sel]) => window.__switchTo(path, sel)", [label, _TIMING_PROBES[target]])
    page.wait_for_function("() => window.__switch.ms !== undefined", timeout=120_000)
    _settle_run(page, label)
    sw = page.evaluate("() => ({ms: window.__switch.ms, progress: window.__switch.progress})")
    return {"target_s": sw["ms"] / 1000, "progress_bar": sw["progress"]}


def test_page_switch_timing(browser, demo_ready, tmp_path):
    """Time to the first map (Overview) or data table (Carbon accounts), as a ratio to an "empty
    page" in the same run. Printed (run with ``-s``) and written as JSON to the test's tmp dir and
    ``test-artifacts/page_switch_timing.json``. No clock is asserted (speed targets are not timed
    tests here); asserted: the element appears, warm visits and switches never recompute (the
    app's progress bar never shows), nothing leaves 127.0.0.1, the console stays clean.

    Each page gets its own freshly started ``streamlit run app.py`` and browser context:

    * cold: the first visit after the server started (module imports and the assessment are
      computed; empty HTTP cache): seconds from navigation start to the element;
    * warm: the median of the next visits, each a new tab (a new Streamlit session) in the same
      browser context (HTTP cache warm), the assessment served from the server's cache;
    * switch: the median of clicks on the page's sidebar link from the other page in an open
      tab (the reader's page switch), from the click to the element;
    * baseline, the "empty page": the app has no empty page (every page runs app.py, which loads
      the assessment before drawing), so the baseline is the app shell: navigation start to the
      sidebar navigation ``[data-testid=stSidebarNav]`` being rendered, in the same visits (HTML
      and JS loaded, websocket open, app.py ran up to ``st.navigation``). Its cold value (first
      visits) includes app.py's imports; its warm value (median of the warm visits) is the fixed
      cost of opening any page of this app, and both ratios divide by it.
    """
    results = {}
    for label in _TIMED_PAGES:
        other = next(p for p in _TIMED_PAGES if p != label)
        log_dir = tmp_path / label
        log_dir.mkdir()
        with streamlit_server(log_dir) as base:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            context.add_init_script(_TIMING_SCRIPT)
            recorders = []
            try:
                page, rec, cold = _timed_visit(context, base, label)
                page.close()
                recorders.append(rec)
                warm = []
                for _ in range(_REPEATS):
                    page, rec, timing = _timed_visit(context, base, label)
                    page.close()
                    recorders.append(rec)
                    warm.append(timing)
                page, rec, _ = _timed_visit(context, base, other)
                recorders.append(rec)
                switch = []
                for _ in range(_REPEATS):
                    switch.append(_timed_switch(page, label))
                    _timed_switch(page, other)
                page.close()
            finally:
                context.close()
        assert not any(w["progress_bar"] for w in warm), f"{label}: a warm visit recomputed the assessment: {warm}"
        assert not any(s["progress_bar"] for s in switch), f"{label}: a sidebar switch recomputed the assessment: {switch}"
        for r in recorders:
            assert r.external() == [], f"requests left the machine: {r.external()}"
            assert r.unexpected_errors() == [], r.unexpected_errors()
        results[label] = {"target": _TIMED_PAGES[label][0], "cold": cold, "warm": warm, "switch": switch}

    def med(xs):
        return float(np.median(xs))

    base_cold = med([r["cold"]["shell_s"] for r in results.values()])
    base_warm = med([w["shell_s"] for r in results.values() for w in r["warm"]])
    rows = [("baseline (app shell)", base_cold, base_warm, None)]
    rows += [(f"{label} ({r['target']})", r["cold"]["target_s"], med([w["target_s"] for w in r["warm"]]),
              med([s["target_s"] for s in r["switch"]])) for label, r in results.items()]
    lines = [f"| {'page':<25} | cold s | warm s | switch s | warm/baseline | cold/baseline |",
             f"|{'-' * 27}|--------|--------|----------|---------------|---------------|"]
    for name, c, w, s in rows:
        s_text = "—" if s is None else f"{s:.2f}"
        lines.append(f"| {name:<25} | {c:6.2f} | {w:6.2f} | {s_text:>8} | {w / base_warm:13.1f} | {c / base_warm:13.1f} |")
    lines.append(f"baseline = navigation to [data-testid=stSidebarNav] rendered; ratios divide by its warm value "
                 f"({base_warm:.2f} s); warm and switch = median of {_REPEATS}")
    for label, r in results.items():
        lines.append(f"{label}: cold shell {r['cold']['shell_s']:.2f} s, cold progress bar {r['cold']['progress_bar']}; "
                     "warm " + ", ".join(f"{w['target_s']:.2f}" for w in r["warm"]) + " s; "
                     "switch " + ", ".join(f"{s['target_s']:.2f}" for s in r["switch"]) + " s")
    table = "\n".join(lines)
    print("\npage switch timing\n" + table)
    doc = {"baseline": {"what": "navigation start to [data-testid=stSidebarNav] rendered", "cold_s": base_cold,
                        "warm_s": base_warm}, "pages": results, "table": table}
    for path in (tmp_path / "page_switch_timing.json", ARTIFACTS / "page_switch_timing.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
