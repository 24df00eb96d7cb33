"""``python -m sinks zones``: protection zones and compliance screening from the command line.

It parses options, calls :func:`sinks.protection.protection_screening`, writes the files and
prints a summary. Handlers return exit codes and let ``DataError`` propagate (``sinks.cli.main``
prints it, exit 1).

Files written to ``--out`` (all at once: a temporary folder swapped in when everything is
written, so an error leaves nothing half-written and an earlier output intact):

* ``zones.gpkg``: layers ``zones`` (every zone screened), ``flagged_patches`` (all dates) and
  ``intakes`` (EPSG:4326; ``--crs 4490`` for CGCS2000);
* ``summary.csv``: per zone and date: area (vector and mapped), natural, non-conforming and
  review land, patches, carbon stock, NDVI, changes since the previous date;
* ``class_areas.csv`` (coverage-weighted and by pixel centres), ``transitions.csv``,
  ``flagged_patches.csv`` (with the rule broken and its citation), ``rules.csv`` (the rules used);
* ``per_zone/NNN_<zone>.csv``: the report table of each zone (class areas per date, with the
  status of each class under the zone's rules), listed in ``per_zone/index.csv``;
* ``points.csv`` and ``points_rejected.csv`` when ``--points`` is given (each project /
  enterprise point and its zones; the rows that could not be read, with the reason);
* ``sinks_zones_report.json``: provenance, notes and totals (zone areas per type, flagged areas
  per date and status: sums over zones, so land in two overlapping zones counts in both).

Every CSV goes through :func:`geodata.points.safe_for_csv`: text from uploads that starts like a
spreadsheet formula is quoted, so opening a report in Excel or WPS never runs it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from geodata.crs import CoordSystem
from geodata.errors import DataError

MARKER = "sinks_zones_report.json"  # a name no one else uses: --out is replaced only when it holds this


def _vector(path: Path | None, layer: str | None):
    """A polygon layer from a file (zipped shapefiles are read in memory, with the zip checks)."""
    from geodata.vectors import read_vector

    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower() == ".zip":
        if not path.exists():
            raise DataError(path, "the file does not exist", "check the path")
        return read_vector(path.read_bytes(), name=str(path), layer=layer)
    return read_vector(path, layer=layer)


def _zone_layer(path: Path | None, layer: str | None, id_field: str, coord_system: str):
    from geodata.vectors import prepare_zones

    gdf = _vector(path, layer)
    if gdf is None:
        return None
    return prepare_zones(gdf, source=str(path), id_field=id_field, coord_system=coord_system)


def _workspace_redlines(ws_path: str | None):
    """The workspace's ecological red lines and urban wetland red lines (either may be absent);
    ``ws_path`` is a workspace .gpkg or the postgresql:// URL of a PostGIS workspace."""
    if ws_path is None:
        return None, None
    from geodata.store import NotAWorkspaceError
    from geodata.workspace import is_database_url, mask_url, open_workspace
    from wetlands.redlines import ECO_REDLINES, REDLINES

    url = is_database_url(ws_path)
    where = mask_url(ws_path) if url else ws_path  # a message never shows the password
    if not url and not Path(ws_path).is_file():
        raise DataError(ws_path, "the workspace file does not exist",
                        "give the path of an existing workspace .gpkg (or the postgresql:// URL of a PostGIS workspace)")
    try:
        ws = open_workspace(ws_path, read_only=True)
    except NotAWorkspaceError as exc:
        raise DataError(where, exc.problem, "give the workspace the dashboard writes") from None
    layers = ws.layers()
    eco = ws.load(ECO_REDLINES.layer) if ECO_REDLINES.layer in layers else None
    wet = ws.load(REDLINES.layer) if REDLINES.layer in layers else None
    return eco, wet


