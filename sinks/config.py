"""Run configuration (TOML): which zones, land-cover dates, coefficients and inventory.

Paths are relative to the configuration file. :func:`validate_config` returns every problem
(InVEST style) so the CLI and the UI can list them all; :func:`load_config` raises on the first
structural problem it cannot get past.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from geodata.crs import CoordSystem
from geodata.errors import DataError, SchemaError
from geodata.limits import MAX_BLOCK_SIZE, MAX_CONFIG_BYTES, MAX_NAME_CHARS, MAX_THREADS, check_file_size
from sinks.greening.settings import GreeningConfig, greening_section
from sinks.ledger.settings import LedgerConfig, ledger_section


WATER_INDICES: tuple[str, ...] = ("mndwi", "ndwi")
PROTECTION_DIR = Path(__file__).resolve().parents[1] / "data" / "protection"  # the cited default rule tables


@dataclass(frozen=True)
class WaterIndexConfig:
    """The optional ``[wetlands.water_index]`` table: refine the wetland *patches* with a water index.

    ``bands`` maps a land-cover year to its band files (one file = one date, opened with
    :func:`geodata.bands.open_bands`, on the land-cover grid); with several files the water
    *frequency* over the dates is used. ``threshold`` None and ``min_water_frequency`` 0.5 are
    the defaults of :mod:`wetlands.patches` (both **unverified**, see its ``THRESHOLDS``).
    ``paddy_as_wetland`` False keeps index-wet cropland out of the figures (rules with
    ``index_paddy_codes=()``): only shrub, grass and bare can become water.
    """

    bands: dict[int, tuple[Path, ...]]
    index: str = "mndwi"
    threshold: float | None = None
    min_water_frequency: float = 0.5
    paddy_as_wetland: bool = False


@dataclass(frozen=True)
class WetlandsConfig:
    """The optional ``[wetlands]`` section: wetland sites, the river layer and inventory settings.

    ``sites_kinds`` keeps only the sites whose ``sites_kind_field`` value is listed (empty: all).
    ``alert_min_loss_ha`` (ha) is a policy choice, not a scientific threshold: wetland lost
    inside one red-line polygon in one period at or above it raises an alert.
    ``min_patch_ha`` (ha): wetland patches smaller than this are dropped (counted apart).
    """

    sites: Path | None = None
    sites_layer: str | None = None
    sites_id_field: str = "site_id"
    sites_kind_field: str = "kind"
    sites_kinds: tuple[str, ...] = ()
    sites_coord_system: str = CoordSystem.WGS84.value
    river: Path | None = None
    river_layer: str | None = None
    alert_min_loss_ha: float = 1.0
    min_patch_ha: float = 0.0
    water_index: WaterIndexConfig | None = None  # the optional [wetlands.water_index] table


_WETLAND_KEYS = {"sites_path", "sites_layer", "sites_id_field", "sites_kind_field", "sites_kinds", "sites_coord_system",
                 "river_path", "river_layer", "alert_min_loss_ha", "min_patch_ha", "water_index"}
_WATER_INDEX_KEYS = {"index", "threshold", "min_water_frequency", "paddy_as_wetland", "bands"}
_WI = "[wetlands.water_index]"


def _water_index_section(path: Path, base: Path, wi: object, years: list[int]) -> WaterIndexConfig:
    """Parse ``[wetlands.water_index]``; raises ``SchemaError`` naming the key and the fix.

    Checks the values and that each ``bands`` year is a land-cover year; whether the files exist
    and sit on the land-cover grid is checked when they are opened (:func:`validate_config`,
    :func:`sinks.wetland_inventory.wetland_inventory`).
    """
    example = '[wetlands.water_index]\nindex = "mndwi"\n[wetlands.water_index.bands]\n2025 = ["bands_2025.tif"]'
    if not isinstance(wi, dict):
        raise SchemaError(path, f"{_WI} must be a table, got {wi!r}", f"write it as a table: {example}")
    unknown = sorted(set(wi) - _WATER_INDEX_KEYS)
    if unknown:
        raise SchemaError(path, f"{_WI} has unknown keys {unknown}", f"use only {sorted(_WATER_INDEX_KEYS)}")
    index = wi.get("index", "mndwi")
    if not isinstance(index, str) or index.lower() not in WATER_INDICES:
        raise SchemaError(path, f"{_WI} index must be one of {list(WATER_INDICES)}, got {index!r}",
                          'write index = "mndwi" (green, SWIR1) or index = "ndwi" (green, NIR)')
    thr = wi.get("threshold")
    if thr is not None and (isinstance(thr, bool) or not isinstance(thr, (int, float)) or not -1 <= thr <= 1):
        raise SchemaError(path, f"{_WI} threshold must be a number within [-1, 1] (a normalized difference), got {thr!r}",
                          "write e.g. threshold = 0.0, or leave it out for the default of wetlands.patches")
    freq = wi.get("min_water_frequency", 0.5)
    if isinstance(freq, bool) or not isinstance(freq, (int, float)) or not (math.isfinite(freq) and 0 < freq <= 1):
        raise SchemaError(path, f"{_WI} min_water_frequency must lie in (0, 1] (a fraction of the dates), got {freq!r}",
                          "write e.g. min_water_frequency = 0.5 (water on at least half of the clear dates)")
    paddy = wi.get("paddy_as_wetland", False)
    if not isinstance(paddy, bool):
        raise SchemaError(path, f"{_WI} paddy_as_wetland must be true or false, got {paddy!r}", "write paddy_as_wetland = false")
    table = wi.get("bands")
    if not isinstance(table, dict) or not table:
        raise SchemaError(path, f"{_WI} names no band files (a [wetlands.water_index.bands] table year = [files])",
                          f"add e.g. {example}, or remove {_WI}")
    bands: dict[int, tuple[Path, ...]] = {}
    for key, files in table.items():
        try:
            year = int(key)
        except ValueError:
            raise SchemaError(path, f"{_WI} bands key {key!r} is not a year", 'write e.g. 2025 = ["bands_2025.tif"]') from None
        if year not in years:
            raise SchemaError(path, f"{_WI} bands year {year} has no land-cover map (land-cover years: {years})",
                              f"use one of {years}: the bands refine the land cover of the same year")
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f.strip() for f in files):
            raise SchemaError(path, f"{_WI} bands {year} must be a non-empty list of file paths, got {files!r}",
                              f'write e.g. {year} = ["bands_{year}.tif"] (one file per date)')
        bands[year] = tuple(_resolve(base, f) for f in files)
    return WaterIndexConfig(bands=dict(sorted(bands.items())), index=index.lower(),
                            threshold=None if thr is None else float(thr), min_water_frequency=float(freq),
                            paddy_as_wetland=paddy)


def _wetlands_section(path: Path, base: Path, doc: dict, years: list[int] | None = None) -> WetlandsConfig | None:
    """Parse ``[wetlands]``; raises ``SchemaError`` on unknown keys or values of the wrong kind."""
    w = doc.get("wetlands")
    if w is None:
        return None
    if not isinstance(w, dict):
        raise SchemaError(path, "[wetlands] must be a table", "write it as a [wetlands] section (see configs/jiangbei_demo.toml)")
    unknown = sorted(set(w) - _WETLAND_KEYS)
    if unknown:
        raise SchemaError(path, f"[wetlands] has unknown keys {unknown}", f"use only {sorted(_WETLAND_KEYS)}")

    def text(key: str, default: str | None) -> str | None:
        v = w.get(key, default)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise SchemaError(path, f"[wetlands] {key} must be a non-empty text, got {v!r}", f'write e.g. {key} = "..."')
        return v

    def number(key: str, default: float) -> float:
        v = w.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 or v == float("inf"):
            raise SchemaError(path, f"[wetlands] {key} must be a number of hectares >= 0, got {v!r}", f"write e.g. {key} = {default}")
        return float(v)

    kinds = w.get("sites_kinds", [])
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise SchemaError(path, f"[wetlands] sites_kinds must be a list of texts, got {kinds!r}", 'write e.g. sites_kinds = ["wetland_park"]')
    for pair, lay in (("sites_path", "sites_layer"), ("river_path", "river_layer")):
        if w.get(lay) is not None and not w.get(pair):
            raise SchemaError(path, f"[wetlands] {lay} is set without {pair}", f"add {pair} = \"file.gpkg\" or remove {lay}")
    sites, river = text("sites_path", None), text("river_path", None)
    return WetlandsConfig(
        sites=_resolve(base, sites) if sites else None,
        sites_layer=text("sites_layer", None),
        sites_id_field=text("sites_id_field", "site_id"),
        sites_kind_field=text("sites_kind_field", "kind"),
        sites_kinds=tuple(kinds),
        sites_coord_system=text("sites_coord_system", CoordSystem.WGS84.value),
        river=_resolve(base, river) if river else None,
        river_layer=text("river_layer", None),
        alert_min_loss_ha=number("alert_min_loss_ha", 1.0),
        min_patch_ha=number("min_patch_ha", 0.0),
        water_index=(_water_index_section(path, base, w["water_index"], sorted(years or []))
                     if "water_index" in w else None),
    )


@dataclass(frozen=True)
class Intake:
    """One drinking-water intake of ``[[protection.water_sources.intakes]]`` (lon/lat as given)."""

    intake_id: str
    name_zh: str
    name_en: str
    lon: float
    lat: float
    coord_system: str = CoordSystem.WGS84.value
    hypothetical: bool = False


@dataclass(frozen=True)
class ProtectionConfig:
    """The optional ``[protection]`` section: zone layers, builders and the screening rules.

    Red lines and ecological-space control areas are polygon layers (the workspace's edited red
    lines replace the configured ones in the dashboard). The Yangtze belt is built from the river
    layer (``river_path``, else ``[wetlands] river_path``) at ``belt_distance_m``; water-source
    zones from ``intakes`` (or ``intakes_path``), the river and the rules in
    ``water_source_rules_path``. ``rules_path`` lists which land-cover classes do not conform in
    which zone type. ``min_patch_ha``: non-conforming patches below it are counted apart.
    """

    redlines: Path | None = None
    redlines_layer: str | None = None
    redlines_id_field: str = "redline_id"
    redlines_kind_field: str = "kind"
    redlines_kinds: tuple[str, ...] = ()
    eco_space: Path | None = None
    eco_space_layer: str | None = None
    eco_space_id_field: str = "area_id"
    river: Path | None = None
    river_layer: str | None = None
    belt_distance_m: float = 1000.0
    rules: Path = PROTECTION_DIR / "zone_rules.csv"
    water_source_rules: Path = PROTECTION_DIR / "water_source_rules.csv"
    flow_azimuth_deg: float | None = None
    max_intake_offset_m: float = 150.0
    intakes: tuple[Intake, ...] = ()
    intakes_path: Path | None = None
    intakes_layer: str | None = None
    intakes_id_field: str = "intake_id"
    min_patch_ha: float = 0.0


_PROTECTION_KEYS = {"redlines_path", "redlines_layer", "redlines_id_field", "redlines_kind_field", "redlines_kinds",
                    "eco_space_path", "eco_space_layer", "eco_space_id_field", "river_path", "river_layer",
                    "belt_distance_m", "rules_path", "min_patch_ha", "water_sources"}
_WATER_SOURCE_KEYS = {"rules_path", "flow_azimuth_deg", "max_intake_offset_m", "intakes", "intakes_path",
                      "intakes_layer", "intakes_id_field"}
_INTAKE_KEYS = {"id", "name_zh", "name_en", "lon", "lat", "coord_system", "hypothetical"}


def _protection_section(path: Path, base: Path, doc: dict) -> ProtectionConfig | None:
    """Parse ``[protection]``; raises ``SchemaError`` naming the key and the fix."""
    p = doc.get("protection")
    if p is None:
        return None
    example = "see configs/jiangbei_demo.toml"
    if not isinstance(p, dict):
        raise SchemaError(path, "[protection] must be a table", f"write it as a [protection] section ({example})")
    unknown = sorted(set(p) - _PROTECTION_KEYS)
    if unknown:
        raise SchemaError(path, f"[protection] has unknown keys {unknown}", f"use only {sorted(_PROTECTION_KEYS)}")
    ws = p.get("water_sources", {})
    if not isinstance(ws, dict):
        raise SchemaError(path, "[protection.water_sources] must be a table", example)
    unknown = sorted(set(ws) - _WATER_SOURCE_KEYS)
    if unknown:
        raise SchemaError(path, f"[protection.water_sources] has unknown keys {unknown}", f"use only {sorted(_WATER_SOURCE_KEYS)}")

    def text(t: dict, where: str, key: str, default: str | None) -> str | None:
        v = t.get(key, default)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise SchemaError(path, f"{where} {key} must be a non-empty text, got {v!r}", f'write e.g. {key} = "..."')
        return v

    def number(t: dict, where: str, key: str, default: float | None, lo: float, hi: float, unit: str) -> float | None:
        v = t.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and lo <= v <= hi):
            raise SchemaError(path, f"{where} {key} must be a number of {unit} within [{lo:g}, {hi:g}], got {v!r}",
                              f"write e.g. {key} = {default if default is not None else lo}")
        return float(v)

    def file(t: dict, where: str, key: str, default: Path | None = None) -> Path | None:
        v = text(t, where, key, None)
        return _resolve(base, v) if v else default

    kinds = p.get("redlines_kinds", [])
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise SchemaError(path, f"[protection] redlines_kinds must be a list of texts, got {kinds!r}", 'write e.g. redlines_kinds = ["forest_park"]')
    for pair, lay in (("redlines_path", "redlines_layer"), ("eco_space_path", "eco_space_layer"), ("river_path", "river_layer")):
        if p.get(lay) is not None and not p.get(pair):
            raise SchemaError(path, f"[protection] {lay} is set without {pair}", f'add {pair} = "file.gpkg" or remove {lay}')
    where_ws = "[protection.water_sources]"
    raw_intakes = ws.get("intakes", [])
    if not isinstance(raw_intakes, list) or not all(isinstance(i, dict) for i in raw_intakes):
        raise SchemaError(path, f"{where_ws} intakes must be an array of tables", 'write [[protection.water_sources.intakes]] id = "QL" lon = 118.58 lat = 31.96')
    intakes, seen = [], set()
    for n, it in enumerate(raw_intakes, start=1):
        where = f"intake {n} of {where_ws}"
        bad = sorted(set(it) - _INTAKE_KEYS)
        if bad:
            raise SchemaError(path, f"{where} has unknown keys {bad}", f"use only {sorted(_INTAKE_KEYS)}")
        iid = text(it, where, "id", None)
        if iid is None:
            raise SchemaError(path, f"{where} has no id", 'add id = "QL" (unique, short)')
        if iid in seen:
            raise SchemaError(path, f"{where}: the id {iid!r} is used twice", "give every intake its own id")
        seen.add(iid)
        lon = number(it, where, "lon", None, -180, 180, "degrees")
        lat = number(it, where, "lat", None, -90, 90, "degrees")
        if lon is None or lat is None:
            raise SchemaError(path, f"{where} ({iid}) needs lon and lat", "add lon = 118.58 and lat = 31.96 (decimal degrees)")
        cs = text(it, where, "coord_system", CoordSystem.WGS84.value)
        if cs not in {c.value for c in CoordSystem}:
            raise SchemaError(path, f"{where} ({iid}) coord_system {cs!r} is unknown", f"use one of {[c.value for c in CoordSystem]}")
        hyp = it.get("hypothetical", False)
        if not isinstance(hyp, bool):
            raise SchemaError(path, f"{where} ({iid}) hypothetical must be true or false, got {hyp!r}", "write hypothetical = true")
        intakes.append(Intake(iid, text(it, where, "name_zh", iid), text(it, where, "name_en", iid), lon, lat, cs, hyp))
    azimuth = number(ws, where_ws, "flow_azimuth_deg", None, 0, 360, "degrees")
    if (intakes or ws.get("intakes_path")) and azimuth is None:
        raise SchemaError(path, f"{where_ws} has intakes but no flow_azimuth_deg (the direction the river flows, "
                                "degrees clockwise from north)", "add e.g. flow_azimuth_deg = 45 (the Yangtze at Nanjing flows to the north-east)")
    return ProtectionConfig(
        redlines=file(p, "[protection]", "redlines_path"),
        redlines_layer=text(p, "[protection]", "redlines_layer", None),
        redlines_id_field=text(p, "[protection]", "redlines_id_field", "redline_id"),
        redlines_kind_field=text(p, "[protection]", "redlines_kind_field", "kind"),
        redlines_kinds=tuple(kinds),
        eco_space=file(p, "[protection]", "eco_space_path"),
        eco_space_layer=text(p, "[protection]", "eco_space_layer", None),
        eco_space_id_field=text(p, "[protection]", "eco_space_id_field", "area_id"),
        river=file(p, "[protection]", "river_path"),
        river_layer=text(p, "[protection]", "river_layer", None),
        belt_distance_m=number(p, "[protection]", "belt_distance_m", 1000.0, 1.0, 50_000.0, "metres"),
        rules=file(p, "[protection]", "rules_path", PROTECTION_DIR / "zone_rules.csv"),
        water_source_rules=file(ws, where_ws, "rules_path", PROTECTION_DIR / "water_source_rules.csv"),
        flow_azimuth_deg=azimuth,
        max_intake_offset_m=number(ws, where_ws, "max_intake_offset_m", 150.0, 0.0, 5_000.0, "metres"),
        intakes=tuple(intakes),
        intakes_path=file(ws, where_ws, "intakes_path"),
        intakes_layer=text(ws, where_ws, "intakes_layer", None),
        intakes_id_field=text(ws, where_ws, "intakes_id_field", "intake_id"),
        min_patch_ha=number(p, "[protection]", "min_patch_ha", 0.0, 0.0, 1e6, "hectares"),
    )


@dataclass(frozen=True)
class Config:
    """Everything one assessment needs. Paths are absolute."""

    landcover: dict[int, Path]
    coefficients: Path
    zones: Path | None = None
    zones_layer: str | None = None
    zone_id_field: str = "zone_id"
    zone_name_fields: tuple[str, str] = ("name_zh", "name_en")
    zones_coord_system: str = CoordSystem.WGS84.value
    inventory: Path | None = None
    inventory_primary: str | None = None  # [inventory] primary: the dataset totals use (default: the first in the file)
    accuracy: dict[int, Path] = field(default_factory=dict)  # year -> accuracy report of that map
    name_zh: str = "评估区"
    name_en: str = "Assessment area"
    illustrative: bool = False
    block_size: int = 512
    scheduler: str = "blockwise"  # "blockwise" (strips counted in a thread pool) or "dask"
    threads: int = 0  # blockwise workers; 0 = one per core
    dask_address: str | None = None  # "tcp://host:8786": a dask.distributed scheduler; None = local threads
    wetlands: WetlandsConfig | None = None  # the optional [wetlands] section
    protection: ProtectionConfig | None = None  # the optional [protection] section
    greening: GreeningConfig = field(default_factory=GreeningConfig)  # [greening]; defaults when absent
    ledger: LedgerConfig = field(default_factory=LedgerConfig)  # [ledger]; defaults when absent
    source: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def years(self) -> list[int]:
        return sorted(self.landcover)


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


_DEMO = "see configs/jiangbei_demo.toml"


def _shown(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text):,} characters)"


def _section(path: Path, doc: dict, key: str) -> dict:
    """``doc[key]`` as a table (empty when absent); anything else is a ``SchemaError``."""
    v = doc.get(key, {})
    if not isinstance(v, dict):
        raise SchemaError(path, f"[{key}] must be a table, got {_shown(v)}", f"write it as a [{key}] section ({_DEMO})")
    return v


def _text(path: Path, t: dict, where: str, key: str, default: str | None, *, max_chars: int = MAX_NAME_CHARS) -> str | None:
    v = t.get(key, default)
    if v is None:
        return None
    if not isinstance(v, str) or not v.strip() or "\x00" in v:
        raise SchemaError(path, f"{where} {key} must be a non-empty text, got {_shown(v)}", f'write e.g. {key} = "..." ({_DEMO})')
    if len(v) > max_chars:
        raise SchemaError(path, f"{where} {key} is {len(v):,} characters long (limit {max_chars:,})", f"shorten {key}")
    return v


def _file(path: Path, base: Path, v: object, where: str) -> Path:
    """A path value of the configuration, resolved against its folder."""
    if not isinstance(v, str) or not v.strip() or "\x00" in v or len(v) > 4096:
        raise SchemaError(path, f"{where} must be a file path (text), got {_shown(v)}", f'write e.g. "data/file.tif", relative to {path.name}')
    return _resolve(base, v)


def _int(path: Path, t: dict, where: str, key: str, default: int, lo: int, hi: int) -> int:
    v = t.get(key, default)
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise SchemaError(path, f"{where} {key} must be a whole number within [{lo:,}, {hi:,}], got {_shown(v)}", f"write e.g. {key} = {default}")
    return v


def _year(path: Path, key: object, where: str, example: str) -> int:
    try:
        year = int(str(key).strip())
    except ValueError:
        raise SchemaError(path, f"{where} keys must be years, got {_shown(key)}", example) from None
    if not 1000 <= year <= 9999:
        raise SchemaError(path, f"{where} key {_shown(key)} is not a four-digit year", example)
    return year


def load_config(path: str | Path) -> Config:
    """Parse a TOML run configuration.

    Every value is checked for its kind before use (a table where a table belongs, text for
    names and paths, whole numbers within range for the engine settings, a known coordinate
    system): anything else is a ``SchemaError`` naming the key, never a ``TypeError`` from deep
    inside. A file over :data:`geodata.limits.MAX_CONFIG_BYTES` is refused unread.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "the configuration file does not exist", "pass the path of a .toml run configuration (see configs/jiangbei_demo.toml)")
    if not path.is_file():
        raise DataError(path, "it is a folder, not a configuration file", "pass the path of a .toml run configuration (see configs/jiangbei_demo.toml)")
    check_file_size(path, path.stat().st_size, limit=MAX_CONFIG_BYTES, fix="a run configuration is a few KB of TOML: pass the .toml file, not data")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(path, f"it is not valid TOML ({exc})", "fix the syntax and save it as UTF-8; see configs/jiangbei_demo.toml") from exc
    base = path.parent
    area = _section(path, doc, "area")
    zones = _section(path, doc, "zones")
    lc_doc = _section(path, doc, "landcover")
    lc = lc_doc.get("years", {})
    if not isinstance(lc, dict):
        raise SchemaError(path, f"[landcover.years] must be a table of year = \"raster.tif\", got {_shown(lc)}", 'write [landcover.years] 2020 = "lc_2020.tif"')
    if not lc:
        raise SchemaError(path, "no [landcover.years] table (year = \"raster.tif\")", "add at least one land-cover date")
    years = {_year(path, y, "[landcover.years]", 'write e.g. 2020 = "lc_2020.tif"'): _file(path, base, p, f"[landcover.years] {y}")
             for y, p in lc.items()}
    coef = _section(path, doc, "coefficients").get("path")
    if not coef:
        raise SchemaError(path, "no [coefficients] path", "point it at a coefficient table (CSV)")
    acc = lc_doc.get("accuracy", {})
    if not isinstance(acc, dict):
        raise SchemaError(path, f"[landcover.accuracy] must be a table of year = \"folder\", got {_shown(acc)}", 'write e.g. 2025 = "reports/accuracy_2025"')
    accuracy = {_year(path, y, "[landcover.accuracy]", 'write e.g. 2025 = "reports/accuracy_2025"'): _file(path, base, p, f"[landcover.accuracy] {y}")
                for y, p in acc.items()}
    unknown = sorted(set(accuracy) - set(years))
    if unknown:
        raise SchemaError(path, f"[landcover.accuracy] names year(s) {unknown} that have no land-cover map", f"use one of {sorted(years)}")
    engine = _section(path, doc, "engine")
    inv_doc = doc.get("inventory", {})
    if not isinstance(inv_doc, dict):
        raise SchemaError(path, "[inventory] must be a table", 'write [inventory] path = "emissions.csv"')
    unknown_inv = sorted(set(inv_doc) - {"path", "primary"})
    if unknown_inv:
        raise SchemaError(path, f"[inventory] has unknown keys {unknown_inv}", "use only path and primary")
    inv = inv_doc.get("path")
    primary = inv_doc.get("primary")
    if primary is not None and (not isinstance(primary, str) or not primary.strip()):
        raise SchemaError(path, f"[inventory] primary must be the name of a dataset, got {primary!r}", 'write e.g. primary = "chen2020_county" (a value of the dataset column)')
    if primary is not None and not inv:
        raise SchemaError(path, "[inventory] primary is set without a path", 'add path = "emissions.csv" or remove primary')
    coord_system = _text(path, zones, "[zones]", "coord_system", CoordSystem.WGS84.value)
    if coord_system not in {c.value for c in CoordSystem}:
        raise SchemaError(path, f"[zones] coord_system {coord_system!r} must be one of {[c.value for c in CoordSystem]}",
                          "wgs84 (also CGCS2000, Tianditu), gcj02 (Amap / Gaode / DataV) or bd09 (Baidu): ask the source system")
    illustrative = area.get("illustrative", False)
    if not isinstance(illustrative, bool):
        raise SchemaError(path, f"[area] illustrative must be true or false, got {_shown(illustrative)}", "write illustrative = true")
    return Config(
        landcover=years,
        coefficients=_file(path, base, coef, "[coefficients] path"),
        zones=_file(path, base, zones["path"], "[zones] path") if zones.get("path") else None,
        zones_layer=_text(path, zones, "[zones]", "layer", None),
        zone_id_field=_text(path, zones, "[zones]", "id_field", "zone_id"),
        zone_name_fields=(_text(path, zones, "[zones]", "name_field_zh", "name_zh"), _text(path, zones, "[zones]", "name_field_en", "name_en")),
        zones_coord_system=coord_system,
        inventory=_file(path, base, inv, "[inventory] path") if inv else None,
        inventory_primary=primary.strip() if primary else None,
        accuracy=accuracy,
        name_zh=_text(path, area, "[area]", "name_zh", "评估区"),
        name_en=_text(path, area, "[area]", "name_en", "Assessment area"),
        illustrative=illustrative,
        block_size=_int(path, engine, "[engine]", "block_size", 512, 1, MAX_BLOCK_SIZE),
        scheduler=_text(path, engine, "[engine]", "scheduler", "blockwise"),
        threads=_int(path, engine, "[engine]", "threads", 0, -MAX_THREADS, MAX_THREADS),
        dask_address=_text(path, engine, "[engine]", "dask_address", None, max_chars=500) if engine.get("dask_address") != "" else None,
        wetlands=_wetlands_section(path, base, doc, sorted(years)),
        protection=_protection_section(path, base, doc),
        greening=greening_section(path, doc, lambda v: _resolve(base, v), sorted(years)),
        ledger=ledger_section(path, doc, lambda v: _resolve(base, v)),
        source=path.resolve(),
    )


