"""Illustrative emissions inventory for the demo zones (t CO2, scope 1): two series side by side.

The table carries two datasets (``dataset`` column) that disagree by a large factor, as the real
sources do. ``chen2020_county`` comes first and is the primary series (totals, KPIs and the
reconciliation use it); ``ceads_city_scaled`` is shown beside it (:func:`sinks.ledger.inventory.compare_sources`).

Derivation (every number below is a constant with its citation):

* **chen2020_county, zone totals 2010-2017**: Pukou and Liuhe are the published county-level
  series of Chen et al. (2020) [CHEN]. Baguazhou street has no published series; it is Qixia
  District's series [CHEN] times Baguazhou's share of Qixia's resident population
  (33,000 / 988,000 = 3.34 %).
* **chen2020_county, zone totals 2018-2025** (``basis = extrapolated``): from the 2017 value, each
  year grows by ``g0 * (2028 - year) / (2028 - 2017)``, where ``g0`` is the compound annual growth
  2012-2017 of the zone's series, clipped to +/-2 %/yr. Growth thus tapers linearly to zero in
  2028, an assumed demo peak/plateau year before the national "peak before 2030" target.
* **ceads_city_scaled, zone totals 2010-2019** (no extrapolation): the CEADs city-level total for
  Nanjing [CEADS-CITY] times the zone's share of the sum of Chen et al.'s eleven Nanjing
  district/county series that year [CHEN] (2018-2019: the 2017 shares held); Baguazhou as Qixia
  times the same population share.
* **Sector split (both series)**: each year's CEADs Jiangsu scope-1 sector-group shares
  [CEADS-JS] (after 2019: the 2019 shares held), mapped to the plan's sectors as in
  ``data/ledger/sector_map.csv``: ``energy_supply -> energy``, ``industry -> industry``,
  ``transport -> transport``, ``buildings_residential_commercial -> buildings``,
  ``agriculture -> other``. Assumes the zones' mix equals the province's (Nanjing is more
  steel/petrochemical-heavy, so industry is probably understated).

Sources:

* [CHEN] Chen, J., Gao, M., Cheng, S., Hou, W., Song, M., Liu, X., Liu, Y., Shan, Y. (2020)
  County-level CO2 emissions and sequestration in China during 1997-2017. Scientific Data 7:391,
  doi:10.1038/s41597-020-00736-3. Values (Mt CO2) as redistributed in the MIT-licensed repo
  STATS201-DKU-Autumn2024/Week1_Yuxiang, commit 001c19c9, ``data/co2.xlsx``.
* [CEADS-CITY] CEADs "Emission Inventories for 290 Chinese Cities 1997-2019", row 江苏南京 (Mt CO2,
  scope 1): Shan et al. (2022) Sci. Bull. 67:1910; Shan et al. (2018) Sci. Adv. 4:eaaq0390
  (workbook via Open-Earth-Foundation/OpenClimate, commit 822037b7, from ceads.net).
* [CEADS-JS] CEADs provincial inventories, Jiangsu, scope 1, 47 sectors, summed into the sector
  groups above: Shan et al. (2018) Sci. Data 5:170201; Shan et al. (2020) Sci. Data 7:54
  (workbooks via Open-Earth-Foundation/OpenClimate, commit 822037b7).
* [POP] Baguazhou population "近3.3万人" (zangaopet.com/w/c8ace71bc2a906e8.html); Qixia resident
  population ~988,000 (7th census 2020, as given in the project brief; NOT verified against the
  census bulletin).

Caveat: CEADs' city-level total for Nanjing (178.4 Mt in 2017) is about 2.5x the sum of the
Chen et al. county series for Nanjing's districts (70.2 Mt): the county series downscale
provincial energy data with night-time lights and under-allocate heavy industry. The county
series is the primary because it is the only one by district; the city series scaled to the zones
is shown beside it so the disagreement stays visible.
"""

from __future__ import annotations

import io
from typing import Final

import pandas as pd

