"""The one orchestrator: ``run_assessment(config)`` serves the dashboard, the CLI and the tests.

Data flow: zones and land-cover dates on one grid -> per zone x class pixel counts (one
blockwise pass per date, one per period for change) -> area_ha -> stocks by pool ->
stock-difference and gain-loss flows -> reconciliation with the emissions inventory ->
a frozen :class:`Assessment` with provenance.
"""
from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import DISPLAY_CRS, CoordSystem
from geodata.errors import EmptyResultError
from geodata.files import sha256_file
from geodata.rasters import RasterInfo, check_categorical, read_info
from geodata.vectors import ZoneLayer, load_zones, prepare_zones
from geodata.zonal import ZonalHistogram, zonal_histogram, zonal_histogram_dask
from sinks import carbon
from wetlands.extent import wetland_change, wetland_extent
from sinks.coefficients import CoefficientTable, load_coefficients
from sinks.config import Config, load_config
from sinks.ledger.inventory import EmissionsInventory, load_emissions
from sinks.landcover.accuracy import load_area_uncertainty
from sinks.landcover.datasets import workspace_dir
from sinks.neutrality import offset_ratio, reconcile

Progress = Callable[[str, float], None]
ALL_ZONE = "all"
_PACKAGES = ("numpy", "pandas", "geopandas", "shapely", "pyproj", "rasterio", "pyogrio", "dask", "streamlit")


@dataclass(frozen=True)
class Kpis:
    """Headline figures for the latest land-cover date, summed over all zones."""

    year: int
    total_stock_tc: float
    stock_uncertainty_pct: float  # coefficients and (when an accuracy report is given) map areas
    removals_tco2e_yr: float  # gain-loss net removals of the period ending at (or starting at) year
    removals_period: str
    emissions_year: int | None
    emissions_tco2e: float | None  # the primary dataset, scope 1
    offset_ratio: float | None
    stock_area_uncertainty_pct: float = float("nan")  # the part from the map's area estimates alone


@dataclass(frozen=True)
class Assessment:
    """Everything one run computes. Tables are long-form pandas frames with units in names."""

    config: Config
    zones: gpd.GeoDataFrame  # display CRS, columns zone_id, name_zh, name_en, geometry
    areas: pd.DataFrame  # zone_id, year, lucode, count_px, area_ha
    nodata: pd.DataFrame  # zone_id, year, nodata_px, nodata_ha, valid_ha
    stocks: pd.DataFrame  # zone_id, year, pool, stock_tc, uncertainty_pct
    stock_totals: pd.DataFrame  # zone_id, year, stock_tc, uncertainty_pct
    change: pd.DataFrame  # zone_id, period, code_t0, code_t1, area_ha
    flows: pd.DataFrame  # zone_id, period, year_t0, year_t1, stock-difference and gain-loss columns
    emissions: pd.DataFrame | None  # the primary dataset's scope-1 rows: zone_id, year, sector, emissions_tco2e, ...
    neutrality: pd.DataFrame | None  # zone_id, year, emissions_tco2e, removals_tco2e_yr, net, offset_ratio
    coefficients: CoefficientTable
    inventory_rejected: pd.DataFrame | None
    wetlands: pd.DataFrame  # zone_id, year, wetland_ha, water_ha, valid_ha, wetland_share
    wetland_change: pd.DataFrame  # zone_id, period, wetland_lost_ha, wetland_gained_ha, wetland_net_change_ha
    repaired_zones: tuple[str, ...]
    provenance: dict = field(default_factory=dict)
    inventory: EmissionsInventory | None = None  # every dataset, rejected rows and notes

    @property
    def years(self) -> list[int]:
        return self.config.years

    @property
    def zone_ids(self) -> list[str]:
        return list(self.zones["zone_id"])

    def kpis(self, year: int | None = None, zone_ids: list[str] | None = None) -> Kpis:
        """Headline figures for ``year`` (default: the latest date) over ``zone_ids`` (default all)."""
        year = self.years[-1] if year is None else int(year)
        if year not in self.years:
            raise ValueError(f"no land cover for {year}; dates are {self.years}")
        zs = self.zone_ids if zone_ids is None else list(zone_ids)
        st = self.stock_totals[(self.stock_totals["year"] == year) & self.stock_totals["zone_id"].isin(zs)]
        unc = carbon._approach1_pct(st["stock_tc"].to_numpy(), st["uncertainty_pct"].to_numpy())
        au = st["area_uncertainty_pct"].to_numpy()
        area_unc = float((st["stock_tc"] * au).sum() / st["stock_tc"].sum()) if st["stock_tc"].sum() > 0 and not np.isnan(au).any() else float("nan")
        flow = self.flows_for_year(year)
        flow = flow[flow["zone_id"].isin(zs)] if flow is not None else None
        removals = float(flow["net_removals_tco2e_yr"].sum()) if flow is not None else float("nan")
        period = str(flow["period"].iloc[0]) if flow is not None and len(flow) else ""
        em_year = em = ratio = None
        if self.emissions is not None:
            have = sorted(y for y in self.emissions["year"].unique() if y <= year)
            if have:
                em_year = int(have[-1])
                e = self.emissions[(self.emissions["year"] == em_year) & self.emissions["zone_id"].isin(zs)]
                em = float(e["emissions_tco2e"].sum())
                ratio = offset_ratio(em, removals)
        return Kpis(year=year, total_stock_tc=float(st["stock_tc"].sum()), stock_uncertainty_pct=unc,
                    removals_tco2e_yr=removals, removals_period=period, emissions_year=em_year,
                    emissions_tco2e=em, offset_ratio=ratio, stock_area_uncertainty_pct=area_unc)

    def flows_for_year(self, year: int) -> pd.DataFrame | None:
        """Flows of the period ending at ``year``, else of the first period starting at it."""
        if self.flows.empty:
            return None
        ending = self.flows[self.flows["year_t1"] == year]
        if len(ending):
            return ending
        starting = self.flows[self.flows["year_t0"] == year]
        return starting if len(starting) else None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return out


