"""Red-line drafts (wetlands.redlines), the offline map (ui.leaflet) and the red-line editor's
save path through the real GeoPackage workspace (ui.wetlands_flow).

Areas are worked by hand in EPSG:32650 (UTM 50N, metres): a 1 km square is 100 ha.
"""
from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from geodata.errors import DataError
from geodata.store import ConflictError, Workspace
from sinks.accounts import Account, Session
from tests.conftest import UTM50
from ui import leaflet
from ui import wetlands_flow as flow
from wetlands import redlines as rl

LI, WANG = (Session.start(Account(u, "officer", u, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"), 0.0) for u in ("officer.li", "officer.wang"))

X0, Y0 = 660_000.0, 3_550_000.0  # near Pukou in UTM 50N


def _square_utm(x: float, y: float, side: float) -> shapely.Polygon:
    return shapely.box(x, y, x + side, y + side)


def _lonlat(geoms) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=UTM50).to_crs(4326)


def _feature(geom) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(geom))}


# ------------------------------------------------------------------------------ drafts


def test_next_ids_follow_the_highest_existing_number():
    assert rl.next_ids([], 2) == ["RL-001", "RL-002"]
    assert rl.next_ids(["RL-007", "RL-002", "custom-9"], 1) == ["RL-008"]


def test_drawings_become_polygons_with_new_ids():
    g = _lonlat([_square_utm(X0, Y0, 1000)]).iloc[0]
    d = rl.drawings_to_frame([_feature(g)], existing_ids=["RL-004"])
    assert list(d[rl.ID_FIELD]) == ["RL-005"]
    assert d.crs.to_epsg() == 4326
    assert d.to_crs(UTM50).area.iloc[0] == pytest.approx(1_000_000, rel=1e-6)


def test_a_drawn_line_is_refused_with_the_tool_to_use():
    line = {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[118.6, 32.0], [118.7, 32.1]]}}
    with pytest.raises(DataError) as e:
        rl.drawings_to_frame([line])
    assert "LineString" in e.value.problem and "polygon" in e.value.fix


def test_merge_removes_and_appends_and_refuses_duplicate_ids():
    cur = gpd.GeoDataFrame({rl.ID_FIELD: ["RL-001", "RL-002"], "name_zh": ["甲", "乙"], "name_en": ["A", "B"], "note": ["", ""]},
                           geometry=_lonlat([_square_utm(X0, Y0, 500), _square_utm(X0 + 2000, Y0, 500)]).to_crs(4490).values, crs=4490)
    draft = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0 + 4000, Y0, 500)]).iloc[0])], existing_ids=cur[rl.ID_FIELD])
    out = rl.merge_draft(cur, draft, remove_ids=["RL-001"])
    assert list(out[rl.ID_FIELD]) == ["RL-002", "RL-003"]
    assert out.crs.to_epsg() == 4490
    with pytest.raises(DataError, match="both in the layer and in the draft"):
        rl.merge_draft(cur, draft.assign(**{rl.ID_FIELD: ["RL-002"]}))


def test_suggestions_are_large_patches_mostly_outside_the_red_lines():
    # patch 1: 1 km square (100 ha), red line covers its west 300 m -> 30 % covered: suggested
    # patch 2: 1 km square, red line covers 600 m -> 60 % covered: not suggested (max 50 %)
    # patch 3: 200 m square (4 ha): below 8 ha, not suggested
    patches = gpd.GeoDataFrame({"patch_id": [1, 2, 3], "type": ["marsh", "pond", "marsh"], "area_ha": [100.0, 100.0, 4.0]},
                               geometry=[_square_utm(X0, Y0, 1000), _square_utm(X0 + 3000, Y0, 1000), _square_utm(X0 + 6000, Y0, 200)],
                               crs=UTM50).to_crs(4326)
    red = gpd.GeoDataFrame({rl.ID_FIELD: ["RL-001", "RL-002"]},
                           geometry=[shapely.box(X0 - 100, Y0 - 100, X0 + 300, Y0 + 1100), shapely.box(X0 + 3000, Y0 - 100, X0 + 3600, Y0 + 1100)],
                           crs=UTM50).to_crs(4326)
    s = rl.suggest_from_patches(patches, red, min_area_ha=8.0)
    assert list(s["patch_id"]) == [1]
    assert s["covered_share"].iloc[0] == pytest.approx(0.30, abs=0.002)  # UTM zone estimate vs 50N: tiny distortion
    assert list(rl.suggest_from_patches(patches, None, min_area_ha=8.0)["patch_id"]) == [1, 2]


