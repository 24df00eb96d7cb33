"""Greening indicators per planning unit and date, from exact coverage fractions.

Each unit is weighed pixel by pixel by the share of the pixel it covers
(:func:`geodata.coverage.zone_coverage`), so units that are thin or overlap are counted
exactly and independently (an overlapping pixel counts for each unit holding it).

Indicators (percentages; NaN, never 0, when the denominator is empty, with a note):

* ``green_coverage_pct`` 绿化覆盖率: green-cover classes inside the built-up area / built-up area;
* ``green_coverage_fvc_pct``: the same ratio with green measured below the pixel: the built-up
  area's pixels weighted by their fractional vegetation cover from NDVI (a 30 m built-up pixel
  with street trees is partly green);
* ``forest_coverage_pct`` 森林覆盖率: forest classes / land area (water left out);
* ``vegetation_share_pct``: land whose annual NDVI is at least the first break, over land with NDVI,
  with the area of each NDVI class beside it;
* ``park_service_<r>m_pct``: residential land (built-up class inside the built-up area) whose
  pixel centre lies within ``r`` m of a park, over all residential land.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.coverage import zone_coverage
from geodata.errors import DataError
from sinks.coefficients import CoefficientTable
from sinks.greening.layers import CANDIDATE_KINDS, YearLayers
from sinks.greening.settings import ClassRoles, GreeningConfig
from sinks.units import C_TO_CO2, M2_PER_HA

INDICATORS = ("green_coverage_pct", "green_coverage_fvc_pct", "forest_coverage_pct", "vegetation_share_pct")


def park_indicator(radius_m: float) -> str:
    return f"park_service_{radius_m:g}m_pct"


def ndvi_class_labels(breaks) -> list[str]:
    """Labels of the NDVI classes cut at ``breaks`` (e.g. ``<0.2``, ``0.2-0.4``, ``>=0.6``)."""
    b = [f"{x:g}" for x in breaks]
    return [f"<{b[0]}"] + [f"{lo}-{hi}" for lo, hi in zip(b, b[1:])] + [f">={b[-1]}"]


def _sums(key: np.ndarray, weight: np.ndarray, mask: np.ndarray | None = None) -> dict[int, float]:
    k = key.ravel()
    w = weight.ravel()
    if mask is not None:
        m = mask.ravel()
        k, w = k[m], w[m]
    if k.size == 0:
        return {}
    uniq, inv = np.unique(k, return_inverse=True)
    s = np.bincount(inv, weights=w)
    return {int(u): float(v) for u, v in zip(uniq, s) if v > 0}


def count_unit(layers: YearLayers, geom, *, unit_id: str, breaks, area_ha: float = float("nan"),
               shelterbelt_factor: float = 1.0) -> dict[str, list[dict]]:
    """Areas (ha) of one unit on one date, as long rows for four tables.

    ``classes``: code x inside the built-up area; ``ndvi``: NDVI class over land (class 0 = no
    NDVI); ``served``: residential land by the set of radii that serve it (bit i = radius i);
    ``candidates``: planting candidates by kind and present class (field-edge pixels count
    ``shelterbelt_factor`` of their area: the planted strip, not the whole pixel). ``area_ha``
    is the unit's own area (the part off the map is reported).
    """
    cov = zone_coverage(layers.info, geom, source=f"unit {unit_id}")
    out: dict[str, list[dict]] = {"classes": [], "ndvi": [], "served": [], "candidates": [], "unit": []}
    y = layers.year
    if cov.is_empty:
        out["unit"].append({"unit_id": unit_id, "year": y, "area_ha": area_ha, "covered_ha": 0.0, "nodata_ha": 0.0,
                            "ndvi_known": layers.ndvi is not None})
        return out
    w = cov.window
    sl = (slice(int(w.row_off), int(w.row_off + w.height)), slice(int(w.col_off), int(w.col_off + w.width)))
    wgt = cov.pixel_area_m2() / M2_PER_HA
    inside = wgt > 0
    lc = layers.landcover[sl].astype("int64")
    valid = layers.valid[sl] & inside
    out["unit"].append({"unit_id": unit_id, "year": y, "area_ha": area_ha, "covered_ha": float(wgt.sum()),
                        "nodata_ha": float(wgt[inside & ~layers.valid[sl]].sum()), "ndvi_known": layers.ndvi is not None})
    ba = layers.builtup_area[sl]
    for key, ha in _sums(lc * 2 + ba, wgt, valid).items():
        out["classes"].append({"unit_id": unit_id, "year": y, "code": key // 2, "in_builtup_area": bool(key % 2), "area_ha": ha})
    land = layers.land[sl] & inside
    if layers.ndvi is not None:
        nd = layers.ndvi[sl]
        cls = np.where(np.isnan(nd), 0, np.digitize(np.nan_to_num(nd, nan=-2.0), breaks) + 1)
        for key, ha in _sums(cls, wgt, land).items():
            out["ndvi"].append({"unit_id": unit_id, "year": y, "ndvi_class": key, "area_ha": ha})
        if layers.fvc is not None:
            fv = layers.fvc[sl]
            m = valid & ba & np.isfinite(fv)
            out["unit"][-1].update(fvc_builtup_ha=float(wgt[m].sum()), fvc_green_ha=float((wgt[m] * fv[m]).sum()))
    resid = valid & ba & np.isin(lc, layers.builtup_codes)
    bits = np.zeros(lc.shape, dtype="int64")
    for i, r in enumerate(sorted(layers.served)):
        bits |= layers.served[r][sl].astype("int64") << i
    for key, ha in _sums(bits, wgt, resid).items():
        out["served"].append({"unit_id": unit_id, "year": y, "served_bits": key, "area_ha": ha})
    cand = layers.candidates[sl]
    ckey = lc * 8 + cand * 2 + ba
    cmask = (cand > 0) & valid
    # present fractional cover on the candidates (NaN-free): planting them adds 1 - FVC of cover
    fvc_w = wgt * np.nan_to_num(layers.fvc[sl], nan=0.0) if layers.fvc is not None else np.zeros_like(wgt)
    fvc_sums = _sums(ckey, fvc_w, cmask)
    for key, ha in _sums(ckey, wgt, cmask).items():
        kind = CANDIDATE_KINDS[(key % 8) // 2]
        share = shelterbelt_factor if kind == "shelterbelt" else 1.0
        out["candidates"].append({"unit_id": unit_id, "year": y, "code": key // 8, "kind": kind,
                                  "in_builtup_area": bool(key % 2), "area_ha": ha * share,
                                  "fvc_ha": fvc_sums.get(key, 0.0) * share})
    return out


def _areas_ha(units: gpd.GeoDataFrame) -> list[float]:
    """Each unit's own area in ha (planar in a projected CRS, geodesic on lon/lat)."""
    if units.crs is not None and units.crs.is_geographic:
        from pyproj import Geod
        e = units.crs.ellipsoid
        geod = Geod(a=e.semi_major_metre, b=e.semi_minor_metre)
        return [abs(geod.geometry_area_perimeter(g)[0]) / M2_PER_HA for g in units.geometry]
    return [g.area / M2_PER_HA for g in units.geometry]


