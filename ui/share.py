"""The explorer's view in the address bar: a link opens the same area, year, layer and language.

A view is a handful of query parameters (``st.query_params``), short enough to paste in a chat:

==========  ===========================================================================
``area``    ``<kind>:<id>`` of a listed area (``district:pukou``, ``unit:U07``), or
            ``drawn`` when the shape itself travels in ``shape``
``shape``   a drawn or uploaded polygon's outer ring, Google encoded-polyline (5 decimals,
            about 1 m), at most :data:`MAX_SHAPE_CHARS` characters
``year``    a land-cover date
``layer``   one of :data:`LAYERS`
``cmp``     the date the swipe compares with
``lang``    ``zh`` / ``en`` (read by ``app.py``)
==========  ===========================================================================

Anyone can craft a link, so :func:`decode_view` trusts nothing: unknown keys are ignored, values
are length-limited and checked, a bad value is dropped with a :class:`~sinks.notes.Note` saying
which one and why (the page shows it), and the rest of the view still opens.

The polyline format is Google's "Encoded Polyline Algorithm Format" (documented by Google Maps
Platform): each coordinate is rounded to 1e-5 degrees, delta-encoded against the previous point,
zig-zag signed and written 5 bits per character from ``?`` (63). Latitude comes first.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from sinks.notes import Note

KINDS = ("district", "unit", "site", "redline")  # listed areas; "drawn" carries its own shape
LAYERS = ("landcover", "stock", "change")
MAX_SHAPE_CHARS = 6000  # ~700-1,000 vertices: browsers and chat tools keep links of this length
MAX_ID_CHARS = 64
MAX_SHAPE_VERTICES = 2000
_PRECISION = 1e5


@dataclass(frozen=True)
class View:
    """What the explorer shows; ``None`` fields take the page's defaults."""

    kind: str | None = None  # a KINDS member or "drawn"
    area_id: str | None = None
    shape: BaseGeometry | None = None  # lon/lat polygon for kind "drawn"
    year: int | None = None
    layer: str | None = None
    compare_year: int | None = None


def encode_polyline(coords) -> str:
    """``[(lon, lat), ...]`` as a Google encoded polyline (latitude first, 5 decimals)."""
    out: list[str] = []
    prev_lat = prev_lon = 0
    for lon, lat in coords:
        ilat, ilon = round(lat * _PRECISION), round(lon * _PRECISION)
        for delta in (ilat - prev_lat, ilon - prev_lon):
            v = ~(delta << 1) if delta < 0 else delta << 1
            while v >= 0x20:
                out.append(chr((0x20 | (v & 0x1F)) + 63))
                v >>= 5
            out.append(chr(v + 63))
        prev_lat, prev_lon = ilat, ilon
    return "".join(out)


def decode_polyline(text: str) -> list[tuple[float, float]]:
    """The inverse of :func:`encode_polyline`: ``[(lon, lat), ...]``. Raises ``ValueError`` on any
    character outside the format or a truncated value."""
    values: list[int] = []
    shift = acc = 0
    for ch in text:
        b = ord(ch) - 63
        if not 0 <= b < 64:
            raise ValueError(f"character {ch!r} is not part of an encoded polyline")
        acc |= (b & 0x1F) << shift
        shift += 5
        if shift > 35:
            raise ValueError("a value runs on too long")
        if b < 0x20:
            values.append(~(acc >> 1) if acc & 1 else acc >> 1)
            shift = acc = 0
    if shift or len(values) % 2:
        raise ValueError("the text ends in the middle of a coordinate")
    coords, lat, lon = [], 0, 0
    for dlat, dlon in zip(values[::2], values[1::2]):
        lat += dlat
        lon += dlon
        coords.append((lon / _PRECISION, lat / _PRECISION))
    return coords


def shape_parts(geom: BaseGeometry) -> tuple[int, int]:
    """``(parts, holes)`` of a polygon: what :func:`shape_param` leaves out when either is more
    than ``(1, 0)`` (the link carries the largest part's outer ring)."""
    polys = list(getattr(geom, "geoms", [geom]))
    return len(polys), sum(len(p.interiors) for p in polys if p.geom_type == "Polygon")


def shape_param(geom: BaseGeometry, *, max_chars: int = MAX_SHAPE_CHARS) -> tuple[str | None, bool]:
    """The ``shape`` parameter of a polygon (its largest part's outer ring: see
    :func:`shape_parts`), simplified until it fits ``max_chars``. Returns ``(text or None,
    simplified)``; None when even a coarse outline does not fit (the link then opens without the
    shape)."""
    poly = geom if geom.geom_type == "Polygon" else max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    if poly.geom_type != "Polygon" or poly.is_empty:
        return None, False
    ring = poly.exterior
    text = encode_polyline(list(ring.coords)[:-1])
    tol, simplified = 1e-5, False
    while len(text) > max_chars and tol < 0.05:
        ring = poly.exterior.simplify(tol, preserve_topology=True)
        text = encode_polyline(list(ring.coords)[:-1])
        tol, simplified = tol * 2, True
    return (text, simplified) if len(text) <= max_chars else (None, True)


