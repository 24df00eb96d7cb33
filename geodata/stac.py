"""An optional loader for imagery from a STAC API or a static STAC catalogue.

Nothing here is needed to run the dashboard: users on a closed network work with files already
on disk. Nothing connects at import time; every call names its endpoint (argument, or the
environment variable ``SINKS_STAC_ENDPOINT``).

HTTP uses the standard library only (``urllib``); pixels are read with rasterio through GDAL's
``/vsicurl/``, one window per asset, so only the bytes covering the bounding box travel.

Guards against hostile or broken servers: JSON responses are capped in size
(``MAX_JSON_BYTES``) and in time, paging stops after ``MAX_PAGES`` pages or when a ``next`` link
repeats, a static catalogue is walked for at most ``max_documents`` documents, only ``http``,
``https`` and ``file`` URLs are followed (``file`` only from a catalogue that is itself on
disk), ``next`` links must stay on the endpoint's host, and one asset window is capped at
``MAX_WINDOW_PX`` pixels.

Every failure is a :class:`~geodata.errors.DataError` naming the URL, the problem and the fix.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geodata.errors import DataError, EmptyResultError, GridError, MissingCRSError, SchemaError, UnsafeInputError

ENDPOINT_ENV = "SINKS_STAC_ENDPOINT"
#: Largest JSON document read from a server or a file, in bytes.
MAX_JSON_BYTES = 20 * 1024 * 1024
#: Most result pages followed in one search.
MAX_PAGES = 50
#: Largest page size asked for (servers may cap it lower).
MAX_PAGE_LIMIT = 100
#: Largest window read from one asset, in pixels (a full Sentinel-2 tile at 10 m is 120.6 M).
MAX_WINDOW_PX = 125_000_000
#: Band names fetched by default: green, red, NIR and SWIR-1 of Sentinel-2.
DEFAULT_ASSETS = ("B03", "B04", "B08", "B11")

_OFFLINE_FIX = "on a closed network use imagery already on disk instead of a STAC source"
_USER_AGENT = "jiangbei-sinks-stac/1.0 (+python urllib)"
_READ_CHUNK = 1 << 16


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StacAsset:
    """One asset of an item: a file and what is in it.

    ``href`` is absolute (resolved against the URL the item came from) when the item's URL is
    known. ``bands`` holds the ``eo:bands`` names and common names, band by band, e.g.
    ``(("B04", "red"),)``.
    """

    key: str
    href: str
    media_type: str | None = None
    title: str | None = None
    roles: tuple[str, ...] = ()
    bands: tuple[tuple[str, ...], ...] = ()
    nodata: float | None = None

    @property
    def is_raster(self) -> bool:
        mt = (self.media_type or "").lower()
        if mt:
            return "tiff" in mt or "jp2" in mt
        return urllib.parse.urlsplit(self.href).path.lower().endswith((".tif", ".tiff", ".jp2"))


@dataclass(frozen=True)
class StacItem:
    """A STAC item as far as this project needs it.

    Attributes
    ----------
    id, collection
        Item and collection identifiers.
    datetime
        Acquisition time (UTC), or ``start_datetime`` when ``datetime`` is null.
    bbox
        ``(west, south, east, north)`` in degrees (WGS84), or ``None`` for an item without geometry.
    cloud_cover
        ``eo:cloud_cover`` in percent, or ``None``.
    assets
        Asset key -> :class:`StacAsset` (read-only mapping).
    href
        The URL the item JSON was read from (or its ``self`` link), or ``None``.
    properties
        All item properties as given (read-only mapping).
    """

    id: str
    collection: str | None
    datetime: datetime | None
    bbox: tuple[float, float, float, float] | None
    cloud_cover: float | None
    assets: Mapping[str, StacAsset] = field(hash=False)
    href: str | None = None
    end_datetime: datetime | None = None
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def find_asset(self, name: str) -> tuple[StacAsset, int | None]:
        """The asset holding ``name`` (asset key, ``eo:bands`` name or common name, any case).

        Returns the asset and the 1-based band index inside it, or ``None`` for "all bands"
        when ``name`` is the asset key.

        Raises
        ------
        DataError
            when no asset holds ``name``; the message lists what the item does hold.
        """
        if name in self.assets:
            return self.assets[name], None
        low = name.lower()
        for key, asset in self.assets.items():
            if key.lower() == low:
                return asset, None
        for asset in self.assets.values():
            for i, names in enumerate(asset.bands, start=1):
                if any(n.lower() == low for n in names):
                    return asset, (i if len(asset.bands) > 1 else None)
        have = []
        for key, asset in self.assets.items():
            names = sorted({n for b in asset.bands for n in b} - {key})
            have.append(f"{key} ({', '.join(names)})" if names else key)
        raise DataError(
            self.href or self.id,
            f"item {self.id} has no asset or band named {name!r}; it has: {', '.join(have) or 'no assets'}",
            "ask for one of the names listed (asset keys, eo:bands names or common names such as "
            "red, nir), or map your name to an asset, e.g. --assets B04=red,B08=nir",
        )


# --------------------------------------------------------------------------------------------
# Arguments: endpoint, bbox, datetime
# --------------------------------------------------------------------------------------------


def resolve_endpoint(endpoint: str | None) -> str:
    """The STAC endpoint: the argument, else ``$SINKS_STAC_ENDPOINT``.

    Raises
    ------
    DataError
        when neither is set, or the URL is not http(s).
    """
    url = (endpoint or os.environ.get(ENDPOINT_ENV, "")).strip()
    if not url:
        raise DataError(
            "STAC endpoint",
            f"no STAC endpoint is configured (no --endpoint and ${ENDPOINT_ENV} is not set)",
            f"pass --endpoint https://.../v1 or set {ENDPOINT_ENV}; {_OFFLINE_FIX}",
        )
    _check_scheme(url, allow_file=False)
    return url


def search_url(endpoint: str) -> str:
    """``<endpoint>/search``, unless the endpoint already ends in ``/search``."""
    parts = urllib.parse.urlsplit(endpoint)
    path = parts.path.rstrip("/")
    if not path.endswith("/search"):
        path = path + "/search"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def check_bbox(bbox_lonlat: Sequence[float], *, source: str = "bbox") -> tuple[float, float, float, float]:
    """Validate ``(west, south, east, north)`` in degrees; returns it as floats.

    Raises
    ------
    DataError
        wrong length, non-numbers, out-of-range values, or west >= east / south >= north
        (a box across the antimeridian is not supported).
    """
    try:
        vals = tuple(float(v) for v in bbox_lonlat)
    except (TypeError, ValueError):
        vals = ()
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise DataError(source, f"a bounding box needs four numbers west,south,east,north, got {bbox_lonlat!r}",
                        "give it as lon/lat degrees, e.g. 118.5,31.9,118.9,32.3")
    w, s, e, n = vals
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise DataError(
            source,
            f"the bounding box {list(vals)} is not west<east within -180..180 and south<north within -90..90",
            "give lon/lat degrees in the order west,south,east,north, e.g. 118.5,31.9,118.9,32.3",
        )
    return vals  # type: ignore[return-value]


_DT_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_datetime(text: str) -> datetime:
    """An RFC 3339 timestamp (or a date) as an aware UTC datetime; naive input is taken as UTC."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    s = _DT_FRACTION.sub(r"\1", s)
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _bound(value: Any, *, end: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, dtime.max if end else dtime.min, tzinfo=timezone.utc)
    s = str(value).strip()
    if s in ("", ".."):
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):  # a whole day: the end bound is inclusive
        return _bound(date.fromisoformat(s), end=end)
    return parse_datetime(s)


