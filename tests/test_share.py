"""The explorer's shareable view (ui.share): the polyline codec and hostile links."""
from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from sinks.explorer.card import geometry_hash
from ui.share import (MAX_SHAPE_CHARS, shape_parts, View, decode_polyline, decode_view, encode_polyline, encode_view,
                      link_shape, shape_param)

IDS = {"district": {"pukou", "liuhe"}, "unit": {"U01"}}
YEARS = [2020, 2025]


def test_polyline_matches_googles_published_example():
    # Google Maps Platform, "Encoded Polyline Algorithm Format": the three points of its example
    pts = [(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)]
    assert encode_polyline(pts) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert [c for pt in decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@") for c in pt] == pytest.approx([c for pt in pts for c in pt])


def test_polyline_round_trip_keeps_five_decimals():
    pts = [(118.71234, 32.15678), (118.72, 32.15), (118.70001, 32.16999), (-0.00001, 0.0)]
    assert [c for pt in decode_polyline(encode_polyline(pts)) for c in pt] == pytest.approx([c for pt in pts for c in pt], abs=1e-9)


@pytest.mark.parametrize("text", ["abc def", "_p~iF~ps|U_", "\x00\x01", "_p~iF"])
def test_polyline_rejects_foreign_or_truncated_text(text):
    with pytest.raises(ValueError):
        decode_polyline(text)


def test_view_round_trip_for_a_listed_area_and_a_drawn_one():
    q = encode_view(View(kind="district", area_id="pukou", year=2020, layer="stock", compare_year=2025))
    assert q == {"area": "district:pukou", "year": "2020", "layer": "stock", "cmp": "2025"}
    view, notes = decode_view(q, years=YEARS, ids=IDS)
    assert (view.kind, view.area_id, view.year, view.layer, view.compare_year) == ("district", "pukou", 2020, "stock", 2025)
    assert notes == ()
    park = box(118.70, 32.15, 118.72, 32.17)
    q = encode_view(View(kind="drawn", shape=park, year=2025))
    view, notes = decode_view(q, years=YEARS, ids=IDS)
    assert view.kind == "drawn" and notes == ()
    assert view.shape.symmetric_difference(park).area < 1e-12


def test_a_long_outline_is_simplified_to_fit_the_link():
    import numpy as np

    t = np.linspace(0, 2 * np.pi, 5000, endpoint=False)
    circle = Polygon(zip(118.7 + 0.05 * np.cos(t) + 0.0003 * np.sin(40 * t), 32.1 + 0.05 * np.sin(t)))
    text, simplified = shape_param(circle)
    assert simplified and text is not None and len(text) <= MAX_SHAPE_CHARS
    back = Polygon(decode_polyline(text))
    assert abs(back.area - circle.area) / circle.area < 0.01


@pytest.mark.parametrize("params, code", [
    ({"area": "district:nowhere"}, "unknown_area"),
    ({"area": "county:pukou"}, "bad_area"),
    ({"area": "district:"}, "bad_area"),
    ({"area": "drawn", "shape": "x" * (MAX_SHAPE_CHARS + 1)}, "shape_too_long"),
    ({"area": "drawn", "shape": "<script>"}, "bad_shape"),
    ({"area": "drawn", "shape": encode_polyline([(118.7, 32.1), (118.8, 32.1)])}, "bad_shape"),
    ({"area": "drawn", "shape": encode_polyline([(500.0, 32.1), (118.8, 32.1), (118.8, 32.2)])}, "bad_shape"),
    ({"year": "twenty"}, "bad_param"),
    ({"layer": "javascript:alert(1)"}, "bad_layer"),
])
def test_a_hostile_link_opens_with_a_note_not_a_crash(params, code):
    view, notes = decode_view(params, years=YEARS, ids=IDS)
    assert [n.code for n in notes] == [code]
    assert view.kind is None and view.layer is None and view.year is None


def test_a_year_without_a_map_opens_the_nearest_date():
    view, notes = decode_view({"year": "2024", "cmp": "2019"}, years=YEARS, ids=IDS)
    assert (view.year, view.compare_year) == (2025, 2020)
    assert [n.code for n in notes] == ["no_year", "no_year"] and notes[0].params["year"] == 2024


def test_what_a_link_leaves_out_of_a_shape_is_counted():
    from shapely.geometry import MultiPolygon

    holed = box(0, 0, 10, 10).difference(box(4, 4, 6, 6))
    two = MultiPolygon([box(0, 0, 2, 2), box(5, 5, 6, 6)])
    assert shape_parts(box(0, 0, 1, 1)) == (1, 0)
    assert shape_parts(holed) == (1, 1)
    assert shape_parts(two) == (2, 0)
    text, _ = shape_param(two)
    assert Polygon(decode_polyline(text)).equals(box(0, 0, 2, 2))  # the largest part only, as the page says


def test_a_drawn_area_is_the_shape_its_link_opens():
    """The sender computes on link_shape(drawn); the recipient on the link's decoded shape: the
    same vertices, so the same hash (hence the same cached card and figures). The raw drawing,
    with Leaflet's 15 decimals, would hash differently."""
    drawn = Polygon([(118.712345678901, 32.156789012345), (118.7301234567, 32.1512345678), (118.7254321098, 32.1698765432)])
    sent = link_shape(drawn)
    opened, notes = decode_view(encode_view(View(kind="drawn", shape=sent, year=2025)), years=YEARS, ids=IDS)
    assert notes == () and opened.kind == "drawn"
    assert list(opened.shape.exterior.coords) == list(sent.exterior.coords)
    assert geometry_hash(opened.shape) == geometry_hash(sent) != geometry_hash(drawn)
    assert sent.exterior.coords[0] == pytest.approx((118.71235, 32.15679), abs=1e-12)
    # a ring too long for a link is simplified once; the link of the simplified shape is the same link
    big = Polygon([(118.7 + 0.05 * np.cos(a), 32.1 + 0.05 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 3000, endpoint=False)])
    once = link_shape(big)
    assert len(once.exterior.coords) < 3000 and shape_param(once)[0] == shape_param(big)[0]
    assert link_shape(once).equals_exact(once, 0)
