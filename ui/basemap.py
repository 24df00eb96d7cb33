"""The offline basemap: a Mapbox GL style (version 8) served from ``static/map_style.json``.

Closed government networks have no internet, so the map never asks for remote tiles, fonts or
sprites: the style holds a background colour and the Yangtze water surface as inline GeoJSON
(GSHHG, from ``data/boundaries/jiangbei_boundaries.gpkg`` layer ``yangtze``). Streamlit serves
it at ``/app/static/map_style.json`` (``server.enableStaticServing``).

Regenerate after the boundaries change (no streamlit needed)::

    .venv/bin/python -m ui.basemap
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STYLE_FILE = ROOT / "static" / "map_style.json"
STYLE_URL = "/app/static/map_style.json"
BOUNDARIES = ROOT / "data" / "boundaries" / "jiangbei_boundaries.gpkg"
BACKGROUND = "#eef0eb"
# Slate grey, not blue: the zones are filled blue (sinks, ui.maps) and a blue river read as a weak
# sink (3 ΔE from the lightest tint); this grey stays >= 13 ΔE from every sink tint (tested).
WATER = "#a9b1b5"


def build_style(boundaries: Path = BOUNDARIES, *, layer: str = "yangtze", tolerance_m: float = 15.0) -> dict:
    """A style with a background and the river polygon inline (no URL anywhere)."""
    import geopandas as gpd

    river = gpd.read_file(boundaries, layer=layer)
    utm = river.estimate_utm_crs()
    simple = river.to_crs(utm).simplify(tolerance_m).to_crs(river.crs)
    features = json.loads(gpd.GeoDataFrame({"name_zh": river["name_zh"], "name_en": river["name_en"]},
                                           geometry=simple, crs=river.crs).to_json(to_wgs84=True, drop_id=True))
    # round to 1e-5 degree (about 1 m): plenty for a backdrop, and a smaller file
    for f in features["features"]:
        f["geometry"]["coordinates"] = _round(f["geometry"]["coordinates"])
    return {
        "version": 8,
        "name": "Jiangbei offline basemap",
        "metadata": {
            "source": f"{boundaries.relative_to(ROOT) if boundaries.is_relative_to(ROOT) else boundaries} layer '{layer}' "
                      "(Yangtze water surface, GSHHG river-lake polygon; see data/boundaries/README.md)",
            "generator": "python -m ui.basemap",
            "simplify_tolerance_m": tolerance_m,
        },
        "sources": {"yangtze": {"type": "geojson", "data": features}},
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}},
            {"id": "yangtze", "type": "fill", "source": "yangtze", "paint": {"fill-color": WATER, "fill-antialias": True}},
        ],
    }


def _round(coords):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], 5), round(coords[1], 5)]
    return [_round(c) for c in coords]


def write_style(path: Path = STYLE_FILE, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_style(**kw), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_style()}")
