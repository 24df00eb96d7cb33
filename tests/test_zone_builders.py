"""Zone builders: the Yangtze shoreline belt and water-source zones that follow the channel.

Synthetic rivers in UTM 50N (EPSG:32650) with hand-worked areas, then the demo Yangtze layer
(3 islands; Baguazhou is the largest). Default rules: level 1 500 m up / 500 m down, level 2 a
further 1500 / 500, quasi a further 2000 / 1000; every level 500 m of water from the intake bank
and 200 m of land (proxy for "levee toe + 100 m").

Tolerances: on straight banks the construction is exact up to float noise (checked to 0.01 %,
well inside the 0.5 % asked for). On the bend the centreline is the Voronoi approximation of the
medial axis: with boundary samples every 10 m its vertices lie within 0.01 m of the radius
3600 m and its stations within a metre, so areas hold to 0.1 % (0.05 ha of 55 ha).
"""
from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geodata.crs import wgs84_to_gcj02
from geodata.errors import DataError, EmptyResultError, MissingCRSError, SchemaError
from wetlands.zone_builders import (
    WATER_SOURCE_RULES_CSV,
    WaterSourceRules,
    river_centreline,
    shoreline_belt,
    water_source_zones,
)

ROOT = Path(__file__).resolve().parents[1]
UTM = "EPSG:32650"
RULES = WaterSourceRules()

# A straight river 20 km long and 1.2 km wide, flowing east (azimuth 90): south bank y = Y0,
# north bank y = Y1. Upstream is west.
X_W, X_E, Y0, Y1 = 600_000.0, 620_000.0, 3_500_000.0, 3_501_200.0
X0 = 610_000.0  # the middle
STRAIGHT = shapely.box(X_W, Y0, X_E, Y1)


def _water(*geoms, crs=UTM) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=crs)


def _intakes(points: dict[str, tuple[float, float]], crs=UTM) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"intake_id": list(points)}, geometry=[shapely.Point(xy) for xy in points.values()], crs=crs)


def _row(zones: gpd.GeoDataFrame, zone_id: str):
    return zones.set_index("zone_id").loc[zone_id]


@pytest.fixture(scope="module")
def straight_one():
    return water_source_zones(_intakes({"A": (X0, Y1)}), _water(STRAIGHT), rules=RULES, flow_azimuth_deg=90)


# ---------------------------------------------------------------- rules table


def test_rules_csv_matches_defaults_and_keeps_citations():
    rules = WaterSourceRules.from_csv(WATER_SOURCE_RULES_CSV)
    assert rules.levels == RULES.levels
    assert (rules.level_1.upstream_m, rules.level_2.upstream_m, rules.quasi.downstream_m) == (500, 1500, 1000)
    assert any("苏政复〔2009〕2号" in c for c in rules.citations)
    assert len(rules.describe()) == 12
    # the only sources are secondary copies of the Jiangsu text: nothing in the table is verified
    assert len(rules.unverified()) == 12 and not any(s.is_verified for s in rules.sources)
    by_key = {(s.level, s.parameter): s for s in rules.sources}
    assert by_key[("level_1", "upstream_m")].verification.startswith("secondary:")
    assert by_key[("level_1", "upstream_m")].verified == "no"  # the status the dashboard shows
    assert by_key[("level_1", "land_width_m")].verified == "proxy"
    assert "NOT VERIFIED: secondary: figures from a secondary copy" in rules.describe()[0]
    # the level-2 and quasi widths are this dashboard's assumption, not HJ 338-2018's
    for level in ("level_2", "quasi"):
        for param in ("water_width_m", "land_width_m"):
            src = by_key[(level, param)]
            assert "HJ 338" not in src.citation and src.citation.startswith("assumption of this dashboard")
    # the built-in defaults say the same
    assert len(RULES.unverified()) == 12


