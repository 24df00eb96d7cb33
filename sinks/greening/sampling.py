"""Point-sample check of tree and vegetation cover, as i-Tree Canopy does it.

A planner picks a planning unit; :func:`sample_points` draws ``N`` uniform random points inside
it; the planner labels each point by looking at imagery as ``tree``, ``other_vegetation`` or
``non_vegetation``; :func:`point_estimates` gives the cover proportion of each category

    p = n_k / N,    SE = sqrt(p (1 - p) / N),    95 % interval p +/- 1.96 SE

(i-Tree Canopy's formulas, over the labelled points only), plus the Wilson score interval, which
behaves better for small ``N`` or ``p`` near 0 or 1. :func:`compare_with_map` sets the sample
against the classified map's shares, and :func:`agreement_table` against the map's class at the
same points (:func:`map_labels_at` turns land-cover codes into the three labels).

Proportions and standard errors are fractions in [0, 1]; differences are percentage points.

Reference: i-Tree Canopy technical notes (USDA Forest Service), "Standard error and confidence
interval"; Wilson, E. B. (1927) J. Am. Stat. Assoc. 22, 209-212.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geodata.errors import DataError, GeometryError, SchemaError, UnknownClassError
from sinks.notes import Note
from sinks.landcover.accuracy import z_score

LABELS: tuple[str, ...] = ("tree", "other_vegetation", "non_vegetation")
"""The three point labels, in display order."""

VEGETATION = "vegetation"
"""The derived category tree + other_vegetation."""

MAX_SAMPLE_POINTS = 1000
"""Most points one check may draw (i-Tree Canopy users rarely label more than a few hundred)."""

DEFAULT_MAX_TRIES = 200_000
"""Default bound on candidate points drawn in the bounding boxes before giving up."""

_ALIASES: Mapping[str, str] = MappingProxyType({
    "tree": "tree",
    "other_vegetation": "other_vegetation",
    "non_vegetation": "non_vegetation",
    "树木": "tree",
    "乔木": "tree",
    "其他植被": "other_vegetation",
    "其它植被": "other_vegetation",
    "非植被": "non_vegetation",
})

_ALLOWED_TEXT = "tree, other_vegetation, non_vegetation (any case; or 树木/乔木, 其他植被, 非植被); blank = not labelled"

# ESA WorldCover 10 m legend -> point label.
DEFAULT_MAP_LABELS: Mapping[int, str] = MappingProxyType({
    10: "tree",  # tree cover
    95: "tree",  # mangroves
    20: "other_vegetation",  # shrubland
    30: "other_vegetation",  # grassland
    40: "other_vegetation",  # cropland
    90: "other_vegetation",  # herbaceous wetland
    100: "other_vegetation",  # moss and lichen
    50: "non_vegetation",  # built-up
    60: "non_vegetation",  # bare / sparse vegetation
    70: "non_vegetation",  # snow and ice
    80: "non_vegetation",  # permanent water bodies
})
"""Default land-cover code -> label mapping for ESA WorldCover codes."""


def _list_some(items: Iterable[Any], limit: int = 10) -> str:
    items = list(items)
    head = ", ".join(str(v) for v in items[:limit])
    return head + (f" ... and {len(items) - limit} more" if len(items) > limit else "")


# --------------------------------------------------------------------------------------------
# Drawing the points
# --------------------------------------------------------------------------------------------


def _polygon_parts(geom: Any, source: str) -> list[shapely.Polygon]:
    if geom is None or not isinstance(geom, shapely.Geometry):
        raise GeometryError(source, f"expected a polygon geometry, got {type(geom).__name__}", "pass the planning unit's (Multi)Polygon")
    if geom.is_empty:
        raise GeometryError(source, "the planning unit's geometry is empty", "choose a unit with a boundary, or check that the unit layer was read correctly")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts: list[shapely.Polygon] = []
    stack = [geom]
    while stack:  # flatten (Multi)Polygons and GeometryCollections, which make_valid may nest
        g = stack.pop()
        if isinstance(g, shapely.Polygon):
            parts.append(g)
        elif hasattr(g, "geoms"):
            stack.extend(reversed(list(g.geoms)))
    parts = [p for p in parts if p.area > 0]
    if not parts:
        raise GeometryError(source, f"the planning unit has no area (geometry type {geom.geom_type})", "choose a polygon unit; points and lines cannot be sampled")
    return parts


def sample_points(
    geom: shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame,
    n: int,
    *,
    seed: int = 0,
    crs: Any = None,
    max_tries: int = DEFAULT_MAX_TRIES,
    source: str = "<planning unit>",
) -> gpd.GeoDataFrame:
    """Uniform random points inside a planning unit (rejection sampling, deterministic).

    Each polygon part receives a multinomial share of the points in proportion to its area;
    inside a part, candidate points are drawn uniformly in its bounding box in batches and kept
    when they fall strictly inside the part (holes excluded). The order of the points is then
    shuffled, so labelling the first ``k`` points is still a random sample.

    Parameters
    ----------
    geom
        The unit as a shapely (Multi)Polygon in a projected CRS (metres), or a GeoSeries /
        GeoDataFrame whose geometries are merged (their CRS is used when ``crs`` is None).
        Invalid geometries are repaired with ``shapely.make_valid``.
    n
        Number of points, 1 to :data:`MAX_SAMPLE_POINTS`.
    seed
        Seed of the random generator: the same seed and geometry give the same points.
    crs
        CRS of ``geom``, passed through to the result. A geographic CRS (degrees) is refused:
        points uniform in degrees are not uniform in area. The caller projects first.
    max_tries
        Most candidate points drawn in total. A unit that fills only a small part of its
        bounding boxes (a thin or scattered shape) needs about ``n / fill`` candidates.
    source
        Name of the unit, for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``point_id`` (``P001``, ``P002``, ...), ``x``, ``y`` (CRS units, metres) and
        ``geometry``; ``n`` rows.

    Raises
    ------
    DataError
        Empty or zero-area geometry, ``n`` out of range, a geographic CRS, or a shape too thin
        to place ``n`` points within ``max_tries`` candidates.
    """
    if isinstance(geom, (gpd.GeoSeries, gpd.GeoDataFrame)):
        gs = geom.geometry if isinstance(geom, gpd.GeoDataFrame) else geom
        if crs is not None and gs.crs is not None and CRS.from_user_input(crs) != gs.crs:
            raise DataError(source, f"crs={CRS.from_user_input(crs).to_string()} differs from the layer's CRS {gs.crs.to_string()}", "leave crs unset to use the layer's CRS, or reproject the layer")
        crs = crs if crs is not None else gs.crs
        geom = gs.union_all() if len(gs) else None
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise DataError(source, f"the number of points must be a whole number, got {n!r}", f"ask for 1 to {MAX_SAMPLE_POINTS} points")
    n = int(n)
    if n < 1 or n > MAX_SAMPLE_POINTS:
        raise DataError(source, f"{n} points asked for", f"ask for 1 to {MAX_SAMPLE_POINTS} points (i-Tree Canopy users typically label 100-500)")
    if not isinstance(max_tries, (int, np.integer)) or max_tries < n:
        raise ValueError(f"max_tries must be an integer >= n ({n}), got {max_tries!r}")
    if crs is not None:
        crs = CRS.from_user_input(crs)
        if crs.is_geographic:
            raise DataError(source, f"the unit is in the geographic CRS {crs.to_string()} (degrees): points uniform in degrees are not uniform in area", "project the unit to a metric CRS first (for example EPSG:32650, UTM 50N)")
    parts = _polygon_parts(geom, source)

    areas = np.array([p.area for p in parts])
    bboxes = np.array([p.bounds for p in parts])  # minx, miny, maxx, maxy
    box_areas = (bboxes[:, 2] - bboxes[:, 0]) * (bboxes[:, 3] - bboxes[:, 1])
    fill = float(areas.sum() / box_areas.sum())
    expected = n / fill
    too_thin = DataError(
        source,
        f"the unit fills only {100 * fill:.3g} % of its bounding box (a thin or scattered shape), "
        f"so {n} random points cannot be placed within {max_tries} candidate points",
        "choose a bigger or more compact planning unit, or ask for fewer points",
    )
    if expected > max_tries:
        raise too_thin

    rng = np.random.default_rng(seed)
    per_part = rng.multinomial(n, areas / areas.sum()) if len(parts) > 1 else np.array([n])
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    drawn = 0
    for part, (x0, y0, x1, y1), k in zip(parts, bboxes, per_part):
        k = int(k)
        if k == 0:
            continue
        shapely.prepare(part)
        part_fill = part.area / ((x1 - x0) * (y1 - y0))
        got_x: list[np.ndarray] = []
        got_y: list[np.ndarray] = []
        have = 0
        while have < k:
            left = max_tries - drawn
            if left <= 0:
                raise too_thin
            batch = int(min(left, 100_000, math.ceil((k - have) / part_fill * 1.2) + 64))
            cx = rng.uniform(x0, x1, batch)
            cy = rng.uniform(y0, y1, batch)
            drawn += batch
            inside = shapely.contains_xy(part, cx, cy)
            take = min(int(inside.sum()), k - have)
            got_x.append(cx[inside][:take])
            got_y.append(cy[inside][:take])
            have += take
        xs.extend(got_x)
        ys.extend(got_y)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    order = rng.permutation(n)
    x, y = x[order], y[order]
    width = max(3, len(str(n)))
    return gpd.GeoDataFrame(
        {"point_id": [f"P{i:0{width}d}" for i in range(1, n + 1)], "x": x, "y": y},
        geometry=gpd.points_from_xy(x, y),
        crs=crs,
    )


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


_BAD = object()


def _is_blank(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _label_of(v: Any) -> str | None | object:
    """The canonical label, None for blank, or the sentinel ``_BAD``."""
    if _is_blank(v):
        return None
    if not isinstance(v, str):
        return _BAD
    s = v.strip()
    key = "_".join(s.lower().replace("-", " ").replace("_", " ").split())
    return _ALIASES.get(key, _ALIASES.get(s, _BAD))



def normalize_labels(labels: Iterable[Any], *, source: str = "<point labels>") -> list[str | None]:
    """Canonical labels (``tree``, ``other_vegetation``, ``non_vegetation``) or None (unlabelled).

    English labels in any case (spaces or hyphens for the underscore are accepted) and the
    Chinese labels 树木 / 乔木 (tree), 其他植被 (other vegetation), 非植被 (non-vegetation).
    None, NaN and blank text mean "not labelled".

    Raises
    ------
    UnknownClassError
        Any other value; the message lists the bad values and the allowed ones.
    """
    values = list(labels.tolist() if isinstance(labels, (pd.Series, np.ndarray, pd.Index)) else labels)
    out = [_label_of(v) for v in values]
    bad = [v for v, o in zip(values, out) if o is _BAD]
    if bad:
        uniq = list(dict.fromkeys(repr(v) for v in bad))
        raise UnknownClassError(source, f"{len(bad)} point label(s) are not recognised: {_list_some(uniq)}", f"use one of {_ALLOWED_TEXT}")
    return out  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Cover estimates
# --------------------------------------------------------------------------------------------


def _wilson(k: np.ndarray, n: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (fractions)."""
    if n == 0:
        nan = np.full(k.shape, np.nan)
        return nan, nan.copy()
    p = k / n
    z2 = z * z
    den = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / den
    half = z / den * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


