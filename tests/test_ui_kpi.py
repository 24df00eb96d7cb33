"""The stock card says which part of the uncertainty is known."""
from __future__ import annotations

from sinks.pipeline import Kpis
from ui.kpi import kpi_cards


def _kpis(total_unc: float, area_unc: float) -> Kpis:
    return Kpis(year=2025, total_stock_tc=1e6, stock_uncertainty_pct=total_unc, removals_tco2e_yr=1e4,
                removals_period="2020-2025", emissions_year=2025, emissions_tco2e=1e6, offset_ratio=0.01,
                stock_area_uncertainty_pct=area_unc)


def test_stock_card_uncertainty_text():
    nan = float("nan")
    assert kpi_cards(_kpis(23.4, 12.3), "en")[0].delta == "± 23%"
    assert kpi_cards(_kpis(nan, 12.3), "en")[0].delta == "map area ± 12% (coefficients not quantified)"
    assert kpi_cards(_kpis(nan, 12.3), "zh")[0].delta == "地图面积 ± 12%（系数不确定性未量化）"
    assert kpi_cards(_kpis(nan, nan), "en")[0].delta == "uncertainty not quantified"
