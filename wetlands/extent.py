"""Wetland extent per zone and its change between dates, from land-cover areas.

Wetland here is what the land-cover legend calls wetland: ESA WorldCover 90 (herbaceous
wetland) and 95 (mangroves). Open water (80) is reported beside it, not inside it, because the
Yangtze channel is water but not a wetland sink.
"""
from __future__ import annotations

import pandas as pd

WETLAND_CODES = (90, 95)
WATER_CODES = (80,)


def wetland_extent(areas: pd.DataFrame, *, wetland_codes: tuple[int, ...] = WETLAND_CODES) -> pd.DataFrame:
    """Wetland and open-water area per zone and year.

    Parameters
    ----------
    areas
        ``zone_id, year, lucode, area_ha`` (valid pixels).

    Returns
    -------
    DataFrame
        ``zone_id, year, wetland_ha, water_ha, valid_ha, wetland_share``.
    """
    g = areas.assign(
        wetland_ha=areas["area_ha"].where(areas["lucode"].isin(wetland_codes), 0.0),
        water_ha=areas["area_ha"].where(areas["lucode"].isin(WATER_CODES), 0.0),
    ).groupby(["zone_id", "year"], as_index=False)[["wetland_ha", "water_ha", "area_ha"]].sum()
    g = g.rename(columns={"area_ha": "valid_ha"})
    g["wetland_share"] = g["wetland_ha"] / g["valid_ha"].where(g["valid_ha"] > 0)
    return g


def wetland_change(change: pd.DataFrame, *, wetland_codes: tuple[int, ...] = WETLAND_CODES) -> pd.DataFrame:
    """Wetland lost to and gained from other classes per zone and period.

    Parameters
    ----------
    change
        ``zone_id, period, code_t0, code_t1, area_ha``.

    Returns
    -------
    DataFrame
        ``zone_id, period, wetland_lost_ha, wetland_gained_ha, wetland_net_change_ha``.
    """
    was = change["code_t0"].isin(wetland_codes)
    now = change["code_t1"].isin(wetland_codes)
    c = change.assign(
        wetland_lost_ha=change["area_ha"].where(was & ~now, 0.0),
        wetland_gained_ha=change["area_ha"].where(~was & now, 0.0),
    )
    g = c.groupby(["zone_id", "period"], as_index=False)[["wetland_lost_ha", "wetland_gained_ha"]].sum()
    g["wetland_net_change_ha"] = g["wetland_gained_ha"] - g["wetland_lost_ha"]
    return g