def test_rules_csv_only_yes_counts_as_verified(tmp_path):
    path = _edited_csv(tmp_path, '"secondary: figures', '"yes: checked against the gazette; figures')
    rules = WaterSourceRules.from_csv(path)
    first = rules.sources[0]
    assert first.is_verified and first.verified == "yes" and first.verification.startswith("yes: checked")
    assert len(rules.unverified()) == 11
    assert rules.describe()[0].startswith("level_1 upstream_m = 500 m [VERIFIED: yes: checked")
    # a cell that merely mentions yes later is not verified; an unknown word is refused
    rules = WaterSourceRules.from_csv(_edited_csv(tmp_path, '"secondary: figures', '"secondary: yes, figures'))
    assert not rules.sources[0].is_verified
    with pytest.raises(DataError, match="only 'yes' counts as verified"):
        WaterSourceRules.from_csv(_edited_csv(tmp_path, '"secondary: figures', '"checked: figures'))


def _edited_csv(tmp_path: Path, old: str, new: str, *, drop_last: bool = False) -> Path:
    lines = WATER_SOURCE_RULES_CSV.read_text(encoding="utf-8").splitlines()
    if drop_last:
        lines = lines[:-1]
    text = "\n".join(lines) + "\n"
    assert old in text
    path = tmp_path / "rules.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old, new, words", [
    ("level_2,upstream_m,1500,", "level_2,upstream_m,-1500,", ["row 5", "negative", "-1500"]),
    ("level_2,upstream_m,1500,", "level_2,upstream_m,abc,", ["row 5", "'abc'", "not a number"]),
    ("quasi,downstream_m,", "quasy,downstream_m,", ["row 10", "'quasy'", "level_1"]),
    ("level_1,upstream_m,500,m", "level_1,upstream_m,500,km", ["row 1", "unit"]),
])
def test_rules_csv_bad_rows_name_the_row_and_fix(tmp_path, old, new, words):
    with pytest.raises(DataError) as err:
        WaterSourceRules.from_csv(_edited_csv(tmp_path, old, new))
    msg = str(err.value)
    assert str(tmp_path / "rules.csv") in msg and "Fix:" in msg
    for w in words:
        assert w in msg


def test_rules_csv_missing_row(tmp_path):
    with pytest.raises(DataError, match=r"missing for \['quasi land_width_m'\]"):
        WaterSourceRules.from_csv(_edited_csv(tmp_path, "level_1", "level_1", drop_last=True))


# ---------------------------------------------------------------- Yangtze shoreline belt


def test_belt_of_straight_river_clipped_to_a_box():
    # Clipped to x in [605, 615] km the buffer's round ends are cut away, so each bank's belt is
    # a 10 000 m x 1000 m rectangle: 2 x 10 000 x 1000 m2 = 20 000 000 m2 = 2000 ha exactly.
    box = _water(shapely.box(605_000, Y0 - 5000, 615_000, Y1 + 5000))
    belt = shoreline_belt(_water(STRAIGHT), distance_m=1000, clip_to=box)
    assert list(belt.zone_id) == ["YB-1", "YB-2"]
    assert set(belt.zone_type) == {"yangtze_belt"}
    assert belt.area.sum() / 1e4 == pytest.approx(2000.0, rel=1e-9)
    assert belt.area.tolist() == pytest.approx([10_000_000.0, 10_000_000.0])
    assert "Art. 26" in belt.source.iloc[0]
    assert belt.crs.to_epsg() == 32650
    # a bare shapely study area is taken to be in the analysis CRS
    bare = shoreline_belt(_water(STRAIGHT), clip_to=box.iloc[0])
    assert bare.area.sum() / 1e4 == pytest.approx(2000.0, rel=1e-9)


def test_belt_reprojects_lonlat_input():
    lonlat = _water(STRAIGHT).to_crs(4326)
    box = _water(shapely.box(605_000, Y0 - 5000, 615_000, Y1 + 5000)).to_crs(4326)
    belt = shoreline_belt(lonlat, clip_to=box)
    # the round trip through degrees bends the straight edges a little: 0.1 %
    assert belt.area.sum() / 1e4 == pytest.approx(2000.0, rel=1e-3)


@pytest.mark.parametrize("d", [0, -5, 60_000, float("nan")])
def test_belt_bad_distance(d):
    with pytest.raises(DataError, match="distance_m"):
        shoreline_belt(_water(STRAIGHT), distance_m=d)


