"""The versioned workspace (geodata.store, geodata.store_pg): versions, CRS, repairs, conflicts,
several writer processes, failed and killed saves, hostile input, exports.

Every test that takes the ``ws`` or ``backend`` fixture runs twice: on a GeoPackage file
(``[gpkg]``) and on PostGIS (``[pg]``, a fresh schema per test in the database named by
``SINKS_TEST_DATABASE_URL``, default ``postgresql://sinks:sinks@127.0.0.1:5432/sinks_test``).
When PostGIS is not reachable the ``[pg]`` variants are skipped with the reason (shown by
``-ra``); with ``CI=true`` they fail instead, so CI cannot pass without testing PostGIS.
Tests about the GeoPackage file itself (bytes, GDAL, SQLite locks) take ``gpkg_ws``; their
PostGIS counterparts are in ``test_store_pg.py``.

Hand-worked numbers: squares are drawn in EPSG:32650 (UTM 50N, metres) near Jiangbei
(x 660 km, y 3560 km: about 118.7 E, 32.2 N), stored in EPSG:4490 and measured back in 32650.
"""
from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing as mp
import os
import signal
import sqlite3
import time
import uuid
import zipfile
from datetime import timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geodata import store
from geodata.errors import CRSMismatchError, DataError, GeometryError, MissingCRSError, SchemaError, UnsafeInputError
from geodata.files import sha256_file
from geodata.store import ConflictError, Workspace
from geodata.store_pg import PostgisWorkspace
from tests.conftest import shared_data

UTM = "EPSG:32650"
X0, Y0 = 660000.0, 3560000.0


def square(i: int, side: float = 1000.0) -> shapely.Polygon:
    """The i-th square of ``side`` m, in a row 2 km apart: area = side**2 m2."""
    return shapely.box(X0 + 2000 * i, Y0, X0 + 2000 * i + side, Y0 + side)


def layer_of(n: int, *, prefix: str = "r", side: float = 1000.0, crs: str = UTM) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"feature_id": [f"{prefix}{i}" for i in range(n)], "name": [f"红线 {i}" for i in range(n)], "grade": list(range(1, n + 1))},
        geometry=[square(i, side) for i in range(n)],
        crs=crs,
    )


def count_rows(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# the two backends

def open_target(target: tuple, **kw):
    """Open a workspace from a picklable target (for child processes)."""
    kind, where = target
    if kind == "gpkg":
        return Workspace(where, **kw)
    url, schema = where
    return PostgisWorkspace(url, schema=schema, **kw)


class GpkgBackend:
    kind = "gpkg"

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path

    def target(self, name: str = "work") -> tuple:
        return ("gpkg", str(self.dir / f"{name}.gpkg"))

    def open(self, name: str = "work", **kw) -> Workspace:
        return open_target(self.target(name), **kw)

    def snapshot(self, ws) -> str:
        return sha256_file(ws.path)  # byte for byte

    def count(self, ws, table: str) -> int:
        return count_rows(ws.path, table)

    def fail_on_third_row(self, monkeypatch) -> None:
        _fail_on_third_call(monkeypatch, store, "_gpkg_blob")


class PgBackend:
    kind = "pg"

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"t_{uuid.uuid4().hex[:10]}"
        self.schemas: list[str] = []

    def target(self, name: str = "work") -> tuple:
        schema = f"{self.prefix}_{name}"
        if schema not in self.schemas:
            self.schemas.append(schema)
        return ("pg", (self.url, schema))

    def open(self, name: str = "work", **kw) -> PostgisWorkspace:
        return open_target(self.target(name), **kw)

    def connect(self):
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def snapshot(self, ws) -> str:
        """sha256 over every row of every table of the workspace's schema (ids included)."""
        from psycopg import sql

        digest = hashlib.sha256()
        with self.connect() as con:
            tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (ws.schema,))]
            digest.update(repr(tables).encode())
            for t in tables:
                rows = con.execute(sql.SQL("SELECT * FROM {}.{} ORDER BY 1").format(sql.Identifier(ws.schema), sql.Identifier(t))).fetchall()
                digest.update(repr(rows).encode())
        return digest.hexdigest()

    def count(self, ws, table: str) -> int:
        from psycopg import sql

        with self.connect() as con:
            if table in ("versions", "exports", "store_meta"):
                q = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(ws.schema), sql.Identifier(table))
                return con.execute(q).fetchone()[0]
            q = sql.SQL("SELECT count(*) FROM {}.features WHERE layer = %s").format(sql.Identifier(ws.schema))
            return con.execute(q, (table,)).fetchone()[0]

    def fail_on_third_row(self, monkeypatch) -> None:
        from geodata import store_pg

        _fail_on_third_call(monkeypatch, store_pg, "_ewkb")

    def drop(self) -> None:
        from psycopg import sql

        with self.connect() as con:
            for schema in self.schemas:
                con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["gpkg", "pg"])
def backend(request, tmp_path: Path):
    if request.param == "gpkg":
        yield GpkgBackend(tmp_path)
        return
    be = PgBackend(request.getfixturevalue("pg_url"))
    try:
        yield be
    finally:
        be.drop()


@pytest.fixture
def ws(backend):
    return backend.open(crs=4490)


@pytest.fixture
def gpkg_ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "work.gpkg", crs=4490)


# ---------------------------------------------------------------------------------------------
# file format, CRS, areas


