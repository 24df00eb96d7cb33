"""The optional STAC loader against a local catalogue served on 127.0.0.1 (no internet).

The catalogue (tests/stac_server.py) holds four Sentinel-2-L2A-like items:

    A  S2A_..._20250501  Jiangbei  cloud  4.5 %
    B  S2B_..._20250615  Jiangbei  cloud 62.0 %
    C  S2A_..._20241120  Jiangbei  cloud  1.2 %   (before the 2025 season)
    D  S2A_..._20250520  Wuhan     cloud  0.8 %   (outside the Jiangbei box)

Assets B03/B04/B08 are 400 x 400 px at 10 m, B11 200 x 200 px at 20 m, all 4 km x 4 km from
the item's top-left corner (656000, 3556000) in EPSG:32650, uint16, nodata 0, 64 px COG tiles.
"""
from __future__ import annotations

import argparse
import dataclasses
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform_bounds
from rasterio.windows import from_bounds

from geodata import stac
from geodata.errors import DataError, EmptyResultError, UnsafeInputError
from tests.stac_server import COLLECTION, ITEMS, build_catalog, serve

A, B, C, D = (i[0] for i in ITEMS)
JIANGBEI = (118.66, 32.10, 118.67, 32.11)  # inside the Jiangbei footprint (118.653..118.696 E, 32.093..32.130 N)
SMALL = (118.660, 32.100, 118.665, 32.105)  # about 470 m x 555 m
WUHAN = (114.30, 30.59, 114.31, 30.60)
SEASON = "2025-04-01/2025-10-31"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return build_catalog(tmp_path_factory.mktemp("stac"))


@pytest.fixture
def api(catalog):
    """The server runs for one test and is shut down in the context manager's finally."""
    with serve(catalog) as running:
        yield running


def _ids(items) -> list[str]:
    return [i.id for i in items]


# ---------------------------------------------------------------------------------- arguments


def test_datetime_range_parsing():
    s, e = stac.parse_datetime_range(SEASON)
    assert (s.isoformat(), e.date().isoformat()) == ("2025-04-01T00:00:00+00:00", "2025-10-31")
    assert e.hour == 23 and e.minute == 59  # a date as the end covers the whole day
    assert stac.parse_datetime_range("../2025-01-01")[0] is None
    assert stac.parse_datetime_range(("2025-05-01T02:00:00Z", None))[1] is None
    with pytest.raises(DataError, match="swap"):
        stac.parse_datetime_range("2025-10-31/2025-04-01")
    with pytest.raises(DataError, match="cannot read"):
        stac.parse_datetime_range("spring 2025")
    with pytest.raises(DataError, match="west<east"):
        stac.check_bbox((118.9, 31.9, 118.5, 32.3))


