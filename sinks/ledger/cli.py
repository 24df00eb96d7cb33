"""``python -m sinks report``: the downloadable net-neutrality report from the command line.

It computes the ledger (:func:`sinks.ledger.assess.ledger_assessment`), writes the report folder
with :func:`sinks.ledger.report.write_report` (HTML per language, PDF when Chromium is found,
every table as CSV, ``ledger.json``), and prints the headline and the files written.
``DataError`` propagates to ``sinks.cli.main`` (printed with file, problem and fix; exit 1).
"""
from __future__ import annotations

from pathlib import Path


def _cmd_report(args) -> int:
    from sinks.cli import _Progress
    from sinks.cli_wetlands import check_out_dir
    from sinks.ledger.assess import ledger_assessment
    from sinks.ledger.report import MARKER, fmt_pct, fmt_t, write_report

    check_out_dir(args.out, MARKER)
    zones = [z.strip() for z in args.zones.split(",") if z.strip()] if args.zones else None
    try:
        L = ledger_assessment(args.config, dataset=args.dataset, zone_ids=zones, progress=_Progress())
    except ValueError as exc:  # unknown zones (DataError is a ValueError too: let main() print it)
        from geodata.errors import DataError
        if isinstance(exc, DataError):
            raise
        raise DataError(args.config, str(exc), "use --zones with zone ids of the configuration") from None
    langs = ("zh", "en") if args.lang == "both" else (args.lang,)
    files = write_report(L, args.out, langs=langs, pdf=not args.no_pdf)
    h = L.headline()
    print(f"{L.config.name_en}, {h.year} ({L.dataset}): emissions {fmt_t(h.emissions_tco2e)} t CO2e; "
          f"removals ({h.method}, {h.removals_period}) {fmt_t(h.removals_tco2e_yr)} t CO2e/yr "
          f"(95 % {fmt_t(h.removals_low_tco2e_yr)} to {fmt_t(h.removals_high_tco2e_yr)}); "
          f"net {fmt_t(h.net_emissions_tco2e)} t CO2e (95 % {fmt_t(h.net_emissions_low_tco2e)} to {fmt_t(h.net_emissions_high_tco2e)}); "
          f"offset ratio {fmt_pct(h.offset_ratio)} (95 % {fmt_pct(h.offset_ratio_low)} to {fmt_pct(h.offset_ratio_high)})")
    print(f"  peak: {h.peak_status}" + (f" ({h.peak_year})" if h.peak_year is not None else ""))
    for sid, y in h.neutrality.items():
        print(f"  neutrality {sid}: {y if y is not None else 'not by 2060'}")
    if L.config.illustrative:
        print("  ILLUSTRATIVE data: not for decisions")
    print(f"wrote {len(files)} files to {args.out}:")
    for f in files:
        print(f"  {f.name}")
    return 0


def add_parsers(sub) -> None:
    """Add the ``report`` sub-command to an ``add_subparsers`` object."""
    r = sub.add_parser("report", help="the downloadable net-neutrality report (HTML, PDF, CSV) in 中文 and English")
    r.add_argument("config", type=Path, help="TOML run configuration (with [inventory] and [ledger])")
    r.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier report)")
    r.add_argument("--lang", choices=("zh", "en", "both"), default="both", help="report language(s) (default both)")
    r.add_argument("--no-pdf", action="store_true", help="write the HTML only (no Chromium needed)")
    r.add_argument("--dataset", help="inventory series to reconcile (default: the inventory's primary)")
    r.add_argument("--zones", help="comma-separated zone ids that count (default: all configured zones)")
    r.set_defaults(func=_cmd_report)