@dataclass(frozen=True)
class PointEstimate:
    """Cover proportions from labelled sample points (fractions).

    ``table`` has one row per label of :data:`LABELS` plus the derived row ``vegetation``
    (tree + other_vegetation), with columns ``label``, ``n`` (points with the label), ``p``
    (= n / n_labelled), ``se`` (= sqrt(p (1 - p) / n_labelled)), ``ci_low``, ``ci_high`` (the
    normal interval p +/- z SE clipped to [0, 1]), ``ci_half`` (= z SE, unclipped),
    ``wilson_low``, ``wilson_high`` (Wilson score interval).
    """

    n_points: int
    n_labelled: int
    n_unlabelled: int
    table: pd.DataFrame
    confidence: float
    z: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def row(self, label: str) -> pd.Series:
        """The table row of ``label`` (one of :data:`LABELS` or ``"vegetation"``)."""
        hit = self.table[self.table["label"] == label]
        if hit.empty:
            raise KeyError(f"{label!r} is not one of {list(self.table['label'])}")
        return hit.iloc[0]

    def p(self, label: str) -> float:
        """Cover proportion of ``label`` (fraction; NaN when nothing is labelled)."""
        return float(self.row(label)["p"])


def point_estimates(
    labels: Iterable[Any],
    *,
    confidence: float = 0.95,
    source: str = "<point labels>",
) -> PointEstimate:
    """Cover proportion of each label, with i-Tree Canopy's standard error and interval.

    Over the ``n`` labelled points: ``p = n_k / n``, ``SE = sqrt(p (1 - p) / n)`` and the
    interval ``p +/- z SE`` (z = 1.96 at 95 %, as i-Tree Canopy), clipped to [0, 1]. This normal
    (Wald) interval is the primary figure because it is what i-Tree reports, but it is poor for
    small ``n`` or ``p`` near 0 or 1 (at p = 0 it collapses to [0, 0]); the Wilson score
    interval ``wilson_low``..``wilson_high`` keeps close to its nominal coverage there and
    should be read instead in those cases.

    Parameters
    ----------
    labels
        One label per point (see :func:`normalize_labels`); None / NaN / blank = not labelled,
        left out of the estimate.
    confidence
        Confidence level of the intervals.

    Returns
    -------
    PointEstimate
        With ``p = NaN`` (not 0) and a note when no point is labelled.

    Raises
    ------
    UnknownClassError
        Labels that are not recognised (listed, with the allowed ones).
    """
    z = z_score(confidence)
    norm = normalize_labels(labels, source=source)
    n_points = len(norm)
    n_lab = sum(v is not None for v in norm)
    counts = {k: sum(v == k for v in norm) for k in LABELS}
    counts[VEGETATION] = counts["tree"] + counts["other_vegetation"]
    names = list(LABELS) + [VEGETATION]
    k = np.array([counts[c] for c in names], dtype="float64")
    if n_lab:
        p = k / n_lab
        se = np.sqrt(p * (1 - p) / n_lab)
    else:
        p = np.full(k.shape, np.nan)
        se = np.full(k.shape, np.nan)
    half = z * se
    wl, wh = _wilson(k, n_lab, z)
    table = pd.DataFrame({
        "label": names,
        "n": k.astype("int64"),
        "p": p,
        "se": se,
        "ci_low": np.clip(p - half, 0.0, 1.0),
        "ci_high": np.clip(p + half, 0.0, 1.0),
        "ci_half": half,
        "wilson_low": wl,
        "wilson_high": wh,
    })
    notes: list[Note] = []
    if n_lab == 0:
        notes.append(Note("pt_none", f"none of the {n_points} points is labelled, so the cover cannot be estimated (p is NaN, not 0): label the points first", n=n_points))
    else:
        if n_points > n_lab:
            notes.append(Note("pt_unlabelled", f"{n_points - n_lab} of {n_points} points are not labelled and are left out; the estimate uses the {n_lab} labelled points",
                              unlabelled=n_points - n_lab, n=n_points))
        if n_lab < 30:
            notes.append(Note("pt_few", f"only {n_lab} labelled points: the normal interval p +/- {z:.2f} SE is poor for so few, read the Wilson interval", n=n_lab))
        edge = [c for c, pc in zip(names, p) if pc in (0.0, 1.0)]
        if edge:
            notes.append(Note("pt_edge", f"p is 0 or 1 for {', '.join(edge)}: SE is 0 and the normal interval collapses to a point, read the Wilson interval", labels=edge))
    return PointEstimate(
        n_points=n_points,
        n_labelled=n_lab,
        n_unlabelled=n_points - n_lab,
        table=table,
        confidence=float(confidence),
        z=z,
        notes=tuple(notes),
    )


