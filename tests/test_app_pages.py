"""AppTest: every page in Chinese and English, the numbers on screen against the core's numbers.

AppTest runs the real app.py (sidebar, cached assessment, st.navigation) headless, in-process.
It cannot render; the browser test (tests/test_browser.py) covers what the reader sees.
"""
from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sinks.pipeline import run_assessment
from ui import fmt
from ui.basemap import STYLE_URL
from ui.i18n import EN, ZH

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
PAGES = {"overview": "app_pages/overview.py", "accounts": "app_pages/carbon_accounts.py"}
CJK = re.compile(r"[\u4e00-\u9fff]")

# Units a KPI label may carry, and their factor to tonnes. Longest first ("万吨" before "吨").
UNIT_FACTORS = [("亿吨", 1e8), ("万吨", 1e4), ("吨", 1.0), ("Mt", 1e6), ("kt", 1e3), ("t", 1.0)]


def parse_metric(label: str, value: str) -> tuple[float, float]:
    """(tonnes or fraction, half a unit of the last digit shown) from a KPI card.

    ``("碳储量总量（万吨碳）", "2,852")`` -> (28_520_000, 5_000); ``("Offset ratio", "2.37%")``
    -> (0.0237, 0.00005). The tolerance is the display rounding, nothing more.
    """
    number = value.strip().replace(",", "").replace("−", "-")
    decimals = len(number.split(".")[1].rstrip("%")) if "." in number else 0
    half = 0.5 * 10 ** -decimals
    if number.endswith("%"):
        return float(number[:-1]) / 100, half / 100
    unit = re.search(r"[（(]([^）)]*)[）)]\s*$", label)
    assert unit, f"KPI label {label!r} has no unit"
    for name, factor in UNIT_FACTORS:
        if unit.group(1).startswith(name):
            return float(number) * factor, half * factor
    raise AssertionError(f"unknown unit in {label!r}")


@pytest.fixture(scope="module")
def demo() -> Path:
    """The demo configuration with its data present (built as the app would build it)."""
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    return DEMO


@pytest.fixture(scope="module")
def assessment(demo):
    return run_assessment(demo)


