"""Early warning on the ledger's indicators (plan item 17: 实时监控、分析、预警).

The thresholds are **policy choices**, not science: the action plan asks for monitoring,
analysis and early warning (item 17) but sets no figure. They live in a CSV
(``data/ledger/warning_rules.csv``: ``indicator, direction, amber, red, unit, meaning_zh,
meaning_en, basis, source``) that the user edits; :func:`load_warning_rules` checks it strictly.

A status per indicator, zone and year: ``ok`` / ``amber`` / ``red`` against the thresholds
(``above``: value >= red is red, value >= amber is amber; ``below``: value <= red is red,
value <= amber is amber), or ``no_data`` with the reason where the value cannot be computed
(never 0).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import SchemaError
from geodata.tables import read_csv, to_number
from sinks.ledger.scenarios import SECTORS
from sinks.ledger.trajectory import Peak, detect_peak
from sinks.notes import Note

INDICATORS: dict[str, str] = {  # indicator -> unit (the rules' unit column must say the same)
    "emissions_growth_pct": "%/yr",              # year-on-year change of emissions
    "emissions_growth_3yr_pct": "%/yr",          # compound annual change over the last three years
    "intensity_change_vs_target_pct": "pp",      # intensity change since the plan period began minus the pro-rated target change
    "net_emissions_rising_after_peak": "% of peak",  # after a confirmed peak: rise of the trailing-smoothed net, % of the peak
    "sink_loss_pct": "%",                        # loss of removals (else of carbon stock) since the previous land-cover date
    "offset_ratio_drop_pp": "pp",                # drop of the offset ratio (removals / emissions) since the year before
}
RULE_COLUMNS = ("indicator", "direction", "amber", "red", "unit", "meaning_zh", "meaning_en", "basis", "source")
DIRECTIONS = ("above", "below")
BASES = ("policy", "science")
WARNING_COLUMNS = ("indicator", "zone_id", "year", "value", "unit", "amber", "red", "status", "note", "kind")
STATUSES = ("ok", "amber", "red", "no_data")


def load_warning_rules(source: str | Path | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Read and check the thresholds table; SchemaError names the file, row, column and fix.

    Rejected: a missing column, an unknown or repeated indicator, a direction other than
    above / below, a threshold that is not a number, thresholds in the wrong order for the
    direction (above: amber <= red; below: amber >= red), a unit that is not the indicator's,
    a basis other than policy / science, and an empty source.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<rules upload>")
    df = read_csv(source, name=label, required=RULE_COLUMNS)
    amber, red = to_number(df["amber"]), to_number(df["red"])
    seen: set[str] = set()
    for i in range(len(df)):
        row = i + 2  # header + 1-based
        ind = df["indicator"].iloc[i].strip()
        where = f"row {row} ({ind or 'no indicator'})"
        if ind not in INDICATORS:
            raise SchemaError(label, f"{where}: indicator {ind!r} is unknown", f"use one of {list(INDICATORS)}")
        if ind in seen:
            raise SchemaError(label, f"{where}: indicator {ind!r} appears more than once", "keep one row per indicator")
        seen.add(ind)
        d = df["direction"].iloc[i].strip().lower()
        if d not in DIRECTIONS:
            raise SchemaError(label, f"{where}: direction {df['direction'].iloc[i]!r} is not above / below",
                              "write above (a high value is bad) or below (a low value is bad)")
        for col, v in (("amber", amber.iloc[i]), ("red", red.iloc[i])):
            if not np.isfinite(v):
                raise SchemaError(label, f"{where}: {col} = {df[col].iloc[i]!r} is not a number", f"write the {col} threshold as a number")
        a, r = float(amber.iloc[i]), float(red.iloc[i])
        if (d == "above" and a > r) or (d == "below" and a < r):
            raise SchemaError(label, f"{where}: amber {a:g} and red {r:g} are in the wrong order for direction {d!r}",
                              "for 'above' red must be >= amber (red is further out), for 'below' red must be <= amber")
        unit = df["unit"].iloc[i].strip()
        if unit != INDICATORS[ind]:
            raise SchemaError(label, f"{where}: unit {unit!r} is not the indicator's unit {INDICATORS[ind]!r}",
                              f"write unit {INDICATORS[ind]} and thresholds in that unit (percent, not fractions)")
        basis = df["basis"].iloc[i].strip().lower()
        if basis not in BASES:
            raise SchemaError(label, f"{where}: basis {df['basis'].iloc[i]!r} is not policy / science",
                              "write policy (a chosen threshold) or science (a threshold with a cited scientific basis)")
        if not df["source"].iloc[i].strip():
            raise SchemaError(label, f"{where}: source is empty", "say where the threshold comes from (e.g. the plan item and 'policy choice')")
    out = df.assign(indicator=df["indicator"].str.strip(), direction=df["direction"].str.strip().str.lower(),
                    amber=amber.astype(float), red=red.astype(float), unit=df["unit"].str.strip(),
                    basis=df["basis"].str.strip().str.lower())
    return out[list(RULE_COLUMNS)].reset_index(drop=True)


def classify(values: pd.Series, *, direction: str, amber: float, red: float) -> pd.Series:
    """ok / amber / red per value (see the module docstring), no_data where the value is NaN."""
    v = values.astype(float)
    if direction == "above":
        st = np.where(v >= red, "red", np.where(v >= amber, "amber", "ok"))
    else:
        st = np.where(v <= red, "red", np.where(v <= amber, "amber", "ok"))
    return pd.Series(np.where(v.isna(), "no_data", st), index=values.index)


def _prev(s: pd.Series, k: int) -> pd.Series:
    """The value k years before each year (NaN where that year is missing)."""
    return pd.Series(s.reindex(s.index - k).to_numpy(), index=s.index)


def _members(label: str, known: set[str]) -> list[str]:
    if label in known:
        return [label]
    parts = label.split("+")
    if len(parts) > 1 and set(parts) <= known:
        return parts
    if label == "all":
        return sorted(known)
    return []


def _history(history: pd.DataFrame) -> pd.DataFrame:
    h = history
    if "emissions_tco2e" not in h and "emissions_tco2" in h:
        h = h.rename(columns={"emissions_tco2": "emissions_tco2e"})
    if "year" not in h or "emissions_tco2e" not in h:
        raise SchemaError("<history>", "the history frame lacks year or emissions_tco2e", "pass the frame of project() or inventory_history()")
    if "scenario" in h and h["scenario"].nunique() > 1:
        raise ValueError(f"early_warning takes one scenario at a time, got {sorted(h['scenario'].unique())}")
    if "zone_id" not in h:
        h = h.assign(zone_id="all")
    if h.duplicated(["zone_id", "year"]).any():
        raise SchemaError("<history>", "the history repeats a zone and year", "give one row per zone and year (totals over sectors)")
    return h.assign(zone_id=h["zone_id"].astype(str), year=h["year"].astype(int))


def _col(g: pd.DataFrame, name: str) -> pd.Series:
    return g[name].astype(float) if name in g else pd.Series(np.nan, index=g.index)


def _incomplete(g: pd.DataFrame, e: pd.Series) -> pd.Series:
    """Per year: "" or the sectors missing where the total is empty but the zone reports those
    sectors in other years (an incomplete year of :func:`~sinks.ledger.trajectory.inventory_history`)."""
    cols = [(s, f"{s}_tco2e") for s in SECTORS if f"{s}_tco2e" in g]
    out = pd.Series("", index=g.index, dtype=object)
    for y in g.index[e.isna().to_numpy()]:
        lack = [s for s, c in cols if pd.isna(g.at[y, c]) and g[c].notna().any()]
        if lack:
            out[y] = ", ".join(lack)
    return out


def _zone_values(g: pd.DataFrame, *, peak, window: int) -> dict[str, tuple[pd.Series, pd.Series]]:
    """indicator -> (value per year, reason where no value) for one zone (index: year)."""
    e = _col(g, "emissions_tco2e")
    out: dict[str, tuple[pd.Series, pd.Series]] = {}
    gap = _incomplete(g, e)
    gap_here = pd.Series(gap != "", index=g.index)

    def gap_text(k: int = 0) -> pd.Series:
        """The reason for an incomplete year k years before each year."""
        src = _prev(gap, k).fillna("") if k else gap
        when = "this year" if k == 0 else ("the year before" if k == 1 else f"{k} years before")
        return pd.Series([f"emissions incomplete {when}: no {v} rows, although reported in other years (a missing sector is not 0)"
                          if v else "" for v in src], index=g.index, dtype=object)

    def reasons(value: pd.Series, *cases: tuple[pd.Series, str | pd.Series]) -> pd.Series:
        r = pd.Series("", index=value.index, dtype=object)
        for mask, text in cases:
            m = mask.to_numpy(dtype=bool) & (r == "").to_numpy() & value.isna().to_numpy()
            r[m] = text[m].to_numpy() if isinstance(text, pd.Series) else text
        r[value.isna().to_numpy() & (r == "").to_numpy()] = "cannot be computed"
        return r

    def gap_before(k: int) -> pd.Series:
        return pd.Series(_prev(gap_here, k).fillna(False).astype(bool).to_numpy(), index=g.index)

    e1, e3 = _prev(e, 1), _prev(e, 3)
    v = ((e / e1 - 1) * 100).where(e1 > 0)
    out["emissions_growth_pct"] = (v, reasons(v, (gap_here, gap_text()), (e.isna(), "no emissions this year"),
                                               (gap_before(1), gap_text(1)), (e1.isna(), "no emissions the year before"),
                                               (e1 <= 0, "zero emissions the year before")))
    v = (((e / e3) ** (1 / 3) - 1) * 100).where(e3 > 0)
    out["emissions_growth_3yr_pct"] = (v, reasons(v, (gap_here, gap_text()), (e.isna(), "no emissions this year"),
                                                   (gap_before(3), gap_text(3)), (e3.isna(), "no emissions three years before"),
                                                   (e3 <= 0, "zero emissions three years before")))
    i, t, a = _col(g, "intensity_t_per_10k_cny"), _col(g, "intensity_target_t_per_10k_cny"), _col(g, "intensity_anchor_t_per_10k_cny")
    v = ((i - t) / a * 100).where(a > 0)
    out["intensity_change_vs_target_pct"] = (v, reasons(v, (t.isna(), "no intensity target for this year (no plan period in the scenario)"),
                                                         (gap_here, gap_text()), (e.isna(), "no emissions this year"),
                                                         (i.isna(), "no intensity (GDP missing)"), (a.isna(), "no intensity at the plan period start")))
    net = _col(g, "net_emissions_tco2e")
    trail = net.rolling(window, min_periods=window).mean()
    rise = trail - _prev(trail, 1)
    val = pd.Series(np.nan, index=g.index)
    why = pd.Series("", index=g.index, dtype=object)
    for y in g.index:
        pk = peak if isinstance(peak, Peak) else detect_peak(e.dropna(), window=window, as_of=int(y))
        if pk.status != "peaked" or pk.peak_year is None:
            why[y] = f"no confirmed peak as of {y} (status {pk.status})"
        elif y <= pk.peak_year:
            why[y] = f"{y} is not after the peak year {pk.peak_year}"
        elif gap[y]:
            why[y] = gap_text()[y]
        elif not np.isfinite(rise[y]):
            why[y] = "no net emissions for the trailing average (removals missing or too few years)"
        else:
            val[y] = rise[y] / pk.peak_value_tco2e * 100
    out["net_emissions_rising_after_peak"] = (val, why)
    o = _col(g, "offset_ratio")
    if o.isna().all() and "removals_tco2e_yr" in g:
        o = (_col(g, "removals_tco2e_yr") / e).where(e > 0)
    o1 = _prev(o, 1)
    v = (o1 - o) * 100
    out["offset_ratio_drop_pp"] = (v, reasons(v, (gap_here, gap_text()), (o.isna(), "no offset ratio this year (removals or emissions missing)"),
                                               (gap_before(1), gap_text(1)), (o1.isna(), "no offset ratio the year before")))
    return out


def _sink_loss(zone: str, removals_by_period: pd.DataFrame | None, years: pd.Index) -> tuple[pd.Series, pd.Series, str]:
    """Loss of removals (else of stock) between consecutive land-cover dates, % of the earlier."""
    if removals_by_period is None:
        return (pd.Series(np.nan, index=years), pd.Series("no land-cover periods given (removals_by_period)", index=years, dtype=object), "")
    r = removals_by_period.assign(zone_id=removals_by_period["zone_id"].astype(str), year=removals_by_period["year"].astype(int))
    members = _members(zone, set(r["zone_id"]))
    if not members:
        idx = pd.Index(sorted(r["year"].unique()), name="year")
        return pd.Series(np.nan, index=idx), pd.Series(f"zone {zone!r} is not in removals_by_period", index=idx, dtype=object), ""
    cols = [c for c in ("removals_tco2e_yr", "stock_tc") if c in r]
    s = r[r["zone_id"].isin(members)].groupby("year")[cols].sum(min_count=1).sort_index()
    val = pd.Series(np.nan, index=s.index)
    why = pd.Series("", index=s.index, dtype=object)
    what = pd.Series("", index=s.index, dtype=object)
    if len(s):
        why.iloc[0] = "the first land-cover date: no earlier period to compare"
    for k in range(1, len(s)):
        y = s.index[k]
        for col, text in (("removals_tco2e_yr", "removals"), ("stock_tc", "carbon stock")):
            if col in s and np.isfinite(s[col].iloc[k]) and np.isfinite(s[col].iloc[k - 1]) and s[col].iloc[k - 1] > 0:
                val[y] = (s[col].iloc[k - 1] - s[col].iloc[k]) / s[col].iloc[k - 1] * 100
                what[y] = f"{text} {s.index[k - 1]}-{y}"
                break
        else:
            why[y] = "no positive removals or stock at both dates (a net source has no % loss)"
    return val, why, what


def early_warning(history: pd.DataFrame, *, rules: pd.DataFrame, peak: Peak | dict[str, Peak] | None = None,
                  removals_by_period: pd.DataFrame | None = None, window: int = 3) -> pd.DataFrame:
    """A status per indicator x zone x year against ``rules`` (:func:`load_warning_rules`).

    Parameters
    ----------
    history
        The frame of :func:`sinks.ledger.trajectory.project` (one scenario) or
        :func:`~sinks.ledger.trajectory.inventory_history`: ``zone_id, year, emissions_tco2e``
        and, where available, net, removals, offset ratio and the intensity target columns.
    peak
        A :class:`Peak` (or {zone_id: Peak}) to judge ``net_emissions_rising_after_peak``; by
        default the peak is detected per zone *as of each year* (what was known then), and
        the net is smoothed with a trailing ``window``-year mean (no look-ahead).
    removals_by_period
        ``zone_id, year`` (land-cover dates) and ``removals_tco2e_yr`` and/or ``stock_tc``:
        ``sink_loss_pct`` per date; None = ``no_data``.

    Returns
    -------
    DataFrame
        :data:`WARNING_COLUMNS`; ``note`` is a Note (the reason for ``no_data``, else the
        comparison); ``kind`` is inventory / projection where the history says so.
    """
    h = _history(history)
    frames = []
    for zone, g in h.groupby("zone_id", sort=True):
        g = g.set_index("year").sort_index()
        pk = peak.get(zone) if isinstance(peak, dict) else peak
        vals = _zone_values(g, peak=pk, window=window)
        sl_val, sl_why, sink_what = _sink_loss(str(zone), removals_by_period, g.index)
        vals["sink_loss_pct"] = (sl_val, sl_why)
        kind = g["kind"] if "kind" in g else pd.Series("", index=g.index)
        for _, rule in rules.iterrows():
            ind = rule["indicator"]
            if ind not in vals:
                continue
            v, why = vals[ind]
            st = classify(v, direction=rule["direction"], amber=rule["amber"], red=rule["red"])
            notes = []
            for y in v.index:
                if st[y] == "no_data":
                    notes.append(Note("warn_no_data", f"{ind} {y}: {why[y]}", indicator=ind, year=int(y), reason=why[y]))
                else:
                    extra = f" ({sink_what[y]})" if ind == "sink_loss_pct" and isinstance(sink_what, pd.Series) and sink_what.get(y) else ""
                    notes.append(Note(f"warn_{st[y]}", f"{ind} {y}: {v[y]:+.2f} {rule['unit']}{extra} -> {st[y]} "
                                      f"({rule['direction']}: amber {rule['amber']:g}, red {rule['red']:g}; {rule['basis']} threshold)",
                                      indicator=ind, year=int(y), value=float(v[y]), status=st[y], amber=float(rule["amber"]), red=float(rule["red"])))
            frames.append(pd.DataFrame({"indicator": ind, "zone_id": zone, "year": v.index.astype(int), "value": v.to_numpy(dtype=float),
                                        "unit": rule["unit"], "amber": float(rule["amber"]), "red": float(rule["red"]), "status": st.to_numpy(),
                                        "note": pd.Series(notes, dtype=object, index=range(len(notes))),  # object: keeps the Notes
                                        "kind": kind.reindex(v.index).fillna("").to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=list(WARNING_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    order = {k: i for i, k in enumerate(INDICATORS)}
    out = out.assign(_o=out["indicator"].map(order)).sort_values(["_o", "zone_id", "year"]).drop(columns="_o")
    return out[list(WARNING_COLUMNS)].reset_index(drop=True)


def latest_status(warnings: pd.DataFrame) -> pd.DataFrame:
    """The last year with a value per indicator and zone (else the last year), for a summary."""
    w = warnings.assign(_has=warnings["status"] != "no_data")
    w = w.sort_values(["indicator", "zone_id", "_has", "year"])
    return w.groupby(["indicator", "zone_id"], sort=False).tail(1).drop(columns="_has").reset_index(drop=True)