def validate_config(path: str | Path) -> list[str]:
    """Every problem with a configuration and its inputs; an empty list means it will run.

    Opens each input and applies the same checks the pipeline applies, without computing.
    """
    from geodata.rasters import check_categorical, check_same_grid, read_info
    from geodata.vectors import load_zones
    from sinks.coefficients import validate_table
    from geodata.tables import read_csv
    from sinks.ledger.inventory import load_emissions

    try:
        cfg = load_config(path)
    except DataError as exc:
        return [str(exc)]
    problems: list[str] = []
    if cfg.scheduler not in ("blockwise", "dask"):
        problems.append(f"{path}: [engine] scheduler '{cfg.scheduler}' must be 'blockwise' or 'dask'")
    if cfg.block_size < 16:
        problems.append(f"{path}: [engine] block_size {cfg.block_size} is too small (use 256-2048)")
    if cfg.threads < 0:
        problems.append(f"{path}: [engine] threads {cfg.threads} must be 0 (one per core) or a positive number")
    if cfg.dask_address is not None and cfg.scheduler != "dask":
        problems.append(f"{path}: [engine] dask_address is set but scheduler is '{cfg.scheduler}'; set scheduler = \"dask\" to use the cluster")
    try:
        CoordSystem(cfg.zones_coord_system)
    except ValueError:
        problems.append(f"{path}: [zones] coord_system '{cfg.zones_coord_system}' must be one of {[c.value for c in CoordSystem]}")
    infos = []
    for year, p in sorted(cfg.landcover.items()):
        try:
            infos.append(check_categorical(read_info(p)))
        except DataError as exc:
            problems.append(f"land cover {year}: {exc}")
    for info in infos[1:]:
        try:
            check_same_grid(info, infos[0])
        except DataError as exc:
            problems.append(str(exc))
    try:
        problems += validate_table(read_csv(cfg.coefficients), name=str(cfg.coefficients))
    except DataError as exc:
        problems.append(str(exc))
    zone_ids = None
    if cfg.zones is not None:
        try:
            zl = load_zones(cfg.zones, id_field=cfg.zone_id_field, layer=cfg.zones_layer, coord_system=cfg.zones_coord_system)
            zone_ids = zl.zone_ids
        except (DataError, ValueError) as exc:
            problems.append(str(exc))
    problems += _validate_wetlands(cfg)
    problems += _validate_protection(cfg)
    problems += _validate_greening(cfg)
    problems += _validate_ledger(cfg)
    if cfg.inventory is not None:
        try:
            inv = load_emissions(cfg.inventory, zone_ids=zone_ids, primary=cfg.inventory_primary)
            for _, r in inv.rejected.iterrows():
                problems.append(f"{cfg.inventory} row {r['row']}: {r['reason']}")
        except DataError as exc:
            problems.append(str(exc))
    return problems


