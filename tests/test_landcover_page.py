"""The Land cover & NDVI page: AppTest (zh and en) against the core, and one real-browser journey.

The accuracy on screen must be the core's: the test classifies the same demo imagery with the same
rules, draws the same seeded reference sample with :func:`design_sample`, labels it from the
synthetic land cover and runs :func:`assess_map` itself, then compares with what the page shows.
Outputs go to a temporary ``$SINKS_WORKSPACE``.
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from streamlit.testing.v1 import AppTest

from sinks.accounts import AccountStore
from tests.apptest_kit import login

from ui import fmt
from ui.i18n import EN, ZH

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "app_pages/landcover.py"
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def demo() -> Path:
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)) or not (ROOT / "data" / "rasters" / "jiangbei_bands_2025.tif").exists():
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    return DEMO


OFFICER, PASSWORD = "planner.wu", "correct-horse-9"


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch) -> Path:
    ws = tmp_path / "workspace"
    monkeypatch.setenv("SINKS_WORKSPACE", str(ws))
    accounts = tmp_path / "accounts.json"
    AccountStore(accounts).add(OFFICER, PASSWORD, role="officer", display_name="Wu Min")
    monkeypatch.setenv("SINKS_ACCOUNTS", str(accounts))
    return ws


def _page(lang: str, *, officer: bool = True) -> AppTest:
    """The page, logged in as a planner (classifying, uploads and saving are officers' work)."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if lang != "zh":
        at.radio(key="lang").set_value(lang).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    if officer:
        login(at, OFFICER, PASSWORD)
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_public_browses_imagery_but_cannot_classify_upload_or_save(demo, lang):
    at = _page(lang, officer=False)
    assert len(at.image) >= 3  # the swipe and the two views
    assert not at.get("file_uploader") and not [b for b in at.button if b.key and ("lc_" in b.key)]
    assert any({"zh": ZH, "en": EN}[lang]["landcover.public"] == i.value for i in at.info), [i.value for i in at.info]


def _year(at: AppTest) -> int:
    return int(at.selectbox(key="year").value)


def _classify_rules(at: AppTest) -> AppTest:
    submit = [b for b in at.button if b.key and b.key.startswith("FormSubmitter:lc_rules_form")]
    assert len(submit) == 1, [b.key for b in at.button]
    submit[0].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _core_assessment(year: int, out: Path):
    """The same inputs through the core alone (no ui code)."""
    from geodata.bands import open_bands
    from sinks.landcover.accuracy import assess_map, read_classes_at
    from sinks.landcover.classify import classify_rules, load_rules
    from sinks.landcover.sampling import design_sample
    from ui.landcover_flow import DEMO_MIN_PER_CLASS, DEMO_REF_N, DEMO_REF_SEED

    bands = ROOT / "data" / "rasters" / f"jiangbei_bands_{year}.tif"
    truth = ROOT / "data" / "rasters" / f"jiangbei_landcover_{year}.tif"
    res = classify_rules(open_bands(bands, sensor="sentinel2"), load_rules(), out)
    pts = design_sample(out, n_total=DEMO_REF_N, allocation="olofsson", min_per_class=DEMO_MIN_PER_CLASS, seed=DEMO_REF_SEED)
    ref = read_classes_at(truth, pts).astype("int64")
    pts = pts[ref != 0].copy()
    pts["reference_class"] = ref[ref != 0]
    return res, assess_map(out, pts, class_field="reference_class", legend=sorted(set(pts["reference_class"].tolist())))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_draws_views_rules_and_notice(lang, demo):
    from sinks.landcover.classify import load_rules

    at = _page(lang)
    d = ZH if lang == "zh" else EN
    assert at.title[0].value == d["landcover.title"]
    # swipe composite + the two views, each a picture
    assert len(at.get("image")) == 3
    assert d["landcover.view.false_colour"] in at.get("image")[0].proto.imgs[0].caption
    legends = [h.proto.body for h in at.get("html")]
    assert len(legends) == 2 and all('data-testid="lc-legend"' in b for b in legends)
    # synthetic truth is said plainly
    assert any(d["landcover.synthetic_notice"] == w.value for w in at.warning)
    # one editable threshold per condition of the default rules, with its rationale as help
    rules = load_rules()
    conditions = [c for r in rules.rules for c in r.conditions]
    inputs = [n for n in at.number_input if n.key and n.key.startswith("lc_thr_")]
    assert len(inputs) == len(conditions)
    assert [n.value for n in inputs] == pytest.approx([c.value for c in conditions])
    assert all(c.rationale in n.help for n, c in zip(inputs, conditions))
    labels = [at.title[0].value, at.subheader[0].value]
    assert all(bool(CJK.search(x)) == (lang == "zh") for x in labels), labels


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rules_accuracy_equals_the_core(lang, demo, tmp_path, workspace):
    t0 = time.monotonic()
    at = _classify_rules(_page(lang))
    year = _year(at)
    res, a = _core_assessment(year, tmp_path / "core_rules.tif")

    # the page wrote its map under the workspace, pixel for pixel the core's map
    written = list((workspace / "landcover").glob("*.tif"))
    assert len(written) == 1
    with rasterio.open(written[0]) as p, rasterio.open(res.path) as c:
        assert np.array_equal(p.read(1), c.read(1))

    metrics = {m.label: m.value for m in at.metric}
    d = ZH if lang == "zh" else EN
    assert metrics[d["landcover.acc.oa"]] == fmt.pct(a.area.overall_accuracy, lang)
    assert metrics[d["landcover.acc.kappa"]] == f"{a.confusion.kappa:.3f}"
    assert metrics[d["landcover.acc.n_samples"]] == f"{a.confusion.n_samples:,}"
    oa = float(metrics[d["landcover.acc.oa"]].rstrip("%")) / 100
    assert oa == pytest.approx(a.area.overall_accuracy, abs=0.0005)

    frames = [df.value for df in at.dataframe]
    cm = next(f for f in frames if f.columns[0] == d["landcover.acc.map_vs_ref"])
    assert np.array_equal(cm.iloc[:, 1:].to_numpy(), a.confusion.counts)
    per_class = next(f for f in frames if d["landcover.acc.ua"] in f.columns)
    np.testing.assert_allclose(per_class[d["landcover.acc.ua"]].to_numpy(dtype=float), a.area.user_accuracy, equal_nan=True)
    np.testing.assert_allclose(per_class[d["landcover.acc.pa"]].to_numpy(dtype=float), a.area.producer_accuracy, equal_nan=True)
    areas = next(f for f in frames if any(c.startswith(d["landcover.acc.adjusted_area"]) for c in f.columns))
    adj = next(c for c in areas.columns if c.startswith(d["landcover.acc.adjusted_area"]))
    np.testing.assert_allclose(areas[adj].to_numpy(dtype=float), a.area.adjusted_area_ha)
    # CSV downloads (class areas, confusion, per class, areas) and the error-bar chart
    assert len(at.get("download_button")) == 4
    assert len(at.get("vega_lite_chart")) == 1
    # the classification now sits beside the imagery in the swipe
    assert at.selectbox(key="lc_view_b").value == "classes"
    print(f"rules classification + accuracy via AppTest ({lang}): {time.monotonic() - t0:.1f} s")


def test_swipe_slider_changes_the_composed_image(demo):
    at = _page("en")
    before = at.get("image")[0].proto.imgs[0]
    at.slider(key="lc_swipe").set_value(15).run()
    after = at.get("image")[0].proto.imgs[0]
    assert not at.exception
    assert after.url != before.url
    assert "15%" in after.caption and "50%" in before.caption
    # the two side-by-side views do not change
    assert [i.proto.imgs[0].url for i in at.get("image")[1:]] != [] and len(at.get("image")) == 3


def test_swipe_composes_left_of_a_with_right_of_b():
    from ui.imagery import swipe

    a = np.zeros((2, 10, 3), dtype="uint8")
    b = np.full((2, 10, 3), 200, dtype="uint8")
    out = swipe(a, b, 30, line=False)
    assert (out[:, :3] == 0).all() and (out[:, 3:] == 200).all()  # 30 % of 10 columns = 3 from a
    assert (swipe(a, b, 0, line=False) == b).all() and (swipe(a, b, 100, line=False) == a).all()
    lined = swipe(a, b, 50)
    assert (lined[:, 4:6] == 255).all()  # the divider at the split
    with pytest.raises(ValueError):
        swipe(a, b[:, :5], 50)


def test_edited_threshold_changes_the_map(demo):
    at = _page("en")
    tree = next(n for n in at.number_input if n.key == "lc_thr_tree cover_ndvi_>=")
    tree.set_value(0.95)
    at = _classify_rules(at)
    px_col = EN["landcover.result.pixels"]
    table = next(df.value for df in at.dataframe if px_col in df.value.columns)
    tree_px = table.loc[table[EN["col.class"]].str.endswith("(10)"), px_col].sum()
    at2 = _classify_rules(_page("en"))
    table2 = next(df.value for df in at2.dataframe if px_col in df.value.columns)
    assert tree_px < table2.loc[table2[EN["col.class"]].str.endswith("(10)"), px_col].sum()


def test_random_forest_on_demo_samples(demo):
    at = _page("en")
    at.radio(key="lc_method").set_value("rf").run()
    assert any(EN["landcover.rf.demo_notice"] == i.value for i in at.info)  # synthetic truth, said plainly
    at.number_input(key="lc_rf_n").set_value(200)
    at.number_input(key="lc_rf_trees").set_value(20)
    at.button(key="lc_rf_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics[EN["landcover.acc.oa"]].rstrip("%")) > 60
    table = next(df.value for df in at.dataframe if EN["landcover.result.training"] in df.value.columns)
    assert table[EN["landcover.result.training"]].sum() > 0


def test_save_as_dataset_appears_in_the_sidebar(demo, workspace):
    at = _classify_rules(_page("en"))
    at.text_input(key="lc_save_name").set_value("test-rules-map")
    submit = [b for b in at.button if b.key and b.key.startswith("FormSubmitter:lc_save_form")]
    submit[0].click().run()
    assert not at.exception, at.exception
    saved = workspace / "configs" / "test-rules-map.toml"
    assert saved.exists()
    assert any("test-rules-map" in s.value and "sidebar" in s.value for s in at.success)
    assert str(saved) in at.selectbox(key="config").options or any(
        "test-rules-map" in o for o in at.selectbox(key="config").options)


def test_a_data_error_is_shown_not_raised(demo):
    at = _page("en")
    at.radio(key="lc_sensor").set_value("landsat89").run()  # the file declares x0.0001, not Landsat's rule
    assert not at.exception, at.exception
    assert len(at.error) == 1 and EN["error.fix"] in at.error[0].value


def test_oversize_upload_is_refused_in_python():
    from geodata.errors import UnsafeInputError
    from ui.landcover_flow import MAX_UPLOAD_BYTES, read_upload

    class Fake:
        name = "big.gpkg"
        size = MAX_UPLOAD_BYTES + 1

        def getvalue(self):  # never read
            raise AssertionError("an oversize upload must be refused before it is read")

    with pytest.raises(UnsafeInputError):
        read_upload(Fake())


def test_landcover_keys_in_both_languages():
    used = set()
    for f in (ROOT / "app_pages" / "landcover.py", ROOT / "ui" / "landcover_flow.py"):
        used |= set(re.findall(r"[\"'](landcover\.[a-z0-9_.]+)[\"']", f.read_text(encoding="utf-8")))
    assert used and used <= set(ZH) and used <= set(EN), sorted(used - set(ZH) - set(EN))
    lc = [k for k in ZH if k.startswith("landcover.")] + ["page.landcover"]
    fields = re.compile(r"{(\w*)}")
    for k in lc:
        assert k in EN and sorted(fields.findall(ZH[k])) == sorted(fields.findall(EN[k])), k
    assert CJK.search(ZH["page.landcover"]) and not CJK.search(EN["page.landcover"])


# ------------------------------------------------------------------------------ real browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "test-artifacts" / "screenshot_landcover.png"


@pytest.fixture(scope="module")
def lc_server(demo, tmp_path_factory):
    """``streamlit run app.py`` on a free port, with a temporary workspace."""
    from tests.test_browser import streamlit_server

    tmp = tmp_path_factory.mktemp("lc_server")
    AccountStore(tmp / "accounts.json").add(OFFICER, PASSWORD, role="officer", display_name="Wu Min")
    with streamlit_server(tmp, env_extra={"SINKS_WORKSPACE": str(tmp / "workspace"), "SINKS_ACCOUNTS": str(tmp / "accounts.json")}) as base:
        yield base


@pytest.mark.browser
def test_landcover_in_a_real_browser(lc_server):
    if not CHROMIUM.exists():
        print(f"SKIP browser test: {CHROMIUM} not found", file=sys.stderr)
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("SKIP browser test: playwright is not installed", file=sys.stderr)
        pytest.skip("the playwright Python package is not installed")
    from tests.browser_kit import log_in
    from tests.test_browser import CHROME_ARGS, Recorder, _full_page_screenshot

    images_loaded = ("() => { const im = [...document.querySelectorAll('[data-testid=stImage] img')];"
                     " return im.length === 3 && im.every(i => i.complete && i.naturalWidth > 0); }")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="en-US")
            rec = Recorder(page, lc_server)
            t0 = time.monotonic()
            page.goto(f"{lc_server}/landcover?lang=en")
            page.wait_for_selector("[data-testid=stImage] img", state="visible", timeout=120_000)
            page.wait_for_function(images_loaded, timeout=60_000)
            first_s = time.monotonic() - t0
            assert page.locator("h1").first.inner_text().strip() == EN["landcover.title"]
            assert page.locator("[data-testid=lc-legend]").count() == 2
            # the NDVI view is a coloured picture, not blank
            sizes = page.evaluate("[...document.querySelectorAll('[data-testid=stImage] img')].map(i => [i.naturalWidth, i.naturalHeight])")
            assert all(w >= 500 and h >= 500 for w, h in sizes), sizes
            # the public sees no classifier; a planner logs in and classifies with the rules
            assert page.get_by_role("button", name=EN["landcover.rules.run"]).count() == 0
            log_in(page, OFFICER, PASSWORD, "Wu Min")
            page.get_by_role("button", name=EN["landcover.rules.run"]).click()
            page.wait_for_selector("[data-testid=stMetricValue]", timeout=120_000)
            page.wait_for_function(images_loaded, timeout=60_000)
            page.wait_for_selector("[data-testid=stVegaLiteChart]", timeout=60_000)
            page.wait_for_timeout(1500)
            oa = page.locator("[data-testid=stMetricValue]").first.inner_text().strip()
            assert re.fullmatch(r"\d+\.\d%", oa), oa
            _full_page_screenshot(page, SCREENSHOT)
            assert rec.external() == [], f"requests left the machine: {rec.external()}"
            assert rec.unexpected_errors() == [], rec.unexpected_errors()
            print(f"landcover first paint {first_s:.1f} s; OA shown {oa}; {len(rec.requests)} requests, all to 127.0.0.1")
        finally:
            browser.close()


# ------------------------------------------------------------------------------ own reference points


@pytest.fixture
def media(monkeypatch) -> list:
    """The in-memory media stores of AppTest runs, so a test can read what a download button serves."""
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    stores: list = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)
    return stores


