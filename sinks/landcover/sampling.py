"""Sample design for accuracy assessment: sample size, allocation, stratified random points.

Following Olofsson et al. (2014, Sect. 5.1.2), the strata are the map classes:

- the total sample size for a target standard error of the overall accuracy is
  ``n = (sum_i W_i S_i / S(O))^2`` with ``S_i = sqrt(U_i (1 - U_i))`` (Eq. 13, Cochran 1977
  Eq. 5.25), ``W_i`` the mapped share of class i and ``U_i`` its expected user's accuracy;
- the allocation is ``proportional`` (to the mapped share: precise overall accuracy, few points
  in rare classes), ``equal`` (the same number per class) or ``olofsson``: at least
  ``min_per_class`` (the paper suggests 50-100) in every class, the rest proportional.

:func:`design_sample` draws the points (pixel centres) by two blockwise passes over the map:
count the pixels of each class, then draw pixel ordinals per class and pick them up strip by
strip. Memory is bounded by the strip size and the sample size, never the raster size. The strips
are whole rows, so the points depend only on the map and the seed, not on ``block_size``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Hashable, Mapping

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.windows import Window

from geodata.errors import DataError, EmptyResultError
from geodata.rasters import check_categorical, read_info
from geodata.zonal import n_codes_for

ALLOCATIONS = ("proportional", "equal", "olofsson")


def sample_size(
    mapped_area_ha: Mapping[Hashable, float],
    expected_user_accuracy: Mapping[Hashable, float] | float,
    *,
    target_se_overall: float = 0.01,
) -> int:
    """Total sample size for stratified random sampling (Olofsson et al. 2014, Eq. 13).

    Parameters
    ----------
    mapped_area_ha
        Mapped area of each class (ha; only the shares ``W_i`` matter).
    expected_user_accuracy
        Expected user's accuracy ``U_i`` of each class (fraction), or one value for all.
    target_se_overall
        Target standard error of the overall accuracy (fraction; 0.01 = one percentage point).

    Returns
    -------
    int
        ``ceil((sum_i W_i sqrt(U_i (1 - U_i)) / target_se_overall) ** 2)``.
    """
    if not target_se_overall > 0:
        raise ValueError(f"target_se_overall must be positive, got {target_se_overall}")
    classes = list(mapped_area_ha)
    area = np.array([float(mapped_area_ha[c]) for c in classes])
    if not classes or not np.all(np.isfinite(area)) or (area < 0).any() or area.sum() <= 0:
        raise DataError(None, f"mapped areas must be non-negative with a positive total, got {dict(mapped_area_ha)}", "give the mapped area (ha) of each class")
    if isinstance(expected_user_accuracy, Mapping):
        missing = [c for c in classes if c not in expected_user_accuracy]
        if missing:
            raise DataError(None, f"no expected user's accuracy for classes {missing}", "give one for every mapped class (0.7-0.9 for rare change classes is typical)")
        u = np.array([float(expected_user_accuracy[c]) for c in classes])
    else:
        u = np.full(len(classes), float(expected_user_accuracy))
    if not np.all((u >= 0) & (u <= 1)):
        raise DataError(None, f"expected user's accuracies must be fractions in [0, 1], got {u.tolist()}", "write 0.85 for 85 %")
    w = area / area.sum()
    s = np.sqrt(u * (1 - u))
    # The small tolerance keeps float noise (e.g. 640.0000000001) from adding a unit.
    return int(math.ceil((float(w @ s) / target_se_overall) ** 2 - 1e-9))


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    base = np.floor(shares).astype("int64")
    extra = int(total - base.sum())
    if extra > 0:
        order = np.argsort(-(shares - base), kind="stable")
        base[order[:extra]] += 1
    return base


def _bounded_shares(weights: np.ndarray, n: int, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Split ``n`` in proportion to ``weights`` within per-class bounds (water filling):
    ``clip(lam * weights, lower, upper)`` with the scale ``lam`` found by bisection so that the
    shares sum to ``n`` (requires ``sum(lower) <= n <= sum(upper)``)."""

    def total(lam: float) -> float:
        return float(np.clip(lam * weights, lower, upper).sum())

    lo, hi = 0.0, 1.0
    while total(hi) < n:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if total(mid) < n:
            lo = mid
        else:
            hi = mid
    shares = np.clip(hi * weights, lower, upper)
    return shares * (n / shares.sum()) if shares.sum() > 0 else shares