# ------------------------------------------------------------------------------ the offline map


def test_the_map_loads_nothing_from_the_internet_and_its_files_are_here():
    m = leaflet.offline_map((118.4, 31.9, 119.0, 32.6))
    leaflet.add_draw_control(m)
    links = leaflet.resource_links(m)
    assert links, "the map names its scripts"
    assert all(u.startswith("/app/static/vendor/") for u in links), links
    assert leaflet.missing_vendor_files() == [], "run make (npm ci --prefix static/vendor)"


def test_landcover_overlay_is_warped_to_web_mercator_with_nodata_transparent(tmp_path):
    # 4 x 4 pixels of 30 m in UTM 50N: one row of water (80), the rest built-up (50), one nodata (0)
    codes = np.full((4, 4), 50, dtype="uint8")
    codes[0, :] = 80
    codes[3, 3] = 0
    path = tmp_path / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8", crs=UTM50,
                       transform=Affine(30, 0, X0, 0, -30, Y0), nodata=0) as ds:
        ds.write(codes, 1)
    ov = leaflet.landcover_overlay(path)
    assert ov.codes == (50, 80)
    (south, west), (north, east) = ov.bounds_latlon
    lon, lat = gpd.GeoSeries([shapely.Point(X0 + 60, Y0 - 60)], crs=UTM50).to_crs(4326).iloc[0].coords[0]
    assert west < lon < east and south < lat < north
    alpha = ov.rgba[..., 3]
    assert alpha.min() == 0 and alpha.max() == 255  # the nodata pixel (and the warp margin) is see-through
    assert ov.rgba.shape[2] == 4


# ------------------------------------------------------------------------------ saving through the workspace


