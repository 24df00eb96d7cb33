"""Accuracy assessment and stratified area estimation (Olofsson et al. 2014).

Pixel counting alone is biased: every omission and commission error of the map moves area from
one class to another. With a reference sample drawn by stratified random sampling (strata = map
classes; simple random and systematic samples are handled the same way, as post-strata), the
estimators of

    Olofsson, P., Foody, G. M., Herold, M., Stehman, S. V., Woodcock, C. E., Wulder, M. A. (2014).
    Good practices for estimating area and assessing accuracy of land change. Remote Sensing of
    Environment 148, 42-57. doi:10.1016/j.rse.2014.02.015

give the class areas with confidence intervals and the accuracies with standard errors:

- ``W_i = A_m,i / A_tot`` the mapped share of stratum (map class) i, ``n_i.`` its sample size;
- ``p_ij = W_i n_ij / n_i.`` the estimated area proportion of cell (i, j)            (Eq. 4)
- overall ``O = sum_j p_jj``, user's ``U_i = p_ii / p_i.``, producer's ``P_j = p_jj / p_.j``
  (Eq. 1-3) with the variances of Eq. 5-7;
- ``p_.j = sum_i p_ij`` the estimated area proportion of reference class j           (Eq. 9)
- ``S(p_.j) = sqrt(sum_i W_i^2 (n_ij/n_i.)(1 - n_ij/n_i.) / (n_i. - 1))``              (Eq. 10)
- ``A_j = A_tot p_.j`` and ``S(A_j) = A_tot S(p_.j)``; CI ``A_j +/- z S(A_j)``        (Eq. 11-12)

Conventions here: **rows are the map class, columns the reference class** (as in the paper);
areas are hectares; accuracies and proportions are fractions in [0, 1].

Cohen's kappa is reported because the project's science notes ask for it; Olofsson et al. (2014)
and Pontius & Millones (2011) advise against using it to judge a map.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Hashable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.windows import Window
from scipy.stats import norm

from geodata.crs import require_crs
from geodata.files import atomic_report_dir
from geodata.errors import DataError, GeometryError, NoDataError, SchemaError, UnknownClassError
from geodata.rasters import RasterInfo, check_categorical, read_info
from geodata.tables import read_csv
from geodata.vectors import read_vector
from geodata.zonal import M2_PER_HA, zonal_histogram

ClassLabel = Hashable

REPORT_MARKER = "accuracy.json"


# --------------------------------------------------------------------------------------------
# Confusion matrix (sample counts)
# --------------------------------------------------------------------------------------------


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _f1(ua: np.ndarray, pa: np.ndarray) -> np.ndarray:
    """Harmonic mean of user's and producer's accuracy; 0 when both are 0, NaN when undefined."""
    s = ua + pa
    out = _safe_div(2 * ua * pa, s)
    out[(s == 0) & np.isfinite(ua) & np.isfinite(pa)] = 0.0
    return out


@dataclass(frozen=True)
class ConfusionMatrix:
    """Sample counts of map class (rows) against reference class (columns).

    ``counts[i, j]`` is the number of sample units mapped as ``classes[i]`` whose reference
    label is ``classes[j]``. The accuracies here are plain sample proportions; with a stratified
    sample the unbiased producer's and overall accuracy are those of :class:`AreaEstimate`
    (the user's accuracy is the same in both).
    """

    classes: tuple[ClassLabel, ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        c = np.asarray(self.counts, dtype="int64")
        if c.shape != (len(self.classes), len(self.classes)):
            raise ValueError(f"counts must be {len(self.classes)} x {len(self.classes)}, got {c.shape}")
        c = c.copy()
        c.setflags(write=False)
        object.__setattr__(self, "counts", c)

    @property
    def n_samples(self) -> int:
        return int(self.counts.sum())

    @property
    def map_totals(self) -> np.ndarray:
        """Samples per map class (row sums, ``n_i.``)."""
        return self.counts.sum(axis=1)

    @property
    def reference_totals(self) -> np.ndarray:
        """Samples per reference class (column sums, ``n_.j``)."""
        return self.counts.sum(axis=0)

    @property
    def overall_accuracy(self) -> float:
        """Share of samples on the diagonal (fraction)."""
        n = self.n_samples
        return float(np.trace(self.counts) / n) if n else float("nan")

    @property
    def kappa(self) -> float:
        """Cohen's kappa, (p_o - p_e) / (1 - p_e) with p_e = sum_k n_k. n_.k / n^2."""
        n = self.n_samples
        if n == 0:
            return float("nan")
        po = np.trace(self.counts) / n
        pe = float(np.sum(self.map_totals * self.reference_totals)) / n**2
        return float((po - pe) / (1 - pe)) if pe < 1 else float("nan")

    @property
    def user_accuracy(self) -> np.ndarray:
        """n_ii / n_i. per class (1 - commission error); NaN for a class never mapped."""
        return _safe_div(np.diag(self.counts), self.map_totals)

    @property
    def producer_accuracy(self) -> np.ndarray:
        """n_jj / n_.j per class (1 - omission error); NaN for a class never in the reference."""
        return _safe_div(np.diag(self.counts), self.reference_totals)

    @property
    def f1(self) -> np.ndarray:
        return _f1(self.user_accuracy, self.producer_accuracy)

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a table: index ``map_class``, columns the reference classes."""
        return pd.DataFrame(
            self.counts,
            index=pd.Index(list(self.classes), name="map_class"),
            columns=pd.Index(list(self.classes), name="reference_class"),
        )

    def per_class(self) -> pd.DataFrame:
        """Tidy per-class table: class, n_map, n_reference, n_correct, user_accuracy,
        producer_accuracy, f1 (fractions, from sample counts)."""
        return pd.DataFrame({
            "class": list(self.classes),
            "n_map": self.map_totals,
            "n_reference": self.reference_totals,
            "n_correct": np.diag(self.counts),
            "user_accuracy": self.user_accuracy,
            "producer_accuracy": self.producer_accuracy,
            "f1": self.f1,
        })

    def summary(self) -> dict[str, float | int]:
        return {"n_samples": self.n_samples, "overall_accuracy": self.overall_accuracy, "kappa": self.kappa}


def _sort_key(v: Any) -> tuple:
    return (0, v, "") if isinstance(v, (int, np.integer, float, np.floating)) else (1, 0, str(v))


def confusion_matrix(
    map_codes: Sequence[ClassLabel] | np.ndarray,
    reference_codes: Sequence[ClassLabel] | np.ndarray,
    *,
    classes: Sequence[ClassLabel] | None = None,
) -> ConfusionMatrix:
    """Count map class (rows) against reference class (columns) for paired sample units.

    Parameters
    ----------
    map_codes, reference_codes
        The map class and the reference class of each sample unit, same length.
    classes
        The row/column order. Default: every class seen in either list, sorted. A value not in
        ``classes`` raises :class:`~geodata.errors.UnknownClassError`.
    """
    m = list(np.asarray(map_codes, dtype=object).ravel())
    r = list(np.asarray(reference_codes, dtype=object).ravel())
    m = [v.item() if isinstance(v, np.generic) else v for v in m]
    r = [v.item() if isinstance(v, np.generic) else v for v in r]
    if len(m) != len(r):
        raise DataError(None, f"{len(m)} map labels but {len(r)} reference labels", "pass one map and one reference label per sample unit")
    if classes is None:
        classes = sorted(set(m) | set(r), key=_sort_key)
    classes = tuple(v.item() if isinstance(v, np.generic) else v for v in classes)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes repeat values: {classes}")
    index = {c: k for k, c in enumerate(classes)}
    unknown = sorted({v for v in m + r if v not in index}, key=_sort_key)
    if unknown:
        raise UnknownClassError(None, f"labels {unknown} are not among the classes {list(classes)}", "add them to `classes` or recode the samples")
    counts = np.zeros((len(classes), len(classes)), dtype="int64")
    if m:
        np.add.at(counts, (np.array([index[v] for v in m]), np.array([index[v] for v in r])), 1)
    return ConfusionMatrix(classes=classes, counts=counts)


# --------------------------------------------------------------------------------------------
# Stratified estimation of area and accuracy (Olofsson et al. 2014)
# --------------------------------------------------------------------------------------------


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype="float64")
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class AreaEstimate:
    """Error-adjusted class areas and stratified accuracies (Olofsson et al. 2014).

    Per class ``classes[k]`` (arrays of length K): the mapped area, the estimated (adjusted)
    area with its standard error and confidence half-width ``ci_ha`` at ``confidence`` (so the
    interval is ``adjusted_area_ha +/- ci_ha``), the stratified user's and producer's accuracy
    with standard errors. ``proportions[i, j]`` is the estimated area proportion of map class i
    and reference class j (rows map, columns reference; the paper's Table 9). Areas in hectares,
    accuracies and proportions as fractions.
    """

    classes: tuple[ClassLabel, ...]
    n_samples: np.ndarray
    mapped_area_ha: np.ndarray
    proportions: np.ndarray
    area_proportion: np.ndarray
    area_proportion_se: np.ndarray
    adjusted_area_ha: np.ndarray
    se_ha: np.ndarray
    ci_ha: np.ndarray
    user_accuracy: np.ndarray
    user_accuracy_se: np.ndarray
    producer_accuracy: np.ndarray
    producer_accuracy_se: np.ndarray
    overall_accuracy: float
    overall_accuracy_se: float
    confidence: float
    z: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total_area_ha(self) -> float:
        return float(self.mapped_area_ha.sum())

    @property
    def overall_accuracy_ci(self) -> float:
        """Half-width of the confidence interval of the overall accuracy (fraction)."""
        return self.z * self.overall_accuracy_se

    def to_frame(self) -> pd.DataFrame:
        """One row per class: mapped and adjusted area (ha), SE, CI half-width and bounds,
        stratified user's and producer's accuracy with SE and CI half-width, F1."""
        ci_low = self.adjusted_area_ha - self.ci_ha
        return pd.DataFrame({
            "class": list(self.classes),
            "n_samples": self.n_samples.astype("int64"),
            "mapped_area_ha": self.mapped_area_ha,
            "mapped_share": _safe_div(self.mapped_area_ha, np.full(len(self.classes), self.total_area_ha)),
            "area_proportion": self.area_proportion,
            "area_proportion_se": self.area_proportion_se,
            "adjusted_area_ha": self.adjusted_area_ha,
            "se_ha": self.se_ha,
            "ci_ha": self.ci_ha,
            "ci_low_ha": ci_low,
            "ci_high_ha": self.adjusted_area_ha + self.ci_ha,
            "user_accuracy": self.user_accuracy,
            "user_accuracy_se": self.user_accuracy_se,
            "user_accuracy_ci": self.z * self.user_accuracy_se,
            "producer_accuracy": self.producer_accuracy,
            "producer_accuracy_se": self.producer_accuracy_se,
            "producer_accuracy_ci": self.z * self.producer_accuracy_se,
            "f1": _f1(self.user_accuracy, self.producer_accuracy),
        })

    def proportions_frame(self) -> pd.DataFrame:
        """Estimated area proportions p_ij, index ``map_class``, columns reference classes."""
        return pd.DataFrame(
            self.proportions,
            index=pd.Index(list(self.classes), name="map_class"),
            columns=pd.Index(list(self.classes), name="reference_class"),
        )

    def summary(self) -> dict[str, Any]:
        return {
            "total_area_ha": self.total_area_ha,
            "overall_accuracy": self.overall_accuracy,
            "overall_accuracy_se": self.overall_accuracy_se,
            "overall_accuracy_ci": self.overall_accuracy_ci,
            "confidence": self.confidence,
            "z": self.z,
            "notes": list(self.notes),
        }


def z_score(confidence: float) -> float:
    """Two-sided normal quantile for ``confidence``; exactly 1.96 at 0.95 as in Olofsson et al."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return 1.96 if confidence == 0.95 else float(norm.ppf(0.5 + confidence / 2))


def _counts_and_classes(cm_counts, classes) -> tuple[np.ndarray, tuple]:
    if isinstance(cm_counts, ConfusionMatrix):
        return np.asarray(cm_counts.counts), cm_counts.classes
    if isinstance(cm_counts, pd.DataFrame):
        if list(cm_counts.index) != list(cm_counts.columns):
            raise SchemaError(None, f"the error matrix rows {list(cm_counts.index)} and columns {list(cm_counts.columns)} differ", "give the same classes in the same order on both axes (rows map, columns reference)")
        return cm_counts.to_numpy(), tuple(cm_counts.index)
    arr = np.asarray(cm_counts)
    if classes is None:
        classes = tuple(range(arr.shape[0])) if arr.ndim == 2 else ()
    return arr, tuple(classes)


def stratified_area_estimate(
    cm_counts: ConfusionMatrix | pd.DataFrame | np.ndarray,
    mapped_area_ha: Mapping[ClassLabel, float] | Sequence[float] | np.ndarray,
    *,
    confidence: float = 0.95,
    classes: Sequence[ClassLabel] | None = None,
) -> AreaEstimate:
    """Error-adjusted areas and accuracies from sample counts and mapped areas (Olofsson 2014).

    Parameters
    ----------
    cm_counts
        Sample counts, rows = map class (stratum), columns = reference class: a
        :class:`ConfusionMatrix`, a square DataFrame (same labels on both axes) or an array
        (with ``classes``, default ``0..K-1``).
    mapped_area_ha
        Mapped area of each class in hectares (any area unit works; results are in the same
        unit): a mapping class -> area, or a sequence in the order of the classes. Classes
        missing from the mapping are an error; extra classes must have zero area.
    confidence
        Confidence level of the intervals; ``z`` is 1.96 at 0.95 (the paper's and the IPCC's
        rounded value), else the standard normal quantile.

    Returns
    -------
    AreaEstimate

    Raises
    ------
    DataError
        A class with mapped area but no sample unit (its area cannot be estimated), samples in a
        class with no mapped area, negative counts or areas.
    """
    counts, classes = _counts_and_classes(cm_counts, classes)
    counts = np.asarray(counts, dtype="float64")
    k = len(classes)
    if counts.ndim != 2 or counts.shape != (k, k):
        raise SchemaError(None, f"the error matrix must be square with one row and column per class ({k}), got shape {counts.shape}", "pass a K x K matrix of sample counts, rows map, columns reference")
    if not np.all(np.isfinite(counts)) or (counts < 0).any() or not np.allclose(counts, np.round(counts)):
        raise DataError(None, "the error matrix holds negative, fractional or missing counts", "pass whole numbers of sample units")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")

    if isinstance(mapped_area_ha, Mapping):
        missing = [c for c in classes if c not in mapped_area_ha]
        if missing:
            raise SchemaError(None, f"no mapped area given for classes {missing}", "give the mapped area (ha) of every class in the error matrix, 0 if the map never shows it")
        extra = [c for c, a in mapped_area_ha.items() if c not in classes and float(a) > 0]
        if extra:
            raise DataError(None, f"classes {extra} have mapped area but no row in the error matrix, so nothing was sampled in them", "sample those map classes too (sinks sample-design) or merge them into a neighbouring class")
        area = np.array([float(mapped_area_ha[c]) for c in classes])
    else:
        area = np.asarray(mapped_area_ha, dtype="float64").ravel()
        if area.shape != (k,):
            raise SchemaError(None, f"{area.size} mapped areas for {k} classes", "give one mapped area per class, in the order of the error matrix")
    if not np.all(np.isfinite(area)) or (area < 0).any():
        raise DataError(None, f"mapped areas must be finite and non-negative, got {area.tolist()}", "check the mapped area table")
    total = area.sum()
    if total <= 0:
        raise DataError(None, "the mapped areas sum to zero", "give the mapped area of each class in hectares")

    n_i = counts.sum(axis=1)
    unsampled = [classes[i] for i in range(k) if area[i] > 0 and n_i[i] == 0]
    if unsampled:
        raise DataError(None, f"map classes {unsampled} have mapped area but no sample unit, so their share of the area cannot be estimated", "add reference samples in every mapped class (at least 2; Olofsson et al. suggest 50-100 for rare classes: --allocation olofsson), or merge the class into another")
    orphan = [classes[i] for i in range(k) if area[i] == 0 and n_i[i] > 0]
    if orphan:
        raise DataError(None, f"{int(n_i[[classes.index(c) for c in orphan]].sum())} sample units are mapped as {orphan}, but these classes have no mapped area", "check that the samples' map classes were read from the same map the areas come from")

    notes: list[str] = []
    single = [classes[i] for i in range(k) if n_i[i] == 1]
    if single:
        notes.append(f"strata {single} hold one sample unit: their variance (n_i - 1 = 0) is undefined, so standard errors are NaN")

    w = area / total  # W_i
    sampled = n_i > 0  # strata without samples have W_i = 0 (checked above) and add nothing
    undefined = bool((n_i == 1).any())  # a variance term divides by n_i. - 1 = 0
    q = np.zeros_like(counts)  # n_ij / n_i.
    q[sampled] = counts[sampled] / n_i[sampled, None]
    dof = np.where(sampled, n_i - 1, 1.0)
    dof = np.where(dof > 0, dof, np.nan)
    p = w[:, None] * q  # p_ij, Eq. 4
    p_dot_j = p.sum(axis=0)  # Eq. 9
    p_i_dot = p.sum(axis=1)  # = W_i for sampled strata

    # Eq. 10: V(p_.j) = sum_i W_i^2 (n_ij/n_i.)(1 - n_ij/n_i.) / (n_i. - 1)
    se_p = np.sqrt(np.sum((w**2)[:, None] * q * (1 - q) / dof[:, None], axis=0))

    overall = float(np.trace(p))  # Eq. 1
    ua = _safe_div(np.diag(p), p_i_dot)  # Eq. 2 (= n_ii / n_i.)
    pa = _safe_div(np.diag(p), p_dot_j)  # Eq. 3
    ua0 = np.where(sampled, ua, 0.0)
    ua_se = np.where(sampled, np.sqrt(ua0 * (1 - ua0) / dof), np.nan)  # Eq. 6
    oa_se = float(np.sqrt(np.sum(w**2 * ua0 * (1 - ua0) / dof)))  # Eq. 5

    # Eq. 7, with N_i the mapped area of stratum i (any unit: it cancels) and
    # N_.j = sum_i N_i n_ij / n_i. the estimated area of reference class j:
    # V(P_j) = [N_j^2 (1-P_j)^2 U_j (1-U_j) / (n_j. - 1)
    #           + P_j^2 sum_{i != j} N_i^2 (n_ij/n_i.)(1 - n_ij/n_i.) / (n_i. - 1)] / N_.j^2
    n_dot_j = area @ q
    pa_se = np.full(k, np.nan)
    for j in range(k):
        if n_dot_j[j] <= 0:
            continue
        first = area[j] ** 2 * (1 - pa[j]) ** 2 * ua0[j] * (1 - ua0[j]) / dof[j] if sampled[j] else 0.0
        others = sum(area[i] ** 2 * q[i, j] * (1 - q[i, j]) / dof[i] for i in range(k) if i != j)
        pa_se[j] = math.sqrt((first + pa[j] ** 2 * others) / n_dot_j[j] ** 2)
    if undefined:
        se_p = np.full(k, np.nan)
        pa_se = np.full(k, np.nan)
        oa_se = float("nan")

    z = z_score(confidence)
    adjusted = total * p_dot_j  # Eq. 11
    se_ha = total * se_p  # Eq. 12
    return AreaEstimate(
        classes=tuple(classes),
        n_samples=_frozen(n_i),
        mapped_area_ha=_frozen(area),
        proportions=_frozen(p),
        area_proportion=_frozen(p_dot_j),
        area_proportion_se=_frozen(se_p),
        adjusted_area_ha=_frozen(adjusted),
        se_ha=_frozen(se_ha),
        ci_ha=_frozen(z * se_ha),
        user_accuracy=_frozen(ua),
        user_accuracy_se=_frozen(ua_se),
        producer_accuracy=_frozen(pa),
        producer_accuracy_se=_frozen(pa_se),
        overall_accuracy=overall,
        overall_accuracy_se=oa_se,
        confidence=float(confidence),
        z=z,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# A map raster against reference points
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapAssessment:
    """A map raster assessed against reference points: sample counts, stratified estimates and
    the sample itself (``points``: point_index, x, y in the map CRS, row, col, map_class,
    reference_class). ``nodata_ha`` is the map's nodata area, outside every stratum."""

    map_path: Path
    reference_source: str
    class_field: str
    map_crs: str
    confusion: ConfusionMatrix
    area: AreaEstimate
    nodata_ha: float
    points: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)


def _list_some(items: Sequence[str], limit: int = 10) -> str:
    items = list(items)
    head = ", ".join(items[:limit])
    return head + (f" ... and {len(items) - limit} more" if len(items) > limit else "")


def _label_key(v: Any) -> str | None:
    """Normalise a class label for lookup: None/NaN/blank -> None, 3 / 3.0 / ' 3 ' -> '3'."""
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    s = str(v).strip()
    return s or None


def load_mapping(source: str | Path | Mapping[Any, int]) -> dict[str, int]:
    """Reference label -> map class code, from a dict or a CSV with columns
    ``reference_class,map_code`` (UTF-8 or GBK; labels may be text such as ``forest`` or 林地)."""
    if isinstance(source, Mapping):
        items = list(source.items())
        label = "<mapping>"
    else:
        label = str(source)
        df = read_csv(source, required=("reference_class", "map_code"))
        items = list(zip(df["reference_class"], df["map_code"]))
    out: dict[str, int] = {}
    bad = []
    for ref, code in items:
        key = _label_key(ref)
        code_key = _label_key(code)
        if key is None or code_key is None or not code_key.lstrip("-").isdigit():
            bad.append(f"{ref!r} -> {code!r}")
            continue
        if key in out and out[key] != int(code_key):
            bad.append(f"{ref!r} -> {out[key]} and {code_key}")
            continue
        out[key] = int(code_key)
    if bad:
        raise SchemaError(label, f"rows without a reference label or an integer map code, or repeated labels: {_list_some(bad)}", "give one row per reference label with the integer map class code it stands for")
    if not out:
        raise SchemaError(label, "the mapping is empty", "add rows reference_class,map_code")
    return out


def _point_ids(gdf: gpd.GeoDataFrame, which: np.ndarray) -> list[str]:
    idx = np.asarray(gdf.index)[which]
    xs = gdf.geometry.x.to_numpy()[which]
    ys = gdf.geometry.y.to_numpy()[which]
    return [f"#{i} ({x:.6g}, {y:.6g})" for i, x, y in zip(idx, xs, ys)]


def _load_points(reference_points, layer: str | None) -> tuple[gpd.GeoDataFrame, str]:
    if isinstance(reference_points, gpd.GeoDataFrame):
        return reference_points, "<reference points>"
    source = str(reference_points)
    return read_vector(reference_points, layer=layer), source


def _check_points(gdf: gpd.GeoDataFrame, source: str) -> None:
    require_crs(gdf.crs, source)
    if len(gdf) == 0:
        raise DataError(source, "the layer has no points", "choose the layer with the reference sample")
    geoms = gdf.geometry
    empty = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    if empty.any():
        raise GeometryError(source, f"features {_list_some([str(i) for i in np.asarray(gdf.index)[empty]])} have no geometry", "give every reference sample a point location or delete it")
    kinds = set(gdf.geom_type)
    if kinds != {"Point"}:
        raise GeometryError(source, f"reference samples must be single points, found {sorted(kinds)}", "use the points layer of the sample (centroids of polygons if the units are plots)")


def _pixel_indices(info: RasterInfo, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column of the pixel holding each point, and whether it is inside the raster."""
    col_f, row_f = ~info.transform * (np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
    finite = np.isfinite(col_f) & np.isfinite(row_f)
    col = np.floor(np.where(finite, col_f, -1)).astype("int64")
    row = np.floor(np.where(finite, row_f, -1)).astype("int64")
    inside = finite & (row >= 0) & (row < info.height) & (col >= 0) & (col < info.width)
    return row, col, inside


def read_pixels(info: RasterInfo, rows: np.ndarray, cols: np.ndarray, *, block_size: int = 512) -> np.ndarray:
    """Values of band 1 at (row, col) pairs, reading one small window per block that holds
    points (never the whole raster). All indices must lie inside the raster."""
    rows = np.asarray(rows, dtype="int64")
    cols = np.asarray(cols, dtype="int64")
    out = np.empty(rows.shape, dtype=info.dtype)
    if rows.size == 0:
        return out
    n_bcols = (info.width + block_size - 1) // block_size
    keys = (rows // block_size) * n_bcols + cols // block_size
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.diff(keys[order])) + 1
    with rasterio.open(info.path) as ds:
        for sel in np.split(order, bounds):
            r0, r1 = int(rows[sel].min()), int(rows[sel].max())
            c0, c1 = int(cols[sel].min()), int(cols[sel].max())
            block = ds.read(1, window=Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1))
            out[sel] = block[rows[sel] - r0, cols[sel] - c0]
    return out


def read_classes_at(
    map_path: str | Path,
    points: gpd.GeoDataFrame,
    *,
    source: str = "<points>",
    block_size: int = 512,
) -> np.ndarray:
    """Class code of ``map_path`` at each point (points reprojected to the map CRS first).

    Raises
    ------
    DataError
        missing CRS on the points; points outside the raster (listed).
    """
    info = check_categorical(read_info(map_path))
    _check_points(points, source)
    pts = points.to_crs(info.crs) if require_crs(points.crs, source) != info.crs else points
    row, col, inside = _pixel_indices(info, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    if not inside.all():
        raise DataError(source, f"{int((~inside).sum())} point(s) lie outside the map {info.path.name}: {_list_some(_point_ids(pts, ~inside))} (coordinates in {info.crs.to_string()})", "delete them or use a map that covers the whole sample; check the points' CRS")
    return read_pixels(info, row, col, block_size=block_size)


def mapped_area_ha(map_path: str | Path | RasterInfo, *, block_size: int = 512) -> tuple[dict[int, float], float]:
    """Mapped area of each class over the whole raster (ha), and the nodata area (ha).

    One blockwise pass of :func:`geodata.zonal.zonal_histogram` with the raster extent as the
    single zone: pixel areas from the affine determinant, or geodesic per row for lon/lat grids.
    """
    info = map_path if isinstance(map_path, RasterInfo) else check_categorical(read_info(map_path))
    zone = gpd.GeoDataFrame({"zone_id": ["map"]}, geometry=[shapely.box(*info.bounds)], crs=info.crs)
    hist = zonal_histogram([info], zone, id_field="zone_id", block_size=block_size)
    nodata = int(info.nodata)
    area: dict[int, float] = {}
    nodata_ha = 0.0
    for code, ha in zip(hist.codes.tolist(), (hist.area_m2[0] / M2_PER_HA).tolist()):
        if int(code) == nodata:
            nodata_ha = ha
        else:
            area[int(code)] = ha
    return area, nodata_ha


def _reference_codes(labels: pd.Series, mapping: dict[str, int] | None, source: str, class_field: str) -> np.ndarray:
    keys = [_label_key(v) for v in labels]
    blank = [str(i) for i, k in zip(labels.index, keys) if k is None]
    if blank:
        raise SchemaError(source, f"column '{class_field}' is empty for points {_list_some(blank)}", "fill in the reference class of every point, or delete the points that could not be labelled")
    if mapping is not None:
        unknown = sorted({k for k in keys if k not in mapping})
        if unknown:
            raise UnknownClassError(source, f"reference classes {unknown} in column '{class_field}' are not in the mapping (known: {sorted(mapping)})", "add a row reference_class,map_code for each of them to the mapping table")
        return np.array([mapping[k] for k in keys], dtype="int64")
    bad = sorted({k for k in keys if not k.lstrip("-").isdigit()})
    if bad:
        raise UnknownClassError(source, f"reference classes {bad} in column '{class_field}' are not integer map codes", "recode them to the map's class codes, or pass a mapping table (--mapping) from these labels to codes")
    return np.array([int(k) for k in keys], dtype="int64")


def assess_map(
    map_path: str | Path,
    reference_points: gpd.GeoDataFrame | str | Path,
    *,
    class_field: str,
    mapping: str | Path | Mapping[Any, int] | None = None,
    layer: str | None = None,
    legend: Sequence[int] | None = None,
    confidence: float = 0.95,
    block_size: int = 512,
) -> MapAssessment:
    """Assess a land-cover map raster against reference points and estimate class areas.

    The map is read only at the points (one small window per block) and once blockwise for the
    mapped areas. The points are taken to be a stratified random sample by map class (or a
    simple random / systematic sample, then post-stratified): the estimators of Olofsson et al.
    (2014) weight each stratum by its mapped area.

    Parameters
    ----------
    map_path
        Categorical raster (integer codes, nodata declared).
    reference_points
        Points with the reference class in ``class_field``: a GeoDataFrame or a vector file
        (``layer`` to choose one). Points in another CRS are reprojected to the map's CRS; a
        layer without CRS is refused.
    mapping
        Reference label -> map code (dict or CSV ``reference_class,map_code``), when the
        reference labels are names or another legend. Without it the labels must be codes.
    legend
        Extra valid codes that the map may never show (omitted classes); by default the valid
        classes are those present in the map.
    confidence
        Confidence level of the intervals (0.95: +/- 1.96 SE).

    Returns
    -------
    MapAssessment
        Confusion matrix (counts), area estimate (ha) and the sample table.

    Raises
    ------
    DataError
        Points outside the map or on nodata (listed), unknown classes, missing CRS, missing
        or empty class column, an unsampled map class.
    """
    info = check_categorical(read_info(map_path))
    gdf, source = _load_points(reference_points, layer)
    _check_points(gdf, source)
    if class_field not in gdf.columns:
        raise SchemaError(source, f"it has no column '{class_field}' (columns: {', '.join(map(str, gdf.columns))})", "name the column that holds the reference class (--class-field)")
    notes: list[str] = []
    crs = require_crs(gdf.crs, source)
    if crs != info.crs:
        notes.append(f"reference points reprojected from {crs.to_string()} to the map CRS {info.crs.to_string()}")
        gdf = gdf.to_crs(info.crs)
    mapping_d = load_mapping(mapping) if mapping is not None else None
    ref = _reference_codes(gdf[class_field], mapping_d, source, class_field)

    x = gdf.geometry.x.to_numpy()
    y = gdf.geometry.y.to_numpy()
    row, col, inside = _pixel_indices(info, x, y)
    if not inside.all():
        raise DataError(source, f"{int((~inside).sum())} reference point(s) lie outside the map {info.path.name}: {_list_some(_point_ids(gdf, ~inside))} (coordinates in {info.crs.to_string()})", "delete them or use a map that covers the whole sample; check the points' CRS")
    mapped = read_pixels(info, row, col, block_size=block_size).astype("int64")
    nodata = int(info.nodata)
    on_nodata = mapped == nodata
    if on_nodata.any():
        raise NoDataError(source, f"{int(on_nodata.sum())} reference point(s) fall on nodata pixels (value {nodata}) of {info.path.name}: {_list_some(_point_ids(gdf, on_nodata))}", "delete these points: nodata is not a stratum, the map makes no claim there")

    area_by_code, nodata_ha = mapped_area_ha(info, block_size=block_size)
    valid = set(area_by_code) | {int(v) for v in (legend or ())}
    ref_nodata = sorted({int(v) for v in ref if v == nodata})
    unknown = sorted({int(v) for v in ref if v not in valid and v != nodata})
    if ref_nodata or unknown:
        what = []
        if unknown:
            what.append(f"reference classes {unknown} are not classes of the map (map classes: {sorted(area_by_code)})")
        if ref_nodata:
            what.append(f"reference class {nodata} is the map's nodata value")
        raise UnknownClassError(source, "; ".join(what) + f" (column '{class_field}')", "recode the reference labels to the map legend (a --mapping table), or list classes the map never shows in `legend`")

    classes = tuple(sorted(valid | set(int(v) for v in ref)))
    cm = confusion_matrix(mapped, ref, classes=classes)
    est = stratified_area_estimate(cm, {c: area_by_code.get(c, 0.0) for c in classes}, confidence=confidence)
    points = pd.DataFrame({
        "point_index": np.asarray(gdf.index),
        "x": x,
        "y": y,
        "row": row,
        "col": col,
        "map_class": mapped,
        "reference_class": ref,
    })
    if mapping_d is not None:
        points.insert(len(points.columns), "reference_label", [_label_key(v) for v in gdf[class_field]])
    return MapAssessment(
        map_path=info.path,
        reference_source=source,
        class_field=class_field,
        map_crs=info.crs.to_string(),
        confusion=cm,
        area=est,
        nodata_ha=nodata_ha,
        points=points,
        notes=tuple(notes) + est.notes,
    )


# --------------------------------------------------------------------------------------------
# Report files
# --------------------------------------------------------------------------------------------


def _clean(obj):
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def accuracy_json(result: MapAssessment) -> dict:
    """Everything in the report, JSON-ready (NaN -> null)."""
    return _clean({
        "method": "stratified estimation of area and accuracy, Olofsson et al. (2014) Remote Sensing of Environment 148:42-57; rows = map class, columns = reference class",
        "map": str(result.map_path),
        "map_crs": result.map_crs,
        "reference": result.reference_source,
        "class_field": result.class_field,
        "classes": list(result.confusion.classes),
        "confusion_matrix_counts": result.confusion.counts.tolist(),
        "sample": result.confusion.summary(),
        "stratified": result.area.summary(),
        "nodata_ha": result.nodata_ha,
        "per_class_sample": result.confusion.per_class().to_dict(orient="records"),
        "area_estimate": result.area.to_frame().to_dict(orient="records"),
        "notes": list(result.notes),
    })


def write_accuracy_report(result: MapAssessment, out_dir: str | Path) -> list[Path]:
    """Write the confusion matrix, per-class accuracies, area estimates, estimated area
    proportions and the sample (CSV), and ``accuracy.json``, atomically.

    Files are written to a temporary folder beside ``out_dir`` and moved into place at the end,
    so a failure never leaves a half-written report. ``out_dir`` must be new, empty, or an
    earlier accuracy report (it holds ``accuracy.json``), which is replaced.
    """
    out = Path(out_dir)
    with atomic_report_dir(out, marker=REPORT_MARKER) as tmp:
        result.confusion.to_frame().to_csv(tmp / "confusion_matrix.csv")
        result.confusion.per_class().to_csv(tmp / "accuracy_by_class.csv", index=False)
        result.area.to_frame().to_csv(tmp / "area_estimate.csv", index=False)
        result.area.proportions_frame().to_csv(tmp / "error_matrix_area_proportions.csv")
        result.points.to_csv(tmp / "sample_points.csv", index=False)
        (tmp / REPORT_MARKER).write_text(json.dumps(accuracy_json(result), ensure_ascii=False, indent=2), encoding="utf-8")
    return sorted(out.iterdir())


def load_area_uncertainty(report: str | Path) -> dict[int, float]:
    """Relative 95 % half-width of each class's adjusted area, in %, from an accuracy report.

    ``report`` is a folder written by :func:`write_accuracy_report` (or its ``accuracy.json``).
    The carbon core combines these with the coefficient uncertainties (IPCC Approach 1).
    Classes whose adjusted area is 0 are left out (no relative figure exists).
    """
    path = Path(report)
    if path.is_dir():
        path = path / REPORT_MARKER
    if not path.exists():
        raise DataError(path, "no accuracy report here", "run `python -m sinks accuracy ... --out DIR` and point the configuration at DIR")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = doc["area_estimate"]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(path, f"it is not an accuracy report written by this program ({exc})", "write it again with `python -m sinks accuracy`") from exc
    out: dict[int, float] = {}
    for r in rows:
        area, se = r.get("adjusted_area_ha"), r.get("se_ha")
        if area and se is not None and area > 0:
            out[int(r["class"])] = 100.0 * 1.96 * float(se) / float(area)  # 95 % half-width, as IPCC
    return out