def test_belt_errors_without_crs_and_when_empty():
    with pytest.raises(MissingCRSError):
        shoreline_belt(gpd.GeoSeries([STRAIGHT]))
    far = _water(shapely.box(700_000, 3_600_000, 701_000, 3_601_000))
    with pytest.raises(EmptyResultError, match="no land inside the study area"):
        shoreline_belt(_water(STRAIGHT), clip_to=far)


# ---------------------------------------------------------------- straight river


def test_straight_river_areas_and_extents(straight_one):
    z = straight_one
    assert list(z.zone_id) == ["A-L1-water", "A-L1-land", "A-L2-water", "A-L2-land", "A-Q-water", "A-Q-land"]
    # level 1 water: 1000 m along (500 up + 500 down) x 500 m from the north bank = 50 ha
    # level 1 land: 1000 m x 200 m = 20 ha
    # level 2 water: (1500 + 500) m x 500 m = 100 ha; land (1500 + 500) x 200 = 40 ha
    # quasi water: (2000 + 1000) m x 500 m = 150 ha; land 3000 x 200 = 60 ha
    expected = {"A-L1-water": 50.0, "A-L1-land": 20.0, "A-L2-water": 100.0, "A-L2-land": 40.0,
                "A-Q-water": 150.0, "A-Q-land": 60.0}
    for zone_id, ha in expected.items():
        assert _row(z, zone_id).area_ha == pytest.approx(ha, rel=1e-4), zone_id
    # level 1 water spans x0 - 500 .. x0 + 500 (upstream is west), y from the bank 500 m south
    minx, miny, maxx, maxy = _row(z, "A-L1-water").geometry.bounds
    assert (minx, maxx) == pytest.approx((X0 - 500, X0 + 500), abs=0.1)
    assert (miny, maxy) == pytest.approx((Y1 - 500, Y1), abs=0.1)
    # level 2 reaches 2000 m upstream (west) but only 1000 m downstream
    minx, _, maxx, _ = _row(z, "A-L2-water").geometry.bounds
    assert (minx, maxx) == pytest.approx((X0 - 2000, X0 + 1000), abs=0.1)
    # land lies north of the bank, 200 m deep
    _, miny, _, maxy = _row(z, "A-L1-land").geometry.bounds
    assert (miny, maxy) == pytest.approx((Y1, Y1 + 200), abs=0.1)
    assert set(z.zone_type) == {"ws_level1", "ws_level2", "ws_quasi"}
    assert "proxy" in _row(z, "A-L1-land").note


def test_centreline_of_straight_river_runs_with_the_flow():
    # The Voronoi skeleton runs into the rectangle's corners; those runs are replaced by the axis
    # carried on to the ends, so the centreline is the segment y = (Y0 + Y1) / 2, 20 000 m long.
    line = river_centreline(STRAIGHT, flow_azimuth_deg=90)
    start, end = shapely.get_coordinates(line)[[0, -1]]
    mid_y = (Y0 + Y1) / 2
    assert start == pytest.approx([X_W, mid_y], abs=0.01) and end == pytest.approx([X_E, mid_y], abs=0.01)
    assert line.length == pytest.approx(20_000.0, abs=0.01)
    # flowing west instead reverses it
    west = river_centreline(STRAIGHT, flow_azimuth_deg=270)
    assert shapely.get_coordinates(west)[0] == pytest.approx([X_E, mid_y], abs=0.01)


# ---------------------------------------------------------------- a bend