def _app(lang: str, page: str = "overview", year: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    if lang != "zh":
        at.radio(key="lang").set_value(lang).run()
    if year is not None:
        at.selectbox(key="year").set_value(year).run()
    if page != "overview":
        at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def _check_kpis(at: AppTest, k) -> None:
    metrics = _metrics(at)
    assert len(metrics) == 4, metrics
    expected = [k.total_stock_tc, k.removals_tco2e_yr, k.emissions_tco2e, k.offset_ratio]
    for (label, value), want in zip(metrics, expected):
        got, tol = parse_metric(label, value)
        assert math.isclose(got, want, abs_tol=tol * 1.0001), f"{label} shows {value}: {got} vs {want} (± {tol})"
        assert abs(got - want) <= 0.005 * abs(want) + 1e-12, f"{label}: {got} vs {want} is off by more than 0.5 %"


def test_zh_and_en_have_the_same_keys_and_fields():
    assert set(ZH) == set(EN), sorted(set(ZH) ^ set(EN))
    fields = re.compile(r"{(\w*)}")
    for key in ZH:
        assert sorted(fields.findall(ZH[key])) == sorted(fields.findall(EN[key])), key
    for code in (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100):
        assert f"lc.{code}" in ZH and CJK.search(ZH[f"lc.{code}"])
    assert ZH["lc.10"] == "林地" and EN["lc.10"] == "Tree cover"
    assert ZH["pool.c_above"] == "地上生物量" and EN["pool.c_above"] == "Above-ground biomass"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_kpis_equal_the_core(lang, assessment):
    at = _app(lang)
    _check_kpis(at, assessment.kpis())
    labels = [label for label, _ in _metrics(at)]
    assert all(bool(CJK.search(x)) == (lang == "zh") for x in labels), labels
    # the illustrative notice (page) and badge (sidebar)
    assert at.warning and (("示意数据" in at.warning[0].value) if lang == "zh" else ("Illustrative" in at.warning[0].value))
    sidebar_text = " ".join(m.value for m in at.sidebar.markdown)
    assert ("示意数据" if lang == "zh" else "Illustrative data") in sidebar_text
    # the methods note names what is not counted
    assert any(("需补充来源" if lang == "zh" else "source required") in m.value for m in at.markdown)
    assert at.dataframe, "the table of area not counted is missing"


def test_overview_kpis_follow_the_year(assessment):
    first = assessment.years[0]
    at = _app("en", year=first)
    _check_kpis(at, assessment.kpis(first))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_is_offline(lang, assessment):
    at = _app(lang)
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    proto = charts[0].proto
    spec = json.loads(proto.json)
    assert spec["mapStyle"] == STYLE_URL == "/app/static/map_style.json"
    everything = proto.json + proto.tooltip + proto.mapbox_token
    assert "http" not in everything, re.findall(r"https?://[^\"' ]+", everything)
    assert not proto.mapbox_token
    zones = next(layer for layer in spec["layers"] if layer["id"] == "zones")
    feats = zones["data"]["features"]
    assert sorted(f["properties"]["zone_id"] for f in feats) == sorted(assessment.zone_ids)
    names = {f["properties"]["name"] for f in feats}
    col = "name_zh" if lang == "zh" else "name_en"
    assert names == set(assessment.zones[col])
    # every zone is coloured from its removals (not all the same colour unless all equal)
    assert all(len(f["properties"]["fill"]) == 4 for f in feats)
    assert "{name}" in json.loads(proto.tooltip)["html"]
    # the legend is drawn beside the map
    assert any("map-legend" in h.proto.body for h in at.get("html"))


def test_local_map_style_has_no_remote_resource():
    style = json.loads((ROOT / "static" / "map_style.json").read_text(encoding="utf-8"))
    assert style["version"] == 8 and style["layers"][0]["type"] == "background"
    text = json.dumps(style)
    assert "http" not in text and "mapbox://" not in text
    assert "glyphs" not in style and "sprite" not in style  # no fonts or icons to fetch
    for src in style["sources"].values():
        assert src["type"] == "geojson" and isinstance(src["data"], dict), "sources must be inline"
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["enableStaticServing"] is True


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_carbon_accounts(lang, assessment):
    at = _app(lang, page="accounts")
    year = assessment.years[-1]
    assert len(at.dataframe) == 4  # stocks by pool, flows, areas, coefficients
    stocks, flows, areas, coef = (d.value for d in at.dataframe)
    # the stock table holds the core's numbers (raw, unrounded) per zone and in total
    total_col = [c for c in stocks.columns if c.startswith("合计" if lang == "zh" else "Total")][0]
    assert stocks[total_col].sum() == pytest.approx(assessment.kpis(year).total_stock_tc, rel=1e-9)
    assert len(stocks) == len(assessment.zone_ids)
    # stock-difference and gain-loss side by side
    f = assessment.flows_for_year(year).set_index("zone_id").reindex(assessment.zone_ids)
    sd_col = [c for c in flows.columns if c.startswith("储量差法" if lang == "zh" else "Stock-difference")][0]
    gl_col = [c for c in flows.columns if c.startswith("增减法" if lang == "zh" else "Gain-loss")][0]
    assert list(flows[sd_col]) == pytest.approx(list(f["sequestration_tco2e_yr"]))
    assert list(flows[gl_col]) == pytest.approx(list(f["net_removals_tco2e_yr"]))
    # areas by class: the valid area per zone adds up
    class_cols = [c for c in areas.columns if re.search(r"\(\d+\)", c)]
    assert areas[class_cols].to_numpy().sum() == pytest.approx(assessment.areas.query("year == @year")["area_ha"].sum())
    # coefficients: one row per value, with the unverified flag and the sources
    unverified_col = "未核实" if lang == "zh" else "Unverified"
    assert len(coef) == len(assessment.coefficients.values)
    assert int(coef[unverified_col].sum()) == int((~assessment.coefficients.values["verified"]).sum())
    assert coef["来源" if lang == "zh" else "Source"].str.len().min() > 0
    # a CSV download per table
    assert len(at.get("download_button")) == 4
    # charts
    assert len(at.get("vega_lite_chart")) == 3


def test_language_switch_changes_the_labels():
    at = _app("zh")
    zh_labels = [m.label for m in at.metric]
    zh_title = at.title[0].value
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    en_labels = [m.label for m in at.metric]
    assert zh_title == ZH["overview.title"] and at.title[0].value == EN["overview.title"]
    assert all(CJK.search(x) for x in zh_labels) and not any(CJK.search(x) for x in en_labels)
    assert zh_labels != en_labels
    at.radio(key="lang").set_value("zh").run()
    assert [m.label for m in at.metric] == zh_labels


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_error_is_shown_with_file_problem_and_fix(lang, tmp_path, monkeypatch):
    bad = tmp_path / "broken.toml"
    bad.write_text(
        '[area]\nname_zh = "坏配置"\nname_en = "Broken"\n'
        '[landcover.years]\n2020 = "nowhere/lc_2020.tif"\n'
        f'[coefficients]\npath = "{(ROOT / "data" / "coefficients" / "carbon_coefficients.csv").as_posix()}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SINKS_CONFIG_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if lang == "en":
        at.radio(key="lang").set_value("en").run()
    assert not at.exception, "a DataError must be shown as a message, not raised"
    assert len(at.error) == 1
    msg = at.error[0].value
    d = ZH if lang == "zh" else EN
    for key in ("error.title", "error.file", "error.problem", "error.fix"):
        assert d[key] in msg
    assert "lc_2020.tif" in msg and "does not exist" in msg
    assert not at.metric


def test_formats():
    assert fmt.tonnes(28_518_024, "c", "zh") == "2,852 万吨碳"
    assert fmt.tonnes(28_518_024, "c", "en") == "28.52 Mt C"
    assert fmt.tonnes(314_822, "co2e_yr", "en") == "314.8 kt CO₂e/yr"
    assert fmt.tonnes(314_822, "co2e_yr", "zh") == "31.48 万吨 CO₂e/年"
    assert fmt.tonnes(4_422, "co2e_yr", "zh") == "4,422 吨 CO₂e/年"
    assert fmt.tonnes(-12_346, "co2e_yr", "en") == "-12.35 kt CO₂e/yr"
    assert fmt.tonnes(3.2e9, "co2", "zh") == "32.00 亿吨 CO₂"
    assert fmt.tonnes(4_422, "co2e_yr", "zh", ref=314_822) == "0.44 万吨 CO₂e/年"
    assert fmt.tonnes(float("nan"), "c", "en") == fmt.DASH
    assert fmt.pct(0.02367) == "2.37%" and fmt.pct(0.4567) == "45.7%" and fmt.pct(1.234) == "123.4%"
    assert fmt.plus_minus_pct(23.4) == "± 23%" and fmt.plus_minus_pct(float("nan")) is None
    assert parse_metric("碳储量总量（万吨碳）", "2,852") == (28_520_000, 5_000)
    assert parse_metric("Offset ratio", "2.37%") == pytest.approx((0.0237, 0.00005))


def test_missing_demo_files_are_detected(tmp_path, demo):
    from ui.cache import missing_demo_files

    assert missing_demo_files(str(demo)) == []
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        '[landcover.years]\n'
        f'2020 = "{(ROOT / "data" / "rasters" / "not_built_yet.tif").as_posix()}"\n'
        f'2025 = "{(tmp_path / "elsewhere.tif").as_posix()}"\n'
        f'[coefficients]\npath = "{(ROOT / "data" / "coefficients" / "carbon_coefficients.csv").as_posix()}"\n',
        encoding="utf-8",
    )
    # only what the demo builder writes (data/rasters, data/inventory) is built; other paths are the user's
    assert missing_demo_files(str(cfg)) == [ROOT / "data" / "rasters" / "not_built_yet.tif"]


def test_missing_demo_data_is_built_with_a_progress_bar(tmp_path, monkeypatch):
    """A fresh checkout has no demo rasters: the app builds them (sinks.demo) instead of failing."""
    import shutil

    import ui.cache

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "boundaries", data / "boundaries")
    shutil.copytree(ROOT / "data" / "coefficients", data / "coefficients")
    configs = tmp_path / "configs"
    configs.mkdir()
    demo = DEMO.read_text(encoding="utf-8").replace("../data/", f"{data.as_posix()}/")
    (configs / "jiangbei_demo.toml").write_text(demo, encoding="utf-8")
    monkeypatch.setattr(ui.cache, "DEMO_DATA", data)
    monkeypatch.setenv("SINKS_CONFIG_DIR", str(configs))
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert (data / "rasters" / "jiangbei_landcover_2025.tif").exists()
    assert (data / "inventory" / "jiangbei_emissions_illustrative.csv").exists()
    assert len(at.metric) == 4
