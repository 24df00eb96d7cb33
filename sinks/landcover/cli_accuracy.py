"""``python -m sinks accuracy`` and ``python -m sinks sample-design``: parse options, call the
library, print a summary. Handlers return exit codes and let ``DataError`` propagate (``main``
prints it and exits 1).

Register with ``add_parsers(sub)`` on the ``add_subparsers`` object of ``sinks.cli``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from geodata.errors import DataError
from sinks.landcover.sampling import ALLOCATIONS


def _fmt_pct(v: float) -> str:
    return "n/a" if v != v else f"{v:.1%}"


def _cmd_accuracy(args) -> int:
    from sinks.landcover.accuracy import assess_map, write_accuracy_report

    r = assess_map(args.map, args.reference, class_field=args.class_field, layer=args.layer,
                   mapping=args.mapping, confidence=args.confidence)
    files = write_accuracy_report(r, args.out)
    cm, a = r.confusion, r.area
    pct = f"{a.confidence:.0%}"
    print(f"{r.map_path.name} against {cm.n_samples} reference points ({r.class_field}); rows = map, columns = reference")
    print(f"overall accuracy (sample counts) {_fmt_pct(cm.overall_accuracy)}, kappa {cm.kappa:.3f}")
    print(f"overall accuracy (stratified, area-weighted) {_fmt_pct(a.overall_accuracy)} +/- {_fmt_pct(a.overall_accuracy_ci)} ({pct} CI)")
    t = a.to_frame()
    table = t[["class", "n_samples", "mapped_area_ha", "adjusted_area_ha", "ci_ha", "user_accuracy", "producer_accuracy"]].rename(
        columns={"ci_ha": f"ci{round(a.confidence * 100)}_ha", "user_accuracy": "user_acc", "producer_accuracy": "producer_acc"})
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}" if abs(v) < 1.5 else f"{v:,.1f}"))
    print(f"total mapped area {a.total_area_ha:,.1f} ha (nodata {r.nodata_ha:,.1f} ha excluded)")
    for n in r.notes:
        print(f"note: {n}")
    print(f"wrote {len(files)} files to {args.out}")
    return 0


def _cmd_sample_design(args) -> int:
    from sinks.landcover.sampling import design_sample

    out = Path(args.out)
    if out.exists():
        raise DataError(out, "the file exists (it may already hold reference labels)", "choose a new file name, or delete the old sample first")
    if out.suffix.lower() != ".gpkg":
        raise DataError(out, "the sample is written as a GeoPackage", "give --out a name ending in .gpkg")
    gdf = design_sample(args.map, n_total=args.n, allocation=args.allocation, min_per_class=args.min_per_class, seed=args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".gpkg", dir=out.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL creates the file itself
    try:
        gdf.to_file(tmp, layer="sample_points", driver="GPKG", engine="pyogrio")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    pixels = gdf.attrs["class_pixels"]
    print(f"{len(gdf)} points, {args.allocation} allocation, seed {args.seed}, CRS {gdf.crs.to_string()}")
    print("class  map_pixels  points")
    for c, n in gdf.attrs["allocation"].items():
        print(f"{c:>5}  {pixels[c]:>10,}  {n:>6}")
    print(f"wrote {out} (layer sample_points); fill in 'reference_class' for every point, then run: "
          f"python -m sinks accuracy --map {args.map} --reference {out} --class-field reference_class --out DIR")
    return 0


def add_parsers(sub) -> None:
    """Add the ``accuracy`` and ``sample-design`` sub-commands to an ``add_subparsers`` object."""
    a = sub.add_parser("accuracy", help="confusion matrix, accuracies and error-adjusted areas with confidence intervals (Olofsson et al. 2014)")
    a.add_argument("--map", required=True, type=Path, help="land-cover map raster (integer codes, nodata declared)")
    a.add_argument("--reference", required=True, type=Path, help="reference points (GeoPackage, GeoJSON, zipped shapefile)")
    a.add_argument("--class-field", required=True, help="column holding the reference class of each point")
    a.add_argument("--layer", help="layer of --reference (default: the first)")
    a.add_argument("--mapping", type=Path, help="CSV reference_class,map_code translating reference labels to map codes")
    a.add_argument("--confidence", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    a.add_argument("--out", required=True, type=Path, help="output folder (new, empty, or an earlier accuracy report)")
    a.set_defaults(func=_cmd_accuracy)

    s = sub.add_parser("sample-design", help="stratified random sample of points for an accuracy assessment")
    s.add_argument("--map", required=True, type=Path, help="land-cover map raster; its classes are the strata")
    s.add_argument("--n", required=True, type=int, help="total number of points")
    s.add_argument("--allocation", choices=ALLOCATIONS, default="olofsson",
                   help="points per class: proportional to area, equal, or olofsson (at least --min-per-class, rest proportional; default)")
    s.add_argument("--min-per-class", type=int, default=50, help="least points per class for --allocation olofsson (default 50)")
    s.add_argument("--seed", type=int, default=0, help="random seed (same map and seed give the same points)")
    s.add_argument("--out", required=True, type=Path, help="new GeoPackage for the points")
    s.set_defaults(func=_cmd_sample_design)

