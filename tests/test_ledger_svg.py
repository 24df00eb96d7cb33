"""sinks.ledger.svg: inline SVG charts and zone maps for the offline report.

Every figure is parsed with ElementTree; positions are checked against the scale worked out by
hand from the plot rectangle and the axis ticks; one test renders all three figures (English
and 中文) in headless Chromium and saves test-artifacts/ledger_svg_example.png.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geodata.errors import MissingCRSError
from sinks.ledger.svg import (
    MISSING_COLOUR, OKABE_ITO, SVG_FONT, VIRIDIS_5, Band, HLine, Marker, Series, Stack, VLine,
    bar_chart, line_chart, nice_ticks, zone_map,
)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
EXAMPLE_PNG = ROOT / "test-artifacts" / "ledger_svg_example.png"
NS = "{http://www.w3.org/2000/svg}"
NAN = float("nan")
NASTY = "<&>\"' 碳汇·江北"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def by_class(root: ET.Element, cls: str, tag: str = "*") -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}" if tag != "*" else None) if cls in (e.get("class") or "").split()]


def rect_of(e: ET.Element) -> tuple[float, float, float, float]:
    return tuple(float(e.get(k)) for k in ("x", "y", "width", "height"))


def path_points(d: str) -> list[tuple[float, float]]:
    """Absolute M/L coordinates of a path written by the chart code (no relative moves)."""
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(nums[0::2], nums[1::2]))


def y_ticks(root: ET.Element) -> list[float]:
    return [float(t.get("data-value")) for t in by_class(root, "y-tick", "text")]


def squares(n: int, side_m: float, *, crs="EPSG:32650", x0=500_000.0, y0=3_550_000.0) -> gpd.GeoDataFrame:
    """``n`` squares of ``side_m`` metres in a row, west to east, in UTM 50N."""
    geoms = [box(x0 + i * side_m, y0, x0 + (i + 1) * side_m, y0 + side_m) for i in range(n)]
    return gpd.GeoDataFrame({"name": [f"Z{i}" for i in range(n)]}, geometry=geoms, crs=crs)


# ---------------------------------------------------------------------------------------------
# ticks and scales


def test_nice_ticks_known_ranges():
    # 9.7e6 / 5 = 1.94e6 -> 2e6; floor(0) .. ceil(9.7e6 / 2e6) = 5 -> 0, 2M, ..., 10M
    assert nice_ticks(0, 9.7e6) == [0, 2e6, 4e6, 6e6, 8e6, 10e6]
    # 11.1 / 5 = 2.22 -> 5 would give -5..10 (covers 74 %); 2 gives -4..8 in 6 intervals (93 %)
    assert nice_ticks(-3.2, 7.9) == [-4, -2, 0, 2, 4, 6, 8]
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    # inside the range, whole years
    assert nice_ticks(2005, 2060, 6, extend=False, integer=True) == [2010, 2020, 2030, 2040, 2050, 2060]
    assert nice_ticks(2020, 2022, 8, extend=False, integer=True) == [2020, 2021, 2022]
    assert nice_ticks(5, 5) == [5]


def test_line_chart_axis_for_0_to_9_7_million():
    svg = line_chart([Series("Emissions", [2020, 2025], [0, 9.7e6])], title="T", y_label="tCO2e")
    root = parse(svg)
    assert y_ticks(root) == [0, 2e6, 4e6, 6e6, 8e6, 10e6]
    assert [t.text for t in by_class(root, "y-tick", "text")] == ["0", "2,000,000", "4,000,000", "6,000,000", "8,000,000", "10,000,000"]
    # the caller's formatter labels the same ticks
    root = parse(line_chart([Series("E", [2020, 2025], [0, 9.7e6])], title="T", y_label="t", fmt=lambda v: f"{v / 1e6:g}M" if v else "0"))
    assert [t.text for t in by_class(root, "y-tick", "text")] == ["0", "2M", "4M", "6M", "8M", "10M"]
    # years without a thousands separator
    assert [t.text for t in by_class(root, "x-tick", "text")][0] == "2020"


def test_y_axis_includes_zero_only_when_near():
    # 3..9.7: the lowest value is within half the highest -> 0 is shown
    near = parse(line_chart([Series("a", [1, 2], [3e6, 9.7e6])], title="T", y_label="t"))
    assert y_ticks(near)[0] == 0
    # 9.2..9.7: zero would flatten the line -> not forced
    far = parse(line_chart([Series("a", [1, 2], [9.2e6, 9.7e6])], title="T", y_label="t"))
    assert y_ticks(far)[0] > 9e6
    forced = parse(line_chart([Series("a", [1, 2], [9.2e6, 9.7e6])], title="T", y_label="t", y_zero=True))
    assert y_ticks(forced)[0] == 0


def test_point_pixels_match_the_scale_by_hand():
    # y 0..100 -> ticks 0, 20, ..., 100 (domain 0..100); x 2020..2030 (domain = data range).
    # So (2020, 0) is the plot's bottom-left corner, (2030, 100) its top-right, and the marker
    # at (2025, 50) its centre: px = left + (x - 2020) / 10 * w, py = top + h - y / 100 * h.
    svg = line_chart([Series("s", [2020, 2030], [0, 100], points=True)], title="T", y_label="t",
                     markers=[Marker(2025, 50, "mid")])
    root = parse(svg)
    assert y_ticks(root) == [0, 20, 40, 60, 80, 100]
    left, top, w, h = rect_of(by_class(root, "plot-area", "rect")[0])
    pts = [(float(c.get("cx")), float(c.get("cy"))) for c in by_class(root, "point", "circle")]
    assert pts[0] == pytest.approx((left, top + h), abs=0.11)
    assert pts[1] == pytest.approx((left + w, top), abs=0.11)
    # inverse mapping: pixels back to data
    for (px, py), (x, y) in zip(pts, [(2020, 0), (2030, 100)]):
        assert 2020 + (px - left) / w * 10 == pytest.approx(x, abs=0.01)
        assert (top + h - py) / h * 100 == pytest.approx(y, abs=0.1)
    marker = root.find(f".//{NS}g[@class='marker']/{NS}circle")
    assert float(marker.get("cx")) == pytest.approx(left + w / 2, abs=0.11)
    assert float(marker.get("cy")) == pytest.approx(top + h / 2, abs=0.11)
    # the path goes through the same two pixels
    line = by_class(root, "line", "path")[0]
    assert [v for p in path_points(line.get("d")) for v in p] == pytest.approx([v for p in pts for v in p], abs=0.01)
    # each y tick label sits at its value's pixel (+4 px baseline offset)
    for t in by_class(root, "y-tick", "text"):
        assert float(t.get("y")) - 4 == pytest.approx(top + h - float(t.get("data-value")) / 100 * h, abs=0.11)


def test_nan_breaks_the_line_into_segments():
    def subpaths(ys):
        root = parse(line_chart([Series("s", list(range(2020, 2020 + len(ys))), ys)], title="T", y_label="t"))
        return by_class(root, "line", "path")[0].get("d").count("M")

    assert subpaths([1, 2, NAN, 3, 4]) == 2
    assert subpaths([NAN, 1, 2, NAN]) == 1
    assert subpaths([1, NAN, 2, NAN, 3]) == 3  # single points still drawn (a round cap)
    assert subpaths([1, None, 2]) == 2
    # a value alone between gaps also gets a dot, so it is visible without points=True
    root = parse(line_chart([Series("s", [2020, 2021, 2022, 2023, 2024], [1, NAN, 2, 3, NAN])], title="T", y_label="t"))
    assert len(by_class(root, "point", "circle")) == 1


def test_band_is_one_closed_polygon_under_the_lines():
    svg = line_chart([Series("central", [2030, 2040, 2050], [2, 3, 4], dash=True)], title="T", y_label="t",
                     bands=[Band("90 %", [2030, 2040, 2050], [1, 2, 3], [4, 5, 6], opacity=0.25)])
    root = parse(svg)
    band = by_class(root, "band", "path")
    assert len(band) == 1
    d = band[0].get("d")
    assert d.startswith("M") and d.endswith("Z") and d.count("M") == 1
    pts = path_points(d)
    assert len(pts) == 6  # highs forward, lows back
    left, top, w, h = rect_of(by_class(root, "plot-area", "rect")[0])
    ticks = y_ticks(root)
    y0, y1 = ticks[0], ticks[-1]
    to_px = lambda x, y: (left + (x - 2030) / 20 * w, top + h - (y - y0) / (y1 - y0) * h)  # noqa: E731
    assert pts[0] == pytest.approx(to_px(2030, 4), abs=0.11)   # first high
    assert pts[2] == pytest.approx(to_px(2050, 6), abs=0.11)   # last high
    assert pts[3] == pytest.approx(to_px(2050, 3), abs=0.11)   # last low, going back
    assert pts[5] == pytest.approx(to_px(2030, 1), abs=0.11)   # first low
    assert band[0].get("fill-opacity") == "0.25"
    # drawn before the line so the line stays on top
    order = [e.get("class") for e in root.iter() if e.get("class") in ("band", "line")]
    assert order == ["band", "line"]
    # the projection is dashed and the legend shows it dashed too
    assert by_class(root, "line", "path")[0].get("stroke-dasharray")
    legend_lines = root.findall(f".//{NS}g[@class='legend-item']/{NS}line")
    assert legend_lines[0].get("stroke-dasharray")


def test_negative_net_emissions_reference_lines_and_desc():
    svg = line_chart(
        [Series("Net", [2030, 2045, 2060], [8e5, 3e5, -1.2e5])], title="Net", y_label="tCO2e/yr",
        hlines=[HLine(0, "Net zero")], vlines=[VLine(2030, "2030 peak"), VLine(2060, "2060 neutrality")],
        markers=[Marker(2030, 8e5, "Peak")],
    )
    root = parse(svg)
    ticks = y_ticks(root)
    assert ticks[0] < 0 < ticks[-1]
    zero = by_class(root, "zero", "line")
    assert len(zero) == 1
    assert len(by_class(root, "vline", "g")) == 2 and len(by_class(root, "hline", "g")) == 1
    desc = root.find(f"{NS}desc").text
    for s in ("Net: 2030 = 800,000; 2045 = 300,000; 2060 = -120,000.", "Net zero: 0.", "2060 neutrality: 2060.", "Peak: 2030, 800,000."):
        assert s in desc


# ---------------------------------------------------------------------------------------------
# bars


def _bars(root: ET.Element) -> list[list[tuple[float, float, float, float]]]:
    return [[rect_of(r) for r in g.findall(f"{NS}rect")] for g in by_class(root, "stack", "g")]


def test_negative_bars_below_the_zero_line():
    stacks = [Stack("Energy", [5e6, 6e6]), Stack("Industry", [1e6, NAN]), Stack("Removals", [-2e6, -3e6])]
    root = parse(bar_chart(["2020", "2030"], stacks, title="T", y_label="tCO2e", errors=[(4e6, 6e6), None], total_label="Net"))
    zero = by_class(root, "zero", "line")[0]
    zy = float(zero.get("y1"))
    energy, industry, removals = _bars(root)
    assert len(industry) == 1  # NaN draws nothing
    for x, y, w, h in energy + industry:
        assert y + h <= zy + 0.11
    for x, y, w, h in removals:
        assert y >= zy - 0.11 and h > 0
    # industry stacks on top of energy in 2020 (its bottom is energy's top)
    assert industry[0][1] + industry[0][3] == pytest.approx(energy[0][1], abs=0.11)
    # bar heights are proportional to values: removals 2030 is 1.5 x removals 2020
    assert removals[1][3] / removals[0][3] == pytest.approx(1.5, rel=0.01)
    assert y_ticks(root)[0] < 0
    assert len(by_class(root, "whisker", "path")) == 1
    assert len(root.findall(f".//{NS}g[@class='total']/{NS}line")) == 2
    desc = root.find(f"{NS}desc").text
    assert "2020: Energy 5,000,000; Industry 1,000,000; Removals -2,000,000; Σ 4,000,000 [4,000,000 – 6,000,000]." in desc
    # one tooltip per bar
    assert root.find(f".//{NS}rect[@class='bar']/{NS}title").text == "Energy · 2020: 5,000,000"


def test_horizontal_bars_negative_left_of_zero():
    stacks = [Stack("Forest", [3.0, 1.0]), Stack("Wetland loss", [-1.0, -2.0])]
    root = parse(bar_chart(["Pukou", "Luhe"], stacks, title="T", y_label="tCO2e", horizontal=True, fmt=lambda v: f"{v:.1f}"))
    zx = float(by_class(root, "zero", "line")[0].get("x1"))
    forest, loss = _bars(root)
    assert all(x >= zx - 0.11 for x, y, w, h in forest)
    assert all(x + w <= zx + 0.11 for x, y, w, h in loss)
    # categories top to bottom
    assert forest[0][1] < forest[1][1]
    assert [t.text for t in by_class(root, "y-tick", "text")] == ["Pukou", "Luhe"]


def test_bar_chart_checks_lengths():
    with pytest.raises(ValueError, match="3 values for 2 categories"):
        bar_chart(["a", "b"], [Stack("s", [1, 2, 3])], title="T", y_label="t")


# ---------------------------------------------------------------------------------------------
# zone map


def _zones(root: ET.Element) -> list[ET.Element]:
    return by_class(root, "zone", "path")


def _legend_texts(root: ET.Element) -> list[str]:
    return [g.find(f"{NS}text").text for g in by_class(root, "legend-item", "g")]


def test_zone_map_two_squares_two_bins_and_missing():
    gdf = squares(2, 1000)
    root = parse(zone_map(gdf, pd.Series([1.0, 2.0], index=gdf.index), title="T", legend_title="tCO2e/yr",
                          labels=gdf["name"], fmt=lambda v: f"{v:.1f}"))
    fills = [z.get("fill") for z in _zones(root)]
    assert fills == [VIRIDIS_5[0], VIRIDIS_5[-1]]  # 1 and 2: two bins, ends of the palette
    assert _legend_texts(root) == ["1.0 – 1.5", "1.5 – 2.0"]
    assert [t.text for t in root.find(f".//{NS}g[@class='zone-labels']")] == ["Z0", "Z1"]
    # the two squares side by side fill a map twice as wide as tall (UTM 50N kept as drawn)
    area = by_class(root, "map-area", "rect")[0]
    assert float(area.get("width")) == pytest.approx(2 * float(area.get("height")), abs=0.2)

    # a third zone without a value: grey, with its own legend entry
    gdf3 = squares(3, 1000)
    root = parse(zone_map(gdf3, pd.Series([1.0, 2.0], index=gdf3.index[:2]), title="T", legend_title="v",
                          missing_label="no data"))
    fills = [z.get("fill") for z in _zones(root)]
    assert fills[2] == MISSING_COLOUR == "#d9d9d9"
    assert len(set(fills)) == 3
    assert _legend_texts(root)[-1] == "no data"
    legend_swatches = [g.find(f"{NS}rect").get("fill") for g in by_class(root, "legend-item", "g")]
    assert legend_swatches == [VIRIDIS_5[0], VIRIDIS_5[-1], MISSING_COLOUR]
    # no labels given: zones are named by their index in the tooltips and the <desc>
    assert "0 = 1; 1 = 2; 2 = no data." in root.find(f"{NS}desc").text
    assert [z.find(f"{NS}title").text for z in _zones(root)] == ["0: 1", "1: 2", "2: no data"]


def test_zone_map_holes_multipolygons_and_explicit_bins():
    ring = box(0, 0, 3000, 3000).difference(box(1000, 1000, 2000, 2000))  # a square with a hole
    two_parts = box(4000, 0, 5000, 1000).union(box(4000, 2000, 5000, 3000))
    gdf = gpd.GeoDataFrame(geometry=[ring, two_parts], crs="EPSG:32650").translate(500_000, 3_550_000)
    gdf = gpd.GeoDataFrame(geometry=gdf, crs="EPSG:32650")
    root = parse(zone_map(gdf, pd.Series([-1.0, 2.5]), bins=[0, 1, 2, 3], palette=["#111111", "#555555", "#999999"],
                          title="T", legend_title="v"))
    zones = _zones(root)
    assert root.find(f".//{NS}g[@class='zones']").get("fill-rule") == "evenodd"
    assert zones[0].get("d").count("M") == 2 and zones[1].get("d").count("M") == 2
    assert [z.get("fill") for z in zones] == ["#111111", "#999999"]
    # -1 is below the first edge: the first class says so
    assert _legend_texts(root) == ["≤ 1", "1 – 2", "2 – 3"]
    # one distinct value: one class, labelled with that value
    root = parse(zone_map(gdf, pd.Series([7.0, 7.0]), title="T", legend_title="v"))
    assert _legend_texts(root) == ["7"]
    assert len({z.get("fill") for z in _zones(root)}) == 1


def test_zone_map_projects_geographic_input():
    # 0.01 x 0.01 degrees at 32.1 N is ~944 m wide and ~1109 m tall: ratio cos(32.1 deg) = 0.847
    lon, lat = 118.7, 32.1
    gdf = gpd.GeoDataFrame(geometry=[box(lon, lat, lon + 0.01, lat + 0.01)], crs="EPSG:4326")
    root = parse(zone_map(gdf, None, title="T"))
    area = by_class(root, "map-area", "rect")[0]
    assert float(area.get("width")) / float(area.get("height")) == pytest.approx(math.cos(math.radians(lat + 0.005)), rel=0.01)
    # away from the central meridian of zone 50 (117 E) grid north is not true north
    arrow = by_class(root, "north-arrow", "g")[0]
    angle = float(re.search(r"rotate\((-?[\d.]+)\)", arrow.get("transform")).group(1))
    assert 0.5 < abs(angle) < 1.5  # convergence ~ (118.7 - 117) * sin(32.1) = 0.9 deg
    with pytest.raises(MissingCRSError):
        zone_map(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), None, title="T")


def test_zone_map_simplified_and_rounded():
    # a circle of 16 384 vertices: simplified to ~0.5 px, every coordinate with at most 1 decimal
    circle = Point(500_000, 3_550_000).buffer(5000, quad_segs=4096)
    gdf = gpd.GeoDataFrame(geometry=[circle], crs="EPSG:32650")
    svg = zone_map(gdf, pd.Series([1.0]), title="T", legend_title="v")
    d = _zones(parse(svg))[0].get("d")
    nums = re.findall(r"-?\d+(?:\.\d+)?", d)
    assert len(nums) // 2 < 400
    assert not re.search(r"\d\.\d\d", d)
    assert len(svg) < 12_000


def test_scale_bar_for_a_ten_km_map():
    # two 5 km squares -> 10 km wide; a quarter is 2.5 km -> the round length is 2 km
    gdf = squares(2, 5000)
    root = parse(zone_map(gdf, pd.Series([1.0, 2.0]), title="T", legend_title="v"))
    area = by_class(root, "map-area", "rect")[0]
    px_per_m = float(area.get("width")) / 10_000
    bar = by_class(root, "scale-bar-bar", "rect")[0]
    assert float(bar.get("width")) / px_per_m == pytest.approx(2000, rel=0.002)
    assert by_class(root, "scale-label", "text")[0].text == "2 km"
    # translated units; a 1 km map gets a metre bar
    root = parse(zone_map(squares(1, 1000), None, title="T", scale_units=("米", "公里"), north_label="北"))
    assert by_class(root, "scale-label", "text")[0].text == "200 米"
    root = parse(zone_map(gdf, None, title="T", scale_units=("米", "公里"), north_label="北"))
    assert by_class(root, "scale-label", "text")[0].text == "2 公里"
    assert by_class(root, "north-arrow", "g")[0].find(f"{NS}text").text == "北"


# ---------------------------------------------------------------------------------------------
# escaping, accessibility, determinism


def _all_three(label: str) -> list[str]:
    gdf = squares(2, 1000)
    return [
        line_chart([Series(label, [2020, 2021], [1, 2])], title=label, y_label=label, x_label=label,
                   bands=[Band(label, [2020, 2021], [0, 1], [2, 3])], markers=[Marker(2020, 1, label)],
                   hlines=[HLine(0, label)], vlines=[VLine(2021, label)]),
        bar_chart([label, "b"], [Stack(label, [1, -1])], title=label, y_label=label, x_label=label, total_label=label),
        zone_map(gdf, pd.Series([1.0, NAN]), title=label, legend_title=label, labels=pd.Series([label, label]),
                 missing_label=label),
    ]


def test_labels_are_escaped_and_round_trip():
    for svg in _all_three(NASTY + "\x01"):  # a control character XML forbids is dropped
        root = parse(svg)
        assert root.find(f"{NS}title").text == NASTY
        texts = [t.text for t in root.iter(f"{NS}text")]
        assert texts.count(NASTY) >= 2, texts
        assert NASTY in root.find(f"{NS}desc").text
        assert "<&>" not in svg  # only the escaped form is in the file


def test_accessible_and_deterministic():
    first, second = _all_three("Net emissions"), _all_three("Net emissions")
    assert first == second
    ids = set()
    for svg in first:
        root = parse(svg)
        assert root.get("role") == "img"
        t_id, d_id = root.get("aria-labelledby").split()
        assert root.find(f"{NS}title").get("id") == t_id and root.find(f"{NS}desc").get("id") == d_id
        assert root.get("font-family") == SVG_FONT
        ids.add(t_id)
    assert len(ids) == 3
    # another content, another id (several figures share one HTML page)
    other = parse(_all_three("Removals")[0]).get("aria-labelledby")
    assert other.split()[0] not in ids
    # default series colours: Okabe-Ito in order
    root = parse(line_chart([Series("a", [1, 2], [1, 2]), Series("b", [1, 2], [2, 3])], title="T", y_label="t"))
    assert [p.get("stroke") for p in by_class(root, "line", "path")] == list(OKABE_ITO[:2])


# ---------------------------------------------------------------------------------------------
# real rendering


def _example_page() -> str:
    years = list(range(2005, 2031))
    hist = [6.1e6 + 3.6e6 * math.sin((y - 2005) / 25 * math.pi * 0.85) for y in years]
    hist[7] = NAN  # a year without an inventory
    proj = list(range(2030, 2061))
    central = [hist[-1] * (1 - (y - 2030) / 28) for y in proj]
    peak = max(v for v in hist if v == v)
    peak_year = years[hist.index(peak)]
    gdf = gpd.GeoDataFrame(
        {"en": ["Pukou", "Luhe", "Jiangpu <core>", "Qiaolin"], "zh": ["浦口", "六合", "江浦<核心>", "桥林"]},
        geometry=[
            box(118.55, 32.05, 118.70, 32.18).difference(box(118.60, 32.09, 118.63, 32.12)),
            box(118.70, 32.10, 118.90, 32.35),
            box(118.62, 32.18, 118.70, 32.28),
            box(118.50, 31.95, 118.65, 32.05).union(box(118.67, 31.97, 118.72, 32.02)),
        ],
        crs="EPSG:4326",
    )
    removals = pd.Series([152_000.0, 418_000.0, 61_000.0, NAN], index=gdf.index)

    def figures(lang: str) -> list[str]:
        zh = lang == "zh"
        fmt_t = (lambda v: f"{v / 1e4:,.0f}万") if zh else (lambda v: f"{v / 1e6:,.1f}M")
        line = line_chart(
            [Series("历史排放" if zh else "Inventory", years, hist, points=True),
             Series("预测（中值）" if zh else "Projection (central)", proj, central, dash=True)],
            bands=[Band("90%区间" if zh else "90 % interval", proj, [c * 0.8 - 6e5 for c in central], [c * 1.15 + 4e5 for c in central])],
            markers=[Marker(peak_year, peak, "峰值" if zh else "Peak")],
            hlines=[HLine(0, "净零" if zh else "Net zero")],
            vlines=[VLine(2030, "2030年达峰目标" if zh else "2030 peak target"), VLine(2060, "2060年碳中和" if zh else "2060 neutrality")],
            title="江北新区净排放轨迹" if zh else "Jiangbei net emissions",
            y_label="tCO₂e/年" if zh else "tCO₂e/yr", x_label="年份" if zh else "Year", fmt=fmt_t,
        )
        bars = bar_chart(
            ["2015", "2020", "2025", "2030"],
            [Stack("能源" if zh else "Energy", [5.1e6, 5.8e6, 5.6e6, 5.0e6]),
             Stack("工业过程" if zh else "Industry & <process>", [1.2e6, 1.4e6, 1.1e6, 0.9e6]),
             Stack("交通" if zh else "Transport", [0.8e6, 1.0e6, 1.1e6, 1.0e6]),
             Stack("森林碳汇" if zh else "Forest removals", [-0.5e6, -0.6e6, -0.7e6, -0.8e6]),
             Stack("湿地碳汇" if zh else "Wetland removals", [-0.1e6, -0.15e6, -0.2e6, -0.25e6])],
            errors=[(6.0e6, 7.0e6), (7.0e6, 8.0e6), (6.4e6, 7.4e6), (5.3e6, 6.5e6)],
            total_label="净排放" if zh else "Net", title="分部门排放与碳汇" if zh else "Emissions and removals by sector",
            y_label="tCO₂e/年" if zh else "tCO₂e/yr", fmt=fmt_t,
        )
        zmap = zone_map(
            gdf, removals, labels=gdf[lang], title="各片区年碳汇量" if zh else "Annual removals by zone",
            legend_title="碳汇（tCO₂e/年）" if zh else "Removals (tCO₂e/yr)", missing_label="无数据" if zh else "no data",
            scale_units=("米", "公里") if zh else ("m", "km"), north_label="北" if zh else "N",
        )
        return [line, bars, zmap]

    cells = "".join(f"<div>{e}</div><div>{z}</div>" for e, z in zip(figures("en"), figures("zh")))
    return ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>svg</title>'
            '<style>body{margin:8px;background:#fff}.g{display:grid;grid-template-columns:720px 720px;gap:12px}</style>'
            f'</head><body><div class="g">{cells}</div></body></html>')


def test_renders_in_chromium(tmp_path):
    if not CHROMIUM.exists():
        print(f"SKIP reason: {CHROMIUM} not found (apt-get install -y chromium fonts-noto-cjk)")
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium fonts-noto-cjk)")
    page = _example_page()
    for svg in re.findall(r"<svg .*?</svg>", page, flags=re.S):
        ET.fromstring(svg)
    html = tmp_path / "x.html"
    html.write_text(page, encoding="utf-8")
    png = tmp_path / "x.png"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}", "--force-device-scale-factor=1",
           f"--screenshot={png}", "--window-size=1480,1210", html.as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.exists(), f"no screenshot (exit {run.returncode}): {run.stderr[-2000:]}"
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is in the pinned environment
        assert png.stat().st_size > 20_000
    else:
        with Image.open(png) as im:
            rgb = im.convert("RGB")
            assert rgb.size == (1480, 1210)
            colours = rgb.getcolors(maxcolors=1_000_000) or []
            non_white = sum(n for n, c in colours if min(c) < 235)
            assert non_white > 0.03 * rgb.size[0] * rgb.size[1]
            # the viridis and Okabe-Ito fills made it to the screen
            present = {c for _, c in colours}
            for hex_ in (VIRIDIS_5[0], OKABE_ITO[0], MISSING_COLOUR):
                assert tuple(int(hex_[i:i + 2], 16) for i in (1, 3, 5)) in present, hex_
    EXAMPLE_PNG.parent.mkdir(exist_ok=True)
    shutil.copyfile(png, EXAMPLE_PNG)
