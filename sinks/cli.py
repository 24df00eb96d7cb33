"""``python -m sinks``: the headless command line. It parses options and calls the library.

Exit codes: 0 success; 1 the input data has problems (each printed with file, problem, fix);
2 the command itself was used wrongly (argparse's convention).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geodata.errors import DataError


class _Progress:
    """One progress line on stderr, rewritten in place on a terminal, else a line per step."""

    def __init__(self, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr  # looked up now, not at import
        self.tty = self.stream.isatty()
        self.last = ("", -1)

    def __call__(self, step: str, fraction: float) -> None:
        pct = int(fraction * 100)
        if self.tty:
            bar = "#" * (pct // 5)
            self.stream.write(f"\r[{bar:<20}] {pct:3d}% {step:<40}")
            if fraction >= 1:
                self.stream.write("\n")
        elif (step, pct // 10) != self.last:
            self.stream.write(f"[{pct:3d}%] {step}\n")
            self.last = (step, pct // 10)
        self.stream.flush()


def _cmd_run(args) -> int:
    from sinks.pipeline import run_assessment
    from sinks.report import write_report

    a = run_assessment(args.config, progress=_Progress())
    files = write_report(a, args.out)
    k = a.kpis()
    print(f"{a.config.name_en}: {k.year} total stock {k.total_stock_tc:,.0f} t C; "
          f"net removals {k.removals_tco2e_yr:,.0f} t CO2e/yr ({k.removals_period}); "
          + (f"emissions {k.emissions_year} {k.emissions_tco2e:,.0f} t CO2; offset ratio {k.offset_ratio:.2%}" if k.emissions_tco2e else "no inventory"))
    print(f"wrote {len(files)} files to {args.out}")
    return 0


def _cmd_validate(args) -> int:
    from sinks.config import validate_config

    problems = validate_config(args.config)
    for p in problems:
        print(f"- {p}")
    print(f"{len(problems)} problem(s) in {args.config}" if problems else f"{args.config}: no problems found")
    return 1 if problems else 0


def _year_of(path: Path) -> int | None:
    import rasterio

    with rasterio.open(path) as ds:
        y = ds.tags().get("YEAR")
    return int(y) if y and y.isdigit() else None


def _cmd_carbon(args) -> int:
    from sinks.config import Config
    from sinks.pipeline import run_assessment
    from sinks.report import carbon_summary, write_carbon_summary

    base = Path(args.lulc).resolve()
    y0 = args.lulc_year if args.lulc_year is not None else _year_of(base)
    landcover, labels = {}, {}
    if args.lulc_alt is None:
        y0 = 0 if y0 is None else y0
        landcover[y0], labels[y0] = base, "base"
    else:
        alt = Path(args.lulc_alt).resolve()
        y1 = args.lulc_alt_year if args.lulc_alt_year is not None else _year_of(alt)
        if y0 is None or y1 is None:
            print("error: the dates of the two rasters are unknown (no YEAR tag); give --lulc-year and --lulc-alt-year", file=sys.stderr)
            return 2
        if y1 <= y0:
            print(f"error: the alternate date {y1} must be after the base date {y0}", file=sys.stderr)
            return 2
        landcover = {y0: base, y1: alt}
        labels = {y0: "base", y1: "alt"}
    cfg = Config(landcover=landcover, coefficients=Path(args.pools).resolve(),
                 zones=Path(args.zones).resolve() if args.zones else None, zones_layer=args.zones_layer,
                 zone_id_field=args.zone_id_field, name_en="ad-hoc carbon run", name_zh="临时碳储量计算")
    a = run_assessment(cfg, progress=_Progress())
    path = write_carbon_summary(a, args.out, labels)
    s = carbon_summary(a, labels)
    nod = a.provenance["nodata"]
    print(s.to_string(index=False))
    print(f"nodata: pixels equal to {sorted(set(nod.values()))} were excluded from every stock and counted in nodata_px / nodata_ha")
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sinks", description="Jiangbei carbon-sink assessment, headless.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run an assessment from a TOML configuration and write the report files")
    r.add_argument("config", type=Path)
    r.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier report)")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("validate", help="list every problem with a configuration and its inputs")
    v.add_argument("config", type=Path)
    v.set_defaults(func=_cmd_validate)
    c = sub.add_parser("carbon", help="InVEST-style stocks from land-cover rasters and a carbon pools table")
    c.add_argument("--lulc", required=True, help="base land-cover raster (integer codes, nodata declared)")
    c.add_argument("--lulc-alt", help="a later land-cover raster on the same grid")
    c.add_argument("--lulc-year", type=int, help="year of --lulc (default: the raster's YEAR tag)")
    c.add_argument("--lulc-alt-year", type=int, help="year of --lulc-alt (default: the raster's YEAR tag)")
    c.add_argument("--pools", required=True, help="InVEST carbon pools table: lucode,c_above,c_below,c_soil,c_dead (t C/ha)")
    c.add_argument("--zones", help="optional zones (GeoPackage, GeoJSON, zipped shapefile)")
    c.add_argument("--zones-layer")
    c.add_argument("--zone-id-field", default="zone_id")
    c.add_argument("--out", type=Path, required=True)
    c.set_defaults(func=_cmd_carbon)
    from sinks.landcover import cli_accuracy, cli_imagery, cli_stac

    cli_imagery.add_parsers(sub)
    cli_accuracy.add_parsers(sub)
    cli_stac.add_parsers(sub)
    from sinks import cli_wetlands

    cli_wetlands.add_parsers(sub)
    from sinks import cli_zones

    cli_zones.add_parsers(sub)
    from sinks.greening import cli as cli_greening

    cli_greening.add_parsers(sub)
    from sinks.ledger import cli as cli_ledger

    cli_ledger.add_parsers(sub)
    from sinks import cli_accounts

    cli_accounts.add_parsers(sub)
    from sinks import cli_workspace

    cli_workspace.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"error: {exc.source}\n  problem: {exc.problem}\n  fix: {exc.fix}", file=sys.stderr)
        return 1