def test_import_connects_to_nothing():
    code = ("import socket\n"
            "def boom(*a, **k): raise AssertionError('network used at import')\n"
            "socket.socket.connect = boom\nsocket.create_connection = boom\n"
            "import geodata.stac, sinks.landcover.cli_stac\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------------- API search


def test_search_filters_by_bbox_date_collection_and_cloud(api):
    url = api.base_url + "/api"
    assert _ids(stac.search_items(url, collections=COLLECTION, bbox_lonlat=JIANGBEI, datetime_range=SEASON)) == [A, B]
    assert _ids(stac.search_items(url, collections=COLLECTION, bbox_lonlat=JIANGBEI, datetime_range=SEASON,
                                  max_cloud=20)) == [A]
    assert _ids(stac.search_items(url, collections=[COLLECTION], bbox_lonlat=JIANGBEI, datetime_range=None)) == [A, B, C]
    assert _ids(stac.search_items(url, collections=COLLECTION, bbox_lonlat=WUHAN, datetime_range=SEASON)) == [D]
    # the request follows the item-search spec: POST JSON with bbox, RFC 3339 interval, collections
    body = api.server.requests_to("/api/search")[1]["body"]
    assert body["bbox"] == list(JIANGBEI) and body["collections"] == [COLLECTION]
    assert body["datetime"] == "2025-04-01T00:00:00.000Z/2025-10-31T23:59:59.999Z"
    assert body["query"] == {"eo:cloud_cover": {"lte": 20}}


def test_search_item_fields_and_relative_hrefs(api):
    (item,) = stac.search_items(api.base_url + "/api", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                                datetime_range=SEASON, max_cloud=20)
    assert item.collection == COLLECTION and item.cloud_cover == 4.5
    assert item.datetime.isoformat() == "2025-05-01T02:55:31+00:00"
    assert item.bbox[0] < JIANGBEI[0] and item.bbox[3] > JIANGBEI[3]
    b04 = item.assets["B04"]
    # "./B04.tif" resolved against the item's self link
    assert b04.href == f"{api.base_url}/catalog/{COLLECTION}/{A}/B04.tif"
    assert b04.bands == (("B04", "red"),) and b04.roles == ("data", "reflectance") and b04.nodata == 0
    assert "cloud-optimized" in b04.media_type
    assert item.find_asset("nir")[0].key == "B08" and item.find_asset("b11")[0].key == "B11"
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.id = "x"  # type: ignore[misc]
    assert len({item, item}) == 1  # hashable (the asset mapping is left out of the hash)


def test_search_env_endpoint_and_search_url(api, monkeypatch):
    monkeypatch.setenv(stac.ENDPOINT_ENV, api.base_url + "/api/")
    assert _ids(stac.search_items(None, collections=COLLECTION, bbox_lonlat=WUHAN, datetime_range=None)) == [D]
    assert stac.search_url("https://x.org/v1/") == "https://x.org/v1/search"
    assert stac.search_url("https://x.org/v1/search") == "https://x.org/v1/search"
    monkeypatch.delenv(stac.ENDPOINT_ENV)
    with pytest.raises(DataError, match="SINKS_STAC_ENDPOINT") as e:
        stac.search_items(None, collections=COLLECTION, bbox_lonlat=JIANGBEI, datetime_range=SEASON)
    assert "closed network" in e.value.fix


def test_paging_post_merges_the_next_body(api):
    api.server.max_limit = 1  # one item per page: A on page 1, B on page 2
    items = stac.search_items(api.base_url + "/api", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                              datetime_range=SEASON)
    assert _ids(items) == [A, B]
    reqs = api.server.requests_to("/api/search")
    assert len(reqs) == 2
    assert reqs[1]["body"]["token"] == 1 and reqs[1]["body"]["bbox"] == list(JIANGBEI)  # merged
    # max_items stops before the next page
    api.server.log.clear()
    assert _ids(stac.search_items(api.base_url + "/api", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                                  datetime_range=SEASON, max_items=1)) == [A]
    assert len(api.server.requests_to("/api/search")) == 1


def test_paging_get_only_api(api):
    api.server.max_limit = 1
    items = stac.search_items(api.base_url + "/api-get", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                              datetime_range=None)
    assert _ids(items) == [A, B, C]
    methods = [r["method"] for r in api.server.requests_to("/api-get/search")]
    assert methods == ["GET", "GET", "GET"]  # the POST got 405 and was retried as GET (not logged)


def test_endless_paging_is_capped(api, monkeypatch):
    monkeypatch.setattr(stac, "MAX_PAGES", 5)
    items = stac.search_items(api.base_url + "/api-endless", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                              datetime_range=SEASON)
    assert _ids(items) == [A]  # the repeated item is kept once
    assert len(api.server.requests_to("/api-endless/search")) == 5


def test_empty_result_names_endpoint_and_fix(api):
    with pytest.raises(EmptyResultError) as e:
        stac.search_items(api.base_url + "/api", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                          datetime_range="2023-01-01/2023-12-31")
    assert e.value.source == api.base_url + "/api/search"
    assert "no items" in e.value.problem and "widen" in e.value.fix


def test_invalid_json_and_oversize_responses(api, monkeypatch):
    with pytest.raises(DataError, match="not valid JSON") as e:
        stac.search_items(api.base_url + "/api-badjson", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                          datetime_range=SEASON)
    assert api.base_url + "/api-badjson/search" in str(e.value)
    monkeypatch.setattr(stac, "MAX_JSON_BYTES", 1024 * 1024)
    with pytest.raises(UnsafeInputError, match="bytes"):
        stac.search_items(api.base_url + "/api-huge", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                          datetime_range=SEASON)


def test_http_error_names_status(api):
    with pytest.raises(DataError, match="HTTP 404") as e:
        stac.search_items(api.base_url + "/nothing/here", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                          datetime_range=SEASON)
    assert e.value.source == api.base_url + "/nothing/here/search"


def test_server_down_names_endpoint(catalog):
    with serve(catalog) as running:
        url = running.base_url + "/api"
    # the server is shut down: its port refuses connections
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.split(":")[2].split("/")[0])), timeout=2).close()
    with pytest.raises(DataError) as e:
        stac.search_items(url, collections=COLLECTION, bbox_lonlat=JIANGBEI, datetime_range=SEASON, timeout_s=5)
    assert e.value.source == url + "/search"
    assert "cannot connect" in e.value.problem and "closed network" in e.value.fix