def test_bend_zone_follows_the_arc_not_a_circle():
    # Half an annulus centred at C, inner radius 3000 m, outer 4200 m; the river flows from its
    # east end counter-clockwise over the top to its west end (azimuth 270). Centreline radius
    # Rc = 3600 m. Intake on the outer bank at the top (angle 90 degrees).
    # Level 1 spans 1000 m of centreline: theta = 1000 / 3600 = 0.27778 rad. Water part = the
    # ring sector between Ro - 500 = 3700 and Ro = 4200:
    #   theta / 2 * (4200^2 - 3700^2) = 0.138889 * 3 950 000 = 548 611 m2 = 54.861 ha.
    # Land part: theta / 2 * (4400^2 - 4200^2) = 0.138889 * 1 720 000 = 238 889 m2 = 23.889 ha.
    cx, cy, ri, ro = 600_000.0, 3_500_000.0, 3000.0, 4200.0
    ang = np.linspace(0.0, math.pi, 721)
    ring = np.r_[np.c_[cx + ro * np.cos(ang), cy + ro * np.sin(ang)],
                 np.c_[cx + ri * np.cos(ang[::-1]), cy + ri * np.sin(ang[::-1])]]
    bend = shapely.Polygon(ring)
    z = water_source_zones(_intakes({"B": (cx, cy + ro)}), _water(bend), rules=RULES, flow_azimuth_deg=270)
    water = _row(z, "B-L1-water")
    assert water.area_ha == pytest.approx(54.861, abs=0.05)
    assert _row(z, "B-L1-land").area_ha == pytest.approx(23.889, abs=0.05)
    xy = shapely.get_coordinates(water.geometry)
    radius = np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)
    angle = np.arctan2(xy[:, 1] - cy, xy[:, 0] - cx) - math.pi / 2
    # inside the channel, 500 m from the outer bank, never reaching across (a circle would)
    assert radius.min() == pytest.approx(3700.0, abs=1.0) and radius.max() == pytest.approx(4200.0, abs=0.1)
    # its ends are radial cuts at +/- 500 m of centreline arc: +/- 500 / 3600 = 0.13889 rad
    assert angle.min() == pytest.approx(-500 / 3600, abs=0.001)
    assert angle.max() == pytest.approx(500 / 3600, abs=0.001)
    # the quasi zone (4000 m up, 2000 m down) bends with the river: all of it stays in the ring
    quasi = _row(z, "B-Q-water").geometry
    assert quasi.difference(bend).area < 1.0
    assert np.ptp(np.arctan2(*(shapely.get_coordinates(quasi) - [cx, cy])[:, ::-1].T)) > 1.5  # > 86 degrees of arc


# ---------------------------------------------------------------- a confluence


def test_confluence_zone_runs_up_the_main_stem_not_the_tributary():
    # A 200 m wide tributary joins from the north; its axis is 300 m upstream (west) of the intake.
    trib = shapely.box(X0 - 400, Y1 - 1, X0 - 200, Y1 + 3000)
    water = shapely.union_all([STRAIGHT, trib])
    z = water_source_zones(_intakes({"C": (X0, Y1)}), _water(water), rules=RULES, flow_azimuth_deg=90)
    level1 = _row(z, "C-L1-water")
    minx, _, maxx, maxy = level1.geometry.bounds
    assert minx == pytest.approx(X0 - 500, abs=1.0)  # 500 m up the main stem
    assert maxx == pytest.approx(X0 + 500, abs=1.0)
    # at most the tributary's mouth (a 50 m allowance), not 500 m up the tributary
    assert maxy < Y1 + 50
    # 50 ha on the main stem + at most 200 m x 50 m = 1 ha of the mouth
    assert 50.0 <= level1.area_ha <= 51.0
    # the mouth is noted (the tributary's 2 x 3000 m of shore is not bank)
    assert "C-L1-water: at station -" in level1.note and "mouth of a side channel or tributary (a confluence" in level1.note
    line = river_centreline(water, flow_azimuth_deg=90, through=shapely.Point(X0, Y1))
    assert line.distance(shapely.Point(X0 - 300, Y1 + 2500)) > 1500


# ---------------------------------------------------------------- several intakes