def _file_name(n: int, zone_id: str) -> str:
    """``NNN_<zone id>.csv``: the number keeps ids that clean to the same text apart; letters of
    any script are kept, anything a file system could trip on becomes ``_``."""
    slug = re.sub(r"[^\w.-]+", "_", zone_id).strip("._")[:60] or "zone"
    return f"{n:03d}_{slug}.csv"


def _write(res, out: Path, crs: int, rejected=None) -> list[Path]:
    import geopandas as gpd
    import pandas as pd

    from geodata.files import atomic_report_dir
    from geodata.points import safe_for_csv
    from sinks.report import _clean, _json_default

    def csv(df, path: Path) -> None:
        safe_for_csv(df).to_csv(path, index=False)

    s = res.screening
    with atomic_report_dir(out, marker=MARKER) as tmp:
        gpkg = tmp / "zones.gpkg"
        zones = s.zones.to_crs(crs)
        zones.to_file(gpkg, layer="zones", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        patches = gpd.GeoDataFrame(s.patches, geometry="geometry", crs=s.patches.crs).to_crs(crs)
        patches.to_file(gpkg, layer="flagged_patches", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        if not res.intakes.empty:
            res.intakes.to_crs(crs).to_file(gpkg, layer="intakes", driver="GPKG", engine="pyogrio")
        csv(res.summary_all(), tmp / "summary.csv")
        csv(s.class_areas, tmp / "class_areas.csv")
        csv(s.transitions, tmp / "transitions.csv")
        csv(s.patches.drop(columns="geometry"), tmp / "flagged_patches.csv")
        csv(s.rules.to_frame(), tmp / "rules.csv")
        (tmp / "per_zone").mkdir()
        index = []
        for n, (zid, table) in enumerate(res.zone_tables().items(), start=1):
            name = _file_name(n, zid)
            csv(table, tmp / "per_zone" / name)
            index.append({"zone_id": zid, "file": name})
        csv(pd.DataFrame(index), tmp / "per_zone" / "index.csv")
        if res.points is not None:
            csv(res.points, tmp / "points.csv")
        if rejected is not None:
            csv(rejected, tmp / "points_rejected.csv")
        z = s.zones
        p = s.patches
        doc = {
            "generator": "python -m sinks zones",
            "zones": int(len(z)),
            "zone_types": z["zone_type"].value_counts().to_dict(),
            "zone_area_ha_by_type": z.groupby("zone_type")["area_ha"].sum().round(4).to_dict(),
            "years": res.years,
            "flagged": {str(y): {st: {"patches": int((g["status"] == st).sum()), "area_ha": round(float(g.loc[g["status"] == st, "area_ha"].sum()), 4)}
                                 for st in ("non_conforming", "review")}
                        for y, g in ((y, p[p["year"] == y]) for y in res.years)},
            "flagged_note": "sums over zones: land inside two overlapping zones counts in both",
            "points": None if res.points is None else {
                "accepted": int(res.points["point_id"].nunique()),
                "rejected": 0 if rejected is None else int(len(rejected)),
                "worst_status": res.points.drop_duplicates("point_id")["point_status"].value_counts().to_dict()},
            "min_patch_ha": s.min_patch_ha,
            "notes": list(s.notes) + list(res.builder_notes),
            "crs": f"EPSG:{crs}",
            "provenance": res.provenance,
        }
        (tmp / MARKER).write_text(json.dumps(_clean(doc), ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return sorted(out.iterdir())


def _cmd_zones(args) -> int:
    from geodata.points import read_points
    from sinks.cli import _Progress
    from sinks.cli_wetlands import check_out_dir
    from sinks.protection import protection_screening

    check_out_dir(args.out, MARKER)
    if args.redlines is not None and args.workspace is not None:
        from geodata.workspace import mask_url

        raise DataError(mask_url(args.workspace), "both --redlines and --workspace were given", "give the red lines one way: a file or a workspace")
    eco_ws, wet_ws = _workspace_redlines(args.workspace)
    redlines = _zone_layer(args.redlines, args.redlines_layer, args.redlines_id_field, args.coord_system) if args.redlines else eco_ws
    eco_space = _zone_layer(args.eco_space, args.eco_space_layer, args.eco_space_id_field, args.coord_system)
    points = rejected = None
    if args.points is not None:
        table = read_points(Path(args.points), coord_system=args.points_coord_system)
        points, rejected = table.points, table.rejected
        print(f"{args.points}: {table.summary()} (rejected rows: points_rejected.csv)")
    res = protection_screening(
        args.config, redlines=redlines, redlines_id_field=args.redlines_id_field if args.redlines else "redline_id",
        wetland_redlines=wet_ws, eco_space=eco_space, eco_space_id_field=args.eco_space_id_field,
        points=points, belt_distance_m=args.belt_m, min_patch_ha=args.min_patch_ha, progress=_Progress())
    files = _write(res, args.out, args.crs, rejected)
    s = res.screening
    last = res.years[-1]
    print(f"{len(s.zones)} zones screened on {', '.join(map(str, res.years))} (coverage-weighted areas):")
    for _, r in res.summary(last).iterrows():
        print(f"  {r['zone_id']} [{r['zone_type']}] {r['zone_area_ha']:,.1f} ha: non-conforming {r['non_conforming_ha']:,.2f} ha "
              f"({r['non_conforming_patches']} patches), to review {r['review_ha']:,.2f} ha ({r['review_patches']}), "
              f"stock {r['stock_tc']:,.0f} t C")
    for note in list(s.notes) + list(res.builder_notes):
        print(f"  note: {note}")
    if res.points is not None:
        worst = res.points.drop_duplicates("point_id")["point_status"].value_counts().to_dict()
        print(f"  points: {worst}")
    print(f"wrote {len(files)} entries to {args.out}")
    return 0


def add_parsers(sub) -> None:
    """Add the ``zones`` sub-command to an ``add_subparsers`` object."""
    z = sub.add_parser("zones", help="protection zones (red lines, Yangtze belt, water sources) and what does not conform inside them")
    z.add_argument("config", type=Path, help="TOML run configuration (its [protection] section names the zones)")
    z.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier zones output)")
    z.add_argument("--redlines", type=Path, help="ecological red lines (GeoPackage, GeoJSON or zipped shapefile) replacing the configured ones")
    z.add_argument("--redlines-layer", help="layer of --redlines (default: the first)")
    z.add_argument("--redlines-id-field", default="redline_id", help="id column of --redlines (default redline_id)")
    z.add_argument("--eco-space", type=Path, help="ecological-space control areas replacing the configured ones")
    z.add_argument("--eco-space-layer", help="layer of --eco-space")
    z.add_argument("--eco-space-id-field", default="area_id", help="id column of --eco-space (default area_id)")
    z.add_argument("--coord-system", default=CoordSystem.WGS84.value, choices=[c.value for c in CoordSystem],
                   help="what lon/lat system the uploaded zones are really in (gcj02: Amap/DataV; bd09: Baidu); default wgs84")
    z.add_argument("--workspace", help="read the red lines (ecological and urban wetland) from this workspace store (.gpkg or postgresql:// URL)")
    z.add_argument("--points", type=Path, help="CSV of project / enterprise locations (lon, lat columns) to check against the zones")
    z.add_argument("--points-coord-system", default=CoordSystem.WGS84.value, choices=[c.value for c in CoordSystem],
                   help="coordinate system of --points (default wgs84; gcj02 for Amap)")
    z.add_argument("--belt-m", type=float, help="Yangtze belt width in metres (default: the configuration's, else 1000)")
    z.add_argument("--min-patch-ha", type=float, help="list flagged patches from this size (ha); smaller ones are counted apart")
    z.add_argument("--crs", type=int, default=4326, choices=[4326, 4490], help="CRS of zones.gpkg (default 4326; 4490 = CGCS2000)")
    z.set_defaults(func=_cmd_zones)