FIRST_YEAR: Final = 2010
LAST_YEAR: Final = 2025
LAST_PUBLISHED_YEAR: Final = 2017
PLATEAU_YEAR: Final = 2028  # growth tapers to zero here (demo assumption)
TREND_FROM: Final = 2012  # g0 = CAGR TREND_FROM -> LAST_PUBLISHED_YEAR
MAX_ABS_GROWTH: Final = 0.02

LAST_CITY_YEAR: Final = 2019  # the CEADs city series ends here; ceads_city_scaled is not extrapolated

SECTORS: Final = ("industry", "energy", "buildings", "transport", "other")  # = sinks.ledger.inventory.PLAN_SECTORS
COLUMNS: Final = ("year", "zone_id", "dataset", "sector", "emissions_tco2e", "scope", "basis", "source", "illustrative")
DATASET_COUNTY: Final = "chen2020_county"  # first in the file: the primary series
DATASET_CITY: Final = "ceads_city_scaled"

# [CHEN] county-level CO2, Mt, 2010-2017 (distcode 320111 Pukou, 320116 Liuhe, 320113 Qixia).
CHEN2020_MT: Final[dict[str, dict[int, float]]] = {
    "pukou": {2010: 7.9753, 2011: 8.9948, 2012: 9.1336, 2013: 9.0962, 2014: 9.4280, 2015: 9.3516, 2016: 9.7041, 2017: 9.9624},
    "liuhe": {2010: 9.0975, 2011: 10.4074, 2012: 10.5267, 2013: 10.5024, 2014: 10.5805, 2015: 10.2060, 2016: 10.5370, 2017: 10.5154},
    "qixia": {2010: 7.1766, 2011: 7.9420, 2012: 7.9725, 2013: 7.8823, 2014: 7.9542, 2015: 7.6058, 2016: 7.6736, 2017: 7.4975},
}
# [CHEN] the sum of all eleven Nanjing district/county series (distcodes 320102-320125, the pre-2013
# county list), Mt, 2010-2017: the denominator of each zone's share of the city.
CHEN2020_NANJING_SUM_MT: Final[dict[int, float]] = {
    2010: 61.7334, 2011: 69.2622, 2012: 69.9667, 2013: 69.5652, 2014: 71.4560, 2015: 68.3968, 2016: 70.0744, 2017: 70.1719,
}
# [CEADS-CITY] Nanjing (江苏南京) city-level scope-1 CO2, Mt, 2010-2019.
CEADS_NANJING_MT: Final[dict[int, float]] = {
    2010: 113.1689, 2011: 144.5218, 2012: 139.4651, 2013: 143.3655, 2014: 150.0236,
    2015: 164.8675, 2016: 170.0213, 2017: 178.4163, 2018: 164.9053, 2019: 170.3912,
}
# [POP]
BAGUAZHOU_POPULATION: Final = 33_000
QIXIA_POPULATION: Final = 988_000
BAGUAZHOU_SHARE_OF_QIXIA: Final = BAGUAZHOU_POPULATION / QIXIA_POPULATION

# [CEADS-JS] Jiangsu scope-1 CO2 by sector group, Mt:
# (agriculture, buildings_residential_commercial, energy_supply, industry, transport).
CEADS_JIANGSU_GROUPS_MT: Final[dict[int, tuple[float, float, float, float, float]]] = {
    2010: (6.621, 14.545, 342.069, 199.233, 27.353),
    2011: (7.540, 15.990, 391.024, 192.880, 29.504),
    2012: (8.581, 18.241, 399.367, 198.645, 31.908),
    2013: (6.597, 17.690, 415.686, 232.306, 34.345),
    2014: (6.944, 18.372, 389.473, 255.809, 37.644),
    2015: (7.754, 19.142, 411.717, 243.829, 39.213),
    2016: (7.618, 19.065, 431.503, 244.541, 40.317),
    2017: (7.638, 20.033, 438.794, 249.289, 42.126),
    2018: (7.870, 21.267, 443.717, 246.505, 44.690),
    2019: (7.336, 21.647, 441.212, 286.972, 47.427),
}
LAST_SECTOR_YEAR: Final = 2019

