"""Coverage intervals per planning unit from the land-cover map's accuracy assessment.

The map is wrong in places, so the mapped area of "tree" (forest coverage, 森林覆盖率) or of
"vegetation" (green coverage, 绿化覆盖率) in a unit is not its true area. A reference sample
(error matrix of counts, rows = map class, columns = reference class, as in
:mod:`sinks.landcover.accuracy`) tells how often each map class is really in the target set.

Method: the map classes are strata (Olofsson et al. 2014). Within map class ``i`` the sample
gives the conditional probability

    q_i = P(reference in target set | map = i) = n_i,T / n_i.

For a unit with mapped area ``A_i`` (ha) of class ``i``, the estimated true target area and its
variance are the stratified estimator with the unit's mapped areas as the stratum sizes:

    A_hat    = sum_i A_i q_i
    Var(A_hat) = sum_i A_i^2 q_i (1 - q_i) / (n_i. - 1)

and the interval is ``A_hat +/- z SE`` (z = 1.96 at 95 %), clipped to [0, unit mapped area].
For a unit whose mapped areas are those of the whole map and a single target class this is
exactly Olofsson et al.'s Eq. 9-12 (``A_tot p_.k`` and ``A_tot S(p_.k)``); for a set of target
classes the indicator "reference in the set" is used directly, so the variance is that of the
union, not a sum of per-class variances.

**Assumption.** The map's errors inside the unit behave like the sample's over the whole map
(the same q_i everywhere). The sample says nothing about local error patterns (a unit full of
mixed pixels on park edges is worse than average), and the variance counts only the sampling
error of q_i, so intervals for small units are optimistic. The coverage denominator (land area
or built-up area, ``denominator_ha``) is treated as fixed, although it may come from the same
map.

Special cases, listed in the ``notes`` column: a map class present in the unit but absent from
the sample (n_i. = 0) cannot be adjusted, so its mapped area is kept as it is (q_i = 1 when the
class is in the target set, else 0) with zero variance; a class with a single sample unit
(n_i. = 1) has an undefined variance term, so the unit's SE and interval are NaN.

Reference: Olofsson, P. et al. (2014) Good practices for estimating area and assessing accuracy
of land change. Remote Sensing of Environment 148, 42-57, doi:10.1016/j.rse.2014.02.015.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.errors import DataError, SchemaError, UnknownClassError
from sinks.landcover.accuracy import REPORT_MARKER, ConfusionMatrix, z_score

UNIT_COLUMNS = ("unit_id", "code", "area_ha")


def _list_some(items: Sequence[Any], limit: int = 10) -> str:
    items = list(items)
    head = ", ".join(str(v) for v in items[:limit])
    return head + (f" ... and {len(items) - limit} more" if len(items) > limit else "")


def _as_code(v: Any) -> int | None:
    """An integer class code from 10, 10.0, '10', ' 10 '; None when it is not one."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    try:
        f = float(str(v).strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f.is_integer() else None


def error_counts_frame(error_counts: pd.DataFrame | ConfusionMatrix, *, source: str = "<error matrix>") -> pd.DataFrame:
    """The error matrix as a square DataFrame of int64 counts with integer codes on both axes.

    Rows are the map class, columns the reference class. Columns are put in the order of the
    rows when both hold the same codes in another order.

    Raises
    ------
    SchemaError
        Not square, different codes on the two axes, codes that are not integers.
    DataError
        Negative, fractional or missing counts.
    """
    if isinstance(error_counts, ConfusionMatrix):
        df = error_counts.to_frame()
    elif isinstance(error_counts, pd.DataFrame):
        df = error_counts
    else:
        raise SchemaError(source, f"expected a DataFrame or ConfusionMatrix, got {type(error_counts).__name__}", "pass the confusion matrix of sample counts (rows map class, columns reference class)")
    if df.shape[0] != df.shape[1] or df.shape[0] == 0:
        raise SchemaError(source, f"the error matrix must be square with one row and one column per class, got {df.shape[0]} rows x {df.shape[1]} columns", "give the same classes on both axes, rows = map class, columns = reference class (0 for empty cells)")
    rows = [_as_code(v) for v in df.index]
    cols = [_as_code(v) for v in df.columns]
    bad = [repr(v) for v, c in zip(list(df.index) + list(df.columns), rows + cols) if c is None]
    if bad:
        raise SchemaError(source, f"class labels {_list_some(list(dict.fromkeys(bad)))} are not integer land-cover codes", "label rows and columns with the map's integer class codes")
    if len(set(rows)) != len(rows) or len(set(cols)) != len(cols):
        raise SchemaError(source, f"class codes repeat (rows {rows}, columns {cols})", "give each class one row and one column")
    if set(rows) != set(cols):
        raise SchemaError(source, f"rows hold classes {sorted(rows)} but columns hold {sorted(cols)}", "give the same classes on both axes (a class never seen still needs its row and column of zeros)")
    out = df.copy()
    out.index = pd.Index(rows, name="map_class")
    out.columns = pd.Index(cols, name="reference_class")
    out = out[rows]
    try:
        vals = out.to_numpy(dtype="float64")
    except (TypeError, ValueError) as exc:
        raise DataError(source, f"the error matrix holds non-numeric cells ({exc})", "give whole numbers of sample units") from exc
    if not np.all(np.isfinite(vals)) or (vals < 0).any() or not np.allclose(vals, np.round(vals)):
        raise DataError(source, "the error matrix holds negative, fractional or missing counts", "give whole numbers of sample units (0 for empty cells)")
    return pd.DataFrame(np.round(vals).astype("int64"), index=out.index, columns=out.columns)


def _unit_table(unit_areas: pd.DataFrame, source: str) -> pd.DataFrame:
    if not isinstance(unit_areas, pd.DataFrame):
        raise SchemaError(source, f"expected a table, got {type(unit_areas).__name__}", f"pass a DataFrame with columns {', '.join(UNIT_COLUMNS)}")
    missing = [c for c in UNIT_COLUMNS if c not in unit_areas.columns]
    if missing:
        raise SchemaError(source, f"columns {missing} are missing (columns: {', '.join(map(str, unit_areas.columns))})", f"give one row per unit and class with columns {', '.join(UNIT_COLUMNS)} (area in hectares)")
    df = unit_areas[list(UNIT_COLUMNS)].copy()
    codes = [_as_code(v) for v in df["code"]]
    bad = [repr(v) for v, c in zip(df["code"], codes) if c is None]
    if bad:
        raise SchemaError(source, f"column 'code' holds values that are not integer class codes: {_list_some(list(dict.fromkeys(bad)))}", "give the map's integer class codes; drop nodata rows")
    df["code"] = codes
    if df["unit_id"].isna().any():
        raise SchemaError(source, f"{int(df['unit_id'].isna().sum())} rows have no unit_id", "give every row the id of its planning unit")
    area = pd.to_numeric(df["area_ha"], errors="coerce")
    if area.isna().any() or not np.all(np.isfinite(area)) or (area < 0).any():
        raise DataError(source, f"column 'area_ha' must hold finite non-negative numbers, got {_list_some(df['area_ha'][area.isna() | (area < 0)].tolist())}", "give the mapped area of each class in hectares")
    df["area_ha"] = area.astype("float64")
    dup = df.duplicated(["unit_id", "code"], keep=False)
    if dup.any():
        pairs = list(dict.fromkeys(f"({u}, {c})" for u, c in zip(df.loc[dup, "unit_id"], df.loc[dup, "code"])))
        raise DataError(source, f"unit and class pairs appear more than once: {_list_some(pairs)}", "give one row per unit and class (sum the areas first if they are parts of one class)")
    return df


def coverage_intervals(
    unit_areas: pd.DataFrame,
    error_counts: pd.DataFrame | ConfusionMatrix,
    target_codes: Sequence[int],
    *,
    denominator_ha: Mapping[Any, float] | None = None,
    confidence: float = 0.95,
    source: str = "<unit areas>",
) -> pd.DataFrame:
    """Error-adjusted area (and coverage) of a set of classes per planning unit, with intervals.

    See the module docstring for the method and its assumption (the map's errors inside a unit
    behave like the sample's over the whole map, so intervals of small units are optimistic).

    Parameters
    ----------
    unit_areas
        Mapped area per unit and class: columns ``unit_id``, ``code`` (integer map class),
        ``area_ha`` (hectares), one row per pair; nodata left out.
    error_counts
        Sample counts, rows = map class, columns = reference class: a :class:`ConfusionMatrix`
        or a square DataFrame with the codes as index and columns (see
        :func:`load_error_counts`).
    target_codes
        The classes whose true area is wanted, e.g. ``[10]`` (tree cover) or ``[10, 20, 30]``
        (vegetation).
    denominator_ha
        Optional unit_id -> area (ha) that the coverage is a share of (land area, built-up
        area), treated as fixed. Every unit needs one; it must be positive.
    confidence
        Confidence level (0.95: +/- 1.96 SE).

    Returns
    -------
    pandas.DataFrame
        One row per unit in input order: ``unit_id``, ``total_mapped_ha``, ``mapped_target_ha``,
        ``adjusted_target_ha``, ``se_ha``, ``ci_low_ha``, ``ci_high_ha`` (clipped to
        [0, total_mapped_ha]); with ``denominator_ha`` also ``denominator_ha``, ``mapped_pct``,
        ``adjusted_pct``, ``se_pct``, ``ci_low_pct``, ``ci_high_pct`` (percent of the
        denominator); and ``notes`` (text, "" when none). ``attrs`` holds ``target_codes``,
        ``confidence`` and ``z``.

    Raises
    ------
    DataError
        Missing columns, bad areas or codes, a non-square or negative error matrix, target
        codes found nowhere, a missing or non-positive denominator.
    """
    z = z_score(confidence)
    units = _unit_table(unit_areas, source)
    counts = error_counts_frame(error_counts)
    target = []
    for t in target_codes if not isinstance(target_codes, (str, bytes)) else [target_codes]:
        c = _as_code(t)
        if c is None:
            raise UnknownClassError(source, f"target code {t!r} is not an integer class code", "give the target classes as integer map codes, e.g. [10] for tree cover")
        target.append(c)
    target_set = set(target)
    if not target_set:
        raise DataError(source, "no target classes given", "give the classes whose area is wanted, e.g. [10] for tree cover")
    known = set(counts.index) | set(units["code"])
    nowhere = sorted(target_set - known)
    if nowhere:
        raise UnknownClassError(source, f"target codes {nowhere} are neither in the error matrix (classes {list(counts.index)}) nor in the unit areas", "check the target codes against the map legend")

    n_i = counts.sum(axis=1)
    in_target = [c for c in counts.columns if c in target_set]
    n_it = counts[in_target].sum(axis=1) if in_target else pd.Series(0, index=counts.index)

    if denominator_ha is not None:
        den_lookup = dict(denominator_ha)
        ids = list(dict.fromkeys(units["unit_id"]))
        dens = {}
        lacking = []
        for u in ids:
            v = den_lookup.get(u, den_lookup.get(str(u)))
            if v is None:
                lacking.append(u)
                continue
            dens[u] = v
        if lacking:
            raise DataError("<denominator_ha>", f"no denominator for units {_list_some(lacking)}", "give the area (ha) that the coverage is a share of for every unit")
        bad = {u: v for u, v in dens.items() if not (isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(float(v)) and float(v) > 0)}
        if bad:
            raise DataError("<denominator_ha>", f"denominators must be positive hectares, got {bad}", "give each unit's land or built-up area in hectares")

    rows = []
    for unit_id, g in units.groupby("unit_id", sort=False):
        g = g[g["area_ha"] > 0]
        total = float(g["area_ha"].sum())
        mapped_t = float(g.loc[g["code"].isin(target_set), "area_ha"].sum())
        adj = 0.0
        var = 0.0
        unsampled: list[int] = []
        single: list[int] = []
        for code, a in zip(g["code"], g["area_ha"]):
            n = int(n_i.get(code, 0))
            if n == 0:
                unsampled.append(int(code))
                adj += a if code in target_set else 0.0
                continue
            q = float(n_it[code]) / n
            adj += a * q
            if n == 1:
                single.append(int(code))
                var = float("nan")
            else:
                var += a * a * q * (1 - q) / (n - 1)
        se = math.sqrt(var) if not math.isnan(var) else float("nan")
        notes = []
        if unsampled:
            notes.append(f"map classes {sorted(unsampled)} have no sample units: their mapped area is kept unadjusted (counted in the target only if it is a target class) and adds no variance")
        if single:
            notes.append(f"map classes {sorted(single)} have one sample unit: the variance (n - 1 = 0) is undefined, so SE and interval are NaN")
        if total == 0:
            notes.append("the unit has no mapped area")
        row = {
            "unit_id": unit_id,
            "total_mapped_ha": total,
            "mapped_target_ha": mapped_t,
            "adjusted_target_ha": adj,
            "se_ha": se,
            "ci_low_ha": min(max(adj - z * se, 0.0), total) if not math.isnan(se) else float("nan"),
            "ci_high_ha": min(max(adj + z * se, 0.0), total) if not math.isnan(se) else float("nan"),
        }
        if denominator_ha is not None:
            d = float(dens[unit_id])
            row.update({
                "denominator_ha": d,
                "mapped_pct": 100.0 * mapped_t / d,
                "adjusted_pct": 100.0 * adj / d,
                "se_pct": 100.0 * se / d,
                "ci_low_pct": 100.0 * row["ci_low_ha"] / d,
                "ci_high_pct": 100.0 * row["ci_high_ha"] / d,
            })
        row["notes"] = "; ".join(notes)
        rows.append(row)
    cols = ["unit_id", "total_mapped_ha", "mapped_target_ha", "adjusted_target_ha", "se_ha", "ci_low_ha", "ci_high_ha"]
    if denominator_ha is not None:
        cols += ["denominator_ha", "mapped_pct", "adjusted_pct", "se_pct", "ci_low_pct", "ci_high_pct"]
    cols.append("notes")
    out = pd.DataFrame(rows, columns=cols)
    out.attrs.update({"target_codes": sorted(target_set), "confidence": float(confidence), "z": z})
    return out


def load_error_counts(report: str | Path) -> pd.DataFrame:
    """The confusion-matrix counts of an accuracy report, as the DataFrame that
    :func:`coverage_intervals` takes (index ``map_class``, columns ``reference_class``).

    ``report`` is a folder written by :func:`sinks.landcover.accuracy.write_accuracy_report`
    or its ``accuracy.json`` (keys ``classes`` and ``confusion_matrix_counts``).

    Raises
    ------
    DataError
        No report there, or a file that is not such a report.
    """
    path = Path(report)
    if path.is_dir():
        path = path / REPORT_MARKER
    if not path.exists():
        raise DataError(path, "no accuracy report here", "run `python -m sinks accuracy ... --out DIR` and point at DIR or DIR/accuracy.json")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        classes = list(doc["classes"])
        counts = doc["confusion_matrix_counts"]
        df = pd.DataFrame(counts, index=classes, columns=classes)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(path, f"it is not an accuracy report written by this program ({type(exc).__name__}: {exc})", "write it again with `python -m sinks accuracy`") from exc
    return error_counts_frame(df, source=str(path))
