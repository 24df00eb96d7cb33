"""The ledger orchestrator: the tiny grid by hand, the demo end to end, the [ledger] section."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.errors import SchemaError
from sinks.config import load_config, validate_config
from sinks.ledger.assess import TOTAL, ledger_assessment
from sinks.ledger.scenarios import load_scenarios
from sinks.pipeline import run_assessment

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "jiangbei_demo.toml"


@pytest.fixture(scope="module")
def demo():
    return ledger_assessment(DEMO)


def test_tiny_position_by_hand(tiny):
    a = run_assessment(tiny["config"])
    led = ledger_assessment(tiny["config"], assessment=a, zone_ids=["west", "east"], with_projects=False)
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