def parse_datetime_range(datetime_range: Any) -> tuple[datetime | None, datetime | None]:
    """``"2025-04-01/2025-10-31"``, ``"2025-05-01"``, ``"../2025-10-31"``, or a ``(start, end)``
    pair of dates, datetimes, strings or ``None``, as aware UTC bounds (dates cover whole days).

    Raises
    ------
    DataError
        unparsable text, or start after end.
    """
    if datetime_range is None:
        return None, None
    try:
        if isinstance(datetime_range, str):
            parts = datetime_range.split("/")
            if len(parts) == 1:
                start, end = _bound(parts[0], end=False), _bound(parts[0], end=True)
            elif len(parts) == 2:
                start, end = _bound(parts[0], end=False), _bound(parts[1], end=True)
            else:
                raise ValueError("more than one '/'")
        else:
            a, b = datetime_range
            start, end = _bound(a, end=False), _bound(b, end=True)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "datetime range",
            f"cannot read {datetime_range!r} as a date range ({exc})",
            "give start/end as dates or RFC 3339 times, e.g. 2025-04-01/2025-10-31; use .. for an open end",
        ) from exc
    if start and end and start > end:
        raise DataError("datetime range", f"the start {start:%Y-%m-%d} is after the end {end:%Y-%m-%d}",
                        "swap the two dates")
    return start, end


def _rfc3339(dt: datetime | None) -> str:
    if dt is None:
        return ".."
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _interval(bounds: tuple[datetime | None, datetime | None]) -> str | None:
    if bounds == (None, None):
        return None
    return f"{_rfc3339(bounds[0])}/{_rfc3339(bounds[1])}"


# --------------------------------------------------------------------------------------------
# HTTP and JSON, bounded
# --------------------------------------------------------------------------------------------


def _check_scheme(url: str, *, allow_file: bool, source: str | None = None) -> str:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    allowed = ("http", "https", "file") if allow_file else ("http", "https")
    if scheme not in allowed:
        raise UnsafeInputError(
            source or url,
            f"the URL scheme {scheme or '(none)'!r} is not allowed here (only {', '.join(allowed)})",
            "use an http(s) URL" + (" or a local path" if allow_file else "")
            + "; a remote catalogue may not point at local files",
        )
    return scheme


