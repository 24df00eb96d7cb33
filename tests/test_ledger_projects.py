"""The EX-ACT-style project view, by hand on the tiny coefficient table (conftest ``tiny``).

Tiny table (t C/ha: above, below, soil, dead; gain t C/ha/yr): tree 10: 50, 10, 40, 5, gain 1.0;
crop 40: 2, 1, 30, 0, gain 0; built 50: 1, 0, 20, 0, gain 0; wetland 90: 3, 2, 60, 0, gain needs
a source.
"""
from __future__ import annotations

import pandas as pd
import pytest

from sinks.coefficients import load_coefficients
from sinks.ledger.projects import activities_from_candidates, project_view
from sinks.units import C_TO_CO2


@pytest.fixture
def table(tiny):
    return load_coefficients(tiny["coef"])


def _acts(*rows):
    return pd.DataFrame(rows, columns=["activity", "code", "plant_to", "area_ha"])


def _row(view, activity):
    return view.table[view.table["activity"] == activity].iloc[0]


def test_afforestation_of_cropland_by_hand(table):
    v = project_view(_acts(("afforestation", 40, 10, 10.0)), table, years=20)
    r = _row(v, "afforestation")
    # growth: 10 ha x min(1.0 x 20, 50 + 10) = 200 t C ; cleared crop biomass 10 x (2 + 1) = 30 t C
    # DOM: 10 x (5 - 0) x 20/20 = 50 t C ; soil 10 x (40 - 30) = 100 t C ; without: 0
    assert r["biomass_growth_tco2e"] == pytest.approx(200 * C_TO_CO2)
    assert r["biomass_cleared_tco2e"] == pytest.approx(-30 * C_TO_CO2)
    assert r["dom_change_tco2e"] == pytest.approx(50 * C_TO_CO2)
    assert r["soil_change_tco2e"] == pytest.approx(100 * C_TO_CO2)
    assert r["without_tco2e"] == pytest.approx(0.0)
    assert r["balance_tco2e"] == pytest.approx((200 - 30 + 50 + 100) * C_TO_CO2)  # 320 t C = 1,173.3 t CO2e
    assert r["balance_tco2e_yr"] == pytest.approx(320 * C_TO_CO2 / 20)
    assert r["balance_tco2e_ha_yr"] == pytest.approx(320 * C_TO_CO2 / 20 / 10)


def test_short_project_growth_and_transition_prorated(table):
    # 5 years, half planted: area 5 ha; growth 5 x min(5, 60) = 25 ; soil 5 x 10 x 5/20 = 12.5 ; DOM 5 x 5 x 0.25 = 6.25
    v = project_view(_acts(("afforestation", 40, 10, 10.0)), table, years=5, share=0.5)
    r = _row(v, "afforestation")
    assert r["area_ha"] == pytest.approx(5.0)
    assert r["balance_tco2e"] == pytest.approx((25 - 15 + 6.25 + 12.5) * C_TO_CO2)


def test_growth_capped_at_mature_biomass(table):
    # 100 years at 1 t C/ha/yr would be 100 t C/ha but tree biomass is 60: capped; soil and DOM done after 20 years
    v = project_view(_acts(("afforestation", 50, 10, 1.0)), table, years=100)
    r = _row(v, "afforestation")
    assert r["biomass_growth_tco2e"] == pytest.approx(60 * C_TO_CO2)
    assert r["biomass_cleared_tco2e"] == pytest.approx(-1 * C_TO_CO2)
    assert r["soil_change_tco2e"] == pytest.approx(20 * C_TO_CO2)
    assert "beyond_transition" in [n.code for n in v.notes]


def test_unestimated_growth_is_flagged_not_zeroed(table):
    # restoring crop to wetland: the wetland gain rate needs a source -> growth NaN, flagged
    v = project_view(_acts(("wetland_restoration", 40, 90, 2.0)), table, years=20)
    r = _row(v, "wetland_restoration")
    assert pd.isna(r["biomass_growth_tco2e"]) and not r["growth_estimated"]
    assert pd.isna(r["balance_tco2e"])
    note = next(n for n in v.notes if n.code == "growth_not_estimated")
    assert note.params["codes"] == [90]
    # the soil term alone is still shown: 2 x (60 - 30) = 60 t C
    assert r["soil_change_tco2e"] == pytest.approx(60 * C_TO_CO2)


def test_total_row_and_upper_bound(table):
    v = project_view(_acts(("afforestation", 40, 10, 10.0), ("greening", 50, 10, 4.0)), table, years=20)
    total = _row(v, "total")
    parts = v.table[v.table["activity"] != "total"]
    assert total["balance_tco2e"] == pytest.approx(parts["balance_tco2e"].sum())
    assert total["area_ha"] == pytest.approx(14.0)
    assert bool(_row(v, "greening")["upper_bound"]) and not bool(_row(v, "afforestation")["upper_bound"])
    assert v.total_balance_tco2e == pytest.approx(parts["balance_tco2e"].sum())


def test_bad_arguments(table):
    with pytest.raises(ValueError, match="share"):
        project_view(_acts(("a", 40, 10, 1.0)), table, share=1.5)
    with pytest.raises(ValueError, match="years"):
        project_view(_acts(("a", 40, 10, 1.0)), table, years=0)
    with pytest.raises(ValueError, match="not in the coefficient table"):
        project_view(_acts(("a", 41, 10, 1.0)), table)
    empty = project_view(_acts(), table)
    assert empty.table.empty and [n.code for n in empty.notes][0] == "no_activities"


def test_activities_from_candidates_latest_date():
    cand = pd.DataFrame({
        "unit_id": ["a", "a", "b", "b"], "year": [2020, 2025, 2025, 2025], "code": [60, 60, 60, 40],
        "kind": ["afforestation"] * 3 + ["shelterbelt"], "plant_to": [10, 10, 10, 10], "area_ha": [9.0, 2.0, 3.0, 0.5],
    })
    acts = activities_from_candidates(cand)
    got = acts.set_index(["activity", "code"])["area_ha"].to_dict()
    assert got == {("afforestation", 60): 5.0, ("shelterbelt", 40): 0.5}
    assert activities_from_candidates(cand, unit_ids=["a"])["area_ha"].tolist() == [2.0]


def test_soil_dominated_balance_is_flagged(table):
    # built-up (soil 20) to tree (soil 40) on 1 ha, 1 year: growth 1, cleared 1, DOM 5/20, soil 20/20 = 1 ...
    v = project_view(_acts(("afforestation", 50, 10, 1.0)), table, years=1)
    assert "soil_dominates" not in [n.code for n in v.notes]
    # crop (soil 30, biomass 3) to wetland (soil 60, no gain rate): the soil term is all of what is known
    v = project_view(_acts(("restoration", 40, 90, 1.0)), table, years=20)
    assert "soil_dominates" in [n.code for n in v.notes]
