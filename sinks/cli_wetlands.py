"""``python -m sinks wetlands``: the wetland inventory from the command line. It parses options,
calls :func:`sinks.wetland_inventory.wetland_inventory`, writes the files and prints a summary.
Handlers return exit codes and let ``DataError`` propagate (``sinks.cli.main`` prints it, exit 1).

Register with ``add_parsers(sub)`` on the ``add_subparsers`` object of ``sinks.cli``.

Files written to ``--out`` (all at once: a temporary folder swapped in when everything is
written, so an error leaves nothing half-written and an earlier inventory intact):

* ``patches.gpkg``: one layer ``patches_<year>`` per land-cover date (EPSG:4326);
* ``patch_summary.csv``: year, zone_id, type, n_patches, area_ha;
* ``sites.csv``: wetland area by type, stock, removals, change, protection per site and year;
* ``wetland_change.csv`` (period, scope, redline_id, flow, other_class, area_ha) and
  ``wetland_change_summary.csv``;
* ``alerts.csv`` and ``alerts.gpkg`` (layer ``alert_losses``: the lost pixels as polygons;
  layer ``redlines``: the red lines as analysed, when given);
* ``wetland_inventory.json``: provenance (inputs, thresholds, definitions, the water index) and
  the totals (per year also ``index_added_ha``).

``--water-index mndwi|ndwi|none`` overrides the configuration's ``[wetlands.water_index]``
(``none``: no index). The index refines the patches only, not change, sites or alerts.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from geodata.crs import CoordSystem
from geodata.errors import DataError


def _read_redlines(args):
    """Red lines from a file or from the workspace store, or None."""
    import geopandas as gpd

    from geodata.vectors import read_vector

    if args.redlines is not None and args.workspace is not None:
        from geodata.workspace import mask_url

        raise DataError(mask_url(args.workspace), "both --redlines and --workspace were given", "give the red lines one way: a file or a workspace layer")
    if args.redlines is not None:
        path = Path(args.redlines)
        if path.suffix.lower() == ".zip":  # read from memory with the zip checks (no extraction)
            if not path.exists():
                raise DataError(path, "the file does not exist", "check the --redlines path")
            gdf = read_vector(path.read_bytes(), name=str(path), layer=args.redlines_layer)
        else:
            gdf = read_vector(path, layer=args.redlines_layer)
        return gdf, args.redlines_id_field, str(path)
    if args.workspace is not None:
        from geodata.store import NotAWorkspaceError
        from geodata.workspace import is_database_url, open_workspace

        url = is_database_url(str(args.workspace))
        ws_path = str(args.workspace) if url else Path(args.workspace)
        if isinstance(ws_path, Path) and not ws_path.is_file():
            raise DataError(ws_path, "the workspace file does not exist",
                            "give the path of an existing workspace .gpkg (or the postgresql:// URL of a PostGIS workspace)")
        try:  # read-only: Workspace() would add the store tables to any GeoPackage it is given
            ws = open_workspace(ws_path, read_only=True)
            if url:
                ws_path = ws.identity  # messages and provenance name the database without its password
        except NotAWorkspaceError as exc:
            raise DataError(ws_path, exc.problem, "give the workspace.gpkg the dashboard writes, or pass red lines with --redlines") from None
        layer = args.redlines_store_layer
        if layer not in ws.layers():
            raise DataError(ws_path, f"the workspace has no layer '{layer}' (layers: {', '.join(ws.layers()) or 'none'})",
                            "draw and save red lines first, or name the layer with --redlines-store-layer")
        gdf = ws.load(layer)
        id_field = args.redlines_id_field or ws.info(layer).id_field
        src = f"{ws_path} layer {layer} v{gdf.attrs.get('store_version')}"
        return gpd.GeoDataFrame(gdf, geometry=gdf.geometry.name, crs=gdf.crs), id_field, src
    return None, None, None


MARKER = "wetland_inventory.json"


def check_out_dir(out: Path, marker: str = MARKER) -> None:
    """Refuse an ``--out`` that cannot be written, before the (long) computation: it must be new,
    empty or an earlier output of the same command (it holds ``marker``), and its nearest existing
    ancestor must be a writable folder (the files are written to a temporary folder beside it,
    then swapped in)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / marker).exists())):
        what = "is a file" if not out.is_dir() else f"is a folder that is not an earlier output of this command (no {marker})"
        raise DataError(out, f"the output folder {what}", "choose a new or empty folder for --out")
    parent = out.absolute().parent
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DataError(out, f"the output folder cannot be created: {ancestor} is a file, not a folder",
                        "choose --out inside an existing folder (not below a file)")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise DataError(out, f"the output folder cannot be created: no permission to write in {ancestor}",
                        "choose --out in a folder you can write to")