def _downloaded(stores: list, button) -> bytes:
    return stores[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content


def _gpkg_bytes(gdf) -> bytes:
    import io

    buf = io.BytesIO()
    gdf.to_file(buf, driver="GPKG", layer="reference_sample", engine="pyogrio")
    return buf.getvalue()


def _propose_sample(at: AppTest, n: int) -> AppTest:
    at.number_input(key="lc_ref_n").set_value(n)
    at.button(key="lc_ref_design").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_own_reference_points_sample_upload_and_report(demo, media, workspace):
    """Sample design helper -> label the points (here from the synthetic land cover) -> upload ->
    the report on screen is the core's ``assess_map`` of the same points."""
    import warnings

    from geodata.vectors import read_vector
    from sinks.landcover.accuracy import assess_map

    t0 = time.monotonic()
    at = _classify_rules(_page("en"))
    year = _year(at)
    n = 240
    at = _propose_sample(at, n)
    button = at.get("download_button")
    dl = next(b for b in button if b.key == "lc_ref_sample_dl")
    assert dl.proto.label == EN["landcover.ref.download"] and len(button) == 5  # 4 CSVs of the demo report + the sample
    data = _downloaded(media, dl)
    assert data.startswith(b"SQLite format 3\x00")  # a GeoPackage (SQLite container)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pts = read_vector(data, name="sample.gpkg", layer="reference_sample")
    assert len(pts) == n and pts.crs is not None
    assert {"point_id", "map_class", "reference_class"} <= set(pts.columns) and pts["reference_class"].isna().all()
    map_path = next((workspace / "landcover").glob("*.tif"))
    with rasterio.open(map_path) as m:  # the sample is stratified on the page's map
        assert [int(v[0]) for v in m.sample(zip(pts.geometry.x, pts.geometry.y))] == pts["map_class"].tolist()

    # the "interpreter": label each point from the synthetic land cover at its coordinates
    truth = ROOT / "data" / "rasters" / f"jiangbei_landcover_{year}.tif"
    with rasterio.open(truth) as tr:
        assert tr.crs == pts.crs
        labels = np.array([int(v[0]) for v in tr.sample(zip(pts.geometry.x, pts.geometry.y))])
        nodata = int(tr.nodata)
    pts = pts[labels != nodata].copy()
    pts["reference_class"] = labels[labels != nodata]
    expected = assess_map(map_path, pts, class_field="reference_class", legend=sorted(set(pts["reference_class"].tolist())))

    at.file_uploader(key="lc_ref_upload").upload("labelled.gpkg", _gpkg_bytes(pts)).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="lc_ref_field").value == "reference_class"
    at.button(key="lc_ref_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]

    oa = [m.value for m in at.metric if m.label == EN["landcover.acc.oa"]]
    assert len(oa) == 2  # the demo report (synthetic truth) and the report of the uploaded points
    assert oa[-1] == fmt.pct(expected.area.overall_accuracy, "en")
    assert float(oa[-1].rstrip("%")) / 100 == pytest.approx(expected.area.overall_accuracy, abs=0.0005)
    assert [m.value for m in at.metric if m.label == EN["landcover.acc.kappa"]][-1] == f"{expected.confusion.kappa:.3f}"
    assert [m.value for m in at.metric if m.label == EN["landcover.acc.n_samples"]][-1] == f"{len(pts):,}"
    cm = [df.value for df in at.dataframe if df.value.columns[0] == EN["landcover.acc.map_vs_ref"]]
    assert len(cm) == 2 and np.array_equal(cm[-1].iloc[:, 1:].to_numpy(), expected.confusion.counts)
    areas = [df.value for df in at.dataframe if any(c.startswith(EN["landcover.acc.adjusted_area"]) for c in df.value.columns)][-1]
    adj = next(c for c in areas.columns if c.startswith(EN["landcover.acc.adjusted_area"]))
    np.testing.assert_allclose(areas[adj].to_numpy(dtype=float), expected.area.adjusted_area_ha)
    assert any("labelled.gpkg" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 2
    print(f"sample design + labelled upload + accuracy via AppTest: {time.monotonic() - t0:.1f} s")


@pytest.mark.parametrize("bad", ["no_crs", "outside"])
def test_bad_reference_upload_shows_an_error_box(bad, demo):
    import geopandas as gpd
    import shapely

    at = _classify_rules(_page("zh"))
    with rasterio.open(ROOT / "data" / "rasters" / f"jiangbei_landcover_{_year(at)}.tif") as tr:
        b, crs = tr.bounds, tr.crs
    x, y = (b.left + b.right) / 2, (b.bottom + b.top) / 2
    if bad == "outside":
        x += 10 * (b.right - b.left)
    gdf = gpd.GeoDataFrame({"reference_class": [40, 10]}, geometry=[shapely.Point(x, y), shapely.Point(x + 30, y)],
                           crs=None if bad == "no_crs" else crs)
    at.file_uploader(key="lc_ref_upload").upload(f"{bad}.gpkg", _gpkg_bytes(gdf)).run()
    at.button(key="lc_ref_run").click().run()
    assert not at.exception, at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    msg = at.error[0].value
    assert ZH["error.fix"] in msg and f"{bad}.gpkg" in msg
    assert ZH["error.kind.missing_crs"] in msg if bad == "no_crs" else "outside" in msg
    assert len([m for m in at.metric if m.label == ZH["landcover.acc.oa"]]) == 1  # only the demo report


def test_sample_design_asks_for_too_few_points_shows_an_error(demo):
    at = _classify_rules(_page("en"))
    at.number_input(key="lc_ref_min").set_value(200)
    at.button(key="lc_ref_design").click().run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and EN["error.fix"] in at.error[0].value
    assert not [b for b in at.get("download_button") if b.key == "lc_ref_sample_dl"]