SOURCE_CHEN: Final = "Chen et al. 2020 Sci. Data 7:391 county CO2"
SOURCE_CITY: Final = "CEADs city CO2, Nanjing (Shan et al. 2022 Sci. Bull. 67:1910)"
SOURCE_SPLIT: Final = "sector split: CEADs Jiangsu scope-1 sector-group shares (Shan et al. 2018 Sci. Data 5:170201; 2020 Sci. Data 7:54)"
ZONE_SOURCE: Final[dict[str, str]] = {
    "pukou": f"{SOURCE_CHEN}, Pukou 320111",
    "liuhe": f"{SOURCE_CHEN}, Liuhe 320116",
    "baguazhou": f"{SOURCE_CHEN}, Qixia 320113 x Baguazhou population share 33000/988000",
}
CHEN_KEY: Final[dict[str, str]] = {"pukou": "pukou", "liuhe": "liuhe", "baguazhou": "qixia"}
ZONE_WEIGHT: Final[dict[str, float]] = {"pukou": 1.0, "liuhe": 1.0, "baguazhou": BAGUAZHOU_SHARE_OF_QIXIA}


def sector_shares(year: int) -> dict[str, float]:
    """Shares of the five plan sectors in Jiangsu's scope-1 CO2 in ``year`` (2019 after 2019)."""
    agri, bldg, energy, industry, transport = CEADS_JIANGSU_GROUPS_MT[min(year, LAST_SECTOR_YEAR)]
    total = agri + bldg + energy + industry + transport
    return {
        "industry": industry / total,
        "energy": energy / total,
        "buildings": bldg / total,
        "transport": transport / total,
        "other": agri / total,
    }


def _series(published: dict[int, float]) -> dict[int, tuple[float, bool]]:
    """Totals (Mt) by year 2010-2025 and whether each is extrapolated."""
    out = {y: (v, False) for y, v in published.items() if FIRST_YEAR <= y <= LAST_PUBLISHED_YEAR}
    span = LAST_PUBLISHED_YEAR - TREND_FROM
    g0 = (published[LAST_PUBLISHED_YEAR] / published[TREND_FROM]) ** (1.0 / span) - 1.0
    g0 = max(-MAX_ABS_GROWTH, min(MAX_ABS_GROWTH, g0))
    value = published[LAST_PUBLISHED_YEAR]
    for year in range(LAST_PUBLISHED_YEAR + 1, LAST_YEAR + 1):
        growth = g0 * max(PLATEAU_YEAR - year, 0) / (PLATEAU_YEAR - LAST_PUBLISHED_YEAR)
        value *= 1.0 + growth
        out[year] = (value, True)
    return out


def zone_totals_mt() -> dict[str, dict[int, tuple[float, bool]]]:
    """chen2020_county zone totals (Mt CO2) by year and an ``extrapolated`` flag."""
    return {z: {y: (v * ZONE_WEIGHT[z], e) for y, (v, e) in _series(CHEN2020_MT[CHEN_KEY[z]]).items()} for z in ZONE_SOURCE}


def city_share(zone_id: str, year: int) -> float:
    """The zone's share of the Nanjing county-series sum in ``year`` (the 2017 share after 2017)."""
    y = min(year, LAST_PUBLISHED_YEAR)
    return CHEN2020_MT[CHEN_KEY[zone_id]][y] * ZONE_WEIGHT[zone_id] / CHEN2020_NANJING_SUM_MT[y]


def city_scaled_totals_mt() -> dict[str, dict[int, float]]:
    """ceads_city_scaled zone totals (Mt CO2) 2010-2019: CEADs Nanjing x the zone's county share."""
    return {z: {y: CEADS_NANJING_MT[y] * city_share(z, y) for y in range(FIRST_YEAR, LAST_CITY_YEAR + 1)} for z in ZONE_SOURCE}


def _split(total_t: int, year: int) -> dict[str, int]:
    """Whole tonnes per sector that add up exactly to ``total_t`` (largest remainder)."""
    shares = sector_shares(year)
    parts = {s: int(total_t * shares[s]) for s in SECTORS}
    rest = total_t - sum(parts.values())
    order = sorted(SECTORS, key=lambda s: total_t * shares[s] - parts[s], reverse=True)
    for s in order[:rest]:
        parts[s] += 1
    return parts