def test_overlapping_intakes_stricter_level_wins_and_area_is_conserved():
    # A at x0, B at x0 + 1200 on the north bank (positions below relative to x0, metres).
    #   A: L1 [-500, 500]; L2 [-2000, -500] + [500, 1000]; Q [-4000, -2000] + [1000, 2000]
    #   B: L1 [700, 1700]; L2 [-800, 700] + [1700, 2200]; Q [-2800, -800] + [2200, 3200]
    # Stricter wins:
    #   A L2 loses [700, 1000] to B's L1 (300 m x 500 m = 15 ha): 100 - 15 = 85 ha
    #   B L2 loses [-500, 500] to A's L1 (1000 m x 500 m = 50 ha): 100 - 50 = 50 ha
    #   A Q loses [1000, 1700] (B L1) and [1700, 2000] (B L2): 150 - 50 = 100 ha
    #   B Q loses [-2000, -800] to A's L2 (1200 m = 60 ha): 150 - 60 = 90 ha
    # The union of all water rows is [-4000, 3200]: 7200 m x 500 m = 360 ha; land 7200 x 200 = 144 ha.
    z = water_source_zones(_intakes({"A": (X0, Y1), "B": (X0 + 1200, Y1)}), _water(STRAIGHT),
                           rules=RULES, flow_azimuth_deg=90)
    assert len(z) == 12
    expected = {"A-L1-water": 50, "B-L1-water": 50, "A-L2-water": 85, "B-L2-water": 50,
                "A-Q-water": 100, "B-Q-water": 90}
    for zone_id, ha in expected.items():
        assert _row(z, zone_id).area_ha == pytest.approx(ha, rel=1e-4), zone_id
    assert "15.00 ha of A's level 2 water lies in B's level 1 water: counted as level 1" in _row(z, "A-L2-water").note
    assert "50.00 ha of B's level 2 water lies in A's level 1 water: counted as level 1" in _row(z, "B-L2-water").note
    # A L2 [-2000,-500] + [500,700] and B L2 [-800,-500] + [500,700] share 500 m = 25 ha: kept, noted
    assert "25.00 ha overlaps B's level 2 water (same level" in _row(z, "A-L2-water").note
    # no place is in two different levels
    geoms = list(zip(z.level, z.geometry))
    for i, (li, gi) in enumerate(geoms):
        for lj, gj in geoms[i + 1:]:
            if li != lj:
                assert gi.intersection(gj).area < 1.0
    wet, land = (shapely.union_all(z[z.part == p].geometry.values) for p in ("water", "land"))
    assert wet.area / 1e4 == pytest.approx(360.0, rel=1e-4)
    assert land.area / 1e4 == pytest.approx(144.0, rel=1e-4)


# ---------------------------------------------------------------- bad and awkward intakes


def test_intake_far_inland_is_an_error_with_the_distance():
    with pytest.raises(DataError) as err:
        water_source_zones(_intakes({"QL": (X0, Y1 + 2000)}), _water(STRAIGHT), rules=RULES, flow_azimuth_deg=90)
    msg = str(err.value)
    assert "'QL'" in msg and "2,000 m from the water" in msg and "onto the bank" in msg


def test_intake_just_inland_is_snapped_with_a_note():
    z = water_source_zones(_intakes({"A": (X0, Y1 + 100)}), _water(STRAIGHT), rules=RULES, flow_azimuth_deg=90)
    row = _row(z, "A-L1-water")
    assert "100 m inland: snapped" in row.note
    assert row.area_ha == pytest.approx(50.0, rel=1e-4)


def test_gcj02_shifted_intake_points_to_coordinate_systems():
    # An intake on the south bank, given in GCJ-02 but read as WGS84: here the shift is 520 m east
    # and 200 m south, so the point lies 200 m inland (more than max_offset_m = 150).
    true = gpd.GeoSeries([shapely.Point(X0, Y0)], crs=UTM).to_crs(4326).iloc[0]
    lon, lat = wgs84_to_gcj02(true.x, true.y)
    shifted = _intakes({"QL": (float(lon), float(lat))}, crs=4326)
    with pytest.raises(DataError, match="GCJ-02") as err:
        water_source_zones(shifted, _water(STRAIGHT), rules=RULES, flow_azimuth_deg=90)
    assert "200 m from the water" in str(err.value)


