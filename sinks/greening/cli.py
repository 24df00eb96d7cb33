"""``python -m sinks greening``: greening and forest coverage per unit from the command line.

It parses options, calls :func:`sinks.greening.assess.greening_assessment`, writes the files and
prints a summary. ``DataError`` propagates to ``sinks.cli.main`` (printed, exit 1).

Files written to ``--out`` (all at once: a temporary folder swapped in at the end):

* ``indicators.csv``: one row per unit and date: areas behind every indicator (ha) and the
  indicators (%; empty where undefined, with the reason in ``notes``);
* ``progress.csv``: each unit against each target that applies to it (gap, status, rank);
  ``targets_rejected.csv`` / ``forest_extra_rejected.csv`` when rows of those tables could not
  be used;
* ``intervals.csv``: coverage intervals from the classification accuracy (dates with an accuracy
  report only);
* ``candidates.csv``: candidate land per unit, date, present class and kind, with the removals
  and stock gain planting would bring; ``candidates.gpkg`` (layer ``patches``, latest date,
  EPSG:4326 or ``--crs 4490``) and ``candidate_patches.csv``;
* ``overlaps.csv``: pairs of units that overlap;
* ``sinks_greening_report.json``: provenance, notes, unit tiling (gaps, overlaps), totals.
"""
from __future__ import annotations

import json
from pathlib import Path

from geodata.crs import CoordSystem

MARKER = "sinks_greening_report.json"


