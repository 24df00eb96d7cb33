"""Land cover from reflectance: editable threshold rules, or a random forest trained on samples.

Both write a uint8 Cloud-Optimized GeoTIFF of ESA WorldCover codes (nodata 0, the official colour
table, mode overviews for display; :mod:`geodata.cog`) on the band set's grid, block by block and
atomically, and return a frozen
:class:`ClassificationResult` (path, class pixel counts, parameters).

* Rules (:class:`RuleSet`, defaults in ``data/landcover/rules_worldcover.toml``): an ordered
  decision list; the first rule whose conditions all hold gives the class. Every threshold
  carries its rationale and source, and can be changed (:meth:`RuleSet.with_value`).
* Supervised: :func:`extract_samples` reads the features (bands + indices + optional 3 x 3
  texture) at training points or inside training polygons, reading only the windows that hold
  samples; :func:`holdout_split` makes a stratified, seeded held-out set;
  :func:`train_classifier` fits a deterministic ``RandomForestClassifier`` (never pickled:
  retrain it from the samples); :func:`classify_supervised` maps the whole band set.
"""
from __future__ import annotations

import math
import operator
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from geodata.bands import ROLES, BandBlock, BandSet, output_profile
from geodata.cog import cog_writer
from geodata.crs import require_crs
from geodata.errors import DataError, EmptyResultError, GeometryError, SchemaError, UnknownClassError
from geodata.rasters import pixel_area_m2
from sinks.landcover.indices import INDEX_BANDS, compute_indices

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULES_PATH = ROOT / "data" / "landcover" / "rules_worldcover.toml"

# ESA WorldCover legend (v100/v200) and its official colour table.
WORLDCOVER_CLASSES: dict[int, str] = {
    10: "Tree cover", 20: "Shrubland", 30: "Grassland", 40: "Cropland", 50: "Built-up",
    60: "Bare / sparse vegetation", 70: "Snow and ice", 80: "Permanent water bodies",
    90: "Herbaceous wetland", 95: "Mangroves", 100: "Moss and lichen",
}
WORLDCOVER_RGB: dict[int, tuple[int, int, int]] = {
    10: (0, 100, 0), 20: (255, 187, 34), 30: (255, 255, 76), 40: (240, 150, 255), 50: (250, 0, 0),
    60: (180, 180, 180), 70: (240, 240, 240), 80: (0, 100, 200), 90: (0, 150, 160),
    95: (0, 207, 117), 100: (250, 230, 160),
}
NODATA = 0

Progress = Callable[[str, float], None]
VARIABLES: tuple[str, ...] = tuple(INDEX_BANDS) + ROLES
_OPS: dict[str, Callable] = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def worldcover_colormap() -> dict[int, tuple[int, int, int, int]]:
    """The WorldCover colour table for ``DatasetWriter.write_colormap`` (other codes transparent)."""
    cmap = {i: (0, 0, 0, 0) for i in range(256)}
    for code, (r, g, b) in WORLDCOVER_RGB.items():
        cmap[code] = (r, g, b, 255)
    return cmap


# =============================================================================== results


