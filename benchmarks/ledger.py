"""The net-neutrality ledger on the demo: how long each part takes, and the peak memory.

    .venv/bin/python benchmarks/ledger.py [--config configs/jiangbei_demo.toml] [--repeats 3] [--no-pdf]

Prints, per step, the best of ``--repeats`` wall times: the inventory read, the Monte Carlo
removals at 2,000 and 20,000 draws, the position, the whole ledger on a cached carbon assessment
(with and without the planting candidates), the report HTML in both languages and the PDF
print. Targets live here, not in tests.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from timing import best  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "jiangbei_demo.toml")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()

    from sinks.config import load_config
    from sinks.ledger.assess import ledger_assessment, planting_activities
    from sinks.ledger.inventory import load_emissions
    from sinks.ledger.removals import position, removal_series
    from sinks.ledger.report import build_report_html
    from sinks.pipeline import run_assessment

    cfg = load_config(args.config)
    t, a = best(lambda: run_assessment(cfg), 1)
    print(f"carbon assessment (the ledger's input, cached by the dashboard): {t:.2f} s")
    t, inv = best(lambda: load_emissions(cfg.inventory, zone_ids=a.zone_ids, primary=cfg.inventory_primary), args.repeats)
    print(f"inventory read and checked, {len(inv.rows) + len(inv.rejected)} rows: {t * 1e3:.0f} ms "
          f"({(len(inv.rows) + len(inv.rejected)) / t:,.0f} rows/s)")
    for n in (2000, 20000):
        t, rem = best(lambda: removal_series(a, n_draws=n), args.repeats)
        print(f"removals with Monte Carlo intervals, {n:,} draws x {len(rem.table)} period-methods: {t * 1e3:.0f} ms")
    rem = removal_series(a)
    t, _ = best(lambda: position(inv.totals(), rem), args.repeats)
    print(f"position per year and method ({len(inv.years())} years): {t * 1e3:.0f} ms")
    t, L = best(lambda: ledger_assessment(cfg, assessment=a, with_projects=False), args.repeats)
    print(f"ledger without the project view ({len(L.scenarios)} scenarios to 2060, warnings): {t:.2f} s")
    t, (acts, _) = best(lambda: planting_activities(cfg), 1)
    print(f"planting candidates (greening assessment of the zones): {t:.2f} s")
    t, L = best(lambda: ledger_assessment(cfg, assessment=a, activities=acts), args.repeats)
    print(f"ledger with the project view (candidates given): {t:.2f} s")
    for lang in ("zh", "en"):
        t, html = best(lambda: build_report_html(L, lang=lang), args.repeats)
        print(f"report HTML ({lang}): {t:.2f} s, {len(html.encode()) / 1024:.0f} KB")
    if not args.no_pdf:
        from sinks.ledger.pdf import find_chromium, html_to_pdf

        if find_chromium() is None:
            print("PDF: no Chromium found (skipped)")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                page = Path(tmp) / "r.html"
                page.write_text(build_report_html(L, lang="zh"), encoding="utf-8")
                t, pdf = best(lambda: html_to_pdf(page, Path(tmp) / "r.pdf"), 1)
                data = pdf.read_bytes()
                print(f"PDF (zh) by headless Chromium: {t:.2f} s, {data.count(b'/Type /Page') - data.count(b'/Type /Pages')} pages, "
                      f"{len(data) / 1e6:.1f} MB")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
