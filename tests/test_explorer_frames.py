"""Explorer pictures: frames (land cover, carbon, change), the map / card / GIF composer, the swipe.

Tiny synthetic GeoTIFFs in EPSG:4326 made of 10 x 10-pixel blocks, so the colour at a block's
centre is exact after warping; the demo raster for one real-data check (skipped without it);
numbers worked by hand from data/coefficients/carbon_coefficients.csv.
"""
from __future__ import annotations

import io
import itertools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from PIL import Image
from pyproj import Geod

from sinks.coefficients import load_coefficients
from sinks.explorer import mapimage
from sinks.explorer.frames import (
    CHANGE_GAIN_RGB, CHANGE_LOSS_RGB, COLOURBLIND_RGB, FADE_ALPHA, MISSING_RGB, UNCHANGED_RGB, WORLDCOVER_RGB,
    bin_colour, carbon_frame, change_frame, landcover_frame, ramp_colour,
)
from sinks.explorer.mapimage import card_png, map_png, scale_bar, text_fallback_note, timelapse_gif
from ui.swipe import swipe_html

ROOT = Path(__file__).resolve().parents[1]
COEFFS = ROOT / "data" / "coefficients" / "carbon_coefficients.csv"
DEMO_2020 = ROOT / "data" / "rasters" / "jiangbei_landcover_2020.tif"

# 4 x 4 blocks of 10 x 10 pixels, 0.001 degree each, top-left at (118.70 E, 32.04 N); 0 = nodata
WEST, NORTH, RES, BLOCK = 118.70, 32.04, 0.001, 10
BLOCKS_T0 = np.array([[10, 20, 30, 40],
                      [50, 60, 80, 90],
                      [40, 0, 10, 40],
                      [50, 90, 20, 30]], dtype="uint8")
# t1: (2,0) 40 -> 10 (gain), (2,2) 10 -> 50 (big loss), (2,3) 40 -> 50 (small loss), (3,0) nodata
BLOCKS_T1 = BLOCKS_T0.copy()
BLOCKS_T1[2, 0], BLOCKS_T1[2, 2], BLOCKS_T1[2, 3], BLOCKS_T1[3, 0] = 10, 50, 50, 0


def _write(path: Path, blocks: np.ndarray) -> Path:
    arr = np.kron(blocks, np.ones((BLOCK, BLOCK), dtype="uint8"))
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="uint8",
                       crs="EPSG:4326", transform=Affine(RES, 0, WEST, 0, -RES, NORTH), nodata=0) as dst:
        dst.write(arr, 1)
    return path


def _centre(r: int, c: int) -> tuple[float, float]:
    """lon, lat of the centre of block (r, c)."""
    return WEST + (c + 0.5) * BLOCK * RES, NORTH - (r + 0.5) * BLOCK * RES


def _at(frame, r: int, c: int):
    row, col = frame.pixel_of(*_centre(r, c))
    return frame.rgba[row, col], (frame.values[row, col] if frame.values is not None else None)


@pytest.fixture()
def rasters(tmp_path):
    return _write(tmp_path / "lc_t0.tif", BLOCKS_T0), _write(tmp_path / "lc_t1.tif", BLOCKS_T1)


@pytest.fixture(scope="module")
def table():
    return load_coefficients(COEFFS)


def _hand_pools(code: int) -> float:
    """c_above + c_below + c_soil + c_dead of ``code``, read straight from the CSV."""
    df = pd.read_csv(COEFFS)
    rows = df[(df["lucode"] == code) & df["quantity"].isin(["c_above", "c_below", "c_soil", "c_dead"])]
    assert len(rows) == 4
    return float(rows["value"].astype(float).sum())


# ------------------------------------------------------------------------------------- land cover