def as_zone_layer(zones: ZoneLayer | gpd.GeoDataFrame, *, id_field: str = "zone_id", source: str = "<zones>",
                  coord_system: CoordSystem | str = CoordSystem.WGS84) -> ZoneLayer:
    """A :class:`ZoneLayer` from a ZoneLayer (returned as is) or a GeoDataFrame.

    A GeoDataFrame goes through :func:`geodata.vectors.prepare_zones`, the same checks as zones
    read from a file: a CRS, unique non-empty ids in ``id_field``, polygons (repaired and
    reported), lon/lat bounds, GCJ-02 / BD-09 converted when ``coord_system`` says so.
    """
    if isinstance(zones, ZoneLayer):
        return zones
    if not isinstance(zones, gpd.GeoDataFrame):
        raise TypeError(f"zones must be a ZoneLayer or a GeoDataFrame, got {type(zones).__name__}")
    return prepare_zones(zones, source=source, id_field=id_field, coord_system=coord_system)


def _zones(cfg: Config, ref: RasterInfo) -> ZoneLayer:
    if cfg.zones is None:
        left, bottom, right, top = ref.bounds
        gdf = gpd.GeoDataFrame({"zone_id": [ALL_ZONE], "name_zh": ["全域"], "name_en": ["Whole raster"]}, geometry=[shapely.box(left, bottom, right, top)], crs=ref.crs)
        return ZoneLayer(gdf=gdf, id_field="zone_id", source="raster extent")
    return load_zones(cfg.zones, id_field=cfg.zone_id_field, layer=cfg.zones_layer, coord_system=cfg.zones_coord_system)


def config_zones(cfg: Config, ref: RasterInfo | None = None) -> ZoneLayer:
    """The configuration's zones, validated (a single zone ``all`` = the raster extent when it
    names none; ``ref`` is the first land-cover raster, read when not given)."""
    if ref is None:
        ref = check_categorical(read_info(cfg.landcover[cfg.years[0]]))
    return _zones(cfg, ref)


def zone_cache_dir() -> Path:
    """Where rasterized zones (runs) are kept between runs: ``<workspace>/cache/zones``."""
    return workspace_dir() / "cache" / "zones"


def _histogram(cfg: Config, rasters: list[RasterInfo], zones: gpd.GeoDataFrame, id_field: str, progress: Callable[[float], None]) -> ZonalHistogram:
    if cfg.scheduler == "dask":
        if cfg.dask_address:
            from distributed import Client

            with Client(cfg.dask_address) as client:
                h = zonal_histogram_dask(rasters, zones, id_field=id_field, block_size=cfg.block_size,
                                         cache_dir=zone_cache_dir(), scheduler=client)
        else:
            h = zonal_histogram_dask(rasters, zones, id_field=id_field, block_size=cfg.block_size, cache_dir=zone_cache_dir())
        progress(1.0)
        return h
    return zonal_histogram(rasters, zones, id_field=id_field, block_size=cfg.block_size, threads=cfg.threads or None,
                           cache_dir=zone_cache_dir(), progress=progress)


