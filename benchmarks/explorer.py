"""The sink explorer on the demo: what a card costs, cold and cached, and what the map sends.

    .venv/bin/python benchmarks/explorer.py [--config configs/jiangbei_demo.toml] [--repeats 3]

Prints the one-off inputs the dashboard caches (greening masks, protection zones, the street-unit
peers), the card of a district, a street unit and a drawn park (best of ``--repeats``), the
pictures (map PNG, card PNG, timelapse GIF) with their sizes, the outline payload of the pick map
for the whole area and zoomed on a district (features and vertices sent vs held), and the peak
memory. Targets live here, not in tests.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from timing import best  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "jiangbei_demo.toml")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import shapely
    from shapely.geometry import box

    from sinks.coefficients import load_coefficients
    from sinks.config import load_config
    from sinks.explorer import card as core
    from sinks.explorer import frames, mapimage
    from sinks.greening.assess import build_layers
    from sinks.protection import build_zones
    from ui.leaflet import geojson, map_outlines

    cfg = load_config(args.config)
    t, layers = best(lambda: build_layers(cfg), 1)
    print(f"greening masks (cached once per configuration): {t:.2f} s")
    t, built = best(lambda: build_zones(cfg), 1)
    zones = built[0]
    print(f"protection zones (cached per workspace version): {t:.2f} s, {len(zones)} zones")
    t, peers = best(lambda: core.peer_table(cfg, "unit", layers=layers), 1)
    print(f"street-unit peers (one run over {peers['id'].nunique()} units, cached): {t:.2f} s")
    sets = core.peer_sets(cfg)
    park = box(118.62, 32.05, 118.64, 32.065)
    cases = [("district", "pukou", sets["district"].set_index("id").geometry["pukou"]),
             ("unit", "PK03", sets["unit"].set_index("id").geometry["PK03"]),
             ("drawn", "", park)]
    for kind, area_id, geom in cases:
        t, c = best(lambda: core.area_card(cfg, geom, kind=kind, area_id=area_id, layers=layers, protection=zones, peers=peers),
                    args.repeats)
        print(f"card of {kind} {area_id or 'park'} ({c.area_ha:,.0f} ha): {t:.2f} s (a cached card: a dictionary lookup)")
    table = load_coefficients(cfg.coefficients)
    bounds = (118.60, 32.04, 118.66, 32.075)
    t, fr = best(lambda: frames.landcover_frame(cfg.landcover[2025], bounds_lonlat=bounds, outline=park, label="2025"), args.repeats)
    print(f"land-cover frame {fr.rgba.shape[1]}x{fr.rgba.shape[0]} px: {t * 1e3:.0f} ms")
    t, png = best(lambda: mapimage.map_png(fr, title="park", lang="zh", outline=park, locator_bounds=tuple(sets["district"].total_bounds)), args.repeats)
    print(f"map PNG with legend, scale bar, north arrow, inset: {t * 1e3:.0f} ms, {len(png) / 1024:.0f} KiB")
    t, fr2 = best(lambda: frames.carbon_frame(cfg.landcover[2025], table, bounds_lonlat=bounds, outline=park, label="2025"), args.repeats)
    print(f"carbon-density frame: {t * 1e3:.0f} ms")
    fs = [frames.landcover_frame(cfg.landcover[y], bounds_lonlat=bounds, outline=park, label=str(y)) for y in cfg.years]
    t, gif = best(lambda: mapimage.timelapse_gif(fs, lang="en", title="park"), args.repeats)
    print(f"timelapse GIF, {len(fs)} frames: {t * 1e3:.0f} ms, {len(gif) / 1024:.0f} KiB")

    # what the pick map sends: all outlines vs those in view, simplified to half a pixel (900 px wide)
    allg = [g for g in sets.values()]
    full = sum(len(json.dumps(geojson(map_outlines(g, simplify_m=0.0)))) for g in allg)
    from ui.explorer_flow import padded_bounds, view_features

    for label, view in (("whole area", tuple(sets["district"].total_bounds)),
                        ("zoomed on PK03", padded_bounds(sets["unit"].set_index("id").geometry["PK03"]))):
        vfs = [view_features(g, view) for g in allg]
        sent = sum(len(json.dumps(geojson(v.gdf))) for v in vfs)
        print(f"pick map, {label}: {sum(v.n_sent for v in vfs)}/{sum(v.n_total for v in vfs)} areas, "
              f"{sum(v.vertices_sent for v in vfs):,}/{sum(v.vertices_total for v in vfs):,} vertices, "
              f"{sent / 1024:.0f} KiB vs {full / 1024:.0f} KiB unsimplified ({full / max(sent, 1):.1f}x less), "
              f"tolerance {max(v.tolerance_m for v in vfs):.0f} m")
    del shapely
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