@pytest.mark.parametrize("palette, colours", [("worldcover", WORLDCOVER_RGB), ("colourblind", COLOURBLIND_RGB)])
def test_landcover_colours_at_known_pixels_and_nodata_transparent(rasters, palette, colours):
    f = landcover_frame(rasters[0], palette=palette, label="2020")
    w, s, e, n = f.bounds_lonlat
    assert (w, n) == pytest.approx((WEST, NORTH), abs=1e-9)
    assert (e, s) == pytest.approx((WEST + 40 * RES, NORTH - 40 * RES), abs=1e-9)
    for r, c in itertools.product(range(4), range(4)):
        rgba, code = _at(f, r, c)
        if BLOCKS_T0[r, c] == 0:
            assert rgba[3] == 0 and np.isnan(code)
        else:
            assert tuple(rgba) == colours[int(BLOCKS_T0[r, c])] + (255,), (r, c)
            assert code == BLOCKS_T0[r, c]
    assert [it[1] for it in f.legend.items][0] == "Tree cover" and f.legend.kind == "classes"
    assert "Snow and ice" not in [it[1] for it in f.legend.items]  # only classes present


def test_landcover_frame_on_the_demo_raster_keeps_tree_cover_colour():
    if not DEMO_2020.exists():
        pytest.skip("demo rasters not built (python -m sinks.demo)")
    from rasterio.warp import transform as warp_xy

    with rasterio.open(DEMO_2020) as ds:
        a = ds.read(1)
        # a pixel inside a 31 x 31 block of tree cover: nearest sampling at ~78 m cannot miss it
        tree = (a == 10).astype("int32")
        k = 15
        cs = np.pad(tree, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        win = cs[2 * k + 1:, 2 * k + 1:] - cs[:-2 * k - 1, 2 * k + 1:] - cs[2 * k + 1:, :-2 * k - 1] + cs[:-2 * k - 1, :-2 * k - 1]
        rr, cc = np.argwhere(win == (2 * k + 1) ** 2)[0] + k
        x, y = ds.xy(rr, cc)
        lon, lat = (v[0] for v in warp_xy(ds.crs, "EPSG:4326", [x], [y]))
    f = landcover_frame(DEMO_2020)
    row, col = f.pixel_of(lon, lat)
    assert tuple(f.rgba[row, col]) == WORLDCOVER_RGB[10] + (255,)
    assert f.rgba.shape[1] <= 900


def test_crop_to_outline_and_fade_outside(rasters):
    outline = shapely.box(WEST + 0.005, NORTH - 0.035, WEST + 0.025, NORTH - 0.005)
    f = landcover_frame(rasters[0], outline=outline, crop=True, margin_frac=0.1)
    w, s, e, n = f.bounds_lonlat
    assert (w, s, e, n) == pytest.approx((WEST + 0.003, NORTH - 0.038, WEST + 0.027, NORTH - 0.002), abs=1e-9)
    inside = f.rgba[f.pixel_of(*_centre(1, 1))]
    outside_row, outside_col = f.pixel_of(WEST + 0.0035, NORTH - 0.0025)
    assert inside[3] == 255 and f.rgba[outside_row, outside_col, 3] == FADE_ALPHA
    assert f.outline is outline


# ------------------------------------------------------------------------------------- carbon


def test_carbon_stock_equals_hand_sum_of_pools(rasters, table):
    f = carbon_frame(rasters[0], table)
    assert f.legend.kind == "ramp" and f.legend.unit == "t C/ha"
    for code, (r, c) in {10: (0, 0), 40: (0, 3), 50: (1, 0), 60: (1, 1), 90: (1, 3)}.items():
        rgba, v = _at(f, r, c)
        expected = _hand_pools(code)
        assert v == pytest.approx(expected, rel=1e-6)
        assert tuple(rgba[:3]) == tuple(ramp_colour(np.array([expected]), f.legend.stops)[0])
    assert _hand_pools(10) == pytest.approx(121.448 + 29.876 + 88 + 13)
    assert _at(f, 2, 1)[0][3] == 0  # nodata transparent


def test_carbon_gain_in_co2e_and_missing_coefficient_in_grey(rasters, table):
    f = carbon_frame(rasters[0], table, quantity="gain_tco2e_ha_yr")
    rgba, v = _at(f, 0, 0)
    assert v == pytest.approx(0.58562 * 44 / 12, rel=1e-6)
    rgba90, v90 = _at(f, 1, 3)  # herbaceous wetland: gain rate "source required"
    assert np.isnan(v90) and tuple(rgba90) == MISSING_RGB + (255,)
    assert any("Herbaceous wetland" in en for _, en, _ in f.legend.items)


# ------------------------------------------------------------------------------------- change


def test_change_rate_value_and_bin(rasters, table):
    years = 5
    f = change_frame(*rasters, table, years, edges_tco2e_ha_yr=(50, 100, 150))
    d = {c: _hand_pools(c) for c in (10, 40, 50)}
    cases = {
        (2, 0): ((d[10] - d[40]) * 44 / 12 / years, CHANGE_GAIN_RGB[2]),  # +110.4: > 100
        (2, 2): ((d[50] - d[10]) * 44 / 12 / years, CHANGE_LOSS_RGB[2]),  # -120.5: < -100
        (2, 3): ((d[50] - d[40]) * 44 / 12 / years, CHANGE_LOSS_RGB[0]),  # -10.1: in (-50, 0)
        (0, 0): (0.0, UNCHANGED_RGB),
    }
    for (r, c), (expected, colour) in cases.items():
        rgba, v = _at(f, r, c)
        assert v == pytest.approx(expected, rel=1e-6, abs=1e-9), (r, c)
        assert tuple(rgba) == tuple(colour) + (255,), (r, c)
        assert tuple(bin_colour(np.array([expected]), f.legend.stops)[0]) == tuple(colour)
    assert _at(f, 3, 0)[0][3] == 0  # nodata in t1: transparent
    assert f.legend.unit == "t CO2e/ha/yr" and f.legend.kind == "bins"


def test_change_default_bins_cover_the_values(rasters, table):
    f = change_frame(*rasters, table, 5)
    v = f.values[np.isfinite(f.values)]
    finite_edges = [s[0] for s in f.legend.stops if math.isfinite(s[0])]
    assert min(finite_edges) < 0 < max(finite_edges)
    assert tuple(_at(f, 2, 0)[0][:3]) in CHANGE_GAIN_RGB and tuple(_at(f, 2, 2)[0][:3]) in CHANGE_LOSS_RGB
    assert v.min() < 0 < v.max()


# ------------------------------------------------------------------------------------- colour vision

# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color
# vision deficiency", IEEE TVCG 15(6):1291-1298: matrices for severity 1.0, applied to linear RGB.
MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]),
}
MAIN_CLASSES = (10, 20, 30, 40, 50, 80, 90)  # tree, shrub, grass, cropland, built-up, water, wetland
MIN_DELTA_E = 15.0  # CIE76 Delta E in CIELAB (D65); ~2.3 is a just-noticeable difference