class _Upload:
    """What st.file_uploader hands the page: a name, a size and the bytes."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data, self.size = name, data, len(data)

    def getvalue(self) -> bytes:
        return self._data


def _study_area() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"zone_id": ["z"]}, geometry=[_square_utm(X0 - 5000, Y0 - 5000, 20_000)], crs=UTM50).to_crs(4326)


def test_draw_save_reload_restore_and_a_stale_save_is_refused(tmp_path):
    ws = Workspace(tmp_path / "workspace.gpkg")
    red, v = flow.load_redlines(ws)
    assert v == 0 and red.empty
    draft = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0, Y0, 1000)]).iloc[0])])
    draft["name_zh"] = ["绿水湾湿地"]
    res, _ = flow.save_redlines(ws, red, draft, remove=[], by=LI, reason="first draft", expected_parent=0, study_area=_study_area())
    assert res.info.version == 1 and res.info.author == "officer.li"
    red, v = flow.load_redlines(ws)
    assert v == 1 and list(red[rl.ID_FIELD]) == ["RL-001"] and red["name_zh"].iloc[0] == "绿水湾湿地"
    assert flow.total_area_ha(red) == pytest.approx(100.0, rel=1e-4)
    # a second officer still holding version 0 cannot overwrite version 1
    with pytest.raises(ConflictError):
        flow.save_redlines(ws, flow.load_redlines(ws)[0].iloc[0:0], draft, remove=[], by=WANG, reason="stale",
                           expected_parent=0, study_area=_study_area())
    # add a second line and remove the first (version 2), then restore version 1 as version 3
    second = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0 + 3000, Y0, 500)]).iloc[0])], existing_ids=["RL-001"])
    flow.save_redlines(ws, red, second, remove=["RL-001"], by=LI, reason="replace", expected_parent=1, study_area=_study_area())
    assert list(flow.load_redlines(ws)[0][rl.ID_FIELD]) == ["RL-002"]
    # emptying the layer is refused (restore an earlier version instead); nothing is written
    with pytest.raises(DataError, match="no features"):
        flow.save_redlines(ws, flow.load_redlines(ws)[0], rl.empty_layer(), remove=["RL-002"], by=LI, reason="all",
                           expected_parent=2, study_area=_study_area())
    info = flow.restore(ws, 1, by=LI, reason="undo", expected_parent=2)
    red, v = flow.load_redlines(ws)
    assert (info.version, v, list(red[rl.ID_FIELD])) == (3, 3, ["RL-001"])
    assert [h.version for h in flow.history(ws)] == [1, 2, 3]


def test_a_self_intersecting_drawing_is_repaired_and_reported(tmp_path):
    ws = Workspace(tmp_path / "workspace.gpkg")
    a, b = X0, X0 + 1000
    bowtie = _lonlat([shapely.Polygon([(a, Y0), (b, Y0 + 1000), (b, Y0), (a, Y0 + 1000)])]).iloc[0]
    draft = rl.drawings_to_frame([_feature(bowtie)])
    res, _ = flow.save_redlines(ws, rl.empty_layer(), draft, remove=[], by=LI, reason="bow tie", expected_parent=0, study_area=_study_area())
    assert [r.feature_id for r in res.repairs] == ["RL-001"]
    msg = flow.saved_message(res, "en")
    assert "RL-001" in msg and "repaired" in msg
    red, _ = flow.load_redlines(ws)
    assert flow.total_area_ha(red) == pytest.approx(50.0, rel=1e-3)  # both triangles kept: 2 x 25 ha


def test_a_red_line_outside_the_study_area_is_refused_and_nothing_is_saved(tmp_path):
    ws = Workspace(tmp_path / "workspace.gpkg")
    far = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0 + 50_000, Y0, 1000)]).iloc[0])])
    with pytest.raises(DataError, match="outside the study area"):
        flow.save_redlines(ws, rl.empty_layer(), far, remove=[], by=LI, reason="x", expected_parent=0, study_area=_study_area())
    assert flow.load_redlines(ws)[1] == 0


def test_an_upload_in_gcj02_is_converted_and_one_without_crs_refused(tmp_path):
    from geodata.crs import wgs84_to_gcj02

    square = _lonlat([_square_utm(X0, Y0, 1000)]).iloc[0]
    lon, lat = np.asarray(square.exterior.coords).T
    glon, glat = wgs84_to_gcj02(lon, lat)
    gcj = gpd.GeoDataFrame({"name_zh": ["上传"]}, geometry=[shapely.Polygon(np.c_[glon, glat])], crs=4326)
    buf = io.BytesIO()
    gcj.to_file(buf, driver="GeoJSON")
    up = flow.read_upload(_Upload("amap.geojson", buf.getvalue()), "gcj02", existing_ids=["RL-001"])
    assert list(up[rl.ID_FIELD]) == ["RL-002"] and up["name_zh"].iloc[0] == "上传"
    # back on the true position: the GCJ-02 offset (hundreds of metres) is gone to well under a metre
    assert up.to_crs(UTM50).geometry.iloc[0].symmetric_difference(_square_utm(X0, Y0, 1000)).area < 1000.0  # < 0.1 % of 1 km2
    nocrs = b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[660000,3550000],[661000,3550000],[661000,3551000],[660000,3550000]]]}}]}'
    with pytest.raises(DataError) as e:
        flow.read_upload(_Upload("projected_numbers.geojson", nocrs), "wgs84", existing_ids=[])
    assert "projected_numbers.geojson" in str(e.value.source)


def test_clipping_cuts_a_red_line_to_the_study_area_and_says_so(tmp_path):
    # study area: x from X0-5000 to X0+15000. A 2 km square from X0+14000 has its west half inside.
    ws = Workspace(tmp_path / "workspace.gpkg")
    half = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0 + 14_000, Y0, 2000)]).iloc[0])])
    res, clipped = flow.save_redlines(ws, rl.empty_layer(), half, remove=[], by=LI, reason="edge", expected_parent=0,
                                      study_area=_study_area(), clip=True)
    assert clipped == ["RL-001"] and res.info.version == 1
    assert flow.total_area_ha(flow.load_redlines(ws)[0]) == pytest.approx(200.0, rel=1e-3)  # 1 km x 2 km
    assert "RL-001" in flow.saved_message(res, "zh", clipped)
    far = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0 + 50_000, Y0, 1000)]).iloc[0])], existing_ids=["RL-001"])
    with pytest.raises(DataError, match=r"\['RL-002'\] lie wholly outside"):
        flow.save_redlines(ws, flow.load_redlines(ws)[0], far, remove=[], by=LI, reason="far", expected_parent=1,
                           study_area=_study_area(), clip=True)
    assert flow.load_redlines(ws)[1] == 1


def test_renaming_saved_red_lines_goes_into_the_next_version(tmp_path):
    ws = Workspace(tmp_path / "workspace.gpkg")
    draft = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0, Y0, 1000)]).iloc[0])])
    flow.save_redlines(ws, rl.empty_layer(), draft, remove=[], by=LI, reason="first", expected_parent=0, study_area=_study_area())
    red, v = flow.load_redlines(ws)
    names = {"RL-001": {"name_zh": "新化湿地", "name_en": "Xinhua wetland", "note": ""}}
    assert flow.renamed_ids(red, names) == ["RL-001"]
    assert flow.renamed_ids(red, {"RL-001": {"name_zh": "", "name_en": "", "note": ""}}) == []  # unchanged
    res, _ = flow.save_redlines(ws, red, rl.empty_layer(), remove=[], by=LI, reason="name it", expected_parent=v,
                                study_area=_study_area(), names=names)
    red2, v2 = flow.load_redlines(ws)
    assert (v2, red2["name_zh"].iloc[0], red2["name_en"].iloc[0]) == (2, "新化湿地", "Xinhua wetland")
    assert red2.geometry.iloc[0].equals_exact(red.geometry.iloc[0], 1e-9)


def test_sites_are_their_own_layer_with_their_own_ids(tmp_path):
    ws = Workspace(tmp_path / "workspace.gpkg")
    square = _feature(_lonlat([_square_utm(X0, Y0, 1000)]).iloc[0])
    site = rl.drawings_to_frame([square], existing_ids=flow.ids_ever(ws, flow.SITES), spec=flow.SITES)
    assert list(site["site_id"]) == ["WS-001"]
    flow.save_edits(ws, rl.empty_layer(spec=flow.SITES), site, remove=[], by=LI, reason="Duwei park", expected_parent=0,
                    study_area=_study_area(), spec=flow.SITES)
    sites, v = flow.load_layer(ws, flow.SITES)
    assert v == 1 and list(sites["site_id"]) == ["WS-001"]
    assert flow.load_redlines(ws)[1] == 0  # the red lines are untouched
    assert [h.layer for h in flow.history(ws, flow.SITES)] == ["wetland_sites"]


def test_draft_items_keep_their_ids_and_names_whatever_is_added_around_them():
    # an upload first, then a suggested patch "before" it in any order: ids never move
    items: dict = {}
    up = _lonlat([_square_utm(X0, Y0, 1000)]).iloc[0]
    items["upload:f1:wgs84:0"] = {"geometry": json.loads(shapely.to_geojson(up)), "name_zh": "上传", "name_en": "", "note": ""}
    first = flow.draft_frame(items, known=["RL-001"])
    assert list(first["redline_id"]) == ["RL-002"]
    patches = gpd.GeoDataFrame({"patch_id": [7], "type": ["marsh"], "area_ha": [25.0]},
                               geometry=[_square_utm(X0 + 3000, Y0, 500)], crs=UTM50).to_crs(4326)
    flow.add_patch_items(items, patches, [7])
    items = {"patch:7": items.pop("patch:7"), **items}  # the patch now comes first in the dict
    both = flow.draft_frame(items, known=["RL-001"]).set_index("redline_id")
    assert both.loc["RL-002", "name_zh"] == "上传" and "patch #7" in both.loc["RL-003", "note"]
    # a name typed for RL-002 stays on the upload, and dropping RL-003 leaves RL-002 alone
    base = flow.edit_table(rl.empty_layer(), flow.draft_frame(items, known=["RL-001"]))
    edited = base.copy()
    edited.loc[edited["redline_id"] == "RL-002", "name_en"] = "Uploaded"
    edited.loc[edited["redline_id"] == "RL-003", "delete"] = True
    typed, ticked = flow.table_edits(base, edited)
    assert typed == {"RL-002": {"name_en": "Uploaded"}} and ticked == {"RL-003"}
    kept = flow.apply_names(flow.draft_frame(items, known=["RL-001"], drop=ticked), typed)
    assert list(kept["redline_id"]) == ["RL-002"] and kept["name_en"].iloc[0] == "Uploaded"


def test_drawings_sync_with_their_own_map_and_carry_over_from_others():
    items: dict = {}
    a, b = (_feature(_lonlat([_square_utm(X0 + d, Y0, 500)]).iloc[0]) for d in (0, 2000))
    flow.sync_drawings(items, "map1", [a, b])
    assert len(items) == 2
    flow.sync_drawings(items, "map1", [b])  # deleted on the map with Leaflet.draw's bin
    assert len(items) == 1
    flow.sync_drawings(items, "map2", [a])  # another year's map: b stays, drawn dashed there
    assert len(items) == 2 and len(flow.carried_drawings(items, "map2")) == 1
    with pytest.raises(DataError, match="not a polygon"):
        flow.sync_drawings(items, "map2", [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.6, 32.0]}}])


@pytest.mark.parametrize("who", [None, "officer.li", object()], ids=["nobody", "a-bare-name", "not-a-session"])
def test_saving_restoring_exporting_need_an_officer_session(tmp_path, monkeypatch, who):
    """Defence in depth: the flow functions themselves refuse anyone but a live officer's
    session (a page that forgot to hide its tools still cannot write); nothing is written."""
    monkeypatch.setenv("SINKS_WORKSPACE", str(tmp_path))
    ws = Workspace(tmp_path / "workspace.gpkg")
    draft = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0, Y0, 1000)]).iloc[0])], existing_ids=[])
    with pytest.raises(DataError, match="need an officer login"):
        flow.save_redlines(ws, rl.empty_layer(), draft, remove=[], by=who, reason="x", expected_parent=0, study_area=_study_area())
    flow.save_redlines(ws, rl.empty_layer(), draft, remove=[], by=LI, reason="first", expected_parent=0, study_area=_study_area())
    with pytest.raises(DataError, match="need an officer login"):
        flow.restore(ws, 1, by=who, reason="x", expected_parent=1)
    with pytest.raises(DataError, match="need an officer login"):
        flow.export_bytes(ws, "geojson", 4326, 1, by=who)
    assert [h.version for h in flow.history(ws)] == [1] and not (tmp_path / "exports").exists()
    assert flow.export_bytes(ws, "geojson", 4326, 1, by=LI)[1] == "wetland_redlines_v1_epsg4326.geojson"  # an officer may


def test_the_public_history_hides_login_names(tmp_path):
    ws = Workspace(tmp_path / "workspace.gpkg")
    draft = rl.drawings_to_frame([_feature(_lonlat([_square_utm(X0, Y0, 1000)]).iloc[0])], existing_ids=[])
    flow.save_redlines(ws, rl.empty_layer(), draft, remove=[], by=LI, reason="first", expected_parent=0, study_area=_study_area())
    hist = flow.history(ws)
    public, officer = flow.history_table(hist, "en"), flow.history_table(hist, "en", authors=True)
    assert "officer.li" not in public.to_string() and list(public["Saved by"]) == ["officer"]
    assert list(officer["Saved by"]) == ["officer.li"]