def unit_tables(layers_by_year: dict[int, YearLayers], units: gpd.GeoDataFrame, id_field: str, *, breaks,
                shelterbelt_width_m: float = 0.0, progress=None) -> dict[str, pd.DataFrame]:
    """Long area tables of every unit and date (see :func:`count_unit`); ``units`` in the grid's CRS."""
    from sinks.greening.layers import pixel_size_m
    say = progress or (lambda f: None)
    rows: dict[str, list[dict]] = {"classes": [], "ndvi": [], "served": [], "candidates": [], "unit": []}
    areas = _areas_ha(units)
    jobs = [(y, uid, g, a) for y in sorted(layers_by_year) for uid, g, a in zip(units[id_field].astype(str), units.geometry, areas)]
    factors = {y: min(1.0, shelterbelt_width_m / pixel_size_m(v.info)) for y, v in layers_by_year.items()}
    for n, (y, uid, g, a) in enumerate(jobs):
        part = count_unit(layers_by_year[y], g, unit_id=uid, breaks=breaks, area_ha=a, shelterbelt_factor=factors[y])
        for k, v in part.items():
            rows[k].extend(v)
        say((n + 1) / len(jobs))
    cols = {"classes": ["unit_id", "year", "code", "in_builtup_area", "area_ha"],
            "ndvi": ["unit_id", "year", "ndvi_class", "area_ha"],
            "served": ["unit_id", "year", "served_bits", "area_ha"],
            "candidates": ["unit_id", "year", "code", "kind", "in_builtup_area", "area_ha", "fvc_ha"],
            "unit": ["unit_id", "year", "area_ha", "covered_ha", "nodata_ha", "ndvi_known", "fvc_builtup_ha", "fvc_green_ha"]}
    out = {k: pd.DataFrame(v, columns=cols[k]) for k, v in rows.items()}
    for k, df in out.items():  # typed even when empty (a unit set without residential land ...)
        num = [c for c in df.columns if c.endswith("_ha")]
        df[num] = df[num].astype("float64")
        if "year" in df:
            df["year"] = df["year"].astype("int64")
        for c in ("in_builtup_area", "ndvi_known"):  # an empty object column would select columns, not rows
            if c in df:
                df[c] = df[c].astype(bool)
        for c in ("code", "ndvi_class", "served_bits"):
            if c in df:
                df[c] = df[c].astype("int64")
    return out


