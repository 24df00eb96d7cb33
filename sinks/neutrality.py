"""Net-neutrality figures: the one place where emissions and removals meet.

Both enter as non-negative magnitudes in t CO2(e)/yr: net = emissions - removals;
offset ratio = removals / emissions. Only annual flows are compared, never stocks.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def reconcile(emissions: pd.DataFrame, removals: pd.DataFrame) -> pd.DataFrame:
    """Join emissions and removals per zone and year.

    Parameters
    ----------
    emissions
        ``zone_id, year, emissions_tco2e``.
    removals
        ``zone_id, year, removals_tco2e_yr`` (the net removal of the land, may be negative when
        the land is a net source).

    Returns
    -------
    DataFrame
        ``zone_id, year, emissions_tco2e, removals_tco2e_yr, net_emissions_tco2e, offset_ratio``;
        offset_ratio is NaN where emissions are zero or unknown.
    """
    m = emissions.merge(removals, on=["zone_id", "year"], how="outer").sort_values(["zone_id", "year"])
    m["net_emissions_tco2e"] = m["emissions_tco2e"] - m["removals_tco2e_yr"]
    with np.errstate(divide="ignore", invalid="ignore"):
        m["offset_ratio"] = np.where(m["emissions_tco2e"] > 0, m["removals_tco2e_yr"] / m["emissions_tco2e"], np.nan)
    return m.reset_index(drop=True)


def offset_ratio(emissions_tco2e: float, removals_tco2e_yr: float) -> float:
    """Removals / emissions; NaN when there are no emissions."""
    return removals_tco2e_yr / emissions_tco2e if emissions_tco2e > 0 else float("nan")
