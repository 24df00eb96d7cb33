"""Build the embedded demo "Jiangbei New Area (illustrative)" into a data folder.

:func:`build_demo` writes, under ``data_dir``:

* ``rasters/jiangbei_landcover_{2020,2025}.tif``: ESA WorldCover codes, UTM 50N, 30 m;
* ``rasters/jiangbei_bands_{2020,2025}.tif``: green, red, nir, swir1 reflectance x 10000;
* ``rasters/jiangbei_sites_illustrative.gpkg``: layers ``sites``, ``eco_space`` (illustrative
  ecological-space control areas around the red-line sites), ``units`` (a synthetic partition of
  each district's land into as many cells as it has real sub-district units: Pukou 11, Liuhe 12,
  Baguazhou 1; not street boundaries) and ``parks`` (illustrative parks: green patches of the 2025
  land cover in or next to towns); see :mod:`sinks.demo.planning`;
* ``rasters/jiangbei_demo_manifest.json``: generator, seed, input hash, output hashes and
  the measured class areas (written last: its presence means the build completed);
* ``inventory/jiangbei_emissions_illustrative.csv`` and ``inventory/README.md``.

It reads only ``boundaries/jiangbei_boundaries.gpkg`` from ``data_dir``. Work is skipped when
the outputs exist and are current (same generator version and source code, seed and input
hash, and every output's sha256 matches the manifest), unless ``force`` is set.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from geodata.files import sha256_file
from sinks.demo import constants as K
from sinks.demo.bands import BAND_NAMES, SCALE, synthesize_bands
from sinks.demo.grid import geom_to_lonlat
from sinks.demo.inventory import inventory_csv_text, inventory_readme_text
from sinks.demo.landscape import Boundaries, Landscape, generate_landscape, load_boundaries
from sinks.demo.planning import parks_frame, units_frame
from sinks.demo.writers import write_bands, write_gpkg, write_landcover, write_text

Progress = Callable[[str, float], None]

BOUNDARIES_REL = Path("boundaries") / "jiangbei_boundaries.gpkg"


@dataclass(frozen=True)
class DemoPaths:
    """Paths of the demo outputs (all absolute or all relative to the caller's ``data_dir``)."""

    landcover_2020: Path
    landcover_2025: Path
    bands_2020: Path
    bands_2025: Path
    sites: Path
    manifest: Path
    inventory_csv: Path
    inventory_readme: Path

    @classmethod
    def under(cls, data_dir: Path) -> DemoPaths:
        """The standard layout under ``data_dir``."""
        r = data_dir / "rasters"
        inv = data_dir / "inventory"
        return cls(
            landcover_2020=r / "jiangbei_landcover_2020.tif",
            landcover_2025=r / "jiangbei_landcover_2025.tif",
            bands_2020=r / "jiangbei_bands_2020.tif",
            bands_2025=r / "jiangbei_bands_2025.tif",
            sites=r / "jiangbei_sites_illustrative.gpkg",
            manifest=r / "jiangbei_demo_manifest.json",
            inventory_csv=inv / "jiangbei_emissions_illustrative.csv",
            inventory_readme=inv / "README.md",
        )

    def landcover(self, year: int) -> Path:
        """Land-cover raster of ``year`` (2020 or 2025)."""
        return {2020: self.landcover_2020, 2025: self.landcover_2025}[year]

    def bands(self, year: int) -> Path:
        """Reflectance raster of ``year`` (2020 or 2025)."""
        return {2020: self.bands_2020, 2025: self.bands_2025}[year]

    def raster_outputs(self) -> tuple[Path, ...]:
        """Outputs covered by the manifest hashes."""
        return (self.landcover_2020, self.landcover_2025, self.bands_2020, self.bands_2025, self.sites)


def code_fingerprint() -> str:
    """sha256 over the source files of :mod:`sinks.demo`: any code change forces a rebuild."""
    digest = hashlib.sha256()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(p.name.encode("utf-8") + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def _manifest_is_current(paths: DemoPaths, seed: int, boundaries_sha: str) -> bool:
    """True if the manifest matches this generator (version and code), seed and input, and
    every output still has the hash recorded in it."""
    try:
        doc = json.loads(paths.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if (
        doc.get("generator") != f"{K.GENERATOR_NAME} {K.GENERATOR_VERSION}"
        or doc.get("code_sha256") != code_fingerprint()
        or doc.get("seed") != seed
        or doc.get("boundaries_sha256") != boundaries_sha
    ):
        return False
    files = doc.get("files", {})
    for p in paths.raster_outputs():
        if not p.is_file() or files.get(p.name) != sha256_file(p):
            return False
    return True


def class_areas(landscape: Landscape) -> dict[str, dict[str, dict[str, float]]]:
    """Class areas (ha) and land shares by year and zone, as stored in the manifest.

    Returns
    -------
    dict
        ``{year: {zone_id: {"land_ha", "yangtze_ha", "<code>_ha", "<code>_land_share"}}}``;
        land = the zone minus the Yangtze polygon (the share-target denominator).
    """
    px_ha = landscape.grid.pixel_ha
    out: dict[str, dict[str, dict[str, float]]] = {}
    for year, lc in landscape.landcover.items():
        per_zone: dict[str, dict[str, float]] = {}
        for code, zone_id in enumerate(K.ZONE_IDS, start=1):
            zmask = landscape.zone == code
            land = zmask & ~landscape.river
            n_land = int(land.sum())
            counts = np.bincount(lc[zmask], minlength=256)
            land_counts = np.bincount(lc[land], minlength=256)
            rec: dict[str, float] = {
                "zone_ha": round(int(zmask.sum()) * px_ha, 2),
                "land_ha": round(n_land * px_ha, 2),
                "yangtze_ha": round(int((zmask & landscape.river).sum()) * px_ha, 2),
            }
            for c in K.CLASSES:
                rec[f"{c}_ha"] = round(int(counts[c]) * px_ha, 2)
                rec[f"{c}_land_share"] = round(int(land_counts[c]) / max(n_land, 1), 5)
            per_zone[zone_id] = rec
        out[str(year)] = per_zone
    return out


def _sites_frame(landscape: Landscape) -> gpd.GeoDataFrame:
    """The ``sites`` layer (EPSG:4326) from the site masks (exact pixel-edge polygons)."""
    grid = landscape.grid
    records = []
    for s in landscape.sites:
        geom = geom_to_lonlat(grid.vectorize(s.mask))
        records.append(
            {
                "site_id": s.site_id,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "kind": s.kind,
                "target_area_ha": float(s.target_area_ha),
                "area_ha_on_grid": round(float(s.mask.sum()) * grid.pixel_ha, 2),
                "illustrative": True,
                "note": s.note,
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")


# Illustrative ecological-space control areas (Jiangsu's second tier, 苏政发〔2020〕1号): a ring of
# this many metres of land around each red-line site, outside the site itself. Plausible shapes for
# the demo only; real control areas are published polygons.
ECO_SPACE_RING_M = {"laoshan_nfp": 1_000.0, "lvshuiwan_wetland": 500.0, "chu_river_corridor": 500.0}


def _eco_space_frame(landscape: Landscape, boundaries: Boundaries) -> gpd.GeoDataFrame:
    """The ``eco_space`` layer (EPSG:4326): rings of land around some red-line sites."""
    grid = landscape.grid
    land = boundaries.study_area.difference(boundaries.yangtze)
    records = []
    for s in landscape.sites:
        ring_m = ECO_SPACE_RING_M.get(s.site_id)
        if ring_m is None:
            continue
        site = grid.vectorize(s.mask)
        ring = site.buffer(ring_m).difference(site).intersection(land)
        records.append(
            {
                "area_id": f"es_{s.site_id}",
                "name_zh": f"{s.name_zh.split('（')[0]}生态空间管控区域（示意）",
                "name_en": f"{s.name_en.split(' (')[0]} ecological-space control area (illustrative)",
                "kind": "eco_space",
                "illustrative": True,
                "note": f"Land within {ring_m:.0f} m around the illustrative site {s.site_id}, outside it; "
                        "not a published control area.",
                "geometry": geom_to_lonlat(ring),
            }
        )
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")


def build_demo(
    data_dir: Path,
    *,
    seed: int = K.DEFAULT_SEED,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoPaths:
    """Generate the illustrative Jiangbei demo data set (seeded, reproducible).

    Parameters
    ----------
    data_dir
        Data folder; must contain ``boundaries/jiangbei_boundaries.gpkg``.
    seed
        Random seed; the same seed and boundaries give byte-identical rasters.
    force
        Rebuild even if the outputs are current.
    progress
        Optional callback ``(message, fraction in [0, 1])``, called once per step.

    Returns
    -------
    DemoPaths
        Paths of the outputs.

    Raises
    ------
    sinks.demo.landscape.BoundariesError
        If the boundaries GeoPackage is missing or malformed.
    """
    say = progress or (lambda _m, _f: None)
    data_dir = Path(data_dir)
    paths = DemoPaths.under(data_dir)
    t0 = time.perf_counter()

    # Inventory: independent of the seed and the rasters; rewritten only if its text changed.
    csv_text, readme_text = inventory_csv_text(), inventory_readme_text()
    for path, text in ((paths.inventory_csv, csv_text), (paths.inventory_readme, readme_text)):
        current = path.is_file() and path.read_text(encoding="utf-8") == text
        if force or not current:
            write_text(path, text)
            say(f"wrote {path}", 0.01)
        else:
            say(f"up to date: {path}", 0.01)

    boundaries_path = data_dir / BOUNDARIES_REL
    boundaries = load_boundaries(boundaries_path)  # validates before any hashing or skipping
    boundaries_sha = sha256_file(boundaries_path)
    if not force and _manifest_is_current(paths, seed, boundaries_sha):
        say(f"rasters up to date (seed {seed}); use --force to rebuild", 1.0)
        return paths

    def sub(lo: float, hi: float) -> Progress:
        return lambda m, f: say(m, lo + (hi - lo) * min(max(f / 0.45, 0.0), 1.0))

    landscape = generate_landscape(boundaries, seed, progress=sub(0.02, 0.45))
    paths.manifest.unlink(missing_ok=True)  # outputs are about to change: the build is incomplete
    for year in K.YEARS:
        say(f"writing {paths.landcover(year).name}", 0.47 if year == 2020 else 0.52)
        write_landcover(paths.landcover(year), landscape.landcover[year], landscape.grid, year=year, seed=seed)
    say(f"writing {paths.sites.name}", 0.55)
    units, parks = units_frame(boundaries, seed), parks_frame(landscape, boundaries)
    write_gpkg(
        paths.sites,
        {
            "sites": _sites_frame(landscape),
            "eco_space": _eco_space_frame(landscape, boundaries),
            "units": units,
            "parks": parks,
        },
    )
    for i, year in enumerate(K.YEARS):
        say(f"synthesizing reflectance bands {year}", 0.60 + 0.18 * i)
        bands = synthesize_bands(landscape, year, seed)
        say(f"writing {paths.bands(year).name}", 0.68 + 0.18 * i)
        write_bands(paths.bands(year), bands, landscape.grid, BAND_NAMES, year=year, seed=seed, scale=SCALE)
        del bands
    manifest = {
        "generator": f"{K.GENERATOR_NAME} {K.GENERATOR_VERSION}",
        "code_sha256": code_fingerprint(),
        "demo": K.DEMO_NAME_EN,
        "illustrative": K.ILLUSTRATIVE_TAG,
        "seed": seed,
        "boundaries": str(BOUNDARIES_REL),
        "boundaries_sha256": boundaries_sha,
        "crs": K.CRS_UTM,
        "pixel_m": landscape.grid.res,
        "shape": list(landscape.grid.shape),
        "transform": list(landscape.grid.transform)[:6],
        "files": {p.name: sha256_file(p) for p in paths.raster_outputs()},
        "class_areas": class_areas(landscape),
        "sites": {
            s.site_id: {
                "area_ha": round(float(s.mask.sum()) * landscape.grid.pixel_ha, 2),
                **{
                    f"{c}_ha_{y}": round(float((landscape.landcover[y][s.mask] == c).sum()) * landscape.grid.pixel_ha, 2)
                    for y in K.YEARS
                    for c in (K.TREE, K.WETLAND, K.BUILT)
                },
            }
            for s in landscape.sites
        },
        "units": {r.unit_id: {"district_id": r.district_id, "area_km2": r.area_km2} for r in units.itertuples()},
        "parks": {
            "count": len(parks),
            "total_ha": round(float(parks["area_ha"].sum()), 2),
            "by_district": {z: int((parks["district_id"] == z).sum()) for z in K.ZONE_IDS},
        },
    }
    write_text(paths.manifest, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    say(f"done in {time.perf_counter() - t0:.1f} s", 1.0)
    return paths