def _by_unit(df: pd.DataFrame, mask, index) -> pd.Series:
    return df[mask].groupby(["unit_id", "year"])["area_ha"].sum().reindex(index, fill_value=0.0).astype("float64")


def _pct(num: pd.Series, den: pd.Series, min_den_ha: float = 1e-6) -> pd.Series:
    return (100.0 * num / den).where(den > min_den_ha)


def indicator_table(tables: dict[str, pd.DataFrame], *, roles: ClassRoles, gcfg: GreeningConfig,
                    coefficients: CoefficientTable | None = None, parks_given: bool = True,
                    forest_extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit and date with the areas behind every indicator and the indicators.

    Percentages are NaN where the denominator is empty, NDVI figures NaN for a date without band
    files, park service NaN without a park layer (``parks_given`` false); ``notes`` says why.
    ``forest_extra`` (unit_id, year, forest_extra_ha, forest_extra_source): forest the map cannot
    see (shelterbelts, 四旁树), added to the mapped forest (``forest_mapped_ha``).
    """
    unit = tables["unit"].set_index(["unit_id", "year"])
    idx = unit.index
    c = tables["classes"]
    green = set(roles.green_codes(include_cropland=gcfg.include_cropland_in_green))
    forest = set(roles.forest_codes(include_shrub=gcfg.include_shrub_in_forest))
    land = set(roles.land_codes)
    out = pd.DataFrame(index=idx)
    out["unit_area_ha"] = unit["covered_ha"]
    out["outside_map_ha"] = (unit["area_ha"] - unit["covered_ha"]).clip(lower=0.0)
    out["nodata_ha"] = unit["nodata_ha"]
    out["mapped_ha"] = _by_unit(c, c["code"].notna(), idx)
    out["land_ha"] = _by_unit(c, c["code"].isin(land), idx)
    out["water_ha"] = out["mapped_ha"] - out["land_ha"]
    out["builtup_area_ha"] = _by_unit(c, c["in_builtup_area"], idx)
    out["green_in_builtup_ha"] = _by_unit(c, c["in_builtup_area"] & c["code"].isin(green), idx)
    out["green_coverage_pct"] = _pct(out["green_in_builtup_ha"], out["builtup_area_ha"])
    # the same ratio from NDVI: sum of pixel area x fractional vegetation cover (sub-pixel green)
    known = unit["ndvi_known"].astype(bool)
    out["fvc_builtup_ha"] = unit["fvc_builtup_ha"].where(known, np.nan).fillna(0.0).where(known)
    out["fvc_green_in_builtup_ha"] = unit["fvc_green_ha"].fillna(0.0).where(known)
    out["green_coverage_fvc_pct"] = _pct(out["fvc_green_in_builtup_ha"], out["fvc_builtup_ha"])
    out["forest_mapped_ha"] = _by_unit(c, c["code"].isin(forest), idx)
    extra = pd.Series(0.0, index=idx)
    out["forest_extra_source"] = ""
    if forest_extra is not None and len(forest_extra):
        fe = forest_extra.assign(unit_id=forest_extra["unit_id"].astype(str)).set_index(["unit_id", "year"])
        extra = fe["forest_extra_ha"].reindex(idx, fill_value=0.0).astype("float64")
        out["forest_extra_source"] = fe["forest_extra_source"].reindex(idx).fillna("")
    out["forest_extra_ha"] = extra
    out["forest_ha"] = out["forest_mapped_ha"] + out["forest_extra_ha"]
    out["forest_coverage_pct"] = _pct(out["forest_ha"], out["land_ha"])
    out["green_ha"] = _by_unit(c, c["code"].isin(green), idx)
    nd = tables["ndvi"]
    labels = ndvi_class_labels(gcfg.ndvi_breaks)
    for k, lab in enumerate(labels, start=1):  # the same columns with or without band files
        out[f"ndvi_{lab}_ha"] = _by_unit(nd, nd["ndvi_class"] == k, idx).where(known)
    out["ndvi_land_ha"] = _by_unit(nd, nd["ndvi_class"] > 0, idx).where(known)
    out["vegetation_share_pct"] = _pct(_by_unit(nd, nd["ndvi_class"] > 1, idx), out["ndvi_land_ha"])
    sv = tables["served"]
    out["residential_ha"] = _by_unit(sv, sv["served_bits"] >= 0, idx)
    for i, r in enumerate(sorted(gcfg.park_radii_m)):
        served = _by_unit(sv, (sv["served_bits"].to_numpy(dtype="int64") >> i) & 1 == 1, idx)
        out[f"served_{r:g}m_ha"] = served if parks_given else np.nan
        out[park_indicator(r)] = _pct(served, out["residential_ha"]) if parks_given else np.nan
    out = out.join(candidate_summary(tables["candidates"], idx, roles=roles, gcfg=gcfg, coefficients=coefficients))
    out["candidate_greening_ha"] = out["candidate_greening_ha"].where(known)  # needs NDVI
    out["candidate_fvc_ha"] = out["candidate_fvc_ha"].where(known)
    out["forest_coverage_potential_pct"] = _pct(out["forest_ha"] + out["candidate_forest_ha"], out["land_ha"])
    out["green_coverage_potential_pct"] = _pct(out["green_in_builtup_ha"] + out["candidate_green_in_builtup_ha"], out["builtup_area_ha"])
    out["green_coverage_fvc_potential_pct"] = _pct(out["fvc_green_in_builtup_ha"] + out["candidate_green_in_builtup_ha"] - out["candidate_fvc_ha"],
                                                   out["fvc_builtup_ha"])
    out["notes"] = [_notes(r) for r in out.itertuples()]
    return out.reset_index()


def candidate_summary(cand: pd.DataFrame, idx, *, roles: ClassRoles, gcfg: GreeningConfig,
                      coefficients: CoefficientTable | None) -> pd.DataFrame:
    """Per unit and date: candidate area by kind, the coverage they would add and their carbon.

    ``candidate_forest_ha``: afforestation and shelterbelt candidates whose ``plant_to`` class
    counts as forest (greening of built-up land is not forest land);
    ``candidate_green_in_builtup_ha``: candidates inside the built-up area that are not green yet
    and whose ``plant_to`` class is green cover; ``candidate_removals_tco2e_yr``: area x the
    ``plant_to`` class's gain rate x 44/12 (growth of the new cover once established);
    ``candidate_stock_gain_tc``: area x (density of ``plant_to`` - density of the present class),
    the stock gained when the new cover is mature.
    """
    out = pd.DataFrame(index=idx)
    forest = set(roles.forest_codes(include_shrub=gcfg.include_shrub_in_forest))
    green = set(roles.green_codes(include_cropland=gcfg.include_cropland_in_green))
    rules = roles.plant_rules()
    c = cand.copy()
    c["plant_to"] = c["code"].map(lambda x: rules.get(int(x), ("", -1))[1])
    for kind in CANDIDATE_KINDS.values():
        out[f"candidate_{kind}_ha"] = _by_unit(c, c["kind"] == kind, idx)
    out["candidate_ha"] = _by_unit(c, c["kind"].notna(), idx)
    # greening of built-up land (street trees, pocket parks, green roofs) is green cover, not forest land
    out["candidate_forest_ha"] = _by_unit(c, c["plant_to"].isin(forest) & ~c["code"].isin(forest) & (c["kind"] != "greening"), idx)
    gb = c["in_builtup_area"] & c["plant_to"].isin(green) & ~c["code"].isin(green)
    out["candidate_green_in_builtup_ha"] = _by_unit(c, gb, idx)
    out["candidate_fvc_ha"] = _by_unit(c.assign(area_ha=c["fvc_ha"]), gb, idx)  # their present fractional cover
    if coefficients is not None and len(c):
        gain = coefficients.gain_rates()
        dens = coefficients.total_density_tc_per_ha()
        c["removals_tco2e_yr"] = c["area_ha"] * c["plant_to"].map(gain) * C_TO_CO2
        c["stock_gain_tc"] = c["area_ha"] * (c["plant_to"].map(dens) - c["code"].map(dens))
        out["candidate_removals_tco2e_yr"] = c.groupby(["unit_id", "year"])["removals_tco2e_yr"].sum(min_count=1).reindex(idx, fill_value=0.0)
        out["candidate_stock_gain_tc"] = c.groupby(["unit_id", "year"])["stock_gain_tc"].sum(min_count=1).reindex(idx, fill_value=0.0)
    else:
        out["candidate_removals_tco2e_yr"] = 0.0 if coefficients is not None else np.nan
        out["candidate_stock_gain_tc"] = 0.0 if coefficients is not None else np.nan
    return out


# reasons a unit's figure is undefined or needs a word, as codes with values (a UI translates
# them); the English text is what the CLI writes in the ``notes`` column
_REASON_TEXT = {
    "outside_map": "outside the land-cover map",
    "partly_outside": "{ha:.1f} ha of the unit lie outside the land-cover map and are not counted",
    "nodata": "{ha:.1f} ha without land cover (nodata) left out",
    "no_builtup": "no built-up area: green coverage undefined",
    "no_ndvi": "no NDVI (no band files, or none over the built-up area): NDVI figures undefined",
    "no_land": "no land: forest coverage undefined",
    "forest_extra": "forest includes {ha:.1f} ha listed apart (shelterbelts, 四旁树: {source})",
    "forest_exceeds_land": "mapped plus listed forest exceed the land area: check the listed areas (counted twice?)",
    "no_residential": "no residential land: park service undefined",
    "no_parks": "no park layer: park service undefined",
}
_GREEN = ("green_coverage_pct", "green_coverage_fvc_pct", "green_coverage_potential_pct")


def reason_applies(code: str, indicator: str) -> bool:
    """Whether reason ``code`` (see :func:`reasons`) concerns ``indicator``."""
    if code in ("outside_map", "partly_outside", "nodata"):
        return True
    if code == "no_builtup":
        return indicator in _GREEN
    if code == "no_ndvi":
        return indicator in ("green_coverage_fvc_pct", "vegetation_share_pct")
    if code in ("no_land", "forest_extra", "forest_exceeds_land"):
        return indicator.startswith("forest_coverage")
    if code in ("no_residential", "no_parks"):
        return indicator.startswith("park_service_")
    return False


def reasons(r) -> list[tuple[str, dict]]:
    """Why figures of one indicator row (a mapping or a namedtuple of :func:`indicator_table`)
    are undefined or partial: ``[(code, params), ...]`` in a fixed order."""
    g = r.get if hasattr(r, "get") else (lambda k, d=None: getattr(r, k, d))
    out: list[tuple[str, dict]] = []
    area = g("unit_area_ha", 0.0)
    if area <= 0:
        return [("outside_map", {})]
    outside = g("outside_map_ha", 0.0) or 0.0
    if outside > 0.01 * (area + outside):
        out.append(("partly_outside", {"ha": float(outside)}))
    if g("nodata_ha", 0.0) > 0.01 * area:
        out.append(("nodata", {"ha": float(g("nodata_ha"))}))
    if g("builtup_area_ha", 0.0) <= 1e-6:
        out.append(("no_builtup", {}))
    elif not (g("fvc_builtup_ha", np.nan) > 1e-6):
        out.append(("no_ndvi", {}))
    if g("land_ha", 0.0) <= 1e-6:
        out.append(("no_land", {}))
    extra = g("forest_extra_ha", 0.0) or 0.0
    if extra > 0:
        out.append(("forest_extra", {"ha": float(extra), "source": g("forest_extra_source", "") or "no source given"}))
        if g("forest_ha", 0.0) > g("land_ha", 0.0) + 1e-9:
            out.append(("forest_exceeds_land", {}))
    if g("residential_ha", 0.0) <= 1e-6:
        out.append(("no_residential", {}))
    elif any(k.startswith("served_") and pd.isna(v) for k, v in (r.items() if hasattr(r, "items") else r._asdict().items())):
        out.append(("no_parks", {}))
    return out


def _notes(r) -> str:
    return "; ".join(_REASON_TEXT[c].format(**p) for c, p in reasons(r))


def candidate_gains(indicators: pd.DataFrame, *, share: float = 1.0) -> pd.DataFrame:
    """What planting ``share`` (0-1) of every unit's candidate land would add, per unit and date.

    Gains are linear in the planted area: candidate areas by kind, ``removals_tco2e_yr`` and
    ``stock_gain_tc`` times ``share``; ``forest_gain_pts`` (森林覆盖率; afforestation and
    shelterbelts), ``green_gain_pts`` (green coverage by classes) and ``green_fvc_gain_pts``
    (by fractional cover: the candidates' own present FVC is subtracted) in percentage points.
    The greening part is an upper bound (all grey built-up land planted).
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    d = indicators
    out = d[["unit_id", "year"]].copy()
    for kind in CANDIDATE_KINDS.values():
        out[f"candidate_{kind}_ha"] = d[f"candidate_{kind}_ha"] * share
    out["candidate_ha"] = out[[f"candidate_{k}_ha" for k in CANDIDATE_KINDS.values()]].sum(axis=1, min_count=1)
    out["forest_gain_pts"] = _pct(d["candidate_forest_ha"] * share, d["land_ha"])
    out["green_gain_pts"] = _pct(d["candidate_green_in_builtup_ha"] * share, d["builtup_area_ha"])
    out["green_fvc_gain_pts"] = _pct((d["candidate_green_in_builtup_ha"] - d["candidate_fvc_ha"]) * share, d["fvc_builtup_ha"])
    out["removals_tco2e_yr"] = d["candidate_removals_tco2e_yr"] * share
    out["stock_gain_tc"] = d["candidate_stock_gain_tc"] * share
    return out


def map_shares(class_areas: pd.DataFrame, unit_id: str, year: int, labels=None) -> dict[str, float] | None:
    """The map's share of each point-sample label (tree / other vegetation / non-vegetation) in one
    unit and date, over its mapped area; None when the unit has no mapped land cover."""
    from sinks.greening.sampling import DEFAULT_MAP_LABELS
    labels = DEFAULT_MAP_LABELS if labels is None else labels
    c = class_areas[(class_areas["unit_id"].astype(str) == str(unit_id)) & (class_areas["year"] == year)]
    total = float(c["area_ha"].sum())
    if total <= 0:
        return None
    lab = c["code"].map(lambda x: labels.get(int(x)))
    if lab.isna().any():
        missing = sorted(int(x) for x in c.loc[lab.isna(), "code"].unique())
        raise DataError(f"unit {unit_id}", f"land-cover code(s) {missing} have no point-sample label",
                        "add them to the label mapping (tree / other_vegetation / non_vegetation)")
    return {k: float(v) / total for k, v in c.groupby(lab)["area_ha"].sum().items()}


def unit_topology(units: gpd.GeoDataFrame, id_field: str, extent) -> tuple[pd.DataFrame, float, float]:
    """Overlaps between units (pairs and hectares), the part of ``extent`` (a geometry in the
    units' CRS, or None) no unit covers (gap, ha) and the part of the units outside it (ha).
    Units on lon/lat are measured in their UTM zone."""
    if units.crs is not None and units.crs.is_geographic:
        utm = units.estimate_utm_crs()
        if extent is not None:
            extent = gpd.GeoSeries([extent], crs=units.crs).to_crs(utm).iloc[0]
        units = units.to_crs(utm)
    geoms = list(units.geometry)
    ids = list(units[id_field].astype(str))
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    rows = []
    for i, j in zip(a, b):
        if i < j:
            ov = shapely.intersection(geoms[i], geoms[j]).area / M2_PER_HA
            if ov >= 0.01:  # below 100 m2: slivers of digitising, not overlaps
                rows.append({"unit_a": ids[i], "unit_b": ids[j], "overlap_ha": ov})
    union = shapely.union_all(geoms)
    gap = shapely.difference(extent, union).area / M2_PER_HA if extent is not None else 0.0
    outside = shapely.difference(union, extent).area / M2_PER_HA if extent is not None else 0.0
    return pd.DataFrame(rows, columns=["unit_a", "unit_b", "overlap_ha"]), float(gap), float(outside)
