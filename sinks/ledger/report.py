"""The downloadable net-neutrality report: one self-contained HTML page per language, its PDF,
and every table as CSV.

* :func:`build_report_html` renders a :class:`~sinks.ledger.assess.Ledger` as one HTML page
  (inline CSS with an A4 print layout, inline SVG figures from :mod:`sinks.ledger.svg`, no
  JavaScript, no external files), in 中文 (``"zh"``) or English (``"en"``). Sections (ids
  :data:`SECTION_IDS`): summary, KPIs, map, charts, tables, methods, coefficients with
  citations, notes, provenance.
* :func:`write_report` writes ``report_zh.html`` / ``report_en.html``, their PDFs (headless
  Chromium via :func:`sinks.ledger.pdf.html_to_pdf`; without Chromium a warning and no PDF), the
  CSVs of every table (formula-safe) and ``ledger.json`` (headline, neutrality, notes,
  provenance), all at once: a failed run leaves the previous report folder as it was.

Numbers in tables are exact to the tonne with thousands separators in both languages, so a
reviewer can recompute them; the Chinese KPI block adds a rounded 万吨 figure beside them.
"""
from __future__ import annotations

import html
import json
import math
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from sinks.ledger import svg
from sinks.ledger.report_text import TEXT

MARKER = "ledger.json"
SECTION_IDS = ("summary", "kpis", "map", "charts", "tables", "methods", "coefficients", "notes", "provenance")
SECTORS = ("industry", "energy", "buildings", "transport", "other")
METHODS = ("stock_difference", "gain_loss")
# notes whose Chinese template leaves out details of this run: the English text is listed as well
_DETAILED = {"zone_overlap", "unestimated_classes"}
CSV_TABLES = ("position", "sources", "projections", "dual_control", "warnings", "projects", "peaks", "inventory_rejected",
              "neutrality", "coefficients")


# ---------------------------------------------------------------------------------------------
# number formatting (shared with the tests: the KPI strings are these functions of the headline)


def _bad(v) -> bool:
    try:
        return v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and not math.isfinite(float(v)))
    except TypeError:
        return False


def fmt_t(v) -> str:
    """Tonnes, exact to the tonne: ``21558684.0 -> '21,558,684'``; missing -> ``'–'``."""
    return "–" if _bad(v) else f"{round(float(v)) + 0.0:,.0f}"  # + 0.0: never "-0"


def fmt_pct(ratio) -> str:
    """A ratio as a percentage with two decimals: ``0.0038897 -> '0.39 %'``."""
    return "–" if _bad(ratio) else f"{float(ratio) * 100:.2f} %"


def fmt_num(v, digits: int = 2) -> str:
    return "–" if _bad(v) else f"{float(v):,.{digits}f}"


def fmt_wan(v) -> str:
    """Tonnes in 万吨 (10^4 t), one decimal."""
    return "–" if _bad(v) else f"{float(v) / 1e4:,.1f}"


def kpi_values(h, lang: str) -> dict[str, str]:
    """The KPI block's figures of a :class:`~sinks.ledger.assess.Headline` as printed (central
    value and interval per key); the tests compare the HTML against this."""
    t = TEXT[lang]
    neutral = {}
    for sid, y in h.neutrality.items():
        neutral[sid] = str(y) if y is not None else t["not_by"].format(year=2060)
    return {
        "emissions": fmt_t(h.emissions_tco2e),
        "removals": fmt_t(h.removals_tco2e_yr),
        "removals_ci": f"{fmt_t(h.removals_low_tco2e_yr)} – {fmt_t(h.removals_high_tco2e_yr)}",
        "net": fmt_t(h.net_emissions_tco2e),
        "net_ci": f"{fmt_t(h.net_emissions_low_tco2e)} – {fmt_t(h.net_emissions_high_tco2e)}",
        "offset": fmt_pct(h.offset_ratio),
        "offset_ci": f"{fmt_pct(h.offset_ratio_low)} – {fmt_pct(h.offset_ratio_high)}",
        "peak_status": t.get(f"status.{h.peak_status}", h.peak_status),
        "peak_year": "–" if h.peak_year is None else str(h.peak_year),
        **{f"neutrality.{k}": v for k, v in neutral.items()},
    }


# ---------------------------------------------------------------------------------------------
# HTML helpers


def _e(s) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _name(obj, lang: str, fallback: str = "") -> str:
    v = getattr(obj, f"name_{lang}", None) or getattr(obj, "name_en", None) or fallback
    return str(v)


