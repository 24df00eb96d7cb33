"""The explorer's helpers that are not the card: uploaded areas (layers, CRS, GCJ-02, hostile
zips), what the pick map sends for a view, clicks, and the card's CSV."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geodata.crs import wgs84_to_gcj02
from geodata.errors import DataError, MissingCRSError, UnsafeInputError
from sinks.explorer.card import geodesic_area_ha
from ui import explorer_flow as flow

ROOT = Path(__file__).resolve().parents[1]
PARK = box(118.62, 32.05, 118.64, 32.065)


def _geojson(geoms, crs: str | None = "EPSG:4326") -> bytes:
    gdf = gpd.GeoDataFrame({"name": [f"p{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs)
    return gdf.to_json().encode() if crs else json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": g.__geo_interface__} for g in geoms]}).encode()


def test_an_uploaded_park_is_read_in_memory():
    geom, notes = flow.read_area_upload(_geojson([PARK]), "park.geojson", "wgs84")
    assert geom.equals(PARK) and notes == ()


def test_several_polygons_are_merged_with_a_note():
    a, b = box(118.62, 32.05, 118.63, 32.06), box(118.63, 32.05, 118.64, 32.06)
    geom, notes = flow.read_area_upload(_geojson([a, b]), "two.geojson", "wgs84")
    assert geom.area == pytest.approx(a.area + b.area) and [n.code for n in notes] == ["merged"]
    assert notes[0].params["n"] == 2


def test_gcj02_coordinates_are_converted_back():
    xs, ys = np.asarray(PARK.exterior.coords).T
    gx, gy = wgs84_to_gcj02(xs, ys)
    shifted = Polygon(zip(gx, gy))
    assert shifted.centroid.distance(PARK.centroid) > 0.003  # Amap's offset is hundreds of metres here
    geom, notes = flow.read_area_upload(_geojson([shifted]), "amap.geojson", "gcj02")
    assert geom.symmetric_difference(PARK).area / PARK.area < 1e-6
    assert "converted" in [n.code for n in notes]


def test_a_geopackage_with_several_layers_names_them():
    buf = io.BytesIO()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "many.gpkg"
        for layer in ("parks", "roads", "rivers"):
            gpd.GeoDataFrame({"n": [1]}, geometry=[PARK], crs=4326).to_file(path, layer=layer, engine="pyogrio")
        buf.write(path.read_bytes())
    with pytest.raises(DataError) as err:
        flow.read_area_upload(buf.getvalue(), "many.gpkg", "wgs84")
    msg = str(err.value)
    assert "many.gpkg" in msg and "3 layers (parks, roads, rivers)" in msg and "export the one layer" in msg


@pytest.mark.parametrize("make, name, kind, words", [
    (lambda: _geojson([Point(118.6, 32.0)]), "pt.geojson", DataError, "must be a polygon"),
    (lambda: _geojson([box(500000, 3540000, 501000, 3541000)]), "utm_as_lonlat.geojson", DataError, "longitude"),
    (lambda: b"PK\x03\x04 not really a zip", "broken.zip", DataError, "not a readable zip"),
    (lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.geojson", UnsafeInputError, "not a GeoPackage, GeoJSON or zipped shapefile"),
    (lambda: b'{"type": "FeatureCollection", "features": [}', "broken.geojson", DataError, "GDAL cannot read it"),
])
def test_bad_uploads_get_a_message_naming_the_file(make, name, kind, words):
    with pytest.raises(kind) as err:
        flow.read_area_upload(make(), name, "wgs84")
    assert name in str(err.value) and words in str(err.value), str(err.value)


def test_a_vrt_cannot_make_the_server_read_its_own_files(tmp_path):
    """GDAL opens by content: an OGR VRT named .geojson (or zipped) would read any file it names."""
    secret = tmp_path / "secret.csv"
    secret.write_text("WKT,id\n\"POLYGON ((118.7 32.1, 118.71 32.1, 118.71 32.11, 118.7 32.1))\",1\n")
    vrt = (f'<OGRVRTDataSource><OGRVRTLayer name="secret"><SrcDataSource>{secret}</SrcDataSource>'
           '<GeometryType>wkbPolygon</GeometryType><GeometryField encoding="WKT" field="WKT"/></OGRVRTLayer></OGRVRTDataSource>').encode()
    with pytest.raises(UnsafeInputError, match="not a GeoPackage, GeoJSON or zipped shapefile"):
        flow.read_area_upload(vrt, "area.geojson", "wgs84")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("area.vrt", vrt)
        z.writestr("area.shp", b"")
    with pytest.raises(UnsafeInputError, match="'area.vrt', which is not part of a shapefile"):
        flow.read_area_upload(buf.getvalue(), "area.zip", "wgs84")


def test_an_invalid_uploaded_polygon_is_repaired_with_a_note():
    bowtie = Polygon([(118.62, 32.05), (118.64, 32.065), (118.64, 32.05), (118.62, 32.065)])
    geom, notes = flow.read_area_upload(_geojson([bowtie]), "bowtie.geojson", "wgs84")
    assert geom.is_valid and geom.area == pytest.approx(bowtie.envelope.area / 2)
    assert [n.code for n in notes] == ["repaired_upload"] and notes[0].params == {"n": 1, "file": "bowtie.geojson"}


def test_a_layer_without_crs_is_refused(tmp_path):
    shp = tmp_path / "park.shp"
    gpd.GeoDataFrame({"n": [1]}, geometry=[PARK], crs=4326).to_file(shp, engine="pyogrio")
    (tmp_path / "park.prj").unlink()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in tmp_path.glob("park.*"):
            z.write(p, p.name)
    with pytest.raises(MissingCRSError) as err:
        flow.read_area_upload(buf.getvalue(), "park.zip", "wgs84")
    assert "park.zip" in str(err.value)


def test_zip_slip_and_zip_bombs_are_refused_before_gdal_sees_them():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../etc/park.shp", b"x")
    with pytest.raises(UnsafeInputError, match="parent-directory"):
        flow.read_area_upload(buf.getvalue(), "slip.zip", "wgs84")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("park.shp", b"\0" * (50 * 2**20))
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        flow.read_area_upload(bomb.getvalue(), "bomb.zip", "wgs84")


def test_an_upload_over_the_size_limit_is_refused_unread():
    with pytest.raises(DataError, match="limit 20 MiB"):
        flow.read_area_upload(b" " * (flow.MAX_UPLOAD_BYTES + 1), "huge.geojson", "wgs84")


# ---- the pick map: only what is in view, simplified for the zoom ------------------------------

def _wiggly(n: int = 4000) -> gpd.GeoDataFrame:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.c_[118.7 + 0.05 * np.cos(t) + 0.0005 * np.sin(60 * t), 32.1 + 0.04 * np.sin(t)]
    far = box(119.5, 32.8, 119.6, 32.9)
    return gpd.GeoDataFrame({"id": ["a", "far"], "name_zh": ["甲", "远"], "name_en": ["A", "Far"]},
                            geometry=[Polygon(ring), far], crs=4326)


def test_only_areas_in_view_are_sent_and_simplified_by_zoom():
    gdf = _wiggly()
    whole = flow.view_features(gdf, (118.6, 32.0, 118.8, 32.2), width_px=900)
    assert whole.n_total == 2 and whole.n_sent == 1 and list(whole.gdf["id"]) == ["a"]
    # half a screen pixel: 0.2 deg of longitude at 32.1 N over 900 px
    m_per_px = 0.2 * 111_320 * np.cos(np.radians(32.1)) / 900
    assert whole.tolerance_m == pytest.approx(0.5 * m_per_px)
    assert whole.vertices_sent < whole.vertices_total / 4
    close = flow.view_features(gdf, (118.69, 32.09, 118.71, 32.11), width_px=900)
    assert close.tolerance_m < whole.tolerance_m and close.vertices_sent > whole.vertices_sent
    # simplified, the outline stays within the tolerance of the original
    orig = gdf.to_crs(32650).geometry.iloc[0]
    simp = whole.gdf.to_crs(32650).geometry.iloc[0]
    assert orig.hausdorff_distance(simp) <= whole.tolerance_m + 1.0


def test_a_click_picks_the_smallest_area_holding_it():
    inner = box(118.69, 32.09, 118.71, 32.11)
    sets = {"unit": gpd.GeoDataFrame({"id": ["big", "small"], "name_zh": ["大", "小"], "name_en": ["Big", "Small"]},
                                     geometry=[box(118.6, 32.0, 118.8, 32.2), inner], crs=4326)}
    assert flow.feature_at(sets, "unit", 118.70, 32.10) == "small"
    assert flow.feature_at(sets, "unit", 118.61, 32.01) == "big"
    assert flow.feature_at(sets, "unit", 120.0, 30.0) is None
    assert flow.feature_at(sets, "district", 118.70, 32.10) is None


def test_the_last_drawn_polygon_is_the_area():
    f1 = {"type": "Feature", "geometry": box(0, 0, 1, 1).__geo_interface__}
    f2 = {"type": "Feature", "geometry": PARK.__geo_interface__}
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
    assert flow.drawn_geometry([f1, f2, line]).equals(PARK)
    assert flow.drawn_geometry([]) is None and flow.drawn_geometry(None) is None
    assert flow.drawn_geometry([{"geometry": {"type": "Polygon", "coordinates": "junk"}}]) is None
    assert geodesic_area_ha(PARK) == pytest.approx(shapely.area(gpd.GeoSeries([PARK], crs=4326).to_crs(6933).iloc[0]) / 1e4, rel=2e-3)


def test_the_cards_csv_defuses_formulas_in_an_uploaded_name():
    from types import SimpleNamespace

    empty = pd.DataFrame
    card = SimpleNamespace(
        kind="upload", area_id="=HYPERLINK(\"x\")", name_zh="=cmd|' /c calc'!A1", name_en="@SUM(1)", geometry_hash="ab" * 32,
        area_ha=12.5, landcover=empty(columns=["year", "lucode", "lulc_name", "area_ha"]),
        stocks=empty(columns=["year", "pool", "stock_tc"]), stock_totals=pd.DataFrame({"year": [2025], "stock_tc": [10.0], "low_tc": [8.0], "high_tc": [12.0]}),
        removals=empty(columns=["method", "period", "removals_tco2e_yr", "low_tco2e_yr", "high_tco2e_yr"]),
        change=empty(columns=["lucode", "lulc_name", "period", "change_ha"]), greening=empty(columns=["year"]),
        protection=empty(columns=["zone_kind", "zone_id", "overlap_ha"]), ranks=empty(columns=["metric", "n_peers", "peer_kind", "year", "rank"]),
        equivalents=empty(columns=["key", "factor_tco2e_yr", "source", "count", "low", "high"]))
    df = pd.read_csv(io.BytesIO(flow.card_csv(card)), encoding="utf-8-sig", keep_default_na=False)
    name = df[df["item"] == "name"]["value"].iloc[0]
    assert name.startswith("'=cmd") and "@SUM" in name
    total = df[df["section"] == "stock_total"].iloc[0]
    assert (total["year_or_period"], float(total["value"]), float(total["low"]), float(total["high"])) == ("2025", 10.0, 8.0, 12.0)


def _card_with_removals(value: float, low: float, high: float):
    from types import SimpleNamespace

    rem = pd.DataFrame({"period": ["2020-2025"], "year_t0": [2020], "year_t1": [2025], "method": ["gain_loss"],
                        "removals_tco2e_yr": [value], "low_tco2e_yr": [low], "high_tco2e_yr": [high]})
    return SimpleNamespace(removals=rem, equivalents=pd.DataFrame())


def test_equivalents_of_an_interval_crossing_zero_say_so():
    _, items = flow.equivalent_sentences(_card_with_removals(120.0, -60.0, 300.0), 2025, "en")
    resident = next(i for i in items if "Jiangbei resident" in i)
    # 120 / 11.35 = 10.57 -> "11"; -60 / 11.35 = -5.3; 300 / 11.35 = 26.43 -> "26"
    assert "**11**" in resident and "(\u22125.3 to 26: the interval crosses zero" in resident, resident
    intro, items = flow.equivalent_sentences(_card_with_removals(-40.0, -300.0, -10.0), 2025, "zh")
    assert "净排放源" in intro
    resident = next(i for i in items if "江北新区居民" in i)
    # |-40| / 11.35 = 3.5; |-10| / 11.35 = 0.88; |-300| / 11.35 = 26: the centre inside its range
    assert "**3.5**" in resident and "（0.88–26）" in resident, resident


def test_intervals_read_right_with_negative_bounds():
    assert flow.interval(120.0, -60.0, 300.0, "co2e_yr", "en") == "120.0 t CO₂e/yr (95 % interval \u221260.00 to 300.0)"
    assert flow.interval(-12.0, -20.0, -1.5, "co2e_yr", "zh").startswith("\u221212.00 吨 CO₂e/年（95% 区间 \u221220.00 至 \u22121.500）")
    assert flow.interval(83857.0, 57982.0, 106749.0, "co2e_yr", "en") == "83.86 kt CO₂e/yr (95 % interval 57.98–106.7)"


def test_notes_show_outside_values_as_code_and_our_own_as_text():
    from sinks.notes import Note

    own = Note("unestimated_classes", "x", period="2020-2025", area_ha=12.5, codes=[31, 32])
    zh, en = flow.note_text(own, "zh"), flow.note_text(own, "en")
    assert "`" not in zh and "`" not in en, (zh, en)  # the period is the engine's: plain text, formatted
    assert "2020–2025" in en and "12.5" in en, en
    conv = flow.note_text(Note("converted", "x", file="[a](http://e.x).geojson", system="gcj02"), "en")
    assert "`[a](http://e.x).geojson`" in conv and "`gcj02`" not in conv, conv
