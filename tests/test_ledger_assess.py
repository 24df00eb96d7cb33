"""The ledger orchestrator: the tiny grid by hand, the demo end to end, the [ledger] section."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.errors import DataError, SchemaError
from sinks.config import load_config, validate_config
from sinks.ledger.assess import TOTAL, ledger_assessment
from sinks.ledger.inventory import load_emissions
from sinks.ledger.scenarios import load_scenarios
from sinks.pipeline import run_assessment

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"


@pytest.fixture(scope="module")
def demo():
    return ledger_assessment(DEMO)


# the conftest inventory with east's sectors written out every year (a sector without emissions is an explicit 0)
TINY_COMPLETE = ("year,zone_id,sector,emissions_tco2e,scope,basis,source,illustrative\n"
                 "2020,west,industry,100,scope1,test,test,true\n"
                 "2020,east,energy,200,scope1,test,test,true\n"
                 "2020,east,transport,0,scope1,test,test,true\n"
                 "2025,west,industry,90,scope1,test,test,true\n"
                 "2025,east,energy,0,scope1,test,test,true\n"
                 "2025,east,transport,180,scope1,test,test,true\n").encode()


def test_tiny_position_by_hand(tiny):
    a = run_assessment(tiny["config"])
    inv = load_emissions(TINY_COMPLETE, name="tiny_complete.csv", zone_ids=a.zone_ids)
    led = ledger_assessment(tiny["config"], assessment=a, inventory=inv, zone_ids=["west", "east"], with_projects=False)
    gl = a.flows[a.flows["zone_id"].isin(["west", "east"])]["net_removals_tco2e_yr"].sum()
    h = led.headline()
    # inventory 2025: west 90 + east 180 = 270 t; removals = the 2020-2025 gain-loss flow of both zones
    assert h.year == 2025 and h.emissions_tco2e == pytest.approx(270.0)
    assert h.removals_tco2e_yr == pytest.approx(gl)
    assert h.net_emissions_tco2e == pytest.approx(270.0 - gl)
    assert h.offset_ratio == pytest.approx(gl / 270.0)
    assert h.removals_low_tco2e_yr <= h.removals_tco2e_yr <= h.removals_high_tco2e_yr
    # 2020 takes the same period's removals (the period covers the year): 100 + 200 = 300 t
    p20 = led.position[(led.position["year"] == 2020) & (led.position["method"] == "gain_loss")].iloc[0]
    assert p20["emissions_tco2e"] == pytest.approx(300.0) and p20["net_emissions_tco2e"] == pytest.approx(300.0 - gl)
    # per-zone history: west 2025 = 90 - west's own flow
    west = float(a.flows.set_index("zone_id").loc["west", "net_removals_tco2e_yr"])
    hw = led.history[(led.history["zone_id"] == "west") & (led.history["year"] == 2025)].iloc[0]
    assert hw["net_emissions_tco2e"] == pytest.approx(90.0 - west)
    tot = led.history[(led.history["zone_id"] == TOTAL) & (led.history["year"] == 2025)].iloc[0]
    assert tot["net_emissions_tco2e"] == pytest.approx(h.net_emissions_tco2e)
    # no [ledger] section: no GDP, no scenarios, said so; the default warning rules still apply
    codes = {getattr(n, "code", "") for n in led.notes}
    assert {"no_gdp", "no_scenarios"} <= codes and "proj_no_removals" not in codes
    assert led.projections.empty and led.neutrality == {} and led.projects is None
    assert set(led.warnings["status"]) <= {"ok", "amber", "red", "no_data"} and len(led.warnings)


def test_tiny_sector_switch_is_incomplete_not_a_partial_sum(tiny):
    """The conftest inventory: east reports energy only in 2020 and transport only in 2025, so
    both of its years lack a sector it reports in the other (never counted as 0): no year has the
    emissions of every zone, and the headline says so instead of comparing part of them."""
    a = run_assessment(tiny["config"])
    led = ledger_assessment(tiny["config"], assessment=a, zone_ids=["west", "east"], with_projects=False)
    assert led.position["emissions_tco2e"].isna().all() and (led.position["zones_missing_emissions"] == "east").all()
    note = next(n for n in led.notes if n.code == "emissions_incomplete")
    assert "east 2020 (transport)" in note and "east 2025 (energy)" in note
    with pytest.raises(DataError, match="no inventory year has complete emissions"):
        led.headline()
    east = led.history[led.history["zone_id"] == "east"]
    assert east["emissions_tco2e"].isna().all() and led.history[led.history["zone_id"] == "west"]["emissions_tco2e"].notna().all()


def test_tiny_bad_choices(tiny):
    a = run_assessment(tiny["config"])
    with pytest.raises(SchemaError, match="no dataset 'nope'"):
        ledger_assessment(tiny["config"], assessment=a, dataset="nope", with_projects=False)
    with pytest.raises(ValueError, match="unknown zone"):
        ledger_assessment(tiny["config"], assessment=a, zone_ids=["west", "mars"], with_projects=False)
    cfg = dataclasses.replace(load_config(tiny["config"]), inventory=None)
    a2 = run_assessment(cfg)
    with pytest.raises(SchemaError, match="no emissions inventory"):
        ledger_assessment(cfg, assessment=a2, with_projects=False)


def test_demo_headline_matches_tables(demo):
    h = demo.headline()
    p = demo.position[(demo.position["year"] == h.year) & (demo.position["method"] == "gain_loss")].iloc[0]
    assert h.emissions_tco2e == p["emissions_tco2e"]
    assert h.net_emissions_tco2e == pytest.approx(h.emissions_tco2e - h.removals_tco2e_yr)
    # the headline series is the primary (county) dataset, summed over the three zones
    t = demo.inventory.totals()
    assert h.emissions_tco2e == pytest.approx(t[t["year"] == h.year]["emissions_tco2e"].sum())
    assert demo.dataset == "chen2020_county"
    # central removals are the pipeline's flows, not the Monte Carlo mean
    assert h.removals_tco2e_yr == pytest.approx(demo.assessment.flows["net_removals_tco2e_yr"].sum())
    assert h.removals_low_tco2e_yr < h.removals_tco2e_yr < h.removals_high_tco2e_yr
    assert h.offset_ratio_low < h.offset_ratio < h.offset_ratio_high


def test_demo_sources_side_by_side(demo):
    s = demo.sources
    assert set(s["dataset"]) == {"chen2020_county", "ceads_city_scaled"}
    f = s[s["dataset"] == "ceads_city_scaled"].set_index("year")["ratio_to_primary"]
    have = f.dropna()
    assert have.between(1.5, 3.0).all() and set(have.index) == set(range(2010, 2020))
    assert f.loc[2020:].isna().all()  # years the city series lacks stay empty, never 0


def test_demo_scenarios_and_neutrality(demo):
    ids = [s.id for s in demo.scenarios]
    assert ids == [s.id for s in load_scenarios(ROOT / "data" / "ledger" / "scenarios_illustrative.toml")]
    assert set(demo.projections["scenario"]) == set(ids)
    for sid, n in demo.neutrality.items():
        p = demo.projections[demo.projections["scenario"] == sid]
        if n.central is None:
            assert (p[p["kind"] == "projection"]["net_emissions_tco2e"] > 0).any()
        else:  # the first year at or below zero that stays there
            after = p[p["year"] >= n.central]["net_emissions_tco2e"]
            assert (after <= 0).all() and p[p["year"] == n.central - 1]["net_emissions_tco2e"].iloc[0] > 0
            assert n.early <= n.central <= n.late
    # projections start from the inventory's last year with the position's removals
    base = demo.projections[(demo.projections["year"] == 2025)].iloc[0]
    assert base["removals_tco2e_yr"] == pytest.approx(demo.headline().removals_tco2e_yr)


def test_demo_warnings_and_projects(demo):
    w = demo.warnings
    assert set(w["zone_id"]) >= {"pukou", "liuhe", "baguazhou", TOTAL}
    assert not w[w["status"] == "no_data"]["value"].notna().any()  # no_data never carries a number
    t = demo.projects.table
    assert set(t["activity"]) >= {"afforestation", "total"}
    parts = t[t["activity"] != "total"]
    assert t[t["activity"] == "total"]["balance_tco2e"].iloc[0] == pytest.approx(parts["balance_tco2e"].sum())


def test_demo_other_dataset(demo):
    led = ledger_assessment(DEMO, assessment=demo.assessment, dataset="ceads_city_scaled", with_projects=False)
    h = led.headline()
    assert h.year == 2019  # the city series ends in 2019
    county = demo.position[(demo.position["year"] == 2019) & (demo.position["method"] == "gain_loss")]["emissions_tco2e"].iloc[0]
    assert h.emissions_tco2e / county == pytest.approx(
        demo.sources[(demo.sources["year"] == 2019) & (demo.sources["dataset"] == "ceads_city_scaled")]["ratio_to_primary"].iloc[0])


def _config_with(tmp_path: Path, text: str) -> Path:
    src = DEMO.read_text(encoding="utf-8")
    src = src.replace('"../', f'"{ROOT.as_posix()}/')
    p = tmp_path / "run.toml"
    p.write_text(src.replace("[ledger]\n", "[ledger]\n" + text, 1), encoding="utf-8")
    return p


@pytest.mark.parametrize("line, match", [
    ('colour = "green"\n', "unknown keys"),
    ('peak_window = "three"\n', "peak_window"),
])
def test_ledger_section_errors(tmp_path, line, match):
    with pytest.raises(SchemaError, match=match):
        load_config(_config_with(tmp_path, line))
    p = _config_with(tmp_path, "")
    p.write_text(p.read_text(encoding="utf-8").replace('headline_method = "gain_loss"', 'headline_method = "magic"'), encoding="utf-8")
    with pytest.raises(SchemaError, match="headline_method 'magic' is unknown"):
        load_config(p)


def test_ledger_section_values_and_validation(tmp_path):
    src = DEMO.read_text(encoding="utf-8").replace('"../', f'"{ROOT.as_posix()}/')
    p = tmp_path / "run.toml"
    p.write_text(src.replace("n_draws = 2000", "n_draws = 10"), encoding="utf-8")
    with pytest.raises(SchemaError, match="n_draws"):
        load_config(p)
    bad = tmp_path / "bad_scenarios.toml"
    bad.write_text('[[scenario]]\nid = "x"\nname_zh = "x"\nname_en = "x"\nspeed = 3\n', encoding="utf-8")
    p.write_text(src.replace('"' + ROOT.as_posix() + '/data/ledger/scenarios_illustrative.toml"', f'"{bad.as_posix()}"'), encoding="utf-8")
    problems = validate_config(p)
    assert any("[ledger] scenarios_path" in q and "bad_scenarios.toml" in q for q in problems)
    cfg = load_config(DEMO)
    assert cfg.ledger.gdp.name == "gdp_illustrative.csv" and cfg.ledger.n_draws == 2000 and np.isnan(cfg.ledger.assumed_uncertainty_pct or np.nan)


# --- gaps in the inventory: never a partial sum, never a 0 ---------------------------------------

DEMO_CSV = ROOT / "data" / "inventory" / "jiangbei_emissions_illustrative.csv"


def _demo_without(demo, drop) -> "EmissionsInventory":  # noqa: F821
    src = pd.read_csv(DEMO_CSV, dtype=str)
    src = src[~drop(src)]
    return load_emissions(src.to_csv(index=False).encode(), name="gap.csv", zone_ids=demo.assessment.zone_ids,
                          primary=demo.inventory.primary)


def _rows_add_up(led) -> int:
    """emissions - removals == net in every history row where all three are defined; returns the rows checked."""
    h = led.history
    ok = h[["emissions_tco2e", "removals_tco2e_yr", "net_emissions_tco2e"]].notna().all(axis=1)
    d = (h.loc[ok, "emissions_tco2e"] - h.loc[ok, "removals_tco2e_yr"] - h.loc[ok, "net_emissions_tco2e"]).abs()
    assert (d < 1e-6).all(), h.loc[ok][d >= 1e-6][["zone_id", "year", "kind", "emissions_tco2e", "removals_tco2e_yr", "net_emissions_tco2e"]]
    # nothing with a net and no emissions (net is never a partial sum minus every zone's removals)
    assert not (h["net_emissions_tco2e"].notna() & h["emissions_tco2e"].isna()).any()
    return int(ok.sum())


def test_demo_history_rows_add_up_and_are_inventory_only(demo):
    assert _rows_add_up(demo) >= 4 * 16
    assert (demo.history["kind"] == "inventory").all()
    tot = demo.history[demo.history["zone_id"] == TOTAL].set_index("year")
    pos = demo.position[demo.position["method"] == demo.method].set_index("year")
    assert tot["emissions_tco2e"].to_numpy() == pytest.approx(pos.loc[tot.index, "emissions_tco2e"].to_numpy())


def test_demo_zone_missing_in_a_year(demo):
    """baguazhou has no 2025 rows: 2025 has no emissions, net or offset ratio (the removals of all
    three zones are never set against two zones' emissions); the headline is 2024; the history of
    the sum stops in 2024 (no 2025 'projection' at 0 %); the projections start from 2024."""
    inv = _demo_without(demo, lambda d: (d["zone_id"] == "baguazhou") & (d["year"] == "2025"))
    led = ledger_assessment(DEMO, assessment=demo.assessment, inventory=inv, with_projects=False)
    p25 = led.position[led.position["year"] == 2025]
    for col in ("emissions_tco2e", "emissions_low_tco2e", "emissions_high_tco2e", "net_emissions_tco2e", "net_emissions_low_tco2e",
                "net_emissions_high_tco2e", "offset_ratio", "offset_ratio_low", "offset_ratio_high"):
        assert p25[col].isna().all(), col
    assert p25["removals_tco2e_yr"].notna().all() and (p25["zones_missing_emissions"] == "baguazhou").all()
    note = next(n for n in led.notes if n.code == "zones_missing_emissions")
    assert note.params["years"] == [2025] and "baguazhou" in note
    h = led.headline()
    assert h.year == 2024
    assert h.emissions_tco2e == pytest.approx(demo.position.query("year == 2024 and method == 'gain_loss'")["emissions_tco2e"].iloc[0])
    tot = led.history[led.history["zone_id"] == TOTAL]
    assert tot["year"].max() == 2024 and (led.history["kind"] == "inventory").all()
    _rows_add_up(led)
    for sid in [s.id for s in led.scenarios]:
        pr = led.projections[led.projections["scenario"] == sid]
        assert pr[pr["kind"] == "inventory"]["year"].max() == 2024
        base = pr[pr["year"] == 2024].iloc[0]
        assert base["removals_tco2e_yr"] == pytest.approx(h.removals_tco2e_yr) and base["emissions_tco2e"] == pytest.approx(h.emissions_tco2e)


def test_demo_sector_missing_in_a_year(demo):
    """No transport rows in 2025 (any zone): 2025 is incomplete. The plan scenario starts from 2024
    with transport (never 0 to 2060); the 2025 warnings are no_data, not a -5.7 % fall."""
    inv = _demo_without(demo, lambda d: (d["sector"] == "transport") & (d["year"] == "2025"))
    led = ledger_assessment(DEMO, assessment=demo.assessment, inventory=inv, with_projects=False)
    plan = led.projections[led.projections["scenario"] == "plan"].set_index("year")
    assert (plan["transport_tco2e"] > 0).all() and plan[plan["kind"] == "inventory"].index.max() == 2024
    t24 = demo.projections[(demo.projections["scenario"] == "plan") & (demo.projections["year"] == 2024)]["transport_tco2e"].iloc[0]
    assert plan.loc[2024, "transport_tco2e"] == pytest.approx(t24)
    note = next(n for n in led.notes if n.code == "proj_base_incomplete")
    assert note.params["base"] == 2024 and note.params["skipped"] == [2025] and "transport" in note
    w = led.warnings[(led.warnings["zone_id"] == TOTAL) & (led.warnings["year"] == 2025)].set_index("indicator")
    for ind in ("emissions_growth_pct", "emissions_growth_3yr_pct", "intensity_change_vs_target_pct", "offset_ratio_drop_pp"):
        assert w.loc[ind, "status"] == "no_data" and "transport" in w.loc[ind, "note"], ind
    assert led.headline().year == 2024 and led.peak.last_year == 2024
    assert math.isnan(led.history[(led.history["zone_id"] == TOTAL) & (led.history["year"] == 2025)]["emissions_tco2e"].iloc[0])
    _rows_add_up(led)
    # a scenario whose base year is the incomplete year is refused, naming it and the sector
    scen = tuple(dataclasses.replace(s, base_year=2025) for s in led.scenarios)
    with pytest.raises(DataError, match="base year 2025 is incomplete") as e:
        ledger_assessment(DEMO, assessment=demo.assessment, inventory=inv, scenarios=scen, with_projects=False)
    assert "transport" in e.value.problem and "2024" in e.value.fix


def test_demo_peak_is_not_the_last_year_of_a_rise(demo):
    h = demo.headline()
    assert demo.peak.status == "rising" and h.peak_status == "rising"
    assert h.peak_year is None and demo.peak.peak_year is None and demo.peak.plateau_until is None
    assert demo.peak.max_year == 2025
    none = next(n for n in demo.peak.evidence if n.code == "peak_none")
    assert none.startswith("no peak yet") and "2025" in none and "5 year(s) remain before 2030" in none
    assert not any(n.code == "peak_since" for n in demo.peak.evidence)


def test_demo_one_zone_is_consistent(demo):
    """zone_ids=["pukou"]: the headline is pukou's emissions and removals; the projections start
    from the base year (the last inventory year) with the same emissions and removals."""
    led = ledger_assessment(DEMO, assessment=demo.assessment, zone_ids=["pukou"], with_projects=False)
    h = led.headline()
    t = demo.inventory.totals()
    assert h.year == 2025 and h.emissions_tco2e == pytest.approx(t[(t["zone_id"] == "pukou") & (t["year"] == 2025)]["emissions_tco2e"].iloc[0])
    fl = demo.assessment.flows
    assert h.removals_tco2e_yr == pytest.approx(fl[fl["zone_id"] == "pukou"]["net_removals_tco2e_yr"].sum())
    assert h.net_emissions_tco2e == pytest.approx(h.emissions_tco2e - h.removals_tco2e_yr)
    hist = led.history[led.history["zone_id"] == "pukou"].set_index("year")
    assert hist.loc[2025, "net_emissions_tco2e"] == pytest.approx(h.net_emissions_tco2e)
    _rows_add_up(led)
    assert set(led.neutrality) == {s.id for s in led.scenarios}
    for s in led.scenarios:
        pr = led.projections[led.projections["scenario"] == s.id].set_index("year")
        assert pr.loc[2025, "kind"] == "inventory" and pr.loc[2026, "kind"] == "projection"
        assert pr.loc[2025, "emissions_tco2e"] == pytest.approx(h.emissions_tco2e)
        assert pr.loc[2025, "removals_tco2e_yr"] == pytest.approx(h.removals_tco2e_yr)
        assert pr.loc[2025, "removals_low_tco2e_yr"] == pytest.approx(h.removals_low_tco2e_yr)
        assert pr.loc[2025, "removals_high_tco2e_yr"] == pytest.approx(h.removals_high_tco2e_yr)
        # the inventory years of the projection are the zone's history
        inv_years = pr[pr["kind"] == "inventory"].index
        assert pr.loc[inv_years, "emissions_tco2e"].to_numpy() == pytest.approx(hist.loc[inv_years, "emissions_tco2e"].to_numpy())
        # before planting (the first projection year adds nothing) the removals are the base year's
        assert pr.loc[2026, "removals_tco2e_yr"] - pr.loc[2026, "added_removals_tco2e_yr"] == pytest.approx(h.removals_tco2e_yr)
