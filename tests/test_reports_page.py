"""AppTest of the "Reports" page: it reports what the Net neutrality page shows (series, method),
builds the same files as ``python -m sinks report`` and offers them for download, in both
languages, with the headline figures of the core in the HTML."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sinks.ledger.report import kpi_values
from ui import ledger_flow as flow

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
PAGE = "app_pages/reports.py"


@pytest.fixture(scope="module", autouse=True)
def env(tmp_path_factory):
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    root = tmp_path_factory.mktemp("reports_page")
    mp = pytest.MonkeyPatch()
    mp.setenv("SINKS_WORKSPACE", str(root / "ws"))
    mp.setenv("SINKS_ACCOUNTS", str(root / "accounts.json"))
    mp.setenv("SINKS_CHROMIUM", str(root / "no-chromium"))  # PDFs are tested in test_ledger_report; here: the fallback
    yield root
    mp.undo()


def _open(lang: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info] + \
        [w.value for w in at.warning] + [s.value for s in at.success] + [b.label for b in at.button]
    return "\n".join(str(p) for p in parts).replace("\\", "")  # markdown escapes


def _build(at: AppTest) -> AppTest:
    at.button(key="rep_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _report(at: AppTest, lang: str) -> str:
    key = at.session_state["rep_built"][0]
    L = flow.cached_ledger(key)
    files, _ = flow.report_files(L, key, at.session_state["rep_built"][1], at.session_state["rep_built"][2])
    return L, files


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_build_and_download(lang):
    at = _open(lang)
    text = _texts(at)
    assert "rep." not in text and "neut." not in text
    assert "chen2020_county" in text  # the primary series is what the report will hold
    # no Chromium here: the PDF switch is off and says how to get one
    assert any("chromium" in i.value.lower() for i in at.info)
    at = _build(at)
    L, files = _report(at, lang)
    assert {"report_zh.html", "report_en.html", "ledger.json", "position.csv"} <= set(files)
    assert not any(n.endswith(".pdf") for n in files)
    h = L.headline()
    assert any(str(h.year) in s.value for s in at.success)
    # the HTML carries the core's headline figures, formatted as the report's writer formats them
    html = files[f"report_{lang}.html"].decode("utf-8")
    for v in kpi_values(h, lang).values():
        if isinstance(v, str) and re.search(r"\d", v):
            assert v in html
    z = zipfile.ZipFile(io.BytesIO(flow.zip_bytes(files, "r")))
    assert sorted(n.split("/", 1)[1] for n in z.namelist()) == sorted(files)


def test_follows_the_neutrality_page_choice():
    # the reader chose the city series and the stock-difference method on the Net neutrality page
    at = _open("en", neut_choice={"neut_dataset": "cfg:ceads_city_scaled", "neut_method": "stock_difference", "neut_zones": None})
    assert "ceads_city_scaled" in _texts(at)
    at = _build(at)
    L, files = _report(at, "en")
    assert L.dataset == "ceads_city_scaled" and L.method == "stock_difference"
    assert L.headline().year == 2019
    assert "ceads_city_scaled" in files["report_en.html"].decode("utf-8")


def test_reports_what_the_reader_chose_with_the_widgets():
    # the reader picks the city series and stock-difference on the Net neutrality page, then opens
    # Reports: Streamlit drops the widgets' keys there, the choice must survive (and come back)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("app_pages/neutrality.py").run()
    at.selectbox(key="neut_dataset").set_value("cfg:ceads_city_scaled").run()
    at.radio(key="neut_method").set_value("stock_difference").run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(PAGE).run()
    at.run()  # a second run on the page: the widget keys are gone by now
    assert "neut_method" not in at.session_state
    at = _build(at)
    L, _ = _report(at, "en")
    assert (L.dataset, L.method) == ("ceads_city_scaled", "stock_difference")
    at.switch_page("app_pages/neutrality.py").run()
    assert at.radio(key="neut_method").value == "stock_difference"
    assert at.selectbox(key="neut_dataset").value == "cfg:ceads_city_scaled"


def test_no_language_chosen_stops_with_a_message():
    at = _open("en")
    at.session_state["rep_langs"] = []
    at.run()
    assert not at.exception
    assert any("at least one" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "rep_build"]