def _to_url(url_or_path: str | os.PathLike) -> str:
    """A URL for a URL or a local path (local paths become file:// URLs)."""
    s = os.fspath(url_or_path)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", s):
        return s
    return Path(s).expanduser().resolve().as_uri()


def _file_path(url: str) -> Path:
    parts = urllib.parse.urlsplit(url)
    return Path(urllib.request.url2pathname(parts.path))


def _strip_query(url: str) -> str:
    """A URL without query or fragment, for messages and tags (query strings may hold tokens)."""
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, p.path, "", ""))


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"redirect to a non-http URL refused: {newurl}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_HttpOnlyRedirects)


def _read_capped(stream, *, source: str, deadline: float, declared: int | None) -> bytes:
    cap = MAX_JSON_BYTES
    if declared is not None and declared > cap:
        raise UnsafeInputError(source, f"the response announces {declared:,} bytes, more than the {cap:,} allowed",
                               "ask for fewer items per page (smaller --max-items) or check the endpoint")
    chunks, total = [], 0
    while True:  # bounded: ends at EOF, the size cap or the deadline
        chunk = stream.read(_READ_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise UnsafeInputError(source, f"the response is larger than the {cap:,} bytes allowed",
                                   "ask for fewer items per page (smaller --max-items) or check the endpoint")
        if time.monotonic() > deadline:
            raise DataError(source, "the response did not finish in time",
                            f"retry later, raise the timeout, or check the endpoint; {_OFFLINE_FIX}")
        chunks.append(chunk)
    return b"".join(chunks)


def _fetch_json(url: str, *, body: dict | None = None, method: str = "GET", timeout_s: float,
                allow_file: bool, what: str = "STAC document") -> Any:
    """Fetch and parse one JSON document, with size, time and scheme limits."""
    shown = _strip_query(url)
    scheme = _check_scheme(url, allow_file=allow_file, source=shown)
    deadline = time.monotonic() + timeout_s
    if scheme == "file":
        path = _file_path(url)
        if str(path).startswith("/vsi"):
            raise UnsafeInputError(shown, "GDAL virtual paths are not accepted as catalogue files",
                                   "point at a catalogue file on disk")
        try:
            size = path.stat().st_size
            if size > MAX_JSON_BYTES:
                raise UnsafeInputError(shown, f"the file has {size:,} bytes, more than the {MAX_JSON_BYTES:,} allowed",
                                       "split the catalogue into sub-catalogues")
            raw = path.read_bytes()
        except FileNotFoundError as exc:
            raise DataError(shown, f"the {what} does not exist", "check the path or URL of the catalogue") from exc
        except OSError as exc:
            raise DataError(shown, f"cannot read the {what} ({exc})", "check the path and its permissions") from exc
    else:
        data = None
        headers = {"Accept": "application/geo+json, application/json", "User-Agent": _USER_AGENT}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with _opener().open(req, timeout=timeout_s) as resp:
                length = resp.headers.get("Content-Length")
                declared = int(length) if length and length.isdigit() else None
                raw = _read_capped(resp, source=shown, deadline=deadline, declared=declared)
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                detail = exc.read(500).decode("utf-8", "replace").strip().replace("\n", " ")[:200]
            except Exception:  # noqa: BLE001 - the status code is the message; the body is a bonus
                pass
            raise DataError(
                shown,
                f"the server answered HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else ""),
                "check the endpoint URL, the collection name and the search parameters"
                if exc.code in (400, 404, 405, 422)
                else f"retry later or check the endpoint; {_OFFLINE_FIX}",
            ) from exc
        except urllib.error.URLError as exc:
            raise DataError(shown, f"cannot connect ({exc.reason})",
                            f"check the endpoint and the network or proxy settings; {_OFFLINE_FIX}") from exc
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise DataError(shown, f"the connection failed or timed out after {timeout_s:g} s ({exc!r})",
                            f"retry later, raise the timeout, or check the endpoint; {_OFFLINE_FIX}") from exc
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        snippet = raw[:80].decode("utf-8", "replace").replace("\n", " ")
        raise DataError(shown, f"the {what} is not valid JSON ({type(exc).__name__}; starts with {snippet!r})",
                        "check that the URL points at a STAC API or catalogue, not a web page or login portal") from exc


# --------------------------------------------------------------------------------------------
# Parsing items
# --------------------------------------------------------------------------------------------


def _bbox_of_geometry(geom: Any) -> tuple[float, float, float, float] | None:
    xs: list[float] = []
    ys: list[float] = []
    stack, steps = [geom.get("coordinates") if isinstance(geom, dict) else None], 0
    while stack and steps < 1_000_000:  # bounded walk over nested coordinate lists
        steps += 1
        c = stack.pop()
        if isinstance(c, list) and len(c) >= 2 and all(isinstance(v, (int, float)) for v in c[:2]):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        elif isinstance(c, list):
            stack.extend(c)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _band_names(asset: dict) -> tuple[tuple[str, ...], ...]:
    bands = asset.get("eo:bands") or asset.get("bands") or []
    out = []
    if isinstance(bands, list):
        for b in bands:
            if isinstance(b, dict):
                names = [b.get(k) for k in ("name", "common_name", "eo:common_name")]
                out.append(tuple(dict.fromkeys(str(n) for n in names if n)))
    return tuple(out)


def _asset_nodata(asset: dict) -> float | None:
    rb = asset.get("raster:bands") or asset.get("bands") or []
    if isinstance(rb, list) and rb and isinstance(rb[0], dict):
        v = rb[0].get("nodata", rb[0].get("raster:nodata"))
        if isinstance(v, (int, float)):
            return float(v)
    return None


def parse_item(doc: Any, *, href: str | None = None, collection: str | None = None) -> StacItem:
    """A :class:`StacItem` from an item's JSON; relative asset hrefs resolve against ``href``
    (or the item's ``self`` link).

    Raises
    ------
    SchemaError
        not a JSON object, or no string ``id``.
    """
    source = href or "STAC item"
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"]:
        raise SchemaError(source, "a STAC item must be a JSON object with a string 'id'",
                          "check that the endpoint serves STAC items (GeoJSON Features)")
    links = doc.get("links") if isinstance(doc.get("links"), list) else []
    if href is None:
        for link in links:
            if isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str):
                href = link["href"]
                break
    props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
    when, end = None, None
    try:
        if props.get("datetime"):
            when = parse_datetime(str(props["datetime"]))
        elif props.get("start_datetime"):
            when = parse_datetime(str(props["start_datetime"]))
        if props.get("end_datetime"):
            end = parse_datetime(str(props["end_datetime"]))
    except ValueError as exc:
        raise SchemaError(source, f"item {doc['id']} has an unreadable datetime ({exc})",
                          "the catalogue must give RFC 3339 times such as 2025-05-01T02:55:31Z") from exc
    bbox = None
    raw_bbox = doc.get("bbox")
    if isinstance(raw_bbox, list) and len(raw_bbox) in (4, 6) and all(isinstance(v, (int, float)) for v in raw_bbox):
        b = [float(v) for v in raw_bbox]
        bbox = (b[0], b[1], b[2], b[3]) if len(b) == 4 else (b[0], b[1], b[3], b[4])
    elif doc.get("geometry"):
        bbox = _bbox_of_geometry(doc["geometry"])
    cc = props.get("eo:cloud_cover")
    assets = {}
    raw_assets = doc.get("assets") if isinstance(doc.get("assets"), dict) else {}
    for key, a in raw_assets.items():
        if not isinstance(a, dict) or not isinstance(a.get("href"), str):
            continue
        a_href = urllib.parse.urljoin(href, a["href"]) if href else a["href"]
        roles = a.get("roles") if isinstance(a.get("roles"), list) else []
        assets[str(key)] = StacAsset(
            key=str(key), href=a_href,
            media_type=a.get("type") if isinstance(a.get("type"), str) else None,
            title=a.get("title") if isinstance(a.get("title"), str) else None,
            roles=tuple(str(r) for r in roles), bands=_band_names(a), nodata=_asset_nodata(a),
        )
    coll = doc.get("collection") if isinstance(doc.get("collection"), str) else collection
    return StacItem(
        id=doc["id"], collection=coll, datetime=when, end_datetime=end, bbox=bbox,
        cloud_cover=float(cc) if isinstance(cc, (int, float)) else None,
        assets=MappingProxyType(assets), href=href, properties=MappingProxyType(dict(props)),
    )