def _write(res, out: Path, crs: int) -> list[Path]:
    from geodata.files import atomic_report_dir
    from geodata.points import safe_for_csv
    from sinks.report import _clean, _json_default

    def csv(df, path: Path) -> None:
        safe_for_csv(df).to_csv(path, index=False)

    names = res.units[["unit_id", "name_zh", "name_en"]]
    with atomic_report_dir(out, marker=MARKER) as tmp:
        csv(names.merge(res.indicators, on="unit_id", how="right"), tmp / "indicators.csv")
        csv(names.merge(res.progress, on="unit_id", how="right"), tmp / "progress.csv")
        if len(res.targets_rejected):
            csv(res.targets_rejected, tmp / "targets_rejected.csv")
        if res.forest_extra_rejected is not None and len(res.forest_extra_rejected):
            csv(res.forest_extra_rejected, tmp / "forest_extra_rejected.csv")
        if res.intervals is not None:
            csv(res.intervals, tmp / "intervals.csv")
        csv(res.candidates, tmp / "candidates.csv")
        csv(res.patches.drop(columns="geometry"), tmp / "candidate_patches.csv")
        res.patches.to_crs(crs).to_file(tmp / "candidates.gpkg", layer="patches", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        csv(res.overlaps, tmp / "overlaps.csv")
        last = res.years[-1]
        doc = {
            "generator": "python -m sinks greening",
            "unit_set": res.unit_set,
            "units": int(len(res.units)),
            "years": res.years,
            "tiling": {"overlapping_pairs": int(len(res.overlaps)), "overlap_ha": round(float(res.overlaps["overlap_ha"].sum()), 4),
                       "gap_ha": round(res.gap_ha, 4), "outside_ha": round(res.outside_ha, 4)},
            "below_target": {f"{i} {y}": int(n) for (i, y), n in
                             res.progress[res.progress["status"] == "below"].groupby(["indicator", "target_year"]).size().items()},
            "candidate_patches": {"listed": int(len(res.patches)), "dropped": res.patches_dropped[0],
                                  "dropped_ha": round(res.patches_dropped[1], 4), "year": last},
            "builtup_area": res.builtup_source,
            "notes": list(res.notes),
            "crs": f"EPSG:{crs}",
            "provenance": res.provenance,
        }
        (tmp / MARKER).write_text(json.dumps(_clean(doc), ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return sorted(out.iterdir())


def _fmt(v: float) -> str:
    return "undefined" if v != v else f"{v:.1f} %"


def _cmd_greening(args) -> int:
    from sinks.cli import _Progress
    from sinks.cli_wetlands import check_out_dir
    from sinks.cli_zones import _vector
    from sinks.greening.assess import greening_assessment
    from sinks.greening.indicators import park_indicator

    check_out_dir(args.out, MARKER)
    units = args.units
    if units not in ("zones", "units", None):
        units = _vector(Path(units), args.units_layer)
    parks = None
    if args.parks:
        from geodata.vectors import prepare_zones
        raw = _vector(args.parks, args.parks_layer)
        if args.parks_id_field not in raw.columns:
            raw = raw.assign(**{args.parks_id_field: [f"P{i + 1}" for i in range(len(raw))]})
        parks = prepare_zones(raw, source=str(args.parks), id_field=args.parks_id_field, coord_system=args.parks_coord_system).gdf
    res = greening_assessment(args.config, units=units, unit_id_field=args.units_id_field, unit_coord_system=args.coord_system,
                              unit_source=str(args.units), parks=parks, targets=args.targets,
                              forest_extra=args.forest_extra, progress=_Progress())
    files = _write(res, args.out, args.crs)
    last = res.years[-1]
    ind = res.indicators[res.indicators["year"] == last].merge(res.units[["unit_id", "name_en"]], on="unit_id")
    r_max = max(res.config.greening.park_radii_m)
    park = [park_indicator(r_max)]
    print(f"{len(res.units)} units ({res.unit_set}), {last}: green coverage (classes / NDVI), forest coverage, park service {r_max:g} m")
    for _, r in ind.iterrows():
        print(f"  {r['unit_id']} {r['name_en']}: {_fmt(r['green_coverage_pct'])} / {_fmt(r['green_coverage_fvc_pct'])}, "
              f"{_fmt(r['forest_coverage_pct'])}, {_fmt(r[park[-1]]) if park else '-'}; candidates {r['candidate_ha']:,.1f} ha")
    below = res.progress[res.progress["status"] == "below"]
    print(f"  below target: {len(below)} of {len(res.progress)} unit-targets")
    for note in res.notes:
        print(f"  note: {note}")
    print(f"wrote {len(files)} entries to {args.out}")
    return 0


def add_parsers(sub) -> None:
    """Add the ``greening`` sub-command to an ``add_subparsers`` object."""
    g = sub.add_parser("greening", help="green coverage, forest coverage, park service and planting candidates per unit")
    g.add_argument("config", type=Path, help="TOML run configuration ([greening] names units, parks, targets)")
    g.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier greening output)")
    g.add_argument("--units", default=None, help="'zones' (districts), 'units' ([greening] units) or a polygon file "
                   "(GeoPackage, GeoJSON, zipped shapefile); default: units when configured, else zones")
    g.add_argument("--units-layer", help="layer of a --units file")
    g.add_argument("--units-id-field", default="unit_id", help="id column of a --units file (default unit_id)")
    g.add_argument("--coord-system", default=CoordSystem.WGS84.value, choices=[c.value for c in CoordSystem],
                   help="what lon/lat system a --units file is really in (gcj02: Amap/DataV; bd09: Baidu); default wgs84")
    g.add_argument("--parks", type=Path, help="park / green-space polygons replacing the configured ones")
    g.add_argument("--parks-layer", help="layer of --parks")
    g.add_argument("--parks-id-field", default="park_id", help="id column of --parks (default park_id; numbered when absent)")
    g.add_argument("--parks-coord-system", default=CoordSystem.WGS84.value, choices=[c.value for c in CoordSystem],
                   help="what lon/lat system --parks is really in (default wgs84)")
    g.add_argument("--targets", type=Path, help="targets CSV (unit_id, year, indicator, target_pct) replacing the configured one")
    g.add_argument("--forest-extra", type=Path, help="CSV of forest the map cannot see (unit_id, year, extra_forest_ha[, kind, source]: "
                   "shelterbelts, 四旁树), added to forest coverage")
    g.add_argument("--crs", type=int, default=4326, choices=[4326, 4490], help="CRS of candidates.gpkg (default 4326; 4490 = CGCS2000)")
    g.set_defaults(func=_cmd_greening)