def test_new_workspace_is_a_geopackage_that_gdal_reads(gpkg_ws: Workspace):
    ws = gpkg_ws  # about the GeoPackage file itself (PostGIS: test_store_pg.py)
    ws.save("redlines", layer_of(3), author="alice", reason="first draw")
    head = ws.path.read_bytes()[:100]
    assert head[68:72] == b"GPKG"  # application_id
    layers = dict((str(n), t) for n, t in pyogrio.list_layers(ws.path))
    assert layers["redlines"] == "MultiPolygon" and "versions" in layers
    all_rows = gpd.read_file(ws.path, layer="redlines", engine="pyogrio", use_arrow=True)
    assert all_rows.crs.to_epsg() == 4490
    assert len(all_rows) == 3 and set(all_rows["store_version"]) == {1}
    versions = gpd.read_file(ws.path, layer="versions", engine="pyogrio")
    assert list(versions["author"]) == ["alice"] and list(versions["feature_count"]) == [3]


def test_save_transforms_to_store_crs_and_keeps_areas(ws: Workspace):
    res = ws.save("redlines", layer_of(3), author="alice", reason="first draw")
    assert res.transformed_from == "EPSG:32650" and res.repairs == () and not res.dropped_z
    assert res.info.version == 1 and res.info.parent_version is None and res.info.feature_count == 3
    gdf = ws.load("redlines")
    assert gdf.crs.to_epsg() == 4490
    lon, lat = gdf.geometry.iloc[0].centroid.coords[0]
    assert 118.6 < lon < 118.8 and 32.1 < lat < 32.3  # degrees now, near Pukou
    # 1000 m x 1000 m = 1,000,000 m2 each, measured back in UTM 50N (the transform round-trips)
    assert np.allclose(gdf.to_crs(UTM).area, 1_000_000.0, atol=1e-3)
    assert list(gdf.columns) == ["feature_id", "name", "grade", "geometry"]
    assert list(gdf["feature_id"]) == ["r0", "r1", "r2"] and list(gdf["grade"]) == [1, 2, 3]
    assert gdf.attrs["store_version"] == 1 and gdf.attrs["store_sha256"] == res.info.sha256


def test_workspace_crs_4326_and_reopen(backend):
    ws = backend.open("w84", crs=4326)
    ws.save("redlines", layer_of(1), author="a", reason="r")
    assert backend.open("w84").crs_epsg == 4326  # crs=None: what it was created with
    assert ws.load("redlines").crs.to_epsg() == 4326
    with pytest.raises(CRSMismatchError, match="EPSG:4326, not the requested EPSG:4490"):
        backend.open("w84", crs=4490)
    with pytest.raises(DataError, match="EPSG:3857 is not offered"):
        backend.open("other", crs=3857)


def test_input_without_crs_is_refused_naming_layer_and_fix(ws: Workspace):
    gdf = layer_of(2).set_crs(None, allow_override=True)
    with pytest.raises(MissingCRSError) as err:
        ws.save("redlines", gdf, author="a", reason="r", source="draft.zip")
    msg = str(err.value)
    assert "draft.zip" in msg and "layer 'redlines'" in msg and "no coordinate reference system" in msg and "EPSG:4490" in msg


def test_not_a_geopackage_or_wrong_suffix(tmp_path: Path):
    txt = tmp_path / "notes.gpkg"
    txt.write_text("hello")
    with pytest.raises(DataError, match="not a GeoPackage"):
        Workspace(txt)
    with pytest.raises(DataError, match=r"ending in \.gpkg"):
        Workspace(tmp_path / "work.sqlite")


# ---------------------------------------------------------------------------------------------
# geometry checks


def test_bowtie_is_repaired_and_reported(ws: Workspace):
    # corners (0,0) (200,200) (200,0) (0,200): the edges cross at (100,100); make_valid keeps two
    # triangles of base 200 m and height 100 m: 2 x 10,000 = 20,000 m2
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 200, Y0 + 200), (X0 + 200, Y0), (X0, Y0 + 200)])
    gdf = gpd.GeoDataFrame({"feature_id": ["ok", "bowtie"]}, geometry=[square(0), bowtie], crs=UTM)
    res = ws.save("redlines", gdf, author="a", reason="r")
    assert [r.feature_id for r in res.repairs] == ["bowtie"]
    assert "Self-intersection" in res.repairs[0].problem
    assert res.repairs[0].area_m2 == pytest.approx(20_000.0, abs=0.01)
    assert res.info.repaired_ids == ("bowtie",) and ws.history("redlines")[0].repaired_ids == ("bowtie",)
    stored = ws.load("redlines").to_crs(UTM).set_index("feature_id")
    assert stored.is_valid.all()
    assert stored.area["bowtie"] == pytest.approx(20_000.0, abs=0.01)
    assert stored.area["ok"] == pytest.approx(1_000_000.0, abs=1e-3)


def test_spike_repair_drops_the_line_and_keeps_the_area(ws: Workspace):
    # a 100 m square with a 100 m spike going up from its corner: the spike has no area
    spike = shapely.Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0 + 200), (X0 + 100, Y0 + 100), (X0, Y0 + 100)])
    res = ws.save("redlines", gpd.GeoDataFrame({"feature_id": ["s"]}, geometry=[spike], crs=UTM), author="a", reason="r")
    assert res.repairs[0].dropped == ("LineString",)
    assert res.repairs[0].area_m2 == pytest.approx(10_000.0, abs=0.01)


def test_ambiguous_or_collapsed_repairs_are_refused(ws: Workspace):
    # an outline that crosses itself and covers the 100 m square at (100..200, 100..200) twice:
    # read as even-odd it has a hole (70,000 m2), read as a union it has none (80,000 m2)
    loop = shapely.Polygon([(X0 + x, Y0 + y) for x, y in [(0, 0), (300, 0), (300, 300), (100, 300), (100, 100), (200, 100), (200, 200), (0, 200)]])
    with pytest.raises(GeometryError) as err:
        ws.save("redlines", gpd.GeoDataFrame({"feature_id": ["loop"]}, geometry=[loop], crs=UTM), author="a", reason="r")
    assert "loop" in str(err.value) and "70000.0 or 80000.0 m2" in str(err.value) and "redraw" in str(err.value)
    flat = shapely.Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 200, Y0)])  # all on one line: no area
    with pytest.raises(GeometryError, match=r"\['flat .*no area left"):
        ws.save("redlines", gpd.GeoDataFrame({"feature_id": ["flat"]}, geometry=[flat], crs=UTM), author="a", reason="r")
    assert ws.layers() == ()