def link_shape(geom: BaseGeometry) -> BaseGeometry:
    """The polygon a link to ``geom`` opens: its :func:`shape_param` decoded again (vertices on
    the link's 1e-5 degree grid, simplified if the ring was too long). A drawn area is computed on
    this shape, so whoever opens the link gets the same hash and the same figures. ``geom``
    itself when no link can carry it."""
    text, _ = shape_param(geom)
    return Polygon(decode_polyline(text)) if text else geom


def encode_view(view: View) -> dict[str, str]:
    """Query parameters of ``view`` (language left to ``app.py``); empty fields are left out."""
    q: dict[str, str] = {}
    if view.kind == "drawn" and view.shape is not None:
        text, _ = shape_param(view.shape)
        if text:
            q["area"], q["shape"] = "drawn", text
    elif view.kind in KINDS and view.area_id:
        q["area"] = f"{view.kind}:{view.area_id}"
    if view.year is not None:
        q["year"] = str(int(view.year))
    if view.layer in LAYERS:
        q["layer"] = view.layer
    if view.compare_year is not None:
        q["cmp"] = str(int(view.compare_year))
    return q


def _year(text: str, name: str, years: list[int], notes: list[Note]) -> int | None:
    try:
        y = int(text[:8])
    except ValueError:
        notes.append(Note("bad_param", f"the link's {name}={text[:20]!r} is not a year; the latest date is shown", param=name))
        return None
    if y not in years:
        notes.append(Note("no_year", f"the link asks for {y}, which has no land-cover map (dates: "
                          f"{', '.join(map(str, years))}); the nearest date is shown", param=name, year=y))
        return min(years, key=lambda v: (abs(v - y), -v))
    return y


def decode_view(params: Mapping[str, str], *, years: list[int], ids: Mapping[str, set[str]]) -> tuple[View, tuple[Note, ...]]:
    """The view a link asks for, and a note for every part that could not be honoured.

    ``ids`` maps each listed kind to its known ids (a kind not configured is absent). A shape
    must decode to a polygon of 3 to :data:`MAX_SHAPE_VERTICES` lon/lat vertices; whether it lies
    on the map is the card's check (it says so in words)."""
    notes: list[Note] = []
    view = View()
    area = str(params.get("area", ""))[: MAX_ID_CHARS + 16]
    if area == "drawn":
        text = str(params.get("shape", ""))
        if len(text) > MAX_SHAPE_CHARS:
            notes.append(Note("shape_too_long", f"the link's shape is {len(text)} characters (limit {MAX_SHAPE_CHARS}); "
                              "draw the area again or upload it", chars=len(text), limit=MAX_SHAPE_CHARS))
        else:
            try:
                coords = decode_polyline(text)
                if not 3 <= len(coords) <= MAX_SHAPE_VERTICES:
                    raise ValueError(f"{len(coords)} vertices (3 to {MAX_SHAPE_VERTICES} allowed)")
                if not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in coords):
                    raise ValueError("coordinates outside longitude/latitude range")
                view = replace(view, kind="drawn", shape=Polygon(coords))
            except ValueError as exc:
                notes.append(Note("bad_shape", f"the link's shape cannot be read ({exc}); draw the area again", reason=str(exc)))
    elif area:
        kind, _, area_id = area.partition(":")
        if kind not in KINDS or not area_id:
            notes.append(Note("bad_area", f"the link's area={area[:40]!r} is not '<kind>:<id>' with a kind of "
                              f"{', '.join(KINDS)}; choose an area on the map", area=area[:40]))
        elif area_id not in ids.get(kind, set()):
            notes.append(Note("unknown_area", f"no {kind} has the id {area_id!r} in this data; choose an area on the map",
                              kind=kind, area_id=area_id))
        else:
            view = replace(view, kind=kind, area_id=area_id)
    if "year" in params:
        view = replace(view, year=_year(str(params["year"]), "year", years, notes))
    if "cmp" in params:
        view = replace(view, compare_year=_year(str(params["cmp"]), "cmp", years, notes))
    layer = str(params.get("layer", ""))[:20]
    if layer:
        if layer in LAYERS:
            view = replace(view, layer=layer)
        else:
            notes.append(Note("bad_layer", f"the link's layer={layer!r} is not one of {', '.join(LAYERS)}; "
                              "the land cover is shown", layer=layer))
    return view, tuple(notes)
