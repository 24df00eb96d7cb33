"""The downloadable net-neutrality report (sinks.ledger.report, python -m sinks report)."""
from __future__ import annotations

import csv
import re
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sinks.ledger import report as rp
from sinks.ledger.report_text import TEXT

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "jiangbei_demo.toml"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def ledger():
    from sinks.ledger.assess import ledger_assessment

    return ledger_assessment(CONFIG)


@pytest.fixture(scope="module")
def pages(ledger):
    return {lang: rp.build_report_html(ledger, lang=lang) for lang in ("zh", "en")}


class _Collect(HTMLParser):
    """Section ids, data-kpi texts, table rows (by table id), src/href attributes, svg blocks."""

    def __init__(self):
        super().__init__()
        self.sections, self.kpi, self.kpi_ci, self.links, self.h2 = [], {}, {}, [], []
        self.tables: dict[str, list[dict]] = {}
        self._kpi = self._ci = self._tid = self._col = None
        self._row = None
        self._h2 = False
        self.text_cells = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a:
                self.links.append(a[k])
        if tag == "section":
            self.sections.append(a.get("id"))
        if "data-kpi" in a:
            self._kpi = a["data-kpi"]
            self.kpi[self._kpi] = ""
        if "data-kpi-ci" in a:
            self._ci = a["data-kpi-ci"]
            self.kpi_ci[self._ci] = ""
        if tag == "table":
            self._tid = a.get("id")
            self.tables[self._tid] = []
        if tag == "tr" and self._tid:
            self._row = {"_class": a.get("class", "")}
        if tag == "td" and self._row is not None:
            self._col = a.get("data-col", f"c{len(self._row)}")
            self._row[self._col] = ""
        if tag == "h2":
            self._h2 = True
            self.h2.append("")

    def handle_endtag(self, tag):
        if tag in ("span", "b"):
            self._kpi = self._ci = None
        if tag == "td":
            self._col = None
        if tag == "tr" and self._row is not None:
            if len(self._row) > 1:
                self.tables[self._tid].append(self._row)
            self._row = None
        if tag == "table":
            self._tid = None
        if tag == "h2":
            self._h2 = False

    def handle_data(self, data):
        if self._kpi:
            self.kpi[self._kpi] += data
        if self._ci:
            self.kpi_ci[self._ci] += data
        if self._row is not None and self._col:
            self._row[self._col] += data
        if self._h2:
            self.h2[-1] += data


def _parse(page: str) -> _Collect:
    p = _Collect()
    p.feed(page)
    p.close()
    return p


def test_text_keys_match():
    assert set(TEXT["zh"]) == set(TEXT["en"])
    for lang in TEXT:
        assert all(isinstance(v, str) and v for v in TEXT[lang].values())


def test_sections_same_in_both_languages(pages):
    got = {lang: _parse(p).sections for lang, p in pages.items()}
    assert got["zh"] == got["en"] == list(rp.SECTION_IDS)


def test_svgs_parse_as_xml(pages):
    for page in pages.values():
        svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
        assert len(svgs) >= 6  # map + charts
        for s in svgs:
            ET.fromstring(s)


def test_kpis_equal_headline(ledger, pages):
    h = ledger.headline()
    for lang, page in pages.items():
        p = _parse(page)
        want = rp.kpi_values(h, lang)
        assert p.kpi["emissions"] == want["emissions"] == f"{h.emissions_tco2e:,.0f}"
        assert p.kpi["removals"] == f"{h.removals_tco2e_yr:,.0f}"
        assert p.kpi["net"] == f"{h.net_emissions_tco2e:,.0f}"
        assert p.kpi["offset"] == f"{h.offset_ratio * 100:.2f} %"
        assert f"{h.removals_low_tco2e_yr:,.0f} – {h.removals_high_tco2e_yr:,.0f}" in p.kpi_ci["removals"]
        assert f"{h.net_emissions_low_tco2e:,.0f} – {h.net_emissions_high_tco2e:,.0f}" in p.kpi_ci["net"]
        assert f"{h.offset_ratio_low * 100:.2f} % – {h.offset_ratio_high * 100:.2f} %" in p.kpi_ci["offset"]
        assert p.kpi["peak_status"] == TEXT[lang][f"status.{h.peak_status}"]
        for sid, y in h.neutrality.items():
            assert p.kpi[f"neutrality.{sid}"] == (str(y) if y is not None else TEXT[lang]["not_by"].format(year=2060))
        assert TEXT[lang]["unit_t_yr"] in page and TEXT[lang]["ci95"] in page


