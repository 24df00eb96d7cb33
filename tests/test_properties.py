"""Property-based tests (hypothesis) of the zonal engine and the parsers (issue 10).

Every property runs a fixed, derandomized set of examples (``derandomize=True``: the same
examples on every machine and in CI), with no deadline (the machine is shared).

* zonal engine: for random small land-cover rasters with nodata and random, possibly
  overlapping zones off the pixel grid, the counts of every zone sum to its pixels, the
  non-nodata counts to its valid pixels (an independent numpy reference), and the result is
  identical for every block size;
* parsers: each returns or raises its documented error only, on any input: the polyline codec
  (round trip to 1e-5 degrees; ``ValueError`` on foreign text), ``geodata.tables.read_csv``,
  ``geodata.points.read_points`` / ``parse_coordinate``, the emissions inventory, the .xlsx
  pre-check, ``sinks.config.load_config`` and ``ui.share.decode_view``;
* GCJ-02 / BD-09: forward then inverse returns the WGS84 point inside China to < 1 mm.

``SINKS_HYPOTHESIS_EXAMPLES`` raises the number of examples for a deeper run (still derandomized).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.features import geometry_mask

from geodata.crs import bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02
from geodata.errors import DataError
from geodata.limits import check_xlsx
from geodata.points import BadValue, parse_coordinate, read_points
from geodata.rasters import read_info
from geodata.tables import read_csv, to_number
from geodata.zonal import zonal_histogram
from sinks.config import load_config
from sinks.ledger.inventory import load_emissions, load_sector_map
from tests.conftest import ORIGIN_X, ORIGIN_Y, PX, UTM50, write_raster
from ui.share import decode_polyline, decode_view, encode_polyline

EXAMPLES = int(os.environ.get("SINKS_HYPOTHESIS_EXAMPLES", "60"))  # a deeper local run: SINKS_HYPOTHESIS_EXAMPLES=2000
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------------------ zonal engine

CODES = (0, 10, 40, 50, 80, 90)  # 0 is the declared nodata
BLOCK_SIZES = (1, 2, 3, 5, 512)


@st.composite
def land_cover(draw) -> np.ndarray:
    h = draw(st.integers(1, 12))
    w = draw(st.integers(1, 12))
    cells = draw(st.lists(st.sampled_from(CODES), min_size=h * w, max_size=h * w))
    return np.array(cells, dtype="uint8").reshape(h, w)


@st.composite
def zone_boxes(draw, h: int, w: int) -> list[shapely.Polygon]:
    """1-3 boxes (they may overlap) whose edges sit at 0.1 + k/4 pixel: never on a pixel centre
    (k + 0.5), so "centre inside" has one answer whatever the arithmetic; each meets the raster."""
    boxes = []
    for _ in range(draw(st.integers(1, 3))):
        c0 = draw(st.integers(-4, 4 * w - 1))
        r0 = draw(st.integers(-4, 4 * h - 1))
        c1 = draw(st.integers(max(c0 + 1, 1), 4 * w + 4))
        r1 = draw(st.integers(max(r0 + 1, 1), 4 * h + 4))
        x0, x1 = ORIGIN_X + (c0 / 4 + 0.1) * PX, ORIGIN_X + (c1 / 4 + 0.1) * PX
        y0, y1 = ORIGIN_Y - (r1 / 4 + 0.1) * PX, ORIGIN_Y - (r0 / 4 + 0.1) * PX
        boxes.append(shapely.box(x0, y0, x1, y1))
    return boxes


@PROPERTY
@given(data=st.data())
def test_zonal_counts_sum_to_the_valid_pixels_of_each_zone_for_any_block_size(data):
    lc = data.draw(land_cover(), label="land cover")
    boxes = data.draw(zone_boxes(*lc.shape), label="zones")
    with tempfile.TemporaryDirectory() as d:
        info = read_info(write_raster(Path(d) / "lc.tif", lc, nodata=0))
        zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(len(boxes))]}, geometry=boxes, crs=UTM50)
        results = [zonal_histogram([info], zones, id_field="zone_id", block_size=b, threads=1 + b % 2) for b in BLOCK_SIZES]
    first = results[0]
    for other in results[1:]:  # identical for any block size (and thread count)
        np.testing.assert_array_equal(other.codes, first.codes)
        np.testing.assert_array_equal(other.counts_px, first.counts_px)
        np.testing.assert_array_equal(other.area_m2, first.area_m2)
    nodata_col = first.codes == 0
    for z, geom in enumerate(boxes):
        inside = ~geometry_mask([geom], out_shape=lc.shape, transform=info.transform)  # pixel centres, independently
        assert first.counts_px[z].sum() == inside.sum()
        assert first.counts_px[z, ~nodata_col].sum() == (inside & (lc != 0)).sum()  # counts sum to the valid pixels
        assert first.counts_px[z, nodata_col].sum() == (inside & (lc == 0)).sum()
        for code in CODES:
            assert first.count(f"z{z}", code) == (inside & (lc == code)).sum()
    assert np.all(first.area_m2 == first.counts_px * PX * PX)


# ---------------------------------------------------------------------------- polyline codec

lonlat = st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False))


@PROPERTY
@given(st.lists(lonlat, max_size=60))
def test_polyline_round_trip_within_1e5_degrees(coords):
    text = encode_polyline(coords)
    back = decode_polyline(text)
    assert len(back) == len(coords)
    for (x, y), (bx, by) in zip(coords, back):
        assert abs(bx - x) <= 0.5e-5 + 1e-9 and abs(by - y) <= 0.5e-5 + 1e-9
    assert encode_polyline(back) == text  # decoded points are on the 1e-5 grid: encoding them again is exact


@PROPERTY
@given(st.one_of(st.text(max_size=200), st.text(alphabet=st.characters(min_codepoint=60, max_codepoint=130), max_size=200)))
def test_polyline_decode_of_any_text_returns_or_raises_value_error(text):
    try:
        coords = decode_polyline(text)
    except ValueError:
        return
    assert all(isinstance(x, float) and isinstance(y, float) for x, y in coords)


@PROPERTY
@given(st.dictionaries(st.sampled_from(["area", "shape", "year", "cmp", "layer", "lang", "other"]),
                       st.one_of(st.text(max_size=80), st.sampled_from(["drawn", "district:pukou", "2020", "stock", "_p~iF~ps|U_ulLnnqC"]))))
def test_decode_view_never_raises_on_a_crafted_link(params):
    view, notes = decode_view(params, years=[2020, 2025], ids={"district": {"pukou"}})
    assert view.year in (None, 2020, 2025) and view.layer in (None, "landcover", "stock", "change")
    assert all(n.code for n in notes)


# ---------------------------------------------------------------------------- GCJ-02 / BD-09

china = st.tuples(st.floats(73.5, 134.8), st.floats(18.2, 53.5))


@PROPERTY
@given(st.lists(china, min_size=1, max_size=20))
def test_gcj02_and_bd09_round_trip_inside_china(points):
    lon, lat = np.array(points).T
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = np.hypot((glon - lon) * np.cos(np.radians(lat)), glat - lat) * 111_195  # metres, roughly
    assert np.all(shift < 1_500)  # the obfuscation moves points by up to ~1 km, never more
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    np.testing.assert_allclose(wlon, lon, atol=1e-8)  # ~1 mm
    np.testing.assert_allclose(wlat, lat, atol=1e-8)
    blon, blat = bd09_to_wgs84(*gcj02_to_bd09(glon, glat))
    np.testing.assert_allclose(blon, lon, atol=1e-8)
    np.testing.assert_allclose(blat, lat, atol=1e-8)


# ------------------------------------------------------------------------------------ parsers

CSV_ALPHABET = 'year,sector;emissions_tco2e\tsource"\n\r 0123456789.-+e,nan inf 工业排放年份\ufeff\x00'
csv_like = st.text(alphabet=CSV_ALPHABET, max_size=300)
any_bytes = st.one_of(st.binary(max_size=600), csv_like.map(lambda s: s.encode("utf-8")), csv_like.map(lambda s: s.encode("gb18030", "replace")))


@PROPERTY
@given(any_bytes)
def test_read_csv_returns_a_frame_or_raises_data_error(raw):
    try:
        df = read_csv(raw, name="fuzz.csv")
    except DataError as exc:
        assert "fuzz.csv" in str(exc) and exc.fix
        return
    assert all(isinstance(c, str) for c in df.columns)


@PROPERTY
@given(st.lists(st.text(alphabet=" 0123456789,.-+eEinfaNI∞１２", max_size=12), max_size=30))
def test_to_number_gives_finite_numbers_or_nan(cells):
    import pandas as pd

    out = to_number(pd.Series(cells, dtype=object))
    assert len(out) == len(cells)
    assert not np.isinf(out.to_numpy(dtype=float)).any()


@pytest.fixture(scope="module")
def sector_map():
    return load_sector_map()


@PROPERTY
@given(raw=st.one_of(any_bytes, csv_like.map(lambda s: ("year,sector,emissions_tco2e,source\n" + s).encode())))
def test_inventory_returns_or_raises_data_error(sector_map, raw):
    try:
        inv = load_emissions(raw, name="fuzz.csv", sector_map=sector_map)
    except DataError as exc:
        assert "fuzz.csv" in str(exc)
        return
    assert len(inv.rows) + len(inv.rejected) >= 1
    assert (inv.rows["emissions_tco2e"] >= 0).all() and np.isfinite(inv.rows["emissions_tco2e"]).all()


@PROPERTY
@given(raw=st.one_of(any_bytes, st.text(alphabet="lonat,id\n 118.6032°'\"ENnan-", max_size=200).map(lambda s: ("id,lon,lat\n" + s).encode())))
def test_read_points_returns_or_raises_data_error(raw):
    try:
        table = read_points(raw, name="fuzz.csv")
    except DataError as exc:
        assert "fuzz.csv" in str(exc)
        return
    assert table.n_points + table.n_rejected == table.n_rows  # nothing dropped silently


@PROPERTY
@given(st.text(max_size=40))
def test_parse_coordinate_returns_a_finite_number_or_rejects_the_cell(text):
    try:
        value, axis = parse_coordinate(text)
    except BadValue as bad:
        assert bad.code and bad.reason
        return
    assert np.isfinite(value) and axis in (None, "lon", "lat")


@PROPERTY
@given(st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b)))
def test_xlsx_precheck_returns_or_raises_data_error(raw):
    try:
        check_xlsx(raw, "fuzz.xlsx")
    except DataError as exc:
        assert "fuzz.xlsx" in str(exc)


TOML_VALUES = ["nan", "inf", "-inf", "-1", "0", "1e400", "3.5", '""', '"x"', '"\\u0000"', "[1, 2]", "{a = 1}", "true",
               '"wgs84"', '"gcj02"', "2020", '"lc.tif"', "99999999999999999999"]
TOML_KEYS = ["[engine] block_size", "[engine] threads", "[engine] scheduler", "[area] name_zh", "[area] illustrative",
             "[zones] path", "[zones] coord_system", "[zones] id_field", "[inventory] path", "[coefficients] path",
             "[landcover.years] 2020", "[landcover.accuracy] 2020", "[wetlands] min_patch_ha", "[protection] belt_distance_m"]


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(TOML_KEYS), st.sampled_from(TOML_VALUES)), max_size=6, unique_by=lambda kv: kv[0]))
def test_load_config_returns_or_raises_data_error(edits):
    """A valid configuration with some values replaced by values of any kind."""
    doc: dict[str, dict[str, str]] = {"[landcover.years]": {"2020": '"lc.tif"'}, "[coefficients]": {"path": '"coef.csv"'}}
    for key, value in edits:
        section, name = key.split(" ")
        doc.setdefault(section, {})[name] = value
    text = "".join(f"{s}\n" + "".join(f"{k} = {v}\n" for k, v in kv.items()) for s, kv in doc.items())
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.toml"
        p.write_text(text, encoding="utf-8")
        try:
            cfg = load_config(p)
        except DataError as exc:
            assert "fuzz.toml" in str(exc) and exc.fix
            return
    assert all(isinstance(y, int) for y in cfg.landcover) and 1 <= cfg.block_size