class _Notes:
    """Renders notes: translated ones in the page's language; in 中文 the rest go, in English,
    into a list headed 技术说明（英文）."""

    def __init__(self, lang: str):
        self.lang, self.t = lang, TEXT[lang]

    def render(self, notes) -> str:
        native, english = [], []
        for n in notes:
            code = getattr(n, "code", "")
            if self.lang == "en":
                native.append(str(n))
                continue
            tpl = self.t.get(f"note.{code}")
            if tpl is not None:
                try:
                    native.append(tpl.format(**getattr(n, "params", {})))
                except (KeyError, IndexError, ValueError):
                    tpl = None
            if tpl is None or code in _DETAILED:
                english.append(str(n))
        out = ""
        if native:
            out += "<ul class='notes'>" + "".join(f"<li>{_e(s)}</li>" for s in native) + "</ul>"
        if english:
            out += (f"<p class='en-head'>{_e(self.t['notes_en_heading'])}</p><ul class='notes en' lang='en'>"
                    + "".join(f"<li>{_e(s)}</li>" for s in english) + "</ul>")
        return out


def _fmt_cell(col: str, v, t: dict) -> str:
    if _bad(v):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return t["yes"] if v else t["no"]
    if col in ("year", "peak_year", "last_year", "row", "lucode", "code", "plant_to", "central", "early", "late", "years", "n_zones"):
        try:
            return str(int(v))
        except (TypeError, ValueError):
            return str(v)
    if col.startswith("offset_ratio"):
        return fmt_pct(v)
    if col.endswith("_tco2e") or col.endswith("_tco2e_yr") or col.endswith("_tc"):
        return fmt_num(v, 2) if col.endswith("_ha_yr") else fmt_t(v)
    if col == "method":
        return t.get(f"method.{v}", str(v))
    if isinstance(v, str) and f"val.{col}.{v}" in t:
        return t[f"val.{col}.{v}"]
    if col == "status":
        return t.get(f"warn.{v}", t.get(f"status.{v}", t.get(f"val.status.{v}", str(v))))
    if col in ("kendall_p",):
        return f"{float(v):.3g}"
    if isinstance(v, (float, np.floating)):
        return fmt_num(v, 4 if abs(float(v)) < 10 else 2)
    return str(v)


