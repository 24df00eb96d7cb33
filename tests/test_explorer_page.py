"""AppTest of the "Sink explorer" page: a shared link opens the same view; the card's figures
equal the pipeline's for the same district (an independent path: the district run of the whole
assessment vs the card's own run of one polygon); hostile links, too-small and off-map drawings
get a message, not a blank card; the CSV carries what the card shows; find-by-name works."""
from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from tests.apptest_kit import map_args
from ui import explorer_flow as flow
from ui.share import encode_polyline

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
PAGE = "app_pages/explorer.py"
CJK = re.compile(r"[\u4e00-\u9fff]")
PARK = box(118.62, 32.05, 118.64, 32.065)  # a drawn "park" in Pukou, about 314 ha


@pytest.fixture(scope="module", autouse=True)
def env(tmp_path_factory):
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    root = tmp_path_factory.mktemp("explorer_page")
    mp = pytest.MonkeyPatch()
    mp.setenv("SINKS_WORKSPACE", str(root / "ws"))
    mp.setenv("SINKS_ACCOUNTS", str(root / "accounts.json"))
    yield root
    mp.undo()


@pytest.fixture(scope="module")
def assessment():
    from ui.cache import load_assessment

    return load_assessment(str(DEMO))[1]


def _open(lang: str, params: dict[str, str] | None = None) -> AppTest:
    """The page as a shared link opens it: the query parameters are there on its first run."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.session_state["lang"] = lang
    at.run()
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label_start: str):
    return next(m for m in at.metric if m.label.startswith(label_start))


def _number(text: str) -> float:
    return float(re.search(r"-?[\d,]+\.?\d*", text).group(0).replace(",", ""))


def _card(kind: str, area_id: str):
    """The card the page computed (from the page's cache)."""
    return next(c for c in flow._cards().items.values() if (c.kind, c.area_id) == (kind, area_id))


def test_a_shared_link_opens_the_district_with_the_pipelines_figures(assessment):
    at = _open("en", {"area": "district:pukou", "year": "2020", "layer": "stock"})
    assert at.select_slider(key="exp_year").value == 2020
    assert at.radio(key="exp_layer").value == "stock"
    assert at.query_params["area"] == "district:pukou" and at.query_params["year"] == "2020"
    assert any("Pukou" in h.value for h in at.subheader)
    # the same district through the whole assessment (its own run over all districts)
    st_ = assessment.stock_totals.set_index(["zone_id", "year"]).loc[("pukou", 2020), "stock_tc"]
    flow_ = assessment.flows.set_index("zone_id").loc["pukou", "net_removals_tco2e_yr"]
    stock = _metric(at, "Carbon stock (2020)").value
    assert stock.endswith("Mt C") and _number(stock) * 1e6 == pytest.approx(st_, rel=5e-4)
    removals = _metric(at, "Annual net removals").value
    assert removals.endswith("kt CO₂e/yr") and _number(removals) * 1e3 == pytest.approx(flow_, rel=5e-4)
    area = _metric(at, "Area").value
    geo_ha = float(assessment.zones.set_index("zone_id").to_crs("EPSG:6933").geometry.area.loc["pukou"]) / 1e4
    assert _number(area) == pytest.approx(geo_ha, rel=2e-3)  # geodesic vs an equal-area projection
    # every figure with its interval: the captions under stock and removals carry "95 % interval"
    captions = [c.value for c in at.caption]
    assert sum("95 % interval" in c for c in captions) >= 2, captions
    # equivalents with their factors, the sources one click away
    md = "\n".join(m.value for m in at.markdown)
    assert "Jiangbei resident" in md and "t CO₂e/yr each" in md and "Derivation:" in md
    # the CSV holds the same stock and removals
    card = _card("district", "pukou")
    csv = pd.read_csv(io.BytesIO(flow.card_csv(card)), encoding="utf-8-sig")
    row = csv[(csv["section"] == "stock_total") & (csv["year_or_period"] == "2020")].iloc[0]
    assert float(row["value"]) == pytest.approx(st_) and float(row["low"]) <= st_ <= float(row["high"])
    gl = csv[(csv["section"] == "removals") & (csv["item"] == "gain_loss")].iloc[0]
    assert float(gl["value"]) == pytest.approx(flow_)
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Download the card's data (CSV)" in labels and "Download the card (PNG)" in labels
    assert len(at.get("image")) >= 2, "the map picture and the timelapse are missing"
    swipe = at.get("iframe")
    assert len(swipe) == 1 and "range" in str(swipe[0].proto) and not re.search(r"https?://", swipe[0].proto.srcdoc)
    # the pick map is offline and zoomed to the district; only what is in view was sent
    args = map_args(at)
    assert "http" not in re.sub(r"https?://(127\.0\.0\.1|localhost)", "", args["script"]).replace("http://www.w3.org", "")


def test_the_link_in_chinese_and_the_rank(assessment):
    at = _open("zh", {"area": "unit:PK03"})
    labels = [m.label for m in at.metric]
    assert labels and all(CJK.search(x) for x in labels), labels
    md = "\n".join(m.value for m in at.markdown)
    assert "江北新区居民" in md and "折算系数" in md
    frames = [d.value for d in at.dataframe]
    ranks = next(f for f in frames if "排名" in f.columns)
    assert ranks["排名"].str.contains("/ 24（街道单元）").all(), ranks


def test_a_hostile_link_opens_with_notes_and_no_card():
    at = _open("en", {"area": "district:nowhere", "layer": "<script>", "year": "2024"})
    warnings = " ".join(w.value for w in at.warning)
    assert "no District has the id `nowhere`" in warnings, warnings
    assert "the link's layer `<script>` does not exist" in warnings, warnings
    assert "asks for 2024" in warnings and "nearest date" in warnings, warnings
    assert at.session_state["exp_year"] == 2025


def test_a_crafted_link_cannot_put_a_link_into_the_pages_message():
    at = _open("zh", {"area": "district:[官方登录](https://evil.example/login)", "layer": "![](//x.io/a.png)"})
    warnings = [w.value for w in at.warning if "链接" in w.value]
    assert len(warnings) == 2, warnings
    for w in warnings:  # the reader's values stand as inline code: Markdown shows them, never follows them
        assert re.search(r"`[^`]*(evil\.example|x\.io)[^`]*`", w), w
        outside_code = re.sub(r"`[^`]*`", "", w)
        assert "](" not in outside_code and "evil" not in outside_code and "x.io" not in outside_code, w
    assert any("请选择一个区域" in i.value for i in at.info)
    assert not at.metric


def test_a_drawn_area_travels_in_the_link_and_ranks_among_street_units():
    shape = encode_polyline(list(PARK.exterior.coords)[:-1])
    at = _open("en", {"area": "drawn", "shape": shape, "year": "2025"})
    assert any("Drawn area" in h.value for h in at.subheader)
    area = _number(_metric(at, "Area").value)
    from sinks.explorer.card import geodesic_area_ha

    assert area == pytest.approx(geodesic_area_ha(PARK), rel=1e-3)
    frames = [d.value for d in at.dataframe]
    ranks = next(f for f in frames if "Rank" in f.columns)
    assert ranks["Rank"].str.contains("of 25 \\(Street unit\\)").all(), ranks  # 24 units + the park
    assert at.query_params["area"] == "drawn" and at.query_params["shape"] == shape


@pytest.mark.parametrize("geom, words", [
    (box(118.62, 32.05, 118.6201, 32.0501), "smaller than one 30 m pixel"),
    (box(121.40, 31.20, 121.45, 31.25), "pan to the study area"),
])
def test_a_bad_drawing_gets_a_message_not_a_blank_card(geom, words):
    at = _open("en", {"area": "drawn", "shape": encode_polyline(list(geom.exterior.coords)[:-1])})
    errors = " ".join(e.value for e in at.error)
    assert words in errors, errors
    assert not at.metric


def test_find_by_name_opens_a_wetland_site():
    at = _open("en")
    assert any("Choose an area" in i.value for i in at.info)
    at.selectbox(key="exp_find").select("site:lvshuiwan_wetland").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Wetland" in h.value for h in at.subheader)
    assert at.query_params["area"] == "site:lvshuiwan_wetland"
    assert math.isfinite(_number(_metric(at, "Area").value))