def _matches(item: StacItem, *, collections: Sequence[str] | None, bbox: tuple | None,
             bounds: tuple[datetime | None, datetime | None], max_cloud: float | None,
             ids: Sequence[str] | None) -> bool:
    if collections and item.collection not in collections:
        return False
    if ids and item.id not in ids:
        return False
    if bbox is not None:
        if item.bbox is None:
            return False
        w, s, e, n = item.bbox
        if w > bbox[2] or e < bbox[0] or s > bbox[3] or n < bbox[1]:
            return False
    start, end = bounds
    if start is not None or end is not None:
        if item.datetime is None:
            return False
        item_end = item.end_datetime or item.datetime
        if (end is not None and item.datetime > end) or (start is not None and item_end < start):
            return False
    if max_cloud is not None and (item.cloud_cover is None or item.cloud_cover > max_cloud):
        return False
    return True


# --------------------------------------------------------------------------------------------
# STAC API search
# --------------------------------------------------------------------------------------------


def _as_list(collections: str | Iterable[str] | None) -> list[str] | None:
    if collections is None:
        return None
    if isinstance(collections, str):
        collections = collections.split(",")
    out = [c.strip() for c in collections if c and c.strip()]
    return out or None


def _next_link(doc: dict) -> dict | None:
    for link in doc.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "next" and isinstance(link.get("href"), str):
            return link
    return None


