"""Bad input gets a clear DataError naming the file, the problem and the fix."""
from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from geodata.errors import CRSMismatchError, DataError, GridError, MissingCRSError, NoDataError, SchemaError, UnsafeInputError
from geodata.rasters import check_categorical, check_continuous, check_same_grid, read_info
from geodata.vectors import load_zones
from sinks.ledger.inventory import load_emissions
from sinks.pipeline import run_assessment
from tests.conftest import LC_T0, write_raster


def test_raster_without_crs(tmp_path):
    p = write_raster(tmp_path / "nocrs.tif", LC_T0, crs=None)
    with pytest.raises(MissingCRSError) as e:
        read_info(p)
    assert "nocrs.tif" in str(e.value) and "no coordinate reference system" in str(e.value) and "EPSG:4490" in e.value.fix


def test_rotated_and_non_square_pixels(tmp_path):
    rot = write_raster(tmp_path / "rot.tif", LC_T0, transform=Affine(30, 5, 600000, 5, -30, 3550120))
    with pytest.raises(GridError, match="rotated"):
        read_info(rot)
    rect = write_raster(tmp_path / "rect.tif", LC_T0, transform=Affine(30, 0, 600000, 0, -15, 3550120))
    with pytest.raises(GridError, match="not square") as e:
        read_info(rect)
    assert "gdalwarp" in e.value.fix


def test_landcover_without_nodata(tmp_path):
    p = write_raster(tmp_path / "nond.tif", LC_T0, nodata=None)
    with pytest.raises(NoDataError) as e:
        check_categorical(read_info(p))
    assert "nond.tif" in str(e.value) and "-a_nodata" in e.value.fix


def test_continuous_int_without_nodata(tmp_path):
    p = write_raster(tmp_path / "refl.tif", np.full((4, 4), -9999, dtype="int16"), nodata=None)
    with pytest.raises(NoDataError, match="-9999"):
        check_continuous(read_info(p))


def test_float_landcover_refused(tmp_path):
    p = write_raster(tmp_path / "f.tif", LC_T0.astype("float32"), nodata=0)
    with pytest.raises(DataError, match="integer class codes"):
        check_categorical(read_info(p))


def test_mismatched_crs_and_grid(tmp_path):
    a = read_info(write_raster(tmp_path / "a.tif", LC_T0))
    b = read_info(write_raster(tmp_path / "b.tif", LC_T0, crs="EPSG:32651"))
    with pytest.raises(CRSMismatchError) as e:
        check_same_grid(b, a)
    assert "EPSG:32651" in str(e.value) and "EPSG:32650" in str(e.value)
    c = read_info(write_raster(tmp_path / "c.tif", LC_T0, transform=Affine(30, 0, 600030, 0, -30, 3550120)))
    with pytest.raises(GridError, match="differs from a.tif"):
        check_same_grid(c, a)


def test_broken_and_hostile_raster(tmp_path):
    p = tmp_path / "broken.tif"
    p.write_bytes(b"II*\x00" + b"\x00" * 100)
    with pytest.raises(DataError, match="broken.tif: GDAL cannot read it"):
        read_info(p)


def test_geojson_with_projected_numbers(tmp_path):
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"zone_id": "a"},
          "geometry": {"type": "Polygon", "coordinates": [[[660000, 3550000], [661000, 3550000], [661000, 3551000], [660000, 3550000]]]}}]}
    p = tmp_path / "proj.geojson"
    p.write_text(json.dumps(fc))
    with pytest.raises(DataError) as e:
        load_zones(p, id_field="zone_id")
    assert "proj.geojson" in str(e.value) and "projected metres" in e.value.problem


def _shp_zip(gdf, with_prj=True, extra=None) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        gdf.to_file(Path(d) / "z.shp")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in Path(d).iterdir():
                if f.suffix == ".prj" and not with_prj:
                    continue
                zf.write(f, f.name)
            for name, data in (extra or {}).items():
                zf.writestr(name, data)
        return buf.getvalue()


def _zones():
    return gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[shapely.box(118.6, 32.0, 118.7, 32.1)], crs=4326)


def test_zipped_shapefile_from_memory_and_without_prj():
    ok = load_zones(_shp_zip(_zones()), id_field="zone_id", name="zones.zip")
    assert ok.zone_ids == ["a"] and ok.gdf.crs.to_epsg() == 4326
    with pytest.raises(MissingCRSError) as e:
        load_zones(_shp_zip(_zones(), with_prj=False), id_field="zone_id", name="noprj.zip")
    assert "noprj.zip" in str(e.value)


