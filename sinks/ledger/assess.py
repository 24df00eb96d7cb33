"""The net-neutrality ledger: one orchestrator for the pages, the report and the CLI.

``ledger_assessment(config)`` runs the carbon assessment (or takes one), reads the emissions
inventory (or an upload), and derives, for the configured zones:

* the inventory and its sources side by side (:mod:`sinks.ledger.inventory`);
* removals by both methods with Monte Carlo intervals and the net-neutrality position per
  inventory year (:mod:`sinks.ledger.removals`);
* the emissions peak with its evidence, the scenario paths to 2060, the neutrality year per
  scenario and the dual-control table (:mod:`sinks.ledger.trajectory`);
* the early-warning status per indicator and year (:mod:`sinks.ledger.warnings`);
* the carbon-sink project view of the planting candidates (:mod:`sinks.ledger.projects`).

Everything is returned in a frozen :class:`Ledger` with its notes and provenance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from geodata.errors import DataError, SchemaError
from sinks.config import Config, load_config
from sinks.ledger import trajectory as tj
from sinks.ledger.inventory import EmissionsInventory, compare_sources, load_emissions
from sinks.ledger.projects import ProjectView, activities_from_candidates, project_view
from sinks.ledger.removals import RemovalSeries, period_for_year, position, removal_series
from sinks.ledger.scenarios import Scenario, load_control_targets, load_gdp, load_scenarios
from sinks.ledger.warnings import early_warning, load_warning_rules
from sinks.notes import Note
from sinks.pipeline import Assessment, run_assessment

Progress = Callable[[str, float], None]
TOTAL = "all"  # the zone_id of the sum of the selected zones in histories and projections


@dataclass(frozen=True)
class Headline:
    """The figures the leadership reads first, for the latest inventory year."""

    year: int
    emissions_tco2e: float
    emissions_low_tco2e: float  # NaN when the inventory rows carry no uncertainty
    emissions_high_tco2e: float
    removals_tco2e_yr: float
    removals_low_tco2e_yr: float
    removals_high_tco2e_yr: float
    removals_period: str
    net_emissions_tco2e: float
    net_emissions_low_tco2e: float
    net_emissions_high_tco2e: float
    offset_ratio: float
    offset_ratio_low: float
    offset_ratio_high: float
    method: str
    peak_status: str
    peak_year: int | None  # None unless the status is peaked or plateau (a rising series has no peak)
    neutrality: dict[str, int | None]  # scenario id -> central neutrality year (None = not by the horizon)


@dataclass(frozen=True)
class Ledger:
    """Everything the ledger computes for one configuration, zone selection and inventory series.

    ``position``: per inventory year and method (both always); ``history``: the inventory years
    per zone and for the sum (``zone_id`` = ``all``) in the projection's columns, with the
    headline method's removals; ``projections``: one frame of every scenario (sum of the zones);
    ``neutrality``: scenario id -> :class:`~sinks.ledger.trajectory.NeutralityYear`;
    ``warnings``: per indicator, zone and year over the inventory period; ``projects``: the
    carbon-sink project view (None when not computed).
    """

    config: Config
    assessment: Assessment
    inventory: EmissionsInventory
    dataset: str
    zone_ids: tuple[str, ...]
    sources: pd.DataFrame
    removals: RemovalSeries
    position: pd.DataFrame
    history: pd.DataFrame
    peaks: pd.DataFrame
    peak: tj.Peak
    scenarios: tuple[Scenario, ...]
    projections: pd.DataFrame
    neutrality: dict[str, tj.NeutralityYear]
    dual_control: pd.DataFrame
    rules: pd.DataFrame
    warnings: pd.DataFrame
    gdp: pd.DataFrame | None
    projects: ProjectView | None
    method: str
    notes: tuple[Note, ...] = ()
    provenance: dict = field(default_factory=dict)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.position["year"].unique())

    def headline(self, year: int | None = None) -> Headline:
        """The headline figures of ``year`` (default: the latest inventory year in which every zone
        has complete emissions and there are removals, i.e. net emissions are defined)."""
        p = self.position[self.position["method"] == self.method]
        have = p[(p["zones_missing_emissions"].fillna("") == "") & p["net_emissions_tco2e"].notna()]
        if have.empty:
            raise DataError(self.inventory.path, f"no inventory year has complete emissions of every zone {list(self.zone_ids)} and removals",
                            "check the zones, years and sectors of the inventory (see the notes)")
        year = int(have["year"].max()) if year is None else int(year)
        r = p[p["year"] == year]
        if r.empty:
            raise ValueError(f"no position for {year}; years are {self.years}")
        r = r.iloc[0]
        return Headline(year=year, method=self.method, **{k: float(r[k]) for k in (
            "emissions_tco2e", "emissions_low_tco2e", "emissions_high_tco2e", "removals_tco2e_yr", "removals_low_tco2e_yr", "removals_high_tco2e_yr", "net_emissions_tco2e",
            "net_emissions_low_tco2e", "net_emissions_high_tco2e", "offset_ratio", "offset_ratio_low", "offset_ratio_high")},
            removals_period=str(r["removals_period"]), peak_status=self.peak.status, peak_year=self.peak.peak_year,
            neutrality={k: v.central for k, v in self.neutrality.items()})


def _removals_by_year(pos: pd.DataFrame, method: str) -> pd.DataFrame:
    """``year, removals_tco2e_yr, low_tco2e_yr, high_tco2e_yr`` of ``method`` (the trajectory's input)."""
    p = pos[pos["method"] == method].dropna(subset=["removals_tco2e_yr"])
    return pd.DataFrame({"year": p["year"].astype(int), "removals_tco2e_yr": p["removals_tco2e_yr"],
                         "low_tco2e_yr": p["removals_low_tco2e_yr"], "high_tco2e_yr": p["removals_high_tco2e_yr"]})


def _stock_by_date(a: Assessment, zones: list[str]) -> pd.DataFrame:
    """``zone_id, year, stock_tc`` per zone and for the sum (``all``): the sink-loss indicator's input."""
    st = a.stock_totals[a.stock_totals["zone_id"].isin(zones)][["zone_id", "year", "stock_tc"]]
    tot = st.groupby("year", as_index=False)["stock_tc"].sum().assign(zone_id=TOTAL)
    return pd.concat([st, tot[["zone_id", "year", "stock_tc"]]], ignore_index=True)


def planting_activities(config: Config, *, progress: Progress | None = None) -> tuple[pd.DataFrame, tuple[Note, ...]]:
    """Candidate planting areas by kind and present class, from the greening assessment of the
    configuration's zones (``activity, code, plant_to, area_ha``) and its notes."""
    from sinks.greening.assess import greening_assessment

    g = greening_assessment(config, units="zones", progress=progress)
    return activities_from_candidates(g.candidates), tuple(n for n in g.notes if getattr(n, "code", "") in {"no_redlines"})


def ledger_assessment(
    config: Config | str | Path,
    *,
    assessment: Assessment | None = None,
    inventory: EmissionsInventory | None = None,
    dataset: str | None = None,
    zone_ids: list[str] | None = None,
    scenarios: tuple[Scenario, ...] | None = None,
    activities: pd.DataFrame | None = None,
    with_projects: bool = True,
    progress: Progress | None = None,
) -> Ledger:
    """The net-neutrality ledger of ``config``.

    Parameters
    ----------
    assessment
        A carbon assessment of ``config`` already computed (the dashboard's cache); default: run it.
    inventory
        An emissions inventory (e.g. an upload read with :func:`load_emissions`); default: the
        configuration's ``[inventory]``.
    dataset
        The inventory series to reconcile (default: the inventory's primary); the others are
        compared, never added.
    zone_ids
        The zones that count (default: all configured zones).
    scenarios
        Scenarios (e.g. edited on the page); default: ``[ledger] scenarios_path`` (none if unset).
    activities
        ``activity, code, plant_to, area_ha`` for the project view; default: the greening
        candidates of the zones when ``with_projects``.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    lg = cfg.ledger
    say = progress or (lambda step, frac: None)
    notes: list[Note] = []
    if assessment is None:
        assessment = run_assessment(cfg, progress=lambda s, f: say(s, 0.5 * f))
    a = assessment
    if inventory is None:
        inventory = a.inventory
    if inventory is None:
        if cfg.inventory is None:
            raise SchemaError(cfg.source or "<config>", "the configuration names no emissions inventory",
                              'add [inventory] path = "emissions.csv" (or upload an inventory on the Net neutrality page)')
        inventory = load_emissions(cfg.inventory, zone_ids=a.zone_ids, primary=cfg.inventory_primary)
    dataset = dataset or inventory.primary
    if dataset not in inventory.datasets:
        raise SchemaError(inventory.path, f"the inventory has no dataset {dataset!r}", f"use one of {list(inventory.datasets)}")
    zones = list(a.zone_ids if zone_ids is None else zone_ids)
    unknown = sorted(set(zones) - set(a.zone_ids))
    if unknown:
        raise ValueError(f"unknown zone(s) {unknown}; zones are {a.zone_ids}")

    say("compare inventory sources", 0.55)
    sources = compare_sources(inventory, zone_ids=zones)
    say("removals with intervals", 0.6)
    rem = removal_series(a, zone_ids=zones, n_draws=lg.n_draws, seed=lg.seed, assumed_uncertainty_pct=lg.assumed_uncertainty_pct)
    totals = inventory.totals(dataset)
    totals = totals[totals["zone_id"].isin(zones)]
    if totals.empty:
        raise DataError(inventory.path, f"dataset {dataset!r} has no scope-1 rows for zone(s) {zones}",
                        "choose zones the inventory covers, or another dataset")
    by_sector = inventory.by_sector(dataset)
    by_sector = by_sector[by_sector["zone_id"].isin(zones)]
    # a zone-year lacking a sector the zone reports in other years has no total (never a partial sum)
    incomplete = tj.incomplete_years(by_sector)
    pos = position(totals, rem, incomplete=incomplete)
    notes += list(pos.attrs.get("notes", ()))
    method = lg.headline_method
    removals_year = _removals_by_year(pos, method)

    say("peak and history", 0.7)
    peaks, peak_map = tj.peak_table(by_sector, total_label=TOTAL, window=lg.peak_window, plateau_pct=lg.plateau_pct)
    peak = peak_map.get(TOTAL, next(iter(peak_map.values())))
    gdp = load_gdp(lg.gdp) if lg.gdp is not None else None
    if gdp is None:
        notes.append(Note("no_gdp", "no GDP series ([ledger] gdp_path): intensity and its targets are left empty"))
    scen = tuple(scenarios) if scenarios is not None else (load_scenarios(lg.scenarios) if lg.scenarios is not None else ())
    intensity_steps = scen[0].intensity_target_change_pct if scen else ()
    history = tj.inventory_history(by_sector, removals_tco2e_yr=None, gdp=gdp, intensity_target_change_pct=intensity_steps,
                                   total_label=TOTAL)
    history = _with_position(history, pos, method, rem, a, zones)
    # the history is built without removals and filled from the position: its "no removals" note does not apply
    notes += [n for n in history.attrs.get("notes", ()) if getattr(n, "code", "") != "proj_no_removals"]

    say("scenarios to 2060", 0.8)
    frames, neutral = [], {}
    for s in scen:
        p = tj.project(by_sector, s, removals_tco2e_yr=removals_year, gdp=gdp, label=TOTAL)
        frames.append(p)
        neutral[s.id] = tj.neutrality_year(p)
        notes += [n for n in p.attrs.get("notes", ()) if n not in notes]
    projections = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(tj.PROJECTION_COLUMNS))
    if not scen:
        notes.append(Note("no_scenarios", "no scenarios ([ledger] scenarios_path): no paths to 2060"))
    targets = load_control_targets(lg.targets) if lg.targets is not None else None
    dual = tj.dual_control(projections, targets=targets) if len(projections) else pd.DataFrame()

    say("early warning", 0.85)
    rules = load_warning_rules(lg.warning_rules)
    warn = early_warning(history, rules=rules, removals_by_period=_stock_by_date(a, zones))

    projects = None
    if activities is None and with_projects:
        say("planting candidates", 0.88)
        try:
            activities, extra = planting_activities(cfg, progress=lambda s, f: say(s, 0.88 + 0.1 * f))
            notes += list(extra)
        except DataError as exc:
            notes.append(Note("projects_failed", f"the project view could not find planting candidates: {exc.problem}", problem=exc.problem))
    if activities is not None:
        projects = project_view(activities, a.coefficients, years=lg.project_years)
    say("done", 1.0)
    provenance = {
        "run_at_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "carbon_assessment": a.provenance,
        "inventory": {"path": inventory.path, "sha256": inventory.sha256, "encoding": inventory.encoding,
                      "datasets": list(inventory.datasets), "reconciled": dataset, "accepted_rows": int(len(inventory.rows)),
                      "rejected_rows": int(len(inventory.rejected))},
        "zones": zones,
        "removals": {"method_headline": method, "n_draws": rem.n_draws, "seed": rem.seed, "correlate": rem.correlate,
                     "assumed_uncertainty_pct": rem.assumed_uncertainty_pct},
        "gdp": str(lg.gdp) if lg.gdp else None,
        "scenarios": str(lg.scenarios) if scenarios is None and lg.scenarios else ("edited" if scenarios is not None else None),
        "warning_rules": str(lg.warning_rules),
        "dual_control_targets": str(lg.targets) if lg.targets else None,
    }
    return Ledger(config=cfg, assessment=a, inventory=inventory, dataset=dataset, zone_ids=tuple(zones), sources=sources,
                  removals=rem, position=pos, history=history, peaks=peaks, peak=peak, scenarios=scen, projections=projections,
                  neutrality=neutral, dual_control=dual, rules=rules, warnings=warn, gdp=gdp, projects=projects, method=method,
                  notes=tuple(dict.fromkeys(notes)), provenance=provenance)


def _with_position(history: pd.DataFrame, pos: pd.DataFrame, method: str, rem: RemovalSeries, a: Assessment, zones: list[str]) -> pd.DataFrame:
    """Fill the history's removals, net and offset ratio from the position (the sum of the zones;
    emissions too, so that emissions - removals = net in every row) and, per zone, from each
    zone's removals of the period that covers the year (else the nearest)."""
    h = history.copy()
    p = pos[pos["method"] == method].set_index("year")
    tot = h["zone_id"] == TOTAL
    for col_h, col_p in (("emissions_tco2e", "emissions_tco2e"),
                         ("removals_tco2e_yr", "removals_tco2e_yr"), ("removals_low_tco2e_yr", "removals_low_tco2e_yr"),
                         ("removals_high_tco2e_yr", "removals_high_tco2e_yr"), ("net_emissions_tco2e", "net_emissions_tco2e"),
                         ("net_emissions_low_tco2e", "net_emissions_low_tco2e"), ("net_emissions_high_tco2e", "net_emissions_high_tco2e"),
                         ("offset_ratio", "offset_ratio")):
        if col_h in h:
            h.loc[tot, col_h] = h.loc[tot, "year"].map(p[col_p]).to_numpy(dtype=float)
    bz = rem.by_zone[rem.by_zone["method"] == method]
    periods = bz[["period", "year_t0", "year_t1"]].drop_duplicates().sort_values("year_t0")
    if periods.empty:
        return h
    for z in zones:
        sel = h["zone_id"] == z
        if not sel.any():
            continue
        zr = bz[bz["zone_id"] == z].set_index("period")
        years = h.loc[sel, "year"].astype(int).to_numpy()
        per = [period_for_year(periods, int(y))[0] for y in years]
        for col_h, col_r in (("removals_tco2e_yr", "removals_tco2e_yr"), ("removals_low_tco2e_yr", "low_tco2e_yr"),
                             ("removals_high_tco2e_yr", "high_tco2e_yr")):
            if col_h in h:
                h.loc[sel, col_h] = np.array([float(zr.loc[q, col_r]) for q in per])
        e = h.loc[sel, "emissions_tco2e"].to_numpy(dtype=float)
        r = h.loc[sel, "removals_tco2e_yr"].to_numpy(dtype=float)
        h.loc[sel, "net_emissions_tco2e"] = e - r
        h.loc[sel, "net_emissions_low_tco2e"] = e - h.loc[sel, "removals_high_tco2e_yr"].to_numpy(dtype=float)
        h.loc[sel, "net_emissions_high_tco2e"] = e - h.loc[sel, "removals_low_tco2e_yr"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            h.loc[sel, "offset_ratio"] = np.where(e > 0, r / e, np.nan)
    return h