def _write(inv, out: Path) -> list[Path]:
    import geopandas as gpd

    from geodata.files import atomic_report_dir
    from sinks.report import _clean, _json_default

    with atomic_report_dir(out, marker=MARKER) as tmp:
        for y in inv.years:
            gdf = inv.patch_geodataframe(y)
            gdf.insert(0, "year", y)
            gdf.to_file(tmp / "patches.gpkg", layer=f"patches_{y}", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        inv.patch_summary.to_csv(tmp / "patch_summary.csv", index=False)
        inv.sites.to_csv(tmp / "sites.csv", index=False)
        inv.change.to_csv(tmp / "wetland_change.csv", index=False)
        inv.change_summary.to_csv(tmp / "wetland_change_summary.csv", index=False)
        inv.alerts.to_csv(tmp / "alerts.csv", index=False)
        ap = gpd.GeoDataFrame(inv.alert_polygons, geometry="geometry", crs=inv.alert_polygons.crs)
        ap.to_file(tmp / "alerts.gpkg", layer="alert_losses", driver="GPKG", engine="pyogrio", geometry_type="Polygon")
        if inv.redlines is not None:
            inv.redlines.to_file(tmp / "alerts.gpkg", layer="redlines", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        added = inv.index_added_ha()
        doc = {
            "alert_min_loss_ha": inv.alert_min_loss_ha,
            "patches": {str(y): {"n_patches": len(p.patches), "area_ha": p.total_ha, "dropped_n": p.dropped_n,
                                 "dropped_ha": p.dropped_ha, "area_by_type_ha": p.area_by_type(),
                                 "index": p.index, "n_dates": p.n_dates, "index_added_ha": added[y]}
                        for y, p in inv.patches.items()},
            "n_alerts": len(inv.alerts),
            "provenance": inv.provenance,
        }
        (tmp / MARKER).write_text(json.dumps(_clean(doc), ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return sorted(out.iterdir())


def _cmd_wetlands(args) -> int:
    from sinks.cli import _Progress
    from sinks.wetland_inventory import wetland_inventory

    check_out_dir(args.out)  # before ~10 s of computation, not after
    redlines, id_field, src = _read_redlines(args)
    if redlines is not None:
        redlines.attrs["source"] = src
    inv = wetland_inventory(args.config, redlines=redlines, redlines_id_field=id_field, coord_system=args.redlines_coord_system,
                            alert_min_loss_ha=args.alert_ha, min_patch_ha=args.min_patch_ha, water_index=args.water_index,
                            progress=_Progress())
    files = _write(inv, args.out)
    wi = inv.provenance.get("water_index")
    if wi:
        paddy = "index-wet cropland counted as paddy" if wi["paddy_as_wetland"] else "index-wet cropland not counted"
        print(f"wetland patches (water, vegetated wetland; connectivity 8), refined with {wi['index'].upper()} > "
              f"{wi['threshold']['value']:g} on >= {wi['min_water_frequency']['value']:g} of the dates (unverified defaults; "
              f"{paddy}; patches only, not the change tables):")
    else:
        print("wetland patches (water, vegetated wetland; connectivity 8; no water index):")
    added = inv.index_added_ha()
    for y, p in inv.patches.items():
        by_type = ", ".join(f"{t} {a:,.1f}" for t, a in p.area_by_type().items() if a > 0)
        idx = ""
        if wi:
            idx = f"; index_added_ha {added[y]:,.2f} ({p.n_dates} date(s))" if p.n_dates else "; no band files for the index"
        print(f"  {y}: {len(p.patches):,} patches, {p.total_ha:,.1f} ha ({by_type}){idx}")
    if len(inv.sites):
        last = inv.sites[inv.sites["year"] == inv.years[-1]]
        for _, r in last.iterrows():
            prot = "" if r["protected_share"] != r["protected_share"] else f", {r['protected_share']:.0%} inside red lines"
            chg = "" if r["wetland_change_ha"] != r["wetland_change_ha"] else f" ({r['wetland_change_ha']:+,.2f} ha since the previous date)"
            print(f"  site {r['site_id']} {r['year']}: wetland {r['wetland_ha']:,.2f} ha{chg}, stock {r['stock_tc']:,.0f} t C{prot}")
    for _, r in inv.change_summary.iterrows():
        where = r["scope"] if r["scope"] != "redline" else f"red line {r['redline_id']}"
        print(f"  {r['period']} {where}: lost {r['lost_ha']:,.2f} ha, gained {r['gained_ha']:,.2f} ha, became water {r['became_water_ha']:,.2f} ha")
    if redlines is None:
        print("no red lines given: no alerts (use --redlines FILE or --workspace WS.gpkg)")
    else:
        print(f"{len(inv.alerts)} alert(s) at >= {inv.alert_min_loss_ha:g} ha lost per red line and period (a policy threshold):")
        for _, r in inv.alerts.iterrows():
            print(f"  {r['redline_id']} {r['period']}: {r['lost_ha']:,.2f} ha lost ({r['lost_share']:.1%} of its wetland), mostly to {r['main_destination']}")
    print(f"wrote {len(files)} files to {args.out}")
    return 0


def add_parsers(sub) -> None:
    """Add the ``wetlands`` sub-command to an ``add_subparsers`` object."""
    w = sub.add_parser("wetlands", help="wetland patches, sites, change inside / outside red lines and loss alerts")
    w.add_argument("config", type=Path, help="TOML run configuration (its [wetlands] section names sites and river)")
    w.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier wetland inventory)")
    w.add_argument("--redlines", type=Path, help="red-line polygons: GeoPackage, GeoJSON or zipped shapefile")
    w.add_argument("--redlines-layer", help="layer of --redlines (default: the first)")
    w.add_argument("--redlines-id-field", help="id column of the red lines (default: redline_id, zone_id, id, fid or name, else 1..n)")
    w.add_argument("--redlines-coord-system", default=CoordSystem.WGS84.value, choices=[c.value for c in CoordSystem],
                   help="what lon/lat system the red lines are really in (gcj02: Amap/DataV; bd09: Baidu); default wgs84")
    w.add_argument("--workspace", help="read the red lines from this workspace store (.gpkg, or a postgresql:// URL) instead of a file")
    w.add_argument("--redlines-store-layer", default="wetland_redlines", help="layer of --workspace holding the red lines (default wetland_redlines)")
    w.add_argument("--alert-ha", type=float, help="least wetland loss (ha) per red line and period that raises an alert; a policy choice (default: the configuration's, else 1.0)")
    w.add_argument("--min-patch-ha", type=float, help="drop wetland patches smaller than this (ha; default: the configuration's, else 0)")
    w.add_argument("--water-index", choices=["mndwi", "ndwi", "none"],
                   help="refine the patches with this water index on the band files of [wetlands.water_index], or none "
                        "(default: as the configuration says)")
    w.set_defaults(func=_cmd_wetlands)