def _get_params(body: dict) -> str:
    params = {}
    for k, v in body.items():
        if k in ("bbox", "collections", "ids") and isinstance(v, list):
            params[k] = ",".join(str(x) for x in v)
        elif isinstance(v, (dict, list)):
            params[k] = json.dumps(v)
        else:
            params[k] = str(v)
    return urllib.parse.urlencode(params)


def search_items(
    endpoint: str | None,
    *,
    collections: str | Sequence[str] | None,
    bbox_lonlat: Sequence[float],
    datetime_range: Any,
    max_items: int = 50,
    query: dict | None = None,
    max_cloud: float | None = None,
    ids: Sequence[str] | None = None,
    timeout_s: float = 30,
) -> list[StacItem]:
    """Search a STAC API (``POST <endpoint>/search``, STAC API item search), following ``next``
    links until ``max_items`` items or the last page.

    Parameters
    ----------
    endpoint
        The API root (``https://.../v1``) or its ``/search`` URL; ``None`` reads
        ``$SINKS_STAC_ENDPOINT``.
    collections
        Collection id(s), e.g. ``"sentinel-2-l2a"``.
    bbox_lonlat
        ``(west, south, east, north)`` in degrees WGS84.
    datetime_range
        ``"2025-04-01/2025-10-31"`` or a ``(start, end)`` pair; dates cover whole days.
    max_items
        Stop after this many items.
    query
        A STAC query-extension object, e.g. ``{"eo:cloud_cover": {"lte": 20}}``.
    max_cloud
        Keep items with ``eo:cloud_cover`` at most this (percent); sent as a query and checked here.
    ids
        Only these item ids.
    timeout_s
        Seconds allowed for each response (connect and body).

    Returns
    -------
    list of StacItem
        In the server's order, without duplicates, re-checked here against the filters.

    Raises
    ------
    DataError
        no endpoint, network or HTTP failure, invalid JSON, oversize response (UnsafeInputError),
        or no item found (EmptyResultError).
    """
    base = resolve_endpoint(endpoint)
    url = search_url(base)
    bbox = check_bbox(bbox_lonlat)
    bounds = parse_datetime_range(datetime_range)
    colls = _as_list(collections)
    if max_items < 1:
        raise DataError(url, f"max_items must be at least 1, got {max_items}", "ask for one or more items")
    body: dict[str, Any] = {"bbox": list(bbox), "limit": min(max_items, MAX_PAGE_LIMIT)}
    if colls:
        body["collections"] = colls
    interval = _interval(bounds)
    if interval:
        body["datetime"] = interval
    q = dict(query or {})
    if max_cloud is not None:
        q["eo:cloud_cover"] = {**q.get("eo:cloud_cover", {}), "lte": max_cloud}
    if q:
        body["query"] = q
    if ids:
        body["ids"] = list(ids)

    origin = urllib.parse.urlsplit(url)[:2]
    method, req_url, req_body = "POST", url, body
    items: list[StacItem] = []
    seen_items: set[tuple] = set()
    seen_requests: set[tuple] = set()
    for _page in range(MAX_PAGES):  # bounded paging
        key = (method, req_url, json.dumps(req_body, sort_keys=True) if req_body is not None else "")
        if key in seen_requests:
            break  # a server whose next link repeats itself: stop rather than loop
        seen_requests.add(key)
        try:
            doc = _fetch_json(req_url, body=req_body if method == "POST" else None, method=method,
                              timeout_s=timeout_s, allow_file=False, what="search response")
        except DataError as exc:
            if method == "POST" and req_url == url and not items and "HTTP 405" in exc.problem:
                # a GET-only API: ask again with query parameters
                method, req_url, req_body = "GET", f"{url}?{_get_params(body)}", None
                seen_requests.clear()
                continue
            raise
        if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
            raise SchemaError(_strip_query(req_url), "the search response is not a GeoJSON FeatureCollection "
                              "(no 'features' list)", "check that the endpoint is a STAC API with /search")
        for feature in doc["features"]:
            try:
                item = parse_item(feature)
            except SchemaError as exc:
                raise SchemaError(_strip_query(req_url), exc.problem, exc.fix) from exc
            ident = (item.collection, item.id)
            if ident in seen_items or not _matches(item, collections=colls, bbox=bbox, bounds=bounds,
                                                   max_cloud=max_cloud, ids=ids):
                continue
            seen_items.add(ident)
            items.append(item)
            if len(items) >= max_items:
                break
        link = _next_link(doc)
        if len(items) >= max_items or link is None or not doc["features"]:
            break
        nxt = urllib.parse.urljoin(req_url, link["href"])
        if urllib.parse.urlsplit(nxt)[:2] != origin:
            raise UnsafeInputError(url, f"the next-page link leaves the endpoint's host ({_strip_query(nxt)})",
                                   "use an endpoint whose paging stays on one host")
        method = str(link.get("method", "GET")).upper()
        if method == "POST":
            link_body = link.get("body") if isinstance(link.get("body"), dict) else {}
            req_body = {**(req_body or body), **link_body} if link.get("merge") else link_body
        elif method == "GET":
            req_body = None
        else:
            raise SchemaError(url, f"the next-page link asks for HTTP method {method}", "check the endpoint")
        req_url = nxt
    if not items:
        raise EmptyResultError(
            url,
            f"no items of {', '.join(colls) if colls else 'any collection'}"
            + (f" with id {', '.join(ids)}" if ids else "")
            + f" in bbox {list(bbox)}"
            + (f" between {_interval(bounds)}" if _interval(bounds) else " at any date")
            + (f" with cloud cover <= {max_cloud}%" if max_cloud is not None else ""),
            "widen the dates or the box, raise --max-cloud, or check the collection name",
        )
    return items