def _table(df: pd.DataFrame, cols: list[str], t: dict, *, table_id: str, caption: str, headers: dict | None = None,
           row_class=None) -> str:
    headers = headers or {}
    if df is None or len(df) == 0:
        return f"<h3>{_e(caption)}</h3><p class='empty' id='{table_id}'>{_e(t['empty_table'])}</p>"
    cols = [c for c in cols if c in df.columns]
    head = "".join(f"<th scope='col' data-col='{_e(c)}'>{_e(headers.get(c) or t.get('col.' + c, c))}</th>" for c in cols)
    rows = []
    for _, r in df.iterrows():
        cls = f" class='{row_class(r)}'" if row_class and row_class(r) else ""
        cells = []
        for c in cols:
            v = r[c]
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            cls_n = " class='n'" if num else ""
            cells.append(f"<td data-col='{_e(c)}'{cls_n}>{_e(_fmt_cell(c, v, t))}</td>")
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (f"<h3>{_e(caption)}</h3><table id='{table_id}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _flatten(d, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(d, (list, tuple)):
        if all(not isinstance(x, (dict, list, tuple)) for x in d):
            out.append((prefix, ", ".join(str(x) for x in d)))
        else:
            for i, v in enumerate(d):
                out += _flatten(v, f"{prefix}[{i}]")
    else:
        out.append((prefix, "–" if _bad(d) else str(d)))
    return out


CSS = """
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'Helvetica Neue', Arial, sans-serif;
       color: #222; font-size: 10.5pt; line-height: 1.45; max-width: 190mm; margin: 0 auto; padding: 8px; }
h1 { font-size: 20pt; margin: 0 0 4px; } h2 { font-size: 14pt; border-bottom: 2px solid #0072B2; padding-bottom: 2px; margin-top: 18px; }
h3 { font-size: 11pt; margin: 14px 0 4px; }
.banner { border: 2px solid #D55E00; background: #fff3e8; color: #8a3300; padding: 8px 10px; font-weight: bold; margin: 8px 0; }
.meta { color: #555; font-size: 9.5pt; } .meta td { padding: 1px 8px 1px 0; }
.kpis { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
.kpi { border: 1px solid #ccc; border-radius: 4px; padding: 6px 8px; break-inside: avoid; }
.kpi .label { font-size: 9pt; color: #555; } .kpi .kv { font-size: 14pt; font-weight: bold; }
.kpi .ku, .kpi .ki, .kpi .kx { font-size: 8.5pt; color: #444; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 7.5pt; margin: 4px 0 10px; }
th, td { border: 1px solid #ccc; padding: 2px 4px; vertical-align: top; text-align: left; }
th { background: #eef3f8; } td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead { display: table-header-group; } tr { break-inside: avoid; }
tr.upper td { background: #fff7e0; } tr.unverified td[data-col='verified'] { color: #8a3300; font-weight: bold; }
.badge { display: inline-block; padding: 0 4px; border-radius: 3px; font-size: 7.5pt; background: #fde2cf; color: #8a3300; }
.badge.ok { background: #dff0e6; color: #1d5e3a; }
figure { margin: 8px 0; break-inside: avoid; } figcaption { font-size: 8.5pt; color: #555; }
svg { max-width: 100%; height: auto; }
ul.notes { font-size: 8.5pt; margin: 2px 0 8px; padding-left: 18px; } .en-head { font-size: 8.5pt; font-weight: bold; margin: 4px 0 0; }
.empty { color: #777; font-style: italic; }
td.small, .small { font-size: 7pt; color: #444; }
code { font-size: 7.5pt; word-break: break-all; }
section.page { break-before: page; }
@media print { body { max-width: none; padding: 0; } a { color: inherit; text-decoration: none; } }
"""


# ---------------------------------------------------------------------------------------------
# sections


def _summary(L, lang: str, t: dict, when: str) -> str:
    cfg = L.config
    others = [d for d in L.inventory.datasets if d != L.dataset]
    zones = L.assessment.zones
    zn = [str(zones.loc[zones["zone_id"] == z, f"name_{lang}"].iloc[0]) if (zones["zone_id"] == z).any() and f"name_{lang}" in zones
          else z for z in L.zone_ids]
    rows = [(t["area"], _name(cfg, lang)), (t["generated"], when), (t["zones"], ", ".join(zn)),
            (t["reconciled"], L.dataset), (t["other_series"], ", ".join(others) or t["none"])]
    banner = f"<div class='banner' id='illustrative'>{_e(t['illustrative_banner'])}</div>" if getattr(cfg, "illustrative", False) else ""
    toc = "".join(f"<li><a href='#{s}'>{_e(t['sec_' + s])}</a></li>" for s in SECTION_IDS[1:])
    return (f"<section id='summary'><h1>{_e(t['doc_title'])}</h1><p class='meta'>{_e(_name(cfg, lang))}</p>{banner}"
            "<table class='meta'>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows) + "</table>"
            f"<nav><h3>{_e(t['toc'])}</h3><ol>{toc}</ol></nav></section>")


def _kpis(L, lang: str, t: dict) -> str:
    h = L.headline()
    k = kpi_values(h, lang)
    method = t[f"method.{h.method}"]
    wan = (lambda v: f"<span class='kx'>{_e(t['approx_wan'].format(v=fmt_wan(v)))}</span>") if lang == "zh" else (lambda v: "")

    def card(key, label, value, unit, ci=None, extra=""):
        ci_html = f"<span class='ki' data-kpi-ci='{key}'>{_e(ci)}</span>" if ci is not None else ""
        return (f"<div class='kpi'><div class='label'>{_e(label)}</div><span class='kv' data-kpi='{key}'>{_e(value)}</span>"
                f"<span class='ku'>{_e(unit)}</span>{ci_html}{extra}</div>")

    ci = t["ci95"]
    cards = [
        card("emissions", t["kpi_emissions"], k["emissions"], t["unit_t"] + f" ({h.year})",
             f"{ci}: {fmt_t(h.emissions_low_tco2e)} – {fmt_t(h.emissions_high_tco2e)}"
             if np.isfinite(h.emissions_low_tco2e) and np.isfinite(h.emissions_high_tco2e) else f"{ci}: {t['no_interval_inventory']}",
             wan(h.emissions_tco2e)),
        card("removals", t["kpi_removals"].format(method=method), k["removals"], t["unit_t_yr"] + "; " + t["removals_period"].format(period=h.removals_period),
             f"{ci}: {k['removals_ci']}"),
        card("net", t["kpi_net"], k["net"], t["unit_t"] + f" ({h.year})", f"{ci}: {k['net_ci']}", wan(h.net_emissions_tco2e)),
        card("offset", t["kpi_offset"], k["offset"], "", f"{ci}: {k['offset_ci']}"),
        card("peak_status", t["kpi_peak"], k["peak_status"], t["peak_year"].format(year=k["peak_year"])),
    ]
    items = []
    for s in L.scenarios:
        ny = L.neutrality.get(s.id)
        if ny is not None and ny.central is not None:
            txt = t["neutral_in"].format(year=ny.central, early=ny.early if ny.early is not None else "–", late=ny.late if ny.late is not None else "–")
        else:
            txt = f"(2060: {fmt_t(ny.net_at_target_tco2e)} {t['unit_t_yr']})" if ny is not None else ""
        items.append(f"<li>{_e(_name(s, lang, s.id))}: <b data-kpi='neutrality.{_e(s.id)}'>{_e(k.get(f'neutrality.{s.id}', ''))}</b>"
                     f" <span class='small'>{_e(txt)}</span></li>")
    cards.append(f"<div class='kpi'><div class='label'>{_e(t['kpi_neutrality'])}</div><ul class='notes'>{''.join(items) or _e(t['none'])}</ul></div>")
    return (f"<section id='kpis'><h2>{_e(t['sec_kpis'])}</h2><p>{_e(t['kpi_year'].format(year=h.year))}</p>"
            f"<div class='kpis'>{''.join(cards)}</div></section>")


def _map(L, lang: str, t: dict) -> str:
    h = L.headline()
    zones = L.assessment.zones
    zones = zones[zones["zone_id"].isin(L.zone_ids)].reset_index(drop=True)
    hist = L.history[(L.history["year"] == h.year) & (L.history["zone_id"] != "all")].set_index("zone_id")
    vals = pd.Series([float(hist["offset_ratio"].get(z, np.nan)) * 100 for z in zones["zone_id"]], index=zones.index)
    namecol = f"name_{lang}" if f"name_{lang}" in zones else "zone_id"
    labels = pd.Series([f"{n} {fmt_num(v, 2)} %" for n, v in zip(zones[namecol], vals)], index=zones.index)
    try:
        fig = svg.zone_map(zones, vals, title=t["map_title"].format(year=h.year), legend_title=t["map_legend"], labels=labels,
                           fmt=lambda v: f"{v:.2f}", scale_units=(t["scale_m"], t["scale_km"]), north_label=t["north"], svg_id="map")
    except Exception as exc:  # a map that cannot be drawn must not lose the report
        fig = f"<p class='empty'>{_e(type(exc).__name__)}: {_e(exc)}</p>"
    cap = t["map_caption"].format(year=h.year, method=t[f"method.{h.method}"])
    return f"<section id='map' class='page'><h2>{_e(t['sec_map'])}</h2><figure>{fig}<figcaption>{_e(cap)}</figcaption></figure></section>"


def _charts(L, lang: str, t: dict) -> str:
    figs = []
    pos = L.position
    colours = {"stock_difference": svg.OKABE_ITO[2], "gain_loss": svg.OKABE_ITO[1]}
    em = pos[pos["method"] == L.method].sort_values("year")
    years = em["year"].astype(int).tolist()
    series = [svg.Series(t["emissions"], years, em["emissions_tco2e"].tolist(), colour=svg.OKABE_ITO[0], points=True)]
    bands = []
    for m in METHODS:
        p = pos[pos["method"] == m].sort_values("year")
        lab = f"{t['removals']} ({t['method.' + m]})"
        series.append(svg.Series(lab, p["year"].astype(int).tolist(), p["removals_tco2e_yr"].tolist(), colour=colours[m]))
        bands.append(svg.Band(f"{lab} {t['band']}", p["year"].astype(int).tolist(), p["removals_low_tco2e_yr"].tolist(),
                              p["removals_high_tco2e_yr"].tolist(), colour=colours[m]))
    figs.append(svg.line_chart(series, bands=bands, title=t["ch_er_title"], y_label=t["ch_er_y"], svg_id="ch_er", y_zero=True))
    figs.append(svg.line_chart(series[1:], bands=bands, title=t["ch_rem_title"], y_label=t["ch_er_y"], svg_id="ch_rem"))
    src = L.sources.sort_values("year")
    if len(src):
        ss = [svg.Series(str(d), g["year"].astype(int).tolist(), g["emissions_tco2e"].tolist(), points=True)
              for d, g in src.groupby("dataset", sort=False)]
        figs.append(svg.line_chart(ss, title=t["ch_src_title"], y_label=t["ch_src_y"], svg_id="ch_src"))
        f = src.drop_duplicates("year")
        figs.append(svg.line_chart([svg.Series(t["ch_factor_series"], f["year"].astype(int).tolist(), f["max_min_factor"].tolist(), points=True)],
                                   title=t["ch_factor_title"], y_label=t["ch_factor_y"], fmt=lambda v: f"{v:.2f}", svg_id="ch_factor", height=240))
    hs = L.history[L.history["zone_id"] == "all"].sort_values("year")
    if len(hs):
        stacks = [svg.Stack(t[f"sector.{s}"], hs[f"{s}_tco2e"].tolist()) for s in SECTORS if f"{s}_tco2e" in hs]
        figs.append(svg.bar_chart([str(int(y)) for y in hs["year"]], stacks, title=t["ch_sector_title"], y_label=t["ch_sector_y"],
                                  svg_id="ch_sector"))
    pr = L.projections
    if len(pr):
        inv = pr[(pr["kind"] == "inventory") & (pr["scenario"] == pr["scenario"].iloc[0])].sort_values("year")
        ss = [svg.Series(t["inventory_series"], inv["year"].astype(int).tolist(), inv["net_emissions_tco2e"].tolist(), colour="#000000")]
        bb = []
        base = int(inv["year"].max()) if len(inv) else None
        for i, s in enumerate(L.scenarios):
            g = pr[(pr["scenario"] == s.id) & ((pr["kind"] == "projection") | (pr["year"] == base))].sort_values("year")
            col = svg.OKABE_ITO[i % 6]
            ss.append(svg.Series(_name(s, lang, s.id), g["year"].astype(int).tolist(), g["net_emissions_tco2e"].tolist(), colour=col, dash=True))
            bb.append(svg.Band(f"{_name(s, lang, s.id)} {t['band']}", g["year"].astype(int).tolist(), g["net_emissions_low_tco2e"].tolist(),
                               g["net_emissions_high_tco2e"].tolist(), colour=col, opacity=0.15))
        markers = []
        if L.peak.peak_year is not None:
            pk = inv[inv["year"] == L.peak.peak_year]
            if len(pk):
                markers.append(svg.Marker(L.peak.peak_year, float(pk["net_emissions_tco2e"].iloc[0]), t["peak_marker"].format(year=L.peak.peak_year)))
        figs.append(svg.line_chart(ss, bands=bb, markers=markers, hlines=[svg.HLine(0, t["hline_zero"])],
                                   vlines=[svg.VLine(2030, t["vline_2030"]), svg.VLine(2060, t["vline_2060"])],
                                   title=t["ch_scen_title"], y_label=t["ch_scen_y"], svg_id="ch_scen", height=380))
    body = "".join(f"<figure>{f}</figure>" for f in figs)
    return f"<section id='charts' class='page'><h2>{_e(t['sec_charts'])}</h2>{body}</section>"


def neutrality_frame(L, lang: str = "en") -> pd.DataFrame:
    rows = []
    for s in L.scenarios:
        n = L.neutrality.get(s.id)
        if n is None:
            continue
        rows.append({"scenario": s.id, "name": _name(s, lang, s.id), "central": n.central, "early": n.early, "late": n.late,
                     "reached_by_target": bool(n.reached_by_target), "net_at_target_tco2e": n.net_at_target_tco2e, "note": n.note})
    return pd.DataFrame(rows, columns=["scenario", "name", "central", "early", "late", "reached_by_target", "net_at_target_tco2e", "note"])


def _tables(L, lang: str, t: dict, notes: _Notes) -> str:
    h = L.headline()
    out = []
    pos = L.position.sort_values(["year", "method"])
    out.append(_table(pos, ["year", "method", "emissions_tco2e", "removals_tco2e_yr", "removals_low_tco2e_yr", "removals_high_tco2e_yr",
                            "removals_period", "removals_basis", "removals_coverage", "net_emissions_tco2e", "net_emissions_low_tco2e",
                            "net_emissions_high_tco2e", "offset_ratio", "offset_ratio_low", "offset_ratio_high", "zones_missing_emissions"], t, table_id="t_position", caption=t["tbl_position"]))
    out.append(_table(L.sources, ["year", "dataset", "emissions_tco2e", "n_zones", "ratio_to_primary", "max_min_factor"], t,
                      table_id="t_sources", caption=t["tbl_sources"]))
    out.append(notes.render(L.inventory.notes))
    zname = dict(zip(L.assessment.zones["zone_id"], L.assessment.zones["name_zh" if lang == "zh" else "name_en"]))
    zname["all"] = t["zone_all"]

    def named(df):
        return df.assign(zone_id=df["zone_id"].map(lambda z: zname.get(z, z))) if df is not None and "zone_id" in df else df

    out.append(_table(named(L.peaks), ["zone_id", "status", "peak_year", "peak_value_tco2e", "last_year", "change_since_peak_pct",
                                "growth_last_3yr_pct_yr", "before_target", "slope_tco2e_yr", "kendall_p"], t, table_id="t_peaks", caption=t["tbl_peaks"]))
    out.append(f"<h3>{_e(t['tbl_peak_evidence'])}</h3>" + notes.render(L.peak.evidence))
    out.append(_table(neutrality_frame(L, lang), ["name", "central", "early", "late", "reached_by_target", "net_at_target_tco2e", "note"], t,
                      table_id="t_neutrality", caption=t["tbl_neutrality"], headers={"name": t["col.scenario"]}))
    sc = pd.DataFrame([{"name": _name(s, lang, s.id), "note": s.note, "source": s.source, "verified": bool(s.verified)} for s in L.scenarios])
    out.append(_table(sc, ["name", "note", "source", "verified"], t, table_id="t_scenarios", caption=t["tbl_scenarios"],
                      headers={"name": t["col.scenario"]}))
    dc = L.dual_control
    if len(dc):  # totals in whole tonnes, intensities to 4 decimals (one column holds both)
        total = dc["indicator"] == "total_tco2e"
        dc = dc.assign(**{c: [fmt_t(v) if tot else fmt_num(v, 4) if not _bad(v) else "–" for v, tot in zip(dc[c], total)]
                          for c in ("value", "target", "gap")})
        sname = {s.id: _name(s, lang, s.id) for s in L.scenarios}
        dc = dc.assign(scenario=dc["scenario"].map(lambda i: sname.get(i, i)))
    out.append(_table(dc, ["scenario", "year", "kind", "indicator", "value", "target", "gap", "gap_pct", "status", "target_basis", "target_source"],
                      t, table_id="t_dual", caption=t["tbl_dual"]))
    w = L.warnings
    meaning = dict(zip(L.rules["indicator"], L.rules[f"meaning_{lang}"])) if f"meaning_{lang}" in L.rules else {}
    wl = w[w["year"] == h.year].assign(meaning=lambda d: d["indicator"].map(meaning))
    out.append(_table(named(wl), ["indicator", "zone_id", "value", "unit", "amber", "red", "status", "meaning"], t, table_id="t_warnings",
                      caption=t["tbl_warnings"].format(year=h.year)))
    if len(w):
        cnt = w.groupby(["indicator", "status"]).size().unstack(fill_value=0).reset_index()
        heads = {c: t.get(f"warn.{c}", c) for c in cnt.columns if c != "indicator"}
        out.append(_table(cnt, ["indicator", *heads], t, table_id="t_warning_counts", caption=t["tbl_warning_counts"], headers=heads))
    pv = L.projects
    if pv is not None:
        out.append(_table(pv.table, ["activity", "code", "plant_to", "area_ha", "years", "without_tco2e", "biomass_growth_tco2e",
                                     "biomass_cleared_tco2e", "dom_change_tco2e", "soil_change_tco2e", "with_tco2e", "balance_tco2e",
                                     "balance_tco2e_yr", "balance_tco2e_ha_yr", "upper_bound"], t, table_id="t_projects",
                          caption=t["tbl_projects"].format(years=pv.years), row_class=lambda r: "upper" if bool(r.get("upper_bound")) else ""))
        out.append(f"<p class='small'>{_e(t['upper_bound_note'])}</p>" + notes.render(pv.notes))
    else:
        out.append(f"<h3>{_e(t['tbl_projects'].format(years=L.config.ledger.project_years))}</h3><p class='empty' id='t_projects'>{_e(t['projects_none'])}</p>")
    rej = L.inventory.rejected
    if len(rej):
        out.append(_table(rej, ["row", "reason", "year", "zone_id", "dataset", "sector"], t, table_id="t_rejected", caption=t["tbl_rejected"]))
    else:
        out.append(f"<h3>{_e(t['tbl_rejected'])}</h3><p class='empty' id='t_rejected'>{_e(t['no_rejected'])}</p>")
    return f"<section id='tables' class='page'><h2>{_e(t['sec_tables'])}</h2>{''.join(out)}</section>"


def _methods(L, lang: str, t: dict, notes: _Notes) -> str:
    lg = L.config.ledger
    p = L.peak
    paras = [t["m_net"], t["m_methods"].format(method=t[f"method.{L.method}"]),
             t["m_mc"].format(n_draws=L.removals.n_draws, seed=L.removals.seed),
             t["m_peak"].format(window=p.window, confirm=p.confirm_years, plateau=fmt_num(p.plateau_pct, 1)),
             t["m_projection"], t["m_project"].format(years=L.projects.years if L.projects is not None else lg.project_years)]
    body = "".join(f"<p>{_e(s)}</p>" for s in paras)
    body += f"<h3>{_e(t['m_scope'])}</h3>" + notes.render(L.removals.scope)
    body += notes.render(L.removals.notes)
    unv = []
    n_unv = int(L.assessment.provenance.get("coefficient_table", {}).get("unverified_values",
                (~L.assessment.coefficients.values["verified"].astype(bool)).sum()))
    unv.append(t["m_unverified_coeff"].format(n=n_unv))
    mu = L.removals.missing_uncertainty
    if mu is not None and len(mu):
        unv.append(t["m_unverified_fixed"].format(n=len(mu)))
    for s in L.scenarios:
        if not s.verified:
            unv.append(t["m_unverified_scen"].format(name=_name(s, lang, s.id), source=s.source))
    if "basis" in L.rules and len(L.rules):
        unv.append(t["m_unverified_rules"].format(basis=", ".join(sorted(set(map(str, L.rules["basis"]))))))
    body += f"<h3>{_e(t['m_unverified'])}</h3><ul class='notes' id='unverified'>" + "".join(f"<li>{_e(s)}</li>" for s in unv) + "</ul>"
    return f"<section id='methods' class='page'><h2>{_e(t['sec_methods'])}</h2>{body}</section>"


def _coefficients(L, lang: str, t: dict) -> str:
    c = L.assessment.coefficients
    v = c.values
    rows = []
    for _, r in v.iterrows():
        ok = bool(r["verified"])
        badge = f"<span class='badge ok'>{_e(t['verified'])}</span>" if ok else f"<span class='badge unverified'>{_e(t['unverified'])}</span>"
        rows.append(f"<tr class='{'verified' if ok else 'unverified'}'><td class='n'>{_e(int(r['lucode']))}</td><td>{_e(r['lulc_name'])}</td>"
                    f"<td>{_e(r['quantity'])}</td><td class='n'>{_e(_fmt_cell('value', r['value'], t) if not _bad(r['value']) else '–')}</td>"
                    f"<td>{_e(r['unit'])}</td><td class='n'>{_e(fmt_num(r['uncertainty_pct'], 0))}</td>"
                    f"<td class='small'>{_e(r['source'])}</td><td data-col='verified'>{badge}</td>"
                    f"<td class='small'>{_e(r.get('note', ''))}</td></tr>")
    cols = ["lucode", "lulc_name", "quantity", "value", "unit", "uncertainty_pct", "source", "verified", "note"]
    head = "".join(f"<th scope='col'>{_e(t['col.' + k])}</th>" for k in cols)
    return (f"<section id='coefficients' class='page'><h2>{_e(t['sec_coefficients'])}</h2>"
            f"<p>{_e(t['coeff_caption'].format(path=c.path))}</p><p class='small'>SHA-256 <code>{_e(c.sha256)}</code></p>"
            f"<table id='t_coefficients'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def _provenance(L, t: dict) -> str:
    prov = dict(L.provenance)
    prov.setdefault("carbon_assessment", L.assessment.provenance)
    rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in _flatten(prov))
    return (f"<section id='provenance' class='page'><h2>{_e(t['sec_provenance'])}</h2><p>{_e(t['prov_caption'])}</p>"
            f"<table id='t_provenance'><thead><tr><th>{_e(t['col.key'])}</th><th>{_e(t['col.value'])}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def build_report_html(ledger, *, lang: str) -> str:
    """The report of ``ledger`` as one self-contained HTML page in ``lang`` (``"zh"`` or ``"en"``)."""
    if lang not in TEXT:
        raise ValueError(f"lang must be one of {list(TEXT)}, not {lang!r}")
    t = TEXT[lang]
    notes = _Notes(lang)
    when = ledger.provenance.get("run_at_utc") or datetime.now(timezone.utc).isoformat(timespec="seconds")
    parts = [_summary(ledger, lang, t, when), _kpis(ledger, lang, t), _map(ledger, lang, t), _charts(ledger, lang, t),
             _tables(ledger, lang, t, notes), _methods(ledger, lang, t, notes), _coefficients(ledger, lang, t),
             f"<section id='notes'><h2>{_e(t['sec_notes'])}</h2>{notes.render(ledger.notes)}</section>",
             _provenance(ledger, t)]
    title = f"{t['doc_title']} · {_name(ledger.config, lang)}"
    return ("<!DOCTYPE html>\n"
            f"<html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_e(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")


# ---------------------------------------------------------------------------------------------
# files


def table_frames(L) -> dict[str, pd.DataFrame]:
    """Every table of the report, by CSV name (without ``.csv``)."""
    pv = L.projects
    rej = L.inventory.rejected
    return {
        "position": L.position,
        "sources": L.sources,
        "projections": L.projections,
        "dual_control": L.dual_control,
        "warnings": L.warnings,
        "projects": pv.table if pv is not None else pd.DataFrame(),
        "peaks": L.peaks,
        "inventory_rejected": rej,
        "neutrality": neutrality_frame(L, "en"),
        "coefficients": L.assessment.coefficients.values,
    }


def _ledger_doc(L, files: list[str]) -> dict:
    from sinks.report import _clean

    h = L.headline()
    return _clean({
        "generator": "python -m sinks report",
        "area": {"name_zh": L.config.name_zh, "name_en": L.config.name_en, "illustrative": bool(L.config.illustrative)},
        "headline": asdict(h),
        "neutrality": {k: {"central": v.central, "early": v.early, "late": v.late, "reached_by_target": v.reached_by_target,
                           "net_at_target_tco2e": v.net_at_target_tco2e, "note": v.note} for k, v in L.neutrality.items()},
        "notes": [str(n) for n in L.notes],
        "files": files,
        "provenance": L.provenance,
    })


def write_report(ledger, out: Path, *, langs=("zh", "en"), pdf: bool = True, warn=None) -> list[Path]:
    """Write the report folder ``out`` all at once and return its files.

    ``report_<lang>.html`` (+ ``.pdf`` when ``pdf`` and Chromium is found; otherwise a warning
    line naming the fix goes to ``warn``, default stderr), one CSV per table (:data:`CSV_TABLES`,
    formula-safe) and ``ledger.json``. ``out`` may be new, empty or an earlier report.
    """
    from geodata.files import atomic_report_dir
    from geodata.points import safe_for_csv
    from sinks.ledger import pdf as pdfmod
    from sinks.report import _json_default

    say = warn or (lambda msg: print(msg, file=sys.stderr))
    langs = tuple(langs)
    for lang in langs:
        if lang not in TEXT:
            raise ValueError(f"lang must be one of {list(TEXT)}, not {lang!r}")
    out = Path(out)
    with atomic_report_dir(out, marker=MARKER) as tmp:
        names = []
        for name, df in table_frames(ledger).items():
            safe_for_csv(pd.DataFrame(df)).to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8-sig")
            names.append(f"{name}.csv")
        pdf_ok = pdf
        for lang in langs:
            page = tmp / f"report_{lang}.html"
            page.write_text(build_report_html(ledger, lang=lang), encoding="utf-8")
            names.append(page.name)
            if pdf_ok:
                try:
                    pdfmod.html_to_pdf(page, tmp / f"report_{lang}.pdf")
                    names.append(f"report_{lang}.pdf")
                except pdfmod.PdfUnavailable as exc:
                    say(f"warning: no PDF: {exc.problem}; fix: {exc.fix}")
                    pdf_ok = False
        doc = _ledger_doc(ledger, sorted(names + [MARKER]))
        (tmp / MARKER).write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return sorted(out.iterdir())