def test_zip_traversal_and_bomb():
    with pytest.raises(UnsafeInputError, match="parent-directory"):
        load_zones(_shp_zip(_zones(), extra={"../evil.txt": "x"}), id_field="zone_id", name="evil.zip")
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        load_zones(_shp_zip(_zones(), extra={"zeros.bin": b"\0" * (20 * 2**20)}), id_field="zone_id", name="bomb.zip")
    with pytest.raises(DataError, match="not a readable zip"):
        load_zones(b"PK\x03\x04garbage", id_field="zone_id", name="bad.zip")


def test_bow_tie_is_repaired_and_reported(tmp_path):
    bow = shapely.Polygon([(118.6, 32.0), (118.7, 32.1), (118.7, 32.0), (118.6, 32.1), (118.6, 32.0)])
    assert not bow.is_valid and bow.area == 0  # what a naive tool would report
    gdf = gpd.GeoDataFrame({"zone_id": ["bow", "ok"]}, geometry=[bow, shapely.box(118.8, 32.0, 118.9, 32.1)], crs=4326)
    zl = load_zones(gdf.to_json().encode(), id_field="zone_id", name="bow.geojson")
    assert zl.repaired_ids == ("bow",)
    g = zl.gdf.set_index("zone_id").geometry["bow"]
    assert g.is_valid and g.geom_type in ("Polygon", "MultiPolygon")
    # both triangles kept: 2 x (0.1 x 0.05 / 2) = 0.005 square degrees (buffer(0) keeps only half)
    assert g.area == pytest.approx(0.005)


def test_zone_schema_errors(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a", "a"]}, geometry=[shapely.box(118.6, 32.0, 118.7, 32.1)] * 2, crs=4326)
    with pytest.raises(SchemaError, match="no column 'zone_id'"):
        load_zones(gdf.to_json().encode(), id_field="zone_id")
    with pytest.raises(SchemaError, match="repeats the values"):
        load_zones(gdf.to_json().encode(), id_field="name")


def test_broken_csv_inventory_rows_are_split_not_dropped(tmp_path):
    text = ("year,zone_id,sector,emissions_tco2e,scope,basis,source,illustrative\n"
            "2020,pukou,industry,100,s1,b,src,true\n"
            "2020,pukou,energy,inf,s1,b,src,true\n"
            "2020,pukou,transport,,s1,b,src,true\n"
            "20x0,pukou,buildings,5,s1,b,src,true\n"
            "2021,nowhere,industry,5,s1,b,src,true\n"
            "2021,pukou,farming,5,s1,b,src,true\n"
            "2021,pukou,industry,-5,s1,b,src,true\n"
            "2021,pukou,energy,\"1,200\",s1,b,src,true\n")
    p = tmp_path / "inv.csv"
    p.write_bytes(text.encode("gb18030"))
    inv = load_emissions(p, zone_ids=["pukou"])
    assert inv.rows["emissions_tco2e"].tolist() == [100.0, 1200.0]
    assert len(inv.rejected) == 6
    assert dict(zip(inv.rejected["row"], inv.rejected["reason_code"])) == {
        3: "bad_value", 4: "bad_value", 5: "bad_year", 6: "unknown_zone", 7: "unknown_sector", 8: "negative"}
    assert "negative" in " ".join(inv.rejected["reason"])


def test_gbk_csv_with_chinese_is_read(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("year,zone_id,sector,emissions_tco2e,source\n2020,浦口,industry,1,统计年鉴\n".encode("gbk"))
    inv = load_emissions(p)
    assert inv.rows["zone_id"].tolist() == ["浦口"] and inv.rows["source"].tolist() == ["统计年鉴"]


def test_config_errors_name_the_file(tiny):
    bad = tiny["dir"] / "bad.toml"
    bad.write_text("[landcover.years\n")
    with pytest.raises(DataError, match="bad.toml: it is not valid TOML"):
        run_assessment(bad)


def test_repeated_inventory_rows_are_all_rejected_but_bad_rows_do_not_count(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("year,zone_id,sector,emissions_tco2e,source\n"
                 "2020,a,industry,1,s\n2020,a,industry,2,s\n"   # a real repeat: both rejected
                 "2021,a,energy,3,s\n2021,a,energy,-1,s\n")     # the negative row is not a repeat
    inv = load_emissions(p)
    assert inv.rows[["year", "sector", "emissions_tco2e"]].values.tolist() == [[2021, "energy", 3.0]]
    codes = dict(zip(inv.rejected["row"], inv.rejected["reason_code"]))
    assert codes == {2: "conflict", 3: "conflict", 5: "negative"}


def test_nearly_square_pixels_accepted_with_determinant_area(tmp_path):
    # 9.9948 x 9.9974 m (the real eo-learn grid) is 0.03 % off square: accepted; area 99.922 m2
    p = write_raster(tmp_path / "near.tif", LC_T0, transform=Affine(9.9948, 0, 600000, 0, -9.9974, 3550120))
    from geodata.rasters import pixel_area_m2

    assert pixel_area_m2(read_info(p).transform) == pytest.approx(9.9948 * 9.9974)