def test_intake_errors():
    water = _water(STRAIGHT)
    with pytest.raises(MissingCRSError):
        water_source_zones(_intakes({"A": (X0, Y1)}, crs=None), water, rules=RULES, flow_azimuth_deg=90)
    with pytest.raises(MissingCRSError):
        water_source_zones(_intakes({"A": (X0, Y1)}), gpd.GeoSeries([STRAIGHT]), rules=RULES, flow_azimuth_deg=90)
    dup = gpd.GeoDataFrame({"intake_id": ["A", "A"]}, geometry=[shapely.Point(X0, Y1)] * 2, crs=UTM)
    with pytest.raises(SchemaError, match=r"\['A'\] are used more than once"):
        water_source_zones(dup, water, rules=RULES, flow_azimuth_deg=90)
    for bad in (None, float("nan"), 400, "east"):
        with pytest.raises(DataError, match="flow_azimuth_deg"):
            water_source_zones(_intakes({"A": (X0, Y1)}), water, rules=RULES, flow_azimuth_deg=bad)


def test_section_off_the_end_of_the_river_is_kept_and_noted():
    # 1000 m from the west (upstream) end, where the centreline starts (station 0 = x_w).
    # Level 1 fits: [x - 500, x + 500] = 50 ha. Level 2 wants 2000 m upstream, 1000 exist: it keeps
    # [x_w, x - 500] (500 m) + [x + 500, x + 1000] (500 m) = 1000 m x 500 m = 50 ha. Quasi has no
    # water left upstream; downstream [x + 1000, x + 2000] = 50 ha. The river's cut end is no bank.
    x = X_W + 1000
    z = water_source_zones(_intakes({"E": (x, Y1)}), _water(STRAIGHT), rules=RULES, flow_azimuth_deg=90)
    assert _row(z, "E-L1-water").area_ha == pytest.approx(50.0, rel=1e-4)
    level2 = _row(z, "E-L2-water")
    assert "only 1,000 m of the 2,000 m upstream exist" in level2.note and "river's end" in level2.note
    assert level2.area_ha == pytest.approx(50.0, rel=1e-4)
    assert level2.geometry.bounds == pytest.approx((X_W, Y1 - 500, x + 1000, Y1), abs=0.1)
    quasi = _row(z, "E-Q-water")
    assert "only 1,000 m of the 4,000 m upstream exist" in quasi.note
    assert quasi.area_ha == pytest.approx(50.0, rel=1e-4)
    assert quasi.geometry.bounds[0] == pytest.approx(x + 1000, abs=0.1)


# ---------------------------------------------------------------- the demo Yangtze


@pytest.fixture(scope="module")
def yangtze():
    return gpd.read_file(ROOT / "data" / "boundaries" / "jiangbei_boundaries.gpkg", layer="yangtze")


def test_yangtze_belt_includes_the_islands(yangtze):
    belt = shoreline_belt(yangtze)
    river = yangtze.to_crs(UTM).geometry.iloc[0]
    islands = [shapely.Polygon(h) for h in river.interiors]
    assert len(islands) == 3
    for island in islands:
        # every island is land within 1 km of the water: its shore ring (or all of it) is belt
        covered = belt.union_all().intersection(island).area
        assert covered == pytest.approx(min(island.area, island.difference(island.buffer(-1000)).area), rel=1e-3)
    assert (belt.name.str.contains("island")).sum() == 3


def test_yangtze_centreline_follows_the_left_branch_of_baguazhou(yangtze):
    # Baguazhou is the largest hole (about 118.79 E, 32.19 N). A hypothetical intake on the west
    # bank of its left (north) branch, 2 km above the island's upstream tip (UTM 663 500, 3 559 500).
    river = yangtze.to_crs(UTM).geometry.iloc[0]
    bagua = max((shapely.Polygon(h) for h in river.interiors), key=lambda p: p.area)
    intake = shapely.Point(663_500, 3_559_500)
    north = shapely.LineString([(bagua.centroid.x, bagua.bounds[3]), (bagua.centroid.x, bagua.bounds[3] + 5000)])
    south = shapely.LineString([(bagua.centroid.x, bagua.bounds[1] - 5000), (bagua.centroid.x, bagua.centroid.y)])
    default = river_centreline(yangtze, flow_azimuth_deg=56)  # its speed: benchmarks/protection.py
    assert default.intersects(south) and not default.intersects(north)  # the main (right) branch
    left = river_centreline(yangtze, flow_azimuth_deg=56, through=intake)
    assert left.intersects(north) and not left.intersects(south)
    assert left.distance(intake) < 1200  # the branch's axis, about 1 km off the west bank here

    z = water_source_zones(gpd.GeoDataFrame({"intake_id": ["BG"]}, geometry=[intake], crs=UTM).to_crs(4326),
                           yangtze, rules=RULES, flow_azimuth_deg=56)
    level1 = _row(z, "BG-L1-water").geometry
    assert level1.distance(intake) < 1.0 and level1.within(river.buffer(0.01))
    assert level1.distance(bagua) > 300  # on the west bank of the branch, not the island's shore
    assert 35 < _row(z, "BG-L1-water").area_ha < 55  # about 1000 m x 500 m on a curved bank