def build_inventory() -> pd.DataFrame:
    """The illustrative inventory table (one row per dataset, year, zone and sector).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; ``emissions_tco2e`` in whole tonnes of CO2 (sectors of a
        zone-year sum exactly to the rounded zone total). ``chen2020_county`` rows first
        (2010-2025), then ``ceads_city_scaled`` (2010-2019).
    """
    rows = []
    for zone_id, series in zone_totals_mt().items():
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            total_mt, extrapolated = series[year]
            if extrapolated:
                basis = "extrapolated"
                source = (
                    f"extrapolated from {ZONE_SOURCE[zone_id]} (2012-2017 trend tapering to 0 in 2028); "
                    f"{SOURCE_SPLIT}, {min(year, LAST_SECTOR_YEAR)} shares"
                )
            else:
                basis = "published_total_modelled_split" if zone_id != "baguazhou" else "population_share_modelled_split"
                source = f"{ZONE_SOURCE[zone_id]}; {SOURCE_SPLIT}, {year} shares"
            parts = _split(round(total_mt * 1e6), year)
            for sector in SECTORS:
                rows.append((year, zone_id, DATASET_COUNTY, sector, parts[sector], "scope1", basis, source, "true"))
    for zone_id, series in city_scaled_totals_mt().items():
        for year, total_mt in series.items():
            share_year = min(year, LAST_PUBLISHED_YEAR)
            held = " (2017 share held)" if year > LAST_PUBLISHED_YEAR else ""
            basis = "city_total_county_share_modelled_split" if zone_id != "baguazhou" else "city_total_population_share_modelled_split"
            source = (f"{SOURCE_CITY} {year} x the zone's share of the Nanjing county-series sum {share_year}{held} "
                      f"({ZONE_SOURCE[zone_id]}); {SOURCE_SPLIT}, {year} shares")
            parts = _split(round(total_mt * 1e6), year)
            for sector in SECTORS:
                rows.append((year, zone_id, DATASET_CITY, sector, parts[sector], "scope1", basis, source, "true"))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def inventory_csv_text() -> str:
    """The inventory as CSV text (UTF-8, ``\\n`` line ends)."""
    buf = io.StringIO()
    build_inventory().to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def county_city_factors() -> dict[int, float]:
    """ceads_city_scaled / chen2020_county, summed over the three zones, per year 2010-2019."""
    chen, city = zone_totals_mt(), city_scaled_totals_mt()
    return {y: sum(city[z][y] for z in city) / sum(chen[z][y][0] for z in chen) for y in range(FIRST_YEAR, LAST_CITY_YEAR + 1)}