@dataclass(frozen=True)
class ClassificationResult:
    """A written land-cover map: counts per WorldCover code and how it was made."""

    path: Path
    method: str  # "rules" or "random_forest"
    class_counts_px: Mapping[int, int]
    valid_px: int  # pixels with valid reflectance (all classified unless unclassified_px > 0)
    nodata_px: int  # pixels written as 0 (no data, cloud, or features not computable)
    unclassified_px: int  # valid reflectance but a feature is NaN (e.g. a 0/0 index)
    pixel_area_m2: float | None  # None for geographic grids
    parameters: Mapping[str, str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_counts_px", MappingProxyType(dict(self.class_counts_px)))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    @property
    def class_area_ha(self) -> dict[int, float] | None:
        """Pixel-count areas in ha (biased: see the accuracy module for adjusted areas)."""
        if self.pixel_area_m2 is None:
            return None
        return {c: n * self.pixel_area_m2 / 10_000.0 for c, n in self.class_counts_px.items()}


def _legend_tags() -> dict[str, str]:
    present = "; ".join(f"{c}={n}" for c, n in WORLDCOVER_CLASSES.items())
    return {"LEGEND": "ESA WorldCover", "CLASSES": present, "UNITS": "class code", "NODATA": "0 = no data / cloud / not classified"}


def _write_classes(
    bandset: BandSet,
    out_path: Path,
    *,
    block_size: int,
    progress: Progress | None,
    step: str,
    classify_block: Callable[[BandBlock], np.ndarray],
    names: Sequence[str],
    halo: int,
    tags: Mapping[str, str],
    method: str,
    parameters: Mapping[str, str],
) -> ClassificationResult:
    counts = np.zeros(256, dtype="int64")
    valid_px = unclassified = 0
    windows = bandset.windows(block_size)
    profile = output_profile(bandset.grid, count=1, dtype="uint8", nodata=NODATA)
    with cog_writer(out_path, resampling="mode", **profile) as dst:
        dst.set_band_description(1, "landcover")
        dst.write_colormap(1, worldcover_colormap())
        for k, block in enumerate(bandset.iter_blocks(block_size=block_size, names=names, halo=halo)):
            codes = classify_block(block)
            core_valid = block.valid[block.core]
            valid_px += int(core_valid.sum())
            unclassified += int((core_valid & (codes == NODATA)).sum())
            counts += np.bincount(codes.ravel(), minlength=256)
            dst.write(codes, 1, window=block.window)
            if progress is not None:
                progress(step, (k + 1) / len(windows))
        if valid_px == 0:
            raise EmptyResultError(bandset.label, "no pixel has valid reflectance in every band needed", "check nodata, the cloud mask and the files")
        dst.update_tags(**_legend_tags(), **tags, SOURCE_BANDS=bandset.describe())
    total = bandset.grid.width * bandset.grid.height
    class_counts = {int(c): int(counts[c]) for c in np.flatnonzero(counts) if c != NODATA}
    area = None if bandset.grid.is_geographic else pixel_area_m2(bandset.grid.transform)
    return ClassificationResult(
        path=Path(out_path), method=method, class_counts_px=class_counts, valid_px=valid_px,
        nodata_px=int(total - sum(class_counts.values())), unclassified_px=unclassified,
        pixel_area_m2=area, parameters=parameters,
    )


# =============================================================================== rules


@dataclass(frozen=True)
class Condition:
    """``variable op value``, e.g. ``ndvi >= 0.7``, with the reason for the value."""

    variable: str
    op: str
    value: float
    rationale: str
    source: str

    def __str__(self) -> str:
        return f"{self.variable} {self.op} {self.value:g}"

    def holds(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return _OPS[self.op](values[self.variable], self.value)  # NaN -> False


@dataclass(frozen=True)
class Rule:
    """Pixels meeting every condition get ``code`` (when the rule is enabled)."""

    name: str
    code: int
    conditions: tuple[Condition, ...]
    enabled: bool = True
    disabled_reason: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.code}): " + " & ".join(map(str, self.conditions))