# --------------------------------------------------------------------------------------------
# Static catalogue
# --------------------------------------------------------------------------------------------


def read_static_catalog(
    url_or_path: str | os.PathLike,
    *,
    collections: str | Sequence[str] | None = None,
    bbox_lonlat: Sequence[float] | None = None,
    datetime_range: Any = None,
    max_cloud: float | None = None,
    ids: Sequence[str] | None = None,
    max_items: int = 50,
    max_documents: int = 2000,
    timeout_s: float = 30,
) -> list[StacItem]:
    """Walk a static STAC catalogue (``catalog.json`` -> ``child`` links -> ``item`` links) and keep
    the items that match, with the same filters as :func:`search_items`.

    ``url_or_path`` may also point at a collection, an item or an ItemCollection. Local paths and
    ``file://`` URLs are read from disk; a catalogue served over http(s) may not link to local
    files.

    Parameters
    ----------
    max_documents
        Most JSON documents read; a larger catalogue is an error (use a sub-catalogue or an API).

    Raises
    ------
    DataError
        unreadable documents, links that leave http(s) for local files, too many documents, or
        no matching item (EmptyResultError).
    """
    root = _to_url(url_or_path)
    root_remote = _check_scheme(root, allow_file=True) != "file"
    bbox = check_bbox(bbox_lonlat) if bbox_lonlat is not None else None
    bounds = parse_datetime_range(datetime_range)
    colls = _as_list(collections)
    shown_root = _strip_query(root)

    items: list[StacItem] = []
    seen_items: set[tuple] = set()
    visited: set[str] = set()
    # (url, kind hint, collection id inherited from the parent)
    queue: deque[tuple[str, str, str | None]] = deque([(root, "any", None)])
    n_docs = 0
    while queue and len(items) < max_items:  # bounded by max_documents
        url, hint, parent_coll = queue.popleft()
        norm = urllib.parse.urldefrag(url)[0]
        if norm in visited:
            continue
        visited.add(norm)
        if root_remote and urllib.parse.urlsplit(url).scheme.lower() == "file":
            raise UnsafeInputError(shown_root, f"the catalogue served over http links to a local file ({url})",
                                   "use a catalogue whose links are relative or http(s)")
        n_docs += 1
        if n_docs > max_documents:
            raise DataError(shown_root, f"the catalogue has more than {max_documents} documents",
                            "point at a sub-catalogue or collection.json, or use the STAC API search endpoint")
        doc = _fetch_json(url, timeout_s=timeout_s, allow_file=not root_remote,
                          what="item" if hint == "item" else "catalogue document")
        if not isinstance(doc, dict):
            raise SchemaError(_strip_query(url), "a STAC document must be a JSON object",
                              "check that the path points at catalog.json, collection.json or an item")
        dtype = doc.get("type")
        if dtype in ("Feature", "FeatureCollection") or hint == "item":
            features = (doc.get("features") or []) if dtype == "FeatureCollection" else [doc]
            for feature in features:
                item = parse_item(feature, href=url if feature is doc else None, collection=parent_coll)
                ident = (item.collection, item.id)
                if ident not in seen_items and _matches(item, collections=colls, bbox=bbox, bounds=bounds,
                                                        max_cloud=max_cloud, ids=ids):
                    seen_items.add(ident)
                    items.append(item)
            continue
        coll_id = doc.get("id") if dtype == "Collection" and isinstance(doc.get("id"), str) else parent_coll
        if dtype == "Collection" and colls and coll_id not in colls:
            continue  # a collection we were not asked for: do not read its items
        for link in doc.get("links") or []:
            if not isinstance(link, dict) or not isinstance(link.get("href"), str):
                continue
            rel = link.get("rel")
            if rel not in ("child", "item"):
                continue
            target = urllib.parse.urljoin(url, link["href"])
            _check_scheme(target, allow_file=not root_remote, source=shown_root)
            queue.append((target, "item" if rel == "item" else "any", coll_id))
    if not items:
        raise EmptyResultError(
            shown_root,
            f"no items of {', '.join(colls) if colls else 'any collection'}"
            + (f" with id {', '.join(ids)}" if ids else "")
            + (f" in bbox {list(bbox)}" if bbox else "")
            + (f" between {_interval(bounds)}" if _interval(bounds) else "")
            + (f" with cloud cover <= {max_cloud}%" if max_cloud is not None else "")
            + f" among {n_docs} documents read",
            "widen the dates or the box, raise --max-cloud, or check the collection name",
        )
    return items


