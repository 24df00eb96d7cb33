"""A tiny STAC catalogue on disk and a local HTTP server for it (test helper, no network).

``build_catalog(root)`` writes four Sentinel-2-L2A-like items with small Cloud-Optimized GeoTIFF
assets (EPSG:32650, uint16 reflectance, nodata 0, band descriptions) and a static
``catalog.json`` -> ``collection.json`` -> item tree.

``serve(root)`` serves that folder on 127.0.0.1 (a free port) with a threaded server that
answers HTTP Range requests (GDAL's ``/vsicurl/`` needs them; ``SimpleHTTPRequestHandler`` does
not) and a minimal STAC API ``/search`` (POST JSON and GET), filtering by bbox, datetime,
collections, ids and ``query`` on ``eo:cloud_cover``, with ``next``-link paging. Misbehaving
APIs for error tests live under other prefixes:

- ``/api/search``          a well-behaved API (POST with merge-paging; GET with href paging)
- ``/api-get/search``      GET only (POST answers 405)
- ``/api-endless/search``  every page repeats the first item and links to one more page, forever
- ``/api-badjson/search``  answers 200 with text that is not JSON
- ``/api-huge/search``     answers 200 with ``HUGE_BYTES`` of JSON
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.warp import transform_bounds

COLLECTION = "sentinel-2-l2a"
CRS = "EPSG:32650"
HUGE_BYTES = 3 * 1024 * 1024
MAX_BODY = 1 << 20

# id, datetime, cloud %, top-left corner (UTM 50N metres). Three items over Jiangbei (118.7 E,
# 32.1 N), one over Wuhan (114.3 E, 30.6 N), so bbox, date and cloud filters each drop one.
ITEMS = [
    ("S2A_MSIL2A_20250501T025531_T50SPA", "2025-05-01T02:55:31Z", 4.5, (656_000.0, 3_556_000.0)),
    ("S2B_MSIL2A_20250615T025529_T50SPA", "2025-06-15T02:55:29Z", 62.0, (656_000.0, 3_556_000.0)),
    ("S2A_MSIL2A_20241120T030001_T50SPA", "2024-11-20T03:00:01Z", 1.2, (656_000.0, 3_556_000.0)),
    ("S2A_MSIL2A_20250520T025541_T50RKU", "2025-05-20T02:55:41Z", 0.8, (240_000.0, 3_390_000.0)),
]
# band, common name, wavelength (um), resolution (m)
BANDS = [("B03", "green", 0.560, 10.0), ("B04", "red", 0.665, 10.0), ("B08", "nir", 0.842, 10.0),
         ("B11", "swir16", 1.610, 20.0)]
EXTENT_M = 4000.0  # every asset covers 4 km x 4 km: 400 x 400 px at 10 m, 200 x 200 px at 20 m
BLOCK = 64  # small COG tiles so a window touches a fraction of the file


@dataclass
class Catalog:
    root: Path
    catalog: Path
    items: dict[str, Path]  # id -> item JSON
    assets: dict[tuple[str, str], Path]  # (id, band) -> GeoTIFF


def _write_cog(path: Path, data: np.ndarray, transform: Affine, description: str) -> None:
    """A COG (via a temporary tiled GTiff copied with the COG driver), uncompressed so byte counts
    reflect pixels read."""
    tmp = path.with_suffix(".tmp.tif")
    profile = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype="uint16",
                   crs=CRS, transform=transform, nodata=0, tiled=True, blockxsize=BLOCK, blockysize=BLOCK)
    with rasterio.open(tmp, "w", **profile) as ds:
        ds.write(data, 1)
        ds.set_band_description(1, description)
        ds.scales = [0.0001]
    from rasterio.shutil import copy as rio_copy

    rio_copy(tmp, path, driver="COG", blocksize=BLOCK, compress="NONE")
    tmp.unlink()


def build_catalog(root: Path) -> Catalog:
    """Write the catalogue under ``root/catalog`` and return where everything is."""
    cat_dir = root / "catalog"
    coll_dir = cat_dir / COLLECTION
    coll_dir.mkdir(parents=True, exist_ok=True)
    items, assets = {}, {}
    all_bbox = [180.0, 90.0, -180.0, -90.0]
    for n, (item_id, when, cloud, (x0, y0)) in enumerate(ITEMS):
        idir = coll_dir / item_id
        idir.mkdir(exist_ok=True)
        item_assets = {}
        for b, (band, common, wl, res) in enumerate(BANDS):
            size = int(EXTENT_M / res)
            rng = np.random.default_rng(100 * n + b)
            data = rng.integers(1, 10_000, size=(size, size), dtype="uint16")
            data[:8, :8] = 0  # a nodata corner
            path = idir / f"{band}.tif"
            _write_cog(path, data, Affine(res, 0, x0, 0, -res, y0), f"{band} ({common})")
            assets[(item_id, band)] = path
            item_assets[band] = {
                "href": f"./{band}.tif",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "title": f"{common} ({band}) - {res:g}m",
                "roles": ["data", "reflectance"],
                "gsd": res,
                "eo:bands": [{"name": band, "common_name": common, "center_wavelength": wl}],
                "raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": 0,
                                  "spatial_resolution": res}],
                "proj:shape": [size, size],
                "proj:transform": [res, 0, x0, 0, -res, y0],
            }
        item_assets["thumbnail"] = {"href": "./thumbnail.jpg", "type": "image/jpeg", "roles": ["thumbnail"]}
        w, s, e, nn = transform_bounds(CRS, "EPSG:4326", x0, y0 - EXTENT_M, x0 + EXTENT_M, y0, densify_pts=21)
        all_bbox = [min(all_bbox[0], w), min(all_bbox[1], s), max(all_bbox[2], e), max(all_bbox[3], nn)]
        doc = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            ],
            "id": item_id,
            "collection": COLLECTION,
            "bbox": [w, s, e, nn],
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, nn], [w, nn], [w, s]]]},
            "properties": {"datetime": when, "platform": "sentinel-2" + item_id[2].lower(),
                           "constellation": "sentinel-2", "eo:cloud_cover": cloud, "proj:epsg": 32650,
                           "s2:mgrs_tile": item_id.rsplit("_T", 1)[1]},
            "links": [
                {"rel": "root", "href": "../../catalog.json", "type": "application/json"},
                {"rel": "parent", "href": "../collection.json", "type": "application/json"},
                {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            ],
            "assets": item_assets,
        }
        path = idir / f"{item_id}.json"
        path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        items[item_id] = path
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": COLLECTION,
        "description": "Sentinel-2 L2A-like test collection", "license": "proprietary",
        "extent": {"spatial": {"bbox": [all_bbox]},
                   "temporal": {"interval": [["2024-11-20T00:00:00Z", "2025-06-15T23:59:59Z"]]}},
        "links": [{"rel": "root", "href": "../catalog.json"}, {"rel": "parent", "href": "../catalog.json"}]
        + [{"rel": "item", "href": f"./{i}/{i}.json", "type": "application/geo+json"} for i in items],
    }
    (coll_dir / "collection.json").write_text(json.dumps(collection, indent=1), encoding="utf-8")
    catalog = {
        "type": "Catalog", "stac_version": "1.0.0", "id": "jiangbei-test", "description": "test catalogue",
        "links": [{"rel": "root", "href": "./catalog.json"},
                  {"rel": "child", "href": f"./{COLLECTION}/collection.json", "type": "application/json"}],
    }
    (cat_dir / "catalog.json").write_text(json.dumps(catalog, indent=1), encoding="utf-8")
    return Catalog(root=root, catalog=cat_dir / "catalog.json", items=items, assets=assets)


# --------------------------------------------------------------------------------------------
# Search logic (independent of geodata.stac on purpose)
# --------------------------------------------------------------------------------------------


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)


def _filter(features: list[dict], body: dict) -> list[dict]:
    out = []
    bbox = body.get("bbox")
    colls = body.get("collections")
    ids = body.get("ids")
    start = end = None
    if body.get("datetime"):
        a, _, b = str(body["datetime"]).partition("/")
        start = _ts(a) if a not in ("", "..") else None
        end = _ts(b) if b not in ("", "..") else (None if _ == "/" else start)
    cc = (body.get("query") or {}).get("eo:cloud_cover") or {}
    ops = {"lte": lambda v, x: v <= x, "lt": lambda v, x: v < x, "gte": lambda v, x: v >= x,
           "gt": lambda v, x: v > x, "eq": lambda v, x: v == x}
    for f in features:
        if colls and f["collection"] not in colls:
            continue
        if ids and f["id"] not in ids:
            continue
        if bbox:
            w, s, e, n = f["bbox"]
            if w > bbox[2] or e < bbox[0] or s > bbox[3] or n < bbox[1]:
                continue
        t = _ts(f["properties"]["datetime"])
        if (start and t < start) or (end and t > end):
            continue
        if any(not ops[op](f["properties"]["eo:cloud_cover"], x) for op, x in cc.items() if op in ops):
            continue
        out.append(f)
    return out


class StacRequestHandler(SimpleHTTPRequestHandler):
    """Static files with single-range support, plus the mock /search endpoints."""

    server: "StacTestServer"

    def log_message(self, format, *args):  # quiet; requests are recorded in server.log instead
        pass

    # -- static files with Range ----------------------------------------------------------
    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() or not path.is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        f = open(path, "rb")
        size = os.fstat(f.fileno()).st_size
        start, end = 0, size - 1
        rng = self.headers.get("Range")
        status = HTTPStatus.OK
        if rng:
            unit, _, spec = rng.partition("=")
            first = spec.split(",")[0].strip()  # one range is enough for GDAL
            a, _, b = first.partition("-")
            try:
                if unit.strip() != "bytes":
                    raise ValueError(unit)
                if a == "":
                    start, end = max(0, size - int(b)), size - 1
                else:
                    start, end = int(a), (min(int(b), size - 1) if b else size - 1)
                if start >= size or start > end:
                    raise ValueError("unsatisfiable")
            except ValueError:
                f.close()
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        f.seek(start)
        self._remaining = end - start + 1
        self.server.record(self.command, self.path, rng, self._remaining if self.command == "GET" else 0)
        return f

    def copyfile(self, source, outputfile):
        remaining = self._remaining
        while remaining > 0:  # bounded by the range length
            chunk = source.read(min(65536, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)

    # -- the mock API -----------------------------------------------------------------------
    def _send_json(self, doc, status=HTTPStatus.OK, raw: bytes | None = None):
        payload = raw if raw is not None else json.dumps(doc).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/geo+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _api(self, prefix: str, body: dict, method: str):
        self.server.record(method, self.path, None, 0, body=body)
        base = self.server.base_url
        if prefix == "/api-badjson":
            return self._send_json(None, raw=b"<html>Please log in</html>")
        if prefix == "/api-huge":
            return self._send_json(None, raw=b'{"features": [], "pad": "' + b"x" * HUGE_BYTES + b'"}')
        token = int(body.get("token", 0) or 0)
        if prefix == "/api-endless":
            nxt = {"rel": "next", "href": f"{base}{prefix}/search", "method": "POST",
                   "body": {"token": token + 1}, "merge": True}
            return self._send_json({"type": "FeatureCollection", "features": self.server.features[:1], "links": [nxt]})
        limit = max(1, min(int(body.get("limit", 10)), self.server.max_limit))
        feats = _filter(self.server.features, body)
        page = feats[token:token + limit]
        links = [{"rel": "self", "href": f"{base}{prefix}/search"}]
        if token + limit < len(feats):
            if method == "POST":
                links.append({"rel": "next", "href": f"{base}{prefix}/search", "method": "POST",
                              "body": {"token": token + limit}, "merge": True})
            else:
                q = self._get_query()
                q["token"] = str(token + limit)
                links.append({"rel": "next", "href": f"{base}{prefix}/search?{urllib.parse.urlencode(q)}"})
        self._send_json({"type": "FeatureCollection", "features": page, "links": links,
                         "numberMatched": len(feats), "numberReturned": len(page)})

    def _get_query(self) -> dict:
        return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()}

    def _prefix(self) -> str | None:
        path = urllib.parse.urlsplit(self.path).path
        if path.endswith("/search") and path.count("/") == 2:
            return path[: -len("/search")]
        return None

    def do_POST(self):
        prefix = self._prefix()
        if prefix is None:
            return self.send_error(HTTPStatus.NOT_FOUND)
        if prefix == "/api-get":
            return self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "use GET")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.send_error(HTTPStatus.BAD_REQUEST, "invalid JSON")
        self._api(prefix, body, "POST")

    def do_GET(self):
        prefix = self._prefix()
        if prefix is None:
            return super().do_GET()
        q = self._get_query()
        body: dict = {}
        if "bbox" in q:
            body["bbox"] = [float(v) for v in q["bbox"].split(",")]
        for k in ("collections", "ids"):
            if k in q:
                body[k] = q[k].split(",")
        for k in ("datetime", "limit", "token"):
            if k in q:
                body[k] = q[k]
        if "query" in q:
            body["query"] = json.loads(q["query"])
        self._api(prefix, body, "GET")


class StacTestServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, features: list[dict]):
        super().__init__(("127.0.0.1", 0), partial(StacRequestHandler, directory=str(root)))
        self.features = features
        self.max_limit = 100  # the largest page the API hands out (tests lower it to force paging)
        self.log: list[dict] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, method, path, rng, nbytes, body=None):
        with self._lock:
            self.log.append({"method": method, "path": path, "range": rng, "bytes": nbytes, "body": body})

    def bytes_served(self, path_suffix: str) -> int:
        with self._lock:
            return sum(e["bytes"] for e in self.log if urllib.parse.urlsplit(e["path"]).path.endswith(path_suffix))

    def requests_to(self, path_prefix: str) -> list[dict]:
        with self._lock:
            return [e for e in self.log if e["path"].startswith(path_prefix)]


@dataclass
class Running:
    server: StacTestServer
    catalog: Catalog
    base_url: str
    thread: threading.Thread = field(repr=False)

    def url_of(self, path: Path) -> str:
        return f"{self.base_url}/{path.relative_to(self.catalog.root).as_posix()}"


@contextlib.contextmanager
def serve(catalog: Catalog):
    """Serve ``catalog.root`` on 127.0.0.1; the server is shut down when the block ends."""
    features = []
    for item_id, path in catalog.items.items():
        doc = json.loads(path.read_text(encoding="utf-8"))
        features.append(doc)
    server = StacTestServer(catalog.root, features)
    base = server.base_url
    for doc, path in zip(features, catalog.items.values()):  # search results carry a self link
        rel = path.relative_to(catalog.root).as_posix()
        doc["links"] = [{"rel": "self", "href": f"{base}/{rel}", "type": "application/geo+json"}]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Running(server=server, catalog=catalog, base_url=base, thread=thread)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
