"""Annual removals with 95 % intervals, and the net-neutrality position against emissions.

Both removal estimates of :mod:`sinks.carbon` are kept side by side for every land-cover period:

* stock difference (IPCC 2006 GL Vol.4 Eq. 2.8): (stock_t1 - stock_t0) / (t1 - t0);
* gain-loss (IPCC 2006 GL Vol.4 Eq. 2.7): growth of land remaining in its class (area x gain
  rate) + the stock change of converted land spread over the period (gains - losses).

Uncertainty: IPCC Approach 2, Monte Carlo simulation (IPCC 2006 GL Vol.1 Ch.3 sec.3.2.3,
"Methods to combine uncertainties": Approach 1 uses error-propagation equations, Approach 2
Monte Carlo or similar techniques; wording checked against a stored copy of the chapter). Each
draw takes

* one value of every coefficient (each pool density and each gain rate per class), normal with
  sd = value x U / 100 / 1.96 (U = the table's 95 % half-width in %), **truncated at 0**
  (negative draws are drawn again: densities and rates are non-negative). The same draw serves
  both dates of a period and every zone: the same coefficient is applied in 2020 and in 2025, so
  in the stock difference its error cancels except on the area that changed class. This is the
  correlation that makes the stock-difference interval narrow (zero wide when no area changes),
  the same reasoning as the trend uncertainty of an inventory whose emission factor is used in
  both years (Vol.1 Ch.3, "type A" sensitivity; recalled, not checked). Coefficients of one pool
  that carry the same uncertainty share one relative error by default (``correlate``): the
  table's soil carbon is one IPCC reference stock (SOCref) times land-use factors for most
  classes, and drawing it apart per class would make every conversion look wildly uncertain;
* one area factor per class and date from the map's accuracy report when the configuration names
  one (``[landcover.accuracy]``; Olofsson et al. 2014 adjusted-area 95 % half-width in %, from
  :func:`sinks.landcover.accuracy.load_area_uncertainty`), normal around 1 and truncated at 0,
  independent between dates and applied to every zone (the report speaks for the whole map).
  There is no accuracy assessment of the change itself, so land remaining in its class takes the
  start date's factor in the gain-loss growth term.

Coefficients without an uncertainty are held fixed (the interval is then too narrow, and the
``coverage`` column says by how much of the estimate), unless ``assumed_uncertainty_pct`` is
given: a policy ("assume X % where none is given"), stated in the notes. A relative uncertainty
gives no spread to a coefficient of 0 (the Tier 1 "no change" rates of grassland and cropland).

The central value of every row is the pipeline's deterministic figure (``Assessment.flows``),
never the mean of the draws; the draws are checked to reproduce it with the central inputs. For
comparison each row also carries the first-order analytic interval (Approach 1: independent terms
combined in quadrature, Vol.1 Ch.3 Eq. 3.1 for products and Eq. 3.2 for sums; equation numbers
recalled, not checked) of the same model and the same inputs, linearised around the central
values; the terms of coefficients that share one draw are added before squaring. For a sum of
terms linear in normal coefficients it is exact (truncation aside), and the Monte Carlo interval
agrees with it to Monte Carlo error; products of area and coefficient errors are second order.

:func:`position` sets the removals against the emissions inventory per year: net emissions and
the offset ratio, their intervals taken from the same draws (emissions drawn normal when rows
carry ``uncertainty_tco2e``, a 95 % half-width). Each year takes the removals of the land-cover
period that covers it, else of the nearest period, the rule of :func:`sinks.pipeline.run_assessment`.
:data:`SCOPE_RULES` states what is counted.

References: IPCC (2006) 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol.1
Ch.3 (Uncertainties) and Vol.4 Ch.1-2; Ogle, S.M. et al. (2018) Delineating managed land for
reporting national greenhouse gas emissions and removals, Carbon Balance and Management 13:9;
Olofsson, P. et al. (2014) Remote Sensing of Environment 148, 42-57, doi:10.1016/j.rse.2014.02.015.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geodata.errors import DataError, SchemaError
from sinks.coefficients import GAIN, POOLS, CoefficientTable
from sinks.landcover.accuracy import load_area_uncertainty
from sinks.notes import Note
from sinks.units import C_TO_CO2

if TYPE_CHECKING:  # the pipeline imports much; only its type is needed here
    from sinks.pipeline import Assessment

Notes = tuple[Note, ...]
METHODS = ("stock_difference", "gain_loss")
CORRELATIONS = ("same_quantity", "same_value", "independent")
FLOW_COLUMN = {"stock_difference": "sequestration_tco2e_yr", "gain_loss": "net_removals_tco2e_yr"}
Z95 = 1.96  # 95 % half-width / sd, as the coefficient table and the accuracy report use it
PCT = (2.5, 97.5)
MIN_DRAWS = 100
COVERS = "period covers year"
NEAREST = "nearest period"
ROW_COLUMNS = ("period", "year_t0", "year_t1", "method", "removals_tco2e_yr", "low_tco2e_yr", "high_tco2e_yr",
               "sd_tco2e_yr", "mc_mean_tco2e_yr", "low_a1_tco2e_yr", "high_a1_tco2e_yr", "coverage", "areas_drawn",
               "unestimated_area_ha")
MISSING_COLUMNS = ("lucode", "lulc_name", "quantity", "value", "unit", "stock_share", "stock_difference_share",
                   "gain_loss_share", "assumed_pct")
POSITION_COLUMNS = ("year", "method", "emissions_tco2e", "emissions_low_tco2e", "emissions_high_tco2e",
                    "emissions_coverage", "removals_tco2e_yr", "removals_low_tco2e_yr", "removals_high_tco2e_yr",
                    "removals_period", "removals_basis", "removals_coverage", "net_emissions_tco2e",
                    "net_emissions_low_tco2e", "net_emissions_high_tco2e", "offset_ratio", "offset_ratio_low",
                    "offset_ratio_high", "zones_missing_emissions")

SCOPE_RULES: Notes = (
    Note("flows_not_stocks",
         "removals are annual flows (t CO2e/yr) of the land in the zones, estimated by stock difference and by gain-loss "
         "side by side; carbon stocks (t C) are reported apart and never set against emissions"),
    Note("managed_land",
         "IPCC inventories count managed land only (the managed-land proxy; IPCC 2006 GL Vol.4 Ch.1, Ogle et al. 2018 "
         "Carbon Balance Manag. 13:9); the dashboard counts all land in the zones as managed. In Jiangbei it all is "
         "(built-up land, farmland, plantations and parks, embanked river shoals and wetland parks); a zone holding "
         "unmanaged land would have to leave it out"),
    Note("configured_zones",
         "only the configured zones count, each emissions row belonging to one of them; zones that replace them (uploaded "
         "or drawn polygons, wetland sites) have no emissions inventory, so no net position is computed for them"),
    Note("scope1_co2",
         "emissions are scope-1 (territorial) CO2 from fossil fuels and industrial processes (CEADs city and county "
         "inventories; Shan et al., Chen et al. 2020): no land use (LULUCF), no CH4 or N2O. The offset ratio therefore "
         "compares scope-1 CO2 with CO2 removed by land, not a full greenhouse-gas balance"),
    Note("co2_removals_only",
         "removals count CO2 in biomass, dead organic matter and soil carbon only; CH4 from wetlands and paddies and N2O "
         "from soils are not estimated"),
    Note("zone_overlap",
         "a pixel belongs to every zone whose polygon contains its centre, and the sum over zones adds the zones' figures: "
         "a pixel inside two overlapping zones is counted twice. The removal series notes when the zones it sums overlap"),
    Note("unestimated_classes",
         "land remaining in a class whose gain rate the coefficient table leaves empty ('source required'; in the "
         "project's table herbaceous wetland and mangroves) is not estimated by gain-loss: it counts neither as a removal "
         "nor as zero, and its area is reported as unestimated_area_ha"),
)


@dataclass(frozen=True)
class RemovalSeries:
    """Removals per land-cover period and method with 95 % intervals (IPCC Approach 2).

    Attributes
    ----------
    table
        Summed over ``zone_ids``, one row per period x method: ``period, year_t0, year_t1, method``
        (``stock_difference`` | ``gain_loss``), ``removals_tco2e_yr`` (the pipeline's figure),
        ``low_tco2e_yr, high_tco2e_yr`` (2.5 / 97.5 percentiles of the draws), ``sd_tco2e_yr``,
        ``mc_mean_tco2e_yr`` (mean of the draws, for comparison only), ``low_a1_tco2e_yr,
        high_a1_tco2e_yr`` (Approach 1, same inputs), ``coverage`` (share of the estimate's
        coefficient terms, by magnitude, that carry an uncertainty; NaN when every term is 0),
        ``areas_drawn`` (``none`` | ``t0`` | ``t1`` | ``both``: dates whose class areas were
        drawn from an accuracy report), ``unestimated_area_ha`` (gain-loss: land remaining in a
        class without a gain rate; NaN for stock difference).
    by_zone
        The same columns per zone, with ``zone_id`` first.
    missing_uncertainty
        Coefficients of the classes present that have a value but no uncertainty: ``lucode,
        lulc_name, quantity, value, unit, stock_share`` (share of the total stock at the latest
        date), ``stock_difference_share, gain_loss_share`` (share of the magnitude of all
        coefficient terms, over all periods), ``assumed_pct`` (the policy value applied, or NaN).
    draws
        ``(period, method) -> array (n_draws,)`` of the zone sum, t CO2e/yr (read-only arrays in a
        plain dict, so the series pickles for the UI's cache), for :func:`position`.
    notes, scope
        What the method assumed and left out; the scope rules with this assessment's values.
    stocks
        The total stock of ``zone_ids`` per land-cover date from the same draws: ``year,
        stock_tc`` (the pipeline's figure), ``low_tc, high_tc`` (2.5 / 97.5 percentiles),
        ``coverage`` (share of the stock whose pool coefficients carry an uncertainty; the rest
        is held fixed, so the interval is too narrow by that much).
    """

    table: pd.DataFrame
    by_zone: pd.DataFrame
    missing_uncertainty: pd.DataFrame
    notes: Notes
    scope: Notes
    zone_ids: tuple[str, ...]
    n_draws: int
    seed: int
    assumed_uncertainty_pct: float | None
    correlate: str = "same_quantity"
    draws: Mapping[tuple[str, str], np.ndarray] = field(default_factory=dict)
    stocks: pd.DataFrame | None = None

    @property
    def periods(self) -> pd.DataFrame:
        """``period, year_t0, year_t1`` in time order."""
        return self.table[["period", "year_t0", "year_t1"]].drop_duplicates().sort_values(["year_t0", "year_t1"]).reset_index(drop=True)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Period:
    period: str
    y0: int
    y1: int
    stable_rated: np.ndarray  # zones x classes: land remaining in a class with a gain rate, ha
    conv_from: np.ndarray  # zones x classes: converted land by its class at t0, ha
    conv_to: np.ndarray  # zones x classes: converted land by its class at t1, ha
    unestimated_ha: np.ndarray  # zones: land remaining in a class without a gain rate


def _pivot(df: pd.DataFrame, col: str, zones: list[str], codes: list[int]) -> np.ndarray:
    if df.empty:
        return np.zeros((len(zones), len(codes)))
    p = df.pivot_table(index="zone_id", columns=col, values="area_ha", aggfunc="sum")
    return p.reindex(index=zones, columns=codes).fillna(0.0).to_numpy(dtype=float)


def _periods(a: Assessment, zones: list[str], codes: list[int], gain: np.ndarray) -> list[_Period]:
    if a.flows.empty:
        return []
    rated = {c for c, g in zip(codes, gain) if np.isfinite(g)}
    out = []
    per = a.flows[["period", "year_t0", "year_t1"]].drop_duplicates().sort_values(["year_t0", "year_t1"])
    for p, y0, y1 in per.itertuples(index=False):
        c = a.change[(a.change["period"] == p) & a.change["zone_id"].isin(zones)]
        stable = c["code_t0"] == c["code_t1"]
        st, cv = c[stable], c[~stable]
        unest = st[~st["code_t0"].isin(rated)].groupby("zone_id")["area_ha"].sum().reindex(zones).fillna(0.0)
        out.append(_Period(period=str(p), y0=int(y0), y1=int(y1),
                           stable_rated=_pivot(st[st["code_t0"].isin(rated)], "code_t0", zones, codes),
                           conv_from=_pivot(cv, "code_t0", zones, codes), conv_to=_pivot(cv, "code_t1", zones, codes),
                           unestimated_ha=unest.to_numpy(dtype=float)))
    return out


def _coefficients(table: CoefficientTable, codes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    v = table.values
    pools = v[v["quantity"].isin(POOLS)]
    value = pools.pivot(index="lucode", columns="quantity", values="value").reindex(index=codes, columns=list(POOLS))
    pct = pools.pivot(index="lucode", columns="quantity", values="uncertainty_pct").reindex(index=codes, columns=list(POOLS))
    g = v[v["quantity"] == GAIN].set_index("lucode")
    gain = g["value"].reindex(codes) if len(g) else pd.Series(np.nan, index=codes)
    gain_pct = g["uncertainty_pct"].reindex(codes) if len(g) else pd.Series(np.nan, index=codes)
    return (value.to_numpy(dtype=float), pct.to_numpy(dtype=float), gain.to_numpy(dtype=float), gain_pct.to_numpy(dtype=float))


# --------------------------------------------------------------------------- the model


def _truncnorm(rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of independent normals (mean, sd) truncated at 0: negatives are drawn again."""
    mean = np.broadcast_to(np.asarray(mean, dtype=float), np.shape(sd))
    x = rng.normal(mean, sd, size=(n,) + np.shape(sd))
    for _ in range(200):  # P(negative) <= 0.5 per round when mean >= 0: 200 rounds leave nothing
        bad = x < 0
        if not bad.any():
            break
        x[bad] = rng.normal(np.broadcast_to(mean, x.shape)[bad], np.broadcast_to(sd, x.shape)[bad])
    return np.maximum(x, 0.0)


def _model(p: _Period, areas: Mapping[int, np.ndarray], density: np.ndarray, rate: np.ndarray,
           f0: np.ndarray, f1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stock difference and gain-loss net, t CO2e/yr, draws x zones (inputs draws x classes).

    Reproduces :func:`sinks.carbon.stock_difference` (on the per-date areas) and
    :func:`sinks.carbon.gain_loss` (on the change table) for every draw at once.
    """
    years = p.y1 - p.y0
    s0 = (f0 * density) @ areas[p.y0].T
    s1 = (f1 * density) @ areas[p.y1].T
    sd = (s1 - s0) / years * C_TO_CO2
    growth = (f0 * rate) @ p.stable_rated.T
    conv = (f1 * density) @ p.conv_to.T - (f0 * density) @ p.conv_from.T
    return sd, (growth + conv / years) * C_TO_CO2


def _terms(p: _Period, areas: Mapping[int, np.ndarray], value: np.ndarray, gain: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """The estimates as sums of terms, zones x inputs, for Approach 1 and the coverage share.

    ``coef`` (zones x 5K: the K x 4 pool densities row by row, then the K gain rates) adds up to
    the estimate exactly (the model is linear in each coefficient); ``f0`` / ``f1`` (zones x K)
    are the derivatives with respect to the area factors times 1, their central value.
    """
    years = p.y1 - p.y0
    density = value.sum(axis=1)
    rate = np.nan_to_num(gain)
    k = C_TO_CO2 / years
    a0, a1 = areas[p.y0], areas[p.y1]
    z = a0.shape[0]

    def coef(pool: np.ndarray, g: np.ndarray) -> np.ndarray:
        return np.concatenate([pool.reshape(z, -1), g], axis=1)

    return {
        "stock_difference": {
            "coef": coef((a1 - a0)[:, :, None] * value[None] * k, np.zeros_like(a0)),
            "f0": -a0 * density * k,
            "f1": a1 * density * k,
        },
        "gain_loss": {
            "coef": coef((p.conv_to - p.conv_from)[:, :, None] * value[None] * k, p.stable_rated * rate * C_TO_CO2),
            "f0": p.stable_rated * rate * C_TO_CO2 - p.conv_from * density * k,
            "f1": p.conv_to * density * k,
        },
    }


def _half_width_a1(terms: Mapping[str, np.ndarray], member: np.ndarray, group_pct: np.ndarray,
                   u0: np.ndarray, u1: np.ndarray) -> np.ndarray:
    """First-order 95 % half-width (Approach 1) per leading index of the term arrays.

    Coefficient terms are first summed within each draw group (``member``: inputs x groups), as
    one shared coefficient is one error; groups, area factors and dates are independent.
    """
    grouped = terms["coef"] @ member
    hw2 = (np.sum((grouped * group_pct / 100.0) ** 2, axis=-1)
           + np.sum((terms["f0"] * u0 / 100.0) ** 2, axis=-1)
           + np.sum((terms["f1"] * u1 / 100.0) ** 2, axis=-1))
    return np.sqrt(hw2)


def _coverage(terms: Mapping[str, np.ndarray], known: np.ndarray) -> np.ndarray:
    mag = np.abs(terms["coef"]).sum(axis=-1)
    cov = (np.abs(terms["coef"]) * known).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mag > 0, cov / mag, np.nan)


def _groups(quantity: np.ndarray, value: np.ndarray, pct: np.ndarray, assumed: np.ndarray, correlate: str) -> np.ndarray:
    """Draw group of each coefficient; a group shares one relative error (one draw per group).

    ``independent``: every coefficient alone. ``same_value``: coefficients of one quantity with
    the same non-zero value and uncertainty (one default applied to several classes).
    ``same_quantity``: all coefficients of one quantity with the same uncertainty (Tier 1 defaults
    of one pool in one climate zone share their reference value, e.g. SOCref, and its error).
    Coefficients whose uncertainty is the assumed policy value never join a sourced group.
    """
    keys: dict[tuple, int] = {}
    out = np.empty(len(value), dtype=int)
    for i, (q, v, u, pol) in enumerate(zip(quantity, value, pct, assumed)):
        shared = correlate != "independent" and np.isfinite(v) and v != 0 and np.isfinite(u) and u > 0
        key = (q, float(u), bool(pol)) if correlate == "same_quantity" else (q, float(v), float(u), bool(pol))
        out[i] = keys.setdefault(key if shared else ("own", i), len(keys))
    return out


def _summ(central: np.ndarray, draws: np.ndarray, hw: np.ndarray) -> dict[str, np.ndarray]:
    lo, hi = np.percentile(draws, PCT, axis=0)
    return {"removals_tco2e_yr": central, "low_tco2e_yr": lo, "high_tco2e_yr": hi,
            "sd_tco2e_yr": draws.std(axis=0, ddof=1), "mc_mean_tco2e_yr": draws.mean(axis=0),
            "low_a1_tco2e_yr": central - hw, "high_a1_tco2e_yr": central + hw}


# --------------------------------------------------------------------------- public


def _check_args(n_draws: int, assumed_uncertainty_pct: float | None) -> None:
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < MIN_DRAWS:
        raise DataError("removal_series n_draws", f"n_draws must be a whole number >= {MIN_DRAWS}, got {n_draws!r}",
                        "use the default 2000 (or more for smoother tails)")
    if assumed_uncertainty_pct is not None and not (np.isfinite(assumed_uncertainty_pct) and assumed_uncertainty_pct >= 0):
        raise DataError("removal_series assumed_uncertainty_pct",
                        f"the assumed uncertainty must be a finite number of % >= 0, got {assumed_uncertainty_pct!r}",
                        "give a 95 % half-width in %, e.g. 50, or None to hold such coefficients fixed")


def _select_zones(a: Assessment, zone_ids: list[str] | None) -> list[str]:
    known = list(a.zone_ids)
    if zone_ids is None:
        return known
    zs = [str(z) for z in zone_ids]
    bad = [z for z in zs if z not in known]
    if bad or not zs:
        raise DataError("zone_ids", f"unknown zone id(s) {bad}" if bad else "no zone was selected",
                        f"choose among the assessment's zones {known}")
    return list(dict.fromkeys(zs))


def _overlaps(a: Assessment, zones: list[str]) -> list[tuple[str, str]]:
    """Pairs of the selected zones that overlap by at least half a pixel (in the analysis CRS)."""
    if len(zones) < 2:
        return []
    g = a.zones.set_index("zone_id").loc[zones]
    crs = a.provenance.get("analysis_crs")
    if crs:
        g = g.to_crs(crs)
        px = a.provenance.get("pixel_size_m") or [0.0, 0.0]
        tol = 0.5 * float(px[0]) * float(px[1])
    else:
        tol = 0.0
    geoms = np.asarray(g.geometry.values, dtype=object)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if not len(i):
        return []
    area = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    return [(zones[x], zones[y]) for x, y, ar in zip(i, j, area) if ar > max(tol, 0.0) and ar > 0]


def scope_rules(a: Assessment | None = None, *, zone_ids: list[str] | None = None) -> Notes:
    """:data:`SCOPE_RULES` with this assessment's values: its zone rule (provenance
    ``zone_coverage_rule``), the overlapping zones, whether the zones were replaced, and the classes
    of its coefficient table that have no gain rate (with the area left unestimated)."""
    if a is None:
        return SCOPE_RULES
    zones = _select_zones(a, zone_ids)
    rule = a.provenance.get("zone_coverage_rule", "")
    over = _overlaps(a, zones)
    table = a.coefficients
    no_rate = [int(c) for c, g in table.gain_rates().items() if not np.isfinite(g)]
    names = table.names()
    unest = a.flows[a.flows["zone_id"].isin(zones)] if not a.flows.empty and "unestimated_area_ha" in a.flows else None
    out = []
    for n in SCOPE_RULES:
        if n.code == "configured_zones" and a.provenance.get("inputs", {}).get("zones", {}).get("replaced_config_zones"):
            out.append(Note(n.code, str(n) + ". This assessment's zones replace the configured ones: it has no inventory",
                            replaced=True))
        elif n.code == "zone_overlap":
            text = (f"zone rule: {rule}. The sum over zones adds the zones' figures"
                    + (f"; these zones overlap, so their shared pixels are counted twice: {', '.join(f'{x}/{y}' for x, y in over)}"
                       if over else "; the summed zones do not overlap (by more than half a pixel), so no pixel is counted twice"))
            out.append(Note(n.code, text, rule=rule, overlapping_pairs=[list(p) for p in over]))
        elif n.code == "unestimated_classes":
            per = ({str(p): float(g["unestimated_area_ha"].sum()) for p, g in unest.groupby("period")} if unest is not None else {})
            listed = ", ".join(f"{c} {names.get(c, '')}".strip() for c in no_rate) or "none"
            areas = "; ".join(f"{p}: {v:,.1f} ha" for p, v in per.items())
            out.append(Note(n.code, f"land remaining in a class without a gain rate in the coefficient table ({listed}) is not "
                            "estimated by gain-loss: it counts neither as a removal nor as zero"
                            + (f"; unestimated area per period: {areas}" if areas else ""),
                            codes=no_rate, unestimated_area_ha=per))
        else:
            out.append(n)
    return tuple(out)


def removal_series(a: Assessment, *, zone_ids: list[str] | None = None, n_draws: int = 2000, seed: int = 0,
                   assumed_uncertainty_pct: float | None = None, correlate: str = "same_quantity") -> RemovalSeries:
    """Removals per land-cover period, both methods, with Monte Carlo 95 % intervals.

    Parameters
    ----------
    a
        An :class:`~sinks.pipeline.Assessment` (its areas, change, flows, coefficients and the
        configuration's accuracy reports are read).
    zone_ids
        Zones to sum (default: all). The per-zone rows are kept in ``by_zone``.
    n_draws, seed
        Monte Carlo draws (>= 100) and the seed of ``numpy.random.default_rng``: the same seed
        gives the same intervals; coefficient draws do not depend on the zones chosen.
    assumed_uncertainty_pct
        Policy: the 95 % half-width (%) applied to coefficients that carry none (default: they are
        held fixed). Stated in ``notes`` and in ``missing_uncertainty.assumed_pct``.
    correlate
        Which coefficients share one error (one relative draw per group):
        ``same_quantity`` (default): all coefficients of one pool (or of the gain rate) with the
        same uncertainty %, as the Tier 1 defaults of one pool in one climate zone share their
        reference value and its error (the table's c_soil is SOCref 88 t C/ha x a land-use factor
        for every class); ``same_value``: only those with the same value too (one default applied
        to several classes); ``independent``: one draw per class and quantity. The choice matters:
        drawn apart, the cropland-to-built-up soil change (96.8 -> 88 t C/ha) looks +/-120 t C/ha
        uncertain, and the demo's intervals are about ten times wider.

    Returns
    -------
    RemovalSeries
        Central values equal ``a.flows`` (summed over the zones); intervals in t CO2e/yr.

    Raises ``DataError`` for unknown zones or unusable arguments, ``DataError`` from the accuracy
    report reader when a configured report cannot be read.
    """
    _check_args(n_draws, assumed_uncertainty_pct)
    if correlate not in CORRELATIONS:
        raise DataError("removal_series correlate", f"unknown correlation rule {correlate!r}", f"use one of {list(CORRELATIONS)}")
    n = int(n_draws)
    zones = _select_zones(a, zone_ids)
    table = a.coefficients
    codes = table.codes
    k = len(codes)
    value, pool_pct_raw, gain, gain_pct_raw = _coefficients(table, codes)
    policy = assumed_uncertainty_pct
    # every coefficient in one vector: the K x 4 pool densities row by row, then the K gain rates
    x_value = np.concatenate([value.ravel(), np.nan_to_num(gain)])
    x_raw_pct = np.concatenate([pool_pct_raw.ravel(), gain_pct_raw])
    x_quantity = np.array([*[q for _ in codes for q in POOLS], *[GAIN] * k])
    x_pct = np.where(np.isnan(x_raw_pct), np.nan if policy is None else float(policy), x_raw_pct)
    x_pct = np.where(np.concatenate([np.zeros(4 * k, dtype=bool), ~np.isfinite(gain)]), np.nan, x_pct)  # no rate: nothing to draw
    known = np.isfinite(x_pct)
    group = _groups(x_quantity, x_value, x_pct, np.isnan(x_raw_pct), correlate)
    n_groups = int(group.max()) + 1
    member = np.zeros((len(group), n_groups))
    member[np.arange(len(group)), group] = 1.0
    first = np.array([np.flatnonzero(group == g)[0] for g in range(n_groups)])
    group_pct = np.nan_to_num(x_pct[first])

    years = list(a.years)
    areas = {y: _pivot(a.areas[(a.areas["year"] == y) & a.areas["zone_id"].isin(zones)], "lucode", zones, codes) for y in years}
    accuracy = dict(getattr(a.config, "accuracy", {}) or {})
    area_pct: dict[int, np.ndarray] = {}
    notes: list[Note] = []
    for y in years:
        if y in accuracy:
            rep = load_area_uncertainty(accuracy[y])
            u = np.array([rep.get(c, np.nan) for c in codes], dtype=float)
            present = areas[y].sum(axis=0) > 0
            lacking = [c for c, ok, pr in zip(codes, np.isfinite(u), present) if pr and not ok]
            if lacking:
                notes.append(Note("area_class_not_in_report",
                                  f"class(es) {lacking} are mapped in {y} but have no area estimate in its accuracy report "
                                  f"({accuracy[y]}): their areas are held fixed", year=y, codes=lacking, report=str(accuracy[y])))
        else:
            u = np.full(k, np.nan)
        area_pct[y] = u
    periods = _periods(a, zones, codes, gain)

    # draws: each coefficient group once (both dates, all zones), then one area factor per class and date
    rng = np.random.default_rng(seed)
    # one relative factor per group (truncated at 0, so no member goes negative), times each member's value
    x_d = _truncnorm(rng, np.ones(n_groups), group_pct / 100.0 / Z95, n)[:, group] * x_value
    dens_d = x_d[:, :4 * k].reshape(n, k, 4).sum(axis=2)
    rate_d = x_d[:, 4 * k:]
    factor_d = {y: _truncnorm(rng, np.ones(k), np.nan_to_num(area_pct[y]) / 100.0 / Z95, n) for y in years}
    ones = np.ones((1, k))
    dens_c = value.sum(axis=1)[None]
    rate_c = np.nan_to_num(gain)[None]

    rows, zone_rows, draws = [], [], {}
    for p in periods:
        f = a.flows[(a.flows["period"] == p.period) & a.flows["zone_id"].isin(zones)].set_index("zone_id")
        have = [z for z in zones if z in f.index]
        zi = np.array([zones.index(z) for z in have], dtype=int)
        sd_c, gl_c = _model(p, areas, dens_c, rate_c, ones, ones)
        sd_d, gl_d = _model(p, areas, dens_d, rate_d, factor_d[p.y0], factor_d[p.y1])
        terms = _terms(p, areas, value, gain)
        u0, u1 = np.nan_to_num(area_pct[p.y0]), np.nan_to_num(area_pct[p.y1])
        drawn = {(False, False): "none", (True, False): "t0", (False, True): "t1", (True, True): "both"}[
            (bool(np.isfinite(area_pct[p.y0]).any()), bool(np.isfinite(area_pct[p.y1]).any()))]
        for method, model_c, model_d in (("stock_difference", sd_c, sd_d), ("gain_loss", gl_c, gl_d)):
            col = FLOW_COLUMN[method]
            if col not in f.columns:
                raise SchemaError("Assessment.flows", f"column {col!r} is missing", "run the assessment again with this version")
            central = f.loc[have, col].to_numpy(dtype=float)
            t = {name: v[zi] for name, v in terms[method].items()}
            if np.abs(model_c[0, zi] - central).max(initial=0.0) > 1e-9 * (np.abs(t["coef"]).sum() + 1.0):
                raise RuntimeError(f"removal_series: the {method} model does not reproduce the pipeline's flows for {p.period} "
                                   f"({model_c[0, zi]} vs {central}); sinks.carbon changed and this module must follow")
            tot = {name: v.sum(axis=0) for name, v in t.items()}
            unest_z = p.unestimated_ha[zi] if method == "gain_loss" else np.full(len(zi), np.nan)
            base = {"period": p.period, "year_t0": p.y0, "year_t1": p.y1, "method": method, "areas_drawn": drawn}
            zs = _summ(central, model_d[:, zi], _half_width_a1(t, member, group_pct, u0, u1))
            zone_rows.append(pd.DataFrame({"zone_id": have, **base, **zs, "coverage": _coverage(t, known),
                                           "unestimated_area_ha": unest_z}))
            tot_d = model_d[:, zi].sum(axis=1)
            tot_d.setflags(write=False)
            draws[(p.period, method)] = tot_d
            ts = _summ(np.array([central.sum()]), tot_d[:, None], np.array([_half_width_a1(tot, member, group_pct, u0, u1)]))
            rows.append({**base, **{name: float(v[0]) for name, v in ts.items()}, "coverage": float(_coverage(tot, known)),
                         "unestimated_area_ha": float(unest_z.sum()) if method == "gain_loss" else np.nan})

    stock_rows = []
    pool_known = known[:4 * k].reshape(k, 4)
    for y in years:
        st_c = float((dens_c @ areas[y].T).sum())
        st_d = ((factor_d[y] * dens_d) @ areas[y].T).sum(axis=1)
        lo, hi = np.percentile(st_d, PCT)
        mass = areas[y].sum(axis=0)[:, None] * value  # t C per class and pool
        cov = float(np.nansum(mass * pool_known) / np.nansum(mass)) if np.nansum(mass) > 0 else np.nan
        stock_rows.append({"year": int(y), "stock_tc": st_c, "low_tc": float(lo), "high_tc": float(hi), "coverage": cov})
    stocks = pd.DataFrame(stock_rows, columns=["year", "stock_tc", "low_tc", "high_tc", "coverage"])
    out_table = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    by_zone = (pd.concat(zone_rows, ignore_index=True)[["zone_id", *ROW_COLUMNS]] if zone_rows
               else pd.DataFrame(columns=["zone_id", *ROW_COLUMNS]))
    missing = _missing(table, codes, value, gain, x_raw_pct, areas, periods, policy)
    shared = [sorted({codes[i // 4] if i < 4 * k else codes[i - 4 * k] for i in np.flatnonzero(group == g)})
              for g in range(n_groups) if (group == g).sum() > 1]
    shared_q = [str(x_quantity[np.flatnonzero(group == g)[0]]) for g in range(n_groups) if (group == g).sum() > 1]
    notes[:0] = _method_notes(n, seed, len(periods), accuracy, years, policy, missing, gain, periods, correlate,
                              list(zip(shared_q, shared)), table.names(), codes)
    return RemovalSeries(table=out_table, by_zone=by_zone, missing_uncertainty=missing, notes=tuple(notes),
                         scope=scope_rules(a, zone_ids=zones), zone_ids=tuple(zones), n_draws=n, seed=int(seed),
                         assumed_uncertainty_pct=None if policy is None else float(policy), correlate=correlate,
                         draws=draws, stocks=stocks)


def _missing(table: CoefficientTable, codes: list[int], value: np.ndarray, gain: np.ndarray, x_raw_pct: np.ndarray,
             areas: Mapping[int, np.ndarray], periods: list[_Period], policy: float | None) -> pd.DataFrame:
    """Coefficients of the classes present with a value and no uncertainty, and the share they carry."""
    k = len(codes)
    present = np.zeros(k, dtype=bool)
    for ar in areas.values():
        present |= ar.sum(axis=0) > 0
    last = areas[max(areas)].sum(axis=0) if areas else np.zeros(k)
    stock = np.concatenate([(last[:, None] * value).ravel(), np.full(k, np.nan)])
    total_stock = np.nansum(stock)
    mags = {m: np.zeros(5 * k) for m in METHODS}
    for p in periods:
        for m, t in _terms(p, areas, value, gain).items():
            mags[m] += np.abs(t["coef"].sum(axis=0))

    def share(x: np.ndarray, d: float) -> np.ndarray:
        return x / d if d > 0 else np.full(len(x), np.nan)

    x_code = np.array([*[c for c in codes for _ in POOLS], *codes])
    x_quantity = np.array([*[q for _ in codes for q in POOLS], *[GAIN] * k])
    x_value = np.concatenate([value.ravel(), gain])
    pick = np.isnan(x_raw_pct) & np.isfinite(x_value) & np.concatenate([np.repeat(present, 4), present])
    names, units = table.names(), dict(zip(table.values["quantity"], table.values["unit"]))
    out = pd.DataFrame({
        "lucode": x_code[pick].astype(int), "lulc_name": [names.get(int(c), "") for c in x_code[pick]],
        "quantity": x_quantity[pick], "value": x_value[pick], "unit": [units.get(q, "") for q in x_quantity[pick]],
        "stock_share": share(stock, total_stock)[pick],
        "stock_difference_share": share(mags["stock_difference"], mags["stock_difference"].sum())[pick],
        "gain_loss_share": share(mags["gain_loss"], mags["gain_loss"].sum())[pick],
        "assumed_pct": np.nan if policy is None else float(policy),
    }, columns=list(MISSING_COLUMNS))
    return out.sort_values(["gain_loss_share", "stock_share"], ascending=False, na_position="last").reset_index(drop=True)


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f} %"


def _method_notes(n: int, seed: int, n_periods: int, accuracy: Mapping[int, object], years: list[int], policy: float | None,
                  missing: pd.DataFrame, gain: np.ndarray, periods: list[_Period], correlate: str,
                  shared: list[tuple[str, list[int]]], names: Mapping[int, str] | None = None, codes: list[int] | None = None) -> list[Note]:
    notes = [Note("approach2",
                  f"IPCC Approach 2 (Monte Carlo, {n} draws, seed {seed}): each coefficient (or group of coefficients sharing one "
                  "default) is drawn once per draw and used on both "
                  "dates and in every zone, so the stock difference varies only with the area that changed class; intervals are "
                  "the 2.5 and 97.5 percentiles of the draws, the central value is the deterministic estimate",
                  n_draws=n, seed=seed),
             Note("truncated", "coefficients and area factors are drawn normal (sd = value x U% / 100 / 1.96) truncated at 0: "
                  "negative draws are drawn again, as densities, rates and areas cannot be negative")]
    if correlate != "independent" and shared:
        listed = "; ".join(f"{q} of classes {', '.join(map(str, cs))}" for q, cs in shared)
        rule = ("the same quantity and uncertainty share one error (Tier 1 defaults of one pool share their reference value, "
                "e.g. SOCref)" if correlate == "same_quantity" else
                "the same quantity, value and uncertainty are one default applied to several classes")
        notes.append(Note("shared_defaults",
                          f"coefficients with {rule} and are drawn together ({listed}); the error of the factors that tell "
                          "the classes apart (e.g. a land-use factor on SOCref) is not in the table and not drawn",
                          rule=correlate, groups=[[q, cs] for q, cs in shared]))
    elif correlate == "independent":
        notes.append(Note("independent_coefficients",
                          "every class's coefficient is drawn on its own, even where the table applies one default to several "
                          "classes: conversions between such classes then look far more uncertain than they are"))
    if n_periods == 0:
        notes.append(Note("one_date", "one land-cover date only: there is no period, so no annual removal and no interval"))
    if policy is not None:
        notes.append(Note("assumed_uncertainty",
                          f"policy: {len(missing)} coefficient(s) without a sourced uncertainty are given +/-{policy:g} % (95 %); "
                          "an assumption, not a measurement", pct=float(policy), n=len(missing)))
    elif len(missing):
        sd_share = float(missing["stock_difference_share"].sum(min_count=1))
        gl_share = float(missing["gain_loss_share"].sum(min_count=1))
        top = missing[missing[["stock_share", "stock_difference_share", "gain_loss_share"]].fillna(0).max(axis=1) > 0]
        listed = ", ".join(f"{int(r.lucode)} {r.quantity}" for r in top.itertuples()) or "only zero-valued ones"
        notes.append(Note("fixed_coefficients",
                          f"{len(missing)} coefficient(s) carry no uncertainty and are held fixed ({listed}); they carry "
                          f"{_pct(sd_share)} of the stock-difference terms and {_pct(gl_share)} of the gain-loss terms, so the "
                          "intervals are too narrow by an unknown amount (see coverage); set assumed_uncertainty_pct to assume one",
                          n=len(missing), stock_difference_share=sd_share, gain_loss_share=gl_share,
                          coefficients=[[int(r.lucode), r.quantity] for r in top.itertuples()]))
    used = _stable_use(periods, len(gain))
    zero_rates = [int(codes[i]) for i in range(len(gain)) if used[i] and gain[i] == 0] if codes is not None else []
    if zero_rates:
        listed = ", ".join(f"{c} {(names or {}).get(c, '')}".strip() for c in zero_rates)
        notes.append(Note("zero_coefficients",
                          f"a relative uncertainty gives no spread to a coefficient of 0: the Tier 1 'no change' gain rates of land "
                          f"remaining in class {listed} add no uncertainty, although the assumption has one", codes=zero_rates))
    with_report = sorted(y for y in years if y in accuracy)
    if with_report:
        notes.append(Note("areas_drawn",
                          f"class areas of {', '.join(map(str, with_report))} are drawn from the accuracy report(s) (Olofsson et al. "
                          "2014 adjusted-area 95 % half-widths): one factor per class and date, applied to every zone, independent "
                          "between dates; land remaining in its class takes the start date's factor (the change itself has no "
                          "accuracy assessment)", years=with_report))
    fixed_years = [y for y in years if y not in accuracy]
    if fixed_years:
        notes.append(Note("areas_fixed",
                          f"no accuracy report for {', '.join(map(str, fixed_years))}: the mapped class areas of those dates are held "
                          "fixed, so the intervals leave out the map's classification error (name a report under "
                          "[landcover.accuracy] to include it)", years=fixed_years))
    return notes


def _stable_use(periods: list[_Period], k: int) -> np.ndarray:
    used = np.zeros(k, dtype=bool)
    for p in periods:
        used |= p.stable_rated.sum(axis=0) > 0
    return used


# --------------------------------------------------------------------------- position


def _emissions_frame(emissions: pd.DataFrame, dataset: str | None, notes: list[Note]) -> pd.DataFrame:
    """``zone_id, year, emissions_tco2e, uncertainty_tco2e`` of one dataset, scope 1 only."""
    e = emissions.copy()
    if "emissions_tco2e" not in e.columns and "emissions_tco2" in e.columns:
        e = e.rename(columns={"emissions_tco2": "emissions_tco2e"})
    need = [c for c in ("zone_id", "year", "emissions_tco2e") if c not in e.columns]
    if need:
        raise SchemaError("emissions", f"missing column(s) {need}; the frame has {list(emissions.columns)}",
                          "pass zone_id, year, emissions_tco2e (and optionally uncertainty_tco2e, a 95 % half-width), "
                          "e.g. EmissionsInventory.totals()")
    if "dataset" in e.columns:
        have = list(dict.fromkeys(e["dataset"].astype(str)))
        if dataset is None and len(have) > 1:
            raise SchemaError("emissions", f"the rows hold several datasets {have}; two series are never added up",
                              "pass dataset= (e.g. the inventory's primary dataset) or EmissionsInventory.totals()")
        if dataset is not None:
            if dataset not in have:
                raise SchemaError("emissions", f"no dataset {dataset!r} among {have}", f"use one of {have}")
            e = e[e["dataset"].astype(str) == dataset]
    elif dataset is not None:
        raise SchemaError("emissions", f"dataset {dataset!r} was asked for but the rows have no dataset column",
                          "leave dataset out, or pass rows with a dataset column")
    if "scope" in e.columns:
        key = e["scope"].fillna("").astype(str).str.strip().str.lower().str.replace(r"[\s_-]", "", regex=True)
        other = sorted(set(e.loc[~key.isin(["scope1", "s1", "1", ""]), "scope"].astype(str)))
        if other:
            notes.append(Note("emissions_not_scope1", f"rows of scope {other} are left out: the position compares scope-1 "
                              "CO2 with removals (adding scope 2 would count power plants' emissions twice)", scopes=other))
        e = e[key.isin(["scope1", "s1", "1", ""])]
    e["zone_id"] = e["zone_id"].astype(str)
    e["year"] = pd.to_numeric(e["year"], errors="coerce")
    e["emissions_tco2e"] = pd.to_numeric(e["emissions_tco2e"], errors="coerce")
    hw = pd.to_numeric(e["uncertainty_tco2e"], errors="coerce") if "uncertainty_tco2e" in e.columns else pd.Series(np.nan, index=e.index)
    if "uncertainty_pct" in e.columns:  # the inventory's per-row form: 95 % half-width in % of the value
        hw = hw.fillna(pd.to_numeric(e["uncertainty_pct"], errors="coerce") / 100.0 * e["emissions_tco2e"])
    e["uncertainty_tco2e"] = hw
    bad = e[e["year"].isna() | (e["year"] % 1 != 0) | ~np.isfinite(e["emissions_tco2e"]) | (e["emissions_tco2e"] < 0)
            | (e["uncertainty_tco2e"] < 0)]
    if len(bad):
        raise SchemaError("emissions", f"{len(bad)} row(s) have a missing or fractional year, a missing, infinite or negative "
                          f"emissions_tco2e or a negative uncertainty (first: {bad.iloc[0].to_dict()})",
                          "load the inventory with sinks.ledger.inventory.load_emissions, which rejects such rows with a reason")
    e["year"] = e["year"].astype(int)
    return e[["zone_id", "year", "emissions_tco2e", "uncertainty_tco2e"]]


def period_for_year(periods: pd.DataFrame, year: int) -> tuple[str, str] | None:
    """``(period, basis)`` for ``year``: the land-cover period that covers it (the later one when a
    date closes one period and opens the next), else the nearest (the last period for later years,
    the first for earlier ones); the rule of :func:`sinks.pipeline.run_assessment`. None without periods."""
    if periods.empty:
        return None
    cover = periods[(periods["year_t0"] <= year) & (periods["year_t1"] >= year)]
    if len(cover):
        return str(cover.sort_values("year_t0").iloc[-1]["period"]), COVERS
    if year > periods["year_t1"].max():
        return str(periods.sort_values("year_t1").iloc[-1]["period"]), NEAREST
    return str(periods.sort_values("year_t0").iloc[0]["period"]), NEAREST


def position(emissions: pd.DataFrame, removals: RemovalSeries, *, years: list[int] | None = None,
             dataset: str | None = None, incomplete: pd.DataFrame | None = None) -> pd.DataFrame:
    """Net emissions and offset ratio per inventory year and removal method, with 95 % intervals.

    Parameters
    ----------
    emissions
        ``zone_id, year, emissions_tco2e`` (``emissions_tco2`` is accepted and renamed), optionally
        ``uncertainty_tco2e`` (95 % half-width per row; else ``uncertainty_pct`` of the value, the
        inventory rows' form), e.g. ``EmissionsInventory.totals()``. Rows are drawn independently,
        normal truncated at 0; several rows per zone and year (sectors) are summed. Only the zones
        of ``removals`` count, and only scope 1 when a ``scope`` column is present; other rows are
        left out and ``attrs['notes']`` says so. With a ``dataset`` column holding several series,
        ``dataset`` must name one: two series are never added up.
    removals
        From :func:`removal_series`; its draws give the intervals of the removals, of net
        emissions and of the offset ratio (percentiles of draws, the same draws for both).
    years
        Years to report (default: every year of the emissions in the removals' zones).
    dataset
        The inventory series to use when the rows carry a ``dataset`` column.
    incomplete
        ``zone_id, year, sectors``: zone-years whose rows lack a sector the zone reports in other
        years (:func:`sinks.ledger.trajectory.incomplete_years` of the sector rows). Their sum is
        not the zone's emissions: they count as missing.

    A year in which a zone of the removals has no emissions (no row, or an incomplete one) has
    no emissions, net emissions or offset ratio (NaN, intervals too): the removals of every zone
    are never set against the emissions of some of them. ``attrs['notes']`` names those years and
    zones (``zones_missing_emissions``, ``emissions_incomplete``).

    Returns
    -------
    DataFrame
        ``year, method, emissions_tco2e, emissions_low_tco2e, emissions_high_tco2e`` (NaN without
        uncertainties), ``emissions_coverage`` (share of the emissions in rows with an
        uncertainty), ``removals_tco2e_yr, removals_low_tco2e_yr, removals_high_tco2e_yr,
        removals_period, removals_basis`` (``period covers year`` | ``nearest period``),
        ``removals_coverage``, ``net_emissions_tco2e`` (emissions - removals) and its
        ``_low/_high``, ``offset_ratio`` (removals / emissions; NaN when emissions are 0 or
        unknown) and ``offset_ratio_low/high``, ``zones_missing_emissions`` (zones of the removals
        with no emissions row that year, or an incomplete one; comma-separated). ``attrs['notes']``
        holds Notes.
    """
    notes: list[Note] = []
    e = _emissions_frame(emissions, dataset, notes)
    zones = list(removals.zone_ids)
    other = sorted(set(e["zone_id"]) - set(zones))
    if other:
        notes.append(Note("emissions_outside_zones", f"emissions of zone(s) {other} are left out: the removals cover {zones}",
                          zones=other))
    e = e[e["zone_id"].isin(zones)]
    yrs = sorted({int(y) for y in (e["year"].unique() if years is None else years)})
    periods = removals.periods
    tab = removals.table.set_index(["period", "method"]) if len(removals.table) else None
    n = removals.n_draws
    inc: dict[tuple[str, int], tuple[str, ...]] = {}
    if incomplete is not None and len(incomplete):
        for z, y, secs in incomplete[["zone_id", "year", "sectors"]].itertuples(index=False):
            if str(z) in zones:
                inc[(str(z), int(y))] = tuple(secs)
    absent: dict[int, list[str]] = {}
    partial: dict[int, list[str]] = {}
    rows = []
    for y in yrs:
        ey = e[e["year"] == y]
        missing_z = [z for z in zones if z not in set(ey["zone_id"])]
        part_z = [z for z in zones if z not in missing_z and (z, y) in inc]
        if missing_z:
            absent[y] = missing_z
        if part_z:
            partial[y] = part_z
        gap = bool(missing_z or part_z)
        em = float(ey["emissions_tco2e"].sum()) if len(ey) and not gap else np.nan
        hw = ey["uncertainty_tco2e"].to_numpy(dtype=float)
        has_u = np.isfinite(hw) & (hw > 0)
        if gap:
            e_d = np.full(n, np.nan)
            e_lo = e_hi = e_cov = np.nan
        elif len(ey) and has_u.any():
            # a stream of its own per year: the same year gets the same draws whichever years are asked for
            rng = np.random.default_rng([int(removals.seed), 7919, y])
            vals = ey["emissions_tco2e"].to_numpy(dtype=float)
            e_d = _truncnorm(rng, vals, np.where(has_u, hw, 0.0) / Z95, n).sum(axis=1)
            e_lo, e_hi = np.percentile(e_d, PCT)
            e_cov = float(vals[has_u].sum() / em) if em > 0 else np.nan
        else:
            e_d = np.full(n, em)
            e_lo = e_hi = np.nan
            e_cov = 0.0 if len(ey) and np.isfinite(hw).any() else np.nan
        pick = period_for_year(periods, y)
        for method in METHODS:
            row = {"year": y, "method": method, "emissions_tco2e": em, "emissions_low_tco2e": e_lo,
                   "emissions_high_tco2e": e_hi, "emissions_coverage": e_cov,
                   "zones_missing_emissions": ",".join(z for z in zones if z in missing_z or z in part_z)}
            if pick is None or tab is None:
                row.update({"removals_tco2e_yr": np.nan, "removals_low_tco2e_yr": np.nan, "removals_high_tco2e_yr": np.nan,
                            "removals_period": "", "removals_basis": "", "removals_coverage": np.nan,
                            "net_emissions_tco2e": np.nan, "net_emissions_low_tco2e": np.nan, "net_emissions_high_tco2e": np.nan,
                            "offset_ratio": np.nan, "offset_ratio_low": np.nan, "offset_ratio_high": np.nan})
                rows.append(row)
                continue
            per, basis = pick
            r = tab.loc[(per, method)]
            r_d = np.asarray(removals.draws[(per, method)])
            rem = float(r["removals_tco2e_yr"])
            net_d = e_d - r_d
            ok = np.isfinite(em)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = rem / em if ok and em > 0 else np.nan
                ratio_d = np.where(e_d > 0, r_d / e_d, np.nan)
            n_lo, n_hi = np.percentile(net_d, PCT) if ok else (np.nan, np.nan)
            o_lo, o_hi = np.nanpercentile(ratio_d, PCT) if np.isfinite(ratio) else (np.nan, np.nan)
            row.update({"removals_tco2e_yr": rem, "removals_low_tco2e_yr": float(r["low_tco2e_yr"]),
                        "removals_high_tco2e_yr": float(r["high_tco2e_yr"]), "removals_period": per, "removals_basis": basis,
                        "removals_coverage": float(r["coverage"]), "net_emissions_tco2e": em - rem if ok else np.nan,
                        "net_emissions_low_tco2e": n_lo, "net_emissions_high_tco2e": n_hi,
                        "offset_ratio": ratio, "offset_ratio_low": o_lo, "offset_ratio_high": o_hi})
            rows.append(row)
    if absent:
        listing = "; ".join(f"{y}: {', '.join(z)}" for y, z in absent.items())
        notes.append(Note("zones_missing_emissions", f"no emissions, net emissions or offset ratio in {_year_list(list(absent))}: zone(s) "
                          f"without emissions rows ({listing}); the removals cover every zone, so a partial sum would overstate the "
                          "offset", years=sorted(int(y) for y in absent), items=[{"year": int(y), "zones": list(z)} for y, z in absent.items()]))
    if partial:
        listing = "; ".join(f"{z} {y} ({', '.join(inc[(z, y)])})" for y, zs in partial.items() for z in zs)
        notes.append(Note("emissions_incomplete", f"no emissions, net emissions or offset ratio in {_year_list(list(partial))}: a zone "
                          f"lacks a sector it reports in other years ({listing}); a missing sector is never counted as 0",
                          years=sorted(int(y) for y in partial),
                          items=[{"zone_id": z, "year": int(y), "sectors": list(inc[(z, y)])} for y, zs in partial.items() for z in zs]))
    out = pd.DataFrame(rows, columns=list(POSITION_COLUMNS))
    out.attrs["notes"] = tuple(notes)
    return out


def _year_list(years: list[int]) -> str:
    ys = sorted(int(y) for y in years)
    return ", ".join(str(y) for y in ys)
