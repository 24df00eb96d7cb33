"""Report files from an :class:`~sinks.pipeline.Assessment`: CSV, GeoPackage, JSON.

All files are written into a temporary folder beside the target and moved into place at the
end, so a failed run never leaves a half-written report (the previous report stays intact).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from geodata.files import atomic_report_dir
from sinks.pipeline import Assessment


def _json_default(o):
    if isinstance(o, float) and math.isnan(o):
        return None
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def _clean(obj):
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def zone_summary(a: Assessment, year: int | None = None) -> pd.DataFrame:
    """One row per zone: stock, removals, emissions, offset ratio for ``year`` (default latest)."""
    year = a.years[-1] if year is None else year
    rows = []
    for z in a.zone_ids:
        k = a.kpis(year, [z])
        rows.append({"zone_id": z, "year": year, "total_stock_tc": k.total_stock_tc,
                     "stock_uncertainty_pct": k.stock_uncertainty_pct, "removals_tco2e_yr": k.removals_tco2e_yr,
                     "removals_period": k.removals_period, "emissions_year": k.emissions_year,
                     "emissions_tco2e": k.emissions_tco2e, "offset_ratio": k.offset_ratio})
    return pd.DataFrame(rows)


def assessment_json(a: Assessment) -> dict:
    """Summary (KPIs per date) and provenance, JSON-ready."""
    return _clean({
        "area": a.provenance["area"],
        "years": a.years,
        "kpis": {str(y): asdict(a.kpis(y)) for y in a.years},
        "zones": zone_summary(a).to_dict(orient="records"),
        "coefficients_unverified": a.coefficients.unverified()[["lucode", "quantity", "value"]].to_dict(orient="records"),
        "provenance": a.provenance,
    })


def write_report(a: Assessment, out: str | Path) -> list[Path]:
    """Write areas, stocks, flows, neutrality (CSV), zones (GeoPackage) and assessment.json."""
    out = Path(out)
    with atomic_report_dir(out, marker="assessment.json") as tmp:
        a.areas.merge(pd.Series(a.coefficients.names(), name="lulc_name"), left_on="lucode", right_index=True, how="left").to_csv(tmp / "areas.csv", index=False)
        a.nodata.to_csv(tmp / "nodata.csv", index=False)
        a.stocks.to_csv(tmp / "stocks.csv", index=False)
        a.stock_totals.to_csv(tmp / "stock_totals.csv", index=False)
        a.flows.to_csv(tmp / "flows.csv", index=False)
        a.change.to_csv(tmp / "change.csv", index=False)
        a.wetlands.to_csv(tmp / "wetlands.csv", index=False)
        a.wetland_change.to_csv(tmp / "wetland_change.csv", index=False)
        a.coefficients.to_invest_frame().to_csv(tmp / "carbon_pools_invest.csv", index=False)
        if a.neutrality is not None:
            a.neutrality.to_csv(tmp / "neutrality.csv", index=False)
            a.emissions.to_csv(tmp / "emissions.csv", index=False)
        summary = zone_summary(a)
        summary.to_csv(tmp / "zone_summary.csv", index=False)
        a.zones.merge(summary, on="zone_id").to_file(tmp / "zones.gpkg", layer="zones", driver="GPKG", engine="pyogrio")
        (tmp / "assessment.json").write_text(json.dumps(assessment_json(a), ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return sorted(out.iterdir())


def carbon_summary(a: Assessment, labels: dict[int, str]) -> pd.DataFrame:
    """InVEST-style summary: one row per date (and zone): total stock and change since the base date."""
    base = a.years[0]
    t = a.stock_totals.merge(a.nodata[["zone_id", "year", "nodata_px", "nodata_ha"]], on=["zone_id", "year"])
    b = t[t["year"] == base].set_index("zone_id")["stock_tc"]
    t = t.assign(date=t["year"].map(labels), change_since_base_tc=t["stock_tc"] - t["zone_id"].map(b))
    return t[["date", "year", "zone_id", "stock_tc", "uncertainty_pct", "change_since_base_tc", "nodata_px", "nodata_ha"]].rename(columns={"stock_tc": "total_stock_tc", "uncertainty_pct": "stock_uncertainty_pct"}).sort_values(["zone_id", "year"]).reset_index(drop=True)


def write_carbon_summary(a: Assessment, out: str | Path, labels: dict[int, str]) -> Path:
    """The ad-hoc ``carbon`` command's outputs: summary.csv, the flows (if two dates) and notes."""
    out = Path(out)
    with atomic_report_dir(out, marker="assessment.json") as tmp:
        carbon_summary(a, labels).to_csv(tmp / "summary.csv", index=False)
        a.stocks.to_csv(tmp / "stocks_by_pool.csv", index=False)
        if not a.flows.empty:
            a.flows.to_csv(tmp / "flows.csv", index=False)
        (tmp / "assessment.json").write_text(json.dumps(_clean({"provenance": a.provenance}), ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return out / "summary.csv"