def _validate_wetlands(cfg: Config) -> list[str]:
    """Problems with the ``[wetlands]`` inputs: the sites layer (as zones) and the river layer."""
    from geodata.crs import require_crs
    from geodata.vectors import load_zones, read_vector

    w = cfg.wetlands
    if w is None:
        return []
    problems: list[str] = []
    try:
        CoordSystem(w.sites_coord_system)
    except ValueError:
        return [f"{cfg.source}: [wetlands] sites_coord_system '{w.sites_coord_system}' must be one of {[c.value for c in CoordSystem]}"]
    if w.sites is not None:
        try:
            zl = load_zones(w.sites, id_field=w.sites_id_field, layer=w.sites_layer, coord_system=w.sites_coord_system)
            if w.sites_kinds:
                if w.sites_kind_field not in zl.gdf.columns:
                    problems.append(f"{w.sites}: [wetlands] sites_kinds is set but the layer has no column '{w.sites_kind_field}'; set sites_kind_field")
                elif not zl.gdf[w.sites_kind_field].isin(w.sites_kinds).any():
                    found = sorted(map(str, zl.gdf[w.sites_kind_field].dropna().unique()))
                    problems.append(f"{w.sites}: no site has a {w.sites_kind_field} in {list(w.sites_kinds)} (found {found}); fix [wetlands] sites_kinds")
        except (DataError, ValueError) as exc:
            problems.append(str(exc))
    if w.river is not None:
        try:
            river = read_vector(w.river, layer=w.river_layer)
            require_crs(river.crs, f"{w.river}" + (f" layer {w.river_layer}" if w.river_layer else ""))
        except (DataError, ValueError) as exc:
            problems.append(str(exc))
    if w.water_index is not None:
        for year in w.water_index.bands:
            try:
                open_water_index_bands(cfg, year)
            except DataError as exc:
                problems.append(str(exc))
    return problems