def test_given_centreline_is_used_and_turned_with_the_flow():
    # the axis drawn east -> west while the river flows east: reversed, noted, same 50 ha
    axis = shapely.LineString([(X_E, (Y0 + Y1) / 2), (X_W, (Y0 + Y1) / 2)])
    z = water_source_zones(_intakes({"A": (X0, Y1)}), _water(STRAIGHT), rules=RULES, flow_azimuth_deg=90,
                           centreline=axis)
    row = _row(z, "A-L1-water")
    assert row.area_ha == pytest.approx(50.0, rel=1e-4) and "reversed" in row.note
    assert _row(z, "A-L2-water").geometry.bounds[0] == pytest.approx(X0 - 2000, abs=0.1)


def test_zones_clipped_to_a_study_area_say_so():
    # study area ends at x0: level 1 water keeps [x0 - 500, x0] = 500 m x 500 m = 25 ha
    study = _water(shapely.box(X_W, Y0 - 5000, X0, Y1 + 5000))
    z = water_source_zones(_intakes({"A": (X0, Y1)}), _water(STRAIGHT), rules=RULES, flow_azimuth_deg=90,
                           clip_to=study)
    row = _row(z, "A-L1-water")
    assert row.area_ha == pytest.approx(25.0, rel=1e-4)
    assert "25.00 ha outside the study area left out" in row.note


# ---------------------------------------------------------------- an island splitting the river


def test_island_head_outer_bank_intake_stays_on_the_north_shore():
    # Main stem 1600 m wide (y 3 500 800 .. 3 502 400) flowing east; from x = 610 000 the river
    # widens southward to y = 3 498 400 and an island (x 610 600 .. 619 000, y 3 499 200 ..
    # 3 500 800) splits it: the north branch continues the main stem (same banks, axis y = 3 501 600),
    # the south branch is 800 m wide. Intake on the north (outer) bank at x = 611 000, 400 m below
    # the island's head. The north shore is one straight line, so every level is a rectangle
    # along it, as on the straight river:
    #   water: L1 1000 m x 500 m = 50 ha; L2 (1500 + 500) x 500 = 100 ha; Q (2000 + 1000) x 500 = 150 ha
    #   land:  L1 1000 x 200 = 20 ha;     L2 2000 x 200 = 40 ha;          Q 3000 x 200 = 60 ha
    # Tolerance: across the 600 m gap between the widening (x 610 000) and the head the medial
    # axis dips by at most 28 m (equidistant from the north bank and the gap's corners), which
    # lengthens the stations by a few metres: measured <= 6 m, i.e. <= 0.3 ha of water and
    # 0.12 ha of land; checked to 0.5 ha / 0.2 ha.
    yn = 3_502_400.0
    main = shapely.box(600_000, 3_500_800, 610_000, yn)
    wide = shapely.box(610_000, 3_498_400, 620_000, yn)
    island = shapely.box(610_600, 3_499_200, 619_000, 3_500_800)
    water = shapely.union_all([main, wide]).difference(island)
    assert len(water.interiors) == 1
    x = 611_000.0
    z = water_source_zones(_intakes({"N": (x, yn)}), _water(water), rules=RULES, flow_azimuth_deg=90)
    expected = {"N-L1-water": 50, "N-L2-water": 100, "N-Q-water": 150, "N-L1-land": 20, "N-L2-land": 40, "N-Q-land": 60}
    for zone_id, ha in expected.items():
        row = _row(z, zone_id)
        assert row.area_ha == pytest.approx(ha, abs=0.5 if row.part == "water" else 0.2), zone_id
        # every note names its zone
        assert all(n.startswith(f"{zone_id}: ") for n in row.note.split("; ")), row.note
    # level 2 and quasi run 2000 / 4000 m upstream along the north shore of the main stem
    assert _row(z, "N-L2-water").geometry.bounds[0] == pytest.approx(x - 2000, abs=10)
    assert _row(z, "N-Q-water").geometry.bounds[0] == pytest.approx(x - 4000, abs=10)
    assert _row(z, "N-Q-land").geometry.bounds[0] == pytest.approx(x - 4000, abs=10)
    # nothing on the opposite bank nor on the island: water within 500 m of the north shore,
    # land north of it
    for _, row in z.iterrows():
        miny, maxy = row.geometry.bounds[1], row.geometry.bounds[3]
        if row.part == "water":
            assert miny >= yn - 500 - 0.1 and maxy <= yn + 0.1, row.zone_id
        else:
            assert miny >= yn - 0.1, row.zone_id
    assert z.union_all().distance(island) > 500
    note = _row(z, "N-Q-water").note
    assert "N-Q-water: at station -4" in note and "passes the head of an island across the channel (a bifurcation)" in note
    assert "the zone stays on the intake's (north) bank" in note


