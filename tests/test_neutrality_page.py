"""AppTest of the "Net neutrality" page: the headline cards against the core
(sinks.ledger.assess.ledger_assessment), the controls (inventory series, removal method), an
officer's inventory upload with a bad row, a scenario edit, and the words on screen in both
languages (no raw i18n keys, the core's notes translated in Chinese).

The expected figures are computed here straight from the core; the app computes its own ledger
once per process and choice. tests/test_browser_neutrality.py draws the page in Chromium.
"""
from __future__ import annotations

import dataclasses
import io
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sinks.accounts import AccountStore
from sinks.config import load_config
from sinks.ledger.assess import ledger_assessment
from sinks.ledger.scenarios import SECTORS
from sinks.pipeline import run_assessment
from tests.apptest_kit import login
from ui import ledger_flow as flow
from ui.i18n import EN, ZH

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
PAGE = "app_pages/neutrality.py"
OFFICER, PASSWORD = "officer.li", "correct-horse-9"
CJK = re.compile(r"[\u4e00-\u9fff]")
# units a card label may carry and their factor to tonnes (longest first: "万吨" before "吨")
UNIT_FACTORS = [("亿吨", 1e8), ("万吨", 1e4), ("吨", 1.0), ("Mt", 1e6), ("kt", 1e3), ("t", 1.0)]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """An accounts file with one officer, and the core's carbon assessment and ledger of the demo."""
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    root = tmp_path_factory.mktemp("neutrality_page")
    accounts = root / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    a = run_assessment(DEMO)
    core = ledger_assessment(DEMO, assessment=a, with_projects=False)
    mp = pytest.MonkeyPatch()
    mp.setenv("SINKS_WORKSPACE", str(root / "ws"))
    mp.setenv("SINKS_ACCOUNTS", str(accounts))
    yield {"root": root, "a": a, "core": core}
    mp.undo()