def test_chinese_headings_and_no_raw_keys(pages):
    zh = pages["zh"]
    p = _parse(zh)
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in p.h2), p.h2
    assert TEXT["zh"]["sec_kpis"] in p.h2 and TEXT["zh"]["illustrative_banner"] in zh
    text = re.sub(r"<[^>]+>", " ", zh)
    for key in TEXT["zh"]:
        if "." in key or "_" in key:
            assert not re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", text) or key in ("gain_loss", "stock_difference"), key
    assert TEXT["zh"]["notes_en_heading"] in zh  # untranslated notes are marked as English
    assert TEXT["zh"]["note.scope1_co2"] in zh  # scope rules are translated


def test_chinese_tables_carry_no_core_codes(ledger, pages):
    # the core's codes (status, kind, indicator, basis, activity, zone ids) are words in 中文
    p = _parse(pages["zh"])
    codes = {"met", "over", "undefined", "inventory", "projection", "total_tco2e", "intensity_t_per_10k_cny", "scenario",
             "nearest period", "period covers year", "afforestation", "greening", "shelterbelt", "total", "all", "ok", "amber",
             "red", "no_data", "%/yr", "pp", *ledger.zone_ids, *(s.id for s in ledger.scenarios)}
    for tid in ("t_dual", "t_warnings", "t_peaks", "t_projects", "t_position"):
        cells = {v for row in p.tables[tid] for v in row.values()}
        assert not cells & codes, (tid, cells & codes)
    dual = p.tables["t_dual"]
    total = next(r for r in dual if r["indicator"] == TEXT["zh"]["val.indicator.total_tco2e"])
    assert re.fullmatch(r"[\d,]+", total["value"])  # whole tonnes, no decimals
    assert "-0" not in {v for row in p.tables["t_projects"] for v in row.values()}


def test_position_table_matches(ledger, pages):
    pos = ledger.position
    for lang, page in pages.items():
        rows = _parse(page).tables["t_position"]
        assert len(rows) == len(pos) == len(ledger.years) * 2
        got = {(int(r["year"]), r["method"]): r["net_emissions_tco2e"] for r in rows}
        for _, r in pos.iterrows():
            assert got[(int(r["year"]), TEXT[lang][f"method.{r['method']}"])] == f"{r['net_emissions_tco2e']:,.0f}"


def test_coefficients_unverified_marked(ledger, pages):
    v = ledger.assessment.coefficients.values
    for lang, page in pages.items():
        rows = _parse(page).tables["t_coefficients"]
        assert len(rows) == len(v)
        marked = [r for r in rows if "unverified" in r["_class"].split()]
        assert len(marked) == int((~v["verified"].astype(bool)).sum()) > 0
        assert all(r["verified"] == TEXT[lang]["unverified"] for r in marked)


def test_provenance_and_no_external_links(ledger, pages):
    for page in pages.values():
        assert ledger.inventory.sha256 in page
        assert ledger.assessment.coefficients.sha256 in page
        links = _parse(page).links
        assert all(not re.match(r"\s*(https?:)?//", x, re.I) for x in links), links
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", page, re.I)
        assert "<script" not in page.lower()


def test_projects_upper_bound_and_dual(ledger, pages):
    pv = ledger.projects
    rows = _parse(pages["en"]).tables["t_projects"]
    assert len(rows) == len(pv.table)
    assert sum("upper" in r["_class"] for r in rows) == int(pv.table["upper_bound"].sum())
    assert len(_parse(pages["en"]).tables["t_dual"]) == len(ledger.dual_control)