def compare_with_map(estimates: PointEstimate, map_share: Mapping[str, float]) -> pd.DataFrame:
    """The classified map's cover share against the point-sample estimate, per category.

    Parameters
    ----------
    estimates
        From :func:`point_estimates`.
    map_share
        The map's share (fraction of the unit's mapped area, nodata excluded) per label: keys
        among :data:`LABELS` and ``"vegetation"`` (Chinese labels accepted). When ``tree`` and
        ``other_vegetation`` are given and ``vegetation`` is not, it is added as their sum.

    Returns
    -------
    pandas.DataFrame
        One row per category given: ``label``, ``map_share`` and ``sample_p`` (fractions),
        ``ci_low``, ``ci_high`` (the sample's normal interval), ``difference_pp``
        (= 100 (map_share - sample_p), percentage points), ``status`` (``"agrees"`` when the map
        share lies inside the interval, bounds included, ``"outside"`` otherwise,
        ``"no_sample"`` when no point is labelled) and ``status_wilson`` (the same against the
        Wilson interval).

    Raises
    ------
    DataError
        Unknown categories, or shares that are not fractions in [0, 1].
    """
    shares: dict[str, float] = {}
    bad_keys = []
    for key, val in map_share.items():
        lab = VEGETATION if isinstance(key, str) and key.strip().lower() == VEGETATION else _label_of(key)
        if lab is None or lab is _BAD:
            bad_keys.append(repr(key))
            continue
        shares[lab] = val  # type: ignore[index]
    if bad_keys:
        raise UnknownClassError("<map shares>", f"categories {_list_some(bad_keys)} are not known", f"use {', '.join(LABELS)} or {VEGETATION}")
    bad_vals = {k: v for k, v in shares.items() if not (isinstance(v, (int, float, np.integer, np.floating)) and 0 <= float(v) <= 1)}
    if bad_vals:
        raise DataError("<map shares>", f"map shares must be fractions in [0, 1], got {bad_vals}", "divide percentages by 100; give the share of the unit's mapped area")
    if VEGETATION not in shares and "tree" in shares and "other_vegetation" in shares:
        shares[VEGETATION] = float(shares["tree"]) + float(shares["other_vegetation"])
    rows = []
    for lab in [*LABELS, VEGETATION]:
        if lab not in shares:
            continue
        r = estimates.row(lab)
        m = float(shares[lab])
        p = float(r["p"])
        if math.isnan(p):
            status = status_w = "no_sample"
        else:
            status = "agrees" if r["ci_low"] <= m <= r["ci_high"] else "outside"
            status_w = "agrees" if r["wilson_low"] <= m <= r["wilson_high"] else "outside"
        rows.append({
            "label": lab,
            "map_share": m,
            "sample_p": p,
            "ci_low": float(r["ci_low"]),
            "ci_high": float(r["ci_high"]),
            "difference_pp": 100.0 * (m - p),
            "status": status,
            "status_wilson": status_w,
        })
    return pd.DataFrame(rows, columns=["label", "map_share", "sample_p", "ci_low", "ci_high", "difference_pp", "status", "status_wilson"])