def _lab_seen(rgb, matrix) -> np.ndarray:
    c = np.asarray(rgb, dtype=float) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lin = np.clip(matrix @ lin, 0.0, 1.0)
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ lin
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _min_delta_e(palette, matrix) -> float:
    lab = {c: _lab_seen(palette[c], matrix) for c in MAIN_CLASSES}
    return min(float(np.linalg.norm(lab[a] - lab[b])) for a, b in itertools.combinations(MAIN_CLASSES, 2))


@pytest.mark.parametrize("kind", sorted(MACHADO_2009))
def test_colourblind_palette_keeps_main_classes_apart(kind):
    assert _min_delta_e(COLOURBLIND_RGB, MACHADO_2009[kind]) >= MIN_DELTA_E
    assert _min_delta_e(COLOURBLIND_RGB, np.eye(3)) >= MIN_DELTA_E


def test_worldcover_palette_is_why_the_colourblind_one_exists():
    # under protanopia WorldCover's tree (0, 100, 0) and built-up (250, 0, 0) look alike
    assert _min_delta_e(WORLDCOVER_RGB, MACHADO_2009["protanopia"]) < 5.0


def test_change_ramp_gain_and_loss_apart_under_cvd():
    for m in MACHADO_2009.values():
        for g, lo in itertools.product(CHANGE_GAIN_RGB, CHANGE_LOSS_RGB):
            assert np.linalg.norm(_lab_seen(g, m) - _lab_seen(lo, m)) >= MIN_DELTA_E