def _old_report(tmp_path: Path) -> Path:
    out = tmp_path / "rep"
    out.mkdir()
    (out / rp.MARKER).write_text("{\"old\": true}", encoding="utf-8")
    (out / "report_en.html").write_text("old", encoding="utf-8")
    return out


def test_write_report_atomic(ledger, tmp_path, monkeypatch):
    from sinks.ledger import pdf

    out = _old_report(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*a, **k):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(pdf, "html_to_pdf", boom)
    with pytest.raises(RuntimeError):
        rp.write_report(ledger, out, langs=("en",), pdf=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temporary folder left


def test_write_report_files_formula_safe(ledger, tmp_path, monkeypatch):
    from sinks.ledger import pdf

    def unavailable(html, out, **k):
        raise pdf.PdfUnavailable(out, "no Chromium", "install chromium")

    monkeypatch.setattr(pdf, "html_to_pdf", unavailable)
    msgs = []
    files = rp.write_report(ledger, tmp_path / "rep", pdf=True, warn=msgs.append)
    names = {f.name for f in files}
    assert {"report_zh.html", "report_en.html", "ledger.json", *(f"{n}.csv" for n in rp.CSV_TABLES)} <= names
    assert not any(n.endswith(".pdf") for n in names)
    assert len(msgs) == 1 and "install chromium" in msgs[0]
    for f in files:
        if f.suffix == ".csv":
            with f.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.reader(fh):
                    for cell in row:
                        if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not re.fullmatch(r"-[\d.eE+-]+", cell)):
                            pytest.fail(f"{f.name}: formula-like cell {cell!r}")
    import json
    doc = json.loads((tmp_path / "rep" / "ledger.json").read_text(encoding="utf-8"))
    assert doc["headline"]["year"] == ledger.headline().year
    assert doc["provenance"]["inventory"]["sha256"] == ledger.inventory.sha256


def test_cli_end_to_end(tmp_path, capsys):
    from sinks.cli import main

    out = tmp_path / "ledger"
    assert main(["report", str(CONFIG), "--out", str(out), "--lang", "en", "--no-pdf"]) == 0
    text = capsys.readouterr().out
    assert "offset ratio" in text and "report_en.html" in text
    assert (out / "report_en.html").exists() and not (out / "report_zh.html").exists()
    # an existing folder that is not a report is refused (exit 1), and usage errors exit 2
    other = tmp_path / "docs"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    assert main(["report", str(CONFIG), "--out", str(other), "--no-pdf"]) == 1
    assert "problem" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["report", str(CONFIG), "--out", str(out), "--lang", "fr"])
    assert exc.value.code == 2


def test_pdf_and_screenshots(ledger, tmp_path):
    from sinks.ledger.pdf import find_chromium

    exe = find_chromium()
    if exe is None:
        print("skip: no Chromium (apt-get install chromium fonts-noto-cjk, or SINKS_CHROMIUM)")
        pytest.skip("no Chromium to print the PDF (apt-get install chromium fonts-noto-cjk)")
    files = rp.write_report(ledger, tmp_path / "rep", pdf=True)
    ARTIFACTS.mkdir(exist_ok=True)
    for lang in ("zh", "en"):
        pdf = tmp_path / "rep" / f"report_{lang}.pdf"
        assert pdf in files
        data = pdf.read_bytes()
        assert data[:5] == b"%PDF-"
        assert len(re.findall(rb"/Type\s*/Page[^s]", data)) > 1
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={ARTIFACTS / f'ledger_report_{lang}.png'}",
                        "--window-size=1240,1754", (tmp_path / "rep" / f"report_{lang}.html").as_uri()],
                       capture_output=True, timeout=120)
        assert (ARTIFACTS / f"ledger_report_{lang}.png").exists()