def test_empty_missing_and_non_polygon_geometries_are_refused_by_id(ws: Workspace):
    gdf = gpd.GeoDataFrame({"feature_id": ["a", "b", "c"]}, geometry=[square(0), None, shapely.Polygon()], crs=UTM)
    with pytest.raises(GeometryError, match=r"features \['b', 'c'\] have no geometry"):
        ws.save("redlines", gdf, author="a", reason="r")
    gdf = gpd.GeoDataFrame({"feature_id": ["a", "pt", "ln"]}, geometry=[square(0), shapely.Point(X0, Y0), shapely.LineString([(X0, Y0), (X0 + 5, Y0)])], crs=UTM)
    with pytest.raises(GeometryError, match=r"pt \(Point\).*ln \(LineString\)"):
        ws.save("redlines", gdf, author="a", reason="r")
    with pytest.raises(DataError, match="no features"):
        ws.save("redlines", layer_of(0), author="a", reason="r")
    with pytest.raises(SchemaError, match=r"repeats the ids \['x'\]"):
        ws.save("redlines", gpd.GeoDataFrame({"feature_id": ["x", "x"]}, geometry=[square(0), square(1)], crs=UTM), author="a", reason="r")
    with pytest.raises(SchemaError, match="no id column 'redline_id'"):
        ws.save("redlines", layer_of(1), author="a", reason="r", id_field="redline_id")


def test_within_study_area(ws: Workspace):
    # study area: x 660,000..664,000, y 3,560,000..3,561,000 holds squares 0 and 1 (x up to 663,000)
    study = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 4000, Y0 + 1000)], crs=UTM).to_crs(4326)
    ok = ws.save("redlines", layer_of(2), author="a", reason="r", within=study)
    assert ok.info.version == 1
    with pytest.raises(GeometryError) as err:
        ws.save("redlines", layer_of(4), author="a", reason="r", within=study)
    # square 2 (x 664,000..665,000) is wholly outside: 1,000,000 m2; square 3 too
    assert "r2 (1,000,000.0 m2 outside)" in str(err.value) and "r3" in str(err.value) and "'r1" not in str(err.value)
    with pytest.raises(DataError, match="GeoDataFrame or GeoSeries with a CRS"):
        ws.save("redlines", layer_of(1), author="a", reason="r", within=shapely.box(0, 0, 1, 1))
    assert len(ws.history("redlines")) == 1


def test_z_coordinates_are_dropped(ws: Workspace):
    poly = shapely.Polygon([(X0, Y0, 5), (X0 + 100, Y0, 5), (X0 + 100, Y0 + 100, 5), (X0, Y0 + 100, 5)])
    res = ws.save("redlines", gpd.GeoDataFrame({"feature_id": ["z"]}, geometry=[poly], crs=UTM), author="a", reason="r")
    assert res.dropped_z and not ws.load("redlines").has_z.any()


def test_gcj02_input_is_converted(ws: Workspace):
    gcj = gpd.read_file(shared_data("admin", "jiangbei_districts_amap_gcj02.geojson"))
    wgs = gpd.read_file(shared_data("admin", "nanjing_districts_amap_wgs84.geojson")).set_index("adcode")
    res = ws.save("districts", gcj[["adcode", "name", "geometry"]], author="a", reason="Amap import", id_field="adcode", coord_system="gcj02")
    assert res.converted_from == "gcj02"
    stored = ws.load("districts").to_crs(UTM)
    raw = gcj.to_crs(UTM)
    ref = wgs.to_crs(UTM)
    for code, conv, before in zip(stored["adcode"], stored.geometry, raw.geometry):
        target = ref.geometry[int(code)].centroid
        # raw GCJ-02 sits ~540-590 m off; converted, the two Amap-derived sources agree to < 100 m
        assert before.centroid.distance(target) > 400
        assert conv.centroid.distance(target) < 100


def test_real_study_area_refuses_a_polygon_south_of_the_river(ws: Workspace):
    districts = gpd.read_file(shared_data("admin", "nanjing_districts_tianditu.geojson"))
    jiangbei = districts[districts["name_en"].isin(["Pukou District", "Liuhe District"])]
    inside = districts.loc[districts["name_en"] == "Pukou District"].to_crs(UTM).representative_point().iloc[0]
    outside = districts.loc[districts["name_en"] == "Jiangning District"].to_crs(UTM).representative_point().iloc[0]
    gdf = gpd.GeoDataFrame({"feature_id": ["pukou", "jiangning"]}, geometry=[inside.buffer(300), outside.buffer(300)], crs=UTM)
    with pytest.raises(GeometryError, match=r"\['jiangning \("):
        ws.save("redlines", gdf, author="a", reason="r", within=jiangbei)
    assert ws.save("redlines", gdf.iloc[:1], author="a", reason="r", within=jiangbei).info.version == 1


# ---------------------------------------------------------------------------------------------
# versions, history, restore, hashes