def _validate_protection(cfg: Config) -> list[str]:
    """Problems with the ``[protection]`` inputs: the rule tables, the layers, and the zones the
    builders make (an intake off the river is reported here, before any screening)."""
    if cfg.protection is None:
        return []
    from sinks.protection import build_zones
    from wetlands.compliance import load_zone_rules

    problems: list[str] = []
    try:
        load_zone_rules(cfg.protection.rules)
    except DataError as exc:
        problems.append(str(exc))
    try:
        build_zones(cfg)
    except (DataError, ValueError) as exc:
        problems.append(str(exc))
    return problems


def _validate_greening(cfg: Config) -> list[str]:
    """Problems with ``[greening]``: the class roles, units, parks, built-up area, targets, bands."""
    from geodata.vectors import load_zones, read_vector
    from sinks.greening.settings import load_class_roles
    from sinks.greening.targets import load_targets, target_indicators

    g = cfg.greening
    problems: list[str] = []
    try:
        load_class_roles(g.roles)
    except DataError as exc:
        problems.append(str(exc))
    for what, f, layer, id_field, cs in (("units", g.units, g.units_layer, g.units_id_field, g.units_coord_system),
                                         ("parks", g.parks, g.parks_layer, g.parks_id_field, g.parks_coord_system)):
        if f is None:
            continue
        try:
            load_zones(f, id_field=id_field, layer=layer, coord_system=cs)
        except (DataError, ValueError) as exc:
            problems.append(f"[greening] {what}: {exc}")
    if g.builtup is not None:
        try:
            read_vector(g.builtup, layer=g.builtup_layer)
        except DataError as exc:
            problems.append(f"[greening] builtup: {exc}")
    if g.targets is not None:
        try:
            _acc, rej = load_targets(g.targets, indicators=target_indicators(g.park_radii_m))
            for _, r in rej.iterrows():
                problems.append(f"{g.targets} row {r['row']}: {r['reason']}")
        except DataError as exc:
            problems.append(str(exc))
    if g.forest_extra is not None:
        from sinks.greening.extra import load_forest_extra
        try:
            _acc, rej = load_forest_extra(g.forest_extra)
            problems += [f"{g.forest_extra} row {r['row']}: {r['reason']}" for _, r in rej.iterrows()]
        except DataError as exc:
            problems.append(str(exc))
    for y, files in g.bands.items():
        problems += [f"[greening.bands] {y}: {f} does not exist" for f in files if not f.exists()]
    return problems