# --------------------------------------------------------------------------------------------
# Fetching windows of assets
# --------------------------------------------------------------------------------------------


def _gdal_path(href: str, *, item: StacItem) -> str:
    """The path GDAL opens for an asset href: /vsicurl/ for http(s), a local path for file."""
    item_remote = item.href is not None and urllib.parse.urlsplit(item.href).scheme.lower() in ("http", "https")
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", href):
        if item_remote or item.href is None and not Path(href).is_absolute():
            raise DataError(item.href or item.id, f"asset href {href!r} is relative and the item's URL is unknown",
                            "read the item from its catalogue or API so relative links can be resolved")
        href = Path(href).resolve().as_uri()
    scheme = _check_scheme(href, allow_file=not item_remote, source=_strip_query(href))
    if scheme == "file":
        path = str(_file_path(href))
        if path.startswith("/vsi"):
            raise UnsafeInputError(href, "GDAL virtual paths are not accepted as asset hrefs", "use a file path or http(s) URL")
        return path
    return "/vsicurl/" + href


def _driver_for(asset: StacAsset) -> str:
    """Only the GeoTIFF (or JPEG 2000) driver may open an asset: never VRT or other formats that
    can point GDAL at further files."""
    mt = (asset.media_type or "").lower()
    if "jp2" in mt or urllib.parse.urlsplit(asset.href).path.lower().endswith(".jp2"):
        return "JP2OpenJPEG"
    return "GTiff"


def _gdal_env(timeout_s: float) -> dict[str, str]:
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",  # no directory listing, no sidecar probing
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.jp2,{noext}",
        "GDAL_HTTP_TIMEOUT": str(int(math.ceil(timeout_s))),
        "GDAL_HTTP_CONNECTTIMEOUT": str(int(math.ceil(min(timeout_s, 15)))),
        "GDAL_HTTP_MAX_RETRY": "2",
        "GDAL_HTTP_RETRY_DELAY": "1",
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        "GDAL_HTTP_USERAGENT": _USER_AGENT,
        "VSI_CACHE": "TRUE",
    }