# --------------------------------------------------------------------------------------------
# The map at the sample points
# --------------------------------------------------------------------------------------------


def _check_roles(roles: Mapping[Any, str]) -> dict[int, str]:
    out: dict[int, str] = {}
    bad = []
    for code, lab in roles.items():
        norm = _label_of(lab)
        try:
            c = int(code)
            ok = float(code) == c
        except (TypeError, ValueError):
            ok = False
        if not ok or norm is None or norm is _BAD:
            bad.append(f"{code!r} -> {lab!r}")
            continue
        out[c] = norm  # type: ignore[assignment]
    if bad:
        raise SchemaError("<code -> label mapping>", f"entries {_list_some(bad)} are not an integer code with a label", f"map every land-cover code to one of {', '.join(LABELS)}")
    return out


def map_labels_at(
    codes: Iterable[Any],
    roles: Mapping[int, str] | None = None,
    *,
    nodata: int | Sequence[int] | None = None,
    source: str = "<map codes>",
) -> list[str | None]:
    """The point label that the map's land-cover code stands for, at each point.

    Parameters
    ----------
    codes
        Land-cover code of the map at each sample point (for example from
        :func:`sinks.landcover.accuracy.read_classes_at`).
    roles
        Code -> label (one of :data:`LABELS`). Default :data:`DEFAULT_MAP_LABELS` (ESA
        WorldCover: 10, 95 tree; 20, 30, 40, 90, 100 other vegetation; 50, 60, 70, 80
        non-vegetation).
    nodata
        The map's nodata value(s) (WorldCover: 0); those points, and None / NaN codes, get None.

    Returns
    -------
    list of str or None

    Raises
    ------
    UnknownClassError
        Codes that are neither in ``roles`` nor nodata (listed): never silently dropped.
    """
    table = _check_roles(DEFAULT_MAP_LABELS if roles is None else roles)
    nod = set() if nodata is None else ({int(nodata)} if np.ndim(nodata) == 0 else {int(v) for v in nodata})  # type: ignore[arg-type]
    values = list(codes.tolist() if isinstance(codes, (pd.Series, np.ndarray, pd.Index)) else codes)
    out: list[str | None] = []
    unknown = []
    for v in values:
        if _is_blank(v):
            out.append(None)
            continue
        try:
            c = int(v)
            if float(v) != c:
                raise ValueError
        except (TypeError, ValueError):
            unknown.append(repr(v))
            out.append(None)
            continue
        if c in nod:
            out.append(None)
        elif c in table:
            out.append(table[c])
        else:
            unknown.append(str(c))
            out.append(None)
    if unknown:
        uniq = list(dict.fromkeys(unknown))
        raise UnknownClassError(source, f"land-cover codes {_list_some(uniq)} have no label (known codes: {sorted(table)})", "add them to the code -> label mapping, or pass the map's nodata value as nodata=")
    return out