def allocate_sample(
    class_sizes_px: Mapping[Hashable, int],
    *,
    n_total: int,
    allocation: str,
    min_per_class: int = 50,
) -> dict[Hashable, int]:
    """Split ``n_total`` sample units among the map classes (strata).

    Parameters
    ----------
    class_sizes_px
        Number of pixels of each class: the proportional weights and the most points a class
        can give (points are distinct pixels).
    allocation
        ``proportional``, ``equal`` or ``olofsson`` (at least ``min_per_class`` per class, or all
        its pixels if it has fewer; the rest proportional).

    Returns
    -------
    dict
        Points per class, summing to ``n_total``.
    """
    if allocation not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}, got {allocation!r}")
    classes = [c for c, v in class_sizes_px.items() if v > 0]
    size = np.array([int(class_sizes_px[c]) for c in classes], dtype="int64")
    if n_total <= 0:
        raise DataError(None, f"the sample size must be positive, got {n_total}", "ask for at least 2 points per map class")
    if size.sum() < n_total:
        raise DataError(None, f"the map has only {int(size.sum())} classified pixels, fewer than the {n_total} points asked for", "ask for fewer points")
    upper = size.astype("float64")
    if allocation == "equal":
        weights, lower = np.ones(len(classes)), np.zeros(len(classes))
    elif allocation == "proportional":
        weights, lower = size.astype("float64"), np.zeros(len(classes))
    else:
        weights, lower = size.astype("float64"), np.minimum(float(min_per_class), upper)
        if lower.sum() > n_total:
            raise DataError(None, f"{len(classes)} classes x at least {min_per_class} points need {int(lower.sum())} points, more than the {n_total} asked for", f"raise --n to {int(lower.sum())} or more, or lower --min-per-class")
    shares = _bounded_shares(weights, n_total, lower, upper)
    counts = np.clip(_largest_remainder(shares, n_total), 0, size)
    if counts.sum() != n_total:  # float noise at a bound: hand the difference to classes with room
        for i in np.argsort(-(size - counts), kind="stable"):
            d = n_total - counts.sum()
            if d == 0:
                break
            counts[i] += int(np.clip(d, -counts[i], size[i] - counts[i]))
    return {c: int(v) for c, v in zip(classes, counts)}


def _strips(width: int, height: int, block_size: int) -> list[tuple[int, int]]:
    rows = max(1, (block_size * block_size) // max(width, 1))
    return [(r, min(rows, height - r)) for r in range(0, height, rows)]


def design_sample(
    map_path: str | Path,
    *,
    n_total: int,
    allocation: str,
    min_per_class: int = 50,
    seed: int = 0,
    block_size: int = 512,
) -> gpd.GeoDataFrame:
    """Stratified random sample of pixel centres, strata = map classes.

    Two blockwise passes over strips of whole rows (about ``block_size**2`` pixels each): the
    first counts the pixels of each class; then, per class, ``n_c`` distinct pixel ordinals are
    drawn without replacement (``numpy.random.default_rng(seed)``) and the second pass turns
    them into rows and columns. The same map and seed give the same points.

    Returns
    -------
    GeoDataFrame
        In the map's CRS, in random order (so an interpreter does not meet the strata one after
        the other): ``point_id`` (1..n), ``map_class``, ``row``, ``col``, an empty
        ``reference_class`` to fill in, and the pixel-centre point geometry. The allocation per
        class is in ``gdf.attrs["allocation"]`` and the class pixel counts in
        ``gdf.attrs["class_pixels"]``.
    """
    info = check_categorical(read_info(map_path))
    n_codes = n_codes_for(info.dtype)
    nodata = int(info.nodata)
    strips = _strips(info.width, info.height, block_size)
    counts = np.zeros(n_codes, dtype="int64")
    with rasterio.open(info.path) as ds:
        for r0, h in strips:
            counts += np.bincount(ds.read(1, window=Window(0, r0, info.width, h)).ravel(), minlength=n_codes)
    counts[nodata] = 0
    sizes = {int(c): int(counts[c]) for c in np.flatnonzero(counts)}
    if not sizes:
        raise EmptyResultError(info.path, "the map holds nothing but nodata", "check the map's nodata value and extent")
    alloc = allocate_sample(sizes, n_total=n_total, allocation=allocation, min_per_class=min_per_class)

    rng = np.random.default_rng(seed)
    targets = {c: np.sort(rng.choice(sizes[c], size=n, replace=False)) for c, n in sorted(alloc.items()) if n > 0}
    offsets = {c: 0 for c in targets}
    found_rows: list[np.ndarray] = []
    found_cols: list[np.ndarray] = []
    found_cls: list[np.ndarray] = []
    with rasterio.open(info.path) as ds:
        for r0, h in strips:
            block = ds.read(1, window=Window(0, r0, info.width, h)).ravel()
            per = np.bincount(block, minlength=n_codes)
            for c, idx in targets.items():
                m = int(per[c])
                if m == 0:
                    continue
                lo, hi = np.searchsorted(idx, [offsets[c], offsets[c] + m])
                if hi > lo:
                    pos = np.flatnonzero(block == c)[idx[lo:hi] - offsets[c]]
                    found_rows.append(r0 + pos // info.width)
                    found_cols.append(pos % info.width)
                    found_cls.append(np.full(hi - lo, c, dtype="int64"))
                offsets[c] += m
    rows = np.concatenate(found_rows) if found_rows else np.zeros(0, dtype="int64")
    cols = np.concatenate(found_cols) if found_cols else np.zeros(0, dtype="int64")
    cls = np.concatenate(found_cls) if found_cls else np.zeros(0, dtype="int64")
    scan = np.lexsort((cols, rows))  # raster order first, so the strip size cannot matter
    rows, cols, cls = rows[scan], cols[scan], cls[scan]
    order = rng.permutation(len(rows))
    rows, cols, cls = rows[order], cols[order], cls[order]
    t = info.transform
    xs = t.c + (cols + 0.5) * t.a + (rows + 0.5) * t.b
    ys = t.f + (cols + 0.5) * t.d + (rows + 0.5) * t.e
    gdf = gpd.GeoDataFrame(
        {
            "point_id": np.arange(1, len(rows) + 1, dtype="int64"),
            "map_class": cls,
            "row": rows.astype("int64"),
            "col": cols.astype("int64"),
            "reference_class": np.full(len(rows), None, dtype=object),
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=info.crs,
    )
    gdf.attrs["allocation"] = {int(c): int(n) for c, n in sorted(alloc.items())}
    gdf.attrs["class_pixels"] = dict(sorted(sizes.items()))
    return gdf