def _window_for(ds, bbox: tuple[float, float, float, float], *, source: str):
    """Whole-pixel window of ``ds`` covering the lon/lat ``bbox`` (rounded outward, clipped)."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    t = ds.transform
    if t.b != 0 or t.d != 0:
        raise GridError(source, f"the asset grid is rotated (affine terms b={t.b}, d={t.d})",
                        "use a north-up asset (Sentinel-2 and Landsat COGs are north-up)")
    left, bottom, right, top = transform_bounds("EPSG:4326", ds.crs, *bbox, densify_pts=21)
    inv = ~t
    cols, rows = zip(*(inv * (x, y) for x in (left, right) for y in (bottom, top)))
    eps = 1e-6
    c0 = max(0, math.floor(min(cols) + eps))
    r0 = max(0, math.floor(min(rows) + eps))
    c1 = min(ds.width, math.ceil(max(cols) - eps))
    r1 = min(ds.height, math.ceil(max(rows) - eps))
    if c1 <= c0 or r1 <= r0:
        from rasterio.warp import transform_bounds as tb

        w, s, e, n = tb(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
        raise DataError(
            source,
            f"the bbox {list(bbox)} misses the asset, which covers lon {w:.4f}..{e:.4f}, lat {s:.4f}..{n:.4f}",
            "choose an item whose footprint covers the box (search with the same --bbox), or move the box",
        )
    n_px = (c1 - c0) * (r1 - r0)
    if n_px > MAX_WINDOW_PX:
        raise UnsafeInputError(source, f"the window is {c1 - c0} x {r1 - r0} = {n_px:,} pixels, more than "
                               f"the {MAX_WINDOW_PX:,} allowed", "use a smaller bbox")
    return Window(c0, r0, c1 - c0, r1 - r0)


def _safe_name(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip("._-")
    return s[:120] or "item"


def _band_requests(assets: Sequence[str] | Mapping[str, str] | str) -> list[tuple[str, str]]:
    if isinstance(assets, str):
        assets = [a for a in assets.split(",") if a.strip()]
    if isinstance(assets, Mapping):
        pairs = [(str(k), str(v)) for k, v in assets.items()]
    else:
        pairs = [(str(a), str(a)) for a in assets]
    pairs = [(k.strip(), v.strip()) for k, v in pairs]
    if not pairs or any(not k or not v for k, v in pairs):
        raise DataError("assets", f"no usable asset names in {assets!r}", "give names such as B03,B04,B08,B11")
    return pairs


def fetch_assets(
    item: StacItem,
    *,
    assets: Sequence[str] | Mapping[str, str] = DEFAULT_ASSETS,
    bbox_lonlat: Sequence[float],
    out_dir: str | os.PathLike,
    progress: Callable[[str, float], None] | None = None,
    timeout_s: float = 30,
) -> dict[str, Path]:
    """Read the window of each asset that covers ``bbox_lonlat`` and write it as a GeoTIFF.

    Only the window is read (GDAL ``/vsicurl/`` range requests for http(s) assets). Outputs keep
    the asset's CRS, grid (the window's transform), dtype, nodata, scale/offset and band
    description, and are written atomically (temporary file + ``os.replace``) as
    ``<out_dir>/<item id>_<name>.tif``.

    Parameters
    ----------
    item
        A search or catalogue result.
    assets
        Names to fetch (asset keys, ``eo:bands`` names or common names), or a mapping
        output name -> asset key / band name, e.g. ``{"B04": "red", "B08": "nir"}``.
    bbox_lonlat
        ``(west, south, east, north)`` in degrees WGS84; reprojected to each asset's CRS.
    out_dir
        Output folder, created when missing.
    progress
        Optional ``progress(step, fraction)`` callback.
    timeout_s
        HTTP timeout handed to GDAL.

    Returns
    -------
    dict
        output name -> path of the GeoTIFF written, in the order asked.

    Raises
    ------
    DataError
        an unknown band, an asset that cannot be opened (404, network), no CRS, a bbox that
        misses the asset, or an oversize window.
    """
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioError

    bbox = check_bbox(bbox_lonlat)
    pairs = _band_requests(assets)
    resolved = [(name, *item.find_asset(ref)) for name, ref in pairs]  # fail before any download
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    n = len(resolved)
    with rasterio.Env(**_gdal_env(timeout_s)):
        for i, (name, asset, band) in enumerate(resolved):
            if progress:
                progress(f"{name}: reading window", i / n)
            gpath = _gdal_path(asset.href, item=item)
            shown = _strip_query(asset.href)
            final = out / f"{_safe_name(item.id)}_{_safe_name(name)}.tif"
            tmp = out / f".{final.stem}.{uuid.uuid4().hex[:8]}.part.tif"
            try:
                with rasterio.open(gpath, driver=_driver_for(asset)) as ds:
                    if ds.crs is None:
                        raise MissingCRSError(shown, "the asset has no CRS", "use assets with a declared CRS")
                    win = _window_for(ds, bbox, source=shown)
                    indexes = [band] if band is not None else list(range(1, ds.count + 1))
                    data = ds.read(indexes, window=win)
                    nodata = ds.nodata if ds.nodata is not None else asset.nodata
                    descs = [ds.descriptions[b - 1] or (name if len(indexes) == 1 else f"{name}_{b}") for b in indexes]
                    profile = dict(
                        driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                        dtype=data.dtype, crs=ds.crs, transform=ds.window_transform(win), nodata=nodata,
                        compress="deflate", predictor=2 if np.issubdtype(data.dtype, np.integer) else 3,
                        BIGTIFF="IF_SAFER",
                    )
                    if data.shape[1] >= 16 and data.shape[2] >= 16:
                        profile.update(tiled=True, blockxsize=min(256, 16 * (data.shape[2] // 16)),
                                       blockysize=min(256, 16 * (data.shape[1] // 16)))
                    scales = [ds.scales[b - 1] for b in indexes]
                    offsets = [ds.offsets[b - 1] for b in indexes]
                    with rasterio.open(tmp, "w", **profile) as dst:
                        dst.write(data)
                        for j, d in enumerate(descs, start=1):
                            dst.set_band_description(j, d)
                        if any(s != 1 for s in scales) or any(o != 0 for o in offsets):
                            dst.scales = scales
                            dst.offsets = offsets
                        dst.update_tags(
                            STAC_ITEM=item.id, STAC_COLLECTION=item.collection or "", STAC_ASSET=asset.key,
                            DATETIME=_rfc3339(item.datetime) if item.datetime else "", SOURCE=shown,
                            BBOX_LONLAT=",".join(f"{v:g}" for v in bbox),
                        )
                os.replace(tmp, final)
            except RasterioError as exc:
                raise DataError(
                    shown,
                    f"cannot read asset {asset.key} of item {item.id} ({exc})",
                    "check that the asset URL is reachable (HTTP 404 means it moved; signed URLs expire) "
                    f"and that the server allows range requests; {_OFFLINE_FIX}",
                ) from exc
            finally:
                if tmp.exists():
                    tmp.unlink()
            written[name] = final
    if progress:
        progress("done", 1.0)
    return written