def test_every_save_is_a_new_version_and_nothing_is_overwritten(ws: Workspace, backend):
    ws.save("redlines", layer_of(1), author="alice", reason="one")
    ws.save("redlines", layer_of(2), author="bob", reason="two")
    ws.save("redlines", layer_of(3), author="carol", reason="three")
    hist = ws.history("redlines")
    assert [(v.version, v.author, v.reason, v.feature_count, v.parent_version) for v in hist] == [
        (1, "alice", "one", 1, None), (2, "bob", "two", 2, 1), (3, "carol", "three", 3, 2)]
    assert all(v.saved_at.tzinfo == timezone.utc for v in hist)
    assert hist[0].saved_at <= hist[1].saved_at <= hist[2].saved_at
    assert [len(ws.load("redlines", v)) for v in (1, 2, 3)] == [1, 2, 3]
    assert len(ws.load("redlines")) == 3
    assert backend.count(ws, "redlines") == 1 + 2 + 3
    with pytest.raises(DataError, match=r"no version 4 \(versions 1\.\.3\)"):
        ws.load("redlines", 4)
    with pytest.raises(DataError, match="no layer 'wetlands'.*redlines"):
        ws.load("wetlands")


def test_history_is_immutable(ws: Workspace):
    ws.save("redlines", layer_of(1), author="alice", reason="one")
    hist = ws.history("redlines")
    assert isinstance(hist, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hist[0].author = "mallory"  # type: ignore[misc]
    assert ws.history("redlines")[0].author == "alice"
    assert hist[0].as_dict()["saved_at"].endswith("Z")


def test_restore_appends_a_copy_with_the_same_hash(ws: Workspace):
    v1 = ws.save("redlines", layer_of(2), author="alice", reason="one").info
    v2 = ws.save("redlines", layer_of(3, side=500), author="bob", reason="smaller squares").info
    assert v1.sha256 != v2.sha256
    v3 = ws.restore("redlines", 1, author="carol", reason="revert bob's draft")
    assert (v3.version, v3.parent_version, v3.restored_from, v3.sha256, v3.feature_count) == (3, 2, 1, v1.sha256, 2)
    a, b = ws.load("redlines", 1), ws.load("redlines", 3)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=0).all()
    assert np.allclose(b.to_crs(UTM).area, 1_000_000.0, atol=1e-3)
    assert len(ws.history("redlines")) == 3 and ws.load("redlines", 2).attrs["store_sha256"] == v2.sha256


def test_hash_ignores_row_order_and_survives_a_load_save_round_trip(ws: Workspace):
    gdf = layer_of(4)
    first = ws.save("redlines", gdf, author="a", reason="r").info
    shuffled = ws.save("redlines", gdf.iloc[[2, 0, 3, 1]], author="a", reason="same, other order").info
    again = ws.save("redlines", ws.load("redlines"), author="a", reason="load and save").info
    assert first.sha256 == shuffled.sha256 == again.sha256
    assert list(ws.load("redlines", 2)["feature_id"]) == ["r2", "r0", "r3", "r1"]  # row order kept
    changed = gdf.copy()
    changed.loc[0, "grade"] = 99
    assert ws.save("redlines", changed, author="a", reason="edit").info.sha256 != first.sha256


def test_attribute_types_round_trip(ws: Workspace):
    gdf = gpd.GeoDataFrame(
        {
            "feature_id": ["a", "b", "c"],
            "名称": ["老山", None, "八卦洲"],
            "count": [1, 2, 3],
            "maybe": pd.array([1, None, 3], dtype="Int64"),
            "ratio": [0.5, float("nan"), 1e-9],
            "flag": [True, False, True],
            "approved": pd.to_datetime(["2026-01-02 00:00:00", "2026-03-04 05:06:07", None]),
            "mixed": pd.Series([1, "x", None], dtype="object"),
            'x"); DROP TABLE versions; --': ["a", "b", "c"],
        },
        geometry=[square(0), square(1), square(2)],
        crs=UTM,
    )
    ws.save("redlines", gdf, author="a", reason="r")
    back = ws.load("redlines")
    assert list(back.columns) == list(gdf.columns)
    assert back["count"].dtype == "int64" and back["maybe"].dtype == "Int64" and back["ratio"].dtype == "float64"
    assert back["flag"].dtype == bool and pd.api.types.is_datetime64_any_dtype(back["approved"])
    assert back["名称"].tolist()[0] == "老山" and pd.isna(back["名称"].iloc[1])
    assert back["maybe"].isna().tolist() == [False, True, False] and np.isnan(back["ratio"].iloc[1])
    assert back["approved"].iloc[1] == pd.Timestamp("2026-03-04 05:06:07") and pd.isna(back["approved"].iloc[2])
    assert back["mixed"].tolist() == [1, "x", None]
    assert back['x"); DROP TABLE versions; --'].tolist() == ["a", "b", "c"]
    with pytest.raises(SchemaError, match="column 'bad' of feature 'a' holds a list"):
        ws.save("redlines", gdf.assign(bad=[[1], [2], [3]]), author="a", reason="r")
    with pytest.raises(SchemaError, match="infinite"):
        ws.save("redlines", gdf.assign(ratio=[1.0, float("inf"), 2.0]), author="a", reason="r")


# ---------------------------------------------------------------------------------------------
# hostile input


@pytest.mark.parametrize("name", [
    'redlines"; DROP TABLE versions; --', "red lines", "Redlines", "1redlines", "", "../etc", "红线",
    "versions", "gpkg_contents", "sqlite_master", "rtree_x", "store_meta", "a" * 49, None, 7,
])
def test_hostile_layer_names_are_refused(ws: Workspace, backend, name):
    before = backend.snapshot(ws)
    with pytest.raises(SchemaError):
        ws.save(name, layer_of(1), author="a", reason="r")
    assert backend.snapshot(ws) == before