@pytest.mark.parametrize("endpoint", ["ftp://127.0.0.1/stac", "file:///etc", "gopher://x"])
def test_refuses_other_schemes(endpoint):
    with pytest.raises(UnsafeInputError, match="scheme"):
        stac.search_items(endpoint, collections=COLLECTION, bbox_lonlat=JIANGBEI, datetime_range=SEASON)


# ---------------------------------------------------------------------------------- static catalogue


def test_static_catalog_over_http_and_from_disk(api, catalog):
    remote = stac.read_static_catalog(api.url_of(catalog.catalog), collections=COLLECTION,
                                      bbox_lonlat=JIANGBEI, datetime_range=SEASON)
    assert _ids(remote) == [A, B]
    assert remote[0].assets["B04"].href == f"{api.base_url}/catalog/{COLLECTION}/{A}/B04.tif"
    local = stac.read_static_catalog(catalog.catalog, max_cloud=5)
    assert sorted(_ids(local)) == sorted([A, C, D])
    assert all(i.collection == COLLECTION for i in local)
    assert local[0].assets["B04"].href.startswith("file://")
    # a collection that is not asked for is not read
    with pytest.raises(EmptyResultError):
        stac.read_static_catalog(catalog.catalog, collections="landsat-c2-l2")
    with pytest.raises(DataError, match="more than 2 documents"):
        stac.read_static_catalog(catalog.catalog, max_documents=2)


def test_remote_catalog_may_not_link_to_local_files(api, catalog):
    evil = catalog.root / "catalog" / "evil.json"
    evil.write_text('{"type": "Catalog", "id": "evil", "links": [{"rel": "child", "href": "file:///etc/passwd"}]}')
    with pytest.raises(UnsafeInputError, match="scheme"):
        stac.read_static_catalog(api.url_of(evil))


# ---------------------------------------------------------------------------------- fetching


def _item(api, item_id=A):
    return stac.search_items(api.base_url + "/api", collections=COLLECTION, bbox_lonlat=JIANGBEI,
                             datetime_range=None, ids=[item_id])[0]