# ------------------------------------------------------------------------------------- pictures


@pytest.mark.parametrize("bounds", [(118.3, 31.8, 119.1, 32.6), (118.70, 32.00, 118.74, 32.04), (100.0, 59.0, 101.0, 60.0)])
@pytest.mark.parametrize("width_px", [300, 683])
def test_scale_bar_is_a_round_distance_at_that_latitude(bounds, width_px):
    metres, px, label = scale_bar(width_px, bounds)
    w, s, e, n = bounds
    lat = (s + n) / 2
    dlon = 0.01
    _, _, d = Geod(ellps="WGS84").inv(w, lat, w + dlon, lat)  # a short geodesic = the parallel's arc
    m_per_px = d / dlon * (e - w) / width_px
    mant = metres / 10 ** math.floor(math.log10(metres))
    assert round(mant, 9) in (1.0, 2.0, 5.0)
    assert abs(px - metres / m_per_px) <= 1.0
    assert px <= width_px * 0.25 + 1 and px > width_px * 0.25 / 2.5 - 1  # the longest round length that fits
    assert label == (f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m")


def test_map_png_width_and_card_longer(rasters, table):
    f = carbon_frame(rasters[0], table, label="2020", outline=shapely.box(118.705, 32.005, 118.73, 32.03))
    for width in (640, 1000):
        png = map_png(f, title="碳密度 Carbon density", lang="zh", locator_bounds=(118.6, 31.9, 118.9, 32.1), width_px=width)
        im = Image.open(io.BytesIO(png))
        assert im.format == "PNG" and im.width == width
    plain = Image.open(io.BytesIO(map_png(f, title="t", lang="en", width_px=800)))
    card = Image.open(io.BytesIO(card_png(f, ["Stock: 1,234 t C", "面积：12 公顷"], title="t", lang="en", width_px=800)))
    assert card.width == 800 and card.height > plain.height


def test_timelapse_gif_frames_size_and_duration(rasters, table):
    frames = [landcover_frame(rasters[0], label="2020"), landcover_frame(rasters[1], label="2025"),
              change_frame(*rasters, table, 5, label="2020–2025")]
    gif = timelapse_gif(frames, duration_ms=1200, loop=0, lang="en", title="Jiangbei", width_px=600)
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF" and im.n_frames == 3 and im.info.get("loop") == 0
    sizes = set()
    for k in range(im.n_frames):
        im.seek(k)
        sizes.add(im.size)
        assert im.info["duration"] == 1200
    assert sizes == {(600, im.size[1])}


def test_without_a_cjk_font_pictures_fall_back_to_english(rasters, monkeypatch):
    monkeypatch.setenv("EXPLORER_CJK_FONT", "")
    mapimage.cjk_font_path.cache_clear()
    mapimage._font.cache_clear()
    try:
        assert mapimage.cjk_font_path() is None
        assert "No CJK font" in text_fallback_note("zh") and text_fallback_note("en") is None
        png = map_png(landcover_frame(rasters[0], label="2020"), title="Land cover", lang="zh", width_px=500)
        im = Image.open(io.BytesIO(png))
        assert im.width == 500 and "No CJK font" in im.text.get("Note", "")
    finally:
        monkeypatch.delenv("EXPLORER_CJK_FONT")
        mapimage.cjk_font_path.cache_clear()
        mapimage._font.cache_clear()


# ------------------------------------------------------------------------------------- swipe


def test_swipe_html_is_self_contained(rasters):
    f0, f1 = landcover_frame(rasters[0], label="2020"), landcover_frame(rasters[1], label="2025")
    left, right = map_png(f0, title="a", lang="en", width_px=400), map_png(f1, title="b", lang="en", width_px=400)
    page = swipe_html(left, right, left_label="2020 <old>", right_label="2025", height_px=420)
    import base64

    assert base64.b64encode(left).decode() in page and base64.b64encode(right).decode() in page
    assert not re.search(r"https?://", page) and "//cdn" not in page
    assert '<input type="range"' in page and "aria-label=" in page and "clip-path" in page
    assert "2020 &lt;old&gt;" in page and "<old>" not in page


def test_swipe_html_is_stable_across_reruns(rasters):
    """The snippet follows its content: a rerun with the same pictures sends the same HTML (the
    frame is not reloaded and the divider stays where the reader left it); other pictures get
    another element id, so two swipes on one page never share CSS rules."""
    f0, f1 = landcover_frame(rasters[0], label="2020"), landcover_frame(rasters[1], label="2025")
    left, right = map_png(f0, title="a", lang="en", width_px=300), map_png(f1, title="b", lang="en", width_px=300)
    a = swipe_html(left, right, left_label="2020", right_label="2025", height_px=400)
    assert a == swipe_html(left, right, left_label="2020", right_label="2025", height_px=400)
    b = swipe_html(right, left, left_label="2025", right_label="2020", height_px=400)
    ida, idb = (re.search(r'<div id="(swp[0-9a-f]+)"', x).group(1) for x in (a, b))
    assert ida != idb
    # the slider sits in the same box as the stage, so it spans the picture's width, not the frame's
    box = a[a.index('<div class="swp-box">'):]
    assert box.index('class="swp-stage"') < box.index('<input type="range"') < box.index("</div>\n<script>")


@pytest.mark.parametrize("v, want", [(0.8, 0.5), (7.0, 5.0), (20.0, 20.0), (199.0, 100.0), (2500.0, 2000.0), (0.0, 0.0),
                                     (-3.0, 0.0), (float("nan"), 0.0)])
def test_scale_bar_lengths_are_1_2_5_steps(v, want):
    from sinks.ledger.svg import nice_floor

    assert nice_floor(v) == want


def test_overview_map_sinks_and_sources_apart_under_cvd():
    """The Overview's zone map (ui.maps.colour_for) uses the same blue / orange-brown pair: a
    weak sink and a weak source stay apart for every dichromacy (red against green did not)."""
    from ui.maps import colour_for

    for m in MACHADO_2009.values():
        for f in (0.05, 0.5, 1.0):
            assert np.linalg.norm(_lab_seen(colour_for(f, 1.0), m) - _lab_seen(colour_for(-f, 1.0), m)) >= MIN_DELTA_E, (f, m)


def test_overview_river_is_never_mistaken_for_a_sink():
    """The basemap's river (ui.basemap.WATER) against every sink tint the zone map can draw
    (fill alpha 205/255 over the basemap background): at least 12 ΔE apart in normal vision
    (a light-blue river was 3 ΔE from a weak sink)."""
    from ui.basemap import BACKGROUND, WATER
    from ui.maps import colour_for

    def rgb(h):
        return np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)

    bg, water = rgb(BACKGROUND), rgb(WATER)
    for f in (0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0):
        drawn = 205 / 255 * np.array(colour_for(f, 1.0)) + (1 - 205 / 255) * bg
        assert np.linalg.norm(_lab_seen(tuple(drawn), np.eye(3)) - _lab_seen(tuple(water), np.eye(3))) >= 12, f