def inventory_readme_text() -> str:
    """Markdown README for ``data/inventory/`` (generated so the numbers match the code)."""
    totals = zone_totals_mt()
    city = city_scaled_totals_mt()
    factors = county_city_factors()
    s17 = sector_shares(2017)
    s19 = sector_shares(2019)

    def fmt(z: str, y: int) -> str:
        return f"{totals[z][y][0]:.2f}"

    def both(y: int) -> str:
        chen = sum(totals[z][y][0] for z in totals)
        cty = sum(city[z][y] for z in city)
        return f"| {y} | {chen:.2f} | {cty:.2f} | {factors[y]:.2f} |"

    g = {
        z: (CHEN2020_MT[z][LAST_PUBLISHED_YEAR] / CHEN2020_MT[z][TREND_FROM]) ** (1 / (LAST_PUBLISHED_YEAR - TREND_FROM)) - 1
        for z in ("pukou", "liuhe", "qixia")
    }
    whole = {y: CEADS_NANJING_MT[y] / CHEN2020_NANJING_SUM_MT[y] for y in CHEN2020_NANJING_SUM_MT}
    mean_f = sum(factors.values()) / len(factors)
    table = "\n".join(both(y) for y in range(FIRST_YEAR, LAST_CITY_YEAR + 1))
    return f"""# data/inventory: illustrative emissions inventory (demo)

`jiangbei_emissions_illustrative.csv` is a **demo** emissions inventory for the three zones of the
"Jiangbei New Area (illustrative)" demo. It is generated by `python -m sinks.demo`
(`sinks/demo/inventory.py`, which holds every constant below with its citation) and committed
because it is small. **It is not an official inventory.** Every row has `illustrative=true`.
It is read by `sinks.ledger.inventory.load_emissions` (any inventory in this format, CSV or
.xlsx, UTF-8 or GBK, can replace it: see the module's docstring for the columns it accepts).

It holds **two series side by side** (column `dataset`), which disagree by a factor of about
{mean_f:.1f}, as the real sources do:

* `{DATASET_COUNTY}` (first in the file, so the **primary** series: totals, KPIs and the
  neutrality reconciliation use it; `[inventory] primary = "..."` in the run configuration picks
  another), 2010-2025;
* `{DATASET_CITY}`, 2010-2019, shown beside it (`sinks.ledger.inventory.compare_sources`), never
  added to it.

## Columns

| column | meaning |
|---|---|
| `year` | 2010-2025 (`{DATASET_COUNTY}`), 2010-2019 (`{DATASET_CITY}`) |
| `zone_id` | `pukou` (浦口区), `liuhe` (六合区), `baguazhou` (八卦洲街道, Qixia) |
| `dataset` | `{DATASET_COUNTY}` or `{DATASET_CITY}` |
| `sector` | the plan's sectors `industry` (工业, excl. energy), `energy` (能源), `buildings` (建筑), `transport` (交通), `other` (其他: here agriculture) |
| `emissions_tco2e` | t CO2 per year, whole tonnes, non-negative; the five sectors of a zone-year add up to the zone total |
| `scope` | `scope1` (territorial fossil-fuel and cement-process CO2, as in CEADs; no LULUCF, CH4 or N2O) |
| `basis` | `published_total_modelled_split` (Pukou, Liuhe 2010-2017), `population_share_modelled_split` (Baguazhou 2010-2017), `extrapolated` (county series 2018-2025), `city_total_county_share_modelled_split` / `city_total_population_share_modelled_split` (city series) |
| `source` | the citation of the total and of the sector split for that row |
| `illustrative` | always `true` |

## Derivation

1. **`{DATASET_COUNTY}` totals 2010-2017.** Pukou and Liuhe: the county-level series of Chen et
   al. (2020), e.g. 2017 Pukou {CHEN2020_MT['pukou'][2017]:.4f} Mt, Liuhe {CHEN2020_MT['liuhe'][2017]:.4f} Mt.
   Baguazhou street has no series of its own: Qixia District (2017: {CHEN2020_MT['qixia'][2017]:.4f} Mt)
   times Baguazhou's population share {BAGUAZHOU_POPULATION:,} / {QIXIA_POPULATION:,} =
   {BAGUAZHOU_SHARE_OF_QIXIA:.2%} (Baguazhou 2017: {fmt('baguazhou', 2017)} Mt). The Qixia
   population (~988,000, 2020 census) is the brief's figure and is **not verified** here.
2. **`{DATASET_COUNTY}` totals 2018-2025 (`basis=extrapolated`).** Starting from 2017, each year
   grows by `g0 x (2028 - year) / (2028 - 2017)`, where `g0` is the zone's compound annual growth
   2012-2017, clipped to +/-2 %/yr (Pukou {g['pukou']:+.2%}, Liuhe {g['liuhe']:+.2%}, Qixia {g['qixia']:+.2%}).
   Growth therefore tapers linearly to zero in 2028, an assumed plateau year before the national
   "peak before 2030" target. Result for 2025: Pukou {fmt('pukou', 2025)} Mt, Liuhe
   {fmt('liuhe', 2025)} Mt, Baguazhou {fmt('baguazhou', 2025)} Mt. This is a plausible demo
   rule, not a forecast.
3. **`{DATASET_CITY}` totals 2010-2019.** The CEADs city-level total for Nanjing (2017:
   {CEADS_NANJING_MT[2017]:.2f} Mt; 2019: {CEADS_NANJING_MT[2019]:.2f} Mt) times the zone's share of the sum of
   Chen et al.'s eleven Nanjing district/county series that year (2017: {CHEN2020_NANJING_SUM_MT[2017]:.2f} Mt;
   Pukou's share {city_share('pukou', 2017):.2%}, Liuhe {city_share('liuhe', 2017):.2%}, Baguazhou
   {city_share('baguazhou', 2017):.3%}). For 2018 and 2019, which the county series does not
   cover, the 2017 shares are held. No year after 2019: the city series is not extrapolated.
4. **Sector split (both series).** Each year's CEADs Jiangsu scope-1 shares of five sector groups
   (after 2019: the 2019 shares held), mapped to the plan's sectors as in
   `data/ledger/sector_map.csv`:

   | CEADs sector group (project mapping of the 47 CEADs sectors) | plan sector |
   |---|---|
   | energy_supply (power, steam and hot water; gas; petroleum processing and coking) | energy |
   | industry (mining, manufacturing, construction, tap water) | industry |
   | transport (transport, storage, post and telecommunications) | transport |
   | buildings_residential_commercial (urban and rural households; wholesale, retail and catering; others) | buildings |
   | agriculture (farming, forestry, animal husbandry, fishery and water conservancy) | other |

   Earlier versions of this demo folded agriculture into buildings; it is now `other`, as in the
   sector map. 2017 shares: energy {s17['energy']:.1%}, industry {s17['industry']:.1%}, buildings
   {s17['buildings']:.1%}, transport {s17['transport']:.1%}, other {s17['other']:.1%}; 2019 (held to 2025):
   energy {s19['energy']:.1%}, industry {s19['industry']:.1%}, buildings {s19['buildings']:.1%},
   transport {s19['transport']:.1%}, other {s19['other']:.1%}. This assumes each zone's mix equals
   Jiangsu's. Nanjing is more steel- and petrochemical-heavy (Dachang/Changlu in Liuhe), so
   industry is probably understated and energy overstated.

## Caveat: the two series disagree by ~{mean_f:.1f}x

Sum over the three zones, Mt CO2, and the factor `{DATASET_CITY}` / `{DATASET_COUNTY}`:

| year | {DATASET_COUNTY} | {DATASET_CITY} | factor |
|---|---|---|---|
{table}

The factor is the whole city's: CEADs gives Nanjing {CEADS_NANJING_MT[2017]:.1f} Mt CO2 in 2017 while the Chen
et al. (2020) series for Nanjing's districts sum to {CHEN2020_NANJING_SUM_MT[2017]:.1f} Mt
({whole[2017]:.2f}x; {whole[2010]:.2f}x in 2010). In 2018-2019 the county figures are the demo's
extrapolation, so the factor there compares a published city total with an extrapolated county
one. Chen et al. downscale provincial energy data with night-time lights, which under-allocates
heavy industry (steel, petrochemicals and power in Liuhe and Qixia). The county series is the
primary because it is the only one by district; keep the disagreement in view when reading any
total.

## Sources

* Chen, J., Gao, M., Cheng, S., Hou, W., Song, M., Liu, X., Liu, Y., Shan, Y. (2020). County-level
  CO2 emissions and sequestration in China during 1997-2017. *Scientific Data* 7:391.
  doi:10.1038/s41597-020-00736-3 (values as redistributed in the MIT-licensed GitHub repo
  STATS201-DKU-Autumn2024/Week1_Yuxiang, commit 001c19c9, `data/co2.xlsx`; the figshare deposit
  is believed to be CC BY 4.0: check before publishing).
* CEADs city inventories (Nanjing, 江苏南京, scope 1): Shan, Y. et al. (2022) *Science Bulletin*
  67:1910; Shan, Y. et al. (2018) *Science Advances* 4:eaaq0390. CEADs provincial inventories
  (Jiangsu, scope 1, 47 sectors): Shan, Y. et al. (2018) *Scientific Data* 5:170201; Shan, Y. et
  al. (2020) *Scientific Data* 7:54. Obtained via Open-Earth-Foundation/OpenClimate (commit
  822037b7) from ceads.net. CEADs asks users to cite these papers.
* Baguazhou population ~33,000: zangaopet.com/w/c8ace71bc2a906e8.html (a mirror of encyclopaedia
  text).
"""