@dataclass(frozen=True)
class Agreement:
    """The map's label against the interpreter's label at the same sample points.

    ``table`` holds counts, index ``map`` (the map's label), columns ``sample`` (the label
    given by looking at imagery), both in the order of :data:`LABELS`, rows map as in
    :mod:`sinks.landcover.accuracy`. ``agreement`` = n_agree / n_compared (fraction; NaN when
    nothing could be compared). Points unlabelled in the sample or on map nodata are left out.
    """

    table: pd.DataFrame
    n_points: int
    n_compared: int
    n_agree: int
    agreement: float
    notes: tuple[str, ...] = field(default_factory=tuple)


def agreement_table(
    sample_labels: Iterable[Any],
    map_labels: Iterable[Any],
    *,
    source: str = "<point labels>",
) -> Agreement:
    """Cross-tabulate sample labels against map labels at the same points (3 x 3 counts).

    Parameters
    ----------
    sample_labels
        Labels given by the interpreter (see :func:`normalize_labels`).
    map_labels
        Labels of the map at the same points, in the same order (from :func:`map_labels_at`).

    Returns
    -------
    Agreement

    Raises
    ------
    DataError
        Lists of different lengths; unknown labels.
    """
    s = normalize_labels(sample_labels, source=source)
    m = normalize_labels(map_labels, source="<map labels>")
    if len(s) != len(m):
        raise DataError(source, f"{len(s)} sample labels but {len(m)} map labels", "give the map label at every sample point, in the same order")
    counts = np.zeros((len(LABELS), len(LABELS)), dtype="int64")
    idx = {lab: i for i, lab in enumerate(LABELS)}
    skipped_sample = skipped_map = 0
    for a, b in zip(s, m):
        if a is None:
            skipped_sample += 1
            continue
        if b is None:
            skipped_map += 1
            continue
        counts[idx[b], idx[a]] += 1
    n_cmp = int(counts.sum())
    n_agree = int(np.trace(counts))
    notes = []
    if skipped_sample:
        notes.append(Note("agree_unlabelled", f"{skipped_sample} unlabelled points left out", n=skipped_sample))
    if skipped_map:
        notes.append(Note("agree_nodata", f"{skipped_map} points on map nodata left out", n=skipped_map))
    if n_cmp == 0:
        notes.append(Note("agree_none", "no point has both a sample label and a map label: agreement is NaN"))
    table = pd.DataFrame(
        counts,
        index=pd.Index(list(LABELS), name="map"),
        columns=pd.Index(list(LABELS), name="sample"),
    )
    return Agreement(
        table=table,
        n_points=len(s),
        n_compared=n_cmp,
        n_agree=n_agree,
        agreement=n_agree / n_cmp if n_cmp else float("nan"),
        notes=tuple(notes),
    )


def map_labels_at_points(layers, points: gpd.GeoDataFrame, roles: Mapping[int, str] | None = None) -> tuple[list[int | None], list[str | None]]:
    """The map's land-cover code and point label under each sample point.

    ``layers`` is one date's :class:`sinks.greening.layers.YearLayers` (its in-memory land
    cover); ``points`` in any CRS (reprojected to the grid's). Points off the grid or on nodata
    get None for both.
    """
    info = layers.info
    pts = points.to_crs(info.crs) if points.crs is not None and points.crs != info.crs else points
    inv = ~info.transform
    codes: list[int | None] = []
    for g in pts.geometry:
        col, row = inv * (g.x, g.y)
        r, c = int(np.floor(row)), int(np.floor(col))
        if 0 <= r < info.height and 0 <= c < info.width and layers.valid[r, c]:
            codes.append(int(layers.landcover[r, c]))
        else:
            codes.append(None)
    return codes, map_labels_at(codes, roles, source=f"land cover {layers.year}")
