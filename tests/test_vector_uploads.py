"""Zip archives are checked by their content, not their name: GDAL opens zipped bytes (and a
zipped file on disk) whatever they are called, so a zip bomb named .geojson or .gpkg must meet
the same checks as one named .zip."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geodata.errors import DataError, UnsafeInputError
from geodata.vectors import MAX_COMPRESSION_RATIO, is_zip, load_zones, read_vector


def _shp_zip(tmp_path: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A zipped shapefile of one zone, built in memory, plus ``extra`` members."""
    gdf = gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[shapely.box(118.6, 32.0, 118.7, 32.1)], crs=4326)
    d = tmp_path / "shp"
    d.mkdir()
    gdf.to_file(d / "z.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(d.iterdir()):
            zf.write(f, f.name)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def bomb(tmp_path) -> bytes:
    data = _shp_zip(tmp_path, extra={"zeros.bin": b"\0" * 2**20})  # 1 MiB of zeros: ~1000x
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("zeros.bin")
    assert info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
    return data


@pytest.mark.parametrize("name", ["bomb.zip", "bomb.geojson", "bomb.gpkg", "bomb"])
def test_zip_bomb_refused_whatever_its_name(bomb, name):
    with pytest.raises(UnsafeInputError, match="zip bomb") as ei:
        read_vector(bomb, name=name)
    assert ei.value.source == name and name in str(ei.value) and ei.value.fix
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        load_zones(bomb, id_field="zone_id", name=name)


@pytest.mark.parametrize("name", ["bomb.zip", "bomb.geojson", "bomb.gpkg"])
def test_zip_bomb_on_disk_refused_whatever_its_name(tmp_path, bomb, name):
    path = tmp_path / name
    path.write_bytes(bomb)
    with pytest.raises(UnsafeInputError, match="zip bomb") as ei:
        read_vector(path)
    assert name in str(ei.value)


def test_traversal_and_empty_archive_under_another_name(tmp_path):
    evil = _shp_zip(tmp_path, extra={"../evil.txt": b"x"})
    with pytest.raises(UnsafeInputError, match="parent-directory") as ei:
        read_vector(evil, name="evil.geojson")
    assert "evil.geojson" in str(ei.value) and "zip archive" in str(ei.value)
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    assert is_zip(empty.getvalue()) and empty.getvalue().startswith(b"PK\x05\x06")
    with pytest.raises(DataError, match="no .shp") as ei:
        read_vector(empty.getvalue(), name="empty.gpkg")
    assert "empty.gpkg" in str(ei.value)


def test_a_clean_zipped_shapefile_still_reads_under_any_name(tmp_path):
    ok = _shp_zip(tmp_path)
    for name in ("zones.zip", "zones.geojson"):
        assert load_zones(ok, id_field="zone_id", name=name).zone_ids == ["a"]
