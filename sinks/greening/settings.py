"""The ``[greening]`` section of a run configuration and the class-role table.

Everything a planner may want to change is data: which land-cover classes count as green cover,
forest or built-up land (``data/greening/class_roles.csv``, cited, with a ``verified`` flag),
how the built-up area is delimited, the park service radii, the NDVI class breaks, the planting
candidate rules and the targets file. Nothing here reads rasters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geodata.crs import CoordSystem
from geodata.errors import SchemaError
from geodata.tables import read_csv, to_number

GREENING_DIR = Path(__file__).resolve().parents[2] / "data" / "greening"
ROLES_COLUMNS = ("code", "name_en", "name_zh", "green_cover", "forest", "built_up", "land", "plant_to",
                 "plant_rule", "citation", "verified", "note")
# which pixels of a class are planting candidates: all of them, those with a sparse-vegetation
# NDVI ([greening] builtup_candidate_ndvi), or those on a field edge (a 4-neighbour of another class)
PLANT_RULES = ("all", "ndvi_range", "edge")
_TRI = {"yes", "no", "optional"}
_BOOL = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class ClassRoles:
    """What each land-cover code counts as (one row per code of ``class_roles.csv``).

    ``green_cover`` / ``forest`` are ``yes``, ``no`` or ``optional`` (counted when the matching
    configuration switch is on); ``built_up`` marks the class the built-up area is grown from (also
    the residential proxy for park service); ``land`` = part of the land-area denominator (water is
    not); ``plant_to`` = the class a planting plan would turn candidate land of this class into,
    ``plant_rule`` which of its pixels qualify (``PLANT_RULES``).
    """

    table: pd.DataFrame
    path: str

    def codes(self, column: str, *, optional: bool = False) -> tuple[int, ...]:
        """Codes whose ``column`` is ``yes`` (or also ``optional`` when ``optional`` is true)."""
        want = {"yes", "optional"} if optional else {"yes"}
        return tuple(int(c) for c in self.table.loc[self.table[column].isin(want), "code"])

    def green_codes(self, *, include_cropland: bool) -> tuple[int, ...]:
        return self.codes("green_cover", optional=include_cropland)

    def forest_codes(self, *, include_shrub: bool) -> tuple[int, ...]:
        return self.codes("forest", optional=include_shrub)

    @property
    def built_up_codes(self) -> tuple[int, ...]:
        return tuple(int(c) for c in self.table.loc[self.table["built_up"], "code"])

    @property
    def land_codes(self) -> tuple[int, ...]:
        return tuple(int(c) for c in self.table.loc[self.table["land"], "code"])

    def plant_rules(self) -> dict[int, tuple[str, int]]:
        """code -> (plant_rule, plant_to) for the classes that have planting candidates."""
        t = self.table[self.table["plant_to"].notna()]
        return {int(r.code): (str(r.plant_rule), int(r.plant_to)) for r in t.itertuples()}

    def plant_to(self, code: int) -> int | None:
        v = self.table.loc[self.table["code"] == code, "plant_to"]
        return None if v.empty or pd.isna(v.iloc[0]) else int(v.iloc[0])

    def name(self, code: int, lang: str = "en") -> str:
        v = self.table.loc[self.table["code"] == code, "name_zh" if lang == "zh" else "name_en"]
        return str(v.iloc[0]) if len(v) else str(code)

    def require_codes(self, codes, *, raster: str) -> None:
        missing = sorted(set(int(c) for c in codes) - set(int(c) for c in self.table["code"]))
        if missing:
            raise SchemaError(raster, f"land-cover code(s) {missing} have no row in the class-role table {Path(self.path).name}",
                              f"add rows for {missing} to {self.path} (green_cover, forest, built_up, land, with a citation)")


def load_class_roles(path: str | Path = GREENING_DIR / "class_roles.csv") -> ClassRoles:
    """Read and check ``class_roles.csv``; every problem is listed in one ``SchemaError``."""
    df = read_csv(path, required=ROLES_COLUMNS)
    problems: list[str] = []
    codes = to_number(df["code"])
    if codes.isna().any():
        problems.append(f"column 'code' has non-numbers on rows {[int(i) + 2 for i in df.index[codes.isna()]]}")
    elif codes.duplicated().any():
        problems.append(f"codes {sorted(set(codes[codes.duplicated()].astype(int)))} appear twice")
    out = pd.DataFrame({"code": codes.fillna(-1).astype(int)})
    for col in ("name_en", "name_zh", "citation", "note"):
        out[col] = df[col].fillna("").astype(str)
    for col in ("green_cover", "forest"):
        v = df[col].fillna("").astype(str).str.strip().str.lower()
        bad = sorted(set(v) - _TRI)
        if bad:
            problems.append(f"column '{col}' has {bad}; use yes, no or optional")
        out[col] = v
    for col in ("built_up", "land", "verified"):
        v = df[col].fillna("").astype(str).str.strip().str.lower()
        bad = sorted(set(v) - set(_BOOL))
        if bad:
            problems.append(f"column '{col}' has {bad}; use yes or no")
        out[col] = v.map(_BOOL).fillna(False).astype(bool)
    pt = to_number(df["plant_to"])
    bad_pt = df["plant_to"].notna() & (df["plant_to"].astype(str).str.strip() != "") & pt.isna()
    if bad_pt.any():
        problems.append(f"column 'plant_to' must be a land-cover code or empty; rows {[int(i) + 2 for i in df.index[bad_pt]]}")
    out["plant_to"] = pt.astype("Int64")
    rule = df["plant_rule"].fillna("").astype(str).str.strip().str.lower()
    bad_rule = sorted(set(rule) - set(PLANT_RULES) - {""})
    if bad_rule:
        problems.append(f"column 'plant_rule' has {bad_rule}; use one of {list(PLANT_RULES)}")
    no_rule = out.index[pt.notna() & (rule == "")]
    if len(no_rule):
        problems.append(f"rows {[int(i) + 2 for i in no_rule]} have plant_to but no plant_rule")
    out["plant_rule"] = rule
    unknown_to = sorted(set(int(x) for x in pt.dropna()) - set(out["code"]))
    if unknown_to:
        problems.append(f"plant_to names code(s) {unknown_to} that have no row of their own")
    empty_cite = out.index[out["citation"].str.strip() == ""]
    if len(empty_cite):
        problems.append(f"rows {[int(i) + 2 for i in empty_cite]} have no citation")
    if not out["built_up"].any():
        problems.append("no class is marked built_up = yes (the built-up area and park service need one)")
    if problems:
        raise SchemaError(path, "the class-role table is not usable: " + "; ".join(problems),
                          f"fix the rows (columns {', '.join(ROLES_COLUMNS)}; see {GREENING_DIR / 'class_roles.csv'})")
    return ClassRoles(table=out, path=str(path))


@dataclass(frozen=True)
class GreeningConfig:
    """The optional ``[greening]`` section (defaults apply when it is absent).

    Units: planning units beyond the configuration's zones (``units_path``; streets, plots);
    ``parks_path``: park and green-space polygons for the park service indicator; ``builtup_path``:
    the official built-up area (建成区) when it exists, else it is grown from the built-up class
    (``builtup_window_m`` square window, ``builtup_min_share`` of it built-up, a method choice);
    ``bands``: band files per year for NDVI (default: ``[wetlands.water_index.bands]``);
    ``fvc_ndvi_endpoints``: NDVI of bare soil and of full vegetation for the fractional vegetation
    cover (default: the 5th and 95th percentiles of the land NDVI of all dates pooled);
    ``shelterbelt_width_m``: the planted width along a field edge (a field-edge pixel is not
    planted whole: its area counts times width / pixel edge; a planning assumption);
    ``forest_extra_path``: a table of forest the map cannot see (shelterbelts, 四旁树; ha per unit
    and year, :mod:`sinks.greening.extra`), added to 森林覆盖率;
    ``*_coord_system``: what lon/lat system the units, parks and built-up polygons are really in
    (gcj02 / bd09 are converted on reading).
    """

    units: Path | None = None
    units_layer: str | None = None
    units_id_field: str = "unit_id"
    units_name_fields: tuple[str, str] = ("name_zh", "name_en")
    units_coord_system: str = CoordSystem.WGS84.value
    parks: Path | None = None
    parks_layer: str | None = None
    parks_id_field: str = "park_id"
    parks_coord_system: str = CoordSystem.WGS84.value
    park_radii_m: tuple[float, ...] = (300.0, 500.0)
    builtup: Path | None = None
    builtup_layer: str | None = None
    builtup_coord_system: str = CoordSystem.WGS84.value
    builtup_window_m: float = 510.0
    builtup_min_share: float = 0.5
    include_shrub_in_forest: bool = False
    include_cropland_in_green: bool = False
    ndvi_breaks: tuple[float, ...] = (0.2, 0.4, 0.6)
    builtup_candidate_ndvi: tuple[float, float] = (-1.0, 0.25)
    fvc_ndvi_endpoints: tuple[float, float] | None = None
    min_candidate_ha: float = 0.5
    shelterbelt_width_m: float = 10.0
    roles: Path = GREENING_DIR / "class_roles.csv"
    targets: Path | None = None
    forest_extra: Path | None = None
    bands: dict[int, tuple[Path, ...]] = field(default_factory=dict)


_KEYS = {"units_path", "units_layer", "units_id_field", "units_name_field_zh", "units_name_field_en",
         "units_coord_system", "parks_path", "parks_layer", "parks_id_field", "parks_coord_system", "builtup_coord_system",
         "shelterbelt_width_m", "park_radii_m", "builtup_path",
         "builtup_layer", "builtup_window_m", "builtup_min_share", "include_shrub_in_forest",
         "include_cropland_in_green", "ndvi_breaks", "builtup_candidate_ndvi", "fvc_ndvi_endpoints", "min_candidate_ha", "roles_path",
         "targets_path", "forest_extra_path", "bands"}


def greening_section(path: Path, doc: dict, resolve, years: list[int]) -> GreeningConfig:
    """Parse ``[greening]`` (``resolve(text) -> Path`` makes paths absolute); ``SchemaError`` names the key."""
    g = doc.get("greening", {})
    where = "[greening]"
    if not isinstance(g, dict):
        raise SchemaError(path, f"{where} must be a table", "write it as a [greening] section (see configs/jiangbei_demo.toml)")
    unknown = sorted(set(g) - _KEYS)
    if unknown:
        raise SchemaError(path, f"{where} has unknown keys {unknown}", f"use only {sorted(_KEYS)}")

    def text(key: str, default: str | None) -> str | None:
        v = g.get(key, default)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise SchemaError(path, f"{where} {key} must be a non-empty text, got {v!r}", f'write e.g. {key} = "..."')
        return v

    def number(key: str, default: float, lo: float, hi: float, unit: str) -> float:
        v = g.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and lo <= v <= hi):
            raise SchemaError(path, f"{where} {key} must be a number of {unit} within [{lo:g}, {hi:g}], got {v!r}", f"write e.g. {key} = {default}")
        return float(v)

    def flag(key: str) -> bool:
        v = g.get(key, False)
        if not isinstance(v, bool):
            raise SchemaError(path, f"{where} {key} must be true or false, got {v!r}", f"write {key} = true")
        return v

    def numbers(key: str, default: tuple[float, ...], lo: float, hi: float, *, n: int | None = None) -> tuple[float, ...]:
        v = g.get(key, list(default))
        ok = isinstance(v, list) and v and all(not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x) and lo <= x <= hi for x in v)
        if ok and (n is not None and len(v) != n or sorted(v) != list(v) or len(set(v)) != len(v)):
            ok = False
        if not ok:
            size = f"{n} " if n else ""
            raise SchemaError(path, f"{where} {key} must be a list of {size}increasing numbers within [{lo:g}, {hi:g}], got {v!r}",
                              f"write e.g. {key} = {list(default)}")
        return tuple(float(x) for x in v)

    def file(key: str) -> Path | None:
        v = text(key, None)
        return resolve(v) if v else None

    for pair, lay in (("units_path", "units_layer"), ("parks_path", "parks_layer"), ("builtup_path", "builtup_layer")):
        if g.get(lay) is not None and not g.get(pair):
            raise SchemaError(path, f"{where} {lay} is set without {pair}", f'add {pair} = "file.gpkg" or remove {lay}')
    def system(key: str) -> str:
        cs = text(key, CoordSystem.WGS84.value)
        if cs not in {c.value for c in CoordSystem}:
            raise SchemaError(path, f"{where} {key} {cs!r} is unknown", f"use one of {[c.value for c in CoordSystem]}")
        return cs

    cs = system("units_coord_system")
    raw_bands = g.get("bands", {})
    if not isinstance(raw_bands, dict):
        raise SchemaError(path, f"{where}.bands must be a table year = [files]", 'write [greening.bands] 2025 = ["bands_2025.tif"]')
    bands: dict[int, tuple[Path, ...]] = {}
    for y, files in raw_bands.items():
        try:
            yi = int(y)
        except ValueError:
            raise SchemaError(path, f"{where}.bands key {y!r} is not a year", 'write 2025 = ["bands_2025.tif"]') from None
        if yi not in years:
            raise SchemaError(path, f"{where}.bands names {yi}, which has no land-cover map", f"use one of {years}")
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f.strip() for f in files):
            raise SchemaError(path, f"{where}.bands {yi} must be a list of band files", f'write {yi} = ["bands_{yi}.tif"]')
        bands[yi] = tuple(resolve(f) for f in files)
    return GreeningConfig(
        units=file("units_path"),
        units_layer=text("units_layer", None),
        units_id_field=text("units_id_field", "unit_id"),
        units_name_fields=(text("units_name_field_zh", "name_zh"), text("units_name_field_en", "name_en")),
        units_coord_system=cs,
        parks=file("parks_path"),
        parks_layer=text("parks_layer", None),
        parks_id_field=text("parks_id_field", "park_id"),
        parks_coord_system=system("parks_coord_system"),
        park_radii_m=numbers("park_radii_m", (300.0, 500.0), 1.0, 10_000.0),
        builtup=file("builtup_path"),
        builtup_layer=text("builtup_layer", None),
        builtup_coord_system=system("builtup_coord_system"),
        builtup_window_m=number("builtup_window_m", 510.0, 0.0, 10_000.0, "metres"),
        builtup_min_share=number("builtup_min_share", 0.5, 0.01, 1.0, "a share"),
        include_shrub_in_forest=flag("include_shrub_in_forest"),
        include_cropland_in_green=flag("include_cropland_in_green"),
        ndvi_breaks=numbers("ndvi_breaks", (0.2, 0.4, 0.6), -1.0, 1.0),
        builtup_candidate_ndvi=numbers("builtup_candidate_ndvi", (-1.0, 0.25), -1.0, 1.0, n=2),
        fvc_ndvi_endpoints=numbers("fvc_ndvi_endpoints", (0.05, 0.8), -1.0, 1.0, n=2) if "fvc_ndvi_endpoints" in g else None,
        min_candidate_ha=number("min_candidate_ha", 0.5, 0.0, 1e6, "hectares"),
        shelterbelt_width_m=number("shelterbelt_width_m", 10.0, 0.0, 1000.0, "metres"),
        roles=file("roles_path") or GREENING_DIR / "class_roles.csv",
        targets=file("targets_path"),
        forest_extra=file("forest_extra_path"),
        bands=bands,
    )