def test_island_head_intake_on_the_island_never_takes_the_far_bank():
    # A river 3400 m wide (y 3 499 000 .. 3 502 400) flowing east with a pointed island: its head
    # at (610 000, 3 500 700) on the main stem's axis, full width y 3 500 200 .. 3 501 200 from
    # x = 611 000. The intake is on the island's north shore at x = 612 000, in the north branch.
    # Upstream of the head, "the intake's side of the centreline" is the main stem's south half:
    # the old rule drew the quasi zone along the SOUTH bank (water down to y = 3 499 000, land
    # beyond it). Now the bank is the island's shore, walked up to its head; past the head the
    # water zone carries on beside the line drawn on from the head, toward the north, with no land.
    ys = 3_499_000.0
    river = shapely.box(600_000, ys, 620_000, 3_502_400)
    island = shapely.Polygon([(610_000, 3_500_700), (611_000, 3_501_200), (618_500, 3_501_200),
                              (619_000, 3_500_700), (618_500, 3_500_200), (611_000, 3_500_200)])
    water = river.difference(island)
    x, y = 612_000.0, 3_501_200.0
    z = water_source_zones(_intakes({"I": (x, y)}), _water(water), rules=RULES, flow_azimuth_deg=90)
    # level 1 (x 611 500 .. 612 500) lies along the island's straight north shore: 1000 m x 500 m =
    # 50 ha and 1000 m x 200 m = 20 ha of the island. The traced centreline here runs along the
    # north branch's axis but turns toward the main stem's axis 1 km upstream, which tilts the
    # corridor's upstream cut a little: 1.5 % (0.7 ha) allowed.
    assert _row(z, "I-L1-water").area_ha == pytest.approx(50.0, rel=0.015)
    assert _row(z, "I-L1-land").area_ha == pytest.approx(20.0, rel=0.03)
    # nothing reaches the main stem's south bank: the quasi water stays 800 m off it (it lay on it before)
    for _, row in z.iterrows():
        assert row.geometry.bounds[1] > ys + 800, row.zone_id
    # the land is the island's shore only: on the island, nothing upstream of its head
    land = shapely.union_all(z[z.part == "land"].geometry.values)
    assert land.difference(island).area < 1.0
    # each level is one piece with the stricter ones: the water zones, all levels, form one polygon
    wet = shapely.union_all(z[z.part == "water"].geometry.values)
    assert wet.geom_type == "Polygon"
    # quasi reaches 4000 m of centreline upstream: past the head (x 610 000), in the main stem
    quasi = _row(z, "I-Q-water")
    assert quasi.geometry.bounds[0] < 609_000
    assert "I-Q-water: upstream of station -2," in quasi.note
    assert "passes the head of the island the intake lies on (a bifurcation)" in quasi.note
    assert "with no land part" in _row(z, "I-Q-land").note