def run_assessment(
    config: Config | str | Path,
    *,
    zones: ZoneLayer | gpd.GeoDataFrame | None = None,
    zone_id_field: str = "zone_id",
    progress: Progress | None = None,
) -> Assessment:
    """Compute stocks, flows and the neutrality reconciliation for one configuration.

    Parameters
    ----------
    config
        A :class:`Config` or the path of a TOML run configuration.
    zones
        Optional zones that replace the configuration's zones (wetland sites, drawn red lines,
        any polygons, overlapping or not: a pixel counts for every zone holding its centre). A
        :class:`ZoneLayer`, or a GeoDataFrame with ids in ``zone_id_field`` that is validated
        like a zone file (:func:`as_zone_layer`). Names come from the configuration's name
        fields, else ``name_zh`` / ``name_en``, else the id. The emissions inventory is kept
        per configured zone, so with replaced zones it is not read (``emissions`` and
        ``neutrality`` are None).
    progress
        ``progress(step, fraction)`` is called as work advances (fraction in [0, 1] overall).

    Raises ``DataError`` (with file, problem and fix) for any unusable input.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    say = progress or (lambda step, frac: None)
    years = cfg.years
    say("open land cover", 0.0)
    infos = {y: check_categorical(read_info(cfg.landcover[y])) for y in years}
    ref = infos[years[0]]
    table = load_coefficients(cfg.coefficients)
    zl = _zones(cfg, ref) if zones is None else as_zone_layer(zones, id_field=zone_id_field)
    zid = zl.id_field
    n_steps = len(years) + max(len(years) - 1, 0)
    step = 0

    def sub(label: str) -> Callable[[float], None]:
        s = step
        return lambda f: say(label, (s + f) / n_steps)

    area_rows, nodata_rows = [], []
    for y in years:
        h = _histogram(cfg, [infos[y]], zl.gdf, zid, sub(f"count land cover {y}"))
        step += 1
        df = h.to_frame()
        nod = infos[y].nodata
        is_nod = df["code"] == int(nod)
        for z in h.zone_ids:
            zn = df[(df["zone_id"] == z) & is_nod]
            zv = df[(df["zone_id"] == z) & ~is_nod]
            nodata_rows.append({"zone_id": z, "year": y, "nodata_px": int(zn["count_px"].sum()), "nodata_ha": float(zn["area_ha"].sum()), "valid_ha": float(zv["area_ha"].sum())})
        valid = df[~is_nod].rename(columns={"code": "lucode"}).assign(year=y)
        table.require_codes(list(valid["lucode"].unique()), raster=str(cfg.landcover[y]))
        area_rows.append(valid[["zone_id", "year", "lucode", "count_px", "area_ha"]])
    areas = pd.concat(area_rows, ignore_index=True)
    nodata = pd.DataFrame(nodata_rows)
    if areas["area_ha"].sum() == 0:
        raise EmptyResultError(cfg.landcover[years[0]], "the zones hold no valid land-cover pixel", "check that zones and raster overlap and that nodata is declared correctly")

    area_unc = {y: load_area_uncertainty(cfg.accuracy[y]) for y in years if y in cfg.accuracy}
    stocks = pd.concat([carbon.stocks_by_pool(areas[areas["year"] == y], table, area_uncertainty_pct=area_unc.get(y)).assign(year=y)
                        for y in years], ignore_index=True)
    totals = pd.concat([carbon.total_stocks(stocks[stocks["year"] == y]).assign(year=y) for y in years], ignore_index=True)

    change_rows, flow_rows = [], []
    for y0, y1 in zip(years, years[1:]):
        h = _histogram(cfg, [infos[y0], infos[y1]], zl.gdf, zid, sub(f"count change {y0}-{y1}"))
        step += 1
        df = h.to_frame()
        nod0, nod1 = int(infos[y0].nodata), int(infos[y1].nodata)
        df = df[(df["code_t0"] != nod0) & (df["code_t1"] != nod1)]
        period = f"{y0}-{y1}"
        change_rows.append(df.assign(period=period)[["zone_id", "period", "code_t0", "code_t1", "count_px", "area_ha"]])
        gl = carbon.gain_loss(df, table, years=y1 - y0)
        sd = carbon.stock_difference(totals[totals["year"] == y0], totals[totals["year"] == y1], years=y1 - y0)
        flow_rows.append(sd.merge(gl, on="zone_id").assign(period=period, year_t0=y0, year_t1=y1))
    change = pd.concat(change_rows, ignore_index=True) if change_rows else pd.DataFrame(columns=["zone_id", "period", "code_t0", "code_t1", "count_px", "area_ha"])
    flows = pd.concat(flow_rows, ignore_index=True) if flow_rows else pd.DataFrame(columns=["zone_id", "period", "year_t0", "year_t1", "net_removals_tco2e_yr"])

    emissions = neutrality = rejected = None
    inv: EmissionsInventory | None = None
    if cfg.inventory is not None and zones is None:
        say("read emissions inventory", 0.99)
        inv = load_emissions(cfg.inventory, zone_ids=zl.zone_ids, primary=cfg.inventory_primary)
        # one series only (the primary, scope 1): the KPIs never add two sources together
        # (detail rows beside their own sector total are left out: in_totals)
        emissions = inv.rows[(inv.rows["dataset"] == inv.primary) & (inv.rows["scope"] == "scope1") & inv.rows["in_totals"]].reset_index(drop=True)
        rejected = inv.rejected
        if not flows.empty:
            rem_rows = []
            for y in sorted(set(inv.years()) | set(years)):
                # each inventory year takes the removals of the land-cover period that covers it
                cover = flows[(flows["year_t0"] <= y) & (flows["year_t1"] >= y)]
                if cover.empty:
                    cover = flows[flows["year_t1"] == flows["year_t1"].max()] if y > flows["year_t1"].max() else flows[flows["year_t0"] == flows["year_t0"].min()]
                    basis = "nearest period"
                else:
                    cover = cover[cover["year_t0"] == cover["year_t0"].max()]
                    basis = "period covers year"
                for _, r in cover.iterrows():
                    rem_rows.append({"zone_id": r["zone_id"], "year": y, "removals_tco2e_yr": r["net_removals_tco2e_yr"], "removals_period": r["period"], "removals_basis": basis})
            neutrality = reconcile(inv.totals(), pd.DataFrame(rem_rows))

    zones_display = zl.gdf.to_crs(DISPLAY_CRS)
    zh, en = cfg.zone_name_fields
    if zones is not None:  # replaced zones: the configured name fields, else the usual ones
        zh = zh if zh in zones_display else "name_zh"
        en = en if en in zones_display else "name_en"
    zones_display = gpd.GeoDataFrame({
        "zone_id": zones_display[zid].astype(str),
        "name_zh": zones_display[zh] if zh in zones_display else zones_display[zid],
        "name_en": zones_display[en] if en in zones_display else zones_display[zid],
    }, geometry=zones_display.geometry.values, crs=DISPLAY_CRS)

    inputs = {f"landcover_{y}": {"path": str(cfg.landcover[y]), "sha256": sha256_file(cfg.landcover[y])} for y in years}
    inputs["coefficients"] = {"path": table.path, "sha256": table.sha256}
    if zones is not None:
        inputs["zones"] = {"source": zl.source, "replaced_config_zones": True, "n_zones": len(zl.gdf)}
    elif cfg.zones is not None:
        inputs["zones"] = {"path": str(cfg.zones), "layer": cfg.zones_layer, "sha256": sha256_file(cfg.zones)}
    if inv is not None:
        inputs["inventory"] = {"path": inv.path, "sha256": inv.sha256, "encoding": inv.encoding, "datasets": list(inv.datasets),
                               "primary": inv.primary, "rows": len(inv.rows), "rejected": len(inv.rejected),
                               "notes": [str(n) for n in inv.notes]}
    elif cfg.inventory is not None:
        inputs["inventory"] = {"path": str(cfg.inventory), "not_read": "the zones were replaced; the inventory is per configured zone"}
    for y, p in cfg.accuracy.items():
        inputs[f"accuracy_{y}"] = {"path": str(p)}
    provenance = {
        "run_at_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": str(cfg.source) if cfg.source else None,
        "area": {"name_zh": cfg.name_zh, "name_en": cfg.name_en, "illustrative": cfg.illustrative},
        "inputs": inputs,
        "coefficient_table": {"path": table.path, "sha256": table.sha256, "form": table.form,
                              "unverified_values": int((~table.values["verified"]).sum()),
                              "source_required": int(table.values["value"].isna().sum())},
        "analysis_crs": ref.crs.to_string(),
        "pixel_size_m": [abs(ref.transform.a), abs(ref.transform.e)],
        "grid": {"width": ref.width, "height": ref.height},
        "nodata": {str(y): infos[y].nodata for y in years},
        "nodata_treatment": "pixels equal to the declared nodata value are excluded from stocks and flows and reported as nodata_ha per zone",
        "zone_coverage_rule": "a pixel belongs to every zone whose polygon contains its centre (overlapping zones each count it)",
        "scheduler": cfg.scheduler,
        "block_size": cfg.block_size,
        "repaired_zones": list(zl.repaired_ids),
        "zones_converted_from": zl.converted_from,
        "versions": _versions(),
    }
    say("done", 1.0)
    return Assessment(config=cfg, zones=zones_display, areas=areas, nodata=nodata, stocks=stocks, stock_totals=totals,
                      change=change, flows=flows, emissions=emissions, neutrality=neutrality, coefficients=table,
                      inventory_rejected=rejected, wetlands=wetland_extent(areas), wetland_change=wetland_change(change),
                      repaired_zones=zl.repaired_ids, provenance=provenance, inventory=inv)