@dataclass(frozen=True)
class RuleSet:
    """An ordered decision list of :class:`Rule` (first match wins) and a default class."""

    name: str
    rules: tuple[Rule, ...]
    default_code: int
    default_rationale: str
    source: str  # the file it was loaded from

    @property
    def active(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.variable for r in self.active for c in r.conditions))

    @property
    def required_bands(self) -> tuple[str, ...]:
        need: list[str] = []
        for v in self.variables:
            for b in (INDEX_BANDS[v] if v in INDEX_BANDS else (v,)):
                if b not in need:
                    need.append(b)
        return tuple(need)

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"no rule named {name!r}; rules: {', '.join(r.name for r in self.rules)}")

    def with_value(self, rule: str, variable: str, value: float, *, op: str | None = None) -> "RuleSet":
        """A copy with one threshold changed (``op`` picks the condition when a rule has two on
        the same variable)."""
        r = self.rule(rule)
        idx = [i for i, c in enumerate(r.conditions) if c.variable == variable and (op is None or c.op == op)]
        if len(idx) != 1:
            raise ValueError(f"rule {rule!r} has {len(idx)} conditions on {variable!r}{'' if op is None else ' ' + op}; give op=")
        if not math.isfinite(float(value)):
            raise ValueError("a threshold must be a finite number")
        conds = list(r.conditions)
        conds[idx[0]] = replace(conds[idx[0]], value=float(value))
        return self._with_rule(replace(r, conditions=tuple(conds)))

    def with_enabled(self, rule: str, enabled: bool) -> "RuleSet":
        """A copy with one rule switched on or off."""
        return self._with_rule(replace(self.rule(rule), enabled=bool(enabled)))

    def _with_rule(self, new: Rule) -> "RuleSet":
        return replace(self, rules=tuple(new if r.name == new.name else r for r in self.rules), source=f"{self.source} (edited)")

    def to_records(self) -> list[dict]:
        """One row per threshold (rule, code, enabled, variable, op, value, rationale, source)."""
        return [
            {"rule": r.name, "code": r.code, "enabled": r.enabled, "variable": c.variable, "op": c.op,
             "value": c.value, "rationale": c.rationale, "source": c.source}
            for r in self.rules for c in r.conditions
        ]

    def summary(self) -> str:
        """One line: the active rules in order, and the default."""
        return "; ".join(str(r) for r in self.active) + f"; otherwise {self.default_code}"

    def to_toml(self) -> str:
        """The rule set in the format :func:`load_rules` reads."""
        def q(s: str) -> str:
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

        lines = ["[ruleset]", f"name = {q(self.name)}", 'legend = "ESA WorldCover"',
                 f"default_code = {self.default_code}", f"default_rationale = {q(self.default_rationale)}", ""]
        for r in self.rules:
            lines += ["[[rule]]", f"name = {q(r.name)}", f"code = {r.code}"]
            if not r.enabled:
                lines.append("enabled = false")
            if r.disabled_reason:
                lines.append(f"disabled_reason = {q(r.disabled_reason)}")
            for c in r.conditions:
                lines += ["  [[rule.condition]]", f"  variable = {q(c.variable)}", f"  op = {q(c.op)}",
                          f"  value = {c.value!r}", f"  rationale = {q(c.rationale)}", f"  source = {q(c.source)}"]
            lines.append("")
        return "\n".join(lines)


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read a rule set (TOML, see ``data/landcover/rules_worldcover.toml``); default: that file.

    Raises
    ------
    DataError
        missing file, bad TOML, or rules that are incomplete (each problem is listed).
    """
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    if not path.exists():
        raise DataError(path, "the rules file does not exist", f"check the path, or start from a copy of {DEFAULT_RULES_PATH}")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(path, f"it is not valid TOML ({exc})", f"fix the syntax; see {DEFAULT_RULES_PATH.name}") from exc
    problems: list[str] = []
    head = doc.get("ruleset", {})
    default = head.get("default_code")
    if default not in WORLDCOVER_CLASSES:
        problems.append(f"[ruleset] default_code {default!r} is not an ESA WorldCover code ({', '.join(map(str, WORLDCOVER_CLASSES))})")
    if not str(head.get("default_rationale", "")).strip():
        problems.append("[ruleset] default_rationale is empty")
    rules: list[Rule] = []
    raw_rules = doc.get("rule", [])
    if not raw_rules:
        problems.append("there is no [[rule]]")
    names: set[str] = set()
    for i, r in enumerate(raw_rules, 1):
        rname = str(r.get("name", f"rule {i}"))
        if rname in names:
            problems.append(f"rule name {rname!r} is used twice")
        names.add(rname)
        code = r.get("code")
        if code not in WORLDCOVER_CLASSES:
            problems.append(f"rule {rname!r}: code {code!r} is not an ESA WorldCover code")
        conds: list[Condition] = []
        raw_conds = r.get("condition", [])
        if not raw_conds:
            problems.append(f"rule {rname!r} has no [[rule.condition]]")
        for c in raw_conds:
            var, op, val = c.get("variable"), c.get("op"), c.get("value")
            where = f"rule {rname!r}, condition {var} {op} {val}"
            if var not in VARIABLES:
                problems.append(f"{where}: unknown variable {var!r} (known: {', '.join(VARIABLES)})")
            if op not in _OPS:
                problems.append(f"{where}: unknown op {op!r} (use >, >=, <, <=)")
            if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
                problems.append(f"{where}: value must be a finite number")
                val = math.nan
            for key in ("rationale", "source"):
                if not str(c.get(key, "")).strip():
                    problems.append(f"{where}: no {key} (every threshold states why and where from)")
            conds.append(Condition(str(var), str(op), float(val), str(c.get("rationale", "")).strip(), str(c.get("source", "")).strip()))
        enabled = r.get("enabled", True)
        if not isinstance(enabled, bool):
            problems.append(f"rule {rname!r}: enabled must be true or false")
        rules.append(Rule(rname, int(code) if isinstance(code, int) else 0, tuple(conds), bool(enabled), str(r.get("disabled_reason", ""))))
    if problems:
        raise DataError(path, f"{len(problems)} problem(s) in the rules: " + "; ".join(problems),
                        f"correct them; every threshold needs variable, op, value, rationale and source (see {DEFAULT_RULES_PATH.name})")
    return RuleSet(name=str(head.get("name", path.stem)), rules=tuple(rules), default_code=int(default),
                   default_rationale=str(head["default_rationale"]).strip(), source=str(path))


def rule_variables(arrays: Mapping[str, np.ndarray], variables: Sequence[str]) -> dict[str, np.ndarray]:
    """The rule variables (indices and reflectances) from band arrays."""
    idx = [v for v in variables if v in INDEX_BANDS]
    out = {v: arrays[v] for v in variables if v not in INDEX_BANDS}
    out.update(compute_indices(arrays, idx))
    return out


def apply_rules(values: Mapping[str, np.ndarray], rules: RuleSet, *, valid: np.ndarray) -> np.ndarray:
    """WorldCover codes (uint8) for one block: first matching rule, else the default; 0 where
    not ``valid``."""
    out = np.zeros(valid.shape, dtype="uint8")
    unassigned = valid.copy()
    for r in rules.active:
        m = unassigned.copy()
        for c in r.conditions:
            m &= c.holds(values)
        out[m] = r.code
        unassigned &= ~m
    out[unassigned] = rules.default_code
    return out


def classify_rules(
    bandset: BandSet,
    rules: RuleSet | None,
    out_path: str | Path,
    *,
    block_size: int = 512,
    progress: Progress | None = None,
) -> ClassificationResult:
    """Classify with threshold rules and write a WorldCover-coded GeoTIFF.

    Parameters
    ----------
    bandset
        Reflectance (:func:`geodata.bands.open_bands`).
    rules
        A :class:`RuleSet`; ``None`` loads the defaults (:data:`DEFAULT_RULES_PATH`).
    out_path
        The GeoTIFF to write (uint8, nodata 0, WorldCover colours), replaced atomically.
    block_size
        Window edge in pixels.
    progress
        ``progress(step, fraction)`` after each block.
    """
    rules = rules if rules is not None else load_rules()
    need = list(rules.required_bands)
    bandset.require(need, purpose=f"the rules ({rules.source})")
    variables = rules.variables

    def _block(block: BandBlock) -> np.ndarray:
        return apply_rules(rule_variables(block.arrays, variables), rules, valid=block.valid)

    params = {"rules": rules.source, "rule_list": rules.summary()}
    return _write_classes(
        bandset, Path(out_path), block_size=block_size, progress=progress, step="classify (rules)",
        classify_block=_block, names=need, halo=0, method="rules", parameters=params,
        tags={"METHOD": "threshold rules (first match wins)", "RULES_SOURCE": rules.source, "RULES": rules.summary()},
    )


# =============================================================================== features

_TEXTURE_SUFFIX = ("_mean3x3", "_std3x3")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a classifier sees: bands, indices, and 3 x 3 local mean / std of some."""

    bands: tuple[str, ...]
    indices: tuple[str, ...] = ()
    texture: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        tex = tuple(f"{v}{s}" for v in self.texture for s in _TEXTURE_SUFFIX)
        return self.bands + self.indices + tex

    @property
    def halo(self) -> int:
        return 1 if self.texture else 0

    @property
    def required_bands(self) -> tuple[str, ...]:
        need = list(self.bands)
        for v in self.indices + self.texture:
            for b in (INDEX_BANDS[v] if v in INDEX_BANDS else (v,)):
                if b not in need:
                    need.append(b)
        return tuple(need)

    @classmethod
    def default(cls, bandset: BandSet, *, texture: bool = False) -> "FeatureSpec":
        """Every band, every index the bands allow, and (optionally) NDVI texture."""
        idx = tuple(n for n, (a, b) in INDEX_BANDS.items() if a in bandset.names and b in bandset.names)
        tex: tuple[str, ...] = ()
        if texture:
            tex = ("ndvi",) if "ndvi" in idx else bandset.names[:1]
        return cls(bands=bandset.names, indices=idx, texture=tex)

    @classmethod
    def from_names(cls, names: Sequence[str], bandset: BandSet) -> "FeatureSpec":
        """Rebuild the spec from feature names (a fitted model's ``feature_names_in_``)."""
        bands, idx, tex = [], [], []
        for n in names:
            n = str(n)
            if n in bandset.names:
                bands.append(n)
            elif n in INDEX_BANDS:
                idx.append(n)
            elif n.endswith(_TEXTURE_SUFFIX):
                base = n[: -len(_TEXTURE_SUFFIX[0])] if n.endswith(_TEXTURE_SUFFIX[0]) else n[: -len(_TEXTURE_SUFFIX[1])]
                if base not in tex:
                    tex.append(base)
            else:
                raise DataError(bandset.label, f"the classifier was trained with a feature '{n}' this band set does not have "
                                f"(bands: {', '.join(bandset.names)})", "open the same bands, with the same names, as for training")
        spec = cls(tuple(bands), tuple(idx), tuple(tex))
        if spec.names != tuple(map(str, names)):
            raise DataError(bandset.label, "the classifier's features are in an order this module does not produce "
                            f"({', '.join(map(str, names))})", "train it with train_classifier on extract_samples output")
        return spec