def _open(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _cards(at: AppTest) -> list[tuple[str, str, str]]:
    return [(m.label, m.value, m.delta) for m in at.metric]


def _expected(core, lang: str, scenario: str | None = None) -> list[tuple[str, str, str]]:
    sid = scenario or (core.scenarios[0].id if core.scenarios else None)
    return [(c.label, c.value, c.delta) for c in flow.kpi_cards(core, lang, sid)]


def _tonnes(label: str, value: str) -> tuple[float, float]:
    """(tonnes, half a unit of the last digit shown) from a card: the unit is in the label."""
    number = value.strip().replace(",", "")
    decimals = len(number.split(".")[1]) if "." in number else 0
    unit = re.search(r"[（(]([^）)]*)[）)]\s*$", label)
    assert unit, f"card label {label!r} has no unit"
    for name, factor in UNIT_FACTORS:
        if unit.group(1).startswith(name):
            return float(number) * factor, 0.5 * 10 ** -decimals * factor
    raise AssertionError(f"unknown unit in {label!r}")


def _texts(at: AppTest) -> list[str]:
    """Every text the page shows: elements, widget labels and options, table headers and cells,
    and the chart specs (axis titles, legends, tooltips)."""
    out = []
    for kind in ("title", "subheader", "header", "caption", "markdown", "info", "warning", "error", "success"):
        out += [str(e.value) for e in at.get(kind)]
    for m in at.metric:
        out += [m.label, m.value, m.delta, m.help or ""]
    out += [tb.label for tb in at.tabs] + [ex.label for ex in at.expander]
    for kind in ("selectbox", "radio", "multiselect"):
        for w in at.get(kind):
            out += [w.label] + [str(o) for o in w.options]
    for kind in ("text_input", "number_input", "slider", "button", "download_button", "file_uploader", "form_submit_button"):
        out += [str(getattr(w, "label", "")) for w in at.get(kind)]
    for df in at.dataframe:
        v = df.value
        v = v.data if hasattr(v, "data") and not isinstance(v, pd.DataFrame) else v
        out += [str(c) for c in v.columns] + [str(x) for x in v.astype(str).to_numpy().ravel()]
    for ch in at.get("vega_lite_chart"):
        out.append(ch.proto.spec)
        out += [d.data.data.decode("utf-8", "ignore") if hasattr(d, "data") and hasattr(d.data, "data") else "" for d in ch.proto.datasets]
    return out


def _table(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        v = df.value
        if column in v.columns:
            return v
    raise AssertionError([list(df.value.columns) for df in at.dataframe])


def _core_notes(core) -> list:
    notes = list(core.inventory.notes) + list(core.removals.notes) + list(core.removals.scope) + list(core.notes) + list(core.peak.evidence)
    notes += [n.note for n in core.neutrality.values()]
    return [n for n in notes if getattr(n, "code", None)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_renders_with_the_core_headline(env, lang):
    core, d = env["core"], (ZH if lang == "zh" else EN)
    at = _open(lang)
    assert at.title[0].value == d["neut.title"]
    assert [tb.label for tb in at.tabs] == [d[f"neut.tab.{k}"] for k in ("position", "inventory", "trajectories", "warning", "projects")]
    # six cards, formatted from the core's headline exactly as the page module formats it
    assert _cards(at) == _expected(core, lang)
    h = core.headline()
    for (label, value, delta), want in zip(_cards(at)[:3], (h.emissions_tco2e, h.removals_tco2e_yr, h.net_emissions_tco2e)):
        got, tol = _tonnes(label, value)
        assert math.isclose(got, want, abs_tol=tol * 1.0001), (label, value, want)
    # every figure with its interval: the removals and net cards name theirs
    assert d["neut.iv"].split("{")[0].strip() in _cards(at)[1][2] and d["neut.iv"].split("{")[0].strip() in _cards(at)[2][2]
    assert _cards(at)[3][1] == f"{h.offset_ratio * 100:.3g}%" or _cards(at)[3][1].endswith("%")
    assert _cards(at)[4][1] == d[f"neut.peak.{h.peak_status}"]
    # the illustrative banner and the plain-language summary
    assert any(w.value == d["illustrative.notice"] for w in at.warning)
    assert any(m.value.startswith(f"{h.year}" if lang == "zh" else f"In {h.year}") for m in at.markdown)
    # the charts are Altair (Vega-Lite inside Streamlit), one per panel
    assert len(at.get("vega_lite_chart")) >= 7
    labels = [m.label for m in at.metric]
    assert all(bool(CJK.search(x)) == (lang == "zh") for x in labels), labels


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_raw_keys_and_the_notes_are_translated(env, lang):
    core = env["core"]
    at = _open(lang)
    texts = _texts(at)
    raw = [x for x in texts if "neut." in x]
    assert raw == [], raw[:3]
    if lang == "zh":
        joined = "\n".join(texts)
        keyed = [n for n in _core_notes(core) if f"neut.note.{n.code}" in EN]
        assert len(keyed) > 20
        shown = [str(n) for n in keyed if str(n) in joined]
        assert shown == [], shown[:3]
        # the scope rules, the method notes and the peak evidence are there, in Chinese
        for n in list(core.removals.scope) + list(core.peak.evidence):
            assert flow.note_text(n, "zh", peak=core.peak) in joined, n.code


def test_dataset_switch_changes_the_emissions(env):
    core, a = env["core"], env["a"]
    at = _open("en")
    county = _tonnes(at.metric[0].label, at.metric[0].value)[0]
    sel = at.selectbox(key="neut_dataset")
    assert sel.options[0].startswith("chen2020_county") and any(o.startswith("ceads_city_scaled") for o in sel.options)
    sel.set_value("cfg:ceads_city_scaled")
    _run(at)
    city = ledger_assessment(DEMO, assessment=a, dataset="ceads_city_scaled", with_projects=False)
    assert _cards(at) == _expected(city, "en")
    got = _tonnes(at.metric[0].label, at.metric[0].value)[0]
    assert 1.5 < got / county < 3.0  # the city series is about twice the county series
    assert city.headline().year == 2019 and core.headline().year == 2025
    # the position chart and table follow the series
    t = _table(at, EN["neut.col.method"])
    assert str(city.headline().year) == t[EN["neut.col.year"]].iloc[0]


def test_method_switch_changes_the_removals(env):
    core, a = env["core"], env["a"]
    at = _open("en")
    before = _cards(at)[1]
    at.radio(key="neut_method").set_value("stock_difference")
    _run(at)
    cfg = load_config(DEMO)
    cfg = dataclasses.replace(cfg, ledger=dataclasses.replace(cfg.ledger, headline_method="stock_difference"))
    sd = ledger_assessment(cfg, assessment=a, with_projects=False)
    assert _cards(at) == _expected(sd, "en")
    after = _cards(at)[1]
    assert after[1] != before[1] and EN["neut.method.stock_difference"] in after[2]
    assert sd.headline().removals_tco2e_yr != pytest.approx(core.headline().removals_tco2e_yr)


def test_public_user_sees_no_upload_and_no_editor(env):
    at = _open("zh")
    assert len(at.get("file_uploader")) == 0
    assert not [w for w in at.get("text_input") if (w.key or "").startswith("neut_ed_")]
    assert any(c.value == ZH["neut.up.public"] for c in at.caption)
    assert all(df.editing_mode == "read_only" for df in at.dataframe)


def _upload_csv(bad: bool = True) -> bytes:
    """The demo inventory as a new series (x 1.1) with a negative row and an unknown sector."""
    df = pd.read_csv(ROOT / "data" / "inventory" / "jiangbei_emissions_illustrative.csv", dtype=str)
    df = df[df["dataset"] == "chen2020_county"].copy()
    df["dataset"] = "officer_series"
    df["emissions_tco2e"] = (df["emissions_tco2e"].astype(float) * 1.1).round(0).astype(int).astype(str)
    if bad:
        extra = df.iloc[[0, 1]].copy()
        extra["year"] = "2030"
        extra.iloc[0, extra.columns.get_loc("emissions_tco2e")] = "-5"
        extra.iloc[1, extra.columns.get_loc("sector")] = "spaceflight"
        df = pd.concat([df, extra], ignore_index=True)
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def _uploader(at: AppTest):
    hits = [u for u in at.get("file_uploader") if (u.key or "").startswith("neut_inv_file")]
    assert len(hits) == 1, [u.key for u in at.get("file_uploader")]
    return hits[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_officer_uploads_an_inventory_and_sees_the_rejected_rows(env, lang):
    d = ZH if lang == "zh" else EN
    at = _open(lang)
    login(at, OFFICER, PASSWORD)
    _uploader(at).upload("officer.csv", _upload_csv(), "text/csv")
    _run(at)
    rej = _table(at, d["neut.col.reason"])
    assert len(rej) == 2 and sorted(rej[d["neut.col.row"]].astype(int).tolist()) == [242, 243]
    reasons = " ".join(rej[d["neut.col.reason"]])
    assert "spaceflight" in reasons
    if lang == "zh":
        assert "不在部门对照表" in reasons and "排放量为负" in reasons
    # the page now reckons with the upload (kept in this session only) and says so
    assert at.selectbox(key="neut_dataset").value == "up:officer_series"
    assert any(i.value == d["neut.up.session"] for i in at.info)
    assert any(i.value == d["neut.using_upload"].format(name="officer.csv") for i in at.info)
    from sinks.ledger.inventory import load_emissions

    inv = load_emissions(_upload_csv(), name="officer.csv", zone_ids=list(env["a"].zone_ids))
    up = ledger_assessment(DEMO, assessment=env["a"], inventory=inv, with_projects=False)
    assert _cards(at) == _expected(up, lang)
    assert up.headline().emissions_tco2e == pytest.approx(env["core"].headline().emissions_tco2e * 1.1, rel=1e-4)
    raw = [x for x in _texts(at) if "neut." in x]
    assert raw == [], raw[:3]


def test_scenario_edit_changes_the_neutrality_year(env):
    core, a = env["core"], env["a"]
    at = _open("en")
    login(at, OFFICER, PASSWORD)
    first = core.scenarios[0]
    assert core.neutrality[first.id].central is None  # the baseline never reaches neutrality
    assert _cards(at)[5][1] == EN["neut.kpi.not_by"].format(year=2060)
    for sec in SECTORS:
        at.text_input(key=f"neut_ed_{sec}_0_{first.id}").input("-20")
    [b for b in at.get("form_submit_button") if b.key == "neut_ed_apply"][0].click()
    _run(at)
    edited = flow.edited_scenario(first, "en", sectors={s: "-20" for s in SECTORS}, gdp=flow.steps_default(first, "gdp"),
                                  aff_ha=first.afforestation_ha_yr, aff_until=first.afforestation_until,
                                  wet_ha=first.wetland_restoration_ha_yr, wet_until=first.wetland_restoration_until)
    scen = tuple(edited if s.id == first.id else s for s in core.scenarios)
    led = ledger_assessment(DEMO, assessment=a, scenarios=scen, with_projects=False)
    year = led.neutrality[first.id].central
    assert year is not None and year < 2060
    assert _cards(at) == _expected(led, "en")
    assert _cards(at)[5][1] == str(year)
    assert any(i.value == EN["neut.using_edited"] for i in at.info)
    # a typo is refused with its reason, in the reader's language, and nothing is recomputed
    at.text_input(key=f"neut_ed_energy_1_{first.id}").input("minus two")
    [b for b in at.get("form_submit_button") if b.key == "neut_ed_apply"][0].click()
    _run(at)
    assert any("minus two" in e.value for e in at.error)
    assert _cards(at)[5][1] == str(year)


def test_projects_share_slider_follows_the_core(env):
    from sinks.ledger.assess import planting_activities
    from sinks.ledger.projects import project_view

    at = _open("en")
    at.slider(key="neut_share").set_value(50)
    _run(at)
    t = _table(at, EN["neut.col.activity"])
    col = next(c for c in t.columns if c.startswith(EN["neut.col.balance_yr"]))
    total = t[t[EN["neut.col.activity"]] == EN["neut.act.total"]][col].iloc[0]
    # the same view from the core: the planting candidates of all zones, half planted
    cfg = load_config(DEMO)
    acts, _ = planting_activities(cfg)
    pv = project_view(acts, env["a"].coefficients, years=cfg.ledger.project_years, share=0.5)
    want = float(pv.table[pv.table["activity"] == "total"]["balance_tco2e_yr"].iloc[0])
    assert total == f"{round(want):,.0f}"
    assert any(EN["neut.pj.summary"].split("{")[0] in m.value for m in at.markdown)