def test_author_and_reason_are_stored_verbatim_as_parameters(ws: Workspace, backend):
    author = "Robert'); DROP TABLE versions;--"
    reason = "wetland edge moved 30 m\n\"quoted\" -- comment; DELETE FROM redlines"
    ws.save("redlines", layer_of(1), author=author, reason=reason)
    v = ws.history("redlines")[0]
    assert (v.author, v.reason) == (author, reason)
    assert backend.count(ws, "versions") == 1 and backend.count(ws, "redlines") == 1
    for bad_author in ("", "   ", "a\x00b", "line\nbreak", "x" * 101):
        with pytest.raises(DataError):
            ws.save("redlines", layer_of(1), author=bad_author, reason="r")
    with pytest.raises(UnsafeInputError, match="control character"):
        ws.save("redlines", layer_of(1), author="a", reason="bell\x07")
    with pytest.raises(DataError, match="reason is empty"):
        ws.save("redlines", layer_of(1), author="a", reason=" ")
    assert len(ws.history("redlines")) == 1


def test_stored_rows_cannot_be_updated_or_deleted(gpkg_ws: Workspace):
    ws = gpkg_ws  # about the GeoPackage file itself (PostGIS: test_store_pg.py)
    ws.save("redlines", layer_of(2), author="a", reason="r")
    ws.export("redlines", ws.path.parent / "x.geojson")
    con = sqlite3.connect(ws.path)
    try:
        for sql in ("UPDATE redlines SET feature_id='x'", "DELETE FROM redlines", "UPDATE versions SET author='mallory'",
                    "DELETE FROM versions", "DELETE FROM exports", "UPDATE store_meta SET value='4326'",
                    "INSERT INTO versions (layer, version, author, saved_at_utc, reason, feature_count, sha256, id_field, columns_json, repaired_json) "
                    "VALUES ('redlines', 5, 'm', 't', 'r', 0, 's', 'i', '[]', '[]')"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only|gap-free"):
                con.execute(sql)
    finally:
        con.close()
    assert ws.verify() == []


def test_content_changed_outside_the_store_is_detected(gpkg_ws: Workspace):
    ws = gpkg_ws  # about the GeoPackage file itself (PostGIS: test_store_pg.py)
    ws.save("redlines", layer_of(2), author="a", reason="r")
    con = sqlite3.connect(ws.path)
    con.execute("DROP TRIGGER redlines_store_no_update")  # a determined outsider
    con.execute("UPDATE redlines SET attrs_json = replace(attrs_json, '1', '9')")
    con.commit()
    con.close()
    with pytest.raises(DataError, match="changed outside the store"):
        ws.load("redlines")
    assert any("changed outside the store" in p for p in ws.verify())


# ---------------------------------------------------------------------------------------------
# conflicts and failed saves


def test_conflict_names_who_and_when_and_how_to_merge(ws: Workspace, backend):
    ws.save("redlines", layer_of(1), author="alice", reason="first", expected_parent=0)
    mine = ws.load("redlines")  # bob starts editing version 1
    theirs = ws.save("redlines", layer_of(2), author="carol", reason="added r1", expected_parent=1).info
    before = backend.snapshot(ws)
    with pytest.raises(ConflictError) as err:
        ws.save("redlines", mine, author="bob", reason="my edit", expected_parent=mine.attrs["store_version"])
    msg = str(err.value)
    assert "based on version 1" in msg and "carol saved version 2" in msg and theirs.saved_at.strftime("%Y-%m-%dT%H:%M:%S") in msg
    assert "added r1" in msg and "expected_parent=2" in msg and "load the latest" in msg
    assert isinstance(err.value, DataError) and err.value.kind == "conflict" and err.value.latest.author == "carol"
    assert backend.snapshot(ws) == before and len(ws.history("redlines")) == 2
    # merging: reload, re-apply, save against the latest
    merged = ws.load("redlines")
    assert ws.save("redlines", merged, author="bob", reason="my edit, merged", expected_parent=merged.attrs["store_version"]).info.version == 3
    with pytest.raises(ConflictError):
        ws.save("redlines", layer_of(1), author="dave", reason="new layer?", expected_parent=0)
    with pytest.raises(DataError, match="has only 3 version"):
        ws.save("redlines", layer_of(1), author="dave", reason="r", expected_parent=7)


def test_invalid_input_leaves_the_file_exactly_as_it_was(ws: Workspace, backend):
    ws.save("redlines", layer_of(2), author="a", reason="r")
    before = backend.snapshot(ws)
    bad = layer_of(3)
    bad.loc[2, "geometry"] = shapely.LineString([(X0, Y0), (X0 + 1, Y0)])  # found on the third feature
    with pytest.raises(GeometryError, match="r2 \\(LineString\\)"):
        ws.save("redlines", bad, author="a", reason="r")
    assert backend.snapshot(ws) == before


def _fail_on_third_call(monkeypatch, module, name: str) -> None:
    """Make ``module.name`` (the per-row geometry encoder of a backend) fail on its third row."""
    real = getattr(module, name)
    calls = {"n": 0}

    def flaky(geom, srs_id):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk vanished (injected)")
        return real(geom, srs_id)

    monkeypatch.setattr(module, name, flaky)


def test_failure_inside_the_transaction_rolls_back_everything(ws: Workspace, backend, monkeypatch):
    # first save of a new layer fails after two rows: no table, no version, same bytes (same rows)
    before = backend.snapshot(ws)
    backend.fail_on_third_row(monkeypatch)
    with pytest.raises(RuntimeError, match="injected"):
        ws.save("redlines", layer_of(4), author="a", reason="r")
    assert backend.snapshot(ws) == before and ws.layers() == ()
    if backend.kind == "gpkg":
        assert "redlines" not in [str(n) for n, _ in pyogrio.list_layers(ws.path)]
    monkeypatch.undo()
    ws.save("redlines", layer_of(2), author="a", reason="r")
    # a later save fails after two of its four rows: the workspace is as before afterwards
    before = backend.snapshot(ws)
    backend.fail_on_third_row(monkeypatch)
    with pytest.raises(RuntimeError, match="injected"):
        ws.save("redlines", layer_of(4), author="b", reason="r")
    assert backend.snapshot(ws) == before
    monkeypatch.undo()
    assert backend.count(ws, "redlines") == 2
    assert ws.save("redlines", layer_of(3), author="c", reason="r").info.version == 2  # no gap
    assert ws.verify() == []


N_KILLED = 400


def _die_mid_save(path: str, started) -> None:
    """Child process: a save of 400 small squares with a 2-page SQLite cache (so dirty pages spill
    into the workspace file before commit); after the last row is written it signals and hangs."""
    real_blob, real_connect = store._gpkg_blob, Workspace._connect
    calls = {"n": 0}

    def slow(geom, srs_id):
        calls["n"] += 1
        if calls["n"] == N_KILLED:
            started.set()
            time.sleep(120)
        return real_blob(geom, srs_id)

    def small_cache(self):
        con = real_connect(self)
        con.execute("PRAGMA cache_size = 2")
        return con

    store._gpkg_blob = slow
    Workspace._connect = small_cache
    grid = [shapely.box(X0 + 150 * (i % 20), Y0 + 150 * (i // 20), X0 + 150 * (i % 20) + 100, Y0 + 150 * (i // 20) + 100) for i in range(N_KILLED)]
    gdf = gpd.GeoDataFrame({"feature_id": [f"k{i}" for i in range(N_KILLED)], "note": ["x" * 200] * N_KILLED}, geometry=grid, crs=UTM)
    Workspace(path).save("redlines", gdf, author="killed", reason="never lands")


def test_writer_killed_mid_save_leaves_the_workspace_intact(gpkg_ws: Workspace):
    ws = gpkg_ws  # about the GeoPackage file itself (PostGIS: test_store_pg.py)
    ws.save("redlines", layer_of(2), author="a", reason="r")
    before = ws.history("redlines")
    before_bytes = sha256_file(ws.path)
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_die_mid_save, args=(str(ws.path), started))
    proc.start()
    try:
        assert started.wait(60), "the child never reached the end of its rows"
        # mid-transaction: the file already holds some of the new pages, the journal the old ones
        journal = ws.path.with_name(ws.path.name + "-journal")
        assert journal.exists() and sha256_file(ws.path) != before_bytes
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.join(30)
    assert proc.exitcode == -signal.SIGKILL
    assert ws.history("redlines") == before  # the hot journal is rolled back on the next open
    assert count_rows(ws.path, "redlines") == 2 and ws.verify() == []
    assert sha256_file(ws.path) == before_bytes  # byte for byte as before the killed save
    assert ws.save("redlines", layer_of(1), author="b", reason="after the crash").info.version == 2


# ---------------------------------------------------------------------------------------------
# several writer processes


N_PROCS, N_SAVES, N_FEATURES = 4, 10, 3


def _blind_writer(target: tuple, worker: int, start_at: float) -> None:
    while time.time() < start_at:
        time.sleep(0.005)
    ws = open_target(target, crs=4490)  # all four create the (missing) workspace at the same moment
    for k in range(N_SAVES):
        ws.save("redlines", layer_of(N_FEATURES, prefix=f"w{worker}s{k}f"), author=f"officer{worker}", reason=f"save {k}")


def test_four_writer_processes_lose_no_version_and_no_row(backend):
    target = backend.target("shared")
    ctx = mp.get_context("spawn")
    start_at = time.time() + 4.0  # all four start together, once imported
    procs = [ctx.Process(target=_blind_writer, args=(target, w, start_at)) for w in range(N_PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    assert [p.exitcode for p in procs] == [0] * N_PROCS
    ws = open_target(target)
    hist = ws.history("redlines")
    total = N_PROCS * N_SAVES  # 4 x 10 = 40 versions
    assert [v.version for v in hist] == list(range(1, total + 1))  # unique and gap-free
    assert [v.parent_version for v in hist] == [None] + list(range(1, total))
    assert sorted(pd.Series([v.author for v in hist]).value_counts().tolist()) == [N_SAVES] * N_PROCS
    assert all(v.feature_count == N_FEATURES for v in hist)
    assert backend.count(ws, "redlines") == total * N_FEATURES  # 40 x 3 = 120 rows
    # each officer's saves are in his own order, every one with its own rows
    for w in range(N_PROCS):
        mine = [v for v in hist if v.author == f"officer{w}"]
        assert [v.reason for v in mine] == [f"save {k}" for k in range(N_SAVES)]
        assert set(ws.load("redlines", mine[-1].version)["feature_id"]) == {f"w{w}s{N_SAVES - 1}f{i}" for i in range(N_FEATURES)}
    assert ws.verify() == []
    if backend.kind == "gpkg":
        con = sqlite3.connect(ws.path)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        con.close()
        assert len(gpd.read_file(ws.path, layer="redlines", engine="pyogrio", use_arrow=True)) == total * N_FEATURES


def _optimistic_editor(target: tuple, worker: int, n_edits: int, start_at: float, conflicts) -> None:
    """Read-modify-write with the optimistic check: add one polygon per edit, retry on conflict."""
    ws = open_target(target)
    while time.time() < start_at:
        time.sleep(0.005)
    for k in range(n_edits):
        while True:
            base = ws.load("redlines")
            new = gpd.GeoDataFrame({"feature_id": [f"w{worker}e{k}"], "name": ["x"], "grade": [0]},
                                   geometry=[square(10 * worker + k, 100).buffer(0)], crs=UTM).to_crs(base.crs)
            edited = pd.concat([base, new], ignore_index=True)
            try:
                ws.save("redlines", edited, author=f"officer{worker}", reason=f"add {k}", expected_parent=base.attrs["store_version"])
                break
            except ConflictError:
                conflicts.put(worker)


def test_optimistic_editors_lose_no_update(backend):
    target = backend.target("edits")
    open_target(target).save("redlines", layer_of(1, prefix="seed"), author="lead", reason="seed")
    ctx = mp.get_context("spawn")
    conflicts = ctx.Queue()
    n_procs, n_edits = 3, 4
    start_at = time.time() + 4.0
    procs = [ctx.Process(target=_optimistic_editor, args=(target, w, n_edits, start_at, conflicts)) for w in range(n_procs)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    assert [p.exitcode for p in procs] == [0] * n_procs
    ws = open_target(target)
    latest = ws.load("redlines")
    # 1 seed + 3 x 4 edits: every polygon anyone added is in the latest version
    assert len(ws.history("redlines")) == 1 + n_procs * n_edits
    assert set(latest["feature_id"]) == {"seed0"} | {f"w{w}e{k}" for w in range(n_procs) for k in range(n_edits)}
    assert ws.verify() == []


# ---------------------------------------------------------------------------------------------
# exports


def test_exports_in_every_format_and_crs(ws: Workspace, backend, tmp_path: Path):
    ws.save("redlines", layer_of(2), author="a", reason="one")
    ws.save("redlines", layer_of(3), author="a", reason="two")
    out = tmp_path / "out"
    for name, fmt, crs in [("v1.gpkg", "gpkg", 4490), ("v1.geojson", "geojson", 4326), ("v1.shp.zip", "shp.zip", 4326)]:
        res = ws.export("redlines", out / name, version=1, crs=crs)
        assert (res.fmt, res.crs_epsg, res.version, res.feature_count) == (fmt, crs, 1, 2)
        assert res.sha256 == sha256_file(out / name)
        back = gpd.read_file(out / name, engine="pyogrio")
        assert len(back) == 2 and back.crs.to_epsg() == crs
        assert np.allclose(back.to_crs(UTM).area, 1_000_000.0, atol=1e-2)
        assert list(back["feature_id"]) == ["r0", "r1"] and list(back["name"]) == ["红线 0", "红线 1"]
    with zipfile.ZipFile(out / "v1.shp.zip") as zf:
        assert sorted(zf.namelist()) == ["v1.cpg", "v1.dbf", "v1.prj", "v1.shp", "v1.shx"]
    assert sorted(p.name for p in out.iterdir()) == ["v1.geojson", "v1.gpkg", "v1.shp.zip"]  # no temp files left
    assert len(gpd.read_file(out / "v1.gpkg", layer="redlines")) == 2
    assert backend.count(ws, "exports") == 3


def test_export_overwrites_only_its_own_unchanged_export(ws: Workspace, tmp_path: Path):
    ws.save("redlines", layer_of(2), author="a", reason="one")
    target = tmp_path / "redlines.geojson"
    ws.export("redlines", target)
    ws.save("redlines", layer_of(3), author="a", reason="two")
    res = ws.export("redlines", target)  # our own earlier export, unchanged: replaced
    assert res.replaced_earlier_export and len(gpd.read_file(target)) == 3
    target.write_text(target.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # someone edited it
    edited = sha256_file(target)
    with pytest.raises(DataError, match="not an unchanged earlier export"):
        ws.export("redlines", target)
    assert sha256_file(target) == edited
    foreign = tmp_path / "report.gpkg"
    foreign.write_bytes(b"someone's document")
    with pytest.raises(DataError, match="choose a new file name"):
        ws.export("redlines", foreign)
    assert foreign.read_bytes() == b"someone's document"
    if isinstance(ws, Workspace):
        with pytest.raises(DataError):
            ws.export("redlines", ws.path)  # never onto the workspace itself
    with pytest.raises(DataError, match="does not end like a shp.zip"):
        ws.export("redlines", tmp_path / "x.geojson", fmt="shp.zip")
    with pytest.raises(DataError, match="not offered"):
        ws.export("redlines", tmp_path / "x.kml")
    with pytest.raises(DataError, match="EPSG:3857 is not offered"):
        ws.export("redlines", tmp_path / "x.gpkg", crs=3857)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_failed_export_leaves_the_target_alone(ws: Workspace, tmp_path: Path, monkeypatch):
    ws.save("redlines", layer_of(2), author="a", reason="one")
    target = tmp_path / "redlines.gpkg"
    ws.export("redlines", target)
    before = sha256_file(target)

    def half_written(gdf, tmp, **kw):
        tmp.write_bytes(b"partial")
        raise OSError("disk full (injected)")

    monkeypatch.setattr(store, "_write_export", half_written)
    with pytest.raises(OSError, match="injected"):
        ws.export("redlines", target)
    assert sha256_file(target) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ---------------------------------------------------------------------------------------------
# interoperability: a GIS client may add an R-tree spatial index


def test_saves_still_work_after_a_gis_client_adds_a_spatial_index(gpkg_ws: Workspace):
    ws = gpkg_ws  # about the GeoPackage file itself (PostGIS: test_store_pg.py)
    ws.save("redlines", layer_of(1), author="a", reason="r")
    con = sqlite3.connect(ws.path)
    # what GDAL/QGIS create for a spatial index (GeoPackage rtree extension, insert trigger)
    con.executescript(
        "CREATE VIRTUAL TABLE rtree_redlines_geom USING rtree(id, minx, maxx, miny, maxy);"
        "CREATE TRIGGER rtree_redlines_geom_insert AFTER INSERT ON redlines "
        "WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN "
        "INSERT OR REPLACE INTO rtree_redlines_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;"
    )
    con.close()
    ws.save("redlines", layer_of(2), author="a", reason="r")
    con = sqlite3.connect(ws.path)
    rows = con.execute("SELECT minx, maxx FROM rtree_redlines_geom ORDER BY id").fetchall()
    con.close()
    assert len(rows) == 2  # the two rows of version 2
    assert 118.6 < rows[0][0] < rows[0][1] < 118.8


def test_a_busy_workspace_gives_a_clear_error(gpkg_ws: Workspace):
    ws = gpkg_ws  # about the GeoPackage file itself (PostGIS: test_store_pg.py)
    ws.save("redlines", layer_of(1), author="a", reason="r")
    holder = sqlite3.connect(ws.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    try:
        impatient = Workspace(ws.path, busy_timeout_s=0.2)
        t0 = time.perf_counter()
        with pytest.raises(store.StoreBusyError, match="locked by another writer for more than 0.2 s"):
            impatient.save("redlines", layer_of(2), author="b", reason="r")
        assert time.perf_counter() - t0 < 5
        assert len(impatient.history("redlines")) == 1  # readers still read meanwhile
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert ws.save("redlines", layer_of(2), author="b", reason="r").info.version == 2


def test_store_shares_a_geopackage_with_gdal_layers(tiny, tmp_path: Path):
    # an existing GeoPackage written by GDAL (the tiny zones) becomes a workspace; its layer stays
    path = tmp_path / "project.gpkg"
    path.write_bytes(Path(tiny["zones"]).read_bytes())
    ws = Workspace(path)
    ws.save("redlines", layer_of(1), author="a", reason="r")
    assert len(gpd.read_file(path, layer="zones")) == 3
    # GDAL adds a layer of its own (with its R-tree index) to the workspace: the store carries on
    scen = gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.box(118.7, 32.1, 118.71, 32.11)], crs=4490)
    pyogrio.write_dataframe(scen, path, layer="scenario")
    assert ws.save("redlines", layer_of(2), author="b", reason="r").info.version == 2
    # but GDAL cannot slip rows into a recorded version
    rows = gpd.read_file(path, layer="redlines")
    with pytest.raises(Exception, match="sealed"):
        pyogrio.write_dataframe(rows.iloc[:1].assign(feature_id="smuggled"), path, layer="redlines", append=True)
    assert ws.verify() == [] and count_rows(path, "redlines") == 3
    with pytest.raises(SchemaError, match="already has a table or layer named 'zones'"):
        ws.save("zones", layer_of(1), author="a", reason="r")
    pyogrio.write_dataframe(scen, path, layer="Wetlands")
    with pytest.raises(SchemaError, match="named 'wetlands' \\(any case\\)"):
        ws.save("wetlands", layer_of(1), author="a", reason="r")
    a_sqlite_db = tmp_path / "plain.gpkg"
    sqlite3.connect(a_sqlite_db).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(DataError, match="not a GeoPackage"):
        Workspace(a_sqlite_db)


# ---------------------------------------------------------------------------------------------
# read-only opening (Workspace.open_existing): never writes to the file


def test_open_existing_refuses_a_plain_geopackage_and_leaves_it_unchanged(tmp_path: Path):
    plain = tmp_path / "plain.gpkg"
    layer_of(2).to_file(plain, layer="zones", driver="GPKG", engine="pyogrio")
    before = sha256_file(plain)
    with pytest.raises(store.NotAWorkspaceError) as err:
        Workspace.open_existing(plain)
    assert isinstance(err.value, DataError)
    assert "plain.gpkg" in str(err.value) and "is not a workspace (no store tables)" in err.value.problem and err.value.fix
    assert sha256_file(plain) == before  # Workspace(plain) would have added the store tables
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.gpkg"]  # no journal left either
    missing = tmp_path / "missing.gpkg"
    with pytest.raises(DataError, match="does not exist"):
        Workspace.open_existing(missing)
    assert not missing.exists()
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    with pytest.raises(store.NotAWorkspaceError):
        Workspace.open_existing(empty)
    assert empty.read_bytes() == b""


def test_open_existing_reads_a_workspace_and_refuses_every_write(backend, tmp_path: Path):
    ws = backend.open(crs=4490)
    ws.save("redlines", layer_of(2), author="a", reason="r")
    before = backend.snapshot(ws)
    ro = reopen_existing(ws)
    assert ro.read_only and ro.crs_epsg == 4490 and ro.layers() == ("redlines",)
    gdf = ro.load("redlines")
    assert list(gdf["feature_id"]) == ["r0", "r1"] and ro.history("redlines")[0].author == "a"
    assert ro.verify() == []
    for write in (lambda: ro.save("redlines", layer_of(1), author="b", reason="r"),
                  lambda: ro.restore("redlines", 1, author="b", reason="r"),
                  lambda: ro.export("redlines", tmp_path / "out.geojson")):
        with pytest.raises(DataError, match="opened read-only"):
            write()
    with ro._transaction(write=False, source="test") as con:  # the database refuses writes too
        if backend.kind == "gpkg":  # SQLite mode=ro
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                con.execute("CREATE TABLE sneaky (x)")
        else:  # every transaction READ ONLY
            import psycopg

            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                con.execute(f'CREATE TABLE "{ro.schema}".sneaky (x int)')
    assert backend.snapshot(ws) == before and not (tmp_path / "out.geojson").exists()
    with pytest.raises(CRSMismatchError):
        reopen_existing(ws, crs=4326)


def reopen_existing(ws, **kw):
    """``open_existing`` of the same workspace, on its backend."""
    if isinstance(ws, Workspace):
        return Workspace.open_existing(ws.path, **kw)
    return PostgisWorkspace.open_existing(ws.url, schema=ws.schema, **kw)