def _texture(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3 x 3 mean and standard deviation over the finite neighbours (NaN ignored).

    Nine shifted sums in a fixed order, so a pixel's value depends only on its neighbours and a
    blockwise pass (with a 1-pixel halo) gives exactly the whole-image numbers.
    """
    finite = np.isfinite(x)
    h, w = x.shape
    xp = np.pad(np.where(finite, x, 0.0).astype("float64"), 1)
    fp = np.pad(finite.astype("float64"), 1)
    s1 = np.zeros((h, w))
    s2 = np.zeros((h, w))
    n = np.zeros((h, w))
    for dr in range(3):
        for dc in range(3):
            v = xp[dr:dr + h, dc:dc + w]
            s1 += v
            s2 += v * v
            n += fp[dr:dr + h, dc:dc + w]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.maximum(s2 / n - mean * mean, 0.0)
    mean[~finite] = np.nan
    var[~finite] = np.nan
    return mean.astype("float32"), np.sqrt(var).astype("float32")


def block_features(block: BandBlock, spec: FeatureSpec) -> np.ndarray:
    """Features of the block's window, shape ``(n_features, rows, cols)``, float32, NaN invalid."""
    arrays = dict(block.arrays)
    arrays.update(compute_indices(arrays, [v for v in spec.indices + spec.texture if v in INDEX_BANDS and v not in arrays]))
    core = block.core
    layers = [arrays[n][core] for n in spec.bands + spec.indices]
    for v in spec.texture:
        mean, std = _texture(arrays[v])
        layers += [mean[core], std[core]]
    return np.stack(layers).astype("float32", copy=False)


# =============================================================================== samples


@dataclass(frozen=True)
class TrainingSamples:
    """Feature rows at the sample pixels, with their WorldCover labels and where they came from."""

    features: pd.DataFrame  # one row per sample pixel; columns = feature names
    labels: np.ndarray  # WorldCover code per row
    sample_id: np.ndarray  # 0-based row of the source point / polygon in the sample layer
    row: np.ndarray
    col: np.ndarray
    x: np.ndarray  # pixel centre, in the band set's CRS
    y: np.ndarray
    source: str
    class_field: str
    spec: FeatureSpec
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def counts(self) -> dict[int, int]:
        """Sample pixels per WorldCover code."""
        return {int(k): int(v) for k, v in sorted(Counter(self.labels.tolist()).items())}

    def subset(self, idx: np.ndarray) -> "TrainingSamples":
        idx = np.asarray(idx)
        return replace(self, features=self.features.iloc[idx].reset_index(drop=True), labels=self.labels[idx],
                       sample_id=self.sample_id[idx], row=self.row[idx], col=self.col[idx], x=self.x[idx], y=self.y[idx])


def _class_key(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    s = str(v).strip()
    return s or None


def _brief(value: object, limit: int = 60) -> str:
    """A value for a message: at most ``limit`` characters (a pasted paragraph would drown the message)."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _list(values: Sequence, limit: int = 12) -> str:
    values = list(values)
    head = ", ".join(map(str, values[:limit]))
    return head + (f" ... and {len(values) - limit} more" if len(values) > limit else "")


def _rows(gdf: pd.DataFrame, positions: Sequence[int]) -> str:
    """Rows by their index label (the 0-based row number of a file as read)."""
    labels = [gdf.index[int(i)] for i in positions]
    return f"rows {_list(labels)} (0-based row index)"


def load_mapping(path: str | Path) -> dict[str, int]:
    """A legend table ``code,worldcover`` (CSV, UTF-8 or GB18030) -> {code: WorldCover code}."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "the mapping table does not exist", "give a CSV with columns code,worldcover")
    df = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            df = pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
            break
        except UnicodeDecodeError:
            continue
    if df is None:
        raise DataError(path, "it is neither UTF-8 nor GB18030 text", "save it as UTF-8 CSV")
    cols = {c.strip().lower(): c for c in df.columns}
    pairs = [("code", "worldcover"), ("reference_class", "map_code")]  # the second: accuracy.py's table
    found = next(((cols[a], cols[b]) for a, b in pairs if a in cols and b in cols), None)
    if found is None:
        raise SchemaError(path, f"it needs the columns code,worldcover (or reference_class,map_code); it has {', '.join(df.columns)}",
                          "add a header line: code,worldcover (one row per class of your legend)")
    src_col, dst_col = found
    out: dict[str, int] = {}
    bad: list[str] = []
    for i, (k, v) in enumerate(zip(df[src_col], df[dst_col]), 2):
        key = _class_key(k)
        try:
            wc = int(float(v))
        except ValueError:
            wc = -1
        if key is None or wc not in WORLDCOVER_CLASSES:
            bad.append(f"line {i}: {k!r} -> {v!r}")
            continue
        if key in out and out[key] != wc:
            bad.append(f"line {i}: {k!r} mapped to both {out[key]} and {wc}")
        out[key] = wc
    if bad:
        raise DataError(path, f"rows that are not 'code -> ESA WorldCover code': {_list(bad)}",
                        f"use WorldCover codes ({', '.join(map(str, WORLDCOVER_CLASSES))}) and one target per code")
    return out


def _sample_pixels(gdf: gpd.GeoDataFrame, bandset: BandSet, *, max_px_per_polygon: int | None, seed: int, label: str):
    """(sample row numbers, pixel rows, pixel cols), the rows outside the image, and the polygons
    inside it too small to hold a pixel centre."""
    t = bandset.grid.transform
    h, w = bandset.shape
    rng = np.random.default_rng(seed)
    ids, rows, cols, outside, no_centre = [], [], [], [], []
    bad_geom = []
    image = shapely.box(*bandset.grid.bounds)
    for i, geom in enumerate(gdf.geometry.values):
        if geom is None or geom.is_empty:
            bad_geom.append(i)
            continue
        gt = geom.geom_type
        if gt in ("Point", "MultiPoint"):
            pts = shapely.get_coordinates(geom)
            fc, fr = ~t * (pts[:, 0], pts[:, 1])
            r, c = np.floor(fr).astype("int64"), np.floor(fc).astype("int64")
            inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
            if not inside.all():
                outside.append(i)
                continue
            ids += [i] * len(r)
            rows += r.tolist()
            cols += c.tolist()
        elif gt in ("Polygon", "MultiPolygon"):
            minx, miny, maxx, maxy = geom.bounds
            fc, fr = ~t * (np.array([minx, maxx]), np.array([maxy, miny]))
            r0, c0 = max(int(math.floor(min(fr))), 0), max(int(math.floor(min(fc))), 0)
            r1, c1 = min(int(math.ceil(max(fr))) + 1, h), min(int(math.ceil(max(fc))) + 1, w)
            if r1 <= r0 or c1 <= c0:
                outside.append(i)
                continue
            sub = Window(c0, r0, c1 - c0, r1 - r0)
            m = rasterize([(geom, 1)], out_shape=(r1 - r0, c1 - c0), transform=window_transform(sub, t), fill=0, dtype="uint8")
            rr, cc = np.nonzero(m)
            if rr.size == 0:
                (no_centre if geom.within(image) else outside).append(i)
                continue
            if max_px_per_polygon is not None and rr.size > max_px_per_polygon:
                pick = np.sort(rng.choice(rr.size, max_px_per_polygon, replace=False))
                rr, cc = rr[pick], cc[pick]
            ids += [i] * rr.size
            rows += (rr + r0).tolist()
            cols += (cc + c0).tolist()
        else:
            bad_geom.append(i)
    if bad_geom:
        raise GeometryError(label, f"samples must be points or polygons; {_rows(gdf, bad_geom)} are empty or {', '.join(sorted({str(g.geom_type) for g in gdf.geometry.iloc[bad_geom] if g is not None}))}",
                            "keep only point or polygon samples (lines cannot be sampled)")
    return np.asarray(ids, dtype="int64"), np.asarray(rows, dtype="int64"), np.asarray(cols, dtype="int64"), outside, no_centre


def extract_samples(
    bandset: BandSet,
    samples: gpd.GeoDataFrame | str | Path,
    *,
    class_field: str,
    mapping: Mapping | str | Path | None = None,
    features: FeatureSpec | None = None,
    min_per_class: int = 10,
    layer: str | None = None,
    max_px_per_polygon: int | None = None,
    drop_invalid: bool = False,
    block_size: int = 512,
    seed: int = 0,
) -> TrainingSamples:
    """Features at training points (the pixel holding each point) or polygons (every pixel whose
    centre is inside, optionally at most ``max_px_per_polygon`` drawn with ``seed``; polygons
    too small to hold a pixel centre give no sample and are listed in ``notes``).

    Only the windows of ``block_size`` that hold samples are read.

    Parameters
    ----------
    bandset
        Reflectance bands.
    samples
        A GeoDataFrame or a vector file (GeoPackage, GeoJSON, zipped shapefile) with a CRS.
    class_field
        Column with the class of each sample: ESA WorldCover codes, or any codes when
        ``mapping`` (dict or CSV ``code,worldcover``) translates them.
    features
        Default: :meth:`FeatureSpec.default` (all bands and the indices they allow).
    min_per_class
        Fewest sample pixels a class may have.
    drop_invalid
        Drop samples on nodata / cloud pixels (listed in ``notes``) instead of refusing them.

    Raises
    ------
    DataError
        (each naming the file, the offending rows or classes, and the fix) samples outside the
        image, on nodata / cloud pixels, with empty or unknown classes, classes with fewer than
        ``min_per_class`` samples; a missing class column; no CRS.
    """
    label = str(samples) if isinstance(samples, (str, Path)) else "training samples (GeoDataFrame)"
    if isinstance(samples, (str, Path)):
        from geodata.vectors import read_vector

        gdf = read_vector(samples, layer=layer)
    else:
        gdf = samples
    require_crs(gdf.crs, label)
    if class_field not in gdf.columns:
        raise SchemaError(label, f"there is no class column '{class_field}' (columns: {', '.join(c for c in gdf.columns if c != 'geometry')})",
                          "name the column that holds the classes (--class-field)")
    if len(gdf) == 0:
        raise EmptyResultError(label, "the layer has no samples", "digitise training points or polygons first")
    spec = features or FeatureSpec.default(bandset)
    bandset.require(list(spec.required_bands), purpose="the features")

    # classes -> WorldCover
    keys = [_class_key(v) for v in gdf[class_field].tolist()]
    empty = [i for i, k in enumerate(keys) if k is None]
    if empty:
        raise SchemaError(label, f"{_rows(gdf, empty)} have no value in '{class_field}'", "fill in their class or delete them")
    if mapping is not None:
        table = load_mapping(mapping) if isinstance(mapping, (str, Path)) else {_class_key(k): int(v) for k, v in mapping.items()}
        bad_targets = sorted({v for v in table.values() if v not in WORLDCOVER_CLASSES})
        if bad_targets:
            raise UnknownClassError(str(mapping) if isinstance(mapping, (str, Path)) else "class mapping",
                                    f"targets {bad_targets} are not ESA WorldCover codes", f"map to {', '.join(map(str, WORLDCOVER_CLASSES))}")
        where = f"the mapping {mapping}" if isinstance(mapping, (str, Path)) else "the class mapping"
    else:
        table = {str(c): c for c in WORLDCOVER_CLASSES}
        where = "the ESA WorldCover legend"
    unknown = Counter(k for k in keys if k not in table)
    if unknown:
        listed = _list([f"'{_brief(k)}' ({n} sample{'s' if n > 1 else ''})" for k, n in sorted(unknown.items())])
        raise UnknownClassError(
            label,
            f"column '{class_field}' holds classes that are not in {where}: {listed}",
            "add them to a mapping table (CSV code,worldcover; --mapping) or recode the samples"
            if mapping is None else "add the missing codes to the mapping table, or recode the samples",
        )
    codes = np.asarray([table[k] for k in keys], dtype="uint8")

    gdf = gdf.to_crs(bandset.grid.crs)
    ids, rows, cols, outside, tiny = _sample_pixels(gdf, bandset, max_px_per_polygon=max_px_per_polygon, seed=seed, label=label)
    if outside:
        l, b, r, t = bandset.grid.bounds
        raise DataError(
            label,
            f"{len(outside)} sample(s) lie outside the image {bandset.grid.path.name} "
            f"(bounds {l:.1f}, {b:.1f} .. {r:.1f}, {t:.1f} in {bandset.grid.crs.to_string()}): {_rows(gdf, outside)}",
            "delete or move them, or check that the samples' CRS is declared correctly (a wrong CRS puts every sample elsewhere)",
        )

    # read only the blocks that hold samples
    n_feat = len(spec.names)
    X = np.full((rows.size, n_feat), np.nan, dtype="float32")
    ok = np.zeros(rows.size, dtype=bool)
    block_id = (rows // block_size) * 10_000_000 + (cols // block_size)
    h, w = bandset.shape
    for bid in np.unique(block_id):
        sel = np.flatnonzero(block_id == bid)
        br, bc = int(rows[sel[0]] // block_size), int(cols[sel[0]] // block_size)
        win = Window(bc * block_size, br * block_size, min(block_size, w - bc * block_size), min(block_size, h - br * block_size))
        block = bandset.read_window(win, names=list(spec.required_bands), halo=spec.halo)
        feats = block_features(block, spec)
        rr, cc = rows[sel] - br * block_size, cols[sel] - bc * block_size
        X[sel] = feats[:, rr, cc].T
        ok[sel] = block.valid[block.core][rr, cc] & np.isfinite(X[sel]).all(axis=1)

    notes: list[str] = []
    if tiny:
        notes.append(f"{len(tiny)} polygon(s) smaller than a pixel hold no pixel centre and gave no sample ({_rows(gdf, tiny)})")
    bad_units = np.unique(ids[~ok]).tolist()
    n_ok = np.bincount(ids, weights=ok.astype("float64"), minlength=len(gdf))
    dead = [i for i in bad_units if n_ok[i] == 0]  # samples without one valid pixel
    if dead and not drop_invalid:
        raise DataError(
            label,
            f"{len(dead)} sample(s) fall on nodata or cloud-masked pixels of {bandset.label}: {_rows(gdf, dead)}",
            "move them onto clear pixels, choose a clearer scene, or drop them (drop_invalid=True / --drop-invalid)",
        )
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} sample pixel(s) on nodata / cloud were left out ({_rows(gdf, bad_units)})")
    keep = np.flatnonzero(ok)
    ids, rows, cols, X = ids[keep], rows[keep], cols[keep], X[keep]
    labels = codes[ids]
    counts = Counter(labels.tolist())
    few = {c: n for c, n in counts.items() if n < min_per_class}
    if few or not counts:
        raise DataError(
            label,
            (f"classes with fewer than {min_per_class} sample pixels: "
             + ", ".join(f"{c} {WORLDCOVER_CLASSES[c]} ({n})" for c, n in sorted(few.items()))) if few else "no usable sample",
            f"add samples of those classes, merge them into another class in the mapping table, or lower the minimum (--min-samples, now {min_per_class})",
        )
    if len(counts) < 2:
        raise DataError(label, f"all samples are of one class ({next(iter(counts))})", "add samples of the other classes present in the image")
    xs, ys = bandset.grid.transform * (cols + 0.5, rows + 0.5)
    return TrainingSamples(
        features=pd.DataFrame(X, columns=list(spec.names)), labels=labels, sample_id=ids, row=rows, col=cols,
        x=np.asarray(xs), y=np.asarray(ys), source=label, class_field=class_field, spec=spec, notes=tuple(notes),
    )


# =============================================================================== training


def holdout_split(labels: np.ndarray, *, holdout: float = 0.3, seed: int = 0, groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held-out), stratified by class and seeded.

    With ``groups`` (e.g. ``TrainingSamples.sample_id``: pixels of one polygon) whole groups go
    to one side (``StratifiedGroupKFold``), so neighbouring pixels do not inflate the held-out
    accuracy. ``holdout=0`` gives every sample to training.
    """
    labels = np.asarray(labels)
    n = labels.size
    if not 0 <= holdout < 1:
        raise ValueError("holdout must be a fraction in [0, 1)")
    if holdout == 0:
        return np.arange(n), np.arange(0)
    if groups is None:
        from sklearn.model_selection import train_test_split

        tr, te = train_test_split(np.arange(n), test_size=holdout, stratify=labels, random_state=seed)
        return np.sort(tr), np.sort(te)
    from sklearn.model_selection import StratifiedGroupKFold

    k = max(2, int(round(1 / holdout)))
    tr, te = next(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n), labels, groups))
    return np.sort(tr), np.sort(te)


def train_classifier(
    features: pd.DataFrame,
    labels: np.ndarray,
    *,
    seed: int = 0,
    n_estimators: int = 200,
    max_depth: int | None = None,
    min_samples_leaf: int = 1,
    class_weight: str | None = None,
    n_jobs: int | None = None,
):
    """A fitted, deterministic ``RandomForestClassifier`` (same samples + seed -> same model).

    ``features`` must be a DataFrame: its column names tell :func:`classify_supervised` which
    features to compute. The model is kept in memory only; retrain it from the samples.
    """
    from sklearn.ensemble import RandomForestClassifier

    if not isinstance(features, pd.DataFrame):
        raise TypeError("features must be a pandas DataFrame with one named column per feature (TrainingSamples.features)")
    labels = np.asarray(labels)
    if len(features) != labels.size:
        raise ValueError(f"{len(features)} feature rows but {labels.size} labels")
    model = RandomForestClassifier(
        n_estimators=n_estimators, max_depth=max_depth, min_samples_leaf=min_samples_leaf,
        class_weight=class_weight, random_state=seed, n_jobs=n_jobs,
    )
    model.fit(features, labels)
    model.training_counts_ = {int(k): int(v) for k, v in sorted(Counter(labels.tolist()).items())}
    model.seed_ = seed
    return model


def classify_supervised(
    bandset: BandSet,
    model,
    out_path: str | Path,
    *,
    block_size: int = 512,
    progress: Progress | None = None,
) -> ClassificationResult:
    """Classify every valid pixel with a fitted model and write a WorldCover-coded GeoTIFF.

    The features are rebuilt from the model's ``feature_names_in_``; the output carries tags
    METHOD, SEED, N_ESTIMATORS, FEATURES and TRAINING_SAMPLES (pixels per class).
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise ValueError("the model was not fitted on a DataFrame with feature names (use train_classifier)")
    spec = FeatureSpec.from_names(list(names), bandset)
    bad = sorted(int(c) for c in model.classes_ if int(c) not in WORLDCOVER_CLASSES)
    if bad:
        raise UnknownClassError(bandset.label, f"the model predicts classes {bad} that are not ESA WorldCover codes", "map the training classes to WorldCover (mapping table)")
    cols = list(spec.names)

    def _block(block: BandBlock) -> np.ndarray:
        feats = block_features(block, spec)
        nf, hh, ww = feats.shape
        flat = feats.reshape(nf, -1).T
        use = block.valid[block.core].ravel() & np.isfinite(flat).all(axis=1)
        out = np.zeros(hh * ww, dtype="uint8")
        if use.any():
            out[use] = model.predict(pd.DataFrame(flat[use], columns=cols)).astype("uint8")
        return out.reshape(hh, ww)

    counts = getattr(model, "training_counts_", {})
    seed = getattr(model, "seed_", getattr(model, "random_state", None))
    params = {
        "model": type(model).__name__, "seed": str(seed), "n_estimators": str(getattr(model, "n_estimators", "")),
        "features": ",".join(cols), "training_samples": ";".join(f"{c}:{n}" for c, n in counts.items()),
    }
    return _write_classes(
        bandset, Path(out_path), block_size=block_size, progress=progress, step="classify (random forest)",
        classify_block=_block, names=list(spec.required_bands), halo=spec.halo, method="random_forest", parameters=params,
        tags={"METHOD": f"supervised, scikit-learn {type(model).__name__}", "SEED": params["seed"],
              "N_ESTIMATORS": params["n_estimators"], "FEATURES": params["features"],
              "TRAINING_SAMPLES": params["training_samples"] or "unknown"},
    )