def test_fetch_reads_only_the_window(api, catalog, tmp_path):
    item = _item(api)
    steps = []
    api.server.log.clear()
    out = stac.fetch_assets(item, assets=("B04", "B11"), bbox_lonlat=SMALL, out_dir=tmp_path / "out",
                            progress=lambda s, f: steps.append((s, f)))
    assert list(out) == ["B04", "B11"]
    assert out["B04"].name == f"{A}_B04.tif"
    assert steps[-1] == ("done", 1.0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{A}_B04.tif", f"{A}_B11.tif"]  # no temp files
    want = transform_bounds("EPSG:4326", "EPSG:32650", *SMALL, densify_pts=21)
    for band, res in (("B04", 10.0), ("B11", 20.0)):
        src_path = catalog.assets[(A, band)]
        with rasterio.open(out[band]) as got, rasterio.open(src_path) as src:
            assert got.crs.to_epsg() == 32650 and got.res == (res, res)
            assert got.nodata == 0 and got.dtypes[0] == "uint16"
            assert got.descriptions[0] == src.descriptions[0]  # "B04 (red)"
            assert got.scales[0] == pytest.approx(1e-4)
            assert got.tags()["STAC_ITEM"] == A
            # whole source pixels, rounded outward: the box is covered with less than a pixel to spare
            b = got.bounds
            assert (b.left - src.bounds.left) % res == 0 and (src.bounds.top - b.top) % res == 0
            assert 0 <= want[0] - b.left < res and 0 <= b.right - want[2] < res
            assert 0 <= want[1] - b.bottom < res and 0 <= b.top - want[3] < res
            assert got.width < src.width / 4 and got.height < src.height / 4
            # values are the source pixels of that window, unchanged
            win = from_bounds(*b, transform=src.transform).round_offsets().round_lengths()
            np.testing.assert_array_equal(got.read(1), src.read(1, window=win))
    # GDAL fetched byte ranges, not the files: B04 is ~400 kB, the window needs a fraction of it
    size = catalog.assets[(A, "B04")].stat().st_size
    served = api.server.bytes_served(f"/{A}/B04.tif")
    assert 0 < served < 0.3 * size
    assert any(e["range"] for e in api.server.log if e["path"].endswith("B04.tif"))


def test_fetch_by_mapping_and_common_name_equals_fetch_by_key(api, tmp_path):
    item = _item(api)
    by_key = stac.fetch_assets(item, assets=["B04", "B08"], bbox_lonlat=SMALL, out_dir=tmp_path / "k")
    by_name = stac.fetch_assets(item, assets={"red": "red", "nir": "B08"}, bbox_lonlat=SMALL, out_dir=tmp_path / "n")
    assert by_name["red"].name == f"{A}_red.tif"
    for k, n in (("B04", "red"), ("B08", "nir")):
        with rasterio.open(by_key[k]) as a, rasterio.open(by_name[n]) as b:
            np.testing.assert_array_equal(a.read(), b.read())
            assert a.transform == b.transform


def test_fetch_from_a_catalog_on_disk(catalog, tmp_path):
    (item,) = stac.read_static_catalog(catalog.catalog, ids=[A])
    out = stac.fetch_assets(item, assets=("B08",), bbox_lonlat=SMALL, out_dir=tmp_path)
    with rasterio.open(out["B08"]) as ds:
        assert ds.tags()["SOURCE"].startswith("file://") and ds.shape[0] > 10


def test_fetch_unknown_band_lists_what_exists(api, tmp_path):
    item = _item(api)
    api.server.log.clear()
    with pytest.raises(DataError) as e:
        stac.fetch_assets(item, assets=("B03", "B12"), bbox_lonlat=SMALL, out_dir=tmp_path / "out")
    assert "'B12'" in e.value.problem and "B04 (red)" in e.value.problem and "thumbnail" in e.value.problem
    assert not any(r["path"].endswith(".tif") for r in api.server.log)  # checked before any download
    assert not (tmp_path / "out").exists()


def test_fetch_missing_asset_404(api, tmp_path):
    item = _item(api)
    bad = dataclasses.replace(item.assets["B04"], href=f"{api.base_url}/catalog/missing.tif")
    item = dataclasses.replace(item, assets={**item.assets, "B04": bad})
    with pytest.raises(DataError) as e:
        stac.fetch_assets(item, assets=("B04",), bbox_lonlat=SMALL, out_dir=tmp_path)
    assert e.value.source == f"{api.base_url}/catalog/missing.tif"
    assert "cannot read asset B04" in e.value.problem and "404" in e.value.problem
    assert list(tmp_path.iterdir()) == []


def test_fetch_bbox_outside_the_asset(api, tmp_path):
    item = _item(api)
    with pytest.raises(DataError, match="misses the asset") as e:
        stac.fetch_assets(item, assets=("B04",), bbox_lonlat=WUHAN, out_dir=tmp_path)
    assert e.value.source.endswith(f"/{A}/B04.tif")
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_local_href_in_remote_item(api, tmp_path):
    item = _item(api)
    bad = dataclasses.replace(item.assets["B04"], href="file:///etc/hostname")
    item = dataclasses.replace(item, assets={**item.assets, "B04": bad})
    with pytest.raises(UnsafeInputError, match="scheme"):
        stac.fetch_assets(item, assets=("B04",), bbox_lonlat=SMALL, out_dir=tmp_path)


# ---------------------------------------------------------------------------------- command line


def _run(argv: list[str]) -> int:
    """What ``python -m sinks`` does: parse, call the handler, map DataError to exit 1."""
    from sinks.landcover.cli_stac import add_parsers

    p = argparse.ArgumentParser(prog="python -m sinks")
    add_parsers(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"error: {exc.source}\n  problem: {exc.problem}\n  fix: {exc.fix}", file=sys.stderr)
        return 1


def test_cli_search_prints_a_table(api, capsys):
    rc = _run(["stac-search", "--endpoint", api.base_url + "/api", "--bbox", "118.66,32.10,118.67,32.11",
               "--datetime", SEASON])
    out = capsys.readouterr().out
    assert rc == 0
    assert A in out and B in out and C not in out and D not in out
    assert "cloud %" in out and "62.0" in out and "B03,B04,B08,B11" in out and "2 item(s)" in out


def test_cli_fetch_end_to_end(api, tmp_path, capsys):
    rc = _run(["stac-fetch", "--endpoint", api.base_url + "/api", "--collection", COLLECTION,
               "--bbox", ",".join(map(str, SMALL)), "--datetime", SEASON, "--assets", "B03,B04,B08,B11",
               "--out", str(tmp_path / "img")])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"item {A} (2025-05-01, 4.5% cloud), chosen from 2 found" in out  # least cloudy of A, B
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == [f"{A}_{b}.tif" for b in ("B03", "B04", "B08", "B11")]
    rc = _run(["stac-fetch", "--catalog", str(Path(api.catalog.catalog)), "--bbox", ",".join(map(str, SMALL)),
               "--item", B, "--assets", "red=B04", "--out", str(tmp_path / "one")])
    assert rc == 0 and [p.name for p in (tmp_path / "one").iterdir()] == [f"{B}_red.tif"]


def test_cli_errors_exit_codes(api, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(stac.ENDPOINT_ENV, raising=False)
    assert _run(["stac-search", "--bbox", "118.5,31.9,118.9,32.3"]) == 1
    assert "SINKS_STAC_ENDPOINT" in capsys.readouterr().err
    assert _run(["stac-fetch", "--endpoint", api.base_url + "/api", "--bbox", ",".join(map(str, SMALL)),
                 "--item", "nope", "--out", str(tmp_path)]) == 1
    assert "with id nope" in capsys.readouterr().err
    for bad in (["--bbox", "118.5,31.9,118.9"], ["--bbox", "118.9,31.9,118.5,32.3"], ["--bbox", "a,b,c,d"]):
        with pytest.raises(SystemExit) as e:
            _run(["stac-search", "--endpoint", api.base_url + "/api", *bad])
        assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        _run(["stac-search", "--endpoint", "x", "--catalog", "y", "--bbox", "118.5,31.9,118.9,32.3"])
    assert e.value.code == 2


def test_cli_registered_in_python_m_sinks(api, capsys):
    from sinks import cli

    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    if "stac-search" not in sub.choices:
        pytest.skip("stac-search is not registered in sinks/cli.py yet")
    assert cli.main(["stac-search", "--endpoint", api.base_url + "/api", "--bbox", ",".join(map(str, WUHAN))]) == 0
    assert D in capsys.readouterr().out