def _validate_ledger(cfg: Config) -> list[str]:
    """Problems with ``[ledger]``: GDP, scenarios, warning rules and dual-control targets."""
    from sinks.ledger.scenarios import load_control_targets, load_gdp, load_scenarios
    from sinks.ledger.warnings import load_warning_rules

    problems = []
    lg = cfg.ledger
    for what, f, loader in (("gdp_path", lg.gdp, load_gdp), ("scenarios_path", lg.scenarios, load_scenarios),
                            ("warning_rules_path", lg.warning_rules, load_warning_rules), ("targets_path", lg.targets, load_control_targets)):
        if f is None:
            continue
        try:
            loader(f)
        except DataError as exc:
            problems.append(f"[ledger] {what}: {exc}")
    return problems


def open_water_index_bands(cfg: Config, year: int, index: str | None = None) -> list:
    """The band sets (one per file = date) of ``[wetlands.water_index]`` for one land-cover year,
    opened and checked: on that year's land-cover grid, with the bands ``index`` needs.

    Raises the ``DataError`` of :func:`geodata.bands.open_bands` / the grid check (same class,
    ``GridError``, ``CRSMismatchError`` ...), its message naming the configuration and the year.
    """
    from geodata.bands import open_bands
    from geodata.rasters import check_categorical, check_same_grid, read_info

    wi = cfg.wetlands.water_index if cfg.wetlands is not None else None
    if wi is None or year not in wi.bands:
        return []
    index = (index or wi.index).lower()
    need = {"mndwi": ["green", "swir1"], "ndwi": ["green", "nir"]}[index]
    lc = check_categorical(read_info(cfg.landcover[year]))
    out = []
    for f in wi.bands[year]:
        try:
            if not f.exists():
                raise DataError(f, "the band file does not exist", "check the path (relative to the configuration file), or run `make demo` for the demo bands")
            bs = open_bands(f)
            check_same_grid(bs.grid, lc)
            bs.require(need, purpose=f"the {index.upper()} water refinement")
        except DataError as exc:
            where = f"band file for {year} in {_WI} of {cfg.source or 'the configuration'}"
            try:  # keep the class (GridError, CRSMismatchError ...) for callers that tell them apart
                named = type(exc)(exc.source, f"{exc.problem} ({where})", exc.fix)
            except TypeError:  # pragma: no cover - a subclass with another signature
                named = DataError(exc.source, f"{exc.problem} ({where})", exc.fix)
            raise named from exc
        out.append(bs)
    return out
